//! OVHcloud raw objects → policies, permission groups, resource groups and memberships.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use indexmap::IndexMap;

use super::problem;
use crate::error::Problem;
use crate::load::raw;
use crate::load::{read_ovh_item, OvhItem};
use crate::model::condition::{Condition, Test};
use crate::model::matrix::Matrix;
use crate::model::ovh::{
    Membership, Permissions, PermissionsGroup, Policy, ResourceEntry, ResourceGroup, ResourceInfo,
};
use crate::model::pattern::{FxHashMap, FxHasher, Pattern, Syntax};
use crate::model::urn::{check_resource_pattern, IdentityKind, IdentityUrn, ResourceRef, REGIONS};
use crate::model::{Reading, Spec};
use crate::source::{Loc, SourceMap};

pub struct Ovh {
    pub policies: Vec<Policy>,
    pub permission_groups: Vec<PermissionsGroup>,
    pub resource_groups: Vec<ResourceGroup>,
    pub membership: Membership,
    /// Resources described by a `GET /v2/iam/resource` dump or a detailed resource group.
    pub resources: IndexMap<Box<str>, ResourceInfo>,
    /// What was read the safe way, or replaced: not errors, said above every answer.
    pub warnings: Vec<Problem>,
}

/// A reference from a policy to a group, resolved once every object is read (a policy may name a group
/// defined after it, or in another file).
struct Ref {
    /// The policy's index in `Ovh::policies`, when it was kept.
    policy: Option<usize>,
    kind: RefKind,
    /// Its position in the policy's `resources` or `groups`.
    slot: usize,
    urn: Box<str>,
    loc: Loc,
    /// `problems.len()` when the reference was read: a problem about it goes there, in reading order.
    problem_at: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    ResourceGroup,
    PermissionsGroup,
}

/// One object, checked on its own: what it is, the problems found in it, its references to groups (their
/// `problem_at` counts within `problems`). A policy itself goes to the object's slot.
/// Most objects have neither, so both are boxed together: 100k checked objects wait for their turn.
struct Checked {
    what: Option<Object>,
    notes: Option<Box<(Vec<Problem>, Vec<Ref>)>>,
}

impl Checked {
    fn new(what: Option<Object>, problems: Vec<Problem>, refs: Vec<Ref>) -> Self {
        let notes = (!problems.is_empty() || !refs.is_empty()).then(|| Box::new((problems, refs)));
        Checked { what, notes }
    }
}

enum Object {
    /// A policy, in its slot.
    Policy,
    PermissionsGroup(Box<PermissionsGroup>),
    /// A resource group, with what its detailed members say of each resource.
    ResourceGroup(Box<(ResourceGroup, Vec<Described>)>),
    /// A resource of `GET /v2/iam/resource`.
    Resource(Box<(Box<str>, ResourceInfo)>),
}

/// Fewer objects than this are checked on the calling thread alone.
const PARALLEL_MIN: usize = 4096;

impl Ovh {
    /// Read and check the objects one at a time (only one raw object is alive at a time per thread), on
    /// every core for a large set, then take them in input order: groups (a group defined twice), policies,
    /// and every problem in the order a one-by-one reading would have met it; last, resolve the policies'
    /// references to groups.
    pub fn validate(
        items: Vec<OvhItem>,
        sources: &SourceMap,
        accounts: &[(raw::OvhAccount, Loc)],
        matrix: &Matrix,
        problems: &mut Vec<Problem>,
    ) -> Ovh {
        // One slot per object, allocated once: each thread fills the slots of its own objects, and the
        // policies are then taken out in place (`Option<Policy>` is the size of a `Policy`, so the collect
        // below reuses this allocation): the model is never copied.
        let mut slots: Vec<Option<Policy>> = Vec::new();
        slots.resize_with(items.len(), || None);
        let check_all = |items: &[OvhItem], slots: &mut [Option<Policy>]| -> Vec<Checked> {
            let mut shared = Shared::default();
            items
                .iter()
                .zip(slots)
                .map(|(item, slot)| check(sources, item, matrix, &mut shared, slot))
                .collect()
        };
        let parts = crate::parallel::parts(items.len(), PARALLEL_MIN / 2);
        let checked: Vec<Vec<Checked>> = if parts < 2 {
            vec![check_all(&items, &mut slots)]
        } else {
            use rayon::prelude::*;
            let per = items.len().div_ceil(parts);
            items
                .par_chunks(per)
                .zip(slots.par_chunks_mut(per))
                .map(|(piece, slots)| check_all(piece, slots))
                .collect()
        };
        let mut out = Ovh {
            policies: Vec::new(),
            permission_groups: Vec::new(),
            resource_groups: Vec::new(),
            membership: Membership::default(),
            resources: IndexMap::new(),
            warnings: Vec::new(),
        };
        let mut refs = Vec::new();
        let mut policies = 0;
        for (item, c) in items.iter().zip(checked.into_iter().flatten()) {
            let base = problems.len();
            let (own_problems, own_refs) = c.notes.map(|n| *n).unwrap_or_default();
            problems.extend(own_problems);
            let policy = match c.what {
                Some(Object::PermissionsGroup(g)) => {
                    match out.permission_groups.iter_mut().find(|x| x.urn == g.urn) {
                        // A dump of `GET /v2/iam/permissionsGroup` lists the OVHcloud-managed groups too: the
                        // dumped definition is the account's current one and replaces the shipped copy.
                        Some(x) if is_builtin(sources, &x.loc) => {
                            if let Some(diff) = permissions_differ(&x.permissions, &g.permissions) {
                                out.warnings.push(
                                    problem(&item.loc.key("permissions"), format!("the dumped OVHcloud-managed permission group `{}` differs from the shipped copy ({diff}); the dumped one is used", g.urn))
                                        .help("the shipped copy may be out of date; the API's answer is the account's current definition"),
                                );
                            }
                            *x = *g;
                        }
                        // The same object twice (overlapping pages, a list and a single `GET`): one.
                        Some(x) if permissions_differ(&x.permissions, &g.permissions).is_none() => {
                        }
                        Some(_) => problems.push(problem(
                            &item.loc.key("urn"),
                            format!("permission group `{}` is defined twice, differently", g.urn),
                        )),
                        None => out.permission_groups.push(*g),
                    }
                    None
                }
                Some(Object::ResourceGroup(g)) => {
                    let (g, members) = *g;
                    let same = |x: &ResourceGroup| {
                        let mut a: Vec<&str> = x.members.iter().map(|m| &**m).collect();
                        let mut b: Vec<&str> = g.members.iter().map(|m| &**m).collect();
                        a.sort_unstable();
                        b.sort_unstable();
                        a == b
                    };
                    if let Some(x) = out.resource_groups.iter_mut().find(|x| x.urn == g.urn) {
                        if !x.known && g.known {
                            // The detailed dump completes a listing by `id` only.
                            *x = g;
                        } else if g.known && !same(x) {
                            problems.push(problem(
                                &item.loc.key("urn"),
                                format!(
                                    "resource group `{}` is defined twice, with different members",
                                    g.urn
                                ),
                            ));
                        }
                    } else {
                        out.resource_groups.push(g);
                    }
                    for (urn, info) in members {
                        out.resources.entry(urn).or_insert(info);
                    }
                    None
                }
                Some(Object::Resource(r)) => {
                    let (urn, info) = *r;
                    // `GET /v2/iam/resource` is the authority on a resource; it wins over a group's copy.
                    out.resources.insert(urn, info);
                    None
                }
                Some(Object::Policy) => {
                    policies += 1;
                    Some(policies - 1)
                }
                None => None,
            };
            refs.extend(own_refs.into_iter().map(|mut r| {
                r.policy = policy;
                r.problem_at += base;
                r
            }));
        }
        for g in out.resource_groups.iter().filter(|g| !g.known) {
            out.warnings.push(problem(&g.loc.key("resources"), format!("resource group `{}` lists its members by `id` only: its allows are read as granting nothing and its denies as covering every resource", g.urn))
                .help("dump it with `GET /v2/iam/resourceGroup?details=true`, whose members carry their `urn`"));
        }
        // `filter_map`, not `flatten`: only the former collects in place.
        #[allow(clippy::filter_map_identity)]
        let kept = slots.into_iter().filter_map(|p| p).collect();
        out.policies = kept;
        resolve(&mut out, refs, problems);
        for (account, loc) in accounts {
            membership(account, loc, &mut out.membership, problems);
        }
        out
    }
}

/// Read one object and check it on its own; a policy goes to `policies`.
fn check(
    sources: &SourceMap,
    item: &OvhItem,
    matrix: &Matrix,
    shared: &mut Shared,
    slot: &mut Option<Policy>,
) -> Checked {
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    let obj = match read_ovh_item(sources, item) {
        Ok(obj) => obj,
        Err(p) => {
            return Checked::new(None, vec![p], refs);
        }
    };
    let loc = item.loc;
    let what = match obj.urn.as_deref().map(str::trim) {
        Some(urn) if urn.contains(":permissionsGroup:") => {
            permission_group(&obj, urn, &loc, shared, &mut problems)
                .map(|g| Object::PermissionsGroup(Box::new(g)))
        }
        Some(urn) if urn.contains(":resourceGroup:") => {
            resource_group(&obj, urn, &loc, &mut problems)
                .map(|g| Object::ResourceGroup(Box::new(g)))
        }
        Some(urn) if urn.contains(":resource:") => {
            resource(&obj, urn, &loc, &mut problems).map(|r| Object::Resource(Box::new(r)))
        }
        Some(urn) => {
            problems.push(problem(&loc.key("urn"), format!("unexpected `urn` `{urn}`: a policy has no `urn`, a permission group's contains `:permissionsGroup:`, a resource group's `:resourceGroup:`, a resource's (`GET /v2/iam/resource`) `:resource:`")));
            None
        }
        None => policy(obj, &loc, matrix, shared, &mut refs, &mut problems).map(|p| {
            *slot = Some(p);
            Object::Policy
        }),
    };
    Checked::new(what, problems, refs)
}

/// Point each reference at its group, or say it is unknown where it was read.
fn resolve(out: &mut Ovh, refs: Vec<Ref>, problems: &mut Vec<Problem>) {
    let mut unknown = Vec::new();
    for r in refs {
        let found = match r.kind {
            RefKind::ResourceGroup => {
                let at = out.resource_groups.iter().position(|g| *g.urn == *r.urn);
                // A group no input defines (a policy dump alone, or the managed `ovh-default` policy's
                // group): read the safe way rather than refuse the whole set.
                at.or_else(|| {
                    out.warnings.push(
                        problem(&r.loc, format!("resource group `{}` is not defined by any input: the allows of policies naming it are read as granting nothing, their denies as covering every resource", r.urn))
                            .help("pass the `GET /v2/iam/resourceGroup?details=true` dump with --policies to evaluate it exactly"),
                    );
                    out.resource_groups.push(ResourceGroup {
                        urn: r.urn.clone(),
                        name: r.urn.clone(),
                        loc: r.loc,
                        members: Vec::new(),
                        known: false,
                        owner: None,
                    });
                    Some(out.resource_groups.len() - 1)
                })
            }
            RefKind::PermissionsGroup => out
                .permission_groups
                .iter()
                .position(|g| *g.urn == *r.urn.trim()),
        };
        match (found, r.policy.and_then(|i| out.policies.get_mut(i))) {
            (Some(index), Some(p)) => match r.kind {
                RefKind::ResourceGroup => {
                    if let Some(ResourceEntry::Group { group, .. }) = p.resources.get_mut(r.slot) {
                        *group = index;
                    }
                }
                RefKind::PermissionsGroup => {
                    if let Some((group, _)) = p.groups.get_mut(r.slot) {
                        *group = index;
                    }
                }
            },
            (Some(_), None) => {}
            (None, _) => {
                let p = match r.kind {
                    RefKind::ResourceGroup => problem(&r.loc, format!("unknown resource group `{}`", r.urn))
                        .help("pass its definition (`GET /v2/iam/resourceGroup?details=true`) with --policies; without its members the policy cannot be evaluated"),
                    RefKind::PermissionsGroup => {
                        let known: Vec<&str> = out.permission_groups.iter().map(|g| &*g.urn).collect();
                        let mut m = format!("unknown permission group `{}`", r.urn);
                        if let Some(c) = crate::load::closest(r.urn.trim(), &known) {
                            m.push_str(&format!("; did you mean `{c}`?"));
                        }
                        problem(&r.loc, m).help(
                            "the OVHcloud-managed groups shipped with policy-sim are `urn:v1:eu:permissionsGroup:ovh:{globalAdmin, globalReadWrite, globalReadOnly, ...}`; pass the `GET /v2/iam/permissionsGroup` dump (your account's groups and OVHcloud's current ones) with --policies",
                        )
                    }
                };
                unknown.push((r.problem_at, p));
            }
        }
    }
    // Latest first, so that earlier positions stay valid and problems at one position keep their order.
    for (at, p) in unknown.into_iter().rev() {
        problems.insert(at.min(problems.len()), p);
    }
}

fn policy(
    obj: raw::OvhObject,
    loc: &Loc,
    _matrix: &Matrix,
    shared: &mut Shared,
    refs: &mut Vec<Ref>,
    problems: &mut Vec<Problem>,
) -> Option<Policy> {
    let start = problems.len();
    let name = match obj.name.as_deref() {
        None => {
            problems.push(
                problem(loc, "policy has no `name`")
                    .help("every OVHcloud policy has a unique `name` without spaces"),
            );
            String::from("<unnamed>")
        }
        Some(n) if n.trim().is_empty() || n.chars().any(char::is_whitespace) => {
            problems.push(problem(&loc.key("name"), format!("policy name `{n}` is empty or contains white space; OVHcloud names have no spaces")));
            n.to_owned()
        }
        Some(n) => n.to_owned(),
    };
    let mut identities = Vec::new();
    match &obj.identities {
        None => problems.push(
            problem(loc, format!("policy `{name}` has no `identities`")).help(
                "add the URNs of the accounts, users, groups or service accounts it applies to",
            ),
        ),
        Some(list) if list.is_empty() => problems.push(problem(
            &loc.key("identities"),
            format!("policy `{name}` has an empty `identities` list: it applies to no one"),
        )),
        Some(list) => {
            let at = loc.key("identities");
            identities.reserve_exact(list.len());
            for (i, raw) in list.iter().enumerate() {
                let at = at.index(i);
                if let Some(known) = shared.identities.get(raw.as_str()) {
                    identities.push((known.clone(), at));
                    continue;
                }
                match IdentityUrn::parse(raw) {
                    Ok(_) => {
                        let urn = shared.str(raw);
                        shared.identities.insert(urn.clone());
                        identities.push((urn, at));
                    }
                    Err(e) => problems.push(problem(&at, e)),
                }
            }
        }
    }
    let mut resources = Vec::new();
    match &obj.resources {
        None => problems.push(problem(loc, format!("policy `{name}` has no `resources`"))),
        Some(list) if list.is_empty() => problems.push(problem(
            &loc.key("resources"),
            format!("policy `{name}` has an empty `resources` list: it applies to nothing"),
        )),
        Some(list) => {
            let at = loc.key("resources");
            resources.reserve_exact(list.len());
            for (i, r) in list.iter().enumerate() {
                let Some(urn) = r.urn.as_ref() else {
                    problems.push(problem(&at.index(i), format!("policy `{name}`: this `resources` entry has no `urn` (missing or null)")).help("each entry names a resource or resource group: `{\"urn\": \"urn:v1:eu:resource:vps:*\"}`"));
                    continue;
                };
                let at = at.index(i).key("urn");
                if let Some((pattern, literal)) = shared.resources.get(urn.as_str()) {
                    resources.push(ResourceEntry::Pattern(spec(pattern.clone(), *literal, at)));
                    continue;
                }
                match check_resource_pattern(urn) {
                    Ok((ResourceRef::Group, _)) => {
                        refs.push(Ref {
                            policy: None,
                            kind: RefKind::ResourceGroup,
                            slot: resources.len(),
                            urn: urn.as_str().into(),
                            loc: at,
                            problem_at: problems.len(),
                        });
                        resources.push(ResourceEntry::Group {
                            urn: urn.as_str().into(),
                            loc: at,
                            group: usize::MAX,
                        });
                    }
                    Ok((ResourceRef::Pattern, unsupported)) => {
                        let spec = spec(shared.pattern(urn), unsupported, at);
                        shared
                            .resources
                            .insert(urn.as_str().into(), (spec.pattern.clone(), unsupported));
                        resources.push(ResourceEntry::Pattern(spec));
                    }
                    Err(e) => problems.push(problem(&at, e)),
                }
            }
        }
    }
    let permissions = match &obj.permissions {
        None => {
            problems.push(
                problem(loc, format!("policy `{name}` has no `permissions`"))
                    .help("add `\"permissions\": {\"allow\": [{\"action\": \"...\"}]}`"),
            );
            Permissions::default()
        }
        Some(p) => permissions(p, &loc.key("permissions"), shared, problems),
    };
    let mut groups = Vec::new();
    let groups_at = loc.key("permissionsGroups");
    for (i, g) in obj.permissions_groups.iter().flatten().enumerate() {
        let at = groups_at.index(i).key("urn");
        refs.push(Ref {
            policy: None,
            kind: RefKind::PermissionsGroup,
            slot: groups.len(),
            urn: g.urn.as_str().into(),
            loc: at,
            problem_at: problems.len(),
        });
        groups.push((usize::MAX, at));
    }
    let conditions = obj.conditions.as_ref().and_then(|c| {
        let at = loc.key("conditions");
        condition(c, &at, 1, problems).map(|c| (c, at))
    });
    let expired_at = obj.expired_at.as_deref().and_then(|s| {
        let at = loc.key("expiredAt");
        match s.parse::<jiff::Timestamp>() {
            Ok(t) => Some((t, at)),
            Err(_) => {
                problems.push(
                    problem(
                        &at,
                        format!("`expiredAt` is `{s}`, not an RFC 3339 date-time"),
                    )
                    .help("write it like `2026-12-31T23:59:59Z`"),
                );
                None
            }
        }
    });
    for (field, value) in [
        ("createdAt", &obj.created_at),
        ("updatedAt", &obj.updated_at),
    ] {
        if let Some(v) = value {
            if v.parse::<jiff::Timestamp>().is_err() {
                problems.push(problem(
                    &loc.key(field),
                    format!("`{field}` is `{v}`, not an RFC 3339 date-time"),
                ));
            }
        }
    }
    if problems.len() > start {
        return None;
    }
    Some(Policy {
        name: name.into(),
        id: obj.id.as_deref().map(Into::into),
        loc: *loc,
        read_only: obj.read_only.unwrap_or(false),
        owner: obj.owner.as_deref().map(|o| shared.str(o)),
        identities: identities.into(),
        resources: resources.into(),
        permissions,
        groups: groups.into(),
        conditions: conditions.map(Box::new),
        expired_at: expired_at.map(Box::new),
    })
}

/// Equal strings and patterns, shared: an account names the same identities, actions and resources in
/// thousands of policies, and each is then held once.
///
/// It also remembers what was found valid: a string checked once (an identity URN, an action, a resource
/// pattern) is the same string the next time, so its checks are not run again.
#[derive(Default)]
struct Shared {
    /// Patterns read with the OVHcloud syntax, by their text.
    patterns: FxHashMap<Box<str>, Arc<Pattern>>,
    strs: HashSet<Arc<str>, BuildHasherDefault<FxHasher>>,
    /// Identity URNs found well formed.
    identities: HashSet<Arc<str>, BuildHasherDefault<FxHasher>>,
    /// Actions found well formed: their pattern, and whether it is literal when granting.
    actions: FxHashMap<Box<str>, (Arc<Pattern>, bool)>,
    /// Resource patterns (not groups) found well formed: the same.
    resources: FxHashMap<Box<str>, (Arc<Pattern>, bool)>,
}

impl Shared {
    fn pattern(&mut self, raw: &str) -> Arc<Pattern> {
        if let Some(p) = self.patterns.get(raw) {
            return p.clone();
        }
        let p = Arc::new(Pattern::wildcard(raw, Syntax::default()));
        self.patterns.insert(raw.into(), p.clone());
        p
    }

    fn str(&mut self, s: &str) -> Arc<str> {
        if let Some(x) = self.strs.get(s) {
            return x.clone();
        }
        let x: Arc<str> = s.into();
        self.strs.insert(x.clone());
        x
    }
}

/// A resource pattern's spec: an unsupported `*` is literal on the granting side, a wildcard on the other.
fn spec(pattern: Arc<Pattern>, unsupported: bool, loc: Loc) -> Spec {
    Spec {
        pattern,
        reading: Reading::Documented,
        literal_when_granting: unsupported,
        loc,
    }
}

/// Check an action pattern's shape: `{resourceType}:{namespace}:{operation}` with `*` at the start and/or end
/// (documented), or anywhere (undocumented: accepted, read on the safe side, linted).
fn action(shared: &mut Shared, raw: &str, loc: Loc, problems: &mut Vec<Problem>) -> Option<Spec> {
    if let Some((pattern, literal)) = shared.actions.get(raw) {
        return Some(spec(pattern.clone(), *literal, loc));
    }
    let why = if raw.is_empty() {
        Some(String::from("it is empty"))
    } else if let Some(c) = raw.chars().find(|c| c.is_whitespace() || c.is_control()) {
        Some(format!(
            "it contains white space or a control character ({c:?})"
        ))
    } else if raw.contains("**") {
        Some(String::from(
            "it contains `**`; one `*` already matches any run of characters",
        ))
    } else if raw.contains("::") || raw.starts_with(':') || raw.ends_with(':') {
        Some(String::from("it has an empty part between `:`"))
    } else {
        raw.chars().find(|c| !c.is_ascii()).map(|c| {
            format!(
                "it contains the non-ASCII character `{c}` (U+{:04X})",
                c as u32
            )
        })
    };
    if let Some(why) = why {
        problems.push(problem(&loc, format!("malformed action `{raw}`: {why}")).help("actions look like `vps:apiovh:reboot`, `vps:apiovh:ips/*`, `*get` or `publicCloudProject:openstack:computeOperator`"));
        return None;
    }
    let inner = raw.strip_prefix('*').unwrap_or(raw);
    let inner = inner.strip_suffix('*').unwrap_or(inner);
    let spec = spec(shared.pattern(raw), inner.contains('*'), loc);
    shared.actions.insert(
        raw.into(),
        (spec.pattern.clone(), spec.literal_when_granting),
    );
    Some(spec)
}

fn permissions(
    raw: &raw::OvhPermissions,
    loc: &Loc,
    shared: &mut Shared,
    problems: &mut Vec<Problem>,
) -> Permissions {
    let mut list = |items: &Option<Vec<raw::OvhAction>>, key: &str| -> Vec<Spec> {
        let Some(items) = items else {
            return Vec::new();
        };
        let at = loc.key(key);
        let mut out = Vec::with_capacity(items.len());
        for (i, a) in items.iter().enumerate() {
            if let Some(s) = action(shared, &a.action, at.index(i).key("action"), problems) {
                out.push(s);
            }
        }
        out
    };
    Permissions {
        allow: list(&raw.allow, "allow").into(),
        except: list(&raw.except, "except").into(),
        deny: list(&raw.deny, "deny").into(),
    }
}

fn permission_group(
    obj: &raw::OvhObject,
    urn: &str,
    loc: &Loc,
    shared: &mut Shared,
    problems: &mut Vec<Problem>,
) -> Option<PermissionsGroup> {
    let start = problems.len();
    let parts: Vec<&str> = urn.split(':').collect();
    if parts.len() != 6
        || parts.first() != Some(&"urn")
        || parts.get(1) != Some(&"v1")
        || !parts.get(2).is_some_and(|r| REGIONS.contains(r))
    {
        problems.push(problem(&loc.key("urn"), format!("malformed permission group URN `{urn}`; expected `urn:v1:{{eu|ca|us}}:permissionsGroup:{{owner}}:{{name}}`")));
    }
    for field in ["identities", "resources", "conditions", "expiredAt"] {
        let present = match field {
            "identities" => obj.identities.is_some(),
            "resources" => obj.resources.is_some(),
            "conditions" => obj.conditions.is_some(),
            _ => obj.expired_at.is_some(),
        };
        if present {
            problems.push(problem(
                &loc.key(field),
                format!("a permission group has no `{field}`; only a policy does"),
            ));
        }
    }
    let permissions = match &obj.permissions {
        Some(p) => permissions(p, &loc.key("permissions"), shared, problems),
        None => {
            problems.push(problem(
                loc,
                format!("permission group `{urn}` has no `permissions`"),
            ));
            Permissions::default()
        }
    };
    (problems.len() == start).then(|| PermissionsGroup {
        urn: urn.into(),
        name: obj
            .name
            .as_deref()
            .unwrap_or_else(|| parts.last().copied().unwrap_or_default())
            .into(),
        loc: *loc,
        permissions,
    })
}

fn resource_group(
    obj: &raw::OvhObject,
    urn: &str,
    loc: &Loc,
    problems: &mut Vec<Problem>,
) -> Option<(ResourceGroup, Vec<Described>)> {
    let start = problems.len();
    if let Err(e) = check_resource_pattern(urn) {
        problems.push(problem(&loc.key("urn"), e));
    }
    let mut members = Vec::new();
    let mut infos = Vec::new();
    let mut known = true;
    for (i, r) in obj.resources.iter().flatten().enumerate() {
        let at = loc.key("resources").index(i);
        let Some(member) = r.urn.as_ref() else {
            // `GET /v2/iam/resourceGroup` without `?details=true` lists members as `{"id": ...}`.
            if r.id.is_some() {
                known = false;
            } else {
                problems.push(problem(
                    &at,
                    "a resource group member has neither `urn` nor `id`",
                ));
            }
            continue;
        };
        match crate::model::urn::ResourceUrn::parse(member) {
            Ok(_) => {
                members.push(member.as_str().into());
                let info = ResourceInfo {
                    owner: r.owner.as_deref().map(Into::into),
                    tags: tags(r.tags.as_ref(), &at.key("tags"), problems),
                    loc: Some(at),
                };
                infos.push((member.as_str().into(), info));
            }
            Err(e) => problems.push(problem(&at.key("urn"), e)),
        }
    }
    if obj.identities.is_some() || obj.permissions.is_some() {
        problems.push(problem(
            loc,
            format!("resource group `{urn}` has `identities` or `permissions`; only a policy does"),
        ));
    }
    (problems.len() == start).then(|| {
        (
            ResourceGroup {
                urn: urn.into(),
                name: obj.name.as_deref().unwrap_or_default().into(),
                loc: *loc,
                members,
                known,
                owner: obj.owner.as_deref().map(Into::into),
            },
            infos,
        )
    })
}

/// A resource URN and what a dump says of it.
type Described = (Box<str>, ResourceInfo);

/// A resource of `GET /v2/iam/resource`: `{id, urn, name, displayName, type, owner, tags}`.
fn resource(
    obj: &raw::OvhObject,
    urn: &str,
    loc: &Loc,
    problems: &mut Vec<Problem>,
) -> Option<(Box<str>, ResourceInfo)> {
    let start = problems.len();
    if let Err(e) = crate::model::urn::ResourceUrn::parse(urn) {
        problems.push(problem(&loc.key("urn"), e));
    }
    for (field, present) in [
        ("identities", obj.identities.is_some()),
        ("permissions", obj.permissions.is_some()),
        ("resources", obj.resources.is_some()),
    ] {
        if present {
            problems.push(problem(
                &loc.key(field),
                format!("a resource (`GET /v2/iam/resource`) has no `{field}`; only a policy does"),
            ));
        }
    }
    let tags = tags(obj.tags.as_ref(), &loc.key("tags"), problems);
    (problems.len() == start).then(|| {
        (
            urn.into(),
            ResourceInfo {
                owner: obj.owner.as_deref().map(Into::into),
                tags,
                loc: Some(*loc),
            },
        )
    })
}

/// `tags`: an object of strings (`null` or absent: none).
fn tags(
    value: Option<&serde_json::Value>,
    loc: &Loc,
    problems: &mut Vec<Problem>,
) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    match value {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(map)) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(v) => {
                        out.insert(k.clone(), v.clone());
                    }
                    _ => problems.push(problem(
                        &loc.key(k),
                        format!("tag `{k}` is not a string; expected `\"{k}\": \"value\"`"),
                    )),
                }
            }
        }
        Some(_) => problems.push(problem(
            loc,
            "`tags` is not an object; expected `{\"name\": \"value\", ...}`",
        )),
    }
    out
}

/// Whether a location is in the shipped data.
fn is_builtin(sources: &SourceMap, loc: &Loc) -> bool {
    sources
        .get(loc.source)
        .is_some_and(|s| s.name.starts_with("<built-in>"))
}

/// How two permission groups' lists differ, in a few words; `None` when they grant and deny the same.
fn permissions_differ(shipped: &Permissions, dumped: &Permissions) -> Option<String> {
    let mut said = Vec::new();
    for (list, a, b) in [
        ("allow", &shipped.allow, &dumped.allow),
        ("except", &shipped.except, &dumped.except),
        ("deny", &shipped.deny, &dumped.deny),
    ] {
        let a: std::collections::BTreeSet<&str> = a.iter().map(Spec::raw).collect();
        let b: std::collections::BTreeSet<&str> = b.iter().map(Spec::raw).collect();
        let added: Vec<&str> = b.difference(&a).copied().collect();
        let removed: Vec<&str> = a.difference(&b).copied().collect();
        let show = |v: &[&str]| {
            let mut t: Vec<String> = v.iter().take(3).map(|x| format!("`{x}`")).collect();
            if v.len() > 3 {
                t.push(format!("and {} more", v.len() - 3));
            }
            t.join(", ")
        };
        if !added.is_empty() {
            said.push(format!("{list} adds {}", show(&added)));
        }
        if !removed.is_empty() {
            said.push(format!("{list} lacks {}", show(&removed)));
        }
    }
    (!said.is_empty()).then(|| said.join("; "))
}

/// The deepest condition tree accepted (the Terraform provider allows 3 levels; a little room beyond).
const MAX_CONDITION_DEPTH: usize = 8;

fn condition(
    raw: &raw::OvhCondition,
    loc: &Loc,
    depth: usize,
    problems: &mut Vec<Problem>,
) -> Option<Condition> {
    if depth > MAX_CONDITION_DEPTH {
        problems.push(problem(
            loc,
            format!("condition tree deeper than {MAX_CONDITION_DEPTH} levels; expected at most {MAX_CONDITION_DEPTH} (the Terraform provider allows 3)"),
        ));
        return None;
    }
    let children = |problems: &mut Vec<Problem>| -> Option<Vec<Condition>> {
        let list = raw.conditions.as_ref()?;
        let mut out = Vec::new();
        let mut ok = true;
        for (i, c) in list.iter().enumerate() {
            match condition(c, &loc.key("conditions").index(i), depth + 1, problems) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    };
    match raw.operator.as_str() {
        "MATCH" => {
            if raw.conditions.is_some() {
                problems.push(problem(
                    &loc.key("conditions"),
                    "a `MATCH` condition has `values`, not child `conditions`",
                ));
                return None;
            }
            let Some(values) = &raw.values else {
                problems.push(problem(
                    loc,
                    "a `MATCH` condition without `values`; expected `\"values\": {\"request.IP\": \"...\"}`",
                ));
                return None;
            };
            if values.0.is_empty() {
                problems.push(problem(
                    &loc.key("values"),
                    "a `MATCH` condition with no values",
                ));
                return None;
            }
            let mut tests = Vec::new();
            for (k, v) in &values.0 {
                match Test::parse(k, v) {
                    Ok(t) => tests.push(t),
                    Err(e) => problems.push(problem(&loc.key("values").key(k), e)),
                }
            }
            (tests.len() == values.0.len()).then_some(Condition::Match(tests))
        }
        op @ ("AND" | "OR" | "NOT") => {
            if raw.values.is_some() {
                problems.push(problem(
                    &loc.key("values"),
                    format!("an `{op}` condition has child `conditions`, not `values`"),
                ));
                return None;
            }
            let Some(list) = children(problems) else {
                if raw.conditions.is_none() {
                    problems.push(problem(
                        loc,
                        format!("an `{op}` condition needs child `conditions`"),
                    ));
                }
                return None;
            };
            match op {
                "AND" if !list.is_empty() => Some(Condition::And(list)),
                "OR" if !list.is_empty() => Some(Condition::Or(list)),
                "NOT" if list.len() == 1 => {
                    list.into_iter().next().map(|c| Condition::Not(Box::new(c)))
                }
                "NOT" => {
                    problems.push(problem(
                        &loc.key("conditions"),
                        format!(
                            "a `NOT` condition takes exactly one child condition, found {}",
                            list.len()
                        ),
                    ));
                    None
                }
                _ => {
                    problems.push(problem(
                        &loc.key("conditions"),
                        format!("an `{op}` condition with no child conditions"),
                    ));
                    None
                }
            }
        }
        other => {
            let help = crate::load::closest(other, &["AND", "OR", "NOT", "MATCH"])
                .map(|c| format!("did you mean `{c}`?"));
            let mut p = problem(
                &loc.key("operator"),
                format!(
                    "unknown condition operator `{other}`; expected `AND`, `OR`, `NOT` or `MATCH`"
                ),
            );
            p.help = help;
            problems.push(p);
            None
        }
    }
}

fn membership(
    account: &raw::OvhAccount,
    loc: &Loc,
    out: &mut Membership,
    problems: &mut Vec<Problem>,
) {
    let region = account.region.as_deref().unwrap_or("eu");
    if !REGIONS.contains(&region) {
        problems.push(problem(
            &loc.key("region"),
            format!("region `{region}`; expected `eu`, `ca` or `us`"),
        ));
        return;
    }
    let account_urn = format!("urn:v1:{region}:identity:account:{}", account.account);
    if let Err(e) = IdentityUrn::parse(&account_urn) {
        problems.push(problem(&loc.key("account"), e));
        return;
    }
    if !out.accounts.iter().any(|a| **a == *account_urn) {
        out.accounts.push(account_urn.as_str().into());
    }
    for (i, g) in account.groups.iter().enumerate() {
        let urn = g.urn.clone().unwrap_or_else(|| {
            format!(
                "urn:v1:{region}:identity:group:{}/{}",
                account.account, g.name
            )
        });
        match IdentityUrn::parse(&urn) {
            Ok(u) if u.kind == IdentityKind::Group => {
                if !out.groups.iter().any(|x| **x == *urn) {
                    out.groups.push(urn.into());
                }
            }
            Ok(_) => problems.push(problem(
                &loc.key("groups").index(i),
                format!("`{urn}` is not a user group URN"),
            )),
            Err(e) => problems.push(problem(&loc.key("groups").index(i), e)),
        }
    }
    for (i, c) in account.oauth2_clients.iter().enumerate() {
        let urn = c.identity.clone().unwrap_or_else(|| {
            format!(
                "urn:v1:{region}:identity:credential:{}/oauth2-{}",
                account.account, c.client_id
            )
        });
        match IdentityUrn::parse(&urn) {
            Ok(u) if u.kind == IdentityKind::Credential => {
                if !out.service_accounts.iter().any(|x| **x == *urn) {
                    out.service_accounts.push(urn.into());
                }
            }
            Ok(_) => problems.push(problem(
                &loc.key("oauth2Clients").index(i),
                format!("`{urn}` is not a service-account (credential) URN"),
            )),
            Err(e) => problems.push(problem(&loc.key("oauth2Clients").index(i), e)),
        }
    }
    let mut seen: IndexMap<&str, ()> = IndexMap::new();
    for (i, user) in account.users.iter().enumerate() {
        let at = loc.key("users").index(i);
        let urn = user.urn.clone().unwrap_or_else(|| {
            format!(
                "urn:v1:{region}:identity:user:{}/{}",
                account.account, user.login
            )
        });
        let parsed = match IdentityUrn::parse(&urn) {
            Ok(u) if u.kind == IdentityKind::User => u,
            Ok(_) => {
                problems.push(problem(
                    &at.key("urn"),
                    format!("`{urn}` is not a user URN"),
                ));
                continue;
            }
            // The URN is the user's own `urn`, or is made from the account and the login.
            Err(e) if user.urn.is_some() => {
                problems.push(problem(&at.key("urn"), e));
                continue;
            }
            Err(e) => {
                problems.push(problem(
                    &at.key("login"),
                    format!("login `{}` does not make a user URN: {e}", user.login),
                ));
                continue;
            }
        };
        if seen.insert(&user.login, ()).is_some() {
            problems.push(problem(
                &at.key("login"),
                format!("user `{}` is listed twice", user.login),
            ));
            continue;
        }
        if let Some(group) = &user.group {
            let group_urn = parsed.group_urn(group);
            if let Err(e) = IdentityUrn::parse(&group_urn) {
                problems.push(problem(&at.key("group"), e));
                continue;
            }
            if !out.groups.iter().any(|x| **x == *group_urn) {
                out.groups.push(group_urn.as_str().into());
            }
            out.user_group
                .insert(urn.into(), (group_urn.into(), at.key("group")));
        }
    }
}
