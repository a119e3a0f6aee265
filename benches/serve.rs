//! Load test of `policy-sim serve` (issue 21): the release binary on 127.0.0.1 with 10,000 generated
//! OVHcloud policies (`benches/common/workload.rs`), driven by a load generator in this process over
//! keep-alive connections. Bounded in time: four phases of `POLICY_SIM_SERVE_SECS` seconds (default 10),
//! then a reload phase of `POLICY_SIM_SERVE_RELOAD_SECS` (default 60).
//!
//! 1. open loop: single checks offered at `POLICY_SIM_SERVE_RATE` a second (default 5,000), spread over 16
//!    connections, each request's latency measured from the time it was meant to be sent (so a stall
//!    counts for every request queued behind it);
//! 2. closed loop: 64 connections, each sending its next check as soon as the last is answered;
//! 3. batches of 100 checks, closed loop over 8 connections;
//! 4. the open loop again while `POST /v1/reload` loads and swaps the whole set every second; the
//!    server's resident memory at the start and the end.
//!
//! Every answer is checked: status 200 and, byte for byte, the answer the same request got before the load
//! (the requests pin their `at`, so the answers do not move). Run: `cargo bench --bench serve`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/http.rs"]
mod http;
#[path = "common/workload.rs"]
mod workload;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }
}

/// A process's resident memory, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The checks to send and the answer each must get.
struct Work {
    bodies: Vec<String>,
    expected: Vec<String>,
    batches: Vec<(String, String)>,
}

/// Latencies in nanoseconds, and errors.
#[derive(Default)]
struct Tally {
    latencies: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn check(&mut self, reply: std::io::Result<http::Reply>, expected: &str) {
        match reply {
            Ok(r) if r.status == 200 && r.body == expected => {}
            Ok(r) => {
                self.errors += 1;
                self.first_error
                    .get_or_insert_with(|| format!("{}: {}", r.status, r.body));
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    fn report(&mut self, what: &str, seconds: f64, per_request: u64) {
        self.latencies.sort_unstable();
        let n = self.latencies.len();
        let at = |q: f64| {
            let i = ((n as f64 * q) as usize).min(n.saturating_sub(1));
            self.latencies.get(i).copied().unwrap_or(0) as f64 / 1e6
        };
        println!(
            "{what}: {n} requests ({} checks) in {seconds:.1} s = {:.0} checks/s; latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms; errors {}{}",
            n as u64 * per_request,
            (n as u64 * per_request) as f64 / seconds,
            at(0.5),
            at(0.99),
            at(0.999),
            self.latencies.last().copied().unwrap_or(0) as f64 / 1e6,
            self.errors,
            self.first_error
                .as_deref()
                .map_or_else(String::new, |e| format!(" (first: {})", e.chars().take(200).collect::<String>()))
        );
    }
}

/// Offer `rate` single checks a second for `seconds` over `conns` connections; latency from the intended
/// send time.
fn open_loop(addr: SocketAddr, work: &Arc<Work>, rate: u64, seconds: u64, conns: u64) -> Tally {
    let start = Instant::now() + Duration::from_millis(100);
    let total = rate * seconds;
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let work = Arc::clone(work);
            std::thread::spawn(move || {
                let mut conn = http::connect(addr, TIMEOUT).unwrap();
                let mut tally = Tally::default();
                let mut k = c;
                while k < total {
                    let intended = start + Duration::from_nanos(k * 1_000_000_000 / rate);
                    let now = Instant::now();
                    if intended > now {
                        std::thread::sleep(intended - now);
                    }
                    let i = (k as usize) % work.bodies.len();
                    let reply = conn.post("/v1/check", &work.bodies[i]);
                    tally.latencies.push(intended.elapsed().as_nanos() as u64);
                    tally.check(reply, &work.expected[i]);
                    k += conns;
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for t in threads {
        tally.add(t.join().unwrap());
    }
    tally
}

/// `conns` connections each sending its next request when the last is answered, for `seconds`.
fn closed_loop(addr: SocketAddr, work: &Arc<Work>, seconds: u64, conns: u64, batch: bool) -> Tally {
    let until = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let work = Arc::clone(work);
            std::thread::spawn(move || {
                let mut conn = http::connect(addr, TIMEOUT).unwrap();
                let mut tally = Tally::default();
                let mut i = c as usize * 7919;
                while Instant::now() < until {
                    let sent = Instant::now();
                    let (body, expected, path) = if batch {
                        let (b, e) = &work.batches[i % work.batches.len()];
                        (b, e, "/v1/check/batch")
                    } else {
                        let j = i % work.bodies.len();
                        (&work.bodies[j], &work.expected[j], "/v1/check")
                    };
                    let reply = conn.post(path, body);
                    tally.latencies.push(sent.elapsed().as_nanos() as u64);
                    tally.check(reply, expected);
                    i += 1;
                }
                tally
            })
        })
        .collect();
    let mut tally = Tally::default();
    for t in threads {
        tally.add(t.join().unwrap());
    }
    tally
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it with nothing to do.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let secs = env_or("POLICY_SIM_SERVE_SECS", 10);
    let reload_secs = env_or("POLICY_SIM_SERVE_RELOAD_SECS", 60);
    let rate = env_or("POLICY_SIM_SERVE_RATE", 5_000);
    let n = env_or("POLICY_SIM_SERVE_POLICIES", 10_000) as usize;

    let w = workload::ovh(n);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (policies, account) = (dir.join("policies.json"), dir.join("account.json"));
    std::fs::write(&policies, &w.policies_json).unwrap();
    std::fs::write(&account, &w.account_json).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--reload-interval",
            "off",
        ])
        .arg("--policies")
        .arg(&policies)
        .arg("--account")
        .arg(&account)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on http://").nth(1) {
                let _ = tx.send(a.to_owned());
            } else if !line.contains("loaded policy set") {
                eprintln!("server: {line}");
            }
        }
    });
    let addr: SocketAddr = rx.recv_timeout(TIMEOUT).unwrap().parse().unwrap();
    let server = Server { child };
    let started = Instant::now();
    loop {
        if http::connect(addr, TIMEOUT)
            .and_then(|mut c| c.get("/health"))
            .is_ok_and(|r| r.status == 200)
        {
            break;
        }
        assert!(started.elapsed() < TIMEOUT, "the server never got ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "serve: {n} policies loaded in {:.2} s; server RSS {} MiB",
        started.elapsed().as_secs_f64(),
        server.rss_kib() / 1024
    );

    // The answers each request must get, asked once before the load.
    let reqs = workload::ovh_requests(&w, 2_000, 0x5E27E);
    let bodies: Vec<String> = reqs.iter().map(workload::Req::to_json_line).collect();
    let mut conn = http::connect(addr, TIMEOUT).unwrap();
    let expected: Vec<String> = bodies
        .iter()
        .map(|b| {
            let r = conn.post("/v1/check", b).unwrap();
            assert_eq!(r.status, 200, "{b}: {}", r.body);
            r.body
        })
        .collect();
    let batches: Vec<(String, String)> = bodies
        .chunks(100)
        .map(|c| {
            let body = format!("[{}]", c.join(","));
            let r = conn.post("/v1/check/batch", &body).unwrap();
            assert_eq!(r.status, 200);
            (body, r.body)
        })
        .collect();
    let work = Arc::new(Work {
        bodies,
        expected,
        batches,
    });

    let mut t = open_loop(addr, &work, rate, secs, 16);
    t.report(
        &format!("open loop, {rate}/s offered, 16 connections"),
        secs as f64,
        1,
    );
    let mut t = closed_loop(addr, &work, secs, 64, false);
    t.report("closed loop, 64 connections", secs as f64, 1);
    let mut t = closed_loop(addr, &work, secs, 8, true);
    t.report(
        "closed loop, batches of 100, 8 connections",
        secs as f64,
        100,
    );

    // Reload every second under the open loop.
    let rss_start = server.rss_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let reloads = Arc::new(AtomicU64::new(0));
    let reload_errors = Arc::new(AtomicU64::new(0));
    let pid = server.child.id();
    let reloader = {
        let (stop, reloads, reload_errors) = (
            Arc::clone(&stop),
            Arc::clone(&reloads),
            Arc::clone(&reload_errors),
        );
        std::thread::spawn(move || {
            let mut conn = http::connect(addr, TIMEOUT).unwrap();
            let mut next = Instant::now() + Duration::from_secs(1);
            let mut rss = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep((next - now).min(Duration::from_millis(50)));
                    continue;
                }
                next += Duration::from_secs(1);
                match conn.send("POST", "/v1/reload", b"") {
                    Ok(r) if r.status == 200 => reloads.fetch_add(1, Ordering::Relaxed),
                    _ => reload_errors.fetch_add(1, Ordering::Relaxed),
                };
                rss.push(rss_kib(pid));
            }
            rss
        })
    };
    let mut t = open_loop(addr, &work, rate, reload_secs, 16);
    stop.store(true, Ordering::Relaxed);
    let rss = reloader.join().unwrap();
    let rss_end = server.rss_kib();
    t.report(
        &format!("open loop, {rate}/s offered, reload every second for {reload_secs} s"),
        reload_secs as f64,
        1,
    );
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "reloads: {} done, {} failed; server RSS {:.1} MiB at the start of the reload run, {:.1} MiB at its end (after each reload: min {:.1}, max {:.1} MiB)",
        reloads.load(Ordering::Relaxed),
        reload_errors.load(Ordering::Relaxed),
        mib(rss_start),
        mib(rss_end),
        mib(rss.iter().copied().min().unwrap_or(0)),
        mib(rss.iter().copied().max().unwrap_or(0)),
    );
    let every_10: Vec<String> = rss
        .iter()
        .step_by(10)
        .map(|&k| format!("{:.0}", mib(k)))
        .collect();
    println!(
        "server RSS after every 10th reload, MiB: {}",
        every_10.join(", ")
    );
    // A new connection: the server closes one idle longer than its --timeout.
    let metrics = http::connect(addr, TIMEOUT)
        .unwrap()
        .get("/metrics")
        .unwrap()
        .body;
    for l in metrics.lines().filter(|l| {
        l.starts_with("policy_sim_reload") || l.starts_with("policy_sim_decisions_total")
    }) {
        println!("  {l}");
    }
}
