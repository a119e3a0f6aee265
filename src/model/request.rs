//! A request: may identity X do action Y on resource Z, in this context, at this time?

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A request as the user gives it (command line or one `--requests` line); checked by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub context: IndexMap<String, String>,
    /// RFC 3339; the engine's default time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Request {
    pub fn new(identity: Option<&str>, action: &str, resource: Option<&str>) -> Self {
        Request {
            identity: identity.map(str::to_owned),
            action: action.to_owned(),
            resource: resource.map(str::to_owned),
            context: IndexMap::new(),
            at: None,
        }
    }
}
