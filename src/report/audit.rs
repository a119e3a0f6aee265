//! Audit answers as text, JSON and SARIF: who-can / what-can grants, diff changes, reviewer findings.
//! Every claim is followed by its witness as a `policy-sim check` command line.

use std::fmt::Write as _;

use serde_sarif::sarif;

use crate::audit::diff::{Change, ChangeKind};
use crate::audit::findings::{Finding, Severity, CODES};
use crate::audit::{Grant, Invocation, Universe};

/// Grants, one a line, each with its condition when it has one and its witness.
pub fn grants(out: &mut String, gs: &[Grant], inv: &Invocation) {
    for g in gs {
        let _ = writeln!(
            out,
            "  ALLOW {} {} on {}{}\n    witness: {}",
            g.who().label(),
            g.action,
            g.res().label(),
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
    let granted = cs.iter().filter(|c| c.kind == ChangeKind::Granted).count();
    let _ = writeln!(
        out,
        "{} changes: {granted} grant new access, {} remove access",
        cs.len(),
        cs.len() - granted
    );
}

/// Findings, rustc style: `error[PA102]: subject — detail`, then where and the witness.
pub fn findings(out: &mut String, fs: &[Finding], inv: &Invocation) {
    for f in fs {
        let _ = writeln!(
            out,
            "{}[{}] {}: {} — {}",
            f.severity.as_str(),
            f.code,
            f.kind,
            f.subject,
            f.detail
        );
        match (&f.file, f.line) {
            (Some(file), Some(l)) => {
                let _ = writeln!(out, "  --> {file}:{l}");
            }
            (Some(file), None) => {
                let _ = writeln!(out, "  --> {file}");
            }
            _ => {}
        }
        if let Some(c) = &f.condition {
            let _ = writeln!(out, "    conditional: {c}");
        }
        if let Some(w) = &f.witness {
            let _ = writeln!(out, "    witness: {}", w.command_line(inv));
        }
    }
    let _ = writeln!(out, "{} findings", fs.len());
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
                Severity::Note => sarif::ResultLevel::Note,
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

/// The Terraform addresses behind each change of `audit diff --terraform-plan`.
pub fn plan_causes(out: &mut String, causes: &[(String, Vec<String>)]) {
    use std::fmt::Write as _;
    if causes.is_empty() {
        return;
    }
    out.push_str("\ncaused by (Terraform addresses of the deciding policies):\n");
    for (what, addrs) in causes {
        let by = if addrs.is_empty() {
            String::from("(no single deciding policy)")
        } else {
            addrs.join(", ")
        };
        let _ = writeln!(out, "  {what}: {by}");
    }
}
