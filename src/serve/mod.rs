//! `policy-sim serve`: the decision service. An application asks "may X do Y on Z" over HTTP/JSON, per
//! request, and gets the answer `check --format json` would print, byte for byte.
//!
//! - [`state`]: what is being served — one loaded, compiled policy set (an IAM [`Engine`](crate::Engine) or
//!   oslo.policy rules per service ([`Services`](crate::oslo::Services))), where it came from, when, and its content hash —
//!   behind an [`arc_swap::ArcSwapOption`]: a request takes the set in force once and keeps it to the end.
//! - [`reload`]: loading a set aside (the loader `check` uses, on a blocking thread), then swapping it in
//!   whole; on `SIGHUP`, on `POST /v1/reload`, and when polling sees the inputs change. A set that fails to
//!   load is logged and counted, and the old one goes on serving.
//! - [`server`]: the accept loop (TCP or a Unix socket, a connection limit), the routes, the bounds (body
//!   size, batch length, per-request timeout) and graceful shutdown on `SIGTERM`.
//! - [`metrics`]: counters and a latency histogram, in Prometheus' text format at `GET /metrics`.
//!
//! It has no authentication of its own and listens on loopback unless told otherwise (SECURITY.md).

mod metrics;
mod reload;
mod server;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;

pub use state::Kind;

/// What to load: the same inputs `check` reads.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `--policies`: files, directories, globs.
    pub policies: Vec<String>,
    /// `--account`.
    pub accounts: Vec<String>,
    /// `--terraform-plan`.
    pub terraform_plans: Vec<String>,
    /// `--matrix`.
    pub matrix: Option<String>,
    /// `--max-file-size`.
    pub max_file_size: u64,
    /// `--at`: the evaluation time of requests that give none.
    pub at: Option<String>,
    /// `--openstack-policy`: files or shipped services; when given, the service answers oslo.policy
    /// requests (`credentials`, `rule`, `target`) instead.
    pub openstack_policy: Vec<String>,
    /// `--no-enforce-new-defaults`.
    pub no_enforce_new_defaults: bool,
}

impl Inputs {
    /// The files and settings an engine is built from.
    pub fn sources(&self) -> crate::cli::check::Sources<'_> {
        crate::cli::check::Sources {
            policies: &self.policies,
            accounts: &self.accounts,
            plans: &self.terraform_plans,
            matrix: self.matrix.as_deref(),
            max_file_size: self.max_file_size,
            at: self.at.as_deref(),
        }
    }
}

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(String::from(
                    "`unix:` needs a socket path, e.g. `unix:/run/policy-sim.sock`",
                ));
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        s.parse::<SocketAddr>().map(Listen::Tcp).map_err(|_| {
            format!("`{s}` is neither ADDRESS:PORT (`127.0.0.1:8181`, `[::1]:8181`) nor `unix:/path/to.sock`")
        })
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "http://{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// How the service runs and what bounds it keeps.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: Listen,
    /// How often the inputs are polled for a change; `None`: never (SIGHUP and `POST /v1/reload` still work).
    pub reload_interval: Option<Duration>,
    /// Largest request body, in bytes (413 above it).
    pub max_body: usize,
    /// Most requests in one `POST /v1/check/batch` (413 above it).
    pub max_batch: usize,
    /// Longest time one request may take, from its first header byte to its answer.
    pub timeout: Duration,
    /// Most connections open at once; the next ones wait in the listen queue.
    pub max_connections: usize,
}

/// Run the service until `SIGTERM` or `SIGINT`: bind, load the first set, answer. An error to bind or to
/// load the first set ends it with that error (exit 2); once serving, a failed reload only gets logged.
pub fn run(inputs: Inputs, options: Options) -> Result<(), Error> {
    // Loading and compiling a new set runs on one worker (unless RAYON_NUM_THREADS says otherwise): a reload
    // then leaves the other core to the requests, and the set's memory comes from one allocator arena
    // instead of one per thread, so resident memory stops growing after the first reloads (measured in
    // benches/README.md, "serve").
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // Fails only if the global pool already exists, which then keeps its size: nothing to do.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| String::from("policy-sim-load"))
            .build_global();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("policy-sim-serve")
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(server::serve(inputs, options))
}

/// Read a duration as `--reload-interval` takes it: `5s`, `500ms`, `2m`, a bare number of seconds; `0`
/// or `off` for none.
pub fn parse_interval(s: &str) -> Result<Option<Duration>, String> {
    let t = s.trim();
    if t == "off" {
        return Ok(None);
    }
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (
            t.get(..i).unwrap_or_default(),
            t.get(i..).unwrap_or_default(),
        ),
        None => (t, "s"),
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{s}` is not a duration; write it like `5s`, `500ms`, `2m` or `off`")
    })?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "`{s}`: unknown unit `{unit}`; write it like `5s`, `500ms`, `2m` or `off`"
            ))
        }
    };
    if seconds == 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| format!("`{s}` is not a duration this service can wait"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5s"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(
            parse_interval("250ms"),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(parse_interval("2m"), Ok(Some(Duration::from_secs(120))));
        assert_eq!(parse_interval("3"), Ok(Some(Duration::from_secs(3))));
        assert_eq!(parse_interval("0"), Ok(None));
        assert_eq!(parse_interval("off"), Ok(None));
        assert!(parse_interval("5h").is_err());
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            "127.0.0.1:8181".parse::<Listen>(),
            Ok(Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], 8181))))
        );
        assert_eq!(
            "unix:/tmp/p.sock".parse::<Listen>(),
            Ok(Listen::Unix(PathBuf::from("/tmp/p.sock")))
        );
        assert!("unix:".parse::<Listen>().is_err());
        assert!("localhost".parse::<Listen>().is_err());
    }
}
