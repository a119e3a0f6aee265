//! Audit answers as text, JSON, CSV, HTML and SARIF: who-can / what-can grants, the access matrix, reviewer
//! findings, diff changes and role covers. Every claim is followed by its witness as a `policy-sim check`
//! command line. [`emit`] is the one entry point: an [`Answer`] in, its rendering in the asked [`Format`] out.

use std::fmt::Write as _;

use serde_sarif::sarif;

use crate::audit::diff::{Change, ChangeKind};
use crate::audit::findings::{Finding, Severity, CODES};
use crate::audit::roles::Narrower;
use crate::audit::{AccessMatrix, Block, GrantGroup, Invocation, Universe, Witness};
use crate::report::html::Page;

/// The output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people (`human` is an alias).
    #[default]
    #[value(alias = "human")]
    Text,
    /// JSON.
    Json,
    /// Comma-separated values (matrix only).
    Csv,
    /// One self-contained HTML report (who-can, what-can, matrix, findings, diff).
    Html,
    /// SARIF 2.1.0 (findings only), for code scanning.
    Sarif,
}

/// What one audit subcommand found, with what its rendering needs.
pub enum Answer<'a> {
    WhoCan {
        action: &'a str,
        resource: Option<&'a str>,
        grants: &'a [GrantGroup],
        eim: &'a [Witness],
        universe: &'a Universe,
        inv: &'a Invocation,
    },
    WhatCan {
        /// The identity as asked (`None`: the caller of bare EIM documents).
        identity: Option<&'a str>,
        /// The identity as shown to people.
        who: &'a str,
        grants: &'a [GrantGroup],
        eim: &'a [Witness],
        universe: &'a Universe,
        inv: &'a Invocation,
    },
    Matrix {
        title: &'a str,
        matrix: &'a AccessMatrix,
        /// Shown by the HTML report only (empty for the other formats).
        findings: &'a [Finding],
        universe: &'a Universe,
        inv: &'a Invocation,
    },
    Findings {
        title: &'a str,
        findings: &'a [Finding],
        inv: &'a Invocation,
    },
    Diff {
        /// Names of the two sides, for the HTML title.
        old: &'a str,
        new: &'a str,
        changes: &'a [Change],
        /// Witnesses allowed by OLD are checked against OLD's invocation.
        inv_old: &'a Invocation,
        inv_new: &'a Invocation,
        /// With a Terraform plan: per change, the addresses of the deciding policies.
        causes: Option<&'a [Vec<String>]>,
        universe: &'a Universe,
    },
    Roles {
        needs: &'a [String],
        covers: &'a [Vec<String>],
        narrower: &'a [Narrower],
    },
}

/// Write `answer` in `format`. A format an answer does not offer falls back to text (the CLI refuses those
/// before any work).
pub fn emit(
    out: &mut impl std::io::Write,
    format: Format,
    answer: &Answer<'_>,
) -> std::io::Result<()> {
    if let Answer::Matrix {
        matrix,
        universe,
        inv,
        ..
    } = answer
    {
        // The matrix can run to hundreds of megabytes: written block by block as it is rendered, never
        // held whole.
        match format {
            Format::Text => {
                write_blocks(out, &matrix.blocks, |s, b| block_text(s, b, inv, true))?;
                let mut s = String::new();
                notes(&mut s, universe);
                return out.write_all(s.as_bytes());
            }
            Format::Csv => {
                out.write_all(CSV_HEAD.as_bytes())?;
                return write_blocks(out, &matrix.blocks, block_csv);
            }
            Format::Json => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut *out);
                serde_json::to_writer_pretty(&mut w, matrix).map_err(std::io::Error::other)?;
                std::io::Write::write_all(&mut w, b"\n")?;
                return std::io::Write::flush(&mut w);
            }
            Format::Html | Format::Sarif => {}
        }
    }
    let s = match format {
        Format::Text => text(answer),
        Format::Json => json(answer),
        Format::Csv => csv(answer),
        Format::Html => html(answer),
        Format::Sarif => sarif_answer(answer),
    };
    out.write_all(s.as_bytes())
}

fn pretty(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The JSON form of an answer.
pub fn json(answer: &Answer<'_>) -> String {
    match answer {
        Answer::WhoCan {
            action,
            resource,
            grants,
            eim,
            ..
        } => pretty(
            &serde_json::json!({"action": action, "resource": resource, "ovhcloud": grants, "outscale": eim}),
        ),
        Answer::WhatCan {
            identity,
            grants,
            eim,
            ..
        } => {
            pretty(&serde_json::json!({"identity": identity, "ovhcloud": grants, "outscale": eim}))
        }
        Answer::Matrix { matrix, .. } => pretty(matrix),
        Answer::Findings { findings, .. } => pretty(findings),
        Answer::Diff { changes, .. } => pretty(changes),
        Answer::Roles {
            needs,
            covers,
            narrower,
        } => pretty(&serde_json::json!({"needs": needs, "smallest": covers, "narrower": narrower})),
    }
}

/// The HTML report of an answer (roles has none: text).
pub fn html(answer: &Answer<'_>) -> String {
    let page = |title: &str, inv: &Invocation, matrix, grants, findings, changes| {
        crate::report::html::report(&Page {
            title,
            inv,
            matrix,
            grants,
            findings,
            changes,
        })
    };
    match answer {
        Answer::WhoCan {
            action,
            resource,
            grants,
            inv,
            ..
        } => {
            let on = resource.map(|r| format!(" on `{r}`")).unwrap_or_default();
            page(
                &format!("who can `{action}`{on}"),
                inv,
                None,
                grants,
                &[],
                &[],
            )
        }
        Answer::WhatCan {
            who, grants, inv, ..
        } => page(&format!("what can {who} do"), inv, None, grants, &[], &[]),
        Answer::Matrix {
            title,
            matrix,
            findings,
            inv,
            ..
        } => page(title, inv, Some(matrix), &[], findings, &[]),
        Answer::Findings {
            title,
            findings,
            inv,
        } => page(title, inv, None, &[], findings, &[]),
        Answer::Diff {
            old,
            new,
            changes,
            inv_new,
            ..
        } => page(
            &format!("diff {old} → {new}"),
            inv_new,
            None,
            &[],
            &[],
            changes,
        ),
        Answer::Roles { .. } => text(answer),
    }
}

/// SARIF 2.1.0 of findings (the other answers have none: text).
fn sarif_answer(answer: &Answer<'_>) -> String {
    match answer {
        Answer::Findings { findings, inv, .. } => {
            let mut s = sarif(findings, inv);
            s.push('\n');
            s
        }
        _ => text(answer),
    }
}

/// The CSV of the access matrix, one line per granted permission or action (the other answers have none:
/// text).
pub fn csv(answer: &Answer<'_>) -> String {
    let Answer::Matrix { matrix, .. } = answer else {
        return text(answer);
    };
    let mut s = String::from(CSV_HEAD);
    for b in &matrix.blocks {
        block_csv(&mut s, b);
    }
    s
}

const CSV_HEAD: &str =
    "cloud,resource,stands_for,identity,member_of,permission_or_action,allowed,condition,also_listed_members\n";

/// The CSV lines of one block of the matrix.
fn block_csv(s: &mut String, b: &Block) {
    let res = csv_field(b.resource.as_deref().unwrap_or(""));
    let sf = csv_field(b.stands_for.as_deref().unwrap_or(""));
    for r in &b.rows {
        let head = format!(
            "{},{res},{sf},{},{}",
            b.cloud,
            csv_field(&r.identity),
            csv_field(r.member_of.as_deref().unwrap_or(""))
        );
        let also = csv_field(&r.members.join(" "));
        for (p, g) in b.permissions.iter().zip(&r.granted) {
            if *g {
                let _ = writeln!(s, "{head},{},true,,{also}", csv_field(p));
            }
        }
        for a in r.actions.iter() {
            let _ = writeln!(s, "{head},{},true,,{also}", csv_field(a));
        }
        for c in &r.conditional {
            let condition = csv_field(&c.condition);
            for a in &c.actions {
                let _ = writeln!(s, "{head},{},conditional,{condition},{also}", csv_field(a));
            }
        }
    }
}

/// Blocks of the matrix rendered on every core, a window at a time, and written in order as each window
/// is done: the output is never held whole.
fn write_blocks(
    out: &mut impl std::io::Write,
    blocks: &[Block],
    render: impl Fn(&mut String, &Block) + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    for window in blocks.chunks(256) {
        let parts: Vec<String> = window
            .par_iter()
            .map(|b| {
                let mut s = String::new();
                render(&mut s, b);
                s
            })
            .collect();
        for p in parts {
            out.write_all(p.as_bytes())?;
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The text form of an answer, for people.
pub fn text(answer: &Answer<'_>) -> String {
    let mut s = String::new();
    match answer {
        Answer::WhoCan {
            action,
            resource,
            grants: gs,
            eim,
            universe,
            inv,
        } => {
            let on = resource.map_or_else(
                || String::from(" on any resource"),
                |r| format!(" on `{r}`"),
            );
            let _ = writeln!(s, "who can `{action}`{on}:");
            grants(&mut s, gs, inv);
            for w in *eim {
                let _ = writeln!(
                    s,
                    "  ALLOW {} {}\n    witness: {}",
                    w.identity_label(),
                    w.action,
                    w.command_line(inv)
                );
            }
            if gs.is_empty() && eim.is_empty() {
                s.push_str("  no one\n");
            }
            notes(&mut s, universe);
        }
        Answer::WhatCan {
            who,
            grants: gs,
            eim,
            universe,
            inv,
            ..
        } => {
            let _ = writeln!(s, "what can {who} do:");
            grants(&mut s, gs, inv);
            for w in *eim {
                let _ = writeln!(
                    s,
                    "  ALLOW {}\n    witness: {}",
                    w.action,
                    w.command_line(inv)
                );
            }
            if gs.is_empty() && eim.is_empty() {
                s.push_str("  nothing\n");
            }
            notes(&mut s, universe);
        }
        Answer::Matrix {
            matrix,
            universe,
            inv,
            ..
        } => {
            matrix_text(&mut s, matrix, inv, true);
            notes(&mut s, universe);
        }
        Answer::Findings {
            findings: fs, inv, ..
        } => findings(&mut s, fs, inv),
        Answer::Diff {
            changes: cs,
            inv_old,
            inv_new,
            causes,
            universe,
            ..
        } => {
            changes(&mut s, cs, inv_old, inv_new);
            if let Some(causes) = causes {
                plan_causes(&mut s, cs, causes);
            }
            notes(&mut s, universe);
        }
        Answer::Roles {
            needs,
            covers,
            narrower,
        } => {
            let _ = writeln!(
                s,
                "least-privilege role sets for {} (fewest extra permissions, then fewest roles):",
                needs.join(", ")
            );
            for c in *covers {
                let _ = writeln!(s, "  {}", c.join(" + "));
            }
            narrower_lines(&mut s, narrower);
        }
    }
    s
}

/// How many actions of one conditional entry of the matrix the text names.
const SHOWN_ACTIONS: usize = 8;

/// The access matrix, one block per resource: its permissions numbered, then one row per identity, after
/// it each conditional entry (unless `!conditions`): its condition once, its actions (the first
/// [`SHOWN_ACTIONS`]) and the witness of the first.
fn matrix_text(s: &mut String, m: &AccessMatrix, inv: &Invocation, conditions: bool) {
    for b in &m.blocks {
        block_text(s, b, inv, conditions);
    }
}

/// One block of [`matrix_text`].
fn block_text(s: &mut String, b: &Block, inv: &Invocation, conditions: bool) {
    {
        match (&b.resource, &b.stands_for) {
            (Some(r), Some(p)) => {
                let _ = writeln!(s, "any other resource matching {p} (witness {r})");
            }
            (Some(r), None) => {
                let _ = writeln!(s, "{r}");
            }
            _ => s.push_str("OUTSCALE EIM (no resource-level permissions)\n"),
        }
        if !b.permissions.is_empty() {
            let numbered: Vec<String> = b
                .permissions
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}={p}", i + 1))
                .collect();
            let _ = writeln!(s, "  permissions: {}", numbered.join(" "));
        }
        for r in &b.rows {
            let cells: String = r
                .granted
                .iter()
                .map(|g| if *g { " x" } else { " ." })
                .collect();
            let conditional = if r.conditional.is_empty() {
                String::new()
            } else {
                format!(", {} conditional", r.conditional_count())
            };
            let _ = writeln!(
                s,
                "  {:<70}{cells}  +{} action(s){conditional}",
                r.label(),
                r.actions.len(),
            );
            for c in r.conditional.iter().filter(|_| conditions) {
                let _ = writeln!(s, "    conditional: {}", c.condition);
                let shown: Vec<&str> = c
                    .actions
                    .iter()
                    .take(SHOWN_ACTIONS)
                    .map(String::as_str)
                    .collect();
                let more = c.actions.len().saturating_sub(shown.len());
                let _ = writeln!(
                    s,
                    "      {} action(s): {}{}",
                    c.actions.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more (--format json lists them all)")
                    } else {
                        String::new()
                    }
                );
                let _ = writeln!(s, "      witness: {}", c.witness.command_line(inv));
            }
        }
    }
}

/// The resources of a group as shown to people: the one resource's label, else `N resources: ` with the
/// first three and how many more.
pub fn resources_label(g: &GrantGroup) -> String {
    match g.resources.as_slice() {
        [one] => one.label(),
        all => {
            let shown: Vec<String> = all.iter().take(3).map(crate::audit::Res::label).collect();
            let more = all.len().saturating_sub(shown.len());
            format!(
                "{} resources: {}{}",
                all.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more (--format json lists them all)")
                } else {
                    String::new()
                }
            )
        }
    }
}

/// Grant groups, one a line (its resources named, see [`resources_label`]), each with its condition when
/// it has one and its witness (on the first resource).
pub fn grants(out: &mut String, gs: &[GrantGroup], inv: &Invocation) {
    for g in gs {
        let _ = writeln!(
            out,
            "  ALLOW {} {} on {}{}\n    witness: {}",
            g.label(),
            g.action,
            resources_label(g),
            g.condition
                .as_deref()
                .map(|c| format!("\n    conditional: {c}"))
                .unwrap_or_default(),
            g.witness.command_line(inv)
        );
    }
}

/// What the universe stands for, for the end of a text answer.
pub fn notes(out: &mut String, u: &Universe) {
    let symbolic: Vec<&str> = u
        .ovh_identities
        .iter()
        .filter_map(|w| w.member_of.as_deref())
        .chain(u.eim_member_of.values().map(String::as_str))
        .collect();
    if !symbolic.is_empty() {
        let _ = writeln!(
            out,
            "  note: \"any member of GROUP\" stands for every user of the group, listed or not ({} group(s))",
            symbolic.len()
        );
    }
    if u.points_cut {
        let _ = writeln!(
            out,
            "  note: the policies' conditions give too many combinations of values; only the first {} contexts were tried: fix some keys with --context",
            crate::audit::points::MAX_POINTS
        );
    }
}

/// The diff: the changes of one identity and kind in one paragraph (its resources listed), each with the
/// witness of its first change.
pub fn changes(out: &mut String, cs: &[Change], old: &Invocation, new: &Invocation) {
    let mut i = 0;
    while let Some(c) = cs.get(i) {
        let same: Vec<&Change> = cs
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|d| {
                d.kind == c.kind && d.identity == c.identity && d.member_of == c.member_of
            })
            .collect();
        i += same.len().max(1);
        let (verb, inv) = if c.kind == ChangeKind::Granted {
            ("GRANTS", new)
        } else {
            ("removes", old)
        };
        let _ = writeln!(out, "{verb} {}:", c.identity_label());
        for d in same.iter().take(12) {
            let shown: Vec<&str> = d.actions.iter().take(6).map(String::as_str).collect();
            let _ = writeln!(
                out,
                "  {} action(s){}: {}{}",
                d.actions.len(),
                d.resource_label()
                    .map(|r| format!(" on {r}"))
                    .unwrap_or_default(),
                shown.join(", "),
                if d.actions.len() > 6 { ", ..." } else { "" },
            );
            if let Some(cond) = &d.condition {
                let _ = writeln!(out, "    conditional: {cond}");
            }
        }
        if same.len() > 12 {
            let _ = writeln!(
                out,
                "  ... and {} more resource(s) (--format json lists them all)",
                same.len() - 12
            );
        }
        let _ = writeln!(
            out,
            "  witness ({}): {}",
            if c.kind == ChangeKind::Granted {
                "allowed by NEW, denied by OLD"
            } else {
                "allowed by OLD, denied by NEW"
            },
            c.witness.command_line(inv)
        );
    }
    change_count(out, cs);
}

/// Identities holding more roles than they need, one a line with the narrower set that would do.
fn narrower_lines(out: &mut String, narrower: &[Narrower]) {
    for n in narrower {
        let _ = writeln!(
            out,
            "{} holds {} on {}: {} would do (drops {})",
            n.identity,
            n.holds.join(" + "),
            n.resource,
            n.would_do.join(" + "),
            n.extra.join(", ")
        );
    }
}

/// The closing line of a diff: how many changes, how many of them grant.
fn change_count(out: &mut String, cs: &[Change]) {
    let granted = cs.iter().filter(|c| c.kind == ChangeKind::Granted).count();
    let _ = writeln!(
        out,
        "{} changes: {granted} grant new access, {} remove access",
        cs.len(),
        cs.len() - granted
    );
}

/// A finding's first line, as its diagnostic's headline: `error[PA102]: kind: subject — detail`.
fn finding_head(out: &mut String, f: &Finding) {
    let _ = writeln!(
        out,
        "{}[{}]: {}: {} — {}",
        f.severity.as_str(),
        f.code,
        f.kind,
        f.subject,
        f.detail
    );
}

/// Findings, rustc style: `error[PA102]: kind: subject — detail`, then where, the condition and the
/// witness; each finding rendered as the one diagnostic type ([`super::diagnostic`]).
pub fn findings(out: &mut String, fs: &[Finding], inv: &Invocation) {
    let styled = super::color::enabled(super::color::Stream::Stdout);
    for f in fs {
        let d = diagnostic(f, inv);
        let _ = writeln!(out, "{}\n", super::diagnostic::render(&d, styled));
    }
    let _ = writeln!(out, "{} findings", fs.len());
}

/// An audit finding as the one diagnostic type: its policy's `file:line` (audit keeps no column or
/// source line), the condition and the witness as notes.
fn diagnostic(f: &Finding, inv: &Invocation) -> crate::error::Diagnostic {
    use crate::error::Diagnostic;
    // `file:line` as the whole location: a position without a column shows no line.
    let position = f.file.as_ref().map(|file| crate::source::Position {
        file: match f.line {
            Some(l) => format!("{file}:{l}"),
            None => file.clone(),
        },
        line: None,
        column: None,
        pointer: String::new(),
        inside: None,
    });
    let mut notes = Vec::new();
    if let Some(c) = &f.condition {
        notes.push(format!("conditional: {c}"));
    }
    if let Some(w) = &f.witness {
        notes.push(format!("witness: {}", w.command_line(inv)));
    }
    Diagnostic {
        code: Some(f.code),
        severity: f.severity,
        position,
        notes,
        ..Diagnostic::error(format!("{}: {} — {}", f.kind, f.subject, f.detail))
    }
}

/// SARIF 2.1.0, one rule per code.
pub fn sarif(fs: &[Finding], inv: &Invocation) -> String {
    let rules: Vec<sarif::ReportingDescriptor> = CODES
        .iter()
        .map(|(code, kind, _, help)| {
            sarif::ReportingDescriptor::builder()
                .id(*code)
                .name(*kind)
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(*help)
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = fs
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Error => sarif::ResultLevel::Error,
                Severity::Warning => sarif::ResultLevel::Warning,
                Severity::Note | Severity::Info => sarif::ResultLevel::Note,
            };
            let mut text = format!("{}: {}", f.subject, f.detail);
            if let Some(c) = &f.condition {
                let _ = write!(text, " (conditional: {c})");
            }
            if let Some(w) = &f.witness {
                let _ = write!(text, "; witness: {}", w.command_line(inv));
            }
            let locations: Vec<sarif::Location> = f
                .file
                .iter()
                .map(|file| {
                    let mut region = sarif::Region::builder().build();
                    region.start_line = f.line.and_then(|l| i64::try_from(l).ok());
                    let phys = sarif::PhysicalLocation::builder()
                        .artifact_location(
                            sarif::ArtifactLocation::builder()
                                .uri(file.replace('\\', "/").trim_start_matches("./").to_owned())
                                .build(),
                        )
                        .region(region)
                        .build();
                    sarif::Location::builder().physical_location(phys).build()
                })
                .collect();
            let mut result = sarif::Result::builder()
                .rule_id(f.code)
                .message(sarif::Message::builder().text(text).build())
                .locations(locations)
                .build();
            result.level = Some(level);
            result
        })
        .collect();
    let run = sarif::Run::builder()
        .tool(
            sarif::Tool::builder()
                .driver(
                    sarif::ToolComponent::builder()
                        .name("policy-sim audit")
                        .rules(rules)
                        .build(),
                )
                .build(),
        )
        .results(results)
        .build();
    let log = sarif::Sarif::builder()
        .version(serde_json::json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

/// The Terraform addresses behind each change of `audit diff --terraform-plan` (`causes` parallel to `cs`).
fn plan_causes(out: &mut String, cs: &[Change], causes: &[Vec<String>]) {
    if causes.is_empty() {
        return;
    }
    out.push_str("\ncaused by (Terraform addresses of the deciding policies):\n");
    for (c, addrs) in cs.iter().zip(causes) {
        let who = c.identity.as_deref().unwrap_or("(caller)");
        let kind = if c.kind == ChangeKind::Granted {
            "granted"
        } else {
            "removed"
        };
        // EIM has no resource-level permissions: its changes name no resource.
        let what = match &c.resource {
            Some(on) => format!("{kind} {who} on {on}"),
            None => format!("{kind} {who}"),
        };
        let by = if addrs.is_empty() {
            String::from("(no single deciding policy)")
        } else {
            addrs.join(", ")
        };
        let _ = writeln!(out, "  {what}: {by}");
    }
}

/// The text answer of `audit --quiet`: its claims one a line, without witnesses, conditions' details or
/// notes, then the count where the text answer has one. who-can / what-can: `ALLOW who action on resource`
/// (`(conditional)` when a context is needed), or `no one` / `nothing`; matrix: the grid; findings: each
/// finding's first line and the count; diff: one line per change and the count; roles: the role sets and the narrower roles.
pub fn quiet(answer: &Answer<'_>) -> String {
    let mut s = String::new();
    let allow = |s: &mut String, gs: &[GrantGroup]| {
        for g in gs {
            let _ = writeln!(
                s,
                "ALLOW {} {} on {}{}",
                g.label(),
                g.action,
                resources_label(g),
                if g.condition.is_some() {
                    " (conditional)"
                } else {
                    ""
                }
            );
        }
    };
    match answer {
        Answer::WhoCan { grants, eim, .. } => {
            allow(&mut s, grants);
            for w in *eim {
                let _ = writeln!(s, "ALLOW {} {}", w.identity_label(), w.action);
            }
            if grants.is_empty() && eim.is_empty() {
                s.push_str("no one\n");
            }
        }
        Answer::WhatCan { grants, eim, .. } => {
            allow(&mut s, grants);
            for w in *eim {
                let _ = writeln!(s, "ALLOW {}", w.action);
            }
            if grants.is_empty() && eim.is_empty() {
                s.push_str("nothing\n");
            }
        }
        Answer::Matrix { matrix, inv, .. } => matrix_text(&mut s, matrix, inv, false),
        Answer::Findings { findings: fs, .. } => {
            for f in *fs {
                finding_head(&mut s, f);
            }
            let _ = writeln!(s, "{} findings", fs.len());
        }
        Answer::Diff { changes: cs, .. } => {
            for c in *cs {
                let verb = if c.kind == ChangeKind::Granted {
                    "GRANTS"
                } else {
                    "removes"
                };
                let _ = writeln!(
                    s,
                    "{verb} {}: {} action(s){}{}",
                    c.identity_label(),
                    c.actions.len(),
                    c.resource_label()
                        .map(|r| format!(" on {r}"))
                        .unwrap_or_default(),
                    if c.condition.is_some() {
                        " (conditional)"
                    } else {
                        ""
                    }
                );
            }
            change_count(&mut s, cs);
        }
        Answer::Roles {
            covers, narrower, ..
        } => {
            for c in *covers {
                let _ = writeln!(s, "{}", c.join(" + "));
            }
            narrower_lines(&mut s, narrower);
        }
    }
    s
}
