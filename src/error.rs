//! The error types. Bad input is never a panic and never a silent skip: every problem becomes a
//! [`Diagnostic`] with its location, what was found and what was expected, and loading collects all of them
//! before giving up.

use std::fmt;

use serde::Serialize;

use crate::source::{Loc, Position, SourceMap};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in the input, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line, lowercase, user values in backticks.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The source line the position points into, for a snippet with a caret.
    #[serde(skip)]
    pub line_text: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.message)?;
        if let Some(position) = &self.position {
            write!(f, "\n  --> {position}")?;
            // The innermost line and column: inside an embedded document, that document's.
            if let (Some(text), Some(line), Some(col)) =
                (&self.line_text, position.line, position.column)
            {
                let width = line.to_string().len();
                // A window of the line around the column: minified JSON can put megabytes on one line.
                let skip = col.saturating_sub(80);
                let mut shown: String = text.chars().skip(skip).take(160).collect();
                let mut caret_at = col.saturating_sub(1) - skip;
                if skip > 0 {
                    shown.insert(0, '…');
                    caret_at += 1;
                }
                let caret_at = caret_at.min(shown.chars().count());
                write!(
                    f,
                    "\n{:width$} |\n{line} | {shown}\n{:width$} | {}^",
                    "",
                    "",
                    " ".repeat(caret_at)
                )?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
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

    /// Resolve the location against the sources read.
    pub fn resolve(self, sources: &SourceMap) -> Diagnostic {
        let position = match &self.at {
            At::Loc(loc) => Some(sources.position(loc)),
            At::LineColumn(loc, line, column) => {
                let mut p = sources.position_at(loc.source, *line, *column);
                p.pointer.clone_from(&loc.pointer);
                Some(p)
            }
            At::File(name) => Some(Position {
                file: name.clone(),
                line: None,
                column: None,
                pointer: String::new(),
                inside: None,
            }),
            At::Nowhere => None,
        };
        let line_text = match (&self.at, &position) {
            (At::Loc(loc) | At::LineColumn(loc, ..), Some(p)) => p.line.and_then(|l| {
                sources
                    .get(loc.source)
                    .and_then(|s| s.text.lines().nth(l.saturating_sub(1)).map(str::to_owned))
            }),
            _ => None,
        };
        Diagnostic {
            severity: Severity::Error,
            message: self.message,
            position,
            help: self.help,
            line_text,
        }
    }
}

/// Why a run could not answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The input is wrong: every problem found, located.
    #[error("{}", render_all(.0))]
    Input(Vec<Diagnostic>),
}

impl Error {
    /// The diagnostics carried, for structured output.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Usage(message) => {
                vec![Diagnostic {
                    severity: Severity::Error,
                    message: message.clone(),
                    position: None,
                    help: None,
                    line_text: None,
                }]
            }
            Error::Input(all) => all.clone(),
        }
    }

    /// Resolve a list of problems into an input error.
    pub fn from_problems(problems: Vec<Problem>, sources: &SourceMap) -> Self {
        Error::Input(problems.into_iter().map(|p| p.resolve(sources)).collect())
    }
}

fn render_all(all: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in all.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    if all.len() > 1 {
        out.push_str(&format!("\n{} problems found", all.len()));
    }
    out
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
