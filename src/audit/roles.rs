//! Role sets covering needed OpenStack permissions (the search itself is [`crate::openstack::cover`]), and
//! the narrower roles that would do for identities holding more.

use serde::Serialize;

use crate::compile::Engine;
use crate::model::matrix::Matrix;

/// The least-privilege role sets whose rows together carry every needed permission: fewest permissions
/// beyond the needed ones first, then fewest roles ([`crate::openstack::cover::least_privilege`]).
pub fn smallest_covers(matrix: &Matrix, needs: u64) -> Vec<Vec<String>> {
    crate::openstack::cover::least_privilege(matrix, needs, false)
}

/// The permission bits named, or the unknown names.
pub fn needs_bits(matrix: &Matrix, names: &[String]) -> Result<u64, Vec<String>> {
    let mut bits = 0u64;
    let mut unknown = Vec::new();
    for n in names {
        match matrix.permission_index(n.trim()) {
            Some(i) => bits |= 1 << i,
            None => unknown.push(n.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(bits)
    } else {
        Err(unknown)
    }
}

/// An identity holding roles on a project that carry more than is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Narrower {
    pub identity: String,
    pub resource: String,
    pub holds: Vec<String>,
    /// Permissions held beyond the needs.
    pub extra: Vec<String>,
    pub would_do: Vec<String>,
}

/// For each (identity, project) of the universe whose authorized roles carry more than `needs`.
pub fn narrower(engine: &Engine, u: &super::Universe, needs: u64) -> Vec<Narrower> {
    let matrix = &*engine.set.matrix;
    let Some(cover) = smallest_covers(matrix, needs).into_iter().next() else {
        return Vec::new();
    };
    let cover_bits = matrix
        .roles
        .iter()
        .filter(|r| cover.iter().any(|c| **c == *r.action))
        .fold(0u64, |a, r| a | r.bits);
    let mut out = Vec::new();
    for who in &u.ovh_identities {
        for res in u
            .ovh_resources
            .iter()
            .filter(|r| r.rtype == "publicCloudProject")
            .map(|r| &r.urn)
        {
            let holds: Vec<&crate::model::matrix::Role> = matrix
                .roles
                .iter()
                .filter(|r| {
                    super::decide(
                        engine,
                        &super::Witness::new(who, &r.action, res, &super::Point::default()),
                    )
                    .is_some_and(|d| d.allowed())
                })
                .collect();
            let held = holds.iter().fold(0u64, |a, r| a | r.bits);
            if holds.is_empty()
                || held & needs != needs
                || held == cover_bits
                || held & !cover_bits == 0
            {
                continue;
            }
            let extra = matrix
                .permissions
                .iter()
                .enumerate()
                .filter(|(i, _)| (held & !cover_bits) & (1 << i) != 0)
                .map(|(_, p)| p.name.clone())
                .collect();
            out.push(Narrower {
                identity: who.label(),
                resource: res.clone(),
                holds: holds.iter().map(|r| r.action.to_string()).collect(),
                extra,
                would_do: cover.clone(),
            });
        }
    }
    out
}
