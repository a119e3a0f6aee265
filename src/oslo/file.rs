//! Policy files (`policy.yaml`, or the older `policy.json`): a mapping of rule names to rules, read as
//! oslo.policy reads them (`yaml.safe_load`, so JSON is read as YAML). A rule is a string in the policy
//! language, an empty value (`@`: always true, as oslo.policy reads `None`) or the old list-of-lists syntax.
//! Each rule keeps the line and column of its key and of its value, for `lint` and for messages.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::parse::{self, Parsed};

/// A rule as the file writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleText {
    /// A string in the policy language.
    Text(String),
    /// An empty value (`name:` or `name: null`): oslo.policy reads it as `@`.
    Empty,
    /// The old list-of-lists syntax.
    List(Vec<Vec<String>>),
}

/// One rule of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRule {
    pub name: String,
    pub text: RuleText,
    pub parsed: Parsed,
    /// 1-based line and column of the key.
    pub key_at: (usize, usize),
    /// 1-based line and column of the value (of the text inside the quotes for a quoted string).
    pub value_at: (usize, usize),
    /// Whether the value is a quoted scalar (columns inside it are then offset by the quote).
    pub quoted: bool,
}

/// A policy file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// The name shown in messages (the path as given).
    pub name: String,
    pub rules: Vec<FileRule>,
}

/// Why a policy file could not be read: the message and, when known, its 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub message: String,
    pub at: Option<(usize, usize)>,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((l, c)) => write!(f, "{l}:{c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Default)]
struct Reader {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Reader {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.events.push((ev, mark));
    }
}

fn at(m: &Marker) -> (usize, usize) {
    (m.line(), m.col() + 1)
}

/// How PyYAML (YAML 1.1) resolves a plain scalar: `None` for null, `Some(kind)` for a non-string type.
fn plain_type(s: &str) -> Option<Option<&'static str>> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(None),
        "yes" | "Yes" | "YES" | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false"
        | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return Some(Some("a boolean"))
        }
        _ => {}
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
    {
        return Some(Some("a number"));
    }
    None
}

/// Read a policy file's text.
pub fn read(name: &str, text: &str) -> Result<PolicyFile, FileError> {
    let mut reader = Reader::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut reader, true).map_err(|e| FileError {
        message: format!("not valid YAML or JSON: {}", e.info()),
        at: Some((e.marker().line(), e.marker().col() + 1)),
    })?;
    let events = reader.events;
    let mut i = 0usize;
    let mut next = || {
        let e = events.get(i);
        i += 1;
        e
    };
    let mut docs = 0;
    let mut rules: Vec<FileRule> = Vec::new();
    while let Some((ev, mark)) = next() {
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart => {
                docs += 1;
                if docs > 1 {
                    return Err(FileError {
                        message: "a policy file holds one YAML document; this one has several".into(),
                        at: Some(at(mark)),
                    });
                }
            }
            Event::Scalar(s, style, _, _) if *style == TScalarStyle::Plain && plain_type(s) == Some(None) => {
                // an empty document: no rules
            }
            Event::MappingStart(..) => {
                while let Some((kev, kmark)) = next() {
                let name = match kev {
                    Event::MappingEnd => break,
                    Event::Scalar(s, _, _, _) => s.clone(),
                    _ => {
                        return Err(FileError {
                            message: "a rule name must be a string".into(),
                            at: Some(at(kmark)),
                        })
                    }
                };
                let Some((vev, vmark)) = next() else { break };
                let (rule_text, quoted) = match vev {
                    Event::Scalar(s, style, _, tag) => {
                        if tag.is_some() {
                            return Err(FileError {
                                message: format!("the rule `{name}` has a YAML tag; write the rule as a quoted string"),
                                at: Some(at(vmark)),
                            });
                        }
                        if *style == TScalarStyle::Plain {
                            match plain_type(s) {
                                Some(None) => (RuleText::Empty, false),
                                Some(Some(what)) => {
                                    return Err(FileError {
                                        message: format!(
                                            "the rule `{name}` is {what} (`{s}`), not a string; oslo.policy cannot read it"
                                        ),
                                        at: Some(at(vmark)),
                                    })
                                }
                                None => (RuleText::Text(s.clone()), false),
                            }
                        } else {
                            (RuleText::Text(s.clone()), true)
                        }
                    }
                    Event::SequenceStart(..) => (RuleText::List(list(&mut next, &name)?), false),
                    _ => {
                        return Err(FileError {
                            message: format!("the rule `{name}` must be a string (a check string like `role:reader`)"),
                            at: Some(at(vmark)),
                        })
                    }
                };
                let parsed = match &rule_text {
                    RuleText::Text(t) => parse::parse(t),
                    RuleText::Empty => parse::parse(""),
                    RuleText::List(l) => parse::parse_list(l),
                };
                let (line, col) = at(vmark);
                let value_at = if quoted { (line, col + 1) } else { (line, col) };
                let rule = FileRule { name, text: rule_text, parsed, key_at: at(kmark), value_at, quoted };
                // yaml.safe_load keeps the last of duplicate keys
                rules.retain(|r| r.name != rule.name);
                rules.push(rule);
                }
            }
            _ => {
                return Err(FileError {
                    message: "a policy file is a mapping of rule names to rules (`\"name\": \"role:reader\"`)".into(),
                    at: Some(at(mark)),
                })
            }
        }
    }
    Ok(PolicyFile {
        name: name.to_owned(),
        rules,
    })
}

/// The old list syntax: a sequence whose items are strings or sequences of strings.
fn list<'a>(
    next: &mut impl FnMut() -> Option<&'a (Event, Marker)>,
    name: &str,
) -> Result<Vec<Vec<String>>, FileError> {
    let bad = |m: &Marker| FileError {
        message: format!("the rule `{name}` in list syntax must hold strings or lists of strings"),
        at: Some(at(m)),
    };
    let mut out = Vec::new();
    loop {
        let Some((ev, mark)) = next() else {
            return Ok(out);
        };
        match ev {
            Event::SequenceEnd => return Ok(out),
            // an empty string item is skipped, as oslo.policy skips it
            Event::Scalar(s, _, _, _) => out.push(if s.is_empty() {
                Vec::new()
            } else {
                vec![s.clone()]
            }),
            Event::SequenceStart(..) => {
                let mut inner = Vec::new();
                loop {
                    let Some((ev, mark)) = next() else {
                        return Ok(out);
                    };
                    match ev {
                        Event::SequenceEnd => break,
                        Event::Scalar(s, _, _, _) => inner.push(s.clone()),
                        _ => return Err(bad(mark)),
                    }
                }
                out.push(inner);
            }
            _ => return Err(bad(mark)),
        }
    }
}
