//! Adversarial patterns: matching must stay linear in the input. `*a*a*a*a*a*b` against `aaaa…` (the
//! classic backtracking blow-up), a deny-side inner-star OVHcloud glob and an EIM `?` glob, at input lengths
//! from 1 kB to 1 MB, both on the matcher alone and through `Engine::decide`. The bench prints ns per input
//! byte for each length: flat means linear. For contrast it times the naive recursive matcher the reference
//! evaluator uses on tiny inputs, where it already grows polynomially.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use policy_sim::model::pattern::{reference_match, Pattern, Syntax};
use policy_sim::{Decision, Engine, Loaded, Request, Role};

const LENGTHS: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

fn per_byte(f: impl Fn(), len: usize) -> f64 {
    f();
    let reps = (4_000_000 / len).clamp(3, 1_000);
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_nanos() as f64 / reps as f64 / len as f64
}

fn ovh_engine() -> Engine {
    let mut loaded = Loaded::new();
    loaded.add_text(
        "adversarial.json",
        r#"[{"name": "adversarial",
            "identities": ["urn:v1:eu:identity:user:xx1111-ovh/u"],
            "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
            "permissions": {"allow": [{"action": "*"}],
                            "deny": [{"action": "*a*a*a*a*a*b"}, {"action": "*a*a*a*a*a*b*"},
                                     {"action": "vps:*a*a*a*a*c"}]}}]"#
            .into(),
        Role::Policies,
    );
    let account =
        r#"{"account": "xx1111-ovh", "region": "eu", "users": [{"login": "u", "group": "g"}]}"#;
    loaded.add_text("account.json", account.into(), Role::Account);
    policy_sim::build(loaded, None).unwrap()
}

fn eim_engine() -> Engine {
    let mut loaded = Loaded::new();
    loaded.add_text(
        "adversarial-eim.json",
        r#"{"Statement": [{"Effect": "Allow", "Action": "api:*", "Resource": "*"},
                          {"Effect": "Deny", "Action": ["api:?a?a*a?a*a?b*", "API:*A*A*A*A*B*"], "Resource": "*"}]}"#
            .into(),
        Role::Policies,
    );
    policy_sim::build(loaded, None).unwrap()
}

fn adversarial(c: &mut Criterion) {
    // Ends anchored: `b` must be last, found at once. The others end in `*`: every piece is searched for
    // across the whole input, the case a backtracking matcher takes exponential time on.
    let glob = Pattern::wildcard("*a*a*a*a*a*b", Syntax::default());
    let glob_open = Pattern::wildcard("*a*a*a*a*a*b*", Syntax::default());
    let eim_q = Pattern::wildcard(
        "api:?a?a*a?a*a?b*",
        Syntax {
            question: true,
            fold_case: true,
        },
    );
    let ovh = ovh_engine();
    let eim = eim_engine();
    let prep = |e: &Engine, id: Option<&str>, action: &str, res: Option<&str>| {
        e.prepare(&Request::new(id, action, res)).unwrap()
    };
    println!("ns per input byte (flat = linear):");
    for len in LENGTHS {
        let hay = "a".repeat(len);
        let eim_hay = format!("api:{hay}");
        let ovh_req = prep(
            &ovh,
            Some("urn:v1:eu:identity:user:xx1111-ovh/u"),
            &hay,
            Some("urn:v1:eu:resource:vps:vps-1.vps.ovh.net"),
        );
        let eim_req = prep(&eim, None, &eim_hay, None);
        assert!(!glob.matches(&hay) && !glob_open.matches(&hay) && !eim_q.matches(&eim_hay));
        assert_eq!(ovh.decide(&ovh_req), Decision::EXPLICIT_ALLOW);
        assert_eq!(eim.decide(&eim_req), Decision::EXPLICIT_ALLOW);
        println!(
            "  {len:>9} bytes: `*a*a*a*a*a*b` {:.4}; `*a*a*a*a*a*b*` {:.3}; EIM `api:?a?a*a?a*a?b*` (case-folded) {:.3}; OVHcloud decide (deny-side globs) {:.3}; EIM decide {:.3}",
            per_byte(|| assert!(!glob.matches(black_box(&hay))), len),
            per_byte(|| assert!(!glob_open.matches(black_box(&hay))), len),
            per_byte(|| assert!(!eim_q.matches(black_box(&eim_hay))), len),
            per_byte(|| assert_eq!(ovh.decide(black_box(&ovh_req)), Decision::EXPLICIT_ALLOW), len),
            per_byte(|| assert_eq!(eim.decide(black_box(&eim_req)), Decision::EXPLICIT_ALLOW), len),
        );
    }
    // The matching case: the deny applies.
    let hit = format!("{}b", "a".repeat(100_000));
    let hit_req = prep(
        &ovh,
        Some("urn:v1:eu:identity:user:xx1111-ovh/u"),
        &hit,
        Some("urn:v1:eu:resource:vps:vps-1.vps.ovh.net"),
    );
    assert_eq!(ovh.decide(&hit_req), Decision::EXPLICIT_DENY);
    println!("naive backtracking (the reference evaluator's matcher), for contrast:");
    for len in [8usize, 16, 24, 32] {
        let hay = "a".repeat(len);
        let start = Instant::now();
        assert!(!reference_match("*a*a*a*a*a*b", &hay, false, false));
        println!("  {len:>3} bytes: {:?}", start.elapsed());
    }

    let mut g = c.benchmark_group("adversarial");
    g.measurement_time(Duration::from_secs(2));
    g.warm_up_time(Duration::from_millis(300));
    for len in LENGTHS {
        let hay = "a".repeat(len);
        let req = prep(
            &ovh,
            Some("urn:v1:eu:identity:user:xx1111-ovh/u"),
            &hay,
            Some("urn:v1:eu:resource:vps:vps-1.vps.ovh.net"),
        );
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("glob_open", len), |b| {
            b.iter(|| assert!(!glob_open.matches(black_box(&hay))))
        });
        g.bench_function(BenchmarkId::new("ovh_decide", len), |b| {
            b.iter(|| assert_eq!(ovh.decide(black_box(&req)), Decision::EXPLICIT_ALLOW))
        });
    }
    g.finish();
}

criterion_group!(benches, adversarial);
criterion_main!(benches);
