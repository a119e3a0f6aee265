//! Drive the real binary, as scripts and CI do: exit codes, the JSON contract, batch mode, bad input.
//! Outputs are insta snapshots; `--at` pins the time so they are stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{run, run_stdin, stderr, stdout};
use common::{AT, PROJECT, SA, SEED000};

use std::process::Output;

fn seed000(action: &str, format: &str) -> Output {
    run(&[
        "check",
        "--policies",
        SEED000,
        "--identity",
        SA,
        "--action",
        action,
        "--resource",
        PROJECT,
        "--at",
        AT,
        "--format",
        format,
    ])
}

#[test]
fn seed000_server_list_is_allowed_with_the_role_in_the_trace() {
    let o = seed000("compute_read", "text");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("seed000_compute_read_text", stdout(&o));
}

#[test]
fn seed000_container_list_is_a_403() {
    let o = seed000("objectstore_all", "json");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["reason"], "implicit_deny");
    assert_eq!(v["request"]["action"], "objectstore_all");
    insta::assert_json_snapshot!("seed000_objectstore_all_json", v);
    let t = seed000("objectstore_all", "text");
    insta::assert_snapshot!("seed000_objectstore_all_text", stdout(&t));
}

#[test]
fn seed000_other_project_is_denied() {
    let o = run(&[
        "check",
        "-p",
        SEED000,
        "-i",
        SA,
        "-a",
        "compute_read",
        "-r",
        "urn:v1:eu:resource:publicCloudProject:1111",
        "--at",
        AT,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("no resource pattern matches"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn seed002_watcher_reads_but_cannot_create() {
    let base = [
        "check",
        "-p",
        "policies/examples/outscale/read-only.json",
        "--account",
        "policies/examples/accounts/outscale-account.json",
        "-i",
        "watcher_1",
        "--at",
        AT,
    ];
    let read = run(&[&base[..], &["-a", "api:ReadVms"]].concat());
    assert_eq!(
        read.status.code(),
        Some(0),
        "{}{}",
        stdout(&read),
        stderr(&read)
    );
    insta::assert_snapshot!("seed002_readvms_text", stdout(&read));
    for action in ["api:CreateVms", "api:DeleteVms", "ec2:DescribeInstances"] {
        let o = run(&[&base[..], &["-a", action, "--format", "json"]].concat());
        assert_eq!(o.status.code(), Some(1), "{action}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["reason"], "implicit_deny", "{action}");
    }
}

#[test]
fn batch_answers_in_order_and_reports_bad_lines() {
    let input = format!(
        "{{\"identity\":\"{SA}\",\"action\":\"compute_read\",\"resource\":\"{PROJECT}\"}}\nnot json\n[1]\n{{\"identity\":\"{SA}\",\"action\":\"objectstore_all\",\"resource\":\"{PROJECT}\"}}\n{{\"identity\":\"{SA}\",\"action\":\"compute_read\",\"resource\":\"urn:v1:eu:resource:oops\"}}\n"
    );
    let o = run_stdin(
        &[
            "check",
            "-p",
            SEED000,
            "--requests",
            "-",
            "--format",
            "json",
            "--at",
            AT,
        ],
        &input,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad lines make the batch incomplete"
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["decision"], "allow");
    assert!(lines[1]["error"].is_string() && lines[1]["line"] == 2);
    assert!(
        lines[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("expected a request object"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3]["decision"], "deny");
    assert!(lines[4]["error"]
        .as_str()
        .unwrap()
        .contains("malformed resource URN"));
    assert!(
        stderr(&o)
            .contains("2 requests evaluated (1 allowed, 1 denied), 3 lines could not be evaluated"),
        "{}",
        stderr(&o)
    );
    let ok = run_stdin(
        &["check", "-p", SEED000, "--requests", "-", "--at", AT],
        &format!(
            "{{\"identity\":\"{SA}\",\"action\":\"image_read\",\"resource\":\"{PROJECT}\"}}\n"
        ),
    );
    assert_eq!(ok.status.code(), Some(0));
    assert!(
        stdout(&ok).starts_with("1: ALLOW (explicit_allow)"),
        "{}",
        stdout(&ok)
    );
}

#[test]
fn roles_prints_the_matrix_and_one_row() {
    let all = run(&["roles"]);
    assert_eq!(all.status.code(), Some(0));
    insta::assert_snapshot!("roles_matrix", stdout(&all));
    let one = run(&[
        "roles",
        "publicCloudProject:openstack:infrastructureSupervisor",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&one)).unwrap();
    assert_eq!(
        v["permissions"],
        serde_json::json!([
            "compute_read",
            "image_read",
            "volume_read",
            "network_read",
            "network_secgroup_read"
        ])
    );
    let bad = run(&["roles", "computeOperatr"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("did you mean `publicCloudProject:openstack:computeOperator`"),
        "{}",
        stderr(&bad)
    );
}

/// Write a temporary input file and return its path.
fn temp(name: &str, content: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("policy-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// Bad input: one clear error naming file, place, found and expected; exit 2; never a panic.
fn bad(name: &str, content: &str, identity: &str, action: &str, resource: Option<&str>) -> String {
    let path = temp(name, content.as_bytes());
    let mut args = vec![
        "check", "-p", &path, "-i", identity, "-a", action, "--at", AT,
    ];
    if let Some(r) = resource {
        args.extend(["-r", r]);
    }
    let o = run(&args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{name}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{name}");
    stderr(&o).replace(&path, &format!("<tmp>/{name}"))
}

#[test]
fn bad_input_gets_one_clear_located_error() {
    let ovh = |name: &str, content: &str| bad(name, content, SA, "compute_read", Some(PROJECT));
    let eim = |name: &str, content: &str| {
        bad(
            name,
            content,
            "orn:ows:idauth::123456789012:account",
            "api:ReadVms",
            None,
        )
    };
    let mut all = String::new();
    all += &ovh(
        "broken.json",
        "[{\"name\": \"x\",\n  \"identities\": [\"urn:v1:eu:identity:account:xx1111-ovh\"\n}]",
    );
    all += &ovh("wrong-type.json", "[{\"name\": \"x\", \"identities\": [\"urn:v1:eu:identity:account:xx1111-ovh\"], \"resources\": [{\"urn\": \"urn:v1:eu:resource:vps:*\"}],\n \"permissions\": {\"allow\": [{\"action\": 3}]}}]");
    all += &ovh("bad-urn.json", "{\"name\": \"x\", \"identities\": [\"urn:v1:eu:identity:user:xx1111-ovh\"], \"resources\": [{\"urn\": \"urn:v1:eu:resource:vps:*\"}], \"permissions\": {\"allow\": [{\"action\": \"*\"}]}}");
    all += &ovh("typo.json", "{\"name\": \"x\", \"identities\": [\"urn:v1:eu:identity:account:xx1111-ovh\"], \"resources\": [{\"urn\": \"urn:v1:eu:resource:vps:*\"}], \"permision\": {}}");
    all += &eim(
        "permit.json",
        "{\"Statement\": [{\"Effect\": \"Permit\", \"Action\": \"*\", \"Resource\": \"*\"}]}",
    );
    all += &eim(
        "empty-action.json",
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [], \"Resource\": \"*\"}]}",
    );
    all += &ovh("empty.json", "");
    insta::assert_snapshot!("bad_input_errors", all);

    let missing = run(&[
        "check",
        "-p",
        "no/such/file.json",
        "-i",
        SA,
        "-a",
        "compute_read",
        "-r",
        PROJECT,
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/file.json") && stderr(&missing).contains("no such file"),
        "{}",
        stderr(&missing)
    );
    let dir = std::env::temp_dir().join(format!("policy-sim-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = run(&[
        "check",
        "-p",
        &dir.display().to_string(),
        "-i",
        SA,
        "-a",
        "compute_read",
        "-r",
        PROJECT,
    ]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).contains("holds no `*.json` file"),
        "{}",
        stderr(&empty)
    );
    let usage = run(&["check", "-p", SEED000, "-i", SA, "-a", "compute_read"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        stderr(&usage).contains("--resource is required"),
        "{}",
        stderr(&usage)
    );
}

#[test]
fn help_teaches() {
    let o = run(&["check", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let h = stdout(&o);
    for needle in [
        "--policies",
        "--requests",
        "Exit status: 0 allow, 1 deny",
        "compute_read",
        "watcher_1",
    ] {
        assert!(h.contains(needle), "`check --help` should mention {needle}");
    }
}
