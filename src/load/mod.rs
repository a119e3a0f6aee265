//! Load: bytes → raw serde shapes. Files, directories (walked for `*.json`) and globs are read; each file's
//! top-level shape says what it is (OVHcloud policy / permission group / resource group, EIM document, an
//! API response wrapping one). No semantics here: a problem is recorded with its location and loading goes
//! on, so every bad file is reported, not just the first.

pub mod catalogue;
pub mod raw;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{At, Problem};
use crate::source::{pointer_of_path, Loc, SourceId, SourceMap};

/// Input limits: untrusted files cannot exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Everything read, still raw.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    pub ovh: Vec<(raw::OvhObject, Loc)>,
    /// EIM documents passed as policies: linked to no one, evaluated as the caller's own.
    pub eim_documents: Vec<(raw::EimDocument, Loc, String)>,
    pub ovh_accounts: Vec<(raw::OvhAccount, Loc)>,
    pub eim_accounts: Vec<(raw::EimAccount, Loc)>,
    pub problems: Vec<Problem>,
    /// Files read.
    pub files: Vec<String>,
    pub limits: Limits,
}

/// What a file is passed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Policies,
    Account,
    /// Either, told apart by shape (`lint` reads whatever it is given).
    Any,
}

impl Loaded {
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a path given with `--policies`: a file, a directory (every `*.json` below it), or a glob.
    pub fn add_path(&mut self, path: &str, role: Role) {
        let p = Path::new(path);
        if p.exists() || !path.contains(['*', '?', '[']) {
            self.add_existing(p, role, &mut HashSet::new());
            return;
        }
        match glob::glob(path) {
            Ok(paths) => {
                let mut any = false;
                for entry in paths {
                    any = true;
                    match entry {
                        Ok(p) => self.add_existing(&p, role, &mut HashSet::new()),
                        Err(e) => self.problems.push(Problem::file(
                            e.path().display().to_string(),
                            format!("cannot read: {}", e.error()),
                        )),
                    }
                }
                if !any {
                    self.problems
                        .push(Problem::file(path, "the pattern matches no file"));
                }
            }
            Err(e) => self
                .problems
                .push(Problem::file(path, format!("invalid glob pattern: {e}"))),
        }
    }

    fn add_existing(&mut self, path: &Path, role: Role, seen: &mut HashSet<PathBuf>) {
        let name = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    String::from("no such file or directory")
                } else {
                    e.to_string()
                };
                self.problems
                    .push(Problem::file(name, format!("cannot read: {why}")));
                return;
            }
        };
        if meta.is_dir() {
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            if !seen.insert(canonical) {
                self.problems.push(Problem::file(
                    name,
                    "directory visited twice: a symbolic link loop; it was read once",
                ));
                return;
            }
            let before = self.files.len() + self.problems.len();
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    self.problems
                        .push(Problem::file(name, format!("cannot read directory: {e}")));
                    return;
                }
            };
            entries.sort();
            for entry in entries {
                if entry.is_dir() || entry.extension().is_some_and(|x| x == "json") {
                    self.add_existing(&entry, role, seen);
                } else if std::fs::symlink_metadata(&entry).is_ok() && !entry.exists() {
                    self.problems.push(Problem::file(
                        entry.display().to_string(),
                        "broken symbolic link",
                    ));
                }
            }
            if self.files.len() + self.problems.len() == before {
                self.problems.push(
                    Problem::file(name, "the directory holds no `*.json` file")
                        .help("pass the files holding the policies, or the directory they are in"),
                );
            }
            return;
        }
        if meta.len() > self.limits.max_file_bytes {
            self.problems.push(
                Problem::file(
                    name,
                    format!(
                        "file is {} bytes, over the limit of {} bytes",
                        meta.len(),
                        self.limits.max_file_bytes
                    ),
                )
                .help("raise the limit with --max-file-size if the file is trusted"),
            );
            return;
        }
        match std::fs::read(path) {
            Ok(bytes) => self.add_bytes(&name, bytes, role),
            Err(e) => self
                .problems
                .push(Problem::file(name, format!("cannot read: {e}"))),
        }
    }

    /// Add a file's content (already read).
    pub fn add_bytes(&mut self, name: &str, bytes: Vec<u8>, role: Role) {
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or_default())
                    .into_owned();
                let (line, column) = crate::source::line_column(&prefix, prefix.len());
                self.files.push(name.to_owned());
                let id = self.sources.add(name, prefix, None);
                self.problems.push(Problem {
                    message: format!("invalid UTF-8 at byte {valid}; JSON files must be UTF-8"),
                    at: At::LineColumn(Loc::new(id, ""), line, column),
                    help: Some(String::from("re-save the file as UTF-8")),
                });
                return;
            }
        };
        self.add_text(name, text, role);
    }

    /// Add a file's text.
    pub fn add_text(&mut self, name: &str, text: String, role: Role) {
        self.files.push(name.to_owned());
        let id = self.sources.add(name, text, None);
        let root = Loc::new(id, "");
        let Some(source) = self.sources.get(id) else {
            return;
        };
        let text = source.text.clone();
        if text.starts_with('\u{feff}') {
            self.problems.push(
                Problem { message: String::from("file starts with a UTF-8 byte order mark, which JSON forbids (RFC 8259 §8.1)"), at: At::LineColumn(root, 1, 1), help: None }
                    .help("remove the first three bytes (EF BB BF), e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' FILE`"),
            );
            return;
        }
        let first = text.bytes().find(|b| !b.is_ascii_whitespace());
        match (first, role) {
            (None, _) => self.problems.push(Problem::at(
                root,
                "file is empty; expected a JSON object or array",
            )),
            (Some(b'['), Role::Policies | Role::Any) => {
                if let Some(items) = self.parse::<Vec<raw::OvhObject>>(&text, &root) {
                    for (i, item) in items.into_iter().enumerate() {
                        self.ovh.push((item, root.index(i)));
                    }
                }
            }
            (Some(b'{'), _) => self.add_object(name, &text, root, role),
            (Some(_), Role::Account) => {
                self.problems
                    .push(Problem::at(root, "an account file is a JSON object").help(ACCOUNT_HELP));
            }
            (Some(_), Role::Policies | Role::Any) => {
                // Not an object or array: let the JSON parser say what is wrong, or say what was expected.
                if self.parse::<serde_json::Value>(&text, &root).is_some() {
                    self.problems.push(Problem::at(
                        root,
                        "expected a JSON object or array of policies, found a bare value",
                    ));
                }
            }
        }
    }

    fn add_object(&mut self, name: &str, text: &str, root: Loc, role: Role) {
        let Some(raw::TopKeys(keys)) = self.parse::<raw::TopKeys>(text, &root) else {
            return;
        };
        let has = |k: &str| keys.iter().any(|x| x == k);
        let eim_account = has("Users") || has("UserGroups") || has("Policies") || has("AccountId");
        let ovh_account = has("users") && has("account");
        let role = match role {
            Role::Any if eim_account || ovh_account => Role::Account,
            Role::Any => Role::Policies,
            r => r,
        };
        match role {
            Role::Account if eim_account => {
                if let Some(a) = self.parse::<raw::EimAccount>(text, &root) {
                    self.eim_accounts.push((a, root));
                }
            }
            Role::Account if ovh_account || has("users") => {
                if let Some(a) = self.parse::<raw::OvhAccount>(text, &root) {
                    self.ovh_accounts.push((a, root));
                }
            }
            Role::Account => self.problems.push(Problem::at(root, "not an account file: no `Users`/`UserGroups`/`Policies` (OUTSCALE) nor `account` + `users` (OVHcloud)").help(ACCOUNT_HELP)),
            Role::Policies if eim_account || ovh_account => self.problems.push(
                Problem::at(root, "this is an account file, not a policy file").help("pass it with `--account FILE`"),
            ),
            Role::Policies if has("Statement") => {
                if let Some(doc) = self.parse::<raw::EimDocument>(text, &root) {
                    let stem = Path::new(name).file_stem().map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
                    self.eim_documents.push((doc, root, stem));
                }
            }
            Role::Policies if has("PolicyVersion") || has("PolicyDocument") => {
                // ReadPolicyVersion / ReadUserPolicy output: the document is a JSON string inside.
                #[derive(serde::Deserialize)]
                struct Wrapped {
                    #[serde(rename = "PolicyVersion")]
                    version: Option<raw::EimVersion>,
                    #[serde(rename = "PolicyDocument")]
                    document: Option<serde_json::Value>,
                    #[serde(rename = "PolicyName")]
                    name: Option<String>,
                }
                if let Some(w) = self.parse::<Wrapped>(text, &root) {
                    let (value, at, label) = match (w.version, w.document) {
                        (Some(v), _) => (v.body, root.key("PolicyVersion").key("Body"), format!("{} {}", w.name.as_deref().unwrap_or(name), v.version_id)),
                        (None, Some(d)) => (d, root.key("PolicyDocument"), w.name.unwrap_or_else(|| name.to_owned())),
                        (None, None) => return,
                    };
                    if let Some((doc, loc)) = self.embedded_document(value, at) {
                        self.eim_documents.push((doc, loc, label));
                    }
                }
            }
            Role::Policies | Role::Any => {
                if let Some(obj) = self.parse::<raw::OvhObject>(text, &root) {
                    self.ovh.push((obj, root));
                }
            }
        }
    }

    /// An EIM document given as a JSON string (as the API returns `Body` / `PolicyDocument`) or as an object.
    pub fn embedded_document(
        &mut self,
        value: serde_json::Value,
        at: Loc,
    ) -> Option<(raw::EimDocument, Loc)> {
        match value {
            serde_json::Value::String(s) => {
                let id = self.sources.add(
                    format!("{} (embedded)", self.sources.file_name(at.source)),
                    s,
                    Some(at),
                );
                let root = Loc::new(id, "");
                let text = self.sources.get(id)?.text.clone();
                if text.trim().is_empty() {
                    self.problems.push(Problem::at(root, "the policy document string is empty; expected a JSON document `{\"Statement\": [...]}`"));
                    return None;
                }
                self.parse::<raw::EimDocument>(&text, &root)
                    .map(|d| (d, root))
            }
            serde_json::Value::Object(_) => {
                match serde_path_to_error::deserialize::<_, raw::EimDocument>(value) {
                    Ok(doc) => Some((doc, at)),
                    Err(e) => {
                        let pointer = format!("{}{}", at.pointer, pointer_of_path(e.path()));
                        self.problems.push(shape_problem(
                            Loc::new(at.source, pointer),
                            &e.into_inner().to_string(),
                        ));
                        None
                    }
                }
            }
            other => {
                self.problems.push(Problem::at(
                    at,
                    format!(
                        "expected a policy document (a JSON string or object), found {}",
                        kind_of(&other)
                    ),
                ));
                None
            }
        }
    }

    /// Parse a text typed; on failure record a located problem and return None.
    fn parse<T: DeserializeOwned>(&mut self, text: &str, root: &Loc) -> Option<T> {
        let mut de = serde_json::Deserializer::from_str(text);
        let result = serde_path_to_error::deserialize::<_, T>(&mut de);
        match result {
            Ok(v) => match de.end() {
                Ok(()) => Some(v),
                Err(e) => {
                    self.problems.push(json_problem(root.clone(), &e));
                    None
                }
            },
            Err(e) => {
                let pointer = format!("{}{}", root.pointer, pointer_of_path(e.path()));
                let inner = e.into_inner();
                self.problems
                    .push(json_problem(Loc::new(root.source, pointer), &inner));
                None
            }
        }
    }
}

const ACCOUNT_HELP: &str = "an OUTSCALE account file is {\"AccountId\", \"Users\", \"UserGroups\", \"Policies\"}; an OVHcloud one is {\"account\", \"region\", \"users\": [{\"login\", \"group\"}]} (see README, \"Account files\")";

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A serde_json error as a problem: syntax errors at their line and column, shape errors at their path.
fn json_problem(loc: Loc, e: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    let message = strip_position(&e.to_string());
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            let message = if message.contains("recursion limit") {
                String::from("JSON nested too deeply (more than 128 levels)")
            } else {
                format!("invalid JSON: {message}")
            };
            Problem {
                message,
                at: At::LineColumn(Loc::new(loc.source, ""), e.line(), e.column()),
                help: None,
            }
        }
        Category::Data => {
            let mut p = shape_problem(loc.clone(), &message);
            if e.line() > 0 && loc.pointer.is_empty() {
                p.at = At::LineColumn(loc, e.line(), e.column());
            }
            p
        }
    }
}

/// A shape error (wrong type, missing or unknown field), with a "did you mean" for unknown fields.
pub fn shape_problem(loc: Loc, message: &str) -> Problem {
    let message = strip_position(message);
    let mut problem = Problem::at(loc, message.clone());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once("`, expected ") {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            if let Some(best) = closest(field, &candidates) {
                problem = problem.help(format!("did you mean `{best}`?"));
            }
        }
    }
    problem
}

/// serde_json appends " at line L column C"; the location is shown separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

/// The candidate closest to `word` (case-insensitive equality first, then edit distance ≤ 3).
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| {
            (
                edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, c)| *d <= 3.min(c.len() / 2 + 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance (two rows).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// The id a source was given.
pub fn source_of(loc: &Loc) -> SourceId {
    loc.source
}
