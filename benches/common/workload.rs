//! The deterministic workloads every bench (and `tests/fast_path.rs`) uses, in one place: OVHcloud policy
//! sets as `GET /v2/iam/policy` returns them, with the account file that says who is in which group, an
//! OUTSCALE EIM account file, and requests over both. Same size, same bytes, on every run (a fixed-seed
//! SplitMix64, no `rand`).
//!
//! OVHcloud, for `n` policies: n/10 local users (90% listed in the account file with their group, the rest
//! of unknown group), n/50 groups, n/50 service accounts, n/5 VPS and n/50 Public Cloud projects. Per
//! policy: 1–3 identities (50% users, 30% groups, 20% service accounts); 1–2 resources (60% an exact VPS,
//! 30% a project, 5% `urn:v1:eu:resource:vps:*`, 5% `urn:v1:eu:resource:*`); 1–4 allows drawn from exact
//! catalogue actions, prefixes (`vps:apiovh:*`, `vps:apiovh:ips/*`, ...), suffixes (`*get`, `*:vrack:attach`),
//! `*`, and on projects mostly OpenStack role actions and the undocumented
//! `publicCloudProject:openstack:*Operator`; an `except` in 30%, a `deny` in 12% (exact, `vps:*:terminate`,
//! `*delete`, a role), OVHcloud-managed permission groups in 6%, a condition in 5%, an expiry in 3%.
#![allow(dead_code)]

use std::fmt::Write as _;

/// SplitMix64: tiny, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub const ACCOUNT: &str = "xx1111-ovh";

fn catalogue(file: &str) -> Vec<String> {
    let path = format!("{}/policies/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The OVHcloud action catalogue (`policies/ovh-actions.tsv`).
pub fn ovh_actions() -> Vec<String> {
    catalogue("ovh-actions.tsv")
}

/// The OUTSCALE operation catalogue (`policies/outscale-actions.tsv`).
pub fn outscale_actions() -> Vec<String> {
    catalogue("outscale-actions.tsv")
}

pub const ROLES: [&str; 11] = [
    "publicCloudProject:openstack:administrator",
    "publicCloudProject:openstack:backupOperator",
    "publicCloudProject:openstack:computeOperator",
    "publicCloudProject:openstack:imageOperator",
    "publicCloudProject:openstack:infrastructureSupervisor",
    "publicCloudProject:openstack:networkOperator",
    "publicCloudProject:openstack:networkSecurityOperator",
    "publicCloudProject:openstack:objectstoreOperator",
    "publicCloudProject:openstack:volumeOperator",
    "publicCloudProject:ai:aiTrainingOperator",
    "publicCloudProject:ai:aiTrainingRead",
];

pub const PERMISSIONS: [&str; 6] = [
    "compute_read",
    "compute_manage",
    "objectstore_all",
    "network_read",
    "volume_manage",
    "image_manage",
];

/// An OVHcloud workload: the policies file, the account file, and the pools requests draw from.
pub struct Ovh {
    pub policies_json: String,
    pub account_json: String,
    pub users: Vec<String>,
    /// Users no account file lists: their group is unknown (the safe-reading path).
    pub unlisted_users: Vec<String>,
    pub credentials: Vec<String>,
    pub vps: Vec<String>,
    pub projects: Vec<String>,
    pub actions: Vec<String>,
    /// The number of identity groups (`group0` …).
    pub groups: usize,
}

fn sizes(n: usize) -> (usize, usize, usize, usize, usize) {
    let users = (n / 10).max(4);
    let groups = (n / 50).max(2);
    let creds = (n / 50).max(2);
    let vps = (n / 5).max(8);
    let projects = (n / 50).max(3);
    (users, groups, creds, vps, projects)
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn project_id(i: usize) -> String {
    format!(
        "{:032x}",
        (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
    )
}

/// `n` OVHcloud policies, deterministic for a given `n`.
pub fn ovh(n: usize) -> Ovh {
    let mut rng = Rng::new(0x5EED_0000 ^ n as u64);
    let catalogue = ovh_actions();
    let (nu, ng, nc, nv, np) = sizes(n);
    let user = |i: usize| format!("urn:v1:eu:identity:user:{ACCOUNT}/user{i}");
    let group = |i: usize| format!("urn:v1:eu:identity:group:{ACCOUNT}/group{i}");
    let cred = |i: usize| {
        format!(
            "urn:v1:eu:identity:credential:{ACCOUNT}/oauth2-{:016x}",
            i * 7919
        )
    };
    let vps = |i: usize| format!("urn:v1:eu:resource:vps:vps-{i:06}.vps.ovh.net");
    let project = |i: usize| format!("urn:v1:eu:resource:publicCloudProject:{}", project_id(i));
    let prefixes = [
        "vps:apiovh:*",
        "vps:apiovh:ips/*",
        "vps:apiovh:snapshot/*",
        "dedicatedServer:apiovh:*",
        "publicCloudProject:openstack:*",
        "domain:apiovh:*",
    ];
    let suffixes = ["*get", "*/get", "*edit", "*:vrack:attach"];
    let groups_shipped = [
        "urn:v1:eu:permissionsGroup:ovh:globalReadOnly",
        "urn:v1:eu:permissionsGroup:ovh:globalReadWrite",
        "urn:v1:eu:permissionsGroup:ovh:globalTechnicalAccount ",
        "urn:v1:eu:permissionsGroup:ovh:vrackManagement",
    ];

    let mut out = String::with_capacity(n * 700 + 16);
    out.push_str("[\n");
    for i in 0..n {
        if i > 0 {
            out.push_str(",\n");
        }
        let mut ids = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let id = match rng.below(10) {
                0..=4 => user(rng.below(nu)),
                5..=7 => group(rng.below(ng)),
                _ => cred(rng.below(nc)),
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut resources = Vec::new();
        let mut project_policy = false;
        for _ in 0..1 + rng.below(2) {
            let r = match rng.below(40) {
                0..=23 => vps(rng.below(nv)),
                24..=25 => String::from("urn:v1:eu:resource:vps:*"),
                26..=37 => {
                    project_policy = true;
                    project(rng.below(np))
                }
                _ => String::from("urn:v1:eu:resource:*"),
            };
            if !resources.contains(&r) {
                resources.push(r);
            }
        }
        let mut allow = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let a = if project_policy && rng.chance(60) {
                if rng.chance(15) {
                    String::from("publicCloudProject:openstack:*Operator")
                } else {
                    rng.pick(&ROLES).to_string()
                }
            } else {
                match rng.below(20) {
                    0..=10 => rng.pick(&catalogue).clone(),
                    11..=14 => rng.pick(&prefixes).to_string(),
                    15..=17 => rng.pick(&suffixes).to_string(),
                    18 => String::from("*"),
                    _ => rng.pick(&ROLES).to_string(),
                }
            };
            allow.push(a);
        }
        let mut except = Vec::new();
        if rng.chance(30) {
            for _ in 0..1 + rng.below(3) {
                except.push(match rng.below(4) {
                    0..=1 => rng.pick(&catalogue).clone(),
                    2 => String::from("vps:apiovh:terminate"),
                    _ => String::from("vps:apiovh:ips/*"),
                });
            }
        }
        let mut deny = Vec::new();
        if rng.chance(12) {
            for _ in 0..1 + rng.below(2) {
                deny.push(match rng.below(6) {
                    0..=2 => rng.pick(&catalogue).clone(),
                    3 => String::from("vps:*:terminate"),
                    4 => String::from("publicCloudProject:openstack:objectstoreOperator"),
                    _ => String::from("*delete"),
                });
            }
        }
        let mut pgroups = Vec::new();
        if rng.chance(6) {
            pgroups.push(*rng.pick(&groups_shipped));
        }
        let condition = rng.chance(5).then(|| match rng.below(3) {
            0 => r#"{"operator": "MATCH", "values": {"request.IP.IN_RANGE": "192.0.2.0/24"}}"#,
            1 => r#"{"operator": "AND", "conditions": [{"operator": "MATCH", "values": {"date(Europe/Paris).WeekDay.IN": "monday,tuesday,wednesday,thursday,friday"}}, {"operator": "MATCH", "values": {"request.IP.IN_RANGE": "198.51.100.0/24"}}]}"#,
            _ => r#"{"operator": "NOT", "conditions": [{"operator": "MATCH", "values": {"resource.Type": "vps"}}]}"#,
        });
        let expired = rng.chance(3).then(|| {
            if rng.chance(50) {
                "2024-01-01T00:00:00Z"
            } else {
                "2099-01-01T00:00:00Z"
            }
        });

        let list = |v: &[String]| {
            v.iter()
                .map(|a| format!("\n        {{\n          \"action\": \"{a}\"\n        }}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = write!(
            out,
            "  {{\n    \"id\": \"{}\",\n    \"owner\": \"{ACCOUNT}\",\n    \"name\": \"policy-{i:06}\",\n    \"description\": \"generated policy {i}\",\n    \"readOnly\": false,\n    \"identities\": [{}\n    ],\n    \"resources\": [{}\n    ],\n    \"permissions\": {{\n      \"allow\": [{}\n      ],\n      \"except\": [{}\n      ],\n      \"deny\": [{}\n      ]\n    }},\n    \"permissionsGroups\": [{}]",
            uuid(&mut rng),
            ids.iter().map(|x| format!("\n      \"{x}\"")).collect::<Vec<_>>().join(","),
            resources
                .iter()
                .map(|x| format!("\n      {{\n        \"urn\": \"{x}\"\n      }}"))
                .collect::<Vec<_>>()
                .join(","),
            list(&allow),
            list(&except),
            list(&deny),
            pgroups.iter().map(|g| format!("{{\"urn\": \"{g}\"}}")).collect::<Vec<_>>().join(", "),
        );
        if let Some(c) = condition {
            let _ = write!(out, ",\n    \"conditions\": {c}");
        }
        if let Some(e) = expired {
            let _ = write!(out, ",\n    \"expiredAt\": \"{e}\"");
        }
        out.push_str(",\n    \"createdAt\": \"2025-02-03T10:12:44.120871Z\",\n    \"updatedAt\": \"2025-03-11T16:40:19.002114Z\"\n  }");
    }
    out.push_str("\n]\n");

    // The account file lists 90% of the users; the rest have an unknown group.
    let listed = nu - (nu / 10).max(1);
    let mut account = format!("{{\"account\": \"{ACCOUNT}\", \"region\": \"eu\", \"users\": [");
    for i in 0..listed {
        if i > 0 {
            account.push(',');
        }
        let _ = write!(
            account,
            "\n  {{\"login\": \"user{i}\", \"group\": \"group{}\", \"email\": \"user{i}@example.com\", \"status\": \"OK\"}}",
            i % ng
        );
    }
    account.push_str("\n]}\n");

    let mut actions: Vec<String> = catalogue
        .iter()
        .filter(|a| {
            a.starts_with("vps:") || a.starts_with("dedicatedServer:") || a.starts_with("domain:")
        })
        .cloned()
        .collect();
    actions.extend(ROLES.iter().map(|r| r.to_string()));
    actions.extend(PERMISSIONS.iter().map(|p| p.to_string()));
    Ovh {
        policies_json: out,
        account_json: account,
        users: (0..listed).map(user).collect(),
        unlisted_users: (listed..nu).map(user).collect(),
        credentials: (0..nc).map(cred).collect(),
        vps: (0..nv).map(vps).collect(),
        projects: (0..np).map(project).collect(),
        actions,
        groups: ng,
    }
}

/// The workload's account file with users added (in its groups, round robin) up to `total`, for the audit
/// at account scale.
pub fn add_users(w: &mut Ovh, total: usize) {
    let Ok(mut acc) = serde_json::from_str::<serde_json::Value>(&w.account_json) else {
        return;
    };
    let groups = w.groups.max(2);
    let Some(users) = acc.get_mut("users").and_then(|u| u.as_array_mut()) else {
        return;
    };
    for i in users.len()..total {
        let login = format!("extra{i}");
        users.push(serde_json::json!({
            "login": login, "group": format!("group{}", i % groups),
            "urn": format!("urn:v1:eu:identity:user:{ACCOUNT}/{login}"),
        }));
    }
    w.account_json = acc.to_string();
}

/// One request line, as `check --requests` reads it.
#[derive(Clone, Debug)]
pub struct Req {
    pub identity: String,
    pub action: String,
    pub resource: String,
    pub ip: Option<&'static str>,
}

impl Req {
    pub fn to_request(&self) -> policy_sim::Request {
        let mut r =
            policy_sim::Request::new(Some(&self.identity), &self.action, Some(&self.resource));
        if let Some(ip) = self.ip {
            r.context.insert(String::from("request.IP"), ip.to_owned());
        }
        r.at = Some(String::from("2026-06-01T12:00:00Z"));
        r
    }

    pub fn to_json_line(&self) -> String {
        match self.ip {
            Some(ip) => format!(
                "{{\"identity\": \"{}\", \"action\": \"{}\", \"resource\": \"{}\", \"context\": {{\"request.IP\": \"{ip}\"}}, \"at\": \"2026-06-01T12:00:00Z\"}}",
                self.identity, self.action, self.resource
            ),
            None => format!(
                "{{\"identity\": \"{}\", \"action\": \"{}\", \"resource\": \"{}\", \"at\": \"2026-06-01T12:00:00Z\"}}",
                self.identity, self.action, self.resource
            ),
        }
    }
}

/// `count` requests over an OVHcloud workload: mostly listed users and service accounts, some users of
/// unknown group; IAM actions, role actions and OpenStack permissions; VPS and project resources.
pub fn ovh_requests(w: &Ovh, count: usize, seed: u64) -> Vec<Req> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let identity = match rng.below(20) {
                0..=13 => rng.pick(&w.users).clone(),
                14..=17 => rng.pick(&w.credentials).clone(),
                _ => rng.pick(&w.unlisted_users).clone(),
            };
            let action = rng.pick(&w.actions).clone();
            let openstack =
                action.starts_with("publicCloudProject") || PERMISSIONS.contains(&action.as_str());
            let resource = if openstack || rng.chance(10) {
                rng.pick(&w.projects).clone()
            } else {
                rng.pick(&w.vps).clone()
            };
            let ip = rng
                .chance(30)
                .then(|| *rng.pick(&["192.0.2.10", "198.51.100.7", "203.0.113.5"]));
            Req {
                identity,
                action,
                resource,
                ip,
            }
        })
        .collect()
}

/// An OUTSCALE EIM workload: one account file with users, groups, managed policies (default versions) and
/// inline policies, whose statements use `*` patterns over the operation catalogue.
pub struct Eim {
    pub account_json: String,
    pub users: Vec<String>,
    pub actions: Vec<String>,
}

pub fn eim(users: usize) -> Eim {
    let mut rng = Rng::new(0xE1A0_0000 ^ users as u64);
    let ops = outscale_actions();
    let groups = (users / 10).max(2);
    let managed = (users / 5).max(4);
    let verbs = [
        "Read", "Create", "Delete", "Update", "Link", "Unlink", "Describe", "Get", "List",
    ];
    let statement = |rng: &mut Rng| -> String {
        let mut actions = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let op = rng.pick(&ops).clone();
            let (svc, name) = op.split_once(':').unwrap_or(("api", "ReadVms"));
            let a = match rng.below(10) {
                0..=3 => op.clone(),
                4..=5 => format!("{svc}:{}*", rng.pick(&verbs)),
                6 => format!("{svc}:*{}", &name[name.len().saturating_sub(3)..]),
                7 => format!("{svc}:*"),
                8 => format!("*:{}*", rng.pick(&verbs)),
                _ => format!("{svc}:Read?ms"),
            };
            actions.push(format!("\"{a}\""));
        }
        let effect = if rng.chance(15) { "Deny" } else { "Allow" };
        let key = if rng.chance(5) { "NotAction" } else { "Action" };
        format!(
            "{{\"Effect\": \"{effect}\", \"{key}\": [{}], \"Resource\": [\"*\"]}}",
            actions.join(", ")
        )
    };
    let document = |rng: &mut Rng| -> String {
        let sts: Vec<String> = (0..1 + rng.below(3)).map(|_| statement(rng)).collect();
        format!(
            "{{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}",
            sts.join(", ")
        )
    };
    let mut out = String::from("{\n\"AccountId\": \"123456789012\",\n\"Policies\": [");
    for m in 0..managed {
        if m > 0 {
            out.push(',');
        }
        let doc = document(&mut rng);
        // The API returns the body as a JSON string; half the policies are written that way.
        let body = if m % 2 == 0 {
            serde_json::to_string(&doc).unwrap()
        } else {
            doc
        };
        let _ = write!(
            out,
            "\n {{\"PolicyName\": \"managed-{m}\", \"Orn\": \"orn:ows:idauth::123456789012:policy/managed-{m}\", \"PolicyDefaultVersionId\": \"v1\", \"Versions\": [{{\"VersionId\": \"v1\", \"DefaultVersion\": true, \"Body\": {body}}}]}}"
        );
    }
    out.push_str("\n],\n\"UserGroups\": [");
    for g in 0..groups {
        if g > 0 {
            out.push(',');
        }
        let linked: Vec<String> = (0..1 + rng.below(2))
            .map(|_| format!("\"managed-{}\"", rng.below(managed)))
            .collect();
        let _ = write!(out, "\n {{\"UserGroupName\": \"group-{g}\", \"LinkedPolicies\": [{}], \"InlinePolicies\": []}}", linked.join(", "));
    }
    out.push_str("\n],\n\"Users\": [");
    for u in 0..users {
        if u > 0 {
            out.push(',');
        }
        let mut linked: Vec<String> = (0..rng.below(3))
            .map(|_| format!("\"managed-{}\"", rng.below(managed)))
            .collect();
        linked.dedup();
        let inline = if rng.chance(20) {
            format!(
                "{{\"PolicyName\": \"inline-{u}\", \"PolicyDocument\": {}}}",
                serde_json::to_string(&document(&mut rng)).unwrap()
            )
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "\n {{\"UserName\": \"user-{u}\", \"UserGroups\": [\"group-{}\", \"group-{}\"], \"LinkedPolicies\": [{}], \"InlinePolicies\": [{inline}]}}",
            u % groups,
            (u * 7 + 1) % groups,
            linked.join(", ")
        );
    }
    out.push_str("\n]\n}\n");
    Eim {
        account_json: out,
        users: (0..users).map(|u| format!("user-{u}")).collect(),
        actions: ops,
    }
}

/// Load and compile an OVHcloud workload, as `check --policies F --account A` does.
pub fn ovh_engine(w: &Ovh) -> policy_sim::Engine {
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_text(
        "policies.json",
        w.policies_json.clone(),
        policy_sim::Role::Policies,
    );
    loaded.add_text(
        "account.json",
        w.account_json.clone(),
        policy_sim::Role::Account,
    );
    policy_sim::build(loaded, None)
        .unwrap_or_else(|e| panic!("the generated workload does not load: {e}"))
}

/// Load and compile an EIM workload.
pub fn eim_engine(w: &Eim) -> policy_sim::Engine {
    let mut loaded = policy_sim::Loaded::new();
    loaded.add_text(
        "outscale-account.json",
        w.account_json.clone(),
        policy_sim::Role::Account,
    );
    policy_sim::build(loaded, None)
        .unwrap_or_else(|e| panic!("the generated EIM workload does not load: {e}"))
}

/// The OVHcloud set sizes the benches run: 10, 1k, 10k and 100k, or those listed in
/// `POLICY_SIM_BENCH_SIZES` (`10000,100000`).
pub fn bench_sizes() -> Vec<usize> {
    match std::env::var("POLICY_SIM_BENCH_SIZES") {
        Ok(v) => v.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) => vec![10, 1_000, 10_000, 100_000],
    }
}
