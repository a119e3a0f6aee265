//! Who runs the command, from the user's own OpenStack configuration, found the way the `openstack` CLI
//! finds it (the domain notes §1.8): `--os-cloud NAME` (or `OS_CLOUD`) in a `clouds.yaml` looked up in `./`,
//! `~/.config/openstack/`, `/etc/openstack/` (or `--clouds-yaml FILE`, or `OS_CLIENT_CONFIG_FILE`), else the
//! `OS_*` environment variables of seed 000. `client_id` becomes the service-account credential URN,
//! `project_id` the `publicCloudProject` resource URN, the discovery endpoint's domain the region.
//!
//! Secrets (`client_secret`, `OS_CLIENT_SECRET`) are never copied: only whether one is present is kept.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::compile::Engine;
use crate::error::Error;

/// The only login OVHcloud service accounts use with OpenStack (seed 000).
pub const OVH_AUTH_TYPE: &str = "v3oidcclientcredentials";

/// The settings that matter here, by their clouds.yaml name (`OS_` + upper case in the environment,
/// `--os-` + dashes on the command line).
pub const KEYS: [&str; 8] = [
    "auth_type",
    "client_id",
    "project_id",
    "region_name",
    "identity_provider",
    "discovery_endpoint",
    "auth_url",
    "protocol",
];

/// The login settings the OVHcloud mapping does not read but a Keystone login does: who logs in and what
/// the token is scoped to (clouds.yaml `auth:` keys; `OS_` + upper case; `--os-` + dashes).
pub const LOGIN_KEYS: [&str; 12] = [
    "username",
    "user_id",
    "user_domain_name",
    "user_domain_id",
    "project_name",
    "project_domain_name",
    "project_domain_id",
    "domain_id",
    "domain_name",
    "system_scope",
    "application_credential_id",
    "application_credential_name",
];

/// The settings that carry secrets: only where each is set is kept, never its value.
pub const SECRET_KEYS: [&str; 6] = [
    "password",
    "token",
    "access_token",
    "application_credential_secret",
    "client_secret",
    "refresh_token",
];

/// What a configuration says, each value with where it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Where the configuration as a whole comes from.
    pub origin: String,
    /// key → (value, where).
    pub values: IndexMap<&'static str, (String, String)>,
    /// Where a client secret was seen; its value is never read into this struct.
    pub secret_seen: Option<String>,
    pub notes: Vec<String>,
    /// [`LOGIN_KEYS`] → (value, where).
    pub login: IndexMap<&'static str, (String, String)>,
    /// [`SECRET_KEYS`] set before the script runs → where.
    pub secrets: IndexMap<&'static str, String>,
    /// Any setting whose value is known only when the script runs (`$(...)`, `$VAR`, `<placeholder>`) →
    /// (the text as written, where).
    pub runtime: IndexMap<&'static str, (String, String)>,
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    fn where_of(&self, key: &str) -> &str {
        self.values.get(key).map_or("", |(_, f)| f.as_str())
    }

    /// Set a value given on a command line or by a script's `export`.
    pub fn set(&mut self, key: &str, value: &str, from: String) {
        if let Some(k) = KEYS.iter().find(|k| **k == key) {
            self.runtime.shift_remove(*k);
            self.values.insert(k, (value.to_owned(), from));
        } else if let Some(k) = LOGIN_KEYS.iter().find(|k| **k == key) {
            self.runtime.shift_remove(*k);
            self.login.insert(k, (value.to_owned(), from));
        } else if let Some(k) = SECRET_KEYS.iter().find(|k| **k == key) {
            self.runtime.shift_remove(*k);
            self.secrets.insert(k, from);
        }
    }

    /// A setting known only when the script runs: it replaces what the configuration said.
    pub fn set_runtime(&mut self, key: &str, raw: &str, from: String) {
        let all = KEYS
            .iter()
            .chain(LOGIN_KEYS.iter())
            .chain(SECRET_KEYS.iter());
        if let Some(k) = all.copied().find(|k| *k == key) {
            self.values.shift_remove(k);
            self.login.shift_remove(k);
            self.secrets.shift_remove(k);
            self.runtime.insert(k, (raw.to_owned(), from));
        }
    }

    /// A login setting's value (OVHcloud keys or [`LOGIN_KEYS`]) with where it was read.
    pub fn login_value(&self, key: &str) -> Option<(&str, &str)> {
        self.values
            .get(key)
            .or_else(|| self.login.get(key))
            .map(|(v, f)| (v.as_str(), f.as_str()))
    }
}

/// The `OS_*` environment variables (seed 000).
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Settings {
    let mut s = Settings {
        origin: String::from("the OS_* environment variables"),
        ..Settings::default()
    };
    for key in KEYS {
        let var = format!("OS_{}", key.to_ascii_uppercase());
        if let Some(v) = get(&var).filter(|v| !v.is_empty()) {
            s.values.insert(key, (v, var));
        }
    }
    if get("OS_CLIENT_SECRET").is_some() {
        s.secret_seen = Some(String::from("OS_CLIENT_SECRET"));
    }
    for key in LOGIN_KEYS {
        let var = format!("OS_{}", key.to_ascii_uppercase());
        if let Some(v) = get(&var).filter(|v| !v.is_empty()) {
            s.login.insert(key, (v, var));
        }
    }
    for key in SECRET_KEYS {
        let var = format!("OS_{}", key.to_ascii_uppercase());
        if get(&var).is_some_and(|v| !v.is_empty()) {
            s.secrets.insert(key, var);
        }
    }
    s
}

/// The clouds.yaml to read: the one given, `OS_CLIENT_CONFIG_FILE`, or the first of the CLI's search path.
pub fn clouds_yaml_path(
    explicit: Option<&str>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, Error> {
    if let Some(p) = explicit {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = get("OS_CLIENT_CONFIG_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let mut dirs = vec![PathBuf::from(".")];
    match (get("XDG_CONFIG_HOME"), get("HOME")) {
        (Some(x), _) if !x.is_empty() => dirs.push(Path::new(&x).join("openstack")),
        (_, Some(h)) if !h.is_empty() => dirs.push(Path::new(&h).join(".config").join("openstack")),
        _ => {}
    }
    dirs.push(PathBuf::from("/etc/openstack"));
    let candidates: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| [d.join("clouds.yaml"), d.join("clouds.yml")])
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            Error::Usage(format!(
                "no clouds.yaml found; looked for {}\nhelp: pass --clouds-yaml FILE, or use the OS_* environment variables without --os-cloud",
                list.join(", ")
            ))
        })
}

fn scalar(y: &yaml_rust2::Yaml) -> Option<String> {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn get<'a>(hash: &'a yaml_rust2::yaml::Hash, key: &str) -> Option<&'a yaml_rust2::Yaml> {
    hash.get(&yaml_rust2::Yaml::String(key.to_owned()))
}

/// One cloud of a clouds.yaml. `cloud: None` takes the file's only cloud.
pub fn from_clouds_yaml(path: &Path, cloud: Option<&str>) -> Result<Settings, Error> {
    // `-` is standard input, as for every file the command line names.
    let (text, shown) = match path.to_str() {
        Some(p) => (
            crate::load::read_text(p),
            crate::load::display_name(p).to_owned(),
        ),
        None => (std::fs::read_to_string(path), path.display().to_string()),
    };
    let text =
        text.map_err(|e| Error::Usage(format!("cannot read the clouds.yaml `{shown}`: {e}")))?;
    // Located by line and column, and the kind of problem; never the line itself: it may hold a password.
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| {
        let at = e.marker();
        Error::Usage(format!(
            "{shown}:{}:{}: not valid YAML: {} (the clouds.yaml's text is not shown: it may hold secrets)",
            at.line(),
            at.col() + 1,
            e.info()
        ))
    })?;
    let clouds = docs
        .first()
        .and_then(|d| d.as_hash())
        .and_then(|h| get(h, "clouds"))
        .and_then(|c| c.as_hash())
        .ok_or_else(|| {
            Error::Usage(format!(
                "`{shown}` has no `clouds:` mapping (a clouds.yaml looks like `clouds: {{ovhcloud: {{auth_type: ..., auth: {{...}}}}}}`)"
            ))
        })?;
    let names: Vec<String> = clouds.keys().filter_map(scalar).collect();
    let name = match cloud {
        Some(c) => c.to_owned(),
        None if names.len() == 1 => names.first().cloned().unwrap_or_default(),
        None => {
            return Err(Error::Usage(format!(
                "`{shown}` has {} clouds ({}): choose one with --os-cloud NAME",
                names.len(),
                names.join(", ")
            )))
        }
    };
    let Some(entry) = get(clouds, &name) else {
        let mut m = format!("`{shown}` has no cloud `{name}`");
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        if let Some(c) = crate::load::closest(&name, &refs) {
            m.push_str(&format!("; did you mean `{c}`?"));
        }
        m.push_str(&format!(
            "\nhelp: the clouds it has: {}",
            if names.is_empty() {
                String::from("(none)")
            } else {
                names.join(", ")
            }
        ));
        return Err(Error::Usage(m));
    };
    let Some(entry) = entry.as_hash() else {
        return Err(Error::Usage(format!(
            "`{shown}`: cloud `{name}` is not a mapping"
        )));
    };
    let auth = get(entry, "auth").and_then(|a| a.as_hash());
    let mut s = Settings {
        origin: format!("clouds.yaml `{shown}`, cloud `{name}`"),
        ..Settings::default()
    };
    // A key's value, under `auth:` or beside it, with where it was read.
    let read = |key: &str| -> Option<(String, String)> {
        let (value, from) = match auth.and_then(|a| get(a, key)).and_then(scalar) {
            Some(v) => (Some(v), format!("`{shown}` clouds.{name}.auth.{key}")),
            None => (
                get(entry, key).and_then(scalar),
                format!("`{shown}` clouds.{name}.{key}"),
            ),
        };
        value.filter(|v| !v.is_empty()).map(|v| (v, from))
    };
    for key in KEYS {
        if let Some(found) = read(key) {
            s.values.insert(key, found);
        }
    }
    if auth.and_then(|a| get(a, "client_secret")).is_some() {
        s.secret_seen = Some(format!("`{shown}` clouds.{name}.auth.client_secret"));
    }
    for key in LOGIN_KEYS {
        if let Some(found) = read(key) {
            s.login.insert(key, found);
        }
    }
    for key in SECRET_KEYS {
        if auth.and_then(|a| get(a, key)).is_some() {
            s.secrets
                .insert(key, format!("`{shown}` clouds.{name}.auth.{key}"));
        }
    }
    if cloud.is_none() {
        s.notes.push(format!(
            "no cloud named (--os-cloud / OS_CLOUD): `{shown}` has one, `{name}`, which is used"
        ));
    }
    Ok(s)
}

/// The IAM identity and project a configuration stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub identity: String,
    pub resource: String,
    /// `eu` or `ca`.
    pub region: String,
    /// How each part was found, for the report.
    pub how: Vec<String>,
    pub notes: Vec<String>,
}

/// The region plate of a discovery endpoint's domain (seed 000).
fn plate_of_domain(host: &str) -> Option<&'static str> {
    match host {
        "iam.ovh.net" => Some("eu"),
        "iam.ovh.ca" => Some("ca"),
        _ => None,
    }
}

fn plate_of_provider(idp: &str) -> Option<&'static str> {
    match idp {
        "ovhcloud-emea" => Some("eu"),
        "ovhcloud-world" => Some("ca"),
        _ => None,
    }
}

/// The region: the discovery endpoint's domain (`iam.ovh.net` → eu, `iam.ovh.ca` → ca); without an
/// endpoint, the identity provider (`ovhcloud-emea` → eu, `ovhcloud-world` → ca).
fn region(s: &Settings, how: &mut Vec<String>, notes: &mut Vec<String>) -> Result<String, Error> {
    let idp = s.get("identity_provider");
    let idp_plate = idp.and_then(plate_of_provider);
    if let Some(endpoint) = s.get("discovery_endpoint") {
        let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host.rsplit('@').next().unwrap_or(host);
        let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        let Some(plate) = plate_of_domain(&host) else {
            return Err(Error::Usage(format!(
                "the discovery endpoint `{endpoint}` ({}) is not on an OVHcloud IAM domain: expected `iam.ovh.net` (region eu) or `iam.ovh.ca` (region ca)",
                s.where_of("discovery_endpoint")
            )));
        };
        how.push(format!(
            "region {plate}: the discovery endpoint is on {host} ({})",
            s.where_of("discovery_endpoint")
        ));
        if let Some(urn_plate) = path
            .split_once("urn:v1:")
            .and_then(|(_, r)| r.split(':').next())
        {
            if urn_plate != plate {
                notes.push(format!("the discovery endpoint's path names `urn:v1:{urn_plate}:...` but its domain {host} is region {plate}; the domain decides (the clouds.yaml example of OVHcloud's service-account guide for the \"Rest of the World\" mixes them the same way)"));
            }
        }
        if let (Some(i), Some(p)) = (idp, idp_plate) {
            if p != plate {
                notes.push(format!("the identity provider `{i}` is OVHcloud's for region {p}, but the discovery endpoint is region {plate}'s; the endpoint decides"));
            }
        }
        return Ok(plate.to_owned());
    }
    match (idp, idp_plate) {
        (Some(i), Some(p)) => {
            how.push(format!(
                "region {p}: no discovery endpoint; the identity provider `{i}` ({})",
                s.where_of("identity_provider")
            ));
            Ok(p.to_owned())
        }
        _ => Err(Error::Usage(format!(
            "{} gives no discovery endpoint (OS_DISCOVERY_ENDPOINT / auth.discovery_endpoint) nor an OVHcloud identity provider (`ovhcloud-emea` or `ovhcloud-world`): the region (eu or ca) cannot be told",
            s.origin
        ))),
    }
}

/// Check the login and turn the configuration into an identity URN and a project URN.
/// `identity` / `resource` given explicitly (`--identity`, `--resource`) win over the configuration.
pub fn resolve(
    s: &Settings,
    account_nic: Option<&str>,
    identity: Option<&str>,
    resource: Option<&str>,
    engine: &Engine,
) -> Result<Resolved, Error> {
    let mut how = Vec::new();
    let mut notes = s.notes.clone();
    if let (Some(i), Some(r)) = (identity, resource) {
        how.push(String::from(
            "identity and project from --identity and --resource",
        ));
        return Ok(Resolved {
            identity: i.to_owned(),
            resource: r.to_owned(),
            region: r.split(':').nth(2).unwrap_or("").to_owned(),
            how,
            notes,
        });
    }
    match s.get("auth_type") {
        Some(OVH_AUTH_TYPE) => {}
        Some(other) => {
            return Err(Error::Usage(format!(
                "{} logs in with auth type `{other}` ({}), not OVHcloud's service-account login `{OVH_AUTH_TYPE}`: policy-sim maps only OVHcloud service accounts (their client_id) to IAM identities\nhelp: use an OVHcloud service account's configuration (OS_AUTH_TYPE={OVH_AUTH_TYPE}), or give --identity and --resource; on any other Keystone cloud, the services' own rules answer: --openstack-policy nova glance neutron cinder with --credentials TOKEN.json or --roles reader,member",
                s.origin,
                s.where_of("auth_type")
            )))
        }
        None => {
            return Err(Error::Usage(format!(
                "{} sets no auth type (the openstack CLI would then log in with `password`), not OVHcloud's service-account login `{OVH_AUTH_TYPE}`\nhelp: set OS_AUTH_TYPE={OVH_AUTH_TYPE} (or auth_type in clouds.yaml) as OVHcloud's service-account guide does, or give --identity and --resource; on any other Keystone cloud, the services' own rules answer: --openstack-policy nova glance neutron cinder with --credentials TOKEN.json or --roles reader,member",
                s.origin
            )))
        }
    }
    let region = match resource.and_then(|r| r.split(':').nth(2)) {
        Some(r) if identity.is_some() => r.to_owned(),
        _ => region(s, &mut how, &mut notes)?,
    };
    let identity = match identity {
        Some(i) => {
            how.push(String::from("identity from --identity"));
            i.to_owned()
        }
        None => {
            let Some(client) = s.get("client_id") else {
                return Err(Error::Usage(format!(
                    "{} gives no client_id (OS_CLIENT_ID / auth.client_id): the service account is unknown",
                    s.origin
                )));
            };
            let nic = account(client, &region, account_nic, engine)?;
            how.push(format!(
                "identity: client_id `{client}` ({}) is the service account `oauth2-{client}`; account {}",
                s.where_of("client_id"),
                nic.1
            ));
            format!(
                "urn:v1:{region}:identity:credential:{}/oauth2-{client}",
                nic.0
            )
        }
    };
    let resource = match resource {
        Some(r) => {
            how.push(String::from("project from --resource"));
            r.to_owned()
        }
        None => {
            let Some(project) = s.get("project_id") else {
                return Err(Error::Usage(format!(
                    "{} gives no project_id (OS_PROJECT_ID / auth.project_id): the Public Cloud project is unknown\nhelp: set it, or give --resource urn:v1:{region}:resource:publicCloudProject:ID",
                    s.origin
                )));
            };
            how.push(format!(
                "project: project_id `{project}` ({})",
                s.where_of("project_id")
            ));
            format!("urn:v1:{region}:resource:publicCloudProject:{project}")
        }
    };
    if let Some(seen) = &s.secret_seen {
        how.push(format!(
            "a client secret is set ({seen}); it is not read, shown or needed"
        ));
    }
    Ok(Resolved {
        identity,
        resource,
        region,
        how,
        notes,
    })
}

/// The account (nic) of a service account: clouds.yaml and the `OS_*` variables do not carry it. Taken
/// from `--account-nic`, else from the loaded policies' credential URNs ending `/oauth2-{client_id}` when
/// they name exactly one account; never guessed.
fn account(
    client: &str,
    region: &str,
    flag: Option<&str>,
    engine: &Engine,
) -> Result<(String, String), Error> {
    if let Some(nic) = flag {
        return Ok((nic.to_owned(), format!("`{nic}` from --account-nic")));
    }
    let prefix = format!("urn:v1:{region}:identity:credential:");
    let suffix = format!("/oauth2-{client}");
    let mut found: IndexMap<String, (String, String)> = IndexMap::new();
    for p in &engine.set.ovh_policies {
        for (id, loc) in &p.identities {
            let Some(nic) = id
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_suffix(suffix.as_str()))
            else {
                continue;
            };
            let (file, line, _) = engine.locate(loc);
            let place = match (file, line) {
                (Some(f), Some(l)) => format!("{f}:{l}"),
                (Some(f), None) => f,
                _ => String::new(),
            };
            found
                .entry(nic.to_owned())
                .or_insert_with(|| (p.name.to_string(), place));
        }
    }
    match found.len() {
        1 => {
            let (nic, (policy, place)) = found.into_iter().next().unwrap_or_default();
            Ok((
                nic.clone(),
                format!("`{nic}`, not in the configuration: taken from policy `{policy}` ({place}), whose identity `{prefix}{nic}{suffix}` is the only credential URN of the loaded policies ending `{suffix}`"),
            ))
        }
        0 => Err(Error::Usage(format!(
            "the account (nic) of service account `oauth2-{client}` is in neither clouds.yaml nor the OS_* variables, and no loaded policy names a credential `{prefix}*{suffix}` to take it from\nhelp: pass --account-nic NIC (your OVHcloud account, e.g. `xx11111-ovh`); note that with no policy naming this service account every request is denied"
        ))),
        _ => {
            let list: Vec<String> = found
                .iter()
                .map(|(nic, (policy, place))| format!("`{nic}` (policy `{policy}`, {place})"))
                .collect();
            Err(Error::Usage(format!(
                "the loaded policies name service account `oauth2-{client}` under several accounts: {}; which one runs the command is not in the configuration\nhelp: pass --account-nic NIC",
                list.join(", ")
            )))
        }
    }
}
