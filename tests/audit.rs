//! Audit: the seed scenarios give known answers; every witness of a diff really flips under `check`;
//! who-can and what-can agree with `check`; the HTML report renders in a real browser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{PROJECT, SA};

use std::process::Command;

use policy_sim::audit::{self, diff::ChangeKind, Scope, Universe};
use policy_sim::{Engine, Loaded, Role};
use proptest::prelude::*;
use serde_json::{json, Value};

fn bin(args: &[&str]) -> std::process::Output {
    common::bin().args(args).output().unwrap()
}

fn engine(policies: &Value) -> Engine {
    let mut l = Loaded::new();
    l.add_text("policies.json", policies.to_string(), Role::Policies);
    policy_sim::build(l, None)
        .unwrap()
        .with_default_time("2026-06-01T12:00:00Z".parse().unwrap())
}

fn seed000() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/examples/ovh/demo-service-account.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn seed000_what_can_is_exactly_the_infrastructure_supervisor_row() {
    let o = bin(&[
        "audit",
        "what-can",
        "-p",
        "policies/examples/ovh/demo-service-account.json",
        "-i",
        SA,
        "--format",
        "json",
        "--at",
        "2026-06-01T12:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let held: Vec<&str> = v["ovhcloud"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            g["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["urn"] == PROJECT)
                && !g["action"].as_str().unwrap().contains(':')
        })
        .map(|g| g["action"].as_str().unwrap())
        .collect();
    let matrix: Value = serde_json::from_slice(
        &bin(&["roles", "infrastructureSupervisor", "--format", "json"]).stdout,
    )
    .unwrap();
    let mut expected: Vec<&str> = matrix["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let mut held_sorted = held.clone();
    held_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(held_sorted, expected);
    assert_eq!(
        held_sorted,
        vec![
            "compute_read",
            "image_read",
            "network_read",
            "network_secgroup_read",
            "volume_read"
        ]
    );
}

/// The diff of two engines over their joint universe, at the fixed test time.
fn diff_of(old: &Value, new: &Value) -> (Engine, Engine, Vec<audit::diff::Change>) {
    let (mut eo, mut en) = (engine(old), engine(new));
    let u = Universe::joint(
        &mut [&mut eo, &mut en],
        &Scope {
            fixed_at: true,
            ..Scope::default()
        },
    );
    let changes = audit::diff::diff(&eo, &en, &u, || {});
    (eo, en, changes)
}

#[test]
fn a_diff_adding_objectstore_operator_reports_objectstore_all_with_a_witness() {
    let old = seed000();
    let mut new = old.clone();
    new[0]["permissions"]["allow"]
        .as_array_mut()
        .unwrap()
        .push(json!({"action": "publicCloudProject:openstack:objectstoreOperator"}));
    let (_, _, changes) = diff_of(&old, &new);
    let c = changes
        .iter()
        .find(|c| c.actions.contains(&String::from("objectstore_all")))
        .expect("objectstore_all is new access");
    assert_eq!(c.kind, ChangeKind::Granted);
    assert_eq!(c.identity.as_deref(), Some(SA));
    assert_eq!(c.resource.as_deref(), Some(PROJECT));
    assert!(
        changes.iter().all(|c| c.kind == ChangeKind::Granted),
        "adding an allow removes nothing"
    );
    // And through the CLI: exit 1, because NEW grants access OLD did not.
    let dir = std::env::temp_dir().join(format!("policy-sim-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (po, pn) = (dir.join("old.json"), dir.join("new.json"));
    std::fs::write(&po, old.to_string()).unwrap();
    std::fs::write(&pn, new.to_string()).unwrap();
    let o = bin(&[
        "audit",
        "diff",
        po.to_str().unwrap(),
        pn.to_str().unwrap(),
        "--at",
        "2026-06-01T12:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let back = bin(&[
        "audit",
        "diff",
        pn.to_str().unwrap(),
        po.to_str().unwrap(),
        "--at",
        "2026-06-01T12:00:00Z",
    ]);
    assert_eq!(back.status.code(), Some(0), "removing access only: exit 0");
    assert!(String::from_utf8_lossy(&back.stdout).contains("removes"));
}

#[test]
fn roles_needs_gives_the_least_privilege_cover() {
    let m = policy_sim::validate::builtin_matrix().unwrap();
    let needs =
        audit::roles::needs_bits(&m, &["compute_read".into(), "objectstore_all".into()]).unwrap();
    let covers = audit::roles::smallest_covers(&m, needs);
    // Issue 15: `administrator` alone carries both, and 12 permissions more; these two carry 4 more.
    assert_eq!(
        covers,
        vec![vec![
            "publicCloudProject:openstack:infrastructureSupervisor",
            "publicCloudProject:openstack:objectstoreOperator"
        ]],
        "fewest extra permissions first, then fewest roles"
    );
    let needs =
        audit::roles::needs_bits(&m, &["objectstore_all".into(), "ai_training_read".into()])
            .unwrap();
    let covers = audit::roles::smallest_covers(&m, needs);
    assert_eq!(
        covers[0],
        vec![
            "publicCloudProject:openstack:objectstoreOperator",
            "publicCloudProject:ai:aiTrainingRead"
        ]
    );
    // Only one permission needed: the one role that carries it and least besides.
    let needs = audit::roles::needs_bits(&m, &["compute_read".into()]).unwrap();
    let covers = audit::roles::smallest_covers(&m, needs);
    assert!(covers.iter().all(|c| c.len() == 1), "{covers:?}");
}

const IDS: [&str; 3] = [
    "urn:v1:eu:identity:user:xx1111-ovh/a",
    "urn:v1:eu:identity:user:xx1111-ovh/b",
    SA,
];
const RES: [&str; 3] = [
    PROJECT,
    "urn:v1:eu:resource:vps:*",
    "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
];
const ACTS: [&str; 9] = [
    "vps:apiovh:reboot",
    "vps:apiovh:*",
    "*get",
    "publicCloudProject:openstack:*",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "*",
    "vps:apiovh:ips/*",
    "custom:thing:*",
];

fn policy_strategy() -> impl Strategy<Value = Value> {
    (0..IDS.len(), 0..RES.len(), prop::collection::vec(0..ACTS.len(), 0..3), prop::collection::vec(0..ACTS.len(), 0..2), prop::collection::vec(0..ACTS.len(), 0..2)).prop_map(|(i, r, allow, except, deny)| {
        let acts = |v: &[usize]| Value::Array(v.iter().map(|&k| json!({"action": ACTS[k]})).collect());
        json!({"name": format!("p{i}{r}{}", allow.len()), "identities": [IDS[i]], "resources": [{"urn": RES[r]}], "permissions": {"allow": acts(&allow), "except": acts(&except), "deny": acts(&deny)}})
    })
}

fn named(ps: &[Value]) -> Value {
    Value::Array(
        ps.iter()
            .enumerate()
            .map(|(k, p)| {
                let mut p = p.clone();
                p["name"] = json!(format!("p{k}"));
                p
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_diff_witness_flips_under_check(old in prop::collection::vec(policy_strategy(), 0..4), new in prop::collection::vec(policy_strategy(), 0..4)) {
        let (eo, en, changes) = diff_of(&named(&old), &named(&new));
        for c in changes {
            let r = c.witness.request();
            let (a, b) = (eo.explain(&eo.prepare(&r).unwrap()).decision(), en.explain(&en.prepare(&r).unwrap()).decision());
            prop_assert_ne!(a.allowed(), b.allowed(), "witness {:?}", c.witness);
            prop_assert_eq!(b.allowed(), c.kind == ChangeKind::Granted);
            // every action of the group flips too
            for act in &c.actions {
                let w = audit::Witness { action: act.clone(), ..c.witness.clone() };
                prop_assert_ne!(eo.explain(&eo.prepare(&w.request()).unwrap()).decision().allowed(), en.explain(&en.prepare(&w.request()).unwrap()).decision().allowed());
            }
        }
    }

    #[test]
    fn who_can_and_what_can_agree_with_check(ps in prop::collection::vec(policy_strategy(), 1..4), pick in 0..1000usize) {
        let mut e = engine(&named(&ps));
        let u = Universe::of(&mut e, &Scope { fixed_at: true, ..Scope::default() });
        if u.ovh_resources.is_empty() || u.ovh_actions.is_empty() { return Ok(()); }
        let resource = &u.ovh_resources[pick % u.ovh_resources.len()];
        let typed: Vec<&String> = u.ovh_actions.iter().filter(|a| audit::action_type(a) == resource.rtype).collect();
        if typed.is_empty() { return Ok(()); }
        let action = typed[pick % typed.len()];
        let (who, _) = audit::who_can(&e, &u, action, Some(&resource.urn));
        for id in &u.ovh_identities {
            let w = audit::Witness::new(id, action, &resource.urn, &audit::Point::default());
            let allowed = e.explain(&e.prepare(&w.request()).unwrap()).decision().allowed();
            // A group holds for its identity and the listed members it names, on each of its resources.
            let by = who.iter().any(|g| (g.identity == id.urn || g.members.contains(&id.urn)) && g.resources.iter().any(|r| r.urn == resource.urn));
            prop_assert_eq!(allowed, by, "who-can vs check for {} {} {}", id.urn, action, resource.urn);
            let (what, _) = audit::what_can(&e, &u, Some(&id.urn), Some(&resource.urn));
            prop_assert_eq!(allowed, what.iter().any(|g| &g.action == action && g.resources.iter().any(|r| r.urn == resource.urn)), "what-can vs check for {} {} {}", id.urn, action, resource.urn);
        }
    }
}

/// The HTML report is self-contained and renders in headless Chromium: the DOM has the matrix, the
/// findings and the witnesses, and a screenshot is taken. In CI (CI set) a missing browser fails the test;
/// elsewhere it says it was skipped.
#[test]
fn html_report_renders_in_headless_chromium() {
    let o = bin(&[
        "audit",
        "matrix",
        "-p",
        "policies/examples/ovh",
        "--account",
        "policies/examples/accounts/ovh-account.json",
        "--format",
        "html",
        "--at",
        "2026-03-20T12:00:00Z",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "self-contained: no external asset, no script"
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CI").is_none(),
            "headless Chromium is required in CI (.ci/run installs the `chromium` package)"
        );
        eprintln!("skipped: no chromium on this machine (apt-get install chromium); the report was written to {}", page.display());
        return;
    };
    let profile = dir.join("profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let url = format!("file://{}", page.display());
    let dom = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("id=\"matrix\"") && dom.contains("Effective access"),
        "the rendered DOM has the matrix section:\n{dom}"
    );
    assert!(
        dom.contains(PROJECT) && dom.contains("compute_read"),
        "the project's permission columns are rendered"
    );
    assert!(
        dom.contains("class=\"finding\"") && dom.contains("expires-soon"),
        "the findings are rendered (the contractor policy expires on 2026-03-31)"
    );
    assert!(
        dom.contains("policy-sim check --policies"),
        "witness commands are rendered"
    );
    let shot = dir.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let s = Command::new(browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1400,1000")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.exists() && std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot was taken: {}",
        String::from_utf8_lossy(&s.stderr)
    );
}

/// Headless Chromium's DOM of a page (None when no browser is installed, outside CI).
fn rendered(name: &str, html: &str) -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CI").is_none(),
            "headless Chromium is required in CI"
        );
        eprintln!(
            "skipped: no chromium on this machine; the page is {}",
            page.display()
        );
        return None;
    };
    let dom = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("profile-{name}")).display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&dom.stdout).into_owned())
}

/// who-can and what-can as HTML render in Chromium and show the right identities (issue 15: who-can's page
/// was empty, what-can's showed other identities' rows); roles, which has no HTML, refuses the option.
#[test]
fn who_can_and_what_can_html_render_the_right_identities() {
    let d = "tests/audit-cases/issue15";
    let (pol, acc) = (format!("{d}/old.json"), format!("{d}/account.json"));
    let bob = "urn:v1:eu:identity:user:ab12345-ovh/bob";
    let alice = "urn:v1:eu:identity:user:ab12345-ovh/alice";
    let w = bin(&[
        "audit",
        "what-can",
        "-p",
        &pol,
        "--account",
        &acc,
        "-i",
        bob,
        "--format",
        "html",
        "--at",
        "2026-06-01T12:00:00Z",
    ]);
    assert_eq!(w.status.code(), Some(0));
    let h = bin(&[
        "audit",
        "who-can",
        "-p",
        &pol,
        "--account",
        &acc,
        "-a",
        "vps:apiovh:terminate",
        "--format",
        "html",
        "--at",
        "2026-06-01T12:00:00Z",
    ]);
    assert_eq!(h.status.code(), Some(0));
    let r = bin(&[
        "audit",
        "roles",
        "--needs",
        "compute_read",
        "--format",
        "html",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no --format html"));
    let (w, h) = (
        String::from_utf8(w.stdout).unwrap(),
        String::from_utf8(h.stdout).unwrap(),
    );
    for (name, html) in [("what-can", &w), ("who-can", &h)] {
        let dom = rendered(name, html).unwrap_or_else(|| html.clone());
        assert!(
            dom.contains("policy-sim check --policies"),
            "{name}: witnesses rendered"
        );
        if name == "what-can" {
            assert!(
                dom.contains(bob) && !dom.contains(alice),
                "what-can shows bob's rows only:\n{dom}"
            );
        } else {
            assert!(
                dom.contains(alice) && dom.contains("vps:apiovh:terminate"),
                "who-can shows alice:\n{dom}"
            );
        }
    }
}

/// Issue 15: a matrix row's conditional grants are grouped — one entry per condition text and witness
/// context, each with all its actions — so a row of hundreds of conditional actions under one condition is
/// one entry, not hundreds. Fixture `tests/audit-cases/matrix-groups`: a service account with ten exact
/// actions under one IP range (one of them also denied there: not in the entry), the same range in another
/// policy (another text: another entry), another range, a conditional deny lifted, and a project whose
/// permissions come through a conditional role. Every printed witness is confirmed by `check`; every
/// action of every entry is allowed with the entry's context, not without it; CSV lists each action.
#[test]
fn matrix_groups_a_rows_conditional_grants_by_condition() {
    let pol = "tests/audit-cases/matrix-groups/policies.json";
    let at = "2026-06-01T12:00:00Z";
    let text = String::from_utf8(bin(&["audit", "matrix", "-p", pol, "--at", at]).stdout).unwrap();
    insta::assert_snapshot!("matrix_groups", text);
    let witnesses: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("witness: policy-sim "))
        .collect();
    assert_eq!(witnesses.len(), 5, "one witness per entry:\n{text}");
    for w in &witnesses {
        // The witnesses hold no quoted words.
        let args: Vec<&str> = w.split(' ').collect();
        let o = bin(&args);
        assert_eq!(o.status.code(), Some(0), "check does not confirm `{w}`");
    }
    let e = engine(&serde_json::from_str(&std::fs::read_to_string(pol).unwrap()).unwrap());
    let m: Value = serde_json::from_slice(
        &bin(&["audit", "matrix", "-p", pol, "--at", at, "-f", "json"]).stdout,
    )
    .unwrap();
    let mut listed = 0;
    for b in m["blocks"].as_array().unwrap() {
        for r in b["rows"].as_array().unwrap() {
            for c in r["conditional"].as_array().into_iter().flatten() {
                let ctx: Vec<(String, String)> =
                    serde_json::from_value(c["witness"]["context"].clone()).unwrap();
                for a in c["actions"].as_array().unwrap() {
                    let mut req = policy_sim::Request::new(
                        r["identity"].as_str(),
                        a.as_str().unwrap(),
                        b["resource"].as_str(),
                    );
                    let decide =
                        |req: &policy_sim::Request| e.decide(&e.prepare(req).unwrap()).allowed();
                    assert!(!decide(&req), "{a} is conditional: denied without context");
                    req.context = ctx.iter().cloned().collect();
                    assert!(decide(&req), "{a} allowed with {ctx:?}");
                    listed += 1;
                }
            }
        }
    }
    assert_eq!(listed, 16, "every conditional action listed in JSON");
    let csv =
        String::from_utf8(bin(&["audit", "matrix", "-p", pol, "--at", at, "-f", "csv"]).stdout)
            .unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.contains(",conditional,")).count(),
        16
    );
    assert!(
        !csv.contains("vps:apiovh:snapshot/get"),
        "denied wherever office-vps allows it"
    );
}

/// An action the catalogue does not know (a new API operation, or one mistyped) is still granted by a
/// wildcard; who-can asked for it by name must answer as `check` does, not "no one" because the audit's
/// universe of actions lacked it.
#[test]
fn who_can_answers_for_an_action_the_catalogue_does_not_know() {
    let set = json!([{
        "name": "ops",
        "identities": [SA],
        "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
        "permissions": {"allow": [{"action": "vps:apiovh:*"}]},
    }]);
    let mut e = engine(&set);
    let u = Universe::of(&mut e, &Scope::default());
    let action = "vps:apiovh:notInTheCatalogue";
    assert!(!u.ovh_actions.iter().any(|a| a == action));
    let (grants, _) = audit::who_can(&e, &u, action, None);
    assert!(
        grants.iter().any(|g| g.identity == SA),
        "who-can must list the service account: {grants:?}"
    );
    for g in &grants {
        assert!(audit::decide(&e, &g.witness).unwrap().allowed(), "{g:?}");
    }
    // And through the CLI, with a warning on stderr that the catalogue does not know the action.
    let dir = std::env::temp_dir().join(format!("policy-sim-uncatalogued-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("p.json");
    std::fs::write(&p, set.to_string()).unwrap();
    let o = bin(&["audit", "who-can", "-p", p.to_str().unwrap(), "-a", action]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(SA), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a known ovhcloud action"));
    // A service no catalogue knows at all, granted by `*` on every resource: the universe gets a
    // witness resource of its type.
    let all = json!([{
        "name": "all",
        "identities": [SA],
        "resources": [{"urn": "urn:v1:eu:resource:*"}],
        "permissions": {"allow": [{"action": "*"}]},
    }]);
    std::fs::write(&p, all.to_string()).unwrap();
    let o = bin(&[
        "audit",
        "who-can",
        "-p",
        p.to_str().unwrap(),
        "-a",
        "newsvc:apiovh:get",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("ALLOW {SA} newsvc:apiovh:get")),
        "{out}"
    );
}
