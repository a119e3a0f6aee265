//! OVHcloud IAM evaluation (the domain notes §1.2, §1.7).
//!
//! For one action `a`: every policy naming the identity (or the user's group) that is not expired, whose
//! resources match, and whose condition holds, contributes its `deny` (any match denies everywhere) and
//! its `allow` minus its own `except` — and, separately, each permission group's `allow` minus that group's
//! `except`. A deny wins, then an allow, else the default deny.
//! For an OpenStack permission `p`: allowed iff some role action whose matrix row carries `p` is itself
//! allowed by the rule above (the trace names that role and its row).

use super::{Check, Decision, Entry, Kind, Outcome, Part, Prepared, RoleRow, Status, Tracer};
use crate::compile::{first_match, merge_sorted, resource_bit, Engine, PermissionSets};
use crate::model::condition::{Env, Truth};
use crate::model::matrix::{Matrix, Role};
use crate::model::ovh::{Permissions, Policy, ResourceEntry};
use crate::model::urn::{IdentityKind, IdentityUrn};
use crate::model::{Reading, Side, Spec};

/// How a policy reaches the identity.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach<'a> {
    Direct,
    /// Through the user's group (account file).
    Group(&'a str),
    /// The user's group is unknown and the policy names a group of the same account: only its denies are
    /// considered, as if they applied (the safe reading).
    MaybeGroup,
}

/// The matrix row a role action is evaluated for, when the request names a permission: made into a
/// [`RoleRow`] only for the entries that name it (most candidates of most roles record none).
#[derive(Clone, Copy)]
struct RowOf<'a> {
    matrix: &'a Matrix,
    role: &'a Role,
    permission: &'a str,
    /// The permission's OpenStack service.
    service: &'a str,
    /// With the whole row and the matrix's origin (explain), or without (brief).
    full: bool,
}

impl RowOf<'_> {
    fn to_row(self) -> RoleRow {
        RoleRow {
            role: String::from(&*self.role.action),
            permission: String::from(self.permission),
            service: String::from(self.service),
            row: if self.full {
                self.matrix
                    .row(self.role)
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            } else {
                Vec::new()
            },
            matrix: if self.full {
                self.matrix.origin.clone()
            } else {
                String::new()
            },
        }
    }
}

/// What one policy, or all the candidates, do to one action.
#[derive(Default, Clone, Copy)]
struct Effect {
    allows: bool,
    denies: bool,
}

impl Effect {
    fn add(&mut self, other: Effect) {
        self.allows |= other.allows;
        self.denies |= other.denies;
    }
}

/// One action asked of the candidate policies: the request, who asks (and through which group), the action
/// evaluated (the request's, or a role action for the matrix row `role`), and which policies may grant.
#[derive(Clone, Copy)]
struct Ask<'a> {
    req: &'a Prepared,
    id: &'a IdentityUrn,
    /// The user's group (account file).
    group: Option<&'a str>,
    /// A user whose group no input gives: the policies naming a group of the account count for their denies.
    unknown_group: bool,
    action: &'a str,
    role: Option<RowOf<'a>>,
    gate: Gate<'a>,
}

impl Ask<'_> {
    fn env(&self) -> Env<'_> {
        Env {
            context: &self.req.context,
            at: self.req.at,
            resource_type: self.req.resource_type(),
        }
    }
}

/// What one policy does to one action, and how far its evaluation went: the semantics' answer (see
/// [`Engine::ovh_policy`]), from which [`Engine::record_policy`] builds the trace entry.
#[derive(Default)]
struct Applied<'a> {
    /// Expired at the evaluation time: nothing else was read.
    expired: bool,
    /// The first resource entry that matches when restricting, and the one that matches when granting;
    /// `None` when none matches (or the policy expired).
    resource: Option<(&'a ResourceEntry, Option<&'a ResourceEntry>)>,
    /// The allow that grants the action (with its permission group), after the excepts.
    allow: Option<(&'a Spec, Option<&'a str>)>,
    /// The deny that matches the action (with its permission group).
    deny: Option<(&'a Spec, Option<&'a str>)>,
    /// The allows an except removed the action from (kept for the trace only).
    excepted: Vec<Excepted<'a>>,
    /// The condition's value, when there is one and it was read (an allow or a deny matched).
    truth: Option<Truth>,
    /// The context keys the condition needed and the request lacks.
    unknown: Vec<String>,
    /// Cross-account: the resource's owner, when this policy's allow is not its to give.
    blocked: Option<&'a str>,
    effect: Effect,
}

/// Which policies may grant: across accounts, only the resource owner's policies grant on its resources
/// (the domain notes §1.2, cross-account). Denies are never gated: every deny that names the identity applies.
#[derive(Clone, Copy, Default)]
pub(super) struct Gate<'a> {
    /// The account whose policies alone may grant; `None`: every policy may.
    owner: Option<&'a str>,
    /// The owner of a policy whose dump gives none: the one owner the loaded policies name, if one.
    default_owner: Option<&'a str>,
}

impl<'a> Gate<'a> {
    /// The owner that `p` is not, when `p` may not grant.
    fn blocks(&self, p: &Policy) -> Option<&'a str> {
        let owner = self.owner?;
        let of = p.owner.as_deref().or(self.default_owner);
        (of != Some(owner)).then_some(owner)
    }
}

/// Who owns the requested resource, as far as the input says.
enum Owner<'a> {
    /// No ownership is known or needed: one account's policies, evaluated together (the common case).
    Unneeded,
    /// This account owns it (`true`: read from the dumps; `false`: inferred, the one owner of the policies).
    Known(&'a str, bool),
    /// Unknown, and the loaded policies belong to these accounts.
    AnyOf(&'a [std::sync::Arc<str>]),
}

impl Engine {
    /// The resource's owner, for cross-account delegation.
    fn resource_owner<'s>(&'s self, req: &Prepared, id: &IdentityUrn) -> Owner<'s> {
        let owners = &self.policy_owners;
        if owners.is_empty() && self.set.resources.is_empty() {
            return Owner::Unneeded;
        }
        let resource = req.resource.as_deref().unwrap_or("");
        let dumped = self
            .set
            .resources
            .get(resource)
            .and_then(|r| r.owner.as_deref());
        match (dumped, owners.as_slice()) {
            (Some(o), _) => {
                if *o == *id.account && owners.iter().all(|x| **x == *o) {
                    Owner::Unneeded
                } else {
                    Owner::Known(o, true)
                }
            }
            (None, []) => Owner::Unneeded,
            (None, [one]) if **one == *id.account => Owner::Unneeded,
            (None, [one]) => Owner::Known(one, false),
            (None, many) => Owner::AnyOf(many),
        }
    }

    pub(super) fn ovh_decide(
        &self,
        req: &Prepared,
        id: &IdentityUrn,
        mut tr: Option<&mut Tracer>,
    ) -> (Decision, Vec<String>) {
        let default_owner = match self.policy_owners.as_slice() {
            [one] => Some(&**one),
            _ => None,
        };
        let owner = self.resource_owner(req, id);
        let brief = tr.as_deref().is_none_or(|t| t.brief);
        match owner {
            Owner::Unneeded => self.ovh_decide_gated(req, id, Gate::default(), tr),
            Owner::Known(o, dumped) => {
                if !brief && *o != *id.account {
                    if let Some(t) = tr.as_deref_mut() {
                        t.note(format!(
                            "the resource belongs to account `{o}` ({}), the identity to account `{}`: across accounts, `{}` gets only what `{o}` granted to it, and its users only what `{}` passes on of that; denies of both apply (inferred from OVHcloud's IAM API guide on granting to another account)",
                            if dumped { "from the resource dumps" } else { "inferred: the only owner of the loaded policies" },
                            id.account, id.account, id.account
                        ));
                    }
                }
                self.delegated(req, id, o, default_owner, tr)
            }
            Owner::AnyOf(owners) => {
                if let Some(t) = tr.as_deref_mut().filter(|_| !brief) {
                    let names: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
                    t.note(format!(
                        "the loaded policies belong to several accounts ({}) and no dump says which owns the resource: the answer is an allow only if it is one whichever of them owns it (the safe reading); pass the `GET /v2/iam/resource` dump to know",
                        names.join(", ")
                    ));
                }
                let mut decision = Decision::EXPLICIT_ALLOW;
                let mut missing = Vec::new();
                for o in owners {
                    let (d, m) = self.delegated(req, id, o, default_owner, tr.as_deref_mut());
                    for k in m {
                        if !missing.contains(&k) {
                            missing.push(k);
                        }
                    }
                    decision = combine(decision, d);
                }
                (decision, missing)
            }
        }
    }

    /// Decide for a resource of account `owner`: the identity's own account grants when it owns the
    /// resource; otherwise `owner` must grant to the identity's account, and the account to the identity.
    fn delegated(
        &self,
        req: &Prepared,
        id: &IdentityUrn,
        owner: &str,
        default_owner: Option<&str>,
        mut tr: Option<&mut Tracer>,
    ) -> (Decision, Vec<String>) {
        let gate = |o| Gate {
            owner: Some(o),
            default_owner,
        };
        if *id.account == *owner {
            return self.ovh_decide_gated(req, id, gate(owner), tr);
        }
        let account = format!("urn:v1:{}:identity:account:{}", id.region, id.account);
        let Ok(account) = IdentityUrn::parse(&account) else {
            return (Decision::IMPLICIT_DENY, Vec::new());
        };
        let (granted, mut missing) =
            self.ovh_decide_gated(req, &account, gate(owner), tr.as_deref_mut());
        if id.kind == IdentityKind::Account {
            return (granted, missing);
        }
        let (passed, m) = self.ovh_decide_gated(req, id, gate(&id.account), tr);
        for k in m {
            if !missing.contains(&k) {
                missing.push(k);
            }
        }
        (combine(granted, passed), missing)
    }

    fn ovh_decide_gated(
        &self,
        req: &Prepared,
        id: &IdentityUrn,
        gate: Gate<'_>,
        mut tr: Option<&mut Tracer>,
    ) -> (Decision, Vec<String>) {
        let set = &self.set;
        let mut missing = Vec::new();
        let group = if id.kind == IdentityKind::User {
            set.membership.user_group.get(&*id.raw).map(|(g, _)| &**g)
        } else {
            None
        };
        let unknown_group = id.kind == IdentityKind::User && group.is_none();
        if let Some(t) = tr.as_deref_mut().filter(|t| !t.brief) {
            if unknown_group {
                t.note(format!(
                    "the group of user `{id}` is unknown (no --account file lists it): policies naming a group of account `{}` were considered for their denies only, as if the user were a member (the safe reading)",
                    id.account
                ));
            }
            if id.kind == IdentityKind::Account {
                t.note("an `account` identity is the account's root login; it does not cover the account's local users or service accounts (inferred: the managed `ovh-default` policy grants the account everything while its read-only users stay read-only)");
            }
        }
        let matrix = &*set.matrix;
        let ask = Ask {
            req,
            id,
            group,
            unknown_group,
            action: &req.action,
            role: None,
            gate,
        };
        let decision = match matrix.permission_index(&req.action) {
            None => {
                let e = self.ovh_action(&ask, &mut missing, tr.as_deref_mut());
                mark(tr.as_deref_mut(), 0, e.denies, e.allows);
                if e.denies {
                    Decision::EXPLICIT_DENY
                } else if e.allows {
                    Decision::EXPLICIT_ALLOW
                } else {
                    Decision::IMPLICIT_DENY
                }
            }
            Some(pi) => {
                let permission = matrix.permissions.get(pi);
                if let Some(t) = tr.as_deref_mut().filter(|t| t.brief) {
                    t.entries.push(Entry::new(Kind::Matrix, Outcome::Info));
                } else if let Some(t) = tr.as_deref_mut() {
                    let carriers: Vec<&str> =
                        matrix.roles_carrying(pi).map(|r| &*r.action).collect();
                    t.entries.push(Entry {
                        file: Some(matrix.origin.clone()),
                        action: req.action.clone(),
                        checks: vec![Check::new(
                            Part::Rule,
                            Status::Pass,
                            None,
                            format!(
                                "`{}` ({}) is an OpenStack permission, not an IAM action: it is granted when one of the {} role actions carrying it is authorized: {}",
                                req.action,
                                permission.map_or("", |p| p.service.as_str()),
                                carriers.len(),
                                carriers.join(", ")
                            ),
                        )
                        .inferred()],
                        ..Entry::new(Kind::Matrix, Outcome::Info)
                    });
                }
                let (mut any_allow, mut any_deny) = (false, false);
                for role in matrix.roles_carrying(pi) {
                    let start = tr.as_deref().map_or(0, |t| t.entries.len());
                    let brief = tr.as_deref().is_some_and(|t| t.brief);
                    let row = tr.is_some().then_some(RowOf {
                        matrix,
                        role,
                        permission: &req.action,
                        service: permission.map_or("", |p| p.service.as_str()),
                        full: !brief,
                    });
                    let ask = Ask {
                        action: &role.action,
                        role: row,
                        ..ask
                    };
                    let e = self.ovh_action(&ask, &mut missing, tr.as_deref_mut());
                    if e.allows && !e.denies {
                        any_allow = true;
                        mark(tr.as_deref_mut(), start, false, true);
                    }
                    any_deny |= e.denies;
                    if any_allow && tr.is_none() {
                        // One allowed role is enough; only the trace wants the others.
                        break;
                    }
                }
                if any_allow {
                    Decision::EXPLICIT_ALLOW
                } else if any_deny {
                    mark(tr.as_deref_mut(), 0, true, false);
                    Decision::EXPLICIT_DENY
                } else {
                    Decision::IMPLICIT_DENY
                }
            }
        };
        if let Some(t) = tr.filter(|t| !t.brief) {
            if t.entries.iter().all(|e| e.kind != Kind::Policy) {
                let n = set.ovh_policies.len();
                t.note(format!(
                    "no policy names `{id}`{}: {n} policies loaded, none applies (default deny)",
                    group
                        .map(|g| format!(" or its group `{g}`"))
                        .unwrap_or_default()
                ));
            }
            let read_only_loaded = set.ovh_policies.iter().any(|p| p.read_only);
            if id.kind == IdentityKind::Account && !decision.allowed() && !read_only_loaded {
                t.note(format!(
                    "every OVHcloud account has the OVHcloud-managed, read-only policy `ovh-default`, which gives the account's root login its own resources; none of the loaded policies is such a managed one (`readOnly: true`): to include it, pass the whole `GET /v2/iam/policy` dump of account `{}`",
                    id.account
                ));
            }
        }
        (decision, missing)
    }

    /// Evaluate one action (the request's, or a role action) over the candidate policies.
    fn ovh_action(
        &self,
        ask: &Ask<'_>,
        missing: &mut Vec<String>,
        tr: Option<&mut Tracer>,
    ) -> Effect {
        let Some(tr) = tr else {
            return self.ovh_action_fast(ask, missing);
        };
        if tr.brief {
            return self.ovh_action_brief(ask, missing, tr);
        }
        let id = ask.id;
        let direct = self.ovh_candidates(&id.raw);
        let via_group = ask.group.map_or(&[][..], |g| self.ovh_candidates(g));
        let mut total = Effect::default();
        for idx in merge_sorted(direct, via_group) {
            let reach = if direct.binary_search(&idx).is_ok() {
                Reach::Direct
            } else {
                Reach::Group(ask.group.unwrap_or(""))
            };
            total.add(self.visit_policy(ask, idx, reach, missing, Some(&mut *tr)));
        }
        if ask.unknown_group {
            let prefix = format!("urn:v1:{}:identity:group:{}/", id.region, id.account);
            for (i, p) in (0u32..).zip(&self.set.ovh_policies) {
                let names_group = p.identities.iter().any(|(x, _)| x.starts_with(&prefix));
                if names_group && direct.binary_search(&i).is_err() {
                    let e = self.visit_policy(ask, i, Reach::MaybeGroup, missing, Some(&mut *tr));
                    total.denies |= e.denies;
                }
            }
        }
        total
    }

    /// [`Self::ovh_action`] without a trace: only the candidates with a pattern that can match the action are
    /// visited (the others have no effect). Denies are looked for first and one ends the search (a deny wins);
    /// then allows, and one is enough. The effect says `denies`, or else whether something `allows`.
    fn ovh_action_fast(&self, ask: &Ask<'_>, missing: &mut Vec<String>) -> Effect {
        let id = ask.id;
        let keys = self.keys_of(ask.action);
        let res = ask.req.resource.as_deref().map_or(u32::MAX, resource_bit);
        let direct = self.ovh_index(&id.raw);
        let via_group = ask.group.and_then(|g| self.ovh_index(g).map(|c| (g, c)));
        let maybe = if ask.unknown_group {
            self.ovh_group_deny_index(&id.region, &id.account)
        } else {
            None
        };
        let mut t = Effect::default();
        let mut visit = |t: &mut Effect, idx: u32, reach: Reach<'_>, stop_on_allow: bool| -> bool {
            t.add(self.visit_policy(ask, idx, reach, missing, None));
            t.denies || (stop_on_allow && t.allows)
        };
        if let Some(c) = direct {
            c.deny
                .visit(&keys, res, |i| visit(&mut t, i, Reach::Direct, false));
        }
        if let Some((g, c)) = via_group {
            c.deny
                .visit(&keys, res, |i| visit(&mut t, i, Reach::Group(g), false));
        }
        if let Some(k) = maybe {
            k.visit(&keys, res, |i| visit(&mut t, i, Reach::MaybeGroup, false));
        }
        if t.denies || t.allows {
            return t;
        }
        if let Some(c) = direct {
            c.allow
                .visit(&keys, res, |i| visit(&mut t, i, Reach::Direct, true));
        }
        if let Some((g, c)) = via_group {
            if !t.allows {
                c.allow
                    .visit(&keys, res, |i| visit(&mut t, i, Reach::Group(g), true));
            }
        }
        t
    }

    /// [`Self::ovh_action`] for [`Detail::Brief`](super::Detail::Brief): every candidate that can allow or deny the action
    /// (by the action index), in the order explain visits them, each recorded without its checks. The
    /// candidates left out have no effect, so they are never decisive.
    fn ovh_action_brief(
        &self,
        ask: &Ask<'_>,
        missing: &mut Vec<String>,
        tr: &mut Tracer,
    ) -> Effect {
        let id = ask.id;
        let keys = self.keys_of(ask.action);
        let res = ask.req.resource.as_deref().map_or(u32::MAX, resource_bit);
        // (policy, 0 = direct, 1 = through the group): explain's merged order, direct first on a tie.
        // The buffers are the tracer's, given back at the end.
        let mut scratch = std::mem::take(&mut tr.visits);
        let order = &mut scratch.order;
        order.clear();
        if let Some(c) = self.ovh_index(&id.raw) {
            for k in [&c.allow, &c.deny] {
                k.visit(&keys, res, |i| {
                    order.push((i, 0));
                    false
                });
            }
        }
        let via_group = ask.group.and_then(|g| self.ovh_index(g).map(|c| (g, c)));
        if let Some((_, c)) = via_group {
            for k in [&c.allow, &c.deny] {
                k.visit(&keys, res, |i| {
                    order.push((i, 1));
                    false
                });
            }
        }
        order.sort_unstable();
        order.dedup_by_key(|(i, _)| *i);
        let maybe = &mut scratch.maybe;
        maybe.clear();
        if ask.unknown_group {
            let direct = self.ovh_candidates(&id.raw);
            if let Some(k) = self.ovh_group_deny_index(&id.region, &id.account) {
                k.visit(&keys, res, |i| {
                    if direct.binary_search(&i).is_err() {
                        maybe.push(i);
                    }
                    false
                });
            }
            maybe.sort_unstable();
            maybe.dedup();
        }
        let g = ask.group.unwrap_or("");
        let visits = order
            .iter()
            .map(|&(i, via)| {
                (
                    i,
                    if via == 0 {
                        Reach::Direct
                    } else {
                        Reach::Group(g)
                    },
                )
            })
            .chain(maybe.iter().map(|&i| (i, Reach::MaybeGroup)));
        let mut total = Effect::default();
        for (idx, reach) in visits {
            let e = self.visit_policy(ask, idx, reach, missing, Some(&mut *tr));
            if reach == Reach::MaybeGroup {
                total.denies |= e.denies;
            } else {
                total.add(e);
            }
        }
        tr.visits = scratch;
        total
    }

    /// Policy number `idx` for the action asked: what it does, its missing context keys added to `missing`,
    /// and, when there is a trace, its entry recorded from that result.
    fn visit_policy(
        &self,
        ask: &Ask<'_>,
        idx: u32,
        reach: Reach<'_>,
        missing: &mut Vec<String>,
        tr: Option<&mut Tracer>,
    ) -> Effect {
        let Some(p) = self.set.ovh_policies.get(idx as usize) else {
            return Effect::default();
        };
        let applied = self.ovh_policy(ask, idx as usize, p, reach, tr.is_some());
        for k in &applied.unknown {
            if !missing.contains(k) {
                missing.push(k.clone());
            }
        }
        if let Some(t) = tr {
            self.record_policy(t, ask, p, reach, &applied);
        }
        applied.effect
    }

    /// What policy `p` (number `index`) does to the action asked, and how far its evaluation went: the
    /// semantics alone, no trace. The excepts that removed the action are kept only when `excepts`.
    fn ovh_policy<'a>(
        &'a self,
        ask: &Ask<'a>,
        index: usize,
        p: &'a Policy,
        reach: Reach<'_>,
        excepts: bool,
    ) -> Applied<'a> {
        let (req, action) = (ask.req, ask.action);
        let resource = req.resource.as_deref().unwrap_or("");
        let mut out = Applied::default();
        if let Some((until, _)) = p.expired_at.as_deref() {
            if req.at > *until {
                out.expired = true;
                return out;
            }
        }
        // A resource pattern that matches when granting also matches when restricting (read literally,
        // a pattern still matches its own text), so the first match when granting is at or after the
        // first when restricting — the same one unless that one reads differently when granting.
        let restrict_at = p
            .resources
            .iter()
            .position(|r| self.resource_matches(r, resource, Side::Restrict));
        let Some(restrict) = restrict_at.and_then(|i| p.resources.get(i)) else {
            return out;
        };
        let grant = restrict_at.and_then(|i| {
            let rest = p.resources.get(i..).unwrap_or_default();
            match rest.first() {
                Some(first) if !literal_when_granting(first) => Some(first),
                _ => rest
                    .iter()
                    .find(|r| self.resource_matches(r, resource, Side::Grant)),
            }
        });
        out.resource = Some((restrict, grant));
        // Denies: the policy's own and its permission groups'.
        let sets = self.policy_sets(index);
        out.deny = first_match(
            &p.permissions.deny,
            sets.and_then(|s| s.deny.as_ref()),
            action,
            Side::Restrict,
        )
        .map(|s| (s, None))
        .or_else(|| {
            p.groups.iter().find_map(|(gi, _)| {
                self.set.permission_groups.get(*gi).and_then(|g| {
                    first_match(
                        &g.permissions.deny,
                        self.group_sets(*gi).and_then(|s| s.deny.as_ref()),
                        action,
                        Side::Restrict,
                    )
                    .map(|s| (s, Some(&*g.name)))
                })
            })
        });
        // Allows: the policy's allow minus its except; each permission group on its own.
        if grant.is_some() && reach != Reach::MaybeGroup {
            let excepted = &mut out.excepted;
            out.allow = scope_allows(&p.permissions, sets, action, None, excepts, excepted)
                .or_else(|| {
                    p.groups.iter().find_map(|(gi, _)| {
                        self.set.permission_groups.get(*gi).and_then(|g| {
                            let sets = self.group_sets(*gi);
                            let name = Some(&*g.name);
                            scope_allows(&g.permissions, sets, action, name, excepts, excepted)
                        })
                    })
                });
        }
        if out.allow.is_none() && out.deny.is_none() {
            return out;
        }
        // The condition is read only when it matters.
        let truth = match p.conditions.as_deref() {
            None => Truth::True,
            Some((c, _)) => {
                let t = c.eval(&ask.env(), &mut out.unknown);
                out.truth = Some(t);
                t
            }
        };
        out.effect.allows = out.allow.is_some() && truth == Truth::True;
        if out.effect.allows {
            if let Some(owner) = ask.gate.blocks(p) {
                // Cross-account: only the resource's owner grants on it (see `Gate`).
                out.effect.allows = false;
                out.blocked = Some(owner);
            }
        }
        out.effect.denies = out.deny.is_some() && truth != Truth::False;
        out
    }

    /// The trace entry of policy `p` from what it did (`applied`): every check when explaining; only the
    /// excepts, and only for an entry a summary can name, when brief.
    fn record_policy(
        &self,
        t: &mut Tracer,
        ask: &Ask<'_>,
        p: &Policy,
        reach: Reach<'_>,
        applied: &Applied<'_>,
    ) {
        let effect = &applied.effect;
        let outcome = if effect.denies {
            Outcome::Denies
        } else if effect.allows {
            Outcome::Allows
        } else {
            Outcome::NoEffect
        };
        let mut entry = Entry {
            policy: Some(String::from(&*p.name)),
            role: ask.role.map(|r| r.to_row()),
            ..Entry::new(Kind::Policy, outcome)
        };
        if t.brief {
            // Brief: the summary of an implicit deny names the excepts that removed the action; an entry
            // with no effect and no except is never named by a summary.
            if outcome == Outcome::NoEffect && applied.excepted.is_empty() {
                return;
            }
            entry.checks = (applied.excepted.iter())
                .map(|x| except_check(x, ask.action))
                .collect();
            t.entries.push(entry);
            return;
        }
        (entry.file, entry.line, entry.pointer) = self.locate(&p.loc);
        entry.via = match reach {
            Reach::Direct => None,
            Reach::Group(g) => Some(format!("group `{g}`")),
            Reach::MaybeGroup => Some(String::from(
                "a group of the same account (membership unknown)",
            )),
        };
        entry.action = ask.action.to_owned();
        entry.checks = self.policy_checks(ask, p, reach, applied);
        t.entries.push(entry);
    }

    /// The checks of a policy's trace entry, in evaluation order, up to where its evaluation stopped.
    fn policy_checks(
        &self,
        ask: &Ask<'_>,
        p: &Policy,
        reach: Reach<'_>,
        applied: &Applied<'_>,
    ) -> Vec<Check> {
        let (req, id, action) = (ask.req, ask.id, ask.action);
        let mut checks = vec![match reach {
            Reach::Direct => Check::new(Part::Identity, Status::Pass, Some(&id.raw), "names the identity"),
            Reach::Group(g) => Check::new(Part::Identity, Status::Pass, Some(g), format!("names group `{g}`, which the account file says `{id}` belongs to")),
            Reach::MaybeGroup => Check::new(Part::Identity, Status::Unknown, None, format!("names a group of account `{}`; the user's group is unknown, so only this policy's denies count", id.account)).inferred(),
        }];
        if let Some((until, _)) = p.expired_at.as_deref() {
            if applied.expired {
                checks.push(Check::new(Part::Expiry, Status::Fail, None, format!("expired at {until} (evaluation time {}): an expired policy neither allows nor denies", req.at)));
                return checks;
            }
            checks.push(Check::new(
                Part::Expiry,
                Status::Pass,
                None,
                format!("expires at {until}, after the evaluation time {}", req.at),
            ));
        }
        let Some((restrict, grant)) = applied.resource else {
            let resource = req.resource.as_deref().unwrap_or("");
            let pats: Vec<&str> = p.resources.iter().map(resource_text).collect();
            checks.push(Check::new(
                Part::Resource,
                Status::Fail,
                None,
                format!(
                    "no resource pattern matches `{resource}` (patterns: {})",
                    pats.join(", ")
                ),
            ));
            return checks;
        };
        checks.push(resource_check(
            grant.unwrap_or(restrict),
            grant.is_some(),
            &self.set,
        ));
        match applied.allow {
            Some((s, None)) => checks.push(spec_check(Part::Action, s, Side::Grant, format!("allow `{}` matches `{action}`", s.raw()))),
            Some((s, Some(g))) => checks.push(spec_check(Part::Group, s, Side::Grant, format!("permission group `{g}` allows `{action}` through `{}`", s.raw()))),
            None if reach == Reach::MaybeGroup => {}
            None if grant.is_none() => checks.push(Check::new(Part::Action, Status::Skipped, None, "the resource matches only through an unsupported wildcard, which an allow reads literally").inferred()),
            // An except removed it: its check says what happened.
            None if !applied.excepted.is_empty() => {}
            None => checks.push(Check::new(Part::Action, Status::Fail, None, format!("no allow pattern matches `{action}`"))),
        }
        for x in &applied.excepted {
            checks.push(except_check(x, action));
        }
        match applied.deny {
            Some((s, None)) => checks.push(spec_check(
                Part::Deny,
                s,
                Side::Restrict,
                format!("deny `{}` matches `{action}`", s.raw()),
            )),
            Some((s, Some(g))) => checks.push(spec_check(
                Part::Deny,
                s,
                Side::Restrict,
                format!(
                    "permission group `{g}` denies `{action}` through `{}`",
                    s.raw()
                ),
            )),
            None => {}
        }
        if let (Some(truth), Some((c, _))) = (applied.truth, p.conditions.as_deref()) {
            checks.push(match truth {
                Truth::True => Check::new(Part::Condition, Status::Pass, None, "the condition holds"),
                Truth::False => Check::new(Part::Condition, Status::Fail, None, format!("the condition does not hold: {}; the policy does not apply", c.explain(&ask.env(), false))),
                Truth::Unknown => Check::new(
                    Part::Condition,
                    Status::Unknown,
                    None,
                    format!(
                        "the request lacks {}: an allow needing it does not apply, a deny needing it is assumed to apply; supply it with --context",
                        applied.unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .inferred(),
            });
        }
        if let Some(owner) = applied.blocked {
            checks.push(Check::new(Part::Rule, Status::Fail, None, format!(
                "this policy belongs to account `{}`, which cannot grant on a resource of account `{owner}`: across accounts, only what `{owner}` granted can be passed on",
                p.owner.as_deref().unwrap_or("(unknown)")
            )).inferred());
        }
        checks
    }

    fn resource_matches(&self, r: &ResourceEntry, resource: &str, side: Side) -> bool {
        match r {
            ResourceEntry::Pattern(s) => s.matches(resource, side),
            ResourceEntry::Group { group, .. } => self
                .set
                .resource_groups
                .get(*group)
                .is_some_and(|g| g.holds(resource, side)),
        }
    }
}

/// Whether a resource entry reads differently when granting (an unsupported wildcard, read literally; a
/// resource group whose members are unknown, which grants on nothing).
fn literal_when_granting(r: &ResourceEntry) -> bool {
    match r {
        ResourceEntry::Pattern(s) => s.literal_when_granting,
        ResourceEntry::Group { .. } => true,
    }
}

/// An allow of a scope (the policy's own, or a permission group's) that an except of the same scope
/// removed the action from.
struct Excepted<'a> {
    allow: &'a Spec,
    except: &'a Spec,
    /// The permission group, or `None` for the policy's own permissions.
    group: Option<&'a str>,
}

/// One scope's allow minus its except; an except that removes the action is recorded when `record`.
fn scope_allows<'a>(
    p: &'a Permissions,
    sets: Option<&PermissionSets>,
    action: &str,
    group: Option<&'a str>,
    record: bool,
    excepted: &mut Vec<Excepted<'a>>,
) -> Option<(&'a Spec, Option<&'a str>)> {
    let allow = first_match(
        &p.allow,
        sets.and_then(|s| s.allow.as_ref()),
        action,
        Side::Grant,
    )?;
    let except = sets.and_then(|s| s.except.as_ref());
    if let Some(ex) = first_match(&p.except, except, action, Side::Restrict) {
        if record {
            excepted.push(Excepted {
                allow,
                except: ex,
                group,
            });
        }
        return None;
    }
    Some((allow, group))
}

fn resource_text(r: &ResourceEntry) -> &str {
    match r {
        ResourceEntry::Pattern(s) => s.raw(),
        ResourceEntry::Group { urn, .. } => urn,
    }
}

fn resource_check(r: &ResourceEntry, grant: bool, set: &crate::model::PolicySet) -> Check {
    match r {
        ResourceEntry::Pattern(s) => {
            if grant {
                spec_check(
                    Part::Resource,
                    s,
                    Side::Grant,
                    format!("resource `{}` matches", s.raw()),
                )
            } else {
                spec_check(
                    Part::Resource,
                    s,
                    Side::Restrict,
                    format!(
                        "resource `{}` matches only as a wildcard, so it counts for denies only",
                        s.raw()
                    ),
                )
            }
        }
        ResourceEntry::Group { urn, group, .. } => {
            let g = set.resource_groups.get(*group);
            let name = g.map_or("", |g| &*g.name);
            if g.is_some_and(|g| !g.known) {
                Check::new(
                    Part::Resource,
                    Status::Unknown,
                    Some(urn),
                    format!("resource group `{name}`: its members are unknown (no input lists them), so it counts for denies only"),
                )
                .inferred()
            } else {
                Check::new(
                    Part::Resource,
                    Status::Pass,
                    Some(urn),
                    format!("the resource is a member of resource group `{name}`"),
                )
            }
        }
    }
}

/// An except that removed the action from a scope's allow: what allowed it, then what removed it.
fn except_check(x: &Excepted<'_>, action: &str) -> Check {
    let (allow, except) = (x.allow.raw(), x.except.raw());
    let detail = match x.group {
        None => format!("`{action}` allowed by `{allow}`, then removed by except `{except}` (an except acts only within its own policy)"),
        Some(g) => format!("`{action}` allowed by permission group `{g}` through `{allow}`, then removed by the group's except `{except}` (an except acts only within its own group)"),
    };
    spec_check(Part::Except, x.except, Side::Restrict, detail)
}

/// A check naming a spec, flagged inferred when an undocumented wildcard was read on the safe side.
fn spec_check(part: Part, s: &Spec, side: Side, detail: String) -> Check {
    let reading = s.reading(side);
    let c = Check::new(part, Status::Pass, Some(s.raw()), detail);
    match reading {
        Reading::Documented => c,
        Reading::LiteralUnsupported => Check { detail: format!("{} (its undocumented `*` is read literally in an allow: the safe reading)", c.detail), ..c }.inferred(),
        Reading::WildcardUnsupported => Check { detail: format!("{} (its undocumented `*` is read as a wildcard in a deny or except: the safe reading)", c.detail), ..c }.inferred(),
    }
}

/// Mark entries from `start` on as decisive: the denying ones, or the allowing ones.
/// Both must allow; an explicit deny of either is the answer's reason.
fn combine(a: Decision, b: Decision) -> Decision {
    if a.reason == crate::eval::Reason::ExplicitDeny
        || b.reason == crate::eval::Reason::ExplicitDeny
    {
        Decision::EXPLICIT_DENY
    } else if a.allowed() && b.allowed() {
        Decision::EXPLICIT_ALLOW
    } else {
        Decision::IMPLICIT_DENY
    }
}

fn mark(tr: Option<&mut Tracer>, start: usize, denies: bool, allows: bool) {
    if let Some(t) = tr {
        for e in t.entries.iter_mut().skip(start) {
            if (denies && e.outcome == Outcome::Denies)
                || (!denies && allows && e.outcome == Outcome::Allows)
            {
                e.decisive = true;
            }
        }
    }
}
