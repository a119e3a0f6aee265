//! `audit diff OLD NEW` where a side is one account file: an OUTSCALE account file holds its users, groups
//! and policies, so two bare account files (say, two `policy-sim export outscale` account files of different
//! days, or one edited by hand) are two complete sides. The diff must report what the snapshot folders
//! report, and each witness line must paste as a `check` that names the account file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::Value;

const OLD: &str = "tests/audit-cases/eim-contractors/old/account.json";
const NEW: &str = "tests/audit-cases/eim-contractors/new/account.json";

/// Runs the witness command line `audit diff` printed (after `policy-sim `): its exit code.
fn paste(line: &str) -> Option<i32> {
    let args: Vec<&str> = line.split_whitespace().collect();
    common::run(&args).status.code()
}

#[test]
fn two_bare_eim_account_files_are_two_sides() {
    let o = common::run(&["audit", "diff", OLD, NEW]);
    let text = common::stdout(&o);
    assert_eq!(o.status.code(), Some(1), "NEW grants access:\n{text}");
    assert!(
        text.contains("GRANTS any member of group `contractors`"),
        "{text}"
    );
    let line = text
        .lines()
        .find_map(|l| l.split_once("policy-sim ").map(|(_, r)| r))
        .unwrap();
    assert!(line.contains(&format!("--account {NEW}")), "{line}");
    assert!(!line.contains("--policies"), "{line}");
    assert_eq!(paste(line), Some(0), "allowed on NEW: {line}");
    assert_eq!(
        paste(&line.replace(NEW, OLD)),
        Some(1),
        "denied on OLD: {line}"
    );

    // The same changes as the snapshot folders holding these files.
    let json = |a: &str, b: &str| -> Value {
        serde_json::from_slice(&common::run(&["audit", "diff", a, b, "-f", "json"]).stdout).unwrap()
    };
    let bare = json(OLD, NEW);
    let dirs = json(
        "tests/audit-cases/eim-contractors/old",
        "tests/audit-cases/eim-contractors/new",
    );
    let kinds = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| (c["kind"].to_string(), c["identity"].to_string()))
            .collect()
    };
    assert!(!kinds(&bare).is_empty());
    assert_eq!(kinds(&bare), kinds(&dirs));

    // No change from a file to itself.
    let same = common::run(&["audit", "diff", OLD, OLD]);
    assert_eq!(same.status.code(), Some(0));
    assert!(common::stdout(&same).contains("0 changes"));
}

#[test]
fn an_account_file_side_beside_a_policy_file_side_and_shared_accounts() {
    // OVHcloud: an account file alone holds no policy, so against the policies it is "no access".
    let policies = "policies/examples/ovh/account-policies.json";
    let account = "policies/examples/accounts/ovh-account.json";
    let o = common::run(&["audit", "diff", policies, account, "--account", account]);
    let text = common::stdout(&o);
    assert_eq!(o.status.code(), Some(0), "only removals:\n{text}");
    assert!(text.contains("removes "), "{text}");
    assert!(!text.contains("GRANTS "), "{text}");
}
