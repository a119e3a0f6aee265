//! Findings for reviewers: administrator-equivalent access, wildcard grants, identities of another
//! account, service accounts with `objectstore_all` or `*`, policies that expire soon, grants that depend on
//! conditions, EIM users who can manage policies. Each finding names a witness where one exists.

use serde::Serialize;

use super::{decide, is_service_account, Universe, Witness};
use crate::compile::Engine;

/// One reviewer finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub subject: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Witness>,
}

/// An action no catalogue knows: only a pattern that grants every action of every service matches it.
const PROBE: &str = "zzzAuditProbe:apiovh:anything/probe";

pub fn findings(engine: &Engine, u: &Universe, at: jiff::Timestamp) -> Vec<Finding> {
    let set = &engine.set;
    let mut out = Vec::new();
    // Administrator-equivalent: allowed an action of a service that does not exist, on some resource.
    for id in &u.ovh_identities {
        if let Some(r) = u.ovh_resources.iter().find(|r| {
            decide(
                engine,
                &Witness {
                    identity: Some(id.clone()),
                    action: PROBE.into(),
                    resource: Some((*r).clone()),
                },
            )
            .is_some_and(|d| d.allowed())
        }) {
            out.push(Finding {
                kind: "administrator-equivalent",
                subject: id.clone(),
                detail: format!("allowed every action (even one of no known service) on `{r}`"),
                witness: Some(Witness {
                    identity: Some(id.clone()),
                    action: PROBE.into(),
                    resource: Some(r.clone()),
                }),
            });
        }
    }
    for id in u.eim_identities.iter().flatten() {
        let w = Witness {
            identity: Some(id.clone()),
            action: String::from("api:DeleteAccessKey"),
            resource: None,
        };
        let w2 = Witness {
            identity: Some(id.clone()),
            action: String::from("zzz:AuditProbe"),
            resource: None,
        };
        if decide(engine, &w).is_some_and(|d| d.allowed())
            && decide(engine, &w2).is_some_and(|d| d.allowed())
        {
            out.push(Finding {
                kind: "administrator-equivalent",
                subject: format!("EIM user `{id}`"),
                detail: String::from("allowed every action of every service"),
                witness: Some(w2),
            });
        }
    }
    // Wildcard grants.
    for p in &set.ovh_policies {
        for a in &p.permissions.allow {
            let raw = a.raw();
            if raw == "*"
                || (raw.ends_with(":*")
                    && raw.matches(':').count() <= 2
                    && !raw.contains(":openstack:"))
            {
                out.push(Finding {
                    kind: "wildcard-grant",
                    subject: format!("policy `{}`", p.name),
                    detail: format!("allows `{raw}`"),
                    witness: None,
                });
            }
        }
    }
    // Identities of another account than the policy's owner.
    for p in &set.ovh_policies {
        let Some(owner) = p.owner.as_deref() else {
            continue;
        };
        for (id, _) in &p.identities {
            if let Ok(u) = crate::model::urn::IdentityUrn::parse(id) {
                if *u.account != *owner {
                    out.push(Finding { kind: "other-account", subject: id.to_string(), detail: format!("named by policy `{}` of account `{owner}`: another customer's account gets access", p.name), witness: None });
                }
            }
        }
    }
    // Service accounts with objectstore_all or everything.
    for id in u.ovh_identities.iter().filter(|i| is_service_account(i)) {
        for r in u
            .ovh_resources
            .iter()
            .filter(|r| r.contains(":publicCloudProject:"))
        {
            let w = Witness {
                identity: Some(id.clone()),
                action: String::from("objectstore_all"),
                resource: Some(r.clone()),
            };
            if decide(engine, &w).is_some_and(|d| d.allowed()) {
                out.push(Finding { kind: "service-account-objectstore", subject: id.clone(), detail: format!("a service account with `objectstore_all` on `{r}`: every Swift container of the project"), witness: Some(w) });
            }
        }
    }
    // Policies that expire within 30 days.
    let soon = at
        .checked_add(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(at);
    for p in &set.ovh_policies {
        if let Some((t, _)) = p.expired_at.as_deref() {
            if *t >= at && *t <= soon {
                out.push(Finding {
                    kind: "expires-soon",
                    subject: format!("policy `{}`", p.name),
                    detail: format!("expires at {t}, within 30 days"),
                    witness: None,
                });
            }
        }
    }
    // Grants that depend on conditions.
    for p in &set.ovh_policies {
        if p.conditions.is_some() && !p.permissions.allow.is_empty() {
            out.push(Finding { kind: "conditional-grant", subject: format!("policy `{}`", p.name), detail: String::from("its allows hold only when its condition does: check the condition (request IP, dates, tags)"), witness: None });
        }
    }
    // EIM users who can manage policies.
    for id in &u.eim_identities {
        for action in [
            "api:CreatePolicy",
            "api:CreatePolicyVersion",
            "api:LinkPolicy",
            "api:PutUserPolicy",
            "iam:CreatePolicy",
            "iam:PutUserPolicy",
        ] {
            let w = Witness {
                identity: id.clone(),
                action: action.to_owned(),
                resource: None,
            };
            if decide(engine, &w).is_some_and(|d| d.allowed()) {
                let who = id
                    .as_deref()
                    .map_or_else(|| String::from("the caller"), |i| format!("EIM user `{i}`"));
                out.push(Finding { kind: "privilege-escalation", subject: who, detail: format!("may call `{action}`: it could write a policy bypassing its permissions and attach it to itself"), witness: Some(w) });
                break;
            }
        }
    }
    out
}
