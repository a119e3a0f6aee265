//! `audit diff` decides, for each identity, only the requests a changed policy can match; these cases pin
//! what "can match" must include. A user whose group the account file does not list is denied by the
//! denies of every policy naming a group of its account (the eval's safe reading), so a deny added to a
//! group's policy removes that user's access, though no allow of the changed policy reaches it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::{json, Value};

const U2: &str = "urn:v1:eu:identity:user:xx1111-ovh/u2";
const G1: &str = "urn:v1:eu:identity:group:xx1111-ovh/g1";
const VPS: &str = "urn:v1:eu:resource:vps:vps-1";

fn policy(name: &str, who: &str, allow: &[&str], deny: &[&str], resource: &str) -> Value {
    json!({
        "name": name,
        "identities": [who],
        "resources": [{"urn": resource}],
        "permissions": {
            "allow": allow.iter().map(|a| json!({"action": a})).collect::<Vec<_>>(),
            "deny": deny.iter().map(|a| json!({"action": a})).collect::<Vec<_>>(),
        },
    })
}

#[test]
fn a_deny_added_to_a_group_policy_removes_access_of_a_user_of_unknown_group() {
    let dir = std::env::temp_dir().join(format!("psim-diff-focus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let own = policy("own", U2, &["vps:apiovh:reboot"], &[], VPS);
    let old = json!([own, policy("team", G1, &["vps:apiovh:get"], &[], VPS)]);
    // NEW: the group's policy also denies reboot, on every resource.
    let new = json!([
        own,
        policy(
            "team",
            G1,
            &["vps:apiovh:get"],
            &["vps:apiovh:reboot"],
            "urn:v1:eu:resource:*"
        )
    ]);
    let account =
        json!({"account": "xx1111-ovh", "region": "eu", "users": [{"login": "u1", "group": "g1"}]});
    let write = |n: &str, v: &Value| {
        let p = dir.join(n);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_string_lossy().into_owned()
    };
    let (o, n, a) = (
        write("old.json", &old),
        write("new.json", &new),
        write("account.json", &account),
    );
    let out = common::run(&[
        "audit",
        "diff",
        &o,
        &n,
        "--account",
        &a,
        "--at",
        common::AT,
        "-f",
        "json",
    ]);
    let changes: Value = serde_json::from_slice(&out.stdout).unwrap();
    let removed = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "removed" && c["identity"] == U2 && c["resource"] == VPS)
        .unwrap_or_else(|| panic!("u2 loses reboot on vps-1:\n{changes:#}"));
    assert_eq!(removed["actions"], json!(["vps:apiovh:reboot"]));
    // The witness: allowed on OLD, denied on NEW.
    let check = |policies: &str| {
        common::run(&[
            "check",
            "--policies",
            policies,
            "--account",
            &a,
            "--at",
            common::AT,
            "--identity",
            U2,
            "--action",
            "vps:apiovh:reboot",
            "--resource",
            VPS,
        ])
        .status
        .code()
    };
    assert_eq!(check(&o), Some(0));
    assert_eq!(check(&n), Some(1));
    std::fs::remove_dir_all(&dir).ok();
}
