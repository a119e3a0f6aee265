//! The command line: clap arguments and one thin `run` per subcommand. Exit status: 0 allow / clean,
//! 1 deny / failures, 2 usage error or bad input.

mod audit;
pub(crate) mod check;
mod export;
mod lint;
mod oslo;
mod role_matrix;
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
Conventions: `-` reads standard input wherever a file is read (once per invocation); `--format text` \
(alias `human`) or `json` everywhere, with more where they make sense; `--color auto|always|never`.\n\n\
Exit status: 0 allow, 1 deny, 2 usage error or bad input."
)]
pub struct Cli {
    /// Colour the text output: `auto` (when writing to a terminal and `NO_COLOR` is unset), `always`, `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    pub color: crate::report::color::Choice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide one request (or a batch) and explain the answer.
    Check(Box<check::CheckArgs>),
    /// Check policy files without a request: stable codes, spans, text / JSON / SARIF output.
    Lint(lint::LintArgs),
    /// Check expectation files: what a policy set must and must not allow.
    Test(test::TestArgs),
    /// Whole-set questions for reviewers: who-can, what-can, matrix, findings, diff, roles.
    Audit(audit::AuditArgs),
    /// Print the OpenStack role-to-permission matrix, or one role's row.
    Roles(role_matrix::RolesArgs),
    /// Pull an account's whole IAM state from the OVHcloud or OUTSCALE API into a snapshot directory.
    Export(export::ExportArgs),
    /// Print a shell completion script: `policy-sim completions bash > /etc/bash_completion.d/policy-sim`.
    #[command(
        after_help = "Install:\n  bash:       policy-sim completions bash > ~/.local/share/bash-completion/completions/policy-sim\n  \
zsh:        policy-sim completions zsh > ~/.zfunc/_policy-sim   (with fpath+=~/.zfunc before compinit)\n  \
fish:       policy-sim completions fish > ~/.config/fish/completions/policy-sim.fish\n  \
powershell: policy-sim completions powershell >> $PROFILE\n  \
elvish:     policy-sim completions elvish >> ~/.config/elvish/rc.elv"
    )]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Answer checks over HTTP/JSON for applications, with hot reload and Prometheus metrics.
    Serve(Box<serve::ServeArgs>),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// A short explanation for people (`human` is an alias).
    #[default]
    #[value(alias = "human")]
    Text,
    /// JSON: one object per decision (one per line with --requests).
    Json,
}

/// Run the command line; returns the exit status. Errors are printed here.
pub fn run(cli: Cli) -> Exit {
    crate::report::color::init(cli.color);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Completions { shell } => {
            // Into a buffer first: clap_complete panics on a write error such as a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "policy-sim", &mut script);
            out.write_all(&script)
                .map(|()| Exit::Ok)
                .map_err(Failure::from)
        }
        Command::Check(args) => check::run(&args, &mut out),
        Command::Audit(args) => audit::run(&args, &mut out),
        Command::Lint(args) => lint::run(&args, &mut out),
        Command::Test(args) => test::run(&args, &mut out),
        Command::Roles(args) => role_matrix::run(&args, &mut out),
        Command::Export(args) => export::run(&args, &mut out),
        Command::Serve(args) => serve::run(&args, &mut out),
    };
    match result {
        Ok(exit) => exit,
        Err(Failure::BrokenPipe) => Exit::Ok,
        Err(Failure::Error(e)) => {
            let _ = out.flush();
            let text = crate::report::diagnostic::error(&e, crate::report::color::Stream::Stderr);
            eprintln!("{text}");
            Exit::Bad
        }
    }
}

/// The clap command tree, with `--version` naming the built-in data catalogues.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    // Computed once per run; the command keeps it for the process's life.
    let long: &'static str = Box::leak(crate::report::version::long_version().into_boxed_str());
    Cli::command().long_version(long)
}

/// Parse the command line: `--color` applies to clap's own help and errors too, and standard input may
/// be named (`-`) by one input only.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = match color_arg(&args) {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => {
            clap::ColorChoice::Never
        }
        _ => clap::ColorChoice::Auto,
    };
    let mut cmd = command().color(color);
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some(msg) = stdin_twice(&matches) {
        return Err(cmd.error(clap::error::ErrorKind::ArgumentConflict, msg));
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The value of `--color` on the raw command line, before clap has parsed it.
fn color_arg(args: &[std::ffi::OsString]) -> Option<&str> {
    let mut it = args.iter().filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if a == "--" {
            return None;
        }
        if a == "--color" {
            return it.next();
        }
        if let Some(v) = a.strip_prefix("--color=") {
            return Some(v);
        }
    }
    None
}

/// Standard input can be read once: the message when `-` is the value of two inputs (two options, or one
/// option twice). The words after `--` (an `openstack` command line) are not inputs.
pub fn stdin_twice(matches: &clap::ArgMatches) -> Option<String> {
    let mut named: Vec<String> = Vec::new();
    let mut m = matches;
    loop {
        for id in m.ids() {
            let id = id.as_str();
            if id == "command" {
                continue;
            }
            if let Ok(Some(values)) = m.try_get_raw(id) {
                for v in values {
                    if v == crate::load::STDIN {
                        named.push(if matches!(id, "paths" | "files" | "old" | "new") {
                            format!("`{}`", id.to_uppercase())
                        } else {
                            format!("`--{}`", id.replace('_', "-"))
                        });
                    }
                }
            }
        }
        match m.subcommand() {
            Some((_, sub)) => m = sub,
            None => break,
        }
    }
    (named.len() > 1).then(|| {
        format!(
            "standard input (`-`) can be read once, and {} name it; save all but one input to a file",
            named.join(" and ")
        )
    })
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
            let text = crate::load::read_text(p)
                .map_err(|e| Error::Usage(format!("cannot read the matrix `{p}`: {e}")))?;
            let mut sources = crate::source::SourceMap::new();
            crate::validate::matrix_from_text(&mut sources, crate::load::display_name(p), &text)
        }
    }
}

/// `--quiet` shortens a text output: refuse it beside another format rather than ignore it.
fn quiet_text_only<F: ValueEnum + PartialEq>(
    quiet: bool,
    format: &F,
    text: &F,
) -> Result<(), Error> {
    if !quiet || format == text {
        return Ok(());
    }
    let name = format
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "--quiet shortens the text output and cannot be used with --format {name}"
    )))
}
