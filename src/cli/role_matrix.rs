//! `policy-sim roles [ROLE]` and `roles --for COMMAND`: the role-to-permission matrix, and the least-privilege
//! role sets a command needs.

use std::io::Write;

use clap::Args;

use super::{Exit, Failure, Format};
use crate::error::Error;

#[derive(Debug, Args)]
pub struct RolesArgs {
    /// One role action (`publicCloudProject:openstack:computeOperator`, or just `computeOperator`).
    #[arg(conflicts_with = "for_command")]
    pub role: Option<String>,
    /// The least-privilege sets of roles (fewest extra permissions, then fewest roles) that allow an OpenStack command (`"openstack server create --image I"`), API call or SDK call: every permission of its required calls covered.
    #[arg(long = "for", value_name = "COMMAND")]
    pub for_command: Option<String>,
    /// A matrix file instead of the built-in one (policies/openstack-role-matrix.json).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(args: &RolesArgs, out: &mut impl Write) -> Result<Exit, Failure> {
    let m = super::matrix(args.matrix.as_deref())?;
    if let Some(command) = &args.for_command {
        return roles_for(&m, command, args.format, out);
    }
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

/// `roles --for "openstack server create"`: the command's calls, the permissions its required calls need,
/// and the least-privilege sets of roles carrying them all (`src/openstack/cover.rs`).
fn roles_for(
    m: &crate::Matrix,
    command: &str,
    format: Format,
    out: &mut impl Write,
) -> Result<Exit, Failure> {
    use crate::openstack::{cover, plan, render, Target};
    let target = Target::from_args(&[command.to_owned()])?;
    let plan = plan(&target)?;
    let mut needed: Vec<String> = Vec::new();
    for c in plan.calls.iter().filter(|c| c.required()) {
        if !needed.contains(&c.call.permission) {
            needed.push(c.call.permission.clone());
        }
    }
    let cover = cover::smallest(m, &needed)?;
    match format {
        Format::Text => write!(out, "{}", render::cover_text(&plan, &cover))?,
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&render::cover_json(&plan, &cover)).unwrap_or_default()
        )?,
    }
    Ok(Exit::Ok)
}
