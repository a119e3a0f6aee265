//! Validate: raw shapes → the checked model, collecting *every* problem with its location before giving up.

mod eim;
mod matrix;
mod ovh;

use std::sync::Arc;

use crate::error::{Error, Problem};
use crate::load::{Loaded, Role};
use crate::model::matrix::Matrix;
use crate::model::PolicySet;
use crate::source::Loc;

pub use matrix::matrix_from_text;

/// The shipped role matrix (`policies/openstack-role-matrix.json`), embedded so the binary works anywhere.
pub const BUILTIN_MATRIX: &str = include_str!("../../policies/openstack-role-matrix.json");
/// The shipped OVHcloud-managed permission groups (`policies/ovh-permission-groups.json`).
pub const BUILTIN_GROUPS: &str = include_str!("../../policies/ovh-permission-groups.json");

/// The built-in matrix.
pub fn builtin_matrix() -> Result<Matrix, Error> {
    let mut sources = crate::source::SourceMap::new();
    matrix_from_text(
        &mut sources,
        "<built-in>/openstack-role-matrix.json",
        BUILTIN_MATRIX,
    )
}

/// Check everything loaded. The shipped permission groups are added first, then the account's own.
pub fn validate(mut loaded: Loaded, matrix: Arc<Matrix>) -> Result<PolicySet, Error> {
    let given = !loaded.files.is_empty() || !loaded.plans.is_empty();
    let before = loaded.ovh.len();
    loaded.add_text(
        "<built-in>/ovh-permission-groups.json",
        BUILTIN_GROUPS.to_owned(),
        Role::Policies,
    );
    // Built-in objects go first so that shipped groups come before the account's own.
    let builtin: Vec<_> = loaded.ovh.drain(before..).collect();
    let mut ovh_objects = builtin;
    ovh_objects.append(&mut loaded.ovh);

    let mut problems = std::mem::take(&mut loaded.problems);
    let ovh = ovh::Ovh::validate(
        ovh_objects,
        &loaded.sources,
        &loaded.ovh_accounts,
        &matrix,
        &mut problems,
    );
    let eim_docs = std::mem::take(&mut loaded.eim_documents);
    let eim_accounts = std::mem::take(&mut loaded.eim_accounts);
    let eim = eim::Eim::validate(&mut loaded, eim_docs, eim_accounts, &mut problems);
    problems.append(&mut loaded.problems);

    if !given && problems.is_empty() {
        problems.push(Problem {
            message: String::from("no policy file was given"),
            at: crate::error::At::Nowhere,
            help: Some(String::from("pass `--policies PATH`")),
        });
    }
    if !problems.is_empty() {
        // Nothing is evaluated unless everything is understood: a lost deny could turn into an allow and a
        // lost allow into a deny. Every problem in every file is reported, with how many inputs had one.
        let diagnostics = crate::error::resolve_all(problems, &loaded.sources);
        if !given && diagnostics.iter().all(|d| d.position.is_none()) {
            return Err(Error::Input(diagnostics));
        }
        let mut inputs = crate::error::files_named(&diagnostics);
        inputs.extend(
            loaded
                .files
                .iter()
                .filter(|f| !f.starts_with("<built-in>"))
                .cloned(),
        );
        return Err(Error::Load {
            diagnostics,
            inputs: inputs.len(),
        });
    }
    let mut warnings = crate::error::resolve_all(ovh.warnings, &loaded.sources);
    for w in &mut warnings {
        w.severity = crate::error::Severity::Warning;
        // Read the safe way or replaced: lint's PS007.
        w.code = Some("PS007");
    }
    Ok(PolicySet {
        resources: ovh.resources,
        warnings,
        sources: loaded.sources,
        matrix,
        ovh_policies: ovh.policies,
        permission_groups: ovh.permission_groups,
        resource_groups: ovh.resource_groups,
        membership: ovh.membership,
        eim_documents: eim.documents,
        eim_account: eim.account,
        eim_unlinked: eim.unlinked,
    })
}

/// A problem at a location with a help line.
fn problem(loc: &Loc, message: impl Into<String>) -> Problem {
    Problem::at(*loc, message)
}
