//! Colour in text output, chosen once per run by `--color auto|always|never`.
//!
//! `auto` colours a stream only when it is a terminal and `NO_COLOR` is unset or empty (no-color.org);
//! `always` and `never` override both. Machine formats (JSON, SARIF, CSV, JUnit) are never coloured.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT: AtomicBool = AtomicBool::new(false);
static STDERR: AtomicBool = AtomicBool::new(false);

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Choice {
    /// Colour a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

impl Choice {
    /// Whether a stream gets colour, given whether it is a terminal and the value of `NO_COLOR`.
    pub fn colours(self, terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            Choice::Always => true,
            Choice::Never => false,
            Choice::Auto => terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

/// Decide, for this run, whether standard output and standard error are coloured.
pub fn init(choice: Choice) {
    let no_color = std::env::var("NO_COLOR").ok();
    STDOUT.store(
        choice.colours(std::io::stdout().is_terminal(), no_color.as_deref()),
        Ordering::Relaxed,
    );
    STDERR.store(
        choice.colours(std::io::stderr().is_terminal(), no_color.as_deref()),
        Ordering::Relaxed,
    );
}

/// Which stream a text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether `stream` is coloured in this run.
pub fn enabled(stream: Stream) -> bool {
    on(stream)
}

fn on(stream: Stream) -> bool {
    match stream {
        Stream::Stdout => STDOUT.load(Ordering::Relaxed),
        Stream::Stderr => STDERR.load(Ordering::Relaxed),
    }
}

/// A style for a word of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// An allow, a pass.
    Good,
    /// A deny, an error, a failure.
    Bad,
    /// A warning.
    Warn,
    /// Headings.
    Bold,
}

/// `text` in `style` when `stream` is coloured, else unchanged.
pub fn paint(stream: Stream, style: Style, text: &str) -> String {
    if !on(stream) {
        return text.to_owned();
    }
    let code = match style {
        Style::Good => "1;32",
        Style::Bad => "1;31",
        Style::Warn => "1;33",
        Style::Bold => "1",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

#[cfg(test)]
mod tests {
    use super::Choice;

    #[test]
    fn auto_follows_the_terminal_and_no_color() {
        assert!(Choice::Auto.colours(true, None));
        assert!(Choice::Auto.colours(true, Some("")));
        assert!(!Choice::Auto.colours(true, Some("1")));
        assert!(!Choice::Auto.colours(false, None));
        assert!(Choice::Always.colours(false, Some("1")));
        assert!(!Choice::Never.colours(true, None));
    }
}
