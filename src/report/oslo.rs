//! Rendering an oslo.policy decision (`check --openstack-policy`): text for people, JSON for scripts.

use std::fmt::Write as _;

use crate::oslo::eval::Trace;
use crate::oslo::Decision;

/// The JSON form: `decision` (`allow` / `deny`), `reason`, `rule`, `token_scope`, `scope_types`, `origin`,
/// `trace` (each node: `check`, `value` (null when not evaluated), `decisive`, `why`, `children`).
pub fn json(action: &str, d: &Decision) -> serde_json::Value {
    let mut v = serde_json::to_value(d).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.remove("allowed");
        let mut out = serde_json::Map::new();
        out.insert(
            "decision".into(),
            (if d.allowed { "allow" } else { "deny" }).into(),
        );
        out.insert("action".into(), action.into());
        out.append(obj);
        return serde_json::Value::Object(out);
    }
    v
}

/// The text form: the decision, the reason, the evaluated tree.
/// The answer alone, one line: `ALLOW compute:get` (`check --quiet`).
pub fn answer_line(action: &str, d: &Decision) -> String {
    let verdict = if d.allowed { "ALLOW" } else { "DENY" };
    format!("{verdict} {action}\n")
}

pub fn text(action: &str, d: &Decision) -> String {
    let mut s = answer_line(action, d);
    let _ = writeln!(s, "  {}", d.reason);
    if !d.scope_types.is_empty() {
        let _ = writeln!(
            s,
            "  scope: token {}, rule accepts {}",
            d.token_scope,
            d.scope_types.join(", ")
        );
    }
    if let Some(t) = &d.trace {
        let _ = writeln!(
            s,
            "  rule tree (✓ true, ✗ false, · not evaluated; * decided):"
        );
        tree(&mut s, t, 2);
    }
    s
}

fn tree(s: &mut String, t: &Trace, depth: usize) {
    let mark = match t.value {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "·",
    };
    let star = if t.decisive && t.value.is_some() {
        "*"
    } else {
        " "
    };
    let _ = write!(
        s,
        "{:width$}{mark}{star} {}",
        "",
        t.check,
        width = depth * 2
    );
    if let Some(why) = &t.why {
        let _ = write!(s, "  — {why}");
    }
    s.push('\n');
    for c in &t.children {
        tree(s, c, depth + 1);
    }
}

/// One call of a command: `✓ GET /v2.1/servers/detail: allowed by ...` (`✗` refused, `?` unknown).
fn call_line(c: &crate::openstack::oslo::CallAnswer) -> String {
    let mark = match c.allowed {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "?",
    };
    let req = if c.required { "" } else { " (optional)" };
    format!("{mark} {}{req}: {}", c.call, c.why)
}

/// A command's answer (`check --openstack-policy ... -- openstack ...`): the verdict, then each call.
pub fn command(a: &crate::openstack::oslo::CommandAnswer) -> String {
    let mut s = String::new();
    let verdict = match a.allowed {
        Some(true) => "ALLOW",
        Some(false) => "DENY",
        None => "UNKNOWN",
    };
    let _ = writeln!(s, "{verdict} {}", a.command);
    for c in &a.calls {
        let _ = writeln!(s, "  {}", call_line(c));
        for r in c.rules.iter().filter(|r| r.conditional) {
            let v = if r.decision.allowed {
                "would allow"
            } else {
                "would refuse"
            };
            let _ = writeln!(
                s,
                "      `{}` applies only to some requests (an option, attribute or field); {v}",
                r.rule
            );
        }
    }
    s
}

/// A command's answer with its caller and notes (the bridge on any Keystone cloud).
pub fn answered(a: &crate::openstack::oslo::Answered) -> String {
    let mut s = command(&a.answer);
    let _ = writeln!(s, "  caller: {}", a.caller);
    if !a.login.is_empty() {
        let _ = writeln!(s, "  login: {}", a.login);
    }
    for n in &a.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    s
}

/// One line of a script: `LINE: VERDICT  command`, the calls indented below (rules that apply only to some
/// requests left out), then the caller, login and notes when they differ from the line before (`seen`).
pub fn script_line(
    l: &crate::openstack::Line<crate::openstack::oslo::Answered>,
    seen: &mut Vec<String>,
) -> String {
    let mut s = String::new();
    match &l.answer {
        Ok(a) => {
            let verdict = match a.answer.allowed {
                Some(true) => "ALLOW  ",
                Some(false) => "DENY   ",
                None => "UNKNOWN",
            };
            let _ = writeln!(s, "{}: {verdict} {}", l.line, l.text);
            for c in &a.answer.calls {
                let _ = writeln!(s, "      {}", call_line(c));
            }
            let mut about = vec![format!("caller: {}", a.caller)];
            if !a.login.is_empty() {
                about.push(format!("login: {}", a.login));
            }
            about.extend(a.notes.iter().map(|n| format!("note: {n}")));
            if about != *seen {
                for line in &about {
                    let _ = writeln!(s, "      {line}");
                }
                *seen = about;
            }
        }
        Err(e) => {
            let _ = writeln!(s, "{}: ERROR   {}", l.line, l.text);
            for line in e.lines() {
                let _ = writeln!(s, "      {line}");
            }
        }
    }
    s
}

/// The script's summary line.
pub fn script_summary(
    path: &str,
    lines: usize,
    [allowed, denied, unknown, bad]: [usize; 4],
) -> String {
    format!(
        "{path}: {lines} openstack command{}: {allowed} would succeed, {denied} would be refused, {unknown} unknown (no loaded rule), {bad} could not be checked",
        if lines == 1 { "" } else { "s" }
    )
}
