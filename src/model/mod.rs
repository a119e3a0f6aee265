//! The checked types both clouds share. Everything here was validated on the way in: evaluation never
//! re-checks shapes, and never sees serde structs.

pub mod condition;
pub mod eim;
pub mod matrix;
pub mod ovh;
pub mod pattern;
pub mod request;
pub mod urn;

use crate::source::Loc;
pub use pattern::{Pattern, Reading};

/// A pattern from a policy, how its wildcards are read, and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The pattern with its wildcards read as wildcards; shared by every spec of the same text (an
    /// account repeats the same actions and URNs across thousands of policies).
    pub pattern: std::sync::Arc<Pattern>,
    pub reading: Reading,
    /// An undocumented wildcard (the domain notes §1.3): on the granting side it is read literally, on the
    /// restricting side (except, deny) as a wildcard.
    pub literal_when_granting: bool,
    pub loc: Loc,
}

/// Which side of a decision a pattern is used on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// An allow: unknowns read narrowly.
    Grant,
    /// An except or a deny: unknowns read broadly.
    Restrict,
}

impl Spec {
    pub fn matches(&self, s: &str, side: Side) -> bool {
        if self.literal_when_granting && side == Side::Grant {
            *self.pattern.raw == *s
        } else {
            self.pattern.matches(s)
        }
    }

    /// How the pattern was read on this side, for the trace.
    pub fn reading(&self, side: Side) -> Reading {
        match (self.literal_when_granting, side) {
            (true, Side::Grant) => Reading::LiteralUnsupported,
            (true, Side::Restrict) => Reading::WildcardUnsupported,
            (false, _) => self.reading,
        }
    }

    pub fn raw(&self) -> &str {
        &self.pattern.raw
    }
}

/// Everything loaded and checked, ready to compile.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub sources: crate::source::SourceMap,
    pub matrix: std::sync::Arc<matrix::Matrix>,
    pub ovh_policies: Vec<ovh::Policy>,
    /// Shipped OVHcloud-managed groups first, then the account's own.
    pub permission_groups: Vec<ovh::PermissionsGroup>,
    pub resource_groups: Vec<ovh::ResourceGroup>,
    pub membership: ovh::Membership,
    pub eim_documents: Vec<eim::Document>,
    pub eim_account: eim::Account,
    /// Documents passed as policies, linked to no one: the caller's own when no identity is given.
    pub eim_unlinked: Vec<usize>,
    /// OVHcloud resources from a `GET /v2/iam/resource` dump (or resource groups' detailed members): who owns
    /// each, and its tags. Keyed by URN.
    pub resources: indexmap::IndexMap<Box<str>, ovh::ResourceInfo>,
    /// What the input leaves open and how it was read (a resource group no input defines, a dumped managed
    /// permission group that differs from the shipped one): printed above every answer.
    pub warnings: Vec<crate::error::Diagnostic>,
}
