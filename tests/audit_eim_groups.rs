//! Issue 15 for OUTSCALE EIM: a group no listed user belongs to still has members to come. The audit
//! places one symbolic user in each EIM group ("any member of group `contractors`"), so a policy linked to
//! an empty group is a reported change and access, with a witness `policy-sim check --member-of` confirms.
//! Fixture: tests/audit-cases/eim-contractors/{old,new}, two account snapshots; NEW links the `admin`
//! policy (`api:*`) to the member-less group `contractors`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Output;

use serde_json::Value;

const OLD: &str = "tests/audit-cases/eim-contractors/old";
const NEW: &str = "tests/audit-cases/eim-contractors/new";
const MEMBER: &str = "any-member-of-contractors";

fn bin(args: &[&str]) -> Output {
    common::bin().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// `policy-sim check` of a JSON witness on `policies`: its exit code.
fn check(policies: &str, w: &Value) -> Option<i32> {
    let mut args = vec![
        String::from("check"),
        String::from("--policies"),
        policies.to_owned(),
    ];
    if let Some(i) = w["identity"].as_str() {
        args.extend([String::from("--identity"), i.to_owned()]);
    }
    if let Some(g) = w["member_of"].as_str() {
        args.extend([String::from("--member-of"), g.to_owned()]);
    }
    args.extend([
        String::from("--action"),
        w["action"].as_str().unwrap().to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bin(&args).status.code()
}

#[test]
fn diff_reports_a_grant_to_a_member_less_eim_group() {
    let o = bin(&["audit", "diff", OLD, NEW]);
    let text = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "NEW grants access OLD did not:\n{text}"
    );
    assert!(
        text.contains("GRANTS any member of group `contractors`"),
        "{text}"
    );
    // The witness line pastes: `check` allows it on NEW and denies it on OLD.
    let line = text
        .lines()
        .find_map(|l| l.split_once("policy-sim check ").map(|(_, r)| r))
        .unwrap();
    assert!(
        line.contains(&format!("--identity {MEMBER} --member-of contractors")),
        "{line}"
    );
    let j: Value =
        serde_json::from_slice(&bin(&["audit", "diff", OLD, NEW, "-f", "json"]).stdout).unwrap();
    let changes = j.as_array().unwrap();
    assert_eq!(changes.len(), 1, "{j}");
    let c = &changes[0];
    assert_eq!(c["kind"], "granted");
    assert_eq!(c["identity"], MEMBER);
    assert_eq!(c["member_of"], "contractors");
    assert!(c["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "api:DeleteVms"));
    assert_eq!(check(NEW, &c["witness"]), Some(0));
    assert_eq!(check(OLD, &c["witness"]), Some(1));
    // The reverse change removes that access.
    let back = bin(&["audit", "diff", NEW, OLD]);
    assert_eq!(back.status.code(), Some(0));
    assert!(stdout(&back).contains("removes any member of group `contractors`"));
}

#[test]
fn who_can_what_can_matrix_and_findings_see_the_symbolic_member() {
    let o = bin(&["audit", "who-can", "--action", "api:DeleteVms", "-p", NEW]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("any member of group `contractors`"), "{text}");
    assert!(!text.contains("watcher_1"), "{text}");
    let j: Value = serde_json::from_slice(
        &bin(&[
            "audit",
            "who-can",
            "--action",
            "api:DeleteVms",
            "-p",
            NEW,
            "-f",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let eim = j["outscale"].as_array().unwrap();
    assert_eq!(eim.len(), 1, "{j}");
    assert_eq!(eim[0]["member_of"], "contractors");
    assert_eq!(check(NEW, &eim[0]), Some(0));
    // On OLD, no one may.
    let old = stdout(&bin(&[
        "audit",
        "who-can",
        "--action",
        "api:DeleteVms",
        "-p",
        OLD,
    ]));
    assert!(old.contains("no one"), "{old}");
    // what-can of the symbolic member, the matrix row and the administrator finding.
    let what = stdout(&bin(&["audit", "what-can", "-i", MEMBER, "-p", NEW]));
    assert!(what.contains("api:DeleteVms"), "{what}");
    let matrix = stdout(&bin(&["audit", "matrix", "-p", NEW]));
    assert!(
        matrix.contains("any member of group `contractors`"),
        "{matrix}"
    );
    let findings = stdout(&bin(&["audit", "findings", "-p", NEW]));
    assert!(findings.contains("contractors"), "{findings}");
}

#[test]
fn check_member_of_an_eim_group_is_checked() {
    // A group the account does not define is refused with the groups it does.
    let o = bin(&[
        "check",
        "--policies",
        NEW,
        "--identity",
        MEMBER,
        "--member-of",
        "nosuch",
        "--action",
        "api:DeleteVms",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nosuch") && err.contains("contractors"),
        "{err}"
    );
    // A listed user may be placed in one more group, as the account file could say.
    let o = bin(&[
        "check",
        "--policies",
        NEW,
        "--identity",
        "watcher_1",
        "--member-of",
        "contractors",
        "--action",
        "api:DeleteVms",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}
