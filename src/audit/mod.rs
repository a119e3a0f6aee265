//! Audit: whole-set questions over a compiled policy set — who can, what can, the effective-access matrix,
//! the semantic diff of two sets, the smallest role sets, and findings for reviewers.
//!
//! Every answer is computed with the engine's own `decide` over a finite universe that covers the
//! patterns exactly: every identity the policies name (groups expanded to their members), every action a
//! pattern can match among the shipped catalogues, the role actions, the OpenStack permissions and the
//! literal actions of the policies — plus one witness action for each wildcard pattern that matches none
//! of those — and every resource the policies name, plus one witness resource for each resource pattern.
//! Each claim comes with a concrete request (a witness) that `policy-sim check` confirms.

pub mod diff;
pub mod findings;
pub mod roles;

use std::collections::BTreeSet;

use crate::compile::Engine;
use crate::eval::{Decision, Principal};
use crate::load::catalogue::catalogue;
use crate::model::ovh::{PermissionsGroup, Policy, ResourceEntry};
use crate::model::urn::{IdentityKind, ResourceUrn};
use crate::model::{Side, Spec};
use crate::Request;

/// A concrete request that shows a claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Witness {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Witness {
    pub fn request(&self) -> Request {
        Request::new(
            self.identity.as_deref(),
            &self.action,
            self.resource.as_deref(),
        )
    }

    /// The `policy-sim check` arguments that confirm it.
    pub fn command(&self) -> String {
        let mut s = String::new();
        if let Some(i) = &self.identity {
            s.push_str(&format!("--identity '{i}' "));
        }
        s.push_str(&format!("--action '{}'", self.action));
        if let Some(r) = &self.resource {
            s.push_str(&format!(" --resource '{r}'"));
        }
        s
    }
}

/// The finite universe an audit ranges over.
#[derive(Debug, Clone, Default)]
pub struct Universe {
    /// OVHcloud principals (accounts, users, service accounts), sorted.
    pub ovh_identities: Vec<String>,
    /// OVHcloud resources: named ones, group members, and one witness per wildcard pattern.
    pub ovh_resources: Vec<String>,
    /// OVHcloud actions some pattern can match, role actions and OpenStack permissions.
    pub ovh_actions: Vec<String>,
    /// EIM users of the account files (and `None` for the caller of bare documents).
    pub eim_identities: Vec<Option<String>>,
    /// EIM actions some statement can match.
    pub eim_actions: Vec<String>,
    /// Groups that name no known member: their policies reach no one the audit can list.
    pub empty_groups: Vec<String>,
}

impl Universe {
    pub fn of(engine: &Engine) -> Universe {
        let set = &engine.set;
        let mut u = Universe::default();
        // Identities: named ones; groups expanded to their members from the account files.
        let mut ids = BTreeSet::new();
        let mut groups = BTreeSet::new();
        for p in &set.ovh_policies {
            for (id, _) in &p.identities {
                if id.contains(":identity:group:") {
                    groups.insert(id.to_string());
                } else {
                    ids.insert(id.to_string());
                }
            }
        }
        for (user, (group, _)) in &set.membership.user_group {
            ids.insert(user.to_string());
            groups.remove(&**group);
        }
        u.ovh_identities = ids.into_iter().collect();
        u.empty_groups = groups.into_iter().collect();
        // Resources.
        let mut res = BTreeSet::new();
        for p in &set.ovh_policies {
            for r in &p.resources {
                match r {
                    ResourceEntry::Pattern(s) if !s.pattern.is_wildcard() => {
                        res.insert(s.raw().to_owned());
                    }
                    ResourceEntry::Pattern(s) => {
                        if let Some(w) = resource_witness(s) {
                            res.insert(w);
                        }
                    }
                    ResourceEntry::Group { group, .. } => {
                        for m in set
                            .resource_groups
                            .get(*group)
                            .map(|g| g.members.as_slice())
                            .unwrap_or_default()
                        {
                            res.insert(m.to_string());
                        }
                    }
                }
            }
        }
        u.ovh_resources = res.into_iter().collect();
        // Actions: everything a pattern can match among the known names, plus witnesses.
        let matrix = &*set.matrix;
        let mut known: BTreeSet<String> = catalogue().ovh.iter().map(|s| s.to_string()).collect();
        known.extend(matrix.roles.iter().map(|r| r.action.to_string()));
        let all_specs: Vec<&Spec> = set
            .ovh_policies
            .iter()
            .flat_map(policy_specs)
            .chain(set.permission_groups.iter().flat_map(group_specs))
            .collect();
        for s in &all_specs {
            if !s.pattern.is_wildcard() {
                known.insert(s.raw().to_owned());
            }
        }
        let mut acts = BTreeSet::new();
        for s in &all_specs {
            let mut any = false;
            for k in &known {
                if s.matches(k, Side::Restrict) {
                    acts.insert(k.clone());
                    any = true;
                }
            }
            if !any {
                acts.insert(action_witness(s.raw()));
            }
        }
        // Permissions whose role is in play.
        for (i, p) in matrix.permissions.iter().enumerate() {
            if matrix.roles_carrying(i).any(|r| acts.contains(&*r.action)) {
                acts.insert(p.name.clone());
            }
        }
        u.ovh_actions = acts.into_iter().collect();
        // EIM.
        let account = &set.eim_account;
        if !set.eim_unlinked.is_empty() {
            u.eim_identities.push(None);
        }
        u.eim_identities
            .extend(account.users.keys().map(|k| Some(k.to_string())));
        let mut eim_known: BTreeSet<String> = catalogue()
            .outscale
            .iter()
            .map(|(a, _)| a.to_string())
            .collect();
        let eim_specs: Vec<&Spec> = set
            .eim_documents
            .iter()
            .flat_map(|d| d.statements.iter())
            .flat_map(|s| s.actions.patterns.iter())
            .collect();
        for s in &eim_specs {
            if !s.pattern.is_wildcard() {
                eim_known.insert(s.raw().to_owned());
            }
        }
        let mut eim_acts = BTreeSet::new();
        for s in &eim_specs {
            let mut any = false;
            for k in &eim_known {
                if s.matches(k, Side::Restrict) || s.matches(k, Side::Grant) {
                    eim_acts.insert(k.clone());
                    any = true;
                }
            }
            if !any {
                eim_acts.insert(action_witness(s.raw()));
            }
        }
        // NotAction statements can allow anything: the whole catalogue is in play then.
        if set
            .eim_documents
            .iter()
            .flat_map(|d| d.statements.iter())
            .any(|s| s.actions.negated)
        {
            eim_acts.extend(eim_known);
        }
        u.eim_actions = eim_acts.into_iter().collect();
        u
    }
}

fn policy_specs(p: &Policy) -> impl Iterator<Item = &Spec> {
    p.permissions
        .allow
        .iter()
        .chain(&p.permissions.except)
        .chain(&p.permissions.deny)
}

fn group_specs(g: &PermissionsGroup) -> impl Iterator<Item = &Spec> {
    g.permissions
        .allow
        .iter()
        .chain(&g.permissions.except)
        .chain(&g.permissions.deny)
}

/// A concrete action a wildcard pattern matches: its `*`s replaced by `x`.
pub fn action_witness(raw: &str) -> String {
    let w = raw.replace(['*', '?'], "x");
    if w.is_empty() {
        String::from("x")
    } else {
        w
    }
}

/// A valid resource URN the pattern matches (the trailing `*` completed), if there is one.
pub fn resource_witness(s: &Spec) -> Option<String> {
    let raw = s.raw();
    let prefix = raw.strip_suffix('*')?;
    if prefix.contains('*') {
        return None;
    }
    let template = ["urn", "v1", "eu", "resource", "anyType", "any"];
    let mut candidates = vec![format!("{prefix}any"), format!("{prefix}:any")];
    let parts: Vec<&str> = prefix.split(':').collect();
    let k = parts.len() - 1;
    if let (Some(last), Some(field)) = (parts.last(), template.get(k)) {
        if field.starts_with(last) {
            let rest = template
                .get(k + 1..)
                .map(|r| r.join(":"))
                .unwrap_or_default();
            let completed = format!("{prefix}{}", field.get(last.len()..).unwrap_or(""));
            candidates.push(if rest.is_empty() {
                completed
            } else {
                format!("{completed}:{rest}")
            });
        }
    }
    candidates
        .into_iter()
        .find(|c| ResourceUrn::parse(c).is_ok() && s.matches(c, Side::Grant))
}

/// One decision of the universe.
pub fn decide(engine: &Engine, w: &Witness) -> Option<Decision> {
    engine.prepare(&w.request()).ok().map(|p| engine.decide(&p))
}

/// Many decisions for one identity and resource: the request is checked once, then only its action
/// changes (no parsing, no allocation per decision).
pub struct Probe<'e> {
    engine: &'e Engine,
    base: crate::eval::Prepared,
}

impl<'e> Probe<'e> {
    pub fn new(
        engine: &'e Engine,
        identity: Option<&str>,
        resource: Option<&str>,
    ) -> Option<Probe<'e>> {
        let action = if identity.is_some_and(|i| i.starts_with("urn:")) {
            "probe:probe:probe"
        } else {
            "api:Probe"
        };
        let base = engine
            .prepare(&Request::new(identity, action, resource))
            .ok()?;
        Some(Probe { engine, base })
    }

    pub fn allowed(&mut self, action: &str) -> bool {
        self.base.action.clear();
        self.base.action.push_str(action);
        self.engine.decide(&self.base).allowed()
    }
}

/// The actions of the universe that can matter to an identity: those a pattern of a policy naming it, or
/// naming any group (a superset: its group may be unknown), can match, and the permissions their roles
/// carry. Every other action is denied by default for it.
pub fn relevant_actions<'u>(engine: &Engine, u: &'u Universe, identity: &str) -> Vec<&'u str> {
    let set = &engine.set;
    let reaching: Vec<&Policy> = set
        .ovh_policies
        .iter()
        .filter(|p| {
            p.identities
                .iter()
                .any(|(i, _)| **i == *identity || i.contains(":identity:group:"))
        })
        .collect();
    let specs: Vec<&Spec> = reaching
        .iter()
        .flat_map(|p| {
            policy_specs(p).chain(
                p.groups
                    .iter()
                    .filter_map(|(g, _)| set.permission_groups.get(*g))
                    .flat_map(group_specs),
            )
        })
        .collect();
    let matrix = &*set.matrix;
    u.ovh_actions
        .iter()
        .map(String::as_str)
        .filter(|a| match matrix.permission_index(a) {
            Some(i) => matrix
                .roles_carrying(i)
                .any(|r| specs.iter().any(|s| s.matches(&r.action, Side::Restrict))),
            None => specs.iter().any(|s| s.matches(a, Side::Restrict)),
        })
        .collect()
}

/// Who may do `action` on `resource`: (allowed, denied-but-considered) identities.
pub fn who_can(
    engine: &Engine,
    u: &Universe,
    action: &str,
    resource: Option<&str>,
) -> Vec<(Witness, Decision)> {
    let mut out = Vec::new();
    let eim = !action.starts_with("urn:")
        && action.contains(':')
        && resource.is_none_or(|r| !r.starts_with("urn:"));
    let ovh_like = resource.is_some_and(|r| r.starts_with("urn:"));
    if ovh_like || !eim {
        for id in &u.ovh_identities {
            let w = Witness {
                identity: Some(id.clone()),
                action: action.to_owned(),
                resource: resource.map(str::to_owned),
            };
            if let Some(d) = decide(engine, &w) {
                out.push((w, d));
            }
        }
    }
    if !ovh_like {
        for id in &u.eim_identities {
            let w = Witness {
                identity: id.clone(),
                action: action.to_owned(),
                resource: None,
            };
            if let Some(d) = decide(engine, &w) {
                out.push((w, d));
            }
        }
    }
    out
}

/// What one identity may do: every allowed (action, resource) of the universe.
pub fn what_can(
    engine: &Engine,
    u: &Universe,
    identity: Option<&str>,
    resource: Option<&str>,
) -> Vec<Witness> {
    let principal = identity.map_or(Ok(Principal::Caller), |i| {
        engine
            .prepare(&Request::new(
                Some(i),
                "api:Probe",
                Some("urn:v1:eu:resource:x:x"),
            ))
            .map(|p| p.principal)
    });
    let mut out = Vec::new();
    match principal {
        Ok(Principal::Ovh(_)) => {
            let resources: Vec<String> = match resource {
                Some(r) => vec![r.to_owned()],
                None => u.ovh_resources.clone(),
            };
            let actions = relevant_actions(engine, u, identity.unwrap_or(""));
            for r in &resources {
                let Some(mut probe) = Probe::new(engine, identity, Some(r)) else {
                    continue;
                };
                for a in &actions {
                    if probe.allowed(a) {
                        out.push(Witness {
                            identity: identity.map(str::to_owned),
                            action: (*a).to_owned(),
                            resource: Some(r.clone()),
                        });
                    }
                }
            }
        }
        _ => {
            let Some(mut probe) = Probe::new(engine, identity, None) else {
                return out;
            };
            for a in &u.eim_actions {
                if probe.allowed(a) {
                    out.push(Witness {
                        identity: identity.map(str::to_owned),
                        action: a.clone(),
                        resource: None,
                    });
                }
            }
        }
    }
    out
}

/// The OpenStack permissions an identity holds on a project, as a matrix row.
pub fn permission_row(engine: &Engine, identity: &str, resource: &str) -> Vec<(String, bool)> {
    engine
        .set
        .matrix
        .permissions
        .iter()
        .map(|p| {
            let w = Witness {
                identity: Some(identity.to_owned()),
                action: p.name.clone(),
                resource: Some(resource.to_owned()),
            };
            (
                p.name.clone(),
                decide(engine, &w).is_some_and(|d| d.allowed()),
            )
        })
        .collect()
}

/// Whether an identity URN is a service account.
pub fn is_service_account(id: &str) -> bool {
    crate::model::urn::IdentityUrn::parse(id).is_ok_and(|u| u.kind == IdentityKind::Credential)
}

/// The effective-access matrix: for each resource, identities × permissions (the 16 OpenStack permissions
/// for a Public Cloud project) and the other actions each identity may do there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessMatrix {
    pub blocks: Vec<Block>,
}

/// One resource's block (`resource` is absent for EIM, which has no resource-level permissions).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Block {
    pub cloud: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Column names (OpenStack permissions for a project; empty otherwise).
    pub permissions: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    pub identity: String,
    /// One per column of `permissions`.
    pub granted: Vec<bool>,
    /// The other actions allowed here.
    pub actions: Vec<String>,
}

pub fn access_matrix(engine: &Engine, u: &Universe) -> AccessMatrix {
    let matrix = &*engine.set.matrix;
    let perm_names: Vec<String> = matrix.permissions.iter().map(|p| p.name.clone()).collect();
    let mut blocks = Vec::new();
    for r in &u.ovh_resources {
        let project = r.contains(":resource:publicCloudProject:");
        let mut rows = Vec::new();
        for id in &u.ovh_identities {
            let Some(mut probe) = Probe::new(engine, Some(id), Some(r)) else {
                continue;
            };
            let granted: Vec<bool> = if project {
                matrix
                    .permissions
                    .iter()
                    .map(|p| probe.allowed(&p.name))
                    .collect()
            } else {
                Vec::new()
            };
            let actions: Vec<String> = relevant_actions(engine, u, id)
                .into_iter()
                .filter(|a| matrix.permission_index(a).is_none())
                .filter(|a| probe.allowed(a))
                .map(str::to_owned)
                .collect();
            if granted.iter().any(|g| *g) || !actions.is_empty() {
                rows.push(Row {
                    identity: id.clone(),
                    granted,
                    actions,
                });
            }
        }
        if !rows.is_empty() {
            blocks.push(Block {
                cloud: "ovhcloud",
                resource: Some(r.clone()),
                permissions: if project {
                    perm_names.clone()
                } else {
                    Vec::new()
                },
                rows,
            });
        }
    }
    let mut rows = Vec::new();
    for id in &u.eim_identities {
        let actions: Vec<String> = what_can(engine, u, id.as_deref(), None)
            .into_iter()
            .map(|w| w.action)
            .collect();
        rows.push(Row {
            identity: id.clone().unwrap_or_else(|| String::from("(caller)")),
            granted: Vec::new(),
            actions,
        });
    }
    if !rows.is_empty() {
        blocks.push(Block {
            cloud: "outscale",
            resource: None,
            permissions: Vec::new(),
            rows,
        });
    }
    AccessMatrix { blocks }
}
