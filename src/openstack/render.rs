//! Text and JSON for the OpenStack bridge's answers: the command → API calls → permission step, then the
//! core engine's own report for each permission. Never decides.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::commands::ANY_ROLE;
use super::cover::Cover;
use super::{Answer, Line, Plan};
use crate::eval::Verdict;

fn status_text(status: u16) -> &'static str {
    match status {
        401 => "HTTP 401 (Unauthorized: the login fails)",
        404 => "HTTP 404 (Not Found)",
        _ => "HTTP 403 (Forbidden)",
    }
}

/// `ALLOW — ...` / `DENY — ... would get HTTP 403 (Forbidden)`.
pub fn headline(a: &Answer) -> String {
    match (a.decision, a.status) {
        (Verdict::Allow, _) => format!("ALLOW — `{}` would succeed", a.plan.title),
        (Verdict::Deny, Some(s)) => format!(
            "DENY ({}) — `{}` would get {}",
            a.reason.as_str(),
            a.plan.title,
            status_text(s)
        ),
        (Verdict::Deny, None) => format!("DENY ({}) — `{}`", a.reason.as_str(), a.plan.title),
    }
}

fn permission_label(p: &str) -> String {
    if p == ANY_ROLE {
        String::from("any OpenStack role (the Keystone login)")
    } else {
        p.to_owned()
    }
}

/// The human-readable answer.
pub fn text(a: &Answer) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(a));
    let _ = writeln!(out, "  identity  {}", a.who.identity);
    let _ = writeln!(out, "  project   {}", a.who.resource);
    let _ = writeln!(out, "  config    {}", a.origin);
    for h in &a.who.how {
        let _ = writeln!(out, "            - {h}");
    }
    plan_head(&mut out, &a.plan);
    let _ = writeln!(out, "\ncalls (command → API call → permission):");
    for c in &a.calls {
        let call = &c.planned.call;
        let (mark, verdict) = match (c.allowed, &call.optional) {
            (None, _) => (
                "-",
                format!(
                    "not made ({})",
                    c.planned.why_not.as_deref().unwrap_or("not needed")
                ),
            ),
            (Some(true), _) => ("✓", String::from("allowed")),
            (Some(false), Some(_)) => (
                "~",
                format!(
                    "refused ({}), does not fail the command",
                    c.status.map_or("", status_text)
                ),
            ),
            (Some(false), None) => (
                "✗",
                format!("REFUSED → {}", c.status.map_or("", status_text)),
            ),
        };
        let _ = writeln!(
            out,
            "  {mark} {:<8} {:<58} {:<8} needs {}: {verdict}",
            call.service,
            call.display(),
            call.purpose,
            permission_label(&call.permission)
        );
        let _ = writeln!(out, "             source: {}", call.source);
    }
    for (name, p) in &a.permissions {
        let role = p
            .role
            .as_deref()
            .map(|r| format!(" (checked as role {r})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\npermission {}{role}: {}",
            permission_label(name),
            if p.allowed { "granted" } else { "not granted" }
        );
        for l in crate::report::text(&p.response).lines() {
            if l.is_empty() {
                let _ = writeln!(out);
            } else {
                let _ = writeln!(out, "  | {l}");
            }
        }
    }
    if !a.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for n in &a.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}

fn plan_head(out: &mut String, plan: &Plan) {
    if let Some(c) = &plan.command {
        let _ = writeln!(
            out,
            "  command   {} ({}; confidence {}; {})",
            plan.title, c.service, c.confidence, c.origin
        );
        let _ = writeln!(out, "            source: {}", c.source);
    } else if let Some(s) = &plan.sdk {
        let _ = writeln!(
            out,
            "  sdk call  {} ({}; confidence {})",
            s.sdk, s.service, s.confidence
        );
    } else {
        let _ = writeln!(
            out,
            "  api call  {} (made by {})",
            plan.title,
            plan.made_by.join(", ")
        );
    }
}

/// The JSON form of one answer.
pub fn json(a: &Answer) -> Value {
    let calls: Vec<Value> = a
        .calls
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(&c.planned.call).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert(String::from("made"), c.planned.made.into());
                o.insert(String::from("required"), c.planned.required().into());
                if let Some(w) = &c.planned.why_not {
                    o.insert(String::from("why_not"), w.as_str().into());
                }
                if let Some(allowed) = c.allowed {
                    o.insert(
                        String::from("decision"),
                        if allowed { "allow" } else { "deny" }.into(),
                    );
                }
                if let Some(s) = c.status {
                    o.insert(String::from("http_status"), s.into());
                }
            }
            v
        })
        .collect();
    let permissions: serde_json::Map<String, Value> = a
        .permissions
        .iter()
        .map(|(k, p)| {
            let mut v = crate::report::json(&p.response);
            if let (Some(o), Some(r)) = (v.as_object_mut(), &p.role) {
                o.insert(String::from("checked_as_role"), r.as_str().into());
            }
            (k.clone(), v)
        })
        .collect();
    let mut v = json!({
        "decision": if a.decision == Verdict::Allow { "allow" } else { "deny" },
        "reason": a.reason.as_str(),
        "target": a.plan.title,
        "identity": a.who.identity,
        "resource": a.who.resource,
        "config": {"origin": a.origin, "how": a.who.how},
        "calls": calls,
        "permissions": permissions,
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(s) = a.status {
            o.insert(String::from("http_status"), s.into());
        }
        if let Some(c) = &a.plan.command {
            o.insert(
                String::from("command"),
                json!({"command": c.command, "variant": c.variant, "service": c.service,
                       "confidence": c.confidence, "origin": c.origin, "source": c.source}),
            );
        }
        if let Some(s) = &a.plan.sdk {
            o.insert(
                String::from("sdk"),
                json!({"sdk": s.sdk, "confidence": s.confidence, "source": s.source}),
            );
        }
        if !a.plan.made_by.is_empty() {
            o.insert(String::from("made_by"), json!(a.plan.made_by));
        }
        if !a.notes.is_empty() {
            o.insert(String::from("notes"), json!(a.notes));
        }
    }
    v
}

/// One line of a `--script` report. Notes on where the identity came from are printed once, on the first
/// line they concern (`seen` remembers them).
pub fn script_line(l: &Line, seen: &mut Vec<String>) -> String {
    match &l.answer {
        Err(e) => format!(
            "{}: ERROR  {}\n      {}",
            l.line,
            l.text,
            e.lines().collect::<Vec<_>>().join("\n      ")
        ),
        Ok(a) => {
            let mut s = match a.decision {
                Verdict::Allow => format!("{}: ALLOW  {}", l.line, l.text),
                Verdict::Deny => format!("{}: DENY   {}", l.line, l.text),
            };
            let _ = write!(s, "\n      {}", summary(a));
            for n in &a.who.notes {
                if !seen.contains(n) {
                    let _ = write!(s, "\n      note: {n}");
                    seen.push(n.clone());
                }
            }
            s
        }
    }
}

/// Why, in one line: the failing call and permission, or what was checked.
pub fn summary(a: &Answer) -> String {
    let failing = a
        .calls
        .iter()
        .find(|c| c.planned.required() && c.allowed == Some(false));
    match failing {
        Some(c) => {
            let p = a.permissions.get(&c.planned.call.permission);
            format!(
                "`{}` would get {}: {} {} needs {} — {}",
                a.plan.title,
                c.status.map_or("", status_text),
                c.planned.call.service,
                c.planned.call.display(),
                permission_label(&c.planned.call.permission),
                p.map(|p| crate::report::summary(&p.response))
                    .unwrap_or_default()
            )
        }
        None => {
            let mut granted: Vec<String> = a
                .calls
                .iter()
                .filter(|c| c.planned.required())
                .map(|c| permission_label(&c.planned.call.permission))
                .collect();
            granted.dedup();
            let by: Vec<String> = a
                .permissions
                .values()
                .filter(|p| p.allowed)
                .flat_map(|p| {
                    p.response
                        .trace
                        .iter()
                        .filter(|e| e.decisive)
                        .filter_map(|e| e.role.as_ref().map(|r| r.role.clone()))
                        .chain(p.role.clone())
                        .collect::<Vec<_>>()
                })
                .collect();
            let mut by_unique: Vec<String> = Vec::new();
            for r in by {
                if !by_unique.contains(&r) {
                    by_unique.push(r);
                }
            }
            format!(
                "`{}`: {} granted{}",
                a.plan.title,
                granted.join(", "),
                if by_unique.is_empty() {
                    String::new()
                } else {
                    format!(" through {}", by_unique.join(", "))
                }
            )
        }
    }
}

/// `roles --for`, as text.
pub fn cover_text(plan: &Plan, cover: &Cover) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", plan.title);
    plan_head(&mut out, plan);
    let _ = writeln!(out, "\ncalls:");
    for c in &plan.calls {
        let status = if !c.made {
            format!(
                "not made ({})",
                c.why_not.as_deref().unwrap_or("not needed")
            )
        } else if c.call.optional.is_some() {
            String::from("optional (the CLI swallows its error)")
        } else {
            String::from("required")
        };
        let _ = writeln!(
            out,
            "  {:<8} {:<58} needs {}: {status}",
            c.call.service,
            c.call.display(),
            permission_label(&c.call.permission)
        );
    }
    let needed: Vec<String> = cover.needed.iter().map(|p| permission_label(p)).collect();
    let _ = writeln!(out, "\nneeds: {}", needed.join(", "));
    match cover.sets.first().map(Vec::len) {
        None => {
            let _ = writeln!(out, "no role carries all of them");
        }
        Some(n) => {
            let _ = writeln!(
                out,
                "least-privilege role set{} ({n} role{} each):",
                if cover.sets.len() == 1 { "" } else { "s" },
                if n == 1 { "" } else { "s" }
            );
            for s in &cover.sets {
                let _ = writeln!(out, "  {}", s.join(" + "));
            }
        }
    }
    let extra: Vec<String> = plan
        .calls
        .iter()
        .filter(|c| !c.made)
        .map(|c| {
            format!(
                "{} adds {}",
                c.call.when.join("/"),
                permission_label(&c.call.permission)
            )
        })
        .collect();
    if !extra.is_empty() {
        let _ = writeln!(
            out,
            "\noptions that add calls (give them in --for to include them): {}",
            extra.join("; ")
        );
    }
    out
}

/// `roles --for`, as JSON.
pub fn cover_json(plan: &Plan, cover: &Cover) -> Value {
    let calls: Vec<Value> = plan
        .calls
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(&c.call).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert(String::from("made"), c.made.into());
                o.insert(String::from("required"), c.required().into());
            }
            v
        })
        .collect();
    json!({
        "target": plan.title,
        "calls": calls,
        "needs": cover.needed,
        "smallest_role_sets": cover.sets,
    })
}
