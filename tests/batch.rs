//! `check --requests` (issue 8): its fast text path answers every line exactly as the explaining path
//! would. A plain line read in place reads as the loader reads it; each text answer is the one built from
//! the full [`Engine::explain`] trace, over the benches' generated workload and over every fixture case;
//! odd lines (CRLF, escapes, blank, invalid UTF-8, no final line end) are answered in place and in order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/workload.rs"]
mod workload;

use std::path::{Path, PathBuf};
use std::process::Command;

use policy_sim::eval::{Detail, Scratch};
use policy_sim::load::{request_line, scan, Limits};
use policy_sim::model::request::{Request, RequestRef};
use policy_sim::{report, Engine, Loaded, Role, Verdict};
use proptest::prelude::*;
use serde_json::Value;

/// What the loader's careful path makes of a line, without the plain path: the scan's checks, an object,
/// then serde.
fn careful(line: &str) -> Option<Request> {
    let found = scan::check(
        line,
        scan::ScanLimits {
            max_depth: 64,
            max_string_bytes: 1 << 20,
        },
    );
    if !found.issues.is_empty() || !line.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

fn plain(line: &str) -> Option<RequestRef<'_>> {
    RequestRef::parse_plain(line, 1 << 20, 64)
}

/// Pieces of request lines, valid and not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("identity"),
        Just("action"),
        Just("resource"),
        Just("context"),
        Just("at"),
        Just("acton"),
        Just("act\\u0069on"),
        Just(""),
    ]
    .prop_map(|k| format!("\"{k}\""))
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z:/.-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just(String::from("\"urn:v1:eu:identity:user:xx1111-ovh/u1\"")),
        Just(String::from("\"a\\\"b\"")),
        Just(String::from("\"tab\there\"")),
        Just(String::from("\"é☃\"")),
        Just(String::from("\"\\u00e9\"")),
        Just(String::from("\"unterminated")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    let ctx = prop::collection::vec(
        (
            prop_oneof![Just("\"request.IP\""), Just("\"k\""), Just("\"k\"")],
            string(),
        ),
        0..3,
    )
    .prop_map(|kv| {
        let members: Vec<String> = kv.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", members.join(", "))
    });
    prop_oneof![
        4 => string(),
        1 => Just(String::from("null")),
        1 => Just(String::from("42")),
        1 => Just(String::from("[\"a\"]")),
        2 => ctx,
    ]
}

fn line() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((key(), value()), 0..6),
        prop_oneof![Just(""), Just(" "), Just("\t"), Just("\r")],
        prop_oneof![Just(""), Just(""), Just(","), Just("}"), Just(" x")],
    )
        .prop_map(|(members, ws, tail)| {
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{k}{ws}:{ws}{v}"))
                .collect();
            format!("{ws}{{{}}}{tail}{ws}", members.join(&format!(",{ws}")))
        })
}

/// A line in the plain form: some of the keys, once each, in any order, strings without escapes.
fn plain_line() -> impl Strategy<Value = String> {
    let text = "[a-zA-Z0-9:/._ é-]{0,16}";
    (
        Just(["identity", "action", "resource", "at", "context"]).prop_shuffle(),
        1usize..=5,
        prop::collection::vec(text, 4),
        prop::collection::btree_map("[a-z.()]{1,8}", text, 0..3),
        prop_oneof![Just(""), Just(" "), Just("\t"), Just(" \r\n ")],
    )
        .prop_map(|(keys, n, values, context, ws)| {
            let mut keys: Vec<&str> = keys.iter().copied().take(n).collect();
            if !keys.contains(&"action") {
                keys.push("action");
            }
            let members: Vec<String> = keys
                .iter()
                .zip(values.iter().cycle())
                .map(|(k, v)| {
                    let v = if *k == "context" {
                        let kv: Vec<String> = context
                            .iter()
                            .map(|(k, v)| format!("\"{k}\":{ws}\"{v}\""))
                            .collect();
                        format!("{{{ws}{}{ws}}}", kv.join(&format!("{ws},")))
                    } else {
                        format!("\"{v}\"")
                    };
                    format!("\"{k}\"{ws}:{ws}{v}")
                })
                .collect();
            format!("{ws}{{{ws}{}{ws}}}{ws}", members.join(&format!(",{ws}")))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The plain form is read in place, as the careful path reads it.
    #[test]
    fn plain_form_is_read_in_place(line in plain_line()) {
        let got = plain(&line);
        prop_assert!(got.is_some(), "{}", line);
        prop_assert_eq!(got.map(|r| r.to_owned()), careful(&line), "{}", line);
    }

    /// Whatever the plain reader accepts, the careful path accepts and reads the same way.
    #[test]
    fn plain_lines_read_as_the_loader_reads_them(line in line()) {
        if let Some(r) = plain(&line) {
            prop_assert_eq!(Some(r.to_owned()), careful(&line), "{}", line);
        }
    }
}

#[test]
fn plain_reader_takes_the_usual_lines_and_leaves_the_rest() {
    let w = workload::ovh(10);
    for r in workload::ovh_requests(&w, 200, 7) {
        let line = r.to_json_line();
        let got = plain(&line).unwrap_or_else(|| panic!("not read in place: {line}"));
        assert_eq!(Some(got.to_owned()), careful(&line), "{line}");
        assert_eq!(request_line(&line, &Limits::default()), Ok(r.to_request()));
    }
    for line in [
        r#"{"action": "a", "action": "b"}"#,
        r#"{"action": "a", "context": {"k": "1", "k": "2"}}"#,
        r#"{"action": "a", "acton": "b"}"#,
        r#"{"action": "a", "identity": null}"#,
        r#"{"action": "a\u0062"}"#,
        r#"{"action": "a"} x"#,
        r#"{"identity": "u"}"#,
        r#"["a"]"#,
        "{\"action\": \"a\tb\"}",
    ] {
        assert_eq!(plain(line), None, "{line}");
    }
    // The limits are the loader's: a line over the string limit, or a depth under 2, is not read in place.
    let line = r#"{"action": "a"}"#;
    assert!(RequestRef::parse_plain(line, line.len(), 2).is_some());
    assert_eq!(RequestRef::parse_plain(line, line.len() - 1, 64), None);
    assert_eq!(RequestRef::parse_plain(line, 1 << 20, 1), None);
}

/// The text answer for line `n`, built as `check --requests` did before the fast path: the loader's
/// request, `prepare`, and the summary of the full `explain`.
fn expected(engine: &Engine, path: &str, n: usize, line: Option<&str>) -> Option<String> {
    let error = |msg: &str| Some(format!("{n}: ERROR {path}:{n}: {msg}"));
    let Some(line) = line else {
        return error("cannot read the line: stream did not contain valid UTF-8");
    };
    if line.trim().is_empty() {
        return None;
    }
    let req = match request_line(line, &Limits::default()) {
        Ok(r) => r,
        Err(msg) => return error(&msg),
    };
    let resp = match engine.prepare(&req).map(|p| engine.explain(&p)) {
        Ok(r) => r,
        Err(e) => return error(&e.to_string()),
    };
    let r = &resp.request;
    Some(format!(
        "{n}: {} ({}) {} {} {} — {}",
        if resp.decision == Verdict::Allow {
            "ALLOW"
        } else {
            "DENY"
        },
        resp.reason.as_str(),
        r.identity.as_deref().unwrap_or("(caller)"),
        r.action,
        r.resource.as_deref().unwrap_or(""),
        report::summary(&resp)
    ))
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Thousands of generated requests (enough for both threads, answered grouped by identity) with odd lines
/// among them, one of them not UTF-8: each answer is the explaining path's, in input order.
#[test]
fn batch_answers_are_the_explaining_answers_in_order() {
    batch_against_explain("with-bytes", true);
}

/// The same when the whole input is UTF-8 (read as one text, each line a slice of it).
#[test]
fn utf8_batch_answers_are_the_explaining_answers_in_order() {
    batch_against_explain("utf8", false);
}

fn batch_against_explain(name: &str, invalid_utf8: bool) {
    let w = workload::ovh(300);
    let (policies, account) = (
        tmp(&format!("batch-{name}-policies.json")),
        tmp(&format!("batch-{name}-account.json")),
    );
    std::fs::write(&policies, &w.policies_json).unwrap();
    std::fs::write(&account, &w.account_json).unwrap();
    let reqs = workload::ovh_requests(&w, 5000, 11);
    let user = &w.users[0];
    let vps = &w.vps[0];
    let odd: Vec<Vec<u8>> = vec![
        format!(r#"{{"identity": "{user}", "action": "vps:apiovh:reboot", "resource": "{vps}", "at": "2026-06-01T12:00:00Z"}}"#).into_bytes(),
        // The same, read by the careful path: an escape, another key order, a CRLF line end.
        format!(r#"{{"at": "2026-06-01T12:00:00Z", "action": "vps:apiovh:rebo\u006ft", "resource": "{vps}", "identity": "{user}"}}"#).into_bytes(),
        format!("{{\"identity\":\"{user}\",\"action\":\"vps:apiovh:reboot\",\"resource\":\"{vps}\",\"at\":\"2026-06-01T12:00:00Z\"}}\r").into_bytes(),
        b"   ".to_vec(),
        Vec::new(),
        if invalid_utf8 {
            b"{\"action\": \"caf\xe9\"}".to_vec()
        } else {
            "{\"action\": \"café\"}".as_bytes().to_vec()
        },
        br#"{"action": "a", "action": "b"}"#.to_vec(),
        format!(r#"{{"identity": "{user}", "action": "vps:apiovh:reboot", "resource": "urn:v1:eu:resource:vps:*"}}"#).into_bytes(),
        br#"{"identity": "urn:v1:eu:identity:user:xx1111-ovh/u1", "action": "a", "resource": "r", "at": "yesterday"}"#.to_vec(),
        br#"not json"#.to_vec(),
    ];
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        lines.push(r.to_json_line().into_bytes());
        if i % 997 == 0 {
            lines.extend(odd.iter().cloned());
        }
    }
    lines.extend(odd.iter().cloned());
    let mut text = lines.join(&b'\n');
    // The last line has no line end.
    text.push(b'\n');
    text.extend_from_slice(format!(r#"{{"identity": "{user}", "action": "vps:apiovh:reboot", "resource": "{vps}", "at": "2026-06-01T12:00:00Z"}}"#).as_bytes());
    lines.push(text.rsplit(|b| *b == b'\n').next().unwrap().to_vec());
    assert_eq!(std::str::from_utf8(&text).is_ok(), !invalid_utf8);
    let requests = tmp(&format!("batch-{name}-requests.jsonl"));
    std::fs::write(&requests, &text).unwrap();

    let mut loaded = Loaded::new();
    loaded.add_path(&policies.display().to_string(), Role::Policies);
    loaded.add_path(&account.display().to_string(), Role::Account);
    let engine = policy_sim::build(loaded, None).unwrap();
    let path = requests.display().to_string();
    let want: Vec<String> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = std::str::from_utf8(l)
                .ok()
                .map(|l| l.trim_end_matches('\r'));
            expected(&engine, &path, i + 1, l)
        })
        .collect();

    let out = Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args(["check", "--policies"])
        .arg(&policies)
        .arg("--account")
        .arg(&account)
        .args(["--requests", &path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let got = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    let bad = want.iter().filter(|l| l.contains(": ERROR ")).count();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{} requests evaluated", want.len() - bad))
            && stderr.contains(&format!("{bad} lines could not be evaluated")),
        "{stderr}"
    );
}

/// Every fixture case: the summary `check --requests` writes from a brief [`Engine::explain_with`] is the one of the full
/// trace.
#[test]
fn brief_summaries_are_the_trace_summaries_on_every_fixture_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cases");
    let files: Vec<PathBuf> = glob::glob(&format!("{}/**/*.json", root.display()))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut checked = 0;
    for file in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let base = file.parent().unwrap();
        let mut loaded = Loaded::new();
        let mut add = |item: &Value, role: Role, label: String| match item {
            Value::String(rel) => loaded.add_path(&base.join(rel).display().to_string(), role),
            other => loaded.add_text(&label, serde_json::to_string_pretty(other).unwrap(), role),
        };
        for (i, item) in doc["policies"].as_array().into_iter().flatten().enumerate() {
            add(item, Role::Policies, format!("policies/{i}"));
        }
        if let Some(account) = doc.get("account") {
            add(account, Role::Account, String::from("account"));
        }
        let Ok(engine) = policy_sim::build(loaded, None) else {
            continue;
        };
        let at = doc.get("at").and_then(Value::as_str);
        for case in doc["cases"].as_array().into_iter().flatten() {
            let mut req = Request::new(
                case["identity"].as_str(),
                case["action"].as_str().unwrap_or(""),
                case["resource"].as_str(),
            );
            req.at = case
                .get("at")
                .and_then(Value::as_str)
                .or(at)
                .or(Some("2026-06-01T12:00:00Z"))
                .map(str::to_owned);
            for (k, v) in case
                .get("context")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                req.context
                    .insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
            }
            let Ok(p) = engine.prepare(&req) else {
                continue;
            };
            let full = engine.explain(&p);
            let brief = engine.explain_with(&p, Detail::Brief, &mut Scratch::default());
            assert_eq!(
                brief.decision,
                full.decision(),
                "{}: {req:?}",
                file.display()
            );
            let mut text = String::new();
            report::write_summary(
                &mut text,
                brief.decision.reason,
                &brief.trace,
                !brief.missing_context.is_empty(),
            );
            assert_eq!(text, report::summary(&full), "{}: {req:?}", file.display());
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} fixture cases checked");
}

/// More lines than one round holds (32,768): every round is answered grouped by identity and written while
/// the next one is answered, and the answers still come out in input order, each the explaining path's
/// (checked on every 97th line, the rest by number).
#[test]
fn answers_of_many_rounds_come_out_in_input_order() {
    let w = workload::ovh(200);
    let (policies, account) = (tmp("rounds-policies.json"), tmp("rounds-account.json"));
    std::fs::write(&policies, &w.policies_json).unwrap();
    std::fs::write(&account, &w.account_json).unwrap();
    let lines: Vec<String> = workload::ovh_requests(&w, 70_000, 5)
        .iter()
        .map(workload::Req::to_json_line)
        .collect();
    let requests = tmp("rounds-requests.jsonl");
    std::fs::write(&requests, lines.join("\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args(["check", "--policies"])
        .arg(&policies)
        .arg("--account")
        .arg(&account)
        .arg("--requests")
        .arg(&requests)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = got.lines().collect();
    assert_eq!(got.len(), lines.len());

    let mut loaded = Loaded::new();
    loaded.add_path(&policies.display().to_string(), Role::Policies);
    loaded.add_path(&account.display().to_string(), Role::Account);
    let engine = policy_sim::build(loaded, None).unwrap();
    let path = requests.display().to_string();
    for (i, (g, l)) in got.iter().zip(&lines).enumerate() {
        let n = i + 1;
        assert!(g.starts_with(&format!("{n}: ")), "line {n}: {g}");
        if i % 97 == 0 {
            assert_eq!(
                Some(g.to_string()),
                expected(&engine, &path, n, Some(l)),
                "line {n}"
            );
        }
    }
}
