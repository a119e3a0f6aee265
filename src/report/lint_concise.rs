//! `lint --quiet`: one line per finding, `FILE:LINE:COLUMN: level[CODE]: message` (the form editors and
//! `grep` read), then the count.

use std::fmt::Write as _;

use super::color::{paint, Stream, Style};
use crate::lint::{Finding, Level};

/// One line per finding, then `N files checked: ...`. A value inside a JSON string (an EIM `Body`) is
/// placed at that string in the file.
pub fn concise(findings: &[Finding], files: usize) -> String {
    let mut out = String::new();
    for f in findings {
        let at = match &f.outer {
            Some(o) if f.inside.is_some() => (o.line, o.column),
            _ => (f.line, f.column),
        };
        let place = match at {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", f.file),
            (Some(l), None) => format!("{}:{l}", f.file),
            _ => f.file.clone(),
        };
        let _ = writeln!(
            out,
            "{place}: {}[{}]: {}",
            paint(Stream::Stdout, style(f.level), f.level.as_str()),
            f.code,
            f.message
        );
    }
    out.push_str(&count(findings, files));
    out
}

/// How a finding's level is coloured.
pub fn style(level: Level) -> Style {
    match level {
        Level::Error => Style::Bad,
        Level::Warning => Style::Warn,
        Level::Info => Style::Bold,
    }
}

/// The closing line: `3 files checked: 0 errors, 5 warnings, 0 infos`.
pub fn count(findings: &[Finding], files: usize) -> String {
    let n = |l: Level, one: &str, many: &str| {
        let n = findings.iter().filter(|f| f.level == l).count();
        format!("{n} {}", if n == 1 { one } else { many })
    };
    format!(
        "{files} {} checked: {}, {}, {}\n",
        if files == 1 { "file" } else { "files" },
        n(Level::Error, "error", "errors"),
        n(Level::Warning, "warning", "warnings"),
        n(Level::Info, "info", "infos")
    )
}
