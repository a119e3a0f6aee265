//! Source files and locations: every input value is located by (source, JSON pointer); line and column are
//! derived from the pointer only when a message is rendered (the jsonschema-rs split), so the load path pays
//! nothing for locations it never prints.

use std::fmt;
use std::sync::Arc;

use jsonc_parser::common::Ranged;

/// Index of a [`Source`] in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// One input text: a file, or a JSON document embedded as a string inside another (an OUTSCALE policy
/// `Body`), in which case `parent` locates that string.
#[derive(Debug, Clone)]
pub struct Source {
    /// Display name: the path as the user gave it, or `<inline>`.
    pub name: String,
    pub text: Arc<str>,
    pub parent: Option<Loc>,
}

/// A location: a source and a JSON pointer (RFC 6901) into it. The empty pointer is the whole document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    pub source: SourceId,
    pub pointer: String,
}

impl Loc {
    pub fn new(source: SourceId, pointer: impl Into<String>) -> Self {
        Loc {
            source,
            pointer: pointer.into(),
        }
    }

    /// The location of a member of this value: `key` is escaped per RFC 6901.
    pub fn key(&self, key: &str) -> Loc {
        let mut pointer = String::with_capacity(self.pointer.len() + key.len() + 1);
        pointer.push_str(&self.pointer);
        pointer.push('/');
        for c in key.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
        Loc {
            source: self.source,
            pointer,
        }
    }

    /// The location of an array element of this value.
    pub fn index(&self, index: usize) -> Loc {
        Loc {
            source: self.source,
            pointer: format!("{}/{}", self.pointer, index),
        }
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
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(
        &mut self,
        name: impl Into<String>,
        text: impl Into<Arc<str>>,
        parent: Option<Loc>,
    ) -> SourceId {
        let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
        self.sources.push(Source {
            name: name.into(),
            text: text.into(),
            parent,
        });
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

    /// Resolve a location to file, line and column. Line and column are looked up by walking a span-aware
    /// parse of the text; a pointer that does not resolve (the value is absent: a missing field) falls
    /// back to its nearest existing ancestor.
    pub fn position(&self, loc: &Loc) -> Position {
        let Some(source) = self.get(loc.source) else {
            return Position {
                file: String::from("<unknown>"),
                line: None,
                column: None,
                pointer: loc.pointer.clone(),
                inside: None,
            };
        };
        let (line, column) = match offset_of_pointer(&source.text, &loc.pointer) {
            Some(offset) => {
                let (l, c) = line_column(&source.text, offset);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Position {
            file: self.file_name(loc.source),
            line,
            column,
            pointer: loc.pointer.clone(),
            inside: source.parent.as_ref().map(|p| Box::new(self.position(p))),
        }
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
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).ok()?;
    let mut value = parsed.value.as_ref()?;
    let mut offset = value.range().start;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match value {
            jsonc_parser::ast::Value::Object(object) => object
                .properties
                .iter()
                .find(|p| p.name.as_str() == token)
                .map(|p| &p.value),
            jsonc_parser::ast::Value::Array(array) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| array.elements.get(i)),
            _ => None,
        };
        match next {
            Some(v) => {
                value = v;
                offset = v.range().start;
            }
            None => break,
        }
    }
    Some(offset)
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn loc_escapes_keys() {
        let loc = Loc::new(SourceId(0), "").key("a/b~").index(3);
        assert_eq!(loc.pointer, "/a~1b~0/3");
    }
}
