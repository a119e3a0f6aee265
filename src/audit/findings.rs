//! Findings for reviewers, each with a stable code, a severity, the policy's `file:line` and a witness
//! where one exists: administrator-equivalent access, privilege escalation (OVHcloud IAM and identity
//! management, EIM policy writing), broad grants, wildcard grants, identities of another account, service
//! accounts with `objectstore_all`, policies that expire soon, grants that depend on conditions.

use serde::Serialize;

use super::{is_service_account, Universe, Witness};
use crate::compile::Engine;

/// How serious a finding is: the diagnostics' severity (never `info` here).
pub use crate::error::Severity;

/// The registry: code, kind, severity, what it means. A code is never reused.
pub const CODES: &[(&str, &str, Severity, &str)] = &[
    ("PA101", "administrator-equivalent", Severity::Error, "allowed every action, even one of no known service"),
    ("PA102", "privilege-escalation", Severity::Error, "may write IAM policies, permission or resource groups, users, groups, identity providers or API credentials: it can grant itself more"),
    ("PA103", "broad-grant", Severity::Error, "a policy grants every action (`*` or the managed group globalAdmin) over every resource"),
    ("PA104", "wildcard-grant", Severity::Warning, "a policy allows every action of a service, or `*`"),
    ("PA105", "other-account", Severity::Warning, "a policy names an identity of another account"),
    ("PA106", "service-account-objectstore", Severity::Warning, "a service account holds `objectstore_all`: every Swift container of the project"),
    ("PA107", "conditional-grant", Severity::Note, "a policy's grants hold only under its condition"),
    ("PA108", "expires-soon", Severity::Note, "a policy expires within 30 days"),
];

/// One reviewer finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub kind: &'static str,
    pub severity: Severity,
    pub subject: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Conditional access: the condition, written out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Witness>,
}

fn finding(kind: &'static str, subject: String, detail: String) -> Finding {
    let (code, severity) = CODES
        .iter()
        .find(|c| c.1 == kind)
        .map_or(("PA000", Severity::Warning), |c| (c.0, c.2));
    Finding {
        code,
        kind,
        severity,
        subject,
        detail,
        file: None,
        line: None,
        condition: None,
        witness: None,
    }
}

/// The file and line of the policy deciding a witness (the first decisive one).
fn located(engine: &Engine, mut f: Finding, w: &Witness) -> Finding {
    if let Ok(resp) = engine.prepare(&w.request()).map(|p| engine.explain(&p)) {
        if let Some(t) = resp.trace.iter().find(|t| t.decisive && t.file.is_some()) {
            f.file = t.file.clone();
            f.line = t.line;
        }
    }
    f.witness = Some(w.clone());
    f
}

fn policy_located(engine: &Engine, mut f: Finding, loc: &crate::source::Loc) -> Finding {
    let (file, line, _) = engine.locate(loc);
    f.file = file;
    f.line = line;
    f
}

/// An action no catalogue knows: only a pattern that grants every action of every service matches it.
const PROBE: &str = "zzzAuditProbe:apiovh:anything/probe";

/// OVHcloud actions that let an identity grant itself more (the catalogue's IAM, identity and API
/// credential writes).
pub fn escalation_actions() -> Vec<&'static str> {
    crate::load::actions::catalogue()
        .ovh
        .iter()
        .copied()
        .filter(|a| {
            let writes = ["/create", "/edit", "/add", "/enable"]
                .iter()
                .any(|w| a.ends_with(w));
            writes
                && (a.starts_with("account:apiovh:iam/policy/")
                    || a.starts_with("account:apiovh:iam/permissionsGroup/")
                    || a.starts_with("account:apiovh:iam/resourceGroup/")
                    || a.starts_with("account:apiovh:me/identity/")
                    || a.starts_with("account:apiovh:me/api/oauth2/client/")
                    || a.starts_with("account:apiovh:me/api/credential/"))
        })
        .collect()
}

/// The resources of `reach`, in its order, on which the administrator probe ([`PROBE`]) can be allowed:
/// those a granting policy's entries match, of a policy whose allows (its own or its permission groups')
/// can match the probe — none at all for most identities.
///
/// Why no decision is skipped that could allow: a decision allows an action on a resource only through
/// a policy naming the identity or its group (the only candidates the eval visits for allows; across
/// accounts the identity's own account must pass the grant on too, which needs the same), with an allow
/// matching the action and a resource entry matching the resource (`ovh_policy` in the eval). Every
/// resource left out is therefore denied the probe, so the first resource that allows it is the same as
/// when every resource of the reach is tried. `tests/audit_brute.rs`
/// (`findings_are_what_check_allows`) compares the administrator findings with brute force.
fn probe_resources<'u>(
    engine: &Engine,
    who: &str,
    reach: &super::Reach<'u>,
) -> Vec<&'u super::Res> {
    let set = &engine.set;
    let can_allow = |p: &&crate::model::ovh::Policy| {
        p.permissions
            .allow
            .iter()
            .chain(
                p.groups
                    .iter()
                    .filter_map(|(g, _)| set.permission_groups.get(*g))
                    .flat_map(|g| g.permissions.allow.iter()),
            )
            .any(|s| super::spec_matches(s, PROBE))
    };
    let policies: Vec<&crate::model::ovh::Policy> = super::granting_policies(engine, who)
        .into_iter()
        .filter(can_allow)
        .collect();
    if policies.is_empty() {
        return Vec::new();
    }
    reach
        .resources
        .iter()
        .copied()
        .filter(|r| {
            policies.iter().any(|p| {
                p.resources.iter().any(|e| match e {
                    crate::model::ovh::ResourceEntry::Pattern(s) => super::spec_matches(s, &r.urn),
                    crate::model::ovh::ResourceEntry::Group { group, .. } => set
                        .resource_groups
                        .get(*group)
                        .is_some_and(|g| g.members.iter().any(|m| **m == *r.urn)),
                })
            })
        })
        .collect()
}

pub fn findings(engine: &Engine, u: &Universe, at: jiff::Timestamp) -> Vec<Finding> {
    findings_with_progress(engine, u, at, || {})
}

/// [`findings`], `tick` called as each identity of the universe is done (a progress bar). Identities are
/// looked at on every core; the findings come in the universe's order all the same.
pub fn findings_with_progress(
    engine: &Engine,
    u: &Universe,
    at: jiff::Timestamp,
    mut tick: impl FnMut(),
) -> Vec<Finding> {
    let set = &engine.set;
    let mut out = Vec::new();
    let escalation = escalation_actions();
    let escalates: std::collections::HashSet<&str> = escalation.iter().copied().collect();
    // A listed member answering like its group's symbolic member: one finding for both, naming it.
    let reps = u.representatives();
    let of_identity = |(i, members): &(usize, Vec<String>)| -> Vec<Finding> {
        let mut out = Vec::new();
        let Some(who) = u.ovh_identities.get(*i) else {
            return out;
        };
        // What the identity can be granted at all, computed once for both questions below.
        let cond = super::Conditional::of(engine, &who.urn);
        let reach = super::reach_core(engine, u, &who.urn, &cond);
        // Only the actions a finding looks for are evaluated.
        let sa = is_service_account(&who.urn);
        let mut grants = Vec::new();
        super::each_access_in(
            engine,
            u,
            who,
            None,
            (&reach, &cond),
            |a| escalates.contains(a) || (sa && a == "objectstore_all"),
            |res, a, x, said| grants.push(super::Grant::new(engine, u, who, res, a, x, said)),
        );
        let subject = format!("{}{}", who.label(), super::members_note(members));
        // Administrator-equivalent: allowed an action of a service that does not exist, on some resource
        // (the first of the reach's resources, in its order, at the first point that allows it).
        let found = probe_resources(engine, &who.urn, &reach)
            .iter()
            .find_map(|r| {
                reach.points.iter().find_map(|&pi| {
                    let p = u.points.get(pi)?;
                    let w = Witness::new(who, PROBE, &r.urn, p);
                    super::decide(engine, &w)
                        .is_some_and(|d| d.allowed())
                        .then(|| (r.urn.clone(), pi))
                })
            });
        let admin = found.and_then(|(r, pi)| {
            let p = u.points.get(pi)?;
            Some((Witness::new(who, PROBE, &r, p), pi))
        });
        if let Some((w, pi)) = admin {
            let mut f = finding(
                "administrator-equivalent",
                subject.clone(),
                format!(
                    "allowed every action (even one of no known service) on {}",
                    w.resource.as_deref().unwrap_or_default()
                ),
            );
            if pi != 0 {
                f.condition = Some(super::condition_of(engine, &w));
            }
            out.push(located(engine, f, &w));
        }
        if let Some(g) = grants
            .iter()
            .find(|g| escalation.contains(&g.action.as_str()))
        {
            let mut f = finding(
                "privilege-escalation",
                subject.clone(),
                format!(
                    "may call `{}` on {}: it can write IAM policies, groups, users or credentials and grant itself more",
                    g.action, g.resource
                ),
            );
            f.condition = g.condition.clone();
            out.push(located(engine, f, &g.witness));
        }
        if is_service_account(&who.urn) {
            if let Some(g) = grants.iter().find(|g| g.action == "objectstore_all") {
                let mut f = finding(
                    "service-account-objectstore",
                    subject.clone(),
                    format!(
                        "a service account with `objectstore_all` on {}: every Swift container of the project",
                        g.resource
                    ),
                );
                f.condition = g.condition.clone();
                out.push(located(engine, f, &g.witness));
            }
        }
        out
    };
    let found = crate::parallel::map_with_progress(&reps, of_identity, |k| {
        for _ in 0..=reps.get(k).map_or(0, |(_, m)| m.len()) {
            tick();
        }
    });
    out.extend(found.into_iter().flatten());
    for id in u.eim_identities.iter().flatten() {
        let w = Witness {
            identity: Some(id.clone()),
            member_of: u.eim_member_of_id(Some(id)),
            action: String::from("zzz:AuditProbe"),
            resource: None,
            context: Vec::new(),
            at: None,
        };
        if super::decide(engine, &w).is_some_and(|d| d.allowed()) {
            let who = match &w.member_of {
                Some(_) => w.identity_label(),
                None => format!("EIM user `{id}`"),
            };
            let f = finding(
                "administrator-equivalent",
                who,
                String::from("allowed every action of every service"),
            );
            out.push(located(engine, f, &w));
        }
    }
    // Broad and wildcard grants, per policy.
    let global_admin = |gi: usize| {
        set.permission_groups.get(gi).is_some_and(|g| {
            g.name.eq_ignore_ascii_case("globalAdmin")
                || g.permissions.allow.iter().any(|s| s.raw() == "*")
        })
    };
    for p in &set.ovh_policies {
        let everywhere = p.resources.iter().any(|r| match r {
            crate::model::ovh::ResourceEntry::Pattern(s) => {
                s.pattern.matches("urn:v1:eu:resource:anyType:any")
                    || s.raw() == "*"
                    || s.raw().ends_with(":resource:*")
            }
            crate::model::ovh::ResourceEntry::Group { .. } => false,
        });
        let all_actions = p.permissions.allow.iter().any(|s| s.raw() == "*")
            || p.groups.iter().any(|(g, _)| global_admin(*g));
        if everywhere && all_actions {
            let f = finding(
                "broad-grant",
                format!("policy `{}`", p.name),
                String::from("grants every action over every resource (`*` or globalAdmin on `urn:v1:<region>:resource:*`)"),
            );
            out.push(policy_located(engine, f, &p.loc));
            continue;
        }
        for a in p.permissions.allow.iter() {
            let raw = a.raw();
            if raw == "*"
                || (raw.ends_with(":*")
                    && raw.matches(':').count() <= 2
                    && !raw.contains(":openstack:"))
            {
                let f = finding(
                    "wildcard-grant",
                    format!("policy `{}`", p.name),
                    format!("allows `{raw}`"),
                );
                out.push(policy_located(engine, f, &a.loc));
            }
        }
    }
    // Identities of another account than the policy's owner.
    for p in &set.ovh_policies {
        let Some(owner) = p.owner.as_deref() else {
            continue;
        };
        for (id, loc) in &p.identities {
            if let Ok(i) = crate::model::urn::IdentityUrn::parse(id) {
                if *i.account != *owner {
                    let f = finding(
                        "other-account",
                        id.to_string(),
                        format!("named by policy `{}` of account `{owner}`: another customer's account gets access", p.name),
                    );
                    out.push(policy_located(engine, f, loc));
                }
            }
        }
    }
    // Policies that expire within 30 days.
    let soon = at
        .checked_add(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(at);
    for p in &set.ovh_policies {
        if let Some((t, loc)) = p.expired_at.as_deref() {
            if *t >= at && *t <= soon {
                let f = finding(
                    "expires-soon",
                    format!("policy `{}`", p.name),
                    format!("expires at {t}, within 30 days"),
                );
                out.push(policy_located(engine, f, loc));
            }
        }
    }
    // Grants that depend on conditions.
    for p in &set.ovh_policies {
        if let Some(c) = p.conditions.as_deref() {
            if !p.permissions.allow.is_empty() || !p.groups.is_empty() {
                let mut f = finding(
                    "conditional-grant",
                    format!("policy `{}`", p.name),
                    String::from("its grants hold only when its condition does"),
                );
                f.condition = Some(super::points::text(&c.0));
                out.push(policy_located(engine, f, &c.1));
            }
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
                member_of: u.eim_member_of_id(id.as_deref()),
                action: action.to_owned(),
                resource: None,
                context: Vec::new(),
                at: None,
            };
            if super::decide(engine, &w).is_some_and(|d| d.allowed()) {
                let who = match (&w.member_of, id.as_deref()) {
                    (Some(_), _) => w.identity_label(),
                    (None, Some(i)) => format!("EIM user `{i}`"),
                    (None, None) => String::from("the caller"),
                };
                let f = finding(
                    "privilege-escalation",
                    who,
                    format!("may call `{action}`: it could write a policy bypassing its permissions and attach it to itself"),
                );
                out.push(located(engine, f, &w));
                break;
            }
        }
    }
    out
}
