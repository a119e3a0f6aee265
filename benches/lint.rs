//! `policy-sim lint` over 10,000 policy files (issue 5: under one second on the 2-core machine), and over
//! ONE file holding 2,500, 5,000 and 20,000 policies, as an API dump is (issue 15: under 2 s at 20,000, and
//! linear in the file's size). The files are generated once, outside the timed loop, in a temporary
//! directory; each iteration lints and asserts the number of files and findings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use policy_sim::lint::{lint_paths, Options};

const FILES: usize = 10_000;
const ACTIONS: [&str; 6] = [
    "vps:apiovh:reboot",
    "vps:apiovh:get",
    "vps:apiovh:ips/*",
    "*get",
    "publicCloudProject:openstack:computeOperator",
    "dnsZone:apiovh:record/*",
];

/// One realistic policy file a `GET /v2/iam/policy` dump would hold, pretty-printed.
fn policy(i: usize) -> String {
    serde_json::to_string_pretty(&[policy_value(i)]).unwrap()
}

fn policy_value(i: usize) -> serde_json::Value {
    let a = |k: usize| ACTIONS[(i * 7 + k * 3) % ACTIONS.len()];
    serde_json::json!({
        "id": format!("00000000-0000-0000-0000-{i:012}"), "owner": "xx1111-ovh", "name": format!("policy-{i}"), "readOnly": false,
        "identities": [format!("urn:v1:eu:identity:user:xx1111-ovh/u{}", i % 300)],
        "resources": [{"urn": format!("urn:v1:eu:resource:vps:vps-{}.vps.ovh.net", i % 50)}],
        "permissions": {"allow": [{"action": a(0)}, {"action": a(1)}], "except": [], "deny": if i % 97 == 0 { vec![serde_json::json!({"action": "vps:apiovh:reboot"})] } else { vec![] }},
        "createdAt": "2025-01-01T00:00:00Z", "updatedAt": null
    })
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("policy-sim-lint-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..FILES {
        std::fs::write(dir.join(format!("p{i:05}.json")), policy(i)).unwrap();
    }
    let opts = Options {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        matrix: Arc::new(policy_sim::validate::builtin_matrix().unwrap()),
    };
    let paths = vec![dir.display().to_string()];
    let expected = lint_paths(&paths, &opts).findings.len();
    assert!(
        expected > 0,
        "the workload has findings (wildcards, dead allows)"
    );
    let mut g = c.benchmark_group("lint");
    g.sample_size(10);
    g.bench_function("10k_policy_files", |b| {
        b.iter(|| {
            let r = lint_paths(&paths, &opts);
            assert_eq!(r.files, FILES);
            assert_eq!(r.findings.len(), expected);
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// One file of 2,500 / 5,000 / 20,000 policies: the time per policy must stay flat.
fn one_file(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("policy-sim-lint-one-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = Options {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        matrix: Arc::new(policy_sim::validate::builtin_matrix().unwrap()),
    };
    let mut g = c.benchmark_group("lint_one_file");
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_millis(500));
    g.measurement_time(std::time::Duration::from_secs(3));
    for n in [2_500, 5_000, 20_000] {
        let policies: Vec<serde_json::Value> = (0..n).map(policy_value).collect();
        let file = dir.join(format!("dump{n}.json"));
        std::fs::write(&file, serde_json::to_string_pretty(&policies).unwrap()).unwrap();
        let paths = vec![file.display().to_string()];
        let expected = lint_paths(&paths, &opts).findings.len();
        assert!(expected >= n / 100, "dead allows grow with the file");
        g.throughput(criterion::Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_policies"), |b| {
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

criterion_group!(benches, bench, one_file);
criterion_main!(benches);
