//! `policy-sim audit`: whole-set questions for security reviewers.

use std::io::Write;

use clap::{Args, Subcommand, ValueEnum};

use super::check::Sources;
use super::{Exit, Failure};
use crate::audit::findings::Severity;
use crate::audit::{self, diff::ChangeKind, Invocation, Scope, Universe};
use crate::error::Error;
use crate::report::audit::{emit, Answer};
use crate::Engine;

pub use crate::report::audit::Format as AuditFormat;

#[derive(Debug, Args)]
pub struct Inputs {
    /// Policy files, directories or globs (or a snapshot of `policy-sim export`).
    #[arg(long, short = 'p', value_name = "PATH", num_args = 1.., required_unless_present_any = ["account", "terraform_plan"])]
    pub policies: Vec<String>,
    /// A Terraform plan (`terraform show -json plan.out > plan.json`): its planned IAM objects are audited, with --policies for what Terraform does not manage.
    #[arg(long, value_name = "PLAN.json")]
    pub terraform_plan: Vec<String>,
    /// Account files (group membership, EIM links).
    #[arg(long, value_name = "FILE")]
    pub account: Vec<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format (csv: matrix only; sarif: findings only; html: one self-contained page).
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: AuditFormat,
}

/// What every audit command is asked under.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Evaluation time (RFC 3339); default: now, and the instants after it where a date condition or an expiry changes an answer.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Fix a condition key for the whole audit, repeatable: `request.IP=192.0.2.10`. Keys not fixed range over the edges of every condition.
    #[arg(long, short = 'c', value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub context: Vec<(String, String)>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. `request.IP=192.0.2.10`)"
        )),
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Every answer ranges over a universe that cannot miss access: every identity named, every known \
group member plus one symbolic \"any member of GROUP\" per group (OVHcloud and OUTSCALE EIM), every account root; every resource named plus \
one \"any other\" resource per wildcard pattern and resource type; the edges of every condition (a grant that \
needs a context is reported as conditional, with one that satisfies it). Each claim comes with a witness: a \
`policy-sim check` command line that confirms it.\n\nExit status: 0; `diff` exits 1 when NEW grants access OLD did \
not; `findings --fail-on SEVERITY` exits 1 on a finding that severe; 2 for bad input."
)]
pub struct AuditArgs {
    /// Print the answer's claims one a line, without witnesses, conditions' details or notes (text only): who-can / what-can `ALLOW who action on resource` (`(conditional)` when a context is needed), matrix the grid, findings each finding's first line and the count, diff one line per change and the count, roles the role sets. Exit status unchanged.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Every identity that may do ACTION (a name or a pattern such as `vps:apiovh:*`) on RESOURCE, or on any resource when omitted.
    WhoCan {
        #[command(flatten)]
        inputs: Inputs,
        /// The action asked about: a name (`vps:apiovh:reboot`, `api:ReadVms`) or a pattern (`vps:apiovh:*`).
        #[arg(long, short = 'a', value_name = "ACTION")]
        action: String,
        /// An OVHcloud resource URN; when omitted, every resource the policies name.
        #[arg(long, short = 'r', value_name = "URN")]
        resource: Option<String>,
    },
    /// The effective permissions of one identity (the caller of bare EIM documents when omitted).
    WhatCan {
        #[command(flatten)]
        inputs: Inputs,
        /// The identity: an OVHcloud URN, an OUTSCALE user name or ORN; when omitted, the caller of bare EIM documents.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Option<String>,
        /// Only this OVHcloud resource URN; when omitted, every resource the policies name.
        #[arg(long, short = 'r', value_name = "URN")]
        resource: Option<String>,
    },
    /// Identities × permissions for every resource.
    Matrix {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Findings for reviewers, each with a code, a severity and the policy's file:line: administrator-equivalent access, privilege escalation, broad and wildcard grants, other accounts, service accounts with objectstore_all, conditional grants, expiring policies.
    Findings {
        #[command(flatten)]
        inputs: Inputs,
        /// Exit 1 when a finding is at least this severe (for CI).
        #[arg(long, value_enum, value_name = "SEVERITY")]
        fail_on: Option<Severity>,
    },
    /// What a change to the policies grants or removes, each change with a witness request. Exit 1 when NEW grants access OLD did not.
    Diff {
        /// The policies before: a file, directory or glob, a snapshot of `policy-sim export`, or an account file (an OUTSCALE account file holds its policies).
        #[arg(required_unless_present = "terraform_plan")]
        old: Option<String>,
        /// The policies after.
        #[arg(required_unless_present = "terraform_plan")]
        new: Option<String>,
        /// Instead of OLD and NEW: a Terraform plan (`terraform show -json plan.out > plan.json`), its prior state against its planned state; each change names the resource address that causes it.
        #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["old", "new"])]
        terraform_plan: Option<String>,
        /// With --terraform-plan: what Terraform does not manage, added to both sides.
        #[arg(long, short = 'p', value_name = "PATH", num_args = 1.., requires = "terraform_plan")]
        policies: Vec<String>,
        /// Account files (group membership, EIM links), added to both sides.
        #[arg(long, value_name = "FILE")]
        account: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Output format (text, json or html).
        #[arg(long, short = 'f', value_enum, default_value_t)]
        format: AuditFormat,
    },
    /// The least-privilege role sets covering the needed OpenStack permissions (fewest extra permissions, then fewest roles), and narrower roles for identities holding more.
    Roles {
        /// Needed permissions, comma-separated: `compute_read,image_read`.
        #[arg(long, value_delimiter = ',', required = true)]
        needs: Vec<String>,
        /// Policies whose identities to check for more than they need.
        #[arg(long, short = 'p', value_name = "PATH", num_args = 1..)]
        policies: Vec<String>,
        /// Account files (group membership).
        #[arg(long, value_name = "FILE")]
        account: Vec<String>,
        /// A Terraform plan whose planned policies to check, like --policies.
        #[arg(long, value_name = "PLAN.json")]
        terraform_plan: Vec<String>,
        /// text or json.
        #[arg(long, short = 'f', value_enum, default_value_t)]
        format: AuditFormat,
    },
}

/// The engine of an audit's inputs: policies, accounts and Terraform plans (their notes on stderr).
fn planned_engine(inputs: &Inputs) -> Result<Engine, Error> {
    let (engine, notes) = super::check::engine_with_plans(&Sources {
        policies: &inputs.policies,
        accounts: &inputs.account,
        plans: &inputs.terraform_plan,
        at: inputs.scope.at.as_deref(),
        ..Sources::default()
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for n in notes.iter().filter(|n| seen.insert(n.as_str())) {
        eprintln!("note: {n}");
    }
    Ok(engine)
}

fn engine(policies: &[String], accounts: &[String], scope: &ScopeArgs) -> Result<Engine, Error> {
    let src = Sources {
        policies,
        accounts,
        at: scope.at.as_deref(),
        ..Sources::default()
    };
    super::check::engine_with_plans(&src).map(|(e, _)| e)
}

/// For each change of a plan's diff, the Terraform addresses of the policies deciding its witness: in the
/// planned state for a grant, in the prior state for a removal.
fn plan_causes(
    changes: &[audit::diff::Change],
    old: &Engine,
    new: &Engine,
    addresses: &indexmap::IndexMap<String, String>,
) -> Vec<Vec<String>> {
    changes
        .iter()
        .map(|c| {
            let e = if c.kind == ChangeKind::Granted {
                new
            } else {
                old
            };
            let mut causes: Vec<String> = Vec::new();
            if let Ok(resp) = e.prepare(&c.witness.request()).map(|p| e.explain(&p)) {
                for entry in resp.trace.iter().filter(|t| t.decisive) {
                    let file = entry.file.as_deref().unwrap_or("");
                    let addr = addresses
                        .get(file)
                        .cloned()
                        .unwrap_or_else(|| file.to_owned());
                    if !addr.is_empty() && !causes.contains(&addr) {
                        causes.push(addr);
                    }
                }
            }
            causes
        })
        .collect()
}

fn scope(s: &ScopeArgs) -> Scope {
    Scope {
        context: s.context.clone(),
        fixed_at: s.at.is_some(),
        actions: Vec::new(),
    }
}

fn inv(policies: &[String], accounts: &[String], s: &ScopeArgs) -> Invocation {
    Invocation {
        policies: policies.to_vec(),
        accounts: accounts.to_vec(),
        at: s.at.clone(),
        terraform_plan: None,
    }
}

/// Refuse a format the command does not offer, saying which it does.
fn offer(command: &str, f: AuditFormat, offered: &[AuditFormat]) -> Result<(), Failure> {
    if offered.contains(&f) {
        return Ok(());
    }
    let names: Vec<String> = offered
        .iter()
        .filter_map(|o| o.to_possible_value().map(|v| v.get_name().to_owned()))
        .collect();
    let asked = f
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default();
    Err(Error::Usage(format!(
        "`audit {command}` has no --format {asked}; it offers {}",
        names.join(", ")
    ))
    .into())
}

/// A progress bar on stderr for work over many identities; hidden when stderr is not a terminal.
fn progress(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && len > 50 {
        indicatif::ProgressBar::new(len as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} identities {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar
}

impl AuditCommand {
    /// The output format asked for.
    fn format(&self) -> AuditFormat {
        match self {
            AuditCommand::WhoCan { inputs, .. }
            | AuditCommand::WhatCan { inputs, .. }
            | AuditCommand::Matrix { inputs }
            | AuditCommand::Findings { inputs, .. } => inputs.format,
            AuditCommand::Diff { format, .. } | AuditCommand::Roles { format, .. } => *format,
        }
    }
}

/// Write an answer: [`emit`] in its format, or with `--quiet` its claims alone.
fn write_answer(
    out: &mut impl Write,
    quiet: bool,
    format: AuditFormat,
    a: &Answer<'_>,
) -> Result<(), Failure> {
    if quiet {
        out.write_all(crate::report::audit::quiet(a).as_bytes())?;
    } else {
        emit(out, format, a)?;
    }
    Ok(())
}

pub fn run(args: &AuditArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let format = args.command.format();
    super::quiet_text_only(args.quiet, &format, &AuditFormat::Text)?;
    let q = args.quiet;
    match &args.command {
        AuditCommand::WhoCan {
            inputs,
            action,
            resource,
        } => who_can(inputs, action, resource.as_deref(), q, out),
        AuditCommand::WhatCan {
            inputs,
            identity,
            resource,
        } => what_can(inputs, identity.as_deref(), resource.as_deref(), q, out),
        AuditCommand::Matrix { inputs } => matrix(inputs, q, out),
        AuditCommand::Findings { inputs, fail_on } => findings(inputs, *fail_on, q, out),
        AuditCommand::Diff {
            old,
            new,
            terraform_plan,
            policies,
            account,
            scope,
            format,
        } => diff(
            Sides {
                old: old.as_deref(),
                new: new.as_deref(),
                terraform_plan: terraform_plan.as_deref(),
                policies,
                account,
            },
            scope,
            *format,
            q,
            out,
        ),
        AuditCommand::Roles {
            needs,
            policies,
            account,
            terraform_plan,
            format,
        } => roles(needs, policies, account, terraform_plan, *format, q, out),
    }
}

/// An audit's engine, universe and invocation (for witnesses) from its inputs, once its format is known
/// to be one `command` offers.
fn load(
    inputs: &Inputs,
    command: &str,
    offered: &[AuditFormat],
) -> Result<(Engine, Universe, Invocation), Failure> {
    load_asking(inputs, command, offered, None)
}

/// [`load`], the universe holding `action` when it is an OVHcloud action name (see `Scope::actions`).
fn load_asking(
    inputs: &Inputs,
    command: &str,
    offered: &[AuditFormat],
    action: Option<&str>,
) -> Result<(Engine, Universe, Invocation), Failure> {
    offer(command, inputs.format, offered)?;
    let mut e = planned_engine(inputs)?;
    let mut sc = scope(&inputs.scope);
    sc.actions.extend(action.map(str::to_owned));
    let u = Universe::of(&mut e, &sc);
    let mut inv = inv(&inputs.policies, &inputs.account, &inputs.scope);
    inv.terraform_plan = inputs.terraform_plan.first().cloned();
    Ok((e, u, inv))
}

fn who_can(
    inputs: &Inputs,
    action: &str,
    resource: Option<&str>,
    quiet: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use AuditFormat::*;
    let (e, u, inv) = load_asking(inputs, "who-can", &[Text, Json, Html], Some(action))?;
    if audit::is_ovh_action_name(action)
        && !crate::load::actions::catalogue().ovh.contains(&action)
        && !e.set.matrix.roles.iter().any(|r| &*r.action == action)
    {
        eprintln!(
            "warning: `{action}` is not a known ovhcloud action (no operation of its API needs it): answered all the same, as the policies' patterns grant it"
        );
    }
    let bar = progress(u.ovh_identities.len(), "who-can");
    let (grants, eim) = audit::who_can_with_progress(&e, &u, action, resource, || bar.inc(1));
    bar.finish_and_clear();
    let answer = Answer::WhoCan {
        action,
        resource,
        grants: &grants,
        eim: &eim,
        universe: &u,
        inv: &inv,
    };
    write_answer(out, quiet, inputs.format, &answer)?;
    Ok(Exit::Ok)
}

fn what_can(
    inputs: &Inputs,
    identity: Option<&str>,
    resource: Option<&str>,
    quiet: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use AuditFormat::*;
    let (e, u, inv) = load(inputs, "what-can", &[Text, Json, Html])?;
    let (grants, eim) = audit::what_can(&e, &u, identity, resource);
    let who = identity.map(|i| match u.eim_member_of.get(i) {
        Some(g) => audit::member_label(g),
        None => u.who(i).map_or_else(|| i.to_owned(), audit::Who::label),
    });
    let answer = Answer::WhatCan {
        identity,
        who: who.as_deref().unwrap_or("the caller (bare documents)"),
        grants: &grants,
        eim: &eim,
        universe: &u,
        inv: &inv,
    };
    write_answer(out, quiet, inputs.format, &answer)?;
    Ok(Exit::Ok)
}

fn matrix(inputs: &Inputs, quiet: bool, out: &mut impl Write) -> Result<Exit, Failure> {
    use AuditFormat::*;
    let (e, u, inv) = load(inputs, "matrix", &[Text, Json, Csv, Html])?;
    let bar = progress(u.ovh_identities.len(), "matrix");
    let m = audit::access_matrix(&e, &u, || bar.inc(1));
    bar.finish_and_clear();
    // Only the HTML report shows the findings beside the matrix.
    let f = if inputs.format == Html {
        audit::findings::findings(&e, &u, e.default_at)
    } else {
        Vec::new()
    };
    let title = inputs.policies.join(", ");
    let answer = Answer::Matrix {
        title: &title,
        matrix: &m,
        findings: &f,
        universe: &u,
        inv: &inv,
    };
    write_answer(out, quiet, inputs.format, &answer)?;
    // Millions of rows freed one by one take a second; the process ends here and the system takes the
    // memory back at once.
    std::mem::forget(m);
    Ok(Exit::Ok)
}

fn findings(
    inputs: &Inputs,
    fail_on: Option<Severity>,
    quiet: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use AuditFormat::*;
    let (e, u, inv) = load(inputs, "findings", &[Text, Json, Html, Sarif])?;
    let bar = progress(u.ovh_identities.len(), "findings");
    let f = audit::findings::findings_with_progress(&e, &u, e.default_at, || bar.inc(1));
    bar.finish_and_clear();
    let title = inputs.policies.join(", ");
    let answer = Answer::Findings {
        title: &title,
        findings: &f,
        inv: &inv,
    };
    write_answer(out, quiet, inputs.format, &answer)?;
    Ok(match fail_on {
        Some(level) if f.iter().any(|x| x.severity >= level) => Exit::Deny,
        _ => Exit::Ok,
    })
}

/// What `audit diff` compares: OLD and NEW, or a Terraform plan's prior and planned states.
struct Sides<'a> {
    old: Option<&'a str>,
    new: Option<&'a str>,
    terraform_plan: Option<&'a str>,
    policies: &'a [String],
    account: &'a [String],
}

/// Both sides' engines and invocations, and with a plan the Terraform address of each policy file.
type Loaded = (
    Engine,
    Engine,
    Invocation,
    Invocation,
    Option<indexmap::IndexMap<String, String>>,
);

/// One side of `audit diff OLD NEW` as (policies, accounts): an account file (an OUTSCALE account holds
/// its policies) is that side's account, beside the `--account` files both sides share.
fn side(path: &str, account: &[String]) -> (Vec<String>, Vec<String>) {
    if crate::load::is_account_file(path) {
        let mut accounts = account.to_vec();
        accounts.push(path.to_owned());
        (Vec::new(), accounts)
    } else {
        (vec![path.to_owned()], account.to_vec())
    }
}

fn diff_sides(sides: &Sides<'_>, sc: &ScopeArgs) -> Result<Loaded, Failure> {
    let (policies, account) = (sides.policies, sides.account);
    match (sides.terraform_plan, sides.old, sides.new) {
        (Some(plan), _, _) => {
            let inputs = crate::load::terraform::diff_inputs(
                plan,
                policies,
                account,
                crate::load::Limits::default(),
            );
            for n in &inputs.notes {
                eprintln!("note: {n}");
            }
            let build = |l: crate::load::Loaded| -> Result<Engine, Error> {
                let mut e = crate::build(l, Some(super::matrix(None)?))?;
                if let Some(at) = &sc.at {
                    let t = at.parse::<jiff::Timestamp>().map_err(|_| {
                        Error::Usage(format!("--at `{at}` is not an RFC 3339 date-time"))
                    })?;
                    e = e.with_default_time(t);
                }
                Ok(e)
            };
            let e_old = build(inputs.prior)?;
            let e_new = build(inputs.planned)?;
            // The prior state has no command of its own: its witnesses are not pasteable.
            let inv_old = inv(policies, account, sc);
            let mut inv_new = inv(policies, account, sc);
            inv_new.terraform_plan = Some(plan.to_owned());
            Ok((e_old, e_new, inv_old, inv_new, Some(inputs.addresses)))
        }
        (None, Some(old), Some(new)) => {
            let (old_p, old_a) = side(old, account);
            let (new_p, new_a) = side(new, account);
            Ok((
                engine(&old_p, &old_a, sc)?,
                engine(&new_p, &new_a, sc)?,
                inv(&old_p, &old_a, sc),
                inv(&new_p, &new_a, sc),
                None,
            ))
        }
        _ => Err(Error::Usage(String::from(
            "audit diff needs OLD and NEW, or --terraform-plan PLAN.json",
        ))
        .into()),
    }
}

fn diff(
    sides: Sides<'_>,
    sc: &ScopeArgs,
    format: AuditFormat,
    quiet: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use AuditFormat::*;
    offer("diff", format, &[Text, Json, Html])?;
    let (mut e_old, mut e_new, inv_old, inv_new, plan) = diff_sides(&sides, sc)?;
    let u = Universe::joint(&mut [&mut e_old, &mut e_new], &scope(sc));
    let bar = progress(u.ovh_identities.len(), "diff");
    let changes = audit::diff::diff(&e_old, &e_new, &u, || bar.inc(1));
    bar.finish_and_clear();
    let causes = match (&plan, format) {
        (Some(addresses), Text) => Some(plan_causes(&changes, &e_old, &e_new, addresses)),
        _ => None,
    };
    let answer = Answer::Diff {
        old: sides.old.unwrap_or("prior state"),
        new: sides.new.unwrap_or("planned state"),
        changes: &changes,
        inv_old: &inv_old,
        inv_new: &inv_new,
        causes: causes.as_deref(),
        universe: &u,
    };
    write_answer(out, quiet, format, &answer)?;
    Ok(if changes.iter().any(|c| c.kind == ChangeKind::Granted) {
        Exit::Deny
    } else {
        Exit::Ok
    })
}

fn roles(
    needs: &[String],
    policies: &[String],
    account: &[String],
    terraform_plan: &[String],
    format: AuditFormat,
    quiet: bool,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use AuditFormat::*;
    offer("roles", format, &[Text, Json])?;
    let matrix = super::matrix(None)?;
    let bits = audit::roles::needs_bits(&matrix, needs).map_err(|unknown| {
        let names: Vec<&str> = matrix.permissions.iter().map(|p| p.name.as_str()).collect();
        Error::Usage(format!(
            "unknown permission(s) {}; the matrix has: {}",
            unknown.join(", "),
            names.join(", ")
        ))
    })?;
    let covers = audit::roles::smallest_covers(&matrix, bits);
    let narrower = if policies.is_empty() && terraform_plan.is_empty() {
        Vec::new()
    } else {
        let (mut e, _) = super::check::engine_with_plans(&Sources {
            policies,
            accounts: account,
            plans: terraform_plan,
            ..Sources::default()
        })?;
        let u = Universe::of(&mut e, &Scope::default());
        audit::roles::narrower(&e, &u, bits)
    };
    let answer = Answer::Roles {
        needs,
        covers: &covers,
        narrower: &narrower,
    };
    write_answer(out, quiet, format, &answer)?;
    Ok(Exit::Ok)
}
