//! Classes of resources one identity's decisions cannot tell apart. A decision reads the resource only
//! through the resource entries of the policies it visits (each matched when granting and when
//! restricting), the resource's type (`resource.Type` conditions, and which actions apply to it), and the
//! resource dump (owner and tags). Two resources of one type that no dump describes and that match exactly
//! the same entries of every policy the identity's decisions can read get the same answer for every action
//! at every point: the audit decides one of them and copies the answers to the others.

use std::collections::HashMap;

use super::{Atom, Res};
use crate::compile::Engine;
use crate::model::ovh::{Policy, ResourceEntry};
use crate::model::pattern::{Matcher, Pattern};
use crate::model::urn::{IdentityKind, IdentityUrn};

/// The policies an OVHcloud decision for `who` can read, in the engine's order: those naming it, its group
/// (account file), its account's root (across accounts the account's own grants are decided too), and, for
/// a user whose group is unknown, those naming any group of its account (their denies apply). `None`: not
/// an identity URN.
pub(super) fn deciders<'e>(engine: &'e Engine, who: &str) -> Option<Vec<&'e Policy>> {
    let (mut idx, maybe) = reading(engine, who)?;
    idx.extend(maybe);
    idx.sort_unstable();
    idx.dedup();
    Some(
        idx.iter()
            .filter_map(|i| engine.set.ovh_policies.get(*i as usize))
            .collect(),
    )
}

/// The indices of [`deciders`], split by how a decision reads them: whole (naming the identity, its group
/// or its account's root; sorted), and only for their denies (naming a group of the account of a user whose
/// group is unknown, and not the user itself: the eval's safe reading).
pub(super) fn reading(engine: &Engine, who: &str) -> Option<(Vec<u32>, Vec<u32>)> {
    let set = &engine.set;
    let id = IdentityUrn::parse(who).ok()?;
    let group = set.membership.user_group.get(who).map(|(g, _)| g);
    let mut full: Vec<u32> = engine.ovh_candidates(who).to_vec();
    if let Some(g) = group {
        full.extend_from_slice(engine.ovh_candidates(g));
    }
    let root = format!("urn:v1:{}:identity:account:{}", id.region, id.account);
    full.extend_from_slice(engine.ovh_candidates(&root));
    full.sort_unstable();
    full.dedup();
    let mut denies = Vec::new();
    if id.kind == IdentityKind::User && group.is_none() {
        let prefix = format!("urn:v1:{}:identity:group:{}/", id.region, id.account);
        for (i, p) in (0u32..).zip(&set.ovh_policies) {
            if full.binary_search(&i).is_err()
                && p.identities.iter().any(|(x, _)| x.starts_with(&prefix))
                && may_deny(engine, p)
            {
                denies.push(i);
            }
        }
    }
    Some((full, denies))
}

/// Whether a policy has a deny pattern, of its own or in one of its permission groups (a group that does
/// not resolve counts as one that may): read only for its denies, a policy without one never changes a
/// decision, so its actions and resources tell nothing apart.
pub(super) fn may_deny(engine: &Engine, p: &Policy) -> bool {
    !p.permissions.deny.is_empty()
        || p.groups.iter().any(|(g, _)| {
            engine
                .set
                .permission_groups
                .get(*g)
                .is_none_or(|g| !g.permissions.deny.is_empty())
        })
}

#[derive(Default)]
struct Atoms<'a> {
    /// The tests a decision makes on a resource URN, each shared by every entry that makes it.
    list: Vec<Atom<'a>>,
    names: HashMap<&'a str, u32>,
    /// Exact names ignoring case, by their lower-cased text.
    folded: HashMap<String, u32>,
    wild: HashMap<(&'a str, bool), u32>,
}

impl<'a> Atoms<'a> {
    fn next(&self) -> u32 {
        u32::try_from(self.list.len()).unwrap_or(u32::MAX)
    }

    fn name(&mut self, n: &'a str) {
        let next = self.next();
        if *self.names.entry(n).or_insert(next) == next {
            self.list.push(Atom::Name(n));
        }
    }

    /// The test a pattern makes (none when it matches every URN: it tells no two apart).
    fn pattern(&mut self, p: &'a Pattern) {
        match &p.matcher {
            Matcher::Any => {}
            Matcher::Exact(x) if !p.fold_case => self.name(x),
            Matcher::Exact(x) => {
                let key = x.to_ascii_lowercase();
                let next = self.next();
                if *self.folded.entry(key).or_insert(next) == next {
                    self.list.push(Atom::Folded(x));
                }
            }
            _ => {
                let next = self.next();
                if *self.wild.entry((&p.raw, p.fold_case)).or_insert(next) == next {
                    self.list.push(Atom::Wild(p));
                }
            }
        }
    }

    /// Every test `engine` makes with the resource entries of `policies`, on both sides.
    fn add(&mut self, engine: &'a Engine, policies: &[&'a Policy]) {
        for p in policies {
            for e in &p.resources {
                match e {
                    ResourceEntry::Pattern(s) => {
                        // Restricting: the pattern; granting: the same, or its text read literally.
                        self.pattern(&s.pattern);
                        if s.literal_when_granting {
                            self.name(&s.pattern.raw);
                        }
                    }
                    ResourceEntry::Group { group, .. } => {
                        // A group of known members holds exactly them, on both sides; one of unknown
                        // members holds every resource when restricting and none when granting.
                        if let Some(g) = engine.set.resource_groups.get(*group) {
                            if g.known {
                                for m in &g.members {
                                    self.name(m);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// For each of `resources`, the index (into `resources`) of the first one that every decision of `who`
/// under each of `engines` treats alike (see the module's documentation); itself when it is the first of
/// its class, when a resource dump describes it, or when `who` is not an identity URN.
pub fn resource_classes(engines: &[&Engine], who: &str, resources: &[&Res]) -> Vec<usize> {
    classes_by(engines, who, resources, deciders)
}

/// [`resource_classes`] told apart only by the policies read whole (see [`reading`]): coarser for a user
/// whose group is unknown, where the group policies read for their denies are left out. Two resources of
/// one such class get the same answer for every action no policy read for its denies can deny on one of
/// them and not on the other (see [`deny_only_differs`]).
pub(super) fn whole_classes(engine: &Engine, who: &str, resources: &[&Res]) -> Vec<usize> {
    classes_by(&[engine], who, resources, |e, w| {
        let (full, _) = reading(e, w)?;
        Some(
            full.iter()
                .filter_map(|i| e.set.ovh_policies.get(*i as usize))
                .collect(),
        )
    })
}

/// The policies a decision for a user of unknown group reads only for their denies (see [`reading`]).
pub(super) fn deny_only<'e>(engine: &'e Engine, who: &str) -> Vec<&'e Policy> {
    reading(engine, who).map_or_else(Vec::new, |(_, d)| {
        d.iter()
            .filter_map(|i| engine.set.ovh_policies.get(*i as usize))
            .collect()
    })
}

/// The policies of `deny_only` that match one of two resources and not the other when restricting (as a
/// deny matches a resource): only their denies can answer differently on the two.
pub(super) fn deny_only_differs<'p>(
    engine: &Engine,
    deny_only: &[&'p Policy],
    a: &str,
    b: &str,
) -> Vec<&'p Policy> {
    let on = |p: &Policy, urn: &str| {
        p.resources.iter().any(|e| match e {
            ResourceEntry::Pattern(s) => s.matches(urn, crate::model::Side::Restrict),
            ResourceEntry::Group { group, .. } => engine
                .set
                .resource_groups
                .get(*group)
                .is_none_or(|g| g.holds(urn, crate::model::Side::Restrict)),
        })
    };
    deny_only
        .iter()
        .copied()
        .filter(|p| on(p, a) != on(p, b))
        .collect()
}

fn classes_by<'e>(
    engines: &[&'e Engine],
    who: &str,
    resources: &[&Res],
    policies: impl Fn(&'e Engine, &str) -> Option<Vec<&'e Policy>>,
) -> Vec<usize> {
    let own: Vec<usize> = (0..resources.len()).collect();
    let mut atoms = Atoms::default();
    for e in engines {
        let Some(ps) = policies(e, who) else {
            return own;
        };
        atoms.add(e, &ps);
    }
    let urns: Vec<&str> = resources.iter().map(|r| r.urn.as_str()).collect();
    let sigs = super::signatures(&urns, &atoms.list, !atoms.folded.is_empty());
    let dumped = |r: &Res| {
        engines
            .iter()
            .any(|e| e.set.resources.contains_key(r.urn.as_str()))
    };
    let mut seen: crate::model::pattern::FxHashMap<(&str, &[u32]), usize> =
        crate::model::pattern::FxHashMap::default();
    resources
        .iter()
        .zip(&sigs)
        .enumerate()
        .map(|(i, (r, sig))| {
            if dumped(r) {
                i
            } else {
                *seen.entry((r.rtype.as_str(), sig.as_slice())).or_insert(i)
            }
        })
        .collect()
}

/// The conditional (or expiring) policies deciding for one identity, in any of some engines, to tell on
/// which (action, resource) a point other than the first can change the answer: only where such a policy
/// matches both. A policy's condition is read only once its resource entry and an allow or deny pattern
/// matched; an expired policy does nothing, as does an unexpired one that matches nothing.
pub struct Timed<'e> {
    /// Each policy's action patterns (its own and its permission groups', every list), and the engine
    /// that read it.
    policies: Vec<(&'e Engine, &'e Policy, Vec<&'e crate::model::Spec>)>,
    /// The policies with an exact resource entry (case kept, read alike on both sides), by that URN.
    exact: HashMap<&'e str, Vec<u32>>,
    /// The policies with some other entry, tried one by one.
    other: Vec<u32>,
}

impl<'e> Timed<'e> {
    pub fn of(engines: &[&'e Engine], who: &str) -> Option<Timed<'e>> {
        let mut t = Timed {
            policies: Vec::new(),
            exact: HashMap::new(),
            other: Vec::new(),
        };
        for e in engines {
            for p in deciders(e, who)? {
                if p.conditions.is_none() && p.expired_at.is_none() {
                    continue;
                }
                let k = u32::try_from(t.policies.len()).unwrap_or(u32::MAX);
                let mut specs: Vec<&crate::model::Spec> = Vec::new();
                let perms = std::iter::once(&p.permissions).chain(
                    p.groups
                        .iter()
                        .filter_map(|(g, _)| e.set.permission_groups.get(*g))
                        .map(|g| &g.permissions),
                );
                for ps in perms {
                    specs.extend(ps.allow.iter().chain(&ps.except).chain(&ps.deny));
                }
                let mut other = false;
                for r in &p.resources {
                    match r {
                        ResourceEntry::Pattern(s) => match &s.pattern.matcher {
                            Matcher::Exact(x)
                                if !s.pattern.fold_case && !s.literal_when_granting =>
                            {
                                let v = t.exact.entry(x).or_default();
                                if v.last() != Some(&k) {
                                    v.push(k);
                                }
                            }
                            _ => other = true,
                        },
                        ResourceEntry::Group { .. } => other = true,
                    }
                }
                if other {
                    t.other.push(k);
                }
                t.policies.push((e, p, specs));
            }
        }
        Some(t)
    }

    /// The policies (indices) whose resource entries match `urn` on either side.
    pub fn on(&self, urn: &str) -> Vec<u32> {
        let mut out: Vec<u32> = self.exact.get(urn).cloned().unwrap_or_default();
        for &k in &self.other {
            let Some((e, p, _)) = self.policies.get(k as usize) else {
                continue;
            };
            let hit = p.resources.iter().any(|r| match r {
                ResourceEntry::Pattern(s) => {
                    s.matches(urn, crate::model::Side::Grant)
                        || s.matches(urn, crate::model::Side::Restrict)
                }
                ResourceEntry::Group { group, .. } => {
                    e.set.resource_groups.get(*group).is_some_and(|g| {
                        g.holds(urn, crate::model::Side::Grant)
                            || g.holds(urn, crate::model::Side::Restrict)
                    })
                }
            });
            if hit {
                out.push(k);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether one of `policies` (from [`Self::on`]) has an action pattern matching the action, or a role
    /// carrying the permission.
    pub fn matches(&self, policies: &[u32], action: &str) -> bool {
        policies.iter().any(|k| {
            let Some((e, _, specs)) = self.policies.get(*k as usize) else {
                return true;
            };
            let m = |a: &str| {
                specs.iter().any(|s| {
                    s.matches(a, crate::model::Side::Grant)
                        || s.matches(a, crate::model::Side::Restrict)
                })
            };
            let matrix = &e.set.matrix;
            match matrix.permission_index(action) {
                Some(i) => matrix.roles_carrying(i).any(|r| m(&r.action)),
                None => m(action),
            }
        })
    }
}
