//! The one harness for `fixtures/cases/**/*.json` (format: fixtures/README.md). Every case is checked three
//! ways — the fast path (`decide`), the explaining path (`explain`) and the reference evaluator — and all
//! must give the fixture's decision and reason. All failures are collected and reported together.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use policy_sim::eval::reference;
use policy_sim::{Loaded, Reason, Request, Role, Verdict};
use serde_json::Value;

const DEFAULT_AT: &str = "2026-06-01T12:00:00Z";

fn case_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cases");
    let pattern = format!("{}/**/*.json", root.display());
    let mut files: Vec<PathBuf> = glob::glob(&pattern).unwrap().map(Result::unwrap).collect();
    files.sort();
    files
}

fn add_input(loaded: &mut Loaded, base: &Path, label: &str, item: &Value, role: Role) {
    match item {
        Value::String(rel) => loaded.add_path(&base.join(rel).display().to_string(), role),
        other => loaded.add_text(label, serde_json::to_string_pretty(other).unwrap(), role),
    }
}

fn parse_reason(s: &str) -> Reason {
    match s {
        "explicit_allow" => Reason::ExplicitAllow,
        "explicit_deny" => Reason::ExplicitDeny,
        "implicit_deny" => Reason::ImplicitDeny,
        other => panic!("unknown reason `{other}` in a fixture"),
    }
}

/// Run one case file; return its failures and the number of cases it holds.
fn run_file(path: &Path) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let name = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string();
    let doc: Value = match serde_json::from_str(&std::fs::read_to_string(path).unwrap()) {
        Ok(v) => v,
        Err(e) => return (vec![format!("{name}: not valid JSON: {e}")], 0),
    };
    let base = path.parent().unwrap();
    let mut loaded = Loaded::new();
    for (i, item) in doc["policies"].as_array().into_iter().flatten().enumerate() {
        add_input(
            &mut loaded,
            base,
            &format!("{name}#/policies/{i}"),
            item,
            Role::Policies,
        );
    }
    if let Some(account) = doc.get("account") {
        add_input(
            &mut loaded,
            base,
            &format!("{name}#/account"),
            account,
            Role::Account,
        );
    }
    let built = policy_sim::build(loaded, None);
    if let Some(want) = doc.get("error").and_then(Value::as_str) {
        match built {
            Ok(_) => failures.push(format!(
                "{name}: loading should fail with an error containing `{want}`, but it loaded"
            )),
            Err(e) => {
                let text = e.to_string();
                if !text.contains(want) {
                    failures.push(format!(
                        "{name}: the load error should contain `{want}`; it was:\n{text}"
                    ));
                }
            }
        }
        return (failures, 1);
    }
    let engine = match built {
        Ok(e) => e,
        Err(e) => return (vec![format!("{name}: failed to load:\n{e}")], 0),
    };
    let file_at = doc.get("at").and_then(Value::as_str).unwrap_or(DEFAULT_AT);
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    if cases.is_empty() {
        failures.push(format!("{name}: no cases"));
    }
    for (i, case) in cases.iter().enumerate() {
        let label = format!(
            "{name} case {i} ({})",
            case.get("why").and_then(Value::as_str).unwrap_or("")
        );
        let mut req = Request::new(
            case["identity"].as_str(),
            case["action"].as_str().unwrap_or(""),
            case["resource"].as_str(),
        );
        req.at = Some(
            case.get("at")
                .and_then(Value::as_str)
                .unwrap_or(file_at)
                .to_owned(),
        );
        if let Some(ctx) = case.get("context").and_then(Value::as_object) {
            for (k, v) in ctx {
                req.context
                    .insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
            }
        }
        let prepared = engine.prepare(&req);
        if let Some(want) = case.get("error").and_then(Value::as_str) {
            match prepared {
                Ok(_) => failures.push(format!(
                    "{label}: the request should be refused with `{want}`, but it was accepted"
                )),
                Err(e) if !e.to_string().contains(want) => failures.push(format!(
                    "{label}: the error should contain `{want}`; it was: {e}"
                )),
                Err(_) => {}
            }
            continue;
        }
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{label}: request refused: {e}"));
                continue;
            }
        };
        let want = match case["want"].as_str() {
            Some("allow") => Verdict::Allow,
            Some("deny") => Verdict::Deny,
            other => {
                failures.push(format!(
                    "{label}: `want` must be allow or deny, found {other:?}"
                ));
                continue;
            }
        };
        let fast = engine.decide(&prepared);
        let explained = engine.explain(&prepared);
        let (oracle, oracle_missing) = reference::decide(&engine.set, &prepared);
        if fast.decision != want {
            failures.push(format!(
                "{label}: want {want:?}, decide() says {:?} ({:?})\n{}",
                fast.decision,
                fast.reason,
                policy_sim::report::text(&explained)
            ));
            continue;
        }
        if let Some(reason) = case.get("reason").and_then(Value::as_str) {
            if fast.reason != parse_reason(reason) {
                failures.push(format!(
                    "{label}: want reason {reason}, decide() says {:?}\n{}",
                    fast.reason,
                    policy_sim::report::text(&explained)
                ));
            }
        }
        if explained.decision() != fast {
            failures.push(format!(
                "{label}: explain() says {:?}, decide() says {fast:?}",
                explained.decision()
            ));
        }
        if oracle != fast {
            failures.push(format!(
                "{label}: the reference evaluator says {oracle:?}, decide() says {fast:?}"
            ));
        }
        let mut got_missing = explained.missing_context.clone();
        got_missing.sort();
        if got_missing != oracle_missing {
            failures.push(format!("{label}: missing context {got_missing:?}, the reference evaluator says {oracle_missing:?}"));
        }
        if let Some(want_missing) = case.get("missing_context").and_then(Value::as_array) {
            let mut want_missing: Vec<String> = want_missing
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            want_missing.sort();
            if got_missing != want_missing {
                failures.push(format!(
                    "{label}: want missing context {want_missing:?}, got {got_missing:?}"
                ));
            }
        }
        if let Some(says) = case.get("trace_says").and_then(Value::as_array) {
            let text = policy_sim::report::text(&explained);
            for want in says.iter().filter_map(Value::as_str) {
                if !text.contains(want) {
                    failures.push(format!(
                        "{label}: the trace should say `{want}`; it was:\n{text}"
                    ));
                }
            }
        }
        let decisive = explained.trace.iter().filter(|e| e.decisive).count();
        if fast.reason != Reason::ImplicitDeny && decisive == 0 {
            failures.push(format!(
                "{label}: an explicit decision must name the entry that decided it"
            ));
        }
    }
    (failures, cases.len())
}

#[test]
fn every_fixture_case_holds() {
    let files = case_files();
    assert!(!files.is_empty(), "no fixture files under fixtures/cases");
    let mut failures = Vec::new();
    let mut total = 0;
    for f in &files {
        let (mut fs, n) = run_file(f);
        total += n;
        failures.append(&mut fs);
    }
    assert!(total > 0, "fixtures hold no cases");
    if !failures.is_empty() {
        panic!(
            "{} of {total} fixture cases failed ({} files):\n\n{}",
            failures.len(),
            files.len(),
            failures.join("\n\n")
        );
    }
    eprintln!("{total} fixture cases in {} files hold", files.len());
}
