//! The reference evaluator: the semantics written as plainly as possible, over the checked model with no
//! index, no classification and a naive recursive matcher. It is slow and obviously correct; tests check
//! that the engine's fast path agrees with it on every fixture and on random policy sets.

use super::{Decision, Prepared, Principal};
use crate::model::condition::{Env, Truth};
use crate::model::eim::{Effect, NEVER_FOR_EIM_USERS};
use crate::model::ovh::{Permissions, Policy, ResourceEntry};
use crate::model::pattern::reference_match;
use crate::model::urn::IdentityKind;
use crate::model::{PolicySet, Spec};

/// OVHcloud patterns: `*` only, case-sensitive; an undocumented `*` is literal when granting.
fn ovh_match(s: &Spec, value: &str, granting: bool) -> bool {
    if granting && s.literal_when_granting {
        s.raw() == value
    } else {
        reference_match(s.raw(), value, false, false)
    }
}

/// Decide a prepared request; also returns the missing context keys.
pub fn decide(set: &PolicySet, req: &Prepared) -> (Decision, Vec<String>) {
    match &req.principal {
        Principal::Ovh(id) => {
            // Cross-account delegation, written out: who owns the resource, and which policies may grant.
            let mut owners: Vec<&str> = set
                .ovh_policies
                .iter()
                .filter_map(|p| p.owner.as_deref())
                .collect();
            owners.sort_unstable();
            owners.dedup();
            let default_owner = if owners.len() == 1 {
                owners.first().copied()
            } else {
                None
            };
            let dumped = set
                .resources
                .get(req.resource.as_deref().unwrap_or(""))
                .and_then(|r| r.owner.as_deref());
            let candidates: Vec<&str> = match dumped {
                Some(o) => vec![o],
                None => owners.clone(),
            };
            if candidates.is_empty()
                || (candidates.iter().all(|o| *o == &*id.account)
                    && owners.iter().all(|o| *o == &*id.account))
            {
                return ovh_single(set, req, id, None, default_owner);
            }
            let mut decision = Decision::EXPLICIT_ALLOW;
            let mut missing = Vec::new();
            for owner in candidates {
                let (d, m) = if owner == &*id.account {
                    ovh_single(set, req, id, Some(owner), default_owner)
                } else {
                    let account = crate::model::urn::IdentityUrn::parse(&format!(
                        "urn:v1:{}:identity:account:{}",
                        id.region, id.account
                    ));
                    let Ok(account) = account else {
                        return (Decision::IMPLICIT_DENY, Vec::new());
                    };
                    let (a, mut m) = ovh_single(set, req, &account, Some(owner), default_owner);
                    if id.kind == IdentityKind::Account {
                        (a, m)
                    } else {
                        let (b, m2) = ovh_single(set, req, id, Some(&id.account), default_owner);
                        m.extend(m2);
                        (both(a, b), m)
                    }
                };
                missing.extend(m);
                decision = both(decision, d);
            }
            missing.sort();
            missing.dedup();
            (decision, missing)
        }
        Principal::EimRoot => (Decision::EXPLICIT_ALLOW, Vec::new()),
        Principal::EimUser(_) | Principal::Caller => (eim(set, req), Vec::new()),
    }
}

/// Both must allow; an explicit deny of either is the reason.
fn both(a: Decision, b: Decision) -> Decision {
    if a.reason == super::Reason::ExplicitDeny || b.reason == super::Reason::ExplicitDeny {
        Decision::EXPLICIT_DENY
    } else if a.allowed() && b.allowed() {
        Decision::EXPLICIT_ALLOW
    } else {
        Decision::IMPLICIT_DENY
    }
}

/// One account's view: the policies naming `id`; with `grantor`, only that account's policies grant.
fn ovh_single(
    set: &PolicySet,
    req: &Prepared,
    id: &crate::model::urn::IdentityUrn,
    grantor: Option<&str>,
    default_owner: Option<&str>,
) -> (Decision, Vec<String>) {
    {
        {
            let may_grant = |p: &Policy| {
                grantor.is_none_or(|g| p.owner.as_deref().or(default_owner) == Some(g))
            };
            let mut missing = Vec::new();

            let user_group = if id.kind == IdentityKind::User {
                set.membership
                    .user_group
                    .get(&*id.raw)
                    .map(|(g, _)| g.to_string())
            } else {
                None
            };
            let group_unknown = id.kind == IdentityKind::User && user_group.is_none();
            let group_prefix = format!("urn:v1:{}:identity:group:{}/", id.region, id.account);
            // (allowed, denied) for one IAM action.
            let action_result = |action: &str, missing: &mut Vec<String>| -> (bool, bool) {
                let mut allowed = false;
                let mut denied = false;
                for p in &set.ovh_policies {
                    let direct = p.identities.iter().any(|(x, _)| **x == *id.raw);
                    let via_group = user_group
                        .as_deref()
                        .is_some_and(|g| p.identities.iter().any(|(x, _)| **x == *g));
                    let maybe = group_unknown
                        && p.identities
                            .iter()
                            .any(|(x, _)| x.starts_with(&group_prefix));
                    if !direct && !via_group && !maybe {
                        continue;
                    }
                    // A policy reaching the user only as a maybe-group counts for its denies alone.
                    let deny_only = !direct && !via_group;
                    let (a, d) = policy_effect(set, p, req, action, deny_only, missing);
                    allowed |= a && may_grant(p);
                    denied |= d;
                }
                (allowed, denied)
            };
            let decision = match set.matrix.permission_index(&req.action) {
                None => {
                    let (a, d) = action_result(&req.action, &mut missing);
                    if d {
                        Decision::EXPLICIT_DENY
                    } else if a {
                        Decision::EXPLICIT_ALLOW
                    } else {
                        Decision::IMPLICIT_DENY
                    }
                }
                Some(pi) => {
                    let mut some_role_allowed = false;
                    let mut some_role_denied = false;
                    for role in &set.matrix.roles {
                        if role.bits & (1 << pi) == 0 {
                            continue;
                        }
                        let (a, d) = action_result(&role.action, &mut missing);
                        some_role_allowed |= a && !d;
                        some_role_denied |= d;
                    }
                    if some_role_allowed {
                        Decision::EXPLICIT_ALLOW
                    } else if some_role_denied {
                        Decision::EXPLICIT_DENY
                    } else {
                        Decision::IMPLICIT_DENY
                    }
                }
            };
            missing.sort();
            missing.dedup();
            (decision, missing)
        }
    }
}

/// (allows, denies) of one OVHcloud policy for one action.
fn policy_effect(
    set: &PolicySet,
    p: &Policy,
    req: &Prepared,
    action: &str,
    deny_only: bool,
    missing: &mut Vec<String>,
) -> (bool, bool) {
    if let Some((until, _)) = p.expired_at.as_deref() {
        if req.at > *until {
            return (false, false);
        }
    }
    let resource = req.resource.as_deref().unwrap_or("");
    let res = |granting: bool| {
        p.resources.iter().any(|r| match r {
            ResourceEntry::Pattern(s) => ovh_match(s, resource, granting),
            ResourceEntry::Group { group, .. } => {
                set.resource_groups.get(*group).is_some_and(|g| {
                    g.holds(
                        resource,
                        if granting {
                            crate::model::Side::Grant
                        } else {
                            crate::model::Side::Restrict
                        },
                    )
                })
            }
        })
    };
    let scope = |perms: &Permissions| {
        perms.allow.iter().any(|s| ovh_match(s, action, true))
            && !perms.except.iter().any(|s| ovh_match(s, action, false))
    };
    let groups = || {
        p.groups
            .iter()
            .filter_map(|(g, _)| set.permission_groups.get(*g))
    };
    let would_allow = !deny_only
        && res(true)
        && (scope(&p.permissions) || groups().any(|g| scope(&g.permissions)));
    let would_deny = res(false)
        && (p
            .permissions
            .deny
            .iter()
            .any(|s| ovh_match(s, action, false))
            || groups().any(|g| {
                g.permissions
                    .deny
                    .iter()
                    .any(|s| ovh_match(s, action, false))
            }));
    if !would_allow && !would_deny {
        return (false, false);
    }
    let truth = match p.conditions.as_deref() {
        None => Truth::True,
        Some((c, _)) => c.eval(
            &Env {
                context: &req.context,
                at: req.at,
                resource_type: req.resource_type(),
            },
            missing,
        ),
    };
    (
        would_allow && truth == Truth::True,
        would_deny && truth != Truth::False,
    )
}

fn eim(set: &PolicySet, req: &Prepared) -> Decision {
    let action = req.action.as_str();
    if NEVER_FOR_EIM_USERS
        .iter()
        .any(|s| action.split(':').next() == Some(*s))
    {
        return Decision::IMPLICIT_DENY;
    }
    // The user's documents, straight from the account.
    let mut docs: Vec<usize> = Vec::new();
    match &req.principal {
        Principal::Caller => docs.extend(&set.eim_unlinked),
        Principal::EimUser(name) => {
            let account = &set.eim_account;
            if let Some(user) = account.users.get(name) {
                docs.extend(&user.inline);
                docs.extend(
                    user.linked
                        .iter()
                        .filter_map(|(n, _)| account.policies.get(n).map(|m| m.document)),
                );
                for g in &user.groups {
                    if let Some(group) = account.groups.get(g) {
                        docs.extend(&group.inline);
                        docs.extend(
                            group
                                .linked
                                .iter()
                                .filter_map(|(n, _)| account.policies.get(n).map(|m| m.document)),
                        );
                    }
                }
            }
        }
        _ => {}
    }
    let mut allowed = false;
    for d in docs {
        let Some(doc) = set.eim_documents.get(d) else {
            continue;
        };
        for st in &doc.statements {
            let negated = st.actions.negated;
            let broad = (st.effect == Effect::Deny) != negated;
            let any = st
                .actions
                .patterns
                .iter()
                .any(|s| reference_match(s.raw(), action, broad, broad));
            if any == negated {
                continue;
            }
            let unknown = st.resources.negated || st.condition.is_some();
            match st.effect {
                Effect::Deny => return Decision::EXPLICIT_DENY,
                Effect::Allow if !unknown => allowed = true,
                Effect::Allow => {}
            }
        }
    }
    if allowed {
        Decision::EXPLICIT_ALLOW
    } else {
        Decision::IMPLICIT_DENY
    }
}
