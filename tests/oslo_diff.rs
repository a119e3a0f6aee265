//! Differential test: policy-sim's oslo.policy engine against oslo.policy itself.
//!
//! Thousands of random policy files, registered defaults, tokens and targets (deterministic seed), plus the
//! shipped defaults of every service for project-, domain- and system-scoped tokens of the usual roles, are
//! answered by `tests/oslo_oracle.py` running the real library and by `policy_sim::oslo`; any disagreement
//! fails with the case printed. The oracle runs with the Python of `target/oslo-venv` (made by `.ci/run`;
//! `OSLO_PYTHON` overrides). Without it the test is skipped with a message, unless `CI` is set: then it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use policy_sim::oslo::{creds, defaults, file, Enforcer, Options, RuleDefault};
use serde_json::{json, Map, Value};

/// splitmix64: a small deterministic generator, so that a failing case is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "default",
    "svc:thing:list",
    "svc:thing:create",
    "Svc:Thing:List",
];
const ROLES: &[&str] = &[
    "admin",
    "reader",
    "member",
    "Reader",
    "ADMIN",
    "SwiftOperator",
    "observer",
];
const LEAVES: &[&str] = &[
    "@",
    "!",
    "role:%(role)s",
    "project_id:%(project_id)s",
    "user_id:%(user_id)s",
    "domain_id:%(domain_id)s",
    "project_id:%(missing)s",
    "'p1':%(project_id)s",
    "\"p2\":%(project_id)s",
    "True:%(enabled)s",
    "False:%(enabled)s",
    "None:%(enabled)s",
    "1:%(count)s",
    "-0:%(count)s",
    "roles:admin",
    "roles:Admin",
    "user.name:alice",
    "user.domain.id:default",
    "project.domain.id:%(domain_id)s",
    "token.x:y",
    "system_scope:all",
    "system:all",
    "is_admin:False",
    "is_admin:True",
    "is_admin_project:True",
    "user_id:u1",
    "methods:password",
    "project.tags:blue",
    "foo",
    "'quoted'",
    "%(project_id)s:p1",
    "project_id:50%%",
    "user.id.x:u1",
];

fn leaf(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=2 => format!("role:{}", rng.pick(ROLES)),
        3 => format!("rule:{}", rng.pick(NAMES)),
        4 if rng.chance(30) => format!("rule:{}", rng.pick(&["undefined", "project_reader"])),
        _ => rng.pick(LEAVES).to_owned(),
    }
}

/// A rule in the policy language, mostly well formed, sometimes not.
fn expr(rng: &mut Rng, depth: usize) -> String {
    let s = if depth == 0 || rng.chance(35) {
        leaf(rng)
    } else {
        match rng.below(6) {
            0 | 1 => format!(
                "{} {} {}",
                expr(rng, depth - 1),
                rng.pick(&["and", "AND", "And"]),
                expr(rng, depth - 1)
            ),
            2 | 3 => format!(
                "{} {} {}",
                expr(rng, depth - 1),
                rng.pick(&["or", "OR"]),
                expr(rng, depth - 1)
            ),
            4 => format!("{} {}", rng.pick(&["not", "NOT"]), expr(rng, depth - 1)),
            _ => format!("({})", expr(rng, depth - 1)),
        }
    };
    if rng.chance(3) {
        // a broken rule: an unbalanced parenthesis, a trailing operator, a missing operator
        return match rng.below(4) {
            0 => format!("({s}"),
            1 => format!("{s})"),
            2 => format!("{s} and"),
            _ => format!("{s} {}", leaf(rng)),
        };
    }
    s
}

fn rule_text(rng: &mut Rng) -> String {
    match rng.below(40) {
        0 => String::new(),
        1 => " ".to_owned(),
        _ => {
            let e = expr(rng, 3);
            if rng.chance(10) {
                // spacing variants the tokenizer must handle
                e.replace(' ', "  ").replace("( ", "(")
            } else {
                e
            }
        }
    }
}

fn yaml_value(rng: &mut Rng) -> String {
    match rng.below(30) {
        0 => String::new(), // `name:` is null: oslo.policy reads it as `@`
        1 => format!(
            "[[{}, {}], [{}]]",
            q(&leaf(rng)),
            q(&leaf(rng)),
            q(&leaf(rng))
        ),
        2 => "[]".to_owned(),
        _ => q(&rule_text(rng)),
    }
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn policy_file(rng: &mut Rng) -> String {
    let mut lines = Vec::new();
    for name in NAMES {
        if rng.chance(55) {
            lines.push(format!("{}: {}", q(name), yaml_value(rng)));
        }
    }
    if rng.chance(20) {
        let mut obj = Map::new();
        for name in NAMES {
            if rng.chance(50) {
                obj.insert((*name).to_owned(), Value::String(rule_text(rng)));
            }
        }
        return Value::Object(obj).to_string();
    }
    lines.join("\n") + "\n"
}

fn defaults_for(rng: &mut Rng) -> Vec<Value> {
    let mut out = Vec::new();
    for name in NAMES {
        if !rng.chance(40) {
            continue;
        }
        let scopes: Vec<&str> = ["project", "domain", "system"]
            .into_iter()
            .filter(|_| rng.chance(40))
            .collect();
        let deprecated = if rng.chance(50) {
            let dep_name = if rng.chance(50) {
                (*name).to_owned()
            } else {
                format!("old:{name}")
            };
            let check = if rng.chance(15) {
                String::new()
            } else {
                expr(rng, 2)
            };
            json!({"name": dep_name, "check_str": check, "deprecated_since": "X"})
        } else {
            Value::Null
        };
        out.push(
            json!({"name": name, "check_str": expr(rng, 2), "scope_types": scopes,
            "operations": [], "deprecated_rule": deprecated}),
        );
    }
    out
}

fn token(rng: &mut Rng) -> Value {
    let roles: Vec<Value> = ROLES
        .iter()
        .filter(|_| rng.chance(25))
        .map(|r| json!({"id": "r", "name": r}))
        .collect();
    let mut t = json!({
        "methods": ["password"],
        "user": {"id": rng.pick(&["u1", "u2"]), "name": rng.pick(&["alice", "bob"]),
                 "domain": {"id": rng.pick(&["default", "d1"])}},
        "roles": roles,
    });
    let scope = rng.below(4);
    if let Some(obj) = t.as_object_mut() {
        match scope {
            0 | 1 => {
                obj.insert(
                    "project".into(),
                    json!({"id": rng.pick(&["p1", "p2"]), "name": "demo",
                    "domain": {"id": rng.pick(&["default", "d1"])}, "tags": ["blue", "red"]}),
                );
            }
            2 => {
                obj.insert(
                    "domain".into(),
                    json!({"id": rng.pick(&["default", "d1"]), "name": "Default"}),
                );
            }
            _ => {
                obj.insert("system".into(), json!({"all": true}));
            }
        }
        if rng.chance(20) {
            obj.insert("is_admin_project".into(), Value::Bool(rng.chance(50)));
        }
    }
    json!({ "token": t })
}

fn target(rng: &mut Rng) -> Value {
    if rng.chance(40) {
        return Value::Null;
    }
    let mut m = Map::new();
    let keys: &[(&str, &[&str])] = &[
        ("project_id", &["p1", "p2", "50%"]),
        ("user_id", &["u1", "u2"]),
        ("domain_id", &["default", "d1"]),
        ("role", &["admin", "Reader", "member"]),
        ("enabled", &["True", "False", "None", "true"]),
        ("count", &["0", "1"]),
    ];
    for (k, values) in keys {
        if rng.chance(60) {
            m.insert((*k).to_owned(), Value::String(rng.pick(values).to_owned()));
        }
    }
    Value::Object(m)
}

fn random_cases(n: usize) -> Vec<Value> {
    let mut rng = Rng(0x0518_2026);
    let mut cases = Vec::with_capacity(n);
    while cases.len() < n {
        let files: Vec<String> = (0..rng.below(3)).map(|_| policy_file(&mut rng)).collect();
        let defaults = defaults_for(&mut rng);
        let end = rng.chance(50);
        // several questions per policy set, as a service asks many
        for _ in 0..8 {
            let rule = if rng.chance(90) {
                rng.pick(NAMES).to_owned()
            } else {
                "unknown:rule".to_owned()
            };
            cases.push(json!({"id": cases.len(), "files": files, "defaults": defaults,
                "enforce_new_defaults": end, "token": token(&mut rng), "target": target(&mut rng), "rule": rule}));
        }
    }
    cases
}

/// The shipped defaults of every service, every rule, for the usual tokens, with and without the new defaults.
fn shipped_cases() -> Vec<Value> {
    let roles: &[&[&str]] = &[
        &["reader"],
        &["member", "reader"],
        &["admin", "member", "reader"],
        &["manager", "member", "reader"],
    ];
    let mut tokens = Vec::new();
    for r in roles {
        let rs: Vec<Value> = r.iter().map(|n| json!({"id": n, "name": n})).collect();
        let user = json!({"id": "u1", "name": "alice", "domain": {"id": "default"}});
        tokens.push(json!({"token": {"user": user, "roles": rs, "project": {"id": "p1", "domain": {"id": "default"}}}}));
        tokens.push(json!({"token": {"user": user, "roles": rs, "domain": {"id": "default", "name": "Default"}}}));
        tokens.push(json!({"token": {"user": user, "roles": rs, "system": {"all": true}}}));
    }
    let targets = [
        Value::Null,
        json!({"project_id": "p2", "user_id": "u2", "domain_id": "d1"}),
        json!({"project_id": "p1", "user_id": "u1", "domain_id": "default", "target.project.domain_id": "default"}),
    ];
    let mut cases = Vec::new();
    for service in defaults::SERVICES {
        let rules: Vec<RuleDefault> = defaults::service(service)
            .ok()
            .flatten()
            .map(|s| s.rules)
            .unwrap_or_default();
        for end in [true, false] {
            // with enforce_new_defaults off, only the rules that deprecate another answer differently
            for name in rules
                .iter()
                .filter(|r| end || r.deprecated_rule.is_some())
                .map(|r| &r.name)
            {
                for t in &tokens {
                    for target in &targets {
                        cases.push(json!({"id": cases.len(), "defaults": [service], "enforce_new_defaults": end,
                            "token": t, "target": target, "rule": name}));
                    }
                }
            }
        }
    }
    cases
}

/// policy-sim's answer: `Ok(allowed)` or `Err(message)` where oslo.policy would raise. The enforcer is
/// rebuilt only when the files, defaults or options change (as the oracle does).
fn ours(case: &Value, cache: &mut Option<(String, Enforcer)>) -> Result<bool, String> {
    let key = json!([
        case["files"],
        case["defaults"],
        case["enforce_new_defaults"]
    ])
    .to_string();
    if cache.as_ref().is_none_or(|(k, _)| *k != key) {
        *cache = Some((key, enforcer(case)?));
    }
    let Some((_, enforcer)) = cache.as_ref() else {
        return Err("no enforcer".into());
    };
    let creds = creds::from_token(&case["token"])?;
    let target = match &case["target"] {
        Value::Object(m) => m.clone(),
        _ => creds::default_target(&creds),
    };
    let rule = case["rule"].as_str().unwrap_or_default();
    enforcer
        .enforce(rule, &target, &creds)
        .map(|d| d.allowed)
        .map_err(|e| e.to_string())
}

fn enforcer(case: &Value) -> Result<Enforcer, String> {
    let mut registered: Vec<RuleDefault> = Vec::new();
    for d in case["defaults"].as_array().into_iter().flatten() {
        match d {
            Value::String(s) => registered.extend(
                defaults::service(s)
                    .ok()
                    .flatten()
                    .map(|s| s.rules)
                    .unwrap_or_default(),
            ),
            other => {
                registered.push(serde_json::from_value(other.clone()).map_err(|e| e.to_string())?)
            }
        }
    }
    let mut files = Vec::new();
    for (i, text) in case["files"].as_array().into_iter().flatten().enumerate() {
        files.push(
            file::read(&format!("file{i}"), text.as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?,
        );
    }
    let options = Options {
        enforce_new_defaults: case["enforce_new_defaults"].as_bool().unwrap_or(true),
    };
    Ok(Enforcer::new(registered, &files, options))
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OSLO_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/oslo-venv/bin/python");
    p.exists().then_some(p)
}

/// Ask the oracle every case in one process; its answers, in order.
fn oracle(python: &PathBuf, cases: &[Value]) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oslo_oracle.py");
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = cases.iter().map(|c| c.to_string() + "\n").collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().expect("stdout");
    let answers: Vec<Value> = BufReader::new(stdout)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("oracle output")).expect("oracle JSON"))
        .collect();
    writer
        .join()
        .expect("writer thread")
        .expect("write to the oracle");
    let status = child.wait().expect("oracle exit");
    assert!(status.success(), "the oracle failed: {status}");
    assert_eq!(
        answers.len(),
        cases.len(),
        "the oracle answered {} of {} cases",
        answers.len(),
        cases.len()
    );
    answers
}

fn compare(label: &str, cases: &[Value]) {
    let Some(py) = python() else {
        let why = "no oslo.policy venv at target/oslo-venv (run .ci/run, or set OSLO_PYTHON)";
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the differential test cannot run: {why}"
        );
        eprintln!("skipping the oslo.policy differential test ({label}): {why}");
        return;
    };
    let answers = oracle(&py, cases);
    let mut failures = Vec::new();
    let (mut allowed, mut raised) = (0, 0);
    let mut cache = None;
    for (case, theirs) in cases.iter().zip(&answers) {
        let mine = ours(case, &mut cache);
        let agree = match (&mine, theirs.get("result"), theirs.get("error")) {
            (Ok(a), Some(Value::Bool(b)), _) => a == b,
            (Err(_), None, Some(_)) => true,
            _ => false,
        };
        allowed += usize::from(matches!(mine, Ok(true)));
        raised += usize::from(mine.is_err());
        if !agree && failures.len() < 5 {
            failures.push(format!(
                "case {}:\n{}\npolicy-sim: {mine:?}\noslo.policy: {theirs}",
                case["id"],
                serde_json::to_string_pretty(case).unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{label}: policy-sim and oslo.policy disagree:\n\n{}",
        failures.join("\n\n")
    );
    // The cases must exercise both answers (and, for random ones, oslo.policy's exceptions).
    assert!(
        allowed > cases.len() / 20 && allowed < cases.len() * 19 / 20,
        "{label}: {allowed} of {} allowed",
        cases.len()
    );
    eprintln!(
        "{label}: {} cases agree ({allowed} allowed, {raised} raise)",
        cases.len()
    );
}

#[test]
fn random_policies_agree_with_oslo_policy() {
    let cases = random_cases(6000);
    compare("random policies", &cases);
}

#[test]
fn shipped_defaults_agree_with_oslo_policy() {
    let cases = shipped_cases();
    compare("shipped defaults", &cases);
}
