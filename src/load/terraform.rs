//! `--terraform-plan PLAN.json`: the IAM objects of a Terraform (or OpenTofu) plan, as `terraform show -json
//! plan.out` writes it, turned into the shapes the OVHcloud and OUTSCALE APIs return and fed to the loader.
//!
//! The plan format (HashiCorp, "JSON Output Format", `internal/command/jsonplan/plan.go`): `format_version`,
//! `prior_state.values.root_module`, `planned_values.root_module` (modules nest under `child_modules`; each
//! resource is `{address, mode, type, name, index?, values}`), `resource_changes[].change.{actions, before,
//! after, after_unknown}` and `configuration.root_module.resources[].expressions` (`{constant_value}` or
//! `{references: [...]}`). In `planned_values` a value known only after apply is absent or `null`;
//! `after_unknown` says which, and the configuration's `references` say what it will be.
//!
//! Each IAM resource becomes one synthetic source named after its address (`plan.json: ovh_iam_policy.ci["deploy"]`),
//! so a problem or a lint finding names the address. Provider attribute names are not the API's: the mapping
//! below follows the providers' schemas, cited per resource type. An attribute the mapping does not know is an
//! error naming the address and the attribute, located in the plan file.
//!
//! Unknown values are never guessed and never dropped. An identity URN the provider builds from known parts is
//! built the same way; otherwise the value becomes a named placeholder identity
//! (`urn:v1:eu:identity:credential:xx1111-ovh/oauth2-known-after-apply(ovh_me_api_oauth2_client.bot.identity)`; without the account, `urn:v1:eu:identity:group:known-after-apply/devs`), and a note says so.
//! A placeholder is an identity of its own: only the policies naming it apply to it (their denies as well as
//! their allows), and no other policy's allow reaches it — the safe reading.

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::{Limits, Loaded, Role};
use crate::error::{At, Problem};
use crate::source::{Loc, SourceId};

/// The inputs of `audit diff --terraform-plan`: what is in place before the plan and what will be after it.
#[derive(Debug, Default)]
pub struct PlanInputs {
    /// The prior state (`prior_state`).
    pub prior: Loaded,
    /// The planned state (`planned_values`, unknowns resolved as the module docs say).
    pub planned: Loaded,
    /// Each synthetic source's name → the Terraform address of the resource it comes from.
    pub addresses: IndexMap<String, String>,
    /// What the planned inputs assume (placeholders for values known only after apply, URNs built).
    pub notes: Vec<String>,
}

impl PlanInputs {
    /// The Terraform address a source comes from: pass a trace entry's `file` (the decisive policy of a
    /// witness, asked of the planned engine for a grant, of the prior one for a removal).
    pub fn address_of(&self, source: &str) -> Option<&str> {
        self.addresses.get(source).map(String::as_str)
    }
}

/// What reading one state of a plan into a [`Loaded`] produced besides the sources.
#[derive(Debug, Default)]
pub struct PlanRead {
    /// Each synthetic source's name → the Terraform address it comes from.
    pub addresses: IndexMap<String, String>,
    /// Assumptions, in the words an answer shows (one line each).
    pub notes: Vec<String>,
}

/// Which state of the plan is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `prior_state`: what Terraform last saw in place.
    Prior,
    /// `planned_values` (with `resource_changes[].change.after_unknown`): what the plan will leave.
    Planned,
}

/// Read the planned state of the plan at `path` into `loaded` (next to whatever `--policies` and `--account`
/// added): what `check`, `lint` and `test` evaluate.
pub fn add_plan(loaded: &mut Loaded, path: &str) -> PlanRead {
    add_state(loaded, path, State::Planned)
}

/// The prior and planned states of the plan at `path`, each in its own [`Loaded`], for `audit diff`.
/// `policies` and `accounts` (what is not in Terraform) are loaded into both.
pub fn diff_inputs(
    path: &str,
    policies: &[String],
    accounts: &[String],
    limits: Limits,
) -> PlanInputs {
    let mut out = PlanInputs::default();
    for (state, loaded) in [
        (State::Prior, &mut out.prior),
        (State::Planned, &mut out.planned),
    ] {
        loaded.limits = limits;
        for p in policies {
            loaded.add_path(p, Role::Policies);
        }
        for a in accounts {
            loaded.add_path(a, Role::Account);
        }
        let read = add_state(loaded, path, state);
        out.addresses.extend(read.addresses);
        if state == State::Planned {
            out.notes = read.notes;
        }
    }
    out
}

/// Read one state of the plan at `path` into `loaded`.
pub fn add_state(loaded: &mut Loaded, path: &str, state: State) -> PlanRead {
    let mut read = PlanRead::default();
    let name = super::display_name(path);
    let limit = loaded.limits.max_file_bytes;
    let text = match super::read_bytes(path, limit).map(String::from_utf8) {
        Ok(Ok(t)) if t.len() as u64 > limit => {
            loaded
                .problems
                .push(loaded.too_big(name.to_owned(), t.len() as u64));
            return read;
        }
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            loaded.problems.push(Problem::file(
                name,
                format!("cannot read the Terraform plan: {}", e.utf8_error()),
            ));
            return read;
        }
        Err(e) => {
            loaded.problems.push(Problem::file(
                name,
                format!("cannot read the Terraform plan: {e}"),
            ));
            return read;
        }
    };
    add_state_text(loaded, name, text, state, &mut read);
    read
}

/// [`add_state`] over a plan's text.
pub fn add_state_text(
    loaded: &mut Loaded,
    name: &str,
    text: String,
    state: State,
    read: &mut PlanRead,
) {
    let id = loaded.sources.add(name, text, None);
    let root = Loc::new(id, "");
    let Some(text) = loaded.sources.get(id).map(|s| s.text.clone()) else {
        return;
    };
    let plan: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            loaded.problems.push(Problem {
                message: format!("invalid JSON in the Terraform plan: {e}"),
                at: At::LineColumn(root, e.line(), e.column()),
                help: Some(String::from(
                    "write it with `terraform show -json plan.out > plan.json`",
                )),
            });
            return;
        }
    };
    let Some(version) = plan.get("format_version").and_then(Value::as_str) else {
        loaded.problems.push(
            Problem::at(root, "not a Terraform plan: no `format_version`")
                .help("write it with `terraform show -json plan.out > plan.json`"),
        );
        return;
    };
    if version.split('.').next() != Some("1") {
        loaded.problems.push(Problem::at(
            root.key("format_version"),
            format!("Terraform plan format `{version}`; policy-sim reads format 1.x"),
        ));
        return;
    }
    // The plan is an input even when its state holds no IAM object (a plan creating the first policies):
    // an empty prior state is a policy set with nothing in it, not a missing input.
    if !loaded.plans.iter().any(|f| f == name) {
        loaded.plans.push(name.to_owned());
    }
    let mut r = Reader {
        plan: &plan,
        src: id,
        state,
        resources: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        who: Who::default(),
    };
    r.collect();
    r.who = r.who(loaded);
    let out = r.map();
    loaded.problems.append(&mut r.problems);
    read.notes.append(&mut r.notes);
    for (address, object, role) in out {
        let source = format!("{name}: {address}");
        let text = serde_json::to_string_pretty(&object).unwrap_or_default();
        loaded.add_text(&source, text, role);
        read.addresses.insert(source, address);
    }
}

/// The account the identities belong to: `plate` (`eu`, `ca`, `us`) and `nic`, and where they come from.
#[derive(Debug, Default, Clone)]
struct Who {
    plate: Option<String>,
    nic: Option<String>,
}

/// One resource instance of the state read.
struct Res<'p> {
    address: String,
    kind: String,
    /// Where its `values` are in the plan.
    at: Loc,
    values: &'p Map<String, Value>,
    /// `after_unknown` (planned state only).
    unknown: Option<&'p Value>,
    /// Its configuration's `expressions`.
    expressions: Option<&'p Value>,
}

struct Reader<'p> {
    plan: &'p Value,
    src: SourceId,
    state: State,
    resources: Vec<Res<'p>>,
    problems: Vec<Problem>,
    notes: Vec<String>,
    who: Who,
}

/// The resource types read, each with the attributes its provider's schema has (planned values and computed
/// ones). Any other attribute is an error: the mapping would not know what it means.
///
/// - OVHcloud, terraform-provider-ovh: `ovh/resource_iam_policy.go`, `resource_iam_permissions_group.go`,
///   `resource_iam_resource_group.go`, `resource_me_identity_user.go`, `resource_me_identity_group.go`,
///   `resource_me_api_oauth2_client.go` (and `types_iam.go` for the API side, `ToMap()`).
/// - OUTSCALE, terraform-provider-outscale: `outscale_policy`, `outscale_policy_version`, `outscale_user`,
///   `outscale_user_group` (`internal/services/oapi/resource_outscale_*.go`).
const SCHEMAS: &[(&str, &[&str])] = &[
    (
        "ovh_iam_policy",
        &[
            "id",
            "name",
            "description",
            "identities",
            "resources",
            "allow",
            "except",
            "deny",
            "permissions_groups",
            "conditions",
            "expired_at",
            "owner",
            "created_at",
            "updated_at",
            "read_only",
        ],
    ),
    (
        "ovh_iam_permissions_group",
        &[
            "id",
            "urn",
            "name",
            "description",
            "allow",
            "except",
            "deny",
            "owner",
            "created_at",
            "updated_at",
            "read_only",
        ],
    ),
    (
        "ovh_iam_resource_group",
        &[
            "id",
            "urn",
            "name",
            "resources",
            "owner",
            "created_at",
            "updated_at",
            "read_only",
        ],
    ),
    (
        "ovh_me_identity_user",
        &[
            "id",
            "login",
            "email",
            "password",
            "group",
            "description",
            "urn",
            "status",
            "creation",
            "last_update",
            "password_last_update",
        ],
    ),
    (
        "ovh_me_identity_group",
        &[
            "id",
            "name",
            "description",
            "role",
            "urn",
            "default_group",
            "creation",
            "last_update",
        ],
    ),
    (
        "ovh_me_api_oauth2_client",
        &[
            "id",
            "name",
            "description",
            "flow",
            "callback_urls",
            "client_id",
            "client_secret",
            "identity",
        ],
    ),
    (
        "outscale_policy",
        &[
            "id",
            "policy_name",
            "document",
            "path",
            "description",
            "orn",
            "policy_id",
            "policy_default_version_id",
            "is_linkable",
            "resources_count",
            "creation_date",
            "last_modification_date",
            "request_id",
        ],
    ),
    (
        "outscale_policy_version",
        &[
            "id",
            "policy_orn",
            "document",
            "set_as_default",
            "version_id",
            "default_version",
            "body",
            "creation_date",
            "request_id",
        ],
    ),
    (
        "outscale_user",
        &[
            "id",
            "user_name",
            "user_email",
            "path",
            "policy",
            "user_id",
            "creation_date",
            "last_modification_date",
            "request_id",
        ],
    ),
    (
        "outscale_user_group",
        &[
            "id",
            "user_group_name",
            "path",
            "user",
            "policy",
            "orn",
            "user_group_id",
            "creation_date",
            "last_modification_date",
            "request_id",
        ],
    ),
];

/// Attributes of the `policy` block of `outscale_user` / `outscale_user_group`.
const POLICY_BLOCK: &[&str] = &[
    "policy_orn",
    "default_version_id",
    "policy_name",
    "policy_id",
    "creation_date",
    "last_modification_date",
    "policy_type",
    "path",
    "description",
    "is_linkable",
    "resources_count",
    "policy_default_version_id",
];
/// Attributes of the `user` block of `outscale_user_group`.
const USER_BLOCK: &[&str] = &[
    "user_name",
    "path",
    "user_id",
    "creation_date",
    "last_modification_date",
];
/// Attributes of a condition of `ovh_iam_policy` (`conditions` and its nested `condition` blocks).
const CONDITION_BLOCK: &[&str] = &["operator", "values", "condition"];

fn schema(kind: &str) -> Option<&'static [&'static str]> {
    SCHEMAS.iter().find(|(k, _)| *k == kind).map(|(_, a)| *a)
}

/// A resource address without its instance keys: `module.a["x"].t.n[0]` → `module.a.t.n`, the configuration's.
fn config_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl<'p> Reader<'p> {
    /// Every managed resource instance of the state read (modules included), with its `after_unknown` and
    /// its configuration; `data.ovh_me` is kept for the account.
    fn collect(&mut self) {
        let (module, ptr) = match self.state {
            State::Prior => (
                self.plan.pointer("/prior_state/values/root_module"),
                String::from("/prior_state/values/root_module"),
            ),
            State::Planned => (
                self.plan.pointer("/planned_values/root_module"),
                String::from("/planned_values/root_module"),
            ),
        };
        let mut unknowns: IndexMap<&str, &Value> = IndexMap::new();
        if self.state == State::Planned {
            for rc in self
                .plan
                .get("resource_changes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(a), Some(u)) = (
                    rc.get("address").and_then(Value::as_str),
                    rc.pointer("/change/after_unknown"),
                ) {
                    unknowns.insert(a, u);
                }
            }
        }
        let mut config: IndexMap<String, &Value> = IndexMap::new();
        if let Some(m) = self.plan.pointer("/configuration/root_module") {
            config_resources(m, "", &mut config);
        }
        let mut stack: Vec<(&Value, String)> = module.map(|m| (m, ptr)).into_iter().collect();
        while let Some((m, ptr)) = stack.pop() {
            for (i, r) in m
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let (Some(address), Some(kind), Some(values)) = (
                    r.get("address").and_then(Value::as_str),
                    r.get("type").and_then(Value::as_str),
                    r.get("values").and_then(Value::as_object),
                ) else {
                    continue;
                };
                let mode = r.get("mode").and_then(Value::as_str).unwrap_or("managed");
                let kind = if mode == "data" {
                    format!("data.{kind}")
                } else {
                    kind.to_owned()
                };
                self.resources.push(Res {
                    address: address.to_owned(),
                    expressions: config.get(&config_address(address)).copied(),
                    unknown: unknowns.get(address).copied(),
                    kind,
                    at: Loc::new(self.src, format!("{ptr}/resources/{i}/values")),
                    values,
                });
            }
            let children = m
                .get("child_modules")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (i, c) in children.iter().enumerate().rev() {
                // Reversed: popped in document order.
                stack.push((c, format!("{ptr}/child_modules/{i}")));
            }
        }
    }

    /// The account of the identities: a `data.ovh_me` (its `nichandle`, and the plate of its `urn`), else a
    /// known identity URN in the plan, else the provider's `endpoint` (plate), else an `--account` file.
    fn who(&self, loaded: &Loaded) -> Who {
        let mut who = Who::default();
        for r in &self.resources {
            if r.kind == "data.ovh_me" {
                who.nic = who
                    .nic
                    .or_else(|| str_of(r.values, "nichandle").map(str::to_owned));
                if let Some(urn) = str_of(r.values, "urn") {
                    who.plate = who
                        .plate
                        .or_else(|| urn.split(':').nth(2).map(str::to_owned));
                }
            }
        }
        for r in &self.resources {
            let urn = match r.kind.as_str() {
                "ovh_me_identity_user" | "ovh_me_identity_group" => str_of(r.values, "urn"),
                "ovh_me_api_oauth2_client" => str_of(r.values, "identity"),
                _ => None,
            };
            if let Some(urn) = urn {
                let parts: Vec<&str> = urn.split(':').collect();
                if let (Some(plate), Some(body)) = (parts.get(2), parts.get(5)) {
                    who.plate = who.plate.or_else(|| Some((*plate).to_owned()));
                    if let Some((nic, _)) = body.split_once('/') {
                        who.nic = who.nic.or_else(|| Some(nic.to_owned()));
                    }
                }
            }
        }
        if who.plate.is_none() {
            let endpoint = self
                .plan
                .pointer("/configuration/provider_config/ovh/expressions/endpoint/constant_value")
                .and_then(Value::as_str);
            who.plate = match endpoint {
                Some("ovh-eu") => Some(String::from("eu")),
                Some("ovh-ca") => Some(String::from("ca")),
                Some("ovh-us") => Some(String::from("us")),
                _ => None,
            };
        }
        if let [(a, _)] = loaded.ovh_accounts.as_slice() {
            who.nic = who.nic.or_else(|| Some(a.account.clone()));
            who.plate = who
                .plate
                .or_else(|| Some(a.region.clone().unwrap_or_else(|| String::from("eu"))));
        }
        who
    }

    fn problem(&mut self, at: Loc, message: String) {
        self.problems.push(Problem::at(at, message));
    }

    /// Is `values[key]` (or its element `index`) known only after apply?
    fn unknown(r: &Res<'_>, key: &str, index: Option<usize>) -> bool {
        let Some(u) = r.unknown.and_then(|u| u.get(key)) else {
            return false;
        };
        match (u, index) {
            (Value::Bool(b), _) => *b,
            (Value::Array(a), Some(i)) => a.get(i).is_some_and(|v| v.as_bool() == Some(true)),
            _ => false,
        }
    }

    /// Every mapped object: (address, API-shaped object, role).
    fn map(&mut self) -> Vec<(String, Value, Role)> {
        let mut out = Vec::new();
        let mut ovh_account = OvhAccountOut::default();
        let mut eim = EimOut::default();
        let resources = std::mem::take(&mut self.resources);
        for r in &resources {
            if r.kind.starts_with("data.") {
                continue;
            }
            let Some(attrs) = schema(&r.kind) else {
                if r.kind.starts_with("ovh_iam_") || r.kind.starts_with("ovh_me_identity_") {
                    self.notes.push(format!(
                        "`{}`: resource type `{}` is not read by policy-sim; what it changes is not in these answers",
                        r.address, r.kind
                    ));
                }
                continue;
            };
            let mut bad = false;
            for key in r.values.keys() {
                if !attrs.contains(&key.as_str()) {
                    bad = true;
                    let at = r.at.key(key);
                    self.problem(at, format!(
                        "`{}`: attribute `{key}` of `{}` is not one policy-sim knows; expected one of {}",
                        r.address,
                        r.kind,
                        attrs.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            if bad {
                continue;
            }
            match r.kind.as_str() {
                "ovh_iam_policy" => {
                    if let Some(o) = self.ovh_policy(r, &resources) {
                        out.push((r.address.clone(), o, Role::Policies));
                    }
                }
                "ovh_iam_permissions_group" => {
                    let mut o = Map::new();
                    o.insert("urn".into(), Value::String(self.urn_of(r).0));
                    copy_str(r.values, "name", &mut o, "name");
                    copy_str(r.values, "description", &mut o, "description");
                    copy_common(r.values, &mut o);
                    if let Some(p) = self.permissions(r) {
                        o.insert("permissions".into(), p);
                    }
                    out.push((r.address.clone(), Value::Object(o), Role::Policies));
                }
                "ovh_iam_resource_group" => {
                    let mut o = Map::new();
                    o.insert("urn".into(), Value::String(self.urn_of(r).0));
                    copy_str(r.values, "name", &mut o, "name");
                    copy_common(r.values, &mut o);
                    let list = self.urn_list(r, "resources", &resources);
                    o.insert(
                        "resources".into(),
                        Value::Array(list.into_iter().map(|u| json!({ "urn": u })).collect()),
                    );
                    out.push((r.address.clone(), Value::Object(o), Role::Policies));
                }
                "ovh_me_identity_user" => {
                    let (urn, _) = self.urn_of(r);
                    let login = str_of(r.values, "login").unwrap_or_default();
                    let mut u = json!({ "login": login, "urn": urn });
                    match r.values.get("group") {
                        Some(Value::String(g)) => {
                            set(&mut u, "group", Value::String(g.clone()));
                        }
                        _ if Self::unknown(r, "group", None) => match self.referenced_group(r, &resources) {
                            // `group = ovh_me_identity_group.ops.name`: the group's name, known in the plan.
                            Some(g) => set(&mut u, "group", Value::String(g)),
                            None => self.problem(
                            r.at.key("group"),
                            format!("`{}`: the user's `group` is known only after apply and its references name no group of the plan; policy-sim cannot tell which group's policies reach the user", r.address),
                            ),
                        },
                        _ => {}
                    }
                    ovh_account.users.push(u);
                    ovh_account.addresses.push(r.address.clone());
                }
                "ovh_me_identity_group" => {
                    let (urn, _) = self.urn_of(r);
                    let name = str_of(r.values, "name").unwrap_or_default();
                    ovh_account.groups.push(json!({ "name": name, "urn": urn }));
                    ovh_account.addresses.push(r.address.clone());
                }
                "ovh_me_api_oauth2_client" => {
                    let (urn, _) = self.urn_of(r);
                    let id = str_of(r.values, "client_id").map_or_else(
                        || format!("known-after-apply({}.client_id)", r.address),
                        str::to_owned,
                    );
                    ovh_account
                        .clients
                        .push(json!({ "clientId": id, "identity": urn }));
                    ovh_account.addresses.push(r.address.clone());
                }
                _ => self.eim(r, &resources, &mut eim),
            }
        }
        if !ovh_account.addresses.is_empty() {
            let nic = self
                .who
                .nic
                .clone()
                .unwrap_or_else(|| String::from("known-after-apply"));
            let plate = self.who.plate.clone().unwrap_or_else(|| String::from("eu"));
            let mut o = json!({ "account": nic, "region": plate, "users": ovh_account.users });
            if !ovh_account.groups.is_empty() {
                set(&mut o, "groups", Value::Array(ovh_account.groups));
            }
            if !ovh_account.clients.is_empty() {
                set(&mut o, "oauth2Clients", Value::Array(ovh_account.clients));
            }
            out.push((ovh_account.addresses.join(", "), o, Role::Account));
        }
        if let Some((policies, rest)) = eim.finish() {
            // Each managed policy in its own account file named after its address, so that an answer's
            // trace names the resource; users, groups and their links in one.
            for (address, p) in policies {
                out.push((address, json!({ "Policies": [p] }), Role::Account));
            }
            out.push((eim.addresses.join(", "), rest, Role::Account));
        }
        self.resources = resources;
        out
    }

    /// The name of the `ovh_me_identity_group` a user's unknown `group` refers to, when the plan knows it.
    fn referenced_group(&self, r: &Res<'_>, all: &[Res<'_>]) -> Option<String> {
        let refs = r.expressions?.get("group")?.get("references")?.as_array()?;
        refs.iter().filter_map(Value::as_str).find_map(|reference| {
            all.iter()
                .find(|t| {
                    t.kind == "ovh_me_identity_group"
                        && refers_to(&qualify(r, reference), &t.address)
                })
                .and_then(|t| str_of(t.values, "name"))
                .map(str::to_owned)
        })
    }

    /// `ovh_iam_policy` → a `GET /v2/iam/policy` object. terraform-provider-ovh `ovh/resource_iam_policy.go`
    /// (`prepareIamPolicyCall`, `expandConditions`): `identities` as is, `resources` → `[{urn}]`,
    /// `allow`/`except`/`deny` → `permissions.{allow,except,deny}[{action}]`, `permissions_groups` →
    /// `permissionsGroups[{urn}]`, `expired_at` → `expiredAt`, `conditions[0]` with children under `condition` →
    /// `conditions` with children under `conditions`.
    fn ovh_policy(&mut self, r: &Res<'_>, all: &[Res<'_>]) -> Option<Value> {
        let mut o = Map::new();
        copy_str(r.values, "id", &mut o, "id");
        copy_str(r.values, "name", &mut o, "name");
        if Self::unknown(r, "name", None) {
            // A name only labels the policy in answers: the placeholder says where it comes from.
            o.insert(
                "name".into(),
                Value::String(format!("known-after-apply({}.name)", r.address)),
            );
        }
        copy_str(r.values, "description", &mut o, "description");
        copy_common(r.values, &mut o);
        let ids = self.urn_list(r, "identities", all);
        o.insert("identities".into(), json!(ids));
        let res = self.urn_list(r, "resources", all);
        o.insert(
            "resources".into(),
            Value::Array(res.into_iter().map(|u| json!({ "urn": u })).collect()),
        );
        if let Some(p) = self.permissions(r) {
            o.insert("permissions".into(), p);
        }
        if r.values
            .get("permissions_groups")
            .is_some_and(|v| !v.is_null())
            || Self::unknown(r, "permissions_groups", None)
            || r.unknown
                .and_then(|u| u.get("permissions_groups"))
                .is_some()
        {
            let groups = self.urn_list(r, "permissions_groups", all);
            if !groups.is_empty() {
                o.insert(
                    "permissionsGroups".into(),
                    Value::Array(groups.into_iter().map(|u| json!({ "urn": u })).collect()),
                );
            }
        }
        match r.values.get("expired_at") {
            Some(Value::String(s)) if !s.is_empty() => {
                o.insert("expiredAt".into(), Value::String(s.clone()));
            }
            _ if Self::unknown(r, "expired_at", None) => {
                self.problem(r.at.key("expired_at"), format!("`{}`: `expired_at` is known only after apply; policy-sim cannot tell when the policy ends", r.address));
                return None;
            }
            _ => {}
        }
        match r.values.get("conditions") {
            Some(Value::Array(list)) if !list.is_empty() => {
                if let [one] = list.as_slice() {
                    let at = r.at.key("conditions").index(0);
                    o.insert("conditions".into(), self.condition(one, &at, &r.address)?);
                } else {
                    self.problem(r.at.key("conditions"), format!("`{}`: `conditions` holds {} blocks; the provider allows one (MaxItems 1)", r.address, list.len()));
                    return None;
                }
            }
            _ if r
                .unknown
                .and_then(|u| u.get("conditions"))
                .is_some_and(has_true) =>
            {
                self.problem(r.at.key("conditions"), format!("`{}`: `conditions` is known only after apply; policy-sim cannot tell when the policy applies", r.address));
                return None;
            }
            _ => {}
        }
        Some(Value::Object(o))
    }

    /// One condition block → the API's condition (`condition` children → `conditions`).
    fn condition(&mut self, c: &Value, at: &Loc, address: &str) -> Option<Value> {
        let Some(m) = c.as_object() else {
            self.problem(*at, format!("`{address}`: a condition block is an object"));
            return None;
        };
        for k in m.keys() {
            if !CONDITION_BLOCK.contains(&k.as_str()) {
                self.problem(at.key(k), format!("`{address}`: attribute `{k}` of a condition block is not one policy-sim knows; expected `operator`, `values` or `condition`"));
                return None;
            }
        }
        let mut o = Map::new();
        match m.get("operator") {
            Some(Value::String(op)) => {
                o.insert("operator".into(), Value::String(op.clone()));
            }
            _ => {
                self.problem(at.key("operator"), format!("`{address}`: a condition's `operator` is missing or known only after apply"));
                return None;
            }
        }
        if let Some(Value::Object(v)) = m.get("values") {
            if !v.is_empty() {
                o.insert("values".into(), Value::Object(v.clone()));
            }
        }
        if let Some(Value::Array(children)) = m.get("condition") {
            let mut out = Vec::new();
            for (i, child) in children.iter().enumerate() {
                out.push(self.condition(child, &at.key("condition").index(i), address)?);
            }
            if !out.is_empty() {
                o.insert("conditions".into(), Value::Array(out));
            }
        }
        Some(Value::Object(o))
    }

    /// `allow`/`except`/`deny` (sets of strings) → `permissions.{allow,except,deny}[{action}]`.
    fn permissions(&mut self, r: &Res<'_>) -> Option<Value> {
        let mut p = Map::new();
        for key in ["allow", "except", "deny"] {
            if r.unknown.and_then(|u| u.get(key)).is_some_and(has_true) {
                self.problem(r.at.key(key), format!("`{}`: `{key}` is known only after apply; policy-sim cannot tell which actions it names", r.address));
                continue;
            }
            let list: Vec<Value> = r
                .values
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|a| json!({ "action": a }))
                .collect();
            if !list.is_empty() {
                p.insert(key.into(), Value::Array(list));
            }
        }
        // The API always returns `permissions`, empty when only `permissionsGroups` grant.
        Some(Value::Object(p))
    }

    /// A resource's own URN (`urn`, or `identity` for a service account), known, built from known parts the
    /// way the provider builds it, or a named placeholder; the bool says whether it is a placeholder.
    fn urn_of(&mut self, r: &Res<'_>) -> (String, bool) {
        let key = if r.kind == "ovh_me_api_oauth2_client" {
            "identity"
        } else {
            "urn"
        };
        if let Some(u) = str_of(r.values, key) {
            return (u.to_owned(), false);
        }
        let plate = self.who.plate.clone();
        let nic = self.who.nic.clone();
        let placeholder = format!("known-after-apply({}.{key})", r.address);
        let p = plate.clone().unwrap_or_else(|| String::from("eu"));
        let n = nic
            .clone()
            .unwrap_or_else(|| String::from("known-after-apply"));
        let (built, urn) = match r.kind.as_str() {
            // resource_me_identity_user.go: `urn:v1:{plate}:identity:user:{account}/{login}`.
            // Without the account, a placeholder keeps the login (and a group its name): the validator
            // derives a user's group URN from the user's (`{account}/{group}`), so a user and the group it
            // joins stay together.
            "ovh_me_identity_user" => match (&plate, &nic, str_of(r.values, "login")) {
                (Some(p), Some(n), Some(l)) => (true, format!("urn:v1:{p}:identity:user:{n}/{l}")),
                (_, _, Some(l)) => (false, format!("urn:v1:{p}:identity:user:{n}/{l}")),
                _ => (false, format!("urn:v1:{p}:identity:user:{n}/{placeholder}")),
            },
            // A group's URN comes from the API, in the user's form: `urn:v1:{plate}:identity:group:{account}/{name}`.
            "ovh_me_identity_group" => match (&plate, &nic, str_of(r.values, "name")) {
                (Some(p), Some(n), Some(g)) => (true, format!("urn:v1:{p}:identity:group:{n}/{g}")),
                (_, _, Some(g)) => (false, format!("urn:v1:{p}:identity:group:{n}/{g}")),
                _ => (
                    false,
                    format!("urn:v1:{p}:identity:group:{n}/{placeholder}"),
                ),
            },
            // A service account: `urn:v1:{plate}:identity:credential:{account}/oauth2-{client_id}`.
            "ovh_me_api_oauth2_client" => match (&plate, &nic, str_of(r.values, "client_id")) {
                (Some(p), Some(n), Some(c)) => (
                    true,
                    format!("urn:v1:{p}:identity:credential:{n}/oauth2-{c}"),
                ),
                _ => (
                    false,
                    format!("urn:v1:{p}:identity:credential:{n}/oauth2-{placeholder}"),
                ),
            },
            "ovh_iam_permissions_group" => (
                false,
                format!("urn:v1:{p}:permissionsGroup:{n}:{placeholder}"),
            ),
            _ => (false, format!("urn:v1:{p}:resourceGroup:{placeholder}")),
        };
        let note = if built {
            format!("`{}.{key}` is known only after apply; built as `{urn}`, the way the provider builds it", r.address)
        } else if matches!(
            r.kind.as_str(),
            "ovh_iam_permissions_group" | "ovh_iam_resource_group"
        ) {
            // The group's content is in the plan: only its URN is unknown, and one name serves both.
            format!(
                "(known after apply: {}.{key}) is read as `{urn}`, in the group's definition and in every policy naming it",
                r.address
            )
        } else if !urn.contains("known-after-apply(") {
            format!(
                "(known after apply: {}.{key}) is read as the placeholder `{urn}` (the account is unknown: add a `data \"ovh_me\"` or pass --account): only the policies naming it apply to it, their denies included, and no other allow reaches it",
                r.address
            )
        } else {
            format!(
                "(known after apply: {}.{key}) is read as the placeholder `{urn}`: only the policies naming it apply to it, their denies included, and no other allow reaches it",
                r.address
            )
        };
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
        (urn, !built)
    }

    /// A set of URNs (`identities`, `resources`, `permissions_groups`): the known elements, and for each
    /// unknown one what the configuration's references say it is.
    fn urn_list(&mut self, r: &Res<'_>, key: &str, all: &[Res<'_>]) -> Vec<String> {
        let mut known = Vec::new();
        let mut unknown = 0usize;
        match r.values.get(key) {
            Some(Value::Array(list)) => {
                for (i, v) in list.iter().enumerate() {
                    match v.as_str() {
                        Some(s) => known.push(s.to_owned()),
                        None if Self::unknown(r, key, Some(i)) || v.is_null() => unknown += 1,
                        None => self.problem(
                            r.at.key(key).index(i),
                            format!("`{}`: `{key}` holds a non-string", r.address),
                        ),
                    }
                }
            }
            _ if Self::unknown(r, key, None) => unknown = 1,
            _ => {}
        }
        if unknown == 0 && !Self::unknown(r, key, None) {
            return known;
        }
        // The configuration's references: the resources the unknown elements come from.
        let refs: Vec<&str> = r
            .expressions
            .and_then(|e| e.get(key))
            .and_then(|e| e.get("references"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut found = Vec::new();
        for reference in refs {
            let reference = qualify(r, reference);
            for target in all.iter().filter(|t| refers_to(&reference, &t.address)) {
                if !matches!(
                    target.kind.as_str(),
                    "ovh_me_identity_user"
                        | "ovh_me_identity_group"
                        | "ovh_me_api_oauth2_client"
                        | "ovh_iam_permissions_group"
                        | "ovh_iam_resource_group"
                ) {
                    continue;
                }
                let (urn, _) = self.urn_of(target);
                if !known.contains(&urn) && !found.contains(&urn) {
                    found.push(urn);
                }
            }
        }
        if found.len() < unknown {
            let p = self.who.plate.clone().unwrap_or_else(|| String::from("eu"));
            let n = self
                .who
                .nic
                .clone()
                .unwrap_or_else(|| String::from("known-after-apply"));
            let what = format!("{}.{key}", r.address);
            let urn = match key {
                "identities" => format!("urn:v1:{p}:identity:user:{n}/known-after-apply({what})"),
                "permissions_groups" => {
                    format!("urn:v1:{p}:permissionsGroup:{n}:known-after-apply({what})")
                }
                _ => format!("urn:v1:{p}:resourceGroup:known-after-apply({what})"),
            };
            self.notes.push(format!(
                "(known after apply: {what}) names no resource of the plan; read as the placeholder `{urn}`"
            ));
            found.push(urn);
        }
        known.extend(found);
        known
    }

    /// OUTSCALE: `outscale_policy` → a managed policy (`PolicyName`, `Orn`, `Document`); `outscale_policy_version`
    /// with `set_as_default` → that policy's default document; `outscale_user` and `outscale_user_group` with
    /// their `policy {policy_orn}` blocks (LinkPolicy, LinkManagedPolicyToUserGroup) and the group's `user
    /// {user_name}` blocks (AddUserToUserGroup) → the account file's `Users` and `UserGroups`.
    fn eim(&mut self, r: &Res<'_>, all: &[Res<'_>], eim: &mut EimOut) {
        if r.kind == "outscale_user" || r.kind == "outscale_user_group" {
            eim.addresses.push(r.address.clone());
        }
        match r.kind.as_str() {
            "outscale_policy" => {
                let name = str_of(r.values, "policy_name")
                    .unwrap_or_default()
                    .to_owned();
                let mut o = json!({ "PolicyName": name });
                if let Some(orn) = str_of(r.values, "orn") {
                    set(&mut o, "Orn", Value::String(orn.to_owned()));
                }
                match r.values.get("document") {
                    Some(Value::String(d)) => set(&mut o, "Document", Value::String(d.clone())),
                    _ => self.problem(r.at.key("document"), format!("`{}`: `document` is missing or known only after apply); policy-sim cannot read a policy it does not see", r.address)),
                }
                eim.policies.insert(r.address.clone(), o);
            }
            "outscale_policy_version" => {
                if r.values.get("set_as_default").and_then(Value::as_bool) != Some(true) {
                    return;
                }
                let Some(target) = self.linked_policy(
                    r,
                    r.values.get("policy_orn"),
                    r.expressions.and_then(|e| e.get("policy_orn")),
                    all,
                ) else {
                    self.problem(
                        r.at.key("policy_orn"),
                        format!(
                            "`{}`: `policy_orn` names no `outscale_policy` of the plan",
                            r.address
                        ),
                    );
                    return;
                };
                if let Some(Value::String(d)) = r.values.get("document") {
                    eim.default_docs.insert(target, d.clone());
                    self.notes.push(format!(
                        "`{}` sets the default version: its document is the policy's",
                        r.address
                    ));
                }
            }
            "outscale_user" | "outscale_user_group" => {
                let user = r.kind == "outscale_user";
                let name_key = if user { "user_name" } else { "user_group_name" };
                let name = str_of(r.values, name_key).unwrap_or_default().to_owned();
                let mut links = Vec::new();
                let blocks = r
                    .values
                    .get("policy")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let exprs = r
                    .expressions
                    .and_then(|e| e.get("policy"))
                    .and_then(Value::as_array);
                for (i, b) in blocks.iter().enumerate() {
                    let at = r.at.key("policy").index(i);
                    if let Some(m) = b.as_object() {
                        if let Some(k) = m.keys().find(|k| !POLICY_BLOCK.contains(&k.as_str())) {
                            self.problem(at.key(k), format!("`{}`: attribute `{k}` of a `policy` block is not one policy-sim knows; expected `policy_orn`, `default_version_id`", r.address));
                            continue;
                        }
                    }
                    let expr = exprs
                        .and_then(|e| e.get(i).or_else(|| e.first()))
                        .and_then(|e| e.get("policy_orn"));
                    match self.linked_policy(r, b.get("policy_orn"), expr, all) {
                        Some(addr) => links.push(Link::Address(addr)),
                        None => match b.get("policy_orn").and_then(Value::as_str) {
                            Some(orn) => links.push(Link::Orn(orn.to_owned())),
                            None => self.problem(at.key("policy_orn"), format!("`{}`: `policy_orn` is known only after apply and its references name no `outscale_policy` of the plan", r.address)),
                        },
                    }
                }
                if user {
                    eim.users.push((name, links));
                } else {
                    let members: Vec<String> = r
                        .values
                        .get("user")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|u| {
                            u.get("user_name")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        })
                        .collect();
                    for (i, u) in r
                        .values
                        .get("user")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        if let Some(k) = u
                            .as_object()
                            .and_then(|m| m.keys().find(|k| !USER_BLOCK.contains(&k.as_str())))
                        {
                            self.problem(r.at.key("user").index(i).key(k), format!("`{}`: attribute `{k}` of a `user` block is not one policy-sim knows; expected `user_name`, `path`", r.address));
                        }
                    }
                    eim.groups.push((name, members, links));
                }
            }
            _ => {}
        }
    }

    /// The `outscale_policy` a `policy_orn` names: by its known ORN, else through the configuration's references.
    fn linked_policy(
        &self,
        r: &Res<'_>,
        value: Option<&Value>,
        expr: Option<&Value>,
        all: &[Res<'_>],
    ) -> Option<String> {
        if let Some(orn) = value.and_then(Value::as_str) {
            return all
                .iter()
                .find(|t| t.kind == "outscale_policy" && str_of(t.values, "orn") == Some(orn))
                .map(|t| t.address.clone());
        }
        let refs = expr?.get("references")?.as_array()?;
        refs.iter().filter_map(Value::as_str).find_map(|reference| {
            all.iter()
                .find(|t| {
                    t.kind == "outscale_policy" && refers_to(&qualify(r, reference), &t.address)
                })
                .map(|t| t.address.clone())
        })
    }
}

/// The module instance path of an address, with its trailing dot: `module.a["x"].module.b.` for
/// `module.a["x"].module.b.ovh_iam_policy.p[0]`, empty at the root. A module's configuration references name
/// resources relative to it.
fn module_of(address: &str) -> &str {
    let mut end = 0usize;
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        // The module name, then instance keys (`["a.b"]` may hold dots), then the dot.
        let mut depth = 0usize;
        let mut quoted = false;
        let mut cut = None;
        for (i, c) in after.char_indices() {
            match c {
                '"' if depth > 0 => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth = depth.saturating_sub(1),
                '.' if depth == 0 => {
                    cut = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(i) = cut else { break };
        let taken = "module.".len() + i + 1;
        end += taken;
        rest = address.get(end..).unwrap_or_default();
    }
    address.get(..end).unwrap_or_default()
}

/// A reference of `r`'s configuration, made absolute (prefixed with `r`'s module instance).
fn qualify(r: &Res<'_>, reference: &str) -> String {
    format!("{}{reference}", module_of(&r.address))
}

/// Does a configuration reference (`ovh_me_identity_group.devs.urn`, `ovh_me_identity_group.devs`,
/// `module.m.x.y`, `ovh_me_identity_user.u["a"].urn`) name the resource instance at `address`?
fn refers_to(reference: &str, address: &str) -> bool {
    if reference == address {
        return true;
    }
    if let Some(rest) = reference.strip_prefix(address) {
        return rest.starts_with('.');
    }
    // A reference without instance keys (`each.value` / `count.index` picks one) names every instance.
    let base = config_address(address);
    !reference.contains('[')
        && (reference == base
            || reference
                .strip_prefix(base.as_str())
                .is_some_and(|r| r.starts_with('.')))
}

fn config_resources<'p>(module: &'p Value, prefix: &str, out: &mut IndexMap<String, &'p Value>) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(a), Some(e)) = (
            r.get("address").and_then(Value::as_str),
            r.get("expressions"),
        ) {
            out.insert(format!("{prefix}{a}"), e);
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(m) = call.get("module") {
            config_resources(m, &format!("{prefix}module.{name}."), out);
        }
    }
}

fn has_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => a.iter().any(has_true),
        Value::Object(o) => o.values().any(has_true),
        _ => false,
    }
}

fn str_of<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn copy_str(from: &Map<String, Value>, key: &str, to: &mut Map<String, Value>, api: &str) {
    if let Some(s) = str_of(from, key) {
        to.insert(api.into(), Value::String(s.to_owned()));
    }
}

/// The computed attributes every IAM object has: `owner`, `created_at` → `createdAt`, `updated_at` →
/// `updatedAt`, `read_only` → `readOnly`.
fn copy_common(from: &Map<String, Value>, to: &mut Map<String, Value>) {
    copy_str(from, "owner", to, "owner");
    copy_str(from, "created_at", to, "createdAt");
    copy_str(from, "updated_at", to, "updatedAt");
    if let Some(b) = from.get("read_only").and_then(Value::as_bool) {
        to.insert("readOnly".into(), Value::Bool(b));
    }
}

#[derive(Default)]
struct OvhAccountOut {
    users: Vec<Value>,
    groups: Vec<Value>,
    clients: Vec<Value>,
    addresses: Vec<String>,
}

enum Link {
    Address(String),
    Orn(String),
}

#[derive(Default)]
struct EimOut {
    policies: IndexMap<String, Value>,
    default_docs: IndexMap<String, String>,
    users: Vec<(String, Vec<Link>)>,
    groups: Vec<(String, Vec<String>, Vec<Link>)>,
    addresses: Vec<String>,
}

impl EimOut {
    /// The managed policies (address, `Policies[]` item) and the rest (`Users`, `UserGroups`).
    fn finish(&mut self) -> Option<(Vec<(String, Value)>, Value)> {
        if self.addresses.is_empty() && self.policies.is_empty() {
            return None;
        }
        let names: IndexMap<String, String> = self
            .policies
            .iter()
            .map(|(a, p)| {
                (
                    a.clone(),
                    p.get("PolicyName")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect();
        let link = |l: &Link| match l {
            Link::Address(a) => Value::String(names.get(a).cloned().unwrap_or_default()),
            Link::Orn(o) => Value::String(o.clone()),
        };
        let mut policies = Vec::new();
        for (a, p) in &self.policies {
            let mut p = p.clone();
            if let Some(d) = self.default_docs.get(a) {
                set(&mut p, "Document", Value::String(d.clone()));
            }
            policies.push((a.clone(), p));
        }
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|(n, l)| json!({ "UserName": n, "LinkedPolicies": l.iter().map(link).collect::<Vec<_>>() }))
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|(n, m, l)| json!({ "UserGroupName": n, "Users": m, "LinkedPolicies": l.iter().map(link).collect::<Vec<_>>() }))
            .collect();
        Some((policies, json!({ "Users": users, "UserGroups": groups })))
    }
}

/// `object[key] = value` without indexing (which would panic on a non-object).
fn set(object: &mut Value, key: &str, value: Value) {
    if let Value::Object(m) = object {
        m.insert(key.to_owned(), value);
    }
}
