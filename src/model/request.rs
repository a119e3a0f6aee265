//! A request: may identity X do action Y on resource Z, in this context, at this time?

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A request as the user gives it (command line or one `--requests` line); checked by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub context: IndexMap<String, String>,
    /// RFC 3339; the engine's default time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Request {
    pub fn new(identity: Option<&str>, action: &str, resource: Option<&str>) -> Self {
        Request {
            identity: identity.map(str::to_owned),
            action: action.to_owned(),
            resource: resource.map(str::to_owned),
            context: IndexMap::new(),
            at: None,
        }
    }
}

/// A request borrowed from its text: what [`RequestRef::parse_plain`] reads from a `--requests` line
/// without copying, or a view of a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestRef<'a> {
    pub identity: Option<&'a str>,
    pub action: &'a str,
    pub resource: Option<&'a str>,
    /// In the order written.
    pub context: Vec<(&'a str, &'a str)>,
    pub at: Option<&'a str>,
}

impl<'a> From<&'a Request> for RequestRef<'a> {
    fn from(r: &'a Request) -> Self {
        RequestRef {
            identity: r.identity.as_deref(),
            action: &r.action,
            resource: r.resource.as_deref(),
            context: r.context.iter().map(|(k, v)| (&**k, &**v)).collect(),
            at: r.at.as_deref(),
        }
    }
}

impl RequestRef<'_> {
    pub fn to_owned(&self) -> Request {
        Request {
            identity: self.identity.map(str::to_owned),
            action: self.action.to_owned(),
            resource: self.resource.map(str::to_owned),
            context: self
                .context
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            at: self.at.map(str::to_owned),
        }
    }
}

impl<'a> RequestRef<'a> {
    /// Read a request line written in the plain form — a JSON object whose members are among `identity`,
    /// `action`, `resource`, `at` (strings) and `context` (an object of strings), each at most once, with
    /// `action`, no escape sequence, no `null`, no duplicate context key — without copying it.
    ///
    /// `None` for anything else, valid or not: the caller then reads the line with
    /// [`crate::load::request_line`], which accepts every valid request and words every error. Whatever
    /// this accepts, that reads the same way.
    ///
    /// `max_string_bytes` and `max_depth` are the reader's limits (`load::Limits`): a line that could break
    /// them (longer than `max_string_bytes`, or `max_depth` under the 2 levels of a context) is not read here.
    pub fn parse_plain(line: &'a str, max_string_bytes: usize, max_depth: usize) -> Option<Self> {
        if line.len() > max_string_bytes || max_depth < 2 {
            return None;
        }
        let mut p = Plain {
            s: line.as_bytes(),
            text: line,
            i: 0,
        };
        let mut req = RequestRef::default();
        let mut action = None;
        let mut seen = 0u8;
        p.ws();
        p.eat(b'{')?;
        p.ws();
        if p.eat(b'}').is_none() {
            loop {
                let key = p.string()?;
                p.ws();
                p.eat(b':')?;
                p.ws();
                let bit = match key {
                    "identity" => 1,
                    "action" => 2,
                    "resource" => 4,
                    "context" => 8,
                    "at" => 16,
                    _ => return None,
                };
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                match bit {
                    1 => req.identity = Some(p.string()?),
                    2 => action = Some(p.string()?),
                    4 => req.resource = Some(p.string()?),
                    16 => req.at = Some(p.string()?),
                    _ => req.context = p.context()?,
                }
                p.ws();
                if p.eat(b',').is_some() {
                    p.ws();
                    continue;
                }
                p.eat(b'}')?;
                break;
            }
        }
        p.ws();
        if p.i != p.s.len() {
            return None;
        }
        req.action = action?;
        Some(req)
    }
}

/// The reader behind [`RequestRef::parse_plain`].
struct Plain<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Plain<'a> {
    /// JSON white space.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&b)).then(|| self.i += 1)
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = memchr::memchr2(b'"', b'\\', self.s.get(start..)?)?;
        self.i = start + len;
        let bytes = self.s.get(start..self.i)?;
        // The least byte (a reduction the compiler vectorizes), rather than a search for the first control
        // character: there is none in nearly every line.
        let control = bytes.iter().copied().min().is_some_and(|b| b < 0x20);
        if self.s.get(self.i) != Some(&b'"') || control {
            return None;
        }
        let s = self.text.get(start..self.i)?;
        self.i += 1;
        Some(s)
    }

    /// `{"key": "value", ...}` with distinct keys.
    fn context(&mut self) -> Option<Vec<(&'a str, &'a str)>> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(out);
        }
        loop {
            let k = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let v = self.string()?;
            if out.iter().any(|(x, _)| *x == k) {
                return None;
            }
            out.push((k, v));
            self.ws();
            if self.eat(b',').is_some() {
                self.ws();
                continue;
            }
            self.eat(b'}')?;
            return Some(out);
        }
    }
}
