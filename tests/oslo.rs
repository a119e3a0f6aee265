//! oslo.policy semantics, pinned: the fixture cases of fixtures/oslo/cases.json through the CLI (seeds 001,
//! 003 and 004), the contract of `check --openstack-policy`, and each surprising behaviour of oslo.policy
//! 6.0.1 that policy-sim reproduces (each was checked against the library; tests/oslo_diff.rs checks them
//! all at scale).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use policy_sim::oslo::{self, creds, file, parse, Check, Enforcer, Options, RuleDefault};
use serde_json::{json, Map, Value};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oslo")
}

fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policy-sim"));
    // the developer's own OpenStack settings must not leak into the answers
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(dir())
        .args(args)
        .output()
        .expect("run policy-sim")
}

#[test]
fn fixture_cases() {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases.json is JSON");
    assert!(cases.len() >= 20);
    for case in &cases {
        let mut args: Vec<String> = vec!["check".into(), "--openstack-policy".into()];
        args.extend(
            case["policy"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned()),
        );
        args.extend([
            "--credentials".into(),
            case["credentials"].as_str().unwrap().to_owned(),
        ]);
        args.extend([
            "--action".into(),
            case["action"].as_str().unwrap().to_owned(),
        ]);
        for t in case["target"].as_array().into_iter().flatten() {
            args.extend(["--target".into(), t.as_str().unwrap().to_owned()]);
        }
        if case["no_enforce_new_defaults"] == json!(true) {
            args.push("--no-enforce-new-defaults".into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&refs);
        let want = match case["expect"].as_str().unwrap() {
            "allow" => 0,
            "deny" => 1,
            _ => 2,
        };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{}\n{}{}",
            case["note"],
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if want == 2 {
            assert!(
                out.stdout.is_empty() && !out.stderr.is_empty(),
                "{}: a message on stderr",
                case["note"]
            );
        }
    }
}

#[test]
fn json_contract_has_decision_reason_and_trace() {
    let out = run(&[
        "check",
        "--openstack-policy",
        "seed004-policy.yaml",
        "--credentials",
        "token-project-reader.json",
        "--action",
        "myservice:thing:list",
        "--target",
        "project_id=another",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["decision"], "deny");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("project_id:%(project_id)s"),
        "{}",
        v["reason"]
    );
    let leaves = v["trace"]["children"].as_array().unwrap();
    assert_eq!(leaves[0]["check"], "role:reader");
    assert_eq!(leaves[0]["value"], true);
    assert_eq!(leaves[0]["decisive"], false);
    assert_eq!(leaves[1]["value"], false);
    assert_eq!(
        leaves[1]["decisive"], true,
        "the false part of an `and` decides"
    );
    insta::assert_snapshot!(
        "oslo_seed004_text",
        String::from_utf8_lossy(
            &run(&[
                "check",
                "--openstack-policy",
                "seed004-policy.yaml",
                "--credentials",
                "token-project-reader.json",
                "--action",
                "myservice:thing:list",
            ])
            .stdout
        )
    );
}

#[test]
fn credentials_without_token_and_bad_policy_files_are_located() {
    let tmp = std::env::temp_dir().join(format!("oslo-bad-{}.yaml", std::process::id()));
    std::fs::write(&tmp, "\"a\": \"role:x\"\n\"b\": [\"role:x\"\n").unwrap();
    let out = run(&[
        "check",
        "--openstack-policy",
        tmp.to_str().unwrap(),
        "--credentials",
        "token-project-reader.json",
        "--action",
        "a",
    ]);
    let _ = std::fs::remove_file(&tmp);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":3:1:") || err.contains(":2:"),
        "located: {err}"
    );
}

#[test]
fn shipped_defaults_are_generated_and_up_to_date() {
    for (service, count) in [
        ("nova", 214),
        ("glance", 67),
        ("cinder", 167),
        ("neutron", 372),
        ("keystone", 204),
    ] {
        let s = oslo::defaults::service(service).unwrap().unwrap();
        assert_eq!(s.rules.len(), count, "{service}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root
        .join("../shared/data/openstack-policy-defaults.json")
        .exists()
    {
        eprintln!("skipping the generator check: ../shared is not beside the checkout");
        return;
    }
    let out = Command::new("python3")
        .arg(root.join("policies/gen/oslo_defaults.py"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- the surprising behaviours, each pinned ----

fn token(roles: &[&str]) -> Map<String, Value> {
    let rs: Vec<Value> = roles.iter().map(|r| json!({"id": r, "name": r})).collect();
    creds::from_token(
        &json!({"token": {"user": {"id": "u1", "domain": {"id": "default"}},
        "project": {"id": "p1", "domain": {"id": "default"}}, "roles": rs}}),
    )
    .unwrap()
}

fn decide(policy: &str, rule: &str, roles: &[&str], target: Value) -> Result<bool, String> {
    let f = file::read("policy.yaml", policy).map_err(|e| e.to_string())?;
    let e = Enforcer::new(Vec::new(), &[f], Options::default());
    let creds = token(roles);
    let target = match target {
        Value::Object(m) => m,
        _ => creds::default_target(&creds),
    };
    e.enforce(rule, &target, &creds)
        .map(|d| d.allowed)
        .map_err(|e| e.to_string())
}

fn role(r: &str) -> Check {
    Check::Role(r.into())
}

#[test]
fn and_binds_tighter_than_or_and_operators_ignore_case() {
    assert_eq!(
        parse("role:a or role:b and role:c").check,
        Check::Or(vec![role("a"), Check::And(vec![role("b"), role("c")])])
    );
    assert_eq!(
        parse("not role:a AND role:b").check,
        Check::And(vec![Check::Not(Box::new(role("a"))), role("b")])
    );
    assert_eq!(
        parse("(role:a Or role:b)").check,
        Check::Or(vec![role("a"), role("b")])
    );
    assert_eq!(
        parse("(role:a or role:b)").check.to_string(),
        "(role:a or role:b)"
    );
}

#[test]
fn an_empty_rule_allows_but_a_blank_one_denies() {
    assert_eq!(parse("").check, Check::True);
    assert_eq!(parse("   ").check, Check::False);
    // a YAML null value is an empty rule too
    assert_eq!(decide("\"a\":\n", "a", &[], Value::Null), Ok(true));
    assert_eq!(decide("\"a\": \" \"\n", "a", &[], Value::Null), Ok(false));
}

#[test]
fn a_rule_that_does_not_parse_denies_as_a_whole() {
    for broken in [
        "role:a and",
        "(role:a",
        "role:a role:b",
        "'quoted' or role:a",
    ] {
        let p = parse(broken);
        assert_eq!(p.check, Check::False, "{broken}");
        assert!(!p.notes.is_empty(), "{broken}: a note says why");
    }
    // a word without `:` is `!` on its own; the rest of the rule still counts
    let p = parse("foo or role:a");
    assert_eq!(p.check, Check::Or(vec![Check::False, role("a")]));
    assert_eq!(p.notes.first().map(|n| n.column), Some(1));
}

#[test]
fn role_names_ignore_case_but_generic_checks_do_not() {
    assert_eq!(
        decide("\"a\": \"role:ADMIN\"", "a", &["Admin"], Value::Null),
        Ok(true)
    );
    assert_eq!(
        decide("\"a\": \"roles:admin\"", "a", &["Admin"], Value::Null),
        Ok(false)
    );
    assert_eq!(
        decide("\"a\": \"roles:Admin\"", "a", &["Admin"], Value::Null),
        Ok(true)
    );
}

#[test]
fn an_undefined_rule_reference_uses_the_default_rule() {
    assert_eq!(
        decide(
            "\"a\": \"rule:nowhere\"\n\"default\": \"@\"",
            "a",
            &[],
            Value::Null
        ),
        Ok(true)
    );
    assert_eq!(
        decide("\"a\": \"rule:nowhere\"", "a", &[], Value::Null),
        Ok(false)
    );
    // and so does an undefined action
    assert_eq!(
        decide(
            "\"default\": \"role:reader\"",
            "svc:anything",
            &["reader"],
            Value::Null
        ),
        Ok(true)
    );
}

#[test]
fn a_missing_target_key_is_false_even_under_not() {
    assert_eq!(
        decide("\"a\": \"project_id:%(nope)s\"", "a", &[], Value::Null),
        Ok(false)
    );
    assert_eq!(
        decide("\"a\": \"not project_id:%(nope)s\"", "a", &[], Value::Null),
        Ok(true)
    );
}

#[test]
fn literals_compare_with_python_str() {
    assert_eq!(
        decide(
            "\"a\": \"True:%(enabled)s\"",
            "a",
            &[],
            json!({"enabled": "True"})
        ),
        Ok(true)
    );
    assert_eq!(
        decide(
            "\"a\": \"True:%(enabled)s\"",
            "a",
            &[],
            json!({"enabled": "true"})
        ),
        Ok(false)
    );
    assert_eq!(
        decide("\"a\": \"'p1':%(project_id)s\"", "a", &[], Value::Null),
        Ok(true)
    );
    assert_eq!(
        decide("\"a\": \"is_admin:False\"", "a", &[], Value::Null),
        Ok(true),
        "the checker's is_admin is False"
    );
    // nested credentials
    assert_eq!(
        decide(
            "\"a\": \"project.domain.id:default\"",
            "a",
            &[],
            Value::Null
        ),
        Ok(true)
    );
}

#[test]
fn where_oslo_policy_raises_policy_sim_refuses_to_answer() {
    assert!(
        decide("\"a\": \"%(project_id)s:p1\"", "a", &[], Value::Null).is_err(),
        "SyntaxError"
    );
    assert!(
        decide("\"a\": \"user_id.x:u1\"", "a", &[], Value::Null).is_err(),
        "TypeError"
    );
    assert!(
        decide("\"a\": \"rule:a\"", "a", &[], Value::Null).is_err(),
        "RecursionError"
    );
    assert!(
        decide(
            "\"a\": \"http://policy.example/check\"",
            "a",
            &[],
            Value::Null
        )
        .is_err(),
        "remote check"
    );
    // ... but only when the check is reached
    assert_eq!(
        decide("\"a\": \"@ or %(project_id)s:p1\"", "a", &[], Value::Null),
        Ok(true)
    );
}

fn registered(
    name: &str,
    check: &str,
    scopes: &[&str],
    deprecated: Option<(&str, &str)>,
) -> RuleDefault {
    let mut d = RuleDefault::new(name, check);
    d.scope_types = scopes.iter().map(|s| (*s).to_owned()).collect();
    d.deprecated_rule = deprecated
        .map(|(n, c)| serde_json::from_value(json!({"name": n, "check_str": c})).unwrap());
    d
}

#[test]
fn deprecated_rules_are_or_ed_only_when_new_defaults_are_off() {
    let d = vec![registered(
        "svc:x",
        "role:member",
        &[],
        Some(("svc:x", "role:reader")),
    )];
    let creds = token(&["reader"]);
    let target = creds::default_target(&creds);
    let on = Enforcer::new(d.clone(), &[], Options::default());
    assert!(!on.enforce("svc:x", &target, &creds).unwrap().allowed);
    let off = Enforcer::new(
        d,
        &[],
        Options {
            enforce_new_defaults: false,
        },
    );
    assert!(off.enforce("svc:x", &target, &creds).unwrap().allowed);
}

#[test]
fn an_override_of_the_deprecated_name_replaces_the_new_default() {
    let d = vec![registered(
        "svc:new",
        "role:admin",
        &[],
        Some(("svc:old", "role:member")),
    )];
    let f = file::read("policy.yaml", "\"svc:old\": \"role:reader\"").unwrap();
    let e = Enforcer::new(d, &[f], Options::default());
    let creds = token(&["reader"]);
    assert!(
        e.enforce("svc:new", &creds::default_target(&creds), &creds)
            .unwrap()
            .allowed
    );
}

#[test]
fn scope_types_are_checked_before_the_rule_and_survive_an_override() {
    let d = vec![registered("svc:x", "@", &["system"], None)];
    let f = file::read("policy.yaml", "\"svc:x\": \"@\"").unwrap();
    let e = Enforcer::new(d, &[f], Options::default());
    let creds = token(&[]);
    let answer = e
        .enforce("svc:x", &creds::default_target(&creds), &creds)
        .unwrap();
    assert!(!answer.allowed);
    assert!(
        answer.trace.is_none() && answer.reason.contains("project-scoped"),
        "{}",
        answer.reason
    );
}

#[test]
fn lint_finds_syntax_undefined_references_broader_overrides_and_typos() {
    let out = run(&["lint", "--openstack-policy", "lint-operator-policy.yaml"]);
    assert_eq!(out.status.code(), Some(1), "errors fail the lint");
    let text = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("oslo_lint_operator_policy", text);
    let out = run(&[
        "lint",
        "--openstack-policy",
        "lint-operator-policy.yaml",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["OSLO003", "OSLO002", "OSLO004", "OSLO001", "OSLO003"]
    );
    // the seed 004 file of a service of its own is clean: its names are its own, and referenced by nothing
    let out = run(&["lint", "--openstack-policy", "seed004-policy.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("OSLO004") && !text.contains("error["),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0), "warnings alone pass");
    let out = run(&[
        "lint",
        "--openstack-policy",
        "seed004-policy.json",
        "--deny",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn openstack_commands_on_any_cloud_for_a_reader_and_a_member() {
    let services = ["nova", "glance", "neutron", "cinder"];
    let case = |token: &str, extra: &[&str], command: &[&str]| {
        let mut args = vec!["check", "--openstack-policy"];
        args.extend(services);
        args.extend(["--credentials", token]);
        args.extend(extra);
        args.push("--");
        args.extend(command);
        run(&args)
    };
    let create = [
        "openstack",
        "server",
        "create",
        "--image",
        "I",
        "--flavor",
        "F",
        "--network",
        "N",
        "vm1",
    ];
    for (token, list, create_exit) in [
        ("seed003-reader-token.json", 0, 1),
        ("seed003-member-token.json", 0, 0),
    ] {
        let out = case(token, &[], &["openstack", "server", "list"]);
        assert_eq!(
            out.status.code(),
            Some(list),
            "{token} server list\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = case(token, &[], &create);
        assert_eq!(
            out.status.code(),
            Some(create_exit),
            "{token} server create\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Swift: the upstream operator_roles (admin, SwiftOperator) refuse both
        let out = case(token, &[], &["openstack", "container", "list"]);
        assert_eq!(out.status.code(), Some(1), "{token} container list");
    }
    let reader_create =
        String::from_utf8_lossy(&case("seed003-reader-token.json", &[], &create).stdout)
            .into_owned();
    assert!(
        reader_create.contains("✗ POST /v2.1/servers: refused by `os_compute_api:servers:create`"),
        "{reader_create}"
    );
    // a cloud whose Swift admits `member`
    let roles = ["--swift-operator-roles", "admin,SwiftOperator,member"];
    assert_eq!(
        case(
            "seed003-member-token.json",
            &roles,
            &["openstack", "container", "list"]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        case(
            "seed003-reader-token.json",
            &roles,
            &["openstack", "container", "list"]
        )
        .status
        .code(),
        Some(1)
    );
    // a call no loaded rule guards is unknown, not guessed: exit 2
    let out = run(&[
        "check",
        "--openstack-policy",
        "nova",
        "--credentials",
        "seed003-member-token.json",
        "--",
        "openstack",
        "image",
        "list",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--openstack-policy glance"));
}

#[test]
fn roles_on_the_project_of_a_clouds_yaml_entry() {
    let case = |roles: &str, command: &[&str]| {
        let mut args = vec![
            "check",
            "--openstack-policy",
            "nova",
            "glance",
            "neutron",
            "cinder",
            "--os-cloud",
            "genouest",
            "--clouds-yaml",
            "seed003-clouds.yaml",
            "--roles",
            roles,
            "--",
        ];
        args.extend(command);
        run(&args)
    };
    let create = [
        "openstack",
        "server",
        "create",
        "--image",
        "I",
        "--flavor",
        "F",
        "--network",
        "N",
        "vm1",
    ];
    assert_eq!(
        case("reader", &["openstack", "server", "list"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(case("reader", &create).status.code(), Some(1));
    // member implies reader, as Keystone's default implied roles put both in the token
    let out = case("member", &create);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("roles member, reader"));
    assert_eq!(
        case("member", &["openstack", "container", "list"])
            .status
            .code(),
        Some(1)
    );
    // neither --credentials nor --roles: bad input
    let out = run(&[
        "check",
        "--openstack-policy",
        "nova",
        "--action",
        "os_compute_api:servers:index",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

const SERVICES: [&str; 4] = ["nova", "glance", "neutron", "cinder"];
const SERVER_CREATE: [&str; 10] = [
    "openstack",
    "server",
    "create",
    "--image",
    "I",
    "--flavor",
    "F",
    "--network",
    "N",
    "vm1",
];

/// One cloud per Keystone login type (fixtures/oslo/logins/clouds.yaml): each login is described, its
/// scope found, and `server list` / `server create` predicted for a reader and a member
/// (fixtures/oslo/logins/expected.json); the member's `server create` answer is a snapshot per login.
#[test]
fn each_login_type_of_clouds_yaml() {
    let text = std::fs::read_to_string(dir().join("logins/expected.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 5);
    for case in &cases {
        let cloud = case["cloud"].as_str().unwrap();
        for (name, command) in [
            ("server list", &["openstack", "server", "list"][..]),
            ("server create", &SERVER_CREATE[..]),
        ] {
            for role in ["reader", "member"] {
                let mut args = vec!["check", "--openstack-policy"];
                args.extend(SERVICES);
                args.extend([
                    "--clouds-yaml",
                    "logins/clouds.yaml",
                    "--os-cloud",
                    cloud,
                    "--roles",
                    role,
                    "--",
                ]);
                args.extend(command);
                let out = run(&args);
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                assert_eq!(
                    out.status.code(),
                    case[name][role].as_i64().map(|c| c as i32),
                    "{cloud} {role} {name}\n{stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                for key in ["login", "scope", "note"] {
                    if let Some(want) = case.get(key).and_then(Value::as_str) {
                        assert!(stdout.contains(want), "{cloud}: no `{want}` in\n{stdout}");
                    }
                }
                if name == "server create" && role == "member" {
                    insta::assert_snapshot!(format!("oslo_login_{cloud}"), stdout);
                }
            }
        }
    }
}

/// Seed 001 (EGI): the walkthrough script checked line by line on any Keystone cloud. The token of
/// `OS_TOKEN=$(...)` and the `<placeholders>` are known only when the script runs: reported, never guessed.
#[test]
fn seed001_script_for_a_reader_and_a_member() {
    let script = "../openstack/seed001-walkthrough.sh";
    let case = |extra: &[&str]| {
        let mut args = vec!["check", "--openstack-policy"];
        args.extend(SERVICES);
        args.extend(extra);
        args.extend(["--script", script]);
        run(&args)
    };
    let reader = case(&["--roles", "reader"]);
    let text = String::from_utf8_lossy(&reader.stdout).into_owned();
    assert_eq!(reader.status.code(), Some(1), "{text}");
    insta::assert_snapshot!("oslo_seed001_script_reader", text);
    for want in [
        "6: ALLOW   openstack --os-auth-type v3oidcaccesstoken",
        "on project `<your project id>` (`--os-project-id` on line 6, known only when the script runs)",
        "note: the token is `$(python get-token.py)` (`export OS_TOKEN` on line 22), known only when the script runs",
        "29: ALLOW   openstack flavor list",
        "37: DENY    openstack server create --flavor $FLAVOR",
        "18 openstack commands: 8 would succeed, 10 would be refused",
    ] {
        assert!(text.contains(want), "no `{want}` in\n{text}");
    }
    // the access token's value is never shown
    assert!(!text.contains("--os-access-token <"), "{text}");
    let member = case(&["--roles", "member"]);
    let text = String::from_utf8_lossy(&member.stdout).into_owned();
    assert_eq!(member.status.code(), Some(0), "{text}");
    assert!(
        text.contains("18 would succeed, 0 would be refused"),
        "{text}"
    );
    // the EGI token body itself (member, reader): the same answers; JSON lines carry line and caller
    let token = case(&[
        "--credentials",
        "seed001-egi-oidc-token.json",
        "--format",
        "json",
    ]);
    assert_eq!(token.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&token.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 18);
    assert_eq!(lines[0]["line"], 6);
    assert_eq!(
        lines[0]["caller"],
        "the token of `seed001-egi-oidc-token.json`"
    );
    assert!(lines.iter().all(|l| l["allowed"] == true));
}

/// The README's "Any OpenStack cloud" commands, run as written (from the repository root, `$E` expanded):
/// each works, with the exit status its comment promises. Then the same cloud for a reader and a member:
/// `server list`, `server create`, `container list`.
#[test]
fn readme_commands_for_any_openstack_cloud() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## Any OpenStack cloud")
        .nth(1)
        .unwrap()
        .split("```sh")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let mut commands: Vec<String> = Vec::new();
    let mut pending = String::new();
    for line in section.lines() {
        let line = line.split(" #").next().unwrap().trim_end();
        if let Some(l) = line.strip_suffix('\\') {
            pending.push_str(l);
            continue;
        }
        pending.push_str(line);
        let cmd = std::mem::take(&mut pending);
        if cmd.trim_start().starts_with("policy-sim ") {
            commands.push(cmd.replace("$E", "policies/examples/openstack"));
        }
    }
    let codes: Vec<Option<i32>> = commands
        .iter()
        .map(|c| {
            let words: Vec<&str> = c.split_whitespace().skip(1).collect();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_policy-sim"));
            for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OS_")) {
                cmd.env_remove(k);
            }
            let out = cmd.current_dir(root).args(&words).output().unwrap();
            assert!(
                out.stderr.is_empty() || out.status.code() != Some(2),
                "{c}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.status.code()
        })
        .collect();
    // reader server list, member container list (member admitted), the action, the script (its
    // `container list` refused), the lint
    assert_eq!(
        codes,
        [Some(0), Some(0), Some(0), Some(1), Some(0)],
        "{commands:#?}"
    );
    let case = |role: &str, command: &[&str]| {
        let mut args = vec!["check", "--openstack-policy"];
        args.extend(SERVICES);
        args.extend([
            "--clouds-yaml",
            "../../policies/examples/openstack/clouds.yaml",
            "--os-cloud",
            "mycloud",
            "--roles",
            role,
            "--",
        ]);
        args.extend(command);
        run(&args).status.code()
    };
    let list = ["openstack", "server", "list"];
    let containers = ["openstack", "container", "list"];
    assert_eq!(case("reader", &list), Some(0));
    assert_eq!(case("member", &list), Some(0));
    assert_eq!(case("reader", &SERVER_CREATE), Some(1));
    assert_eq!(case("member", &SERVER_CREATE), Some(0));
    assert_eq!(case("reader", &containers), Some(1));
    assert_eq!(case("member", &containers), Some(1));
    // without --openstack-policy, --roles takes every shipped service's defaults
    let mut args = vec![
        "check",
        "--clouds-yaml",
        "../../policies/examples/openstack/clouds.yaml",
        "--os-cloud",
        "mycloud",
        "--roles",
        "reader",
        "--",
    ];
    args.extend(SERVER_CREATE);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("refused by `os_compute_api:servers:create`")
    );
}

/// A script line no loaded rule guards is unknown (exit 2, counted apart); a script without a caller is bad
/// input.
#[test]
fn script_lines_without_a_rule_are_unknown_and_a_caller_is_required() {
    let script = "../../policies/examples/openstack/deploy.sh";
    let out = run(&[
        "check",
        "--openstack-policy",
        "nova",
        "--credentials",
        "seed003-member-token.json",
        "--script",
        script,
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("6: UNKNOWN openstack image list"), "{text}");
    assert!(text.contains("--openstack-policy glance"), "{text}");
    assert!(
        text.contains("1 would succeed, 1 would be refused, 3 unknown (no loaded rule)"),
        "{text}"
    );
    let out = run(&["check", "--openstack-policy", "nova", "--script", script]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--roles reader,member"));
}

/// Each service keeps its own rules: keystone's `owner` (`user_id:%(user_id)s`) must not replace neutron's
/// (`project_id:%(project_id)s`) when both are loaded. Neutron's deprecated `rule:admin_or_owner`, OR-ed in with
/// --no-enforce-new-defaults, refuses a member a floating IP of another project, even one the same user made.
/// (Seen failing with one merged rule set: ALLOW, decided by keystone's `user_id:%(user_id)s`.)
#[test]
fn services_keep_their_own_rules_when_several_are_loaded() {
    for specs in [
        &["neutron"][..],
        &["neutron", "keystone"],
        &["keystone", "neutron"],
    ] {
        let mut args = vec!["check", "--openstack-policy"];
        args.extend(specs);
        args.extend([
            "--credentials",
            "seed003-member-token.json",
            "--no-enforce-new-defaults",
            "--action",
            "delete_floatingip",
            "--target",
            "project_id=another-project",
            "--target",
            "user_id=7e6d5c4b3a2940f8a7b6c5d4e3f2a1b0",
        ]);
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{specs:?}\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // an action no loaded set defines, with several loaded: bad input, not some service's `default`
    let out = run(&[
        "check",
        "--openstack-policy",
        "nova",
        "glance",
        "--credentials",
        "seed003-member-token.json",
        "--action",
        "myservice:thing:list",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the loaded sets (nova, glance)"));
}
