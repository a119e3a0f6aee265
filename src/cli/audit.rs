//! `policy-sim audit`: whole-set questions for security reviewers.

use std::io::Write;

use clap::{Args, Subcommand, ValueEnum};

use super::{Exit, Failure};
use crate::audit::{self, diff::ChangeKind, Universe};
use crate::error::Error;
use crate::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuditFormat {
    #[default]
    Text,
    Json,
    /// Comma-separated values (matrix only).
    Csv,
    /// One self-contained HTML report: the matrix, the findings and each witness.
    Html,
}

#[derive(Debug, Args)]
pub struct Inputs {
    /// Policy files, directories or globs.
    #[arg(long, short = 'p', value_name = "PATH", num_args = 1.., required = true)]
    pub policies: Vec<String>,
    /// Account files (group membership, EIM links).
    #[arg(long, value_name = "FILE")]
    pub account: Vec<String>,
    /// Evaluation time (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: AuditFormat,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Every answer is computed with the engine over a universe that covers the policies' patterns exactly; each claim comes with a witness request that `policy-sim check` confirms.\n\nExit status: 0; `diff` exits 1 when NEW grants access OLD did not; 2 for bad input."
)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Every identity that may do ACTION on RESOURCE, with the granting policy, and what stops the others.
    WhoCan {
        #[command(flatten)]
        inputs: Inputs,
        #[arg(long, short = 'a')]
        action: String,
        #[arg(long, short = 'r')]
        resource: Option<String>,
    },
    /// The effective permissions of one identity (the caller of bare EIM documents when omitted).
    WhatCan {
        #[command(flatten)]
        inputs: Inputs,
        #[arg(long, short = 'i')]
        identity: Option<String>,
        #[arg(long, short = 'r')]
        resource: Option<String>,
    },
    /// Identities × permissions for every resource.
    Matrix {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Findings for reviewers: administrator-equivalent access, wildcard grants, other accounts, service accounts with objectstore_all, expiring policies, conditional grants, privilege escalation.
    Findings {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// What a change to the policies grants or removes, each change with a witness request. Exit 1 when NEW grants access OLD did not.
    Diff {
        /// The policies before (file, directory or glob).
        old: String,
        /// The policies after.
        new: String,
        #[arg(long, value_name = "FILE")]
        account: Vec<String>,
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long, short = 'f', value_enum, default_value_t)]
        format: AuditFormat,
    },
    /// The smallest sets of roles covering the needed OpenStack permissions, and narrower roles for identities holding more.
    Roles {
        /// Needed permissions, comma-separated: `compute_read,image_read`.
        #[arg(long, value_delimiter = ',', required = true)]
        needs: Vec<String>,
        #[arg(long, short = 'p', value_name = "PATH", num_args = 1..)]
        policies: Vec<String>,
        #[arg(long, value_name = "FILE")]
        account: Vec<String>,
        #[arg(long, short = 'f', value_enum, default_value_t)]
        format: AuditFormat,
    },
}

fn engine(inputs: &Inputs) -> Result<Engine, Error> {
    super::check::engine(
        &inputs.policies,
        &inputs.account,
        None,
        256 * 1024 * 1024,
        inputs.at.as_deref(),
    )
}

fn json(out: &mut impl Write, v: &impl serde::Serialize) -> Result<(), Failure> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    )?;
    Ok(())
}

fn no_csv(f: AuditFormat) -> Result<(), Failure> {
    if f == AuditFormat::Csv {
        return Err(Error::Usage(String::from("--format csv is for `audit matrix`")).into());
    }
    Ok(())
}

pub fn run(args: &AuditArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    match &args.command {
        AuditCommand::WhoCan {
            inputs,
            action,
            resource,
        } => {
            no_csv(inputs.format)?;
            let e = engine(inputs)?;
            let u = Universe::of(&e);
            let rows = audit::who_can(&e, &u, action, resource.as_deref());
            match inputs.format {
                AuditFormat::Json => {
                    let v: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|(w, d)| {
                            let resp = e.check(&w.request()).ok();
                            let by: Vec<String> = resp.iter().flat_map(|r| r.trace.iter().filter(|t| t.decisive).filter_map(|t| t.policy.clone())).collect();
                            serde_json::json!({"identity": w.identity, "decision": d.decision, "reason": d.reason, "decided_by": by, "witness": w})
                        })
                        .collect();
                    json(out, &v)?;
                }
                AuditFormat::Html => write!(
                    out,
                    "{}",
                    crate::report::html::report(&format!("who can `{action}`"), None, &[], &[])
                )?,
                _ => {
                    writeln!(
                        out,
                        "who can `{action}`{}:",
                        resource
                            .as_deref()
                            .map(|r| format!(" on `{r}`"))
                            .unwrap_or_default()
                    )?;
                    for (w, d) in &rows {
                        let resp = e.check(&w.request()).map_err(Failure::Error)?;
                        let mark = if d.allowed() { "ALLOW" } else { "deny " };
                        if d.allowed()
                            || d.reason != crate::Reason::ImplicitDeny
                            || resp.trace.iter().any(|t| {
                                t.kind == crate::eval::Kind::Policy
                                    || t.kind == crate::eval::Kind::Statement
                            })
                        {
                            writeln!(
                                out,
                                "  {mark} {} — {}",
                                w.identity.as_deref().unwrap_or("(caller)"),
                                crate::report::summary(&resp)
                            )?;
                        }
                    }
                    if !u.empty_groups.is_empty() {
                        writeln!(
                            out,
                            "  note: groups with no known member (pass --account): {}",
                            u.empty_groups.join(", ")
                        )?;
                    }
                }
            }
            Ok(Exit::Ok)
        }
        AuditCommand::WhatCan {
            inputs,
            identity,
            resource,
        } => {
            no_csv(inputs.format)?;
            let e = engine(inputs)?;
            let u = Universe::of(&e);
            let allowed = audit::what_can(&e, &u, identity.as_deref(), resource.as_deref());
            let projects: Vec<&String> = match resource {
                Some(r) if r.contains(":publicCloudProject:") => vec![r],
                Some(_) => vec![],
                None => u
                    .ovh_resources
                    .iter()
                    .filter(|r| r.contains(":publicCloudProject:"))
                    .collect(),
            };
            let rows: Vec<(String, Vec<(String, bool)>)> = match identity {
                Some(i) if i.starts_with("urn:") => projects
                    .iter()
                    .map(|p| ((*p).clone(), audit::permission_row(&e, i, p)))
                    .collect(),
                _ => vec![],
            };
            match inputs.format {
                AuditFormat::Json => json(
                    out,
                    &serde_json::json!({"identity": identity, "openstack": rows.iter().map(|(p, r)| serde_json::json!({"resource": p, "permissions": r.iter().filter(|(_, b)| *b).map(|(n, _)| n).collect::<Vec<_>>()})).collect::<Vec<_>>(), "allowed": allowed}),
                )?,
                AuditFormat::Html => write!(
                    out,
                    "{}",
                    crate::report::html::report(
                        &format!("what can {}", identity.as_deref().unwrap_or("the caller")),
                        Some(&audit::access_matrix(&e, &u)),
                        &[],
                        &[]
                    )
                )?,
                _ => {
                    writeln!(
                        out,
                        "what can {} do:",
                        identity.as_deref().unwrap_or("the caller (bare documents)")
                    )?;
                    for (p, row) in &rows {
                        let held: Vec<&str> = row
                            .iter()
                            .filter(|(_, b)| *b)
                            .map(|(n, _)| n.as_str())
                            .collect();
                        writeln!(
                            out,
                            "  OpenStack on {p}: {}",
                            if held.is_empty() {
                                String::from("none")
                            } else {
                                held.join(", ")
                            }
                        )?;
                    }
                    let mut by_resource: indexmap::IndexMap<Option<String>, Vec<&str>> =
                        indexmap::IndexMap::new();
                    for w in &allowed {
                        if e.set.matrix.permission_index(&w.action).is_none() {
                            by_resource
                                .entry(w.resource.clone())
                                .or_default()
                                .push(&w.action);
                        }
                    }
                    for (r, acts) in &by_resource {
                        writeln!(
                            out,
                            "  {} action(s){}: {}",
                            acts.len(),
                            r.as_deref().map(|r| format!(" on {r}")).unwrap_or_default(),
                            acts.join(", ")
                        )?;
                    }
                    if allowed.is_empty() {
                        writeln!(out, "  nothing")?;
                    }
                }
            }
            Ok(Exit::Ok)
        }
        AuditCommand::Matrix { inputs } => {
            let e = engine(inputs)?;
            let u = Universe::of(&e);
            let m = audit::access_matrix(&e, &u);
            match inputs.format {
                AuditFormat::Json => json(out, &m)?,
                AuditFormat::Html => {
                    let at = inputs
                        .at
                        .as_deref()
                        .and_then(|a| a.parse().ok())
                        .unwrap_or_else(jiff::Timestamp::now);
                    let f = audit::findings::findings(&e, &u, at);
                    write!(
                        out,
                        "{}",
                        crate::report::html::report(&inputs.policies.join(", "), Some(&m), &f, &[])
                    )?;
                }
                AuditFormat::Csv => {
                    writeln!(out, "cloud,resource,identity,permission_or_action,allowed")?;
                    for b in &m.blocks {
                        for r in &b.rows {
                            for (p, g) in b.permissions.iter().zip(&r.granted) {
                                writeln!(
                                    out,
                                    "{},{},{},{},{}",
                                    b.cloud,
                                    csv(b.resource.as_deref().unwrap_or("")),
                                    csv(&r.identity),
                                    csv(p),
                                    g
                                )?;
                            }
                            for a in &r.actions {
                                writeln!(
                                    out,
                                    "{},{},{},{},true",
                                    b.cloud,
                                    csv(b.resource.as_deref().unwrap_or("")),
                                    csv(&r.identity),
                                    csv(a)
                                )?;
                            }
                        }
                    }
                }
                AuditFormat::Text => {
                    for b in &m.blocks {
                        writeln!(
                            out,
                            "{}",
                            b.resource
                                .as_deref()
                                .unwrap_or("OUTSCALE EIM (no resource-level permissions)")
                        )?;
                        if !b.permissions.is_empty() {
                            writeln!(
                                out,
                                "  permissions: {}",
                                b.permissions
                                    .iter()
                                    .enumerate()
                                    .map(|(i, p)| format!("{}={p}", i + 1))
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            )?;
                        }
                        for r in &b.rows {
                            let cells: String = r
                                .granted
                                .iter()
                                .map(|g| if *g { " x" } else { " ." })
                                .collect();
                            writeln!(
                                out,
                                "  {:<70}{cells}  +{} action(s)",
                                r.identity,
                                r.actions.len()
                            )?;
                        }
                    }
                }
            }
            Ok(Exit::Ok)
        }
        AuditCommand::Findings { inputs } => {
            no_csv(inputs.format)?;
            let e = engine(inputs)?;
            let u = Universe::of(&e);
            let at = inputs
                .at
                .as_deref()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            let f = audit::findings::findings(&e, &u, at);
            match inputs.format {
                AuditFormat::Json => json(out, &f)?,
                AuditFormat::Html => write!(
                    out,
                    "{}",
                    crate::report::html::report(
                        &inputs.policies.join(", "),
                        Some(&audit::access_matrix(&e, &u)),
                        &f,
                        &[]
                    )
                )?,
                _ => {
                    for x in &f {
                        writeln!(
                            out,
                            "{}: {} — {}{}",
                            x.kind,
                            x.subject,
                            x.detail,
                            x.witness
                                .as_ref()
                                .map(|w| format!("\n    witness: policy-sim check {}", w.command()))
                                .unwrap_or_default()
                        )?;
                    }
                    writeln!(out, "{} findings", f.len())?;
                }
            }
            Ok(Exit::Ok)
        }
        AuditCommand::Diff {
            old,
            new,
            account,
            at,
            format,
        } => {
            no_csv(*format)?;
            let e_old = super::check::engine(
                std::slice::from_ref(old),
                account,
                None,
                256 * 1024 * 1024,
                at.as_deref(),
            )?;
            let e_new = super::check::engine(
                std::slice::from_ref(new),
                account,
                None,
                256 * 1024 * 1024,
                at.as_deref(),
            )?;
            let changes = audit::diff::diff(&e_old, &e_new);
            match format {
                AuditFormat::Json => json(out, &changes)?,
                AuditFormat::Html => write!(
                    out,
                    "{}",
                    crate::report::html::report(
                        &format!("diff {old} → {new}"),
                        None,
                        &[],
                        &changes
                    )
                )?,
                _ => {
                    for c in &changes {
                        let verb = if c.kind == ChangeKind::Granted {
                            "GRANTS"
                        } else {
                            "removes"
                        };
                        writeln!(
                            out,
                            "{verb} {} {} action(s){}: {}\n    witness: policy-sim check {}",
                            c.identity.as_deref().unwrap_or("(caller)"),
                            c.actions.len(),
                            c.resource
                                .as_deref()
                                .map(|r| format!(" on {r}"))
                                .unwrap_or_default(),
                            c.actions
                                .iter()
                                .take(8)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                                + if c.actions.len() > 8 { ", ..." } else { "" },
                            c.witness.command()
                        )?;
                    }
                    let granted = changes
                        .iter()
                        .filter(|c| c.kind == ChangeKind::Granted)
                        .count();
                    writeln!(
                        out,
                        "{} changes: {granted} grant new access, {} remove access",
                        changes.len(),
                        changes.len() - granted
                    )?;
                }
            }
            Ok(if changes.iter().any(|c| c.kind == ChangeKind::Granted) {
                Exit::Deny
            } else {
                Exit::Ok
            })
        }
        AuditCommand::Roles {
            needs,
            policies,
            account,
            format,
        } => {
            no_csv(*format)?;
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
            let narrower = if policies.is_empty() {
                Vec::new()
            } else {
                let e = super::check::engine(policies, account, None, 256 * 1024 * 1024, None)?;
                let u = Universe::of(&e);
                audit::roles::narrower(&e, &u, bits)
            };
            match format {
                AuditFormat::Json => json(
                    out,
                    &serde_json::json!({"needs": needs, "smallest": covers, "narrower": narrower}),
                )?,
                _ => {
                    writeln!(out, "smallest role sets for {}:", needs.join(", "))?;
                    for c in &covers {
                        writeln!(out, "  {}", c.join(" + "))?;
                    }
                    for n in &narrower {
                        writeln!(
                            out,
                            "{} holds {} on {}: {} would do (drops {})",
                            n.identity,
                            n.holds.join(" + "),
                            n.resource,
                            n.would_do.join(" + "),
                            n.extra.join(", ")
                        )?;
                    }
                }
            }
            Ok(Exit::Ok)
        }
    }
}

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
