//! Real account data (the API schemas' own response examples, dumps as the APIs return them) and the
//! mistakes a user makes with them: every one answers, or is refused loudly, never quietly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::run;

use std::process::Output;

const AT: &str = "2026-06-01T12:00:00Z";
const EXAMPLES: &str = "fixtures/api-examples/ovhcloud";

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every response example of the IAM API schema loads, except the one policy naming a permission group
/// (`ovh:default`) that no example defines: that one is refused, naming the group.
#[test]
fn the_api_schema_examples_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLES);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| format!("{EXAMPLES}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    let (odd, usable): (Vec<String>, Vec<String>) = files
        .into_iter()
        .partition(|f| f.ends_with("iam-policy-policyid-get-a-policy.json"));
    let mut args = vec!["check", "--at", AT, "-p"];
    args.extend(usable.iter().map(String::as_str));
    args.extend([
        "-i",
        "urn:v1:eu:identity:group:aa1-ovh/devs",
        "-a",
        "dnsZone:apiovh:record/create",
        "-r",
        "urn:v1:eu:resource:dnsZone:example.domain.dev",
        "-c",
        "resource.Tag(security_level)=high",
    ]);
    let o = run(&args);
    let (out, err) = text(&o);
    // Monday 2026-06-01: the example's `date(Europe/Paris).WeekDay.In: monday,tuesday` holds.
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("dev-dns-delegation"), "{out}");
    // The group listed by `id` only is completed by the detailed listing of the same group.
    assert!(!err.contains("lists its members by `id` only"), "{err}");
    let alone =
        format!("{EXAMPLES}/iam-resourcegroup-groupid-get-a-resource-group-without-details.json");
    let o = run(&[
        "check",
        "-p",
        &alone,
        "policies/examples/ovh/demo-service-account.json",
        "-i",
        "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f",
        "-a",
        "compute_read",
        "-r",
        "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    ]);
    let (_, err) = text(&o);
    assert!(
        err.contains("lists its members by `id` only") && err.contains("?details=true"),
        "{err}"
    );
    // Its own except removes `record/delete`.
    let mut args2 = args.clone();
    let i = args2
        .iter()
        .position(|a| *a == "dnsZone:apiovh:record/create")
        .unwrap();
    args2[i] = "dnsZone:apiovh:record/delete";
    assert_eq!(run(&args2).status.code(), Some(1));
    // The odd one out: refused, and the message names the group.
    let o = run(&[
        "check",
        "-p",
        &odd[0],
        "-i",
        "urn:v1:eu:identity:group:aa1-ovh/devs",
        "-a",
        "dnsZone:apiovh:get",
        "-r",
        "urn:v1:eu:resource:dnsZone:example.domain.dev",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("unknown permission group `urn:v1:eu:permissionsGroup:ovh:default`"),
        "{err}"
    );
}

/// The `GET /v2/iam/permissionsGroup` example lists the managed `vrackManagement` group, which differs from
/// the shipped copy: it loads, replaces it, and the difference is said.
#[test]
fn a_dumped_managed_group_replaces_the_shipped_one() {
    let o = run(&[
        "check",
        "--at",
        AT,
        "-p",
        &format!("{EXAMPLES}/iam-permissionsgroup-get-permissions-groups.json"),
        "policies/examples/ovh/demo-service-account.json",
        "-i",
        "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f",
        "-a",
        "compute_read",
        "-r",
        "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains(
            "`urn:v1:eu:permissionsGroup:ovh:vrackManagement` differs from the shipped copy"
        ) && err.contains("`*:vrack:*`"),
        "{err}"
    );
}

/// A policy dump alone (no resource-group dump) answers, with a warning naming the group and the call.
#[test]
fn a_policy_dump_alone_answers() {
    let dir = tempdir();
    let dump = dir.join("policies.json");
    std::fs::write(
        &dump,
        r#"[{"id": "d1", "owner": "aa1-ovh", "name": "ovh-default", "readOnly": true,
        "identities": ["urn:v1:eu:identity:account:aa1-ovh"],
        "resources": [{"urn": "urn:v1:eu:resourceGroup:9167fb26-382b-11ee-895a-0050568ce122"}],
        "permissions": {"allow": [{"action": "*"}]}},
      {"id": "d2", "owner": "aa1-ovh", "name": "sa-dns", "readOnly": false,
        "identities": ["urn:v1:eu:identity:credential:aa1-ovh/oauth2-EU.0123456789abcdef"],
        "resources": [{"urn": "urn:v1:eu:resource:dnsZone:example.dev"}],
        "permissions": {"allow": [{"action": "dnsZone:apiovh:record/*"}]}}]"#,
    )
    .unwrap();
    let o = run(&[
        "check",
        "--at",
        AT,
        "-p",
        dump.to_str().unwrap(),
        "-i",
        "urn:v1:eu:identity:credential:aa1-ovh/oauth2-EU.0123456789abcdef",
        "-a",
        "dnsZone:apiovh:record/create",
        "-r",
        "urn:v1:eu:resource:dnsZone:example.dev",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("resource group `urn:v1:eu:resourceGroup:9167fb26-382b-11ee-895a-0050568ce122` is not defined by any input")
            && err.contains("GET /v2/iam/resourceGroup?details=true"),
        "{err}"
    );
    // The root on a resource the undumped group may hold: not allowed on a guess.
    let o = run(&[
        "check",
        "--at",
        AT,
        "-p",
        dump.to_str().unwrap(),
        "-i",
        "urn:v1:eu:identity:account:aa1-ovh",
        "-a",
        "vps:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

/// Without `ovh-default`, the root's deny says why.
#[test]
fn a_root_denied_without_ovh_default_is_told_why() {
    let o = run(&[
        "check",
        "--at",
        AT,
        "-p",
        "policies/examples/ovh/demo-service-account.json",
        "-i",
        "urn:v1:eu:identity:account:xx11111-ovh",
        "-a",
        "vps:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
    ]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains("`ovh-default`") && out.contains("GET /v2/iam/policy"),
        "{out}"
    );
}

/// Resource tags come from the `GET /v2/iam/resource` dump when the request gives none.
#[test]
fn resource_tags_come_from_the_resource_dump() {
    let dir = tempdir();
    let p = dir.join("p.json");
    std::fs::write(&p, r#"{"name": "prod-only", "identities": ["urn:v1:eu:identity:user:aa1-ovh/ops"],
        "resources": [{"urn": "urn:v1:eu:resource:dedicatedServer:*"}],
        "permissions": {"allow": [{"action": "dedicatedServer:apiovh:reboot"}]},
        "conditions": {"operator": "MATCH", "values": {"resource.Tag(environment)": "production"}}}"#).unwrap();
    let base = [
        "check",
        "--at",
        AT,
        "-p",
        p.to_str().unwrap(),
        "-i",
        "urn:v1:eu:identity:user:aa1-ovh/ops",
        "-a",
        "dedicatedServer:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:dedicatedServer:ns-123456.ip-11.22.33.eu",
    ];
    assert_eq!(
        run(&base).status.code(),
        Some(1),
        "no tag known: the allow does not apply"
    );
    let mut with_dump = base.to_vec();
    let resources = format!("{EXAMPLES}/iam-resource-get-resources.json");
    with_dump.extend(["-p", &resources]);
    let o = run(&with_dump);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).0);
}

/// Mistakes are loud: an unknown action or identity, a context key in the wrong case.
#[test]
fn mistakes_in_a_request_are_warned_above_the_answer() {
    let p = [
        "check",
        "--at",
        AT,
        "-p",
        "policies/examples/ovh",
        "--account",
        "policies/examples/accounts/ovh-account.json",
    ];
    let mut a = p.to_vec();
    a.extend([
        "-i",
        "urn:v1:eu:identity:user:xx1111-ovh/user1",
        "-a",
        "vps:apiovh:rebot",
        "-r",
        "urn:v1:eu:resource:vps:vps-5b48d78b.vps.ovh.net",
    ]);
    let (_, err) = text(&run(&a));
    assert!(err.starts_with("warning: `vps:apiovh:rebot` is not a known ovhcloud action: no operation of its API needs it; did you mean `vps:apiovh:reboot`"), "{err}");
    a.push("--strict");
    assert_eq!(run(&a).status.code(), Some(2));

    let mut b = p.to_vec();
    b.extend([
        "-i",
        "urn:v1:eu:identity:user:xx1111-ovh/karol",
        "-a",
        "vps:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:vps:vps-5b48d78b.vps.ovh.net",
        "-c",
        "request.ip=192.0.2.1",
    ]);
    let (_, err) = text(&run(&b));
    assert!(
        err.contains(
            "identity `urn:v1:eu:identity:user:xx1111-ovh/karol` is named by no loaded policy"
        ),
        "{err}"
    );
    assert!(err.contains("did you mean `request.IP`?"), "{err}");
}

/// A request for one cloud over the other's policies is refused, naming both.
#[test]
fn a_request_for_the_other_cloud_is_an_error() {
    let o = run(&[
        "check",
        "-p",
        "policies/examples/outscale",
        "-i",
        "urn:v1:eu:identity:user:xx1111-ovh/user1",
        "-a",
        "vps:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:vps:x",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("for OVHcloud") && err.contains("OUTSCALE EIM"),
        "{err}"
    );
    let o = run(&[
        "check",
        "-p",
        "policies/examples/ovh",
        "-i",
        "root",
        "-a",
        "api:ReadVms",
    ]);
    let (_, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the OUTSCALE root over OVHcloud policies must not be an allow"
    );
    assert!(
        err.contains("for OUTSCALE EIM") && err.contains("OVHcloud ones"),
        "{err}"
    );
}

/// An OUTSCALE account file that holds every policy needs no `--policies`.
#[test]
fn an_outscale_account_file_alone_is_enough() {
    let o = run(&[
        "check",
        "--account",
        "policies/examples/accounts/outscale-account.json",
        "-i",
        "watcher_1",
        "-a",
        "api:ReadVms",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = run(&["check", "-i", "watcher_1", "-a", "api:ReadVms"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `test` refuses a case whose action or identity nothing knows, unless it says `unknown_ok`.
#[test]
fn test_refuses_misspelt_expectations() {
    let dir = tempdir();
    let root = env!("CARGO_MANIFEST_DIR");
    let write = |name: &str, case: &str| {
        let f = dir.join(name);
        std::fs::write(&f, format!(r#"{{"policies": ["{root}/policies/examples/ovh"], "account": ["{root}/policies/examples/accounts/ovh-account.json"], "at": "{AT}",
            "cases": [{case}]}}"#)).unwrap();
        f
    };
    let typo = write(
        "typo.json",
        r#"{"identity": "urn:v1:eu:identity:user:xx1111-ovh/user1", "action": "vps:apiovh:terminat", "resource": "urn:v1:eu:resource:vps:vps-5b48d78b.vps.ovh.net", "expect": "deny"}"#,
    );
    let o = run(&["test", typo.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("vps:apiovh:terminat") && err.contains("unknown_ok"),
        "{err}"
    );
    let who = write(
        "who.json",
        r#"{"identity": "urn:v1:eu:identity:user:xx1111-ovh/karol", "action": "vps:apiovh:reboot", "resource": "urn:v1:eu:resource:vps:vps-5b48d78b.vps.ovh.net", "expect": "deny"}"#,
    );
    assert_eq!(run(&["test", who.to_str().unwrap()]).status.code(), Some(2));
    let ok = write(
        "ok.json",
        r#"{"identity": "urn:v1:eu:identity:user:xx1111-ovh/karol", "action": "vps:apiovh:reboot", "resource": "urn:v1:eu:resource:vps:vps-5b48d78b.vps.ovh.net", "expect": "deny", "unknown_ok": true}"#,
    );
    let o = run(&["test", ok.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "policy-sim-real-data-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// OUTSCALE `Read*` answers (the API schema's shapes, as `policy-sim export` saves them): each one loads, or
/// is refused with what it lacks and which call gives it — never a bare "unknown field".
#[test]
fn outscale_read_answers_load_or_say_what_they_lack() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/export/outscale");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    for f in &files {
        let o = run(&["lint", f.to_str().unwrap()]);
        let (out, err) = text(&o);
        let all = format!("{out}{err}");
        let name = f.display().to_string();
        if name.contains("/ReadPolicy/") {
            assert!(
                all.contains("this is a `ReadPolicy` answer") && all.contains("ReadPolicyVersion"),
                "{name}: {all}"
            );
        } else if name.contains("/ReadUserPolicies/") {
            assert!(
                all.contains("this is a `ReadUserPolicies` answer")
                    && all.contains("ReadUserPolicy"),
                "{name}: {all}"
            );
        } else if name.contains("/ReadUserGroupPolicies/") && all.contains("error[") {
            assert!(
                all.contains("this is a `ReadUserGroupPolicies` answer")
                    && all.contains("InlinePolicies"),
                "{name}: {all}"
            );
        } else if (name.contains("/ReadLinkedPolicies/")
            || name.contains("/ReadManagedPoliciesLinkedToUserGroup/"))
            && all.contains("error[")
        {
            assert!(
                all.contains("`ReadLinkedPolicies`") && all.contains("LinkedPolicies"),
                "{name}: {all}"
            );
        } else {
            assert_eq!(o.status.code(), Some(0), "{name}: {all}");
        }
    }
}

/// Pages of a paginated dump concatenated into one file (`cat page1.json page2.json`) read as one list, an
/// empty page included; problems keep their line and column.
#[test]
fn concatenated_pages_read_as_one_dump() {
    let dir = tempdir();
    let f = dir.join("pages.json");
    let page = |name: &str, perms: &str| {
        format!(
            r#"[{{"name": "{name}", "identities": ["urn:v1:eu:identity:user:xx1111-ovh/u"], "resources": [{{"urn": "urn:v1:eu:resource:vps:*"}}], "permissions": {perms}}}]"#
        )
    };
    std::fs::write(
        &f,
        format!(
            "{}\n[]\n{}\n",
            page("p1", r#"{"allow": [{"action": "vps:apiovh:reboot"}]}"#),
            page("p2", r#"{"deny": [{"action": "vps:apiovh:stop"}]}"#)
        ),
    )
    .unwrap();
    let ask = |action: &str| {
        run(&[
            "check",
            "-p",
            f.to_str().unwrap(),
            "-i",
            "urn:v1:eu:identity:user:xx1111-ovh/u",
            "-a",
            action,
            "-r",
            "urn:v1:eu:resource:vps:x",
        ])
        .status
        .code()
    };
    assert_eq!(ask("vps:apiovh:reboot"), Some(0), "page 1's allow");
    assert_eq!(ask("vps:apiovh:stop"), Some(1), "page 3's deny");
    // A mistake in the third page is located there.
    std::fs::write(
        &f,
        format!(
            "{}\n[]\n{}\n",
            page("p1", "{}"),
            page(
                "p2",
                r#"{"deny": [{"action": "vps:apiovh:stop"}], "alow": []}"#
            )
        ),
    )
    .unwrap();
    let o = run(&[
        "check",
        "-p",
        f.to_str().unwrap(),
        "-i",
        "urn:v1:eu:identity:user:xx1111-ovh/u",
        "-a",
        "vps:apiovh:stop",
        "-r",
        "urn:v1:eu:resource:vps:x",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("pages.json:3:"), "{err}");
}
