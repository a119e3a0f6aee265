//! One self-contained HTML report (no network, no external assets): the effective-access matrix, the
//! reviewer findings and, for a diff, each change with its witness request.

use std::fmt::Write as _;

use crate::audit::diff::{Change, ChangeKind};
use crate::audit::findings::Finding;
use crate::audit::{AccessMatrix, GrantGroup, Invocation, Witness};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1b1b}h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\
th.p{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;font-size:12px}td.y{background:#c8e6c9;text-align:center}td.n{color:#bbb;text-align:center}\
code{font:12px ui-monospace,monospace;background:#f4f4f4;padding:0 .2em}.granted{color:#b71c1c}.removed{color:#1b5e20}.kind{font-weight:bold}";

/// What one page shows.
#[derive(Debug)]
pub struct Page<'a> {
    /// Names what was audited.
    pub title: &'a str,
    /// Turns witnesses into `check` command lines.
    pub inv: &'a Invocation,
    pub matrix: Option<&'a AccessMatrix>,
    /// who-can / what-can answers.
    pub grants: &'a [GrantGroup],
    pub findings: &'a [Finding],
    pub changes: &'a [Change],
}

/// The report.
pub fn report(page: &Page<'_>) -> String {
    let Page {
        title,
        inv,
        matrix,
        grants,
        findings,
        changes,
    } = *page;
    let witness = |w: &Witness| format!("<code>{}</code>", esc(&w.command_line(inv)));
    // A group's resources: the one, else how many and each of them (the witness names the first).
    let resources = |g: &GrantGroup| match g.resources.as_slice() {
        [one] => esc(&one.label()),
        all => format!(
            "{} resources:<br>{}",
            all.len(),
            all.iter()
                .map(|r| esc(&r.label()))
                .collect::<Vec<_>>()
                .join("<br>")
        ),
    };
    let mut h = String::new();
    let _ = write!(h, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>policy-sim audit: {}</title><style>{STYLE}</style></head><body>", esc(title));
    let _ = write!(
        h,
        "<h1>policy-sim audit</h1><p id=\"title\">{}</p>",
        esc(title)
    );
    let granted = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Granted)
        .count();
    let _ = write!(h, "<p id=\"summary\">{} findings; {} matrix blocks; {} changes ({granted} granting new access)</p>", findings.len(), matrix.map_or(0, |m| m.blocks.len()), changes.len());
    if !grants.is_empty() {
        let _ = write!(h, "<h2 id=\"access\">Access</h2><table><tr><th>identity</th><th>action</th><th>resource</th><th>condition</th><th>witness</th></tr>");
        for g in grants {
            let _ = write!(
                h,
                "<tr class=\"grant\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.label()),
                esc(&g.action),
                resources(g),
                esc(g.condition.as_deref().unwrap_or("always")),
                witness(&g.witness)
            );
        }
        h.push_str("</table>");
    }
    if !changes.is_empty() {
        let _ = write!(h, "<h2 id=\"diff\">Changes</h2><table><tr><th>change</th><th>identity</th><th>resource</th><th>actions</th><th>witness</th></tr>");
        for c in changes {
            let (class, label) = match c.kind {
                ChangeKind::Granted => ("granted", "grants"),
                ChangeKind::Removed => ("removed", "removes"),
            };
            let _ = write!(
                h,
                "<tr class=\"change {class}\"><td class=\"kind {class}\">{label}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.identity_label()),
                esc(&c.resource_label().unwrap_or_default()),
                c.actions.iter().map(|a| format!("<code>{}</code>", esc(a))).collect::<Vec<_>>().join(" "),
                witness(&c.witness)
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(h, "<h2 id=\"findings\">Findings</h2>");
    if findings.is_empty() {
        h.push_str("<p>No finding.</p>");
    } else {
        h.push_str("<table><tr><th>code</th><th>severity</th><th>where</th><th>kind</th><th>subject</th><th>detail</th><th>witness</th></tr>");
        for f in findings {
            let _ = write!(
                h,
                "<tr class=\"finding\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.code,
                f.severity.as_str(),
                esc(&match (&f.file, f.line) {
                    (Some(file), Some(l)) => format!("{file}:{l}"),
                    (Some(file), None) => file.clone(),
                    _ => String::new(),
                }),
                esc(f.kind),
                esc(&f.subject),
                esc(&f.detail),
                f.witness.as_ref().map(witness).unwrap_or_default()
            );
        }
        h.push_str("</table>");
    }
    if let Some(m) = matrix {
        h.push_str("<h2 id=\"matrix\">Effective access</h2>");
        for b in &m.blocks {
            let _ = write!(
                h,
                "<h3>{}</h3><table class=\"matrix\"><tr><th>identity</th>",
                esc(&match (&b.resource, &b.stands_for) {
                    (Some(r), Some(p)) => format!("any other resource matching {p} (witness {r})"),
                    (Some(r), None) => r.clone(),
                    _ => String::from("OUTSCALE EIM (no resource-level permissions)"),
                })
            );
            for p in &b.permissions {
                let _ = write!(h, "<th class=\"p\">{}</th>", esc(p));
            }
            h.push_str("<th>other actions allowed</th></tr>");
            for r in &b.rows {
                let _ = write!(h, "<tr><td>{}</td>", esc(&r.label()));
                for (g, p) in r.granted.iter().zip(&b.permissions) {
                    if *g {
                        // The witness of the cell: the request that shows it.
                        let w = Witness {
                            identity: Some(r.identity.to_string()),
                            member_of: r.member_of.as_deref().map(str::to_owned),
                            action: p.clone(),
                            resource: b.resource.clone(),
                            context: Vec::new(),
                            at: None,
                        };
                        let _ = write!(
                            h,
                            "<td class=\"y\" title=\"{}\">✓</td>",
                            esc(&w.command_line(inv))
                        );
                    } else {
                        h.push_str("<td class=\"n\">·</td>");
                    }
                }
                let _ = write!(
                    h,
                    "<td>{} <details><summary>list</summary>{}</details></td></tr>",
                    r.actions.len(),
                    r.actions
                        .iter()
                        .map(|a| format!("<code>{}</code>", esc(a)))
                        .chain(r.conditional.iter().map(|c| format!(
                            "<p class=\"conditional\">{} (conditional: {}) {}</p>",
                            c.actions
                                .iter()
                                .map(|a| format!("<code>{}</code>", esc(a)))
                                .collect::<Vec<_>>()
                                .join(" "),
                            esc(&c.condition),
                            witness(&c.witness)
                        )))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
            h.push_str("</table>");
        }
    }
    h.push_str("</body></html>\n");
    h
}
