//! `policy-sim test` results: text lines for people, one JSON document, or JUnit XML for CI systems
//! (the schema Jenkins, GitLab and GitHub test reporters read: `testsuites` > `testsuite` > `testcase`
//! with a `failure` child when the case failed).

use std::fmt::Write as _;

/// One case of an expectation file, run.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The expectation file, as named on the command line.
    pub file: String,
    /// The case's line in it.
    pub line: Option<usize>,
    /// Its `name`, or `identity action resource`.
    pub name: String,
    /// What the case expects: `allow`, `deny (implicit_deny)`.
    pub expected: String,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The reason of the decision (`explicit_allow`, ...).
    pub reason: &'static str,
    pub passed: bool,
    /// The text explanation of the answer.
    pub explanation: String,
}

impl CaseResult {
    fn at(&self) -> String {
        self.line
            .map_or_else(|| self.file.clone(), |l| format!("{}:{l}", self.file))
    }
}

/// The text of one case: `PASS file:line name`, or `FAIL ...` with what was expected and the trace.
pub fn case_text(c: &CaseResult, verbose: bool) -> String {
    use super::color::{paint, Stream, Style};
    let mut out = String::new();
    if c.passed {
        let _ = writeln!(
            out,
            "{} {} {}",
            paint(Stream::Stdout, Style::Good, "PASS"),
            c.at(),
            c.name
        );
        if verbose {
            out.push_str(&indent(&c.explanation));
        }
    } else {
        out.push_str(&case_quiet(c));
        out.push_str(&indent(&c.explanation));
    }
    out
}

/// The text of one case with `test --quiet`: nothing for a pass; for a failure its `FAIL file:line name`
/// line and what was expected, without the trace.
pub fn case_quiet(c: &CaseResult) -> String {
    use super::color::{paint, Stream, Style};
    if c.passed {
        return String::new();
    }
    format!(
        "{} {} {}\n     expected {}, got {} ({})\n",
        paint(Stream::Stdout, Style::Bad, "FAIL"),
        c.at(),
        c.name,
        c.expected,
        c.decision,
        c.reason
    )
}

/// The closing line of the text output.
pub fn summary_text(cases: &[CaseResult]) -> String {
    let passed = cases.iter().filter(|c| c.passed).count();
    format!("{passed} passed, {} failed\n", cases.len() - passed)
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("     {l}\n")).collect()
}

/// One JSON document: the counts and every case.
pub fn json(cases: &[CaseResult]) -> String {
    let passed = cases.iter().filter(|c| c.passed).count();
    let list: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "file": c.file,
                "line": c.line,
                "name": c.name,
                "passed": c.passed,
                "expected": c.expected,
                "decision": c.decision,
                "reason": c.reason,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "passed": passed,
        "failed": cases.len() - passed,
        "cases": list,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// JUnit XML: one `testsuite` per expectation file, one `testcase` per case; a failed case carries a
/// `failure` with what was expected in its message and the explanation as its text.
pub fn junit(cases: &[CaseResult]) -> String {
    let failed = cases.iter().filter(|c| !c.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"policy-sim test\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">",
        cases.len()
    );
    let mut files: Vec<&str> = Vec::new();
    for c in cases {
        if !files.contains(&c.file.as_str()) {
            files.push(&c.file);
        }
    }
    for file in files {
        let suite: Vec<&CaseResult> = cases.iter().filter(|c| c.file == file).collect();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            xml(file),
            suite.len(),
            suite.iter().filter(|c| !c.passed).count()
        );
        for c in suite {
            let line = c
                .line
                .map_or_else(String::new, |l| format!(" line=\"{l}\""));
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"{line}",
                xml(&c.name),
                xml(file),
                xml(file)
            );
            if c.passed {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure type=\"unexpected-decision\" message=\"expected {}, got {} ({})\">{}</failure>\n    </testcase>",
                    xml(&c.expected),
                    c.decision,
                    c.reason,
                    xml(&c.explanation)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text as XML 1.0 character data or an attribute value: the five special characters escaped, and the
/// control characters XML 1.0 cannot carry at all replaced by U+FFFD.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
