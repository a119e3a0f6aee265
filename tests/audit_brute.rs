//! Issue 15: the audit against brute force. Random small OVHcloud policy sets (groups with and without
//! known members, IP-range, date and week-day conditions, expiry, except, deny, wildcards, permission
//! groups); every request over a small concrete universe — including a fresh member of each group, a
//! resource no policy names, and the boundary values of every condition, chosen here independently of the
//! audit — is decided with the engine, and:
//! - what-can and who-can list an (identity, action, resource) exactly when some request allows it, as
//!   conditional access exactly when the request without context (at the evaluation time) does not;
//! - every grant's witness is allowed by `check`;
//! - `diff` reports a change exactly when some request flips, covering each flipped request.
//!
//! The concrete actions are catalogue actions: the audit's universe is the catalogue's actions and those
//! the policies name (an action neither knows is asked about with a literal `who-can --action`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use policy_sim::audit::{self, GrantGroup, Res, Scope, Universe, Who, Witness};
use policy_sim::{Engine, Loaded, Request, Role};
use proptest::prelude::*;
use serde_json::{json, Value};

const NIC: &str = "xx1111-ovh";
const G1: &str = "urn:v1:eu:identity:group:xx1111-ovh/g1";
const G2: &str = "urn:v1:eu:identity:group:xx1111-ovh/g2";
const U1: &str = "urn:v1:eu:identity:user:xx1111-ovh/u1";
const U2: &str = "urn:v1:eu:identity:user:xx1111-ovh/u2";
const SA: &str = "urn:v1:eu:identity:credential:xx1111-ovh/oauth2-0f0f0f0f0f0f0f0f";
const ROOT: &str = "urn:v1:eu:identity:account:xx1111-ovh";
/// A second account: its root, to which the first may grant on its resources, and one of its users, who
/// gets across accounts only what both the first account granted the root and the root's account passes on.
const NIC2: &str = "yy2222-ovh";
const ROOT2: &str = "urn:v1:eu:identity:account:yy2222-ovh";
const X1: &str = "urn:v1:eu:identity:user:yy2222-ovh/x1";
const FRESH1: &str = "urn:v1:eu:identity:user:xx1111-ovh/fresh-one";
const FRESH2: &str = "urn:v1:eu:identity:user:xx1111-ovh/fresh-two";
const PROJECT: &str = "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
const AT: &str = "2026-06-01T12:00:00Z"; // a Monday

/// Who the policies may name: a group with a known member (u1), a group with none, a user whose group is
/// unknown, a user of g1, a service account, the account's root, and the second account's root and user.
const IDS: [&str; 8] = [G1, G2, U2, U1, SA, ROOT, ROOT2, X1];
const RES: [&str; 5] = [
    "urn:v1:eu:resource:vps:*",
    "urn:v1:eu:resource:vps:vps-1",
    "urn:v1:eu:resource:*",
    "urn:v1:eu:resource:dnsZone:z1",
    PROJECT,
];
/// `*` on `urn:v1:eu:resource:*` is the widest grant a policy can give (a reported false all-clear was
/// suspected there).
/// `vps:apiovh:re*` and `dnsZone:apiovh:record/*` tell actions of one type apart (reboot from terminate,
/// record/delete from get): the audit's classes of actions that answer alike must see such patterns.
const ACTS: [&str; 11] = [
    "*",
    "vps:apiovh:reboot",
    "vps:apiovh:*",
    "vps:apiovh:re*",
    "dnsZone:apiovh:record/*",
    "dnsZone:apiovh:get",
    "dnsZone:apiovh:*",
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:objectstoreOperator",
    "account:apiovh:iam/policy/*",
    "vps:apiovh:terminate",
];
const GROUPS: [&str; 2] = [
    "urn:v1:eu:permissionsGroup:ovh:globalAdmin",
    "urn:v1:eu:permissionsGroup:ovh:vrackManagement",
];
const CIDRS: [&str; 4] = [
    "198.51.100.0/24",
    "0.0.0.0/0",
    "203.0.113.0/25",
    "192.0.2.7",
];

/// Request IPs: each range's first and last address, the addresses around them, and others.
const IPS: [&str; 14] = [
    "198.51.100.0",
    "198.51.100.255",
    "198.51.99.255",
    "198.51.101.0",
    "203.0.113.0",
    "203.0.113.127",
    "203.0.113.128",
    "203.0.112.255",
    "192.0.2.7",
    "192.0.2.6",
    "192.0.2.8",
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1",
];
/// Times from the evaluation time on: around the expiry, the date bound, week ends, early hours.
/// Every combination the generated conditions can tell apart must have a time here: before and after
/// 2026-07-01 (`Date.AFTER`), each with an hour before and after 8 (`Hour.LT`), on a weekday and a weekend
/// day (`WeekDay.IN`), and around the expiry. A combination missing here is one the audit may rightly
/// report (it tries every hour edge) and brute force cannot confirm.
const TIMES: [&str; 12] = [
    "2026-06-02T07:30:00Z",
    "2026-06-06T12:00:00Z",
    "2026-06-06T07:00:00Z",
    "2026-06-14T23:59:59Z",
    "2026-06-15T00:00:00Z",
    "2026-06-15T00:00:01Z",
    "2026-06-30T23:59:59Z",
    "2026-07-01T12:00:00Z",
    "2026-07-02T00:00:00Z",
    "2026-07-02T12:00:00Z",
    "2026-07-04T07:00:00Z",
    "2026-07-04T12:00:00Z",
];
const EXPIRY: &str = "2026-06-15T00:00:00Z";

/// The concrete (action, resource) pairs, each action on a resource of its own type.
const PAIRS: [(&str, &str); 16] = [
    ("vps:apiovh:reboot", "urn:v1:eu:resource:vps:vps-1"),
    ("vps:apiovh:terminate", "urn:v1:eu:resource:vps:vps-1"),
    ("vps:apiovh:reboot", "urn:v1:eu:resource:vps:vps-9"),
    ("vps:apiovh:terminate", "urn:v1:eu:resource:vps:vps-9"),
    ("dnsZone:apiovh:get", "urn:v1:eu:resource:dnsZone:z1"),
    (
        "dnsZone:apiovh:record/delete",
        "urn:v1:eu:resource:dnsZone:z1",
    ),
    ("dnsZone:apiovh:get", "urn:v1:eu:resource:dnsZone:z9"),
    ("compute_read", PROJECT),
    ("objectstore_all", PROJECT),
    ("publicCloudProject:openstack:administrator", PROJECT),
    (
        "compute_read",
        "urn:v1:eu:resource:publicCloudProject:99999999999999999999999999999999",
    ),
    ("vrack:apiovh:get", "urn:v1:eu:resource:vrack:pn-1"),
    (
        "account:apiovh:iam/policy/create",
        "urn:v1:eu:resource:account:xx1111-ovh",
    ),
    (
        "account:apiovh:me/bill/get",
        "urn:v1:eu:resource:account:xx1111-ovh",
    ),
    ("vps:apiovh:get", "urn:v1:eu:resource:vps:vps-9"),
    (
        "dnsZone:apiovh:record/delete",
        "urn:v1:eu:resource:dnsZone:z9",
    ),
];

/// The concrete identities: the named ones, a fresh member of each group, the account roots.
const CONCRETE: [&str; 8] = [U1, U2, SA, FRESH1, FRESH2, ROOT, X1, ROOT2];

fn condition() -> impl Strategy<Value = Option<Value>> {
    let ip = (0..CIDRS.len())
        .prop_map(|i| json!({"operator": "MATCH", "values": {"request.IP.IN_RANGE": CIDRS[i]}}));
    prop_oneof![
        3 => Just(None),
        3 => ip.clone().prop_map(Some),
        1 => ip.clone().prop_map(|c| Some(json!({"operator": "NOT", "conditions": [c]}))),
        1 => Just(Some(json!({"operator": "MATCH", "values": {"date(UTC).Date.AFTER": "2026-07-01"}}))),
        1 => ip.prop_map(|c| Some(json!({"operator": "AND", "conditions": [c, {"operator": "MATCH", "values": {"date(UTC).WeekDay.IN": "saturday,sunday"}}]}))),
        1 => Just(Some(json!({"operator": "MATCH", "values": {"date(UTC).Hour.LT": "8"}}))),
    ]
}

fn policy() -> impl Strategy<Value = Value> {
    let acts = |n| prop::collection::vec(0..ACTS.len(), 0..n);
    (
        prop::collection::vec(0..IDS.len(), 1..3),
        prop::collection::vec(0..RES.len(), 1..3),
        acts(3),
        acts(2),
        acts(2),
        prop::collection::vec(prop_oneof![6 => Just(None), 1 => (0..GROUPS.len()).prop_map(Some)], 1),
        condition(),
        prop_oneof![4 => Just(false), 1 => Just(true)],
        // The owning account (`owner`): when some policy has one, a resource may belong to another
        // account than the identity's, and the decision goes through the identity's account root.
        prop_oneof![4 => Just(None), 1 => Just(Some(NIC)), 1 => Just(Some(NIC2))],
    )
        .prop_map(|(ids, res, allow, except, deny, group, cond, expires, owner)| {
            let a = |v: &[usize]| Value::Array(v.iter().map(|&k| json!({"action": ACTS[k]})).collect());
            let mut p = json!({
                "name": "p",
                "identities": ids.iter().map(|&i| IDS[i]).collect::<Vec<_>>(),
                "resources": res.iter().map(|&r| json!({"urn": RES[r]})).collect::<Vec<_>>(),
                "permissions": {"allow": a(&allow), "except": a(&except), "deny": a(&deny)},
                "permissionsGroups": group.iter().flatten().map(|&g| json!({"urn": GROUPS[g]})).collect::<Vec<_>>(),
            });
            if let Some(c) = cond {
                p["conditions"] = c;
            }
            if expires {
                p["expiredAt"] = json!(EXPIRY);
            }
            if let Some(o) = owner {
                p["owner"] = json!(o);
            }
            p
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

fn engine(policies: &Value) -> Engine {
    engine_in(policies, "g1")
}

/// The engine with u1 in group `group` of the account file.
fn engine_in(policies: &Value, group: &str) -> Engine {
    let mut l = Loaded::new();
    l.add_text("policies.json", policies.to_string(), Role::Policies);
    let account = json!({"account": NIC, "region": "eu", "users": [{"login": "u1", "group": group, "urn": U1}]});
    l.add_text("account.json", account.to_string(), Role::Account);
    policy_sim::build(l, None)
        .unwrap()
        .with_default_time(AT.parse().unwrap())
}

/// The brute-force engine: a copy with the fresh users joined to their groups, as `check --member-of` does.
fn brute_engine(e: &Engine) -> Engine {
    let mut e = e.clone();
    e.assume_member(FRESH1, G1);
    e.assume_member(FRESH2, G2);
    e
}

/// Every context and time a request is tried under: no IP or each IP, at the evaluation time or later. The
/// IP only matters when some policy reads it, the time when some policy reads the date or expires (the
/// engine's semantics, not the audit's): the others are left out to keep the test quick.
fn contexts(policies: &[&Value]) -> Vec<(Option<&'static str>, Option<&'static str>)> {
    let text: String = policies.iter().map(|p| p.to_string()).collect();
    let ips: Vec<Option<&str>> = if text.contains("request.IP") {
        std::iter::once(None)
            .chain(IPS.iter().copied().map(Some))
            .collect()
    } else {
        vec![None]
    };
    let times: Vec<Option<&str>> = if text.contains("date(") || text.contains("expiredAt") {
        std::iter::once(None)
            .chain(TIMES.iter().copied().map(Some))
            .collect()
    } else {
        vec![None]
    };
    let mut out = Vec::new();
    for t in &times {
        for ip in &ips {
            out.push((*ip, *t));
        }
    }
    out
}

/// Whether some context allows the request: the request is checked once, then its context and time
/// change.
fn allowed_somewhere(
    e: &Engine,
    id: &str,
    action: &str,
    resource: &str,
    ctxs: &[(Option<&str>, Option<jiff::Timestamp>)],
) -> Option<usize> {
    let base = e
        .prepare(&Request::new(Some(id), action, Some(resource)))
        .unwrap();
    ctxs.iter().position(|(ip, at)| {
        let mut p = base.clone();
        if let Some(ip) = ip {
            p.context.insert("request.IP".into(), (*ip).into());
        }
        if let Some(at) = at {
            p.at = *at;
        }
        e.decide(&p).allowed()
    })
}

fn parsed(
    ctxs: &[(Option<&'static str>, Option<&'static str>)],
) -> Vec<(Option<&'static str>, Option<jiff::Timestamp>)> {
    ctxs.iter()
        .map(|(ip, t)| (*ip, t.map(|t| t.parse().unwrap())))
        .collect()
}

/// Whether a change holds for an identity: its own, or one of the listed members reported with their
/// group's symbolic member.
fn covers(c: &audit::diff::Change, urn: &str) -> bool {
    c.identity.as_deref() == Some(urn) || c.members.iter().any(|m| m == urn)
}

/// The identity of the universe standing for a concrete one.
fn who_for<'u>(u: &'u Universe, id: &str) -> Option<&'u Who> {
    match id {
        FRESH1 => u
            .ovh_identities
            .iter()
            .find(|w| w.member_of.as_deref() == Some(G1)),
        FRESH2 => u
            .ovh_identities
            .iter()
            .find(|w| w.member_of.as_deref() == Some(G2)),
        _ => u.who(id),
    }
}

/// The resource of the universe standing for a concrete one: itself, or the "any other" of its type.
fn res_for<'u>(u: &'u Universe, r: &str) -> Option<&'u Res> {
    u.ovh_resources.iter().find(|x| x.urn == r).or_else(|| {
        let t = r.split(':').nth(4).unwrap();
        u.ovh_resources
            .iter()
            .find(|x| x.stands_for.is_some() && x.rtype == t)
    })
}

fn scope() -> Scope {
    Scope::default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn who_can_and_what_can_are_exactly_what_check_allows(ps in prop::collection::vec(policy(), 1..5)) {
        check_who_what(&ps)?;
    }

    /// Findings against brute force: administrator-equivalent access (the probe action of no known service
    /// allowed somewhere), privilege escalation and a service account's `objectstore_all`.
    #[test]
    fn findings_are_what_check_allows(ps in prop::collection::vec(policy(), 1..5)) {
        check_findings(&ps)?;
    }

    /// Across accounts: the first account grants the second's root (often under a condition), the second
    /// passes it on to its user x1, and random policies besides. A condition reached only through the root
    /// must be among the points tried for x1.
    #[test]
    fn cross_account_grants_are_exactly_what_check_allows(ps in cross_account()) {
        check_who_what(&ps)?;
    }

    #[test]
    fn cross_account_diff_sees_a_changed_root_grant(old in cross_account(), other in policy(), field in 0..3usize) {
        // The root's grant (policy 0) gets another condition, permissions or resources.
        let mut new = old.clone();
        let key = ["conditions", "permissions", "resources"][field];
        match other.get(key) {
            Some(v) => new[0][key] = v.clone(),
            None => { new[0].as_object_mut().unwrap().remove(key); }
        }
        check_diff(&old, &new, "g1")?;
    }

    #[test]
    fn diff_reports_a_change_exactly_when_some_request_flips(old in prop::collection::vec(policy(), 0..4), new in prop::collection::vec(policy(), 0..4), share in 0..3usize) {
        // Often NEW is OLD with a policy changed, added or removed: the changes are then small.
        let mut new = new;
        if share > 0 {
            let mut o = old.clone();
            o.truncate(o.len().saturating_sub(1));
            o.extend(new.into_iter().take(share));
            new = o;
        }
        check_diff(&old, &new, "g1")?;
    }

    /// NEW is OLD with one thing changed: a policy's except, deny, permission group, condition, expiry,
    /// identities or resources (taken from another random policy), or user u1 moved to group g2. The diff
    /// must see each (and it skips the identities whose deciding policies did not change: a skip too eager
    /// shows here).
    #[test]
    fn diff_sees_one_changed_field(old in prop::collection::vec(policy(), 1..4), other in policy(), which in any::<prop::sample::Index>(), field in 0..9usize) {
        let mut new = old.clone();
        let k = which.index(new.len());
        let keys = ["permissions.except", "permissions.deny", "permissionsGroups", "conditions", "expiredAt", "identities", "resources", "owner"];
        let mut moved = "g1";
        match keys.get(field) {
            Some(key) => {
                let p = &mut new[k];
                match key.split_once('.') {
                    Some((x, y)) => p[x][y] = other[x][y].clone(),
                    None => match other.get(*key) {
                        Some(v) => p[*key] = v.clone(),
                        None => { p.as_object_mut().unwrap().remove(*key); }
                    },
                }
            }
            None => moved = "g2",
        }
        check_diff(&old, &new, moved)?;
    }

    /// A user whose group is unknown (u2) is denied by the denies of every policy naming a group of its
    /// account: NEW changes only the deny or the resources of a group's policy, next to u2's own grants.
    /// The diff must see u2 lose (or regain) access, though no allow of the changed policy reaches it
    /// (with the deny-only policies left out of the diff's focus, this fails; the random sets above rarely
    /// build the case).
    #[test]
    fn diff_sees_a_group_deny_reach_a_user_of_unknown_group(own in policy(), team in policy(), other in policy(), group in 0..2usize, field in 0..2usize) {
        let mut own = own;
        own["identities"] = json!([U2]);
        let mut team = team;
        let g = [G1, G2][group];
        team["identities"] = json!([g]);
        let mut changed = team.clone();
        match field {
            0 => changed["permissions"]["deny"] = other["permissions"]["deny"].clone(),
            _ => changed["resources"] = other["resources"].clone(),
        }
        check_diff(&[own.clone(), team], &[own, changed], "g1")?;
    }
}

/// One allowed (identity, action, resource) a who-can / what-can group stands for.
#[derive(Debug, Clone)]
struct Triple {
    identity: String,
    member_of: Option<String>,
    action: String,
    resource: String,
    condition: Option<String>,
    /// The group's witness, for this identity and resource.
    witness: Witness,
}

/// The groups expanded: each of a group's resources, for its identity and (`members`) each listed member
/// it names, with the group's witness moved to that identity and resource.
fn expand(gs: &[GrantGroup], members: bool) -> Vec<Triple> {
    let mut out = Vec::new();
    for g in gs {
        let mut ids = vec![(g.identity.clone(), g.member_of.clone())];
        if members {
            ids.extend(g.members.iter().map(|m| (m.clone(), None)));
        }
        for (identity, member_of) in &ids {
            for r in &g.resources {
                let mut witness = g.witness.clone();
                witness.identity = Some(identity.clone());
                witness.member_of = member_of.clone();
                witness.resource = Some(r.urn.clone());
                out.push(Triple {
                    identity: identity.clone(),
                    member_of: member_of.clone(),
                    action: g.action.clone(),
                    resource: r.urn.clone(),
                    condition: g.condition.clone(),
                    witness,
                });
            }
        }
    }
    out
}

/// A matrix row's identity, symbolic member's group and resource.
type RowKey = (String, Option<String>, String);

/// The matrix against the grants one by one: each row's conditional entries are exactly its conditional
/// grants (what-can's, per identity and resource) grouped by condition text and witness context, with no two
/// entries of a row alike; every action of an entry is allowed with the entry's witness context and time,
/// not without them, and its condition, written afresh for that action alone (a full `explain`, no
/// sharing), is the entry's. The unconditional grants are the row's permissions and actions.
fn check_matrix(ps: &[Value]) -> Result<(), TestCaseError> {
    let set = named(ps);
    let mut e = engine(&set);
    let u = Universe::of(&mut e, &scope());
    let m = audit::access_matrix(&e, &u, || {});
    let base = u.points.first().cloned().unwrap_or_default();
    let mut rows: std::collections::HashMap<RowKey, (&[String], &audit::Row)> =
        std::collections::HashMap::new();
    for b in m.blocks.iter().filter(|b| b.cloud == "ovhcloud") {
        let resource = b.resource.clone().unwrap();
        for r in &b.rows {
            rows.insert(
                (
                    r.identity.to_string(),
                    r.member_of.as_deref().map(str::to_owned),
                    resource.clone(),
                ),
                (&b.permissions, r),
            );
            let mut keys = std::collections::HashSet::new();
            for c in &r.conditional {
                prop_assert!(!c.actions.is_empty());
                // The witness is the row's own request (a row copied from another resource of its
                // class names its own resource).
                prop_assert_eq!(c.witness.resource.as_deref(), Some(resource.as_str()));
                prop_assert_eq!(c.witness.identity.as_deref(), Some(&*r.identity));
                prop_assert_eq!(c.witness.member_of.as_deref(), r.member_of.as_deref());
                prop_assert!(
                    keys.insert((
                        c.condition.clone(),
                        c.witness.context.clone(),
                        c.witness.at.clone()
                    )),
                    "two entries alike in a row: {:?}",
                    r
                );
                for a in &c.actions {
                    let w = audit::Witness {
                        action: a.clone(),
                        ..c.witness.clone()
                    };
                    let allowed = e
                        .prepare(&w.request())
                        .map(|p| e.decide(&p).allowed())
                        .unwrap();
                    prop_assert!(allowed, "not allowed with the entry's witness: {:?}", w);
                    let bare = audit::Witness {
                        context: base.context.clone(),
                        at: None,
                        ..w.clone()
                    };
                    let always = e
                        .prepare(&bare.request())
                        .map(|p| e.decide(&p).allowed())
                        .unwrap();
                    prop_assert!(
                        !always,
                        "conditional, yet allowed without context: {:?}",
                        bare
                    );
                    prop_assert_eq!(
                        audit::condition_of(&e, &w),
                        c.condition.clone(),
                        "{} in an entry of another condition\n{}",
                        a,
                        serde_json::to_string_pretty(&set).unwrap()
                    );
                }
            }
        }
    }
    let mut seen = 0usize;
    for (i, _) in u.representatives() {
        let who = &u.ovh_identities[i];
        // The matrix has one row per symbolic member (its listed members named in it): the members left out.
        for g in expand(&audit::grants_of(&e, &u, who, None), false) {
            let row = rows.get(&(g.identity.clone(), g.member_of.clone(), g.resource.clone()));
            prop_assert!(row.is_some(), "no row for {:?}", g);
            let (perms, row) = row.unwrap();
            match &g.condition {
                Some(cond) => {
                    let entry = row
                        .conditional
                        .iter()
                        .find(|c| c.actions.contains(&g.action));
                    prop_assert!(entry.is_some(), "{:?} not in its row {:?}", g, row);
                    let entry = entry.unwrap();
                    prop_assert_eq!(&entry.condition, cond);
                    prop_assert_eq!(&entry.witness.context, &g.witness.context);
                    prop_assert_eq!(&entry.witness.at, &g.witness.at);
                    seen += 1;
                }
                None => prop_assert!(
                    row.actions.iter().any(|a| **a == *g.action)
                        || perms
                            .iter()
                            .zip(&row.granted)
                            .any(|(p, x)| *x && *p == g.action),
                    "{:?} not in its row",
                    g
                ),
            }
        }
    }
    let listed: usize = rows.values().map(|(_, r)| r.conditional_count()).sum();
    prop_assert_eq!(
        seen,
        listed,
        "the matrix lists conditional grants what-can does not"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn matrix_groups_conditional_grants_by_their_condition(ps in prop::collection::vec(policy(), 1..6)) {
        check_matrix(&ps)?;
    }

    /// A user of unknown group (u2) with grants of its own, next to group policies it reads only for
    /// their denies: a deny on one resource of a class its own grants treat alike (vps-1 beside "any
    /// other vps") must answer on that resource, not be copied from the other. Fails when the resources
    /// only those group policies tell apart take their answers from the first of their class.
    #[test]
    fn matrix_and_what_can_of_a_user_of_unknown_group_under_group_denies(own in policy(), team in prop::collection::vec(policy(), 1..4), group in 0..2usize) {
        let mut own = own;
        own["identities"] = json!([U2]);
        let mut ps = vec![own];
        for (k, t) in team.into_iter().enumerate() {
            let mut t = t;
            let g = [G1, G2][(group + k) % 2];
            t["identities"] = json!([g]);
            ps.push(t);
        }
        check_matrix(&ps)?;
        check_who_what(&ps)?;
    }

    /// Policies that all name the service account and group g1 on the same resources: conditions under
    /// which several policies allow different actions at the same point are frequent.
    #[test]
    fn matrix_tells_apart_the_conditions_of_overlapping_policies(ps in prop::collection::vec(policy(), 2..6)) {
        let ps: Vec<Value> = ps
            .into_iter()
            .map(|mut p| {
                p["identities"] = json!([SA, G1]);
                p["resources"] = json!([{"urn": RES[0]}, {"urn": RES[1]}]);
                p
            })
            .collect();
        check_matrix(&ps)?;
    }

    #[test]
    fn cross_account_matrix_groups_by_condition(ps in cross_account()) {
        check_matrix(&ps)?;
    }
}

/// A policy of the first account granting the second account's root, one of the second account passing
/// the same grants on to its user x1, and up to two random policies.
fn cross_account() -> impl Strategy<Value = Vec<Value>> {
    (policy(), policy(), prop::collection::vec(policy(), 0..3)).prop_map(|(mut a, mut b, rest)| {
        a["owner"] = json!(NIC);
        a["identities"] = json!([ROOT2]);
        b["owner"] = json!(NIC2);
        b["identities"] = json!([X1]);
        // x1 is passed on what the root is granted (its own except, deny, groups and condition kept):
        // a grant across accounts needs both.
        b["permissions"]["allow"] = a["permissions"]["allow"].clone();
        b["resources"] = a["resources"].clone();
        let mut v = vec![a, b];
        v.extend(rest);
        v
    })
}

/// who-can and what-can of a policy set against brute force.
fn check_who_what(ps: &[Value]) -> Result<(), TestCaseError> {
    let set = named(ps);
    let mut e = engine(&set);
    let brute = brute_engine(&e);
    let u = Universe::of(&mut e, &scope());
    let pctx = parsed(&contexts(&[&set]));
    // who-can over each concrete pair's resource of the universe, asked once.
    let mut asked: std::collections::HashMap<(&str, String), Vec<String>> =
        std::collections::HashMap::new();
    for (action, resource) in PAIRS {
        if let Some(r) = res_for(&u, resource) {
            asked.entry((action, r.urn.clone())).or_insert_with(|| {
                expand(&audit::who_can(&e, &u, action, Some(&r.urn)).0, true)
                    .into_iter()
                    .filter(|g| g.resource == r.urn && g.action == action)
                    .map(|g| g.identity)
                    .collect()
            });
        }
    }
    for id in CONCRETE {
        let who = who_for(&u, id);
        let grants = who
            .map(|w| expand(&audit::grants_of(&e, &u, w, None), true))
            .unwrap_or_default();
        // Every grant is confirmed by check, with its witness's context, time and membership.
        for g in &grants {
            let d = e
                .prepare(&g.witness.request())
                .map(|p| e.decide(&p).allowed())
                .unwrap();
            prop_assert!(d, "witness not allowed: {:?}", g.witness);
        }
        for (action, resource) in PAIRS {
            let first = allowed_somewhere(&brute, id, action, resource, &pctx);
            let (any, base) = (first.is_some(), first == Some(0));
            let res = res_for(&u, resource);
            let listed = match (who, res) {
                (Some(w), Some(r)) => grants
                    .iter()
                    .find(|g| g.identity == w.urn && g.action == action && g.resource == r.urn),
                _ => None,
            };
            prop_assert_eq!(
                any,
                listed.is_some(),
                "what-can: {} {} {} (universe: {:?} {:?})\n{}",
                id,
                action,
                resource,
                who,
                res,
                serde_json::to_string_pretty(&set).unwrap()
            );
            if let Some(g) = listed {
                prop_assert_eq!(
                    base,
                    g.condition.is_none(),
                    "conditional or not: {} {} {} {:?}",
                    id,
                    action,
                    resource,
                    g
                );
            }
            if let (Some(w), Some(r)) = (who, res) {
                let by = &asked[&(action, r.urn.clone())];
                prop_assert_eq!(
                    any,
                    by.contains(&w.urn),
                    "who-can -r: {} {} {}",
                    id,
                    action,
                    resource
                );
            }
        }
    }
    // who-can without a resource, for one action of each type: the same answers as with one.
    for action in [
        "vps:apiovh:terminate",
        "compute_read",
        "account:apiovh:iam/policy/create",
    ] {
        let by = expand(&audit::who_can(&e, &u, action, None).0, true);
        // Each resource of each group, for its identity and each listed member it names: allowed by check
        // with the group's witness context and time.
        for g in &by {
            let d = e
                .prepare(&g.witness.request())
                .map(|p| e.decide(&p).allowed())
                .unwrap();
            prop_assert!(d, "who-can {} witness not allowed: {:?}", action, g.witness);
        }
        for id in CONCRETE {
            let any = PAIRS
                .iter()
                .filter(|(a, _)| *a == action)
                .any(|(a, r)| allowed_somewhere(&brute, id, a, r, &pctx).is_some());
            let listed = who_for(&u, id).is_some_and(|w| by.iter().any(|g| g.identity == w.urn));
            prop_assert_eq!(any, listed, "who-can {} without --resource, {}", action, id);
        }
    }
    Ok(())
}

/// The action of no known service `audit findings` probes with: only a grant of every action allows it.
const PROBE: &str = "zzzAuditProbe:apiovh:anything/probe";

/// Every concrete resource, once.
fn concrete_resources() -> Vec<&'static str> {
    let mut out: Vec<&str> = PAIRS.iter().map(|(_, r)| *r).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The subject a finding about a concrete identity has: its own label, or that of the group's symbolic
/// member it answers like (a listed member no policy names), with a note of the members.
fn reported_as(u: &Universe, id: &str) -> Option<String> {
    let who = who_for(u, id)?;
    let i = u.ovh_identities.iter().position(|w| w == who)?;
    let rep = match u.twins.get(i).copied().flatten() {
        Some(t) => u.ovh_identities.get(t)?,
        None => who,
    };
    Some(rep.label())
}

fn about(f: &audit::findings::Finding, label: &str) -> bool {
    f.subject == label || f.subject.starts_with(&format!("{label} (the same for"))
}

/// `findings` of a policy set against brute force.
fn check_findings(ps: &[Value]) -> Result<(), TestCaseError> {
    let set = named(ps);
    let mut e = engine(&set);
    let brute = brute_engine(&e);
    let u = Universe::of(&mut e, &scope());
    let pctx = parsed(&contexts(&[&set]));
    let found = audit::findings::findings(&e, &u, AT.parse().unwrap());
    // Every witness is allowed by check.
    for f in &found {
        if let Some(w) = &f.witness {
            let d = e
                .prepare(&w.request())
                .map(|p| e.decide(&p).allowed())
                .unwrap();
            prop_assert!(d, "finding's witness not allowed: {:?}", f);
        }
    }
    let resources = concrete_resources();
    let projects: Vec<&str> = resources
        .iter()
        .copied()
        .filter(|r| r.contains(":publicCloudProject:"))
        .collect();
    for id in CONCRETE {
        let Some(label) = reported_as(&u, id) else {
            continue;
        };
        let has = |code: &str| found.iter().any(|f| f.code == code && about(f, &label));
        let text = || serde_json::to_string_pretty(&set).unwrap();
        // Administrator-equivalent: exactly when the probe is allowed on some resource, in some context.
        let admin = resources
            .iter()
            .any(|r| allowed_somewhere(&brute, id, PROBE, r, &pctx).is_some());
        prop_assert_eq!(
            admin,
            has("PA101"),
            "administrator-equivalent: {} ({})\n{}",
            id,
            label,
            text()
        );
        // Privilege escalation: at least when an IAM policy may be created (other escalation actions too).
        let escalates = allowed_somewhere(
            &brute,
            id,
            "account:apiovh:iam/policy/create",
            "urn:v1:eu:resource:account:xx1111-ovh",
            &pctx,
        )
        .is_some();
        prop_assert!(
            !escalates || has("PA102"),
            "privilege escalation missed: {} ({})\n{}",
            id,
            label,
            text()
        );
        // A service account's objectstore_all: exactly when allowed on some project.
        if id == SA {
            let all = projects
                .iter()
                .any(|r| allowed_somewhere(&brute, id, "objectstore_all", r, &pctx).is_some());
            prop_assert_eq!(all, has("PA106"), "objectstore_all: {}\n{}", id, text());
        }
    }
    Ok(())
}

/// `diff` of OLD and NEW against brute force; NEW's account file puts u1 in `new_u1_group`.
fn check_diff(old: &[Value], new: &[Value], new_u1_group: &str) -> Result<(), TestCaseError> {
    let (so, sn) = (named(old), named(new));
    let (mut eo, mut en) = (engine(&so), engine_in(&sn, new_u1_group));
    let (bo, bn) = (brute_engine(&eo), brute_engine(&en));
    let u = Universe::joint(&mut [&mut eo, &mut en], &scope());
    let changes = audit::diff::diff(&eo, &en, &u, || {});
    let ctxs = parsed(&contexts(&[&so, &sn]));
    let mut flips = Vec::new();
    for id in CONCRETE {
        for (action, resource) in PAIRS {
            let (po, pn) = (
                bo.prepare(&Request::new(Some(id), action, Some(resource)))
                    .unwrap(),
                bn.prepare(&Request::new(Some(id), action, Some(resource)))
                    .unwrap(),
            );
            let at = |e: &Engine,
                      base: &policy_sim::Prepared,
                      ip: Option<&str>,
                      t: Option<jiff::Timestamp>| {
                let mut p = base.clone();
                if let Some(ip) = ip {
                    p.context.insert("request.IP".into(), ip.into());
                }
                if let Some(t) = t {
                    p.at = t;
                }
                e.decide(&p).allowed()
            };
            let flipped = ctxs
                .iter()
                .find(|(ip, t)| at(&bo, &po, *ip, *t) != at(&bn, &pn, *ip, *t));
            if let Some((ip, t)) = flipped {
                flips.push((id, action, resource));
                let (w, r) = (who_for(&u, id), res_for(&u, resource));
                prop_assert!(
                    w.is_some() && r.is_some(),
                    "{} or {} missing from the universe",
                    id,
                    resource
                );
                let (w, r) = (w.unwrap(), r.unwrap());
                prop_assert!(
                    changes.iter().any(|c| covers(c, &w.urn)
                        && c.resource.as_deref() == Some(&r.urn)
                        && c.actions.iter().any(|a| a == action)),
                    "flip not reported: {} {} {} at {:?} {:?}\nOLD {}\nNEW {}",
                    id,
                    action,
                    resource,
                    ip,
                    t,
                    serde_json::to_string_pretty(&so).unwrap(),
                    serde_json::to_string_pretty(&sn).unwrap()
                );
            }
        }
    }
    // And the other way: a reported change of a concrete (action, resource) is some request's flip.
    for c in &changes {
        for id in CONCRETE
            .iter()
            .filter(|id| who_for(&u, id).is_some_and(|w| covers(c, &w.urn)))
        {
            for (action, resource) in PAIRS.iter().filter(|(a, r)| {
                c.actions.iter().any(|x| x == a)
                    && res_for(&u, r).is_some_and(|x| c.resource.as_deref() == Some(&x.urn))
            }) {
                let same_res: Vec<&str> = PAIRS
                    .iter()
                    .filter(|(a, r)| {
                        a == action
                            && res_for(&u, r).is_some_and(|x| c.resource.as_deref() == Some(&x.urn))
                    })
                    .map(|(_, r)| *r)
                    .collect();
                prop_assert!(
                    flips
                        .iter()
                        .any(|(i, a, r)| i == id && a == action && same_res.contains(r)),
                    "change without a flip: {} {} {} {:?}",
                    id,
                    action,
                    resource,
                    c
                );
            }
        }
    }
    // Every change's witness flips under check.
    for c in &changes {
        let r = c.witness.request();
        let a = eo.prepare(&r).map(|p| eo.decide(&p).allowed()).unwrap();
        let b = en.prepare(&r).map(|p| en.decide(&p).allowed()).unwrap();
        prop_assert_ne!(a, b, "witness does not flip: {:?}", c.witness);
        prop_assert_eq!(b, c.kind == audit::diff::ChangeKind::Granted);
    }
    Ok(())
}

// OUTSCALE EIM: random managed policies linked to a listed user `eu1` (of group `e1`), to `e1`, to the
// member-less group `e2`, or to no one. The brute-force universe holds `eu1` and a fresh user of each
// group, listed in the account file itself (not placed by the audit's own means); each is asked every
// concrete action.

const EIM_PATTERNS: [&str; 7] = [
    "api:*",
    "api:Read*",
    "api:DeleteVms",
    "api:CreateVms",
    "*",
    "api:Delete*",
    "api:ReadUsers",
];
const EIM_ACTIONS: [&str; 5] = [
    "api:DeleteVms",
    "api:ReadVms",
    "api:CreateVms",
    "api:ReadUsers",
    "api:CreatePolicy",
];
/// Concrete identities, each with the group whose symbolic member stands for it (`None`: itself).
const EIM_CONCRETE: [(&str, Option<&str>); 3] = [
    ("eu1", None),
    ("fresh-e1", Some("e1")),
    ("fresh-e2", Some("e2")),
];

/// A managed policy (its statements: allow or deny, a pattern) and whom it is linked to: 0 `eu1`, 1 `e1`,
/// 2 `e2`, 3 no one.
fn eim_policy() -> impl Strategy<Value = (Vec<(bool, usize)>, usize)> {
    (
        prop::collection::vec((prop::bool::weighted(0.75), 0..EIM_PATTERNS.len()), 1..3),
        0..4usize,
    )
}

fn eim_account(ps: &[(Vec<(bool, usize)>, usize)], fresh: bool) -> Value {
    let orn = |k: usize| format!("orn:ows:idauth::123456789012:policy/p{k}");
    let linked = |target: usize| -> Vec<String> {
        ps.iter()
            .enumerate()
            .filter(|(_, (_, t))| *t == target)
            .map(|(k, _)| orn(k))
            .collect()
    };
    let policies: Vec<Value> = ps
        .iter()
        .enumerate()
        .map(|(k, (sts, _))| {
            let statement: Vec<Value> = sts
                .iter()
                .map(|(allow, a)| {
                    json!({"Effect": if *allow { "Allow" } else { "Deny" }, "Action": [EIM_PATTERNS[*a]], "Resource": ["*"]})
                })
                .collect();
            json!({
                "PolicyName": format!("p{k}"),
                "Orn": orn(k),
                "PolicyDefaultVersionId": "v1",
                "Versions": [{"VersionId": "v1", "DefaultVersion": true, "Body": json!({"Statement": statement}).to_string()}]
            })
        })
        .collect();
    let mut users =
        vec![json!({"UserName": "eu1", "UserGroups": ["e1"], "LinkedPolicies": linked(0)})];
    let (mut e1, mut e2) = (vec![json!("eu1")], Vec::<Value>::new());
    if fresh {
        users.push(json!({"UserName": "fresh-e1", "UserGroups": ["e1"]}));
        users.push(json!({"UserName": "fresh-e2", "UserGroups": ["e2"]}));
        e1.push(json!("fresh-e1"));
        e2.push(json!("fresh-e2"));
    }
    json!({
        "AccountId": "123456789012",
        "Users": users,
        "UserGroups": [
            {"UserGroupName": "e1", "Users": e1, "LinkedPolicies": linked(1)},
            {"UserGroupName": "e2", "Users": e2, "LinkedPolicies": linked(2)}
        ],
        "Policies": policies
    })
}

fn eim_engine(account: &Value) -> Engine {
    let mut l = Loaded::new();
    l.add_text("account.json", account.to_string(), Role::Account);
    policy_sim::build(l, None).unwrap()
}

fn eim_allowed(e: &Engine, id: &str, action: &str) -> bool {
    e.decide(&e.prepare(&Request::new(Some(id), action, None)).unwrap())
        .allowed()
}

/// The identity of the universe standing for a concrete EIM one.
fn eim_who(u: &Universe, id: &str, group: Option<&str>) -> Option<String> {
    match group {
        None => u
            .eim_identities
            .iter()
            .flatten()
            .find(|x| *x == id)
            .cloned(),
        Some(g) => u
            .eim_member_of
            .iter()
            .find(|(_, x)| *x == g)
            .map(|(m, _)| m.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn eim_who_can_and_diff_cover_members_of_groups_without_listed_users(
        old in prop::collection::vec(eim_policy(), 0..4),
        new in prop::collection::vec(eim_policy(), 0..4),
    ) {
        let (mut eo, mut en) = (eim_engine(&eim_account(&old, false)), eim_engine(&eim_account(&new, false)));
        let (bo, bn) = (eim_engine(&eim_account(&old, true)), eim_engine(&eim_account(&new, true)));
        // who-can on NEW alone: exactly the concrete identities `check` allows, each witness allowed.
        let mut e = en.clone();
        let u = Universe::of(&mut e, &scope());
        for action in EIM_ACTIONS {
            let (_, eim) = audit::who_can(&e, &u, action, None);
            for w in &eim {
                let d = e.prepare(&w.request()).map(|p| e.decide(&p).allowed()).unwrap();
                prop_assert!(d, "who-can witness not allowed: {:?}", w);
            }
            for (id, group) in EIM_CONCRETE {
                let who = eim_who(&u, id, group);
                prop_assert!(who.is_some(), "{} missing from the universe", id);
                let listed = eim.iter().any(|w| w.identity == who);
                prop_assert_eq!(eim_allowed(&bn, id, action), listed, "who-can {} for {}\n{}", action, id, eim_account(&new, false));
            }
        }
        // diff: a change exactly when some request flips, each witness flipping.
        let u = Universe::joint(&mut [&mut eo, &mut en], &scope());
        let changes = audit::diff::diff(&eo, &en, &u, || {});
        for (id, group) in EIM_CONCRETE {
            let who = eim_who(&u, id, group);
            for action in EIM_ACTIONS {
                let flipped = eim_allowed(&bo, id, action) != eim_allowed(&bn, id, action);
                let reported = changes.iter().any(|c| c.identity == who && c.actions.iter().any(|a| a == action));
                prop_assert_eq!(flipped, reported, "diff: {} {}\nOLD {}\nNEW {}", id, action, eim_account(&old, false), eim_account(&new, false));
            }
        }
        for c in &changes {
            let r = c.witness.request();
            let a = eo.prepare(&r).map(|p| eo.decide(&p).allowed()).unwrap();
            let b = en.prepare(&r).map(|p| en.decide(&p).allowed()).unwrap();
            prop_assert_ne!(a, b, "witness does not flip: {:?}", c.witness);
        }
    }
}

/// The concrete case: account xx1111-ovh grants yy2222-ovh's root `vps:apiovh:reboot` from 198.51.100.0/24
/// only; yy2222-ovh passes it on to x1 with no condition. x1 may reboot from that range (check allows it),
/// so what-can, who-can and diff must say so, as conditional access.
#[test]
fn a_condition_on_the_root_grant_is_conditional_access_of_the_user() {
    let grant = json!({"name": "a-grants-b", "owner": NIC, "identities": [ROOT2],
        "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
        "permissions": {"allow": [{"action": "vps:apiovh:reboot"}]},
        "conditions": {"operator": "MATCH", "values": {"request.IP.IN_RANGE": "198.51.100.0/24"}}});
    let pass = json!({"name": "b-passes-to-x1", "owner": NIC2, "identities": [X1],
        "resources": [{"urn": "urn:v1:eu:resource:vps:*"}],
        "permissions": {"allow": [{"action": "vps:apiovh:reboot"}]}});
    check_who_what(&[grant.clone(), pass.clone()]).unwrap();
    // Widening the root's condition to every address is new access for x1 outside the range.
    let mut wide = grant.clone();
    wide["conditions"]["values"]["request.IP.IN_RANGE"] = json!("0.0.0.0/0");
    check_diff(&[grant.clone(), pass.clone()], &[wide, pass.clone()], "g1").unwrap();
    let both = [grant, pass];
    check_diff(&both[1..], &both, "g1").unwrap();
}
