//! Evaluating a rule tree as oslo.policy's checks do (`oslo_policy._checks`), with a trace.
//!
//! Credentials and targets are JSON values read the way Python reads them: a generic check compares the
//! text of its match with `str()` of the credential (`True`, `None`, `['a', 'b']`), a list in the path is
//! searched element by element, and a `%(key)s` the target lacks makes the check false. Where oslo.policy
//! would raise an exception (a `KIND` that is not valid Python, a path through a string, a malformed `%`),
//! evaluation stops with a [`Raised`] error instead of guessing.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use super::parse::Check;

/// The rules in force, by name, and the name of the rule used for a missing one (`default`).
pub trait Rules {
    /// The rule `name`, or `None` when it is not defined (before the default rule is tried).
    fn get(&self, name: &str) -> Option<&Check>;
    /// The rule oslo.policy falls back on for an undefined name (its `policy_default_rule`).
    fn default_rule(&self) -> Option<&str>;

    /// `Rules.__missing__`: the named rule, else the default rule when it is itself defined.
    fn lookup(&self, name: &str) -> Option<(&Check, bool)> {
        if let Some(c) = self.get(name) {
            return Some((c, false));
        }
        let d = self.default_rule()?;
        self.get(d).map(|c| (c, true))
    }
}

impl Rules for IndexMap<String, Check> {
    fn get(&self, name: &str) -> Option<&Check> {
        IndexMap::get(self, name)
    }
    fn default_rule(&self) -> Option<&str> {
        Some("default")
    }
}

/// Where oslo.policy would raise an exception instead of answering (the service would fail the request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Raised(pub String);

/// One evaluated node of the rule tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The check as oslo.policy prints it (`role:reader`, `rule:project_reader`, `(a or b)`).
    pub check: String,
    /// Its value; `None` when it was not evaluated (an `or` already true, an `and` already false).
    pub value: Option<bool>,
    /// Whether this node decided its parent's value (the first true part of an `or`, the first false part
    /// of an `and`, every part otherwise).
    pub decisive: bool,
    /// Why a leaf has its value (`token roles: reader, member`, `target has no project_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Trace>,
}

impl Trace {
    fn leaf(check: String, value: bool, why: String) -> Trace {
        Trace {
            check,
            value: Some(value),
            decisive: true,
            why: Some(why),
            children: Vec::new(),
        }
    }
}

/// The deepest `rule:` chain followed before giving up (oslo.policy recurses until Python's limit).
const MAX_DEPTH: usize = 64;

/// Evaluate `check` for these credentials and this target.
pub fn evaluate(
    check: &Check,
    rules: &dyn Rules,
    target: &Map<String, Value>,
    creds: &Map<String, Value>,
) -> Result<Trace, Raised> {
    eval(check, rules, target, creds, 0)
}

fn eval(
    check: &Check,
    rules: &dyn Rules,
    target: &Map<String, Value>,
    creds: &Map<String, Value>,
    depth: usize,
) -> Result<Trace, Raised> {
    let text = check.to_string();
    Ok(match check {
        Check::True => Trace::leaf(text, true, "`@` is always true".into()),
        Check::False => Trace::leaf(text, false, "`!` is always false".into()),
        Check::Not(inner) => {
            let child = eval(inner, rules, target, creds, depth)?;
            let value = child.value.map(|v| !v);
            Trace {
                check: text,
                value,
                decisive: true,
                why: None,
                children: vec![child],
            }
        }
        Check::And(cs) | Check::Or(cs) => {
            let is_or = matches!(check, Check::Or(_));
            let mut children = Vec::with_capacity(cs.len());
            let mut decided = None;
            for c in cs {
                if decided.is_some() {
                    children.push(Trace {
                        check: c.to_string(),
                        value: None,
                        decisive: false,
                        why: Some("not evaluated".into()),
                        children: Vec::new(),
                    });
                    continue;
                }
                let t = eval(c, rules, target, creds, depth)?;
                if t.value == Some(is_or) {
                    decided = Some(children.len());
                }
                children.push(t);
            }
            let value = if decided.is_some() { is_or } else { !is_or };
            if let Some(i) = decided {
                for (j, c) in children.iter_mut().enumerate() {
                    c.decisive = j == i;
                }
            }
            Trace {
                check: text,
                value: Some(value),
                decisive: true,
                why: None,
                children,
            }
        }
        Check::Rule(name) => {
            if depth >= MAX_DEPTH {
                return Err(Raised(format!(
                    "`rule:{name}` is part of a cycle of rule references (oslo.policy raises RecursionError)"
                )));
            }
            match rules.lookup(name) {
                None => Trace::leaf(
                    text,
                    false,
                    format!("no rule `{name}` and no `default` rule: false"),
                ),
                Some((c, via_default)) => {
                    let child = eval(c, rules, target, creds, depth + 1)?;
                    let why = via_default.then(|| {
                        format!("no rule `{name}`: oslo.policy uses the `default` rule instead")
                    });
                    Trace {
                        check: text,
                        value: child.value,
                        decisive: true,
                        why,
                        children: vec![child],
                    }
                }
            }
        }
        Check::Role(m) => {
            let Some(matched) = format(m, target)? else {
                return Ok(missing_key(text, m, target));
            };
            let roles: Vec<&str> = match creds.get("roles") {
                Some(Value::Array(rs)) => rs.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let want = matched.to_lowercase();
            let value = roles.iter().any(|r| r.to_lowercase() == want);
            let why = if roles.is_empty() {
                "the token has no roles".to_owned()
            } else {
                format!(
                    "token roles: {} (compared case-insensitively)",
                    roles.join(", ")
                )
            };
            Trace::leaf(text, value, why)
        }
        Check::Generic { kind, matched } => {
            let Some(matched) = format(matched, target)? else {
                return Ok(missing_key(text, matched, target));
            };
            match classify(kind) {
                Kind::Literal(lit) => Trace::leaf(
                    text,
                    matched == lit,
                    format!("the literal `{kind}` reads as `{lit}`; the match is `{matched}`"),
                ),
                Kind::Path(segments) => {
                    let value = find(&Value::Object(creds.clone()), &segments, &matched, kind)?;
                    let shown = lookup_shown(creds, &segments);
                    Trace::leaf(
                        text,
                        value,
                        format!("credential `{kind}` is {shown}; the match is `{matched}`"),
                    )
                }
                Kind::Invalid(why) => {
                    return Err(Raised(format!(
                    "`{kind}:` {why} (oslo.policy raises SyntaxError when it evaluates `{text}`)"
                )))
                }
            }
        }
        Check::External { .. } => {
            return Err(Raised(format!(
                "`{text}` asks a remote server at run time; policy-sim cannot know its answer"
            )))
        }
    })
}

fn missing_key(text: String, m: &str, target: &Map<String, Value>) -> Trace {
    let keys: Vec<&str> = target.keys().map(String::as_str).collect();
    let why = format!(
        "`{m}` names a target key the target lacks (target keys: {}): false",
        if keys.is_empty() {
            "none".to_owned()
        } else {
            keys.join(", ")
        }
    );
    Trace::leaf(text, false, why)
}

fn lookup_shown(creds: &Map<String, Value>, segments: &[String]) -> String {
    let mut v: Option<&Value> = None;
    for (i, s) in segments.iter().enumerate() {
        v = if i == 0 {
            creds.get(s.as_str())
        } else {
            v.and_then(|x| x.get(s.as_str()))
        };
    }
    match v {
        None => "absent".to_owned(),
        Some(v) => format!("`{}`", py_str(v)),
    }
}

/// `_find_in_dict`: follow the dotted path through the credentials; a list is searched element by element.
fn find(value: &Value, segments: &[String], matched: &str, kind: &str) -> Result<bool, Raised> {
    let Some((key, rest)) = segments.split_first() else {
        return Ok(matched == py_str(value));
    };
    let next = match value {
        Value::Object(map) => match map.get(key.as_str()) {
            Some(v) => v,
            None => return Ok(false),
        },
        other => {
            return Err(Raised(format!(
                "the path `{kind}` goes through `{}`, which is not a mapping (oslo.policy raises TypeError)",
                py_str(other)
            )))
        }
    };
    if let Value::Array(items) = next {
        for item in items {
            if find(item, rest, matched, kind)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    find(next, rest, matched, kind)
}

/// Python's `match % target` for the forms policies use: `%(key)s` and `%%`. `Ok(None)` when a key is
/// missing (oslo.policy's KeyError: the check is false).
pub fn format(m: &str, target: &Map<String, Value>) -> Result<Option<String>, Raised> {
    if !m.contains('%') {
        return Ok(Some(m.to_owned()));
    }
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(i) = rest.find('%') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(inner) = after.strip_prefix('(') else {
            return Err(Raised(format!(
                "`{m}`: a `%` not followed by `(key)s` (oslo.policy raises a formatting error)"
            )));
        };
        // Python counts nested parentheses inside the key.
        let mut level = 1usize;
        let mut end = None;
        for (j, c) in inner.char_indices() {
            match c {
                '(' => level += 1,
                ')' => {
                    level -= 1;
                    if level == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Err(Raised(format!(
                "`{m}`: `%(` without its `)` (oslo.policy raises ValueError)"
            )));
        };
        let key = inner.get(..end).unwrap_or_default();
        let after_key = inner.get(end + 1..).unwrap_or_default();
        let Some(r) = after_key.strip_prefix('s') else {
            return Err(Raised(format!(
                "`{m}`: only the `%(key)s` conversion is supported (oslo.policy would apply Python's `%` formatting)"
            )));
        };
        match target.get(key) {
            None => return Ok(None),
            Some(v) => out.push_str(&py_str(v)),
        }
        rest = r;
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// How `ast.literal_eval` reads a check's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A Python literal, as `str()` prints it.
    Literal(String),
    /// A credential path (`project_id`, `user.domain.id`).
    Path(Vec<String>),
    /// Not valid Python (or a form policy-sim does not read): why.
    Invalid(String),
}

const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Classify a kind as `GenericCheck` does: `ast.literal_eval(kind)` first, the dotted path otherwise.
pub fn classify(kind: &str) -> Kind {
    match kind {
        "True" | "False" | "None" => return Kind::Literal(kind.to_owned()),
        _ => {}
    }
    for q in ['\'', '"'] {
        if kind.len() >= 2 && kind.starts_with(q) && kind.ends_with(q) {
            let inner = kind.get(1..kind.len() - 1).unwrap_or_default();
            if inner.contains(q) || inner.contains('\\') {
                return Kind::Invalid("is a string literal with escapes or inner quotes, which policy-sim does not read".into());
            }
            return Kind::Literal(inner.to_owned());
        }
    }
    let digits = kind
        .strip_prefix('-')
        .or_else(|| kind.strip_prefix('+'))
        .unwrap_or(kind);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            if digits.chars().all(|c| c == '0') {
                return Kind::Literal("0".into());
            }
            return Kind::Invalid("is a number with a leading zero, not valid Python".into());
        }
        let negative = kind.starts_with('-') && digits.chars().any(|c| c != '0');
        return Kind::Literal(format!("{}{digits}", if negative { "-" } else { "" }));
    }
    let segments: Vec<&str> = kind.split('.').collect();
    let valid = segments.iter().enumerate().all(|(i, s)| {
        is_identifier(s)
            && (!PY_KEYWORDS.contains(s) || (i == 0 && ["True", "False", "None"].contains(s)))
    });
    if valid {
        return Kind::Path(segments.into_iter().map(str::to_owned).collect());
    }
    if kind.is_empty() {
        return Kind::Invalid("has an empty kind".into());
    }
    Kind::Invalid("is not a Python literal nor a dotted name of credential fields".into())
}

/// Python's `str()` of a JSON value.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            (_, _, Some(f)) => format!("{f:?}"),
            _ => n.to_string(),
        },
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Python truthiness of a JSON value.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}
