//! `policy-sim serve` (issue 21), driven as a user runs it: the real binary on 127.0.0.1, port 0 (the
//! address it prints on stderr), spoken to over keep-alive connections. Every server is killed when its
//! test ends (a guard), every read has a timeout and every loop a bound.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/http.rs"]
mod http;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_policy-sim");
const TIMEOUT: Duration = Duration::from_secs(20);

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: Option<SocketAddr>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `policy-sim serve ARGS` on a free loopback port (unless ARGS has its own --listen); returns once
    /// it listens and, for TCP, once `/health` says ready.
    fn start(args: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve").args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(a) = line.split("listening on ").nth(1) {
                    let _ = tx.send(a.to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut server = Server {
            child,
            addr: None,
            log,
        };
        let Ok(at) = rx.recv_timeout(TIMEOUT) else {
            panic!("the server did not start: {:?}", server.log());
        };
        if let Some(a) = at.strip_prefix("http://") {
            server.addr = Some(a.parse().unwrap());
            server.wait_ready();
        }
        server
    }

    fn addr(&self) -> SocketAddr {
        self.addr.unwrap()
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn conn(&self) -> http::Conn<std::net::TcpStream> {
        http::connect(self.addr(), TIMEOUT).unwrap()
    }

    fn wait_ready(&self) {
        for _ in 0..400 {
            if let Ok(r) = self.conn().get("/health") {
                if r.status == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("never ready: {:?}", self.log());
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }

    /// A metric's value from `/metrics`.
    fn metric(&self, name: &str) -> f64 {
        let text = self.conn().get("/metrics").unwrap().body;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no `{name}` in\n{text}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the target directory, for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What `check` prints for a request (stdout), or its error (stderr) when it exits 2.
fn cli_check(
    policies: &[String],
    accounts: &[String],
    req: &Value,
    at: Option<&str>,
    full: bool,
) -> Result<String, String> {
    let mut cmd = Command::new(BIN);
    cmd.arg("check");
    if !policies.is_empty() {
        cmd.arg("--policies").args(policies);
    }
    for a in accounts {
        cmd.args(["--account", a]);
    }
    if let Some(i) = req["identity"].as_str() {
        cmd.args(["--identity", i]);
    }
    cmd.args(["--action", req["action"].as_str().unwrap()]);
    if let Some(r) = req["resource"].as_str() {
        cmd.args(["--resource", r]);
    }
    if let Some(c) = req["context"].as_object() {
        for (k, v) in c {
            cmd.args(["--context", &format!("{k}={}", v.as_str().unwrap())]);
        }
    }
    if let Some(at) = req["at"].as_str().or(at) {
        cmd.args(["--at", at]);
    }
    cmd.args(["--format", "json"]);
    if !full {
        cmd.args(["--trace", "brief"]);
    }
    let out = cmd.output().unwrap();
    match out.status.code() {
        Some(0 | 1) => Ok(String::from_utf8(out.stdout).unwrap()),
        Some(2) => Err(String::from_utf8(out.stderr).unwrap().trim_end().to_owned()),
        other => panic!("check exited {other:?}"),
    }
}

/// A fixture case file's policies and account, as files: paths kept, inline content written out.
fn fixture_inputs(case_file: &Path, dir: &Path) -> (Vec<String>, Vec<String>) {
    let d: Value = serde_json::from_str(&std::fs::read_to_string(case_file).unwrap()).unwrap();
    let base = case_file.parent().unwrap();
    let as_file = |v: &Value, name: String| -> String {
        match v.as_str() {
            Some(p) => base.join(p).to_string_lossy().into_owned(),
            None => {
                let path = dir.join(name);
                std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
                path.to_string_lossy().into_owned()
            }
        }
    };
    let policies = d["policies"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| as_file(v, format!("policy-{i}.json")))
        .collect();
    let accounts = d
        .get("account")
        .map(|a| as_file(a, String::from("account.json")))
        .into_iter()
        .collect();
    (policies, accounts)
}

/// The request a fixture case asks, in the `--requests` line shape.
fn case_request(case: &Value) -> Value {
    let mut r = serde_json::Map::new();
    for k in ["identity", "action", "resource", "context", "at"] {
        if let Some(v) = case.get(k) {
            r.insert(k.into(), v.clone());
        }
    }
    Value::Object(r)
}

/// Over every fixture case file that loads: a spread of its cases answered by the server equal what
/// `check --format json` prints, byte for byte, with the brief trace (the default) and with `?trace=full`;
/// a request `check` refuses gets a 400 with `check`'s message; and a batch of all the file's cases
/// answers each one as `/v1/check` does, in order.
#[test]
fn answers_equal_checks_for_the_fixtures() {
    let mut files: Vec<PathBuf> = ["ovh", "outscale", "seeds"]
        .iter()
        .flat_map(|d| std::fs::read_dir(Path::new("fixtures/cases").join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut compared = 0;
    for (n, file) in files.iter().enumerate() {
        let d: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        if d.get("error").is_some() {
            continue;
        }
        let dir = scratch(&format!("fixture-{n}"));
        let (policies, accounts) = fixture_inputs(file, &dir);
        // Pinned, so that both answers echo the same evaluation time.
        let at = Some(d["at"].as_str().unwrap_or("2026-06-01T12:00:00Z"));
        let mut args: Vec<&str> = vec!["--reload-interval", "off"];
        if !policies.is_empty() {
            args.push("--policies");
            args.extend(policies.iter().map(String::as_str));
        }
        for a in &accounts {
            args.extend(["--account", a]);
        }
        if let Some(at) = at {
            args.extend(["--at", at]);
        }
        let server = Server::start(&args);
        let mut conn = server.conn();
        let cases = d["cases"].as_array().unwrap();
        let spread: Vec<&Value> = {
            let mut idx = vec![0, cases.len() / 2, cases.len().saturating_sub(1)];
            idx.dedup();
            idx.iter().filter_map(|&i| cases.get(i)).collect()
        };
        for case in spread {
            let req = case_request(case);
            let body = req.to_string();
            for full in [false, true] {
                let path = if full {
                    "/v1/check?trace=full"
                } else {
                    "/v1/check"
                };
                let served = conn.post(path, &body).unwrap();
                match cli_check(&policies, &accounts, &req, at, full) {
                    Ok(printed) => {
                        assert_eq!(
                            served.status,
                            200,
                            "{}: {body}: {}",
                            file.display(),
                            served.body
                        );
                        assert_eq!(
                            served.body,
                            printed,
                            "{}: {body} (full: {full})",
                            file.display()
                        );
                    }
                    Err(message) => {
                        assert_eq!(
                            served.status,
                            400,
                            "{}: {body}: {}",
                            file.display(),
                            served.body
                        );
                        assert_eq!(
                            served.json()["error"],
                            message.as_str(),
                            "{}: {body}",
                            file.display()
                        );
                    }
                }
                compared += 1;
            }
        }
        // The whole file as one batch: each element as /v1/check answers it.
        let all: Vec<Value> = cases.iter().map(case_request).collect();
        let batch = conn
            .post("/v1/check/batch", &Value::Array(all.clone()).to_string())
            .unwrap();
        assert_eq!(batch.status, 200, "{}", batch.body);
        let answers = batch.json();
        let answers = answers.as_array().unwrap();
        assert_eq!(answers.len(), all.len());
        for (i, (req, got)) in all.iter().zip(answers).enumerate() {
            let one = conn.post("/v1/check", &req.to_string()).unwrap();
            if one.status == 200 {
                assert_eq!(got, &one.json(), "{}: case {i}", file.display());
            } else {
                assert_eq!(
                    got["error"],
                    one.json()["error"],
                    "{}: case {i}",
                    file.display()
                );
                assert_eq!(got["index"], i);
            }
        }
    }
    assert!(compared > 100, "only {compared} answers compared");
}

/// Seed 000's question over HTTP, from the shipped examples: the service account with
/// `infrastructureSupervisor` may read compute, and may not use object storage.
#[test]
fn seed_000_over_http() {
    let server = Server::start(&["--policies", "policies/examples/ovh"]);
    let mut conn = server.conn();
    let ask = |conn: &mut http::Conn<_>, action: &str| {
        conn.post(
            "/v1/check",
            &json!({
                "identity": "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f",
                "action": action,
                "resource": "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
            })
            .to_string(),
        )
        .unwrap()
        .json()
    };
    assert_eq!(ask(&mut conn, "compute_read")["decision"], "allow");
    assert_eq!(ask(&mut conn, "objectstore_all")["decision"], "deny");
    let p = conn.get("/v1/policies").unwrap().json();
    assert_eq!(p["generation"], 1);
    assert!(p["hash"].as_str().unwrap().starts_with("sha256:"));
    assert!(p["sources"].as_array().unwrap().iter().any(|s| s["path"]
        .as_str()
        .unwrap()
        .ends_with("demo-service-account.json")));
}

const ALICE: &str = "urn:v1:eu:identity:user:xx1111-ovh/alice";
const VPS: &str = "urn:v1:eu:resource:vps:vps-1.vps.ovh.net";

/// A one-policy set letting alice do `action` on the VPS.
fn policy(action: &str) -> String {
    json!([{
        "name": "alice", "identities": [ALICE],
        "resources": [{"urn": VPS}],
        "permissions": {"allow": [{"action": action}]}
    }])
    .to_string()
}

fn reboot() -> String {
    json!({"identity": ALICE, "action": "vps:apiovh:reboot", "resource": VPS}).to_string()
}

/// A file broken during a reload (by request, by SIGHUP, by polling): the reload fails with a located
/// message, the failure counter rises, and the old set answers as before; once fixed, the new set answers.
#[test]
fn a_broken_file_keeps_the_old_answers() {
    let dir = scratch("broken");
    let file = dir.join("p.json");
    std::fs::write(&file, policy("vps:apiovh:reboot")).unwrap();
    let f = file.to_str().unwrap();
    let server = Server::start(&["--policies", f, "--reload-interval", "100ms"]);
    let mut conn = server.conn();
    let before = conn.post("/v1/check", &reboot()).unwrap();
    assert_eq!(before.json()["decision"], "allow");
    assert_eq!(server.metric("policy_sim_reload_failures_total"), 0.0);
    let hash = conn.get("/v1/policies").unwrap().json()["hash"].clone();

    std::fs::write(&file, "[{\"name\": \"alice\",\n  \"identities\": [}]").unwrap();
    let r = conn.send("POST", "/v1/reload", b"").unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    let e = r.json();
    assert!(
        e["error"].as_str().unwrap().contains("p.json:2:"),
        "not located: {}",
        e["error"]
    );
    assert_eq!(e["serving"]["hash"], hash);
    assert!(server.metric("policy_sim_reload_failures_total") >= 1.0);
    assert_eq!(conn.post("/v1/check", &reboot()).unwrap().body, before.body);

    // SIGHUP: another failure counted, still the old answers.
    let failures = server.metric("policy_sim_reload_failures_total");
    server.signal("-HUP");
    let until = Instant::now() + TIMEOUT;
    while server.metric("policy_sim_reload_failures_total") <= failures {
        assert!(
            Instant::now() < until,
            "SIGHUP did not reload: {:?}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(conn.post("/v1/check", &reboot()).unwrap().body, before.body);
    assert!(server
        .log()
        .iter()
        .any(|l| l.contains("reload on SIGHUP failed")));

    // Fixed (now denying the reboot): polling loads it.
    std::fs::write(&file, policy("vps:apiovh:get")).unwrap();
    let until = Instant::now() + TIMEOUT;
    loop {
        let now = conn.post("/v1/check", &reboot()).unwrap();
        assert_eq!(now.status, 200);
        if now.json()["decision"] == "deny" {
            break;
        }
        assert_eq!(now.body, before.body);
        assert!(
            Instant::now() < until,
            "polling did not reload: {:?}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(conn.get("/v1/policies").unwrap().json()["hash"], hash);
}

/// Requests sent without pause over several connections while the set is swapped back and forth: every
/// one is answered 200, with the old set's answer or the new one's, byte for byte.
#[test]
fn requests_during_reloads_all_succeed() {
    let dir = scratch("concurrent");
    let file = dir.join("p.json");
    std::fs::write(&file, policy("vps:apiovh:reboot")).unwrap();
    let f = file.to_str().unwrap().to_owned();
    let server = Server::start(&["--policies", &f, "--reload-interval", "off"]);
    let allow = server.conn().post("/v1/check", &reboot()).unwrap().body;
    std::fs::write(&file, policy("vps:apiovh:get")).unwrap();
    server.conn().send("POST", "/v1/reload", b"").unwrap();
    let deny = server.conn().post("/v1/check", &reboot()).unwrap().body;
    assert_ne!(allow, deny);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = server.addr();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (stop, allow, deny) = (Arc::clone(&stop), allow.clone(), deny.clone());
            std::thread::spawn(move || {
                let mut conn = http::connect(addr, TIMEOUT).unwrap();
                let mut seen = [0usize; 2];
                // Bounded: stops when told, or after 20,000 requests.
                for _ in 0..20_000 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let r = conn.post("/v1/check", &reboot()).unwrap();
                    assert_eq!(r.status, 200, "{}", r.body);
                    if r.body == allow {
                        seen[0] += 1;
                    } else {
                        assert_eq!(r.body, deny, "neither the old answer nor the new one");
                        seen[1] += 1;
                    }
                }
                seen
            })
        })
        .collect();
    let mut reloads = 0;
    for i in 0..20 {
        let action = if i % 2 == 0 {
            "vps:apiovh:reboot"
        } else {
            "vps:apiovh:get"
        };
        std::fs::write(&file, policy(action)).unwrap();
        let r = server.conn().send("POST", "/v1/reload", b"").unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        reloads += 1;
        std::thread::sleep(Duration::from_millis(30));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = [0usize; 2];
    for c in clients {
        let s = c.join().unwrap();
        seen[0] += s[0];
        seen[1] += s[1];
    }
    assert!(seen[0] > 0 && seen[1] > 0, "both sets answered: {seen:?}");
    assert_eq!(server.metric("policy_sim_reload_failures_total"), 0.0);
    assert_eq!(
        server.metric("policy_sim_reloads_total"),
        f64::from(reloads + 2)
    );
    assert_eq!(
        server.metric("policy_sim_decisions_total{outcome=\"error\"}"),
        0.0
    );
}

/// The bounds and the located errors: an oversize body gets 413, a malformed one 400 with its line and
/// column, a batch over the limit 413, a bad element its error in place; unknown routes and methods.
#[test]
fn oversize_and_malformed_bodies() {
    let server = Server::start(&[
        "--policies",
        "policies/examples/ovh",
        "--max-body",
        "2048",
        "--max-batch",
        "3",
    ]);
    let mut conn = server.conn();
    let big = format!("{{\"action\": \"{}\"}}", "x".repeat(8000));
    let r = conn.post("/v1/check", &big).unwrap();
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("over the limit of 2048 bytes"));

    let mut conn = server.conn();
    let r = conn
        .post(
            "/v1/check",
            "{\"identity\": \"a\",\n  \"action\": \"b\" \"resource\": 1}",
        )
        .unwrap();
    assert_eq!(r.status, 400, "{}", r.body);
    let e = r.json();
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(17)),
        "{e}"
    );
    assert!(
        e["error"].as_str().unwrap().contains("line 2 column 17"),
        "{e}"
    );

    let r = conn.post("/v1/check", "{\"identity\": 3}").unwrap();
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap().contains("column 14"),
        "{}",
        r.body
    );

    let r = conn.post("/v1/check/batch", "[{}, {}, {}, {}]").unwrap();
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("--max-batch"));

    let r = conn.post("/v1/check/batch", "[1, 2").unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["line"], 1);

    let r = conn
        .post(
            "/v1/check/batch",
            &format!("[{}, {{\"action\": 7}}]", reboot()),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let a = r.json();
    assert_eq!(a[0]["decision"], "deny");
    assert_eq!(a[1]["index"], 1);
    assert!(
        a[1]["error"]
            .as_str()
            .unwrap()
            .contains("expected a string"),
        "{a}"
    );

    let r = conn.post("/v1/check?trace=everything", &reboot()).unwrap();
    assert_eq!(r.status, 400);
    let r = conn.get("/v1/check").unwrap();
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(conn.get("/nowhere").unwrap().status, 404);
    assert_eq!(
        server.metric("policy_sim_http_responses_total{code=\"413\"}"),
        2.0
    );
}

/// `--listen unix:PATH`, and SIGTERM: a request in flight is answered, the server exits 0 and removes its
/// socket.
#[test]
fn unix_socket_and_graceful_shutdown() {
    use std::os::unix::net::UnixStream;
    let dir = scratch("unix");
    let sock = dir.join("s.sock");
    let listen = format!("unix:{}", sock.display());
    let mut server = Server::start(&["--policies", "policies/examples/ovh", "--listen", &listen]);
    let connect = || {
        let s = UnixStream::connect(&sock).unwrap();
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_write_timeout(Some(TIMEOUT)).unwrap();
        http::Conn::over(s, "localhost")
    };
    let mut ready = false;
    for _ in 0..400 {
        if connect().get("/health").is_ok_and(|r| r.status == 200) {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ready, "{:?}", server.log());
    let mut conn = connect();
    assert_eq!(conn.post("/v1/check", &reboot()).unwrap().status, 200);
    // A request whose body is not all sent yet when SIGTERM comes is still answered.
    let mut slow = connect();
    let body = reboot();
    let head = format!(
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    {
        use std::io::Write;
        let s = slow.stream();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body.as_bytes()[..10]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        server.signal("-TERM");
        std::thread::sleep(Duration::from_millis(200));
        s.write_all(&body.as_bytes()[10..]).unwrap();
    }
    let r = slow.read().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let status = server.terminate_wait();
    assert!(status.success(), "{status:?}: {:?}", server.log());
    assert!(!sock.exists(), "the socket file is left behind");
}

impl Server {
    /// Wait (bounded) for an exit already asked for.
    fn terminate_wait(&mut self) -> ExitStatus {
        let until = Instant::now() + TIMEOUT;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("still running {TIMEOUT:?} after SIGTERM");
    }
}

/// The oslo.policy form: `{"credentials", "rule", "target"?}` answered as `check --openstack-policy
/// FILE --credentials TOKEN --action RULE --format json` prints it.
#[test]
fn oslo_policy_answers_equal_checks() {
    let policy = "fixtures/oslo/seed004-policy.yaml";
    let token_file = "fixtures/oslo/seed003-member-token.json";
    let token: Value = serde_json::from_str(&std::fs::read_to_string(token_file).unwrap()).unwrap();
    let server = Server::start(&["--openstack-policy", policy]);
    let mut conn = server.conn();
    let rules: Vec<String> = {
        let text = std::fs::read_to_string(policy).unwrap();
        text.lines()
            .filter_map(|l| {
                l.strip_prefix('"')?
                    .split_once('"')
                    .map(|(r, _)| r.to_owned())
            })
            .collect()
    };
    assert!(!rules.is_empty());
    for rule in &rules {
        let served = conn
            .post(
                "/v1/check",
                &json!({"credentials": token, "rule": rule}).to_string(),
            )
            .unwrap();
        let out = Command::new(BIN)
            .args([
                "check",
                "--openstack-policy",
                policy,
                "--credentials",
                token_file,
            ])
            .args(["--action", rule, "--format", "json"])
            .output()
            .unwrap();
        if out.status.code() == Some(2) {
            assert_eq!(served.status, 400, "{rule}: {}", served.body);
        } else {
            assert_eq!(served.status, 200, "{rule}: {}", served.body);
            assert_eq!(
                served.body,
                String::from_utf8(out.stdout).unwrap(),
                "{rule}"
            );
        }
    }
}

/// The Python client of `policies/examples/serve/` against the oslo.policy form, when `python3` with
/// `requests` is installed (the example's only dependency); said on stderr and skipped otherwise.
#[test]
fn the_python_client_example_runs() {
    let has_requests = Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_requests {
        eprintln!("skipped: no python3 with `requests`");
        return;
    }
    let server = Server::start(&[
        "--openstack-policy",
        "policies/examples/serve/myservice-policy.yaml",
    ]);
    let out = Command::new("python3")
        .args([
            "policies/examples/serve/client.py",
            "policies/examples/serve/token.json",
        ])
        .env("POLICY_SIM_URL", format!("http://{}", server.addr()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "myservice:thing:list on project 0f1e2d3c4b5a49687766554433221100: allowed\n\
         myservice:thing:list on project another-project: forbidden (HTTP 403)\n"
    );
}
