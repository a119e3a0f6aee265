//! The semantic diff of two policy sets: every (identity, action, resource) of the joint universe whose
//! decision changes, grouped by identity and resource, each group with one witness request.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{relevant_actions, Probe, Universe, Witness};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub actions: Vec<String>,
    /// One concrete request that flips: `policy-sim check` answers differently on OLD and NEW.
    pub witness: Witness,
}

/// The union of two universes.
fn joint(a: &Universe, b: &Universe) -> Universe {
    fn merge<T: Ord + Clone>(x: &[T], y: &[T]) -> Vec<T> {
        let mut v: Vec<T> = x.iter().chain(y).cloned().collect();
        v.sort();
        v.dedup();
        v
    }
    Universe {
        ovh_identities: merge(&a.ovh_identities, &b.ovh_identities),
        ovh_resources: merge(&a.ovh_resources, &b.ovh_resources),
        ovh_actions: merge(&a.ovh_actions, &b.ovh_actions),
        eim_identities: merge(&a.eim_identities, &b.eim_identities),
        eim_actions: merge(&a.eim_actions, &b.eim_actions),
        empty_groups: merge(&a.empty_groups, &b.empty_groups),
    }
}

/// Every change between OLD and NEW.
pub fn diff(old: &Engine, new: &Engine) -> Vec<Change> {
    let u = joint(&Universe::of(old), &Universe::of(new));
    let mut groups: BTreeMap<(ChangeKind, Option<String>, Option<String>), Vec<String>> =
        BTreeMap::new();
    let mut flip = |id: Option<&str>, r: Option<&str>, actions: &[&str]| {
        let (Some(mut po), Some(mut pn)) = (Probe::new(old, id, r), Probe::new(new, id, r)) else {
            return;
        };
        for a in actions {
            let (was, is) = (po.allowed(a), pn.allowed(a));
            if was != is {
                let kind = if is {
                    ChangeKind::Granted
                } else {
                    ChangeKind::Removed
                };
                groups
                    .entry((kind, id.map(str::to_owned), r.map(str::to_owned)))
                    .or_default()
                    .push((*a).to_owned());
            }
        }
    };
    for id in &u.ovh_identities {
        // An action matters if a pattern reaching the identity in either set can match it.
        let mut actions = relevant_actions(old, &u, id);
        actions.extend(relevant_actions(new, &u, id));
        actions.sort_unstable();
        actions.dedup();
        for r in &u.ovh_resources {
            flip(Some(id), Some(r), &actions);
        }
    }
    let eim: Vec<&str> = u.eim_actions.iter().map(String::as_str).collect();
    for id in &u.eim_identities {
        flip(id.as_deref(), None, &eim);
    }
    groups
        .into_iter()
        .filter_map(|((kind, identity, resource), actions)| {
            let witness = Witness {
                identity: identity.clone(),
                action: actions.first()?.clone(),
                resource: resource.clone(),
            };
            Some(Change {
                kind,
                identity,
                resource,
                actions,
                witness,
            })
        })
        .collect()
}
