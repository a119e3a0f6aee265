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
    let Some(path) = args.credentials.as_deref() else {
        return Err(Error::Usage(
            "--openstack-policy needs --credentials TOKEN.json (the body of Keystone's `GET /v3/auth/tokens`)".into(),
        )
        .into());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the credentials `{path}`: {e}")))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{path}:{}:{}: not JSON: {e}", e.line(), e.column())))?;
    let creds = creds::from_token(&body).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
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
            Format::Text => write!(out, "{}", crate::report::oslo::command(&answer))?,
            Format::Json => writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&answer).unwrap_or_default()
            )?,
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
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read the policy file `{path}`: {e}")))?;
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
