//! The smallest sets of roles covering needed OpenStack permissions (an exact set cover over the matrix:
//! 11 roles, so every subset is tried), and the narrower roles that would do for identities holding more.

use serde::Serialize;

use crate::compile::Engine;
use crate::model::matrix::Matrix;

/// The least-privilege role sets whose rows together carry every needed permission: fewest permissions
/// beyond the needed ones first, then fewest roles (every subset of the matrix's roles is tried).
pub fn smallest_covers(matrix: &Matrix, needs: u64) -> Vec<Vec<String>> {
    let n = matrix.roles.len().min(20);
    let bits_of = |subset: u64| {
        matrix
            .roles
            .iter()
            .enumerate()
            .filter(|(i, _)| subset & (1 << i) != 0)
            .fold(0u64, |acc, (_, r)| acc | r.bits)
    };
    let mut best: Option<(u32, u32)> = None;
    let mut out: Vec<u64> = Vec::new();
    for subset in 1u64..(1u64 << n) {
        let bits = bits_of(subset);
        if bits & needs != needs {
            continue;
        }
        let key = ((bits & !needs).count_ones(), subset.count_ones());
        match best {
            Some(b) if key > b => continue,
            Some(b) if key == b => out.push(subset),
            _ => {
                best = Some(key);
                out.clear();
                out.push(subset);
            }
        }
    }
    out.into_iter()
        .map(|s| {
            matrix
                .roles
                .iter()
                .enumerate()
                .filter(|(i, _)| s & (1 << i) != 0)
                .map(|(_, r)| r.action.to_string())
                .collect()
        })
        .collect()
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
