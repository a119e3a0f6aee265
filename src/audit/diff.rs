//! The semantic diff of two policy sets: every (identity, action, resource, context) of the joint universe
//! whose decision changes, grouped by identity and resource, each group with one witness request. The
//! contexts are the edges of both sets' conditions, so a condition widened (`198.51.100.0/24` →
//! `0.0.0.0/0`) is a change, shown by a context only NEW allows.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{reach, Probe, Res, Universe, Who, Witness};
use crate::compile::Engine;

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
    let typed = super::by_type(&[&co, &cn], &all_acts, &all_cond, points.len() > 1);
    for res in resources {
        let Some((acts, cond, class)) = typed.get(res.rtype.as_str()) else {
            continue;
        };
        // The point where each action first flips.
        let mut flipped: Vec<Option<usize>> = vec![None; acts.len()];
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
                let is = if pi != 0 && rep != i {
                    // Same signature as its class's first action: the same answers, decided above.
                    if flipped.get(rep).copied().flatten() != Some(pi) {
                        continue;
                    }
                    pn.allowed(a)
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
