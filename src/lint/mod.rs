//! Lint: check policy files without a request. Every finding has a stable code (see [`codes`]), a level,
//! the span of the offending JSON value, a message and a help line. Load and validation errors become
//! findings too (PS001–PS006), so one bad file never hides another's findings: files that load are
//! checked by the semantic rules, files that do not are reported.

pub mod codes;
mod eim;
pub mod escalation;
mod ovh;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{outermost, Diagnostic, Excerpt, Severity};
use crate::load::{Loaded, Role};
use crate::model::matrix::Matrix;
use crate::model::PolicySet;
use crate::source::{Loc, Position, SourceId, SourceMap};
pub use codes::{rule, Level, Rule, RULES};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    pub file: String,
    /// 1-based start of the offending value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// 1-based end (exclusive column) of the offending value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// JSON pointer of the value (inside the embedded document for an OUTSCALE `Body` string).
    pub pointer: String,
    /// For a value inside a JSON string (an EIM `Body`): where that string is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside: Option<String>,
    /// For a value inside a JSON string: where that string is in `file` (`line` and `column` are inside
    /// the string's document), for emitters that can only point into `file`.
    #[serde(skip)]
    pub outer: Option<Box<Position>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The source line and the span in it, for the text rendering.
    #[serde(skip)]
    pub excerpt: Option<Excerpt>,
}

impl Finding {
    /// The finding as the one diagnostic type, for the text rendering (its JSON and SARIF forms are its own).
    pub fn diagnostic(&self) -> Diagnostic {
        let severity = match self.level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        };
        let position = (!self.file.is_empty() || self.line.is_some()).then(|| Position {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            pointer: self.pointer.clone(),
            inside: self.outer.clone(),
        });
        Diagnostic {
            code: Some(self.code),
            severity,
            message: self.message.clone(),
            position,
            help: self.help.clone(),
            notes: Vec::new(),
            excerpt: self.excerpt.clone(),
        }
    }
}

/// What to lint with.
#[derive(Debug, Clone)]
pub struct Options {
    /// "Now", for expiry.
    pub at: jiff::Timestamp,
    pub matrix: Arc<Matrix>,
}

/// The result of a lint run.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files: usize,
    /// Inputs that could not be read at all (missing, unreadable, a pattern matching nothing): bad input,
    /// not a finding about a policy, though each is reported as one too.
    pub unread: usize,
}

/// Lint every file below these paths (files, directories, globs).
pub fn lint_paths(paths: &[String], opts: &Options) -> Report {
    let mut loaded = Loaded::new();
    for p in paths {
        loaded.add_path(p, Role::Any);
    }
    lint_loaded(loaded, opts)
}

/// Lint what was loaded.
pub fn lint_loaded(mut loaded: Loaded, opts: &Options) -> Report {
    // 1. Load problems (syntax, shape) are findings; their files are left out of what follows.
    let problems = std::mem::take(&mut loaded.problems);
    let mut report = Report {
        files: loaded.files.len(),
        findings: Vec::new(),
        unread: problems
            .iter()
            .filter(|p| matches!(p.at, crate::error::At::File(_)))
            .count(),
    };
    let mut bad_files: BTreeSet<String> = BTreeSet::new();
    for p in problems {
        let d = p.resolve(&loaded.sources);
        if let Some(pos) = &d.position {
            bad_files.insert(outermost(pos).file.clone());
        }
        report.findings.push(from_diagnostic(d));
    }
    // 2. Validate what loaded; a file whose objects fail validation is reported and left out, and the
    //    rest validated again (a policy may name a group defined in a bad file: that is reported too).
    let mut set = None;
    for _ in 0..8 {
        let attempt = keep_files(&loaded, &bad_files);
        if attempt.files.is_empty() {
            // Every file is bad (already reported): validating nothing would add a spurious
            // "no policy file was given".
            break;
        }
        match crate::validate::validate(attempt, opts.matrix.clone()) {
            Ok(s) => {
                // What validation read the safe way (or replaced) is a finding too.
                for w in &s.warnings {
                    let mut f = from_diagnostic(w.clone());
                    f.code = "PS007";
                    if let Some(r) = rule("PS007") {
                        f.name = r.name;
                        f.level = r.level;
                    }
                    report.findings.push(f);
                }
                set = Some(s);
                break;
            }
            Err(e) => {
                let mut progressed = false;
                for d in e.diagnostics() {
                    if let Some(pos) = &d.position {
                        progressed |= bad_files.insert(outermost(pos).file.clone());
                    }
                    let f = from_diagnostic(d);
                    if !report.findings.contains(&f) {
                        report.findings.push(f);
                    }
                }
                if !progressed {
                    break;
                }
            }
        }
    }
    // 3. Semantic rules over everything that validated.
    if let Some(set) = set {
        let mut ctx = Ctx {
            set: &set,
            opts,
            findings: Vec::new(),
        };
        ovh::check(&mut ctx);
        eim::check(&mut ctx);
        report.findings.append(&mut ctx.findings);
    }
    // The outermost source of each file name (the first, as a lookup by name finds it).
    let mut files: HashMap<&str, SourceId> = HashMap::new();
    let mut id = 0u32;
    while let Some(s) = loaded.sources.get(SourceId(id)) {
        if s.parent.is_none() {
            files.entry(s.name.as_str()).or_insert(SourceId(id));
        }
        id += 1;
    }
    for f in &mut report.findings {
        complete_span(f, &loaded.sources, &files);
    }
    report.findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
    report.findings.dedup();
    report
}

/// A new `Loaded` holding the files of `loaded` except the bad ones (re-parsed from the texts read).
fn keep_files(loaded: &Loaded, bad: &BTreeSet<String>) -> Loaded {
    let mut out = Loaded::new();
    let mut id = 0u32;
    // Only the files read: a Terraform plan is a source (its problems point into it) but not a file.
    let files: std::collections::HashSet<&str> = loaded.files.iter().map(String::as_str).collect();
    while let Some(source) = loaded.sources.get(crate::source::SourceId(id)) {
        id += 1;
        if source.parent.is_some()
            || !files.contains(source.name.as_str())
            || bad.contains(&source.name)
            || source.name.starts_with("<built-in>")
        {
            continue;
        }
        out.add_text(&source.name, source.text.to_string(), Role::Any);
    }
    out
}

/// The rules' shared state.
pub(crate) struct Ctx<'a> {
    pub set: &'a PolicySet,
    pub opts: &'a Options,
    pub findings: Vec<Finding>,
}

impl Ctx<'_> {
    /// Record a finding at a location.
    pub fn emit(&mut self, code: &'static str, loc: &Loc, message: String, help: Option<String>) {
        let f = finding_at(&self.set.sources, code, loc, message, help);
        self.findings.push(f);
    }
}

/// Build a finding located at `loc` with its span.
pub(crate) fn finding_at(
    sources: &SourceMap,
    code: &'static str,
    loc: &Loc,
    message: String,
    help: Option<String>,
) -> Finding {
    let r = rule(code);
    let pos = sources.position(loc);
    let (end_line, end_column) = sources
        .range(loc, false)
        .map(|(_, end)| sources.line_column(loc.source, end))
        .unzip();
    let excerpt = match (pos.line, pos.column, sources.range(loc, false)) {
        (Some(line), Some(column), Some((start, _))) => {
            let text = sources.get(loc.source).map_or("", |s| &s.text);
            let (text, text_start) =
                crate::source::window_at(text, start, column, crate::error::SNIPPET_MAX_CHARS);
            Some(Excerpt {
                line,
                column,
                len: span_len(line, column, end_line, end_column),
                text,
                text_start,
            })
        }
        (Some(line), column, _) => sources.line_text(loc.source, line).map(|text| Excerpt {
            line,
            column: column.unwrap_or(1),
            len: span_len(line, column.unwrap_or(1), end_line, end_column),
            text: text.to_owned(),
            text_start: 0,
        }),
        _ => None,
    };
    Finding {
        code,
        name: r.map_or("", |r| r.name),
        level: r.map_or(Level::Warning, |r| r.level),
        message,
        file: outermost(&pos).file.clone(),
        line: pos.line,
        column: pos.column,
        end_line,
        end_column,
        pointer: pos.pointer.clone(),
        inside: pos.inside.as_ref().map(|o| o.to_string()),
        outer: pos.inside.clone(),
        help,
        excerpt,
    }
}

/// How many characters of a value starting at `line`:`column` to underline: all of it when it ends on
/// the same line, else one.
fn span_len(
    line: usize,
    column: usize,
    end_line: Option<usize>,
    end_column: Option<usize>,
) -> usize {
    match (end_line, end_column) {
        (Some(el), Some(ec)) if el == line && ec > column => ec - column,
        _ => 1,
    }
}

/// Load and validation diagnostics carry a start only: add the end of the offending value, so that every
/// format shows the whole span. An unknown field is its name, so its span is the key, not the value.
fn complete_span(f: &mut Finding, sources: &SourceMap, files: &HashMap<&str, SourceId>) {
    if f.inside.is_some() || f.pointer.is_empty() || f.end_line.is_some() {
        return;
    }
    let Some(&id) = files.get(f.file.as_str()) else {
        return;
    };
    let last = f.pointer.rsplit('/').next().unwrap_or_default();
    let key = f.code == "PS002" && f.message.contains(&format!("`{last}`"));
    let Some((start, end)) = sources.range(&Loc::new(id, &f.pointer), key) else {
        return;
    };
    let (line, column) = sources.line_column(id, start);
    if !key && (Some(line), Some(column)) != (f.line, f.column) {
        return;
    }
    let (end_line, end_column) = sources.line_column(id, end);
    let text = sources.get(id).map_or("", |s| &s.text);
    let (part, before) =
        crate::source::window_at(text, start, column, crate::error::SNIPPET_MAX_CHARS);
    f.excerpt = Some(Excerpt {
        line,
        column,
        len: span_len(line, column, Some(end_line), Some(end_column)),
        text: part,
        text_start: before,
    });
    (f.line, f.column) = (Some(line), Some(column));
    (f.end_line, f.end_column) = (Some(end_line), Some(end_column));
}

/// A load or validation diagnostic as a finding, classified into PS001–PS006.
fn from_diagnostic(d: Diagnostic) -> Finding {
    let code = d
        .code
        .unwrap_or_else(|| crate::error::load_code(&d.message));
    let r = rule(code);
    let (file, line, column, pointer, inside) = match &d.position {
        Some(p) => (
            outermost(p).file.clone(),
            p.line,
            p.column,
            p.pointer.clone(),
            p.inside.clone(),
        ),
        None => (String::new(), None, None, String::new(), None),
    };
    Finding {
        code,
        name: r.map_or("", |r| r.name),
        level: Level::Error,
        message: d.message,
        file,
        line,
        column,
        end_line: None,
        end_column: None,
        pointer,
        inside: inside.as_ref().map(|o| o.to_string()),
        outer: inside,
        help: d.help,
        excerpt: d.excerpt,
    }
}

/// An oslo.policy finding (`crate::oslo::lint`, `lint --openstack-policy`) as a finding of the registry, so
/// every emitter (human, JSON, SARIF) and `--deny`/`--warn`/`--allow` treat it like the others. `text` is
/// the file's text, for the snippet.
pub fn from_oslo(f: crate::oslo::lint::Finding, text: &str) -> Finding {
    let level = match f.level {
        crate::oslo::lint::Level::Error => Level::Error,
        crate::oslo::lint::Level::Warning => Level::Warning,
    };
    let excerpt = text
        .lines()
        .nth(f.line.saturating_sub(1))
        .map(|line| Excerpt {
            line: f.line,
            column: f.column,
            len: 1,
            text: line.to_owned(),
            text_start: 0,
        });
    Finding {
        code: f.code,
        name: rule(f.code).map_or("", |r| r.name),
        level,
        message: f.message,
        file: f.file,
        line: Some(f.line),
        column: Some(f.column),
        end_line: None,
        end_column: None,
        pointer: format!("/{}", f.rule.replace('~', "~0").replace('/', "~1")),
        inside: None,
        outer: None,
        help: f.help,
        excerpt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One file of `n` policies, pretty-printed as an API dump is; every tenth allows `vps:apiovh:*`
    /// (PS110) and every seventh repeats an action (PS114), so findings grow with the file.
    fn one_file(n: usize) -> String {
        let policies: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let mut allow = vec![serde_json::json!({"action": "vps:apiovh:reboot"})];
                if i % 10 == 0 {
                    allow.push(serde_json::json!({"action": "vps:apiovh:*"}));
                }
                if i % 7 == 0 {
                    allow.push(serde_json::json!({"action": "vps:apiovh:reboot"}));
                }
                serde_json::json!({
                    "name": format!("policy-{i}"),
                    "identities": [format!("urn:v1:eu:identity:user:xx1111-ovh/u{}", i % 30)],
                    "resources": [{"urn": format!("urn:v1:eu:resource:vps:vps-{i}.vps.ovh.net")}],
                    "permissions": {"allow": allow, "except": [], "deny": []},
                })
            })
            .collect();
        serde_json::to_string_pretty(&policies).unwrap_or_default()
    }

    /// Issue 15: linting one file of 20,000 policies took minutes, because every finding re-parsed the
    /// whole file to find where its value ends. Locating all findings must cost a bounded number of passes
    /// over the file, whatever the number of findings; counted in bytes parsed, not timed.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn locating_findings_in_one_large_file_parses_it_a_bounded_number_of_times() {
        let opts = Options {
            at: jiff::Timestamp::UNIX_EPOCH,
            matrix: Arc::new(crate::validate::builtin_matrix().unwrap()),
        };
        for n in [500, 2_000] {
            let text = one_file(n);
            let len = text.len();
            let mut loaded = Loaded::new();
            loaded.add_text("dump.json", text, Role::Any);
            let before = crate::source::parsed::bytes();
            let report = lint_loaded(loaded, &opts);
            let parsed = crate::source::parsed::bytes() - before;
            let count = |code: &str| report.findings.iter().filter(|f| f.code == code).count();
            assert_eq!(count("PS110"), n / 10, "{n} policies");
            assert_eq!(count("PS114"), n.div_ceil(7), "{n} policies");
            assert!(
                report
                    .findings
                    .iter()
                    .all(|f| f.end_line.is_some() && f.excerpt.is_some()),
                "every finding has its span and its line"
            );
            assert!(
                parsed <= 2 * len,
                "{n} policies, {} findings: {parsed} bytes parsed for a {len}-byte file",
                report.findings.len()
            );
        }
    }

    /// Issue 15: a minified dump is one line holding every policy. A finding there is at line 1 and at the
    /// column of its value counted in characters (as everywhere: `é` is one column), which this test
    /// counts naively from the start of the text; and its code and pointer are those of the same content
    /// pretty-printed. Names with two-, three- and four-byte characters put non-ASCII text before every
    /// finding, across the index's checkpoints.
    #[test]
    #[allow(clippy::unwrap_used, clippy::indexing_slicing)]
    fn findings_on_a_minified_file_have_the_columns_of_their_values() {
        let opts = Options {
            at: jiff::Timestamp::UNIX_EPOCH,
            matrix: Arc::new(crate::validate::builtin_matrix().unwrap()),
        };
        let pretty = one_file(300).replace("policy-", "política-€💡-");
        let value: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        let minified = serde_json::to_string(&value).unwrap();
        assert!(!minified.contains('\n') && minified.len() > 20 * crate::scan::CHECKPOINT);
        let lint = |text: &str| {
            let mut loaded = Loaded::new();
            loaded.add_text("dump.json", text.to_owned(), Role::Any);
            let mut found: Vec<Finding> = lint_loaded(loaded, &opts).findings;
            found.sort_by(|a, b| (&a.pointer, a.code).cmp(&(&b.pointer, b.code)));
            found
        };
        let (flat, tall) = (lint(&minified), lint(&pretty));
        assert!(flat.len() >= 70, "{} findings", flat.len());
        let key = |f: &Finding| (f.pointer.clone(), f.code, f.message.clone());
        assert_eq!(
            flat.iter().map(key).collect::<Vec<_>>(),
            tall.iter().map(key).collect::<Vec<_>>()
        );
        let pointers: Vec<&str> = flat.iter().map(|f| f.pointer.as_str()).collect();
        let offsets = crate::scan::offsets(&minified, &pointers);
        let mut non_ascii_before = 0;
        for (f, offset) in flat.iter().zip(offsets) {
            let before = &minified[..offset.unwrap()];
            let naive = before.chars().count() + 1;
            non_ascii_before += usize::from(before.len() + 1 > naive);
            assert_eq!((f.line, f.column), (Some(1), Some(naive)), "{}", f.pointer);
            // The line shown is the window around that column.
            let excerpt = f.excerpt.as_ref().unwrap();
            let (text, at) = (&excerpt.text, naive - 1 - excerpt.text_start);
            assert_eq!(
                text.chars().nth(at),
                minified[offset.unwrap()..].chars().next(),
                "{}",
                f.pointer
            );
            // The span's end too: the end of the value, counted the same way.
            let end = minified.len() - minified.chars().skip(naive - 1).collect::<String>().len();
            assert!(f.end_column.unwrap() > naive && end < minified.len());
        }
        assert!(
            non_ascii_before > 60,
            "non-ASCII text precedes the findings"
        );
    }

    /// Issue 15: locating the findings of a minified file counts columns from the nearest checkpoint, not
    /// from the start of its only line: the bytes read to count columns stay within a bound per finding,
    /// whatever the file's length (counted, not timed).
    #[test]
    #[allow(clippy::unwrap_used)]
    fn columns_on_one_long_line_cost_a_bounded_count_per_finding() {
        let opts = Options {
            at: jiff::Timestamp::UNIX_EPOCH,
            matrix: Arc::new(crate::validate::builtin_matrix().unwrap()),
        };
        for n in [500, 2_000] {
            let value: serde_json::Value = serde_json::from_str(&one_file(n)).unwrap();
            let text = serde_json::to_string(&value).unwrap();
            let mut loaded = Loaded::new();
            loaded.add_text("dump.json", text, Role::Any);
            let before = crate::source::parsed::column_bytes();
            let report = lint_loaded(loaded, &opts);
            let counted = crate::source::parsed::column_bytes() - before;
            let per_finding = counted / report.findings.len().max(1);
            assert!(
                per_finding <= 4 * crate::scan::CHECKPOINT,
                "{n} policies: {per_finding} bytes counted per finding"
            );
        }
    }
}
