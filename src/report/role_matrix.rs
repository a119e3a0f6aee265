//! `policy-sim roles`: the OpenStack role-to-permission matrix as a grid, one role's row, or JSON.

use std::fmt::Write as _;

use crate::model::matrix::{Matrix, Role};

/// Whether `role` carries permission `i` of the matrix.
fn carries(role: &Role, i: usize) -> bool {
    role.bits & (1 << i) != 0
}

/// The whole matrix: one row per role, one numbered column per permission, a legend and the source.
pub fn grid(m: &Matrix, roles: &[&Role]) -> String {
    let mut out = String::new();
    let width = m.roles.iter().map(|r| r.action.len()).max().unwrap_or(0);
    let _ = write!(out, "{:width$} ", "");
    for i in 0..m.permissions.len() {
        let _ = write!(out, "{:>3}", i + 1);
    }
    out.push('\n');
    for r in roles {
        let _ = write!(out, "{:width$} ", r.action);
        for i in 0..m.permissions.len() {
            let _ = write!(out, "{:>3}", if carries(r, i) { "x" } else { "." });
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, p) in m.permissions.iter().enumerate() {
        let _ = writeln!(out, "{:>3} {:<26} {}", i + 1, p.name, p.service);
    }
    let _ = writeln!(out, "\nsource: {}", m.source);
    out
}

/// Each role's row: its action, then every permission marked `x` (carried) or `.`, with its service.
pub fn rows(m: &Matrix, roles: &[&Role]) -> String {
    let mut out = String::new();
    for r in roles {
        let _ = writeln!(out, "{}", r.action);
        for (i, p) in m.permissions.iter().enumerate() {
            let mark = if carries(r, i) { "x" } else { "." };
            let _ = writeln!(out, "  {mark} {:<26} {}", p.name, p.service);
        }
    }
    out
}

/// The JSON of one role (`one`: the object of the first role alone) or of the whole matrix (its source,
/// its permissions and every role), pretty-printed with a final newline.
pub fn json(m: &Matrix, roles: &[&Role], one: bool) -> String {
    let rows: Vec<serde_json::Value> = roles
        .iter()
        .map(|r| {
            let services: Vec<&str> = m
                .permissions
                .iter()
                .enumerate()
                .filter(|(i, _)| carries(r, *i))
                .map(|(_, p)| p.service.as_str())
                .collect();
            serde_json::json!({"role": &*r.action, "permissions": m.row(r), "services": services})
        })
        .collect();
    let doc = if one {
        rows.into_iter().next().unwrap_or_default()
    } else {
        serde_json::json!({"source": m.source, "permissions": m.permissions, "roles": rows})
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
