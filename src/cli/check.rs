//! `policy-sim check`: decide one request, or a batch from a JSON Lines file, and explain.

use std::io::{BufRead, Write};

use clap::Args;
use indexmap::IndexMap;

use super::{Exit, Failure, Format};
use crate::error::Error;
use crate::eval::{Detail, Scratch};
use crate::load::{Loaded, Role};
use crate::model::request::Request;
use crate::{Engine, Verdict};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 allow, 1 deny, 2 usage error or bad input; with --requests, 0 once every request was evaluated, 2 if a line could not be.\n\n\
Identities: an OVHcloud URN (`urn:v1:eu:identity:user:xx1111-ovh/user1`, `...:credential:xx11111-ovh/oauth2-...`), an OUTSCALE user name or ORN \
(`watcher_1`, `orn:ows:idauth::123456789012:user/watcher_1`), or the OUTSCALE root user (`orn:ows:idauth::123456789012:account`). \
Without --identity, bare EIM documents are evaluated as the caller's own.\n\n\
Actions: an OVHcloud IAM action (`vps:apiovh:reboot`), an OpenStack role action (`publicCloudProject:openstack:computeOperator`), \
an OpenStack permission (`compute_read`: granted when a role carrying it is authorized), or an EIM action (`api:ReadVms`)."
)]
pub struct CheckArgs {
    /// Policy files, directories (walked for *.json) or globs: OVHcloud policies, permission groups, resource groups and resources as the API returns them, or OUTSCALE EIM policy documents; a snapshot directory of `policy-sim export`. Optional when the --account files carry the policies (OUTSCALE).
    #[arg(long, short = 'p', value_name = "PATH", num_args = 1.., required_unless_present_any = ["account", "openstack_policy", "terraform_plan", "credentials", "roles"])]
    pub policies: Vec<String>,
    /// A Terraform/OpenTofu plan (`terraform show -json plan.out > plan.json`): its planned IAM objects are read as policies and accounts (see README, "Terraform plans"). Repeatable; combines with --policies.
    #[arg(long, value_name = "PLAN.json")]
    pub terraform_plan: Vec<String>,
    /// An account file: OVHcloud local users and their groups, or OUTSCALE EIM users, groups and linked policies (see README, "Account files").
    #[arg(long, value_name = "FILE")]
    pub account: Vec<String>,
    /// Who asks (see below). Required for OVHcloud.
    #[arg(long, short = 'i', value_name = "ID")]
    pub identity: Option<String>,
    /// What is asked.
    #[arg(
        long,
        short = 'a',
        value_name = "ACTION",
        required_unless_present_any = ["requests", "command", "script"],
        conflicts_with_all = ["requests", "command", "script"]
    )]
    pub action: Option<String>,
    /// On what: an OVHcloud resource URN (required for OVHcloud; EIM has no resource-level permissions).
    #[arg(long, short = 'r', value_name = "URN")]
    pub resource: Option<String>,
    /// Request context for conditions, repeatable: `request.IP=192.0.2.10`, `resource.Tag(env)=prod`.
    #[arg(long, short = 'c', value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub context: Vec<(String, String)>,
    /// Evaluation time (RFC 3339) for expiry and date conditions; default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Treat --identity as a member of this group, as if an account file said so: OVHcloud, a local user and a group URN; OUTSCALE EIM, a user name (listed or not) and a group of the account file. `audit` witnesses for "any member of GROUP" use it.
    #[arg(
        long,
        value_name = "GROUP",
        requires = "identity",
        conflicts_with = "requests"
    )]
    pub member_of: Option<String>,
    /// A JSON Lines file of requests (`{"identity", "action", "resource", "context"?, "at"?}` a line); `-` for stdin.
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["identity", "resource", "context"])]
    pub requests: Option<String>,
    /// A role-matrix file instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<String>,
    /// Output format: `text` explains for people, `json` is one object per answer (one line each with --requests).
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,
    /// Largest policy file read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_file_size: u64,
    /// OpenStack: the cloud of clouds.yaml whose service account runs the command (else OS_CLOUD, else the OS_* variables).
    #[arg(long, value_name = "NAME")]
    pub os_cloud: Option<String>,
    /// OpenStack: the clouds.yaml to read, `-` for standard input (default: ./, ~/.config/openstack/, /etc/openstack/, as the openstack CLI looks).
    #[arg(long, value_name = "FILE")]
    pub clouds_yaml: Option<String>,
    /// OpenStack: the OVHcloud account (nic) of the service account; clouds.yaml does not carry it (default: the one account the loaded policies name it under).
    #[arg(long, value_name = "NIC")]
    pub account_nic: Option<String>,
    /// OpenStack: check every `openstack` line of a shell script, reporting each with its line number and the login in force there (its `export OS_*`, `--os-*` options); with --openstack-policy, against oslo.policy rules.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["requests", "command"])]
    pub script: Option<String>,
    /// OpenStack: after `--`, an `openstack ...` command, an API call (`GET /v2.1/servers`) or an openstacksdk call (`conn.compute.servers()`).
    #[arg(last = true, value_name = "COMMAND", conflicts_with = "requests")]
    pub command: Vec<String>,
    /// How much of the trace a JSON answer carries: `brief` (the entries that could decide, the missing context, a summary; the default with --requests) or `full` (every policy considered with every check; the default for one request).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub trace: Option<TraceLevel>,
    /// Print the answer line only (`ALLOW (explicit_allow)`), no request echo, no trace; with --format json, the brief answer (as --trace brief). Warnings still go to stderr.
    #[arg(long, short = 'q', conflicts_with_all = ["verbose", "trace"])]
    pub quiet: bool,
    /// Print the full trace: every policy considered with every check (as --trace full; the text answer to one request always carries it).
    #[arg(long, short = 'v', conflicts_with = "trace")]
    pub verbose: bool,
    /// Treat a warning about the request (an action no catalogue knows, an identity nothing names, a context key spelt with the wrong case) as an error: exit 2 without answering.
    #[arg(long)]
    pub strict: bool,
    /// OpenStack, any cloud: oslo.policy rules to evaluate — a policy file (YAML or JSON), or a shipped service's registered defaults by name (nova, glance, cinder, neutron, keystone). Files override the defaults; a later file overrides an earlier one.
    #[arg(long, value_name = "FILE|SERVICE", num_args = 1.., conflicts_with_all = ["policies", "requests", "identity", "resource"])]
    pub openstack_policy: Vec<String>,
    /// OpenStack, any cloud: the caller's token, the body of Keystone's `GET /v3/auth/tokens` (`openstack token issue` gives its id; `curl -H "X-Auth-Token: $T" -H "X-Subject-Token: $T" $OS_AUTH_URL/v3/auth/tokens`). Without --openstack-policy, the shipped defaults of nova, glance, neutron, cinder and keystone answer.
    #[arg(long, value_name = "TOKEN.json", conflicts_with_all = ["policies", "account"])]
    pub credentials: Option<String>,
    /// With --openstack-policy, repeatable: the target's fields the rules read as `%(key)s` (`project_id=...`); default: the token's own user_id and project_id, as oslopolicy-checker does.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_kv, requires = "openstack_policy")]
    pub target: Vec<(String, String)>,
    /// With --openstack-policy: OR each default with the rule it deprecates, as a service does with `[oslo_policy] enforce_new_defaults = False`.
    #[arg(long, requires = "openstack_policy")]
    pub no_enforce_new_defaults: bool,
    /// OpenStack, any cloud, instead of --credentials: the caller's Keystone roles (`reader,member`), through the login of --os-cloud (clouds.yaml), the OS_* variables or the script (password, application credential, v3oidcaccesstoken, token), on the project, domain or system it names; Keystone's default implied roles are added (admin → member → reader, manager → member) as a real token carries them.
    #[arg(
        long,
        value_name = "ROLES",
        value_delimiter = ',',
        conflicts_with_all = ["credentials", "policies", "account"]
    )]
    pub roles: Vec<String>,
    /// With --openstack-policy and a command: the roles Swift's keystoneauth middleware admits to a project's object storage, its `operator_roles` setting (proxy-server.conf; upstream default `admin, SwiftOperator`; many clouds add `member`). Compared case-insensitively.
    #[arg(
        long,
        value_name = "ROLES",
        value_delimiter = ',',
        default_value = "admin,SwiftOperator",
        requires = "openstack_policy"
    )]
    pub swift_operator_roles: Vec<String>,
}

/// How much trace an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceLevel {
    Brief,
    Full,
}

impl CheckArgs {
    /// The trace level asked for: --trace, else --verbose (full) or --quiet (brief).
    pub fn trace_level(&self) -> Option<TraceLevel> {
        self.trace.or(if self.verbose {
            Some(TraceLevel::Full)
        } else if self.quiet {
            Some(TraceLevel::Brief)
        } else {
            None
        })
    }
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. `request.IP=192.0.2.10`)"
        )),
    }
}

/// What an engine is built from: the policy, account and Terraform plan files named on the command line,
/// the role matrix (`None`: the built-in one), the largest file read and "now" (`--at`). The default names
/// no file and keeps the built-in matrix and the loader's size limit: `..Sources::default()`.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub policies: &'a [String],
    pub accounts: &'a [String],
    pub plans: &'a [String],
    pub matrix: Option<&'a str>,
    pub max_file_size: u64,
    pub at: Option<&'a str>,
}

impl Default for Sources<'_> {
    fn default() -> Self {
        Sources {
            policies: &[],
            accounts: &[],
            plans: &[],
            matrix: None,
            max_file_size: crate::load::Limits::default().max_file_bytes,
            at: None,
        }
    }
}

/// Load and compile what `src` names; the Terraform plans' planned IAM objects are loaded after the
/// policies and accounts. Also returns what the plans' reading assumes (values known only after apply),
/// which is printed on stderr here and belongs in every answer's notes.
pub fn engine_with_plans(src: &Sources<'_>) -> Result<(Engine, Vec<String>), Error> {
    let Sources {
        policies,
        accounts,
        plans,
        matrix,
        max_file_size,
        at,
    } = *src;
    let mut loaded = Loaded::new();
    loaded.limits.max_file_bytes = max_file_size;
    for p in policies {
        loaded.add_path(p, Role::Policies);
    }
    for a in accounts {
        loaded.add_path(a, Role::Account);
    }
    let mut notes = Vec::new();
    for plan in plans {
        notes.extend(crate::load::terraform::add_plan(&mut loaded, plan).notes);
    }
    for n in &notes {
        eprintln!("note: {n}");
    }
    let matrix = super::matrix(matrix)?;
    let mut engine = crate::build(loaded, Some(matrix))?;
    // What the input leaves open and how it was read: before any answer, on stderr.
    for w in &engine.set.warnings {
        eprintln!("{w}");
    }
    if let Some(at) = at {
        let t = at.parse::<jiff::Timestamp>().map_err(|_| {
            Error::Usage(format!(
                "--at `{at}` is not an RFC 3339 date-time; write it like `2026-06-01T12:00:00Z`"
            ))
        })?;
        engine = engine.with_default_time(t);
    }
    Ok((engine, notes))
}

/// `--member-of`: the user joins the group (both of one account), unless an account file already puts it
/// in another.
fn member_of(engine: &mut Engine, user: &str, group: &str) -> Result<(), Error> {
    use crate::model::urn::{IdentityKind, IdentityUrn};
    if !user.starts_with("urn:") {
        return eim_member_of(engine, user, group);
    }
    let u = IdentityUrn::parse(user).map_err(Error::Usage)?;
    let g = IdentityUrn::parse(group).map_err(|e| Error::Usage(format!("--member-of: {e}")))?;
    if u.kind != IdentityKind::User || g.kind != IdentityKind::Group {
        return Err(Error::Usage(format!(
            "--member-of `{group}` needs a local user as --identity and a group URN (`urn:v1:eu:identity:group:{{nic}}/{{name}}`)"
        )));
    }
    if u.account != g.account || u.region != g.region {
        return Err(Error::Usage(format!(
            "--member-of `{group}`: the user `{user}` belongs to another account"
        )));
    }
    if let Some((known, _)) = engine.set.membership.user_group.get(user) {
        if **known != *group {
            return Err(Error::Usage(format!(
                "--member-of `{group}`: the account file puts `{user}` in `{known}`"
            )));
        }
    }
    engine.assume_member(user, group);
    Ok(())
}

/// `--member-of` for OUTSCALE EIM: the user (listed or not: the audit's "any member of group" is not)
/// joins a group of the account file, with that group's policies.
fn eim_member_of(engine: &mut Engine, user: &str, group: &str) -> Result<(), Error> {
    let groups: Vec<&str> = engine.set.eim_account.groups.keys().map(|g| &**g).collect();
    if groups.is_empty() {
        return Err(Error::Usage(format!(
            "--member-of `{group}`: no --account file defines EIM groups (`UserGroups`), and `{user}` is not an OVHcloud URN"
        )));
    }
    if !groups.contains(&group) {
        let mut m = format!("--member-of `{group}`: the account file defines no such EIM group");
        match crate::suggest::closest(group, &groups) {
            Some(c) => m.push_str(&format!("; did you mean `{c}`?")),
            None => m.push_str(&format!("; it defines: {}", groups.join(", "))),
        }
        return Err(Error::Usage(m));
    }
    // An ORN (`orn:ows:idauth::{account}:user/{path}/{name}`) names the user last.
    let name = match user.strip_prefix("orn:") {
        Some(rest) => rest.rsplit('/').next().unwrap_or(rest),
        None => user,
    };
    engine.assume_eim_member(name, group);
    Ok(())
}

pub fn run(args: &CheckArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    if !args.openstack_policy.is_empty() || args.credentials.is_some() || !args.roles.is_empty() {
        return super::oslo::run(args, out);
    }
    let (mut engine, plan_notes) = engine_with_plans(&Sources {
        policies: &args.policies,
        accounts: &args.account,
        plans: &args.terraform_plan,
        matrix: args.matrix.as_deref(),
        max_file_size: args.max_file_size,
        at: args.at.as_deref(),
    })?;
    if let (Some(group), Some(user)) = (&args.member_of, &args.identity) {
        member_of(&mut engine, user, group)?;
    }
    if !args.command.is_empty() || args.script.is_some() {
        return openstack(&engine, args, out);
    }
    if let Some(path) = &args.requests {
        return batch(
            &engine,
            path,
            args.format,
            args.trace_level() == Some(TraceLevel::Full),
            out,
        );
    }
    let mut req = Request::new(
        args.identity.as_deref(),
        args.action.as_deref().unwrap_or_default(),
        args.resource.as_deref(),
    );
    req.context = args.context.iter().cloned().collect::<IndexMap<_, _>>();
    let (resp, warnings) = answer(&engine, &req, plan_notes)?;
    if args.strict && !warnings.is_empty() {
        return Err(Error::Usage(format!("{} (--strict)", warnings.join("; "))).into());
    }
    for w in warnings.iter().rev() {
        // Above the answer, where it cannot be missed; they are in the answer's notes too.
        eprintln!("warning: {w}");
    }
    match args.format {
        Format::Text if args.quiet => write!(out, "{}", crate::report::answer_line(&resp))?,
        Format::Text => write!(out, "{}", crate::report::text(&resp))?,
        Format::Json if args.trace_level() == Some(TraceLevel::Brief) => {
            writeln!(out, "{}", brief_json(&engine, &req)?.0)?;
        }
        Format::Json => writeln!(out, "{}", full_json(&resp))?,
    }
    Ok(if resp.decision == Verdict::Allow {
        Exit::Ok
    } else {
        Exit::Deny
    })
}

/// One request's answer as `check` gives it: the response with its notes (the warnings about the request
/// first, then `plan_notes`, then what the catalogue says of the action), and those warnings alone (for
/// `--strict` and stderr). `policy-sim serve` answers with it too.
pub fn answer(
    engine: &Engine,
    req: &Request,
    plan_notes: Vec<String>,
) -> Result<(crate::Response, Vec<String>), Error> {
    let mut resp = engine.explain(&engine.prepare(req)?);
    let mut warnings: Vec<String> = unknown_action_note(engine, &resp).into_iter().collect();
    warnings.extend(crate::eval::request_warnings(engine, req));
    for w in warnings.iter().rev() {
        resp.notes.insert(0, w.clone());
    }
    // What the plan's reading assumes (placeholders for values known only after apply), in the answer.
    resp.notes.extend(plan_notes);
    if resp.request.cloud == "ovhcloud" {
        use crate::load::actions::{catalogue, OvhLookup};
        if let OvhLookup::NotInCatalogue { why, .. } = catalogue().ovh_lookup(&resp.request.action)
        {
            resp.notes.push(format!(
                "`{}`: {why}; policy-sim cannot tell whether it is a real action",
                resp.request.action
            ));
        }
    }
    Ok((resp, warnings))
}

/// `check --format json` (the full trace) of an [`answer`], without its line end.
pub fn full_json(resp: &crate::Response) -> String {
    serde_json::to_string_pretty(&crate::report::json(resp)).unwrap_or_default()
}

/// `check --format json --trace brief` of one request, without its line end, and its verdict.
pub fn brief_json(engine: &Engine, req: &Request) -> Result<(String, Verdict), Error> {
    let prepared = engine.prepare(req)?;
    let brief = engine.explain_with(&prepared, Detail::Brief, &mut Scratch::default());
    let mut s = String::new();
    crate::report::write_brief_answer(&mut s, 0, &prepared, &brief);
    Ok((s, brief.decision.decision))
}

/// `--requests`: one answer per line, in input order; a bad line gets an error object and the rest go on.
fn batch(
    engine: &Engine,
    path: &str,
    format: Format,
    full: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    let reader: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(path).map_err(
            |e| Error::Usage(format!("cannot read `{path}`: {e}")),
        )?))
    };
    let format = match format {
        Format::Text => crate::batch::Format::Text,
        Format::Json => crate::batch::Format::Json,
    };
    let crate::batch::Totals {
        evaluated,
        allowed,
        bad,
    } = crate::batch::run(engine, reader, path, format, full, out)?;
    eprintln!("{evaluated} requests evaluated ({allowed} allowed, {} denied), {bad} lines could not be evaluated", evaluated - allowed);
    Ok(if bad == 0 { Exit::Ok } else { Exit::Bad })
}

/// A note when the requested action is in no catalogue: a typo or an invented name gets a plain deny from
/// the cloud, and the user deserves to know why.
pub(super) fn unknown_action_note(engine: &Engine, resp: &crate::Response) -> Option<String> {
    use crate::load::actions::{catalogue, Known};
    let action = resp.request.action.as_str();
    if engine.set.matrix.permission_index(action).is_some()
        || engine.set.matrix.role(action).is_some()
    {
        return None;
    }
    let list = |s: &[String]| {
        s.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if resp.request.cloud == "ovhcloud" {
        use crate::load::actions::OvhLookup;
        return match catalogue().ovh_lookup(action) {
            OvhLookup::Known | OvhLookup::NotCovered | OvhLookup::NotInCatalogue { .. } => None,
            OvhLookup::Unneeded { suggestions, .. } if suggestions.is_empty() => Some(format!("`{action}` is not a known ovhcloud action: no operation of its API needs it")),
            OvhLookup::Unneeded { suggestions, .. } => Some(format!("`{action}` is not a known ovhcloud action: no operation of its API needs it; did you mean {}?", list(&suggestions))),
        };
    }
    let known = catalogue().outscale_action(action);
    match known {
        Known::No(s) if s.is_empty() => Some(format!("`{action}` is not a known {} action: no policy can name it as a real API operation", resp.request.cloud)),
        Known::No(s) => Some(format!("`{action}` is not a known {} action; did you mean {}?", resp.request.cloud, list(&s))),
        Known::Candidate => Some(format!("`{action}` is only an unconfirmed OUTSCALE action name (policies/outscale-actions.tsv, status candidate)")),
        Known::Yes | Known::NotCovered => None,
    }
}

/// `check -- openstack ...` and `check --script FILE`: the OpenStack bridge (`src/openstack/`). A script
/// exits 2 if some line could not be checked, else 1 if some line would be refused, else 0.
fn openstack(engine: &Engine, args: &CheckArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    use crate::openstack::{self as os, render};
    let src = os::Source {
        cloud: args.os_cloud.as_deref(),
        clouds_yaml: args.clouds_yaml.as_deref(),
        account_nic: args.account_nic.as_deref(),
        identity: args.identity.as_deref(),
        resource: args.resource.as_deref(),
    };
    let env = |k: &str| std::env::var(k).ok();
    let context: IndexMap<String, String> = args.context.iter().cloned().collect();
    let Some(path) = &args.script else {
        let target = os::Target::from_args(&args.command)?;
        let answer = os::check(engine, &target, &src, &env, &context)?;
        match args.format {
            Format::Text if args.quiet => writeln!(out, "{}", render::headline(&answer))?,
            Format::Text => write!(out, "{}", render::text(&answer))?,
            Format::Json => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&render::json(&answer)).unwrap_or_default()
            )?,
        }
        return Ok(if answer.decision == Verdict::Allow {
            Exit::Ok
        } else {
            Exit::Deny
        });
    };
    let text = crate::load::read_text(path)
        .map_err(|e| Error::Usage(format!("cannot read the script `{path}`: {e}")))?;
    let path = crate::load::display_name(path);
    let lines = os::script(engine, &text, &src, &env, &context);
    if lines.is_empty() {
        return Err(Error::Usage(format!("`{path}` runs no `openstack` command")).into());
    }
    let (mut allowed, mut denied, mut bad) = (0usize, 0usize, 0usize);
    let mut seen = Vec::new();
    for l in &lines {
        match &l.answer {
            Ok(a) if a.decision == Verdict::Allow => allowed += 1,
            Ok(_) => denied += 1,
            Err(_) => bad += 1,
        }
        match args.format {
            Format::Text => writeln!(out, "{}", render::script_line(l, &mut seen))?,
            Format::Json => {
                let v = match &l.answer {
                    Ok(a) => {
                        let mut v = render::json(a);
                        if let Some(o) = v.as_object_mut() {
                            o.insert(String::from("line"), l.line.into());
                            o.insert(String::from("text"), l.text.clone().into());
                        }
                        v
                    }
                    Err(e) => {
                        serde_json::json!({"line": l.line, "text": l.text, "error": e, "file": path})
                    }
                };
                writeln!(out, "{}", serde_json::to_string(&v).unwrap_or_default())?;
            }
        }
    }
    if args.format == Format::Text {
        writeln!(
            out,
            "\n{path}: {} openstack command{}: {allowed} would succeed, {denied} would be refused, {bad} could not be checked",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" }
        )?;
    }
    Ok(if bad > 0 {
        Exit::Bad
    } else if denied > 0 {
        Exit::Deny
    } else {
        Exit::Ok
    })
}
