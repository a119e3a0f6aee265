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

/// `lint --openstack-policy` findings for people: `file:line:column: level[CODE]: message`, then the help.
pub fn findings(findings: &[crate::oslo::lint::Finding]) -> String {
    use crate::oslo::lint::Level;
    let mut s = String::new();
    for f in findings {
        let level = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let _ = writeln!(
            s,
            "{}:{}:{}: {level}[{}]: {}",
            f.file, f.line, f.column, f.code, f.message
        );
        if let Some(h) = &f.help {
            let _ = writeln!(s, "  help: {h}");
        }
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let _ = writeln!(s, "{} finding(s), {errors} error(s)", findings.len());
    s
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
        let mark = match c.allowed {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "?",
        };
        let req = if c.required { "" } else { " (optional)" };
        let _ = writeln!(s, "  {mark} {}{req}: {}", c.call, c.why);
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
