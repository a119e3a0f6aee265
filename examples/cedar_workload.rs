//! Writes the benches' OVHcloud workload twice, for policy-sim and for Cedar, so that the two engines can be
//! compared on the same decisions (`benches/cedar/run.sh` runs it; `benches/README.md`, "Against Cedar").
//!
//! `cargo run --release --example cedar_workload -- N DIR COUNT...` writes to DIR:
//! - `policies.json`, `account.json`: the benches' N-policy set (`benches/common/workload.rs`), as
//!   `check --policies … --account …` reads it;
//! - `requests-COUNT.jsonl`: COUNT request lines for `check --requests`, drawn as the benches draw them,
//!   without the OpenStack permissions (`compute_read`, …: policy-sim answers those through the role
//!   matrix, which has no Cedar counterpart; role actions themselves are kept);
//! - `policies.cedar`, `entities.json`: the same set in Cedar;
//! - `cedar-requests-COUNT.jsonl`: the same requests for Cedar, one JSON object a line
//!   (`principal`, `action`, `resource`, `context`), as the harness in `benches/cedar/harness` reads them.
//!
//! The translation reads the set as policy-sim loaded it (`Engine::set`), so each pattern is read exactly as
//! policy-sim reads it on each side, and it stops with an error on anything it cannot say in Cedar:
//! - principals are `Identity::"<urn>"` entities; a user's group (account file) is its parent; a user of
//!   unknown group has the parent `MaybeGroupMember::"<account>"`, which only the `forbid`s of policies naming
//!   a group of that account name (policy-sim's safe reading: their denies apply, their allows do not);
//! - the OVHcloud action, resource URN and resource type, the request time (`now`, seconds) and the week day
//!   in Europe/Paris are context attributes; there is one Cedar action, `Action::"call"`;
//! - a policy becomes, per identity it names, one `permit` per scope (its own permissions, then each
//!   permission group it attaches) — `when` its resources match (read as when granting), an allow matches
//!   and the condition holds, `unless` an except of that scope matches — and one `forbid` for all its denies
//!   and its groups' denies, `when` a resource matches (read as when restricting) and the condition is not
//!   false. An undocumented wildcard read literally when granting is an `==`; any other pattern with `*` is
//!   a `like`, without one an `==`;
//! - conditions are three-valued in policy-sim (a context key the request lacks is unknown: an allow needs
//!   true, a deny applies unless false), so each condition is written twice: "holds" and "is not false";
//! - an expiry is `context.now <= <expiry in seconds>`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/workload.rs"]
mod workload;

use std::fmt::Write as _;
use std::io::Write as _;

use policy_sim::model::condition::{Condition, DateField, Op, Subject, Test};
use policy_sim::model::ovh::{Permissions, ResourceEntry};
use policy_sim::model::{Side, Spec};

/// A Cedar string literal.
fn lit(s: &str) -> String {
    assert!(
        !s.contains(['"', '\\']) && s.chars().all(|c| !c.is_control()),
        "cannot quote {s:?}"
    );
    format!("\"{s}\"")
}

/// `subject` matched against a pattern with its wildcards read as wildcards.
fn glob(subject: &str, raw: &str) -> String {
    assert!(
        !raw.contains('?'),
        "`?` in {raw:?}: Cedar's `like` has no single-character wildcard"
    );
    if raw.contains('*') {
        format!("{subject} like {}", lit(raw))
    } else {
        format!("{subject} == {}", lit(raw))
    }
}

/// A spec as policy-sim reads it on `side`.
fn spec(subject: &str, s: &Spec, side: Side) -> String {
    assert!(!s.pattern.fold_case, "case-folded pattern {}", s.raw());
    if s.literal_when_granting && side == Side::Grant {
        format!("{subject} == {}", lit(s.raw()))
    } else {
        glob(subject, s.raw())
    }
}

/// Any of `specs` on `side` (`None` for an empty list).
fn any(subject: &str, specs: &[Spec], side: Side) -> Option<String> {
    let parts: Vec<String> = specs.iter().map(|s| spec(subject, s, side)).collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(format!("({})", parts.join(" || "))),
    }
}

/// One MATCH test: (holds, is not false).
fn test(t: &Test) -> (String, String) {
    let values: Vec<&str> = t.value.split(',').map(str::trim).collect();
    match (&t.subject, t.op) {
        (Subject::ResourceType, Op::Eq) => {
            let e = format!("context.resource_type == {}", lit(&t.value));
            (e.clone(), e)
        }
        (Subject::Context(k), Op::InRange) if &**k == "request.IP" => {
            let ranges: Vec<String> = values
                .iter()
                .map(|v| format!("ip(context.ip).isInRange(ip({}))", lit(v)))
                .collect();
            let ranges = ranges.join(" || ");
            (
                format!("(context has ip && ({ranges}))"),
                format!("(!(context has ip) || ({ranges}))"),
            )
        }
        (
            Subject::Date {
                tz_name,
                field: DateField::WeekDay,
                ..
            },
            Op::In,
        ) if &**tz_name == "Europe/Paris" => {
            let days: Vec<String> = values.iter().map(|v| lit(v)).collect();
            let e = format!("[{}].contains(context.weekday)", days.join(", "));
            (e.clone(), e)
        }
        _ => panic!(
            "condition key `{}` is not translated to Cedar (only resource.Type EQ, request.IP IN_RANGE and date(Europe/Paris).WeekDay IN are)",
            t.key
        ),
    }
}

fn join(parts: Vec<String>, op: &str) -> String {
    if parts.len() == 1 {
        parts.into_iter().next().unwrap()
    } else {
        format!("({})", parts.join(op))
    }
}

/// A condition in Kleene logic, as two Cedar expressions: (holds, is not false).
fn condition(c: &Condition) -> (String, String) {
    match c {
        Condition::Match(tests) => {
            let (h, n): (Vec<_>, Vec<_>) = tests.iter().map(test).unzip();
            (join(h, " && "), join(n, " && "))
        }
        Condition::And(cs) => {
            let (h, n): (Vec<_>, Vec<_>) = cs.iter().map(condition).unzip();
            (join(h, " && "), join(n, " && "))
        }
        Condition::Or(cs) => {
            let (h, n): (Vec<_>, Vec<_>) = cs.iter().map(condition).unzip();
            (join(h, " || "), join(n, " || "))
        }
        Condition::Not(inner) => {
            let (h, n) = condition(inner);
            (format!("!({n})"), format!("!({h})"))
        }
    }
}

fn and(parts: &[Option<String>]) -> String {
    let parts: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    if parts.is_empty() {
        String::from("true")
    } else {
        parts.join(" && ")
    }
}

/// The account part of an identity URN (`urn:v1:eu:identity:user:ACCOUNT/login`).
fn account_of(urn: &str) -> &str {
    let rest = urn.rsplit_once(':').map_or(urn, |(_, r)| r);
    rest.split_once('/').map_or(rest, |(a, _)| a)
}

fn translate(engine: &policy_sim::Engine) -> String {
    let set = &engine.set;
    let mut out = String::new();
    for p in set.ovh_policies.iter() {
        let active = p
            .expired_at
            .as_deref()
            .map(|(t, _)| format!("context.now <= {}", t.as_second()));
        let (holds, not_false) = match p.conditions.as_deref() {
            Some((c, _)) => {
                let (h, n) = condition(c);
                (Some(h), Some(n))
            }
            None => (None, None),
        };
        let resources: Vec<&Spec> = p
            .resources
            .iter()
            .map(|r| match r {
                ResourceEntry::Pattern(s) => s,
                ResourceEntry::Group { urn, .. } => {
                    panic!("resource group {urn} is not translated to Cedar")
                }
            })
            .collect();
        let owned: Vec<Spec> = resources.iter().map(|s| (*s).clone()).collect();
        let r_grant = any("context.resource", &owned, Side::Grant);
        let r_restrict = any("context.resource", &owned, Side::Restrict);
        // The scopes: the policy's own permissions, then each permission group's.
        let mut scopes: Vec<&Permissions> = vec![&p.permissions];
        for (gi, _) in p.groups.iter() {
            scopes.push(&set.permission_groups[*gi].permissions);
        }
        let denies: Vec<Spec> = scopes.iter().flat_map(|s| s.deny.iter().cloned()).collect();
        let deny = any("context.action", &denies, Side::Restrict);
        let mut principals: Vec<String> = p
            .identities
            .iter()
            .map(|(id, _)| format!("Identity::{}", lit(id)))
            .collect();
        let names_group: Vec<&str> = p
            .identities
            .iter()
            .filter(|(id, _)| id.contains(":identity:group:"))
            .map(|(id, _)| account_of(id))
            .collect();
        for (k, scope) in scopes.iter().enumerate() {
            let Some(allow) = any("context.action", &scope.allow, Side::Grant) else {
                continue;
            };
            let except = any("context.action", &scope.except, Side::Restrict);
            let when = and(&[r_grant.clone(), Some(allow), holds.clone(), active.clone()]);
            for (j, who) in principals.iter().enumerate() {
                let _ = write!(
                    out,
                    "@id(\"{}/allow{k}/{j}\")\npermit (principal in {who}, action, resource)\nwhen {{ {when} }}",
                    p.name
                );
                if let Some(e) = &except {
                    let _ = write!(out, "\nunless {{ {e} }}");
                }
                out.push_str(";\n");
            }
        }
        if let Some(deny) = deny {
            let mut accounts = names_group.clone();
            accounts.dedup();
            principals.extend(
                accounts
                    .iter()
                    .map(|a| format!("MaybeGroupMember::{}", lit(a))),
            );
            let when = and(&[
                r_restrict.clone(),
                Some(deny),
                not_false.clone(),
                active.clone(),
            ]);
            for (j, who) in principals.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "@id(\"{}/deny/{j}\")\nforbid (principal in {who}, action, resource)\nwhen {{ {when} }};",
                    p.name
                );
            }
        }
    }
    out
}

fn entity(uid_type: &str, id: &str, parents: &[(String, String)]) -> serde_json::Value {
    serde_json::json!({
        "uid": {"type": uid_type, "id": id},
        "attrs": {},
        "parents": parents.iter().map(|(t, i)| serde_json::json!({"type": t, "id": i})).collect::<Vec<_>>(),
    })
}

/// The Cedar entity of a request's principal: its group, or the marker of a user of unknown group.
fn principal(engine: &policy_sim::Engine, urn: &str) -> serde_json::Value {
    let membership = &engine.set.membership;
    let parents = match membership.user_group.get(urn) {
        Some((g, _)) => vec![(String::from("Identity"), g.to_string())],
        None if urn.contains(":identity:user:") => {
            vec![(String::from("MaybeGroupMember"), account_of(urn).to_owned())]
        }
        None => Vec::new(),
    };
    entity("Identity", urn, &parents)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let dir = std::path::PathBuf::from(
        args.get(2)
            .map_or("target/policy-sim-bench/cedar", String::as_str),
    );
    let counts: Vec<usize> = match args.get(3..) {
        Some(rest) if !rest.is_empty() => rest.iter().map(|s| s.parse().unwrap()).collect(),
        _ => vec![1_000, 10_000, 100_000],
    };
    std::fs::create_dir_all(&dir).unwrap();
    let w = workload::ovh(n);
    std::fs::write(dir.join("policies.json"), &w.policies_json).unwrap();
    std::fs::write(dir.join("account.json"), &w.account_json).unwrap();
    let engine = workload::ovh_engine(&w);
    let cedar = translate(&engine);
    std::fs::write(dir.join("policies.cedar"), &cedar).unwrap();

    let mut identities: Vec<&String> = w.users.iter().collect();
    identities.extend(&w.unlisted_users);
    identities.extend(&w.credentials);
    let entities: Vec<serde_json::Value> =
        identities.iter().map(|u| principal(&engine, u)).collect();
    std::fs::write(
        dir.join("entities.json"),
        serde_json::to_string(&entities).unwrap(),
    )
    .unwrap();

    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let weekdays = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let permissions = workload::PERMISSIONS;
    for &count in &counts {
        let mut ours = std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("requests-{count}.jsonl"))).unwrap(),
        );
        let mut theirs = std::io::BufWriter::new(
            std::fs::File::create(dir.join(format!("cedar-requests-{count}.jsonl"))).unwrap(),
        );
        // Drawn as the benches draw them (seed 99), less the OpenStack permissions.
        let reqs: Vec<workload::Req> = workload::ovh_requests(&w, count * 2, 99)
            .into_iter()
            .filter(|r| !permissions.contains(&r.action.as_str()))
            .take(count)
            .collect();
        assert_eq!(reqs.len(), count);
        for r in &reqs {
            writeln!(ours, "{}", r.to_json_line()).unwrap();
            let req = r.to_request();
            let prepared = engine.prepare(&req).unwrap();
            let at = prepared.at;
            let day = weekdays[usize::from(
                at.to_zoned_datetime(paris.clone())
                    .weekday()
                    .to_monday_zero_offset()
                    .unsigned_abs(),
            )];
            let mut context = serde_json::json!({
                "action": r.action,
                "resource": r.resource,
                "resource_type": prepared.resource_type().unwrap_or(""),
                "now": at.as_second(),
                "weekday": day,
            });
            if let Some(ip) = r.ip {
                context["ip"] = serde_json::Value::from(ip);
            }
            let line = serde_json::json!({
                "principal": format!("Identity::{}", lit(&r.identity)),
                "action": "Action::\"call\"",
                "resource": format!("Resource::{}", lit(&r.resource)),
                "context": context,
                "entity": principal(&engine, &r.identity),
            });
            writeln!(theirs, "{line}").unwrap();
        }
        ours.flush().unwrap();
        theirs.flush().unwrap();
    }
    let permits = cedar.matches("\npermit ").count();
    let forbids = cedar.matches("\nforbid ").count();
    eprintln!(
        "{n} OVHcloud policies -> {permits} Cedar permits and {forbids} forbids, {} principals, requests {counts:?}, in {}",
        entities.len(),
        dir.display()
    );
}
