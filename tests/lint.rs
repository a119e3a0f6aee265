//! `policy-sim lint` and `policy-sim test`, driven through the real binary as CI runs them.
//!
//! One harness runs every code's fixtures (`fixtures/lint/<CODE>/bad/` triggers exactly that code,
//! `fixtures/lint/<CODE>/clean/` triggers nothing) and snapshots the human output of each `bad/`, in a
//! snapshot named after the code. A code added to the registry without a fixture fails here. Then: the three
//! output formats on one combined input, the SARIF output against the official SARIF 2.1.0 schema, exit
//! statuses, and `policy-sim test` on broken and failing expectation files (`fixtures/lint/expectations/`).
//! Paths are relative to the crate root and `--at` is pinned, so outputs are stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{run, stderr, stdout};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use policy_sim::lint::RULES;

const AT: &str = "2026-06-01T00:00:00Z";
const FIXTURES: &str = "fixtures/lint";
const EXPECTATIONS: &str = "fixtures/lint/expectations";

/// Several codes' `bad/` inputs at once: a load error, OVHcloud and EIM rules, an embedded EIM document.
const COMBINED: [&str; 5] = [
    "fixtures/lint/PS002/bad",
    "fixtures/lint/PS101/bad",
    "fixtures/lint/PS104/bad",
    "fixtures/lint/PS121/bad",
    "fixtures/lint/PS130/bad",
];

/// `policy-sim lint PATHS... --at AT EXTRA...`; a code directory of oslo.policy files
/// (`fixtures/lint/OSLO.../`) is linted as `lint --openstack-policy FILE...`.
fn lint(paths: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["lint"];
    let oslo: Vec<String> = paths
        .iter()
        .filter(|p| p.contains("/OSLO"))
        .flat_map(|p| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
            let mut files: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| format!("{p}/{}", e.unwrap().file_name().to_string_lossy()))
                .collect();
            files.sort();
            files
        })
        .collect();
    if !oslo.is_empty() {
        args.push("--openstack-policy");
        args.extend(oslo.iter().map(String::as_str));
        args.extend_from_slice(&["--at", AT]);
        args.extend_from_slice(extra);
        return run(&args);
    }
    args.extend_from_slice(paths);
    args.extend_from_slice(&["--at", AT]);
    args.extend_from_slice(extra);
    run(&args)
}

/// The findings of `lint --format json`.
fn findings(paths: &[&str]) -> Vec<serde_json::Value> {
    let o = lint(paths, &["--format", "json"]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "lint {paths:?} exited {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("lint {paths:?} --format json: {e}\n{}", stdout(&o)))
}

fn codes(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The code directories under `fixtures/lint/` (`PS...`; `expectations/` is for `policy-sim test`).
fn fixture_dirs() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES);
    std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("PS") || name.starts_with("OSLO"))
        .collect()
}

fn has_json_files(dir: &str) -> bool {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.filter_map(Result::ok).any(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "json" || x == "yaml" || x == "yml")
        })
    })
}

#[test]
fn every_code_has_a_bad_and_a_clean_fixture() {
    let dirs = fixture_dirs();
    let mut missing = Vec::new();
    for rule in RULES {
        for kind in ["bad", "clean"] {
            let dir = format!("{FIXTURES}/{}/{kind}", rule.code);
            if !has_json_files(&dir) {
                missing.push(dir);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "every lint code needs `bad/` and `clean/` fixtures; missing or empty: {missing:#?}"
    );
    let stale: Vec<&String> = dirs
        .iter()
        .filter(|d| !RULES.iter().any(|r| r.code == d.as_str()))
        .collect();
    assert!(
        stale.is_empty(),
        "fixture directories for codes not in the registry: {stale:?}"
    );
}

/// The harness: each `bad/` triggers exactly its code, each `clean/` nothing at all; the human output of
/// each `bad/` is the snapshot `lint__<CODE>`.
#[test]
fn each_code_fires_on_its_bad_fixture_and_not_on_its_clean_one() {
    let mut failures = Vec::new();
    for rule in RULES {
        let code = rule.code;
        let bad = format!("{FIXTURES}/{code}/bad");
        let clean = format!("{FIXTURES}/{code}/clean");
        if !has_json_files(&bad) || !has_json_files(&clean) {
            failures.push(format!("{code}: no fixture"));
            continue;
        }

        let found = codes(&findings(&[&bad]));
        if !found.iter().any(|c| c == code) {
            failures.push(format!("{bad}: no {code} finding; found {found:?}"));
        }
        let others: BTreeSet<&String> = found.iter().filter(|c| *c != code).collect();
        if !others.is_empty() {
            failures.push(format!(
                "{bad}: should trigger {code} only, also found {others:?}"
            ));
        }
        let found_clean = codes(&findings(&[&clean]));
        if found_clean.iter().any(|c| c == code) {
            failures.push(format!("{clean}: {code} found in the clean variant"));
        }
        if !found_clean.is_empty() {
            failures.push(format!(
                "{clean}: the clean variant should have no finding, found {found_clean:?}"
            ));
        }

        let human = lint(&[&bad], &[]);
        let expected_exit = if rule.level == policy_sim::lint::Level::Error {
            1
        } else {
            0
        };
        if human.status.code() != Some(expected_exit) {
            failures.push(format!(
                "{bad}: exit {:?}, expected {expected_exit} for a {} finding",
                human.status.code(),
                rule.level.as_str()
            ));
        }
        insta::with_settings!({
            description => format!("policy-sim lint {bad} --at {AT}"),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(code, stdout(&human));
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn combined(format: &str) -> Output {
    let o = lint(&COMBINED, &["--format", format]);
    // PS002 and PS121 are errors.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    o
}

/// The SARIF log with the tool's version masked, so a release does not change the snapshot.
fn sarif_text(o: &Output) -> String {
    stdout(o).replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"[policy-sim version]\"",
    )
}

#[test]
fn formats_on_one_combined_input() {
    let description = format!(
        "policy-sim lint {} --at {AT} --format FORMAT",
        COMBINED.join(" ")
    );
    let human = combined("human");
    let json = combined("json");
    let sarif = combined("sarif");
    // The three formats carry the same findings.
    let from_json: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), from_json.len());
    for (r, f) in results.iter().zip(&from_json) {
        assert_eq!(r["ruleId"], f["code"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        if let Some(inside) = f["inside"].as_str() {
            // A value inside an embedded document (an EIM `Body` string): SARIF can only point into the
            // file, so it points at the string, and its message says where in the document.
            let at = format!(
                "{}:{}:{}",
                f["file"].as_str().unwrap(),
                region["startLine"],
                region["startColumn"]
            );
            assert!(inside.starts_with(&at), "{inside} vs {at}");
            let text = r["message"]["text"].as_str().unwrap();
            let within = format!(
                "in the embedded JSON document at line {} column {}",
                f["line"], f["column"]
            );
            assert!(text.contains(&within), "{text}");
        } else {
            assert_eq!(region["startLine"], f["line"]);
            assert_eq!(region["startColumn"], f["column"]);
            assert_eq!(region["endLine"], f["end_line"]);
            assert_eq!(region["endColumn"], f["end_column"]);
        }
    }
    let human_text = stdout(&human);
    for f in &from_json {
        let code = f["code"].as_str().unwrap();
        assert!(human_text.contains(&format!("[{code}]")), "{code} missing");
    }
    insta::with_settings!({ description => description.replace("FORMAT", "human"), omit_expression => true }, {
        insta::assert_snapshot!("combined_human", human_text);
    });
    insta::with_settings!({ description => description.replace("FORMAT", "json"), omit_expression => true }, {
        insta::assert_snapshot!("combined_json", stdout(&json));
    });
    insta::with_settings!({ description => description.replace("FORMAT", "sarif"), omit_expression => true }, {
        insta::assert_snapshot!("combined_sarif", sarif_text(&sarif));
    });
}

/// The SARIF 2.1.0 schema serde-sarif ships (`src/schema.json` of its package in the cargo registry).
fn sarif_schema_path() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry").join("src");
    let mut found = Vec::new();
    for index in std::fs::read_dir(&registry).into_iter().flatten().flatten() {
        for package in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = package.file_name().to_string_lossy().into_owned();
            let schema = package.path().join("src").join("schema.json");
            if name.starts_with("serde-sarif-0.8") && schema.is_file() {
                found.push(schema);
            }
        }
    }
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "the SARIF 2.1.0 schema was not found: expected {}/*/serde-sarif-0.8*/src/schema.json \
             (serde-sarif is a dependency: run `cargo fetch`)",
            registry.display()
        )
    })
}

/// The 2.1.0 schema's `language` pattern has a stray `]` (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`), which is
/// no ECMAScript regex in unicode mode, so jsonschema rejects the schema itself. OASIS fixed it in the 2.1.0
/// errata (oasis-tcs/sarif-spec#488, #562); apply that fix. policy-sim emits no `language`, so this
/// changes nothing about what is checked.
fn apply_sarif_errata(schema: &mut serde_json::Value) {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const FIXED: &str = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$";
    match schema {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value.as_str() == Some(BROKEN) {
                    *value = serde_json::Value::from(FIXED);
                } else {
                    apply_sarif_errata(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(apply_sarif_errata),
        _ => {}
    }
}

/// The official schema, with the errata applied.
fn sarif_schema() -> serde_json::Value {
    let path = sarif_schema_path();
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
        "{} is not the SARIF 2.1.0 schema",
        path.display()
    );
    apply_sarif_errata(&mut schema);
    schema
}

fn assert_valid_sarif(o: &Output, what: &str) {
    let path = sarif_schema_path();
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("{}: not a usable schema: {e}", path.display()));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    if !validator.is_valid(&log) {
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("  {} at {}", e, e.instance_path()))
            .collect();
        panic!(
            "{what}: SARIF output is not valid against {}:\n{}",
            path.display(),
            errors.join("\n")
        );
    }
    assert_eq!(log["version"], "2.1.0");
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    assert_valid_sarif(&combined("sarif"), "the combined input");
    // Every code's findings, load errors and embedded EIM documents included.
    let all = lint(&[FIXTURES], &["--format", "sarif"]);
    assert_eq!(all.status.code(), Some(1), "{}", stderr(&all));
    assert_valid_sarif(&all, "fixtures/lint");
    let log: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let rule_ids: BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    for rule in RULES.iter().filter(|r| !r.code.starts_with("OSLO")) {
        assert!(rule_ids.contains(rule.code), "no {} result", rule.code);
    }
    // oslo.policy files (`lint --openstack-policy`): the same emitter, every OSLO code
    let bad: Vec<String> = RULES
        .iter()
        .filter(|r| r.code.starts_with("OSLO"))
        .map(|r| format!("{FIXTURES}/{}/bad", r.code))
        .collect();
    let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
    let oslo = lint(&bad, &["--format", "sarif"]);
    assert_eq!(oslo.status.code(), Some(1), "{}", stderr(&oslo));
    assert_valid_sarif(&oslo, "oslo.policy files");
    let log: serde_json::Value = serde_json::from_slice(&oslo.stdout).unwrap();
    let oslo_ids: BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        oslo_ids,
        BTreeSet::from(["OSLO001", "OSLO002", "OSLO003", "OSLO004"])
    );
    // A finding with a file but no line (the file cannot be read: bad input, exit 2, still a result).
    let missing = lint(&["fixtures/lint/no-such-file.json"], &["--format", "sarif"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert_valid_sarif(&missing, "a missing file");
    // The check is not vacuous: a result level SARIF does not define is caught.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::Value::from("fatal");
    let schema = sarif_schema();
    assert!(!jsonschema::validator_for(&schema)
        .unwrap()
        .is_valid(&broken));
    // A clean run is a valid log with no results.
    let clean = lint(&["fixtures/lint/PS110/clean"], &["--format", "sarif"]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert_valid_sarif(&clean, "a clean run");
}

// ---- exit statuses ----

#[test]
fn exit_0_when_clean() {
    let o = lint(&["fixtures/lint/PS110/clean"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("0 errors, 0 warnings"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn exit_1_with_an_error_finding() {
    let o = lint(&["fixtures/lint/PS121/bad"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[PS121]"));
}

#[test]
fn a_warning_passes_by_default_and_fails_with_deny_warning() {
    let bad = ["fixtures/lint/PS110/bad"];
    let o = lint(&bad, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("warning[PS110]"));
    let o = lint(&bad, &["--deny", "warning"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // `--deny CODE` raises that code to an error.
    let o = lint(&bad, &["--deny", "PS110"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("error[PS110]"), "{}", stdout(&o));
}

#[test]
fn allow_silences_a_code() {
    let o = lint(
        &["fixtures/lint/PS110/bad"],
        &["--deny", "warning", "--allow", "PS110"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stdout(&o).contains("PS110"), "{}", stdout(&o));
    let o = lint(&["fixtures/lint/PS121/bad"], &["--allow", "PS121"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn warn_lowers_an_error_to_a_warning() {
    let bad = ["fixtures/lint/PS121/bad"];
    let o = lint(&bad, &["--warn", "PS121"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("warning[PS121]"), "{}", stdout(&o));
    // ... which `--deny warning` still fails on.
    let o = lint(&bad, &["--warn", "PS121", "--deny", "warning"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn an_unknown_code_is_a_usage_error() {
    for flag in ["--allow", "--warn", "--deny", "--explain"] {
        let o = lint(&["fixtures/lint/PS110/bad"], &[flag, "PS999"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("unknown lint code `PS999`"),
            "{flag}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "{flag}: {}", stdout(&o));
    }
}

#[test]
fn explain_prints_a_code_s_documentation() {
    for rule in RULES {
        let o = run(&["lint", "--explain", rule.code]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.starts_with(&format!("{} ({})", rule.code, rule.name)));
        assert!(text.contains(rule.explain));
    }
}

// ---- policy-sim test ----

fn test_cmd(file: &str) -> Output {
    run(&["test", &format!("{EXPECTATIONS}/{file}")])
}

#[test]
fn an_expectation_file_that_is_not_json_is_located() {
    let o = test_cmd("invalid-json.json");
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("fixtures/lint/expectations/invalid-json.json:8:3"),
        "{err}"
    );
    insta::with_settings!({ description => "policy-sim test fixtures/lint/expectations/invalid-json.json (stderr)", omit_expression => true }, {
        insta::assert_snapshot!("test_invalid_json", err);
    });
}

#[test]
fn an_expectation_of_the_wrong_type_is_located() {
    let o = test_cmd("wrong-type.json");
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("fixtures/lint/expectations/wrong-type.json:8:215 (/cases/1/expect)"),
        "{err}"
    );
    assert!(err.contains("`maybe`"), "{err}");
    insta::with_settings!({ description => "policy-sim test fixtures/lint/expectations/wrong-type.json (stderr)", omit_expression => true }, {
        insta::assert_snapshot!("test_wrong_type", err);
    });
}

#[test]
fn a_failing_case_exits_1_with_expected_actual_and_the_trace() {
    let o = test_cmd("failing.json");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("PASS fixtures/lint/expectations/failing.json:7"),
        "{out}"
    );
    assert!(
        out.contains("FAIL fixtures/lint/expectations/failing.json:8 auditors may reboot the VPS"),
        "{out}"
    );
    assert!(
        out.contains("expected allow (explicit_allow), got deny (implicit_deny)"),
        "{out}"
    );
    assert!(out.contains("trace:"), "{out}");
    assert!(out.contains("1 passed, 1 failed"), "{out}");
    insta::with_settings!({ description => "policy-sim test fixtures/lint/expectations/failing.json", omit_expression => true }, {
        insta::assert_snapshot!("test_failing_case", out);
    });
}

#[test]
fn the_shipped_expectations_pass() {
    let o = run(&["test", "policies/expectations/examples.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(" 0 failed"), "{}", stdout(&o));
}

/// On a minified file whose one line is far longer than the snippet window, the carets still sit under
/// the offending value (regression: the window offset was kept after the full line was swapped in).
#[test]
fn carets_sit_under_the_value_on_a_long_minified_line() {
    let mut policies: Vec<serde_json::Value> = (0..60)
        .map(|i| serde_json::json!({"name": format!("p{i}"), "identities": ["urn:v1:eu:identity:account:xx1111-ovh"], "resources": [{"urn": "urn:v1:eu:resource:vps:*"}], "permissions": {"allow": [{"action": "vps:apiovh:get"}]}}))
        .collect();
    policies[59]["identities"] = serde_json::json!(["urn:v1:eu:identity:user:xx1111-ovh"]);
    let dir = std::env::temp_dir().join(format!("policy-sim-long-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.json");
    std::fs::write(&file, serde_json::to_string(&policies).unwrap()).unwrap();
    let out = stdout(&lint(&[file.to_str().unwrap()], &[]));
    let lines: Vec<&str> = out.lines().collect();
    let snippet = lines
        .iter()
        .position(|l| l.starts_with("1 | "))
        .expect("a snippet line");
    let (text, carets) = (lines[snippet], lines[snippet + 1]);
    let start = carets.find('^').unwrap();
    let len = carets.matches('^').count();
    let underlined: String = text.chars().skip(start).take(len).collect();
    assert_eq!(
        underlined, "\"urn:v1:eu:identity:user:xx1111-ovh\"",
        "{out}"
    );
}

/// Issue 15: a group with no known members given the managed `globalAdmin` group, and `*`, on every
/// resource (`urn:v1:eu:resource:*`) is a broad grant (PS110) and privilege escalation (PS130) each.
#[test]
fn issue_15_global_admin_on_every_resource_is_broad_and_escalating() {
    let dir = "fixtures/lint/admin-grants";
    let f = findings(&[dir]);
    let mut got: Vec<(String, u64)> = f
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("PS110", 23), ("PS110", 46), ("PS130", 23), ("PS130", 46)]
            .map(|(c, l)| (c.to_owned(), l)),
        "{f:#?}"
    );
    let human = lint(&[dir], &[]);
    insta::with_settings!({ description => format!("policy-sim lint {dir} --at {AT}"), omit_expression => true }, {
        insta::assert_snapshot!("issue_15_admin_grants", stdout(&human));
    });
}

/// PS130 on OVHcloud reads a policy as the cloud does: a write action taken back by the policy's own
/// `except` or `deny` (or its permission group's) is no escalation; on resources that are not the account
/// (a VPS) an account-level action grants nothing; an expired policy grants nothing.
#[test]
fn ovh_escalation_follows_except_deny_resources_and_expiry() {
    let policy = |name: &str,
                  resources: &[&str],
                  allow: &[&str],
                  except: &[&str],
                  deny: &[&str],
                  extra: serde_json::Value| {
        let mut p = serde_json::json!({
            "name": name,
            "identities": ["urn:v1:eu:identity:user:xx1111-ovh/alice"],
            "resources": resources.iter().map(|r| serde_json::json!({"urn": r})).collect::<Vec<_>>(),
            "permissions": {
                "allow": allow.iter().map(|a| serde_json::json!({"action": a})).collect::<Vec<_>>(),
                "except": except.iter().map(|a| serde_json::json!({"action": a})).collect::<Vec<_>>(),
                "deny": deny.iter().map(|a| serde_json::json!({"action": a})).collect::<Vec<_>>(),
            },
        });
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        p
    };
    let account = ["urn:v1:eu:resource:account:xx1111-ovh"];
    let none = serde_json::json!({});
    let policies = serde_json::json!([
        // 0: escalates (the except leaves `create`)
        policy(
            "keeps-create",
            &account,
            &["account:apiovh:iam/policy/*"],
            &[
                "account:apiovh:iam/policy/edit",
                "account:apiovh:iam/policy/delete"
            ],
            &[],
            none.clone()
        ),
        // 1: all writes excepted
        policy(
            "excepted",
            &account,
            &["account:apiovh:iam/*"],
            &[
                "account:apiovh:iam/policy/*",
                "account:apiovh:iam/permissionsGroup/*",
                "account:apiovh:iam/resourceGroup/*"
            ],
            &[],
            none.clone()
        ),
        // 2: denied in the same policy
        policy(
            "denied",
            &account,
            &["account:apiovh:*"],
            &[],
            &["account:apiovh:iam/*", "account:apiovh:me/*"],
            none.clone()
        ),
        // 3: not on the account
        policy(
            "vps-only",
            &["urn:v1:eu:resource:vps:*"],
            &["*"],
            &[],
            &[],
            none.clone()
        ),
        // 4: expired
        policy(
            "expired",
            &account,
            &["account:apiovh:iam/policy/create"],
            &[],
            &[],
            serde_json::json!({"expiredAt": "2026-01-01T00:00:00Z"})
        ),
        // 5: a permission group whose own except leaves policy writes (globalReadWrite)
        policy(
            "read-write",
            &account,
            &[],
            &[],
            &[],
            serde_json::json!({"permissionsGroups": [{"urn": "urn:v1:eu:permissionsGroup:ovh:globalReadWrite"}]})
        ),
    ]);
    let dir = std::env::temp_dir().join(format!("policy-sim-ps130-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policies.json");
    std::fs::write(&file, serde_json::to_string_pretty(&policies).unwrap()).unwrap();
    let f = findings(&[file.to_str().unwrap()]);
    let escalating: BTreeSet<String> = f
        .iter()
        .filter(|f| f["code"] == "PS130")
        .map(|f| {
            f["pointer"]
                .as_str()
                .unwrap()
                .split('/')
                .nth(1)
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        escalating,
        BTreeSet::from(["0".to_owned(), "5".to_owned()]),
        "{f:#?}"
    );
    let read_write = f
        .iter()
        .find(|f| f["code"] == "PS130" && f["pointer"].as_str().unwrap().starts_with("/5/"))
        .unwrap();
    let message = read_write["message"].as_str().unwrap();
    assert!(message.contains("IAM policies"), "{message}");
    // globalReadWrite excepts group and identity-provider management: not listed as what it lets them do
    // (it still lets them mint a token for any local user: `me/identity/user/token/create`).
    assert!(!message.contains("user groups"), "{message}");
    assert!(!message.contains("identity provider"), "{message}");
    assert!(
        message.contains("local users and their tokens"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
