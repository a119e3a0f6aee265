//! The smallest sets of roles that allow a command: every permission its required calls need is carried by
//! some role of the set (the role matrix, the domain notes §1.7).

use crate::error::Error;
use crate::model::matrix::Matrix;

use super::commands::ANY_ROLE;

/// The answer of `roles --for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The permissions needed, in matrix order (`any_openstack_role` last).
    pub needed: Vec<String>,
    /// Each smallest set of role actions, in matrix order; empty when nothing is needed.
    pub sets: Vec<Vec<String>>,
}

/// Every set of roles of the smallest size that carries all of `needed`.
pub fn smallest(matrix: &Matrix, needed: &[String]) -> Result<Cover, Error> {
    let mut want: u64 = 0;
    let mut any_role = false;
    for p in needed {
        if p == ANY_ROLE {
            any_role = true;
            continue;
        }
        let i = matrix
            .permission_index(p)
            .ok_or_else(|| Error::Usage(format!("the role matrix has no permission `{p}`")))?;
        want |= 1 << i;
    }
    let roles = &matrix.roles;
    let openstack: Vec<bool> = roles
        .iter()
        .map(|r| r.action.starts_with("publicCloudProject:openstack:"))
        .collect();
    let n = roles.len().min(20);
    let mut best: Option<u32> = None;
    let mut sets: Vec<Vec<String>> = Vec::new();
    for mask in 1u32..(1u32 << n) {
        let size = mask.count_ones();
        if best.is_some_and(|b| size > b) {
            continue;
        }
        let mut bits = 0u64;
        let mut has_openstack = false;
        for (i, r) in roles.iter().enumerate().take(n) {
            if mask & (1 << i) != 0 {
                bits |= r.bits;
                has_openstack |= openstack.get(i).copied().unwrap_or(false);
            }
        }
        if bits & want != want || (any_role && !has_openstack) {
            continue;
        }
        if best.is_none_or(|b| size < b) {
            best = Some(size);
            sets.clear();
        }
        sets.push(
            roles
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, r)| r.action.to_string())
                .collect(),
        );
    }
    // Smaller sets first, then matrix order (masks ascend with the first role's index reversed: sort).
    let order = |s: &Vec<String>| -> Vec<usize> {
        s.iter()
            .filter_map(|a| roles.iter().position(|r| *r.action == **a))
            .collect()
    };
    sets.sort_by_key(order);
    let mut needed_sorted: Vec<String> = matrix
        .permissions
        .iter()
        .filter(|p| needed.contains(&p.name))
        .map(|p| p.name.clone())
        .collect();
    if any_role {
        needed_sorted.push(String::from(ANY_ROLE));
    }
    if want == 0 && !any_role {
        sets.clear();
    }
    Ok(Cover {
        needed: needed_sorted,
        sets,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn server_create_needs_compute_operator_or_administrator() {
        let m = crate::validate::builtin_matrix().unwrap();
        let need: Vec<String> = [
            "compute_manage",
            "compute_read",
            "image_read",
            "network_read",
            "network_secgroup_read",
        ]
        .map(String::from)
        .to_vec();
        let c = smallest(&m, &need).unwrap();
        assert_eq!(
            c.sets,
            [
                vec![String::from("publicCloudProject:openstack:administrator")],
                vec![String::from("publicCloudProject:openstack:computeOperator")]
            ]
        );
        let c = smallest(
            &m,
            &[
                String::from("compute_manage"),
                String::from("objectstore_all"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.sets,
            [vec![String::from(
                "publicCloudProject:openstack:administrator"
            )]]
        );
    }
}
