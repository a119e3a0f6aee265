//! Report: render responses, diagnostics and lint findings. Never decides.

pub mod audit;
pub mod color;
pub mod diagnostic;
pub mod expectations;
pub mod html;
pub mod lint_concise;
pub mod lint_findings;
pub mod oslo;
pub mod role_matrix;
pub mod version;

use std::fmt::Write as _;

use crate::eval::{Entry, Kind, Outcome, Part, Reason, Response, Status, Verdict};

/// The JSON form of one decision (the `check --format json` contract).
pub fn json(resp: &Response) -> serde_json::Value {
    serde_json::to_value(resp).unwrap_or(serde_json::Value::Null)
}

/// One line saying why.
pub fn summary(resp: &Response) -> String {
    let mut s = String::new();
    write_summary(
        &mut s,
        resp.reason,
        &resp.trace,
        !resp.missing_context.is_empty(),
    );
    s
}

/// [`summary`] from a decision's parts, appended to `out`: its reason, its trace (only the decisive
/// entries, the excepts and the matrix entry are read: a [`crate::eval::Detail::Brief`] trace is enough) and
/// whether some context was missing. `check --requests` writes it in place, line after line.
pub fn write_summary(out: &mut String, reason: Reason, trace: &[Entry], missing_context: bool) {
    match reason {
        Reason::ExplicitAllow => {
            out.push_str("allowed by ");
            write_names(out, trace);
        }
        Reason::ExplicitDeny => {
            out.push_str("denied by ");
            write_names(out, trace);
            out.push_str(" (an explicit deny wins over every allow)");
        }
        Reason::ImplicitDeny => {
            let start = out.len();
            out.push_str("excepted by ");
            let mut excepted = false;
            for e in trace {
                let Some(c) = e
                    .checks
                    .iter()
                    .find(|c| c.part == Part::Except && c.status == Status::Pass)
                else {
                    continue;
                };
                if excepted {
                    out.push_str(", ");
                }
                excepted = true;
                for piece in [
                    "`",
                    c.pattern.as_deref().unwrap_or(""),
                    "` in policy `",
                    e.policy.as_deref().unwrap_or(""),
                    "`",
                ] {
                    out.push_str(piece);
                }
            }
            if excepted {
                out.push_str(" and allowed nowhere else: denied by default");
            } else {
                out.truncate(start);
                out.push_str("nothing allows it: denied by default");
            }
            if missing_context {
                out.push_str(" (some policies could not be checked without the missing context)");
            }
            if trace.iter().any(|e| e.kind == Kind::Matrix) {
                out.push_str("; OpenStack answers `Forbidden (HTTP 403)`");
            }
        }
    }
}

/// The names of the decisive entries, in order, `; `-separated, a name equal to the one before it left out.
fn write_names(out: &mut String, trace: &[Entry]) {
    // Where the last name written is, to compare the next one with.
    let mut last: Option<std::ops::Range<usize>> = None;
    for e in trace.iter().filter(|e| e.decisive) {
        let start = out.len();
        if last.is_some() {
            out.push_str("; ");
        }
        let name = out.len();
        match (e.kind, &e.policy, &e.statement) {
            (Kind::Statement, Some(p), Some(s)) => {
                for piece in ["statement ", s, " of policy `", p, "`"] {
                    out.push_str(piece);
                }
            }
            (_, Some(p), _) => {
                for piece in ["policy `", p, "`"] {
                    out.push_str(piece);
                }
            }
            _ => out.push_str("a built-in rule"),
        }
        if let Some(r) = &e.role {
            for piece in [
                " through role `",
                &r.role,
                "`, whose matrix row carries `",
                &r.permission,
                "`",
            ] {
                out.push_str(piece);
            }
        }
        let repeated = last
            .as_ref()
            .is_some_and(|l| out.get(l.clone()) == out.get(name..));
        if repeated {
            out.truncate(start);
        } else {
            last = Some(name..out.len());
        }
    }
}

/// The answer alone, one line: `ALLOW (explicit_allow)` (`check --quiet`). The verdict is coloured when
/// standard output is.
pub fn answer_line(resp: &Response) -> String {
    use color::{paint, Stream, Style};
    let verdict = match resp.decision {
        Verdict::Allow => paint(Stream::Stdout, Style::Good, "ALLOW"),
        Verdict::Deny => paint(Stream::Stdout, Style::Bad, "DENY"),
    };
    format!("{verdict} ({})\n", resp.reason.as_str())
}

/// The human-readable explanation.
pub fn text(resp: &Response) -> String {
    let mut out = answer_line(resp);
    let r = &resp.request;
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

/// [`write_brief_json`] of a prepared request and its brief explanation.
pub fn write_brief_answer(
    out: &mut String,
    line: usize,
    req: &crate::eval::Prepared,
    brief: &crate::eval::Explanation,
) {
    write_brief_json(
        out,
        line,
        req.identity_echo(),
        &req.action,
        req.resource.as_deref(),
        brief.decision,
        &brief.trace,
        &brief.missing_context,
    );
}

/// One `check --requests --format json` line with the brief trace (`--trace brief`, the batch default): the
/// decision, the request, the entries that could decide (each with its policy or statement, its outcome,
/// whether it decided, and the role row it was evaluated for), the missing context and the one-line
/// summary. The full trace is `--trace full`. Written straight into `out`; `line` 0 writes no line number.
#[allow(clippy::too_many_arguments)]
pub fn write_brief_json(
    out: &mut String,
    line: usize,
    identity: Option<&str>,
    action: &str,
    resource: Option<&str>,
    decision: crate::eval::Decision,
    trace: &[Entry],
    missing_context: &[String],
) {
    use std::fmt::Write as _;
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    out.push('{');
    if line > 0 {
        let _ = write!(out, "\"line\":{line},");
    }
    let _ = write!(
        out,
        "\"decision\":\"{}\",\"reason\":\"{}\",\"request\":{{\"identity\":{},\"action\":{},\"resource\":{}}}",
        if decision.decision == Verdict::Allow { "allow" } else { "deny" },
        decision.reason.as_str(),
        identity.map_or_else(|| String::from("null"), quoted),
        quoted(action),
        resource.map_or_else(|| String::from("null"), quoted),
    );
    out.push_str(",\"trace\":[");
    let mut first = true;
    for e in trace.iter().filter(|e| e.kind != Kind::Matrix) {
        if !first {
            out.push(',');
        }
        first = false;
        let outcome = match e.outcome {
            Outcome::Allows => "allows",
            Outcome::Denies => "denies",
            Outcome::NoEffect => "no_effect",
            Outcome::Info => "info",
        };
        let _ = write!(
            out,
            "{{\"outcome\":\"{outcome}\",\"decisive\":{}",
            e.decisive
        );
        if let Some(p) = &e.policy {
            let _ = write!(out, ",\"policy\":{}", quoted(p));
        }
        if let Some(s) = &e.statement {
            let _ = write!(out, ",\"statement\":{}", quoted(s));
        }
        if let Some(r) = &e.role {
            let _ = write!(out, ",\"role\":{}", quoted(&r.role));
        }
        out.push('}');
    }
    out.push(']');
    if !missing_context.is_empty() {
        out.push_str(",\"missing_context\":[");
        for (i, k) in missing_context.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&quoted(k));
        }
        out.push(']');
    }
    let mut summary = String::new();
    write_summary(
        &mut summary,
        decision.reason,
        trace,
        !missing_context.is_empty(),
    );
    let _ = write!(out, ",\"summary\":{}}}", quoted(&summary));
}
