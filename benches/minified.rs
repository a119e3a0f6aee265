//! Minified API dumps (issue 15): `GET /v2/iam/policy` returns one line of megabytes, every policy on it.
//! `lint` of ONE minified file of 2,000 and 20,000 policies (target: under 2 s at 20,000 on the 2-core
//! machine, and linear in the file's size), and `audit findings` over a minified set of 2,000 policies.
//! Every finding's column is counted on that one line, so this is where a column counted from the line's
//! start costs findings × line length. The files and engines are built outside the timed loop; each
//! iteration asserts its answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/workload.rs"]
mod workload;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use policy_sim::audit::{self, Scope, Universe};
use policy_sim::lint::{lint_paths, Options};

/// The generated set of `n` policies as the API returns it: one line.
fn minified(n: usize) -> String {
    let v: serde_json::Value = serde_json::from_str(&workload::ovh(n).policies_json).unwrap();
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains('\n'));
    text
}

fn lint(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("policy-sim-minified-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = Options {
        at: "2026-06-01T12:00:00Z".parse().unwrap(),
        matrix: Arc::new(policy_sim::validate::builtin_matrix().unwrap()),
    };
    let mut g = c.benchmark_group("minified_lint");
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_millis(500));
    g.measurement_time(std::time::Duration::from_secs(3));
    for n in [2_000, 20_000] {
        let file = dir.join(format!("dump{n}.json"));
        std::fs::write(&file, minified(n)).unwrap();
        let paths = vec![file.display().to_string()];
        let first = lint_paths(&paths, &opts);
        let expected = first.findings.len();
        assert!(
            expected >= n,
            "{expected} findings: they grow with the file"
        );
        assert!(first.findings.iter().all(|f| f.line == Some(1)));
        g.throughput(criterion::Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_policies_one_line"), |b| {
            b.iter(|| {
                let r = lint_paths(&paths, &opts);
                assert_eq!(r.files, 1);
                assert_eq!(r.findings.len(), expected);
            })
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn findings(c: &mut Criterion) {
    let at: jiff::Timestamp = "2026-06-01T12:00:00Z".parse().unwrap();
    let scope = Scope {
        fixed_at: true,
        ..Scope::default()
    };
    let mut g = c.benchmark_group("minified_audit");
    g.sample_size(10);
    let n = 2_000;
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_text("policies.json", minified(n), policy_sim::Role::Policies);
    let mut e = policy_sim::build(loaded, None)
        .unwrap()
        .with_default_time(at);
    let u = Universe::of(&mut e, &scope);
    let first = audit::findings::findings(&e, &u, at);
    assert!(first.iter().any(|f| f.line == Some(1)), "located findings");
    let expected = first.len();
    g.bench_function(format!("findings_{n}_policies_one_line"), |b| {
        b.iter(|| {
            let f = audit::findings::findings(&e, &u, at);
            assert_eq!(f.len(), expected);
        })
    });
    g.finish();
}

criterion_group!(benches, lint, findings);
criterion_main!(benches);
