//! One diagnostic type, rendered rustc-style (issue 17): a problem from each stage — a load error, a
//! validation error, a lint finding — reads `level[CODE]: message`, ` --> file:line:column`, the source
//! line with carets under the value, `= help: …`; colour follows `--color` and `NO_COLOR`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{bin, run, stderr, stdout};

const ESC: &str = "\u{1b}[";
const AT: &str = "2026-06-01T12:00:00Z";

/// The arguments of a `check` of one policy file, for its error on standard error.
fn check(file: &str) -> Vec<&str> {
    vec![
        "check",
        "--policies",
        file,
        "-i",
        "urn:v1:eu:identity:user:xx1111-ovh/user1",
        "-a",
        "vps:apiovh:reboot",
        "-r",
        "urn:v1:eu:resource:vps:vps-1.vps.ovh.net",
        "--at",
        AT,
    ]
}

/// The block of `text` whose title starts `title`, checked line by line: the location, the numbered
/// source line, the carets and a help line; returns what the carets underline.
fn underlined(text: &str, title: &str, location: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(title))
        .unwrap_or_else(|| panic!("no `{title}` in\n{text}"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.is_empty())
        .map_or(lines.len(), |n| start + 1 + n);
    let b = &lines[start..end];
    assert!(
        b[1].trim_start().starts_with(&format!("--> {location}")),
        "location `{location}` expected under the title:\n{}",
        b.join("\n")
    );
    assert!(
        b.iter().any(|l| l.trim_start().starts_with("= help: ")),
        "no help in\n{}",
        b.join("\n")
    );
    // `N | text` then `  | ^^^` under it.
    let source = b
        .iter()
        .position(|l| {
            l.trim_start()
                .split_once(" | ")
                .is_some_and(|(n, _)| n.parse::<usize>().is_ok())
        })
        .unwrap_or_else(|| panic!("no source line in\n{}", b.join("\n")));
    let (text_line, carets) = (b[source], b[source + 1]);
    let from = carets.find('^').expect("carets under the source line");
    assert!(from >= text_line.find(" | ").unwrap() + 3, "{carets}");
    let len = carets.matches('^').count();
    text_line.chars().skip(from).take(len).collect()
}

#[test]
fn a_load_error_renders_with_code_location_caret_and_help() {
    let o = run(&check("fixtures/bad/policies/bom.json"));
    assert_eq!(o.status.code(), Some(2));
    let title = "error[PS001]: file starts with a UTF-8 byte order mark";
    let at = "fixtures/bad/policies/bom.json:1:1";
    // The byte order mark, shown as a visible character.
    assert_eq!(underlined(&stderr(&o), title, at), "␣");
}

#[test]
fn a_validation_error_renders_with_code_location_caret_and_help() {
    let o = run(&check("fixtures/bad/policies/eim-effect-permit.json"));
    assert_eq!(o.status.code(), Some(2));
    let title = "error[PS006]: unknown `Effect` `Permit`";
    let at = "fixtures/bad/policies/eim-effect-permit.json:6:17 (/Statement/0/Effect)";
    // Validation errors point at the start of the value.
    assert_eq!(underlined(&stderr(&o), title, at), "\"");
}

#[test]
fn a_lint_finding_renders_with_code_location_caret_and_help() {
    let o = run(&["lint", "--at", AT, "policies/examples/ovh"]);
    let title = "warning[PS110]: allow `vps:apiovh:*` grants every action of `vps:apiovh`";
    let at = "policies/examples/ovh/account-policies.json:19:21 (/0/permissions/allow/0/action)";
    // The whole value, quotes included.
    assert_eq!(underlined(&stdout(&o), title, at), "\"vps:apiovh:*\"");
}

#[test]
fn an_audit_finding_renders_with_code_location_and_notes() {
    let o = run(&[
        "audit",
        "findings",
        "-p",
        "tests/audit-cases/issue15/old.json",
        "--at",
        AT,
    ]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("warning[PA106]: service-account-objectstore: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        lines[i + 1].starts_with(" --> tests/audit-cases/issue15/old.json:"),
        "{text}"
    );
    assert!(
        lines[i + 2].starts_with("  = note: conditional: "),
        "{text}"
    );
    assert!(
        lines[i + 3].starts_with("  = note: witness: policy-sim check "),
        "{text}"
    );
}

/// `args` with `--color color`, and `NO_COLOR` set to `no_color` or unset.
fn coloured(args: &[&str], color: &str, no_color: Option<&str>) -> std::process::Output {
    let mut c = bin();
    c.args(args).args(["--color", color]);
    match no_color {
        Some(v) => c.env("NO_COLOR", v),
        None => c.env_remove("NO_COLOR"),
    };
    c.output().unwrap()
}

#[test]
fn colour_only_when_asked_for_or_on_a_terminal_without_no_color() {
    let lint = ["lint", "--at", AT, "policies/examples/ovh"];
    let bad = check("fixtures/bad/policies/bom.json");
    for (color, no_color) in [
        ("never", None),
        ("never", Some("1")),
        ("auto", Some("1")),
        // A pipe is not a terminal: `auto` without NO_COLOR is plain too.
        ("auto", None),
    ] {
        let out = stdout(&coloured(&lint, color, no_color));
        let err = stderr(&coloured(&bad, color, no_color));
        assert!(out.contains("warning[PS110]"), "{out}");
        assert!(err.contains("error[PS001]"), "{err}");
        for text in [out, err] {
            assert!(!text.contains(ESC), "{color}, {no_color:?}: {text:?}");
        }
    }
    // `always` colours, NO_COLOR or not: the level, and the carets.
    for no_color in [None, Some("1")] {
        let out = stdout(&coloured(&lint, "always", no_color));
        assert!(out.contains(&format!("{ESC}33mwarning")), "{out:?}");
        assert!(out.contains(&format!("{ESC}33m^^^")), "{out:?}");
        let err = stderr(&coloured(&bad, "always", no_color));
        assert!(err.contains(&format!("{ESC}31merror")), "{err:?}");
    }
}
