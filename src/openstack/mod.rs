//! The OpenStack bridge: "will this `openstack …` command get a 403?".
//!
//! A command (`openstack server create …`), a bare API call (`GET /v2.1/servers`) or an openstacksdk call
//! (`conn.compute.servers()`) becomes, through the shipped [`catalogue`](mod@catalogue), the list of API calls the CLI
//! really makes and the OpenStack permission each needs (the domain notes §1.8); the identity and project come
//! from the user's own `clouds.yaml` or `OS_*` variables ([`config`]); each permission is then decided by
//! the core engine through the role matrix (§1.7), with its trace ([`evaluate`]). [`script`] does the same
//! for every `openstack` line of a shell script; [`cover`] names the least-privilege sets of roles a command needs.
//! Rendering is in [`render`].

pub mod commands;
pub mod config;
pub mod cover;
pub mod login;
pub mod oslo;
pub mod render;
pub mod shell;

use indexmap::IndexMap;

use crate::compile::Engine;
use crate::error::Error;
use crate::eval::{Reason, Response, Verdict};
use crate::model::request::Request;
use commands::{catalogue, ApiMatch, Call, Command, SdkCall, ANY_ROLE};
use shell::{Word, WordKind};

/// What is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `openstack …`: the words after `openstack`.
    Cli(Vec<Word>),
    /// A bare API call.
    Api {
        method: String,
        path: String,
        body: Option<String>,
    },
    /// An openstacksdk call.
    Sdk(String),
}

/// `conn.object_store.containers()`, `cloud.compute.servers(details=True)`: a dotted name, then `(`.
fn looks_like_sdk_call(arg: &str) -> bool {
    let arg = arg.trim();
    arg.split_once('(').is_some_and(|(name, _)| {
        name.contains('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    })
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

impl Target {
    /// The trailing arguments of `check -- …`, as the user's shell passed them (one quoted string is
    /// split the way a shell would).
    pub fn from_args(args: &[String]) -> Result<Target, Error> {
        let words: Vec<Word> = if let [one] = args {
            if looks_like_sdk_call(one) {
                // Taken whole: a shell would stop a word at its `)` (`conn.object_store.containers()`).
                return Ok(Target::Sdk(one.trim().to_owned()));
            }
            shell::words(one).0
        } else {
            args.iter()
                .map(|a| {
                    let mut w = Word::literal(a);
                    if a.starts_with('<') && a.ends_with('>') {
                        w.kind = WordKind::Placeholder;
                    }
                    w
                })
                .collect()
        };
        Target::from_words(words)
    }

    pub fn from_words(words: Vec<Word>) -> Result<Target, Error> {
        let first = words.first().map(|w| w.value.clone()).unwrap_or_default();
        if first == "openstack" || first.ends_with("/openstack") {
            return Ok(Target::Cli(words.into_iter().skip(1).collect()));
        }
        if METHODS.contains(&first.to_ascii_uppercase().as_str()) {
            let path = words.get(1).map(|w| w.value.clone()).unwrap_or_default();
            if !path.starts_with('/') {
                return Err(Error::Usage(format!(
                    "`{first}` must be followed by an API path such as `/v2.1/servers`"
                )));
            }
            let body = words.get(2).map(|w| {
                w.value
                    .trim_matches(|c| c == '(' || c == ')' || c == '{' || c == '}' || c == '"')
                    .split(['"', ':'])
                    .next()
                    .unwrap_or("")
                    .to_owned()
            });
            return Ok(Target::Api {
                method: first.to_ascii_uppercase(),
                path,
                body: body.filter(|b| !b.is_empty()),
            });
        }
        let joined: String = words
            .iter()
            .map(|w| w.value.as_str())
            .collect::<Vec<_>>()
            .join("");
        if joined.contains('.') && joined.contains('(') {
            return Ok(Target::Sdk(joined));
        }
        Err(Error::Usage(format!(
            "`{}` is not something policy-sim can check: expected an `openstack …` command (`-- openstack server list`), an API call (`-- GET /v2.1/servers`) or an openstacksdk call (`-- 'conn.compute.servers()'`)",
            shell::display(&words)
        )))
    }
}

/// One call of a plan: made or not, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub call: Call,
    pub made: bool,
    pub why_not: Option<String>,
}

impl Planned {
    /// The call must pass for the command to work.
    pub fn required(&self) -> bool {
        self.made && self.call.optional.is_none()
    }
}

/// What a target becomes: its calls, and what else the command line said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `openstack server list`, `GET /v2.1/servers`, `conn.compute.servers()`.
    pub title: String,
    pub command: Option<Command>,
    pub sdk: Option<SdkCall>,
    /// For a bare API call: the commands and SDK calls that make it.
    pub made_by: Vec<String>,
    pub calls: Vec<Planned>,
    /// `--os-*` options given before the command words.
    pub globals: Vec<(String, Word)>,
    pub notes: Vec<String>,
}

/// Global options of the `openstack` CLI that take no value.
const FLAGS: [&str; 12] = [
    "--debug",
    "-v",
    "-vv",
    "-vvv",
    "--verbose",
    "-q",
    "--quiet",
    "--insecure",
    "--timing",
    "--no-cache",
    "--os-beta-command",
    "--help",
];

/// Turn a target into the calls it makes.
pub fn plan(target: &Target) -> Result<Plan, Error> {
    let cat = catalogue()?;
    match target {
        Target::Sdk(expr) => {
            let Some(s) = cat.sdk_call(expr) else {
                return Err(Error::Usage(format!(
                    "`{expr}` is not an openstacksdk call the catalogue knows; closest: {}",
                    cat.suggest_sdk(expr)
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            Ok(Plan {
                title: expr.clone(),
                command: None,
                sdk: Some(s.clone()),
                made_by: Vec::new(),
                calls: vec![Planned {
                    call: s.call(),
                    made: true,
                    why_not: None,
                }],
                globals: Vec::new(),
                notes: Vec::new(),
            })
        }
        Target::Api { method, path, body } => match cat.api(method, path, body.as_deref()) {
            ApiMatch::One(call, by) => Ok(Plan {
                title: match body {
                    Some(b) => format!("{method} {path} ({b})"),
                    None => format!("{method} {path}"),
                },
                command: None,
                sdk: None,
                made_by: by,
                calls: vec![Planned {
                    call: *call,
                    made: true,
                    why_not: None,
                }],
                globals: Vec::new(),
                notes: Vec::new(),
            }),
            ApiMatch::Ambiguous(actions) => Err(Error::Usage(format!(
                "`{method} {path}` is a server action: name which one after the path, e.g. `-- POST {path} {}`; the catalogue knows {}",
                actions.first().map_or("reboot", String::as_str),
                actions.join(", ")
            ))),
            ApiMatch::None => Err(Error::Usage(format!(
                "`{method} {path}` is no API call of the catalogue (policies/openstack-commands.json); paths are written as the services serve them, e.g. `GET /v2.1/servers`, `GET /v2/images`, `GET /v3/PROJECT/volumes/detail`, `GET /v2.0/networks`, `GET /v1/AUTH_PROJECT`"
            ))),
        },
        Target::Cli(argv) => plan_cli(argv),
    }
}

fn plan_cli(argv: &[Word]) -> Result<Plan, Error> {
    let cat = catalogue()?;
    let mut i = 0;
    let mut globals = Vec::new();
    // Global options come before the command words.
    while let Some(w) = argv.get(i) {
        if !w.value.starts_with('-') || w.kind != WordKind::Literal {
            break;
        }
        if let Some((name, value)) = w.value.split_once('=') {
            globals.push((name.to_owned(), Word::literal(value)));
            i += 1;
        } else if FLAGS.contains(&w.value.as_str()) {
            i += 1;
        } else {
            let value = argv
                .get(i + 1)
                .cloned()
                .unwrap_or_else(|| Word::literal(""));
            globals.push((w.value.clone(), value));
            i += 2;
        }
    }
    let rest = argv.get(i..).unwrap_or(&[]);
    let words: Vec<String> = rest
        .iter()
        .take_while(|w| {
            w.kind == WordKind::Literal
                && !w.value.is_empty()
                && w.value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !w.value.starts_with('-')
        })
        .map(|w| w.value.clone())
        .collect();
    if words.is_empty() {
        return Err(Error::Usage(match rest.first() {
            Some(w) if w.kind != WordKind::Literal => format!(
                "the command is `{}`, known only when the script runs: it cannot be checked",
                w.raw
            ),
            Some(w) => format!("`{}` is not an openstack command", w.raw),
            None => String::from("no openstack command after `openstack`"),
        }));
    }
    let Some((n, entries)) = cat.lookup(&words) else {
        let close: Vec<String> = cat
            .suggest(&words)
            .iter()
            .map(|s| format!("`openstack {s}`"))
            .collect();
        return Err(Error::Usage(format!(
            "`openstack {}` is not a command of the catalogue (policies/openstack-commands.json); the closest known: {}",
            words.join(" "),
            close.join(", ")
        )));
    };
    let options: Vec<String> = rest
        .iter()
        .skip(n)
        .filter(|w| w.value.starts_with('-') && w.kind == WordKind::Literal)
        .map(|w| w.value.split('=').next().unwrap_or("").to_owned())
        .collect();
    let given = |o: &str| options.iter().any(|x| x == o);
    let entry = entries
        .iter()
        .find(|e| e.variant.as_deref().is_some_and(given))
        .or_else(|| entries.iter().find(|e| e.variant.is_none()))
        .or_else(|| entries.first())
        .copied()
        .ok_or_else(|| Error::Usage(String::from("empty catalogue entry")))?;
    let calls = entry
        .calls
        .iter()
        .map(|c| {
            let made = c.when.is_empty() || c.when.iter().any(|o| given(o));
            Planned {
                call: c.clone(),
                made,
                why_not: (!made).then(|| format!("only with {}", c.when.join(" or "))),
            }
        })
        .collect();
    let mut title = format!("openstack {}", entry.command);
    if let Some(v) = &entry.variant {
        title.push_str(&format!(" {v}"));
    }
    Ok(Plan {
        title,
        command: Some(entry.clone()),
        sdk: None,
        made_by: Vec::new(),
        calls,
        globals,
        notes: Vec::new(),
    })
}

/// How one permission (or `any_openstack_role`) was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionAnswer {
    pub allowed: bool,
    pub reason: Reason,
    /// The core engine's answer (for `any_openstack_role`: the deciding role's).
    pub response: Response,
    /// For `any_openstack_role`: the role action that decided.
    pub role: Option<String>,
}

/// One call's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAnswer {
    pub planned: Planned,
    /// `None` when the call is not made.
    pub allowed: Option<bool>,
    /// The status the service would answer when denied.
    pub status: Option<u16>,
}

/// The whole answer for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub plan: Plan,
    pub who: config::Resolved,
    pub origin: String,
    pub decision: Verdict,
    pub reason: Reason,
    /// The status the command would fail with.
    pub status: Option<u16>,
    pub calls: Vec<CallAnswer>,
    pub permissions: IndexMap<String, PermissionAnswer>,
    pub notes: Vec<String>,
}

/// Decide every call of a plan for an identity.
pub fn evaluate(
    engine: &Engine,
    plan: &Plan,
    who: &config::Resolved,
    origin: &str,
    context: &IndexMap<String, String>,
) -> Result<Answer, Error> {
    let mut permissions: IndexMap<String, PermissionAnswer> = IndexMap::new();
    for p in plan.calls.iter().filter(|p| p.made) {
        let name = &p.call.permission;
        if permissions.contains_key(name) {
            continue;
        }
        let answer = decide_permission(engine, name, who, context)?;
        permissions.insert(name.clone(), answer);
    }
    let image_read = match permissions.get("image_read") {
        Some(a) => a.allowed,
        None => decide_permission(engine, "image_read", who, context)?.allowed,
    };
    let calls: Vec<CallAnswer> = plan
        .calls
        .iter()
        .map(|p| {
            let allowed = p.made.then(|| {
                permissions
                    .get(&p.call.permission)
                    .is_some_and(|a| a.allowed)
            });
            let status = (allowed == Some(false)).then(|| status_of(&p.call, image_read));
            CallAnswer {
                planned: p.clone(),
                allowed,
                status,
            }
        })
        .collect();
    let failing = calls
        .iter()
        .find(|c| c.planned.required() && c.allowed == Some(false));
    let (decision, reason, status) = match failing {
        None => (Verdict::Allow, Reason::ExplicitAllow, None),
        Some(c) => (
            Verdict::Deny,
            permissions
                .get(&c.planned.call.permission)
                .map_or(Reason::ImplicitDeny, |a| a.reason),
            c.status,
        ),
    };
    let mut notes = Vec::new();
    notes.extend(who.notes.iter().cloned());
    notes.extend(plan.notes.iter().cloned());
    if let Some(cmd) = &plan.command {
        if let Some(n) = &cmd.note {
            notes.push(n.clone());
        }
        for c in &cmd.corrections {
            notes.push(format!("catalogue correction of the shared CSV: {c}"));
        }
    }
    for c in &calls {
        if c.status == Some(404) {
            notes.push(format!("{} {}: Glance answers 404 rather than 403 when the caller cannot see an image (glance/api/v2/policy.py): the CLI says the image is not found, not that it is forbidden", c.planned.call.service, c.planned.call.display()));
        }
        if c.planned.made && c.allowed == Some(false) && c.planned.call.optional.is_some() {
            notes.push(format!(
                "{} {} would be refused ({} is not granted), but that does not fail the command: {}",
                c.planned.call.service,
                c.planned.call.display(),
                c.planned.call.permission,
                c.planned.call.optional.as_deref().unwrap_or("")
            ));
        }
    }
    if permissions.contains_key(ANY_ROLE) {
        notes.push(format!("`{ANY_ROLE}`: the Keystone login through OVHcloud's role-adapter is taken to succeed when some `publicCloudProject:openstack:*` role is authorized on the project, and to fail with HTTP 401 otherwise [inferred]"));
    }
    notes.push(String::from("which permission a call needs is the catalogue's reading of the upstream policy defaults (reader → `*_read`, member → `*_manage`) [inferred: OVHcloud's own OpenStack policy files are not public]; see policies/openstack-commands.json"));
    Ok(Answer {
        plan: plan.clone(),
        who: who.clone(),
        origin: origin.to_owned(),
        decision,
        reason,
        status,
        calls,
        permissions,
        notes,
    })
}

/// The status a refused call gets: Keystone's login fails with 401; Glance hides images the caller may not
/// see with 404; every other service answers 403.
fn status_of(call: &Call, image_read: bool) -> u16 {
    match call.service.as_str() {
        "keystone" => 401,
        "glance" if call.path.contains("{image_id}") && !image_read => 404,
        _ => 403,
    }
}

fn decide_permission(
    engine: &Engine,
    permission: &str,
    who: &config::Resolved,
    context: &IndexMap<String, String>,
) -> Result<PermissionAnswer, Error> {
    let ask = |action: &str| -> Result<Response, Error> {
        let mut req = Request::new(Some(&who.identity), action, Some(&who.resource));
        req.context = context.clone();
        engine.prepare(&req).map(|p| engine.explain(&p))
    };
    if permission != ANY_ROLE {
        let response = ask(permission)?;
        return Ok(PermissionAnswer {
            allowed: response.decision == Verdict::Allow,
            reason: response.reason,
            response,
            role: None,
        });
    }
    let mut answers = Vec::new();
    for role in &engine.set.matrix.roles {
        if !role.action.starts_with("publicCloudProject:openstack:") {
            continue;
        }
        let r = ask(&role.action)?;
        if r.decision == Verdict::Allow {
            return Ok(PermissionAnswer {
                allowed: true,
                reason: Reason::ExplicitAllow,
                response: r,
                role: Some(role.action.to_string()),
            });
        }
        answers.push((role.action.to_string(), r));
    }
    let pick = answers
        .iter()
        .position(|(_, r)| r.reason == Reason::ExplicitDeny)
        .unwrap_or(0);
    let Some((role, response)) = answers.into_iter().nth(pick) else {
        return Err(Error::Usage(String::from(
            "the role matrix has no publicCloudProject:openstack:* role",
        )));
    };
    Ok(PermissionAnswer {
        allowed: false,
        reason: if response.reason == Reason::ExplicitDeny {
            Reason::ExplicitDeny
        } else {
            Reason::ImplicitDeny
        },
        response,
        role: Some(role),
    })
}

/// Where the identity comes from, for a command.
#[derive(Debug, Clone, Default)]
pub struct Source<'a> {
    /// `--os-cloud`.
    pub cloud: Option<&'a str>,
    /// `--clouds-yaml`.
    pub clouds_yaml: Option<&'a str>,
    pub account_nic: Option<&'a str>,
    pub identity: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// The base configuration: a cloud of a clouds.yaml when one is named (`--os-cloud`, `OS_CLOUD`) or a
/// clouds.yaml given, else the `OS_*` variables.
pub fn base_settings(
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<config::Settings, Error> {
    let cloud = src
        .cloud
        .map(str::to_owned)
        .or_else(|| env("OS_CLOUD").filter(|c| !c.is_empty()));
    if cloud.is_some() || src.clouds_yaml.is_some() {
        let path = config::clouds_yaml_path(src.clouds_yaml, env)?;
        let mut s = config::from_clouds_yaml(&path, cloud.as_deref())?;
        if src.cloud.is_none() && cloud.is_some() {
            s.origin.push_str(" (named by OS_CLOUD)");
        }
        return Ok(s);
    }
    Ok(config::from_env(env))
}

/// Apply `--os-*` options and exported `OS_*` variables on top of a configuration; values not known
/// before the script runs are ignored with a note.
fn apply(
    base: Result<config::Settings, Error>,
    overrides: &[(String, Word, String)],
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<config::Settings, Error> {
    let mut notes = Vec::new();
    let mut base = base;
    // A cloud named on the line (or exported) replaces the base.
    for (key, value, from) in overrides {
        if key != "cloud" {
            continue;
        }
        match value.known() {
            Some(c) => {
                let path = config::clouds_yaml_path(src.clouds_yaml, env)?;
                base = config::from_clouds_yaml(&path, Some(c)).map(|mut s| {
                    s.origin.push_str(&format!(" (named by {from})"));
                    s
                });
            }
            None => notes.push(format!(
                "{from} names the cloud `{}`, known only when the script runs: the configured one is used",
                value.raw
            )),
        }
    }
    let mut s = base?;
    for (key, value, from) in overrides {
        if key == "cloud" {
            continue;
        }
        if !config::KEYS.contains(&key.as_str()) {
            // who logs in, and the secrets: read for a Keystone login, never noted on OVHcloud's
            match value.known() {
                Some(v) => s.set(key, v, from.clone()),
                None => s.set_runtime(key, &value.raw, from.clone()),
            }
            continue;
        }
        match value.known() {
            Some(v) => s.set(key, v, from.clone()),
            // OVHcloud's mapping uses the configured value (noted by `identity`); a Keystone login
            // never takes it instead
            None => {
                if let Some(k) = config::KEYS.iter().find(|k| **k == key.as_str()) {
                    s.runtime.insert(k, (value.raw.clone(), from.clone()));
                }
            }
        }
    }
    s.notes.extend(notes);
    Ok(s)
}

/// The settings key of an `OS_*` variable or an `--os-*` option.
fn key_of(name: &str) -> Option<String> {
    let k = name
        .strip_prefix("OS_")
        .map(str::to_ascii_lowercase)
        .or_else(|| name.strip_prefix("--os-").map(|k| k.replace('-', "_")))?;
    (k == "cloud"
        || config::KEYS.contains(&k.as_str())
        || config::LOGIN_KEYS.contains(&k.as_str())
        || config::SECRET_KEYS.contains(&k.as_str()))
    .then_some(k)
}

/// Check one target: plan it, find who runs it, decide.
pub fn check(
    engine: &Engine,
    target: &Target,
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    context: &IndexMap<String, String>,
) -> Result<Answer, Error> {
    let plan = plan(target)?;
    let overrides = command_overrides(&plan);
    let (who, origin) = identity(engine, src, env, &overrides)?;
    evaluate(engine, &plan, &who, &origin, context)
}

fn identity(
    engine: &Engine,
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &[(String, Word, String)],
) -> Result<(config::Resolved, String), Error> {
    if let (Some(i), Some(r)) = (src.identity, src.resource) {
        let who = config::resolve(&config::Settings::default(), None, Some(i), Some(r), engine)?;
        return Ok((who, String::from("--identity and --resource")));
    }
    let mut settings = apply(base_settings(src, env), overrides, src, env)?;
    let runtime: Vec<String> = settings
        .runtime
        .iter()
        .filter(|(k, _)| config::KEYS.contains(k))
        .map(|(key, (raw, from))| {
            format!(
                "{from} sets {key} to `{raw}`, known only when the script runs: {}",
                match settings.get(key) {
                    Some(v) => format!("the configured `{v}` is used"),
                    None => String::from("nothing else sets it"),
                }
            )
        })
        .collect();
    settings.notes.extend(runtime);
    let who = config::resolve(
        &settings,
        src.account_nic,
        src.identity,
        src.resource,
        engine,
    )?;
    Ok((who, settings.origin))
}

/// One `openstack` line of a script and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<T = Answer> {
    pub line: usize,
    /// The invocation as written (continuations joined, secrets hidden).
    pub text: String,
    pub answer: Result<T, String>,
}

/// Settings overrides: (settings key, value as written, where it was set).
pub type Overrides = Vec<(String, Word, String)>;

/// The configuration a command runs with: the base (clouds.yaml or the `OS_*` variables) with the
/// overrides applied; values known only when the script runs are kept as such (`Settings::runtime`).
pub fn settings_with(
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &[(String, Word, String)],
) -> Result<config::Settings, Error> {
    apply(base_settings(src, env), overrides, src, env)
}

/// The overrides of a single command: its `--os-*` options.
pub fn command_overrides(plan: &Plan) -> Overrides {
    plan.globals
        .iter()
        .filter_map(|(n, w)| {
            key_of(n).map(|k| (k, w.clone(), format!("`{n}` on the command line")))
        })
        .collect()
}

/// Every `openstack` line of a shell script, planned, with the settings overrides in force on that line
/// (earlier `export OS_*=`, `OS_*=` before the command, its `--os-*` options), answered by `decide`.
pub fn script_with<T>(
    text: &str,
    mut decide: impl FnMut(&Plan, &Overrides) -> Result<T, Error>,
) -> Vec<Line<T>> {
    let mut exports: Overrides = Vec::new();
    let mut out = Vec::new();
    for item in shell::script(text) {
        match item {
            shell::Item::Export { line, name, value } => {
                if let Some(k) = key_of(&name) {
                    exports.retain(|(x, _, _)| *x != k);
                    exports.push((k, value, format!("`export {name}` on line {line}")));
                }
            }
            shell::Item::Command(found) => {
                let mut words = vec![Word::literal("openstack")];
                words.extend(found.argv.iter().cloned());
                let shown = shell::display(&words);
                let prefix_shown: Vec<String> = found
                    .prefix
                    .iter()
                    .map(|(n, v)| shell::display(&[Word::literal(&format!("{n}={}", v.raw))]))
                    .collect();
                let text = if prefix_shown.is_empty() {
                    shown
                } else {
                    format!("{} {shown}", prefix_shown.join(" "))
                };
                let answer = (|| {
                    let plan = plan(&Target::Cli(found.argv.clone()))?;
                    let mut overrides = exports.clone();
                    for (n, v) in &found.prefix {
                        if let Some(k) = key_of(n) {
                            overrides.push((
                                k,
                                v.clone(),
                                format!("`{n}=` on line {}", found.line),
                            ));
                        }
                    }
                    for (n, w) in &plan.globals {
                        if let Some(k) = key_of(n) {
                            overrides.push((k, w.clone(), format!("`{n}` on line {}", found.line)));
                        }
                    }
                    decide(&plan, &overrides)
                })()
                .map_err(|e| e.to_string());
                out.push(Line {
                    line: found.line,
                    text,
                    answer,
                });
            }
        }
    }
    out
}

/// Check every `openstack` line of a shell script.
pub fn script(
    engine: &Engine,
    text: &str,
    src: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    context: &IndexMap<String, String>,
) -> Vec<Line> {
    script_with(text, |plan, overrides| {
        let (who, origin) = identity(engine, src, env, overrides)?;
        evaluate(engine, plan, &who, &origin, context)
    })
}
