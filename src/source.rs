//! Source files and locations: every input value is located by (source, JSON pointer); line and column are
//! derived from the pointer only when a message is rendered (the jsonschema-rs split), so the load path pays
//! nothing for locations it never prints.

use std::fmt;
use std::sync::{Arc, OnceLock};

pub use crate::scan::LineIndex;
use crate::scan::Spans;

/// Index of a [`Source`] in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// One input text: a file, or a JSON document embedded as a string inside another (an OUTSCALE policy
/// `Body`), in which case `parent` locates that string.
#[derive(Debug, Clone)]
pub struct Source {
    /// Display name: the path as the user gave it, or `<inline>`.
    pub name: String,
    /// `Arc<String>`, not `Arc<str>`: a file read into a `String` is shared without being copied.
    pub text: Arc<String>,
    pub parent: Option<Loc>,
}

/// A location: a source and a JSON pointer (RFC 6901) into it. The empty pointer is the whole document.
///
/// Every checked value keeps its location, so a location is small and `Copy` (16 bytes, no heap). A
/// pointer is a list of components, each an array index or an object key interned once in a process-wide
/// table ([`keys`]). The first component is stored in full; up to [`TAIL`] more are packed in a word when
/// each is below [`TAIL_LIMIT`] (`/1234/permissions/allow/2/action`, `/Policies/3/PolicyVersions/0/Body`);
/// any other pointer is interned whole and stored as its id. The pointer text is only built when a
/// message is rendered ([`Loc::pointer`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    pub source: SourceId,
    path: Path,
}

/// A component with this bit set is an interned key; without it, an array index.
const KEY_BIT: u32 = 1 << 31;
/// Components packed after the first.
pub const TAIL: usize = 5;
/// Bits of one packed component: a key flag and the index or key id.
const TAIL_BITS: u32 = 12;
/// Indices and key ids below this are packed.
pub const TAIL_LIMIT: u32 = 1 << (TAIL_BITS - 1);
/// The low bits of `Path::tail` hold the kind of path: this many tail components (0..=TAIL), or
const COUNT_BITS: u32 = 3;
/// the root (no component at all), or
const ROOT: u64 = 6;
/// a pointer interned whole, `first` being its id.
const LONG: u64 = 7;

/// A pointer's components, packed. Only one packing is produced for a pointer (packed when it fits,
/// interned otherwise), so equal pointers are equal paths.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Path {
    first: u32,
    /// The packed word, as two halves so that a `Loc` is 16 bytes (4-byte aligned).
    tail: [u32; 2],
}

impl Path {
    const ROOT: Path = Path::new(0, ROOT);

    const fn new(first: u32, tail: u64) -> Path {
        Path {
            first,
            tail: [tail as u32, (tail >> 32) as u32],
        }
    }

    fn tail(&self) -> u64 {
        u64::from(self.tail[0]) | u64::from(self.tail[1]) << 32
    }

    /// A component in its packed form, when it has one.
    fn packed(component: u32) -> Option<u64> {
        let value = component & !KEY_BIT;
        (value < TAIL_LIMIT).then(|| {
            u64::from(value)
                | if component & KEY_BIT != 0 {
                    u64::from(TAIL_LIMIT)
                } else {
                    0
                }
        })
    }

    fn unpacked(bits: u64) -> u32 {
        let value = (bits & u64::from(TAIL_LIMIT - 1)) as u32;
        if bits & u64::from(TAIL_LIMIT) != 0 {
            value | KEY_BIT
        } else {
            value
        }
    }

    fn count(&self) -> u64 {
        self.tail() & ((1 << COUNT_BITS) - 1)
    }

    fn from_components(components: &[u32]) -> Path {
        let Some((&first, rest)) = components.split_first() else {
            return Path::ROOT;
        };
        if rest.len() <= TAIL {
            let mut tail = rest.len() as u64;
            let mut fits = true;
            for (i, &c) in rest.iter().enumerate() {
                match Path::packed(c) {
                    Some(bits) => tail |= bits << (COUNT_BITS + TAIL_BITS * i as u32),
                    None => fits = false,
                }
            }
            if fits {
                return Path::new(first, tail);
            }
        }
        Path::new(keys::long(components), LONG)
    }

    fn with(&self, component: u32) -> Path {
        match self.count() {
            ROOT => Path::new(component, 0),
            n if n < TAIL as u64 => match Path::packed(component) {
                Some(bits) => Path::new(
                    self.first,
                    (self.tail() + 1) | bits << (u64::from(COUNT_BITS) + u64::from(TAIL_BITS) * n),
                ),
                None => self.extended(component),
            },
            _ => self.extended(component),
        }
    }

    fn extended(&self, component: u32) -> Path {
        let mut all = self.components();
        all.push(component);
        Path::from_components(&all)
    }

    fn components(&self) -> Vec<u32> {
        match self.count() {
            ROOT => Vec::new(),
            LONG => keys::long_path(self.first),
            n => {
                let mut out = Vec::with_capacity(n as usize + 1);
                out.push(self.first);
                for i in 0..n {
                    let bits = self.tail() >> (u64::from(COUNT_BITS) + u64::from(TAIL_BITS) * i);
                    out.push(Path::unpacked(bits));
                }
                out
            }
        }
    }
}

impl Loc {
    /// A location from a pointer's text (as serde_path_to_error or a scan gives it).
    pub fn new(source: SourceId, pointer: impl AsRef<str>) -> Self {
        let pointer = pointer.as_ref();
        let mut components = Vec::new();
        if let Some(rest) = pointer.strip_prefix('/') {
            for raw in rest.split('/') {
                let token = if raw.contains('~') {
                    std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
                } else {
                    std::borrow::Cow::Borrowed(raw)
                };
                components.push(component_of_token(&token));
            }
        }
        Loc {
            source,
            path: Path::from_components(&components),
        }
    }

    /// The whole document of a source.
    pub fn root(source: SourceId) -> Self {
        Loc {
            source,
            path: Path::ROOT,
        }
    }

    /// The location of a member of this value.
    pub fn key(&self, key: &str) -> Loc {
        // A key written like an index is stored as one: the pointer text, hence the location, is the same.
        let component = if key.starts_with(|c: char| c.is_ascii_digit()) {
            component_of_token(key)
        } else {
            KEY_BIT | keys::intern(key)
        };
        Loc {
            source: self.source,
            path: self.path.with(component),
        }
    }

    /// The location of an array element of this value.
    pub fn index(&self, index: usize) -> Loc {
        match u32::try_from(index) {
            Ok(i) if i < KEY_BIT => Loc {
                source: self.source,
                path: self.path.with(i),
            },
            // Not an index a file can have (its text is limited far below): keep it as a key.
            _ => self.key(&index.to_string()),
        }
    }

    /// Whether this is the whole document.
    pub fn is_root(&self) -> bool {
        self.path.count() == ROOT
    }

    /// The JSON pointer's text (RFC 6901 escaped).
    pub fn pointer(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for c in self.path.components() {
            out.push('/');
            if c & KEY_BIT == 0 {
                let _ = write!(out, "{c}");
            } else {
                keys::with(c & !KEY_BIT, |key| {
                    for ch in key.chars() {
                        match ch {
                            '~' => out.push_str("~0"),
                            '/' => out.push_str("~1"),
                            ch => out.push(ch),
                        }
                    }
                });
            }
        }
        out
    }
}

/// A pointer token: an array index when it is one as JSON pointers write them (digits, no leading zero),
/// else a key. (Which one it is only matters for the text, which is the same either way.)
fn component_of_token(token: &str) -> u32 {
    let is_index = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    match token.parse::<u32>() {
        Ok(i) if is_index && i < KEY_BIT => i,
        _ => KEY_BIT | keys::intern(token),
    }
}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Loc({}, {:?})", self.source.0, self.pointer())
    }
}

/// The process-wide tables behind [`Loc`]: object keys, and pointers too deep to store inline. Both only
/// grow, with the distinct keys and deep pointers of the inputs (the schemas' field names, condition keys,
/// and the keys of mistakes being reported), which stay few.
pub mod keys {
    use std::collections::HashMap;
    use std::sync::{OnceLock, RwLock};

    /// The schemas' own field names get fixed ids (their position here), found without taking the lock:
    /// the `match` compiles to comparisons of lengths and bytes, no hashing.
    macro_rules! known_keys {
        ($($k:literal,)*) => {
            const KNOWN: &[&str] = &[$($k,)*];
            fn known(key: &str) -> Option<u32> {
                let mut _i = 0u32;
                $(
                    if key == $k {
                        return Some(_i);
                    }
                    _i += 1;
                )*
                None
            }
        };
    }
    known_keys! {
        "identities",
        "resources",
        "permissions",
        "allow",
        "except",
        "deny",
        "action",
        "urn",
        "permissionsGroups",
        "conditions",
        "values",
        "operator",
        "expiredAt",
        "createdAt",
        "updatedAt",
        "name",
        "id",
        "owner",
        "description",
        "readOnly",
        "users",
        "login",
        "group",
        "account",
        "region",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Sid",
        "Version",
        "Users",
        "UserGroups",
        "Policies",
        "UserName",
        "UserGroupName",
        "PolicyName",
        "PolicyDocument",
        "PolicyVersion",
        "PolicyVersions",
        "Body",
        "Document",
        "VersionId",
    }

    #[derive(Default)]
    struct Tables {
        keys: Vec<Box<str>>,
        ids: HashMap<Box<str>, u32>,
        long: Vec<Box<[u32]>>,
        long_ids: HashMap<Box<[u32]>, u32>,
    }

    fn tables() -> &'static RwLock<Tables> {
        static TABLES: OnceLock<RwLock<Tables>> = OnceLock::new();
        TABLES.get_or_init(|| {
            let mut t = Tables::default();
            for (i, k) in KNOWN.iter().enumerate() {
                t.keys.push((*k).into());
                t.ids.insert((*k).into(), i as u32);
            }
            RwLock::new(t)
        })
    }

    /// The id of a key (at most 2^31 - 1 distinct keys).
    pub fn intern(key: &str) -> u32 {
        if let Some(id) = known(key) {
            return id;
        }
        let lock = tables();
        if let Some(&id) = lock.read().unwrap_or_else(|e| e.into_inner()).ids.get(key) {
            return id;
        }
        let mut t = lock.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = t.ids.get(key) {
            return id;
        }
        let id = u32::try_from(t.keys.len())
            .unwrap_or(super::KEY_BIT - 1)
            .min(super::KEY_BIT - 1);
        t.keys.push(key.into());
        t.ids.insert(key.into(), id);
        id
    }

    /// Call `f` with the key of an id (`""` for an id never given out).
    pub fn with<R>(id: u32, f: impl FnOnce(&str) -> R) -> R {
        let t = tables().read().unwrap_or_else(|e| e.into_inner());
        f(t.keys.get(id as usize).map_or("", |k| k))
    }

    /// The id of a whole pointer (its components).
    pub(super) fn long(components: &[u32]) -> u32 {
        let lock = tables();
        if let Some(&id) = lock
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .long_ids
            .get(components)
        {
            return id;
        }
        let mut t = lock.write().unwrap_or_else(|e| e.into_inner());
        if let Some(&id) = t.long_ids.get(components) {
            return id;
        }
        let id = u32::try_from(t.long.len()).unwrap_or(u32::MAX);
        t.long.push(components.into());
        t.long_ids.insert(components.into(), id);
        id
    }

    pub(super) fn long_path(id: u32) -> Vec<u32> {
        let t = tables().read().unwrap_or_else(|e| e.into_inner());
        t.long
            .get(id as usize)
            .map_or_else(Vec::new, |p| p.to_vec())
    }

    #[cfg(test)]
    pub(super) fn known_table_agrees() -> bool {
        KNOWN
            .iter()
            .enumerate()
            .all(|(i, k)| known(k) == Some(i as u32) && intern(k) == i as u32)
    }
}

/// A location resolved for display.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub file: String,
    /// 1-based line, when the pointer could be found in the text.
    pub line: Option<usize>,
    /// 1-based column in characters.
    pub column: Option<usize>,
    /// The JSON pointer, `""` for the whole document.
    pub pointer: String,
    /// For a document embedded in a JSON string: where that string is in the outer file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside: Option<Box<Position>>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inside {
            // An embedded document: name the outer file's location first, then the place inside the string.
            Some(outer) => {
                write!(f, "{outer}, in the embedded JSON document")?;
                if let (Some(l), Some(c)) = (self.line, self.column) {
                    write!(f, " at line {l} column {c}")?;
                }
                if !self.pointer.is_empty() {
                    write!(f, " ({})", self.pointer)?;
                }
                Ok(())
            }
            None => {
                f.write_str(&self.file)?;
                if let (Some(l), Some(c)) = (self.line, self.column) {
                    write!(f, ":{l}:{c}")?;
                }
                if !self.pointer.is_empty() {
                    write!(f, " ({})", self.pointer)?;
                }
                Ok(())
            }
        }
    }
}

/// Every source read in one run.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    sources: Vec<Source>,
    /// Per source, built on the first [`SourceMap::position`] into it: where its values start, so that
    /// locating the many entries of a trace does not re-parse a large file each time.
    /// `None` inside: the text is not strict JSON (the loader refuses such a text whole, so none of its
    /// values is ever located).
    indexes: Vec<OnceLock<Option<Spans>>>,
    /// Per source, built on the first line or column asked in it: its [`LineIndex`], whatever the text.
    lines: Vec<OnceLock<LineIndex>>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(
        &mut self,
        name: impl Into<String>,
        text: impl Into<String>,
        parent: Option<Loc>,
    ) -> SourceId {
        let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
        self.sources.push(Source {
            name: name.into(),
            text: Arc::new(text.into()),
            parent,
        });
        self.indexes.push(OnceLock::new());
        self.lines.push(OnceLock::new());
        id
    }

    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id.0 as usize)
    }

    /// The display name of a source's outermost file.
    pub fn file_name(&self, id: SourceId) -> String {
        match self.get(id) {
            Some(Source {
                parent: Some(parent),
                ..
            }) => self.file_name(parent.source),
            Some(source) => source.name.clone(),
            None => String::from("<unknown>"),
        }
    }

    /// Resolve a location to file, line and column: the pointer's byte offset from the source's spans (the
    /// scan's walk, [`Spans`]), its line and column from the source's [`LineIndex`]. A pointer that does not
    /// resolve (the value is absent: a missing field) falls back to its nearest existing ancestor.
    pub fn position(&self, loc: &Loc) -> Position {
        let Some(source) = self.get(loc.source) else {
            return Position {
                file: String::from("<unknown>"),
                line: None,
                column: None,
                pointer: loc.pointer(),
                inside: None,
            };
        };
        let (line, column) = self
            .range(loc, false)
            .map(|(start, _)| self.line_column(loc.source, start))
            .unzip();
        Position {
            file: self.file_name(loc.source),
            line,
            column,
            pointer: loc.pointer(),
            inside: source.parent.as_ref().map(|p| Box::new(self.position(p))),
        }
    }

    /// The source's spans, built on first use; `None` when the text is not strict JSON.
    fn index(&self, id: SourceId) -> Option<&Spans> {
        let source = self.get(id)?;
        self.indexes
            .get(id.0 as usize)
            .and_then(|cell| cell.get_or_init(|| strict_spans(&source.text)).as_ref())
    }

    /// The byte range, in its own source's text, of the value at `loc` or of its key (`key`), as
    /// [`range_of_pointer`] answers, through the source's spans: locating many values of a large file
    /// costs one pass over it, not one parse per value.
    pub fn range(&self, loc: &Loc, key: bool) -> Option<(usize, usize)> {
        let text = &self.get(loc.source)?.text;
        self.index(loc.source)?.range(text, &loc.pointer(), key)
    }

    /// The source's line index, built on first use.
    fn lines(&self, id: SourceId) -> Option<&LineIndex> {
        let source = self.get(id)?;
        let cell = self.lines.get(id.0 as usize)?;
        Some(cell.get_or_init(|| LineIndex::new(&source.text)))
    }

    /// The 1-based line and character column of a byte offset in a source, through its [`LineIndex`]:
    /// bounded work per offset even on a line of megabytes.
    pub fn line_column(&self, id: SourceId, offset: usize) -> (usize, usize) {
        match (self.get(id), self.lines(id)) {
            (Some(source), Some(lines)) => lines.line_column(&source.text, offset),
            _ => (1, 1),
        }
    }

    /// The text of a source's 1-based line, without its line break.
    pub fn line_text(&self, id: SourceId, line: usize) -> Option<&str> {
        self.lines(id)?.line(&self.get(id)?.text, line)
    }

    /// The line and column of a byte offset in a source (for serde_json syntax errors, which give them
    /// directly, this is not needed).
    pub fn position_at(&self, id: SourceId, line: usize, column: usize) -> Position {
        let outer = self
            .get(id)
            .and_then(|s| s.parent.as_ref())
            .map(|p| Box::new(self.position(p)));
        Position {
            file: self.file_name(id),
            line: Some(line),
            column: Some(column),
            pointer: String::new(),
            inside: outer,
        }
    }
}

/// The spans of a strict JSON text ([`Spans`]); `None` when serde_json refuses the text.
fn strict_spans(text: &str) -> Option<Spans> {
    #[cfg(test)]
    parsed::add(text.len());
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    Spans::new(text)
}

/// 1-based line and character column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The byte offset where the value at `pointer` starts, or, when it does not exist, where its nearest
/// existing ancestor starts. `None` when the text does not parse.
pub fn offset_of_pointer(text: &str, pointer: &str) -> Option<usize> {
    range_of_pointer(text, pointer, false).map(|(start, _)| start)
}

/// The byte range of the value at `pointer`, or of its key (`key`: the last token names an object member).
/// A pointer that does not resolve (`/Action/0` when `Action` is a string) falls back to its nearest
/// existing ancestor's value, or gives `None` when the key is asked. `None` when the text is not strict
/// JSON. For one pointer: many pointers into one text are located through a [`SourceMap`].
pub fn range_of_pointer(text: &str, pointer: &str, key: bool) -> Option<(usize, usize)> {
    strict_spans(text)?.range(text, pointer, key)
}

/// Turn a serde_path_to_error path (`[0].permissions.allow[2]`) into a JSON pointer (`/0/permissions/allow/2`).
pub fn pointer_of_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => {
                pointer.push('/');
                pointer.push_str(variant);
            }
            Segment::Unknown => pointer.push_str("/?"),
        }
    }
    pointer
}

/// Work counting for tests: how many bytes of text this thread has parsed to locate values, so that a
/// test can tell one pass over a file from one pass per finding without timing anything.
#[cfg(test)]
pub(crate) mod parsed {
    use std::cell::Cell;

    thread_local! {
        static BYTES: Cell<usize> = const { Cell::new(0) };
    }

    pub(crate) fn add(n: usize) {
        BYTES.with(|b| b.set(b.get() + n));
    }

    /// Bytes parsed by this thread so far.
    pub(crate) fn bytes() -> usize {
        BYTES.with(Cell::get)
    }

    thread_local! {
        static COLUMN_BYTES: Cell<usize> = const { Cell::new(0) };
    }

    /// Count bytes read to compute a column.
    pub(crate) fn add_column(n: usize) {
        COLUMN_BYTES.with(|b| b.set(b.get() + n));
    }

    /// Bytes read by this thread so far to compute columns.
    pub(crate) fn column_bytes() -> usize {
        COLUMN_BYTES.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_line_index_agrees_with_counting_lines() {
        // 500 policies of several lines each, large enough to be indexed member by member.
        let items: Vec<String> = (0..500)
            .map(|i| format!("{{\n  \"name\": \"p{i}\",\n  \"tags\": [\n    \"é{i}\"\n  ]\n}}"))
            .collect();
        let pretty = format!("[\n{}\n]\n", items.join(",\n"));
        // The same minified (one line of many checkpoints), with two- to four-byte characters straddling
        // checkpoint boundaries, and a few line breaks among long lines.
        let minified = pretty.replace('\n', "").replace('é', "é€💡");
        let mixed = format!("{minified}\n{}\r\n\n{minified}", "x".repeat(3000));
        for text in [&pretty, &minified, &mixed] {
            let index = LineIndex::new(text);
            for offset in (0..text.len())
                .step_by(11)
                .chain([text.len(), text.len() + 5])
            {
                let naive = if text.is_char_boundary(offset.min(text.len())) {
                    line_column(text, offset)
                } else {
                    continue;
                };
                assert_eq!(index.line_column(text, offset), naive, "{offset}");
            }
        }
    }

    #[test]
    fn locations_keep_their_pointer_text() {
        let id = SourceId(3);
        for pointer in [
            "",
            "/0",
            "/12/permissions/allow/2/action",
            "/a~1b/c~0d/",
            "/007/x",
            "/conditions/conditions/0/conditions/1/conditions/0/values/request.IP",
            "/Policies/3/PolicyVersions/0/Body",
            "/4294967296/x",
            "/0/permissions/allow/5000/action",
            "/123456/permissions/allow/2047/action",
            "/123456/permissions/allow/2048/action",
            "/1/2/3/4/5/6",
            "/1/2/3/4/5/6/7",
        ] {
            let loc = Loc::new(id, pointer);
            assert_eq!(loc.pointer(), pointer);
            assert_eq!(loc.is_root(), pointer.is_empty());
            assert_eq!(loc, Loc::new(id, pointer), "{pointer}");
        }
        // Built by components, the same location as parsed from the text.
        let mut built = Loc::root(id);
        for _ in 0..5 {
            built = built.key("conditions").index(1);
        }
        let built = built.key("values").key("request.IP");
        let text = "/conditions/1".repeat(5) + "/values/request.IP";
        assert_eq!(built.pointer(), text);
        assert_eq!(built, Loc::new(id, &text));
        assert_ne!(built, Loc::new(SourceId(4), &text));
        assert_eq!(Loc::root(id).key("a/b~").pointer(), "/a~1b~0");
        assert_eq!(Loc::root(id).index(7).pointer(), "/7");
        assert_eq!(Loc::root(id).key("7"), Loc::root(id).index(7));
        assert_eq!(Loc::root(id).key("07").pointer(), "/07");
        assert!(keys::known_table_agrees());
        // Built one component at a time, across the packed/interned boundary, equal to the parsed form.
        for pointer in [
            "/0/permissions/allow/5000/action",
            "/123456/permissions/allow/2048/action",
            "/1/2/3/4/5/6/7/8",
            "/x/y/z",
        ] {
            let mut loc = Loc::root(id);
            for token in pointer.split('/').skip(1) {
                loc = match token.parse::<usize>() {
                    Ok(i) => loc.index(i),
                    Err(_) => loc.key(token),
                };
            }
            assert_eq!(loc, Loc::new(id, pointer), "{pointer}");
            assert_eq!(loc.pointer(), pointer);
        }
        assert_eq!(std::mem::size_of::<Loc>(), 16);
    }

    #[test]
    fn pointer_resolves_to_the_value_start() {
        let text = "{\n  \"a\": [1,\n    {\"b~/c\": true}]\n}";
        let offset = offset_of_pointer(text, "/a/1/b~0~1c");
        assert_eq!(offset.map(|o| line_column(text, o)), Some((3, 14)));
        // a missing member resolves to its parent
        assert_eq!(
            offset_of_pointer(text, "/a/7").map(|o| line_column(text, o)),
            Some((2, 8))
        );
    }

    /// An independent span-aware parser (jsonc-parser, a dev-dependency) as the oracle of the scan's spans.
    fn parsed_range(text: &str, pointer: &str, key: bool) -> Option<(usize, usize)> {
        use jsonc_parser::common::Ranged;
        let parsed =
            jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).ok()?;
        let mut value = parsed.value.as_ref()?;
        let mut name = None;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            let next = match value {
                jsonc_parser::ast::Value::Object(o) => o
                    .properties
                    .iter()
                    .find(|p| p.name.as_str() == token)
                    .map(|p| (Some(p.name.range()), &p.value)),
                jsonc_parser::ast::Value::Array(a) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.elements.get(i))
                    .map(|v| (None, v)),
                _ => None,
            };
            match next {
                Some((n, v)) => (name, value) = (n, v),
                None if key => return None,
                None => break,
            }
        }
        let range = if key { name? } else { value.range() };
        Some((range.start, range.end))
    }

    /// The scan's spans answer exactly what a span-aware parse does, for present, absent and escaped
    /// pointers and keys, in containers large enough to be kept member by member, small ones walked on
    /// demand, containers nested too deep to be kept, pretty-printed and minified.
    #[test]
    fn spans_agree_with_the_parse() {
        let mut text = String::from("[\n");
        for i in 0..200 {
            if i > 0 {
                text.push_str(",\n");
            }
            text.push_str(&format!(
                "  {{\"name\": \"p{i}\", \"a/b~\": [1, {{\"x\": \"é\\\"\"}}], \"k\\u0041\": {i}, \"name\": 0, \"e\": [], \"o\": {{}}}}"
            ));
        }
        text.push_str("\n]\n");
        // The same array as a member of a large object (kept member by member, keys included).
        let wrapped = format!("{{\"k\\u0041\": 1, \"big\": {text}, \"a~b\": {text}}}");
        let minified = wrapped.replace(['\n', ' '], "");
        let deep = format!("{}{text}{}", "[".repeat(70), "]".repeat(70));
        let pointers = [
            "",
            "/0",
            "/7/name",
            "/199/a~1b~0/1/x",
            "/3/kA",
            "/3/k\\u0041",
            "/250",
            "/5/missing/deeper",
            "/5/a~1b~0/9",
            "/5/e/0",
            "/5/o/x",
            "/5/name/0",
            "/x",
            "/+1",
        ];
        let deep_prefix = "/0".repeat(70);
        for (text, prefixes) in [
            (&text, &[""][..]),
            (&wrapped, &["/big", "/a~0b", "/kA", "/none"][..]),
            (&minified, &["/big", "/a~0b"][..]),
            (&deep, &[deep_prefix.as_str(), "/0/0/1"][..]),
        ] {
            let spans = strict_spans(text);
            assert!(spans.is_some(), "strict JSON has spans");
            let Some(spans) = spans else { return };
            for p in prefixes
                .iter()
                .flat_map(|pre| pointers.map(|p| format!("{pre}{p}")))
            {
                let p = p.as_str();
                for key in [false, true] {
                    let want = parsed_range(text, p, key);
                    assert_eq!(spans.range(text, p, key), want, "pointer {p:?}, key {key}");
                    assert_eq!(range_of_pointer(text, p, key), want, "pointer {p:?}");
                }
            }
        }
        assert!(strict_spans("// a comment\n{}").is_none());
        assert!(strict_spans("{\"a\": 1,}").is_none());
        assert!(strict_spans("[1] x").is_none());
    }

    #[test]
    fn loc_escapes_keys() {
        let loc = Loc::new(SourceId(0), "").key("a/b~").index(3);
        assert_eq!(loc.pointer(), "/a~1b~0/3");
    }
}

/// The part of the line around byte `offset` of `text` that a snippet may show: at most `max / 2`
/// characters before it and `max` from there, never past the line's ends, and how many characters of the
/// line come before that part (`column` is `offset`'s 1-based column). Bounded work and memory whatever
/// the line's length: a minified dump is one line of megabytes, and every finding on it keeps its own part.
pub fn window_at(text: &str, offset: usize, column: usize, max: usize) -> (String, usize) {
    let before = text.get(..offset).unwrap_or_default();
    let (mut start, mut back) = (offset, 0usize);
    for (i, c) in before.char_indices().rev() {
        if c == '\n' || back >= max / 2 {
            break;
        }
        (start, back) = (i, back + 1);
    }
    // Up to `max` characters or the line break, copied as one slice.
    let rest = text.get(start..).unwrap_or_default();
    let end = rest
        .char_indices()
        .enumerate()
        .find(|&(n, (_, c))| n == max || c == '\n')
        .map_or(rest.len(), |(_, (i, _))| i);
    let part = rest.get(..end).unwrap_or_default();
    let part = part.strip_suffix('\r').unwrap_or(part).to_owned();
    (part, column.saturating_sub(1).saturating_sub(back))
}

#[cfg(test)]
mod window_tests {
    use super::window_at;

    /// A short line is kept whole; a long one only around the offset, with the characters before it counted.
    #[test]
    #[allow(clippy::indexing_slicing)]
    fn window_is_bounded_and_counts_what_it_leaves_out() {
        let text = "first\n  \"a\": 1\nlast";
        let offset = text.find("1").unwrap_or_default();
        assert_eq!(
            window_at(text, offset, 8, 4096),
            (String::from("  \"a\": 1"), 0)
        );
        // one line of a million characters (a minified dump), é being two bytes
        let long = format!("{}X{}", "é".repeat(500_000), "y".repeat(500_000));
        let offset = long.find('X').unwrap_or_default();
        let (part, before) = window_at(&long, offset, 500_001, 4096);
        assert_eq!(part.chars().count(), 4096);
        assert_eq!(before, 500_000 - 2048);
        assert_eq!(part.chars().nth(500_000 - before), Some('X'));
        // a window never crosses a line break, and drops the `\r` of a CRLF line
        assert_eq!(window_at("ab\r\ncd", 1, 2, 4096), (String::from("ab"), 0));
        // the part is the first `max` characters from its start up to the line break (collected one
        // by one as the reference), at every offset and width
        let text = "aé€\r\n💡xy\r\n\nz€é\rq";
        for max in 0..12 {
            for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let before = &text[..offset];
                let from = before
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| *c != '\n')
                    .take(max / 2)
                    .last()
                    .map_or(offset, |(i, _)| i);
                let want: String = text[from..]
                    .chars()
                    .take_while(|c| *c != '\n')
                    .take(max)
                    .collect();
                let want = want.strip_suffix('\r').map(str::to_owned).unwrap_or(want);
                let back = before[from..].chars().count();
                assert_eq!(
                    window_at(text, offset, 20, max),
                    (want, 19 - back),
                    "{offset} {max}"
                );
            }
        }
    }
}
