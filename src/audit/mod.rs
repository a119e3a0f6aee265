//! Audit: whole-set questions over a compiled policy set — who can, what can, the effective-access matrix,
//! the semantic diff of two sets, the smallest role sets, and findings for reviewers.
//!
//! Every answer is computed with the engine's own `decide` over a finite universe built so that it cannot
//! miss access:
//! - identities: every identity URN the policies name, every known member of a group, **one symbolic
//!   member per group** ("any member of `…/contractors`", a fresh user the audit places in the group, with
//!   or without an account file), the root of every account seen; EIM: every user, the caller, and one
//!   symbolic member per group of the account files (`any-member-of-GROUP`), also of a group with none;
//! - actions: every action a pattern can match among the shipped catalogues, the role actions, the
//!   OpenStack permissions and the policies' literal actions, plus one witness per wildcard pattern that
//!   matches none of those;
//! - resources: every resource the policies name, the members of resource groups, and per wildcard pattern
//!   one resource standing for "any other" resource it matches, for each resource type in play; an action
//!   appears only on resources of its own type (its service: `vps:apiovh:reboot` on a `vps`);
//! - contexts and times ([`points`]): the edges of every condition, so that a grant under a condition is
//!   found and reported as conditional, with a context that satisfies it.
//!
//! Each claim comes with a concrete request (a [`Witness`]) that `policy-sim check` confirms.

pub mod diff;
pub mod findings;
pub mod points;
pub mod resources;
pub mod roles;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::compile::Engine;
use crate::eval::{Decision, Principal};
use crate::load::actions::catalogue;
use crate::model::ovh::{PermissionsGroup, Policy, ResourceEntry};
use crate::model::urn::{IdentityKind, IdentityUrn, ResourceUrn};
use crate::model::{Side, Spec};
use crate::Request;

pub use points::Point;

/// A concrete request that shows a claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Witness {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The group a symbolic member is placed in (`check --member-of`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<String>,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<(String, String)>,
    /// RFC 3339, when the claim needs a time other than the evaluation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Single-quoted for a POSIX shell.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Witness {
    pub fn new(who: &Who, action: &str, resource: &str, point: &Point) -> Witness {
        Witness {
            identity: Some(who.urn.clone()),
            member_of: who.member_of.clone(),
            action: action.to_owned(),
            resource: Some(resource.to_owned()),
            context: point.context.clone(),
            at: point.at.map(|t| t.to_string()),
        }
    }

    pub fn request(&self) -> Request {
        let mut r = Request::new(
            self.identity.as_deref(),
            &self.action,
            self.resource.as_deref(),
        );
        r.context = self.context.iter().cloned().collect();
        r.at = self.at.clone();
        r
    }

    /// Who it is for a reader: "any member of …" for a symbolic member, else the identity, or the caller.
    pub fn identity_label(&self) -> String {
        match (&self.member_of, &self.identity) {
            (Some(g), _) => member_label(g),
            (None, Some(i)) => i.clone(),
            (None, None) => String::from("(caller)"),
        }
    }

    /// The `policy-sim check` arguments that confirm it, after `--policies … --account …`.
    pub fn command(&self) -> String {
        let mut s = Vec::new();
        if let Some(i) = &self.identity {
            s.push(format!("--identity {}", quote(i)));
        }
        if let Some(g) = &self.member_of {
            s.push(format!("--member-of {}", quote(g)));
        }
        s.push(format!("--action {}", quote(&self.action)));
        if let Some(r) = &self.resource {
            s.push(format!("--resource {}", quote(r)));
        }
        for (k, v) in &self.context {
            s.push(format!("--context {}", quote(&format!("{k}={v}"))));
        }
        if let Some(t) = &self.at {
            s.push(format!("--at {t}"));
        }
        s.join(" ")
    }

    /// The whole command line: `policy-sim check --policies … [--account …] [--at …] …`.
    pub fn command_line(&self, inv: &Invocation) -> String {
        let mut s = String::from("policy-sim check");
        if !inv.policies.is_empty() {
            s.push_str(" --policies");
        }
        for p in &inv.policies {
            s.push(' ');
            s.push_str(&quote(p));
        }
        if let Some(plan) = &inv.terraform_plan {
            s.push_str(" --terraform-plan ");
            s.push_str(&quote(plan));
        }
        for a in &inv.accounts {
            s.push_str(" --account ");
            s.push_str(&quote(a));
        }
        if let (Some(at), None) = (&inv.at, &self.at) {
            s.push_str(" --at ");
            s.push_str(&quote(at));
        }
        s.push(' ');
        s.push_str(&self.command());
        s
    }
}

/// How the audit was invoked: what a witness's `check` command needs besides the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    pub policies: Vec<String>,
    pub accounts: Vec<String>,
    pub at: Option<String>,
    /// A Terraform plan whose planned state the witness is checked against (`--terraform-plan`).
    pub terraform_plan: Option<String>,
}

/// An OVHcloud identity of the universe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Who {
    pub urn: String,
    /// A symbolic member: the group it stands for any member of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<String>,
}

impl Who {
    pub fn label(&self) -> String {
        match &self.member_of {
            Some(g) => member_label(g),
            None => self.urn.clone(),
        }
    }
}

/// An OVHcloud resource of the universe.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Res {
    pub urn: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// A witness resource: the wildcard pattern it stands for ("any other `vps` matching …").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stands_for: Option<String>,
}

impl Res {
    pub fn label(&self) -> String {
        match &self.stands_for {
            Some(p) => format!(
                "any other {} matching {p} (witness {})",
                self.rtype, self.urn
            ),
            None => self.urn.clone(),
        }
    }
}

/// The resource type an action applies to: its service (`vps:apiovh:reboot` → `vps`); an OpenStack
/// permission (`compute_read`) applies to a Public Cloud project.
pub fn action_type(action: &str) -> &str {
    match action.split_once(':') {
        Some((t, _)) => t,
        None => "publicCloudProject",
    }
}

/// The finite universe an audit ranges over.
#[derive(Debug, Clone, Default)]
pub struct Universe {
    /// OVHcloud principals, sorted: named ones, known and symbolic group members, account roots.
    pub ovh_identities: Vec<Who>,
    /// OVHcloud resources: named ones, group members, and witnesses per wildcard pattern and type.
    pub ovh_resources: Vec<Res>,
    /// OVHcloud actions some pattern can match, role actions and OpenStack permissions.
    pub ovh_actions: Vec<String>,
    /// EIM users of the account files (and `None` for the caller of bare documents).
    pub eim_identities: Vec<Option<String>>,
    /// EIM actions some statement can match.
    pub eim_actions: Vec<String>,
    /// The symbolic EIM users among `eim_identities` ([`eim_symbolic_member`]): each one's group.
    pub eim_member_of: BTreeMap<String, String>,
    /// The contexts and times tried; the first is the request with only the fixed keys.
    pub points: Vec<Point>,
    /// The product of condition values was cut at [`points::MAX_POINTS`].
    pub points_cut: bool,
    /// The context keys fixed by `--context`.
    pub fixed: Vec<(String, String)>,
    /// Per identity of `ovh_identities`: the symbolic member it answers like — a listed member of a group
    /// that no policy names directly, in every engine. Its answers are its twin's, computed once.
    pub twins: Vec<Option<usize>>,
}

/// An OVHcloud action name, not a pattern (`service:apiovh:operation`, at least two colons; an EIM action
/// has one, an OpenStack permission none).
pub fn is_ovh_action_name(a: &str) -> bool {
    a.matches(':').count() >= 2 && !a.contains(['*', '?'])
}

/// What an audit is asked under: context keys fixed by `--context`, and whether `--at` fixed the time.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub context: Vec<(String, String)>,
    pub fixed_at: bool,
    /// OVHcloud actions asked for by name (who-can): the universe holds them, with witness resources of
    /// their type, even when no catalogue knows them (a new API operation is granted by a wildcard).
    pub actions: Vec<String>,
}

/// "any member of GROUP": an OVHcloud group is its URN, an EIM group its name in the account file.
pub fn member_label(group: &str) -> String {
    if group.starts_with("urn:") {
        format!("any member of {group}")
    } else {
        format!("any member of group `{group}`")
    }
}

/// The symbolic member of an EIM group: a user the account file does not list, placed in the group.
pub fn eim_symbolic_member(group: &str) -> String {
    format!("any-member-of-{group}")
}

/// The symbolic member of a group: a fresh local user of its account.
pub fn symbolic_member(group: &str) -> Option<String> {
    let g = IdentityUrn::parse(group).ok()?;
    (g.kind == IdentityKind::Group).then(|| {
        format!(
            "urn:v1:{}:identity:user:{}/any-member-of-{}",
            g.region, g.account, g.name
        )
    })
}

fn groups_named(engine: &Engine) -> BTreeSet<String> {
    let mut groups = BTreeSet::new();
    for p in &engine.set.ovh_policies {
        for (id, _) in &p.identities {
            if id.contains(":identity:group:") {
                groups.insert(id.to_string());
            }
        }
    }
    groups.extend(
        engine
            .set
            .membership
            .user_group
            .values()
            .map(|(g, _)| g.to_string()),
    );
    groups
}

impl Universe {
    /// The universe of one engine; its symbolic members are added to its membership.
    pub fn of(engine: &mut Engine, scope: &Scope) -> Universe {
        Universe::joint(&mut [engine], scope)
    }

    /// The universe of several engines (a diff's OLD and NEW): every engine gets every symbolic member.
    pub fn joint(engines: &mut [&mut Engine], scope: &Scope) -> Universe {
        let mut u = Universe::default();
        let mut groups = BTreeSet::new();
        for e in engines.iter() {
            groups.extend(groups_named(e));
        }
        let mut ids: BTreeSet<Who> = BTreeSet::new();
        for g in &groups {
            if let Some(m) = symbolic_member(g) {
                for e in engines.iter_mut() {
                    if !e.set.membership.user_group.contains_key(m.as_str()) {
                        e.assume_member(&m, g);
                    }
                }
                ids.insert(Who {
                    urn: m,
                    member_of: Some(g.clone()),
                });
            }
        }
        // The symbolic members' URNs, looked up per listed user (a scan of `ids` each was quadratic).
        let symbolic: BTreeSet<String> = ids
            .iter()
            .filter(|w| w.member_of.is_some())
            .map(|w| w.urn.clone())
            .collect();
        let mut accounts = BTreeSet::new();
        for e in engines.iter() {
            let set = &e.set;
            for p in &set.ovh_policies {
                for (id, _) in &p.identities {
                    if let Ok(i) = IdentityUrn::parse(id) {
                        accounts.insert((i.region.to_string(), i.account.to_string()));
                    }
                    if !id.contains(":identity:group:") {
                        ids.insert(Who {
                            urn: id.to_string(),
                            member_of: None,
                        });
                    }
                }
            }
            for (user, (group, _)) in &set.membership.user_group {
                if symbolic.contains(&**user) {
                    continue;
                }
                if user.contains("/any-member-of-")
                    && symbolic_member(group).as_deref() == Some(user)
                {
                    continue;
                }
                ids.insert(Who {
                    urn: user.to_string(),
                    member_of: None,
                });
            }
        }
        for (region, account) in accounts {
            ids.insert(Who {
                urn: format!("urn:v1:{region}:identity:account:{account}"),
                member_of: None,
            });
        }
        u.ovh_identities = ids.into_iter().collect();
        let symbolic_of: BTreeMap<&str, usize> = u
            .ovh_identities
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.member_of.as_deref().map(|g| (g, i)))
            .collect();
        u.twins = u
            .ovh_identities
            .iter()
            .map(|w| {
                if w.member_of.is_some() {
                    return None;
                }
                let group = engines
                    .first()
                    .and_then(|e| e.set.membership.user_group.get(w.urn.as_str()))
                    .map(|(g, _)| g.to_string())?;
                let same = engines.iter().all(|e| {
                    e.ovh_candidates(&w.urn).is_empty()
                        && e.set
                            .membership
                            .user_group
                            .get(w.urn.as_str())
                            .is_some_and(|(g, _)| **g == *group)
                });
                if !same {
                    return None;
                }
                symbolic_of.get(group.as_str()).copied()
            })
            .collect();
        // Actions: everything a pattern can match among the known names, plus witnesses.
        let mut known: BTreeSet<String> = catalogue().ovh.iter().map(|s| s.to_string()).collect();
        let mut acts = BTreeSet::new();
        for e in engines.iter() {
            let set = &e.set;
            known.extend(set.matrix.roles.iter().map(|r| r.action.to_string()));
            for s in set
                .ovh_policies
                .iter()
                .flat_map(policy_specs)
                .chain(set.permission_groups.iter().flat_map(group_specs))
            {
                if !s.pattern.is_wildcard() {
                    known.insert(s.raw().to_owned());
                }
            }
        }
        // Each distinct pattern once (thousands of policies repeat the same few); an exact one is the name
        // it matches, already among the known ones; a prefix one matches a run of the sorted names.
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        let mut marks = vec![false; names.len()];
        let mut seen = Distinct::default();
        for e in engines.iter() {
            let set = &e.set;
            let used_groups: BTreeSet<usize> = set
                .ovh_policies
                .iter()
                .flat_map(|p| p.groups.iter().map(|(g, _)| *g))
                .collect();
            let specs = set.ovh_policies.iter().flat_map(policy_specs).chain(
                used_groups
                    .iter()
                    .filter_map(|g| set.permission_groups.get(*g))
                    .flat_map(group_specs),
            );
            for s in specs {
                if !seen.push(s) {
                    continue;
                }
                let any = match exact_name(s) {
                    Some(x) if known.contains(x) => {
                        if let Ok(i) = names.binary_search(&x) {
                            if let Some(m) = marks.get_mut(i) {
                                *m = true;
                            }
                        }
                        true
                    }
                    _ => mark_matching(&names, |k: &&str| *k, true, s, &mut marks),
                };
                if !any {
                    acts.insert(action_witness(s.raw()));
                }
            }
            acts.extend(
                names
                    .iter()
                    .zip(&marks)
                    .filter(|(_, m)| **m)
                    .map(|(k, _)| (*k).to_owned()),
            );
            // Permissions whose role is in play.
            let matrix = &*set.matrix;
            for (i, p) in matrix.permissions.iter().enumerate() {
                if matrix.roles_carrying(i).any(|r| acts.contains(&*r.action)) {
                    acts.insert(p.name.clone());
                }
            }
        }
        acts.extend(
            scope
                .actions
                .iter()
                .filter(|a| is_ovh_action_name(a))
                .cloned(),
        );
        u.ovh_actions = acts.into_iter().collect();
        let types: BTreeSet<&str> = u.ovh_actions.iter().map(|a| action_type(a)).collect();
        // Resources.
        let mut res: BTreeMap<String, Res> = BTreeMap::new();
        // A wildcard pattern's witnesses depend on the pattern alone: each distinct one is read once.
        let mut seen = Distinct::default();
        for e in engines.iter() {
            let set = &e.set;
            for p in &set.ovh_policies {
                for r in &p.resources {
                    match r {
                        ResourceEntry::Pattern(s) if !s.pattern.is_wildcard() => {
                            if res.contains_key(s.raw()) {
                                continue;
                            }
                            if let Ok(t) = ResourceUrn::type_of(s.raw()) {
                                res.entry(s.raw().to_owned()).or_insert(Res {
                                    urn: s.raw().to_owned(),
                                    rtype: t.to_owned(),
                                    stands_for: None,
                                });
                            }
                        }
                        ResourceEntry::Pattern(s) => {
                            if !seen.push(s) {
                                continue;
                            }
                            for w in resource_witnesses(s, &types) {
                                if let Ok(t) = ResourceUrn::type_of(&w) {
                                    let r = Res {
                                        urn: w.clone(),
                                        rtype: t.to_owned(),
                                        stands_for: Some(s.raw().to_owned()),
                                    };
                                    res.entry(w).or_insert(r);
                                }
                            }
                        }
                        ResourceEntry::Group { group, .. } => {
                            for m in set
                                .resource_groups
                                .get(*group)
                                .map(|g| g.members.as_slice())
                                .unwrap_or_default()
                            {
                                if let Ok(t) = ResourceUrn::type_of(m) {
                                    res.entry(m.to_string()).or_insert(Res {
                                        urn: m.to_string(),
                                        rtype: t.to_owned(),
                                        stands_for: None,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        // A named resource is not "any other": a witness that equals one is the named one.
        u.ovh_resources = res.into_values().collect();
        // Contexts and times.
        let sets: Vec<&crate::model::PolicySet> = engines.iter().map(|e| &e.set).collect();
        let at = engines
            .first()
            .map_or_else(jiff::Timestamp::now, |e| e.default_at);
        let (pts, cut) = points::points(&sets, &scope.context, at, scope.fixed_at);
        u.points = pts;
        u.points_cut = cut;
        u.fixed = scope.context.clone();
        // EIM: one symbolic member per group of the account files, also when they list none.
        let mut eim_groups = BTreeSet::new();
        for e in engines.iter() {
            eim_groups.extend(e.set.eim_account.groups.keys().map(|g| g.to_string()));
        }
        for g in eim_groups {
            let m = eim_symbolic_member(&g);
            // A user the account file lists under that name, with links of its own, is not ours to place.
            let listed = engines.iter().any(|e| {
                e.set.eim_account.users.get(m.as_str()).is_some_and(|x| {
                    !x.linked.is_empty()
                        || !x.inline.is_empty()
                        || x.groups.iter().any(|y| **y != *g)
                })
            });
            if listed {
                continue;
            }
            for e in engines.iter_mut() {
                e.assume_eim_member(&m, &g);
            }
            u.eim_member_of.insert(m, g);
        }
        let mut eim_ids = BTreeSet::new();
        let mut eim_known: BTreeSet<String> = catalogue()
            .outscale
            .iter()
            .map(|(a, _)| a.to_string())
            .collect();
        let mut eim_acts = BTreeSet::new();
        for e in engines.iter() {
            let set = &e.set;
            if !set.eim_unlinked.is_empty() {
                eim_ids.insert(None);
            }
            eim_ids.extend(set.eim_account.users.keys().map(|k| Some(k.to_string())));
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
                eim_acts.extend(eim_known.iter().cloned());
            }
        }
        u.eim_identities = eim_ids.into_iter().collect();
        u.eim_actions = eim_acts.into_iter().collect();
        u
    }

    /// The group of a symbolic EIM member (`None` for a listed user and the caller).
    pub fn eim_member_of_id(&self, id: Option<&str>) -> Option<String> {
        id.and_then(|i| self.eim_member_of.get(i)).cloned()
    }

    /// The identities an answer is computed for — every one but the listed group members that answer like
    /// their group's symbolic member — each with those listed members (their URNs): a matrix row, a
    /// finding or a change of the symbolic member holds for each of them, and is reported once.
    pub fn representatives(&self) -> Vec<(usize, Vec<String>)> {
        let mut alike: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, who) in self.ovh_identities.iter().enumerate() {
            match self.twins.get(i).copied().flatten() {
                Some(t) => alike.entry(t).or_default().push(who.urn.clone()),
                None => out.push(i),
            }
        }
        out.into_iter()
            .map(|i| (i, alike.remove(&i).unwrap_or_default()))
            .collect()
    }

    /// The identity of the universe with this URN.
    pub fn who(&self, urn: &str) -> Option<&Who> {
        self.ovh_identities.iter().find(|w| w.urn == urn)
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

/// Resources standing for "any other" resource a wildcard pattern matches: one of each type in play that
/// the pattern matches (`urn:v1:eu:resource:vps:any-other-vps`, shared by every pattern it matches), else
/// the pattern completed (`…:vps:vps-*` → `…:vps:vps-any`).
pub fn resource_witnesses(s: &Spec, types: &BTreeSet<&str>) -> Vec<String> {
    let raw = s.raw();
    let region = raw
        .split(':')
        .nth(2)
        .filter(|r| !r.contains(['*', '?']) && !r.is_empty())
        .unwrap_or("eu");
    let mut out: Vec<String> = types
        .iter()
        .map(|t| format!("urn:v1:{region}:resource:{t}:any-other-{t}"))
        .filter(|c| s.matches(c, Side::Grant) || s.matches(c, Side::Restrict))
        .collect();
    if out.is_empty() {
        out.extend(resource_witness(s));
    }
    out
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
    let k = parts.len().saturating_sub(1);
    if let (Some(last), Some(field)) = (parts.last(), template.get(k)) {
        // Only a pattern whose type is written out: `urn:v1:eu:resource:*` stands for every type.
        if field.starts_with(last) && k > 4 {
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
    candidates.into_iter().find(|c| {
        ResourceUrn::type_of(c).is_ok_and(|t| !t.is_empty() && t != "any" && t != "anyType")
            && s.matches(c, Side::Grant)
    })
}

/// One decision of the universe.
pub fn decide(engine: &Engine, w: &Witness) -> Option<Decision> {
    engine.prepare(&w.request()).ok().map(|p| engine.decide(&p))
}

/// Many decisions for one identity, resource and point: the request is checked once, then only its action
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
        Probe::at(engine, identity, resource, &Point::default())
    }

    pub fn at(
        engine: &'e Engine,
        identity: Option<&str>,
        resource: Option<&str>,
        point: &Point,
    ) -> Option<Probe<'e>> {
        let action = if identity.is_some_and(|i| i.starts_with("urn:")) {
            "probe:probe:probe"
        } else {
            "api:Probe"
        };
        let mut base = engine
            .prepare(&Request::new(identity, action, resource))
            .ok()?;
        base.context = point.context.iter().cloned().collect();
        if let Some(t) = point.at {
            base.at = t;
        }
        Some(Probe { engine, base })
    }

    pub fn allowed(&mut self, action: &str) -> bool {
        self.base.action.clear();
        self.base.action.push_str(action);
        self.engine.decide(&self.base).allowed()
    }
}

/// The policies that can grant an identity something: those naming it and those naming its group.
pub fn granting_policies<'e>(engine: &'e Engine, who: &str) -> Vec<&'e Policy> {
    let set = &engine.set;
    let mut idx: Vec<u32> = engine.ovh_candidates(who).to_vec();
    if let Some((g, _)) = set.membership.user_group.get(who) {
        idx.extend_from_slice(engine.ovh_candidates(g));
    }
    idx.sort_unstable();
    idx.dedup();
    idx.iter()
        .filter_map(|i| set.ovh_policies.get(*i as usize))
        .collect()
}

/// The patterns of the policies whose condition or expiry can change what an identity may do: those naming
/// it or its group, (its group unknown) those naming any group of its account, and, when a resource may
/// belong to another account than the identity's, those naming its account's root: across accounts the
/// decision asks what the owner granted the root (the eval's `delegated`), so a condition there decides the
/// identity's access too. An action none of them can match gets the same answer at every point.
pub struct Conditional<'e> {
    /// The patterns of the conditional (or expiring) policies.
    specs: Vec<&'e Spec>,
    /// The patterns of the reaching policies a condition text can name (see [`Self::worded_classes`]).
    worded: Vec<&'e Spec>,
    /// The patterns of every policy that can reach the identity (and of its account's root, whose grants
    /// are decided too across accounts).
    all: Vec<&'e Spec>,
    /// The exact patterns of `all` (no wildcard: they match one name, on either side), by that name, with
    /// their index in `all`; lower-cased for a pattern that ignores case.
    exact: std::collections::HashMap<String, Vec<u32>>,
    /// The indices in `all` of the other patterns, tried one by one.
    wild: Vec<u32>,
    /// Some exact pattern ignores case.
    folds: bool,
    /// The context keys their conditions read.
    keys: BTreeSet<String>,
    /// Some condition reads the date, or some policy expires.
    timed: bool,
    matrix: &'e crate::model::matrix::Matrix,
}

impl Conditional<'_> {
    pub fn of<'e>(engine: &'e Engine, who: &str) -> Conditional<'e> {
        let set = &engine.set;
        let has = |p: &Policy| p.conditions.is_some() || p.expired_at.is_some();
        let mut policies: Vec<&Policy> = granting_policies(engine, who);
        if let Ok(id) = IdentityUrn::parse(who) {
            if id.kind == IdentityKind::User && !set.membership.user_group.contains_key(who) {
                let prefix = format!("urn:v1:{}:identity:group:{}/", id.region, id.account);
                // Read only for their denies: one without a deny pattern never decides.
                policies.extend(set.ovh_policies.iter().filter(|p| {
                    p.identities.iter().any(|(i, _)| i.starts_with(&prefix))
                        && resources::may_deny(engine, p)
                }));
            }
        }
        // The account root's policies, read for any decision across accounts (see `delegated` in the eval):
        // possible as soon as some policy or resource dump names an owner.
        let mut roots: Vec<&Policy> = Vec::new();
        if let Ok(id) = IdentityUrn::parse(who) {
            let root = format!("urn:v1:{}:identity:account:{}", id.region, id.account);
            if root != who {
                roots.extend(
                    engine
                        .ovh_candidates(&root)
                        .iter()
                        .filter_map(|i| set.ovh_policies.get(*i as usize)),
                );
            }
        }
        let across = !engine.policy_owners.is_empty() || !set.resources.is_empty();
        if across {
            policies.extend(roots.iter().copied());
        }
        let specs_of = |p: &&'e Policy| {
            policy_specs(p).chain(
                p.groups
                    .iter()
                    .filter_map(|(g, _)| set.permission_groups.get(*g))
                    .flat_map(group_specs),
            )
        };
        let mut keys = BTreeSet::new();
        let mut timed = false;
        for p in policies.iter().filter(|p| has(p)) {
            timed |= p.expired_at.is_some();
            if let Some(c) = p.conditions.as_deref() {
                let mut tests = Vec::new();
                points::tests(&c.0, &mut tests);
                for t in tests {
                    match &t.subject {
                        crate::model::condition::Subject::Context(k) => {
                            keys.insert(k.to_string());
                        }
                        crate::model::condition::Subject::Date { .. } => timed = true,
                        crate::model::condition::Subject::ResourceType => {}
                    }
                }
            }
        }
        let mut reaching = policies.clone();
        if !across {
            reaching.extend(roots);
        }
        let all: Vec<&Spec> = reaching.iter().flat_map(specs_of).collect();
        let (exact, wild) = index_specs(&all);
        let folds = all.iter().any(|s| s.pattern.fold_case);
        // The policies a condition text can name (see `condition_of`, which finds a deciding policy's
        // condition by its name): those with a condition, and any sharing a name with one.
        let named: BTreeSet<&str> = set
            .ovh_policies
            .iter()
            .filter(|p| p.conditions.is_some())
            .map(|p| &*p.name)
            .collect();
        Conditional {
            specs: policies
                .iter()
                .filter(|p| has(p))
                .flat_map(specs_of)
                .collect(),
            worded: policies
                .iter()
                .filter(|p| p.conditions.is_some() || named.contains(&*p.name))
                .flat_map(specs_of)
                .collect(),
            all,
            exact,
            wild,
            folds,
            keys,
            timed,
            matrix: &set.matrix,
        }
    }

    /// For each action (all of one identity), the first action of its type that gets the same condition
    /// text on any one resource at any one point where both are allowed (see [`condition_of`]): the
    /// same signature (see [`classes`]) over the patterns of the policies a condition text can name. A
    /// deciding policy's entry reads the action only through its own patterns (and, for an OpenStack
    /// permission, the roles carrying it: a class of its own), so two actions with the same signature
    /// there are allowed by the same conditional policies — on the same resource, at the same point.
    /// Coarser than [`classes`] over every reaching policy: thousands of exact actions, each in a
    /// policy of its own, share one text.
    pub fn worded_classes(&self, actions: &[&str]) -> Vec<usize> {
        let (exact, wild) = index_specs(&self.worded);
        let narrow = Conditional {
            specs: Vec::new(),
            worded: Vec::new(),
            all: self.worded.clone(),
            exact,
            wild,
            folds: self.worded.iter().any(|s| s.pattern.fold_case),
            keys: BTreeSet::new(),
            timed: false,
            matrix: self.matrix,
        };
        classes(&[&narrow], actions)
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Whether a point can matter: it sets only keys the conditions read (besides the fixed ones), and a
    /// time only when some condition reads the date or some policy expires.
    pub fn point_matters(&self, p: &Point, fixed: &[(String, String)]) -> bool {
        (p.at.is_none() || self.timed)
            && p.context
                .iter()
                .all(|(k, _)| self.keys.contains(k) || fixed.iter().any(|(f, _)| f == k))
    }

    /// Whether some conditional pattern can match the action (or a role carrying the permission).
    pub fn matches(&self, action: &str) -> bool {
        let m = |a: &str| {
            self.specs
                .iter()
                .any(|s| s.matches(a, Side::Grant) || s.matches(a, Side::Restrict))
        };
        match self.matrix.permission_index(action) {
            Some(i) => self.matrix.roles_carrying(i).any(|r| m(&r.action)),
            None => m(action),
        }
    }
}

/// The exact patterns of `all` (no wildcard: they match one name, on either side) by that name,
/// lower-cased for a pattern that ignores case, with their indices in `all`; and the indices of the others.
type SpecIndex = (std::collections::HashMap<String, Vec<u32>>, Vec<u32>);

fn index_specs(all: &[&Spec]) -> SpecIndex {
    let mut exact: std::collections::HashMap<String, Vec<u32>> = std::collections::HashMap::new();
    let mut wild = Vec::new();
    for (k, s) in (0u32..).zip(all) {
        match &s.pattern.matcher {
            crate::model::pattern::Matcher::Exact(x) if !s.literal_when_granting => {
                let key = if s.pattern.fold_case {
                    x.to_ascii_lowercase()
                } else {
                    x.to_string()
                };
                exact.entry(key).or_default().push(k);
            }
            _ => wild.push(k),
        }
    }
    (exact, wild)
}

/// One test a decision makes on an action's name, shared by every pattern that makes it: the name equal to
/// a string, equal to it ignoring case, or matched by a wildcard pattern.
#[derive(Clone, Copy)]
enum Atom<'a> {
    Name(&'a str),
    Folded(&'a str),
    Wild(&'a crate::model::pattern::Pattern),
}

/// The distinct atoms of some identities' patterns (a pattern repeats across thousands of policies).
#[derive(Default)]
struct Atoms<'a> {
    list: Vec<Atom<'a>>,
    names: std::collections::HashMap<(&'a str, bool), u32>,
    /// Wildcard patterns by their text, each bucket told apart by the whole pattern.
    wild: std::collections::HashMap<&'a str, Vec<(u32, &'a crate::model::pattern::Pattern)>>,
}

impl<'a> Atoms<'a> {
    fn push(&mut self, a: Atom<'a>) {
        let next = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let new = match a {
            Atom::Name(n) => *self.names.entry((n, false)).or_insert(next) == next,
            Atom::Folded(n) => *self.names.entry((n, true)).or_insert(next) == next,
            Atom::Wild(p) => {
                let bucket = self.wild.entry(&p.raw).or_default();
                let new = !bucket.iter().any(|(_, q)| *q == p);
                if new {
                    bucket.push((next, p));
                }
                new
            }
        };
        if new {
            self.list.push(a);
        }
    }

    /// Every pattern of `c`, on each side, as atoms: a decision reads the action only through them.
    fn add(&mut self, c: &'a Conditional<'_>) {
        for (key, ks) in &c.exact {
            for k in ks {
                if let Some(s) = c.all.get(*k as usize) {
                    // Not literal when granting (see `Conditional::of`): one test on both sides. The key
                    // is lower-cased for a pattern that ignores case.
                    self.push(if s.pattern.fold_case {
                        Atom::Folded(key)
                    } else {
                        Atom::Name(key)
                    });
                }
            }
        }
        for k in &c.wild {
            if let Some(s) = c.all.get(*k as usize) {
                if s.literal_when_granting {
                    // Granting: the text itself; restricting: the pattern.
                    self.push(Atom::Name(&s.pattern.raw));
                }
                self.push(Atom::Wild(&s.pattern));
            }
        }
    }
}

/// Per name of `names` (actions, or resource URNs), the indices of the atoms it passes, ascending: each
/// distinct atom tried once, an exact name looked up (lower-cased too when `folds`), a wildcard tried on
/// every name.
fn signatures(names: &[&str], atoms: &[Atom<'_>], folds: bool) -> Vec<Vec<u32>> {
    use crate::model::pattern::{FxHashMap, Matcher};
    let mut by_name: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    let mut by_lower: FxHashMap<String, Vec<usize>> = FxHashMap::default();
    for (i, a) in names.iter().enumerate() {
        by_name.entry(a).or_default().push(i);
        if folds {
            by_lower.entry(a.to_ascii_lowercase()).or_default().push(i);
        }
    }
    // Sorted names (the universe's order): a plain prefix pattern matches one run of them.
    let sorted = names.is_sorted();
    let mut sigs: Vec<Vec<u32>> = vec![Vec::new(); names.len()];
    for (id, atom) in (0u32..).zip(atoms) {
        let mut mark = |i: &usize| {
            if let Some(s) = sigs.get_mut(*i) {
                s.push(id);
            }
        };
        match atom {
            Atom::Name(n) => by_name.get(n).into_iter().flatten().for_each(&mut mark),
            Atom::Folded(n) => by_lower
                .get(&n.to_ascii_lowercase())
                .into_iter()
                .flatten()
                .for_each(&mut mark),
            Atom::Wild(p) => match &p.matcher {
                Matcher::Prefix(pre) if sorted && !p.fold_case => {
                    let pre: &str = pre;
                    let lo = names.partition_point(|a| *a < pre);
                    for (i, a) in names.iter().enumerate().skip(lo) {
                        if !a.starts_with(pre) {
                            break;
                        }
                        mark(&i);
                    }
                }
                _ => {
                    for (i, a) in names.iter().enumerate() {
                        if p.matches(a) {
                            mark(&i);
                        }
                    }
                }
            },
        }
    }
    sigs
}

/// For each action, the index of the first action of its type with the same signature under every one of
/// `conds` (itself when it is the first, or when it is an OpenStack permission). The signature is the set
/// of atoms (see [`Atom`]) of every reaching policy's patterns, on each side, that match the action: two
/// actions of one type with the same signature get the same answer on every resource at every point, as a
/// decision reads the action only through these patterns. Each distinct atom is tried once on the actions
/// (an exact name looked up), not once per policy. Only a class's first action needs evaluating beyond the
/// first point.
pub fn classes(conds: &[&Conditional<'_>], actions: &[&str]) -> Vec<usize> {
    let mut atoms = Atoms::default();
    for c in conds {
        atoms.add(c);
    }
    // Some exact pattern ignores case: names are looked up lower-cased too.
    let sigs = signatures(actions, &atoms.list, conds.iter().any(|c| c.folds));
    let mut seen: crate::model::pattern::FxHashMap<(&str, &[u32]), usize> =
        crate::model::pattern::FxHashMap::default();
    actions
        .iter()
        .zip(&sigs)
        .enumerate()
        .map(|(i, (a, sig))| {
            // An OpenStack permission is decided through the roles carrying it: its own class.
            if conds.iter().any(|c| c.matrix.permission_index(a).is_some()) {
                i
            } else {
                // Of one resource type: an action of another type is not tried on the same resource.
                *seen.entry((action_type(a), sig.as_slice())).or_insert(i)
            }
        })
        .collect()
}

/// One type's actions, their conditional flags and their classes' positions (see [`by_type`]).
pub type TypeLists<'a> = (Vec<&'a str>, Vec<bool>, Vec<usize>);

/// The actions of one identity split by resource type, computed once per identity rather than per resource:
/// per type, the actions, their conditional flags and their classes (indices into that type's list; see
/// [`classes`]).
pub type Typed<'a> = BTreeMap<&'a str, TypeLists<'a>>;

pub fn by_type<'a>(conds: &[&Conditional<'_>], actions: &[&'a str], flags: &[bool]) -> Typed<'a> {
    // An action is decided once per class on each resource, at every point (a class's actions share their
    // conditional flag: the conditional patterns are among those of the signature).
    let class: Vec<usize> = classes(conds, actions);
    let mut out: Typed<'a> = BTreeMap::new();
    // The position of each action in its type's list: a class's first action has the same type.
    let mut local: Vec<usize> = Vec::with_capacity(actions.len());
    for (i, a) in actions.iter().enumerate() {
        let e = out.entry(action_type(a)).or_default();
        local.push(e.0.len());
        e.0.push(a);
        e.1.push(flags.get(i).copied().unwrap_or(true));
        let rep = class.get(i).copied().unwrap_or(i);
        e.2.push(if rep < i {
            local.get(rep).copied().unwrap_or(e.2.len())
        } else {
            e.2.len()
        });
    }
    out
}

/// What one identity can be granted at all: the actions and resources the granting policies' allows can
/// match. Every other (action, resource) is denied by default.
pub struct Reach<'u> {
    pub actions: Vec<&'u str>,
    pub resources: Vec<&'u Res>,
    /// The indices of the points worth trying (only the first when no condition or expiry reaches it).
    pub points: Vec<usize>,
    /// Per action of `actions`: whether a point other than the first can change its answer.
    pub conditional: Vec<bool>,
}

pub fn reach<'u>(engine: &Engine, u: &'u Universe, who: &str) -> Reach<'u> {
    let cond = Conditional::of(engine, who);
    let mut r = reach_core(engine, u, who, &cond);
    r.conditional = r.actions.iter().map(|a| cond.matches(a)).collect();
    r
}

/// [`reach`] with the identity's [`Conditional`] computed once by the caller, and `conditional` left
/// empty: the caller flags only the actions it asks about (a finding's few), each with `cond.matches`.
fn reach_core<'u>(
    engine: &Engine,
    u: &'u Universe,
    who: &str,
    cond: &Conditional<'_>,
) -> Reach<'u> {
    let set = &engine.set;
    let policies = granting_policies(engine, who);
    let allow_specs: Vec<&Spec> = policies
        .iter()
        .flat_map(|p| {
            p.permissions.allow.iter().chain(
                p.groups
                    .iter()
                    .filter_map(|(g, _)| set.permission_groups.get(*g))
                    .flat_map(|g| g.permissions.allow.iter()),
            )
        })
        .collect();
    // An exact pattern (case kept, read alike on both sides) matches its one name: looked up, not tried
    // (a managed permission group lists hundreds of actions). The other patterns are tried once each
    // (thousands of policies repeat the same few).
    let mut exact: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut wild = Distinct::default();
    for s in &allow_specs {
        match exact_name(s) {
            Some(x) => {
                exact.insert(x);
            }
            None => {
                wild.push(s);
            }
        }
    }
    let allows = |a: &str| exact.contains(a) || wild.list.iter().any(|s| spec_matches(s, a));
    let matrix = &*set.matrix;
    let actions: Vec<&str> = if allow_specs.is_empty() {
        Vec::new()
    } else {
        // The universe's actions are sorted: a prefix pattern (`vps:apiovh:*`) marks one run of them.
        let sorted = u.ovh_actions.is_sorted();
        let mut marks = vec![false; u.ovh_actions.len()];
        for s in &wild.list {
            mark_matching(&u.ovh_actions, String::as_str, sorted, s, &mut marks);
        }
        u.ovh_actions
            .iter()
            .map(String::as_str)
            .zip(marks)
            .filter(|(a, marked)| match matrix.permission_index(a) {
                Some(i) => matrix.roles_carrying(i).any(|r| allows(&r.action)),
                None => *marked || exact.contains(a),
            })
            .map(|(a, _)| a)
            .collect()
    };
    let types: BTreeSet<&str> = actions.iter().map(|a| action_type(a)).collect();
    let resources: Vec<&Res> = if actions.is_empty() {
        Vec::new()
    } else {
        // A resource some granting policy's entries match: an exact URN or a resource group's member
        // (compared as strings, as before) is looked up; each distinct other pattern is tried.
        let mut named: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut patterns = Distinct::default();
        for p in &policies {
            for e in &p.resources {
                match e {
                    ResourceEntry::Pattern(s) => match exact_name(s) {
                        Some(x) => {
                            named.insert(x);
                        }
                        None => {
                            patterns.push(s);
                        }
                    },
                    ResourceEntry::Group { group, .. } => named.extend(
                        set.resource_groups
                            .get(*group)
                            .map(|g| g.members.as_slice())
                            .unwrap_or_default()
                            .iter()
                            .map(|m| &**m),
                    ),
                }
            }
        }
        // The universe's resources are sorted by URN: `urn:v1:eu:resource:vps:*` marks one run of them.
        let sorted = u.ovh_resources.is_sorted_by(|a, b| a.urn <= b.urn);
        let mut marks = vec![false; u.ovh_resources.len()];
        for s in &patterns.list {
            mark_matching(&u.ovh_resources, |r| r.urn.as_str(), sorted, s, &mut marks);
        }
        u.ovh_resources
            .iter()
            .zip(marks)
            .filter(|(r, marked)| {
                types.contains(r.rtype.as_str()) && (*marked || named.contains(r.urn.as_str()))
            })
            .map(|(r, _)| r)
            .collect()
    };
    let points = if cond.is_empty() {
        vec![0]
    } else {
        u.points
            .iter()
            .enumerate()
            .filter(|(_, p)| cond.point_matters(p, &u.fixed))
            .map(|(i, _)| i)
            .collect()
    };
    Reach {
        actions,
        resources,
        points,
        conditional: Vec::new(),
    }
}

/// Whether a pattern matches a name on either side (an allow read narrowly, an except or deny broadly).
fn spec_matches(s: &Spec, name: &str) -> bool {
    s.matches(name, Side::Grant) || s.matches(name, Side::Restrict)
}

/// The one name a pattern matches on either side, when it has no wildcard, keeps case and reads alike on
/// both sides: then `spec_matches(s, n)` is `n == name`, and a set lookup replaces trying it.
fn exact_name(s: &Spec) -> Option<&str> {
    match &s.pattern.matcher {
        crate::model::pattern::Matcher::Exact(x)
            if !s.pattern.fold_case && !s.literal_when_granting =>
        {
            Some(x)
        }
        _ => None,
    }
}

/// Marks the items a pattern matches on either side ([`spec_matches`] on each item's key) and says
/// whether it matched any. When the items are `sorted` by their key, a plain prefix pattern (case kept,
/// read alike on both sides) matches exactly the run of keys starting with its prefix, found by binary
/// search; any other pattern is tried on each item.
fn mark_matching<T>(
    items: &[T],
    key: impl Fn(&T) -> &str,
    sorted: bool,
    s: &Spec,
    marks: &mut [bool],
) -> bool {
    let mut any = false;
    match &s.pattern.matcher {
        crate::model::pattern::Matcher::Prefix(pre)
            if sorted && !s.pattern.fold_case && !s.literal_when_granting =>
        {
            let pre: &str = pre;
            let lo = items.partition_point(|x| key(x) < pre);
            for (x, m) in items.iter().zip(marks.iter_mut()).skip(lo) {
                if !key(x).starts_with(pre) {
                    break;
                }
                *m = true;
                any = true;
            }
        }
        _ => {
            for (x, m) in items.iter().zip(marks.iter_mut()) {
                if spec_matches(s, key(x)) {
                    *m = true;
                    any = true;
                }
            }
        }
    }
    any
}

/// Patterns kept once each, in first-seen order: two specs sharing a pattern (the same text, shared by
/// the loader) and the same reading match the same names.
#[derive(Default)]
struct Distinct<'a> {
    list: Vec<&'a Spec>,
    seen: std::collections::HashSet<(*const crate::model::pattern::Pattern, bool)>,
}

impl<'a> Distinct<'a> {
    /// Keeps `s` unless an equal pattern was kept; says whether it was new.
    fn push(&mut self, s: &'a Spec) -> bool {
        let new = self
            .seen
            .insert((std::sync::Arc::as_ptr(&s.pattern), s.literal_when_granting));
        if new {
            self.list.push(s);
        }
        new
    }
}

/// How an access holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Allowed with no context beyond the fixed keys, at the evaluation time.
    Always,
    /// Allowed only at this point of the universe.
    When(usize),
}

/// For each of `actions` (those of the resource's type), the first point of `points` where it is allowed.
/// `conditional[i]`: a point other than the first can change the answer of action `i`; `class[i]`: the
/// first action with the same signature (see [`classes`]), evaluated for the whole class beyond the
/// first point.
#[allow(clippy::too_many_arguments)]
pub fn access_on(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    res: &Res,
    actions: &[&str],
    points: &[usize],
    conditional: &[bool],
    class: &[usize],
) -> Vec<Option<Access>> {
    let typed: Vec<bool> = actions
        .iter()
        .map(|a| action_type(a) == res.rtype)
        .collect();
    access_on_typed(
        engine,
        u,
        who,
        res,
        actions,
        points,
        conditional,
        class,
        Some(&typed),
        None,
    )
}

/// [`access_on`], told which actions are of the resource's type (`None`: all of them, as in the lists of
/// [`by_type`]); the others are not tried.
#[allow(clippy::too_many_arguments)]
fn access_on_typed(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    res: &Res,
    actions: &[&str],
    points: &[usize],
    conditional: &[bool],
    class: &[usize],
    typed: Option<&[bool]>,
    only: Option<&[bool]>,
) -> Vec<Option<Access>> {
    let mut out: Vec<Option<Access>> = vec![None; actions.len()];
    let cond = |i: usize| conditional.get(i).copied().unwrap_or(true);
    let rep = |i: usize| class.get(i).copied().unwrap_or(i);
    for &pi in points {
        let Some(point) = u.points.get(pi) else {
            continue;
        };
        let Some(mut probe) = Probe::at(engine, Some(&who.urn), Some(&res.urn), point) else {
            continue;
        };
        let mut open = false;
        for i in 0..actions.len() {
            let Some(a) = actions.get(i) else {
                continue;
            };
            let ok = typed.is_none_or(|t| t.get(i).copied().unwrap_or(false))
                && only.is_none_or(|o| o.get(i).copied().unwrap_or(true));
            if !ok || out.get(i).is_some_and(Option::is_some) {
                continue;
            }
            if pi != 0 && !cond(i) {
                continue;
            }
            let r = rep(i);
            let allowed = if r != i {
                // Its class's first action was decided at this point just before.
                out.get(r).copied().flatten()
                    == Some(if pi == 0 {
                        Access::Always
                    } else {
                        Access::When(pi)
                    })
            } else {
                probe.allowed(a)
            };
            if allowed {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(if pi == 0 {
                        Access::Always
                    } else {
                        Access::When(pi)
                    });
                }
            } else if cond(i) {
                open = true;
            }
        }
        if !open {
            break;
        }
    }
    out
}

/// One allowed (identity, action, resource), with how it holds and its witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub identity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<String>,
    pub action: String,
    pub resource: String,
    /// A witness resource: the pattern it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stands_for: Option<String>,
    /// Conditional access: the conditions of the policies that decide it, written out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    pub witness: Witness,
}

impl Grant {
    /// `said`: the condition texts written so far on this resource, by (class of the action's condition
    /// text, point): actions of one such class (see [`Conditional::worded_classes`]) are allowed by the
    /// same conditional policies, so their condition is written once.
    fn new(
        engine: &Engine,
        u: &Universe,
        who: &Who,
        res: &Res,
        (action, class): (&str, usize),
        a: Access,
        said: &mut Said,
    ) -> Grant {
        let point = match a {
            Access::Always => u.points.first().cloned().unwrap_or_default(),
            Access::When(i) => u.points.get(i).cloned().unwrap_or_default(),
        };
        let witness = Witness::new(who, action, &res.urn, &point);
        let condition = match a {
            Access::Always => None,
            Access::When(i) => Some(
                said.entry((class, i))
                    .or_insert_with(|| condition_of(engine, &witness))
                    .clone(),
            ),
        };
        Grant {
            identity: who.urn.clone(),
            member_of: who.member_of.clone(),
            action: action.to_owned(),
            resource: res.urn.clone(),
            stands_for: res.stands_for.clone(),
            condition,
            witness,
        }
    }

    pub fn who(&self) -> Who {
        Who {
            urn: self.identity.clone(),
            member_of: self.member_of.clone(),
        }
    }

    pub fn res(&self) -> Res {
        Res {
            urn: self.resource.clone(),
            rtype: action_type(&self.action).to_owned(),
            stands_for: self.stands_for.clone(),
        }
    }
}

/// An identity's access to an action on every resource where it holds the same way: always, or under one
/// condition text with the same satisfying context (and time). `check` confirms the witness, which names
/// the first resource; the others are allowed with the same context and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantGroup {
    pub identity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<String>,
    /// For a symbolic member: the group's listed members that no policy names, which hold the same.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    pub action: String,
    /// Every resource it holds on, in the universe's order.
    pub resources: Vec<Res>,
    /// Conditional access: the conditions of the policies that decide it, written out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The request that shows it on the first resource.
    pub witness: Witness,
}

impl GrantGroup {
    pub fn who(&self) -> Who {
        Who {
            urn: self.identity.clone(),
            member_of: self.member_of.clone(),
        }
    }

    /// The identity as shown to people, with the listed members it holds for.
    pub fn label(&self) -> String {
        format!("{}{}", self.who().label(), members_note(&self.members))
    }
}

/// One identity's grants gathered into [`GrantGroup`]s as they come, resource by resource.
#[derive(Default)]
struct Grouping {
    groups: Vec<GrantGroup>,
    /// A group by (action, how it holds, condition text).
    at: crate::model::pattern::FxHashMap<(String, Access, Option<String>), usize>,
    /// The groups a resource was added to, for the other resources of its class.
    of_res: crate::model::pattern::FxHashMap<String, Vec<usize>>,
}

impl Grouping {
    fn add(&mut self, g: Grant, res: &Res, x: Access) {
        let key = (g.action.clone(), x, g.condition.clone());
        let i = match self.at.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.groups.len();
                self.groups.push(GrantGroup {
                    identity: g.identity,
                    member_of: g.member_of,
                    members: Vec::new(),
                    action: g.action,
                    resources: Vec::new(),
                    condition: g.condition,
                    witness: g.witness,
                });
                self.at.insert(key, i);
                i
            }
        };
        if let Some(group) = self.groups.get_mut(i) {
            group.resources.push(res.clone());
        }
        self.of_res.entry(res.urn.clone()).or_default().push(i);
    }

    /// `res` holds exactly as `first`, of its class.
    fn copy(&mut self, res: &Res, first: &Res) {
        let Some(at) = self.of_res.get(&first.urn) else {
            return;
        };
        for &i in at {
            if let Some(group) = self.groups.get_mut(i) {
                group.resources.push(res.clone());
            }
        }
    }

    fn done(self, members: &[String]) -> Vec<GrantGroup> {
        let mut out = self.groups;
        for g in &mut out {
            g.members = members.to_vec();
        }
        out
    }
}

/// One identity's grants grouped, deciding one resource of each class (see [`each_access_copying`]).
fn grouped_among(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    resource: Option<&str>,
    reach: (&Reach<'_>, &Conditional<'_>),
    keep: impl Fn(&str) -> bool,
) -> Grouping {
    let grouping = std::cell::RefCell::new(Grouping::default());
    each_access_copying(
        engine,
        u,
        who,
        resource,
        reach,
        keep,
        |res, a, x, said| {
            let g = Grant::new(engine, u, who, res, a, x, said);
            grouping.borrow_mut().add(g, res, x);
        },
        |res, first| {
            grouping.borrow_mut().copy(res, first);
            true
        },
    );
    grouping.into_inner()
}

/// The conditions of the policies that decide a witness, written out (`request.IP.IN_RANGE: 0.0.0.0/0`),
/// with the context that satisfies them.
pub fn condition_of(engine: &Engine, w: &Witness) -> String {
    let mut conds = Vec::new();
    // Brief: the decisive entries are the full explanation's, without locating every policy.
    if let Ok(resp) = engine.prepare(&w.request()).map(|p| {
        engine.explain_with(
            &p,
            crate::eval::Detail::Brief,
            &mut crate::eval::Scratch::default(),
        )
    }) {
        for t in resp.trace.iter().filter(|t| t.decisive) {
            let Some(name) = &t.policy else { continue };
            // Most policies have no condition: that test first spares comparing their names.
            for p in engine
                .set
                .ovh_policies
                .iter()
                .filter(|p| p.conditions.is_some() && *p.name == **name)
            {
                if let Some(c) = p.conditions.as_deref() {
                    let s = format!("`{}` (policy `{name}`)", points::text(&c.0));
                    if !conds.contains(&s) {
                        conds.push(s);
                    }
                }
            }
        }
    }
    let ctx: Vec<String> = w
        .context
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(w.at.iter().map(|t| format!("at {t}")))
        .collect();
    let when = if ctx.is_empty() {
        String::from("the evaluation time")
    } else {
        ctx.join(", ")
    };
    if conds.is_empty() {
        format!("when {when} (a conditional deny then does not apply)")
    } else {
        format!("{} — holds for {when}", conds.join(" and "))
    }
}

/// Every action of the universe (and the catalogue) an action or pattern names; a literal action is itself.
pub fn expand_action(u: &Universe, pattern: &str) -> Vec<String> {
    if !pattern.contains(['*', '?']) {
        return vec![pattern.to_owned()];
    }
    let spec = crate::model::Pattern::wildcard(
        pattern,
        crate::model::pattern::Syntax {
            question: true,
            fold_case: false,
        },
    );
    let mut out: BTreeSet<String> = u
        .ovh_actions
        .iter()
        .chain(&u.eim_actions)
        .filter(|a| spec.matches(a))
        .cloned()
        .collect();
    out.extend(
        catalogue()
            .ovh
            .iter()
            .filter(|a| spec.matches(a))
            .map(|a| a.to_string()),
    );
    out.into_iter().collect()
}

/// Who may do `action` (a name or a pattern) on `resource` (one URN, else every resource of the universe),
/// grouped: per identity, action and how it holds, every resource (see [`GrantGroup`]). A symbolic member's
/// groups name the listed members that answer like it. Identities are decided on every core; the answer is
/// in the order of the identities (by URN), each one's groups in the order of their first resource.
pub fn who_can(
    engine: &Engine,
    u: &Universe,
    action: &str,
    resource: Option<&str>,
) -> (Vec<GrantGroup>, Vec<Witness>) {
    who_can_with_progress(engine, u, action, resource, || {})
}

/// [`who_can`], `tick` called as each identity of the universe is done (a progress bar).
pub fn who_can_with_progress(
    engine: &Engine,
    u: &Universe,
    action: &str,
    resource: Option<&str>,
    mut tick: impl FnMut(),
) -> (Vec<GrantGroup>, Vec<Witness>) {
    let actions = expand_action(u, action);
    // An OVHcloud action asked by name that the universe lacks (the catalogue does not know it: a new API
    // operation, a typo) is still granted by a wildcard: answered over the universe with it added.
    // (A universe built with the action in its scope also has witness resources of a type no catalogue
    // knows; see `Scope::actions`.)
    let extended: Universe;
    let u = if actions
        .iter()
        .any(|a| is_ovh_action_name(a) && !u.ovh_actions.contains(a))
    {
        let mut x = u.clone();
        for a in actions.iter().filter(|a| is_ovh_action_name(a)) {
            if let Err(at) = x.ovh_actions.binary_search(a) {
                x.ovh_actions.insert(at, a.clone());
            }
        }
        extended = x;
        &extended
    } else {
        u
    };
    let mut grants = Vec::new();
    let mut eim = Vec::new();
    // A resource pattern (`urn:v1:eu:resource:vps:*`) stands for the resources of the universe it matches.
    let pattern = resource
        .filter(|r| r.contains('*'))
        .map(|r| crate::model::Pattern::wildcard(r, crate::model::pattern::Syntax::default()));
    let given: Option<Res> = resource.filter(|_| pattern.is_none()).map(|r| Res {
        urn: r.to_owned(),
        rtype: ResourceUrn::type_of(r).unwrap_or_default().to_owned(),
        stands_for: None,
    });
    let ovh_actions: Vec<&str> = actions
        .iter()
        .map(String::as_str)
        .filter(|a| a.matches(':').count() != 1)
        .collect();
    if resource.is_none_or(|r| r.starts_with("urn:")) {
        if given.is_none() {
            // Every action is decided on many resources for many identities: its keys computed once.
            engine.remember_action_keys(ovh_actions.iter().copied());
        }
        let reps: Vec<(&Who, Vec<String>)> = u
            .representatives()
            .into_iter()
            .filter_map(|(i, members)| u.ovh_identities.get(i).map(|w| (w, members)))
            .collect();
        let groups_of = |who: &Who, members: &[String]| -> Vec<GrantGroup> {
            let cond = Conditional::of(engine, &who.urn);
            let mut r = reach_core(engine, u, &who.urn, &cond);
            if let Some(g) = &given {
                // One resource, every asked action tried on it.
                let acts: Vec<&str> = ovh_actions.clone();
                if acts.is_empty() {
                    return Vec::new();
                }
                let flags: Vec<bool> = acts.iter().map(|a| cond.matches(a)).collect();
                let class = classes(&[&cond], &acts);
                let texts = cond.worded_classes(&acts);
                let acc = access_on(engine, u, who, g, &acts, &r.points, &flags, &class);
                let mut said = std::collections::HashMap::new();
                let mut grouping = Grouping::default();
                for ((a, x), c) in acts.iter().zip(acc).zip(&texts) {
                    if let Some(x) = x {
                        let grant = Grant::new(engine, u, who, g, (a, *c), x, &mut said);
                        grouping.add(grant, g, x);
                    }
                }
                return grouping.done(members);
            }
            if let Some(p) = &pattern {
                r.resources.retain(|x| p.matches(&x.urn));
            }
            grouped_among(engine, u, who, None, (&r, &cond), |a| {
                ovh_actions.contains(&a)
            })
            .done(members)
        };
        let found = crate::parallel::map_with_progress(
            &reps,
            |(who, members)| groups_of(who, members),
            |i| {
                for _ in 0..=reps.get(i).map_or(0, |(_, m)| m.len()) {
                    tick();
                }
            },
        );
        grants = found.into_iter().flatten().collect();
        // In the order of identities (a stable sort keeps each one's groups in order).
        grants.sort_by(|a, b| (&a.identity, &a.member_of).cmp(&(&b.identity, &b.member_of)));
    }
    if resource.is_none_or(|r| !r.starts_with("urn:")) {
        for id in &u.eim_identities {
            let Some(mut probe) = Probe::new(engine, id.as_deref(), None) else {
                continue;
            };
            for a in actions.iter().filter(|a| a.matches(':').count() == 1) {
                if probe.allowed(a) {
                    eim.push(Witness {
                        identity: id.clone(),
                        member_of: u.eim_member_of_id(id.as_deref()),
                        action: a.clone(),
                        resource: None,
                        context: Vec::new(),
                        at: None,
                    });
                }
            }
        }
    }
    (grants, eim)
}

/// What one identity may do: every allowed (action, resource) of the universe, grouped per action and how
/// it holds (see [`GrantGroup`]).
pub fn what_can(
    engine: &Engine,
    u: &Universe,
    identity: Option<&str>,
    resource: Option<&str>,
) -> (Vec<GrantGroup>, Vec<Witness>) {
    let principal = identity.map_or(Ok(Principal::Caller), |i| {
        engine
            .prepare(&Request::new(
                Some(i),
                "api:Probe",
                Some("urn:v1:eu:resource:x:x"),
            ))
            .map(|p| p.principal)
    });
    match principal {
        Ok(Principal::Ovh(_)) => {
            let urn = identity.unwrap_or_default();
            let who = u.who(urn).cloned().unwrap_or_else(|| Who {
                urn: urn.to_owned(),
                member_of: None,
            });
            (grants_of(engine, u, &who, resource), Vec::new())
        }
        _ => {
            let mut out = Vec::new();
            let Some(mut probe) = Probe::new(engine, identity, None) else {
                return (Vec::new(), out);
            };
            for a in &u.eim_actions {
                if probe.allowed(a) {
                    out.push(Witness {
                        identity: identity.map(str::to_owned),
                        member_of: u.eim_member_of_id(identity),
                        action: a.clone(),
                        resource: None,
                        context: Vec::new(),
                        at: None,
                    });
                }
            }
            (Vec::new(), out)
        }
    }
}

/// Every grant of one OVHcloud identity (on one resource, when given), grouped (see [`GrantGroup`]). A
/// symbolic member's groups name the listed members that answer like it.
pub fn grants_of(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    resource: Option<&str>,
) -> Vec<GrantGroup> {
    grants_among(engine, u, who, resource, |_| true)
}

/// The grants of one OVHcloud identity among the actions `keep` accepts (a finding's few actions),
/// grouped: the others are not evaluated at all.
pub fn grants_among(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    resource: Option<&str>,
    keep: impl Fn(&str) -> bool,
) -> Vec<GrantGroup> {
    let members = if who.member_of.is_some() {
        u.ovh_identities
            .iter()
            .position(|w| w == who)
            .and_then(|i| {
                u.representatives()
                    .into_iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, m)| m)
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let cond = Conditional::of(engine, &who.urn);
    let r = reach_core(engine, u, &who.urn, &cond);
    grouped_among(engine, u, who, resource, (&r, &cond), keep).done(&members)
}

/// The condition texts of one resource's grants written so far, by (class of the action's condition
/// text, point) (see [`Grant::new`]).
type Said = std::collections::HashMap<(usize, usize), String>;

/// Each allowed (resource, action) of one OVHcloud identity among the actions `keep` accepts, with how it
/// holds, resource by resource in the reach's order, over an identity's reach and conditional patterns computed once by the caller
/// (findings reads the reach again for the administrator probe); only the actions `keep` accepts are
/// flagged and decided. `f` gets the action with the class of its condition text (see
/// [`Conditional::worded_classes`]) and the resource's condition texts so far.
fn each_access_in(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    resource: Option<&str>,
    reach: (&Reach<'_>, &Conditional<'_>),
    keep: impl Fn(&str) -> bool,
    f: impl FnMut(&Res, (&str, usize), Access, &mut Said),
) {
    each_access_copying(engine, u, who, resource, reach, keep, f, |_, _| false);
}

/// Per action of `acts` (one type's list, `class` its classes): whether one of `policies` can deny it —
/// a deny pattern of its own or of one of its permission groups matches it (on either side), or a
/// permission group does not resolve; an OpenStack permission (decided through the roles carrying it)
/// always can. Closed under classes: an action is marked when any of its class is.
fn deniable(engine: &Engine, policies: &[&Policy], acts: &[&str], class: &[usize]) -> Vec<bool> {
    let matrix = &*engine.set.matrix;
    let mut out: Vec<bool> = acts
        .iter()
        .map(|a| {
            !policies.is_empty()
                && (matrix.permission_index(a).is_some()
                    || policies.iter().any(|p| {
                        p.permissions.deny.iter().any(|s| spec_matches(s, a))
                            || p.groups.iter().any(|(g, _)| {
                                engine.set.permission_groups.get(*g).is_none_or(|g| {
                                    g.permissions.deny.iter().any(|s| spec_matches(s, a))
                                })
                            })
                    }))
        })
        .collect();
    let mut hit = vec![false; acts.len()];
    for (i, x) in out.iter().enumerate() {
        if *x {
            if let Some(h) = hit.get_mut(class.get(i).copied().unwrap_or(i)) {
                *h = true;
            }
        }
    }
    for (i, x) in out.iter_mut().enumerate() {
        if hit
            .get(class.get(i).copied().unwrap_or(i))
            .copied()
            .unwrap_or(false)
        {
            *x = true;
        }
    }
    out
}

/// [`each_access_in`], deciding one resource of each class (see [`resources::resource_classes`]: resources
/// every decision of the identity treats alike) and giving the others its answers. `copy(res, first)` is
/// asked first for each resource that is not the first of its class: `true` when the caller copied the
/// first one's results itself (the matrix shares a row), `false` to have `f` called with the same answers.
#[allow(clippy::too_many_arguments)]
fn each_access_copying(
    engine: &Engine,
    u: &Universe,
    who: &Who,
    resource: Option<&str>,
    (r, cond): (&Reach<'_>, &Conditional<'_>),
    keep: impl Fn(&str) -> bool,
    mut f: impl FnMut(&Res, (&str, usize), Access, &mut Said),
    mut copy: impl FnMut(&Res, &Res) -> bool,
) {
    let actions: Vec<&str> = r.actions.iter().copied().filter(|a| keep(a)).collect();
    let conditional: Vec<bool> = actions.iter().map(|a| cond.matches(a)).collect();
    let given: Option<Res> = resource.map(|x| {
        u.ovh_resources
            .iter()
            .find(|y| y.urn == x)
            .cloned()
            .unwrap_or_else(|| Res {
                urn: x.to_owned(),
                rtype: ResourceUrn::type_of(x).unwrap_or_default().to_owned(),
                stands_for: None,
            })
    });
    let resources: Vec<&Res> = match &given {
        Some(g) => vec![g],
        None => r.resources.clone(),
    };
    let class: Vec<usize> = if given.is_some() {
        vec![0]
    } else {
        resources::resource_classes(&[engine], &who.urn, &resources)
    };
    // A user of unknown group: the group policies read for their denies split the resources finely. The
    // first of a class that only those policies tell apart from an earlier class (its `whole` class's
    // first) takes that one's answers, and decides again only the actions one of those policies can deny
    // (see `resources::deny_only_differs`).
    let deny_only = if given.is_some() {
        Vec::new()
    } else {
        resources::deny_only(engine, &who.urn)
    };
    let whole: Vec<usize> = if deny_only.is_empty() {
        Vec::new()
    } else {
        resources::whole_classes(engine, &who.urn, &resources)
    };
    // The answers of a class's first resource, kept while another of its class (or of its whole class)
    // is to come.
    let mut copied = vec![false; resources.len()];
    for (i, &c) in class.iter().enumerate().chain(whole.iter().enumerate()) {
        if c != i {
            if let Some(x) = copied.get_mut(c) {
                *x = true;
            }
        }
    }
    let mut kept: crate::model::pattern::FxHashMap<usize, Vec<Option<Access>>> =
        crate::model::pattern::FxHashMap::default();
    let typed = by_type(&[cond], &actions, &conditional);
    // Per type, the classes of actions that share a condition text (see `Conditional::worded_classes`),
    // computed for a type at its first conditional grant (an unconditional one has no text).
    let mut worded: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    // Resources come sorted, so grouped by type: a type's lists are looked up at its first.
    let mut last: Option<(&str, Option<&TypeLists<'_>>)> = None;
    for (ri, res) in resources.iter().enumerate() {
        let found = match last {
            Some((t, found)) if t == res.rtype.as_str() => found,
            _ => {
                let found = typed.get(res.rtype.as_str());
                last = Some((res.rtype.as_str(), found));
                found
            }
        };
        let Some((acts, flags, aclass)) = found else {
            continue;
        };
        let first = class.get(ri).copied().unwrap_or(ri);
        let acc = match kept.get(&first) {
            Some(acc) if first != ri => {
                if resources.get(first).is_some_and(|x| copy(res, x)) {
                    continue;
                }
                acc.clone()
            }
            _ => {
                // The type's own list: every action is of the resource's type.
                let near = whole
                    .get(ri)
                    .copied()
                    .filter(|w| *w != ri)
                    .and_then(|w| Some((resources.get(w)?, kept.get(&w)?)));
                let acc = match near {
                    Some((w, base)) if w.rtype == res.rtype => {
                        let differs =
                            resources::deny_only_differs(engine, &deny_only, &w.urn, &res.urn);
                        let again = deniable(engine, &differs, acts, aclass);
                        if again.iter().any(|x| *x) {
                            let fresh = access_on_typed(
                                engine,
                                u,
                                who,
                                res,
                                acts,
                                &r.points,
                                flags,
                                aclass,
                                None,
                                Some(&again),
                            );
                            base.iter()
                                .zip(fresh)
                                .zip(&again)
                                .map(|((b, f), a)| if *a { f } else { *b })
                                .collect()
                        } else {
                            base.clone()
                        }
                    }
                    _ => access_on_typed(
                        engine, u, who, res, acts, &r.points, flags, aclass, None, None,
                    ),
                };
                if copied.get(ri).copied().unwrap_or(false) {
                    kept.insert(ri, acc.clone());
                }
                acc
            }
        };
        let mut said = Said::new();
        for ((i, a), x) in acts.iter().enumerate().zip(acc) {
            let Some(x) = x else { continue };
            let c = if x == Access::Always {
                i
            } else {
                worded
                    .entry(res.rtype.as_str())
                    .or_insert_with(|| cond.worded_classes(acts))
                    .get(i)
                    .copied()
                    .unwrap_or(i)
            };
            f(res, (a, c), x, &mut said);
        }
    }
}

/// The listed members a symbolic member's answer also holds for, for a label: ` (the same for its listed
/// member(s) no policy names: a, b, c and 12 more)`, the first few named.
pub fn members_note(members: &[String]) -> String {
    if members.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = members.iter().take(5).map(String::as_str).collect();
    let more = members.len().saturating_sub(shown.len());
    format!(
        " (the same for its {} listed member(s) no policy names: {}{})",
        members.len(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// Whether an identity URN is a service account.
pub fn is_service_account(id: &str) -> bool {
    IdentityUrn::parse(id).is_ok_and(|u| u.kind == IdentityKind::Credential)
}

/// The effective-access matrix: for each resource, identities × permissions (the 16 OpenStack permissions
/// for a Public Cloud project) and the other actions each identity may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessMatrix {
    pub blocks: Vec<Block>,
}

/// One resource's block (`resource` is absent for EIM, which has no resource-level permissions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub cloud: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// A witness resource: the pattern it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stands_for: Option<String>,
    /// Column names (OpenStack permissions for a project; empty otherwise).
    pub permissions: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Shared by the identity's rows, like `member_of`.
    pub identity: Shared<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_of: Option<Shared<str>>,
    /// One per column of `permissions`.
    pub granted: Vec<bool>,
    /// The other actions allowed here (each name shared by every row, and the list by the rows of
    /// resources the identity's decisions treat alike: a matrix holds millions).
    pub actions: Shared<Vec<Shared<str>>>,
    /// The permissions and actions allowed here only under a condition, grouped: those allowed at the same
    /// point under the same condition text are one entry, in the order of their first action.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<ConditionalAccess>,
    /// For a symbolic member: the group's listed members that no policy names, whose row is this one
    /// (one list shared by the identity's rows).
    #[serde(skip_serializing_if = "Shared::is_empty")]
    pub members: Shared<Vec<String>>,
}

/// A value shared by many rows of a matrix, serialized as the value itself.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Shared<T: ?Sized>(pub std::sync::Arc<T>);

impl<T: ?Sized> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(std::sync::Arc::clone(&self.0))
    }
}

impl<T: ?Sized> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + Serialize> Serialize for Shared<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (*self.0).serialize(s)
    }
}

impl Shared<Vec<String>> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Shared<str> {
    fn from(s: &str) -> Self {
        Shared(std::sync::Arc::from(s))
    }
}

impl std::fmt::Display for Shared<str> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Permissions and actions of one matrix row allowed only under one condition: the same condition text
/// and the same satisfying context (and time). `check` allows each of `actions` with the witness's context
/// and time; the witness names the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionalAccess {
    /// The conditions of the policies that decide it, written out, with the context that satisfies them.
    pub condition: String,
    /// Every permission and action allowed under it, in the universe's order.
    pub actions: Vec<String>,
    /// The request that shows the first action: its context (and time) satisfy the condition.
    pub witness: Witness,
}

impl Row {
    /// How many permissions and actions of the row are conditional.
    pub fn conditional_count(&self) -> usize {
        self.conditional.iter().map(|c| c.actions.len()).sum()
    }

    /// Add a conditional grant to its entry: the one with the same condition and satisfying context (and
    /// time), else a new one.
    fn add_conditional(&mut self, g: Grant) {
        let same = self.conditional.iter_mut().find(|c| {
            c.condition.as_str() == g.condition.as_deref().unwrap_or_default()
                && c.witness.context == g.witness.context
                && c.witness.at == g.witness.at
        });
        match same {
            Some(c) => c.actions.push(g.action),
            None => self.conditional.push(ConditionalAccess {
                condition: g.condition.unwrap_or_default(),
                actions: vec![g.action],
                witness: g.witness,
            }),
        }
    }

    pub fn label(&self) -> String {
        match &self.member_of {
            Some(g) => format!("{}{}", member_label(g), members_note(&self.members)),
            None => self.identity.to_string(),
        }
    }
}

/// The matrix, one identity at a time; `tick` is called after each identity (a progress bar).
pub fn access_matrix(engine: &Engine, u: &Universe, mut tick: impl FnMut()) -> AccessMatrix {
    // Every action is decided on many resources for many identities: its keys computed once.
    engine.remember_action_keys(u.ovh_actions.iter().map(String::as_str));
    let matrix = &*engine.set.matrix;
    let perm_names: Vec<String> = matrix.permissions.iter().map(|p| p.name.clone()).collect();
    // Rows by the resource's position in the universe (its block's).
    let mut by_res: Vec<Vec<Row>> = vec![Vec::new(); u.ovh_resources.len()];
    let mut by_urn: crate::model::pattern::FxHashMap<&str, (usize, &Res)> =
        crate::model::pattern::FxHashMap::default();
    for (i, r) in u.ovh_resources.iter().enumerate() {
        by_urn.entry(r.urn.as_str()).or_insert((i, r));
    }
    // Each action's name once, shared by the rows.
    let names: crate::model::pattern::FxHashMap<&str, Shared<str>> = u
        .ovh_actions
        .iter()
        .map(|a| (a.as_str(), Shared::from(a.as_str())))
        .collect();
    // A listed member answering like its group's symbolic member is one of that row's members. Identities
    // are independent: decided on every core, progress shown as each is done.
    let reps: Vec<(&Who, Vec<String>)> = u
        .representatives()
        .into_iter()
        .filter_map(|(i, members)| u.ovh_identities.get(i).map(|w| (w, members)))
        .collect();
    let rows_of = |who: &Who, members: &[String]| -> Vec<(usize, Row)> {
        let members = Shared(std::sync::Arc::new(members.to_vec()));
        let identity = Shared::from(who.urn.as_str());
        let member_of = who.member_of.as_deref().map(Shared::from);
        // One identity's rows, resource by resource (each_access gives a resource's grants together).
        let mut out: Vec<(usize, Row)> = Vec::new();
        // Where each resource's row is (by the resource's position), to copy it to another resource of
        // its class.
        let mut at: Vec<Option<usize>> = vec![None; u.ovh_resources.len()];
        let rows = std::cell::RefCell::new((&mut out, &mut at));
        let last: std::cell::Cell<Option<(usize, &Res)>> = std::cell::Cell::new(None);
        let cond = Conditional::of(engine, &who.urn);
        let reach = reach_core(engine, u, &who.urn, &cond);
        // Straight into the rows: only a conditional grant is kept whole, with its witness.
        each_access_copying(
            engine,
            u,
            who,
            None,
            (&reach, &cond),
            |_| true,
            |r, (a, c), x, said| {
                let mut guard = rows.borrow_mut();
                let (rows, at) = &mut *guard;
                // A resource's grants come together: it is looked up at its first.
                let (ri, res) = match last.get() {
                    Some(l) if std::ptr::eq(l.1, r) || l.1.urn == r.urn => l,
                    _ => {
                        let Some(l) = by_urn.get(r.urn.as_str()).copied() else {
                            return;
                        };
                        last.set(Some(l));
                        l
                    }
                };
                let project = res.rtype == "publicCloudProject";
                if rows.last().is_none_or(|(i, _)| *i != ri) {
                    if let Some(slot) = at.get_mut(ri) {
                        *slot = Some(rows.len());
                    }
                    rows.push((
                        ri,
                        Row {
                            identity: identity.clone(),
                            member_of: member_of.clone(),
                            granted: if project {
                                vec![false; perm_names.len()]
                            } else {
                                Vec::new()
                            },
                            actions: Shared::default(),
                            conditional: Vec::new(),
                            members: members.clone(),
                        },
                    ));
                }
                let Some((_, row)) = rows.last_mut() else {
                    return;
                };
                if x != Access::Always {
                    row.add_conditional(Grant::new(engine, u, who, res, (a, c), x, said));
                    return;
                }
                match matrix.permission_index(a) {
                    Some(i) if project => {
                        if let Some(c) = row.granted.get_mut(i) {
                            *c = true;
                        }
                    }
                    // Unique while the row is built: pushed in place.
                    _ => std::sync::Arc::make_mut(&mut row.actions.0)
                        .push(names.get(a).cloned().unwrap_or_else(|| Shared::from(a))),
                }
            },
            |r, first| {
                // The same row as its class's first resource: its actions shared, its conditional
                // witnesses naming this resource.
                let Some((ri, res)) = by_urn.get(r.urn.as_str()).copied() else {
                    return true;
                };
                let Some((fi, _)) = by_urn.get(first.urn.as_str()).copied() else {
                    return true;
                };
                let mut guard = rows.borrow_mut();
                let (rows, at) = &mut *guard;
                let Some(mut row) = at
                    .get(fi)
                    .copied()
                    .flatten()
                    .and_then(|k| rows.get(k))
                    .map(|(_, row)| row.clone())
                else {
                    // Nothing allowed on the first: nothing here either.
                    return true;
                };
                for c in &mut row.conditional {
                    c.witness.resource = Some(res.urn.clone());
                }
                if let Some(slot) = at.get_mut(ri) {
                    *slot = Some(rows.len());
                }
                rows.push((ri, row));
                true
            },
        );
        out
    };
    let found = crate::parallel::map_with_progress(
        &reps,
        |(who, members)| rows_of(who, members),
        |i| {
            for _ in 0..=reps.get(i).map_or(0, |(_, m)| m.len()) {
                tick();
            }
        },
    );
    for rows in found {
        for (r, row) in rows {
            if let Some(v) = by_res.get_mut(r) {
                v.push(row);
            }
        }
    }
    let mut blocks = Vec::new();
    for (res, rows) in u.ovh_resources.iter().zip(by_res) {
        if rows.is_empty() {
            continue;
        }
        let project = res.rtype == "publicCloudProject";
        blocks.push(Block {
            cloud: "ovhcloud",
            resource: Some(res.urn.clone()),
            stands_for: res.stands_for.clone(),
            permissions: if project {
                perm_names.clone()
            } else {
                Vec::new()
            },
            rows,
        });
    }
    let mut rows = Vec::new();
    for id in &u.eim_identities {
        let actions: Vec<Shared<str>> = what_can(engine, u, id.as_deref(), None)
            .1
            .iter()
            .map(|w| Shared::from(w.action.as_str()))
            .collect();
        rows.push(Row {
            identity: Shared::from(id.as_deref().unwrap_or("(caller)")),
            member_of: u
                .eim_member_of_id(id.as_deref())
                .as_deref()
                .map(Shared::from),
            granted: Vec::new(),
            actions: Shared(std::sync::Arc::new(actions)),
            conditional: Vec::new(),
            members: Shared::default(),
        });
    }
    if !rows.is_empty() {
        blocks.push(Block {
            cloud: "outscale",
            resource: None,
            stands_for: None,
            permissions: Vec::new(),
            rows,
        });
    }
    AccessMatrix { blocks }
}
