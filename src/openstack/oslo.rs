//! The OpenStack bridge on any Keystone cloud: an `openstack` command's API calls (the command catalogue) →
//! the oslo.policy rules whose documented operations match each call (method and path template from the
//! services' registered defaults) → each rule evaluated for the caller's token.
//!
//! Object storage is not oslo.policy: Swift's keystoneauth middleware admits a token holding one of its
//! `operator_roles` (compared case-insensitively; upstream default `admin, SwiftOperator`; many clouds add
//! `member`). Keystone's own login call needs no rule: the token exists.
//!
//! A call may match several rules of its service; only the rules of the call's service count. The service
//! applies one of them to every request and the others only for some (an option, an attribute, a field of
//! the response). Which one is not in the data, so it is read from the names: a rule others extend
//! (`os_compute_api:servers:create` for `...:create:forced_host`, `create_network` for
//! `create_network:shared`) is the one always applied; when none is extended, every rule that extends no other
//! is required, those named after a plain verb (`index`, `detail`, `create`, ...) first. The others are reported as conditional, with their answer, but decide nothing.

use serde::Serialize;
use serde_json::{Map, Value};

use super::commands::Call;
use super::Plan;
use crate::oslo::{Decision, Enforcer};

/// Swift keystoneauth's upstream default `operator_roles`.
pub const SWIFT_OPERATOR_ROLES: &[&str] = &["admin", "SwiftOperator"];

/// One rule applied to a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleAnswer {
    pub rule: String,
    /// Applied only when the request asks for an option (not required).
    pub conditional: bool,
    pub decision: Decision,
}

/// One call of the command and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallAnswer {
    /// `GET /v2.1/servers/detail`.
    pub call: String,
    pub service: String,
    /// The command fails when this call is refused.
    pub required: bool,
    /// `Some(true)` allowed, `Some(false)` refused (HTTP 403), `None` unknown (no loaded rule guards it).
    pub allowed: Option<bool>,
    pub why: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleAnswer>,
}

/// The answer for a whole command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandAnswer {
    pub command: String,
    /// `Some(true)` every required call is allowed; `Some(false)` one is refused; `None` one is unknown.
    pub allowed: Option<bool>,
    pub calls: Vec<CallAnswer>,
}

/// The path as the service's policy documents it: nova, cinder and neutron document paths without the API
/// version (and cinder without the project); glance and keystone with it.
fn documented_path(call: &Call) -> String {
    let p = call.path.as_str();
    let stripped = match call.service.as_str() {
        "nova" => p.strip_prefix("/v2.1").or_else(|| p.strip_prefix("/v2")),
        "cinder" => p
            .strip_prefix("/v3/{project_id}")
            .or_else(|| p.strip_prefix("/v2/{project_id}")),
        "neutron" => p.strip_prefix("/v2.0"),
        _ => None,
    };
    let path = stripped.unwrap_or(p);
    match &call.body {
        Some(b) => format!("{path} ({b})"),
        None => path.to_owned(),
    }
}

/// Two path templates name the same operation: literal segments equal, placeholders match placeholders.
fn same_template(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<String> {
        s.trim_end_matches('/')
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "{}".to_owned()
                } else {
                    seg.to_owned()
                }
            })
            .collect()
    };
    let (a, b) = (a.replace(" (", "/("), b.replace(" (", "/("));
    norm(&a) == norm(&b)
}

/// The shipped service that registers `name`, if any.
fn owner(name: &str) -> Option<String> {
    static OWNERS: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    OWNERS
        .get_or_init(|| {
            crate::oslo::defaults::all_names()
                .unwrap_or_default()
                .into_iter()
                .map(|(service, rule)| (rule, service))
                .collect()
        })
        .get(name)
        .cloned()
}

/// Decide every call a plan makes, for this token.
pub fn check_plan(
    enforcer: &Enforcer,
    plan: &Plan,
    creds: &Map<String, Value>,
    target: &Map<String, Value>,
    swift_operator_roles: &[String],
) -> Result<CommandAnswer, crate::oslo::eval::Raised> {
    let mut calls = Vec::new();
    for planned in plan.calls.iter().filter(|p| p.made) {
        let call = &planned.call;
        let required = planned.required();
        let shown = call.display();
        if call.service == "swift" {
            let roles: Vec<String> = match creds.get("roles") {
                Some(Value::Array(rs)) => rs
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect(),
                _ => Vec::new(),
            };
            let hit = swift_operator_roles
                .iter()
                .find(|r| roles.contains(&r.to_lowercase()));
            let why = match hit {
                Some(r) => format!("Swift's keystoneauth admits the operator role `{r}`"),
                None => format!(
                    "Swift's keystoneauth admits only its operator_roles ({}); the token has none: HTTP 403",
                    swift_operator_roles.join(", ")
                ),
            };
            calls.push(CallAnswer {
                call: shown,
                service: call.service.clone(),
                required,
                allowed: Some(hit.is_some()),
                why,
                rules: Vec::new(),
            });
            continue;
        }
        if call.service == "keystone" && call.method == "POST" && call.path == "/v3/auth/tokens" {
            calls.push(CallAnswer {
                call: shown,
                service: call.service.clone(),
                required,
                allowed: Some(true),
                why: "the login: the token exists".into(),
                rules: Vec::new(),
            });
            continue;
        }
        let path = documented_path(call);
        let names: Vec<&str> = enforcer
            .registered()
            .values()
            .filter(|r| owner(&r.name).is_none_or(|s| s == call.service))
            .filter(|r| {
                r.operations
                    .iter()
                    .any(|o| o.method == call.method && same_template(&o.path, &path))
            })
            .map(|r| r.name.as_str())
            .collect();
        let extends = |a: &str, b: &str| a != b && a.starts_with(&format!("{b}:"));
        let roots: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !names.iter().any(|o| extends(n, o)))
            .collect();
        let extended: Vec<&str> = roots
            .iter()
            .copied()
            .filter(|r| names.iter().any(|n| extends(n, r)))
            .collect();
        let mut primary = if extended.is_empty() { roots } else { extended };
        // Several left: prefer the ones named after a plain CRUD verb (`servers:detail` over
        // `servers:show:host_status`, whose last part names a field).
        let crud = |n: &&str| {
            let last = n.rsplit(':').next().unwrap_or_default();
            [
                "index", "detail", "list", "show", "get", "create", "update", "delete",
            ]
            .contains(&last)
                || last.starts_with("get_")
                || last.starts_with("create_")
                || last.starts_with("update_")
                || last.starts_with("delete_")
        };
        if primary.len() > 1 && primary.iter().any(crud) {
            primary.retain(crud);
        }
        if names.is_empty() {
            calls.push(CallAnswer {
                call: shown,
                service: call.service.clone(),
                required,
                allowed: None,
                why: format!(
                    "no loaded rule documents `{} {path}`: load {}'s defaults with --openstack-policy {}",
                    call.method, call.service, call.service
                ),
                rules: Vec::new(),
            });
            continue;
        }
        let mut rules = Vec::new();
        for name in &names {
            let conditional = !primary.contains(name);
            let decision = enforcer.enforce(name, target, creds)?;
            rules.push(RuleAnswer {
                rule: (*name).to_owned(),
                conditional,
                decision,
            });
        }
        let refused: Vec<&RuleAnswer> = rules
            .iter()
            .filter(|r| !r.conditional && !r.decision.allowed)
            .collect();
        let allowed = refused.is_empty();
        let why = match refused.first() {
            None => format!(
                "allowed by {}",
                rules
                    .iter()
                    .filter(|r| !r.conditional)
                    .map(|r| format!("`{}`", r.rule))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(r) => format!("refused by `{}` (HTTP 403): {}", r.rule, r.decision.reason),
        };
        calls.push(CallAnswer {
            call: shown,
            service: call.service.clone(),
            required,
            allowed: Some(allowed),
            why,
            rules,
        });
    }
    let required: Vec<&CallAnswer> = calls.iter().filter(|c| c.required).collect();
    let allowed = if required.iter().any(|c| c.allowed == Some(false)) {
        Some(false)
    } else if required.iter().any(|c| c.allowed.is_none()) {
        None
    } else {
        Some(true)
    };
    Ok(CommandAnswer {
        command: plan.title.clone(),
        allowed,
        calls,
    })
}
