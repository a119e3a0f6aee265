//! Issue 15, case by case, on its fixture (tests/audit-cases/issue15: a 9-policy OVHcloud account, users
//! alice/bob/carol/dave in groups admins/devops/finance/auditors; NEW adds globalAdmin for the member-less
//! group `contractors`, a conditional `vps:apiovh:*` for carol, and widens a service account's IP range).
//! Each false all-clear of the issue is now a reported change or access; outputs are snapshots, and every
//! witness printed is run through `policy-sim check`, which must confirm it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Output;

use serde_json::Value;

const D: &str = "tests/audit-cases/issue15";
const AT: &str = "2026-06-01T12:00:00Z";
const SA: &str = "urn:v1:eu:identity:credential:ab12345-ovh/oauth2-0a1b2c3d4e5f6a7b";
const CONTRACTORS: &str = "urn:v1:eu:identity:group:ab12345-ovh/contractors";

fn bin(args: &[&str]) -> Output {
    common::bin().args(args).output().unwrap()
}

fn p(name: &str) -> String {
    format!("{D}/{name}")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// POSIX shell words: bare words and single-quoted strings (what the witnesses use).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Every `witness: policy-sim check …` of a text answer, as argument lists.
fn witnesses(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.split_once("policy-sim check ").map(|(_, rest)| rest))
        .map(|rest| {
            let mut w = vec![String::from("check")];
            w.extend(words(rest));
            w
        })
        .collect()
}

/// Run each witness through `check`: allowed (exit 0).
fn confirm(text: &str) -> usize {
    let ws = witnesses(text);
    for w in &ws {
        let args: Vec<&str> = w.iter().map(String::as_str).collect();
        let o = bin(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "check does not confirm `{}`:\n{}{}",
            args.join(" "),
            stdout(&o),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    ws.len()
}

/// The same witnesses on other policies: denied (exit 1).
fn refuted_on(text: &str, policies: &str) {
    for mut w in witnesses(text) {
        let i = w.iter().position(|a| a == "--policies").unwrap();
        w[i + 1] = policies.to_owned();
        let args: Vec<&str> = w.iter().map(String::as_str).collect();
        assert_eq!(
            bin(&args).status.code(),
            Some(1),
            "`{}` should be denied",
            args.join(" ")
        );
    }
}

#[test]
fn diff_reports_every_change_of_the_issue_with_witnesses_check_confirms() {
    let (old, new, acc) = (p("old.json"), p("new.json"), p("account.json"));
    let o = bin(&["audit", "diff", &old, &new, "--account", &acc, "--at", AT]);
    assert_eq!(o.status.code(), Some(1), "NEW grants access OLD did not");
    let text = stdout(&o);
    insta::assert_snapshot!("issue15_diff_with_account", text);
    assert!(text.contains(&format!("GRANTS any member of {CONTRACTORS}")));
    assert!(text.contains("GRANTS urn:v1:eu:identity:user:ab12345-ovh/carol"));
    assert!(text.contains(&format!("GRANTS {SA}")));
    assert!(text.contains("conditional: `request.IP.IN_RANGE: 0.0.0.0/0`"));
    assert_eq!(confirm(&text), 3);
    refuted_on(&text, &old);
    // The JSON lists every change; the widened IP range is a conditional change with a witness context
    // outside 198.51.100.0/24.
    let j: Value = serde_json::from_slice(
        &bin(&[
            "audit",
            "diff",
            &old,
            &new,
            "--account",
            &acc,
            "--at",
            AT,
            "-f",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let sa = j
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"] == SA)
        .unwrap();
    assert_eq!(sa["conditional"], true);
    let ip = sa["witness"]["context"][0][1].as_str().unwrap();
    assert!(!ip.starts_with("198.51.100."), "{ip}");
}

#[test]
fn diff_without_account_keeps_the_changes_made_through_groups() {
    let (old, new) = (p("old.json"), p("new.json"));
    let o = bin(&["audit", "diff", &old, &new, "--at", AT]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    insta::assert_snapshot!("issue15_diff_without_account", text);
    assert!(text.contains(&format!("GRANTS any member of {CONTRACTORS}")));
    assert_eq!(confirm(&text), 3);
    refuted_on(&text, &old);
}

#[test]
fn who_can_without_resource_with_a_resource_pattern_and_an_action_pattern() {
    let (old, acc) = (p("old.json"), p("account.json"));
    for (action, resource) in [
        ("vps:apiovh:terminate", None),
        ("vps:apiovh:terminate", Some("urn:v1:eu:resource:vps:*")),
        ("vps:apiovh:term*", None),
    ] {
        let mut args = vec![
            "audit",
            "who-can",
            "-p",
            &old,
            "--account",
            &acc,
            "-a",
            action,
            "--at",
            AT,
        ];
        if let Some(r) = resource {
            args.extend(["-r", r]);
        }
        let o = bin(&args);
        assert_eq!(o.status.code(), Some(0));
        let text = stdout(&o);
        // alice answers like any member of admins: named in that entry, not listed on her own.
        assert!(
            text.contains(
                "no policy names: urn:v1:eu:identity:user:ab12345-ovh/alice) vps:apiovh:terminate"
            ),
            "{action} {resource:?}:\n{text}"
        );
        assert!(!text.contains("devops"), "devops is denied terminate");
        assert!(confirm(&text) >= 1);
        if resource.is_none() && action.ends_with('*') {
            insta::assert_snapshot!("issue15_who_can_pattern", text);
        }
    }
}

#[test]
fn html_shows_the_right_identity_or_the_format_is_refused() {
    let (old, acc) = (p("old.json"), p("account.json"));
    let who = stdout(&bin(&[
        "audit",
        "who-can",
        "-p",
        &old,
        "--account",
        &acc,
        "-a",
        "vps:apiovh:terminate",
        "--at",
        AT,
        "-f",
        "html",
    ]));
    assert!(
        who.contains("class=\"grant\"") && who.contains("ab12345-ovh/alice"),
        "{who}"
    );
    let bob = "urn:v1:eu:identity:user:ab12345-ovh/bob";
    let what = stdout(&bin(&[
        "audit",
        "what-can",
        "-p",
        &old,
        "--account",
        &acc,
        "-i",
        bob,
        "--at",
        AT,
        "-f",
        "html",
    ]));
    assert!(what.contains("class=\"grant\"") && what.contains(bob));
    for other in ["alice", "carol", "dave", "oauth2-"] {
        assert!(!what.contains(other), "what-can -i bob shows {other}");
    }
    let roles = bin(&["audit", "roles", "--needs", "compute_read", "-f", "html"]);
    assert_eq!(roles.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&roles.stderr).contains("has no --format html"));
    assert!(roles.stdout.is_empty());
}

#[test]
fn a_service_account_with_administrator_under_an_ip_condition_is_conditional_access() {
    let old = p("old.json");
    let o = bin(&["audit", "what-can", "-p", &old, "-i", SA, "--at", AT]);
    let text = stdout(&o);
    insta::assert_snapshot!("issue15_what_can_service_account", text);
    assert!(text.contains("objectstore_all on urn:v1:eu:resource:publicCloudProject:"));
    assert!(text.contains("conditional: `request.IP.IN_RANGE: 198.51.100.0/24`"));
    assert!(confirm(&text) > 10);
    let f = stdout(&bin(&["audit", "findings", "-p", &old, "--at", AT]));
    assert!(
        f.contains("warning[PA106]: service-account-objectstore"),
        "{f}"
    );
    // --context fixes the IP: outside the range, nothing; inside, unconditional access.
    let out = stdout(&bin(&[
        "audit",
        "what-can",
        "-p",
        &old,
        "-i",
        SA,
        "--at",
        AT,
        "--context",
        "request.IP=10.0.0.1",
    ]));
    assert!(out.contains("  nothing"), "{out}");
    let inside = stdout(&bin(&[
        "audit",
        "what-can",
        "-p",
        &old,
        "-i",
        SA,
        "--at",
        AT,
        "-c",
        "request.IP=198.51.100.7",
    ]));
    assert!(
        inside.contains("objectstore_all") && !inside.contains("conditional:"),
        "{inside}"
    );
    assert!(confirm(&inside) > 10);
}

#[test]
fn a_resource_shows_only_actions_of_its_type_and_witness_resources_are_labelled() {
    let (old, acc) = (p("old.json"), p("account.json"));
    let j: Value = serde_json::from_slice(
        &bin(&[
            "audit",
            "matrix",
            "-p",
            &old,
            "--account",
            &acc,
            "--at",
            AT,
            "-f",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    for b in j["blocks"].as_array().unwrap() {
        let r = b["resource"].as_str().unwrap();
        let t = r.split(':').nth(4).unwrap();
        for row in b["rows"].as_array().unwrap() {
            for a in row["actions"].as_array().unwrap() {
                assert!(
                    a.as_str().unwrap().starts_with(&format!("{t}:")),
                    "{a} on {r}"
                );
            }
        }
        if r.contains(":any-other-") {
            assert!(b["stands_for"].is_string(), "{r} is a witness resource");
        }
    }
    let csv = stdout(&bin(&[
        "audit",
        "matrix",
        "-p",
        &old,
        "--account",
        &acc,
        "--at",
        AT,
        "-f",
        "csv",
    ]));
    assert!(csv.lines().count() < 1500, "{} rows", csv.lines().count());
    assert!(csv.contains("any-other-vps,urn:v1:eu:resource:vps:*,"));
    let text = stdout(&bin(&[
        "audit",
        "matrix",
        "-p",
        &old,
        "--account",
        &acc,
        "--at",
        AT,
    ]));
    insta::assert_snapshot!("issue15_matrix", text);
}

#[test]
fn findings_name_escalation_and_broad_grants_with_codes_lines_sarif_and_fail_on() {
    let (new, acc) = (p("new.json"), p("account.json"));
    let o = bin(&[
        "audit",
        "findings",
        "-p",
        &new,
        "--account",
        &acc,
        "--at",
        AT,
    ]);
    assert_eq!(o.status.code(), Some(0), "no --fail-on: exit 0");
    let text = stdout(&o);
    insta::assert_snapshot!("issue15_findings", text);
    assert!(text
        .contains("error[PA102]: privilege-escalation: urn:v1:eu:identity:user:ab12345-ovh/bob"));
    assert!(text.contains("error[PA103]: broad-grant: policy `contractors-admin`"));
    assert!(text.contains(&format!(
        "error[PA101]: administrator-equivalent: any member of {CONTRACTORS}"
    )));
    assert!(text.contains("--> tests/audit-cases/issue15/new.json:"));
    confirm(&text);
    assert_eq!(
        bin(&[
            "audit",
            "findings",
            "-p",
            &new,
            "--account",
            &acc,
            "--at",
            AT,
            "--fail-on",
            "error"
        ])
        .status
        .code(),
        Some(1)
    );
    let old = p("old.json");
    assert_eq!(
        bin(&[
            "audit",
            "findings",
            "-p",
            &old,
            "--at",
            AT,
            "--fail-on",
            "error",
            "-c",
            "request.IP=10.0.0.1"
        ])
        .status
        .code(),
        Some(1),
        "bob may still edit IAM policies"
    );
    let sarif: Value = serde_json::from_slice(
        &bin(&[
            "audit",
            "findings",
            "-p",
            &new,
            "--account",
            &acc,
            "--at",
            AT,
            "-f",
            "sarif",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "PA103"
        && r["level"] == "error"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"].is_number()));
}

#[test]
fn roles_needs_recommends_least_extra_privilege_first() {
    let o = bin(&["audit", "roles", "--needs", "compute_read,objectstore_all"]);
    let text = stdout(&o);
    assert!(
        text.contains("publicCloudProject:openstack:infrastructureSupervisor + publicCloudProject:openstack:objectstoreOperator"),
        "{text}"
    );
    assert!(!text.contains("administrator"), "{text}");
}
