//! `lint` for oslo.policy files: what oslo.policy accepts silently but almost never means.
//!
//! | code | level | finding |
//! |---|---|---|
//! | `OSLO001` | error | a rule oslo.policy cannot parse (it reads it, or the piece, as `!`), located at line:column |
//! | `OSLO002` | error | `rule:NAME` where nothing defines NAME (oslo.policy silently uses the `default` rule) |
//! | `OSLO003` | warning | an override that allows a token the registered default denies (`@`, a role dropped) |
//! | `OSLO004` | warning | a rule name no shipped service registers and no rule references, with "did you mean" |
//!
//! "Broader" is decided semantically, not by reading the text: the default and the override are both evaluated
//! for a small universe of tokens — each of `reader`, `member`, `manager`, `admin` with the roles Keystone's
//! default implied roles add (admin → manager → member → reader), in project, domain and system scope — on
//! the token's own project and on another one; any token the override admits and the default refuses is named.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::defaults;
use super::enforcer::{Enforcer, Options, RuleDefault};
use super::file::{PolicyFile, RuleText};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Warning,
    Error,
}

/// One finding, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The rule the finding is about.
    pub rule: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Lint one policy file against the shipped defaults of the services its rule names belong to.
pub fn lint(file: &PolicyFile) -> Result<Vec<Finding>, String> {
    // Every shipped rule, for "did you mean"; the semantics use only the services the file's names belong to
    // (a glance `default` rule must not answer for a nova file).
    let mut shipped: IndexMap<String, (String, RuleDefault)> = IndexMap::new();
    for service in defaults::SERVICES {
        if let Some(s) = defaults::service(service)? {
            for r in s.rules {
                shipped
                    .entry(r.name.clone())
                    .or_insert_with(|| ((*service).to_owned(), r));
            }
        }
    }
    let owners: Vec<String> = file
        .rules
        .iter()
        .filter_map(|r| shipped.get(&r.name).map(|(s, _)| s.clone()))
        .collect();
    let mut registered: IndexMap<String, (String, RuleDefault)> = IndexMap::new();
    for service in defaults::SERVICES
        .iter()
        .filter(|s| owners.iter().any(|o| o == *s))
    {
        if let Some(s) = defaults::service(service)? {
            for r in s.rules {
                registered.insert(r.name.clone(), ((*service).to_owned(), r));
            }
        }
    }
    let all: Vec<RuleDefault> = registered.values().map(|(_, d)| d.clone()).collect();
    let base = Enforcer::new(all.clone(), &[], Options::default());
    let changed = Enforcer::new(all, std::slice::from_ref(file), Options::default());
    let mut out = Vec::new();
    // A reference to a rule any shipped service registers is not flagged: the file may be a service's
    // whose own names are all misspelt (OSLO004 says so).
    let defined = |name: &str| {
        file.rules.iter().any(|r| r.name == name)
            || registered.contains_key(name)
            || shipped.contains_key(name)
    };
    let referenced: Vec<&str> = file
        .rules
        .iter()
        .flat_map(|r| r.parsed.check.references())
        .collect();
    for r in &file.rules {
        let (line, col) = r.value_at;
        let here = |offset: usize| (line, col + offset.saturating_sub(1));
        for note in &r.parsed.notes {
            let (l, c) = here(note.column);
            out.push(finding(
                "OSLO001",
                Level::Error,
                file,
                (l, c),
                &r.name,
                note.message.clone(),
                None,
            ));
        }
        for name in r.parsed.check.references() {
            if defined(name) {
                continue;
            }
            let offset = match &r.text {
                RuleText::Text(t) => t
                    .find(&format!("rule:{name}"))
                    .map(|b| t.get(..b).unwrap_or_default().chars().count() + 1),
                _ => None,
            };
            let fallback = if defined("default") {
                "oslo.policy silently uses the `default` rule instead"
            } else {
                "with no `default` rule, the check is false"
            };
            let names: Vec<&str> = file
                .rules
                .iter()
                .map(|x| x.name.as_str())
                .chain(registered.keys().map(String::as_str))
                .collect();
            let help =
                crate::load::closest(name, &names).map(|c| format!("did you mean `rule:{c}`?"));
            out.push(finding(
                "OSLO002",
                Level::Error,
                file,
                here(offset.unwrap_or(1)),
                &r.name,
                format!("`rule:{name}` names a rule nothing defines; {fallback}"),
                help,
            ));
        }
        match registered.get(&r.name).or_else(|| shipped.get(&r.name)) {
            Some((service, default)) => {
                if let Some(example) = broader(&r.name, &base, &changed) {
                    out.push(finding(
                        "OSLO003",
                        Level::Warning,
                        file,
                        r.value_at,
                        &r.name,
                        format!(
                            "this override of {service}'s `{}` = `{}` is broader than the default: it allows {example}, which the default denies",
                            r.name, default.check_str
                        ),
                        Some("if that is intended, say so in a comment; otherwise keep the default's roles".into()),
                    ));
                }
            }
            None if !referenced.contains(&r.name.as_str()) && r.name != "default" => {
                let names: Vec<&str> = shipped.keys().map(String::as_str).collect();
                let help = crate::load::closest(&r.name, &names).map(|c| {
                    let service = shipped.get(c).map(|(s, _)| s.as_str()).unwrap_or_default();
                    format!("did you mean `{c}` ({service})?")
                });
                out.push(finding(
                    "OSLO004",
                    Level::Warning,
                    file,
                    r.key_at,
                    &r.name,
                    format!("`{}` is no rule nova, glance, cinder, neutron or keystone registers, and no rule here references it: a service never asks for it", r.name),
                    help,
                ));
            }
            None => {}
        }
    }
    out.sort_by_key(|f| (f.line, f.column));
    Ok(out)
}

fn finding(
    code: &'static str,
    level: Level,
    file: &PolicyFile,
    (line, column): (usize, usize),
    rule: &str,
    message: String,
    help: Option<String>,
) -> Finding {
    Finding {
        code,
        level,
        file: file.name.clone(),
        line,
        column,
        rule: rule.to_owned(),
        message,
        help,
    }
}

/// A token the file's rules allow `name` for and the registered defaults do not, described; `None` if there is
/// none in the universe.
fn broader(name: &str, base: &Enforcer, changed: &Enforcer) -> Option<String> {
    let ladder = ["reader", "member", "manager", "admin"];
    for (i, top) in ladder.iter().enumerate() {
        let roles: Vec<Value> = ladder
            .iter()
            .take(i + 1)
            .map(|r| json!({"id": r, "name": r}))
            .collect();
        for scope in ["project", "domain", "system"] {
            let mut token =
                json!({"user": {"id": "u1", "domain": {"id": "default"}}, "roles": roles});
            let scoped = match scope {
                "project" => json!({"id": "p1", "domain": {"id": "default"}}),
                "domain" => json!({"id": "default"}),
                _ => json!({"all": true}),
            };
            if let Some(obj) = token.as_object_mut() {
                obj.insert(scope.into(), scoped);
            }
            let Ok(creds) = super::creds::from_token(&json!({ "token": token })) else {
                continue;
            };
            for (whose, project) in [("its own project", "p1"), ("another project", "p2")] {
                let mut target = Map::new();
                for key in ["project_id", "target.project.id"] {
                    target.insert(key.into(), Value::String(project.into()));
                }
                for key in ["user_id", "target.user.id"] {
                    target.insert(
                        key.into(),
                        Value::String(if project == "p1" { "u1" } else { "u2" }.into()),
                    );
                }
                for key in ["domain_id", "target.domain.id", "target.domain_id"] {
                    target.insert(
                        key.into(),
                        Value::String(if project == "p1" { "default" } else { "d2" }.into()),
                    );
                }
                let allows = |e: &Enforcer| {
                    e.enforce(name, &target, &creds)
                        .map(|d| d.allowed)
                        .unwrap_or(false)
                };
                if allows(changed) && !allows(base) {
                    return Some(format!("a {scope}-scoped `{top}` token on {whose}"));
                }
            }
        }
    }
    None
}
