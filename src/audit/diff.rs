//! The semantic diff of two policy sets: every (identity, action, resource, context) of the joint universe
//! whose decision changes, grouped by identity and resource, each group with one witness request. The
//! contexts are the edges of both sets' conditions, so a condition widened (`198.51.100.0/24` →
//! `0.0.0.0/0`) is a change, shown by a context only NEW allows.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Probe, Res, Universe, Who, Witness};
use crate::compile::Engine;
use crate::model::ovh::{Permissions, Policy, ResourceEntry};
use crate::model::{Side, Spec};

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

/// The changes of one identity, by kind and resource. Resources its decisions treat alike (see
/// [`super::resources::resource_classes`]) are decided once, on the first of their class.
fn changes_of(
    old: &Engine,
    new: &Engine,
    u: &Universe,
    who: &Who,
    scope: &Scope<'_>,
) -> BTreeMap<(ChangeKind, Res), Flips> {
    // Outside the changed policies' patterns, nothing can flip.
    let focus = |a: &str, r: &str| match scope {
        Scope::Alike => false,
        Scope::Focus(f) => (a.is_empty() || f.action(a)) && (r.is_empty() || f.resource(r)),
        Scope::All => true,
    };
    let mut groups: BTreeMap<(ChangeKind, Res), Flips> = BTreeMap::new();
    let (co, cn) = (
        super::Conditional::of(old, &who.urn),
        super::Conditional::of(new, &who.urn),
    );
    // Each action's conditional flag is computed below, for the actions in focus only.
    let (ro, rn) = (
        super::reach_core(old, u, &who.urn, &co),
        super::reach_core(new, u, &who.urn, &cn),
    );
    let actions: BTreeSet<&str> = ro.actions.iter().chain(&rn.actions).copied().collect();
    let resources: Vec<&Res> = ro
        .resources
        .iter()
        .chain(&rn.resources)
        .copied()
        .collect::<BTreeSet<&Res>>()
        .into_iter()
        .filter(|r| focus("", &r.urn))
        .collect();
    let points: BTreeSet<usize> = ro.points.iter().chain(&rn.points).copied().collect();
    let all_acts: Vec<&str> = actions.into_iter().filter(|a| focus(a, "")).collect();
    let all_cond: Vec<bool> = all_acts
        .iter()
        .map(|a| co.matches(a) || cn.matches(a))
        .collect();
    let typed = super::by_type(&[&co, &cn], &all_acts, &all_cond);
    let rclass = super::resources::resource_classes(&[old, new], &who.urn, &resources);
    let timed = super::resources::Timed::of(&[old, new], &who.urn);
    // Per resource decided (the first of its class): its flips, by kind, in the order found.
    let mut decided: Vec<Option<Vec<Flipped<'_>>>> = vec![None; resources.len()];
    for (ri, res) in resources.iter().enumerate() {
        let rep = rclass.get(ri).copied().unwrap_or(ri);
        let flips = match decided.get(rep).cloned().flatten() {
            Some(f) if rep != ri => f,
            _ => {
                let f = typed
                    .get(res.rtype.as_str())
                    .map(|(acts, cond, class)| {
                        // A point other than the first matters only for an action some conditional
                        // policy matching this resource can match.
                        let cond: Vec<bool> = match &timed {
                            Some(t) => {
                                let on = t.on(&res.urn);
                                acts.iter()
                                    .zip(cond)
                                    .map(|(a, c)| *c && !on.is_empty() && t.matches(&on, a))
                                    .collect()
                            }
                            None => cond.clone(),
                        };
                        flips_on(old, new, u, who, res, (acts, &cond, class), &points)
                    })
                    .unwrap_or_default();
                if let Some(slot) = decided.get_mut(ri) {
                    *slot = Some(f.clone());
                }
                f
            }
        };
        for (kind, acts, first, pi) in flips {
            let Some(point) = u.points.get(pi) else {
                continue;
            };
            groups.insert(
                (kind, (*res).clone()),
                (
                    acts.iter().map(|a| (*a).to_owned()).collect(),
                    Witness::new(who, first, &res.urn, point),
                    pi != 0,
                ),
            );
        }
    }
    groups
}

/// The flips of one kind on one resource: its actions in the order found, the first one and the point where
/// it flipped (the witness).
type Flipped<'a> = (ChangeKind, Vec<&'a str>, &'a str, usize);

/// The actions whose answer flips on one resource, by kind, each kind with its first flip.
fn flips_on<'a>(
    old: &Engine,
    new: &Engine,
    u: &Universe,
    who: &Who,
    res: &Res,
    (acts, cond, class): (&[&'a str], &[bool], &[usize]),
    points: &BTreeSet<usize>,
) -> Vec<Flipped<'a>> {
    let mut out: Vec<Flipped<'a>> = Vec::new();
    // The point where each action first flips.
    let mut flipped: Vec<Option<usize>> = vec![None; acts.len()];
    // For a class's first action that flipped: its answer in NEW there, shared by its whole class.
    let mut answer: Vec<bool> = vec![false; acts.len()];
    for &pi in points {
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
            match out.iter_mut().find(|(k, ..)| *k == kind) {
                Some(e) => e.1.push(a),
                None => out.push((kind, vec![a], a, pi)),
            }
        }
    }
    out
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

/// The policies of OLD and NEW with no identical counterpart on the other side (see [`same_policy`]): a
/// policy is paired with an unused one of the same name and content, else with the one at its position
/// if that has the same content. Only a changed policy can make a decision differ.
struct Changed {
    old: Vec<bool>,
    new: Vec<bool>,
}

impl Changed {
    fn of(old: &Engine, new: &Engine) -> Changed {
        let (po, pn) = (&old.set.ovh_policies, &new.set.ovh_policies);
        let mut by_name: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::new();
        for (j, p) in pn.iter().enumerate() {
            by_name.entry(&p.name).or_default().push(j);
        }
        let mut used = vec![false; pn.len()];
        let mut changed_old = vec![true; po.len()];
        for (i, a) in po.iter().enumerate() {
            let free = |j: &usize| !used.get(*j).copied().unwrap_or(true);
            let found = by_name
                .get(&*a.name)
                .and_then(|js| {
                    js.iter()
                        .copied()
                        .filter(free)
                        .find(|&j| pn.get(j).is_some_and(|b| same_policy(old, a, new, b)))
                })
                .or_else(|| {
                    Some(i)
                        .filter(free)
                        .filter(|&j| pn.get(j).is_some_and(|b| same_policy(old, a, new, b)))
                });
            if let Some(j) = found {
                if let Some(u) = used.get_mut(j) {
                    *u = true;
                }
                if let Some(c) = changed_old.get_mut(i) {
                    *c = false;
                }
            }
        }
        Changed {
            old: changed_old,
            new: used.iter().map(|u| !u).collect(),
        }
    }
}

/// Where OLD and NEW can answer differently for one identity.
enum Scope<'e> {
    /// Nowhere: every request of the identity is answered alike.
    Alike,
    /// Only on the actions and resources the changed policies deciding for it can match.
    Focus(Focus<'e>),
    /// Anywhere (an input every decision reads differs, or its group does).
    All,
}

/// The patterns of the changed policies that decide for one identity, in either set: a request none of
/// whose action patterns or none of whose resource entries match is decided by unchanged policies alone,
/// identically in OLD and NEW. A policy read only for its denies (it names a group of the account of a
/// user whose group is unknown) counts only by its denies.
#[derive(Default)]
struct Focus<'e> {
    actions: Vec<&'e Spec>,
    resources: Vec<(&'e Engine, &'e ResourceEntry)>,
    matrix: Option<&'e crate::model::matrix::Matrix>,
}

impl<'e> Focus<'e> {
    fn add(&mut self, engine: &'e Engine, changed: &[bool], who: &str) -> Option<()> {
        let set = &engine.set;
        let (full, denies) = super::resources::reading(engine, who)?;
        let is_changed = |i: u32| changed.get(i as usize).copied().unwrap_or(true);
        let groups_of = |p: &'e Policy| {
            p.groups
                .iter()
                .filter_map(|(g, _)| set.permission_groups.get(*g))
        };
        for i in full.into_iter().filter(|i| is_changed(*i)) {
            let Some(p) = set.ovh_policies.get(i as usize) else {
                continue;
            };
            let perms = std::iter::once(&p.permissions).chain(groups_of(p).map(|g| &g.permissions));
            for ps in perms {
                self.actions
                    .extend(ps.allow.iter().chain(&ps.except).chain(&ps.deny));
            }
            self.resources
                .extend(p.resources.iter().map(|r| (engine, r)));
        }
        // Read only for their denies.
        for i in denies.into_iter().filter(|i| is_changed(*i)) {
            let Some(p) = set.ovh_policies.get(i as usize) else {
                continue;
            };
            self.actions.extend(&p.permissions.deny);
            for g in groups_of(p) {
                self.actions.extend(&g.permissions.deny);
            }
            self.resources
                .extend(p.resources.iter().map(|r| (engine, r)));
        }
        self.matrix = Some(&set.matrix);
        Some(())
    }

    fn is_empty(&self) -> bool {
        self.actions.is_empty() || self.resources.is_empty()
    }

    /// Whether some changed policy's action pattern can match the action (or a role carrying the
    /// permission).
    fn action(&self, action: &str) -> bool {
        let m = |a: &str| {
            self.actions
                .iter()
                .any(|s| s.matches(a, Side::Grant) || s.matches(a, Side::Restrict))
        };
        match self
            .matrix
            .and_then(|x| x.permission_index(action).map(|i| (x, i)))
        {
            Some((x, i)) => x.roles_carrying(i).any(|r| m(&r.action)),
            None => m(action),
        }
    }

    /// Whether some changed policy's resource entry can match the resource, on either side.
    fn resource(&self, urn: &str) -> bool {
        self.resources.iter().any(|(e, r)| match r {
            ResourceEntry::Pattern(s) => {
                s.matches(urn, Side::Grant) || s.matches(urn, Side::Restrict)
            }
            ResourceEntry::Group { group, .. } => e
                .set
                .resource_groups
                .get(*group)
                .is_some_and(|g| g.holds(urn, Side::Grant) || g.holds(urn, Side::Restrict)),
        })
    }
}

/// Where OLD and NEW can answer differently for `who`: nowhere when the same inputs every decision reads
/// are equal (the evaluation time, the policies' owners, the resource dump, the OpenStack role matrix),
/// its group is the same and no policy deciding for it changed; on what the changed ones can match when
/// only policies changed; anywhere otherwise (conservative: the identity is decided in full).
fn scope_of<'e>(old: &'e Engine, new: &'e Engine, changed: &Changed, who: &str) -> Scope<'e> {
    let (so, sn) = (&old.set, &new.set);
    if old.default_at != new.default_at
        || old.policy_owners != new.policy_owners
        || so.resources != sn.resources
        || so.matrix != sn.matrix
    {
        return Scope::All;
    }
    let group =
        |s: &crate::model::PolicySet| s.membership.user_group.get(who).map(|(g, _)| g.clone());
    if group(so) != group(sn) {
        return Scope::All;
    }
    let mut focus = Focus::default();
    if focus.add(old, &changed.old, who).is_none() || focus.add(new, &changed.new, who).is_none() {
        return Scope::All;
    }
    if focus.is_empty() {
        Scope::Alike
    } else {
        Scope::Focus(focus)
    }
}

/// The actions of one change, its witness, and whether the witness needs a context or time.
type Flips = (Vec<String>, Witness, bool);

/// Every change between OLD and NEW over the joint universe `u` (built with [`Universe::joint`] on both).
pub fn diff(old: &Engine, new: &Engine, u: &Universe, mut tick: impl FnMut()) -> Vec<Change> {
    // (kind, who, resource) → (actions, first witness, conditional, listed members answering alike)
    let mut groups: BTreeMap<(ChangeKind, Who, Res), (Flips, Vec<String>)> = BTreeMap::new();
    let changed = Changed::of(old, new);
    // A listed group member no policy names answers like its group's symbolic member: one change for both.
    // Identities are independent: decided on every core, progress shown as each is done.
    let reps: Vec<(&Who, Vec<String>)> = u
        .representatives()
        .into_iter()
        .filter_map(|(i, members)| u.ovh_identities.get(i).map(|w| (w, members)))
        .collect();
    let found = crate::parallel::map_with_progress(
        &reps,
        |(who, _)| {
            // Its deciding policies unchanged: no answer of it (or of its listed members) can differ.
            match scope_of(old, new, &changed, &who.urn) {
                Scope::Alike => BTreeMap::new(),
                scope => changes_of(old, new, u, who, &scope),
            }
        },
        |i| {
            for _ in 0..=reps.get(i).map_or(0, |(_, m)| m.len()) {
                tick();
            }
        },
    );
    for ((who, members), changes) in reps.iter().zip(found) {
        for ((kind, res), flips) in changes {
            groups.insert((kind, (*who).clone(), res), (flips, members.clone()));
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
