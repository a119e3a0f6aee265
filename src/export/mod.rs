//! `policy-sim export`: read an account's whole IAM state from the OVHcloud or OUTSCALE API into a snapshot
//! directory that `check`, `lint`, `audit` and `test` read.
//!
//! This is the one part of policy-sim that opens network connections, and only here: the simulator
//! itself stays offline. The steps:
//! - [`creds`]: endpoint and credentials from the environment, then the vendors' configuration files;
//! - [`sign`]: the vendors' request signatures (checked against their Python SDKs in the tests);
//! - [`http`]: one call with a timeout and bounded retries (429, 5xx, `Retry-After`);
//! - [`ovh`], [`osc`]: the calls each cloud needs, pagination followed to the end;
//! - [`Snapshot`]: every answer kept in memory, then written to a temporary directory beside `--out` and
//!   renamed into place, so that a failed export leaves nothing behind.
//!
//! The library never prints: progress goes through a callback the command line owns.

pub mod creds;
pub mod http;
pub mod osc;
pub mod ovh;
pub mod sign;

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{json, Value};

pub use http::{Progress, RetryPolicy};

/// Why an export stopped. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The command line or the configuration is wrong.
    #[error("{0}")]
    Usage(String),
    /// 401 or 403: the credentials were refused, or the identity lacks a right.
    #[error("`{call}` was refused with HTTP {status}{}", if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Refused {
        call: String,
        status: u16,
        detail: String,
        help: String,
    },
    /// Any other unexpected status (after the retries, for 429 and 5xx).
    #[error("`{call}` failed with HTTP {status}{}", if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Status {
        call: String,
        status: u16,
        detail: String,
    },
    /// No answer (after the retries).
    #[error("`{call}` failed: {reason}")]
    Network { call: String, reason: String },
    /// An answer of the wrong shape.
    #[error("`{call}` answered something unexpected: {what}")]
    Response { call: String, what: String },
    /// The snapshot could not be written.
    #[error("cannot write the snapshot: {0}")]
    Write(String),
}

impl ExportError {
    /// What to do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            ExportError::Refused { help, .. } => Some(help.clone()),
            ExportError::Network { .. } => Some(String::from(
                "check the endpoint (`--endpoint`) and the network; the call was tried again with backoff",
            )),
            ExportError::Status { status, .. } if *status == 429 || *status >= 500 => Some(String::from(
                "the API kept failing after the retries; try again later",
            )),
            _ => None,
        }
    }
}

/// Settings shared by both clouds.
#[derive(Debug, Clone)]
pub struct Options {
    /// The snapshot directory to create.
    pub out: PathBuf,
    /// The longest one call (connection, request, answer) may take.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Items asked per page (`X-Pagination-Size`, `ResultsPerPage`); `None`: the API's default.
    pub page_size: Option<u32>,
    /// The most pages read from one list, a guard against a server that never ends a list.
    pub max_pages: usize,
}

impl Options {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            page_size: None,
            max_pages: 10_000,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub out: PathBuf,
    pub account: Option<String>,
    /// Kind → count (`policies`, `users`, ...), as in `snapshot.json`.
    pub counts: IndexMap<String, usize>,
    pub files: usize,
    pub calls: usize,
}

/// One file of the snapshot, and the call it came from.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    call: String,
    pages: Option<usize>,
    value: Value,
}

/// The snapshot being built: every answer in memory until the export is complete.
#[derive(Debug)]
pub struct Snapshot {
    cloud: &'static str,
    endpoint: String,
    entries: Vec<Entry>,
    counts: IndexMap<String, usize>,
    account: Option<String>,
    extra: IndexMap<String, Value>,
    calls: usize,
}

/// The file holding the account (who belongs to which group, which policies are linked to whom) in the
/// shape `--account` reads.
pub const ACCOUNT_FILE: &str = "account.json";
/// The file describing the snapshot.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

impl Snapshot {
    fn new(cloud: &'static str, endpoint: &str) -> Self {
        Self {
            cloud,
            endpoint: endpoint.to_owned(),
            entries: Vec::new(),
            counts: IndexMap::new(),
            account: None,
            extra: IndexMap::new(),
            calls: 0,
        }
    }

    /// Keep a call's answer (pages merged) at `path`, relative to the snapshot directory.
    fn add(&mut self, path: String, call: &str, pages: Option<usize>, value: Value) {
        self.entries.push(Entry {
            path,
            call: call.to_owned(),
            pages,
            value,
        });
    }

    fn count(&mut self, kind: &str, n: usize) {
        self.counts.insert(kind.to_owned(), n);
    }

    /// `snapshot.json`.
    fn manifest(&self, now: jiff::Timestamp) -> Value {
        let files: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let mut f = json!({"path": e.path, "call": e.call});
                if let (Some(pages), Some(obj)) = (e.pages, f.as_object_mut()) {
                    obj.insert("pages".into(), json!(pages));
                }
                f
            })
            .collect();
        let mut m = json!({
            "policySimSnapshot": 1,
            "cloud": self.cloud,
            "createdAt": now.to_string(),
            "endpoint": self.endpoint,
            "account": self.account,
            "tool": {"name": "policy-sim", "version": env!("CARGO_PKG_VERSION")},
            "counts": self.counts,
            "accountFile": ACCOUNT_FILE,
            "calls": self.calls,
            "files": files,
        });
        if let Some(obj) = m.as_object_mut() {
            for (k, v) in &self.extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        m
    }

    /// Write every file into a fresh temporary directory beside `out`, then rename it to `out`. On any
    /// failure the temporary directory is removed and `out` is untouched.
    fn write(self, out: &Path, now: jiff::Timestamp) -> Result<Summary, ExportError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| String::from("snapshot"));
        let tmp = parent.join(format!(
            ".{name}.partial-{}-{}",
            std::process::id(),
            now.as_nanosecond().rem_euclid(1_000_000_000)
        ));
        let result = self.write_into(&tmp).and_then(|summary| {
            check_out(out)?;
            // An empty directory at `out` is replaced; anything else was refused before the export began.
            if out.is_dir() {
                std::fs::remove_dir(out).map_err(|e| {
                    ExportError::Write(format!("cannot replace `{}`: {e}", out.display()))
                })?;
            }
            std::fs::rename(&tmp, out).map_err(|e| {
                ExportError::Write(format!(
                    "cannot move `{}` to `{}`: {e}",
                    tmp.display(),
                    out.display()
                ))
            })?;
            Ok(summary)
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map(|mut s| {
            s.out = out.to_path_buf();
            s
        })
    }

    fn write_into(self, dir: &Path) -> Result<Summary, ExportError> {
        let now = jiff::Timestamp::now();
        std::fs::create_dir(dir)
            .map_err(|e| ExportError::Write(format!("cannot create `{}`: {e}", dir.display())))?;
        let manifest = self.manifest(now);
        let mut files = 0;
        for e in self
            .entries
            .iter()
            .map(|e| (&e.path, &e.value))
            .chain(std::iter::once((&String::from(SNAPSHOT_FILE), &manifest)))
        {
            let path = dir.join(e.0);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(|err| {
                    ExportError::Write(format!("cannot create `{}`: {err}", p.display()))
                })?;
            }
            let mut bytes = serde_json::to_vec_pretty(e.1)
                .map_err(|err| ExportError::Write(format!("{}: {err}", e.0)))?;
            bytes.push(b'\n');
            std::fs::write(&path, bytes)
                .map_err(|err| ExportError::Write(format!("`{}`: {err}", path.display())))?;
            files += 1;
        }
        Ok(Summary {
            out: dir.to_path_buf(),
            account: self.account,
            counts: self.counts,
            files,
            calls: self.calls,
        })
    }
}

/// `--out` must not exist, or be an empty directory: an export never mixes with or overwrites other files.
pub fn check_out(out: &Path) -> Result<(), ExportError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(ExportError::Usage(format!(
            "`{}` is not a directory: --out must name a new directory inside an existing one",
            parent.display()
        )));
    }
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => match std::fs::read_dir(out).map(|mut it| it.next().is_none()) {
            Ok(true) => Ok(()),
            _ => Err(ExportError::Usage(format!(
                "`{}` already exists and is not empty; give a new directory to --out (an export never overwrites)",
                out.display()
            ))),
        },
        Ok(_) => Err(ExportError::Usage(format!(
            "`{}` already exists and is not a directory; give a new directory to --out",
            out.display()
        ))),
    }
}

/// A file name for an API identifier (a login, a group or policy name): bytes outside
/// `[A-Za-z0-9._@+=,-]`, `%` itself and a leading `.` are percent-encoded, so that no name can climb out
/// of its directory and two names never share a file.
pub fn file_name(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 5);
    for (i, b) in id.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'@' | b'+' | b'=' | b',' | b'-')
            || (b == b'.' && i > 0);
        if keep {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    if s.is_empty() {
        s.push_str("%00");
    }
    s.push_str(".json");
    s
}

/// Percent-encode a path segment or query value (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The start of a response body for a message: at most 300 characters, one line.
fn snippet(body: &str) -> String {
    let one: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    let one = one.trim().to_owned();
    if body.chars().count() > 300 {
        format!("{one}…")
    } else {
        one
    }
}

/// Parse a JSON answer.
fn parse(call: &str, body: &str) -> Result<Value, ExportError> {
    serde_json::from_str(body).map_err(|e| ExportError::Response {
        call: call.to_owned(),
        what: format!("not JSON ({e}): {}", snippet(body)),
    })
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wrote {}", self.out.display())?;
        if let Some(a) = &self.account {
            write!(f, " (account {a})")?;
        }
        write!(f, ": {} files from {} calls", self.files, self.calls)?;
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if !counts.is_empty() {
            write!(f, "; {}", counts.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_in_their_directory() {
        assert_eq!(file_name("user1"), "user1.json");
        assert_eq!(file_name("../etc/passwd"), "%2E.%2Fetc%2Fpasswd.json");
        assert_eq!(file_name("a%b"), "a%25b.json");
        assert_eq!(
            file_name("john.doe@example.com"),
            "john.doe@example.com.json"
        );
        assert_eq!(file_name(""), "%00.json");
    }

    #[test]
    fn out_must_be_new_or_empty_in_an_existing_directory() {
        let base = std::env::temp_dir().join(format!("policy-sim-out-{}", std::process::id()));
        let _ = std::fs::create_dir_all(base.join("empty"));
        let _ = std::fs::create_dir_all(base.join("full"));
        let _ = std::fs::write(base.join("full/x"), "x");
        let _ = std::fs::write(base.join("file"), "x");
        let ok = |p: &str| check_out(&base.join(p)).map_err(|e| e.to_string());
        assert_eq!(ok("new"), Ok(()));
        assert_eq!(ok("empty"), Ok(()));
        assert!(ok("full").is_err_and(|e| e.contains("already exists and is not empty")));
        assert!(ok("file").is_err_and(|e| e.contains("is not a directory")));
        assert!(ok("missing/new")
            .is_err_and(|e| e.contains("must name a new directory inside an existing one")));
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn encode_path_segments() {
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
