//! The bad-input corpus (`fixtures/bad/`, see its README): every file is run through the real binary, which
//! must exit 2, never panic, and locate each problem (file, then line and column or JSON pointer). Each
//! output is an insta snapshot named after the file. Inputs that cannot be committed (a 50 MB string, a
//! symbolic link loop, a FIFO, an unreadable file) are made at run time in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::run;

use std::path::{Path, PathBuf};
use std::process::Command;

const USER: &str = "urn:v1:eu:identity:user:xx1111-ovh/user1";
const ACTION: &str = "vps:apiovh:reboot";
const VPS: &str = "urn:v1:eu:resource:vps:vps-1.vps.ovh.net";
const AT: &str = "2026-06-01T12:00:00Z";
const COMPANION_POLICY: &str = "fixtures/bad/companions/ovh-policy.json";
const COMPANION_ACCOUNT: &str = "fixtures/bad/companions/ovh-account.json";

/// The request every policy or account case asks: the load must fail before it is evaluated.
fn request() -> Vec<&'static str> {
    vec!["-i", USER, "-a", ACTION, "-r", VPS, "--at", AT]
}

/// The files of a corpus folder, sorted, relative to the crate root.
fn corpus(folder: &str, ext: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<String> = std::fs::read_dir(root.join("fixtures/bad").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| ext.is_empty() || p.extension().is_some_and(|x| x == ext))
        .map(|p| {
            p.strip_prefix(root)
                .unwrap()
                .display()
                .to_string()
                .replace('\\', "/")
        })
        .collect();
    out.sort();
    out
}

/// The snapshot name of a corpus path: `fixtures/bad/policies/truncated.json` → `policies-truncated`.
fn name_of(path: &str) -> String {
    let rel = path.trim_start_matches("fixtures/bad/");
    let stem = rel
        .strip_suffix(".jsonl")
        .or_else(|| rel.strip_suffix(".json"))
        .unwrap_or(rel);
    stem.replace('/', "-")
}

/// Run one bad input and check the contract; the output, with `tmp` shown as `<tmp>`, is returned for the
/// snapshot. `located` is the path every diagnostic must name.
fn bad(args: &[&str], located: &str, tmp: Option<&Path>) -> String {
    let o = run(args);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let shown = |s: &str| match tmp {
        Some(t) => s.replace(&t.display().to_string(), "<tmp>"),
        None => s.to_owned(),
    };
    assert_eq!(
        o.status.code(),
        Some(2),
        "{args:?}: expected exit status 2\n{stdout}{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{args:?} panicked:\n{stderr}"
    );
    assert!(!stderr.trim().is_empty(), "{args:?}: no error was printed");
    // Every diagnostic is located: `error: ...` or `error[PS001]: ...` then
    // ` --> FILE[:LINE:COLUMN][ (POINTER)]` (indented by the width of the line numbers shown).
    let lines: Vec<&str> = stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("error: ") || line.starts_with("error[") {
            let at = lines.get(i + 1).copied().unwrap_or_default();
            assert!(
                at.trim_start().starts_with("--> "),
                "{args:?}: `{line}` is not located\n{stderr}"
            );
            assert!(
                at.contains(located) || tmp.is_some_and(|t| at.contains(&*t.display().to_string())),
                "{args:?}: `{at}` does not name `{located}`\n{stderr}"
            );
        }
    }
    let mut out = String::new();
    if !stdout.is_empty() {
        out.push_str("--- stdout\n");
        out.push_str(&shown(&stdout));
        out.push_str("--- stderr\n");
    }
    out.push_str(&shown(&stderr));
    out
}

fn snapshot(name: &str, command: &str, output: &str) {
    insta::with_settings!({ description => command.to_owned(), omit_expression => true }, {
        insta::assert_snapshot!(name.to_owned(), output);
    });
}

/// A file that could be read has a line and column or a JSON pointer in each of its locations.
fn assert_line_or_pointer(path: &str, output: &str) {
    for at in output.lines().filter(|l| l.starts_with("  --> ")) {
        let located = at.contains(" (/")
            || at
                .rsplit_once(':')
                .is_some_and(|(_, c)| c.trim_end().parse::<usize>().is_ok())
            || at.contains(", in the embedded JSON document at line ");
        assert!(
            located,
            "{path}: `{at}` has neither line:column nor pointer"
        );
    }
}

#[test]
fn the_corpus_holds_at_least_fifty_bad_inputs() {
    let n = corpus("policies", "json").len()
        + corpus("accounts", "json").len()
        + corpus("requests", "jsonl").len()
        + corpus("dirs", "").len();
    assert!(n >= 50, "only {n} bad inputs");
}

#[test]
fn bad_policy_files() {
    for path in corpus("policies", "json") {
        let mut args = vec!["check", "--policies", &path];
        args.extend(request());
        let out = bad(&args, &path, None);
        assert_line_or_pointer(&path, &out);
        snapshot(&name_of(&path), &format!("check --policies {path}"), &out);
    }
}

#[test]
fn bad_account_files() {
    for path in corpus("accounts", "json") {
        let mut args = vec!["check", "--policies", COMPANION_POLICY, "--account", &path];
        args.extend(request());
        let out = bad(&args, &path, None);
        assert_line_or_pointer(&path, &out);
        snapshot(
            &name_of(&path),
            &format!("check --policies {COMPANION_POLICY} --account {path}"),
            &out,
        );
    }
}

/// A bad line never hides the others: good lines are answered, bad ones reported in place, and the
/// summary counts both.
#[test]
fn bad_request_lines() {
    for path in corpus("requests", "jsonl") {
        let args = [
            "check",
            "--policies",
            COMPANION_POLICY,
            "--account",
            COMPANION_ACCOUNT,
            "--requests",
            &path,
        ];
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{path}");
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{path}: {stderr}");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        let answered = stdout.lines().filter(|l| l.contains(": ALLOW ")).count();
        let reported = stdout.lines().filter(|l| l.contains(": ERROR ")).count();
        assert_eq!(
            answered + reported,
            lines,
            "{path}: a line was lost\n{stdout}"
        );
        assert!(answered > 0 && reported > 0, "{path}\n{stdout}");
        for l in stdout.lines().filter(|l| l.contains(": ERROR ")) {
            assert!(
                l.contains(&format!("{path}:")),
                "{path}: `{l}` is not located"
            );
        }
        assert!(
            stderr.contains(&format!("{answered} requests evaluated"))
                && stderr.contains(&format!("{reported} lines could not be evaluated")),
            "{path}: the summary does not count both\n{stderr}"
        );
        snapshot(
            &name_of(&path),
            &args.join(" "),
            &format!("--- stdout\n{stdout}--- stderr\n{stderr}"),
        );
    }
}

/// Every bad file of a directory is reported, not only the first, with how many of the files had one.
#[test]
fn bad_directories() {
    for path in corpus("dirs", "") {
        let mut args = vec!["check", "--policies", &path];
        args.extend(request());
        let out = bad(&args, &path, None);
        assert_line_or_pointer(&path, &out);
        let files = walk(Path::new(env!("CARGO_MANIFEST_DIR")).join(&path).as_path());
        assert!(
            out.contains(&format!("of {files} input files; nothing was evaluated")),
            "{path}: the summary should count the {files} files\n{out}"
        );
        snapshot(&name_of(&path), &format!("check --policies {path}"), &out);
    }
}

/// `*.json` files below a directory (any case), as the loader walks them.
fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk(&p)
            } else {
                usize::from(
                    p.extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("json")),
                )
            }
        })
        .sum()
}

// ---------------------------------------------------------------- generated at run time

/// A fresh temporary directory for one generated case.
fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-sim-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const GOOD: &str = r#"{"name": "ops-reboot", "identities": ["urn:v1:eu:identity:group:xx1111-ovh/ops"],
 "resources": [{"urn": "urn:v1:eu:resource:vps:vps-1.vps.ovh.net"}],
 "permissions": {"allow": [{"action": "vps:apiovh:reboot"}]}}
"#;

fn generated(name: &str, dir: &Path, path: &Path, extra: &[&str]) {
    let p = path.display().to_string();
    let mut args = vec!["check", "--policies", &p];
    args.extend(extra);
    args.extend(request());
    let out = bad(&args, &p, Some(dir));
    snapshot(
        &format!("generated-{name}"),
        &format!(
            "check --policies <tmp>/{}",
            path.strip_prefix(dir).unwrap().display()
        ),
        &out,
    );
}

#[test]
fn generated_string_of_50_mb() {
    let dir = tmp("string");
    let path = dir.join("string-50mb.json");
    let mut text = String::with_capacity(50 * 1024 * 1024 + 512);
    text.push_str("{\"name\": \"ops-reboot\",\n \"description\": \"");
    text.extend(std::iter::repeat_n('a', 50 * 1024 * 1024));
    text.push_str("\",\n");
    text.push_str(GOOD.trim_start_matches("{\"name\": \"ops-reboot\","));
    std::fs::write(&path, text).unwrap();
    generated("string-50mb", &dir, &path, &[]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_file_over_the_size_limit() {
    let dir = tmp("size");
    let path = dir.join("policy.json");
    std::fs::write(&path, GOOD).unwrap();
    generated("over-size-limit", &dir, &path, &["--max-file-size", "100"]);
}

#[cfg(unix)]
#[test]
fn generated_symbolic_links() {
    use std::os::unix::fs::symlink;
    let dir = tmp("loop");
    std::fs::write(dir.join("policy.json"), GOOD).unwrap();
    symlink(".", dir.join("loop")).unwrap();
    generated("symlink-loop", &dir, &dir, &[]);

    let dir = tmp("self");
    let path = dir.join("self.json");
    symlink("self.json", &path).unwrap();
    generated("symlink-self", &dir, &path, &[]);

    let dir = tmp("broken");
    std::fs::write(dir.join("policy.json"), GOOD).unwrap();
    symlink("nowhere.json", dir.join("gone.json")).unwrap();
    generated("broken-symlink", &dir, &dir, &[]);
}

#[cfg(unix)]
#[test]
fn generated_special_files() {
    let dir = tmp("fifo");
    let path = dir.join("fifo.json");
    match Command::new("mkfifo").arg(&path).status() {
        // Met while walking a directory: no writer may ever come, so it is refused rather than waited on.
        // (A FIFO named on the command line is read: tests/cli_conventions.rs.)
        Ok(s) if s.success() => generated("fifo", &dir, &dir, &[]),
        other => println!("skipped the FIFO case: `mkfifo` is not available ({other:?})"),
    }

    let dir = tmp("dirjson");
    let path = dir.join("policy.json");
    std::fs::create_dir_all(&path).unwrap();
    generated("directory-named-json", &dir, &path, &[]);
}

#[cfg(unix)]
#[test]
fn generated_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp("unreadable");
    let path = dir.join("unreadable.json");
    std::fs::write(&path, GOOD).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&path).is_ok() {
        // Root (or a capability) reads through mode 000: the case cannot be made here.
        println!(
            "skipped the unreadable-file case: this user can read a mode-000 file (running as root?); \
             the FIFO and directory cases cover files that cannot be read"
        );
        return;
    }
    generated("unreadable", &dir, &path, &[]);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
}
