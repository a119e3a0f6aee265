//! A linear, non-recursive walk over untrusted JSON text, before serde sees it.
//!
//! serde_json keeps the *last* of two equal keys when it builds a `Value`, recurses once per level of
//! nesting, and reads strings of any length. Policy files are untrusted, so [`check`] looks at the raw text
//! first and reports, each at its own line and column:
//!
//! - every duplicate key, at every level (JSON parsers disagree on which one wins, so policy-sim refuses
//!   to guess);
//! - nesting deeper than the limit (no stack is exhausted: the walk keeps its own stack on the heap, and
//!   stops at the first level over the limit);
//! - strings (values or keys) longer than the limit.
//!
//! The walk does not validate the grammar: where the text stops being JSON it stops and says so
//! ([`Scan::complete`]), and serde_json reports the syntax error with its own words.
//!
//! The same walk resolves JSON pointers to byte offsets for error messages ([`offsets`]): one pass per
//! file for all the pointers of all its problems, so rendering N problems costs one walk, not N parses;
//! and it records where values start and end ([`Spans`]), for a pointer's byte range (its value or its
//! key) when findings and traces are located. It is the crate's only pointer → location walker.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// What [`check`] enforces.
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// The deepest nesting of arrays and objects accepted (the top-level value is level 1).
    pub max_depth: usize,
    /// The longest string (value or key) accepted, in bytes as written in the file.
    pub max_string_bytes: usize,
}

/// One problem found by [`check`], located by byte offset and JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// A key that the same object already has; `offset` is the second occurrence, `first` the first.
    DuplicateKey {
        key: String,
        pointer: String,
        offset: usize,
        first: usize,
    },
    /// An array or object opened at `offset` is deeper than the limit; the walk stopped there.
    TooDeep {
        pointer: String,
        offset: usize,
        limit: usize,
    },
    /// A string of `len` bytes (between its quotes) starts at `offset`.
    LongString {
        pointer: String,
        offset: usize,
        len: usize,
        limit: usize,
        is_key: bool,
    },
}

/// The result of [`check`].
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub issues: Vec<Issue>,
    /// The walk reached the end of the text without meeting a syntax error or the depth limit.
    pub complete: bool,
    /// When the text is an array: where each of its elements starts (so that they can be read one at a
    /// time, each from its own offset).
    pub items: Vec<usize>,
}

/// Check `text` for duplicate keys, excessive nesting and overlong strings.
pub fn check(text: &str, limits: ScanLimits) -> Scan {
    let mut hook = Checker::new(limits, None);
    let complete = walk_from(text, &mut hook, 0, Vec::new());
    hook.into_scan(complete)
}

/// [`check`] of `text` up to `to`, where an item of the top-level array starts: `Some` (with the items
/// before it and the issues met) when the walk reached `to` as exactly that, `None` when it did not (`to`
/// is inside an item or a string, the text is not an array, or the walk stopped before).
pub fn check_until_item(text: &str, to: usize, limits: ScanLimits) -> Option<Scan> {
    let mut hook = Checker::new(limits, Some(to));
    walk_from(text, &mut hook, 0, Vec::new());
    hook.reached.then(|| hook.into_scan(false))
}

/// [`check`] of the rest of a top-level array, from `from`, where one of its items starts (the text before
/// it is not read): the walk starts in the state a walk of the whole text is in when it reaches that item,
/// and `complete` says that the array then closed and the text ended. Together with a
/// [`check_until_item`] that reached `from`, it is exactly a [`check`] of the whole text (only the array
/// index in the pointers of its issues counts from `from`).
pub fn check_from_item(text: &str, from: usize, limits: ScanLimits) -> Scan {
    let mut hook = Checker::new(limits, None);
    let complete = walk_from(text, &mut hook, from, vec![Frame::Array { index: 0 }]);
    hook.into_scan(complete)
}

/// The byte offset where the value at each pointer starts or, when it does not exist, where its nearest
/// existing ancestor starts (the semantics of `source::offset_of_pointer`, for many pointers in one pass).
/// A text that stops being JSON resolves what was seen before the error; `None` when not even the
/// top-level value was.
pub fn offsets(text: &str, pointers: &[&str]) -> Vec<Option<usize>> {
    // Every ancestor of every wanted pointer, so that a missing member falls back to its parent.
    let mut wanted: HashSet<String> = HashSet::new();
    for p in pointers {
        let mut end = p.len();
        loop {
            let prefix = p.get(..end).unwrap_or_default();
            if !wanted.insert(prefix.to_owned()) {
                break;
            }
            match prefix.rfind('/') {
                Some(i) => end = i,
                None => break,
            }
        }
    }
    let mut hook = Resolver {
        wanted,
        found: HashMap::new(),
        buffer: String::new(),
        lens: Vec::new(),
        longest: pointers.iter().map(|p| p.len()).max().unwrap_or(0),
    };
    walk(text, &mut hook);
    pointers
        .iter()
        .map(|p| {
            let mut end = p.len();
            loop {
                let prefix = p.get(..end).unwrap_or_default();
                if let Some(&offset) = hook.found.get(prefix) {
                    return Some(offset);
                }
                end = prefix.rfind('/')?;
            }
        })
        .collect()
}

/// Where a text's lines start, and how many characters precede every [`CHECKPOINT`]th byte: byte offset →
/// 1-based line (binary search) and character column in O(log n + [`CHECKPOINT`]), whatever the line's
/// length. A minified API dump is one line of megabytes holding every policy: counting each column from its
/// line's start would cost N findings × L bytes; counting from the nearest checkpoint costs at most
/// [`CHECKPOINT`] bytes per offset. Every place that turns an offset into a column (load, validation,
/// lint, audit and trace locations) goes through this one index.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Where each line starts.
    starts: Vec<usize>,
    /// `chars[i]`: the characters in the first `i * CHECKPOINT` bytes of the text.
    chars: Vec<usize>,
}

/// Bytes between two character-count checkpoints of a [`LineIndex`].
pub const CHECKPOINT: usize = 1024;

/// The characters that start in `bytes` (UTF-8): the bytes that are not continuation bytes. For a slice
/// cut on character boundaries, its `chars().count()`.
#[inline]
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        let mut chars = Vec::with_capacity(bytes.len() / CHECKPOINT + 1);
        let mut seen = 0;
        chars.push(0);
        for block in bytes.chunks_exact(CHECKPOINT) {
            seen += chars_in(block);
            chars.push(seen);
        }
        LineIndex { starts, chars }
    }

    /// The characters in the first `offset` bytes of `bytes` (`offset` within them).
    fn chars_before(&self, bytes: &[u8], offset: usize) -> usize {
        let block = offset / CHECKPOINT;
        let from = block * CHECKPOINT;
        self.chars.get(block).copied().unwrap_or(0) + bytes.get(from..offset).map_or(0, chars_in)
    }

    /// 1-based line and character column of a byte offset (clamped to the text). An offset inside a
    /// character (never given by the walk, possible from a byte column) counts bytes from its line's start.
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = if !text.is_char_boundary(offset) {
            offset - start
        } else if offset - start <= CHECKPOINT {
            #[cfg(test)]
            crate::source::parsed::add_column(offset - start);
            text.get(start..offset).map_or(0, |s| s.chars().count())
        } else {
            #[cfg(test)]
            crate::source::parsed::add_column(offset % CHECKPOINT + start % CHECKPOINT);
            let bytes = text.as_bytes();
            self.chars_before(bytes, offset) - self.chars_before(bytes, start)
        };
        (line, column + 1)
    }
    /// The text of a 1-based line, without its line break.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self
            .starts
            .get(line)
            .map_or(text.len(), |&next| next.saturating_sub(1));
        let s = text.get(start..end.max(start))?;
        Some(s.strip_suffix('\r').unwrap_or(s))
    }

    /// The byte offset of a 1-based line and byte column (serde_json's positions count bytes).
    pub fn offset_of_byte_column(&self, text: &str, line: usize, column: usize) -> usize {
        let start = line
            .checked_sub(1)
            .and_then(|l| self.starts.get(l))
            .copied()
            .unwrap_or(text.len());
        (start + column.saturating_sub(1)).min(text.len())
    }
}

/// An open array or object during the walk.
#[derive(Debug)]
pub enum Frame<'a> {
    Object {
        /// The key whose value is being read.
        key: Option<Cow<'a, str>>,
        /// Where this object's keys start in the shared key list.
        keys_from: usize,
        /// For objects with many keys: key → offset, built once the list gets long.
        index: Option<HashMap<Cow<'a, str>, usize>>,
    },
    Array {
        index: usize,
    },
}

/// The JSON pointer of the value being read, from the open frames.
fn pointer_of(frames: &[Frame<'_>], out: &mut String) {
    out.clear();
    for f in frames {
        push_component(f, out);
    }
}

/// Append `/` and a frame's current key (escaped per RFC 6901) or index.
fn push_component(frame: &Frame<'_>, out: &mut String) {
    out.push('/');
    match frame {
        Frame::Object { key, .. } => {
            for c in key.as_deref().unwrap_or_default().chars() {
                match c {
                    '~' => out.push_str("~0"),
                    '/' => out.push_str("~1"),
                    c => out.push(c),
                }
            }
        }
        Frame::Array { index } => {
            use std::fmt::Write;
            let _ = write!(out, "{index}");
        }
    }
}

/// What a walk does at each value and key; returning `false` stops it.
trait Hook<'a> {
    /// A value (of any kind) starts at `offset`; `frames` locate it.
    fn value(&mut self, frames: &[Frame<'a>], offset: usize) -> bool;
    /// An array or object is about to be opened at `offset`, `depth` levels deep (1 = top level).
    fn open(&mut self, _frames: &[Frame<'a>], _offset: usize, _depth: usize) -> bool {
        true
    }
    /// A string value or key of `len` bytes starts at `offset`.
    fn string(&mut self, _frames: &[Frame<'a>], _offset: usize, _len: usize, _is_key: bool) {}
    /// A key that the innermost object already has (first seen at `first`).
    fn duplicate(&mut self, _frames: &[Frame<'a>], _key: &str, _offset: usize, _first: usize) {}
    /// The value last started (and not yet ended) ends at `offset`; `frames` are those of its start.
    #[inline]
    fn end(&mut self, _frames: &[Frame<'a>], _offset: usize) {}
}

struct Checker {
    limits: ScanLimits,
    issues: Vec<Issue>,
    items: Vec<usize>,
    /// Stop at the item of the top-level array that starts here ([`check_until_item`]).
    stop_at: Option<usize>,
    /// The walk stopped there.
    reached: bool,
}

impl Checker {
    fn new(limits: ScanLimits, stop_at: Option<usize>) -> Self {
        Checker {
            limits,
            issues: Vec::new(),
            items: Vec::new(),
            stop_at,
            reached: false,
        }
    }

    fn into_scan(self, complete: bool) -> Scan {
        Scan {
            issues: self.issues,
            complete,
            items: self.items,
        }
    }

    /// The issue for an array or object opened too deep: out of line, the walk's loop stays small.
    #[cold]
    #[inline(never)]
    fn too_deep(&mut self, frames: &[Frame<'_>], offset: usize) {
        let mut pointer = String::new();
        pointer_of(frames, &mut pointer);
        self.issues.push(Issue::TooDeep {
            pointer,
            offset,
            limit: self.limits.max_depth,
        });
    }

    /// The issue for an overlong string: out of line, like [`Checker::too_deep`].
    #[cold]
    #[inline(never)]
    fn long_string(&mut self, frames: &[Frame<'_>], offset: usize, len: usize, is_key: bool) {
        let mut pointer = String::new();
        pointer_of(frames, &mut pointer);
        self.issues.push(Issue::LongString {
            pointer,
            offset,
            len,
            limit: self.limits.max_string_bytes,
            is_key,
        });
    }
}

impl<'a> Hook<'a> for Checker {
    #[inline]
    fn value(&mut self, frames: &[Frame<'a>], offset: usize) -> bool {
        if let [Frame::Array { .. }] = frames {
            if self.stop_at == Some(offset) {
                self.reached = true;
                return false;
            }
            self.items.push(offset);
        }
        true
    }

    #[inline]
    fn open(&mut self, frames: &[Frame<'a>], offset: usize, depth: usize) -> bool {
        if depth > self.limits.max_depth {
            self.too_deep(frames, offset);
            return false;
        }
        true
    }

    #[inline]
    fn string(&mut self, frames: &[Frame<'a>], offset: usize, len: usize, is_key: bool) {
        if len > self.limits.max_string_bytes {
            self.long_string(frames, offset, len, is_key);
        }
    }

    fn duplicate(&mut self, frames: &[Frame<'a>], key: &str, offset: usize, first: usize) {
        let mut pointer = String::new();
        pointer_of(frames, &mut pointer);
        self.issues.push(Issue::DuplicateKey {
            key: key.to_owned(),
            pointer,
            offset,
            first,
        });
    }
}

struct Resolver {
    wanted: HashSet<String>,
    found: HashMap<String, usize>,
    /// The pointer of the current value, kept incrementally: the walk is linear even on deep text.
    buffer: String,
    /// For each open frame, the length of its container's pointer in `buffer`.
    lens: Vec<usize>,
    /// The longest wanted pointer: longer ones are not even hashed.
    longest: usize,
}

impl<'a> Hook<'a> for Resolver {
    fn value(&mut self, frames: &[Frame<'a>], offset: usize) -> bool {
        let depth = frames.len();
        if self.lens.len() < depth {
            // A container was just opened: its pointer is the previous value's.
            self.lens.push(self.buffer.len());
        }
        self.lens.truncate(depth);
        self.buffer.truncate(self.lens.last().copied().unwrap_or(0));
        if let Some(frame) = frames.last() {
            push_component(frame, &mut self.buffer);
        }
        if self.buffer.len() <= self.longest
            && self.wanted.contains(&self.buffer)
            && !self.found.contains_key(&self.buffer)
        {
            self.found.insert(self.buffer.clone(), offset);
        }
        true
    }
}

/// The bytes that end a run of plain string content: a quote, a backslash, a control character.
#[inline]
fn stop(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// `0x01` in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` (8 bytes of text, little-endian) that [`stop`]s a string: a quote, a
/// backslash or a control character. Exact for the *lowest* flagged byte only (a borrow can flag bytes
/// above it), which is the only one read.
///
/// `b ^ 0x02 < 0x21` holds exactly for the control characters (`0x00..=0x1f` stay in that range) and the
/// quote (`0x22 ^ 0x02 == 0x20`); `b ^ 0x5c == 0` for the backslash. Both are the classic
/// "has a byte less than n" test, `(x - n * ONES) & !x & HIGHS`.
#[inline]
fn stops_in(w: u64) -> u64 {
    let quote_or_control = w ^ (ONES * 0x02);
    let backslash = w ^ (ONES * u64::from(b'\\'));
    ((quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
        | (backslash.wrapping_sub(ONES) & !backslash))
        & HIGHS
}

/// Parse a string starting at `start` (on its opening quote); returns the end (past the closing quote) and
/// whether the string has an escape. A control character ends the walk (it is a syntax error, which
/// serde_json then words), and so does the end of the text.
///
/// Sixteen bytes at a time, as two words tested with [`stops_in`], while sixteen remain; then byte by byte.
/// Policy files hold short strings (about 19 bytes, keys included), for which this costs less than half
/// the instructions of a plain byte loop; `memchr2(b'"', b'\\')` costs more per call than such strings
/// save, a 16-byte bitmask is not vectorised by LLVM, and one word a step spends half its time on the
/// bounds test of the step.
#[inline]
fn string_end(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        let b = match bytes.get(i..).and_then(<[u8]>::first_chunk::<16>) {
            Some(chunk) => {
                let (low, high) = chunk.split_at(8);
                let low = u64::from_le_bytes(low.try_into().unwrap_or_default());
                let high = u64::from_le_bytes(high.try_into().unwrap_or_default());
                let (low_stops, high_stops) = (stops_in(low), stops_in(high));
                if low_stops | high_stops == 0 {
                    i += 16;
                    continue;
                }
                let (w, m) = if low_stops != 0 {
                    (low, low_stops)
                } else {
                    i += 8;
                    (high, high_stops)
                };
                // The high bit of the first stop byte, minus 7: the bit where that byte starts.
                let bit = m.trailing_zeros() - 7;
                i += (bit / 8) as usize;
                (w >> bit) as u8
            }
            None => {
                while !stop(*bytes.get(i)?) {
                    i += 1;
                }
                *bytes.get(i)?
            }
        };
        match b {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                // The escaped byte is skipped whatever it is (serde_json judges the escape).
                escaped = true;
                i += 2;
            }
            _ => return None,
        }
    }
}

/// Objects with more keys than this get a hash index for the duplicate check.
const LINEAR_KEYS: usize = 16;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first byte at or after `pos` that is not JSON whitespace (or the end of the text).
///
/// Most calls meet no whitespace or one space (around `:` and `,`), so a byte above the space returns at
/// once. The spaces after a line break are indentation, a run skipped eight bytes at a time
/// ([`skip_spaces`]); pretty-printed policy files are 30% indentation.
#[inline]
fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        match bytes.get(pos) {
            Some(&b) if b > b' ' => return pos,
            Some(b' ' | b'\t' | b'\r') => pos += 1,
            Some(b'\n') => pos = skip_spaces(bytes, pos + 1),
            _ => return pos,
        }
    }
}

/// The first byte at or after `pos` that is not a space, or a position from which fewer than eight bytes
/// remain: eight bytes at a time, a word XOR eight spaces being zero up to the first other byte.
#[inline]
fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = bytes.get(pos..).and_then(<[u8]>::first_chunk::<8>) {
        let others = u64::from_le_bytes(*chunk) ^ (ONES * u64::from(b' '));
        if others != 0 {
            return pos + (others.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    pos
}

/// Walk the text; `true` when it reached the end without a syntax error and without being stopped.
fn walk<'a, H: Hook<'a>>(text: &'a str, hook: &mut H) -> bool {
    walk_from(text, hook, 0, Vec::new())
}

/// [`walk`] from `pos`, with `frames` open there (no object among them: their keys are not known).
fn walk_from<'a, H: Hook<'a>>(
    text: &'a str,
    hook: &mut H,
    mut pos: usize,
    mut frames: Vec<Frame<'a>>,
) -> bool {
    let bytes = text.as_bytes();
    let len = bytes.len();
    // Keys of every open object, in one list (tag, key, offset).
    let mut keys: Vec<Seen<'a>> = Vec::new();

    'value: loop {
        pos = skip_ws(bytes, pos);
        if !hook.value(&frames, pos) {
            return false;
        }
        match bytes.get(pos) {
            None => return false,
            Some(b'{') | Some(b'[') => {
                if !hook.open(&frames, pos, frames.len() + 1) {
                    return false;
                }
                let is_object = bytes.get(pos) == Some(&b'{');
                pos += 1;
                pos = skip_ws(bytes, pos);
                if is_object {
                    frames.push(Frame::Object {
                        key: None,
                        keys_from: keys.len(),
                        index: None,
                    });
                    if bytes.get(pos) != Some(&b'}') {
                        // The first key.
                        match read_key(text, &mut pos, &mut frames, &mut keys, hook) {
                            Some(()) => continue 'value,
                            None => return false,
                        }
                    }
                    pos += 1;
                    close(&mut frames, &mut keys);
                } else {
                    frames.push(Frame::Array { index: 0 });
                    if bytes.get(pos) != Some(&b']') {
                        continue 'value;
                    }
                    pos += 1;
                    frames.pop();
                }
            }
            Some(b'"') => {
                let Some((end, _)) = string_end(bytes, pos) else {
                    return false;
                };
                hook.string(&frames, pos, end - pos - 2, false);
                pos = end;
            }
            Some(_) => {
                // A number or a literal: its grammar is serde_json's business.
                let start = pos;
                while bytes.get(pos).is_some_and(|&b| {
                    !is_ws(b) && !matches!(b, b',' | b']' | b'}' | b':' | b'"' | b'[' | b'{')
                }) {
                    pos += 1;
                }
                if pos == start {
                    return false;
                }
            }
        }
        hook.end(&frames, pos);
        // After a value: a separator, a closing bracket, or the end of the text.
        loop {
            pos = skip_ws(bytes, pos);
            match frames.last_mut() {
                None => return pos == len,
                Some(Frame::Array { index }) => match bytes.get(pos) {
                    Some(b',') => {
                        *index += 1;
                        pos += 1;
                        continue 'value;
                    }
                    Some(b']') => {
                        pos += 1;
                        frames.pop();
                        hook.end(&frames, pos);
                    }
                    _ => return false,
                },
                Some(Frame::Object { .. }) => match bytes.get(pos) {
                    Some(b',') => {
                        pos += 1;
                        pos = skip_ws(bytes, pos);
                        match read_key(text, &mut pos, &mut frames, &mut keys, hook) {
                            Some(()) => continue 'value,
                            None => return false,
                        }
                    }
                    Some(b'}') => {
                        pos += 1;
                        close(&mut frames, &mut keys);
                        hook.end(&frames, pos);
                    }
                    _ => return false,
                },
            }
        }
    }
}

/// Pop an object frame and forget its keys.
fn close<'a>(frames: &mut Vec<Frame<'a>>, keys: &mut Vec<Seen<'a>>) {
    if let Some(Frame::Object { keys_from, .. }) = frames.pop() {
        keys.truncate(keys_from);
    }
}

/// A key of an open object, as kept for the duplicate check.
struct Seen<'a> {
    /// [`tag`] of the key: two keys with different tags differ, so most comparisons stop at one integer.
    tag: u64,
    key: Cow<'a, str>,
    /// Where the key starts (its opening quote).
    offset: usize,
}

/// A cheap fingerprint of a key: its length, first, middle and last bytes. Equal keys have equal tags;
/// keys of one object seldom share all four (`createdAt` and `updatedAt` have the same length and last
/// byte), so the linear duplicate search compares strings only for a real duplicate, not for every key of
/// the same length (`memcmp` on each would dominate the search).
#[inline]
fn tag(key: &str) -> u64 {
    let b = key.as_bytes();
    let byte = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
    ((b.len() as u64) << 24)
        | (byte(0) << 16)
        | (byte(b.len() / 2) << 8)
        | byte(b.len().wrapping_sub(1))
}

/// A second handle on a key: a copy of the reference when it is borrowed from the text (nearly always),
/// a clone of the decoded string otherwise.
#[inline]
fn share<'a>(key: &Cow<'a, str>) -> Cow<'a, str> {
    match key {
        Cow::Borrowed(k) => Cow::Borrowed(k),
        Cow::Owned(k) => Cow::Owned(k.clone()),
    }
}

/// Read `"key" :` at `pos` into the innermost object frame, reporting a duplicate; `None` on a syntax error.
fn read_key<'a, H: Hook<'a>>(
    text: &'a str,
    pos: &mut usize,
    frames: &mut [Frame<'a>],
    keys: &mut Vec<Seen<'a>>,
    hook: &mut H,
) -> Option<()> {
    let bytes = text.as_bytes();
    if bytes.get(*pos) != Some(&b'"') {
        return None;
    }
    let start = *pos;
    let (end, escaped) = string_end(bytes, start)?;
    let key: Cow<'a, str> = if escaped {
        Cow::Owned(serde_json::from_str::<String>(text.get(start..end)?).ok()?)
    } else {
        Cow::Borrowed(text.get(start + 1..end - 1)?)
    };
    *pos = skip_ws(bytes, end);
    if bytes.get(*pos) != Some(&b':') {
        return None;
    }
    *pos += 1;
    let tag = tag(&key);
    let first = match frames.last_mut() {
        Some(Frame::Object {
            key: current,
            keys_from,
            index,
        }) => {
            *current = Some(share(&key));
            let own = keys.get(*keys_from..).unwrap_or_default();
            let first = match index {
                Some(map) => map.get(&key).copied(),
                None => {
                    let mut found = None;
                    for seen in own {
                        if seen.tag == tag && seen.key == key {
                            found = Some(seen.offset);
                            break;
                        }
                    }
                    found
                }
            };
            if first.is_none() {
                if let Some(map) = index {
                    map.insert(share(&key), start);
                } else if own.len() >= LINEAR_KEYS {
                    let mut map: HashMap<Cow<'a, str>, usize> = own
                        .iter()
                        .map(|seen| (share(&seen.key), seen.offset))
                        .collect();
                    map.insert(share(&key), start);
                    *index = Some(map);
                }
            }
            first
        }
        _ => return None,
    };
    hook.string(frames, start, end - start - 2, true);
    match first {
        Some(first) => hook.duplicate(frames, &key, start, first),
        None => keys.push(Seen {
            tag,
            key,
            offset: start,
        }),
    }
    Some(())
}

/// Where the values of a strict JSON text start and end, for JSON pointer → byte range: the one walk of
/// this module, with a hook that records spans. Large containers are kept member by member, small ones
/// (under [`SPANS_MIN_BYTES`]) as one span, walked again on demand when a pointer goes into them: memory
/// stays proportional to the members of large containers (one policy of a 100k-policy array is one node),
/// not to every value of the file.
#[derive(Debug, Clone)]
pub struct Spans {
    root: Node,
}

/// Containers smaller than this are not kept member by member.
const SPANS_MIN_BYTES: usize = 2048;
/// Containers nested deeper than this are not kept member by member either.
const SPANS_MAX_DEPTH: usize = 64;

#[derive(Debug, Clone)]
struct Node {
    start: usize,
    end: usize,
    kids: Kids,
}

#[derive(Debug, Clone)]
enum Kids {
    /// A scalar, or a container too small (or deep) to keep member by member.
    Span,
    Array(Vec<Node>),
    /// Members in order; a lookup takes the first of duplicate keys.
    Object(Vec<Member>),
}

/// A member: the byte range of its key (quotes included) and its value.
type Member = ((usize, usize), Node);

impl Spans {
    /// The spans of `text`; `None` when the walk does not reach its end (the text is not JSON).
    pub fn new(text: &str) -> Option<Spans> {
        Spans::kept(text, SPANS_MIN_BYTES, SPANS_MAX_DEPTH)
    }

    /// The spans of `text`, containers of at least `min_bytes` nested less than `max_depth` deep kept
    /// member by member.
    fn kept(text: &str, min_bytes: usize, max_depth: usize) -> Option<Spans> {
        let mut hook = Recorder {
            min_bytes,
            max_depth,
            open: Vec::new(),
            key: None,
            root: None,
        };
        if !walk(text, &mut hook) {
            return None;
        }
        Some(Spans { root: hook.root? })
    }

    /// The byte range of the value at `pointer`, or of its key (`key`: the last token names an object
    /// member). A pointer that does not resolve (`/Action/0` when `Action` is a string) falls back to its
    /// nearest existing ancestor's value, or gives `None` when the key is asked. `text` is the text the
    /// spans were made of.
    pub fn range(&self, text: &str, pointer: &str, key: bool) -> Option<(usize, usize)> {
        self.range_in(text, pointer, key, true)
    }

    /// [`Spans::range`]; `rewalk`: a container kept as one span is walked again (not in spans that keep
    /// every container, where such a span is an empty container).
    fn range_in(
        &self,
        text: &str,
        pointer: &str,
        key: bool,
        rewalk: bool,
    ) -> Option<(usize, usize)> {
        let mut node = &self.root;
        let mut name = None;
        let mut rest = pointer;
        while let Some(after) = rest.strip_prefix('/') {
            let (raw, next) = match after.find('/') {
                Some(i) => (after.get(..i)?, after.get(i..)?),
                None => (after, ""),
            };
            let token = raw.replace("~1", "/").replace("~0", "~");
            let child = match &node.kids {
                Kids::Span if rewalk && is_container(text, node.start) => {
                    // Walked again, every member kept: a small container, or a deep one.
                    let sub = text.get(node.start..node.end)?;
                    #[cfg(test)]
                    crate::source::parsed::add(sub.len());
                    return Spans::kept(sub, 0, usize::MAX)?
                        .range_in(sub, rest, key, false)
                        .map(|(s, e)| (node.start + s, node.start + e));
                }
                Kids::Span => None,
                Kids::Array(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (None, n)),
                Kids::Object(members) => members
                    .iter()
                    .find(|(k, _)| key_is(text, *k, &token))
                    .map(|(r, n)| (Some(*r), n)),
            };
            match child {
                Some((n, c)) => (name, node) = (n, c),
                None if key => return None,
                None => return Some((node.start, node.end)),
            }
            rest = next;
        }
        if key {
            name
        } else {
            Some((node.start, node.end))
        }
    }
}

/// Whether the key written at `range` (quotes included) of `text` is `token` once decoded.
fn key_is(text: &str, (start, end): (usize, usize), token: &str) -> bool {
    match text.get(start..end) {
        Some(raw) if raw.contains('\\') => {
            serde_json::from_str::<String>(raw).is_ok_and(|k| k == token)
        }
        Some(raw) => raw.get(1..raw.len().saturating_sub(1)) == Some(token),
        None => false,
    }
}

fn is_container(text: &str, at: usize) -> bool {
    matches!(text.as_bytes().get(at), Some(b'{' | b'['))
}

/// The hook behind [`Spans`]: a value is opened at its start and closed at its end, then kept in its
/// parent (as a span unless it is a large container).
struct Recorder {
    min_bytes: usize,
    max_depth: usize,
    /// The values being read, outermost first, each with the key it is the value of.
    open: Vec<Open>,
    /// The range of the key just read.
    key: Option<(usize, usize)>,
    root: Option<Node>,
}

struct Open {
    start: usize,
    /// The range of its key, when it is an object's member.
    key: Option<(usize, usize)>,
    items: Vec<Node>,
    members: Vec<Member>,
}

impl<'a> Hook<'a> for Recorder {
    fn value(&mut self, frames: &[Frame<'a>], offset: usize) -> bool {
        let key = match frames.last() {
            Some(Frame::Object { .. }) => Some(self.key.take().unwrap_or_default()),
            _ => None,
        };
        self.open.push(Open {
            start: offset,
            key,
            items: Vec::new(),
            members: Vec::new(),
        });
        true
    }

    fn string(&mut self, _frames: &[Frame<'a>], offset: usize, len: usize, is_key: bool) {
        if is_key {
            self.key = Some((offset, offset + len + 2));
        }
    }

    fn end(&mut self, frames: &[Frame<'a>], offset: usize) {
        let Some(done) = self.open.pop() else {
            return;
        };
        let large = offset - done.start >= self.min_bytes && frames.len() < self.max_depth;
        let kids = if !large {
            Kids::Span
        } else if !done.members.is_empty() {
            Kids::Object(done.members)
        } else if !done.items.is_empty() {
            Kids::Array(done.items)
        } else {
            // An empty container, or a scalar: nothing inside to find.
            Kids::Span
        };
        let node = Node {
            start: done.start,
            end: offset,
            kids,
        };
        match (self.open.last_mut(), done.key) {
            (Some(parent), Some(range)) => parent.members.push((range, node)),
            (Some(parent), None) => parent.items.push(node),
            (None, _) => self.root = Some(node),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    const LIMITS: ScanLimits = ScanLimits {
        max_depth: 4,
        max_string_bytes: 8,
    };

    #[test]
    fn duplicates_at_every_level() {
        let text = r#"{"a": 1, "b": {"c": [{"d": 1, "d": 2}], "c": 3}, "a": 4, "\u0062": 5}"#;
        let found: Vec<(String, String)> =
            duplicates(text).into_iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(
            found,
            [
                ("d".into(), "/b/c/0/d".into()),
                ("c".into(), "/b/c".into()),
                ("a".into(), "/a".into()),
                ("b".into(), "/b".into()),
            ]
        );
    }

    #[test]
    fn many_keys_use_the_index() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k42\": 0}");
        let scan = check(&text, LIMITS);
        assert_eq!(scan.issues.len(), 1);
    }

    #[test]
    fn depth_and_string_limits() {
        let scan = check("[[[[[1]]]]]", LIMITS);
        assert!(!scan.complete);
        assert!(
            matches!(&scan.issues[..], [Issue::TooDeep { pointer, offset: 4, .. }] if pointer == "/0/0/0/0")
        );
        let deep = "[".repeat(100_000);
        assert_eq!(check(&deep, LIMITS).issues.len(), 1);
        let scan = check(r#"{"k": "123456789", "123456789": 1}"#, LIMITS);
        assert_eq!(scan.issues.len(), 2);
        assert!(scan.complete);
    }

    #[test]
    fn syntax_errors_stop_quietly() {
        for bad in [
            "",
            "{",
            "[1,",
            "{\"a\" 1}",
            "[1 2]",
            "\"abc",
            "{\"a\":1}}",
            "{,}",
        ] {
            assert!(!check(bad, LIMITS).complete, "{bad}");
        }
        for good in ["1", "[]", "{}", " [ {} , [ ] ] ", "{\"a\\\"b\": \"c\\\\\"}"] {
            assert!(check(good, LIMITS).complete, "{good}");
        }
    }

    #[test]
    fn offsets_match_the_pointer_semantics() {
        let text = "{\n  \"a\": [1,\n    {\"b~/c\": true}]\n}";
        let idx = LineIndex::new(text);
        let got: Vec<_> = offsets(text, &["/a/1/b~0~1c", "/a/7", "", "/zz/1"])
            .into_iter()
            .map(|o| o.map(|o| idx.line_column(text, o)))
            .collect();
        assert_eq!(
            got,
            [Some((3, 14)), Some((2, 8)), Some((1, 1)), Some((1, 1))]
        );
        // Deep text: no recursion.
        let deep = format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000));
        assert_eq!(offsets(&deep, &["/0/0"]), [Some(2)]);
        assert_eq!(offsets("", &[""]), [Some(0)]);
    }

    #[test]
    fn line_index() {
        let text = "ab\r\ncé\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line(text, 1), Some("ab"));
        assert_eq!(idx.line(text, 2), Some("cé"));
        assert_eq!(idx.line(text, 3), Some("x"));
        assert_eq!(idx.line(text, 4), None);
        assert_eq!(idx.line_column(text, 7), (2, 3));
        assert_eq!(idx.offset_of_byte_column(text, 2, 2), 5);
    }

    /// The byte loop [`string_end`] replaced, as the reference for its fast path.
    fn string_end_plain(bytes: &[u8], start: usize) -> Option<(usize, bool)> {
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            while !stop(*bytes.get(i)?) {
                i += 1;
            }
            match bytes.get(i)? {
                b'"' => return Some((i + 1, escaped)),
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => return None,
            }
        }
    }

    /// `string_end` at every start of `bytes`, checked against the byte loop.
    fn same_string_ends(bytes: &[u8]) {
        for start in 0..=bytes.len() {
            assert_eq!(
                string_end(bytes, start),
                string_end_plain(bytes, start),
                "{:?} from {start}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn string_ends_at_every_length_and_boundary() {
        // Up to two 16-byte steps: every offset of the stop byte in the low and the high word.
        for n in 0..=33 {
            let body = "a".repeat(n);
            // The closing quote at the very end of the text, then followed by more text.
            let text = format!("\"{body}\"");
            assert_eq!(
                string_end(text.as_bytes(), 0),
                Some((n + 2, false)),
                "{text}"
            );
            same_string_ends(text.as_bytes());
            let text = format!("\"{body}\", \"x\"  ]");
            assert_eq!(
                string_end(text.as_bytes(), 0),
                Some((n + 2, false)),
                "{text}"
            );
            same_string_ends(text.as_bytes());
            // No closing quote.
            let text = format!("\"{body}");
            assert_eq!(string_end(text.as_bytes(), 0), None, "{text}");
            same_string_ends(text.as_bytes());
            // A backslash as the last byte, and an escape cut after its backslash.
            let text = format!("\"{body}\\");
            assert_eq!(string_end(text.as_bytes(), 0), None, "{text}");
            let text = format!("\"{body}\\\"");
            assert_eq!(string_end(text.as_bytes(), 0), None, "{text}");
            same_string_ends(text.as_bytes());
            // An escaped quote (its backslash, its quote) at every position, then more content.
            for m in 0..=9 {
                let text = format!("\"{body}\\\"{}\"  ", "b".repeat(m));
                assert_eq!(
                    string_end(text.as_bytes(), 0),
                    Some((n + m + 4, true)),
                    "{text}"
                );
                same_string_ends(text.as_bytes());
                let text = format!("\"{body}\\\\\"{}\"", "b".repeat(m));
                assert_eq!(
                    string_end(text.as_bytes(), 0),
                    Some((n + 4, true)),
                    "{text}"
                );
            }
            // A control byte at every position (it ends the walk), and an escaped one (it does not).
            for c in [0u8, b'\n', b'\t', 0x1f] {
                let mut text = format!("\"{body}").into_bytes();
                text.push(c);
                text.extend_from_slice(b"bbbbbbbbb\"");
                assert_eq!(string_end(&text, 0), None, "{text:?}");
                same_string_ends(&text);
                text.insert(n + 1, b'\\');
                assert_eq!(string_end(&text, 0), Some((text.len(), true)), "{text:?}");
                same_string_ends(&text);
            }
        }
    }

    #[test]
    fn string_end_neighbours_of_the_stop_bytes_are_content() {
        // Bytes next to `"`, `\` and 0x20 (and those with the high bit set) in the SWAR test: not stops.
        let mut text = vec![b'"'];
        text.extend([
            0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0xa2, 0xdc, 0xa0, 0xff, 0x80, 0xe0,
        ]);
        text.extend("é€💡".as_bytes());
        text.push(b'"');
        assert_eq!(string_end(&text, 0), Some((text.len(), false)));
        same_string_ends(&text);
        // Each of them alone before a quote at every offset in a word.
        for b in 0x20..=0xffu8 {
            for n in 0..=9 {
                let mut text = vec![b'"'];
                text.extend(std::iter::repeat_n(b, n));
                text.extend(b"\"abcdefgh");
                same_string_ends(&text);
            }
        }
    }

    /// The duplicate keys `check` reports for `text`: (key, pointer, offset, first).
    fn duplicates(text: &str) -> Vec<(String, String, usize, usize)> {
        let scan = check(
            text,
            ScanLimits {
                max_depth: 8,
                max_string_bytes: 64,
            },
        );
        assert!(scan.complete, "{text}");
        scan.issues
            .into_iter()
            .map(|i| match i {
                Issue::DuplicateKey {
                    key,
                    pointer,
                    offset,
                    first,
                } => (key, pointer, offset, first),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn keys_that_share_a_prefix_or_a_tag_are_not_duplicates() {
        // Same prefix, longer and shorter; same length, first, middle and last byte (same tag).
        for (a, b) in [
            ("ab", "abc"),
            ("abc", "ab"),
            ("a", "aa"),
            ("", "a"),
            ("a", ""),
            ("createdAt", "updatedAt"),
            ("axcxe", "aycye"),
            ("abcdefgh", "abcdefgi"),
            ("abcdefghijklmnopq", "abcdefghijklmnopr"),
            ("xbcdefghijklmnopq", "ybcdefghijklmnopq"),
            ("é", "è"),
        ] {
            let text = format!(r#"{{"{a}": 1, "{b}": 2}}"#);
            assert_eq!(duplicates(&text), [], "{text}");
            // And then each of them again: two duplicates, each pointing at its own first.
            let text = format!(r#"{{"{a}": 1, "{b}": 2, "{b}": 3, "{a}": 4}}"#);
            let (second_b, second_a) = (
                text.rfind(&format!("\"{b}\": 3")),
                text.rfind(&format!("\"{a}\": 4")),
            );
            let got = duplicates(&text);
            assert_eq!(got.len(), 2, "{text}");
            assert_eq!(
                (got[0].0.as_str(), got[0].2),
                (b, second_b.unwrap()),
                "{text}"
            );
            assert_eq!(
                (got[1].0.as_str(), got[1].2),
                (a, second_a.unwrap()),
                "{text}"
            );
            assert_eq!(
                got[0].3,
                text.find(&format!(", \"{b}\"")).unwrap() + 2,
                "{text}"
            );
            assert_eq!(got[1].3, 1, "{text}");
        }
    }

    #[test]
    fn escaped_keys_are_compared_decoded() {
        let text = r#"{"b": 1, "\u0062": 2, "a\"b": 3, "a\u0022b": 4, "\\": 5, "\u005c": 6, "é": 7, "\u00e9": 8}"#;
        let got: Vec<_> = duplicates(text).into_iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(
            got,
            [
                ("b".into(), "/b".into()),
                ("a\"b".into(), "/a\"b".into()),
                ("\\".into(), "/\\".into()),
                ("é".into(), "/é".into()),
            ]
        );
    }

    #[test]
    fn many_keys_with_one_tag_use_the_index() {
        // 40 keys of one length, first, middle and last byte: the linear search compares strings, then
        // the index takes over; the duplicate is found either way, before and after the switch.
        let keys: Vec<String> = (0..40).map(|i| format!("k{:02}m{i:02}k", 99 - i)).collect();
        for dup in [3, 15, 16, 39] {
            let mut text = String::from("{");
            for k in &keys {
                text.push_str(&format!("\"{k}\": 0, "));
            }
            text.push_str(&format!("\"{}\": 1}}", keys[dup]));
            let got = duplicates(&text);
            assert_eq!(got.len(), 1, "{dup}");
            assert_eq!(got[0].0, keys[dup]);
            assert_eq!(got[0].3, text.find(&format!("\"{}\"", keys[dup])).unwrap());
        }
    }

    /// Keys as written in a file and as decoded: shared prefixes, shared tags, escapes of the same text.
    const KEY_FORMS: [(&str, &str); 14] = [
        ("a", "a"),
        (r"\u0061", "a"),
        ("ab", "ab"),
        ("abc", "abc"),
        (r"a\u0062c", "abc"),
        ("", ""),
        ("createdAt", "createdAt"),
        ("updatedAt", "updatedAt"),
        ("cxxxtxxxt", "cxxxtxxxt"),
        ("abcdefghijklmnopq", "abcdefghijklmnopq"),
        ("abcdefghijklmnopr", "abcdefghijklmnopr"),
        (r"abcdefghijklmnop\u0072", "abcdefghijklmnopr"),
        ("q\\\"", "q\""),
        (r"q\u0022", "q\""),
    ];

    /// The byte loop [`skip_ws`] replaced, as the reference for its fast path.
    fn skip_ws_plain(bytes: &[u8], mut pos: usize) -> usize {
        while bytes.get(pos).is_some_and(|&b| is_ws(b)) {
            pos += 1;
        }
        pos
    }

    #[test]
    fn whitespace_runs_of_every_length() {
        for n in 0..=17 {
            let spaces = " ".repeat(n);
            for (text, end) in [
                // A run up to the end of the text, then before a value, then inside a line break.
                (spaces.clone(), n),
                (format!("{spaces}\"k\""), n),
                (format!("{spaces}x{spaces}"), n),
                (format!("\n{spaces}}}"), n + 1),
                (format!("\r\n{spaces}\t{spaces}\n]"), 2 * n + 4),
                (format!("{spaces}\t \r \n{spaces}  1"), 2 * n + 7),
                (format!("{spaces}\u{a0}"), n),
                (format!("{spaces}\x0b"), n),
                (format!("{spaces}\x00"), n),
            ] {
                assert_eq!(skip_ws(text.as_bytes(), 0), end, "{text:?}");
                for start in 0..=text.len() + 1 {
                    assert_eq!(
                        skip_ws(text.as_bytes(), start),
                        skip_ws_plain(text.as_bytes(), start),
                        "{text:?} from {start}"
                    );
                }
            }
        }
    }

    /// Bytes that exercise the string and whitespace helpers: stops, their neighbours, whitespace, text.
    fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                4 => Just(b'a'),
                2 => Just(b' '),
                2 => Just(b'"'),
                2 => Just(b'\\'),
                1 => prop::sample::select(&b"\n\r\t\x00\x1f\x20\x21\x23\x5b\x5c\x5d\x7f\xa0\xa2\xdc\xff"[..]),
                1 => any::<u8>(),
            ],
            0..80,
        )
    }

    proptest! {
        #[test]
        fn string_end_is_the_byte_loop(bytes in interesting_bytes()) {
            for start in 0..=bytes.len() {
                prop_assert_eq!(string_end(&bytes, start), string_end_plain(&bytes, start));
            }
        }

        #[test]
        fn duplicates_are_the_first_equal_decoded_key(
            picks in proptest::collection::vec(0..KEY_FORMS.len(), 0..40)
        ) {
            // An object of keys written in several forms (escaped or not): every key whose decoded text
            // came before is a duplicate of its first occurrence.
            let mut text = String::from("{");
            let mut first: HashMap<&str, usize> = HashMap::new();
            let mut expected = Vec::new();
            for (n, &pick) in picks.iter().enumerate() {
                let (written, decoded) = KEY_FORMS[pick];
                if n > 0 {
                    text.push_str(",\n  ");
                }
                let offset = text.len();
                text.push_str(&format!("\"{written}\": {n}"));
                match first.get(decoded) {
                    Some(&at) => expected.push((decoded.to_owned(), offset, at)),
                    None => {
                        first.insert(decoded, offset);
                    }
                }
            }
            text.push('}');
            let got: Vec<_> = duplicates(&text).into_iter().map(|d| (d.0, d.2, d.3)).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn skip_ws_is_the_byte_loop(bytes in interesting_bytes()) {
            for start in 0..=bytes.len() + 1 {
                prop_assert_eq!(skip_ws(&bytes, start), skip_ws_plain(&bytes, start));
            }
        }
    }
}
