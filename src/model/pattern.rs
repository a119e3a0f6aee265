//! Wildcard patterns, classified once into the cheapest matcher (ripgrep's globset idea): exact, prefix,
//! suffix, contains, any, or a general glob. Every matcher runs in time linear in the input for a given
//! pattern: the glob splits on `*` and finds each literal piece leftmost-first, never backtracking.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

/// How a pattern's wildcards are read. Where the cloud's behaviour is unknown, an allow reads the pattern
/// narrowly (literally) and a deny reads it broadly (as a wildcard): never "allow" on a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    /// Documented wildcard use.
    Documented,
    /// An undocumented wildcard (inner `*`, leading `*` in a URN, `?`) read literally: it grants nothing.
    LiteralUnsupported,
    /// An undocumented wildcard read as a wildcard because it is in a deny (the safe side).
    WildcardUnsupported,
}

/// A compiled matcher. Its strings are `Arc`s so that an exact pattern (most resource URNs) shares its text
/// with [`Pattern::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// `*`
    Any,
    Exact(Arc<str>),
    /// `abc*`
    Prefix(Arc<str>),
    /// `*abc`
    Suffix(Arc<str>),
    /// `*abc*`
    Contains(Arc<str>),
    /// Anything else with `*` (and `?` when enabled).
    Glob(Glob),
}

/// A general glob: literal pieces between `*`s, anchored at the ends unless the pattern starts or ends with `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pieces: Vec<Box<[u8]>>,
    anchored_start: bool,
    anchored_end: bool,
    /// `?` in a piece matches any one character (byte-wise on ASCII input; a non-ASCII character is several
    /// bytes, so `?` never matches one — the narrow reading).
    question: bool,
}

/// Options for compiling a pattern.
#[derive(Debug, Clone, Copy, Default)]
pub struct Syntax {
    /// `?` is a one-character wildcard.
    pub question: bool,
    /// Match ignoring ASCII case.
    pub fold_case: bool,
}

/// A pattern as written plus its matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub raw: Arc<str>,
    pub matcher: Matcher,
    pub fold_case: bool,
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Pattern {
    /// The pattern read literally: only the identical string matches.
    pub fn literal(raw: &str) -> Self {
        let raw: Arc<str> = raw.into();
        Pattern {
            matcher: Matcher::Exact(raw.clone()),
            raw,
            fold_case: false,
        }
    }

    /// Classify a wildcard pattern into its cheapest matcher.
    pub fn wildcard(raw: &str, syntax: Syntax) -> Self {
        let fold = syntax.fold_case;
        let norm: String = if fold {
            raw.to_ascii_lowercase()
        } else {
            raw.to_owned()
        };
        let has_q = syntax.question && norm.contains('?');
        let stars = norm.bytes().filter(|&b| b == b'*').count();
        let shared: Arc<str> = raw.into();
        let matcher = if norm == "*" {
            Matcher::Any
        } else if stars == 0 && !has_q && !fold {
            Matcher::Exact(shared.clone())
        } else if stars == 0 && !has_q {
            Matcher::Exact(norm.into())
        } else if has_q {
            Matcher::Glob(Glob::new(&norm, true))
        } else {
            let starts = norm.starts_with('*');
            let ends = norm.ends_with('*');
            let inner = norm.trim_matches('*');
            if inner.contains('*') {
                Matcher::Glob(Glob::new(&norm, false))
            } else {
                match (starts, ends) {
                    (true, true) => Matcher::Contains(inner.into()),
                    (true, false) => Matcher::Suffix(inner.into()),
                    (false, true) => Matcher::Prefix(inner.into()),
                    (false, false) => Matcher::Exact(norm.into()),
                }
            }
        };
        Pattern {
            raw: shared,
            matcher,
            fold_case: fold,
        }
    }

    /// Whether the pattern matches the whole of `s`.
    pub fn matches(&self, s: &str) -> bool {
        if self.fold_case {
            match &self.matcher {
                Matcher::Any => true,
                Matcher::Exact(p) => p.eq_ignore_ascii_case(s),
                Matcher::Prefix(p) => {
                    s.len() >= p.len()
                        && s.as_bytes()
                            .get(..p.len())
                            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
                }
                Matcher::Suffix(p) => {
                    s.len() >= p.len()
                        && s.as_bytes()
                            .get(s.len() - p.len()..)
                            .is_some_and(|t| t.eq_ignore_ascii_case(p.as_bytes()))
                }
                Matcher::Contains(p) => find(s.as_bytes(), p.as_bytes(), false, true).is_some(),
                Matcher::Glob(g) => g.matches(s.as_bytes(), true),
            }
        } else {
            match &self.matcher {
                Matcher::Any => true,
                Matcher::Exact(p) => **p == *s,
                Matcher::Prefix(p) => s.starts_with(&**p),
                Matcher::Suffix(p) => s.ends_with(&**p),
                Matcher::Contains(p) => s.contains(&**p),
                Matcher::Glob(g) => g.matches(s.as_bytes(), false),
            }
        }
    }

    /// Whether the pattern has any wildcard in its matcher (it is not an exact string).
    pub fn is_wildcard(&self) -> bool {
        !matches!(self.matcher, Matcher::Exact(_))
    }
}

impl Glob {
    fn new(pattern: &str, question: bool) -> Self {
        let anchored_start = !pattern.starts_with('*');
        let anchored_end = !pattern.ends_with('*');
        let pieces = pattern
            .split('*')
            .filter(|p| !p.is_empty())
            .map(|p| p.as_bytes().into())
            .collect();
        Glob {
            pieces,
            anchored_start,
            anchored_end,
            question,
        }
    }

    /// A literal every match starts with (`(true, prefix)`: the first piece up to any `?`, when the glob is
    /// anchored at its start) or ends with (`(false, suffix)`), the longer when both are known: for
    /// indexing, the more selective.
    pub fn literal_end(&self) -> Option<(bool, &str)> {
        let wild = |b: &u8| self.question && *b == b'?';
        let prefix = self
            .pieces
            .first()
            .filter(|_| self.anchored_start)
            .and_then(|first| {
                let l = first.iter().position(wild).unwrap_or(first.len());
                first.get(..l).and_then(|p| std::str::from_utf8(p).ok())
            })
            .filter(|p| !p.is_empty());
        let suffix = self
            .pieces
            .last()
            .filter(|_| self.anchored_end)
            .and_then(|last| {
                let l = last.iter().rposition(wild).map_or(0, |i| i + 1);
                last.get(l..).and_then(|p| std::str::from_utf8(p).ok())
            })
            .filter(|p| !p.is_empty());
        match (prefix, suffix) {
            (Some(p), Some(s)) if s.len() > p.len() => Some((false, s)),
            (Some(p), _) => Some((true, p)),
            (None, Some(s)) => Some((false, s)),
            (None, None) => None,
        }
    }

    fn matches(&self, s: &[u8], fold: bool) -> bool {
        let mut pieces: &[Box<[u8]>] = &self.pieces;
        let mut lo = 0usize;
        let mut hi = s.len();
        if self.anchored_start {
            let Some((first, rest)) = pieces.split_first() else {
                return s.is_empty();
            };
            if !s
                .get(..first.len())
                .is_some_and(|h| piece_eq(h, first, self.question, fold))
            {
                return false;
            }
            lo = first.len();
            pieces = rest;
            if pieces.is_empty() && self.anchored_end {
                return lo == s.len();
            }
        }
        if self.anchored_end {
            let Some((last, rest)) = pieces.split_last() else {
                return true;
            };
            if hi < lo + last.len()
                || !s
                    .get(hi - last.len()..)
                    .is_some_and(|t| piece_eq(t, last, self.question, fold))
            {
                return false;
            }
            hi -= last.len();
            pieces = rest;
        }
        // Middle pieces: leftmost match of each in turn is always optimal for fixed-length pieces.
        for piece in pieces {
            let Some(window) = s.get(lo..hi) else {
                return false;
            };
            match find(window, piece, self.question, fold) {
                Some(at) => lo += at + piece.len(),
                None => return false,
            }
        }
        lo <= hi
    }
}

fn byte_eq(a: u8, p: u8, question: bool, fold: bool) -> bool {
    (question && p == b'?') || a == p || (fold && a.eq_ignore_ascii_case(&p))
}

fn piece_eq(hay: &[u8], piece: &[u8], question: bool, fold: bool) -> bool {
    hay.len() == piece.len()
        && hay
            .iter()
            .zip(piece)
            .all(|(&a, &p)| byte_eq(a, p, question, fold))
}

/// Leftmost occurrence of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8], question: bool, fold: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if !question && !fold {
        // Plain substring search: std's two-way searcher, linear time.
        let (h, n) = (
            std::str::from_utf8(hay).ok()?,
            std::str::from_utf8(needle).ok()?,
        );
        return h.find(n);
    }
    hay.windows(needle.len())
        .position(|w| piece_eq(w, needle, question, fold))
}

/// FxHash (rustc's hasher): a multiply-rotate over 8-byte words. Policy text is the operator's own input, so
/// hash flooding is not a concern, and the std SipHash costs several times more on short action names.
#[derive(Debug, Clone, Copy, Default)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        for &b in words.remainder() {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A list of patterns compiled for lookup (ripgrep's `GlobSet` idea): exact strings in a hash map, prefixes
/// and suffixes in hash maps probed once per distinct length, the rest (contains, glob, `*`, case-folded)
/// scanned. [`PatternSet::first_match`] answers what a scan of the list in order would — the index of the
/// first pattern that matches — in time that does not grow with the number of exact, prefix or suffix
/// patterns. Worth it for long lists (the OVHcloud-managed permission groups hold up to ~1,000 actions).
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    exact: FxHashMap<Box<str>, u32>,
    prefix: FxHashMap<Box<str>, u32>,
    prefix_lens: Vec<usize>,
    suffix: FxHashMap<Box<str>, u32>,
    suffix_lens: Vec<usize>,
    /// Patterns matched one by one, ascending by index.
    rest: Vec<(u32, Pattern)>,
}

impl PatternSet {
    /// Compile patterns; each one's index is its position in `patterns`.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a Pattern>) -> Self {
        let mut set = PatternSet::default();
        for (i, p) in patterns.into_iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let keep_first = |m: &mut FxHashMap<Box<str>, u32>, k: &str| {
                m.entry(k.into()).or_insert(i);
            };
            match &p.matcher {
                Matcher::Exact(e) if !p.fold_case => keep_first(&mut set.exact, e),
                Matcher::Prefix(e) if !p.fold_case => {
                    keep_first(&mut set.prefix, e);
                    if !set.prefix_lens.contains(&e.len()) {
                        set.prefix_lens.push(e.len());
                    }
                }
                Matcher::Suffix(e) if !p.fold_case => {
                    keep_first(&mut set.suffix, e);
                    if !set.suffix_lens.contains(&e.len()) {
                        set.suffix_lens.push(e.len());
                    }
                }
                _ => set.rest.push((i, p.clone())),
            }
        }
        set.prefix_lens.sort_unstable();
        set.suffix_lens.sort_unstable();
        set
    }

    /// The index of the first pattern (in list order) that matches the whole of `s`.
    pub fn first_match(&self, s: &str) -> Option<u32> {
        fn take(best: &mut Option<u32>, i: Option<&u32>) {
            if let Some(&i) = i {
                *best = Some(best.map_or(i, |b| b.min(i)));
            }
        }
        let mut best = self.exact.get(s).copied();
        for &l in &self.prefix_lens {
            match s.get(..l) {
                Some(head) => take(&mut best, self.prefix.get(head)),
                None if l > s.len() => break,
                None => {}
            }
        }
        for &l in &self.suffix_lens {
            match s.len().checked_sub(l).and_then(|at| s.get(at..)) {
                Some(tail) => take(&mut best, self.suffix.get(tail)),
                None if l > s.len() => break,
                None => {}
            }
        }
        for (i, p) in &self.rest {
            if best.is_some_and(|b| b < *i) {
                break;
            }
            if p.matches(s) {
                take(&mut best, Some(i));
                break;
            }
        }
        best
    }
}

/// The obviously-correct matcher the reference evaluator uses: plain recursion over the pattern, no
/// classification. Exponential in the worst case, so only for tests and small inputs.
pub fn reference_match(pattern: &str, s: &str, question: bool, fold: bool) -> bool {
    fn go(p: &[u8], s: &[u8], q: bool, f: bool) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => {
                (0..=s.len()).any(|i| s.get(i..).is_some_and(|t| go(rest, t, q, f)))
            }
            Some((&c, rest)) => match s.split_first() {
                Some((&a, srest)) => byte_eq(a, c, q, f) && go(rest, srest, q, f),
                None => false,
            },
        }
    }
    go(pattern.as_bytes(), s.as_bytes(), question, fold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::wildcard(p, Syntax::default()).matches(s)
    }

    #[test]
    fn classification() {
        assert_eq!(
            Pattern::wildcard("*", Syntax::default()).matcher,
            Matcher::Any
        );
        assert!(matches!(
            Pattern::wildcard("vps:apiovh:ips/*", Syntax::default()).matcher,
            Matcher::Prefix(_)
        ));
        assert!(matches!(
            Pattern::wildcard("*get", Syntax::default()).matcher,
            Matcher::Suffix(_)
        ));
        assert!(matches!(
            Pattern::wildcard("*:vrack:*", Syntax::default()).matcher,
            Matcher::Contains(_)
        ));
        assert!(matches!(
            Pattern::wildcard("vps:*:reboot", Syntax::default()).matcher,
            Matcher::Glob(_)
        ));
    }

    #[test]
    fn wildcards_cross_separators() {
        assert!(m("vps:apiovh:ips/*", "vps:apiovh:ips/edit"));
        assert!(m("*get", "vps:apiovh:ips/get"));
        assert!(m("*:vrack:attach", "dedicatedServer:vrack:attach"));
        assert!(!m("vps:apiovh:reboot", "vps:apiovh:rebootX"));
        assert!(m("a*b*c", "abc") && m("a*b*c", "axxbyyc") && !m("a*b*c", "acb"));
        assert!(!m("ab*ba", "aba"), "pieces must not overlap");
    }

    #[test]
    fn question_and_case_folding() {
        let q = Syntax {
            question: true,
            fold_case: false,
        };
        assert!(Pattern::wildcard("api:ReadVm?", q).matches("api:ReadVms"));
        assert!(!Pattern::wildcard("api:ReadVm?", q).matches("api:ReadVm"));
        let f = Syntax {
            question: false,
            fold_case: true,
        };
        assert!(Pattern::wildcard("API:deletevms", f).matches("api:DeleteVms"));
        assert!(Pattern::wildcard("api:delete*", f).matches("api:DeleteVms"));
    }

    proptest! {
        #[test]
        fn pattern_set_finds_the_first_match(
            ps in proptest::collection::vec("[ab*?:]{0,6}", 0..12),
            s in "[ab:]{0,8}",
            q: bool,
            f: bool,
        ) {
            let syntax = Syntax { question: q, fold_case: f };
            let pats: Vec<Pattern> = ps.iter().map(|p| Pattern::wildcard(p, syntax)).collect();
            let set = PatternSet::new(&pats);
            let want = pats.iter().position(|p| p.matches(&s)).map(|i| i as u32);
            prop_assert_eq!(set.first_match(&s), want, "patterns {:?} on {:?}", ps, s);
        }

        #[test]
        fn glob_literal_end_is_a_prefix_or_suffix_of_every_match(p in "[ab*?:]{0,8}", s in "[ab:?]{0,10}", q: bool) {
            let pat = Pattern::wildcard(&p, Syntax { question: q, fold_case: false });
            if let (Matcher::Glob(g), true) = (&pat.matcher, pat.matches(&s)) {
                match g.literal_end() {
                    Some((true, pre)) => prop_assert!(s.starts_with(pre), "{:?} {:?} {:?}", p, s, pre),
                    Some((false, suf)) => prop_assert!(s.ends_with(suf), "{:?} {:?} {:?}", p, s, suf),
                    None => {}
                }
            }
        }

        #[test]
        fn classified_matcher_agrees_with_reference(p in "[ab*?:]{0,8}", s in "[ab:]{0,10}", q: bool, f: bool) {
            let pat = Pattern::wildcard(&p, Syntax { question: q, fold_case: f });
            prop_assert_eq!(pat.matches(&s), reference_match(&p, &s, q, f), "pattern {:?} on {:?}", p, s);
        }
    }
}
