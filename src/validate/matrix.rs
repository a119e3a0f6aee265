//! The role matrix file → [`Matrix`].

use crate::error::{Error, Problem};
use crate::load::raw::MatrixFile;
use crate::model::matrix::{Matrix, Role};
use crate::source::{Loc, SourceMap};

/// Parse and check a matrix file (`--matrix FILE` or the built-in one).
pub fn matrix_from_text(sources: &mut SourceMap, name: &str, text: &str) -> Result<Matrix, Error> {
    let id = sources.add(name, text, None);
    let root = Loc::new(id, "");
    let mut de = serde_json::Deserializer::from_str(text);
    let file: MatrixFile = match serde_path_to_error::deserialize(&mut de) {
        Ok(f) => f,
        Err(e) => {
            let loc = Loc::new(id, crate::source::pointer_of_path(e.path()));
            let inner = e.into_inner();
            let p = if inner.is_data() {
                crate::load::shape_problem(loc, &inner.to_string())
            } else {
                Problem {
                    message: format!("invalid JSON: {inner}"),
                    at: crate::error::At::LineColumn(root, inner.line(), inner.column()),
                    help: None,
                }
            };
            return Err(Error::from_problems(vec![p], sources));
        }
    };
    let mut problems = Vec::new();
    if file.permissions.is_empty() || file.permissions.len() > 64 {
        problems.push(Problem::at(
            root.key("permissions"),
            format!(
                "a matrix has 1 to 64 permissions, found {}",
                file.permissions.len()
            ),
        ));
    }
    let mut roles = Vec::new();
    for (i, role) in file.roles.iter().enumerate() {
        let mut bits = 0u64;
        for (j, p) in role.permissions.iter().enumerate() {
            match file.permissions.iter().position(|q| &q.name == p) {
                Some(k) => bits |= 1 << k,
                None => problems.push(Problem::at(root.key("roles").index(i).key("permissions").index(j), format!("unknown permission `{p}`; the matrix's `permissions` list does not have it"))),
            }
        }
        if roles.iter().any(|r: &Role| *r.action == *role.action) {
            problems.push(Problem::at(
                root.key("roles").index(i),
                format!("role `{}` is listed twice", role.action),
            ));
        }
        roles.push(Role {
            action: role.action.as_str().into(),
            bits,
        });
    }
    if !problems.is_empty() {
        return Err(Error::from_problems(problems, sources));
    }
    Ok(Matrix {
        source: file.source,
        origin: name.to_owned(),
        permissions: file.permissions,
        roles,
    })
}
