//! The error types. Bad input is never a panic and never a silent skip: every problem becomes a
//! [`Diagnostic`] with its location, what was found and what was expected, and loading collects all of them
//! before giving up.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::scan::{self, LineIndex};
use crate::source::{Loc, Position, SourceId, SourceMap};

/// How bad a diagnostic is; ordered, for `audit findings --fail-on` (which offers note, warning, error:
/// audit findings are never `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A remark for a reviewer (audit's conditional grants, soon expiries).
    Note,
    /// Worth knowing, not a problem (lint's informational rules).
    #[value(skip)]
    Info,
    /// Probably a mistake or a risk (a wildcard grant, another account's identity).
    Warning,
    /// Wrong or dangerous (administrator-equivalent access, privilege escalation).
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem, located: the one diagnostic type every stage reports with (load and validation errors
/// directly, lint and audit findings converted at the report boundary), rendered rustc-style by
/// `report::diagnostic`. The JSON form is `severity`, `message`, `position`, `help`; the rest is for the
/// text rendering only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable code (`PS001`, `PS110`, `PA102`), when the problem has one.
    #[serde(skip)]
    pub code: Option<&'static str>,
    pub severity: Severity,
    /// One line, lowercase, user values in backticks.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Further facts, one line each (`= note: …`).
    #[serde(skip)]
    pub notes: Vec<String>,
    /// The source line the position points into, for the line with carets.
    #[serde(skip)]
    pub excerpt: Option<Excerpt>,
}

/// The part of a source line a diagnostic shows, and what to underline in it. A line longer than
/// [`SNIPPET_MAX_CHARS`] (minified JSON) is kept as a window around the column: `text_start` characters
/// of the line come before `text`, so that many problems on one huge line do not copy it many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters of the whole line.
    pub column: usize,
    /// How many characters to underline (at least one is).
    pub len: usize,
    pub text: String,
    pub text_start: usize,
}

impl Diagnostic {
    /// An error with a message only.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            code: None,
            severity: Severity::Error,
            message: message.into(),
            position: None,
            help: None,
            notes: Vec::new(),
            excerpt: None,
        }
    }
}

/// The longest source line a diagnostic keeps whole; longer ones are cut to this many characters around
/// the column, so that many problems on one huge minified line do not copy it many times (a diagnostic
/// shows at most 160 characters of it).
pub const SNIPPET_MAX_CHARS: usize = 512;

/// The longest user value quoted in a message (in backticks or double quotes), in characters.
const QUOTE_MAX_CHARS: usize = 120;

/// The outermost file of a position: for a document embedded in a JSON string, the file holding the string.
pub fn outermost(p: &Position) -> &Position {
    match &p.inside {
        Some(outer) => outermost(outer),
        None => p,
    }
}

/// The stable code of a load or validation problem (PS001–PS006 of the lint registry), from its message.
pub fn load_code(message: &str) -> &'static str {
    let m = message;
    if m.starts_with("invalid JSON")
        || m.starts_with("JSON nested")
        || m.contains("byte order mark")
        || m.starts_with("invalid UTF-8")
        || m.starts_with("file is empty")
    {
        "PS001"
    } else if m.starts_with("unknown field")
        || m.starts_with("unexpected `")
        || m.ends_with("only a policy does")
    {
        "PS002"
    } else if m.starts_with("invalid type")
        || m.starts_with("invalid length")
        || m.starts_with("expected a")
    {
        "PS004"
    } else if m.contains("malformed identity URN")
        || m.contains("malformed resource URN")
        || m.contains("ORN")
        || m.contains("malformed permission group URN")
    {
        "PS005"
    } else if m.starts_with("malformed") {
        // `malformed action `ReadVms`: it has no `:` ...` is a bad value, not a missing field.
        "PS006"
    } else if m.starts_with("missing field")
        || m.contains(" has no `")
        || m.starts_with("statement has no")
    {
        "PS003"
    } else {
        "PS006"
    }
}

/// Shorten every quoted user value (between backticks or double quotes) longer than [`QUOTE_MAX_CHARS`]:
/// a 50 MB string in a policy must not become a 50 MB message.
fn clip(message: String) -> String {
    if message.chars().count() <= QUOTE_MAX_CHARS {
        return message;
    }
    let mut out = String::with_capacity(QUOTE_MAX_CHARS * 4);
    let mut quoted = String::new();
    let mut open: Option<char> = None;
    let flush = |quoted: &mut String, out: &mut String| {
        let n = quoted.chars().count();
        if n > QUOTE_MAX_CHARS {
            out.extend(quoted.chars().take(QUOTE_MAX_CHARS / 2));
            out.push_str(&format!("…({} characters)…", n - QUOTE_MAX_CHARS / 2 - 16));
            let tail: Vec<char> = quoted.chars().skip(n - 16).collect();
            out.extend(tail);
        } else {
            out.push_str(quoted);
        }
        quoted.clear();
    };
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                flush(&mut quoted, &mut out);
                out.push(c);
                open = None;
            }
            Some(_) => quoted.push(c),
            None => {
                out.push(c);
                if c == '`' || c == '"' {
                    open = Some(c);
                }
            }
        }
    }
    flush(&mut quoted, &mut out);
    out
}

/// A problem found while loading or validating, before its location is resolved to a line and column.
#[derive(Debug, Clone)]
pub struct Problem {
    pub message: String,
    pub at: At,
    pub help: Option<String>,
}

/// Where a [`Problem`] is.
#[derive(Debug, Clone)]
pub enum At {
    /// A value in a source.
    Loc(Loc),
    /// A line and column given directly (serde_json syntax errors).
    LineColumn(Loc, usize, usize),
    /// A file as a whole, by its display name (it could not be read).
    File(String),
    /// Nowhere in particular (a command-line value).
    Nowhere,
}

impl Problem {
    pub fn at(loc: Loc, message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            at: At::Loc(loc),
            help: None,
        }
    }

    pub fn file(name: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            at: At::File(name.into()),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Resolve the location against the sources read. To resolve many, use [`resolve_all`]: it walks
    /// each source once for all of them.
    pub fn resolve(self, sources: &SourceMap) -> Diagnostic {
        Resolver::new(sources).resolve(self)
    }
}

/// Resolve many problems: each source is indexed and walked once, however many problems it has, so N
/// problems in a file cost one pass over it, not N parses.
pub fn resolve_all(problems: Vec<Problem>, sources: &SourceMap) -> Vec<Diagnostic> {
    let mut resolver = Resolver::new(sources);
    let mut wanted: HashMap<SourceId, Vec<String>> = HashMap::new();
    for p in &problems {
        if let At::Loc(loc) = &p.at {
            wanted.entry(loc.source).or_default().push(loc.pointer());
        }
    }
    resolver.prepare(wanted);
    problems.into_iter().map(|p| resolver.resolve(p)).collect()
}

/// Per source: its line index and the positions of the pointers asked for.
struct Resolver<'s> {
    sources: &'s SourceMap,
    cache: HashMap<SourceId, Cached>,
}

struct Cached {
    lines: LineIndex,
    /// pointer → (line, column).
    at: HashMap<String, Option<(usize, usize)>>,
}

impl<'s> Resolver<'s> {
    fn new(sources: &'s SourceMap) -> Self {
        Resolver {
            sources,
            cache: HashMap::new(),
        }
    }

    /// Walk each source once for all its wanted pointers, and its ancestors' for the embedding strings.
    fn prepare(&mut self, mut wanted: HashMap<SourceId, Vec<String>>) {
        // Embedded documents: where their string is in the outer file.
        let mut pending: Vec<SourceId> = wanted.keys().copied().collect();
        while let Some(id) = pending.pop() {
            if let Some(parent) = self.sources.get(id).and_then(|s| s.parent.as_ref()) {
                let list = wanted.entry(parent.source).or_default();
                if !list.contains(&parent.pointer()) {
                    list.push(parent.pointer());
                    pending.push(parent.source);
                }
            }
        }
        for (id, pointers) in wanted {
            let Some(source) = self.sources.get(id) else {
                continue;
            };
            let text = &source.text;
            let cached = self.cache.entry(id).or_insert_with(|| Cached {
                lines: LineIndex::new(text),
                at: HashMap::new(),
            });
            let refs: Vec<&str> = pointers.iter().map(String::as_str).collect();
            let found = scan::offsets(text, &refs);
            for (p, offset) in pointers.iter().zip(found) {
                let lc = offset.map(|o| cached.lines.line_column(text, o));
                cached.at.insert(p.clone(), lc);
            }
        }
    }

    fn cached(&mut self, id: SourceId) -> Option<&mut Cached> {
        let text = &self.sources.get(id)?.text;
        Some(self.cache.entry(id).or_insert_with(|| Cached {
            lines: LineIndex::new(text),
            at: HashMap::new(),
        }))
    }

    /// Line and column of a pointer in a source.
    fn line_column(&mut self, loc: &Loc) -> Option<(usize, usize)> {
        let sources = self.sources;
        let cached = self.cached(loc.source)?;
        if let Some(found) = cached.at.get(&loc.pointer()) {
            return *found;
        }
        let text = &sources.get(loc.source)?.text;
        let found = scan::offsets(text, &[&loc.pointer()])
            .first()
            .copied()
            .flatten()
            .map(|o| cached.lines.line_column(text, o));
        cached.at.insert(loc.pointer(), found);
        found
    }

    /// The position of a location, with the chain of embedding strings.
    fn position(&mut self, loc: &Loc) -> Position {
        let (line, column) = self.line_column(loc).unzip();
        Position {
            file: self.sources.file_name(loc.source),
            line,
            column,
            pointer: loc.pointer(),
            inside: self.outer(loc.source),
        }
    }

    fn outer(&mut self, id: SourceId) -> Option<Box<Position>> {
        let parent = self.sources.get(id)?.parent?;
        Some(Box::new(self.position(&parent)))
    }

    fn resolve(&mut self, problem: Problem) -> Diagnostic {
        let position = match &problem.at {
            At::Loc(loc) => Some(self.position(loc)),
            At::LineColumn(loc, line, column) => Some(Position {
                file: self.sources.file_name(loc.source),
                line: Some(*line),
                column: Some(*column),
                pointer: loc.pointer(),
                inside: self.outer(loc.source),
            }),
            At::File(name) => Some(Position {
                file: name.clone(),
                line: None,
                column: None,
                pointer: String::new(),
                inside: None,
            }),
            At::Nowhere => None,
        };
        let mut excerpt = None;
        if let (At::Loc(loc) | At::LineColumn(loc, ..), Some(p)) = (&problem.at, &position) {
            if let (Some(line), Some(column)) = (p.line, p.column) {
                let sources = self.sources;
                if let (Some(cached), Some(source)) =
                    (self.cached(loc.source), sources.get(loc.source))
                {
                    if let Some(text) = cached.lines.line(&source.text, line) {
                        let (text, text_start) = window(text, column);
                        excerpt = Some(Excerpt {
                            line,
                            column,
                            len: 1,
                            text,
                            text_start,
                        });
                    }
                }
            }
        }
        let code = match problem.at {
            At::Loc(_) | At::LineColumn(..) => Some(load_code(&problem.message)),
            At::File(_) | At::Nowhere => None,
        };
        Diagnostic {
            code,
            severity: Severity::Error,
            message: clip(problem.message),
            position,
            help: problem.help.map(clip),
            notes: Vec::new(),
            excerpt,
        }
    }
}

/// The line, or a window of [`SNIPPET_MAX_CHARS`] characters around the column of a longer line.
fn window(line: &str, column: usize) -> (String, usize) {
    if line.len() <= SNIPPET_MAX_CHARS {
        return (line.to_owned(), 0);
    }
    let start = column.saturating_sub(SNIPPET_MAX_CHARS / 2);
    (
        line.chars().skip(start).take(SNIPPET_MAX_CHARS).collect(),
        start,
    )
}

/// Why a run could not answer. Rendered by `report::diagnostic` (its `Display`).
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong.
    Usage(String),
    /// The input is wrong: every problem found, located.
    Input(Vec<Diagnostic>),
    /// Some of the policy and account files could not be understood: every problem found, located, and
    /// how many inputs were given. Nothing was evaluated: a decision needs every policy (a lost deny could
    /// turn into an allow, a lost allow into a deny).
    Load {
        diagnostics: Vec<Diagnostic>,
        /// Input files given (read or not).
        inputs: usize,
    },
}

impl std::error::Error for Error {}

impl Error {
    /// The diagnostics carried, for structured output.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Usage(message) => vec![Diagnostic::error(message.clone())],
            Error::Input(all)
            | Error::Load {
                diagnostics: all, ..
            } => all.clone(),
        }
    }

    /// Resolve a list of problems into an input error.
    pub fn from_problems(problems: Vec<Problem>, sources: &SourceMap) -> Self {
        Error::Input(resolve_all(problems, sources))
    }
}

/// The files (outermost) that diagnostics point into.
pub fn files_of(all: &[Diagnostic]) -> BTreeSet<&str> {
    all.iter()
        .filter_map(|d| d.position.as_ref())
        .map(|p| outermost(p).file.as_str())
        .collect()
}

/// The files (outermost) the diagnostics point into, for counting.
pub fn files_named(all: &[Diagnostic]) -> BTreeSet<String> {
    files_of(all).into_iter().map(str::to_owned).collect()
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
