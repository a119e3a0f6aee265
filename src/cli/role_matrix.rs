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
    use crate::report::role_matrix as render;
    let text = match args.format {
        Format::Json => render::json(&m, &roles, args.role.is_some()),
        Format::Text if args.role.is_some() => render::rows(&m, &roles),
        Format::Text => render::grid(&m, &roles),
    };
    out.write_all(text.as_bytes())?;
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
