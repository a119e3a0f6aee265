//! Compile: the checked policy set → an immutable index, built once and shared across threads.
//! OVHcloud identities are exact URNs (DOMAIN.md §1.3), so candidate policies are found by hash lookup;
//! an EIM user's documents (inline, default versions of linked managed policies, and the same for each of
//! its groups) are resolved once.

use std::collections::HashMap;

use crate::model::eim::Via;
use crate::model::PolicySet;

/// The compiled policy set. Evaluation is in [`crate::eval`].
#[derive(Debug, Clone)]
pub struct Engine {
    pub set: PolicySet,
    /// Identity URN → indices of the OVHcloud policies naming it, ascending.
    pub(crate) ovh_by_identity: HashMap<Box<str>, Vec<u32>>,
    /// EIM user name → the documents that apply to it and how they reach it.
    pub(crate) eim_user_docs: HashMap<Box<str>, Vec<(usize, Via)>>,
    /// The evaluation time for requests that name none.
    pub default_at: jiff::Timestamp,
}

impl Engine {
    /// Build the index.
    pub fn compile(set: PolicySet) -> Engine {
        let mut ovh_by_identity: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        for (i, p) in set.ovh_policies.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            for (id, _) in &p.identities {
                let list = ovh_by_identity.entry(id.clone()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        let account = &set.eim_account;
        let mut eim_user_docs = HashMap::new();
        for user in account.users.values() {
            let mut docs = Vec::new();
            for &d in &user.inline {
                docs.push((
                    d,
                    Via::UserInline {
                        user: user.name.clone(),
                    },
                ));
            }
            for (name, _) in &user.linked {
                if let Some(m) = account.policies.get(name) {
                    docs.push((
                        m.document,
                        Via::UserManaged {
                            user: user.name.clone(),
                            policy: m.name.clone(),
                            version: m.default_version.clone(),
                        },
                    ));
                }
            }
            for g in &user.groups {
                let Some(group) = account.groups.get(g) else {
                    continue;
                };
                for &d in &group.inline {
                    docs.push((
                        d,
                        Via::GroupInline {
                            group: group.name.clone(),
                        },
                    ));
                }
                for (name, _) in &group.linked {
                    if let Some(m) = account.policies.get(name) {
                        docs.push((
                            m.document,
                            Via::GroupManaged {
                                group: group.name.clone(),
                                policy: m.name.clone(),
                                version: m.default_version.clone(),
                            },
                        ));
                    }
                }
            }
            eim_user_docs.insert(user.name.clone(), docs);
        }
        Engine {
            set,
            ovh_by_identity,
            eim_user_docs,
            default_at: jiff::Timestamp::now(),
        }
    }

    /// Set the time used for requests that name none (`--at`).
    pub fn with_default_time(mut self, at: jiff::Timestamp) -> Engine {
        self.default_at = at;
        self
    }

    /// The EIM documents that apply to a user, and how each reaches it.
    pub fn eim_docs_of(&self, user: &str) -> &[(usize, Via)] {
        self.eim_user_docs.get(user).map_or(&[], Vec::as_slice)
    }

    /// The OVHcloud policies naming an identity exactly.
    pub(crate) fn ovh_candidates(&self, identity: &str) -> &[u32] {
        self.ovh_by_identity
            .get(identity)
            .map_or(&[], Vec::as_slice)
    }
}

/// Merge two ascending index lists without duplicates, without allocating.
pub(crate) fn merge_sorted<'a>(a: &'a [u32], b: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        match (x, y) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                Some(x)
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                Some(x)
            }
            (Some(_), Some(y)) => {
                j += 1;
                Some(y)
            }
            (Some(x), None) => {
                i += 1;
                Some(x)
            }
            (None, Some(y)) => {
                j += 1;
                Some(y)
            }
            (None, None) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn merge_dedupes() {
        let v: Vec<u32> = super::merge_sorted(&[1, 3, 5], &[2, 3, 6]).collect();
        assert_eq!(v, vec![1, 2, 3, 5, 6]);
    }
}
