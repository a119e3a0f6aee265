//! Load + compile time of the generated OVHcloud workload (policies and account file, as `check` reads
//! them) against `serde_json::from_str::<serde_json::Value>` on the same bytes, at 10, 1k, 10k and 100k
//! policies. Besides criterion's numbers, it prints the ratio of the medians (the target: within
//! 2× at 10k). The texts are cloned outside the timed part (`Loaded::add_text` takes ownership).
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

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

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

fn median(mut f: impl FnMut() -> Duration, runs: usize) -> Duration {
    let mut t: Vec<Duration> = (0..runs).map(|_| f()).collect();
    t.sort();
    t[t.len() / 2]
}

fn load(c: &mut Criterion) {
    for n in workload::bench_sizes() {
        let w = workload::ovh(n);
        let bytes = w.policies_json.len() + w.account_json.len();
        let engine = load_and_compile(w.policies_json.clone(), w.account_json.clone());
        assert_eq!(engine.set.ovh_policies.len(), n);
        drop(engine);

        let runs = if n >= 100_000 { 3 } else { 11 };
        let ours = median(
            || {
                let (p, a) = (w.policies_json.clone(), w.account_json.clone());
                let start = Instant::now();
                let e = load_and_compile(p, a);
                let t = start.elapsed();
                assert_eq!(e.set.ovh_policies.len(), n);
                drop(black_box(e));
                t
            },
            runs,
        );
        let serde = median(
            || {
                let start = Instant::now();
                let v = serde_value(&w.policies_json, &w.account_json);
                let t = start.elapsed();
                drop(black_box(v));
                t
            },
            runs,
        );
        println!(
            "load/{n}: {:.1} MB; load + compile {:.2} ms, serde_json::Value {:.2} ms: ratio {:.2}× (median of {runs})",
            bytes as f64 / 1e6,
            ours.as_secs_f64() * 1e3,
            serde.as_secs_f64() * 1e3,
            ours.as_secs_f64() / serde.as_secs_f64()
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
criterion_main!(benches);
