//! Compile: the checked policy set → an immutable index, built once and shared across threads.
//! OVHcloud identities are exact URNs (the domain notes §1.3), so candidate policies are found by hash lookup;
//! an EIM user's documents (inline, default versions of linked managed policies, and the same for each of
//! its groups) are resolved once.
//!
//! The fast path (`decide`) also narrows the candidates by action: every allow and deny pattern is keyed by
//! its cheapest form — the exact string, the prefix of `abc*`, the suffix of `*abc` — and each identity's
//! candidates are listed per key, so a request visits only the policies that have a pattern that can match
//! its action (plus those whose patterns cannot be keyed: `*`, `*abc*`, inner `*`). Skipping a policy none of
//! whose allow or deny patterns matches is exact: such a policy neither allows nor denies. `explain` visits
//! every candidate, since its trace lists them all. Long pattern lists (the OVHcloud-managed permission
//! groups hold up to ~1,000 actions) are compiled into [`PatternSet`]s.

use std::collections::HashMap;

use crate::model::eim::Via;
use crate::model::ovh::Permissions;
use crate::model::ovh::ResourceEntry;
use crate::model::pattern::{FxHashMap, FxHasher, Matcher, Pattern, PatternSet};
use crate::model::{PolicySet, Side, Spec};

/// A pattern list longer than this is compiled into a [`PatternSet`]; shorter ones are scanned.
const SCAN_LIMIT: usize = 12;
/// A permission group with more allow and deny patterns than this is not keyed into the per-identity action
/// index: the policies using it are always visited (and the group's own [`PatternSet`]s answer quickly).
const GROUP_KEY_LIMIT: usize = 16;
/// A key list up to this long is searched by counting the keys below the one sought; longer, by bisection.
const LINEAR_SEARCH: usize = 64;
/// The most action keys one action can have (one exact, one per matching prefix and suffix); past it the
/// request visits every candidate, which is correct, only slower.
const MAX_KEYS: usize = 32;

/// The compiled policy set. Evaluation is in [`crate::eval`].
#[derive(Debug, Clone)]
pub struct Engine {
    pub set: PolicySet,
    /// Identity URN → the OVHcloud policies naming it, with their action index.
    pub(crate) ovh_by_identity: FxHashMap<std::sync::Arc<str>, Candidates>,
    /// Region → account → the policies naming some group of that account, with an action index over their
    /// deny patterns only: a user whose group is unknown gets their denies (the safe reading).
    pub(crate) ovh_group_denies: FxHashMap<Box<str>, FxHashMap<Box<str>, Keyed>>,
    /// The keys of every keyed allow or deny pattern.
    pub(crate) action_keys: ActionKeys,
    /// The keys of many actions computed once (see [`Engine::remember_action_keys`]): an audit decides
    /// each action thousands of times.
    pub(crate) key_memo: std::sync::OnceLock<FxHashMap<Box<str>, KeyBuf>>,
    /// Per OVHcloud policy, its long pattern lists compiled (`None` when all are short).
    pub(crate) ovh_sets: Vec<Option<Box<PermissionSets>>>,
    /// Per permission group, its long pattern lists compiled.
    pub(crate) group_sets: Vec<Option<Box<PermissionSets>>>,
    /// EIM user name → the documents that apply to it and how they reach it.
    pub(crate) eim_user_docs: HashMap<Box<str>, Vec<(usize, Via)>>,
    /// The bare EIM documents, as the caller's own.
    pub(crate) eim_caller_docs: Vec<(usize, Via)>,
    /// The evaluation time for requests that name none.
    pub default_at: jiff::Timestamp,
    /// The accounts owning the OVHcloud policies (their `owner`), sorted: cross-account delegation applies
    /// when there are several, or when a dump says a resource belongs to another account.
    pub(crate) policy_owners: Vec<std::sync::Arc<str>>,
}

/// Candidate policies of one identity, and which of them each action key reaches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Candidates {
    /// Policy indices, ascending.
    pub policies: Vec<u32>,
    /// The policies with an allow pattern (theirs or their permission groups'), by key.
    pub allow: Keyed,
    /// The policies with a deny pattern, by key.
    pub deny: Keyed,
}

/// Policies by action key, each with its resource filter (see [`resource_bit`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Keyed {
    /// Action keys, ascending, one per entry of `entries`: searched apart from the entries, 16 keys per
    /// cache line.
    keys: Vec<u32>,
    /// (policy, resource filter) of each key of `keys`.
    entries: Vec<(u32, u32)>,
    /// Policies with a pattern that has no key (`*`, `*abc*`, an inner `*` on the deny side, a long
    /// permission group), with their resource filter: visited for every action.
    always: Vec<(u32, u32)>,
    /// Every policy listed here, ascending (visited when an action has too many keys).
    all: Vec<u32>,
}

/// The compiled forms of a scope's long `allow` / `except` / `deny` lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct PermissionSets {
    pub allow: Option<PatternSet>,
    pub except: Option<PatternSet>,
    pub deny: Option<PatternSet>,
}

impl PermissionSets {
    fn new(p: &Permissions) -> Option<Box<PermissionSets>> {
        let set = |list: &[Spec], side: Side| {
            (list.len() > SCAN_LIMIT).then(|| {
                let pats: Vec<Pattern> = list.iter().map(|s| effective(s, side)).collect();
                PatternSet::new(&pats)
            })
        };
        let sets = PermissionSets {
            allow: set(&p.allow, Side::Grant),
            except: set(&p.except, Side::Restrict),
            deny: set(&p.deny, Side::Restrict),
        };
        (sets.allow.is_some() || sets.except.is_some() || sets.deny.is_some())
            .then(|| Box::new(sets))
    }
}

/// The pattern a spec matches with on one side: an undocumented wildcard is literal when granting.
fn effective(s: &Spec, side: Side) -> Pattern {
    if s.literal_when_granting && side == Side::Grant {
        Pattern::literal(&s.pattern.raw)
    } else {
        Pattern::clone(&s.pattern)
    }
}

/// The first spec of a list that matches, on one side: by the compiled set when there is one, else by
/// scanning. Both give the same spec.
pub(crate) fn first_match<'a>(
    list: &'a [Spec],
    set: Option<&PatternSet>,
    action: &str,
    side: Side,
) -> Option<&'a Spec> {
    match set {
        Some(set) => set.first_match(action).and_then(|i| list.get(i as usize)),
        None => list.iter().find(|s| s.matches(action, side)),
    }
}

/// A policy's action keys; `None`: some pattern has no key, so the policy is visited for every action.
type PolicyKeys = Option<Vec<u32>>;

/// Every policy's allow and deny keys in one buffer, while the identity index is built: one allocation for
/// the whole set rather than two vectors (two headers, two allocations) per policy, which lowers the peak
/// memory of loading a large set.
struct FlatKeys {
    keys: Vec<u32>,
    /// Per policy: where its allow keys start, where its deny keys start and end, its resource filter, and
    /// whether each side has keys at all (`None`: some pattern has no key).
    spans: Vec<(u32, u32, u32, u32, [bool; 2])>,
}

impl FlatKeys {
    fn with_capacity(policies: usize) -> Self {
        FlatKeys {
            keys: Vec::with_capacity(policies * 3),
            spans: Vec::with_capacity(policies),
        }
    }

    fn push(&mut self, allow: Option<&[u32]>, deny: Option<&[u32]>, filter: u32) {
        let at = |v: &Vec<u32>| u32::try_from(v.len()).unwrap_or(u32::MAX);
        let start = at(&self.keys);
        self.keys.extend_from_slice(allow.unwrap_or_default());
        let mid = at(&self.keys);
        self.keys.extend_from_slice(deny.unwrap_or_default());
        let end = at(&self.keys);
        self.spans
            .push((start, mid, end, filter, [allow.is_some(), deny.is_some()]));
    }

    /// A policy's allow keys, deny keys and resource filter.
    fn get(&self, policy: usize) -> (Option<&[u32]>, Option<&[u32]>, u32) {
        let Some(&(start, mid, end, filter, [allow, deny])) = self.spans.get(policy) else {
            return (None, None, u32::MAX);
        };
        let slice = |a: u32, b: u32| self.keys.get(a as usize..b as usize).unwrap_or_default();
        (
            allow.then(|| slice(start, mid)),
            deny.then(|| slice(mid, end)),
            filter,
        )
    }
}

/// How a pattern is keyed in the action index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyKind {
    Exact,
    Prefix,
    Suffix,
}

/// Interned action keys: exact strings, prefixes and suffixes, each with an id.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionKeys {
    /// By [`key_hash`] of the text.
    exact: FxHashMap<u64, u32>,
    /// By [`key_hash`] of the prefix.
    prefix: FxHashMap<u64, u32>,
    prefix_lens: Vec<usize>,
    /// By [`key_hash_back`] of the suffix.
    suffix: FxHashMap<u64, u32>,
    suffix_lens: Vec<usize>,
    next: u32,
}

/// One byte into a key hash. Keys are hashed a byte at a time so that one pass over an action gives the
/// hash of each of its prefixes and of the whole, and one pass back from its end the hash of each suffix.
/// Texts are not compared: two texts with the same hash share a key, so a policy may be visited for an
/// action that only collides with one of its keys, which is exact (a visit checks the patterns themselves),
/// only slower — and with 64 bits, not seen in practice.
fn key_step(h: u64, b: u8) -> u64 {
    (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// The hash of an exact or prefix key, reading forwards.
fn key_hash(text: &[u8]) -> u64 {
    text.iter().fold(0, |h, &b| key_step(h, b))
}

/// The hash of a suffix key, reading backwards from its end.
fn key_hash_back(text: &[u8]) -> u64 {
    text.iter().rev().fold(0, |h, &b| key_step(h, b))
}

/// The keys of one action, on the stack. `overflow`: too many to hold, visit everything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyBuf {
    keys: [u32; MAX_KEYS],
    len: usize,
    overflow: bool,
}

impl KeyBuf {
    fn push(&mut self, k: u32) {
        match self.keys.get_mut(self.len) {
            Some(slot) => {
                *slot = k;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }

    fn keys(&self) -> &[u32] {
        self.keys.get(..self.len).unwrap_or(&[])
    }

    /// Drop the first key (kept in place for one not known yet).
    fn remove_first(&mut self) {
        if let Some(keys) = self.keys.get_mut(..self.len) {
            keys.rotate_left(1);
        }
        self.len = self.len.saturating_sub(1);
    }
}

impl ActionKeys {
    fn intern(&mut self, kind: KeyKind, text: &str) -> u32 {
        let (map, lens) = match kind {
            KeyKind::Exact => (&mut self.exact, None),
            KeyKind::Prefix => (&mut self.prefix, Some(&mut self.prefix_lens)),
            KeyKind::Suffix => (&mut self.suffix, Some(&mut self.suffix_lens)),
        };
        let hash = match kind {
            KeyKind::Suffix => key_hash_back(text.as_bytes()),
            KeyKind::Exact | KeyKind::Prefix => key_hash(text.as_bytes()),
        };
        if let Some(&id) = map.get(&hash) {
            return id;
        }
        let id = self.next;
        self.next += 1;
        map.insert(hash, id);
        if let Some(lens) = lens {
            if !lens.contains(&text.len()) {
                lens.push(text.len());
                lens.sort_unstable();
            }
        }
        id
    }

    /// The key of a pattern as matched on one side, or `None` when it cannot be keyed.
    fn key_of(&mut self, s: &Spec, side: Side) -> Option<u32> {
        if s.literal_when_granting && side == Side::Grant {
            return Some(self.intern(KeyKind::Exact, &s.pattern.raw));
        }
        if s.pattern.fold_case {
            return None;
        }
        match &s.pattern.matcher {
            Matcher::Exact(e) => Some(self.intern(KeyKind::Exact, e)),
            Matcher::Prefix(e) if !e.is_empty() => Some(self.intern(KeyKind::Prefix, e)),
            Matcher::Suffix(e) if !e.is_empty() => Some(self.intern(KeyKind::Suffix, e)),
            // A glob anchored at an end is keyed by its literal there: every action it matches has that
            // prefix (or suffix), so it is visited for those actions and maybe a few more, never fewer.
            Matcher::Glob(g) => match g.literal_end()? {
                (true, prefix) => Some(self.intern(KeyKind::Prefix, prefix)),
                (false, suffix) => Some(self.intern(KeyKind::Suffix, suffix)),
            },
            _ => None,
        }
    }

    /// Every key an action has: its exact string, and each keyed prefix and suffix of it (in that order).
    pub(crate) fn of(&self, action: &str) -> KeyBuf {
        let mut buf = KeyBuf {
            keys: [0; MAX_KEYS],
            len: 0,
            overflow: false,
        };
        let bytes = action.as_bytes();
        // One pass forwards: each prefix's hash continues the one before it, and the whole's continues the
        // longest prefix's. The exact key is put first once known.
        buf.push(0);
        let (mut h, mut done) = (0, 0);
        for &l in &self.prefix_lens {
            let Some(more) = bytes.get(done..l) else {
                break;
            };
            h = more.iter().fold(h, |h, &b| key_step(h, b));
            done = l;
            if let Some(&k) = self.prefix.get(&h) {
                buf.push(k);
            }
        }
        let h = bytes
            .get(done..)
            .unwrap_or_default()
            .iter()
            .fold(h, |h, &b| key_step(h, b));
        match self.exact.get(&h) {
            Some(&k) => {
                if let Some(first) = buf.keys.first_mut() {
                    *first = k;
                }
            }
            None => buf.remove_first(),
        }
        // One pass backwards for the suffixes.
        let (mut h, mut done) = (0, 0);
        for &l in &self.suffix_lens {
            let Some(more) = bytes
                .len()
                .checked_sub(l)
                .and_then(|at| bytes.get(at..bytes.len() - done))
            else {
                break;
            };
            h = more.iter().rev().fold(h, |h, &b| key_step(h, b));
            done = l;
            if let Some(&k) = self.suffix.get(&h) {
                buf.push(k);
            }
        }
        buf
    }
}

impl Keyed {
    /// Visit the policies that may match an action with these keys, until `f` says stop. A policy may be
    /// visited more than once.
    /// `resource` is the request resource's [`resource_bit`] (`u32::MAX`: no resource filtering): a policy
    /// whose resources are all exact URNs, none with that bit, cannot match the resource and is skipped.
    pub(crate) fn visit(&self, keys: &KeyBuf, resource: u32, mut f: impl FnMut(u32) -> bool) {
        if keys.overflow {
            for &p in &self.all {
                if f(p) {
                    return;
                }
            }
            return;
        }
        for &(p, filter) in &self.always {
            if filter & resource != 0 && f(p) {
                return;
            }
        }
        for &k in keys.keys() {
            let start = if self.keys.len() <= LINEAR_SEARCH {
                // Counted without branches (vectorized), rather than a bisection whose every step waits
                // for the load before it.
                self.keys.iter().filter(|&&key| key < k).count()
            } else {
                self.keys.partition_point(|&key| key < k)
            };
            let found = self.keys.get(start..).unwrap_or(&[]);
            let entries = self.entries.get(start..).unwrap_or(&[]);
            for (&key, &(p, filter)) in found.iter().zip(entries) {
                if key != k {
                    break;
                }
                if filter & resource != 0 && f(p) {
                    return;
                }
            }
        }
    }

    /// List a policy under its keys (`None`: under none, always visit it). An empty key list lists nothing.
    fn add(&mut self, policy: u32, keys: Option<&[u32]>, filter: u32) {
        if self.all.last() == Some(&policy) {
            return;
        }
        match keys {
            None => self.always.push((policy, filter)),
            Some([]) => return,
            Some(keys) => {
                for &k in keys {
                    self.keys.push(k);
                    self.entries.push((policy, filter));
                }
            }
        }
        self.all.push(policy);
    }

    fn finish(&mut self) {
        let mut by_key: Vec<(u32, u32, u32)> = self
            .keys
            .iter()
            .zip(&self.entries)
            .map(|(&k, &(p, filter))| (k, p, filter))
            .collect();
        by_key.sort_unstable();
        by_key.dedup();
        self.keys = by_key.iter().map(|&(k, _, _)| k).collect();
        self.entries = by_key.iter().map(|&(_, p, filter)| (p, filter)).collect();
        self.always.shrink_to_fit();
        self.all.shrink_to_fit();
    }
}

/// Policy sets smaller than this are indexed on the calling thread alone.
const PARALLEL_MIN: usize = 4096;

/// Which of `parts` parts an identity is indexed in.
fn part_of(identity: &str, parts: usize) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<FxHasher>::default().hash_one(identity);
    // The high bits: FxHash mixes them best.
    usize::try_from(h >> 32).unwrap_or(0) % parts.max(1)
}

/// One of 32 bits for an exact resource URN. A policy's resource filter is the union of its resources'
/// bits when all are exact URNs (an exact pattern matches only the identical URN, on both sides), else all
/// bits: a request whose resource's bit is not in the filter cannot match any of the policy's resources.
pub(crate) fn resource_bit(urn: &str) -> u32 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<FxHasher>::default().hash_one(urn);
    1 << (h >> 59)
}

/// A policy's resource filter (see [`resource_bit`]).
fn resource_filter(p: &crate::model::ovh::Policy) -> u32 {
    let mut filter = 0;
    for r in &p.resources {
        match r {
            ResourceEntry::Pattern(s) => match &s.pattern.matcher {
                Matcher::Exact(e) if !s.pattern.fold_case && !s.literal_when_granting => {
                    filter |= resource_bit(e);
                }
                _ => return u32::MAX,
            },
            ResourceEntry::Group { .. } => return u32::MAX,
        }
    }
    filter
}

/// `urn:v1:{region}:identity:group:{account}/...` → (region, account).
fn group_account(urn: &str) -> Option<(&str, &str)> {
    let rest = urn.strip_prefix("urn:v1:")?;
    let (region, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("identity:group:")?;
    let (account, _) = rest.split_once('/')?;
    Some((region, account))
}

impl Engine {
    /// Build the index.
    pub fn compile(set: PolicySet) -> Engine {
        let mut action_keys = ActionKeys::default();
        let group_sets: Vec<_> = set
            .permission_groups
            .iter()
            .map(|g| PermissionSets::new(&g.permissions))
            .collect();
        // Per permission group: the keys of its allow patterns and of its deny patterns (`None`: some pattern
        // has no key, or the group is too long to key).
        let mut group_keys: Vec<(PolicyKeys, PolicyKeys)> = Vec::new();
        for g in &set.permission_groups {
            let p = &g.permissions;
            let long = p.allow.len() + p.deny.len() > GROUP_KEY_LIMIT;
            let mut keys = |list: &[Spec], side: Side| -> Option<Vec<u32>> {
                if long && !list.is_empty() {
                    return None;
                }
                list.iter().map(|s| action_keys.key_of(s, side)).collect()
            };
            group_keys.push((keys(&p.allow, Side::Grant), keys(&p.deny, Side::Restrict)));
        }
        // Per policy: its compiled long lists, the keys of what can make it allow and deny (an except only
        // removes), and its resource filter. Interning the keys is sequential.
        let mut ovh_sets = Vec::with_capacity(set.ovh_policies.len());
        let mut policy_keys = FlatKeys::with_capacity(set.ovh_policies.len());
        for p in &set.ovh_policies {
            ovh_sets.push(PermissionSets::new(&p.permissions));
            let mut allow_keys: Option<Vec<u32>> = p
                .permissions
                .allow
                .iter()
                .map(|s| action_keys.key_of(s, Side::Grant))
                .collect();
            let mut deny_keys: Option<Vec<u32>> = p
                .permissions
                .deny
                .iter()
                .map(|s| action_keys.key_of(s, Side::Restrict))
                .collect();
            for (g, _) in &p.groups {
                let (allows, denies) = group_keys.get(*g).cloned().unwrap_or((None, None));
                for (mine, theirs) in [(&mut allow_keys, allows), (&mut deny_keys, denies)] {
                    match (mine.as_mut(), theirs) {
                        (Some(k), Some(t)) => k.extend(t),
                        _ => *mine = None,
                    }
                }
            }
            for k in [&mut allow_keys, &mut deny_keys].into_iter().flatten() {
                k.sort_unstable();
                k.dedup();
            }
            policy_keys.push(
                allow_keys.as_deref(),
                deny_keys.as_deref(),
                resource_filter(p),
            );
        }
        // Identity → candidates, and the group denies per account: built in parts by identity (hash), one
        // part per core for a large set, then put together (no identity is in two parts).
        // Each part reads every policy (and keeps its own identities), so two parts at most: beyond that
        // the reading costs more than the indexing it shares out.
        let parts = crate::parallel::parts(set.ovh_policies.len(), PARALLEL_MIN / 2).min(2);
        let build = |part: usize| -> FxHashMap<std::sync::Arc<str>, Candidates> {
            let mut map: FxHashMap<std::sync::Arc<str>, Candidates> = FxHashMap::default();
            for (i, p) in set.ovh_policies.iter().enumerate() {
                let (allow_keys, deny_keys, filter) = policy_keys.get(i);
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                for (id, _) in &p.identities {
                    if parts > 1 && part_of(id, parts) != part {
                        continue;
                    }
                    // One hash per identity: the key is shared (`Arc`), so the entry costs no copy.
                    let c = map.entry(id.clone()).or_default();
                    if c.policies.last() != Some(&i) {
                        c.policies.push(i);
                        c.allow.add(i, allow_keys, filter);
                        c.deny.add(i, deny_keys, filter);
                    }
                }
            }
            for c in map.values_mut() {
                c.policies.shrink_to_fit();
                c.allow.finish();
                c.deny.finish();
            }
            map
        };
        let group_denies = || {
            let mut denies: FxHashMap<Box<str>, FxHashMap<Box<str>, Keyed>> = FxHashMap::default();
            for (i, p) in set.ovh_policies.iter().enumerate() {
                let (_, deny_keys, filter) = policy_keys.get(i);
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                for (region, account) in p.identities.iter().filter_map(|(id, _)| group_account(id))
                {
                    if !denies.contains_key(region) {
                        denies.insert(region.into(), FxHashMap::default());
                    }
                    if let Some(accounts) = denies.get_mut(region) {
                        if !accounts.contains_key(account) {
                            accounts.insert(account.into(), Keyed::default());
                        }
                        if let Some(k) = accounts.get_mut(account) {
                            k.add(i, deny_keys, filter);
                        }
                    }
                }
            }
            for c in denies.values_mut().flat_map(|m| m.values_mut()) {
                c.finish();
            }
            denies
        };
        let (ovh_by_identity, ovh_group_denies) = if parts > 1 {
            use rayon::prelude::*;
            rayon::join(
                || {
                    (0..parts).into_par_iter().map(build).reduce(
                        FxHashMap::default,
                        // No identity is in two parts: the smaller map goes into the larger.
                        |mut a, mut b| {
                            if a.len() < b.len() {
                                std::mem::swap(&mut a, &mut b);
                            }
                            a.extend(b);
                            a
                        },
                    )
                },
                group_denies,
            )
        } else {
            (build(0), group_denies())
        };
        let eim_user_docs = set
            .eim_account
            .users
            .values()
            .map(|user| (user.name.clone(), eim_docs_for(&set.eim_account, user)))
            .collect();
        let eim_caller_docs = set.eim_unlinked.iter().map(|&d| (d, Via::Caller)).collect();
        let mut policy_owners: Vec<std::sync::Arc<str>> = set
            .ovh_policies
            .iter()
            .filter_map(|p| p.owner.clone())
            .collect();
        policy_owners.sort_unstable();
        policy_owners.dedup();
        Engine {
            policy_owners,
            set,
            ovh_by_identity,
            ovh_group_denies,
            action_keys,
            key_memo: std::sync::OnceLock::new(),
            ovh_sets,
            group_sets,
            eim_user_docs,
            eim_caller_docs,
            default_at: jiff::Timestamp::now(),
        }
    }

    /// Set the time used for requests that name none (`--at`).
    pub fn with_default_time(mut self, at: jiff::Timestamp) -> Engine {
        self.default_at = at;
        self
    }

    /// Treat an OVHcloud local user as a member of `group`, as if an account file said so (`check
    /// --member-of`, and the audit's "any member of" identities). Membership is read at evaluation, so
    /// nothing is recompiled.
    pub fn assume_member(&mut self, user: &str, group: &str) {
        self.set.membership.user_group.insert(
            user.into(),
            (
                group.into(),
                crate::source::Loc::root(crate::source::SourceId(0)),
            ),
        );
    }

    /// Treat an EIM user as a member of `group` of the account file, as if the file said so (`check
    /// --member-of`, and the audit's "any member of group" identities); a user the file does not list is
    /// added, with no policy of its own. Its documents are gathered again; nothing else is recompiled.
    pub fn assume_eim_member(&mut self, user: &str, group: &str) {
        let account = &mut self.set.eim_account;
        let entry = account
            .users
            .entry(user.into())
            .or_insert_with(|| crate::model::eim::User {
                name: user.into(),
                loc: crate::source::Loc::root(crate::source::SourceId(0)),
                groups: Vec::new(),
                linked: Vec::new(),
                inline: Vec::new(),
            });
        if !entry.groups.iter().any(|g| **g == *group) {
            entry.groups.push(group.into());
        }
        let docs = account
            .users
            .get(user)
            .map(|u| eim_docs_for(account, u))
            .unwrap_or_default();
        self.eim_user_docs.insert(user.into(), docs);
    }

    /// The EIM documents that apply to a user, and how each reaches it.
    pub fn eim_docs_of(&self, user: &str) -> &[(usize, Via)] {
        self.eim_user_docs.get(user).map_or(&[], Vec::as_slice)
    }

    /// The OVHcloud policies naming an identity exactly.
    pub(crate) fn ovh_candidates(&self, identity: &str) -> &[u32] {
        self.ovh_by_identity
            .get(identity)
            .map_or(&[], |c| c.policies.as_slice())
    }

    /// Compute the keys of `actions` once, for the decisions to come (the first call only: later ones
    /// keep the first's). An action it does not hold has its keys computed as usual; the keys do not
    /// depend on the request, so a remembered one is the same as a computed one.
    pub fn remember_action_keys<'a>(&self, actions: impl IntoIterator<Item = &'a str>) {
        self.key_memo.get_or_init(|| {
            actions
                .into_iter()
                .map(|a| (Box::from(a), self.action_keys.of(a)))
                .collect()
        });
    }

    /// The keys of an action: remembered, else computed.
    pub(crate) fn keys_of(&self, action: &str) -> KeyBuf {
        match self.key_memo.get().and_then(|m| m.get(action)) {
            Some(k) => *k,
            None => self.action_keys.of(action),
        }
    }

    /// The OVHcloud policies naming an identity exactly, with their action index.
    pub(crate) fn ovh_index(&self, identity: &str) -> Option<&Candidates> {
        self.ovh_by_identity.get(identity)
    }

    /// The policies naming some group of an account that have a deny, with their deny index.
    pub(crate) fn ovh_group_deny_index(&self, region: &str, account: &str) -> Option<&Keyed> {
        self.ovh_group_denies.get(region)?.get(account)
    }

    /// The compiled long lists of a policy.
    pub(crate) fn policy_sets(&self, policy: usize) -> Option<&PermissionSets> {
        self.ovh_sets.get(policy).and_then(|s| s.as_deref())
    }

    /// The compiled long lists of a permission group.
    pub(crate) fn group_sets(&self, group: usize) -> Option<&PermissionSets> {
        self.group_sets.get(group).and_then(|s| s.as_deref())
    }
}

/// Merge two ascending index lists without duplicates, without allocating.
pub(crate) fn merge_sorted<'a>(a: &'a [u32], b: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        match (x, y) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
                Some(x)
            }
            (Some(x), Some(y)) if x < y => {
                i += 1;
                Some(x)
            }
            (Some(_), Some(y)) => {
                j += 1;
                Some(y)
            }
            (Some(x), None) => {
                i += 1;
                Some(x)
            }
            (None, Some(y)) => {
                j += 1;
                Some(y)
            }
            (None, None) => None,
        }
    })
}

/// The EIM documents that apply to a user of an account, and how each reaches it: its inline and linked
/// policies, then those of each of its groups.
fn eim_docs_for(
    account: &crate::model::eim::Account,
    user: &crate::model::eim::User,
) -> Vec<(usize, Via)> {
    let mut docs = Vec::new();
    for &d in &user.inline {
        docs.push((
            d,
            Via::UserInline {
                user: user.name.clone(),
            },
        ));
    }
    for (name, _) in &user.linked {
        if let Some(m) = account.policies.get(name) {
            docs.push((
                m.document,
                Via::UserManaged {
                    user: user.name.clone(),
                    policy: m.name.clone(),
                    version: m.default_version.clone(),
                },
            ));
        }
    }
    for g in &user.groups {
        let Some(group) = account.groups.get(g) else {
            continue;
        };
        for &d in &group.inline {
            docs.push((
                d,
                Via::GroupInline {
                    group: group.name.clone(),
                },
            ));
        }
        for (name, _) in &group.linked {
            if let Some(m) = account.policies.get(name) {
                docs.push((
                    m.document,
                    Via::GroupManaged {
                        group: group.name.clone(),
                        policy: m.name.clone(),
                        version: m.default_version.clone(),
                    },
                ));
            }
        }
    }
    docs
}

#[cfg(test)]
mod tests {
    #[test]
    fn merge_dedupes() {
        let v: Vec<u32> = super::merge_sorted(&[1, 3, 5], &[2, 3, 6]).collect();
        assert_eq!(v, vec![1, 2, 3, 5, 6]);
    }
}
