//! Credentials and endpoints, found where the vendors' own clients look: the environment first, then their
//! configuration files. Secrets are kept in [`Secret`], whose `Debug` and `Display` print `***`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ExportError;

/// A secret value: never printed, logged or written.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The value, for signing and sending only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where settings come from: the environment, the home and working directories. Tests build one by hand.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub env: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
}

impl Sources {
    /// This process's environment, `$HOME` and working directory.
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let home = env.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        Self {
            env,
            home,
            cwd: std::env::current_dir().ok(),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

// ---------------------------------------------------------------- OVHcloud

/// A named OVHcloud endpoint: API root, OAuth2 token URL, URN plate (the python `ovh` client's and
/// go-ovh's tables).
pub const OVH_ENDPOINTS: &[(&str, &str, &str, &str)] = &[
    (
        "ovh-eu",
        "https://eu.api.ovh.com",
        "https://www.ovh.com/auth/oauth2/token",
        "eu",
    ),
    (
        "ovh-ca",
        "https://ca.api.ovh.com",
        "https://ca.ovh.com/auth/oauth2/token",
        "ca",
    ),
    (
        "ovh-us",
        "https://api.us.ovhcloud.com",
        "https://us.ovhcloud.com/auth/oauth2/token",
        "us",
    ),
];

/// How the exporter signs in to OVHcloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OvhAuth {
    /// A service account's OAuth2 client credentials (`OVH_CLIENT_ID` + `OVH_CLIENT_SECRET`).
    OAuth2 {
        client_id: String,
        client_secret: Secret,
        token_url: String,
    },
    /// An application key, signed requests (`OVH_APPLICATION_KEY` + `OVH_APPLICATION_SECRET` +
    /// `OVH_CONSUMER_KEY`).
    AppKey {
        application_key: String,
        application_secret: Secret,
        consumer_key: Secret,
    },
    /// A ready bearer token (`OVH_ACCESS_TOKEN`).
    Token(Secret),
}

impl OvhAuth {
    /// The method's name, for `snapshot.json` (no secret).
    pub fn method(&self) -> &'static str {
        match self {
            OvhAuth::OAuth2 { .. } => "oauth2-client-credentials",
            OvhAuth::AppKey { .. } => "application-key",
            OvhAuth::Token(_) => "access-token",
        }
    }
}

/// Where and how to export an OVHcloud account from.
#[derive(Debug, Clone)]
pub struct OvhTarget {
    /// The endpoint as given (`ovh-eu` or a URL), the section of `ovh.conf` read.
    pub endpoint: String,
    /// The API root: v1 under `/1.0`, v2 under `/v2`.
    pub root: String,
    /// The URN plate of a named endpoint (`eu`); for a URL, read from the URNs the API returns.
    pub plate: Option<String>,
    pub auth: OvhAuth,
}

/// A minimal INI reader for `ovh.conf` (sections, `key=value` or `key: value`, `;`/`#` comments), as
/// Python's `RawConfigParser` reads the files the official clients share. Later files override earlier ones.
fn read_ini(text: &str, into: &mut HashMap<(String, String), String>) {
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            if let Some(name) = rest.strip_suffix(']') {
                section = name.trim().to_owned();
            }
            continue;
        }
        let split = line.find(['=', ':']);
        if let Some(i) = split {
            let (k, v) = (line.get(..i).unwrap_or(""), line.get(i + 1..).unwrap_or(""));
            into.insert(
                (section.clone(), k.trim().to_ascii_lowercase()),
                v.trim().to_owned(),
            );
        }
    }
}

/// `ovh.conf` as the official clients read it: `/etc/ovh.conf`, then `~/.ovh.conf`, then `./ovh.conf`, each
/// overriding the one before. Returns the settings and the files read.
fn ovh_conf(sources: &Sources) -> (HashMap<(String, String), String>, Vec<PathBuf>) {
    let mut paths = vec![PathBuf::from("/etc/ovh.conf")];
    if let Some(home) = &sources.home {
        paths.push(home.join(".ovh.conf"));
    }
    if let Some(cwd) = &sources.cwd {
        paths.push(cwd.join("ovh.conf"));
    }
    let mut settings = HashMap::new();
    let mut read = Vec::new();
    for p in paths {
        if let Ok(text) = std::fs::read_to_string(&p) {
            read_ini(&text, &mut settings);
            read.push(p);
        }
    }
    (settings, read)
}

/// Resolve the OVHcloud endpoint and credentials: `--endpoint` (else `OVH_ENDPOINT`, else `ovh.conf`'s
/// `[default] endpoint`, else `ovh-eu`); each key from `OVH_<NAME>`, else from `ovh.conf`'s section named
/// after the endpoint. `token_url` overrides the OAuth2 token URL.
pub fn ovh_target(
    sources: &Sources,
    endpoint: Option<&str>,
    token_url: Option<&str>,
) -> Result<OvhTarget, ExportError> {
    let (conf, files) = ovh_conf(sources);
    let conf_get = |section: &str, key: &str| {
        conf.get(&(section.to_owned(), key.to_owned()))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let endpoint = endpoint
        .map(str::to_owned)
        .or_else(|| sources.var("OVH_ENDPOINT").map(str::to_owned))
        .or_else(|| conf_get("default", "endpoint"))
        .unwrap_or_else(|| String::from("ovh-eu"));
    let get = |name: &str| {
        sources
            .var(&format!("OVH_{}", name.to_ascii_uppercase()))
            .map(str::to_owned)
            .or_else(|| conf_get(&endpoint, name))
    };
    let named = OVH_ENDPOINTS.iter().find(|(n, ..)| *n == endpoint);
    let (root, default_token, plate) = match named {
        Some((_, root, token, plate)) => (
            (*root).to_owned(),
            Some((*token).to_owned()),
            Some((*plate).to_owned()),
        ),
        None if endpoint.starts_with("http://") || endpoint.starts_with("https://") => {
            let root = api_root(&endpoint);
            let plate = OVH_ENDPOINTS
                .iter()
                .find(|(_, r, ..)| *r == root)
                .map(|(.., p)| (*p).to_owned());
            (root.clone(), Some(format!("{root}/auth/oauth2/token")), plate)
        }
        None => {
            return Err(ExportError::Usage(format!(
                "unknown OVHcloud endpoint `{endpoint}`; expected `ovh-eu`, `ovh-ca`, `ovh-us` or the API's root URL (`https://eu.api.ovh.com`)"
            )))
        }
    };
    let where_ = || {
        let mut s = String::from("the environment");
        for f in &files {
            s.push_str(&format!(", `{}` [{endpoint}]", f.display()));
        }
        s
    };
    let client_id = get("client_id");
    let client_secret = get("client_secret");
    let application_key = get("application_key");
    let application_secret = get("application_secret");
    let consumer_key = get("consumer_key");
    let access_token = get("access_token");
    let auth = match (client_id, client_secret, application_key) {
        (Some(_), _, Some(_)) => {
            return Err(ExportError::Usage(format!(
                "both an OAuth2 client (OVH_CLIENT_ID) and an application key (OVH_APPLICATION_KEY) are set (read from {}); set one",
                where_()
            )))
        }
        (Some(client_id), Some(secret), None) => OvhAuth::OAuth2 {
            client_id,
            client_secret: Secret::new(secret),
            token_url: token_url
                .map(str::to_owned)
                .or(default_token)
                .unwrap_or_default(),
        },
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(ExportError::Usage(String::from(
                "an OAuth2 client needs both OVH_CLIENT_ID and OVH_CLIENT_SECRET; one is missing",
            )))
        }
        (None, _, Some(application_key)) => match (application_secret, consumer_key) {
            (Some(s), Some(c)) => OvhAuth::AppKey {
                application_key,
                application_secret: Secret::new(s),
                consumer_key: Secret::new(c),
            },
            (s, c) => {
                let mut missing = Vec::new();
                if s.is_none() {
                    missing.push("OVH_APPLICATION_SECRET");
                }
                if c.is_none() {
                    missing.push("OVH_CONSUMER_KEY");
                }
                return Err(ExportError::Usage(format!(
                    "an application key needs OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY; missing: {}",
                    missing.join(", ")
                )));
            }
        },
        (None, None, None) => match access_token {
            Some(t) => OvhAuth::Token(Secret::new(t)),
            None => {
                return Err(ExportError::Usage(format!(
                    "no OVHcloud credentials found in {}: set OVH_CLIENT_ID and OVH_CLIENT_SECRET (a service account), or OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY",
                    where_()
                )))
            }
        },
    };
    Ok(OvhTarget {
        endpoint,
        root,
        plate,
        auth,
    })
}

/// An API root from a URL: no trailing `/`, and a trailing `/1.0`, `/v1` or `/v2` dropped (those are added
/// per call).
fn api_root(url: &str) -> String {
    let mut root = url.trim_end_matches('/');
    for suffix in ["/1.0", "/v1", "/v2"] {
        if let Some(r) = root.strip_suffix(suffix) {
            root = r;
        }
    }
    root.to_owned()
}

// ---------------------------------------------------------------- OUTSCALE

/// Where and how to export an OUTSCALE account from.
#[derive(Debug, Clone)]
pub struct OscTarget {
    pub access_key: String,
    pub secret_key: Secret,
    pub region: String,
    /// The API base, `https://api.eu-west-2.outscale.com/api/v1`; a call is `POST {api}/{Operation}`.
    pub api: String,
    pub profile: String,
}

#[derive(Debug, Default, serde::Deserialize)]
struct OscProfile {
    access_key: Option<String>,
    secret_key: Option<String>,
    region: Option<String>,
    #[serde(default)]
    endpoints: HashMap<String, serde_json::Value>,
}

/// Resolve the OUTSCALE credentials, region and API endpoint: `OSC_ACCESS_KEY`, `OSC_SECRET_KEY`,
/// `OSC_REGION`, `OSC_ENDPOINT_API` first, then the profile (`OSC_PROFILE`, default `default`) of
/// `OSC_CONFIG_FILE` (default `~/.osc/config.json`); `--region` and `--endpoint` override both.
pub fn osc_target(
    sources: &Sources,
    region: Option<&str>,
    endpoint: Option<&str>,
) -> Result<OscTarget, ExportError> {
    let profile_name = sources.var("OSC_PROFILE").unwrap_or("default").to_owned();
    let explicit_file = sources.var("OSC_CONFIG_FILE").map(PathBuf::from);
    let path = explicit_file
        .clone()
        .or_else(|| sources.home.as_ref().map(|h| h.join(".osc/config.json")));
    let profile = match &path {
        Some(p) => read_osc_profile(
            p,
            &profile_name,
            explicit_file.is_some() || profile_name != "default",
        )?,
        None => OscProfile::default(),
    };
    let access_key = sources
        .var("OSC_ACCESS_KEY")
        .map(str::to_owned)
        .or(profile.access_key.filter(|v| !v.is_empty()));
    let secret_key = sources
        .var("OSC_SECRET_KEY")
        .map(str::to_owned)
        .or(profile.secret_key.filter(|v| !v.is_empty()));
    let region = region
        .map(str::to_owned)
        .or_else(|| sources.var("OSC_REGION").map(str::to_owned))
        .or(profile.region.filter(|v| !v.is_empty()))
        .unwrap_or_else(|| String::from("eu-west-2"));
    let api = endpoint
        .map(str::to_owned)
        .or_else(|| sources.var("OSC_ENDPOINT_API").map(str::to_owned))
        .or_else(|| {
            profile
                .endpoints
                .get("api")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .map(|u| osc_api_base(&u))
        .unwrap_or_else(|| format!("https://api.{region}.outscale.com/api/v1"));
    let (Some(access_key), Some(secret_key)) = (access_key, secret_key) else {
        return Err(ExportError::Usage(format!(
            "no OUTSCALE access key found: set OSC_ACCESS_KEY and OSC_SECRET_KEY, or the profile `{profile_name}` of {}",
            path.map_or_else(|| String::from("~/.osc/config.json"), |p| format!("`{}`", p.display()))
        )));
    };
    Ok(OscTarget {
        access_key,
        secret_key: Secret::new(secret_key),
        region,
        api,
        profile: profile_name,
    })
}

/// An API base from a URL: no trailing `/`; a bare host gets `/api/v1`.
fn osc_api_base(url: &str) -> String {
    let base = url.trim_end_matches('/');
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    if after_scheme.contains('/') {
        base.to_owned()
    } else {
        format!("{base}/api/v1")
    }
}

fn read_osc_profile(path: &Path, name: &str, required: bool) -> Result<OscProfile, ExportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(_) if !required => return Ok(OscProfile::default()),
        Err(e) => {
            return Err(ExportError::Usage(format!(
                "cannot read the OUTSCALE configuration `{}`: {e}",
                path.display()
            )))
        }
    };
    let mut all: HashMap<String, serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
        ExportError::Usage(format!(
            "`{}` is not an OUTSCALE configuration file (a JSON object of profiles): {e}",
            path.display()
        ))
    })?;
    match all.remove(name) {
        Some(v) => serde_json::from_value(v).map_err(|e| {
            ExportError::Usage(format!(
                "the profile `{name}` of `{}` cannot be read: {e}",
                path.display()
            ))
        }),
        None if required => {
            let mut names: Vec<&String> = all.keys().collect();
            names.sort();
            Err(ExportError::Usage(format!(
                "`{}` has no profile `{name}`; it has: {}",
                path.display(),
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
        None => Ok(OscProfile::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(vars: &[(&str, &str)], dir: Option<&Path>) -> Sources {
        Sources {
            env: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            home: dir.map(Path::to_path_buf),
            cwd: dir.map(Path::to_path_buf),
        }
    }

    #[test]
    fn ovh_env_oauth2() {
        let s = sources(
            &[("OVH_CLIENT_ID", "abc"), ("OVH_CLIENT_SECRET", "s3cr3t")],
            None,
        );
        let t = ovh_target(&s, None, None).map_err(|e| e.to_string());
        let t = t
            .as_ref()
            .map(|t| (t.root.as_str(), t.plate.as_deref(), &t.auth));
        assert_eq!(
            t,
            Ok((
                "https://eu.api.ovh.com",
                Some("eu"),
                &OvhAuth::OAuth2 {
                    client_id: "abc".into(),
                    client_secret: Secret::new("s3cr3t"),
                    token_url: "https://www.ovh.com/auth/oauth2/token".into()
                }
            ))
        );
        // The secret never shows in Debug.
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn ovh_conf_file_and_env_precedence() {
        let dir = std::env::temp_dir().join(format!("policy-sim-creds-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            dir.join("ovh.conf"),
            "[default]\nendpoint=ovh-ca\n\n[ovh-ca]\n; a comment\napplication_key=AK\napplication_secret = AS\nconsumer_key=CK\n",
        );
        let s = sources(&[("OVH_CONSUMER_KEY", "CK-env")], Some(&dir));
        let t = ovh_target(&s, None, None).map_err(|e| e.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        let t = t
            .as_ref()
            .map(|t| (t.endpoint.as_str(), t.root.as_str(), &t.auth));
        assert_eq!(
            t,
            Ok((
                "ovh-ca",
                "https://ca.api.ovh.com",
                &OvhAuth::AppKey {
                    application_key: "AK".into(),
                    application_secret: Secret::new("AS"),
                    consumer_key: Secret::new("CK-env")
                }
            ))
        );
    }

    #[test]
    fn ovh_errors_name_what_is_missing() {
        let e = ovh_target(&sources(&[("OVH_APPLICATION_KEY", "AK")], None), None, None)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(e, Err("an application key needs OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY; missing: OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY".into()));
        let e = ovh_target(&sources(&[], None), Some("ovh-xx"), None).map(|_| ());
        assert!(
            matches!(e, Err(ExportError::Usage(m)) if m.contains("unknown OVHcloud endpoint `ovh-xx`"))
        );
    }

    #[test]
    fn ovh_url_endpoint() {
        let s = sources(&[("OVH_CLIENT_ID", "a"), ("OVH_CLIENT_SECRET", "b")], None);
        let t = ovh_target(&s, Some("http://127.0.0.1:8080/1.0/"), None);
        let t = t.as_ref().map(|t| (t.root.as_str(), t.plate.is_none()));
        assert_eq!(t.ok(), Some(("http://127.0.0.1:8080", true)));
        assert_eq!(
            api_root("https://eu.api.ovh.com/v2"),
            "https://eu.api.ovh.com"
        );
    }

    #[test]
    fn osc_env_then_file() {
        let dir = std::env::temp_dir().join(format!("policy-sim-osc-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join(".osc"));
        let _ = std::fs::write(
            dir.join(".osc/config.json"),
            r#"{"default": {"access_key": "AK-file", "secret_key": "SK-file", "region": "us-east-2"},
                "other": {"access_key": "AK2", "secret_key": "SK2", "endpoints": {"api": "http://127.0.0.1:9/api/v1"}}}"#,
        );
        let t = osc_target(
            &sources(&[("OSC_ACCESS_KEY", "AK-env")], Some(&dir)),
            None,
            None,
        );
        let got = t.as_ref().map(|t| {
            (
                t.access_key.as_str(),
                t.secret_key.expose(),
                t.region.as_str(),
                t.api.as_str(),
            )
        });
        assert_eq!(
            got.ok(),
            Some((
                "AK-env",
                "SK-file",
                "us-east-2",
                "https://api.us-east-2.outscale.com/api/v1"
            ))
        );
        let t = osc_target(
            &sources(&[("OSC_PROFILE", "other")], Some(&dir)),
            Some("eu-west-2"),
            None,
        );
        let got = t
            .as_ref()
            .map(|t| (t.access_key.as_str(), t.region.as_str(), t.api.as_str()));
        assert_eq!(
            got.ok(),
            Some(("AK2", "eu-west-2", "http://127.0.0.1:9/api/v1"))
        );
        let t =
            osc_target(&sources(&[("OSC_PROFILE", "nope")], Some(&dir)), None, None).map(|_| ());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            matches!(t, Err(ExportError::Usage(m)) if m.contains("has no profile `nope`; it has: `default`, `other`"))
        );
        assert_eq!(
            osc_api_base("http://127.0.0.1:5"),
            "http://127.0.0.1:5/api/v1"
        );
    }
}
