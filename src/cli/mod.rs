//! The command line: clap arguments and one thin `run` per subcommand. Exit status: 0 allow / clean,
//! 1 deny / failures, 2 usage error or bad input.

mod audit;
pub(crate) mod check;
mod export;
mod lint;
mod oslo;
mod roles;
mod serve;
mod test;

use std::io::Write;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;

/// The fixed exit statuses scripts depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Allowed, or the batch was fully evaluated.
    Ok = 0,
    /// Denied.
    Deny = 1,
    /// Usage error or bad input.
    Bad = 2,
}

#[derive(Debug, Parser)]
#[command(
    name = "policy-sim",
    version,
    about = "Offline IAM policy simulator for OVHcloud IAM and OUTSCALE EIM: may identity X do action Y on resource Z, and why?",
    long_about = "Offline IAM policy simulator for OVHcloud IAM and OUTSCALE EIM.\n\n\
It answers \"may identity X do action Y on resource Z — and why?\" from the policy JSON alone, as the cloud \
would: OVHcloud policies as `GET /v2/iam/policy` returns them (identities, resources, allow / except / deny, \
permission groups, conditions, expiry) with the OpenStack role matrix, and OUTSCALE EIM policy documents \
with an account file saying who is linked to what.",
    after_help = "Examples:\n  \
policy-sim check --policies policies/examples/ovh \\\n      \
--identity urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f \\\n      \
--action compute_read --resource urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\n  \
policy-sim check --policies policies/examples/outscale/read-only.json --action api:ReadVms\n  \
policy-sim roles publicCloudProject:openstack:computeOperator\n\n\
Exit status: 0 allow, 1 deny, 2 usage error or bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide one request (or a batch) and explain the answer.
    Check(Box<check::CheckArgs>),
    /// Check policy files without a request: stable codes, spans, human / JSON / SARIF output.
    Lint(lint::LintArgs),
    /// Check expectation files: what a policy set must and must not allow.
    Test(test::TestArgs),
    /// Whole-set questions for reviewers: who-can, what-can, matrix, findings, diff, roles.
    Audit(audit::AuditArgs),
    /// Print the OpenStack role-to-permission matrix, or one role's row.
    Roles(roles::RolesArgs),
    /// Pull an account's whole IAM state from the OVHcloud or OUTSCALE API into a snapshot directory.
    Export(export::ExportArgs),
    /// Answer checks over HTTP/JSON for applications, with hot reload and Prometheus metrics.
    Serve(Box<serve::ServeArgs>),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A short explanation for people.
    #[default]
    Text,
    /// JSON: one object per decision (one per line with --requests).
    Json,
}

/// Run the command line; returns the exit status. Errors are printed here.
pub fn run(cli: Cli) -> Exit {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &mut out),
        Command::Audit(args) => audit::run(&args, &mut out),
        Command::Lint(args) => lint::run(&args, &mut out),
        Command::Test(args) => test::run(&args, &mut out),
        Command::Roles(args) => roles::run(&args, &mut out),
        Command::Export(args) => export::run(&args, &mut out),
        Command::Serve(args) => serve::run(&args, &mut out),
    };
    match result {
        Ok(exit) => exit,
        Err(Failure::BrokenPipe) => Exit::Ok,
        Err(Failure::Error(e)) => {
            let _ = out.flush();
            eprintln!("{e}");
            Exit::Bad
        }
    }
}

/// Why a command stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The reader went away (`| head`): a clean exit.
    BrokenPipe,
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Error(Error::Usage(format!("cannot write the output: {e}")))
        }
    }
}

/// Load the role matrix: `--matrix FILE` or the built-in one.
fn matrix(path: Option<&str>) -> Result<crate::Matrix, Error> {
    match path {
        None => crate::validate::builtin_matrix(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::Usage(format!("cannot read the matrix `{p}`: {e}")))?;
            let mut sources = crate::source::SourceMap::new();
            crate::validate::matrix_from_text(&mut sources, p, &text)
        }
    }
}
