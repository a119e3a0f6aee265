//! Peak memory, measured honestly: the generated OVHcloud workload is written to files, then a fresh child
//! process (this binary again) loads them from disk as `check` does, compiles, answers 10,000 requests with
//! `decide`, then 100 of them with `explain`, and reports its own peak resident set (`VmHWM` in
//! /proc/self/status) after each stage (load: bytes → scanned text; validate: → model; compile: → index;
//! decide; explain, whose traces can hold tens of thousands of entries).
//! The parent's memory (the generator) is not counted.
//!
//! It also leaves the files for the end-to-end batch measurement in `target/policy-sim-bench/`:
//! `policies-{n}.json`, `account-{n}.json` and, for 10k policies, `requests-1M.jsonl` (1,000,000 lines), and
//! prints the `hyperfine` command that times `check --requests` on them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/workload.rs"]
mod workload;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn status(key: &str) -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_owned())
        .unwrap_or_else(|| String::from("(unavailable)"))
}

fn child(policies: &str, account: &str, requests: &str) {
    let start = Instant::now();
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_path(policies, policy_sim::Role::Policies);
    loaded.add_path(account, policy_sim::Role::Account);
    let hwm_load = status("VmHWM:");
    let matrix = policy_sim::validate::builtin_matrix().unwrap();
    let set = policy_sim::validate::validate(loaded, std::sync::Arc::new(matrix)).unwrap();
    let hwm_validate = status("VmHWM:");
    let engine = policy_sim::Engine::compile(set);
    let built = start.elapsed();
    let after_build = status("VmHWM:");
    println!(
        "  peak RSS by stage: after load {hwm_load}, after validate {hwm_validate}, after compile {}",
        status("VmHWM:")
    );
    let text = std::fs::read_to_string(requests).unwrap();
    let prepare = |line: &str| {
        let req: policy_sim::Request = serde_json::from_str(line).unwrap();
        engine.prepare(&req).unwrap()
    };
    // As `check` answers: one request at a time.
    let mut allowed = 0usize;
    for line in text.lines().take(10_000) {
        allowed += usize::from(engine.decide(&prepare(line)).allowed());
    }
    let after_decide = status("VmHWM:");
    let mut explained = 0usize;
    let mut largest = 0usize;
    for line in text.lines().take(100) {
        let p = prepare(line);
        let r = engine.explain(&p);
        assert_eq!(r.decision(), engine.decide(&p));
        explained += r.trace.len();
        largest = largest.max(r.trace.len());
    }
    println!(
        "  {} policies: load + compile {:.2} s; peak RSS after compile {after_build}, after 10,000 decide ({allowed} allowed) {after_decide}, after 100 explain ({explained} trace entries, the largest {largest}) {} (VmRSS now {})",
        engine.set.ovh_policies.len(),
        built.as_secs_f64(),
        status("VmHWM:"),
        status("VmRSS:"),
    );
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], &args[i + 2], &args[i + 3]);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only check that it runs.
    let sizes: &[usize] = if args.iter().any(|a| a == "--bench") {
        &[10_000, 100_000]
    } else {
        &[100]
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/policy-sim-bench");
    std::fs::create_dir_all(&dir).unwrap();
    println!("peak memory (a fresh process per size; VmHWM from /proc/self/status):");
    for &n in sizes {
        let w = workload::ovh(n);
        let policies = dir.join(format!("policies-{n}.json"));
        let account = dir.join(format!("account-{n}.json"));
        let requests = dir.join(format!("requests-{n}.jsonl"));
        write(&policies, &w.policies_json);
        write(&account, &w.account_json);
        let reqs = workload::ovh_requests(&w, 10_000, 99);
        let mut text = String::new();
        for r in &reqs {
            text.push_str(&r.to_json_line());
            text.push('\n');
        }
        write(&requests, &text);
        println!(
            "  {n} policies: {:.1} MB of policy JSON",
            w.policies_json.len() as f64 / 1e6
        );
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--child")
            .args([&policies, &account, &requests])
            .output()
            .unwrap();
        std::io::stdout().write_all(&out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if n == 10_000 {
            let big = dir.join("requests-1M.jsonl");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
            for r in workload::ovh_requests(&w, 1_000_000, 1) {
                writeln!(f, "{}", r.to_json_line()).unwrap();
            }
            f.flush().unwrap();
            println!(
                "  wrote {} (1,000,000 requests over 10k policies); time the batch with:\n    hyperfine --warmup 1 'target/release/policy-sim check --policies {} --account {} --requests {} > /dev/null'",
                big.display(),
                policies.display(),
                account.display(),
                big.display()
            );
        }
    }
}
