//! Report: render responses, diagnostics and lint findings. Never decides.

pub mod findings;
pub mod html;

use std::fmt::Write as _;

use crate::eval::{Entry, Kind, Outcome, Part, Reason, Response, Status, Verdict};

/// The JSON form of one decision (the `check --format json` contract).
pub fn json(resp: &Response) -> serde_json::Value {
    serde_json::to_value(resp).unwrap_or(serde_json::Value::Null)
}

/// One line saying why.
pub fn summary(resp: &Response) -> String {
    let decisive: Vec<&Entry> = resp.trace.iter().filter(|e| e.decisive).collect();
    let name = |e: &Entry| -> String {
        let what = match (e.kind, &e.policy, &e.statement) {
            (Kind::Statement, Some(p), Some(s)) => format!("statement {s} of policy `{p}`"),
            (_, Some(p), _) => format!("policy `{p}`"),
            _ => String::from("a built-in rule"),
        };
        let role = e
            .role
            .as_ref()
            .map(|r| {
                format!(
                    " through role `{}`, whose matrix row carries `{}`",
                    r.role, r.permission
                )
            })
            .unwrap_or_default();
        format!("{what}{role}")
    };
    let names = || {
        let mut v: Vec<String> = decisive.iter().map(|e| name(e)).collect();
        v.dedup();
        v.join("; ")
    };
    let openstack = resp.trace.iter().any(|e| e.kind == Kind::Matrix);
    match resp.reason {
        Reason::ExplicitAllow => format!("allowed by {}", names()),
        Reason::ExplicitDeny => format!(
            "denied by {} (an explicit deny wins over every allow)",
            names()
        ),
        Reason::ImplicitDeny => {
            let excepted: Vec<String> = resp
                .trace
                .iter()
                .filter_map(|e| {
                    let c = e
                        .checks
                        .iter()
                        .find(|c| c.part == Part::Except && c.status == Status::Pass)?;
                    Some(format!(
                        "`{}` in policy `{}`",
                        c.pattern.as_deref().unwrap_or(""),
                        e.policy.as_deref().unwrap_or("")
                    ))
                })
                .collect();
            let mut s = if excepted.is_empty() {
                String::from("nothing allows it: denied by default")
            } else {
                format!(
                    "excepted by {} and allowed nowhere else: denied by default",
                    excepted.join(", ")
                )
            };
            if !resp.missing_context.is_empty() {
                s.push_str(" (some policies could not be checked without the missing context)");
            }
            if openstack {
                s.push_str("; OpenStack answers `Forbidden (HTTP 403)`");
            }
            s
        }
    }
}

/// The human-readable explanation.
pub fn text(resp: &Response) -> String {
    let mut out = String::new();
    let verdict = match resp.decision {
        Verdict::Allow => "ALLOW",
        Verdict::Deny => "DENY",
    };
    let r = &resp.request;
    let _ = writeln!(out, "{verdict} ({})", resp.reason.as_str());
    let _ = writeln!(
        out,
        "  identity  {}",
        r.identity
            .as_deref()
            .unwrap_or("(the caller: bare policy documents)")
    );
    let _ = writeln!(out, "  action    {}", r.action);
    if let Some(res) = &r.resource {
        let _ = writeln!(out, "  resource  {res}");
    }
    for (k, v) in &r.context {
        let _ = writeln!(out, "  context   {k}={v}");
    }
    let _ = writeln!(out, "  at        {} ({})", r.at, r.cloud);
    let _ = writeln!(out, "why: {}", summary(resp));
    if !resp.missing_context.is_empty() {
        let keys: Vec<String> = resp
            .missing_context
            .iter()
            .map(|k| format!("--context {k}=..."))
            .collect();
        let _ = writeln!(out, "missing context: {} (an allow that needs it does not apply; a deny that needs it is assumed to apply)", keys.join(" "));
    }
    if !resp.trace.is_empty() {
        let _ = writeln!(out, "\ntrace:");
    }
    let mut last_role: Option<&str> = None;
    for e in &resp.trace {
        if let Some(row) = &e.role {
            if last_role != Some(row.role.as_str()) {
                let _ = writeln!(out, "  role {}  [{}]", row.role, row.row.join(", "));
                last_role = Some(row.role.as_str());
            }
        }
        let indent = if e.role.is_some() { "    " } else { "  " };
        let mark = match (e.outcome, e.decisive) {
            (Outcome::Allows, true) => "ALLOWS (decisive)",
            (Outcome::Denies, true) => "DENIES (decisive)",
            (Outcome::Allows, false) => "allows",
            (Outcome::Denies, false) => "denies",
            (Outcome::NoEffect, _) => "no effect",
            (Outcome::Info, _) => "",
        };
        let head = match e.kind {
            Kind::Policy => format!("policy `{}`", e.policy.as_deref().unwrap_or("")),
            Kind::Statement => format!(
                "policy `{}` statement {}",
                e.policy.as_deref().unwrap_or(""),
                e.statement.as_deref().unwrap_or("")
            ),
            Kind::Matrix => String::from("role matrix"),
            Kind::Builtin => String::from("rule"),
        };
        let place = match (&e.file, e.line) {
            (Some(f), Some(l)) => format!("  {f}:{l}"),
            (Some(f), None) => format!("  {f}"),
            _ => String::new(),
        };
        let via = e
            .via
            .as_deref()
            .map(|v| format!("  via {v}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}{head}{}{place}{via}",
            if mark.is_empty() {
                String::new()
            } else {
                format!(" — {mark}")
            }
        );
        for c in &e.checks {
            let sym = match c.status {
                Status::Pass => "✓",
                Status::Fail => "✗",
                Status::Unknown => "?",
                Status::Skipped => "-",
            };
            let part = match c.part {
                Part::Identity => "identity",
                Part::Expiry => "expiry",
                Part::Resource => "resource",
                Part::Action => "action",
                Part::Except => "except",
                Part::Deny => "deny",
                Part::Condition => "condition",
                Part::Group => "group",
                Part::Rule => "rule",
            };
            let inferred = if c.inferred { " [inferred]" } else { "" };
            let _ = writeln!(out, "{indent}  {sym} {part:<9} {}{inferred}", c.detail);
        }
    }
    if !resp.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for n in &resp.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
