//! The explanation: a [`Response`] carries the decision and a trace of every policy or statement that was
//! considered, which part matched or failed, and the pattern that did.

use indexmap::IndexMap;
use serde::Serialize;

/// allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

/// Why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ExplicitAllow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ExplicitAllow => "explicit_allow",
            Reason::ExplicitDeny => "explicit_deny",
            Reason::ImplicitDeny => "implicit_deny",
        }
    }
}

/// The fast answer: no trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Decision {
    pub decision: Verdict,
    pub reason: Reason,
}

impl Decision {
    pub const IMPLICIT_DENY: Decision = Decision {
        decision: Verdict::Deny,
        reason: Reason::ImplicitDeny,
    };
    pub const EXPLICIT_DENY: Decision = Decision {
        decision: Verdict::Deny,
        reason: Reason::ExplicitDeny,
    };
    pub const EXPLICIT_ALLOW: Decision = Decision {
        decision: Verdict::Allow,
        reason: Reason::ExplicitAllow,
    };

    pub fn allowed(self) -> bool {
        self.decision == Verdict::Allow
    }
}

/// The request as evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Echo {
    pub cloud: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub context: IndexMap<String, String>,
    pub at: String,
}

/// The full answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    pub decision: Verdict,
    pub reason: Reason,
    pub request: Echo,
    /// Context keys a condition needed and the request did not give: supply them with `--context`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_context: Vec<String>,
    pub trace: Vec<Entry>,
    /// Plain-language remarks: inferred rules, safe readings of unknowns, what was not considered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Response {
    pub fn decision(&self) -> Decision {
        Decision {
            decision: self.decision,
            reason: self.reason,
        }
    }
}

/// What kind of thing a trace entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An OVHcloud policy.
    Policy,
    /// An OUTSCALE EIM statement.
    Statement,
    /// The role matrix: which roles carry the requested permission.
    Matrix,
    /// A rule of the cloud that needs no policy (EIM root user, services EIM never covers).
    Builtin,
}

/// What an entry contributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allows,
    Denies,
    /// Considered, but it neither allows nor denies this request.
    NoEffect,
    /// Information (the matrix lookup).
    Info,
}

/// One policy, statement or rule considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub kind: Kind,
    pub outcome: Outcome,
    /// This entry decided the answer.
    pub decisive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// EIM: the statement (`#0`, with its `Sid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// How the policy reaches the identity (EIM attachment, OVHcloud group membership).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The action evaluated: the request's, or a role action when the request names a permission.
    pub action: String,
    /// The matrix row that supplies the requested permission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleRow>,
    pub checks: Vec<Check>,
}

impl Entry {
    /// An entry of `kind` with `outcome`, not decisive, naming nothing yet: set the fields that apply with
    /// `Entry { policy: ..., ..Entry::new(kind, outcome) }`.
    pub fn new(kind: Kind, outcome: Outcome) -> Entry {
        Entry {
            kind,
            outcome,
            decisive: false,
            policy: None,
            file: None,
            line: None,
            pointer: None,
            statement: None,
            via: None,
            action: String::new(),
            role: None,
            checks: Vec::new(),
        }
    }
}

/// A role and the permissions its matrix row carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRow {
    pub role: String,
    pub permission: String,
    pub service: String,
    pub row: Vec<String>,
    /// Where the matrix came from.
    pub matrix: String,
}

/// Which part of a policy a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Identity,
    Expiry,
    Resource,
    Action,
    Except,
    Deny,
    Condition,
    Group,
    Rule,
}

/// The result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Not known from the request (missing context): read on the safe side.
    Unknown,
    /// Not evaluated at all (the cloud does not evaluate it, or an earlier check failed).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub part: Part,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    pub detail: String,
    /// The rule applied here is inferred or a safe reading of an unknown, not documented behaviour.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
}

impl Check {
    pub fn new(
        part: Part,
        status: Status,
        pattern: Option<&str>,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            part,
            status,
            pattern: pattern.map(str::to_owned),
            detail: detail.into(),
            inferred: false,
        }
    }

    pub fn inferred(mut self) -> Check {
        self.inferred = true;
        self
    }
}
