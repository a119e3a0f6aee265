//! `policy-sim lint PATH|GLOB...`: findings with stable codes, for people and for CI.

use std::io::Write;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::{Exit, Failure};
use crate::error::Error;
use crate::lint::{rule, Level, Options, RULES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LintFormat {
    /// rustc-style, with the source line and a caret under the span (`human` is an alias).
    #[default]
    #[value(alias = "human")]
    Text,
    /// One JSON array of findings.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when no finding reaches the --deny level (default: error), 1 when some do, 2 for usage errors or an input that cannot be read (missing, unreadable, a pattern matching no file; still reported as a finding). A file that is not JSON is a finding (PS001), not bad input.\n\n\
Codes: `policy-sim lint --explain CODE` explains one; the README lists them all.\n\n\
Example (CI): policy-sim lint 'policies/**/*.json' --format sarif > policy-sim.sarif"
)]
pub struct LintArgs {
    /// Files, directories (walked for *.json) or globs: OVHcloud policies, permission and resource groups, EIM documents and account files.
    #[arg(value_name = "PATH|GLOB", required_unless_present_any = ["explain", "openstack_policy", "terraform_plan"])]
    pub paths: Vec<String>,
    /// A Terraform/OpenTofu plan (`terraform show -json plan.out > plan.json`): its planned IAM objects are linted, each finding named after its resource address. Repeatable.
    #[arg(long, value_name = "PLAN.json")]
    pub terraform_plan: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: LintFormat,
    /// Fail (exit 1) on findings of this level or above (`error`, `warning`, `info`), or raise a code to error. Repeatable.
    #[arg(long, value_name = "LEVEL|CODE")]
    pub deny: Vec<String>,
    /// Lower a code to a warning. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub warn: Vec<String>,
    /// Silence a code. Repeatable.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// "Now" for expiry checks (RFC 3339); default: the current time.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// A role-matrix file instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<String>,
    /// oslo.policy files (YAML or JSON) to lint instead: syntax errors, undefined `rule:` references, overrides broader than the shipped default, unknown rule names (codes OSLO001-OSLO004).
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "paths")]
    pub openstack_policy: Vec<String>,
    /// Explain one code and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
    /// One line per finding, `FILE:LINE:COLUMN: level[CODE]: message`, without the source snippet or help, then the count (text only). Exit status unchanged.
    #[arg(long, short = 'q', conflicts_with = "explain")]
    pub quiet: bool,
}

fn known(code: &str) -> Result<&'static str, Error> {
    rule(code).map(|r| r.code).ok_or_else(|| {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        Error::Usage(format!(
            "unknown lint code `{code}`; codes are {}",
            codes.join(", ")
        ))
    })
}

pub fn run(args: &LintArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    super::quiet_text_only(args.quiet, &args.format, &LintFormat::Text)?;
    if let Some(code) = &args.explain {
        let r = rule(known(code)?)
            .ok_or_else(|| Error::Usage(format!("unknown lint code `{code}`")))?;
        writeln!(
            out,
            "{} ({}) — default level: {}\n\n{}\n\nWhy it matters: {}.",
            r.code,
            r.name,
            r.level.as_str(),
            r.explain,
            r.why
        )?;
        return Ok(Exit::Ok);
    }
    let mut threshold = Level::Error;
    let mut raise = Vec::new();
    for d in &args.deny {
        match Level::parse(d) {
            Some(l) => threshold = l,
            None => raise.push(known(d)?),
        }
    }
    let lower = args
        .warn
        .iter()
        .map(|c| known(c))
        .collect::<Result<Vec<_>, _>>()?;
    let silence = args
        .allow
        .iter()
        .map(|c| known(c))
        .collect::<Result<Vec<_>, _>>()?;
    let at = match &args.at {
        Some(s) => s
            .parse::<jiff::Timestamp>()
            .map_err(|_| Error::Usage(format!("--at `{s}` is not an RFC 3339 date-time")))?,
        None => jiff::Timestamp::now(),
    };
    let opts = Options {
        at,
        matrix: Arc::new(super::matrix(args.matrix.as_deref())?),
    };
    let mut report = if !args.openstack_policy.is_empty() {
        super::oslo::lint(&args.openstack_policy)?
    } else if args.terraform_plan.is_empty() {
        crate::lint::lint_paths(&args.paths, &opts)
    } else {
        let mut loaded = crate::load::Loaded::new();
        for p in &args.paths {
            loaded.add_path(p, crate::load::Role::Any);
        }
        for plan in &args.terraform_plan {
            for n in crate::load::terraform::add_plan(&mut loaded, plan).notes {
                eprintln!("note: {n}");
            }
        }
        crate::lint::lint_loaded(loaded, &opts)
    };
    report.findings.retain(|f| !silence.contains(&f.code));
    for f in &mut report.findings {
        if raise.contains(&f.code) {
            f.level = Level::Error;
        } else if lower.contains(&f.code) {
            f.level = Level::Warning;
        }
    }
    match args.format {
        LintFormat::Text if args.quiet => write!(
            out,
            "{}",
            crate::report::lint_concise::concise(&report.findings, report.files)
        )?,
        LintFormat::Text => write!(
            out,
            "{}",
            crate::report::lint_findings::human(&report.findings, report.files)
        )?,
        LintFormat::Json => writeln!(
            out,
            "{}",
            crate::report::lint_findings::json(&report.findings)
        )?,
        LintFormat::Sarif => writeln!(
            out,
            "{}",
            crate::report::lint_findings::sarif(&report.findings)
        )?,
    }
    Ok(if report.unread > 0 {
        Exit::Bad
    } else if report.findings.iter().any(|f| f.level >= threshold) {
        Exit::Deny
    } else {
        Exit::Ok
    })
}
