//! `policy-sim audit` at account scale (issue 15): `matrix`, `findings`, `diff`, `who-can` and `what-can`
//! over 250, 2,500 and 10,000 generated policies with an account file of 2,000 users; targets on the 2-core
//! machine: matrix, findings and diff under 1 s at 250 policies, under 10 s at 10,000. The engines and the
//! universe are built outside the timed loop (as the CLI does once), and each iteration asserts its answer.
//! `POLICY_SIM_AUDIT_SIZES=250` (or `250,2500`) runs fewer: at 2,500 and 10,000 the matrix alone takes
//! tens of seconds an iteration (benches/README.md, "Audit at account scale").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/workload.rs"]
mod workload;

use criterion::{criterion_group, criterion_main, Criterion};
use policy_sim::audit::{self, Scope, Universe};

const USERS: usize = 2_000;

fn sizes() -> Vec<usize> {
    match std::env::var("POLICY_SIM_AUDIT_SIZES") {
        Ok(v) => v.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) => vec![250, 2_500, 10_000],
    }
}

fn bench(c: &mut Criterion) {
    let at: jiff::Timestamp = "2026-06-01T12:00:00Z".parse().unwrap();
    let scope = Scope {
        fixed_at: true,
        ..Scope::default()
    };
    let mut g = c.benchmark_group("audit");
    for n in sizes() {
        // Criterion's floor is 10 samples; the large sets take seconds each, so they also get less time.
        g.sample_size(10);
        if n > 250 {
            g.measurement_time(std::time::Duration::from_secs(1));
            g.warm_up_time(std::time::Duration::from_millis(1));
        }
        let mut w = workload::ovh(n);
        workload::add_users(&mut w, USERS);
        let mut e = workload::ovh_engine(&w).with_default_time(at);
        let u = Universe::of(&mut e, &scope);
        assert!(
            u.ovh_identities.len() >= USERS,
            "{} identities",
            u.ovh_identities.len()
        );
        g.bench_function(format!("matrix_{n}_policies_{USERS}_users"), |b| {
            b.iter(|| {
                let m = audit::access_matrix(&e, &u, || {});
                assert!(!m.blocks.is_empty());
            })
        });
        g.bench_function(format!("findings_{n}_policies_{USERS}_users"), |b| {
            b.iter(|| {
                let f = audit::findings::findings(&e, &u, at);
                assert!(!f.is_empty());
            })
        });
        let user = w.users[0].clone();
        g.bench_function(format!("who_can_{n}_policies_{USERS}_users"), |b| {
            b.iter(|| {
                let (gs, _) = audit::who_can(&e, &u, "vps:apiovh:reboot", None);
                assert!(!gs.is_empty());
            })
        });
        g.bench_function(format!("what_can_{n}_policies_{USERS}_users"), |b| {
            b.iter(|| {
                let (gs, _) = audit::what_can(&e, &u, Some(&user), None);
                assert!(!gs.is_empty());
            })
        });
        // NEW: OLD plus a policy granting `*` on every resource to one listed user (a change a review must
        // catch).
        let mut v: serde_json::Value = serde_json::from_str(&w.policies_json).unwrap();
        v.as_array_mut().unwrap().push(serde_json::json!({
            "name": "bench-widened", "identities": [user],
            "resources": [{"urn": "urn:v1:eu:resource:*"}],
            "permissions": {"allow": [{"action": "*"}], "except": [], "deny": []},
        }));
        let mut loaded = policy_sim::Loaded::new();
        loaded.add_text("policies.json", v.to_string(), policy_sim::Role::Policies);
        loaded.add_text(
            "account.json",
            w.account_json.clone(),
            policy_sim::Role::Account,
        );
        let (mut eo, mut en) = (
            workload::ovh_engine(&w).with_default_time(at),
            policy_sim::build(loaded, None)
                .unwrap()
                .with_default_time(at),
        );
        let uj = Universe::joint(&mut [&mut eo, &mut en], &scope);
        g.bench_function(format!("diff_{n}_policies_{USERS}_users"), |b| {
            b.iter(|| {
                let d = audit::diff::diff(&eo, &en, &uj, || {});
                assert!(!d.is_empty());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
