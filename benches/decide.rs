//! Decisions per second, with and without the trace, over the generated OVHcloud workload at 10, 1k, 10k
//! and 100k policies and over the OUTSCALE EIM workload. Engines and prepared requests are built outside
//! the timed loop; each iteration evaluates one request (cycling through 4096 of them) and asserts that the
//! answer is the one computed beforehand (by the reference evaluator for the smaller sets).
//!
//! Besides criterion's mean, the bench prints the median over requests of the per-request time (each
//! request timed over many repetitions): the number the "< 1 µs median" target is about.
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

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use policy_sim::eval::reference;
use policy_sim::{Decision, Engine, Prepared};

const REQUESTS: usize = 4096;

fn prepare(engine: &Engine, reqs: &[workload::Req]) -> Vec<Prepared> {
    reqs.iter()
        .map(|r| engine.prepare(&r.to_request()).unwrap())
        .collect()
}

fn expected(engine: &Engine, prepared: &[Prepared], oracle: bool) -> Vec<Decision> {
    prepared
        .iter()
        .map(|p| {
            let d = engine.decide(p);
            if oracle {
                assert_eq!(d, reference::decide(&engine.set, p).0, "{p:?}");
            }
            d
        })
        .collect()
}

/// Median over requests of each request's own time, plus the mean: printed, not asserted.
fn per_request_median(name: &str, engine: &Engine, prepared: &[Prepared], want: &[Decision]) {
    let reps = 64;
    let mut times: Vec<f64> = prepared
        .iter()
        .zip(want)
        .map(|(p, w)| {
            let start = Instant::now();
            for _ in 0..reps {
                assert_eq!(engine.decide(black_box(p)), *w);
            }
            start.elapsed().as_nanos() as f64 / f64::from(reps)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let pct = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{name}: decide per request over {} requests: median {:.0} ns, p90 {:.0} ns, p99 {:.0} ns, max {:.0} ns, mean {:.0} ns ({:.2} M decisions/s on one core)",
        times.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        mean,
        1e3 / mean
    );
}

fn ovh(c: &mut Criterion) {
    for n in workload::bench_sizes() {
        let w = workload::ovh(n);
        let engine = workload::ovh_engine(&w);
        let prepared = prepare(&engine, &workload::ovh_requests(&w, REQUESTS, 7));
        let want = expected(&engine, &prepared, n <= 1_000);
        let allowed = want.iter().filter(|d| d.allowed()).count();
        println!(
            "ovh/{n}: {} policies, {} of {REQUESTS} requests allowed",
            engine.set.ovh_policies.len(),
            allowed
        );
        per_request_median(&format!("ovh/{n}"), &engine, &prepared, &want);

        let mut g = c.benchmark_group("ovh");
        g.throughput(Throughput::Elements(1));
        g.measurement_time(Duration::from_secs(3));
        g.warm_up_time(Duration::from_millis(500));
        g.bench_function(BenchmarkId::new("decide", n), |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                assert_eq!(engine.decide(black_box(&prepared[i])), want[i]);
            })
        });
        g.bench_function(BenchmarkId::new("explain", n), |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                let r = engine.explain(black_box(&prepared[i]));
                assert_eq!(r.decision(), want[i]);
                r
            })
        });
        g.finish();
    }
}

fn eim(c: &mut Criterion) {
    for users in [100usize, 10_000] {
        let w = workload::eim(users);
        let engine = workload::eim_engine(&w);
        let mut rng = workload::Rng::new(11);
        let prepared: Vec<Prepared> = (0..REQUESTS)
            .map(|_| {
                let r = policy_sim::Request::new(
                    Some(rng.pick(&w.users).as_str()),
                    rng.pick(&w.actions).as_str(),
                    None,
                );
                engine.prepare(&r).unwrap()
            })
            .collect();
        let want = expected(&engine, &prepared, true);
        println!(
            "eim/{users}: {} documents, {} of {REQUESTS} requests allowed",
            engine.set.eim_documents.len(),
            want.iter().filter(|d| d.allowed()).count()
        );
        per_request_median(&format!("eim/{users}"), &engine, &prepared, &want);
        let mut g = c.benchmark_group("eim");
        g.throughput(Throughput::Elements(1));
        g.measurement_time(Duration::from_secs(3));
        g.warm_up_time(Duration::from_millis(500));
        g.bench_function(BenchmarkId::new("decide", users), |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                assert_eq!(engine.decide(black_box(&prepared[i])), want[i]);
            })
        });
        g.bench_function(BenchmarkId::new("explain", users), |b| {
            let mut i = 0usize;
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                let r = engine.explain(black_box(&prepared[i]));
                assert_eq!(r.decision(), want[i]);
                r
            })
        });
        g.finish();
    }
}

criterion_group!(benches, ovh, eim);
criterion_main!(benches);
