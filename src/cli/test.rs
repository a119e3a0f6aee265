//! `policy-sim test FILE...`: expectation files pin what a policy set must and must not allow.
//!
//! ```json
//! {"policies": ["../policies/examples/ovh"], "account": ["../policies/examples/accounts/ovh-account.json"],
//!  "at": "2026-06-01T12:00:00Z",
//!  "cases": [{"name": "...", "identity": "...", "action": "...", "resource": "...", "context": {},
//!             "expect": "allow", "reason": "explicit_allow"}]}
//! ```
//! Paths are relative to the expectation file. Exit 0 when every case passes, 1 on any failure, 2 for bad input.

use std::io::Write;
use std::path::Path;

use clap::Args;
use indexmap::IndexMap;
use serde::Deserialize;

use super::{Exit, Failure};
use crate::error::{Error, Problem};
use crate::model::request::Request;
use crate::source::{Loc, SourceMap};

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every case passes, 1 when one fails, 2 for bad input.\n\nSee README, \"policy-sim test\", for the file format."
)]
pub struct TestArgs {
    /// Expectation files.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,
    /// Policies to test instead of those the files name.
    #[arg(long, short = 'p', value_name = "PATH", num_args = 1..)]
    pub policies: Vec<String>,
    /// A Terraform/OpenTofu plan (`terraform show -json plan.out > plan.json`) whose planned IAM objects are tested, with the policies, instead of the files' `terraform_plan`. Repeatable.
    #[arg(long, value_name = "PLAN.json")]
    pub terraform_plan: Vec<String>,
    /// Account files instead of those the files name.
    #[arg(long, value_name = "FILE")]
    pub account: Vec<String>,
    /// Print the trace of passing cases too (text output).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print only the failed cases (their `FAIL` line and what was expected, no trace) and the count (text output). Exit status unchanged.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Output format: `text` (PASS/FAIL lines; `human` is an alias), `json` (one document with every case), or `junit` (JUnit XML, for CI test reports).
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: TestFormat,
}

/// `test --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TestFormat {
    /// PASS / FAIL lines, the trace of each failure, a count (`human` is an alias).
    #[default]
    #[value(alias = "human")]
    Text,
    /// One JSON document: `passed`, `failed`, and every case with its file, line, expectation and answer.
    Json,
    /// JUnit XML: one testsuite per file, one testcase per case, a failure element for each failed case.
    Junit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationFile {
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    account: Vec<String>,
    /// Terraform plans (`terraform show -json`), read with the policies.
    #[serde(default)]
    terraform_plan: Vec<String>,
    at: Option<String>,
    #[serde(default)]
    description: Option<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: Option<String>,
    identity: Option<String>,
    action: String,
    resource: Option<String>,
    #[serde(default)]
    context: IndexMap<String, String>,
    at: Option<String>,
    expect: Expect,
    reason: Option<crate::Reason>,
    /// The case names an action or identity nothing loaded knows, on purpose.
    #[serde(default)]
    unknown_ok: bool,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Allow,
    Deny,
}

impl<'de> Deserialize<'de> for crate::Reason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "explicit_allow" => Ok(crate::Reason::ExplicitAllow),
            "explicit_deny" => Ok(crate::Reason::ExplicitDeny),
            "implicit_deny" => Ok(crate::Reason::ImplicitDeny),
            other => Err(serde::de::Error::custom(format!("unknown reason `{other}`, expected `explicit_allow`, `explicit_deny` or `implicit_deny`"))),
        }
    }
}

/// Read and parse one expectation file, located errors on failure.
fn read(path: &str) -> Result<(ExpectationFile, SourceMap, Loc), Error> {
    let text = crate::load::read_text(path)
        .map_err(|e| Error::Usage(format!("cannot read expectation file `{path}`: {e}")))?;
    let mut sources = SourceMap::new();
    let id = sources.add(crate::load::display_name(path), text.as_str(), None);
    let mut de = serde_json::Deserializer::from_str(&text);
    match serde_path_to_error::deserialize::<_, ExpectationFile>(&mut de) {
        Ok(f) => Ok((f, sources, Loc::new(id, ""))),
        Err(e) => {
            let pointer = crate::source::pointer_of_path(e.path());
            let inner = e.into_inner();
            let p = if inner.is_data() {
                crate::load::shape_problem(Loc::new(id, pointer), &inner.to_string())
            } else {
                Problem {
                    message: format!("invalid JSON: {inner}"),
                    at: crate::error::At::LineColumn(
                        Loc::new(id, ""),
                        inner.line(),
                        inner.column(),
                    ),
                    help: None,
                }
            };
            Err(Error::from_problems(vec![p.help("an expectation file is {\"policies\": [...], \"account\"?: [...], \"terraform_plan\"?: [...], \"at\"?: \"...\", \"cases\": [{\"identity\", \"action\", \"resource\", \"expect\": \"allow\"|\"deny\", \"reason\"?, \"unknown_ok\"?}]}")], &sources))
        }
    }
}

pub fn run(args: &TestArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    use crate::report::expectations::{self as render, CaseResult};
    let text = args.format == TestFormat::Text;
    super::quiet_text_only(args.quiet, &args.format, &TestFormat::Text)?;
    let mut results: Vec<CaseResult> = Vec::new();
    for file in &args.files {
        let (spec, sources, root) = read(file)?;
        let base = Path::new(file).parent().unwrap_or(Path::new("."));
        let rel = |p: &String| {
            if Path::new(p).is_absolute() {
                p.clone()
            } else {
                base.join(p).display().to_string()
            }
        };
        let policies: Vec<String> = if args.policies.is_empty() {
            spec.policies.iter().map(rel).collect()
        } else {
            args.policies.clone()
        };
        let accounts: Vec<String> = if args.account.is_empty() {
            spec.account.iter().map(rel).collect()
        } else {
            args.account.clone()
        };
        let plans: Vec<String> = if args.terraform_plan.is_empty() {
            spec.terraform_plan.iter().map(rel).collect()
        } else {
            args.terraform_plan.clone()
        };
        if policies.is_empty() && plans.is_empty() {
            return Err(Error::Usage(format!(
                "{file}: no policies: name them under \"policies\" or pass --policies"
            ))
            .into());
        }
        let (engine, _) = super::check::engine_with_plans(&super::check::Sources {
            policies: &policies,
            accounts: &accounts,
            plans: &plans,
            at: spec.at.as_deref(),
            ..Default::default()
        })?;
        if let (Some(d), true) = (&spec.description, text && !args.quiet) {
            writeln!(out, "{file}: {d}")?;
        }
        for (i, case) in spec.cases.iter().enumerate() {
            let at = root.key("cases").index(i);
            let line_no = sources.position(&at).line;
            let line = line_no.map_or_else(String::new, |l| format!(":{l}"));
            let label = case.name.clone().unwrap_or_else(|| {
                format!(
                    "{} {} {}",
                    case.identity.as_deref().unwrap_or("(caller)"),
                    case.action,
                    case.resource.as_deref().unwrap_or("")
                )
            });
            let mut req = Request::new(
                case.identity.as_deref(),
                &case.action,
                case.resource.as_deref(),
            );
            req.context = case.context.clone();
            req.at = case.at.clone();
            let resp = match engine.prepare(&req).map(|p| engine.explain(&p)) {
                Ok(r) => r,
                Err(e) => {
                    return Err(
                        Error::Usage(format!("{file}{line}: case {i} ({label}): {e}")).into(),
                    )
                }
            };
            // A misspelt action or identity would make the case prove nothing: refuse it unless told.
            if !case.unknown_ok {
                let mut warnings: Vec<String> = super::check::unknown_action_note(&engine, &resp)
                    .into_iter()
                    .collect();
                warnings.extend(crate::eval::request_warnings(&engine, &req));
                if !warnings.is_empty() {
                    return Err(Error::Usage(format!(
                        "{file}{line}: case {i} ({label}): {}\n  = help: fix the case, or add `\"unknown_ok\": true` to it if the name is meant to be unknown",
                        warnings.join("; ")
                    ))
                    .into());
                }
            }
            let got = if resp.decision == crate::Verdict::Allow {
                Expect::Allow
            } else {
                Expect::Deny
            };
            let reason_ok = case.reason.is_none_or(|r| r == resp.reason);
            let expect = match case.expect {
                Expect::Allow => "allow",
                Expect::Deny => "deny",
            };
            let result = CaseResult {
                file: file.clone(),
                line: line_no,
                name: label,
                expected: match case.reason {
                    Some(r) => format!("{expect} ({})", r.as_str()),
                    None => expect.to_owned(),
                },
                decision: if got == Expect::Allow {
                    "allow"
                } else {
                    "deny"
                },
                reason: resp.reason.as_str(),
                passed: got == case.expect && reason_ok,
                explanation: crate::report::text(&resp),
            };
            if text && args.quiet {
                write!(out, "{}", render::case_quiet(&result))?;
            } else if text {
                write!(out, "{}", render::case_text(&result, args.verbose))?;
            }
            results.push(result);
        }
    }
    match args.format {
        TestFormat::Text => write!(out, "{}", render::summary_text(&results))?,
        TestFormat::Json => writeln!(out, "{}", render::json(&results))?,
        TestFormat::Junit => write!(out, "{}", render::junit(&results))?,
    }
    let failed = results.iter().any(|r| !r.passed);
    Ok(if failed { Exit::Deny } else { Exit::Ok })
}
