//! Lint rules for OUTSCALE EIM documents and account files.

use super::Ctx;
use crate::load::actions::{catalogue, Known};
use crate::model::eim::{Effect, Via};
use crate::model::Side;

/// The service codes EIM knows (the domain notes §2.1).
const SERVICES: [&str; 5] = ["api", "ec2", "elasticloadbalancing", "iam", "directconnect"];

/// Actions that let a user write or attach policies: privilege escalation (OSC-GEN).
const ESCALATION: [&str; 14] = [
    "api:CreatePolicy",
    "api:CreatePolicyVersion",
    "api:SetDefaultPolicyVersion",
    "api:LinkPolicy",
    "api:LinkManagedPolicyToUserGroup",
    "api:PutUserPolicy",
    "api:PutUserGroupPolicy",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
];

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    for doc in &set.eim_documents {
        // Version and size are read from the document as written.
        if let Some(value) = raw_value(ctx, &doc.loc) {
            if let Some(v) = value.get("Version").and_then(|v| v.as_str()) {
                if v != "2012-10-17" {
                    ctx.emit(
                        "PS118",
                        &doc.loc.key("Version"),
                        format!("`Version` is `{v}`; OUTSCALE's examples use `2012-10-17`"),
                        None,
                    );
                }
            }
            let size = value
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .count();
            if size > 5120 {
                ctx.emit("PS132", &doc.loc, format!("policy document `{}` has {size} non-white-space characters; EIM accepts at most 5,120", doc.name), Some(String::from("split it into several policies")));
            }
        }
        for st in &doc.statements {
            if st.condition.is_some() {
                if let Some(loc) = &st.condition {
                    ctx.emit("PS131", loc, String::from("EIM documents no `Condition`: policy-sim never treats it as satisfied (a conditional Allow grants nothing, a conditional Deny applies)"), Some(String::from("restrict by IP with the account's API access rules instead")));
                }
            }
            if st.effect == Effect::Allow && st.actions.negated {
                ctx.emit(
                    "PS111",
                    &st.actions.loc,
                    String::from(
                        "`Allow` with `NotAction` grants every action except the listed ones",
                    ),
                    Some(String::from("list the allowed actions under `Action`")),
                );
            }
            if st.effect == Effect::Allow && st.resources.negated {
                ctx.emit("PS111", &st.resources.loc, String::from("`Allow` with `NotResource`: EIM has no resource-level permissions, and policy-sim reads it as granting nothing"), Some(String::from("use `\"Resource\": \"*\"`")));
            }
            let mut seen: Vec<&str> = Vec::new();
            for s in &st.actions.patterns {
                let raw = s.raw();
                if seen.contains(&raw) {
                    ctx.emit(
                        "PS114",
                        &s.loc,
                        format!("action `{raw}` is listed twice"),
                        None,
                    );
                }
                seen.push(raw);
                let service = raw.split(':').next().unwrap_or("");
                if raw.contains(':') && !service.contains('*') && !SERVICES.contains(&service) {
                    let help = match service {
                        "fcu" => String::from("FCU actions are `ec2:...`"),
                        "lbu" => String::from("LBU actions are `elasticloadbalancing:...`"),
                        "eim" => String::from("EIM actions are `iam:...`"),
                        "oos" | "icu" | "oks" => String::from(
                            "EIM users can never use OOS, ICU or OKS, whatever their policies",
                        ),
                        _ => format!("EIM service codes are {}", SERVICES.join(", ")),
                    };
                    ctx.emit(
                        "PS102",
                        &s.loc,
                        format!("unknown service code `{service}` in `{raw}`: it grants nothing"),
                        Some(help),
                    );
                    continue;
                }
                if st.effect == Effect::Allow
                    && !st.actions.negated
                    && (raw == "*"
                        || raw == "*:*"
                        || (raw.ends_with(":*") && !service.contains('*')))
                {
                    ctx.emit(
                        "PS110",
                        &s.loc,
                        format!(
                            "`{raw}` allows {}",
                            if raw.starts_with('*') {
                                String::from("every action of every service")
                            } else {
                                format!("every `{service}` action")
                            }
                        ),
                        Some(String::from("name the actions the task needs")),
                    );
                }
                if !s.pattern.is_wildcard() && SERVICES.contains(&service) {
                    match catalogue().outscale_action(raw) {
                        Known::No(sugg) => {
                            let help = if sugg.is_empty() { None } else { Some(format!("did you mean {}?", sugg.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "))) };
                            ctx.emit("PS101", &s.loc, format!("`{raw}` is not a known OUTSCALE action: EIM accepts it and it grants nothing"), help);
                        }
                        Known::Candidate => ctx.emit("PS101", &s.loc, format!("`{raw}` is only an unconfirmed OUTSCALE action name"), Some(String::from("policies/outscale-actions.tsv lists it as a candidate: check it against OUTSCALE's API reference"))),
                        Known::Yes | Known::NotCovered => {}
                    }
                }
            }
        }
    }
    dead_allows(ctx);
    escalation(ctx);
}

/// The JSON value at a document's location, as written.
fn raw_value(ctx: &Ctx<'_>, loc: &crate::source::Loc) -> Option<serde_json::Value> {
    let text = &ctx.set.sources.get(loc.source)?.text;
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    if loc.is_root() {
        Some(v)
    } else {
        v.pointer(&loc.pointer()).cloned()
    }
}

/// The document sets that apply together: each user's, and the caller's bare documents.
fn principals(ctx: &Ctx<'_>) -> Vec<(String, Vec<usize>)> {
    let set = ctx.set;
    let mut out = Vec::new();
    if !set.eim_unlinked.is_empty() {
        out.push((
            String::from("the caller (bare documents)"),
            set.eim_unlinked.clone(),
        ));
    }
    let engine_docs = crate::compile::Engine::compile(set.clone());
    for name in set.eim_account.users.keys() {
        let docs: Vec<usize> = engine_docs
            .eim_docs_of(name)
            .iter()
            .map(|(d, _): &(usize, Via)| *d)
            .collect();
        out.push((format!("user `{name}`"), docs));
    }
    out
}

/// An Allow statement each of whose actions an unconditional Deny reaching the same principals overrides.
fn dead_allows(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    let mut found = Vec::new();
    for (who, docs) in principals(ctx) {
        let statements: Vec<_> = docs
            .iter()
            .filter_map(|d| set.eim_documents.get(*d))
            .flat_map(|d| d.statements.iter())
            .collect();
        for st in statements
            .iter()
            .filter(|s| s.effect == Effect::Allow && !s.actions.negated)
        {
            let dead = st.actions.patterns.iter().all(|a| {
                statements.iter().any(|d| {
                    d.effect == Effect::Deny
                        && !d.actions.negated
                        && d.condition.is_none()
                        && !d.resources.negated
                        && d.actions.patterns.iter().any(|p| {
                            p.raw() == "*"
                                || p.matches(a.raw(), Side::Restrict) && !a.pattern.is_wildcard()
                        })
                })
            });
            if dead
                && !found
                    .iter()
                    .any(|(l, _): &(crate::source::Loc, String)| *l == st.loc)
            {
                found.push((st.loc, format!("this Allow never applies for {who}: a Deny reaching the same identity overrides every action it names")));
            }
        }
    }
    for (loc, m) in found {
        ctx.emit(
            "PS112",
            &loc,
            m,
            Some(String::from("remove the Allow, or narrow the Deny")),
        );
    }
}

/// Users (or the caller) allowed to write or attach policies.
fn escalation(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    let engine = crate::compile::Engine::compile(set.clone()).with_default_time(ctx.opts.at);
    let mut found: Vec<(crate::source::Loc, String)> = Vec::new();
    for (who, docs) in principals(ctx) {
        for action in ESCALATION {
            // Decide for the principal with the real engine (denies count), then point at the granting statement.
            let identity = who.strip_prefix("user `").and_then(|s| s.strip_suffix('`'));
            let Ok(req) = engine.prepare(&crate::Request::new(identity, action, None)) else {
                continue;
            };
            if !engine.decide(&req).allowed() {
                continue;
            }
            let granting = docs
                .iter()
                .filter_map(|d| set.eim_documents.get(*d))
                .flat_map(|d| d.statements.iter())
                .find(|st| {
                    st.effect == Effect::Allow
                        && st.condition.is_none()
                        && (st
                            .actions
                            .patterns
                            .iter()
                            .any(|p| p.matches(action, Side::Grant))
                            != st.actions.negated)
                });
            if let Some(st) = granting {
                let m = format!("{who} may call `{action}`: it could write a policy bypassing its permissions and attach it to itself");
                if !found.iter().any(|(l, _)| *l == st.loc) {
                    found.push((st.loc, m));
                }
            }
        }
    }
    for (loc, m) in found {
        ctx.emit("PS130", &loc, m, Some(String::from("keep policy management with administrators; deny `api:CreatePolicy*`, `api:Link*Policy*`, `api:Put*Policy` to automation users")));
    }
}
