//! The semantic diff of two policy sets: every (identity, action, resource, context) of the joint universe
//! whose decision changes, grouped by identity and resource, each group with one witness request. The
//! contexts are the edges of both sets' conditions, so a condition widened (`198.51.100.0/24` →
//! `0.0.0.0/0`) is a change, shown by a context only NEW allows.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{reach, Probe, Res, Universe, Who, Witness};
use crate::compile::Engine;
use crate::model::ovh::{Permissions, Policy, ResourceEntry};
use crate::model::urn::{IdentityKind, IdentityUrn};
use crate::model::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Denied in OLD, allowed in NEW.
    Granted,
    /// Allowed in OLD, denied in NEW.
    Removed,
}

/// A group of changed decisions: one identity, one resource, the actions whose answer flipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A symbolic member: the group it stands for any member of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// A witness resource: the pattern it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stands_for: Option<String>,
    pub actions: Vec<String>,
    /// The flip needs a context or time (a condition changed, or a conditional grant was added).
    pub conditional: bool,
    /// For a conditional change: the conditions of the policies deciding the witness where it is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// For a symbolic member: the group's listed members that no policy names, for whom the change holds
    /// alike.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// One concrete request that flips: `policy-sim check` allows it on NEW and denies it on OLD
    /// (granted), or the reverse (removed).
    pub witness: Witness,
}

impl Change {
    pub fn identity_label(&self) -> String {
        match (&self.member_of, &self.identity) {
            (Some(g), _) => format!(
                "{}{}",
                super::member_label(g),
                super::members_note(&self.members)
            ),
            (None, Some(i)) => i.clone(),
            (None, None) => String::from("(caller)"),
        }
    }

    pub fn resource_label(&self) -> Option<String> {
        let r = self.resource.as_ref()?;
        Some(match &self.stands_for {
            Some(p) => format!("any other resource matching {p} (witness {r})"),
            None => r.clone(),
        })
    }
}

/// The changes of one identity, by kind and resource.
fn changes_of(
    old: &Engine,
    new: &Engine,
    u: &Universe,
    who: &Who,
) -> BTreeMap<(ChangeKind, Res), Flips> {
    let mut groups: BTreeMap<(ChangeKind, Res), Flips> = BTreeMap::new();
    let (ro, rn) = (reach(old, u, &who.urn), reach(new, u, &who.urn));
    let actions: BTreeSet<&str> = ro.actions.iter().chain(&rn.actions).copied().collect();
    let resources: BTreeSet<&Res> = ro.resources.iter().chain(&rn.resources).copied().collect();
    let points: BTreeSet<usize> = ro.points.iter().chain(&rn.points).copied().collect();
    let (co, cn) = (
        super::Conditional::of(old, &who.urn),
        super::Conditional::of(new, &who.urn),
    );
    let all_acts: Vec<&str> = actions.into_iter().collect();
    let all_cond: Vec<bool> = all_acts
        .iter()
        .map(|a| co.matches(a) || cn.matches(a))
        .collect();
    let typed = super::by_type(&[&co, &cn], &all_acts, &all_cond);
    for res in resources {
        let Some((acts, cond, class)) = typed.get(res.rtype.as_str()) else {
            continue;
        };
        // The point where each action first flips.
        let mut flipped: Vec<Option<usize>> = vec![None; acts.len()];
        // For a class's first action that flipped: its answer in NEW there, shared by its whole class.
        let mut answer: Vec<bool> = vec![false; acts.len()];
        for &pi in &points {
            let Some(point) = u.points.get(pi) else {
                continue;
            };
            let (Some(mut po), Some(mut pn)) = (
                Probe::at(old, Some(&who.urn), Some(&res.urn), point),
                Probe::at(new, Some(&who.urn), Some(&res.urn), point),
            ) else {
                continue;
            };
            for i in 0..acts.len() {
                let (Some(a), Some(c)) = (acts.get(i), cond.get(i)) else {
                    continue;
                };
                if flipped.get(i).is_some_and(Option::is_some) || (pi != 0 && !*c) {
                    continue;
                }
                let rep = class.get(i).copied().unwrap_or(i);
                let is = if rep != i {
                    // Same signature as its class's first action: the same answers, decided above.
                    if flipped.get(rep).copied().flatten() != Some(pi) {
                        continue;
                    }
                    answer.get(rep).copied().unwrap_or_else(|| pn.allowed(a))
                } else {
                    let (was, is) = (po.allowed(a), pn.allowed(a));
                    if was == is {
                        continue;
                    }
                    is
                };
                if let Some(f) = flipped.get_mut(i) {
                    *f = Some(pi);
                }
                if let Some(x) = answer.get_mut(i) {
                    *x = is;
                }
                let kind = if is {
                    ChangeKind::Granted
                } else {
                    ChangeKind::Removed
                };
                let e = groups.entry((kind, res.clone())).or_insert_with(|| {
                    (Vec::new(), Witness::new(who, a, &res.urn, point), pi != 0)
                });
                e.0.push((*a).to_owned());
            }
        }
    }
    groups
}

/// The policies an OVHcloud decision for `who` can read, in the engine's order: those naming it, its group
/// (account file), its account's root (across accounts the account's own grants are decided too), and, for
/// a user whose group is unknown, those naming any group of its account (their denies apply). `None`: not
/// an identity URN.
fn deciders<'e>(engine: &'e Engine, who: &str) -> Option<Vec<&'e Policy>> {
    let set = &engine.set;
    let id = IdentityUrn::parse(who).ok()?;
    let group = set.membership.user_group.get(who).map(|(g, _)| g);
    let mut idx: Vec<u32> = engine.ovh_candidates(who).to_vec();
    if let Some(g) = group {
        idx.extend_from_slice(engine.ovh_candidates(g));
    }
    let root = format!("urn:v1:{}:identity:account:{}", id.region, id.account);
    idx.extend_from_slice(engine.ovh_candidates(&root));
    if id.kind == IdentityKind::User && group.is_none() {
        let prefix = format!("urn:v1:{}:identity:group:{}/", id.region, id.account);
        for (i, p) in (0u32..).zip(&set.ovh_policies) {
            if p.identities.iter().any(|(x, _)| x.starts_with(&prefix)) {
                idx.push(i);
            }
        }
    }
    idx.sort_unstable();
    idx.dedup();
    Some(
        idx.iter()
            .filter_map(|i| set.ovh_policies.get(*i as usize))
            .collect(),
    )
}

/// Two patterns alike, wherever they were written.
fn same_spec(a: &Spec, b: &Spec) -> bool {
    a.pattern == b.pattern
        && a.reading == b.reading
        && a.literal_when_granting == b.literal_when_granting
}

fn same_specs(a: &[Spec], b: &[Spec]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_spec(x, y))
}

fn same_permissions(a: &Permissions, b: &Permissions) -> bool {
    same_specs(&a.allow, &b.allow)
        && same_specs(&a.except, &b.except)
        && same_specs(&a.deny, &b.deny)
}

/// Two policies that decide alike, each read in its own set: the same identities, resources (a resource
/// group by its members), allows, excepts, denies, permission groups (by their contents), condition,
/// expiry and owner. Where they were written (file, line) and their names do not decide anything.
fn same_policy(eo: &Engine, a: &Policy, en: &Engine, b: &Policy) -> bool {
    let same_res = |x: &ResourceEntry, y: &ResourceEntry| match (x, y) {
        (ResourceEntry::Pattern(x), ResourceEntry::Pattern(y)) => same_spec(x, y),
        (
            ResourceEntry::Group {
                urn: ux, group: gx, ..
            },
            ResourceEntry::Group {
                urn: uy, group: gy, ..
            },
        ) => {
            let (Some(x), Some(y)) = (
                eo.set.resource_groups.get(*gx),
                en.set.resource_groups.get(*gy),
            ) else {
                return false;
            };
            ux == uy
                && x.urn == y.urn
                && x.members == y.members
                && x.known == y.known
                && x.owner == y.owner
        }
        _ => false,
    };
    let same_group = |x: usize, y: usize| {
        let (Some(x), Some(y)) = (
            eo.set.permission_groups.get(x),
            en.set.permission_groups.get(y),
        ) else {
            return false;
        };
        x.urn == y.urn && same_permissions(&x.permissions, &y.permissions)
    };
    a.owner == b.owner
        && a.read_only == b.read_only
        && a.identities.len() == b.identities.len()
        && a.identities
            .iter()
            .zip(&*b.identities)
            .all(|((x, _), (y, _))| x == y)
        && a.resources.len() == b.resources.len()
        && a.resources
            .iter()
            .zip(&*b.resources)
            .all(|(x, y)| same_res(x, y))
        && same_permissions(&a.permissions, &b.permissions)
        && a.groups.len() == b.groups.len()
        && a.groups
            .iter()
            .zip(&*b.groups)
            .all(|((x, _), (y, _))| same_group(*x, *y))
        && a.conditions.as_deref().map(|c| &c.0) == b.conditions.as_deref().map(|c| &c.0)
        && a.expired_at.as_deref().map(|e| e.0) == b.expired_at.as_deref().map(|e| e.0)
}

/// Whether OLD and NEW answer every request of `who` alike, so that its changes need not be looked for:
/// the same group, the same policies deciding for it (see [`deciders`]), compared by content, and the same
/// inputs every decision reads (the evaluation time, the policies' owners, the resource dump, the OpenStack
/// role matrix). Conservative: anything else differing means "not alike", and the identity is decided in
/// full.
fn decided_alike(old: &Engine, new: &Engine, who: &str) -> bool {
    let (so, sn) = (&old.set, &new.set);
    if old.default_at != new.default_at
        || old.policy_owners != new.policy_owners
        || so.resources != sn.resources
        || so.matrix != sn.matrix
    {
        return false;
    }
    let group =
        |s: &crate::model::PolicySet| s.membership.user_group.get(who).map(|(g, _)| g.clone());
    if group(so) != group(sn) {
        return false;
    }
    let (Some(po), Some(pn)) = (deciders(old, who), deciders(new, who)) else {
        return false;
    };
    po.len() == pn.len() && po.iter().zip(&pn).all(|(a, b)| same_policy(old, a, new, b))
}

/// The actions of one change, its witness, and whether the witness needs a context or time.
type Flips = (Vec<String>, Witness, bool);

/// Every change between OLD and NEW over the joint universe `u` (built with [`Universe::joint`] on both).
pub fn diff(old: &Engine, new: &Engine, u: &Universe, mut tick: impl FnMut()) -> Vec<Change> {
    // (kind, who, resource) → (actions, first witness, conditional, listed members answering alike)
    let mut groups: BTreeMap<(ChangeKind, Who, Res), (Flips, Vec<String>)> = BTreeMap::new();
    // A listed group member no policy names answers like its group's symbolic member: one change for both.
    for (i, members) in u.representatives() {
        let Some(who) = u.ovh_identities.get(i) else {
            continue;
        };
        // Its deciding policies unchanged: no answer of it (or of its listed members) can differ.
        if decided_alike(old, new, &who.urn) {
            for _ in 0..=members.len() {
                tick();
            }
            continue;
        }
        for ((kind, res), flips) in changes_of(old, new, u, who) {
            groups.insert((kind, who.clone(), res), (flips, members.clone()));
        }
        for _ in 0..=members.len() {
            tick();
        }
    }
    let mut out: Vec<Change> = groups
        .into_iter()
        .map(
            |((kind, who, res), ((mut actions, witness, conditional), members))| {
                actions.sort();
                let allowing = if kind == ChangeKind::Granted {
                    new
                } else {
                    old
                };
                let condition = conditional.then(|| super::condition_of(allowing, &witness));
                Change {
                    condition,
                    kind,
                    identity: Some(who.urn),
                    member_of: who.member_of,
                    resource: Some(res.urn),
                    stands_for: res.stands_for,
                    actions,
                    conditional,
                    members,
                    witness,
                }
            },
        )
        .collect();
    // EIM: no resources, no conditions the audit varies.
    let eim: Vec<&str> = u.eim_actions.iter().map(String::as_str).collect();
    for id in &u.eim_identities {
        // A user that exists on one side only (created or deleted by the change) may do nothing on the
        // other side: every action it may do there is a change.
        let (mut po, mut pn) = (
            Probe::new(old, id.as_deref(), None),
            Probe::new(new, id.as_deref(), None),
        );
        if po.is_none() && pn.is_none() {
            continue;
        }
        let mut by_kind: BTreeMap<ChangeKind, Vec<String>> = BTreeMap::new();
        for a in &eim {
            let was = po.as_mut().is_some_and(|p| p.allowed(a));
            let is = pn.as_mut().is_some_and(|p| p.allowed(a));
            if was != is {
                let kind = if is {
                    ChangeKind::Granted
                } else {
                    ChangeKind::Removed
                };
                by_kind.entry(kind).or_default().push((*a).to_owned());
            }
        }
        for (kind, actions) in by_kind {
            let Some(first) = actions.first().cloned() else {
                continue;
            };
            let member_of = u.eim_member_of_id(id.as_deref());
            out.push(Change {
                kind,
                identity: id.clone(),
                member_of: member_of.clone(),
                resource: None,
                stands_for: None,
                actions,
                conditional: false,
                condition: None,
                members: Vec::new(),
                witness: Witness {
                    identity: id.clone(),
                    member_of,
                    action: first,
                    resource: None,
                    context: Vec::new(),
                    at: None,
                },
            });
        }
    }
    out
}
