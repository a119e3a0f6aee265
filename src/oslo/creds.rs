//! Credentials from a Keystone token, and the default target.
//!
//! The token is the body of Keystone's `GET /v3/auth/tokens` (or `POST`): `{"token": {...}}`. It is read as
//! `oslopolicy-checker --access` reads it — every field of `token`, with `roles` turned into the list of role
//! names, `user_id`, `project_id` for a project-scoped token, `system_scope: "all"` for a system-scoped one,
//! and `is_admin: false` — plus the fields keystonemiddleware gives a service's policy check that the
//! checker leaves out: `domain_id` for a domain-scoped token (without it oslo.policy would read a domain
//! token as project-scoped), `user_domain_id`, `project_domain_id`, and `is_admin_project` (the token's own
//! value, else `true`, keystonemiddleware's default when Keystone has no admin project configured).

use serde_json::{Map, Value};

/// Read the credentials from a token body. The error says what is missing.
pub fn from_token(body: &Value) -> Result<Map<String, Value>, String> {
    let Some(Value::Object(token)) = body.get("token") else {
        return Err("the credentials have no `token` object (expected the body of Keystone's `GET /v3/auth/tokens`: `{\"token\": {\"roles\": [...], \"user\": {...}, \"project\": {...}}}`)".into());
    };
    let mut creds = token.clone();
    let Some(Value::Array(roles)) = token.get("roles") else {
        return Err("the token has no `roles` list (an unscoped token carries no roles: scope it to a project, domain or system)".into());
    };
    let mut names = Vec::with_capacity(roles.len());
    for (i, r) in roles.iter().enumerate() {
        match r.get("name").and_then(Value::as_str) {
            Some(n) => names.push(Value::String(n.to_owned())),
            None => return Err(format!("`token.roles[{i}]` has no `name` string")),
        }
    }
    creds.insert("roles".into(), Value::Array(names));
    let user = token.get("user");
    let Some(user_id) = user.and_then(|u| u.get("id")).and_then(Value::as_str) else {
        return Err("the token has no `user.id` string".into());
    };
    creds.insert("user_id".into(), Value::String(user_id.to_owned()));
    if let Some(d) = user.and_then(|u| u.get("domain")).and_then(|d| d.get("id")) {
        creds.insert("user_domain_id".into(), d.clone());
    }
    if super::eval::truthy(token.get("project")) {
        let project = token.get("project");
        let Some(pid) = project.and_then(|p| p.get("id")) else {
            return Err("`token.project` has no `id`".into());
        };
        creds.insert("project_id".into(), pid.clone());
        if let Some(d) = project
            .and_then(|p| p.get("domain"))
            .and_then(|d| d.get("id"))
        {
            creds.insert("project_domain_id".into(), d.clone());
        }
    }
    if super::eval::truthy(token.get("system")) {
        creds.insert("system_scope".into(), Value::String("all".into()));
    }
    if super::eval::truthy(token.get("domain")) {
        let Some(did) = token.get("domain").and_then(|d| d.get("id")) else {
            return Err("`token.domain` has no `id`".into());
        };
        creds.insert("domain_id".into(), did.clone());
    }
    let admin_project = token
        .get("is_admin_project")
        .cloned()
        .unwrap_or(Value::Bool(true));
    creds.insert("is_admin_project".into(), admin_project);
    creds.insert("is_admin".into(), Value::Bool(false));
    Ok(creds)
}

/// The target `oslopolicy-checker` uses without `--target`: the token's own user and, if any, project.
pub fn default_target(creds: &Map<String, Value>) -> Map<String, Value> {
    let mut target = Map::new();
    if let Some(u) = creds.get("user_id") {
        target.insert("user_id".into(), u.clone());
    }
    if let Some(p) = creds
        .get("project_id")
        .filter(|p| super::eval::truthy(Some(p)))
    {
        target.insert("project_id".into(), p.clone());
    }
    target
}
