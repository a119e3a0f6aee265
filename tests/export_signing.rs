#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `policy-sim export` signs requests as the vendors' own SDKs do: the same requests, fixed keys and times,
//! signed by policy-sim and by the official Python clients (`ovh`, `osc-sdk-python`, pinned versions
//! installed by `.ci/run` into `target/export-venv`), give the same headers.
//!
//! Without that virtual environment the test says why and passes, unless `CI` is set: then it fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use policy_sim::export::creds::Secret;
use policy_sim::export::{osc, ovh, sign};
use serde_json::{json, Value};

fn python() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/export-venv/bin/python");
    p.exists().then_some(p)
}

/// The SDKs' answers to `cases`, or `None` (with the reason printed) when they are not installed.
fn sdk(cases: &Value) -> Option<Vec<Value>> {
    let Some(py) = python() else {
        let why = "target/export-venv is missing: run .ci/run, or `python3 -m venv target/export-venv && target/export-venv/bin/pip install ovh==1.2.0 osc-sdk-python==0.41.0`";
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI is set and {why}");
        }
        eprintln!("skipped: {why}");
        return None;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/export_sign.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn ovh_application_key_signatures_match_the_python_ovh_client() {
    let keys = [
        (
            "7kbG7Bk7S9Nt7ZSV",
            "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
            "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
        ),
        ("AK-2", "s3cr3t+with/odd=chars", "CK-2"),
    ];
    // The exporter's calls, on the three named endpoints, a query string included.
    let requests = [
        ("ovh-eu", "https://eu.api.ovh.com", "/v2/iam/policy"),
        (
            "ovh-eu",
            "https://eu.api.ovh.com",
            "/v2/iam/resourceGroup?details=true",
        ),
        (
            "ovh-ca",
            "https://ca.api.ovh.com",
            "/1.0/me/identity/user/john.doe",
        ),
        (
            "ovh-us",
            "https://api.us.ovhcloud.com",
            "/1.0/me/api/oauth2/client/0f0f0f0f0f0f0f0f",
        ),
        ("ovh-eu", "https://eu.api.ovh.com", "/1.0/me"),
    ];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (i, (endpoint, root, path)) in requests.iter().enumerate() {
        let (ak, as_, ck) = keys[i % keys.len()];
        let time = 1_780_000_000 + i64::try_from(i).unwrap() * 3601;
        // The python client takes v1 paths relative to its `/1.0` base, v2 paths from the root.
        let py_path = path.strip_prefix("/1.0").unwrap_or(path);
        cases.push(json!({"cloud": "ovh", "endpoint": endpoint, "application_key": ak, "application_secret": as_,
                          "consumer_key": ck, "path": py_path, "time": time}));
        let url = ovh::url(root, path);
        let headers: serde_json::Map<String, Value> =
            ovh::app_key_headers(&url, ak, &Secret::new(as_), &Secret::new(ck), time)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), json!(v)))
                .collect();
        ours.push(json!({"url": url, "headers": headers}));
    }
    let Some(theirs) = sdk(&Value::Array(cases)) else {
        return;
    };
    assert_eq!(theirs.len(), ours.len());
    for (t, o) in theirs.iter().zip(&ours) {
        assert_eq!(t, o);
    }
}

#[test]
fn osc_signatures_match_osc_sdk_python() {
    let requests = [
        (
            "eu-west-2",
            "https://api.eu-west-2.outscale.com/api/v1",
            "ReadUsers",
            "{}",
            "20260601T123456Z",
        ),
        (
            "eu-west-2",
            "https://api.eu-west-2.outscale.com/api/v1",
            "ReadLinkedPolicies",
            r#"{"UserName":"watcher_1","ResultsPerPage":100,"FirstItem":100}"#,
            "20261231T235959Z",
        ),
        (
            "cloudgouv-eu-west-1",
            "https://api.cloudgouv-eu-west-1.outscale.com/api/v1",
            "ReadPolicyVersion",
            r#"{"PolicyOrn":"orn:ows:idauth::123456789012:policy/monitoring","VersionId":"v1"}"#,
            "20260102T030405Z",
        ),
        (
            "us-east-2",
            "http://127.0.0.1:8080/api/v1",
            "ReadUserPolicy",
            r#"{"UserName":"élodie","PolicyName":"p"}"#,
            "20260601T000000Z",
        ),
    ];
    let (ak, sk) = (
        "ABCDEFGHIJ0123456789",
        "0123456789ABCDEFGHIJ0123456789ABCDEFGHIJ",
    );
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (region, endpoint, op, body, date) in requests {
        cases.push(
            json!({"cloud": "osc", "access_key": ak, "secret_key": sk, "region": region,
                          "endpoint": endpoint, "operation": op, "body": body, "date": date}),
        );
        let (host, base) = osc::host_and_path(endpoint);
        let path = format!("{base}/{op}");
        let iso = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &date[0..4],
            &date[4..6],
            &date[6..8],
            &date[9..11],
            &date[11..13],
            &date[13..15]
        );
        let when: jiff::Timestamp = iso.parse().unwrap();
        let h = sign::osc_sign(ak, sk, region, &host, &path, body, when);
        ours.push(json!({"host": host, "path": path, "headers": {
            "Content-Type": h.content_type, "X-Osc-Date": h.x_osc_date, "Authorization": h.authorization}}));
    }
    let Some(theirs) = sdk(&Value::Array(cases)) else {
        return;
    };
    assert_eq!(theirs.len(), ours.len());
    for (t, o) in theirs.iter().zip(&ours) {
        assert_eq!(t, o);
    }
}
