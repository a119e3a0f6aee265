//! The OVHcloud actions that let an identity raise its own access (PS130), derived from the shipped action
//! catalogue (`policies/ovh-actions.tsv`, built from the API schemas' `x-iam-actions`) rather than typed
//! out: an action is an escalation action when one of the API operations that need it writes under one of
//! a few documented API paths (IAM policies, permission groups, resource groups, local users and groups,
//! the identity provider, service accounts and API credentials). A new action the API adds under these
//! paths is covered when the catalogue is regenerated.

use std::sync::OnceLock;

/// The shipped catalogue, as the loader embeds it (action, resource type, `;`-separated operations).
const CATALOGUE: &str = include_str!("../../policies/ovh-actions.tsv");

/// API path prefixes whose writes raise access, with what they manage. A path matches the prefix itself
/// or below it (`/iam/policy`, `/iam/policy/{policyId}`), not a longer name (`/iam/policyX`).
/// These are the write operations of the OVHcloud API reference's `/v2/iam`, `/me/identity` and `/me/api`
/// sections that create or change who may do what (https://eu.api.ovh.com/console/).
pub const PATHS: &[(&str, &str)] = &[
    ("/iam/policy", "IAM policies"),
    ("/iam/permissionsGroup", "permission groups"),
    ("/iam/resourceGroup", "resource groups"),
    ("/me/identity/user", "local users and their tokens"),
    ("/me/identity/group", "user groups"),
    ("/me/identity/provider", "the identity provider (SSO)"),
    ("/me/api/oauth2/client", "service accounts"),
    ("/me/api/credential", "API credentials"),
];

/// One escalation action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    pub action: &'static str,
    /// What it manages: the second element of the [`PATHS`] entry that matched.
    pub manages: &'static str,
}

/// Whether an operation (`POST /iam/policy`) writes under a path of [`PATHS`]; returns what it manages.
/// Creating and editing (`POST`, `PUT`, `PATCH`) count everywhere; deleting counts for policies only,
/// since deleting a policy can remove a deny that held the identity back.
pub fn escalating_operation(operation: &str) -> Option<&'static str> {
    let (method, path) = operation.trim().split_once(' ')?;
    PATHS.iter().find_map(|(prefix, manages)| {
        let under = path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        let writes = matches!(method, "POST" | "PUT" | "PATCH")
            || (method == "DELETE" && *prefix == "/iam/policy");
        (under && writes).then_some(*manages)
    })
}

/// Every escalation action of the catalogue, in catalogue order.
pub fn ovh_actions() -> &'static [Escalation] {
    static ACTIONS: OnceLock<Vec<Escalation>> = OnceLock::new();
    ACTIONS.get_or_init(|| {
        CATALOGUE
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let action = fields.next()?;
                let operations = fields.nth(1)?;
                let manages = operations.split(';').find_map(escalating_operation)?;
                Some(Escalation { action, manages })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions() -> Vec<&'static str> {
        ovh_actions().iter().map(|e| e.action).collect()
    }

    #[test]
    fn the_known_escalation_actions_are_found() {
        let found = actions();
        for known in [
            "account:apiovh:iam/policy/create",
            "account:apiovh:iam/policy/edit",
            "account:apiovh:iam/policy/delete",
            "account:apiovh:iam/permissionsGroup/create",
            "account:apiovh:iam/permissionsGroup/edit",
            "account:apiovh:iam/resourceGroup/create",
            "account:apiovh:iam/resourceGroup/edit",
            "account:apiovh:me/identity/user/create",
            "account:apiovh:me/identity/user/edit",
            "account:apiovh:me/identity/user/token/create",
            "account:apiovh:me/identity/group/create",
            "account:apiovh:me/identity/group/edit",
            "account:apiovh:me/identity/provider/create",
            "account:apiovh:me/api/oauth2/client/create",
            "account:apiovh:me/api/oauth2/client/edit",
            "account:apiovh:me/api/credential/edit",
        ] {
            assert!(found.contains(&known), "{known} is an escalation action");
        }
    }

    #[test]
    fn reading_and_unrelated_actions_are_not() {
        let found = actions();
        for not in [
            "account:apiovh:iam/policy/get",
            "account:apiovh:iam/permissionsGroup/delete",
            "account:apiovh:me/identity/user/get",
            "account:apiovh:me/api/oauth2/client/get",
            "account:apiovh:iam/log/subscription/create",
            "account:apiovh:me/api/log/subscription/create",
            "ldp:apiovh:output/graylog/stream/forwardTo",
            "vps:apiovh:reboot",
        ] {
            assert!(!found.contains(&not), "{not} is not an escalation action");
        }
        // Every one is catalogued, and the list is small: a handful of paths, not the whole `account:`.
        let catalogue = crate::load::actions::catalogue();
        assert!(found.iter().all(|a| catalogue.ovh.contains(a)));
        assert!((20..60).contains(&found.len()), "{} actions", found.len());
    }

    #[test]
    fn a_path_matches_at_a_segment_boundary() {
        assert_eq!(
            escalating_operation("POST /iam/policy"),
            Some("IAM policies")
        );
        assert_eq!(
            escalating_operation("PUT /iam/policy/{policyId}"),
            Some("IAM policies")
        );
        assert_eq!(escalating_operation("POST /iam/policyX"), None);
        assert_eq!(escalating_operation("GET /iam/policy"), None);
        assert_eq!(
            escalating_operation("DELETE /iam/policy/{policyId}"),
            Some("IAM policies")
        );
        assert_eq!(
            escalating_operation("DELETE /me/identity/user/{user}"),
            None
        );
    }
}
