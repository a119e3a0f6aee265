//! OUTSCALE EIM (the domain notes §2): policy documents, users, groups, managed and inline policies.

use indexmap::IndexMap;

use super::Spec;
use crate::source::Loc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `NotAction`, or `Resource` / `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub negated: bool,
    pub patterns: Vec<Spec>,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<Box<str>>,
    pub effect: Effect,
    pub actions: Clause,
    pub resources: Clause,
    /// A `Condition` block: parsed as JSON, never evaluated as true (the domain notes §2.1).
    pub condition: Option<Loc>,
    pub loc: Loc,
}

/// A policy document: `{"Version"?, "Statement": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The policy's name (managed or inline), or the file name of a bare document.
    pub name: Box<str>,
    pub loc: Loc,
    pub statements: Vec<Statement>,
}

/// How a document reaches a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// A bare document evaluated as the caller's own.
    Caller,
    UserInline {
        user: Box<str>,
    },
    UserManaged {
        user: Box<str>,
        policy: Box<str>,
        version: Box<str>,
    },
    GroupInline {
        group: Box<str>,
    },
    GroupManaged {
        group: Box<str>,
        policy: Box<str>,
        version: Box<str>,
    },
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Caller => f.write_str("evaluated as the caller's own policy"),
            Via::UserInline { user } => write!(f, "inline policy of user `{user}`"),
            Via::UserManaged {
                user,
                policy,
                version,
            } => write!(
                f,
                "managed policy `{policy}` (default version {version}) linked to user `{user}`"
            ),
            Via::GroupInline { group } => write!(f, "inline policy of group `{group}`"),
            Via::GroupManaged {
                group,
                policy,
                version,
            } => {
                write!(f, "managed policy `{policy}` (default version {version}) linked to group `{group}`")
            }
        }
    }
}

/// A managed policy: only its default version counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedPolicy {
    pub name: Box<str>,
    pub orn: Option<Box<str>>,
    pub default_version: Box<str>,
    /// Index of the default version's document.
    pub document: usize,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub name: Box<str>,
    pub loc: Loc,
    /// Group names.
    pub groups: Vec<Box<str>>,
    /// Managed policy names.
    pub linked: Vec<(Box<str>, Loc)>,
    /// Document indices.
    pub inline: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: Box<str>,
    pub loc: Loc,
    pub linked: Vec<(Box<str>, Loc)>,
    pub inline: Vec<usize>,
}

/// An EIM account: who is linked to what.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    pub account_id: Option<Box<str>>,
    pub users: IndexMap<Box<str>, User>,
    pub groups: IndexMap<Box<str>, Group>,
    pub policies: IndexMap<Box<str>, ManagedPolicy>,
}

/// Services EIM users can never use, whatever their policies (the domain notes §2.2).
pub const NEVER_FOR_EIM_USERS: [&str; 3] = ["oos", "icu", "oks"];
