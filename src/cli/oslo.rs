//! `policy-sim check --openstack-policy ...`: one oslo.policy decision, as a service would make it.

use std::io::Write;

use serde_json::{Map, Value};

use super::check::CheckArgs;
use super::{Exit, Failure, Format};
use crate::error::Error;
use crate::oslo::{self, creds, Options};

pub fn run(args: &CheckArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let options = Options {
        enforce_new_defaults: !args.no_enforce_new_defaults,
    };
    let enforcer = oslo::load(&args.openstack_policy, options)?;
    let (creds, caller) = caller(args)?;
    let target: Map<String, Value> = if args.target.is_empty() {
        creds::default_target(&creds)
    } else {
        args.target
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    };
    if !args.command.is_empty() {
        let target_cmd = crate::openstack::Target::from_args(&args.command)?;
        let plan = crate::openstack::plan(&target_cmd)?;
        let answer = crate::openstack::oslo::check_plan(
            &enforcer,
            &plan,
            &creds,
            &target,
            &args.swift_operator_roles,
        )
        .map_err(|e| Error::Usage(format!("cannot decide `{}`: {e}", plan.title)))?;
        match args.format {
            Format::Text => writeln!(
                out,
                "{}  caller: {caller}",
                crate::report::oslo::command(&answer)
            )?,
            Format::Json => {
                let mut v = serde_json::to_value(&answer).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("caller".into(), Value::String(caller));
                }
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                )?
            }
        }
        return Ok(match answer.allowed {
            Some(true) => Exit::Ok,
            Some(false) => Exit::Deny,
            None => Exit::Bad,
        });
    }
    let action = args.action.as_deref().unwrap_or_default();
    let decision = enforcer.enforce(action, &target, &creds).map_err(|e| {
        Error::Usage(format!(
            "cannot decide `{action}`: {e}; the service would fail the request (HTTP 500)"
        ))
    })?;
    match args.format {
        Format::Text if args.quiet => write!(
            out,
            "{}",
            crate::report::oslo::answer_line(action, &decision)
        )?,
        Format::Text => write!(out, "{}", crate::report::oslo::text(action, &decision))?,
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&crate::report::oslo::json(action, &decision))
                .unwrap_or_default()
        )?,
    }
    Ok(if decision.allowed {
        Exit::Ok
    } else {
        Exit::Deny
    })
}

/// `policy-sim lint --openstack-policy FILE...`: exit 1 when a finding is an error (or a warning, with
/// `--deny warning`), 2 when a file cannot be read.
pub fn lint(
    files: &[String],
    json: bool,
    warnings_fail: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    let mut findings = Vec::new();
    for path in files {
        let text = crate::load::read_text(path)
            .map_err(|e| Error::Usage(format!("cannot read the policy file `{path}`: {e}")))?;
        let path = crate::load::display_name(path);
        let file = oslo::file::read(path, &text).map_err(|e| match e.at {
            Some((l, c)) => Error::Usage(format!("{path}:{l}:{c}: {}", e.message)),
            None => Error::Usage(format!("{path}: {}", e.message)),
        })?;
        findings.extend(oslo::lint::lint(&file).map_err(Error::Usage)?);
    }
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&findings).unwrap_or_default()
        )?;
    } else {
        write!(out, "{}", crate::report::oslo::findings(&findings))?;
    }
    let fails = findings
        .iter()
        .any(|f| f.level == oslo::lint::Level::Error || warnings_fail);
    Ok(if fails { Exit::Deny } else { Exit::Ok })
}

/// Keystone's default implied roles (`keystone-manage bootstrap`): admin → member, manager → member,
/// member → reader.
const IMPLIED: &[(&str, &str)] = &[
    ("admin", "member"),
    ("manager", "member"),
    ("member", "reader"),
];

/// The caller's credentials: `--credentials TOKEN.json`, or `--roles` on the project of the clouds.yaml entry.
fn caller(args: &CheckArgs) -> Result<(Map<String, Value>, String), Error> {
    if let Some(path) = args.credentials.as_deref() {
        let text = crate::load::read_text(path)
            .map_err(|e| Error::Usage(format!("cannot read the credentials `{path}`: {e}")))?;
        let path = crate::load::display_name(path);
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!("{path}:{}:{}: not JSON: {e}", e.line(), e.column()))
        })?;
        let creds = creds::from_token(&body).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
        return Ok((creds, format!("the token of `{path}`")));
    }
    if args.roles.is_empty() {
        return Err(Error::Usage(
            "--openstack-policy needs the caller: --credentials TOKEN.json (the body of Keystone's `GET /v3/auth/tokens`), or --roles reader,member with --os-cloud NAME".into(),
        ));
    }
    let mut roles: Vec<String> = Vec::new();
    let mut queue: Vec<String> = args
        .roles
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    while let Some(r) = queue.pop() {
        if roles.iter().any(|x| x.eq_ignore_ascii_case(&r)) {
            continue;
        }
        for (from, to) in IMPLIED {
            if r.eq_ignore_ascii_case(from) {
                queue.push((*to).to_owned());
            }
        }
        roles.push(r);
    }
    let src = crate::openstack::Source {
        cloud: args.os_cloud.as_deref(),
        clouds_yaml: args.clouds_yaml.as_deref(),
        ..Default::default()
    };
    let env = |k: &str| std::env::var(k).ok();
    let settings = crate::openstack::base_settings(&src, &env)?;
    let (project, whence) = match settings.get("project_id") {
        Some(p) => (
            p.to_owned(),
            format!("project `{p}` of {}", settings.origin),
        ),
        None => (
            "the-project-of-the-login".to_owned(),
            format!(
                "{} names no project_id: the login's project (its own resources only)",
                settings.origin
            ),
        ),
    };
    let auth = settings.get("auth_type").unwrap_or("password").to_owned();
    let token = serde_json::json!({"token": {
        "methods": [auth],
        "user": {"id": "the-caller", "domain": {"id": "default"}},
        "project": {"id": project, "domain": {"id": "default"}},
        "roles": roles.iter().map(|r| serde_json::json!({"name": r})).collect::<Vec<_>>(),
    }});
    let creds = creds::from_token(&token).map_err(Error::Usage)?;
    Ok((
        creds,
        format!(
            "roles {} (with Keystone's default implied roles) on the {whence}",
            roles.join(", ")
        ),
    ))
}
