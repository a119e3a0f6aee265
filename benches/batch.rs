//! `check --requests` per line, stage by stage, on one core, over the generated OVHcloud workload at 10k
//! policies (issue 8: 1M lines in under 2 s on two cores). Each stage is timed cumulatively over the same
//! lines in input order (parse, then prepare, then the brief decision, then the text), so the differences
//! are each stage's cost; the loader's careful parser is timed too, for comparison. The whole line is then
//! timed again with each 32,768 lines answered grouped by identity, as `check --requests` answers a round:
//! the difference is what the processor's caches save when an identity's policies are read once a round.
//! The engine and the lines are built outside the timed loops; the answers are checked against `decide`
//! before timing. `cargo bench --bench batch` runs 200,000 lines over 10k policies; without `--bench`
//! (`cargo test --benches`), a small run only checks that it works.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/workload.rs"]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use policy_sim::eval::{Detail, Scratch};
use policy_sim::load::{request_line, Limits};
use policy_sim::model::request::RequestRef;

fn parse(l: &str) -> RequestRef<'_> {
    RequestRef::parse_plain(l, 1 << 20, 64).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (n, count) = if args.iter().any(|a| a == "--bench") {
        (10_000, 200_000)
    } else {
        (100, 1_000)
    };
    let w = workload::ovh(n);
    let engine = workload::ovh_engine(&w);
    let lines: Vec<String> = workload::ovh_requests(&w, count, 1)
        .iter()
        .map(workload::Req::to_json_line)
        .collect();
    let mut cache = Scratch::default();
    let mut request = policy_sim::Prepared::default();
    for l in &lines {
        engine
            .prepare_with(&parse(l), &mut cache, &mut request)
            .unwrap();
        assert_eq!(
            request,
            engine
                .prepare(&request_line(l, &Limits::default()).unwrap())
                .unwrap()
        );
        let b = engine.explain_with(&request, Detail::Brief, &mut cache);
        assert_eq!(b.decision, engine.decide(&request), "{l}");
    }
    println!("check --requests, one core, {count} lines over {n} policies (cumulative):");
    let per = |name: &str, t: Instant| {
        println!(
            "  {name:<40} {:>6.0} ns/line",
            t.elapsed().as_nanos() as f64 / count as f64
        )
    };
    let t = Instant::now();
    for l in &lines {
        black_box(request_line(black_box(l), &Limits::default()).unwrap());
    }
    per("load::request_line (owned)", t);
    let t = Instant::now();
    for l in &lines {
        black_box(parse(black_box(l)));
    }
    per("RequestRef::parse_plain", t);
    let t = Instant::now();
    for l in &lines {
        black_box(engine.prepare(parse(l)).unwrap());
    }
    per("+ prepare (no scratch)", t);
    let mut cache = Scratch::default();
    let t = Instant::now();
    for l in &lines {
        engine
            .prepare_with(&parse(l), &mut cache, &mut request)
            .unwrap();
        black_box(&request);
    }
    per("+ prepare_with (scratch, refilled)", t);
    let t = Instant::now();
    for l in &lines {
        engine
            .prepare_with(&parse(l), &mut cache, &mut request)
            .unwrap();
        black_box(engine.decide(&request));
    }
    per("+ decide (for comparison)", t);
    let t = Instant::now();
    for l in &lines {
        engine
            .prepare_with(&parse(l), &mut cache, &mut request)
            .unwrap();
        black_box(engine.explain_with(&request, Detail::Brief, &mut Scratch::default()));
    }
    per("+ brief (fresh buffers)", t);
    // A whole line as the batch answers it: parse, prepare into the thread's request, the brief decision
    // with the thread's buffers, and its summary.
    let mut out = String::new();
    let mut whole_lines = |lines: &mut dyn Iterator<Item = &String>| {
        for l in lines {
            engine
                .prepare_with(&parse(l), &mut cache, &mut request)
                .unwrap();
            let b = engine.explain_with(&request, Detail::Brief, &mut cache);
            out.clear();
            policy_sim::report::write_summary(
                &mut out,
                b.decision.reason,
                &b.trace,
                !b.missing_context.is_empty(),
            );
            black_box(&out);
            cache.recycle(b);
        }
    };
    let t = Instant::now();
    whole_lines(&mut lines.iter());
    per("+ brief + write_summary", t);
    // The same lines, each round of 32,768 grouped by identity (the batch groups by a hash of it).
    let mut grouped: Vec<&String> = Vec::with_capacity(lines.len());
    for round in lines.chunks(32 * 1024) {
        let mut round: Vec<&String> = round.iter().collect();
        round.sort_by_key(|l| parse(l).identity.unwrap_or_default().to_owned());
        grouped.extend(round);
    }
    let t = Instant::now();
    whole_lines(&mut grouped.iter().copied());
    per("the same, rounds grouped by identity", t);
    // The same line answered as `--format json` (the brief trace, the batch default).
    let mut json = String::new();
    let t = Instant::now();
    for (n, l) in lines.iter().enumerate() {
        engine
            .prepare_with(&parse(l), &mut cache, &mut request)
            .unwrap();
        let b = engine.explain_with(&request, Detail::Brief, &mut cache);
        json.clear();
        policy_sim::report::write_brief_json(
            &mut json,
            n + 1,
            request.identity_echo(),
            &request.action,
            request.resource.as_deref(),
            b.decision,
            &b.trace,
            &b.missing_context,
        );
        black_box(&json);
        cache.recycle(b);
    }
    per("+ brief + write_brief_json (--format json)", t);
}
