#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `policy-sim export` (issue 19) against a local server that answers with the APIs' documented shapes
//! (`fixtures/export/`, from the official schemas' examples and seeds 000 and 002): several pages, a 429
//! then success, a 500 then success, a 403 that stops the export with nothing written; then the snapshot
//! answers the seeds' questions through `policy-sim check`.

mod export_support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use export_support::{fixture, osc_answer, ovh_answer, temp_dir, Answer, Seen, Server};
use policy_sim::export::creds::{self, OvhAuth, Secret};
use policy_sim::export::{self, ExportError, Options};
use serde_json::{json, Value};

const SECRET: &str = "very-secret-value-1234";

fn quick(out: &Path) -> Options {
    let mut o = Options::new(out);
    o.timeout = Duration::from_secs(10);
    o.retry.base = Duration::from_millis(20);
    o.retry.max_wait = Duration::from_millis(200);
    o
}

fn read(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// Every file below `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// No file below `dir` contains `needle`.
fn nowhere(dir: &Path, needle: &str) {
    for f in files(dir) {
        let text = std::fs::read_to_string(dir.join(&f)).unwrap();
        assert!(!text.contains(needle), "{f} contains `{needle}`");
    }
}

/// Nothing but `keep` in `parent`: no snapshot, no temporary directory left behind.
fn only(parent: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, keep, "left in {}", parent.display());
}

fn ovh_target(url: &str, auth: OvhAuth) -> creds::OvhTarget {
    creds::OvhTarget {
        endpoint: url.to_owned(),
        root: url.to_owned(),
        plate: None,
        auth,
    }
}

/// An OAuth2 export from `server` into `out`, quietly.
fn export_ovh(server: &Server, out: &Path) -> export::Summary {
    export::ovh::export(
        &ovh_target(&server.url, oauth2(&server.url)),
        &quick(out),
        &mut |_: &str| {},
    )
    .unwrap()
}

fn oauth2(url: &str) -> OvhAuth {
    OvhAuth::OAuth2 {
        client_id: "0f0f0f0f0f0f0f0f".into(),
        client_secret: Secret::new(SECRET),
        token_url: format!("{url}/auth/oauth2/token"),
    }
}

/// Fail the first call to `path` with `status` (and `Retry-After: 0` for 429), then answer normally.
fn flaky(
    path: &'static str,
    status: u16,
    count: Arc<AtomicUsize>,
) -> impl FnMut(&Seen) -> Option<Answer> {
    move |req| {
        (req.path() == path && count.fetch_add(1, Ordering::SeqCst) == 0).then(|| {
            let a = Answer::json(status, r#"{"message": "try again"}"#);
            if status == 429 {
                a.with("Retry-After", "0")
            } else {
                a
            }
        })
    }
}

fn policy_sim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn ovhcloud_export_pages_retries_and_files() {
    let (n429, n500) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut fail429 = flaky("/v2/iam/permissionsGroup", 429, n429.clone());
    let mut fail500 = flaky("/1.0/me/identity/user/bob", 500, n500.clone());
    let server = Server::start(move |req| {
        fail429(req)
            .or_else(|| fail500(req))
            .unwrap_or_else(|| ovh_answer(req, 2))
    });
    let dir = temp_dir("ovh-full");
    let out = dir.join("snap");
    let mut lines = Vec::new();
    let summary = export::ovh::export(
        &ovh_target(&server.url, oauth2(&server.url)),
        &quick(&out),
        &mut |l: &str| lines.push(l.to_owned()),
    )
    .unwrap();
    let seen = server.seen();

    // Every file: the raw answers (pages merged), the account file, snapshot.json.
    assert_eq!(
        files(&out),
        [
            "account.json",
            "ovhcloud/1.0/me.json",
            "ovhcloud/1.0/me/api/oauth2/client.json",
            "ovhcloud/1.0/me/api/oauth2/client/0f0f0f0f0f0f0f0f.json",
            "ovhcloud/1.0/me/identity/group.json",
            "ovhcloud/1.0/me/identity/group/admins.json",
            "ovhcloud/1.0/me/identity/group/devs.json",
            "ovhcloud/1.0/me/identity/user.json",
            "ovhcloud/1.0/me/identity/user/alice.json",
            "ovhcloud/1.0/me/identity/user/bob.json",
            "ovhcloud/v2/iam/permissionsGroup.json",
            "ovhcloud/v2/iam/policy.json",
            "ovhcloud/v2/iam/resource.json",
            "ovhcloud/v2/iam/resourceGroup.json",
            "snapshot.json",
        ]
    );
    // Each answer is kept as the API gave it: the merged pages equal the whole list.
    for f in files(&out) {
        if f.starts_with("ovhcloud/") && f != "ovhcloud/1.0/me.json" {
            let want: Value = serde_json::from_str(&fixture(&f).unwrap()).unwrap();
            assert_eq!(read(&out.join(&f)), want, "{f}");
        }
    }
    // The policy list came in three pages of two, each next page asked with the cursor given.
    let pages: Vec<Option<&str>> = seen
        .iter()
        .filter(|r| r.path() == "/v2/iam/policy")
        .map(|r| r.header("x-pagination-cursor"))
        .collect();
    assert_eq!(pages, [None, Some("c2"), Some("c4")]);
    // The 429 and the 500 were each tried again, once.
    assert_eq!(n429.load(Ordering::SeqCst), 2);
    assert_eq!(n500.load(Ordering::SeqCst), 2);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GET /v2/iam/permissionsGroup: HTTP 429; trying again")),
        "{lines:?}"
    );
    // The token was fetched with the client credentials, then sent as a bearer token on every call.
    let token = &seen[0];
    assert_eq!(
        (token.method.as_str(), token.path()),
        ("POST", "/auth/oauth2/token")
    );
    assert_eq!(
        token.body,
        format!("grant_type=client_credentials&client_id=0f0f0f0f0f0f0f0f&client_secret={SECRET}&scope=all")
    );
    assert!(seen[1..]
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer tok-123")));
    assert!(seen
        .iter()
        .any(|r| r.target == "/v2/iam/resourceGroup?details=true"));

    // `/me`: only what names the account; the holder's personal data is not kept.
    assert_eq!(
        read(&out.join("ovhcloud/1.0/me.json")),
        json!({"nichandle": "xx11111-ovh", "ovhSubsidiary": "FR"})
    );
    nowhere(&out, "jane.doe@example.com");
    // The secret and the token are nowhere in the snapshot.
    nowhere(&out, SECRET);
    nowhere(&out, "tok-123");

    // The account file in the shape `--account` reads.
    let account = read(&out.join("account.json"));
    assert_eq!(account["account"], "xx11111-ovh");
    assert_eq!(account["region"], "eu");
    assert_eq!(account["users"][0]["login"], "alice");
    assert_eq!(account["users"][1]["group"], "devs");

    // snapshot.json: when, where from, which account, which version, how many of each kind.
    let manifest = read(&out.join("snapshot.json"));
    assert_eq!(manifest["cloud"], "ovhcloud");
    assert_eq!(manifest["endpoint"], server.url.as_str());
    assert_eq!(manifest["account"], "xx11111-ovh");
    assert_eq!(
        manifest["tool"],
        json!({"name": "policy-sim", "version": env!("CARGO_PKG_VERSION")})
    );
    assert!(manifest["createdAt"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .is_ok());
    assert_eq!(
        manifest["counts"],
        json!({"policies": 5, "permissionsGroups": 1, "resourceGroups": 1, "resources": 3, "users": 2, "groups": 2, "oauth2Clients": 1})
    );
    assert_eq!(
        manifest["files"][0],
        json!({"path": "ovhcloud/v2/iam/policy.json", "call": "GET /v2/iam/policy", "pages": 3})
    );
    assert_eq!(summary.counts["policies"], 5);
    only(&dir, &["snap"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Seed 000's question asked of an exported snapshot: its v2 IAM lists with `--policies`, its account file
/// with `--account` (resource group members with every API field, OVHcloud-managed permission groups listed
/// again by `GET /v2/iam/permissionsGroup`).
#[test]
fn ovhcloud_snapshot_answers_seed_000() {
    let server = Server::start(|req| ovh_answer(req, 2));
    let dir = temp_dir("ovh-seed000");
    let out = dir.join("snap");
    export_ovh(&server, &out);
    drop(server);
    // What `openstack server list` / `container list` need.
    let snap = out.display().to_string();
    let (policy, groups, resource_groups, account) = (
        format!("{snap}/ovhcloud/v2/iam/policy.json"),
        format!("{snap}/ovhcloud/v2/iam/permissionsGroup.json"),
        format!("{snap}/ovhcloud/v2/iam/resourceGroup.json"),
        format!("{snap}/account.json"),
    );
    let ask = |action: &str| {
        policy_sim(&[
            "check",
            "--policies",
            &policy,
            &groups,
            &resource_groups,
            "--account",
            &account,
            "--identity",
            "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f",
            "--action",
            action,
            "--resource",
            "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
            "--at",
            "2026-06-01T12:00:00Z",
        ])
    };
    let allowed = ask("compute_read");
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("ALLOW (explicit_allow)"));
    let denied = ask("objectstore_all");
    assert_eq!(
        denied.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    assert!(String::from_utf8_lossy(&denied.stdout).contains("DENY (implicit_deny)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ovhcloud_403_names_the_call_and_writes_nothing() {
    let server = Server::start(|req| {
        if req.path() == "/1.0/me/identity/group" {
            Answer::json(
                403,
                r#"{"class": "Client::Forbidden", "message": "User not granted for this request", "details": {"unauthorizedActionsByAuthentication": "", "unauthorizedActionsByIAM": "account:apiovh:me/identity/group/get"}}"#,
            )
        } else {
            ovh_answer(req, 2)
        }
    });
    let dir = temp_dir("ovh-403");
    let out = dir.join("snap");
    let err = export::ovh::export(
        &ovh_target(&server.url, oauth2(&server.url)),
        &quick(&out),
        &mut |_: &str| {},
    )
    .unwrap_err();
    assert!(
        matches!(&err, ExportError::Refused { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`GET /1.0/me/identity/group` was refused with HTTP 403: User not granted for this request (missing IAM permissions: account:apiovh:me/identity/group/get)"
    );
    assert!(err
        .help()
        .unwrap()
        .contains("lacks `account:apiovh:me/identity/group/get`"));
    // The calls before it succeeded, but nothing was written, not even a temporary directory.
    assert!(server
        .seen()
        .iter()
        .any(|r| r.path() == "/1.0/me/identity/user/bob"));
    assert!(!out.exists());
    only(&dir, &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ovhcloud_application_key_signs_each_call_with_server_time() {
    let server = Server::start(|req| ovh_answer(req, 10));
    let dir = temp_dir("ovh-appkey");
    let out = dir.join("snap");
    let auth = OvhAuth::AppKey {
        application_key: "AK-public".into(),
        application_secret: Secret::new(SECRET),
        consumer_key: Secret::new("CK-secret"),
    };
    export::ovh::export(
        &ovh_target(&server.url, auth),
        &quick(&out),
        &mut |_: &str| {},
    )
    .unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].path(), "/1.0/auth/time");
    assert_eq!(seen[0].header("x-ovh-signature"), None);
    for r in &seen[1..] {
        // The server's clock (1780000000), not the local one, within the few seconds the export took.
        let ts: i64 = r.header("x-ovh-timestamp").unwrap().parse().unwrap();
        assert!((1_780_000_000..1_780_000_060).contains(&ts), "{ts}");
        assert_eq!(r.header("x-ovh-application"), Some("AK-public"));
        assert_eq!(r.header("x-ovh-consumer"), Some("CK-secret"));
        // Signed over the full URL sent, query string included.
        let url = format!("{}{}", server.url, r.target);
        let want =
            policy_sim::export::sign::ovh_signature(SECRET, "CK-secret", "GET", &url, "", ts);
        assert_eq!(
            r.header("x-ovh-signature"),
            Some(want.as_str()),
            "{}",
            r.target
        );
        assert_eq!(r.header("authorization"), None);
    }
    nowhere(&out, SECRET);
    nowhere(&out, "CK-secret");
    let _ = std::fs::remove_dir_all(&dir);
}

fn osc_target(url: &str) -> creds::OscTarget {
    creds::OscTarget {
        access_key: "AKIAEXAMPLE".into(),
        secret_key: Secret::new(SECRET),
        region: "eu-west-2".into(),
        api: format!("{url}/api/v1"),
        profile: "default".into(),
    }
}

#[test]
fn outscale_export_pages_retries_and_account() {
    let n500 = Arc::new(AtomicUsize::new(0));
    let n429 = Arc::new(AtomicUsize::new(0));
    let mut fail500 = flaky("/api/v1/ReadPolicy", 500, n500.clone());
    let mut fail429 = flaky("/api/v1/ReadUserGroups", 429, n429.clone());
    let server = Server::start(move |req| {
        fail500(req)
            .or_else(|| fail429(req))
            .unwrap_or_else(|| osc_answer(req, 2))
    });
    let dir = temp_dir("osc-full");
    let out = dir.join("snap");
    let summary =
        export::osc::export(&osc_target(&server.url), &quick(&out), &mut |_: &str| {}).unwrap();
    let seen = server.seen();
    // ReadPolicy: the 500, its retry, then the second policy; ReadUserGroups: the 429 and its retry.
    assert_eq!(n500.load(Ordering::SeqCst), 3);
    assert_eq!(n429.load(Ordering::SeqCst), 2);
    // Three users in pages of two: the second page asked from the second item on; the server counts from 1
    // (as the API's examples), so it repeats the second user, which is dropped.
    let users: Vec<Option<u64>> = seen
        .iter()
        .filter(|r| r.path() == "/api/v1/ReadUsers")
        .map(|r| {
            serde_json::from_str::<Value>(&r.body)
                .unwrap()
                .get("FirstItem")
                .and_then(Value::as_u64)
        })
        .collect();
    assert_eq!(users, [None, Some(2)]);
    let merged = read(&out.join("outscale/ReadUsers.json"));
    let want: Value = serde_json::from_str(&fixture("outscale/ReadUsers.json").unwrap()).unwrap();
    assert_eq!(merged, want);
    // Every call signed: OSC4-HMAC-SHA256 with the access key, over the JSON body sent.
    for r in &seen {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let auth = r.header("authorization").unwrap();
        assert!(
            auth.starts_with("OSC4-HMAC-SHA256 Credential=AKIAEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains(
            "/eu-west-2/api/osc4_request, SignedHeaders=content-type;host;x-osc-date, Signature="
        ));
    }
    // Each answer kept; the account file built from them.
    for f in files(&out) {
        if f.starts_with("outscale/") {
            let want: Value =
                serde_json::from_str(&fixture(&f).unwrap_or_else(|| panic!("{f}"))).unwrap();
            let mut got = read(&out.join(&f));
            let _ = got.as_object_mut().map(|m| m.remove("ResponseContext"));
            let mut want = want;
            let _ = want.as_object_mut().map(|m| m.remove("ResponseContext"));
            assert_eq!(got, want, "{f}");
        }
    }
    let account = read(&out.join("account.json"));
    assert_eq!(account["AccountId"], "123456789012");
    let watcher = account["Users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["UserName"] == "watcher_1")
        .unwrap();
    assert_eq!(watcher["UserGroups"], json!(["monitoring"]));
    let manifest = read(&out.join("snapshot.json"));
    assert_eq!(manifest["cloud"], "outscale");
    assert_eq!(manifest["account"], "123456789012");
    assert_eq!(
        manifest["counts"],
        json!({"users": 3, "userGroups": 2, "managedPolicies": 2, "userInlinePolicies": 2, "userGroupInlinePolicies": 1})
    );
    assert_eq!(summary.account.as_deref(), Some("123456789012"));
    nowhere(&out, SECRET);
    only(&dir, &["snap"]);
    drop(server);

    // Seed 002: watcher_1, through the group `monitoring` and its managed policy, may read, not delete.
    let account = out.join("account.json").display().to_string();
    let versions = out.join("outscale/ReadPolicyVersion").display().to_string();
    let ask = |identity: &str, action: &str| {
        policy_sim(&[
            "check",
            "--policies",
            &versions,
            "--account",
            &account,
            "--identity",
            identity,
            "--action",
            action,
        ])
    };
    for (identity, action, code) in [
        ("watcher_1", "api:ReadVms", 0),
        ("watcher_1", "api:DeleteVms", 1),
        ("watcher_1", "ec2:DescribeInstances", 1),
        // The policy versions passed with --policies apply to whom the account links them to, no one else.
        ("watcher_1", "api:CreateVms", 1),
        // deployer: the managed policy allows CreateVms; its inline policy denies Delete*.
        ("deployer", "api:CreateVms", 0),
        ("deployer", "api:DeleteVms", 1),
        // example-user: its inline policy allows everything.
        ("example-user", "api:DeleteVms", 0),
    ] {
        let o = ask(identity, action);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{identity} {action}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn outscale_403_names_the_call_and_writes_nothing() {
    let server = Server::start(|req| {
        if req.path() == "/api/v1/ReadLinkedPolicies" {
            Answer::json(
                403,
                r#"{"Errors": [{"Type": "AccessDenied", "Code": "4", "Details": ""}], "ResponseContext": {"RequestId": "0475ca1e"}}"#,
            )
        } else {
            osc_answer(req, 10)
        }
    });
    let dir = temp_dir("osc-403");
    let out = dir.join("snap");
    let err =
        export::osc::export(&osc_target(&server.url), &quick(&out), &mut |_: &str| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"`ReadLinkedPolicies {UserName: "deployer"}` was refused with HTTP 403: AccessDenied 4"#
    );
    assert!(err
        .help()
        .unwrap()
        .contains("lacks `api:ReadLinkedPolicies`"));
    assert!(!out.exists());
    only(&dir, &[]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The issue's "done when": from the command line, against the test server, then `check` on the snapshot.
#[test]
fn cli_export_then_check() {
    let server = Server::start(|req| ovh_answer(req, 3));
    let dir = temp_dir("cli");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = dir.join("snap");
    let run = |extra: &[(&str, &str)], out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_policy-sim"));
        c.args(["export", "ovhcloud", "--endpoint", &server.url, "--out"])
            .arg(out)
            .current_dir(&home)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let o = run(
        &[
            ("OVH_CLIENT_ID", "0f0f0f0f0f0f0f0f"),
            ("OVH_CLIENT_SECRET", SECRET),
        ],
        &out,
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "wrote {} (account xx11111-ovh): 15 files from ",
            out.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("5 policies, 1 permissionsGroups, 1 resourceGroups, 3 resources, 2 users, 2 groups, 1 oauth2Clients"));
    // Not a terminal: no progress.
    assert_eq!(stderr, "");
    assert!(!stdout.contains(SECRET));

    // A second export into the same directory is refused before any call.
    let before = server.seen().len();
    let o = run(
        &[
            ("OVH_CLIENT_ID", "0f0f0f0f0f0f0f0f"),
            ("OVH_CLIENT_SECRET", SECRET),
        ],
        &out,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists and is not empty"));
    assert_eq!(server.seen().len(), before);

    // No credentials: exit 2, told which variables to set.
    let o = run(&[], &dir.join("other"));
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no OVHcloud credentials found") && stderr.contains("OVH_CLIENT_ID"),
        "{stderr}"
    );

    // A refused secret is never echoed.
    drop(server);
    let server = Server::start(|req| {
        if req.path() == "/auth/oauth2/token" {
            Answer::json(
                401,
                r#"{"error": "invalid_client", "error_description": "client authentication failed"}"#,
            )
        } else {
            ovh_answer(req, 3)
        }
    });
    let o = Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args(["export", "ovhcloud", "--endpoint", &server.url, "--out"])
        .arg(dir.join("refused"))
        .current_dir(&home)
        .env_clear()
        .env("HOME", &home)
        .env("OVH_CLIENT_ID", "0f0f0f0f0f0f0f0f")
        .env("OVH_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr.starts_with(&format!(
        "error: export stopped: `POST {}/auth/oauth2/token` was refused with HTTP 401: client authentication failed; nothing was written\n  |\n  = help: the OAuth2 client `0f0f0f0f0f0f0f0f` was refused",
        server.url
    )), "{stderr}");
    assert!(!stderr.contains(SECRET));
    assert!(!dir.join("refused").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole snapshot directory as `--policies` (the issue's goal): the loader reads the account file and
/// the v2 dumps, and leaves the raw `/1.0` answers the account file was made from.
#[test]
fn whole_snapshot_directory_as_policies() {
    let server = Server::start(|req| ovh_answer(req, 2));
    let dir = temp_dir("whole");
    let out = dir.join("snap");
    export_ovh(&server, &out);
    let snap = out.display().to_string();
    let o = policy_sim(&[
        "check",
        "--policies",
        &snap,
        "--identity",
        "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f",
        "--action",
        "compute_read",
        "--resource",
        "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// OUTSCALE from the command line, the access key from `~/.osc/config.json` (the environment's
/// `OSC_SECRET_KEY` wins over the file's), the region from the profile.
#[test]
fn cli_outscale_reads_the_osc_config_file() {
    let server = Server::start(|req| osc_answer(req, 100));
    let dir = temp_dir("cli-osc");
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".osc")).unwrap();
    std::fs::write(
        home.join(".osc/config.json"),
        json!({"default": {"access_key": "AK-FROM-FILE", "secret_key": "file-secret", "region": "cloudgouv-eu-west-1",
                           "endpoints": {"api": format!("{}/api/v1", server.url)}}})
        .to_string(),
    )
    .unwrap();
    let out = dir.join("snap");
    let o = Command::new(env!("CARGO_BIN_EXE_policy-sim"))
        .args(["export", "outscale", "--out"])
        .arg(&out)
        .current_dir(&home)
        .env_clear()
        .env("HOME", &home)
        .env("OSC_SECRET_KEY", SECRET)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("(account 123456789012)")
            && stdout.contains("3 users, 2 userGroups, 2 managedPolicies"),
        "{stdout}"
    );
    let seen = server.seen();
    assert!(!seen.is_empty());
    for r in &seen {
        let auth = r.header("authorization").unwrap();
        assert!(
            auth.starts_with("OSC4-HMAC-SHA256 Credential=AK-FROM-FILE/"),
            "{auth}"
        );
        assert!(
            auth.contains("/cloudgouv-eu-west-1/api/osc4_request"),
            "{auth}"
        );
    }
    // Signed with the environment's secret, not the file's: the same request signed here agrees.
    let first = &seen[0];
    let date = first.header("x-osc-date").unwrap();
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let want = policy_sim::export::sign::osc_sign(
        "AK-FROM-FILE",
        SECRET,
        "cloudgouv-eu-west-1",
        "127.0.0.1",
        first.path(),
        &first.body,
        iso.parse().unwrap(),
    );
    assert_eq!(
        first.header("authorization"),
        Some(want.authorization.as_str())
    );
    nowhere(&out, SECRET);
    nowhere(&out, "file-secret");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole OUTSCALE snapshot directory as `--policies` (account file included), seed 002's questions.
#[test]
fn whole_outscale_snapshot_directory_as_policies() {
    let server = Server::start(|req| osc_answer(req, 2));
    let dir = temp_dir("whole-osc");
    let out = dir.join("snap");
    export::osc::export(&osc_target(&server.url), &quick(&out), &mut |_: &str| {}).unwrap();
    drop(server);
    let snap = out.display().to_string();
    for (action, code) in [
        ("api:ReadVms", 0),
        ("api:CreateVms", 1),
        ("api:DeleteVms", 1),
    ] {
        let o = policy_sim(&[
            "check",
            "--policies",
            &snap,
            "--identity",
            "watcher_1",
            "--action",
            action,
        ]);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{action}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

proptest::proptest! {
    /// A user, group or policy name never makes a file outside its directory, and two names never share a
    /// file: `file_name` is injective and its output is one plain path component.
    #[test]
    fn file_names_are_safe_and_distinct(a in "\\PC{0,12}", b in "[./%a-zA-Z0-9]{0,6}") {
        for name in [&a, &b] {
            let f = export::file_name(name);
            proptest::prop_assert!(!f.contains('/') && !f.contains('\\') && !f.starts_with('.'), "{f}");
            proptest::prop_assert!(f.ends_with(".json"));
        }
        proptest::prop_assert_eq!(a == b, export::file_name(&a) == export::file_name(&b));
    }
}
