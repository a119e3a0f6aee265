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

//!
//! In-process, the same as `check --openstack-policy nova glance --credentials TOKEN.json -- openstack server
//! list`, and seed 004's service of its own (`myservice:thing:list`) checked with [`Enforcer::enforce`]:
//!
//! ```
//! use policy_sim::openstack::oslo::{creds, file, load_services, Bridge, Enforcer, Options, Who};
//! use policy_sim::openstack::{Source, Target};
//!
//! // A project member's token, as Keystone's `GET /v3/auth/tokens` returns it.
//! let token = serde_json::json!({"token": {
//!     "user": {"id": "u1", "domain": {"id": "default"}},
//!     "project": {"id": "dafe2c2a6d6e4bfc9146ea975b2897e0", "domain": {"id": "default"}},
//!     "roles": [{"name": "member"}, {"name": "reader"}]}});
//! let credentials = creds::from_token(&token).unwrap();
//!
//! // An `openstack` command against the services' registered defaults.
//! let services = load_services(&["nova".into(), "glance".into()], Options::default()).unwrap();
//! let no_env = |_: &str| None;
//! let swift_operator_roles = ["admin".to_owned(), "SwiftOperator".to_owned()];
//! let bridge = Bridge {
//!     services: &services,
//!     source: Source::default(),
//!     env: &no_env,
//!     who: Who::Token { credentials: &credentials, shown: "a member's token".into() },
//!     target: None,
//!     swift_operator_roles: &swift_operator_roles,
//! };
//! let list = Target::from_args(&["openstack".into(), "server".into(), "list".into()]).unwrap();
//! assert_eq!(bridge.command(&list).unwrap().answer.allowed, Some(true));
//! // Swift's keystoneauth admits only its operator_roles: a member is refused (HTTP 403).
//! let containers = Target::from_args(&["openstack".into(), "container".into(), "list".into()]).unwrap();
//! assert_eq!(bridge.command(&containers).unwrap().answer.allowed, Some(false));
//!
//! // Seed 004: a service's own rule, on the token's own project and on another one.
//! let policy = file::read("policy.yaml",
//!     r#""myservice:thing:list": "role:reader and project_id:%(project_id)s""#).unwrap();
//! let service = Enforcer::new(Vec::new(), &[policy], Options::default());
//! let own = creds::default_target(&credentials);
//! assert!(service.enforce("myservice:thing:list", &own, &credentials).unwrap().allowed);
//! let mut other = own.clone();
//! other.insert("project_id".into(), "another-project".into());
//! assert!(!service.enforce("myservice:thing:list", &other, &credentials).unwrap().allowed);
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

use super::commands::Call;
use super::Plan;
use crate::error::Error;
pub use crate::oslo::{creds, file, load_services, Decision, Enforcer, Options, Services};

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

/// Decide every call a plan makes, for this token.
pub fn check_plan(
    services: &Services,
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
        // An answer that no oslo.policy rule gives.
        let ruleless = |allowed: Option<bool>, why: String| CallAnswer {
            call: shown.clone(),
            service: call.service.clone(),
            required,
            allowed,
            why,
            rules: Vec::new(),
        };
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
            calls.push(ruleless(Some(hit.is_some()), why));
            continue;
        }
        if call.service == "keystone" && call.method == "POST" && call.path == "/v3/auth/tokens" {
            calls.push(ruleless(Some(true), "the login: the token exists".into()));
            continue;
        }
        let path = documented_path(call);
        let Some(enforcer) = services.service(&call.service) else {
            calls.push(ruleless(
                None,
                format!(
                    "{}'s rules are not loaded: add them with `--openstack-policy {}`",
                    call.service, call.service
                ),
            ));
            continue;
        };
        let names: Vec<&str> = enforcer
            .registered()
            .values()
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
            calls.push(ruleless(
                None,
                format!(
                    "no rule of {} documents `{} {path}`",
                    call.service, call.method
                ),
            ));
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

/// Who runs the commands: a token body, or roles on the login of the configuration.
#[derive(Debug, Clone)]
pub enum Who<'a> {
    /// `--credentials TOKEN.json`: the token decides, whatever the login.
    Token {
        credentials: &'a Map<String, Value>,
        shown: String,
    },
    /// `--roles reader,member`: these roles (with Keystone's implied roles) through the configured login.
    Roles(&'a [String]),
}

/// A command's answer with its caller.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answered {
    #[serde(flatten)]
    pub answer: CommandAnswer,
    pub caller: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub login: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The bridge on any Keystone cloud: the rules, where the login is configured, who calls, on what.
pub struct Bridge<'a> {
    /// The rules of each loaded service.
    pub services: &'a Services,
    pub source: super::Source<'a>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub who: Who<'a>,
    /// `--target`: the same target for every call; else the caller's own user and project.
    pub target: Option<&'a Map<String, Value>>,
    pub swift_operator_roles: &'a [String],
}

impl Bridge<'_> {
    fn answer(&self, plan: &Plan, overrides: &super::Overrides) -> Result<Answered, Error> {
        let caller = match &self.who {
            Who::Token { credentials, shown } => super::login::Caller {
                credentials: (*credentials).clone(),
                who: shown.clone(),
                login: String::new(),
                notes: Vec::new(),
            },
            Who::Roles(roles) => {
                let settings = super::settings_with(&self.source, self.env, overrides)?;
                super::login::caller_with_roles(&settings, roles)?
            }
        };
        let target = match self.target {
            Some(t) => t.clone(),
            None => crate::oslo::creds::default_target(&caller.credentials),
        };
        let answer = check_plan(
            self.services,
            plan,
            &caller.credentials,
            &target,
            self.swift_operator_roles,
        )
        .map_err(|e| {
            Error::Usage(format!(
                "cannot decide `{}`: {e}; the service would fail the request (HTTP 500)",
                plan.title
            ))
        })?;
        Ok(Answered {
            answer,
            caller: caller.who,
            login: caller.login,
            notes: caller.notes,
        })
    }

    /// One command (`openstack server list`, an API call, an SDK call).
    pub fn command(&self, target: &super::Target) -> Result<Answered, Error> {
        let plan = super::plan(target)?;
        let overrides = super::command_overrides(&plan);
        self.answer(&plan, &overrides)
    }

    /// Every `openstack` line of a shell script, each with the login in force on its line.
    pub fn script(&self, text: &str) -> Vec<super::Line<Answered>> {
        super::script_with(text, |plan, overrides| self.answer(plan, overrides))
    }
}
