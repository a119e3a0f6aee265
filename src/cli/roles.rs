//! `policy-sim roles [ROLE]`: the role-to-permission matrix.

use std::io::Write;

use clap::Args;

use super::{Exit, Failure, Format};
use crate::error::Error;

#[derive(Debug, Args)]
pub struct RolesArgs {
    /// One role action (`publicCloudProject:openstack:computeOperator`, or just `computeOperator`).
    pub role: Option<String>,
    /// A matrix file instead of the built-in one (policies/openstack-role-matrix.json).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: &RolesArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let m = super::matrix(args.matrix.as_deref())?;
    let roles: Vec<&crate::model::matrix::Role> = match &args.role {
        None => m.roles.iter().collect(),
        Some(r) => {
            let found = m.role(r).or_else(|| {
                m.roles
                    .iter()
                    .find(|x| x.action.rsplit(':').next() == Some(r.as_str()))
            });
            match found {
                Some(role) => vec![role],
                None => {
                    let names: Vec<&str> = m.roles.iter().map(|x| &*x.action).collect();
                    let short: Vec<&str> = names
                        .iter()
                        .map(|n| n.rsplit(':').next().unwrap_or(n))
                        .collect();
                    let wanted = r.rsplit(':').next().unwrap_or(r);
                    let hint = crate::load::closest(wanted, &short)
                        .and_then(|c| names.iter().find(|n| n.ends_with(&format!(":{c}"))))
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    return Err(Error::Usage(format!(
                        "unknown role `{r}`{hint}\nknown roles: {}",
                        names.join(", ")
                    ))
                    .into());
                }
            }
        }
    };
    match args.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = roles
                .iter()
                .map(|r| serde_json::json!({"role": &*r.action, "permissions": m.row(r), "services": m.permissions.iter().enumerate().filter(|(i, _)| r.bits & (1 << i) != 0).map(|(_, p)| p.service.as_str()).collect::<Vec<_>>()}))
                .collect();
            let doc = if args.role.is_some() {
                rows.into_iter().next().unwrap_or_default()
            } else {
                serde_json::json!({"source": m.source, "permissions": m.permissions, "roles": rows})
            };
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        Format::Text if args.role.is_some() => {
            for r in &roles {
                writeln!(out, "{}", r.action)?;
                for (i, p) in m.permissions.iter().enumerate() {
                    let has = r.bits & (1 << i) != 0;
                    writeln!(
                        out,
                        "  {} {:<26} {}",
                        if has { "x" } else { "." },
                        p.name,
                        p.service
                    )?;
                }
            }
        }
        Format::Text => {
            // A grid: one row per role, one column per permission (numbered, with a legend).
            let width = m.roles.iter().map(|r| r.action.len()).max().unwrap_or(0);
            write!(out, "{:width$} ", "")?;
            for i in 0..m.permissions.len() {
                write!(out, "{:>3}", i + 1)?;
            }
            writeln!(out)?;
            for r in &roles {
                write!(out, "{:width$} ", r.action)?;
                for i in 0..m.permissions.len() {
                    write!(out, "{:>3}", if r.bits & (1 << i) != 0 { "x" } else { "." })?;
                }
                writeln!(out)?;
            }
            writeln!(out)?;
            for (i, p) in m.permissions.iter().enumerate() {
                writeln!(out, "{:>3} {:<26} {}", i + 1, p.name, p.service)?;
            }
            writeln!(out, "\nsource: {}", m.source)?;
        }
    }
    Ok(Exit::Ok)
}
