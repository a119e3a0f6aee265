//! Invariants over random policy sets (proptest): the fast path agrees with the reference evaluator; an
//! explicit deny always wins; adding an allow never removes access; policy and statement order never
//! change a decision. The universe is small on purpose so that random patterns often collide.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_sim::eval::reference;
use policy_sim::{Engine, Loaded, Reason, Request, Role, Verdict};
use proptest::prelude::*;
use serde_json::{json, Value};

const USERS: [&str; 3] = [
    "urn:v1:eu:identity:user:xx1111-ovh/u0",
    "urn:v1:eu:identity:user:xx1111-ovh/u1",
    "urn:v1:eu:identity:user:xx1111-ovh/u2",
];
const GROUP: &str = "urn:v1:eu:identity:group:xx1111-ovh/ops";
const RESOURCES: [&str; 2] = [
    "urn:v1:eu:resource:publicCloudProject:p0",
    "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
];
const RESOURCE_PATTERNS: [&str; 6] = [
    "urn:v1:eu:resource:publicCloudProject:p0",
    "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
    "urn:v1:eu:resource:vps:*",
    "urn:v1:eu:resource:*",
    "*",
    "urn:v1:eu:resource:*:p0",
];
const ACTIONS: [&str; 8] = [
    "vps:apiovh:reboot",
    "vps:apiovh:ips/edit",
    "vps:apiovh:get",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "publicCloudProject:openstack:infrastructureSupervisor",
    "objectstore_all",
    "compute_read",
];
const ACTION_PATTERNS: [&str; 12] = [
    "vps:apiovh:reboot",
    "vps:apiovh:*",
    "*get",
    "*",
    "publicCloudProject:openstack:*",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "publicCloudProject:openstack:infrastructureSupervisor",
    "vps:*:reboot",
    "*:openstack:*",
    "compute_read",
    "*Operator",
];

fn actions(idx: &[usize]) -> Value {
    Value::Array(
        idx.iter()
            .map(|&i| json!({"action": ACTION_PATTERNS[i % ACTION_PATTERNS.len()]}))
            .collect(),
    )
}

#[derive(Debug, Clone)]
struct P {
    ids: Vec<usize>,
    res: Vec<usize>,
    allow: Vec<usize>,
    except: Vec<usize>,
    deny: Vec<usize>,
    cond: bool,
    expired: Option<bool>,
    readonly_group: bool,
}

fn policy_strategy() -> impl Strategy<Value = P> {
    (
        prop::collection::vec(0..4usize, 1..3),
        prop::collection::vec(0..RESOURCE_PATTERNS.len(), 1..3),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..4),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..2),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 0..2),
        any::<bool>(),
        prop::option::of(any::<bool>()),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(ids, res, allow, except, deny, cond, expired, readonly_group)| P {
                ids,
                res,
                allow,
                except,
                deny,
                cond,
                expired,
                readonly_group,
            },
        )
}

fn to_json(i: usize, p: &P) -> Value {
    let ids: Vec<&str> = p
        .ids
        .iter()
        .map(|&k| if k == 3 { GROUP } else { USERS[k] })
        .collect();
    let res: Vec<Value> = p
        .res
        .iter()
        .map(|&k| json!({"urn": RESOURCE_PATTERNS[k]}))
        .collect();
    let mut v = json!({
        "name": format!("p{i}"),
        "identities": ids,
        "resources": res,
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
    if p.readonly_group {
        v["permissionsGroups"] = json!([{"urn": "urn:v1:eu:permissionsGroup:ovh:globalReadOnly"}]);
    }
    v
}

fn engine(policies: &[Value]) -> Engine {
    let mut loaded = Loaded::new();
    loaded.add_text(
        "policies.json",
        Value::Array(policies.to_vec()).to_string(),
        Role::Policies,
    );
    let account = json!({"account": "xx1111-ovh", "region": "eu", "users": [{"login": "u0", "group": "ops"}, {"login": "u1", "group": "dev"}]});
    loaded.add_text("account.json", account.to_string(), Role::Account);
    policy_sim::build(loaded, None).unwrap()
}

/// Every request of the universe, with and without the IP context.
fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for u in USERS {
        for a in ACTIONS {
            for r in RESOURCES {
                for ip in [None, Some("10.1.2.3"), Some("192.0.2.1")] {
                    let mut req = Request::new(Some(u), a, Some(r));
                    req.at = Some(String::from("2026-06-01T12:00:00Z"));
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

fn decisions(e: &Engine) -> Vec<policy_sim::Decision> {
    requests()
        .iter()
        .map(|r| e.decide(&e.prepare(r).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_explain_and_reference_agree(ps in prop::collection::vec(policy_strategy(), 0..6)) {
        let policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let e = engine(&policies);
        for r in requests() {
            let prepared = e.prepare(&r).unwrap();
            let fast = e.decide(&prepared);
            let explained = e.explain(&prepared);
            let (oracle, missing) = reference::decide(&e.set, &prepared);
            prop_assert_eq!(fast, oracle, "request {:?}", r);
            prop_assert_eq!(explained.decision(), fast);
            let mut got = explained.missing_context.clone();
            got.sort();
            prop_assert_eq!(got, missing);
            // The decisive entries really decide: an explicit answer names at least one, of the right kind.
            if fast.reason != Reason::ImplicitDeny {
                prop_assert!(explained.trace.iter().any(|t| t.decisive));
            }
        }
    }

    #[test]
    fn an_explicit_deny_always_wins(ps in prop::collection::vec(policy_strategy(), 0..5), who in 0..3usize, what in 0..ACTIONS.len(), on in 0..2usize) {
        let mut policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        policies.push(json!({"name": "deny-it", "identities": [USERS[who]], "resources": [{"urn": RESOURCES[on]}], "permissions": {"deny": [{"action": "*"}]}}));
        let e = engine(&policies);
        let mut r = Request::new(Some(USERS[who]), ACTIONS[what], Some(RESOURCES[on]));
        r.at = Some(String::from("2026-06-01T12:00:00Z"));
        let d = e.decide(&e.prepare(&r).unwrap());
        prop_assert_eq!(d.decision, Verdict::Deny);
        prop_assert_eq!(d.reason, Reason::ExplicitDeny);
    }

    #[test]
    fn adding_an_allow_never_removes_access(ps in prop::collection::vec(policy_strategy(), 0..5), extra in policy_strategy()) {
        let mut policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let before = decisions(&engine(&policies));
        // An allow-only policy: no deny; its except only narrows its own allow.
        let extra = P { deny: vec![], ..extra };
        policies.push(to_json(99, &extra));
        let after = decisions(&engine(&policies));
        for (i, (b, a)) in before.iter().zip(&after).enumerate() {
            if b.allowed() {
                prop_assert!(a.allowed(), "request {:?} lost access", requests()[i]);
            }
        }
    }

    #[test]
    fn policy_order_never_matters(ps in prop::collection::vec(policy_strategy(), 1..6), seed in any::<u64>()) {
        let policies: Vec<Value> = ps.iter().enumerate().map(|(i, p)| to_json(i, p)).collect();
        let mut shuffled = policies.clone();
        // A deterministic shuffle from the seed; entries inside each policy are reversed too.
        let n = shuffled.len();
        for i in (1..n).rev() {
            shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % (i + 1));
        }
        for p in &mut shuffled {
            for k in ["allow", "except", "deny"] {
                if let Some(list) = p["permissions"][k].as_array_mut() {
                    list.reverse();
                }
            }
        }
        prop_assert_eq!(decisions(&engine(&policies)), decisions(&engine(&shuffled)));
    }
}

// ---------------------------------------------------------------- OUTSCALE EIM

const EIM_ACTIONS: [&str; 6] = [
    "api:ReadVms",
    "api:ReadVolumes",
    "api:CreateVms",
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

fn statement_strategy() -> impl Strategy<Value = (bool, bool, Vec<usize>, bool)> {
    (
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::collection::vec(0..EIM_PATTERNS.len(), 1..3),
        prop::bool::weighted(0.15),
    )
}

fn eim_doc(sts: &[(bool, bool, Vec<usize>, bool)]) -> Value {
    let statements: Vec<Value> = sts
        .iter()
        .map(|(allow, not, pats, cond)| {
            let list: Vec<&str> = pats.iter().map(|&i| EIM_PATTERNS[i]).collect();
            let mut s = json!({"Effect": if *allow { "Allow" } else { "Deny" }, "Resource": "*"});
            s[if *not { "NotAction" } else { "Action" }] = json!(list);
            if *cond {
                s["Condition"] = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
            }
            s
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn eim_decisions(doc: &Value) -> Vec<policy_sim::Decision> {
    let mut loaded = Loaded::new();
    loaded.add_text("doc.json", doc.to_string(), Role::Policies);
    let e = policy_sim::build(loaded, None).unwrap();
    EIM_ACTIONS
        .iter()
        .map(|a| {
            let p = e.prepare(&Request::new(None, a, None)).unwrap();
            let d = e.decide(&p);
            assert_eq!(
                d,
                reference::decide(&e.set, &p).0,
                "{a}: fast path and reference disagree on {doc}"
            );
            assert_eq!(d, e.explain(&p).decision());
            d
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn eim_statement_order_never_matters_and_agrees_with_reference(sts in prop::collection::vec(statement_strategy(), 1..6)) {
        let forward = eim_decisions(&eim_doc(&sts));
        let mut rev = sts.clone();
        rev.reverse();
        prop_assert_eq!(forward, eim_decisions(&eim_doc(&rev)));
    }

    #[test]
    fn eim_deny_always_wins(sts in prop::collection::vec(statement_strategy(), 0..5), what in 0..EIM_ACTIONS.len()) {
        let mut sts = sts;
        sts.push((false, false, vec![2], false)); // Deny "*"
        let d = eim_decisions(&eim_doc(&sts));
        prop_assert_eq!(d[what].reason, Reason::ExplicitDeny);
    }
}
