//! `policy-sim check --openstack-policy ...`: one oslo.policy decision, as a service would make it.

use std::io::Write;

use serde_json::{Map, Value};

use super::check::CheckArgs;
use super::{Exit, Failure, Format};
use crate::error::Error;
use crate::openstack::oslo::{Bridge, Who};
use crate::oslo::{self, creds, Options};
use crate::report;

pub fn run(args: &CheckArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let options = Options {
        enforce_new_defaults: !args.no_enforce_new_defaults,
    };
    // Without --openstack-policy, every shipped service's registered defaults.
    let specs: Vec<String> = if args.openstack_policy.is_empty() {
        oslo::defaults::SERVICES
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        args.openstack_policy.clone()
    };
    let services = oslo::load_services(&specs, options)?;
    let target: Option<Map<String, Value>> = (!args.target.is_empty()).then(|| {
        args.target
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    });
    let token = token(args)?;
    if !args.command.is_empty() || args.script.is_some() {
        let who = match &token {
            Some((credentials, shown)) => Who::Token {
                credentials,
                shown: shown.clone(),
            },
            None => Who::Roles(&args.roles),
        };
        let env = |k: &str| std::env::var(k).ok();
        let bridge = Bridge {
            services: &services,
            source: crate::openstack::Source {
                cloud: args.os_cloud.as_deref(),
                clouds_yaml: args.clouds_yaml.as_deref(),
                ..Default::default()
            },
            env: &env,
            who,
            target: target.as_ref(),
            swift_operator_roles: &args.swift_operator_roles,
        };
        return match &args.script {
            Some(path) => script(&bridge, path, args.format, out),
            None => {
                let answer =
                    bridge.command(&crate::openstack::Target::from_args(&args.command)?)?;
                match args.format {
                    Format::Text => write!(out, "{}", report::oslo::answered(&answer))?,
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&answer).unwrap_or_default()
                    )?,
                }
                Ok(match answer.answer.allowed {
                    Some(true) => Exit::Ok,
                    Some(false) => Exit::Deny,
                    None => Exit::Bad,
                })
            }
        };
    }
    let creds = match token {
        Some((creds, _)) => creds,
        None => {
            let env = |k: &str| std::env::var(k).ok();
            let source = crate::openstack::Source {
                cloud: args.os_cloud.as_deref(),
                clouds_yaml: args.clouds_yaml.as_deref(),
                ..Default::default()
            };
            let settings = crate::openstack::settings_with(&source, &env, &[])?;
            crate::openstack::login::caller_with_roles(&settings, &args.roles)?.credentials
        }
    };
    let target = target.unwrap_or_else(|| creds::default_target(&creds));
    let action = args.action.as_deref().unwrap_or_default();
    let Some(enforcer) = services.for_rule(action) else {
        return Err(Error::Usage(format!(
            "`{action}` is a rule of none of the loaded sets ({}): load the service that asks for it",
            services.names().join(", ")
        ))
        .into());
    };
    let decision = enforcer.enforce(action, &target, &creds).map_err(|e| {
        Error::Usage(format!(
            "cannot decide `{action}`: {e}; the service would fail the request (HTTP 500)"
        ))
    })?;
    match args.format {
        Format::Text if args.quiet => {
            write!(out, "{}", report::oslo::answer_line(action, &decision))?
        }
        Format::Text => write!(out, "{}", report::oslo::text(action, &decision))?,
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report::oslo::json(action, &decision))
                .unwrap_or_default()
        )?,
    }
    Ok(if decision.allowed {
        Exit::Ok
    } else {
        Exit::Deny
    })
}

/// `check --openstack-policy ... --script FILE`: exit 2 if some line could not be checked or is unknown,
/// else 1 if some line would be refused, else 0.
fn script(
    bridge: &Bridge<'_>,
    path: &str,
    format: Format,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    let text = crate::load::read_text(path)
        .map_err(|e| Error::Usage(format!("cannot read the script `{path}`: {e}")))?;
    let path = crate::load::display_name(path);
    let lines = bridge.script(&text);
    if lines.is_empty() {
        return Err(Error::Usage(format!("`{path}` runs no `openstack` command")).into());
    }
    let (mut allowed, mut denied, mut unknown, mut bad) = (0usize, 0usize, 0usize, 0usize);
    let mut seen = Vec::new();
    for l in &lines {
        match l.answer.as_ref().map(|a| a.answer.allowed) {
            Ok(Some(true)) => allowed += 1,
            Ok(Some(false)) => denied += 1,
            Ok(None) => unknown += 1,
            Err(_) => bad += 1,
        }
        match format {
            Format::Text => write!(out, "{}", report::oslo::script_line(l, &mut seen))?,
            Format::Json => {
                let v = match &l.answer {
                    Ok(a) => {
                        let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
                        if let Some(o) = v.as_object_mut() {
                            o.insert("line".into(), l.line.into());
                            o.insert("text".into(), l.text.clone().into());
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
    if format == Format::Text {
        writeln!(
            out,
            "\n{}",
            report::oslo::script_summary(path, lines.len(), [allowed, denied, unknown, bad])
        )?;
    }
    Ok(if bad > 0 || unknown > 0 {
        Exit::Bad
    } else if denied > 0 {
        Exit::Deny
    } else {
        Exit::Ok
    })
}

/// `policy-sim lint --openstack-policy FILE...`: the oslo.policy findings (OSLO001-OSLO004) as findings of
/// the registry; exit 2 when a file cannot be read.
pub fn lint(files: &[String]) -> Result<crate::lint::Report, Error> {
    let mut report = crate::lint::Report {
        findings: Vec::new(),
        files: files.len(),
        // an unreadable file is an error (exit 2) before any report
        unread: 0,
    };
    for path in files {
        let text = crate::load::read_text(path)
            .map_err(|e| Error::Usage(format!("cannot read the policy file `{path}`: {e}")))?;
        let path = crate::load::display_name(path);
        let file = oslo::file::read(path, &text).map_err(|e| match e.at {
            Some((l, c)) => Error::Usage(format!("{path}:{l}:{c}: {}", e.message)),
            None => Error::Usage(format!("{path}: {}", e.message)),
        })?;
        for f in oslo::lint::lint(&file).map_err(Error::Usage)? {
            report.findings.push(crate::lint::from_oslo(f, &text));
        }
    }
    Ok(report)
}

/// `--credentials TOKEN.json`, read; `None` without it (then `--roles` names the caller).
/// A token's credentials and how the caller is shown.
type Token = (Map<String, Value>, String);

fn token(args: &CheckArgs) -> Result<Option<Token>, Error> {
    let Some(path) = args.credentials.as_deref() else {
        if args.roles.is_empty() {
            return Err(Error::Usage(
                "--openstack-policy needs the caller: --credentials TOKEN.json (the body of Keystone's `GET /v3/auth/tokens`), or --roles reader,member with --os-cloud NAME".into(),
            ));
        }
        return Ok(None);
    };
    let text = crate::load::read_text(path)
        .map_err(|e| Error::Usage(format!("cannot read the credentials `{path}`: {e}")))?;
    let path = crate::load::display_name(path);
    let body: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{path}:{}:{}: not JSON: {e}", e.line(), e.column())))?;
    let creds = creds::from_token(&body).map_err(|e| Error::Usage(format!("{path}: {e}")))?;
    Ok(Some((creds, format!("the token of `{path}`"))))
}
