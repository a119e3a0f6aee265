//! The least-privilege sets of roles that carry needed permissions: an exact search over the role matrix
//! (a dozen roles, so every subset is tried), shared by `roles --for` and `audit roles`.

use crate::error::Error;
use crate::model::matrix::Matrix;

use super::commands::ANY_ROLE;

/// The answer of `roles --for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// The permissions needed, in matrix order (`any_openstack_role` last).
    pub needed: Vec<String>,
    /// Each least-privilege set of role actions, in matrix order; empty when nothing is needed.
    pub sets: Vec<Vec<String>>,
}

/// The role sets whose rows together carry every permission of `want` (and, with `any_role`, at least one
/// OpenStack role): those granting the fewest permissions beyond `want` first, among them the fewest roles.
/// Only the best sets are returned, each in matrix order, the sets sorted by their roles' matrix positions.
pub fn least_privilege(matrix: &Matrix, want: u64, any_role: bool) -> Vec<Vec<String>> {
    let roles = &matrix.roles;
    let n = roles.len().min(20);
    let mut best: Option<(u32, u32)> = None;
    let mut masks: Vec<u32> = Vec::new();
    for mask in 1u32..(1u32 << n) {
        let mut bits = 0u64;
        let mut has_openstack = false;
        for (i, r) in roles.iter().enumerate().take(n) {
            if mask & (1 << i) != 0 {
                bits |= r.bits;
                has_openstack |= r.action.starts_with("publicCloudProject:openstack:");
            }
        }
        if bits & want != want || (any_role && !has_openstack) {
            continue;
        }
        let key = ((bits & !want).count_ones(), mask.count_ones());
        match best {
            Some(b) if key > b => {}
            Some(b) if key == b => masks.push(mask),
            _ => {
                best = Some(key);
                masks.clear();
                masks.push(mask);
            }
        }
    }
    let positions =
        |mask: &u32| -> Vec<usize> { (0..n).filter(|i| mask & (1 << i) != 0).collect() };
    masks.sort_by_key(positions);
    masks
        .iter()
        .map(|mask| {
            roles
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, r)| r.action.to_string())
                .collect()
        })
        .collect()
}

/// The least-privilege role sets that carry all of `needed` (permission names, `any_openstack_role` among
/// them when any OpenStack role will do).
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
    let mut needed_sorted: Vec<String> = matrix
        .permissions
        .iter()
        .filter(|p| needed.contains(&p.name))
        .map(|p| p.name.clone())
        .collect();
    if any_role {
        needed_sorted.push(String::from(ANY_ROLE));
    }
    let sets = if want == 0 && !any_role {
        Vec::new()
    } else {
        least_privilege(matrix, want, any_role)
    };
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
    fn server_create_needs_compute_operator_the_least_privileged() {
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
        // administrator carries them too, with 9 permissions more; computeOperator with 2.
        assert_eq!(
            c.sets,
            [vec![String::from(
                "publicCloudProject:openstack:computeOperator"
            )]]
        );
        let c = smallest(
            &m,
            &[
                String::from("compute_manage"),
                String::from("objectstore_all"),
            ],
        )
        .unwrap();
        // Two roles with 6 permissions more beat administrator alone with 12.
        assert_eq!(
            c.sets,
            [vec![
                String::from("publicCloudProject:openstack:computeOperator"),
                String::from("publicCloudProject:openstack:objectstoreOperator")
            ]]
        );
    }
}
