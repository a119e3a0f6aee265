//! Load: bytes → raw serde shapes. Files, directories (walked for `*.json`) and globs are read; each file's
//! top-level shape says what it is (OVHcloud policy / permission group / resource group, EIM document, an
//! API response wrapping one). No semantics here: a problem is recorded with its location and loading goes
//! on, so every bad file is reported, not just the first.
//!
//! OVHcloud objects, which come by the ten thousand in one `GET /v2/iam/policy` dump, are not all turned
//! into raw shapes at once: the scan records where each one starts ([`OvhItem`]) and `validate` reads them
//! one at a time ([`read_ovh_item`]), so only one raw object is alive at a time next to the checked model.
//!
//! Files are untrusted: only regular files are read, never more than [`Limits::max_file_bytes`]; every text
//! (and every JSON document embedded in a string) is first walked by [`scan::check`], which refuses
//! duplicate keys at any level, nesting deeper than [`Limits::max_depth`] and strings longer than
//! [`Limits::max_string_bytes`] before serde sees it.

pub mod actions;
pub mod raw;
/// The JSON walker lives in [`crate::scan`] (the error renderer uses it too); `load::scan` names it here.
pub use crate::scan;
mod split;
pub mod terraform;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{At, Problem};
use crate::source::{pointer_of_path, Loc, SourceId, SourceMap};

/// The path `-` names standard input, wherever the command line reads a file.
pub const STDIN: &str = "-";

/// How standard input is named in messages (`<stdin>:3:7`).
pub const STDIN_NAME: &str = "<stdin>";

/// The name an input goes by in messages: [`STDIN_NAME`] for `-`, else the path as given.
pub fn display_name(path: &str) -> &str {
    if path == STDIN {
        STDIN_NAME
    } else {
        path
    }
}

/// Read a whole input named on the command line, at most `limit` bytes (and one more, to see it was
/// over): `-` is standard input; any other path a regular file or a FIFO (`/dev/stdin`, a shell's `<(...)`).
pub fn read_bytes(path: &str, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if path == STDIN {
        // Read once, kept: a Terraform plan from stdin is read for each of its states.
        static STDIN_BYTES: std::sync::OnceLock<Result<Vec<u8>, (std::io::ErrorKind, String)>> =
            std::sync::OnceLock::new();
        return STDIN_BYTES
            .get_or_init(|| {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map(|_| bytes)
                    .map_err(|e| (e.kind(), e.to_string()))
            })
            .clone()
            .map_err(|(kind, why)| std::io::Error::new(kind, why));
    } else {
        std::fs::File::open(path)?
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// [`read_bytes`] as UTF-8 text, without a size limit (role matrices, expectation files, tokens).
pub fn read_text(path: &str) -> std::io::Result<String> {
    let bytes = read_bytes(path, u64::MAX - 1)?;
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

/// Input limits: untrusted files cannot exhaust memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes (`--max-file-size`).
    pub max_file_bytes: u64,
    /// Deepest nesting of arrays and objects in one JSON text (a file, or a document embedded in a string);
    /// the top-level value is level 1. At most [`MAX_DEPTH_CEILING`]: serde_json's own recursion limit.
    pub max_depth: usize,
    /// Longest string (value or key) in a JSON text, in bytes as written.
    pub max_string_bytes: usize,
}

/// The deepest nesting [`Limits::max_depth`] may allow: serde_json refuses more than 128 levels.
pub const MAX_DEPTH_CEILING: usize = 128;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
            // The deepest real input is an OVHcloud condition tree (8 levels of 2 JSON levels each) in a
            // policy in an array: about 20. 64 leaves room and stays far from any stack.
            max_depth: 64,
            // An EIM policy document is at most 5,120 characters (the domain notes §2.1), even embedded in a string.
            max_string_bytes: 1024 * 1024,
        }
    }
}

impl Limits {
    fn scan(&self) -> scan::ScanLimits {
        scan::ScanLimits {
            max_depth: self.max_depth.min(MAX_DEPTH_CEILING),
            max_string_bytes: self.max_string_bytes,
        }
    }
}

/// Everything read, still raw.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    /// OVHcloud objects (policies, permission groups, resource groups), still unread: see [`OvhItem`].
    pub ovh: Vec<OvhItem>,
    /// EIM documents passed as policies: linked to no one, evaluated as the caller's own.
    pub eim_documents: Vec<(raw::EimDocument, Loc, String)>,
    pub ovh_accounts: Vec<(raw::OvhAccount, Loc)>,
    pub eim_accounts: Vec<(raw::EimAccount, Loc)>,
    pub problems: Vec<Problem>,
    /// Files read.
    pub files: Vec<String>,
    /// Terraform plans read: inputs (a plan whose state holds no IAM object is an empty policy set, not a
    /// missing input), but not files of their own (their objects are sources named after their addresses).
    pub plans: Vec<String>,
    pub limits: Limits,
}

/// One OVHcloud object of a file, scanned (no duplicate key, nothing too deep or too long) but not yet
/// read: [`read_ovh_item`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct OvhItem {
    /// Where the object is: its source and pointer (`/3` in an array, the root for a single object).
    pub loc: Loc,
    /// The byte offset where its text starts in the source.
    pub start: usize,
}

/// Read one OVHcloud object into its raw shape; a problem (a shape error at its path, a syntax error at
/// its line and column) when it is not one.
pub fn read_ovh_item<'s>(
    sources: &'s SourceMap,
    item: &OvhItem,
) -> Result<raw::OvhObject<'s>, Problem> {
    let Some(source) = sources.get(item.loc.source) else {
        return Err(Problem::at(item.loc, "internal error: unknown source"));
    };
    let text: &str = &source.text;
    let rest = text.get(item.start..).unwrap_or_default();
    // The fast read first; only a failed one is read again, with the path tracked, to say where.
    let mut de = serde_json::Deserializer::from_str(rest);
    if let Ok(obj) = serde::Deserialize::deserialize(&mut de) {
        return Ok(obj);
    }
    let mut de = serde_json::Deserializer::from_str(rest);
    match serde_path_to_error::deserialize::<_, raw::OvhObject>(&mut de) {
        Ok(obj) => Ok(obj),
        Err(e) => {
            let pointer = format!("{}{}", item.loc.pointer(), pointer_of_path(e.path()));
            Err(json_problem_at(
                Loc::new(item.loc.source, pointer),
                &e.into_inner(),
                text,
                item.start,
            ))
        }
    }
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
        if path == STDIN {
            match read_bytes(path, self.limits.max_file_bytes) {
                Ok(bytes) if bytes.len() as u64 > self.limits.max_file_bytes => {
                    self.problems
                        .push(self.too_big(STDIN_NAME.to_owned(), bytes.len() as u64));
                }
                Ok(bytes) => self.add_bytes(STDIN_NAME, bytes, role),
                Err(e) => self.problems.push(Problem::file(
                    STDIN_NAME,
                    format!("cannot read: {}", io_why(&e)),
                )),
            }
            return;
        }
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

    /// A snapshot directory written by `policy-sim export` (it holds a `snapshot.json`): its account file
    /// (which, for OUTSCALE, carries every policy) and, for OVHcloud, the `GET /v2/iam/*` dumps. The raw
    /// `/1.0` and `Read*` answers beside them are what the account file was made from, and are not read
    /// again. Returns false when `dir` is not a snapshot.
    fn add_snapshot(&mut self, dir: &Path, role: Role, seen: &mut HashSet<PathBuf>) -> bool {
        let manifest = dir.join("snapshot.json");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        if v.get("policySimSnapshot").is_none() {
            return false;
        }
        let account = v
            .get("accountFile")
            .and_then(|a| a.as_str())
            .unwrap_or("account.json");
        let account = dir.join(account);
        if account.is_file() {
            self.add_existing(&account, Role::Account, seen);
        }
        if v.get("cloud").and_then(|c| c.as_str()) == Some("ovhcloud") {
            let iam = dir.join("ovhcloud").join("v2").join("iam");
            if iam.is_dir() {
                self.add_existing(&iam, role, seen);
            } else {
                self.problems.push(Problem::file(
                    dir.display().to_string(),
                    "this OVHcloud snapshot has no `ovhcloud/v2/iam/` folder: it holds no policy",
                ));
            }
        }
        true
    }

    fn add_existing(&mut self, path: &Path, role: Role, seen: &mut HashSet<PathBuf>) {
        let name = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                let why = match std::fs::read_link(path) {
                    Ok(target) if e.kind() == std::io::ErrorKind::NotFound => format!(
                        "broken symbolic link: it points to `{}`, which does not exist; expected a file or directory",
                        target.display()
                    ),
                    _ => format!("cannot read: {}", io_why(&e)),
                };
                self.problems.push(Problem::file(name, why));
                return;
            }
        };
        if meta.is_dir() && role != Role::Account && self.add_snapshot(path, role, seen) {
            return;
        }
        if meta.is_dir() {
            // The directory the user named (not one found inside it) must hold something.
            let top = seen.is_empty();
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            if !seen.insert(canonical.clone()) {
                self.problems.push(
                    Problem::file(
                        name,
                        format!(
                            "symbolic link loop: this directory leads back to `{}`, which is already being read; expected each directory once",
                            canonical.display()
                        ),
                    )
                    .help("every file below it was read once; remove the link, or pass the directories it points to"),
                );
                return;
            }
            let before = self.files.len() + self.problems.len();
            let mut entries: Vec<PathBuf> = Vec::new();
            match std::fs::read_dir(path) {
                Ok(rd) => {
                    for e in rd {
                        match e {
                            Ok(e) => entries.push(e.path()),
                            Err(e) => self.problems.push(Problem::file(
                                name.clone(),
                                format!("cannot list the directory: {}", io_why(&e)),
                            )),
                        }
                    }
                }
                Err(e) => {
                    self.problems.push(Problem::file(
                        name,
                        format!("cannot read the directory: {}", io_why(&e)),
                    ));
                    return;
                }
            };
            entries.sort();
            for entry in entries {
                let json = entry
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"));
                if entry.is_dir() || json {
                    self.add_existing(&entry, role, seen);
                } else if std::fs::symlink_metadata(&entry).is_ok() && !entry.exists() {
                    // A broken link might have been meant to reach a policy: say so.
                    self.add_existing(&entry, role, seen);
                }
            }
            if top && self.files.len() + self.problems.len() == before {
                self.problems.push(
                    Problem::file(name, "the directory holds no `*.json` file")
                        .help("pass the files holding the policies, or the directory they are in"),
                );
            }
            return;
        }
        // A FIFO named on the command line (`/dev/stdin`, `<(...)`) ends when its writer closes it; one met
        // while walking a directory might never be written to. A device could be endless.
        let readable = meta.is_file() || (is_fifo(&meta) && seen.is_empty());
        if !readable {
            self.problems.push(
                Problem::file(
                    name,
                    format!(
                        "not a regular file ({}); expected a JSON file",
                        file_kind(&meta)
                    ),
                )
                .help("policy-sim reads regular files, and pipes named on the command line (`-` is standard input); copy the content to a file first"),
            );
            return;
        }
        if meta.len() > self.limits.max_file_bytes {
            self.problems.push(self.too_big(name, meta.len()));
            return;
        }
        // Read at most one byte over the limit: the file may have grown since `metadata`.
        let read = std::fs::File::open(path).and_then(|f| {
            use std::io::Read;
            // Sized to the file (and one byte more, to see it end): no doubling, no spare capacity.
            let mut bytes =
                Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
            f.take(self.limits.max_file_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .map(|_| bytes)
        });
        match read {
            Ok(bytes) if bytes.len() as u64 > self.limits.max_file_bytes => {
                self.problems.push(self.too_big(name, bytes.len() as u64));
            }
            Ok(bytes) => self.add_bytes(&name, bytes, role),
            Err(e) => self
                .problems
                .push(Problem::file(name, format!("cannot read: {}", io_why(&e)))),
        }
    }

    fn too_big(&self, name: String, size: u64) -> Problem {
        Problem::file(
            name,
            format!(
                "file is {size} bytes, over the limit of {} bytes",
                self.limits.max_file_bytes
            ),
        )
        .help("raise the limit with --max-file-size if the file is trusted")
    }

    /// Add a file's content (already read).
    pub fn add_bytes(&mut self, name: &str, bytes: Vec<u8>, role: Role) {
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bad: Vec<String> = e
                    .as_bytes()
                    .iter()
                    .skip(valid)
                    .take(e.utf8_error().error_len().unwrap_or(1).max(1))
                    .map(|b| format!("0x{b:02X}"))
                    .collect();
                // The text up to the end of the bad line, so the snippet shows where it is.
                let bytes = e.into_bytes();
                let line_end = bytes
                    .iter()
                    .skip(valid)
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |i| valid + i);
                let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
                let (line, column) = crate::source::line_column(&prefix, prefix.len());
                let shown =
                    String::from_utf8_lossy(bytes.get(..line_end).unwrap_or_default()).into_owned();
                self.files.push(name.to_owned());
                let id = self.sources.add(name, shown, None);
                self.problems.push(Problem {
                    message: format!(
                        "invalid UTF-8: found the byte sequence {} at byte offset {valid}, which is not UTF-8; expected a UTF-8 text (RFC 8259 §8.1)",
                        bad.join(" ")
                    ),
                    at: At::LineColumn(Loc::new(id, ""), line, column),
                    help: Some(String::from(
                        "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
                    )),
                });
                return;
            }
        };
        self.add_text(name, text, role);
    }

    /// Add a file's text.
    pub fn add_text(&mut self, name: &str, text: String, role: Role) {
        self.files.push(name.to_owned());
        // Pages of a paginated dump concatenated into one file (`cat page*.json`): one array.
        let text = match role {
            Role::Policies | Role::Any => join_pages(text),
            Role::Account => text,
        };
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
        let items = match first {
            Some(_) => match self.scan(&text, &root) {
                Some(items) => items,
                None => return,
            },
            None => Vec::new(),
        };
        match (first, role) {
            (None, _) => self.problems.push(Problem {
                message: String::from(if text.is_empty() {
                    "file is empty; expected a JSON object or array"
                } else {
                    "file is empty (white space only); expected a JSON object or array"
                }),
                at: At::LineColumn(root, 1, 1),
                help: None,
            }),
            (Some(b'['), Role::Policies | Role::Any) => {
                for (i, start) in items.into_iter().enumerate() {
                    self.ovh.push(OvhItem {
                        loc: root.index(i),
                        start,
                    });
                }
            }
            (Some(b'{'), _) => self.add_object(name, &text, root, role),
            (Some(_), Role::Account) => {
                if let Some(v) = self.parse::<serde_json::Value>(&text, &root) {
                    self.problems.push(
                        Problem::at(
                            root,
                            format!("an account file is a JSON object, found {}", kind_of(&v)),
                        )
                        .help(ACCOUNT_HELP),
                    );
                }
            }
            (Some(_), Role::Policies | Role::Any) => {
                // Not an object or array: let the JSON parser say what is wrong, or say what was expected.
                if let Some(v) = self.parse::<serde_json::Value>(&text, &root) {
                    self.problems.push(Problem::at(
                        root,
                        format!(
                            "expected a JSON object or an array of policies, found {}",
                            kind_of(&v)
                        ),
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
        let (eim_account, ovh_account) = account_keys(&keys);
        let role = match role {
            Role::Any if eim_account || ovh_account => Role::Account,
            Role::Any => Role::Policies,
            r => r,
        };
        // A `Read*` list answer of policies alone says nothing of who they apply to, or lacks their documents.
        let bare_policies = is_bare_policy_list(&keys);
        if bare_policies {
            if let Some(v) = self.parse::<serde_json::Value>(text, &root) {
                let items = v
                    .get("Policies")
                    .and_then(|p| p.as_array())
                    .cloned()
                    .unwrap_or_default();
                if items.iter().any(|i| i.get("Body").is_some()) {
                    self.problems.push(
                        Problem::at(root, "this is a `ReadUserGroupPolicies` answer: inline policies of a user group that the answer does not name")
                            .help("put them in an account file under that group's `InlinePolicies` (see README, \"Account files\"), or export the whole account with `policy-sim export outscale`"),
                    );
                    return;
                }
                if !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.get("Versions").is_none() && i.get("Document").is_none())
                {
                    self.problems.push(
                        Problem::at(root, "this is a `ReadLinkedPolicies` (or `ReadManagedPoliciesLinkedToUserGroup`) answer: the managed policies linked to a user or group, without their documents or whom they are linked to")
                            .help("put them in an account file under that user's or group's `LinkedPolicies`, with each policy's `ReadPolicyVersion` under `Policies`, or export the whole account with `policy-sim export outscale`"),
                    );
                    return;
                }
            }
        }
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
            Role::Policies | Role::Any if has("Policy") && !has("Statement") => self.problems.push(
                Problem::at(root, "this is a `ReadPolicy` answer: a managed policy's description, without its document")
                    .help("pass `ReadPolicyVersion` of its default version (`PolicyDefaultVersionId`), or export the whole account with `policy-sim export outscale`"),
            ),
            Role::Policies | Role::Any if has("PolicyNames") => self.problems.push(
                Problem::at(root, "this is a `ReadUserPolicies` answer: the names of a user's inline policies, without their documents")
                    .help("pass `ReadUserPolicy` of each name, or export the whole account with `policy-sim export outscale`"),
            ),
            Role::Policies if has("Statement") => {
                if let Some(doc) = self.parse::<raw::EimDocument>(text, &root) {
                    let stem = Path::new(name).file_stem().map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
                    self.eim_documents.push((doc, root, stem));
                }
            }
            Role::Policies if has("PolicyVersion") || has("PolicyDocument") => {
                // ReadPolicyVersion / ReadUserPolicy output: the document is a JSON string inside.
                if let Some(w) = self.parse::<raw::EimWrapped>(text, &root) {
                    let (value, at, label) = match (w.version, w.document) {
                        (Some(_), Some(_)) => {
                            self.problems.push(Problem::at(root, "found both `PolicyVersion` and `PolicyDocument`; expected the output of one call (ReadPolicyVersion or ReadUserPolicy)"));
                            return;
                        }
                        (Some(v), None) => (v.body, root.key("PolicyVersion").key("Body"), format!("{} {}", w.name.as_deref().unwrap_or(name), v.version_id)),
                        (None, Some(d)) => (d, root.key("PolicyDocument"), w.name.unwrap_or_else(|| name.to_owned())),
                        (None, None) => {
                            self.problems.push(Problem::at(root, "found `PolicyVersion` or `PolicyDocument` set to null; expected a policy document"));
                            return;
                        }
                    };
                    if let Some((doc, loc)) = self.embedded_document(value, at) {
                        self.eim_documents.push((doc, loc, label));
                    }
                }
            }
            Role::Policies | Role::Any => self.ovh.push(OvhItem {
                loc: root,
                start: 0,
            }),
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
                    self.problems.push(Problem::at(at, "the policy document string is empty; expected a JSON document `{\"Statement\": [...]}`"));
                    return None;
                }
                self.scan(&text, &root)?;
                self.parse::<raw::EimDocument>(&text, &root)
                    .map(|d| (d, root))
            }
            serde_json::Value::Object(_) => {
                match serde_path_to_error::deserialize::<_, raw::EimDocument>(value) {
                    Ok(doc) => Some((doc, at)),
                    Err(e) => {
                        let pointer = format!("{}{}", at.pointer(), pointer_of_path(e.path()));
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

    /// Walk a text before parsing it ([`scan::check`]): where the elements of a top-level array start, or
    /// `None` (with every problem recorded) when it has duplicate keys, nesting over the limit or an
    /// overlong string.
    fn scan(&mut self, text: &str, root: &Loc) -> Option<Vec<usize>> {
        // A large clean array is walked on two cores; anything else (or a split that cannot prove itself)
        // by the one walk that words the problems.
        if let Some(items) = split::check_items(text, self.limits.scan()) {
            return Some(items);
        }
        let found = scan::check(text, self.limits.scan());
        if found.issues.is_empty() && found.complete {
            return Some(found.items);
        }
        // A walk that stopped early has not seen every item (`[{...} {...}]`, trailing text): the text
        // is refused whole, never read in part.
        let before = self.problems.len();
        let lines = scan::LineIndex::new(text);
        for issue in found.issues {
            self.problems
                .push(scan_problem(root.source, text, &lines, issue));
        }
        if !found.complete {
            // The walk stopped early: at the depth limit (said), or at a syntax error serde_json words.
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                if !e.is_data() && !e.to_string().contains("recursion limit") {
                    self.problems.push(json_problem(*root, &e, text));
                }
            }
            if self.problems.len() == before {
                // Nothing said yet (serde_json read it): still never read a text in part.
                self.problems.push(Problem::at(
                    *root,
                    "the text could not be read to its end; expected one JSON value",
                ));
            }
        }
        None
    }

    /// Parse a text typed; on failure record a located problem and return None.
    fn parse<T: DeserializeOwned>(&mut self, text: &str, root: &Loc) -> Option<T> {
        let mut de = serde_json::Deserializer::from_str(text);
        let result = serde_path_to_error::deserialize::<_, T>(&mut de);
        match result {
            Ok(v) => match de.end() {
                Ok(()) => Some(v),
                Err(e) => {
                    self.problems.push(json_problem(*root, &e, text));
                    None
                }
            },
            Err(e) => {
                let pointer = format!("{}{}", root.pointer(), pointer_of_path(e.path()));
                let inner = e.into_inner();
                self.problems
                    .push(json_problem(Loc::new(root.source, pointer), &inner, text));
                None
            }
        }
    }
}

/// One `--requests` line → a request, or why not, in the words of the other input errors (what was found,
/// what was expected, the column). The line gets the same checks as a file: a duplicate key, deep nesting
/// or an overlong string is refused, and only a JSON object is a request (serde's derive would also read
/// `["identity", "action", "resource"]` as one, field by field).
pub fn request_line(line: &str, limits: &Limits) -> Result<crate::model::request::Request, String> {
    // The plain form, within the limits, needs none of the checks below.
    let (max_string, max_depth) = (
        limits.max_string_bytes,
        limits.max_depth.min(MAX_DEPTH_CEILING),
    );
    if let Some(r) = crate::model::request::RequestRef::parse_plain(line, max_string, max_depth) {
        return Ok(r.to_owned());
    }
    let at_column = |offset: usize| {
        let (_, column) = scan::LineIndex::new(line).line_column(line, offset);
        format!(" (column {column})")
    };
    let found = scan::check(line, limits.scan());
    if let Some(issue) = found.issues.first() {
        return Err(match issue {
            scan::Issue::DuplicateKey { key, offset, .. } => format!(
                "duplicate key `{key}`{}; expected each key once (JSON parsers disagree on which one wins)",
                at_column(*offset)
            ),
            scan::Issue::TooDeep { offset, limit, .. } => format!(
                "JSON nested too deeply: more than {limit} levels{}; expected a request object",
                at_column(*offset)
            ),
            scan::Issue::LongString {
                offset, len, limit, ..
            } => format!(
                "string of {len} bytes, over the limit of {limit} bytes{}",
                at_column(*offset)
            ),
        });
    }
    let first = line.find(|c: char| !c.is_ascii_whitespace());
    match first
        .and_then(|i| line.get(i..))
        .and_then(|s| s.chars().next())
    {
        Some('{') => {}
        _ if !found.complete => {}
        _ => {
            let value = serde_json::from_str::<serde_json::Value>(line)
                .map(|v| kind_of(&v))
                .unwrap_or("something else");
            return Err(format!(
                "expected a request object `{{\"identity\", \"action\", \"resource\", \"context\"?, \"at\"?}}`, found {value}"
            ));
        }
    }
    serde_json::from_str(line).map_err(|e| {
        let lines = scan::LineIndex::new(line);
        let offset = lines.offset_of_byte_column(line, e.line(), e.column());
        let message = match e.classify() {
            serde_json::error::Category::Data => {
                shape_problem(
                    Loc::new(SourceId(0), ""),
                    &e.to_string().replace("struct Request", "a request object"),
                )
                .message
            }
            _ => syntax_message(
                &strip_position(&e.to_string()),
                line.get(offset..).and_then(|s| s.chars().next()),
            ),
        };
        format!("{message}{}", at_column(offset))
    })
}

/// Whether an object with these top-level keys is an OUTSCALE account file, or an OVHcloud one.
fn account_keys(keys: &[String]) -> (bool, bool) {
    let has = |k: &str| keys.iter().any(|x| x == k);
    let eim = has("Users") || has("UserGroups") || has("Policies") || has("AccountId");
    let ovh = has("account") && (has("users") || has("groups") || has("oauth2Clients"));
    (eim, ovh)
}

/// A `Read*` list answer of policies alone: `Policies` and the answer's paging fields, nothing else.
fn is_bare_policy_list(keys: &[String]) -> bool {
    keys.iter().any(|k| k == "Policies")
        && keys.iter().all(|k| {
            matches!(
                k.as_str(),
                "Policies"
                    | "ResponseContext"
                    | "HasMoreItems"
                    | "MaxResultsLimit"
                    | "MaxResultsTruncated"
            )
        })
}

/// Whether `path` is one account file (OUTSCALE or OVHcloud), as the loader would read it with
/// [`Role::Any`]: `audit diff OLD NEW` takes such a file as that side's account. Anything else
/// (a directory, a glob, stdin, a policy file, an unreadable or broken file) is `false`, and the
/// loader says what is wrong with it when it reads it as policies.
pub fn is_account_file(path: &str) -> bool {
    let p = Path::new(path);
    if path == STDIN || !p.is_file() {
        return false;
    }
    let Ok(bytes) = std::fs::read(p) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    if !text.trim_start().starts_with('{') {
        return false;
    }
    match serde_json::from_str::<raw::TopKeys>(text) {
        Ok(raw::TopKeys(keys)) => {
            let (eim, ovh) = account_keys(&keys);
            let bare_policies = is_bare_policy_list(&keys);
            ovh || (eim && !bare_policies)
        }
        Err(_) => false,
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

/// Why an I/O operation failed, in words (without the OS error number).
fn io_why(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text.get(..i).unwrap_or(&text).to_owned(),
        None => text,
    };
    match e.kind() {
        std::io::ErrorKind::NotFound => String::from("no such file or directory"),
        std::io::ErrorKind::PermissionDenied => {
            String::from("permission denied; expected a file policy-sim may read")
        }
        _ if text.contains("symbolic links") => {
            format!("{}: a symbolic link loop", text.to_lowercase())
        }
        _ => text.to_lowercase(),
    }
}

/// A named pipe: `/dev/stdin` under a pipe, a shell's `<(...)`.
fn is_fifo(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// What a non-regular, non-directory file is.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        } else if t.is_socket() {
            return "a socket";
        } else if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "a special file"
}

/// A [`scan`] issue as a problem, at the line and column of the offending key, value or bracket.
fn scan_problem(
    source: SourceId,
    text: &str,
    lines: &scan::LineIndex,
    issue: scan::Issue,
) -> Problem {
    let at = |pointer: String, offset: usize| {
        let (line, column) = lines.line_column(text, offset);
        At::LineColumn(Loc::new(source, pointer), line, column)
    };
    match issue {
        scan::Issue::DuplicateKey {
            key,
            pointer,
            offset,
            first,
        } => {
            let (l, c) = lines.line_column(text, first);
            Problem {
                message: format!("duplicate key `{key}`: the same object already has it at line {l} column {c}; expected each key once"),
                at: at(pointer, offset),
                help: Some(String::from("JSON parsers disagree on which of two equal keys wins, so policy-sim refuses to guess: remove one")),
            }
        }
        scan::Issue::TooDeep {
            pointer,
            offset,
            limit,
        } => Problem {
            message: format!("JSON nested too deeply: more than {limit} levels of arrays and objects; expected a policy (about 20 levels at most)"),
            at: at(pointer, offset),
            help: Some(String::from("no policy is nested this deep; the limit keeps untrusted files from exhausting the stack")),
        },
        scan::Issue::LongString {
            pointer,
            offset,
            len,
            limit,
            is_key,
        } => Problem {
            message: format!(
                "{} of {len} bytes, over the limit of {limit} bytes",
                if is_key { "key" } else { "string" }
            ),
            at: at(pointer, offset),
            help: Some(String::from("no policy field is this long; the limit keeps untrusted files from exhausting memory")),
        },
    }
}

/// A serde_json error as a problem: syntax errors at their line and column, shape errors at their path.
fn json_problem(loc: Loc, e: &serde_json::Error, text: &str) -> Problem {
    json_problem_at(loc, e, text, 0)
}

/// [`json_problem`] for an error of a parse of `text` from byte `base` on (serde_json's line and column
/// count from there).
fn json_problem_at(loc: Loc, e: &serde_json::Error, text: &str, base: usize) -> Problem {
    use serde_json::error::Category;
    let message = strip_position(&e.to_string());
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            let lines = scan::LineIndex::new(text);
            let rest = text.get(base..).unwrap_or_default();
            let mut offset =
                base + scan::LineIndex::new(rest).offset_of_byte_column(rest, e.line(), e.column());
            if message.starts_with("control character") {
                // serde_json points just before the character here.
                if let Some(i) = text
                    .get(offset..)
                    .and_then(|s| s.bytes().take(8).position(|b| b < 0x20))
                {
                    offset += i;
                }
            }
            let found = text.get(offset..).and_then(|s| s.chars().next());
            let message = if message.contains("recursion limit") {
                format!("JSON nested too deeply (more than {MAX_DEPTH_CEILING} levels)")
            } else {
                syntax_message(&message, found)
            };
            // serde_json counts columns in bytes; the caret counts characters.
            let (line, column) = if e.line() == 0 {
                (1, 1)
            } else {
                lines.line_column(text, offset)
            };
            Problem {
                message,
                at: At::LineColumn(Loc::new(loc.source, ""), line, column),
                help: None,
            }
        }
        Category::Data => {
            let mut p = shape_problem(loc, &message);
            if e.line() > 0 && loc.is_root() {
                let lines = scan::LineIndex::new(text);
                let rest = text.get(base..).unwrap_or_default();
                let offset = base
                    + scan::LineIndex::new(rest).offset_of_byte_column(rest, e.line(), e.column());
                let (line, column) = lines.line_column(text, offset);
                p.at = At::LineColumn(loc, line, column);
            }
            p
        }
    }
}

/// serde_json's syntax message, with what was found where it stopped.
fn syntax_message(message: &str, found: Option<char>) -> String {
    if let Some(what) = message.strip_prefix("EOF while parsing ") {
        return format!("invalid JSON: the text ends inside {what}; expected the rest of it (is the file truncated?)");
    }
    let found = match found {
        None => String::from("the end of the text"),
        Some(c) => describe_char(c),
    };
    if message == "trailing characters" {
        return format!(
            "invalid JSON: found {found} after the end of the JSON value; expected nothing more"
        );
    }
    if message.starts_with("control character") {
        return format!("invalid JSON: found {found} inside a string; expected control characters to be escaped (`\\n`, `\\u0000`)");
    }
    if message == "key must be a string" && found.starts_with("`}`") {
        return String::from("invalid JSON: found `}` after a comma; expected another `\"key\": value` (JSON allows no trailing comma)");
    }
    let message = match message {
        "expected ident" => "expected `true`, `false` or `null`",
        m => m,
    };
    format!("invalid JSON: {message}, found {found}")
}

/// A character as a message shows it: printable ones in backticks, the others by code point.
fn describe_char(c: char) -> String {
    match c {
        '\0' => String::from("a NUL byte (U+0000)"),
        '\u{feff}' => String::from("a byte order mark (U+FEFF)"),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c if c.is_whitespace() => format!("the white space U+{:04X}", c as u32),
        c if !c.is_ascii() => format!("`{c}` (U+{:04X})", c as u32),
        c => format!("`{c}`"),
    }
}

/// A shape error (wrong type, missing or unknown field), with a "did you mean" for unknown fields.
pub fn shape_problem(loc: Loc, message: &str) -> Problem {
    // serde's words for JSON's: a "sequence" is an array, a "map" an object.
    let message = strip_position(message)
        .replace("invalid type: sequence,", "invalid type: array,")
        .replace("invalid type: map,", "invalid type: object,")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected an object");
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

/// `[...]\n[...]`, JSON arrays one after the other (the pages of a paginated list, concatenated), made into
/// one array in place: each `]` between two pages becomes `,`, the next `[` a space, and an empty page white
/// space, so every byte keeps its offset (line and column of every problem stay right). Anything else is
/// returned as it was. Only texts holding `]` then `[` with nothing but white space between (never valid
/// JSON outside a string) are parsed for it.
fn join_pages(text: String) -> String {
    let b = text.as_bytes();
    let mut candidate = false;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b']', b.get(i..).unwrap_or_default()) {
        let after = i + off + 1;
        let next = b
            .get(after..)
            .unwrap_or_default()
            .iter()
            .find(|c| !c.is_ascii_whitespace());
        if next == Some(&b'[') {
            candidate = true;
            break;
        }
        i = after;
    }
    if !candidate {
        return text;
    }
    let mut spans = Vec::new();
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<serde::de::IgnoredAny>();
    loop {
        let before = values.byte_offset();
        match values.next() {
            None => break,
            Some(Ok(_)) => spans.push((before, values.byte_offset())),
            Some(Err(_)) => return text,
        }
    }
    if spans.len() < 2 {
        return text;
    }
    // (start of `[`, end after `]`, empty)
    let mut arrays = Vec::new();
    for (from, to) in spans {
        let Some(piece) = text.get(from..to) else {
            return text;
        };
        let Some(lead) = piece.find(|c: char| !c.is_whitespace()) else {
            return text;
        };
        let start = from + lead;
        let inner = text
            .get(start + 1..to.saturating_sub(1))
            .unwrap_or_default();
        if b.get(start) != Some(&b'[') || b.get(to.saturating_sub(1)) != Some(&b']') {
            return text;
        }
        arrays.push((start, to, inner.trim().is_empty()));
    }
    let mut out = text.clone().into_bytes();
    let blank = |from: usize, to: usize, out: &mut Vec<u8>| {
        for c in out.get_mut(from..to).into_iter().flatten() {
            if !c.is_ascii_whitespace() {
                *c = b' ';
            }
        }
    };
    let non_empty: Vec<(usize, usize)> =
        arrays.iter().filter(|a| !a.2).map(|a| (a.0, a.1)).collect();
    if non_empty.is_empty() {
        // Every page empty: the first stays `[]`.
        for &(from, to, _) in arrays.iter().skip(1) {
            blank(from, to, &mut out);
        }
    } else {
        for &(from, to, empty) in &arrays {
            if empty {
                blank(from, to, &mut out);
            }
        }
        for pair in non_empty.windows(2) {
            if let [(_, prev_end), (next_start, _)] = pair {
                if let Some(c) = out.get_mut(prev_end - 1) {
                    *c = b',';
                }
                if let Some(c) = out.get_mut(*next_start) {
                    *c = b' ';
                }
            }
        }
    }
    String::from_utf8(out).unwrap_or(text)
}

pub use crate::suggest::{closest, edit_distance};

/// The id a source was given.
pub fn source_of(loc: &Loc) -> SourceId {
    loc.source
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn request_lines_are_objects_with_unique_keys() {
        let limits = Limits::default();
        let ok = r#"{"identity": "u", "action": "api:ReadVms"}"#;
        assert_eq!(request_line(ok, &limits).unwrap().action, "api:ReadVms");
        let array = r#"["urn:v1:eu:identity:user:xx1111-ovh/u", "vps:apiovh:reboot", "urn:v1:eu:resource:vps:v"]"#;
        assert!(request_line(array, &limits)
            .unwrap_err()
            .ends_with("found an array"));
        let dup = r#"{"action": "a", "action": "b"}"#;
        assert!(request_line(dup, &limits)
            .unwrap_err()
            .starts_with("duplicate key `action` (column 17)"));
        let missing = r#"{"identity": "u"}"#;
        assert_eq!(
            request_line(missing, &limits).unwrap_err(),
            "missing field `action` (column 17)"
        );
        let truncated = r#"{"action": "a"#;
        assert!(request_line(truncated, &limits)
            .unwrap_err()
            .starts_with("invalid JSON: the text ends inside a string"));
        assert!(request_line("42", &limits)
            .unwrap_err()
            .ends_with("found a number"));
    }
}
