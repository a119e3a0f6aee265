//! A Keystone login read from the user's configuration (clouds.yaml, `OS_*`, `--os-*`, a script's
//! `export`s): who logs in and what the token is scoped to, for the bridge on any Keystone cloud.
//!
//! The login types understood (the `auth_type` of clouds.yaml, `--os-auth-type`, `OS_AUTH_TYPE`):
//! `password` (`v3password`), `v3applicationcredential`, `v3oidcaccesstoken` (EGI's federated login),
//! `v3oidcclientcredentials`, `v3oidcpassword` and the other OIDC flows, and `token` (`v3token`: a token
//! issued earlier, as in `OS_TOKEN=$(openstack token issue -c id -f value)`). Without an auth type, the
//! `openstack` CLI logs in with a token when one is given, else with a password (python-openstackclient,
//! "Authentication": <https://docs.openstack.org/python-openstackclient/latest/cli/authentication.html>).
//!
//! The roles a token carries are Keystone's role assignments (or, for federated users, the identity
//! provider's mapping; for an application credential, the roles chosen when it was created): no
//! configuration holds them, so they come from `--roles` or the token body itself. A value known only when
//! the script runs (`$(...)`, `$VAR`, `<placeholder>`) is never guessed: it is reported as such.

use serde_json::{json, Map, Value};

use super::config::Settings;
use crate::error::Error;

/// Keystone's default implied roles (`keystone-manage bootstrap`): admin → member, manager → member,
/// member → reader.
pub const IMPLIED: &[(&str, &str)] = &[
    ("admin", "member"),
    ("manager", "member"),
    ("member", "reader"),
];

/// The project id used for a project the configuration does not name, or names only at run time: the
/// default target is the token's own project, so answers about the caller's own resources hold.
pub const SYMBOLIC_PROJECT: &str = "the-project-of-the-login";

/// The kinds of login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Password,
    ApplicationCredential,
    /// `v3oidcaccesstoken`: an OIDC access token exchanged at Keystone's federation endpoint.
    OidcAccessToken,
    /// The other OIDC flows (`v3oidcclientcredentials`, `v3oidcpassword`, `v3oidcauthcode`, ...).
    Oidc,
    /// `token` / `v3token`: a token issued earlier.
    Token,
    /// A login policy-sim does not describe (`v3totp`, `v3samlpassword`, ...), or one named at run time.
    Other,
}

/// The token's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A project: its id (or [`SYMBOLIC_PROJECT`]) and how it was found.
    Project {
        id: String,
        shown: String,
    },
    Domain {
        id: String,
        shown: String,
    },
    System,
    /// An application credential's token: always the project it was created in.
    CredentialProject,
    /// No scope named: Keystone scopes the token to the user's default project, if it has one.
    DefaultProject,
}

/// A login as the configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The auth type as written (or as the CLI would choose it).
    pub auth_type: String,
    pub kind: Kind,
    /// Who logs in, in words.
    pub who: String,
    pub scope: Scope,
    /// What the configuration leaves open or sets aside, values known only at run time first.
    pub notes: Vec<String>,
}

enum Val<'a> {
    Known(&'a str),
    Runtime(&'a str, &'a str),
}

fn val<'a>(s: &'a Settings, key: &str) -> Option<Val<'a>> {
    if let Some((raw, from)) = s.runtime.get(key) {
        return Some(Val::Runtime(raw, from));
    }
    s.login_value(key).map(|(v, _)| Val::Known(v))
}

fn shown(v: &Val<'_>) -> String {
    match v {
        Val::Known(v) => format!("`{v}`"),
        Val::Runtime(raw, f) => format!("`{raw}` ({f}, known only when the script runs)"),
    }
}

fn kind_of(auth_type: &str) -> Kind {
    match auth_type.to_ascii_lowercase().as_str() {
        "password" | "v3password" | "v2password" => Kind::Password,
        "v3applicationcredential" | "applicationcredential" => Kind::ApplicationCredential,
        "v3oidcaccesstoken" => Kind::OidcAccessToken,
        t if t.starts_with("v3oidc") => Kind::Oidc,
        "token" | "v3token" | "v2token" => Kind::Token,
        _ => Kind::Other,
    }
}

/// Describe the login of a configuration.
pub fn describe(s: &Settings) -> Login {
    let mut notes = Vec::new();
    let has = |key: &str| s.secrets.contains_key(key) || s.runtime.contains_key(key);
    let auth_type = match val(s, "auth_type") {
        Some(Val::Known(t)) => t.to_owned(),
        Some(Val::Runtime(raw, from)) => {
            notes.push(format!(
                "the auth type is `{raw}` ({from}), known only when the script runs: the login is not described"
            ));
            String::from("(known at run time)")
        }
        None if has("token") => {
            notes.push(String::from("no auth type set and a token given: the openstack CLI logs in with the token (`token`)"));
            String::from("token")
        }
        None if val(s, "application_credential_id").is_some()
            || val(s, "application_credential_name").is_some() =>
        {
            notes.push(String::from("no auth type set and an application credential given: the openstack CLI logs in with it (`v3applicationcredential`)"));
            String::from("v3applicationcredential")
        }
        None => {
            notes.push(String::from(
                "no auth type set: the openstack CLI logs in with `password`",
            ));
            String::from("password")
        }
    };
    let kind = if auth_type == "(known at run time)" {
        Kind::Other
    } else {
        kind_of(&auth_type)
    };
    let user = val(s, "username")
        .or_else(|| val(s, "user_id"))
        .map(|u| shown(&u));
    let user_domain = val(s, "user_domain_name")
        .or_else(|| val(s, "user_domain_id"))
        .map(|d| format!(" in domain {}", shown(&d)))
        .unwrap_or_default();
    let runtime_secret = |key: &str, what: &str, notes: &mut Vec<String>| {
        if let Some((raw, from)) = s.runtime.get(key) {
            // a substitution, a variable or a placeholder is shown; anything else might hold part of the secret
            let shown = if raw.starts_with(['$', '<', '`']) {
                raw.as_str()
            } else {
                "***"
            };
            notes.push(format!(
                "the {what} is `{shown}` ({from}), known only when the script runs"
            ));
        }
    };
    let who = match kind {
        Kind::Password => {
            runtime_secret("password", "password", &mut notes);
            match &user {
                Some(u) => format!("user {u}{user_domain} (password login)"),
                None => String::from("a user the configuration does not name (password login)"),
            }
        }
        Kind::ApplicationCredential => {
            runtime_secret(
                "application_credential_secret",
                "application credential secret",
                &mut notes,
            );
            let cred = val(s, "application_credential_id")
                .or_else(|| val(s, "application_credential_name"))
                .map(|c| shown(&c))
                .unwrap_or_else(|| String::from("(not named)"));
            format!(
                "application credential {cred} (its token carries the roles chosen when it was created, on its own project)"
            )
        }
        Kind::OidcAccessToken => {
            runtime_secret("access_token", "OIDC access token", &mut notes);
            let idp = val(s, "identity_provider")
                .map(|i| shown(&i))
                .unwrap_or_else(|| String::from("(not named)"));
            format!(
                "the federated user that identity provider {idp} maps the OIDC access token to (`v3oidcaccesstoken`; its roles come from the federation mapping and role assignments)"
            )
        }
        Kind::Oidc => {
            let idp = val(s, "identity_provider")
                .map(|i| shown(&i))
                .unwrap_or_else(|| String::from("(not named)"));
            format!("the federated user of identity provider {idp} (`{auth_type}`)")
        }
        Kind::Token => {
            runtime_secret("token", "token", &mut notes);
            String::from(
                "the holder of a token issued earlier (`token` login: its user, project and roles are those of the login that issued it)",
            )
        }
        Kind::Other => format!("a `{auth_type}` login"),
    };
    let scope = scope(s, kind, &mut notes);
    Login {
        auth_type,
        kind,
        who,
        scope,
        notes,
    }
}

fn scope(s: &Settings, kind: Kind, notes: &mut Vec<String>) -> Scope {
    let project = val(s, "project_id").or_else(|| val(s, "project_name"));
    if kind == Kind::ApplicationCredential {
        if let Some(p) = project {
            notes.push(format!(
                "the project {} is set aside: an application credential's token is always scoped to the project it was created in",
                shown(&p)
            ));
        }
        return Scope::CredentialProject;
    }
    if let Some(p) = project {
        let id = match &p {
            Val::Known(v) if val(s, "project_id").is_some() => (*v).to_owned(),
            _ => SYMBOLIC_PROJECT.to_owned(),
        };
        let what = if val(s, "project_id").is_some() {
            "project_id"
        } else {
            "project_name"
        };
        return Scope::Project {
            id,
            shown: format!("project {} ({what})", shown(&p)).replace(" (project_id)", ""),
        };
    }
    if let Some(d) = val(s, "domain_id").or_else(|| val(s, "domain_name")) {
        let id = match &d {
            Val::Known(v) => (*v).to_owned(),
            Val::Runtime(..) => String::from("the-domain-of-the-login"),
        };
        return Scope::Domain {
            id,
            shown: format!("domain {}", shown(&d)),
        };
    }
    if val(s, "system_scope").is_some() {
        return Scope::System;
    }
    Scope::DefaultProject
}

/// The roles given, with Keystone's default implied roles added, as a real token carries them.
pub fn with_implied(roles: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut queue: Vec<String> = roles
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    queue.reverse();
    while let Some(r) = queue.pop() {
        if out.iter().any(|x| x.eq_ignore_ascii_case(&r)) {
            continue;
        }
        for (from, to) in IMPLIED {
            if r.eq_ignore_ascii_case(from) {
                queue.push((*to).to_owned());
            }
        }
        out.push(r);
    }
    out
}

/// The caller of a command: its credentials as a service's policy check sees them, in words, and what
/// the configuration leaves open.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub credentials: Map<String, Value>,
    /// The roles and the scope, in words.
    pub who: String,
    /// The login, in words (empty for a token body given as is).
    pub login: String,
    pub notes: Vec<String>,
}

/// The caller holding `roles` (Keystone's implied roles added) through this configuration's login.
pub fn caller_with_roles(s: &Settings, roles: &[String]) -> Result<Caller, Error> {
    let login = describe(s);
    let roles = with_implied(roles);
    let mut notes = login.notes.clone();
    let (scope_json, where_) = match &login.scope {
        Scope::Project { id, shown } => (
            json!({"project": {"id": id, "domain": {"id": "default"}}}),
            shown.clone(),
        ),
        Scope::Domain { id, shown } => (json!({"domain": {"id": id}}), shown.clone()),
        Scope::System => (json!({"system": {"all": true}}), String::from("the system")),
        Scope::CredentialProject => (
            json!({"project": {"id": SYMBOLIC_PROJECT, "domain": {"id": "default"}}}),
            String::from("the application credential's own project"),
        ),
        Scope::DefaultProject => {
            notes.push(format!(
                "{} names no project: Keystone scopes the token to the user's default project, if it has one (answers are for that project's own resources)",
                s.origin
            ));
            (
                json!({"project": {"id": SYMBOLIC_PROJECT, "domain": {"id": "default"}}}),
                String::from("the user's default project"),
            )
        }
    };
    let method = match login.kind {
        Kind::Password => "password",
        Kind::ApplicationCredential => "application_credential",
        Kind::OidcAccessToken | Kind::Oidc => "openid",
        Kind::Token => "token",
        Kind::Other => "unknown",
    };
    let mut token = json!({
        "methods": [method],
        "user": {"id": "the-caller", "domain": {"id": "default"}},
        "roles": roles.iter().map(|r| json!({"name": r})).collect::<Vec<_>>(),
    });
    if let (Some(t), Some(scope)) = (token.as_object_mut(), scope_json.as_object()) {
        t.extend(scope.clone());
    }
    let credentials =
        super::super::oslo::creds::from_token(&json!({ "token": token })).map_err(Error::Usage)?;
    Ok(Caller {
        credentials,
        who: format!(
            "roles {} (with Keystone's default implied roles) on {where_}",
            roles.join(", ")
        ),
        login: format!("{}; {}", login.who, s.origin),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings(pairs: &[(&'static str, &str)], runtime: &[(&'static str, &str)]) -> Settings {
        let mut s = Settings {
            origin: "test".into(),
            ..Settings::default()
        };
        for (k, v) in pairs {
            s.set(k, v, format!("`{k}`"));
        }
        for (k, raw) in runtime {
            s.set_runtime(k, raw, format!("`{k}` at run time"));
        }
        s
    }

    #[test]
    fn a_project_known_only_at_run_time_is_never_the_configured_one() {
        let mut s = settings(&[("project_id", "configured")], &[]);
        s.runtime
            .insert("project_id", ("$PROJECT".into(), "export".into()));
        let login = describe(&s);
        assert_eq!(
            login.scope,
            Scope::Project {
                id: SYMBOLIC_PROJECT.into(),
                shown: "project `$PROJECT` (export, known only when the script runs)".into()
            }
        );
    }

    #[test]
    fn the_cli_default_login_is_token_when_a_token_is_given_else_password() {
        assert_eq!(
            describe(&settings(&[], &[("token", "$(openstack token issue)")])).kind,
            Kind::Token
        );
        assert_eq!(
            describe(&settings(&[("username", "u")], &[])).kind,
            Kind::Password
        );
        assert_eq!(
            describe(&settings(&[("application_credential_id", "a")], &[])).kind,
            Kind::ApplicationCredential
        );
        let s = settings(
            &[
                ("auth_type", "v3applicationcredential"),
                ("project_id", "p"),
            ],
            &[],
        );
        assert_eq!(describe(&s).scope, Scope::CredentialProject);
    }

    proptest! {
        /// The implied roles are closed (admin brings member and reader) and adding them twice changes nothing.
        #[test]
        fn implied_roles_are_closed_and_idempotent(roles in proptest::collection::vec(
            prop::sample::select(vec!["admin", "manager", "member", "reader", "Member", "SwiftOperator"]), 0..5)) {
            let roles: Vec<String> = roles.into_iter().map(str::to_owned).collect();
            let once = with_implied(&roles);
            prop_assert_eq!(with_implied(&once), once.clone());
            for (from, to) in IMPLIED {
                if once.iter().any(|r| r.eq_ignore_ascii_case(from)) {
                    prop_assert!(once.iter().any(|r| r.eq_ignore_ascii_case(to)));
                }
            }
        }
    }
}
