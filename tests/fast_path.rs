//! The fast path on the benches' generated workload (issue 8): `decide` agrees with the reference evaluator
//! and with `explain`; the brief `explain_with` (what `check --requests` prints in text) names the same decisive
//! policies as `explain`, with buffers reused from request to request or not; and `decide` allocates nothing on the common path (a counting global allocator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/workload.rs"]
mod workload;

use std::alloc::System;
use std::sync::Mutex;

use policy_sim::eval::{reference, Detail, Explanation, Scratch};
use policy_sim::{report, Engine, Prepared};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The allocation count is process-wide: the tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn workload(n: usize, count: usize) -> (policy_sim::Engine, Vec<Prepared>) {
    let w = workload::ovh(n);
    let engine = workload::ovh_engine(&w);
    let prepared = workload::ovh_requests(&w, count, 42)
        .iter()
        .map(|r| engine.prepare(&r.to_request()).unwrap())
        .collect();
    (engine, prepared)
}

/// The brief explanation of `p`, with fresh buffers.
fn brief_of(engine: &Engine, p: &Prepared) -> Explanation {
    engine.explain_with(p, Detail::Brief, &mut Scratch::default())
}

#[test]
fn decide_explain_brief_and_reference_agree_on_the_generated_workload() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut seen = [0usize; 3];
    for n in [10, 300] {
        let (engine, prepared) = workload(n, 1500);
        // As `check --requests` answers: one set of buffers, given back after each line.
        let mut scratch = Scratch::default();
        for p in &prepared {
            let reused = engine.explain_with(p, Detail::Brief, &mut scratch);
            assert_eq!(
                reused,
                brief_of(&engine, p),
                "brief with reused buffers: {p:?}"
            );
            scratch.recycle(reused);
            let fast = engine.decide(p);
            let (oracle, missing) = reference::decide(&engine.set, p);
            assert_eq!(fast, oracle, "decide vs reference, {n} policies: {p:?}");
            let full = engine.explain(p);
            assert_eq!(full.decision(), fast, "explain vs decide: {p:?}");
            assert_eq!(full.missing_context, missing, "missing context: {p:?}");
            let brief = brief_of(&engine, p).into_response(p);
            assert_eq!(brief.decision(), fast, "brief vs decide: {p:?}");
            assert_eq!(
                report::summary(&brief),
                report::summary(&full),
                "summary: {p:?}"
            );
            seen[fast.reason as usize] += 1;
        }
    }
    // The workload exercises every reason.
    assert!(seen.iter().all(|&c| c > 0), "{seen:?}");
}

/// The common path: a request that gives the context its conditions read. (A condition key the request
/// lacks is recorded for `missing_context`, which allocates; `explain` reports it.)
#[test]
fn decide_does_not_allocate_on_the_common_path() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (engine, mut prepared) = workload(2_000, 2_000);
    for p in &mut prepared {
        p.context
            .entry(String::from("request.IP"))
            .or_insert_with(|| String::from("192.0.2.10"));
    }
    for p in &prepared {
        engine.decide(p); // warm any lazily built state
    }
    let mut allocating = 0;
    for p in &prepared {
        let region = Region::new(GLOBAL);
        let d = engine.decide(p);
        let stats = region.change();
        std::hint::black_box(d);
        if stats.allocations + stats.reallocations > 0 {
            allocating += 1;
            eprintln!("allocated {stats:?}: {p:?}");
        }
    }
    assert_eq!(
        allocating,
        0,
        "{allocating} of {} decisions allocated",
        prepared.len()
    );
}

/// An action with more index keys than the fast path holds (one per matching prefix here) falls back to
/// visiting every candidate, and still agrees with the reference evaluator.
#[test]
fn an_action_with_very_many_keys_still_decides_right() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let user = "urn:v1:eu:identity:user:xx1111-ovh/u";
    let policies: Vec<serde_json::Value> = (1..=40)
        .map(|l| {
            let (effect, action) = if l == 37 {
                ("deny", format!("{}*", "a".repeat(l)))
            } else {
                ("allow", format!("{}*", "a".repeat(l)))
            };
            serde_json::json!({
                "name": format!("p{l}"),
                "identities": [user],
                "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
                "permissions": {effect: [{"action": action}]},
            })
        })
        .collect();
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_text(
        "many.json",
        serde_json::to_string(&policies).unwrap(),
        policy_sim::Role::Policies,
    );
    let account =
        r#"{"account": "xx1111-ovh", "region": "eu", "users": [{"login": "u", "group": "g"}]}"#;
    loaded.add_text("account.json", account.into(), policy_sim::Role::Account);
    let engine = policy_sim::build(loaded, None).unwrap();
    for len in [1, 36, 37, 50] {
        let req = policy_sim::Request::new(
            Some(user),
            &"a".repeat(len),
            Some("urn:v1:eu:resource:vps:vps-1.vps.ovh.net"),
        );
        let p = engine.prepare(&req).unwrap();
        let want = reference::decide(&engine.set, &p).0;
        assert_eq!(engine.decide(&p), want, "{len}");
        assert_eq!(brief_of(&engine, &p).decision, want, "{len}");
        assert_eq!(want.allowed(), len < 37, "{len}");
    }
}

/// At 5,000 policies (4.8 MB) the pre-scan is split in two and the identity index is built in parts, one
/// per core (on a machine with two): decisions and summaries still agree with the reference evaluator and
/// with `explain`.
#[test]
fn a_large_set_scanned_and_indexed_on_two_cores_agrees_with_the_reference() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (engine, prepared) = workload(5000, 300);
    assert_eq!(engine.set.ovh_policies.len(), 5000);
    for p in &prepared {
        let fast = engine.decide(p);
        assert_eq!(fast, reference::decide(&engine.set, p).0, "{p:?}");
        let full = engine.explain(p);
        assert_eq!(full.decision(), fast, "{p:?}");
        assert_eq!(
            report::summary(&brief_of(&engine, p).into_response(p)),
            report::summary(&full),
            "{p:?}"
        );
    }
}

/// `prepare_with` (what `check --requests` uses, one `Prepared` refilled line after line) gives
/// what `prepare` gives, whatever the request before it had: a context or none, another identity.
#[test]
fn a_refilled_request_equals_a_fresh_one() {
    let w = workload::ovh(300);
    let engine = workload::ovh_engine(&w);
    let mut scratch = Scratch::default();
    let mut slot = Prepared::default();
    let (mut with_context, mut without) = (0, 0);
    for r in workload::ovh_requests(&w, 2000, 7) {
        let req = r.to_request();
        let fresh = engine.prepare(&req).unwrap();
        engine
            .prepare_with(
                &policy_sim::model::request::RequestRef::from(&req),
                &mut scratch,
                &mut slot,
            )
            .unwrap();
        assert_eq!(slot, fresh);
        if fresh.context.is_empty() {
            without += 1;
        } else {
            with_context += 1;
        }
    }
    assert!(with_context > 0 && without > 0, "{with_context} {without}");
}
