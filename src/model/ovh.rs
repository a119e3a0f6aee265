//! OVHcloud IAM (the domain notes §1): policies, permission groups, resource groups, local-user group membership.

use std::hash::BuildHasherDefault;

use indexmap::IndexMap;

use super::condition::Condition;
use super::pattern::FxHasher;
use super::Spec;
use crate::source::Loc;

/// `permissions` (of a policy or of a permission group): `allow` minus `except` is granted within this
/// scope only; `deny` wins everywhere. The lists of a policy are boxed slices (no spare capacity, one
/// word less than a `Vec`): a model of 100k policies is held for the whole run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Permissions {
    pub allow: Box<[Spec]>,
    pub except: Box<[Spec]>,
    pub deny: Box<[Spec]>,
}

/// A `resources[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceEntry {
    /// A resource URN, with a trailing `*` maybe.
    Pattern(Spec),
    /// A resource group: its member URNs, resolved at load.
    Group {
        urn: Box<str>,
        loc: Loc,
        group: usize,
    },
}

/// A checked OVHcloud policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: Box<str>,
    pub id: Option<Box<str>>,
    pub loc: Loc,
    pub read_only: bool,
    /// The account that owns the policy (server-set `owner`), when the dump has it.
    pub owner: Option<std::sync::Arc<str>>,
    /// Exact identity URNs (identities take no wildcards), shared between the policies naming them.
    pub identities: Box<[(std::sync::Arc<str>, Loc)]>,
    pub resources: Box<[ResourceEntry]>,
    pub permissions: Permissions,
    /// `permissionsGroups`: indices into the set's permission groups.
    pub groups: Box<[(usize, Loc)]>,
    /// Boxed, as few policies have one: a policy stays small.
    pub conditions: Option<Box<(Condition, Loc)>>,
    pub expired_at: Option<Box<(jiff::Timestamp, Loc)>>,
}

/// A permission group: OVHcloud-managed (shipped) or the account's own.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionsGroup {
    /// The URN as written, trimmed of surrounding white space (one shipped URN has a trailing space).
    pub urn: Box<str>,
    pub name: Box<str>,
    /// Where it was defined; for shipped groups, the embedded catalogue.
    pub loc: Loc,
    pub permissions: Permissions,
}

/// A resource group (`GET /v2/iam/resourceGroup?details=true`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceGroup {
    pub urn: Box<str>,
    pub name: Box<str>,
    pub loc: Loc,
    pub members: Vec<Box<str>>,
    /// Whether `members` is the whole group. It is not when no input defines the group, or when the dump
    /// lists members by `id` only (without `?details=true`): then an allow on the group grants nothing and a
    /// deny on it covers every resource (the safe reading).
    pub known: bool,
    /// The account that owns the group (`owner`), when the dump says.
    pub owner: Option<std::sync::Arc<str>>,
}

impl ResourceGroup {
    /// Whether the group holds `resource`, read on `side`: an unknown group holds nothing when granting
    /// and everything when restricting.
    pub fn holds(&self, resource: &str, side: super::Side) -> bool {
        if !self.known {
            return side == super::Side::Restrict;
        }
        self.members.iter().any(|m| **m == *resource)
    }
}

/// A resource as `GET /v2/iam/resource` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceInfo {
    /// The account that owns it.
    pub owner: Option<std::sync::Arc<str>>,
    /// `tags`: the values of `resource.Tag(name)` conditions.
    pub tags: IndexMap<String, String>,
    pub loc: Option<Loc>,
}

/// Local users' groups, from an account file: user URN → group URN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Membership {
    /// Fx-hashed: looked up for every request of a user.
    pub user_group: IndexMap<Box<str>, (Box<str>, Loc), BuildHasherDefault<FxHasher>>,
    /// Every group URN the account files make known (a user's group, or a `groups` entry), members or not.
    pub groups: Vec<Box<str>>,
    /// Service-account identity URNs of the account files' `oauth2Clients`.
    pub service_accounts: Vec<Box<str>>,
    /// The accounts (`urn:v1:{region}:identity:account:{nic}`) the account files describe.
    pub accounts: Vec<Box<str>>,
}
