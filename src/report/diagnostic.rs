//! The text rendering of a [`Diagnostic`], rustc-style, by `annotate-snippets` (the renderer rustc uses):
//!
//! ```text
//! warning[PS112]: allow `vps:apiovh:reboot` in policy `p` never applies: …
//!   --> dump.json:18:21 (/0/permissions/allow/0/action)
//!    |
//! 18 |           "action": "vps:apiovh:reboot"
//!    |                     ^^^^^^^^^^^^^^^^^^^
//!    = help: remove the allow, or narrow the deny
//! ```
//!
//! Load and validation errors, lint findings and audit findings all come here as [`Diagnostic`]s. Colour
//! follows `--color` / `NO_COLOR` ([`super::color`]). On a minified file (one line of megabytes) only a
//! bounded part of the line around the column is shown, cut ends marked with `…`.

use std::fmt;

use annotate_snippets::renderer::{AnsiColor, Effects};
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::color::{self, Stream};
use crate::error::{files_of, Diagnostic, Error, Excerpt, Severity};

/// Characters of the line shown before the column, and in all, on a long line.
const SHOWN_BEFORE: usize = 80;
const SHOWN_MAX: usize = 160;

/// Stands for the location in the line the renderer writes before an excerpt (`--> MARK:line:column`),
/// which is then replaced by the whole location (see [`render`]); a private-use character no file name has.
const MARK: &str = "\u{f8ff}";

/// One diagnostic as text, coloured or not; no trailing newline.
///
/// The location line (` --> …`) is the diagnostic's own position, written out (`file:line:column`, the
/// JSON pointer, for an embedded document where its string is): the renderer would compute the column
/// from the excerpt, which is only a window of the line on a minified file and an inner document's line
/// for an embedded one.
pub fn render(d: &Diagnostic, styled: bool) -> String {
    let renderer = if styled {
        // Errors in the red the rest of the output uses for a deny or a failure (`report::color`).
        Renderer::styled().error(AnsiColor::Red.on_default().effects(Effects::BOLD))
    } else {
        Renderer::plain()
    }
    // The excerpt is already cut to a bounded window: the renderer need not cut it again.
    .term_width(SHOWN_MAX * 2);
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
        Severity::Note => Level::NOTE,
    };
    let mut title = level.primary_title(d.message.as_str());
    if let Some(code) = d.code {
        title = title.id(code);
    }
    let mut group = Group::with_title(title);
    let location = d.position.as_ref().map(ToString::to_string);
    let shown = d.excerpt.as_ref().map(shown_part);
    match (&location, &shown, &d.excerpt) {
        (Some(_), Some((text, span)), Some(e)) => {
            group = group.element(
                Snippet::source(text.as_str())
                    .line_start(e.line)
                    .path(MARK)
                    .annotation(AnnotationKind::Primary.span(span.clone())),
            );
        }
        (Some(location), ..) => group = group.element(Origin::path(location.as_str())),
        (None, ..) => {}
    }
    for note in &d.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    let mut out = renderer.render(&[group]);
    if let (Some(location), Some(at)) = (&location, out.find(MARK)) {
        let rest = out.get(at + MARK.len()..).unwrap_or_default();
        let end = at
            + MARK.len()
            + rest
                .find(|c: char| c != ':' && !c.is_ascii_digit())
                .unwrap_or(rest.len());
        out.replace_range(at..end, location);
    }
    out
}

/// One diagnostic as text for `stream`, coloured as `--color` / `NO_COLOR` decided.
pub fn render_for(d: &Diagnostic, stream: Stream) -> String {
    render(d, color::enabled(stream))
}

/// The text of the excerpt to show and the byte range to underline in it: at most [`SHOWN_MAX`]
/// characters, [`SHOWN_BEFORE`] of them before the column, a cut start marked with `…`; control characters
/// shown as their Unicode pictures (`␀`, `␉`), one character each, so the carets stay under their target.
fn shown_part(e: &Excerpt) -> (String, std::ops::Range<usize>) {
    let skip = e.column.saturating_sub(SHOWN_BEFORE).max(e.text_start);
    let mut shown = String::new();
    let mut caret = e.column.saturating_sub(1).saturating_sub(skip);
    if skip > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(
        e.text
            .chars()
            .skip(skip.saturating_sub(e.text_start))
            .take(SHOWN_MAX)
            .map(visible),
    );
    let chars = shown.chars().count();
    let caret = caret.min(chars);
    let len = e.len.min(chars.saturating_sub(caret)).max(1);
    // Characters to bytes; a caret past the end (an empty line, a value at its end) underlines a space.
    let byte = |n: usize| shown.char_indices().nth(n).map_or(shown.len(), |(i, _)| i);
    let (start, end) = (byte(caret), byte(caret + len));
    if start == shown.len() {
        shown.push(' ');
        return (shown.clone(), start..start + 1);
    }
    (shown, start..end.max(start + 1))
}

/// A character as an excerpt shows it: control characters become their Unicode pictures (`␀`, `␉`).
fn visible(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('?'),
        '\u{7f}' => '\u{2421}',
        '\u{feff}' => '\u{2423}',
        c if c.is_control() => '\u{fffd}',
        c => c,
    }
}

/// Every diagnostic of a list, one after the other, then the count (and, for a load, how many of the
/// inputs were bad).
pub fn render_all(all: &[Diagnostic], inputs: Option<usize>, styled: bool) -> String {
    let mut out = String::new();
    for (i, d) in all.iter().enumerate() {
        if i > 0 {
            // A blank line between two, as rustc does.
            out.push_str("\n\n");
        }
        out.push_str(&render(d, styled));
    }
    let n = all.len();
    let problems = if n == 1 {
        String::from("1 problem")
    } else {
        format!("{n} problems")
    };
    match inputs {
        // One problem in the one file given: the diagnostic says it all.
        Some(inputs) if n == 1 && inputs <= 1 => {}
        Some(inputs) => {
            let bad = files_of(all).len();
            let inputs = inputs.max(bad);
            out.push_str(&format!(
                "\n{problems} in {bad} of {inputs} input file{}; nothing was evaluated: policy-sim answers only when it understands every policy",
                if inputs == 1 { "" } else { "s" }
            ));
        }
        None if n > 1 => out.push_str(&format!("\n{problems} found")),
        None => {}
    }
    out
}

/// An error as text for `stream`, coloured as `--color` / `NO_COLOR` decided.
pub fn error(e: &Error, stream: Stream) -> String {
    let styled = color::enabled(stream);
    match e {
        // A usage error is a sentence of its own, as clap's are.
        Error::Usage(message) => message.clone(),
        Error::Input(all) => render_all(all, None, styled),
        Error::Load {
            diagnostics,
            inputs,
        } => render_all(diagnostics, Some(*inputs), styled),
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, false))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => f.write_str(message),
            Error::Input(all) => f.write_str(&render_all(all, None, false)),
            Error::Load {
                diagnostics,
                inputs,
            } => f.write_str(&render_all(diagnostics, Some(*inputs), false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Position;

    fn at(line: usize, column: usize, excerpt: Option<Excerpt>) -> Diagnostic {
        Diagnostic {
            code: Some("PS110"),
            severity: Severity::Warning,
            position: Some(Position {
                file: String::from("dump.json"),
                line: Some(line),
                column: Some(column),
                pointer: String::from("/0/permissions/allow/0/action"),
                inside: None,
            }),
            help: Some(String::from("narrow it")),
            excerpt,
            ..Diagnostic::error("allow `vps:apiovh:*` grants every action")
        }
    }

    #[test]
    fn rustc_layout() {
        let text = String::from("          \"action\": \"vps:apiovh:*\"");
        let d = at(
            18,
            21,
            Some(Excerpt {
                line: 18,
                column: 21,
                len: 14,
                text,
                text_start: 0,
            }),
        );
        assert_eq!(
            render(&d, false),
            "warning[PS110]: allow `vps:apiovh:*` grants every action\n  \
             --> dump.json:18:21 (/0/permissions/allow/0/action)\n   |\n\
             18 |           \"action\": \"vps:apiovh:*\"\n   |                     ^^^^^^^^^^^^^^\n   |\n   \
             = help: narrow it"
        );
        assert!(!render(&d, false).contains('\u{1b}'));
        assert!(render(&d, true).contains("\u{1b}["));
    }

    /// A minified file: the column is two million characters in, the excerpt a window of the line. The
    /// location keeps the true column, the shown line stays short and the carets sit under the value.
    #[test]
    fn a_window_of_a_long_line_keeps_the_true_column_and_a_bounded_width() {
        let column = 2_000_000;
        let text_start = column - 1 - crate::error::SNIPPET_MAX_CHARS / 2;
        let mut text = "x".repeat(crate::error::SNIPPET_MAX_CHARS / 2);
        text.push_str("\"vps:apiovh:*\"");
        text.push_str(&"y".repeat(crate::error::SNIPPET_MAX_CHARS / 2));
        let d = at(
            1,
            column,
            Some(Excerpt {
                line: 1,
                column,
                len: 14,
                text,
                text_start,
            }),
        );
        let out = render(&d, false);
        assert!(out.contains(" --> dump.json:1:2000000 (/0/"), "{out}");
        assert!(
            out.lines().all(|l| l.chars().count() < 2 * SHOWN_MAX),
            "{out}"
        );
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.starts_with("1 | …"))
            .unwrap_or(0);
        let (shown, carets) = (lines.get(i).copied(), lines.get(i + 1).copied());
        let (shown, carets) = (shown.unwrap_or_default(), carets.unwrap_or_default());
        let from = carets.find('^').unwrap_or(0);
        let underlined: String = shown.chars().skip(from).take(14).collect();
        assert_eq!(underlined, "\"vps:apiovh:*\"", "{out}");
    }
}
