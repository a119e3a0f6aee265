//! What a request says that the loaded set suggests is a mistake: an identity nothing names, a context key
//! spelt with the wrong case. Never a decision: the answer is the same with or without these; they are
//! said above it (and `check --strict` refuses the request).

use std::collections::BTreeSet;

use crate::compile::Engine;
use crate::model::condition::Condition;
use crate::model::request::Request;
use crate::model::urn::{IdentityKind, IdentityUrn};

/// Warnings about a request over `engine`'s set, one line each.
pub fn request_warnings(engine: &Engine, req: &Request) -> Vec<String> {
    let mut out = Vec::new();
    let set = &engine.set;
    if let Some(raw) = req.identity.as_deref().filter(|i| i.starts_with("urn:")) {
        if let Ok(id) = IdentityUrn::parse(raw) {
            if !identity_known(engine, &id) {
                let mut known: BTreeSet<&str> = set
                    .ovh_policies
                    .iter()
                    .flat_map(|p| p.identities.iter().map(|(i, _)| &**i))
                    .collect();
                known.extend(set.membership.user_group.keys().map(|k| &**k));
                known.extend(set.membership.service_accounts.iter().map(|k| &**k));
                let known: Vec<&str> = known.into_iter().collect();
                let mut m = format!(
                    "identity `{raw}` is named by no loaded policy and listed in no account file"
                );
                match crate::suggest::closest(raw, &known) {
                    Some(c) => m.push_str(&format!("; did you mean `{c}`?")),
                    None if id.kind == IdentityKind::User => m.push_str(
                        "; only policies naming its group could apply, and its group is unknown (pass the account file)",
                    ),
                    None => {}
                }
                out.push(m);
            }
        }
    }
    if !req.context.is_empty() {
        let mut keys = BTreeSet::new();
        for p in &set.ovh_policies {
            if let Some(c) = p.conditions.as_deref() {
                context_keys(&c.0, &mut keys);
            }
        }
        let keys: Vec<&str> = keys.into_iter().collect();
        for k in req.context.keys() {
            if keys.contains(&k.as_str()) {
                continue;
            }
            if let Some(right) = keys.iter().find(|x| x.eq_ignore_ascii_case(k)) {
                out.push(format!(
                    "context key `{k}` is read by no condition; the policies read `{right}` (keys are case-sensitive): did you mean `{right}`?"
                ));
            } else if let Some(c) = crate::suggest::closest(k, &keys) {
                out.push(format!(
                    "context key `{k}` is read by no condition; did you mean `{c}`?"
                ));
            }
        }
    }
    out
}

/// Whether anything loaded names the identity: a policy, an account file, or (for an account) a policy's
/// owner.
fn identity_known(engine: &Engine, id: &IdentityUrn) -> bool {
    let set = &engine.set;
    let raw = &*id.raw;
    !engine.ovh_candidates(raw).is_empty()
        || set.membership.user_group.contains_key(raw)
        || set.membership.service_accounts.iter().any(|s| **s == *raw)
        || set.membership.accounts.iter().any(|s| **s == *raw)
        || set.membership.groups.iter().any(|s| **s == *raw)
        || (id.kind == IdentityKind::Account
            && set
                .ovh_policies
                .iter()
                .any(|p| p.owner.as_deref() == Some(&*id.account)))
}

fn context_keys<'a>(c: &'a Condition, out: &mut BTreeSet<&'a str>) {
    match c {
        Condition::And(all) | Condition::Or(all) => {
            for c in all {
                context_keys(c, out);
            }
        }
        Condition::Not(c) => context_keys(c, out),
        Condition::Match(tests) => {
            out.extend(tests.iter().filter_map(|t| t.context_key()));
        }
    }
}
