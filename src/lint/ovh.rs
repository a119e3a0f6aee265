//! Lint rules for OVHcloud IAM policies.

use std::collections::HashMap;

use super::{escalation, Ctx};
use crate::load::actions::{catalogue, Known};
use crate::model::ovh::{Policy, ResourceEntry};
use crate::model::pattern::Matcher;
use crate::model::{Side, Spec};

/// Catalogue answers per action text, asked once per distinct text rather than once per use: a large
/// file repeats the same few actions thousands of times, and each answer scans the catalogue.
#[derive(Default)]
struct Hits {
    /// A wildcard pattern: whether it matches a catalogued action.
    wildcards: HashMap<Box<str>, bool>,
    /// An action: `None` when the catalogue lists it (or does not cover it), else the help line.
    unknown: HashMap<Box<str>, Option<Option<String>>>,
    /// An allowed pattern: the escalation actions it matches (indices into [`escalation::ovh_actions`]).
    escalations: HashMap<Box<str>, Box<[usize]>>,
}

impl Hits {
    fn escalations(&mut self, s: &Spec) -> &[usize] {
        self.escalations.entry(s.raw().into()).or_insert_with(|| {
            escalation::ovh_actions()
                .iter()
                .enumerate()
                .filter(|(_, e)| s.matches(e.action, Side::Grant))
                .map(|(i, _)| i)
                .collect()
        })
    }
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    let mut known = Hits::default();
    let mut names: HashMap<&str, &Policy> = HashMap::new();
    for p in &set.ovh_policies {
        if let Some(first) = names.get(&*p.name) {
            let (f, _) = (set.sources.file_name(first.loc.source), 0);
            ctx.emit(
                "PS114",
                &p.loc.key("name"),
                format!("policy name `{}` is also used in {f}", p.name),
                Some(String::from(
                    "OVHcloud policy names are unique within an account: rename one",
                )),
            );
        } else {
            names.insert(&p.name, p);
        }
        policy(ctx, p, &mut known);
    }
    dead_allows(ctx);
    role_traps(ctx);
}

fn policy(ctx: &mut Ctx<'_>, p: &Policy, known: &mut Hits) {
    let name = &p.name;
    if let Some((until, loc)) = p.expired_at.as_deref() {
        if *until < ctx.opts.at {
            ctx.emit(
                "PS115",
                loc,
                format!("policy `{name}` expired at {until}: it neither allows nor denies"),
                Some(String::from(
                    "delete the policy, or move `expiredAt` into the future",
                )),
            );
        }
    }
    let perms = &p.permissions;
    if perms.allow.is_empty()
        && perms.except.is_empty()
        && perms.deny.is_empty()
        && p.groups.is_empty()
    {
        ctx.emit(
            "PS116",
            &p.loc.key("permissions"),
            format!("policy `{name}` grants nothing: no allow, no deny, no permission group"),
            None,
        );
    }
    // Identities: wildcards, duplicates, regions.
    let mut seen = Vec::new();
    for (id, loc) in &p.identities {
        if id.contains('*') {
            ctx.emit("PS121", loc, format!("identity `{id}` contains `*`, which identities do not support: it matches no one"), Some(String::from("list each identity, or name a user group")));
        }
        if seen.contains(&id) {
            ctx.emit(
                "PS114",
                loc,
                format!("identity `{id}` is listed twice"),
                None,
            );
        }
        seen.push(id);
    }
    let id_regions: Vec<&str> = p
        .identities
        .iter()
        .filter_map(|(id, _)| id.split(':').nth(2))
        .collect();
    for r in &p.resources {
        let (raw, loc) = match r {
            ResourceEntry::Pattern(s) => (s.raw(), &s.loc),
            ResourceEntry::Group { urn, loc, .. } => (&**urn, loc),
        };
        if let ResourceEntry::Pattern(s) = r {
            if s.literal_when_granting {
                ctx.emit("PS120", loc, format!("resource `{raw}` has a `*` that is not at its end; OVHcloud supports a trailing `*` only"), Some(String::from("write a prefix ending with `*`, like `urn:v1:eu:resource:vps:*`; policy-sim reads this one literally in an allow and as a wildcard in a deny")));
            }
        }
        let region = raw
            .split(':')
            .nth(2)
            .filter(|r| crate::model::urn::REGIONS.contains(r));
        if let Some(region) = region {
            if let Some(other) = id_regions.iter().find(|r| **r != region) {
                ctx.emit("PS117", loc, format!("resource `{raw}` is in region `{region}` but an identity of policy `{name}` is in `{other}`"), Some(String::from("URNs match exactly, region included: use URNs of the identities' region")));
            }
        }
    }
    for (list, key) in [
        (&perms.allow, "allow"),
        (&perms.except, "except"),
        (&perms.deny, "deny"),
    ] {
        let mut seen: Vec<&str> = Vec::new();
        for s in list {
            if seen.contains(&s.raw()) {
                ctx.emit(
                    "PS114",
                    &s.loc,
                    format!("action `{}` is listed twice in `{key}`", s.raw()),
                    None,
                );
            }
            seen.push(s.raw());
            action(ctx, s, key, known, resources_phrase(p));
        }
    }
    // Excepts that remove nothing from this policy's own allow.
    for ex in &perms.except {
        if !perms.allow.iter().any(|a| overlaps(a, ex)) {
            let help = if perms.allow.is_empty() {
                "the policy has no allow: an except only narrows its own policy's allow; use `deny` to forbid"
            } else {
                "an except only narrows its own policy's allow; use `deny` to forbid across policies"
            };
            ctx.emit(
                "PS113",
                &ex.loc,
                format!(
                    "except `{}` matches none of policy `{name}`'s allows",
                    ex.raw()
                ),
                Some(String::from(help)),
            );
        }
    }
    if p.expired_at
        .as_deref()
        .is_none_or(|(until, _)| *until >= ctx.opts.at)
    {
        escalations(ctx, p, known);
        broad_groups(ctx, p);
    }
}

/// Whether a policy's resources can name the account itself (`urn:v1:eu:resource:account:{nic}`), on which
/// the account-level IAM actions are authorized.
fn names_the_account(ctx: &Ctx<'_>, p: &Policy) -> bool {
    const ACCOUNT: &str = ":resource:account:";
    p.resources.iter().any(|r| match r {
        ResourceEntry::Pattern(s) if s.literal_when_granting => s.raw().contains(ACCOUNT),
        ResourceEntry::Pattern(s) => match &s.pattern.matcher {
            Matcher::Any => true,
            Matcher::Exact(x) => x.contains(ACCOUNT),
            Matcher::Prefix(pre) => {
                pre.contains(ACCOUNT)
                    || crate::model::urn::REGIONS
                        .iter()
                        .any(|r| format!("urn:v1:{r}{ACCOUNT}").starts_with(&**pre))
            }
            Matcher::Suffix(_) | Matcher::Contains(_) | Matcher::Glob(_) => {
                s.raw().contains("account")
            }
        },
        ResourceEntry::Group { group, .. } => ctx
            .set
            .resource_groups
            .get(*group)
            .is_some_and(|g| g.members.iter().any(|m| m.contains(ACCOUNT))),
    })
}

/// PS130: an allow or a permission group of a policy that grants its identities an action creating or
/// editing IAM policies, permission groups, resource groups, users, groups or credentials on the account.
fn escalations(ctx: &mut Ctx<'_>, p: &Policy, known: &mut Hits) {
    let set = ctx.set;
    if p.identities.is_empty() || !names_the_account(ctx, p) {
        return;
    }
    let groups: Vec<(&crate::model::ovh::PermissionsGroup, &crate::source::Loc)> = p
        .groups
        .iter()
        .filter_map(|(g, loc)| set.permission_groups.get(*g).map(|g| (g, loc)))
        .collect();
    let all = escalation::ovh_actions();
    // A deny of the policy or of one of its groups takes the action away whatever grants it.
    let denied = |action: &str| {
        p.permissions
            .deny
            .iter()
            .chain(groups.iter().flat_map(|(g, _)| g.permissions.deny.iter()))
            .any(|d| d.matches(action, Side::Restrict))
    };
    let kept = |indices: &[usize], except: &[Spec]| -> Vec<escalation::Escalation> {
        indices
            .iter()
            .filter_map(|i| all.get(*i).copied())
            .filter(|e| !except.iter().any(|x| x.matches(e.action, Side::Restrict)))
            .filter(|e| !denied(e.action))
            .collect()
    };
    let mut out = Vec::new();
    for a in &p.permissions.allow {
        let hits = kept(known.escalations(a), &p.permissions.except);
        if !hits.is_empty() {
            out.push((a.loc, format!("allow `{}`", a.raw()), hits));
        }
    }
    for (g, loc) in &groups {
        let mut indices = Vec::new();
        for a in &g.permissions.allow {
            indices.extend_from_slice(known.escalations(a));
        }
        indices.sort_unstable();
        indices.dedup();
        let hits = kept(&indices, &g.permissions.except);
        if !hits.is_empty() {
            out.push((**loc, format!("permission group `{}`", g.name), hits));
        }
    }
    let conditional = if p.conditions.is_some() {
        " (under the policy's conditions)"
    } else {
        ""
    };
    for (loc, what, hits) in out {
        let mut manages: Vec<&str> = Vec::new();
        for h in &hits {
            if !manages.contains(&h.manages) {
                manages.push(h.manages);
            }
        }
        let shown: Vec<String> = hits
            .iter()
            .take(3)
            .map(|h| format!("`{}`", h.action))
            .collect();
        let more = match hits.len().saturating_sub(3) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        ctx.emit(
            "PS130",
            &loc,
            format!(
                "{what} lets the identities of policy `{}` create or edit {}{conditional} ({}{more}): an identity that may manage access can grant itself anything",
                p.name,
                manages.join(", "),
                shown.join(", "),
            ),
            Some(String::from("keep access management with administrators: narrow the allow, or except `account:apiovh:iam/*`, `account:apiovh:me/identity/*` and `account:apiovh:me/api/*`")),
        );
    }
}

/// PS110 for a permission group: one that grants every action (`globalAdmin`) or whole services.
fn broad_groups(ctx: &mut Ctx<'_>, p: &Policy) {
    let set = ctx.set;
    for (g, loc) in &p.groups {
        let Some(g) = set.permission_groups.get(*g) else {
            continue;
        };
        let broad: Vec<&str> = g
            .permissions
            .allow
            .iter()
            .map(Spec::raw)
            .filter(|raw| is_broad(raw))
            .collect();
        let Some(first) = broad.first() else {
            continue;
        };
        let grants = if *first == "*" && g.permissions.except.is_empty() {
            String::from("every action")
        } else if *first == "*" {
            format!(
                "every action but the {} it excepts",
                g.permissions.except.len()
            )
        } else {
            format!(
                "every action of {}",
                broad
                    .iter()
                    .take(3)
                    .map(|b| format!("`{}`", b.trim_end_matches('*').trim_end_matches(':')))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + &match broad.len().saturating_sub(3) {
                        0 => String::new(),
                        n => format!(" and {n} more services"),
                    }
            )
        };
        ctx.emit(
            "PS110",
            loc,
            format!(
                "permission group `{}` grants {grants} on {}",
                g.name,
                resources_phrase(p)
            ),
            Some(String::from(
                "name a narrower permission group, or the actions the task needs",
            )),
        );
    }
}

/// "every resource of the account" when a policy's resources cover them all, else "the policy's resources".
fn resources_phrase(p: &Policy) -> &'static str {
    let everything = p.resources.iter().any(|r| match r {
        ResourceEntry::Pattern(s) if !s.literal_when_granting => match &s.pattern.matcher {
            Matcher::Any => true,
            Matcher::Prefix(pre) => crate::model::urn::REGIONS
                .iter()
                .any(|r| format!("urn:v1:{r}:resource:").starts_with(&**pre)),
            _ => false,
        },
        _ => false,
    });
    if everything {
        "every resource"
    } else {
        "the policy's resources"
    }
}

fn action(ctx: &mut Ctx<'_>, s: &Spec, key: &str, known: &mut Hits, on: &str) {
    let raw = s.raw();
    let matrix = &ctx.set.matrix;
    if s.literal_when_granting {
        ctx.emit("PS122", &s.loc, format!("action `{raw}` has a `*` inside it; only a leading or trailing `*` is documented"), Some(String::from("policy-sim reads it literally in an allow (it grants nothing) and as a wildcard in a deny or except")));
        return;
    }
    if let Some(pi) = matrix.permission_index(raw) {
        let roles: Vec<&str> = matrix.roles_carrying(pi).map(|r| &*r.action).collect();
        ctx.emit(
            "PS103",
            &s.loc,
            format!(
                "`{raw}` is an OpenStack permission, not an IAM action: this {key} matches nothing"
            ),
            Some(format!(
                "name a role that carries it: {}",
                roles
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
        return;
    }
    if key == "allow" && is_broad(raw) {
        ctx.emit(
            "PS110",
            &s.loc,
            format!(
                "allow `{raw}` grants {}",
                if raw == "*" {
                    format!("every action on {on}")
                } else {
                    format!(
                        "every action of `{}`",
                        raw.trim_end_matches('*').trim_end_matches(':')
                    )
                }
            ),
            Some(String::from("name the actions the task needs")),
        );
    }
    let cat = catalogue();
    if s.pattern.is_wildcard() {
        // A pattern that matches no known action nor role, in the catalogued namespace.
        let matches_one = || cat.ovh.iter().any(|a| s.matches(a, Side::Grant));
        // A pattern of an API the catalogue does not hold cannot be judged.
        let held = matches!(cat.ovh_scope(raw), crate::load::actions::OvhScope::Held(_));
        if held
            && raw.contains(":apiovh:")
            && !*known
                .wildcards
                .entry(raw.into())
                .or_insert_with(matches_one)
        {
            ctx.emit(
                "PS101",
                &s.loc,
                format!("`{raw}` matches no known OVHcloud action"),
                None,
            );
        }
        return;
    }
    if raw.contains(":openstack:") || raw.contains(":ai:") {
        if matrix.role(raw).is_none() {
            let roles: Vec<&str> = matrix.roles.iter().map(|r| &*r.action).collect();
            let help = crate::load::closest(raw, &roles).map(|c| format!("did you mean `{c}`?"));
            ctx.emit(
                "PS101",
                &s.loc,
                format!("`{raw}` is not a role of the OpenStack matrix"),
                help.or(Some(String::from("see `policy-sim roles`"))),
            );
        }
        return;
    }
    let unknown = known
        .unknown
        .entry(raw.into())
        .or_insert_with(|| match cat.ovh_action(raw) {
            Known::No(suggestions) if suggestions.is_empty() => Some(None),
            Known::No(suggestions) => Some(Some(format!(
                "did you mean {}?",
                suggestions
                    .iter()
                    .map(|x| format!("`{x}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            Known::Yes | Known::Candidate | Known::NotCovered => None,
        });
    if let Some(help) = unknown {
        let help = help.clone();
        ctx.emit("PS101", &s.loc, format!("`{raw}` is not an OVHcloud action: no API operation needs it, so this {key} matches nothing"), help);
    }
}

/// `*`, `{type}:*`, `{type}:apiovh:*` and the like: a whole service or everything.
fn is_broad(raw: &str) -> bool {
    raw == "*"
        || (raw.ends_with(":*")
            && raw.matches(':').count() <= 2
            && !raw.trim_end_matches('*').contains('*')
            && !raw.contains(":openstack:"))
}

/// Whether an allow (granting side) and an except or deny (restricting side) can match a common string.
/// A pair this cannot rule out counts as overlapping, so that a working except is never called useless.
fn overlaps(allow: &Spec, restrict: &Spec) -> bool {
    use Matcher::{Any, Contains, Exact, Glob, Prefix, Suffix};
    if allow.literal_when_granting {
        return restrict.matches(allow.raw(), Side::Restrict);
    }
    match (&allow.pattern.matcher, &restrict.pattern.matcher) {
        (Any, _) | (_, Any) => true,
        (Exact(x), _) => restrict.matches(x, Side::Restrict),
        (_, Exact(x)) => allow.matches(x, Side::Grant),
        (Prefix(a), Prefix(b)) => a.starts_with(&**b) || b.starts_with(&**a),
        (Suffix(a), Suffix(b)) => a.ends_with(&**b) || b.ends_with(&**a),
        // `p*` and `*s` share `ps`; `*c*` shares `pc`, `cs` or `c1c2` with the others.
        (Prefix(_) | Suffix(_) | Contains(_), Prefix(_) | Suffix(_) | Contains(_)) => true,
        (Glob(_), _) | (_, Glob(_)) => true,
    }
}

/// Whether the resources of an allowing policy and of a restricting one can name a common resource (a
/// resource group may hold any).
fn resources_overlap(allowing: &Policy, restricting: &Policy) -> bool {
    allowing.resources.iter().any(|a| {
        restricting.resources.iter().any(|r| match (a, r) {
            (ResourceEntry::Pattern(a), ResourceEntry::Pattern(r)) => overlaps(a, r),
            _ => true,
        })
    })
}

/// Whether deny pattern `d` matches every action allow pattern `a` can match.
fn covers(d: &Spec, a: &Spec) -> bool {
    match (&d.pattern.matcher, &a.pattern.matcher) {
        (Matcher::Any, _) => true,
        (_, Matcher::Exact(x)) => d.matches(x, Side::Restrict),
        (Matcher::Prefix(dp), Matcher::Prefix(ap)) => ap.starts_with(&**dp),
        (Matcher::Suffix(ds), Matcher::Suffix(as_)) => as_.ends_with(&**ds),
        (Matcher::Contains(dc), Matcher::Prefix(x) | Matcher::Suffix(x) | Matcher::Contains(x)) => {
            x.contains(&**dc)
        }
        _ => false,
    }
}

/// An allow every match of which a deny (same identities or more, resources covering, unconditional,
/// not expiring) overrides.
fn dead_allows(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    let mut out = Vec::new();
    // A killer deny names every identity of the allow's policy, so it names the first; and an exact deny
    // covers only the same exact allow. Index by identity, and exact denies by their action too, rather
    // than comparing every pair of policies.
    type Index<'p, K> = HashMap<K, Vec<(usize, &'p Policy)>>;
    let mut wild: Index<'_, &str> = HashMap::new();
    let mut exact: Index<'_, (&str, &str)> = HashMap::new();
    for (n, q) in set.ovh_policies.iter().enumerate() {
        if q.conditions.is_some() || q.expired_at.is_some() {
            continue;
        }
        for (i, _) in &q.identities {
            for d in &q.permissions.deny {
                let list = match &d.pattern.matcher {
                    Matcher::Exact(x) => exact.entry((&**i, &**x)).or_default(),
                    _ => wild.entry(&**i).or_default(),
                };
                if list.last().is_none_or(|(m, _)| *m != n) {
                    list.push((n, q));
                }
            }
        }
    }
    for p in &set.ovh_policies {
        let Some((first, _)) = p.identities.first() else {
            continue;
        };
        let kills = |a: &Spec, q: &Policy| {
            p.identities
                .iter()
                .all(|(i, _)| q.identities.iter().any(|(j, _)| i == j))
                && p.resources.iter().all(|r| match r {
                    ResourceEntry::Pattern(rp) => q
                        .resources
                        .iter()
                        .any(|qr| matches!(qr, ResourceEntry::Pattern(qp) if covers(qp, rp))),
                    ResourceEntry::Group { urn, .. } => q
                        .resources
                        .iter()
                        .any(|qr| matches!(qr, ResourceEntry::Group { urn: u, .. } if u == urn)),
                })
                && q.permissions.deny.iter().any(|d| covers(d, a))
        };
        for a in &p.permissions.allow {
            // The first killer in file order, from either index.
            let exact_candidates = match &a.pattern.matcher {
                Matcher::Exact(x) => exact.get(&(&**first, &**x)).map_or(&[][..], Vec::as_slice),
                _ => &[],
            };
            let wild_candidates = wild.get(&**first).map_or(&[][..], Vec::as_slice);
            let killer = [exact_candidates, wild_candidates]
                .into_iter()
                .filter_map(|c| c.iter().find(|(_, q)| kills(a, q)))
                .min_by_key(|(n, _)| *n)
                .map(|(_, q)| *q);
            if let Some(q) = killer {
                let d = q
                    .permissions
                    .deny
                    .iter()
                    .find(|d| covers(d, a))
                    .map_or("", |d| d.raw());
                out.push((a.loc, format!("allow `{}` in policy `{}` never applies: deny `{d}` in policy `{}` overrides it for the same identities and resources", a.raw(), p.name, q.name)));
            }
        }
    }
    for (loc, m) in out {
        ctx.emit(
            "PS112",
            &loc,
            m,
            Some(String::from("remove the allow, or narrow the deny")),
        );
    }
}

/// A deny or except of a role while the same identity is allowed another role carrying the same
/// permissions (the domain notes §1.7): the permission stays granted.
fn role_traps(ctx: &mut Ctx<'_>) {
    let set = ctx.set;
    let matrix = &*set.matrix;
    let mut out = Vec::new();
    // Per identity and role: the policies (with their rank) that allow the role and neither except nor
    // deny it themselves, so that each deny looks up its candidates instead of scanning every policy.
    let mut allowing: HashMap<(&str, &str), Vec<(usize, &Policy)>> = HashMap::new();
    for (n, q) in set.ovh_policies.iter().enumerate() {
        for role in &matrix.roles {
            let r = &*role.action;
            if q.permissions
                .allow
                .iter()
                .any(|a| a.matches(r, Side::Grant))
                && !q
                    .permissions
                    .except
                    .iter()
                    .chain(&q.permissions.deny)
                    .any(|x| x.matches(r, Side::Restrict))
            {
                for (i, _) in &q.identities {
                    let list = allowing.entry((&**i, r)).or_default();
                    if list.last().is_none_or(|(m, _)| *m != n) {
                        list.push((n, q));
                    }
                }
            }
        }
    }
    for p in &set.ovh_policies {
        for (d, kind) in p
            .permissions
            .deny
            .iter()
            .map(|d| (d, "deny"))
            .chain(p.permissions.except.iter().map(|e| (e, "except")))
        {
            let Some(denied) = matrix.role(d.raw()) else {
                continue;
            };
            // Roles allowed to one of this policy's identities, in any policy, other than the denied one.
            for other in &matrix.roles {
                if other.action == denied.action
                    || other.bits & denied.bits == 0
                    || p.permissions
                        .deny
                        .iter()
                        .any(|x| x.matches(&other.action, Side::Restrict))
                {
                    continue;
                }
                let allowed = p
                    .identities
                    .iter()
                    .filter_map(|(i, _)| allowing.get(&(&**i, &*other.action)))
                    .filter_map(|c| c.iter().find(|(_, q)| resources_overlap(q, p)))
                    .min_by_key(|(n, _)| *n)
                    .map(|(_, q)| *q);
                if let Some(q) = allowed {
                    let kept: Vec<&str> = matrix
                        .permissions
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| other.bits & denied.bits & (1 << i) != 0)
                        .map(|(_, x)| x.name.as_str())
                        .collect();
                    out.push((
                        d.loc,
                        format!("{kind} of role `{}` leaves {} granted through role `{}` (allowed by policy `{}`)", denied.action, kept.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "), other.action, q.name),
                    ));
                    break;
                }
            }
        }
    }
    for (loc, m) in out {
        ctx.emit("PS104", &loc, m, Some(String::from("a permission is granted while any role carrying it is authorized: deny the other role too, or remove it")));
    }
}
