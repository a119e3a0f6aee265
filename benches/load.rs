//! Load + compile time of the generated OVHcloud workload (policies and account file, as `check` reads
//! them) against `serde_json::from_str::<serde_json::Value>` on the same bytes, at 10, 1k, 10k and 100k
//! policies. Besides criterion's numbers, it prints two ratios (the target: within 2× at 10k):
//! - cold: each side in a fresh process, as `check` runs, the two alternating (median of the pair ratios);
//! - warm: in this process, each side run back to back (a long-lived service reloading its policies).
//!
//! The two differ because serde_json's `Value` of 10 MB is a tree of small allocations: a fresh heap pays
//! for each page it touches first, a warm one reuses what the previous run freed.
//! The texts are cloned outside the timed part (`Loaded::add_text` takes ownership).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/workload.rs"]
mod workload;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};

fn load_and_compile(policies: String, account: String) -> policy_sim::Engine {
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_text("policies.json", policies, policy_sim::Role::Policies);
    loaded.add_text("account.json", account, policy_sim::Role::Account);
    policy_sim::build(loaded, None).unwrap()
}

fn serde_value(policies: &str, account: &str) -> (serde_json::Value, serde_json::Value) {
    (
        serde_json::from_str(policies).unwrap(),
        serde_json::from_str(account).unwrap(),
    )
}

/// A child process's job (`POLICY_SIM_LOAD_CHILD=ours|serde`, the two files as arguments): read the files,
/// then time only the parse (serde) or the load + compile (ours), and print the nanoseconds it took.
fn child(mode: &str, policies: &str, account: &str) {
    let (p, a) = (
        std::fs::read_to_string(policies).unwrap(),
        std::fs::read_to_string(account).unwrap(),
    );
    let start = Instant::now();
    let n = if mode == "serde" {
        let v = serde_value(&p, &a);
        let t = start.elapsed();
        drop(black_box(v));
        t
    } else {
        let e = load_and_compile(p, a);
        let t = start.elapsed();
        assert!(!e.set.ovh_policies.is_empty());
        drop(black_box(e));
        t
    };
    println!("{}", n.as_nanos());
}

/// Load + compile against serde_json, each in a fresh process as `check` runs (a process's heap is cold:
/// in one long-lived process, whichever runs after the other's large free pays for it), the two alternating
/// so that a slow spell of a shared machine slows both. Returns each side's median in seconds and the
/// median of the per-pair ratios.
fn fresh_pairs(w: &workload::Ovh, n: usize, runs: usize) -> (f64, f64, f64) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/policy-sim-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let policies = dir.join(format!("load-policies-{n}.json"));
    let account = dir.join(format!("load-account-{n}.json"));
    std::fs::write(&policies, &w.policies_json).unwrap();
    std::fs::write(&account, &w.account_json).unwrap();
    let time = |mode: &str| -> f64 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("POLICY_SIM_LOAD_CHILD", mode)
            .args([&policies, &account])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        ns / 1e9
    };
    let pairs: Vec<(f64, f64)> = (0..runs).map(|_| (time("ours"), time("serde"))).collect();
    (
        median_of(pairs.iter().map(|p| p.0)),
        median_of(pairs.iter().map(|p| p.1)),
        median_of(pairs.iter().map(|p| p.0 / p.1)),
    )
}

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn load(c: &mut Criterion) {
    for n in workload::bench_sizes() {
        let w = workload::ovh(n);
        let bytes = w.policies_json.len() + w.account_json.len();
        let engine = load_and_compile(w.policies_json.clone(), w.account_json.clone());
        assert_eq!(engine.set.ovh_policies.len(), n);
        drop(engine);

        let runs = if n >= 100_000 { 3 } else { 11 };
        let (ours, serde, ratio) = fresh_pairs(&w, n, runs);
        println!(
            "load/{n}: {:.1} MB; load + compile {:.2} ms, serde_json::Value {:.2} ms: ratio {ratio:.2}× (median of {runs} alternating pairs, a fresh process each)",
            bytes as f64 / 1e6,
            ours * 1e3,
            serde * 1e3,
        );

        // The same, warm: in this one process, each side run back to back, so that each finds the heap its
        // own previous run left (the cost of a long-lived service reloading; the more demanding ratio).
        let ours = median_of((0..runs).map(|_| {
            let (p, a) = (w.policies_json.clone(), w.account_json.clone());
            let start = Instant::now();
            let e = load_and_compile(p, a);
            let t = start.elapsed();
            drop(black_box(e));
            t.as_secs_f64()
        }));
        let serde = median_of((0..runs).map(|_| {
            let start = Instant::now();
            let v = serde_value(&w.policies_json, &w.account_json);
            let t = start.elapsed();
            drop(black_box(v));
            t.as_secs_f64()
        }));
        println!(
            "load/{n}: warm, one process: load + compile {:.2} ms, serde_json::Value {:.2} ms: ratio {:.2}× (medians of {runs} runs back to back)",
            ours * 1e3,
            serde * 1e3,
            ours / serde
        );

        // Where the time goes: load (bytes → raw shapes), validate (→ model), compile (→ index).
        let (p, a) = (w.policies_json.clone(), w.account_json.clone());
        let t0 = Instant::now();
        let mut loaded = policy_sim::Loaded::new();
        loaded.add_text("policies.json", p, policy_sim::Role::Policies);
        loaded.add_text("account.json", a, policy_sim::Role::Account);
        let t1 = Instant::now();
        let matrix = std::sync::Arc::new(policy_sim::validate::builtin_matrix().unwrap());
        let set = policy_sim::validate::validate(loaded, matrix).unwrap();
        let t2 = Instant::now();
        let engine = policy_sim::Engine::compile(set);
        let t3 = Instant::now();
        assert_eq!(engine.set.ovh_policies.len(), n);
        println!(
            "load/{n}: stages (one run): load {:.2} ms, validate {:.2} ms, compile {:.2} ms",
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3
        );
        drop(engine);

        let mut g = c.benchmark_group("load");
        g.throughput(Throughput::Bytes(bytes as u64));
        if n >= 10_000 {
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(if n >= 100_000 { 20 } else { 5 }));
        }
        g.bench_function(BenchmarkId::new("load_compile", n), |b| {
            b.iter_batched(
                || (w.policies_json.clone(), w.account_json.clone()),
                |(p, a)| {
                    let e = load_and_compile(p, a);
                    assert_eq!(e.set.ovh_policies.len(), n);
                    e
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function(BenchmarkId::new("serde_json_value", n), |b| {
            b.iter(|| serde_value(black_box(&w.policies_json), black_box(&w.account_json)))
        });
        g.finish();
    }
}

criterion_group!(benches, load);

fn main() {
    if let Ok(mode) = std::env::var("POLICY_SIM_LOAD_CHILD") {
        let args: Vec<String> = std::env::args().collect();
        child(&mode, &args[1], &args[2]);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
