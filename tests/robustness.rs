//! Robustness properties (proptest), beyond the core invariants of `tests/properties.rs`:
//!
//! 1. arbitrary bytes, mutated policy files and arbitrary JSON values fed to every loader (policies,
//!    account, lint's "any") never panic: loading, validating, rendering the errors and answering requests
//!    all return;
//! 2. the trace's decisive entry really matches the request: its identity, resource and action (or deny)
//!    patterns are checked here with an independent matcher;
//! 3. a decision is the same whether the policies come as one file, one file each, or a directory;
//! 4. serialising the raw shapes of a loaded set and loading them again gives the same decisions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use policy_sim::eval::response::{Kind, Outcome, Part, Status};
use policy_sim::{Decision, Engine, Loaded, Request, Role, Verdict};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A test's case count, or `PROPTEST_CASES` when set (for a longer hunt).
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

// ---------------------------------------------------------------- 1. nothing panics

/// Words the loaders look for, so that random documents get past the first checks.
const KEYS: [&str; 30] = [
    "name",
    "identities",
    "resources",
    "urn",
    "permissions",
    "allow",
    "except",
    "deny",
    "action",
    "permissionsGroups",
    "conditions",
    "operator",
    "values",
    "expiredAt",
    "account",
    "users",
    "login",
    "group",
    "Statement",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "Condition",
    "Users",
    "UserGroups",
    "Policies",
    "PolicyName",
    "Versions",
    "Body",
];

const STRINGS: [&str; 18] = [
    "urn:v1:eu:identity:user:xx1111-ovh/u0",
    "urn:v1:eu:identity:group:xx1111-ovh/ops",
    "urn:v1:eu:identity:account:xx1111-ovh",
    "urn:v1:eu:resource:vps:*",
    "urn:v1:eu:resource:vps:v0",
    "urn:v1:eu:permissionsGroup:ovh:globalReadOnly",
    "urn:v1:eu:resourceGroup:rg0",
    "vps:apiovh:*",
    "*",
    "MATCH",
    "AND",
    "NOT",
    "request.IP.IN_RANGE",
    "Allow",
    "Deny",
    "api:Read*",
    "2026-01-01T00:00:00Z",
    "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(&STRINGS[..]).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    let key = prop_oneof![
        4 => prop::sample::select(&KEYS[..]).prop_map(String::from),
        1 => ".{0,8}",
    ];
    leaf.prop_recursive(8, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// JSON-ish text: tokens of the language glued at random, so that the parsers' error paths are taken.
fn json_ish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(
            &[
                "{",
                "}",
                "[",
                "]",
                ",",
                ":",
                "\"",
                "\\",
                "null",
                "true",
                "1e999",
                "-",
                "\u{feff}",
                "\0",
                "\n",
                " ",
                "\"name\"",
                "\"Statement\"",
                "\"urn\"",
                "\"é\"",
                "\"\\ud800\"",
            ][..]
        )
        .prop_map(String::from),
        prop::sample::select(&KEYS[..]).prop_map(|k| format!("\"{k}\"")),
        prop::sample::select(&STRINGS[..]).prop_map(|s| format!("{s:?}")),
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

/// A valid policy text with random byte edits.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let base = serde_json::to_vec_pretty(&json!([{
        "name": "p0",
        "identities": ["urn:v1:eu:identity:group:xx1111-ovh/ops"],
        "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
        "permissions": {"allow": [{"action": "vps:apiovh:*"}], "except": [{"action": "vps:apiovh:delete"}]},
        "conditions": {"operator": "MATCH", "values": {"request.IP.IN_RANGE": "10.0.0.0/8"}},
        "expiredAt": "2030-01-01T00:00:00Z"
    }, {"Statement": [{"Effect": "Deny", "Action": "api:Delete*", "Resource": "*"}]}]))
    .unwrap();
    prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..8).prop_map(
        move |edits| {
            let mut bytes = base.clone();
            for (at, kind, byte) in edits {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i.min(bytes.len()), byte),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            bytes
        },
    )
}

const COMPANION: &str = r#"{"name": "companion", "identities": ["urn:v1:eu:identity:group:xx1111-ovh/ops"],
  "resources": [{"urn": "urn:v1:eu:resource:vps:*"}], "permissions": {"allow": [{"action": "vps:apiovh:*"}]}}"#;

/// Load bytes in every role; whatever happens, it must be a value, and an error must render. Bytes that
/// are not one JSON text are refused in every role: nothing is read from a text in part.
fn load_everywhere(bytes: &[u8]) {
    let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    for role in [Role::Policies, Role::Account, Role::Any] {
        let mut loaded = Loaded::new();
        if role == Role::Account {
            loaded.add_text("companion.json", COMPANION.to_owned(), Role::Policies);
        }
        loaded.add_bytes("input.json", bytes.to_vec(), role);
        match policy_sim::build(loaded, None) {
            Err(e) => {
                let text = e.to_string();
                assert!(!text.is_empty());
                for d in e.diagnostics() {
                    assert!(!d.message.is_empty());
                }
            }
            Ok(engine) => {
                assert!(
                    is_json,
                    "not JSON, yet loaded as {role:?}: {}",
                    String::from_utf8_lossy(bytes)
                );
                for req in [
                    Request::new(
                        Some("urn:v1:eu:identity:user:xx1111-ovh/u0"),
                        "vps:apiovh:reboot",
                        Some("urn:v1:eu:resource:vps:v0"),
                    ),
                    Request::new(None, "api:ReadVms", None),
                    Request::new(Some("root"), "api:DeleteVms", None),
                ] {
                    if let Ok(p) = engine.prepare(&req) {
                        let d = engine.decide(&p);
                        assert_eq!(d, engine.explain(&p).decision());
                    }
                }
            }
        }
    }
}

// Each case builds three engines (each validating the shipped permission groups): the counts are kept
// modest so that `cargo test` stays quick; PROPTEST_CASES raises them all for a longer hunt.
proptest! {
    #![proptest_config(ProptestConfig { cases: cases(96), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load_everywhere(&bytes);
    }

    #[test]
    fn json_ish_text_never_panics(text in json_ish()) {
        load_everywhere(text.as_bytes());
    }

    #[test]
    fn mutated_policy_files_never_panic(bytes in mutated()) {
        load_everywhere(&bytes);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_values_never_panic(v in json_value()) {
        load_everywhere(v.to_string().as_bytes());
        load_everywhere(serde_json::to_string_pretty(&v).unwrap().as_bytes());
        // The same value as an EIM document embedded in a string, the way the API returns it.
        let wrapped = json!({"PolicyVersion": {"VersionId": "v1", "Body": v.to_string()}});
        load_everywhere(wrapped.to_string().as_bytes());
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(16), ..ProptestConfig::default() })]

    #[test]
    fn deep_nesting_never_overflows(depth in 0usize..3000, object in any::<bool>()) {
        let (open, close) = if object { ("{\"a\":", "}") } else { ("[", "]") };
        let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        load_everywhere(text.as_bytes());
        // Unclosed: the parser meets the end of the text deep inside.
        load_everywhere(open.repeat(depth).as_bytes());
    }
}

// ---------------------------------------------------------------- random policy sets

const USERS: [&str; 3] = [
    "urn:v1:eu:identity:user:xx1111-ovh/u0",
    "urn:v1:eu:identity:user:xx1111-ovh/u1",
    "urn:v1:eu:identity:credential:xx1111-ovh/oauth2-c0",
];
/// u0 is in ops (from the account file); u1 is in dev.
const GROUPS: [(&str, &str); 2] = [
    (
        "urn:v1:eu:identity:user:xx1111-ovh/u0",
        "urn:v1:eu:identity:group:xx1111-ovh/ops",
    ),
    (
        "urn:v1:eu:identity:user:xx1111-ovh/u1",
        "urn:v1:eu:identity:group:xx1111-ovh/dev",
    ),
];
const IDENTITY_PATTERNS: [&str; 5] = [
    "urn:v1:eu:identity:user:xx1111-ovh/u0",
    "urn:v1:eu:identity:user:xx1111-ovh/u1",
    "urn:v1:eu:identity:credential:xx1111-ovh/oauth2-c0",
    "urn:v1:eu:identity:group:xx1111-ovh/ops",
    "urn:v1:eu:identity:group:xx1111-ovh/dev",
];
const RESOURCES: [&str; 3] = [
    "urn:v1:eu:resource:publicCloudProject:p0",
    "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
    "urn:v1:eu:resource:vps:vps-2.vps.ovh.net",
];
const RESOURCE_PATTERNS: [&str; 7] = [
    "urn:v1:eu:resource:publicCloudProject:p0",
    "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
    "urn:v1:eu:resource:vps:*",
    "urn:v1:eu:resource:*",
    "*",
    "urn:v1:eu:resource:*:p0",
    "*vps.ovh.net",
];
const ACTIONS: [&str; 7] = [
    "vps:apiovh:reboot",
    "vps:apiovh:ips/edit",
    "vps:apiovh:get",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "objectstore_all",
    "compute_read",
];
const ACTION_PATTERNS: [&str; 11] = [
    "vps:apiovh:reboot",
    "vps:apiovh:*",
    "*get",
    "*",
    "publicCloudProject:openstack:*",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "vps:*:reboot",
    "*:openstack:*",
    "compute_read",
    "*Operator",
];
const AT: &str = "2026-06-01T12:00:00Z";

#[derive(Debug, Clone)]
struct P {
    ids: Vec<usize>,
    res: Vec<usize>,
    allow: Vec<usize>,
    except: Vec<usize>,
    deny: Vec<usize>,
    cond: bool,
    expired: Option<bool>,
    group: bool,
}

fn policy() -> impl Strategy<Value = P> {
    (
        prop::collection::vec(0..IDENTITY_PATTERNS.len(), 1..3),
        prop::collection::vec(0..RESOURCE_PATTERNS.len(), 1..3),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..4),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..2),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..2),
        prop::bool::weighted(0.25),
        prop::option::weighted(0.3, any::<bool>()),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(ids, res, allow, except, deny, cond, expired, group)| P {
            ids,
            res,
            allow,
            except,
            deny,
            cond,
            expired,
            group,
        })
}

fn actions(idx: &[usize]) -> Value {
    idx.iter()
        .map(|&i| json!({"action": ACTION_PATTERNS[i]}))
        .collect()
}

fn to_json(i: usize, p: &P) -> Value {
    let mut v = json!({
        "name": format!("p{i}"),
        "identities": p.ids.iter().map(|&k| IDENTITY_PATTERNS[k]).collect::<Vec<_>>(),
        "resources": p.res.iter().map(|&k| json!({"urn": RESOURCE_PATTERNS[k]})).collect::<Vec<_>>(),
        "permissions": {"allow": actions(&p.allow), "except": actions(&p.except), "deny": actions(&p.deny)},
    });
    if p.cond {
        v["conditions"] =
            json!({"operator": "MATCH", "values": {"request.IP.IN_RANGE": "10.0.0.0/8"}});
    }
    if let Some(past) = p.expired {
        v["expiredAt"] = json!(if past {
            "2020-01-01T00:00:00Z"
        } else {
            "2030-01-01T00:00:00Z"
        });
    }
    if p.group {
        v["permissionsGroups"] = json!([{"urn": "urn:v1:eu:permissionsGroup:ovh:globalReadOnly"}]);
    }
    v
}

fn account() -> Value {
    json!({"account": "xx1111-ovh", "region": "eu",
           "users": [{"login": "u0", "group": "ops"}, {"login": "u1", "group": "dev"}]})
}

fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for u in USERS {
        for a in ACTIONS {
            for r in RESOURCES {
                for ip in [None, Some("10.1.2.3")] {
                    let mut req = Request::new(Some(u), a, Some(r));
                    req.at = Some(AT.to_owned());
                    if let Some(ip) = ip {
                        req.context
                            .insert(String::from("request.IP"), ip.to_owned());
                    }
                    out.push(req);
                }
            }
        }
    }
    out
}

fn decisions(e: &Engine) -> Vec<Decision> {
    requests()
        .iter()
        .map(|r| e.decide(&e.prepare(r).unwrap()))
        .collect()
}

fn with_account(mut loaded: Loaded) -> Engine {
    loaded.add_text("account.json", account().to_string(), Role::Account);
    policy_sim::build(loaded, None).unwrap()
}

// ---------------------------------------------------------------- 2. the decisive entry matches

/// `*` matches any run of characters (and `?` one character when `question`); an independent matcher.
fn glob(pattern: &str, s: &str, question: bool, fold: bool) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = if fold {
        (
            pattern.to_lowercase().chars().collect(),
            s.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), s.chars().collect())
    };
    // dp[j]: p[..i] matches s[..j].
    let mut dp = vec![false; s.len() + 1];
    dp[0] = true;
    for &pc in &p {
        let mut next = vec![false; s.len() + 1];
        if pc == '*' {
            let mut any = false;
            for j in 0..=s.len() {
                any |= dp[j];
                next[j] = any;
            }
        } else {
            for j in 1..=s.len() {
                next[j] = dp[j - 1] && (pc == s[j - 1] || (question && pc == '?'));
            }
        }
        dp = next;
    }
    dp[s.len()]
}

/// OVHcloud: a documented `*` (leading/trailing for actions, trailing for resources) is a wildcard
/// everywhere; an undocumented one is literal in an allow and a wildcard in a deny (README, safe reading).
fn ovh_action_matches(pattern: &str, action: &str, grant: bool) -> bool {
    let inner = pattern.trim_start_matches('*').trim_end_matches('*');
    if grant && inner.contains('*') {
        pattern == action
    } else {
        glob(pattern, action, false, false)
    }
}

fn ovh_resource_matches(pattern: &str, resource: &str, grant: bool) -> bool {
    let body = pattern.strip_suffix('*').unwrap_or(pattern);
    if grant && (body.contains('*') || body.is_empty()) {
        pattern == resource
    } else {
        glob(pattern, resource, false, false)
    }
}

fn pattern_of(entry: &policy_sim::eval::response::Entry, part: Part) -> Option<(Status, String)> {
    entry
        .checks
        .iter()
        .find(|c| c.part == part)
        .map(|c| (c.status, c.pattern.clone().unwrap_or_default()))
}

fn check_decisive_ovh(e: &Engine, req: &Request) -> Result<(), TestCaseError> {
    let p = e.prepare(req).unwrap();
    let resp = e.explain(&p);
    let identity = req.identity.as_deref().unwrap();
    let resource = req.resource.as_deref().unwrap();
    let decisive: Vec<_> = resp.trace.iter().filter(|t| t.decisive).collect();
    if resp.reason != policy_sim::Reason::ImplicitDeny {
        prop_assert!(
            !decisive.is_empty(),
            "{req:?}: an explicit answer with no decisive entry"
        );
    }
    for t in decisive {
        if t.kind != Kind::Policy {
            continue;
        }
        let allows = t.outcome == Outcome::Allows;
        prop_assert!(
            (resp.decision == Verdict::Allow) == allows,
            "{req:?}: decisive entry {t:?} disagrees with {:?}",
            resp.decision
        );
        // The action evaluated is the request's, or a role whose matrix row carries the permission asked.
        match &t.role {
            None => prop_assert_eq!(&t.action, &req.action),
            Some(row) => {
                prop_assert_eq!(&row.role, &t.action);
                prop_assert!(row.row.contains(&req.action), "{req:?}: row {row:?}");
            }
        }
        // Identity: the request's own URN, or the group the account file puts it in.
        let (status, pattern) = pattern_of(t, Part::Identity).expect("an identity check");
        if allows || status == Status::Pass {
            prop_assert_eq!(status, Status::Pass);
            let group = GROUPS.iter().find(|(u, _)| *u == identity).map(|(_, g)| *g);
            prop_assert!(
                pattern == identity || Some(pattern.as_str()) == group,
                "{req:?}: identity pattern `{pattern}`"
            );
        }
        if let Some((status, _)) = pattern_of(t, Part::Expiry) {
            prop_assert_eq!(status, Status::Pass);
        }
        let (status, pattern) = pattern_of(t, Part::Resource).expect("a resource check");
        prop_assert_eq!(status, Status::Pass);
        prop_assert!(
            ovh_resource_matches(&pattern, resource, allows),
            "{req:?}: resource pattern `{pattern}` does not match"
        );
        if allows {
            let (status, pattern) = pattern_of(t, Part::Action)
                .or_else(|| pattern_of(t, Part::Group))
                .expect("an allow check");
            prop_assert_eq!(status, Status::Pass);
            prop_assert!(
                ovh_action_matches(&pattern, &t.action, true),
                "{req:?}: allow pattern `{pattern}` does not match `{}`",
                t.action
            );
            if let Some((status, _)) = pattern_of(t, Part::Condition) {
                prop_assert_eq!(status, Status::Pass);
            }
        } else {
            let (status, pattern) = pattern_of(t, Part::Deny).expect("a deny check");
            prop_assert_eq!(status, Status::Pass);
            prop_assert!(
                ovh_action_matches(&pattern, &t.action, false),
                "{req:?}: deny pattern `{pattern}` does not match `{}`",
                t.action
            );
            if let Some((status, _)) = pattern_of(t, Part::Condition) {
                prop_assert!(status == Status::Pass || status == Status::Unknown);
            }
        }
    }
    Ok(())
}

const EIM_ACTIONS: [&str; 5] = [
    "api:ReadVms",
    "api:ReadVolumes",
    "api:DeleteVms",
    "ec2:DescribeInstances",
    "ec2:TerminateInstances",
];
const EIM_PATTERNS: [&str; 9] = [
    "api:Read*",
    "api:ReadVms",
    "*",
    "api:*",
    "*:Describe*",
    "ec2:*",
    "api:DELETEVMS",
    "api:ReadVm?",
    "*Vms",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    #[test]
    fn the_decisive_entry_matches_the_request(ps in prop::collection::vec(policy(), 1..6)) {
        let policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let mut loaded = Loaded::new();
        loaded.add_text("policies.json", Value::Array(policies).to_string(), Role::Policies);
        let e = with_account(loaded);
        for r in requests() {
            check_decisive_ovh(&e, &r)?;
        }
    }

    #[test]
    fn the_decisive_eim_statement_matches_the_action(
        sts in prop::collection::vec((any::<bool>(), prop::collection::vec(0..EIM_PATTERNS.len(), 1..3)), 1..6)
    ) {
        let statements: Vec<Value> = sts
            .iter()
            .map(|(allow, pats)| json!({
                "Effect": if *allow { "Allow" } else { "Deny" },
                "Action": pats.iter().map(|&i| EIM_PATTERNS[i]).collect::<Vec<_>>(),
                "Resource": "*",
            }))
            .collect();
        let mut loaded = Loaded::new();
        loaded.add_text("doc.json", json!({"Statement": statements}).to_string(), Role::Policies);
        let e = policy_sim::build(loaded, None).unwrap();
        for a in EIM_ACTIONS {
            let resp = e.explain(&e.prepare(&Request::new(None, a, None)).unwrap());
            for t in resp.trace.iter().filter(|t| t.decisive && t.kind == Kind::Statement) {
                let allow = t.outcome == Outcome::Allows;
                prop_assert_eq!(allow, resp.decision == Verdict::Allow);
                prop_assert_eq!(&t.action, a);
                let (status, pattern) = pattern_of(t, Part::Action).expect("an action check");
                prop_assert_eq!(status, Status::Pass);
                // An Allow reads `?` literally and case-sensitively; a Deny as a wildcard, ignoring case.
                prop_assert!(
                    glob(&pattern, a, !allow, !allow),
                    "`{}` does not match `{}` in a decisive {}", pattern, a, if allow { "Allow" } else { "Deny" }
                );
            }
        }
    }
}

// ---------------------------------------------------------------- 3. one file, many files, a directory

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A fresh temporary directory.
fn temp_dir() -> PathBuf {
    let n = DIRS.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("policy-sim-robustness-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn one_file_many_files_or_a_directory_decide_alike(ps in prop::collection::vec(policy(), 1..6), split in 1usize..4) {
        let policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let dir = temp_dir();
        // One file holding the array.
        let one = dir.join("one.json");
        std::fs::write(&one, serde_json::to_string_pretty(&policies).unwrap()).unwrap();
        let mut loaded = Loaded::new();
        loaded.add_path(&one.display().to_string(), Role::Policies);
        let single = decisions(&with_account(loaded));
        // Many files: a single object or an array of a few, in a sub-directory, passed one by one.
        let many = dir.join("many");
        std::fs::create_dir_all(many.join("nested")).unwrap();
        let mut paths = Vec::new();
        for (i, chunk) in policies.chunks(split).enumerate() {
            let sub = if i % 2 == 0 { many.clone() } else { many.join("nested") };
            let path = sub.join(format!("part-{i}.json"));
            let text = match chunk {
                [only] => only.to_string(),
                more => Value::Array(more.to_vec()).to_string(),
            };
            std::fs::write(&path, text).unwrap();
            paths.push(path.display().to_string());
        }
        let mut loaded = Loaded::new();
        for p in paths.iter().rev() {
            loaded.add_path(p, Role::Policies);
        }
        prop_assert_eq!(&single, &decisions(&with_account(loaded)), "files one by one");
        // The directory.
        let mut loaded = Loaded::new();
        loaded.add_path(&many.display().to_string(), Role::Policies);
        prop_assert_eq!(&single, &decisions(&with_account(loaded)), "the directory");
        // A glob.
        let mut loaded = Loaded::new();
        loaded.add_path(&format!("{}/many/**/part-*.json", dir.display()), Role::Policies);
        prop_assert_eq!(&single, &decisions(&with_account(loaded)), "globs");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

// ---------------------------------------------------------------- 4. serialise and load again

/// The raw shapes of a loaded set, written back as files.
fn serialised(loaded: &Loaded) -> Vec<(String, String, Role)> {
    let mut out = Vec::new();
    let ovh: Vec<policy_sim::load::raw::OvhObject> = loaded
        .ovh
        .iter()
        .map(|item| policy_sim::load::read_ovh_item(&loaded.sources, item).unwrap())
        .collect();
    out.push((
        String::from("ovh.json"),
        serde_json::to_string(&ovh).unwrap(),
        Role::Policies,
    ));
    for (i, (doc, _, name)) in loaded.eim_documents.iter().enumerate() {
        out.push((
            format!("{name}-{i}.json"),
            serde_json::to_string(doc).unwrap(),
            Role::Policies,
        ));
    }
    for (i, (a, _)) in loaded.ovh_accounts.iter().enumerate() {
        out.push((
            format!("ovh-account-{i}.json"),
            serde_json::to_string(a).unwrap(),
            Role::Account,
        ));
    }
    for (i, (a, _)) in loaded.eim_accounts.iter().enumerate() {
        out.push((
            format!("eim-account-{i}.json"),
            serde_json::to_string_pretty(a).unwrap(),
            Role::Account,
        ));
    }
    out
}

fn eim_account(sts: &[(bool, Vec<usize>)], inline_object: bool) -> Value {
    let statements: Vec<Value> = sts
        .iter()
        .map(|(allow, pats)| {
            json!({
                "Effect": if *allow { "Allow" } else { "Deny" },
                "Action": pats.iter().map(|&i| EIM_PATTERNS[i]).collect::<Vec<_>>(),
                "Resource": ["*"],
            })
        })
        .collect();
    let (first, rest) = statements.split_at(statements.len() / 2);
    let doc = |s: &[Value]| json!({"Version": "2012-10-17", "Statement": s});
    let inline = if inline_object {
        doc(rest)
    } else {
        Value::from(doc(rest).to_string())
    };
    json!({
        "AccountId": "123456789012",
        "Users": [{"UserName": "u0", "UserGroups": ["g"], "InlinePolicies": [{"PolicyName": "own", "PolicyDocument": inline}]},
                  {"UserName": "u1"}],
        "UserGroups": [{"UserGroupName": "g", "LinkedPolicies": [{"PolicyName": "shared"}]}],
        "Policies": [{"PolicyName": "shared", "PolicyDefaultVersionId": "v2",
                      "Versions": [{"VersionId": "v1", "Body": doc(&[]).to_string()},
                                   {"VersionId": "v2", "DefaultVersion": true, "Body": doc(first).to_string()}]}]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn serialising_a_loaded_set_and_loading_it_again_decides_alike(
        ps in prop::collection::vec(policy(), 1..6),
        sts in prop::collection::vec((any::<bool>(), prop::collection::vec(0..EIM_PATTERNS.len(), 1..3)), 2..6),
        inline_object in any::<bool>(),
    ) {
        let policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let doc = json!({"Version": "2012-10-17", "Statement": sts.iter().map(|(a, p)| json!({
            "Sid": "s", "Effect": if *a { "Allow" } else { "Deny" },
            "Action": p.iter().map(|&i| EIM_PATTERNS[i]).collect::<Vec<_>>(), "Resource": "*"})).collect::<Vec<_>>()});
        let load = |files: &[(String, String, Role)]| {
            let mut loaded = Loaded::new();
            for (name, text, role) in files {
                loaded.add_text(name, text.clone(), *role);
            }
            loaded
        };
        let original = vec![
            (String::from("policies.json"), Value::Array(policies).to_string(), Role::Policies),
            (String::from("doc.json"), doc.to_string(), Role::Policies),
            (String::from("ovh-account.json"), account().to_string(), Role::Account),
            (String::from("eim-account.json"), eim_account(&sts, inline_object).to_string(), Role::Account),
        ];
        let first = load(&original);
        prop_assert!(first.problems.is_empty(), "{:?}", first.problems);
        let again = serialised(&first);
        let a = policy_sim::build(first, None).unwrap();
        let b = policy_sim::build(load(&again), None).unwrap();
        prop_assert_eq!(decisions(&a), decisions(&b));
        for u in [None, Some("u0"), Some("u1"), Some("root")] {
            for act in EIM_ACTIONS {
                let r = Request::new(u, act, None);
                let (pa, pb) = (a.prepare(&r).unwrap(), b.prepare(&r).unwrap());
                prop_assert_eq!(a.decide(&pa), b.decide(&pb), "{:?}", r);
            }
        }
    }
}

// ---------------------------------------------------------------- 6. large files: every problem, in order

/// A file large enough to be checked on several threads (validate splits 4,096 objects and more) reports
/// the same problems, in the same order, as the objects read one by one: each bad object's problems at its
/// own pointer, in file order, and a group a policy names before its definition is still found.
#[test]
fn large_files_report_every_problem_in_file_order() {
    let n = 9_000;
    let bad: [usize; 6] = [3, 2_000, 4_499, 4_500, 6_001, 8_999];
    let mut items = Vec::new();
    for i in 0..n {
        let mut p = json!({
            "name": format!("p{i}"),
            "identities": [format!("urn:v1:eu:identity:user:xx1-ovh/u{}", i % 97)],
            "resources": [{"urn": format!("urn:v1:eu:resource:vps:v{}", i % 31)}],
            "permissions": {"allow": [{"action": "vps:apiovh:get"}]},
            "permissionsGroups": [{"urn": "urn:v1:eu:permissionsGroup:xx1-ovh:late"}],
        });
        match bad.iter().position(|&b| b == i) {
            Some(0) | Some(3) => p["permissions"]["allow"][0]["action"] = json!("vps::get"),
            Some(1) | Some(4) => {
                p["permissionsGroups"][0]["urn"] = json!("urn:v1:eu:permissionsGroup:xx1-ovh:nope")
            }
            Some(_) => p["resources"] = json!("not a list"),
            None => {}
        }
        items.push(p);
    }
    // The group every policy names is defined last.
    items.push(json!({
        "urn": "urn:v1:eu:permissionsGroup:xx1-ovh:late",
        "name": "late",
        "permissions": {"allow": [{"action": "vps:apiovh:reboot"}]},
    }));
    let mut loaded = Loaded::new();
    loaded.add_text("big.json", Value::Array(items).to_string(), Role::Policies);
    let Err(policy_sim::Error::Load { diagnostics, .. }) = policy_sim::build(loaded, None) else {
        panic!("the bad objects were not reported");
    };
    let at: Vec<usize> = diagnostics
        .iter()
        .map(|d| {
            let pointer = &d.position.as_ref().unwrap().pointer;
            pointer.split('/').nth(1).unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(at, bad, "{diagnostics:#?}");
    assert!(
        diagnostics[1].message.contains("unknown permission group"),
        "{}",
        diagnostics[1].message
    );
    assert!(
        diagnostics[2].message.contains("invalid type"),
        "{}",
        diagnostics[2].message
    );
}

/// Every one-character deletion from a valid three-policy dump that leaves something other than JSON is
/// refused: a text the scan cannot walk to its end is never read in part (a lost `,` between two objects
/// once hid the deny after it).
#[test]
fn a_text_broken_anywhere_is_refused_whole() {
    let p = |name: &str, perms: &str| {
        format!(
            r#"{{"name":"{name}","identities":["urn:v1:eu:identity:user:xx1-ovh/a"],"resources":[{{"urn":"urn:v1:eu:resource:vps:v"}}],"permissions":{perms}}}"#
        )
    };
    let text = format!(
        "[{},{},{}]",
        p("a", r#"{"allow":[{"action":"vps:apiovh:reboot"}]}"#),
        p("b", r#"{"allow":[{"action":"vps:apiovh:get"}]}"#),
        p("d", r#"{"deny":[{"action":"*"}]}"#)
    );
    let mut refused = 0;
    for (i, _) in text.char_indices() {
        let mut broken = text.clone();
        broken.remove(i);
        if serde_json::from_str::<serde::de::IgnoredAny>(&broken).is_ok() {
            continue;
        }
        let mut loaded = Loaded::new();
        loaded.add_text("dump.json", broken.clone(), Role::Policies);
        assert!(
            policy_sim::build(loaded, None).is_err(),
            "read in part: {broken}"
        );
        refused += 1;
    }
    assert!(refused > 100, "{refused}");
}
