//! Lint findings rendered three ways from the one [`Finding`] type: human (rustc-style, with the source
//! line and a caret under the span), JSON (one array), SARIF 2.1.0 (GitHub code scanning).

use std::fmt::Write as _;

use serde_sarif::sarif;

use super::color::Stream;
use crate::lint::{Finding, Level, RULES};

/// rustc / ruff style: `warning[PS101]: message`, location, the line with carets under the span, help;
/// each finding rendered as the one diagnostic type ([`super::diagnostic`]).
pub fn human(findings: &[Finding], files: usize) -> String {
    use rayon::prelude::*;
    let styled = super::color::enabled(Stream::Stdout);
    let chunk = |fs: &[Finding]| {
        let mut out = String::new();
        for f in fs {
            let _ = writeln!(
                out,
                "{}\n",
                super::diagnostic::render(&f.diagnostic(), styled)
            );
        }
        out
    };
    // Tens of thousands of findings (a large dump) are rendered on every core, in order.
    let per = findings
        .len()
        .div_ceil(crate::parallel::parts(findings.len(), 2048))
        .max(1);
    let mut out: String = findings.par_chunks(per).map(chunk).collect();
    let count = |l: Level, one: &str, many: &str| {
        let n = findings.iter().filter(|f| f.level == l).count();
        format!("{n} {}", if n == 1 { one } else { many })
    };
    let _ = writeln!(
        out,
        "{files} {} checked: {}, {}, {}",
        if files == 1 { "file" } else { "files" },
        count(Level::Error, "error", "errors"),
        count(Level::Warning, "warning", "warnings"),
        count(Level::Info, "info", "infos")
    );
    out
}

/// One JSON array of findings.
pub fn json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| String::from("[]"))
}

/// SARIF 2.1.0: one run, every rule of the registry described, one result per finding.
pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<sarif::ReportingDescriptor> = RULES
        .iter()
        .map(|r| {
            sarif::ReportingDescriptor::builder()
                .id(r.code)
                .name(r.name)
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(r.why)
                        .build(),
                )
                .full_description(
                    sarif::MultiformatMessageString::builder()
                        .text(r.explain)
                        .build(),
                )
                .help(
                    sarif::MultiformatMessageString::builder()
                        .text(r.explain)
                        .build(),
                )
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(serde_json::json!(level(r.level)))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            let mut region = sarif::Region::builder().build();
            if f.inside.is_some() {
                // The value is inside a JSON string (an EIM `Body`): point at the string in the file, and
                // say where in its document.
                let outer = f.outer.as_deref().map(crate::error::outermost);
                region.start_line = outer.and_then(|o| o.line).map(to_i64);
                region.start_column = outer.and_then(|o| o.column).map(to_i64);
                if let (Some(l), Some(c)) = (f.line, f.column) {
                    let _ = write!(
                        text,
                        "\n(in the embedded JSON document at line {l} column {c}, {})",
                        f.pointer
                    );
                }
            } else {
                region.start_line = f.line.map(to_i64);
                region.start_column = f.column.map(to_i64);
                if f.end_line.is_some() {
                    region.end_line = f.end_line.map(to_i64);
                    region.end_column = f.end_column.map(to_i64);
                }
            }
            if let Some(h) = &f.help {
                let _ = write!(text, "\nhelp: {h}");
            }
            let physical = sarif::PhysicalLocation::builder()
                .artifact_location(sarif::ArtifactLocation::builder().uri(uri(&f.file)).build())
                .region(region)
                .build();
            let mut result = sarif::Result::builder()
                .message(sarif::Message::builder().text(text).build())
                .rule_id(f.code)
                .locations(vec![sarif::Location::builder()
                    .physical_location(physical)
                    .build()])
                .build();
            result.level = Some(match f.level {
                Level::Error => sarif::ResultLevel::Error,
                Level::Warning => sarif::ResultLevel::Warning,
                Level::Info => sarif::ResultLevel::Note,
            });
            result.rule_index = RULES.iter().position(|r| r.code == f.code).map(to_i64);
            result
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("policy-sim")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let log = sarif::Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A relative path with forward slashes, as SARIF consumers expect.
fn uri(file: &str) -> String {
    file.replace('\\', "/").trim_start_matches("./").to_owned()
}
