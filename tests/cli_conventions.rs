//! The conventions every subcommand shares (issue 17, "CLI conventions"): exit 2 for bad input with the
//! file:line:column, one `--format` vocabulary (`human` an alias of `text`), `-` for standard input,
//! `--quiet` / `--verbose`, `--color`, shell completions, a `--version` naming the data catalogues,
//! help text on every option, `test --format json|junit`. Each drives the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{stderr, stdout};
use common::{AT, PROJECT, SA, SEED000};

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const EIM: &str = "policies/examples/outscale/read-only.json";

/// The binary from the repository root, with no `NO_COLOR` inherited (the colour tests set it themselves).
fn cmd(args: &[&str]) -> Command {
    let mut c = common::bin();
    c.args(args).env_remove("NO_COLOR");
    c
}

fn run(args: &[&str]) -> Output {
    cmd(args).stdin(Stdio::null()).output().unwrap()
}

/// Run with `input` piped to standard input.
fn piped(args: &[&str], input: &[u8]) -> Output {
    let mut child = cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A command that fails before reading closes the pipe: a write error is not the test's concern.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policy-sim-conv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Exit 2, and the message on stderr names `place` (a file, or file:line:column).
#[track_caller]
fn bad_input(o: &Output, place: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2 naming `{place}`\nstdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    let all = format!("{}{}", stdout(o), stderr(o));
    assert!(all.contains(place), "`{place}` not named:\n{all}");
}

fn check_seed000(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "check",
        "--policies",
        SEED000,
        "-i",
        SA,
        "-a",
        "compute_read",
        "-r",
        PROJECT,
        "--at",
        AT,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

// ---------------------------------------------------------------- 1. exit 2 for every input error

/// A policy file that is not JSON (a missing comma on line 2).
fn broken_json() -> (PathBuf, String) {
    let dir = tmp("broken");
    let path = dir.join("broken.json");
    std::fs::write(&path, "{\n  \"cases\" []}\n").unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn check_exits_2_on_input_errors() {
    bad_input(
        &run(&["check", "-p", "nope.json", "-a", "api:ReadVms"]),
        "nope.json",
    );
    let (_dir, broken) = broken_json();
    bad_input(
        &run(&["check", "-p", &broken, "-a", "api:ReadVms"]),
        &format!("{broken}:2:11"),
    );
    bad_input(
        &run(&[
            "check",
            "-p",
            EIM,
            "--account",
            "nope.json",
            "-a",
            "api:ReadVms",
        ]),
        "nope.json",
    );
    bad_input(
        &run(&["check", "-p", EIM, "-a", "api:ReadVms", "--at", "tomorrow"]),
        "--at `tomorrow`",
    );
    bad_input(
        &run(&["check", "-p", EIM, "--requests", "nope.jsonl"]),
        "nope.jsonl",
    );
    bad_input(
        &run(&[
            "check",
            "-p",
            EIM,
            "-a",
            "api:ReadVms",
            "--matrix",
            "nope.json",
        ]),
        "nope.json",
    );
    bad_input(
        &run(&["check", "--terraform-plan", "nope.json", "-a", "x"]),
        "nope.json",
    );
    bad_input(
        &run(&[
            "check",
            "--openstack-policy",
            "nova",
            "--credentials",
            "nope.json",
            "-a",
            "os_compute_api:servers:index",
        ]),
        "nope.json",
    );
    // A bad flag value is a usage error.
    bad_input(
        &run(&["check", "-p", EIM, "-a", "x", "--format", "xml"]),
        "xml",
    );
}

#[test]
fn lint_exits_2_when_an_input_cannot_be_read() {
    // Each is still reported as a finding, in every format.
    let o = run(&["lint", "nope.json"]);
    bad_input(&o, "nope.json");
    assert!(stdout(&o).contains("error[PS006]"), "{}", stdout(&o));
    bad_input(
        &run(&["lint", "--format", "sarif", "nope.json"]),
        "nope.json",
    );
    bad_input(
        &run(&["lint", "policies/examples/ovh", "nope.json"]),
        "nope.json",
    );
    bad_input(
        &run(&["lint", "nothing-matches-*.json"]),
        "nothing-matches-*.json",
    );
    bad_input(
        &run(&["lint", "--terraform-plan", "nope.json"]),
        "nope.json",
    );
    bad_input(
        &run(&["lint", "--openstack-policy", "nope.yaml"]),
        "nope.yaml",
    );
    bad_input(&run(&["lint", "--at", "soon", EIM]), "--at `soon`");
    bad_input(&run(&["lint", "--deny", "PS999", EIM]), "PS999");
    // A file that is not JSON is what lint is for: a PS001 finding (exit 1) with its position.
    let (_dir, broken) = broken_json();
    let o = run(&["lint", &broken]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("{broken}:2:11")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn test_audit_roles_export_exit_2_on_input_errors() {
    bad_input(&run(&["test", "nope.json"]), "nope.json");
    let (_dir, broken) = broken_json();
    bad_input(&run(&["test", &broken]), &format!("{broken}:2:11"));
    bad_input(
        &run(&["audit", "who-can", "-p", "nope.json", "-a", "x"]),
        "nope.json",
    );
    bad_input(
        &run(&["audit", "who-can", "-p", &broken, "-a", "x"]),
        &format!("{broken}:2:11"),
    );
    bad_input(
        &run(&["audit", "diff", "nope-old.json", EIM]),
        "nope-old.json",
    );
    bad_input(&run(&["roles", "--matrix", "nope.json"]), "nope.json");
    bad_input(
        &run(&["roles", "--matrix", &broken]),
        &format!("{broken}:2:11"),
    );
    bad_input(
        &run(&["export", "ovhcloud", "--out", "x", "--timeout", "soon"]),
        "soon",
    );
    bad_input(&run(&["completions", "tcsh"]), "tcsh");
}

// ---------------------------------------------------------------- 2. one --format vocabulary

#[test]
fn human_is_an_alias_of_text_everywhere() {
    let pairs: Vec<Vec<String>> = vec![
        check_seed000(&[]),
        ["lint", "--at", AT, "policies/examples/ovh"]
            .map(String::from)
            .to_vec(),
        ["test", "policies/expectations/examples.json"]
            .map(String::from)
            .to_vec(),
        ["roles", "computeOperator"].map(String::from).to_vec(),
        [
            "audit",
            "who-can",
            "-p",
            SEED000,
            "-a",
            "compute_read",
            "--at",
            AT,
        ]
        .map(String::from)
        .to_vec(),
    ];
    for args in pairs {
        let args = strs(&args);
        let text = run(&[args.as_slice(), &["--format", "text"]].concat());
        let human = run(&[args.as_slice(), &["--format", "human"]].concat());
        assert_ne!(text.status.code(), Some(2), "{args:?}: {}", stderr(&text));
        assert_eq!(text.status.code(), human.status.code(), "{args:?}");
        assert_eq!(stdout(&text), stdout(&human), "{args:?}");
        // And text is the default.
        assert_eq!(stdout(&run(&args)), stdout(&text), "{args:?}");
    }
}

// ---------------------------------------------------------------- 3. - for standard input

#[test]
fn policies_account_and_requests_from_stdin() {
    let file = run(&strs(&check_seed000(&[])));
    let args = check_seed000(&[]);
    let args: Vec<&str> = strs(&args)
        .into_iter()
        .map(|a| if a == SEED000 { "-" } else { a })
        .collect();
    let piped_out = piped(&args, &read(SEED000));
    assert_eq!(piped_out.status.code(), Some(0), "{}", stderr(&piped_out));
    // Same answer; the trace names the input `<stdin>`.
    assert_eq!(
        stdout(&file).replace(SEED000, "<stdin>"),
        stdout(&piped_out)
    );

    let o = piped(
        &[
            "check",
            "-p",
            EIM,
            "--account",
            "-",
            "-i",
            "watcher_1",
            "-a",
            "api:ReadVms",
            "--at",
            AT,
        ],
        &read("policies/examples/accounts/outscale-account.json"),
    );
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));

    let requests = format!(
        "{{\"identity\": \"{SA}\", \"action\": \"compute_read\", \"resource\": \"{PROJECT}\"}}\n"
    );
    let o = piped(
        &[
            "check",
            "-p",
            SEED000,
            "--requests",
            "-",
            "--format",
            "json",
        ],
        requests.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"decision\":\"allow\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_bad_policy_on_stdin_is_located_as_stdin() {
    let o = piped(
        &["check", "-p", "-", "-a", "api:ReadVms"],
        b"{\"Statement\": [\n  {\"Effect\": \"Allow\" \"Action\": []}]}",
    );
    bad_input(&o, "<stdin>:2:");
}

#[test]
fn lint_test_matrix_plan_and_credentials_from_stdin() {
    let o = piped(&["lint", "--at", AT, "-"], &read(EIM));
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("1 file checked"), "{}", stdout(&o));

    // Paths inside an expectation file read from stdin are relative to the working directory.
    let spec = String::from_utf8(read("policies/expectations/examples.json"))
        .unwrap()
        .replace("\"../", "\"policies/");
    let o = piped(&["test", "-"], spec.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    let o = piped(
        &["roles", "--matrix", "-", "computeOperator"],
        &read("policies/openstack-role-matrix.json"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&run(&["roles", "computeOperator"])));

    let plan = "fixtures/terraform/ovh-plan.json";
    let o = piped(&["lint", "--at", AT, "--terraform-plan", "-"], &read(plan));
    let f = run(&["lint", "--at", AT, "--terraform-plan", plan]);
    assert_eq!(o.status.code(), f.status.code(), "{}", stderr(&o));
    assert_eq!(stdout(&o).replace("<stdin>", plan), stdout(&f));
    // `audit diff --terraform-plan -` reads the plan's two states from the one input.
    let o = piped(
        &["audit", "diff", "--terraform-plan", "-", "--at", AT],
        &read(plan),
    );
    let f = run(&["audit", "diff", "--terraform-plan", plan, "--at", AT]);
    assert_eq!(o.status.code(), f.status.code(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).replace("--terraform-plan -", &format!("--terraform-plan {plan}")),
        stdout(&f)
    );

    let token = "fixtures/oslo/token-project-reader.json";
    let args = |c: &'static str| {
        vec![
            "check",
            "--openstack-policy",
            "fixtures/oslo/seed004-policy.yaml",
            "--credentials",
            c,
            "--action",
            "myservice:thing:list",
        ]
    };
    let o = piped(&args("-"), &read(token));
    let f = run(&args(token));
    assert_eq!(o.status.code(), f.status.code(), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&f).replace(token, "<stdin>"));
}

#[test]
fn clouds_yaml_from_stdin_and_a_bad_one_located() {
    let clouds = "fixtures/openstack/clouds.yaml";
    let args = |c: &'static str| {
        vec![
            "check",
            "-p",
            "fixtures/openstack/seed000-eu.json",
            "--clouds-yaml",
            c,
            "--os-cloud",
            "ovhcloud",
            "--at",
            AT,
            "--",
            "openstack",
            "server",
            "list",
        ]
    };
    let o = piped(&args("-"), &read(clouds));
    let f = run(&args(clouds));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&f).replace(clouds, "<stdin>"));

    // Bad YAML: exit 2 at its line and column, without echoing the text (a clouds.yaml holds passwords).
    let bad = b"clouds:\n  ovhcloud:\n    auth: {password: s3cret\n   b: [\n";
    let o = piped(&args("-"), bad);
    bad_input(&o, "<stdin>:4:5: not valid YAML");
    assert!(!stderr(&o).contains("s3cret"), "{}", stderr(&o));
}

#[test]
fn stdin_may_be_named_once() {
    for args in [
        vec!["check", "-p", "-", "--account", "-", "-a", "api:ReadVms"],
        vec!["check", "-p", "-", "-", "-a", "api:ReadVms"],
        vec!["lint", "-", "-"],
        vec!["lint", "-", "--terraform-plan", "-"],
        vec!["test", "-", "--policies", "-"],
        vec!["audit", "who-can", "-p", "-", "--account", "-", "-a", "x"],
    ] {
        let o = piped(&args, &read(EIM));
        bad_input(&o, "standard input (`-`) can be read once");
    }
}

#[cfg(unix)]
#[test]
fn dev_stdin_and_a_named_fifo_are_read() {
    // /dev/stdin under a pipe is a FIFO.
    let o = piped(
        &["check", "-p", "/dev/stdin", "-a", "api:ReadVms", "--at", AT],
        &read(EIM),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let dir = tmp("fifo");
    let fifo = dir.join("policy.json");
    match Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        other => {
            println!("skipped the named FIFO: `mkfifo` is not available ({other:?})");
            return;
        }
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, read(EIM)).unwrap())
    };
    let p = fifo.display().to_string();
    let o = run(&["check", "-p", &p, "-a", "api:ReadVms", "--at", AT]);
    writer.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- 4. --quiet and --verbose

#[test]
fn quiet_prints_the_answer_line_and_verbose_the_full_trace() {
    let o = run(&strs(&check_seed000(&["--quiet"])));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "ALLOW (explicit_allow)\n");
    let deny = run(&["check", "-p", EIM, "-a", "api:DeleteVms", "--at", AT, "-q"]);
    assert_eq!(deny.status.code(), Some(1));
    assert_eq!(stdout(&deny), "DENY (implicit_deny)\n");

    let full = run(&strs(&check_seed000(&[
        "--format", "json", "--trace", "full",
    ])));
    let verbose = run(&strs(&check_seed000(&["--format", "json", "--verbose"])));
    assert_eq!(stdout(&full), stdout(&verbose));
    let brief = run(&strs(&check_seed000(&[
        "--format", "json", "--trace", "brief",
    ])));
    let quiet = run(&strs(&check_seed000(&["--format", "json", "-q"])));
    assert_eq!(stdout(&brief), stdout(&quiet));
    assert_ne!(stdout(&brief), stdout(&full));

    bad_input(
        &run(&strs(&check_seed000(&["-q", "-v"]))),
        "cannot be used with",
    );
}

/// `args` with and without `extra`: the same exit status both ways; both outputs.
#[track_caller]
fn with_and_without(args: &[&str], extra: &str) -> (String, String) {
    let full = run(args);
    let mut q = args.to_vec();
    q.push(extra);
    let quiet = run(&q);
    assert_eq!(
        quiet.status.code(),
        full.status.code(),
        "{args:?} {extra}: {}",
        stderr(&quiet)
    );
    (stdout(&full), stdout(&quiet))
}

#[test]
fn lint_quiet_is_one_line_per_finding_then_the_count() {
    let (full, quiet) = with_and_without(&["lint", "--at", AT, "policies/examples/ovh"], "-q");
    let heads: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("warning[") || l.starts_with("error[") || l.starts_with("info["))
        .collect();
    let places: Vec<&str> = full
        .lines()
        .filter_map(|l| l.strip_prefix("  --> "))
        .map(|l| l.split(" (").next().unwrap())
        .collect();
    let lines: Vec<&str> = quiet.lines().collect();
    assert_eq!(lines.len(), heads.len() + 1, "{quiet}");
    assert!(heads.len() >= 3, "{full}");
    for ((line, head), place) in lines.iter().zip(&heads).zip(&places) {
        assert_eq!(*line, format!("{place}: {head}"));
    }
    assert_eq!(lines.last(), full.lines().last().as_ref());
    // An unreadable input still exits 2, and --quiet beside a machine format is refused.
    bad_input(&run(&["lint", "-q", "no-such.json"]), "no-such.json");
    bad_input(
        &run(&["lint", "-q", "-f", "sarif", "policies/examples/ovh"]),
        "--quiet shortens the text output and cannot be used with --format sarif",
    );
}

#[test]
fn audit_quiet_prints_the_claims_without_witnesses() {
    let ovh = [
        "-p",
        "policies/examples/ovh",
        "--account",
        "policies/examples/accounts/ovh-account.json",
        "--at",
        AT,
    ];
    let with = |head: &[&'static str]| -> Vec<&'static str> {
        let mut v = head.to_vec();
        v.extend(ovh);
        v
    };
    // who-can: the ALLOW lines of the full answer, unindented.
    let (full, quiet) = with_and_without(
        &with(&["audit", "who-can", "-a", "vps:apiovh:reboot"]),
        "-q",
    );
    let allows: Vec<&str> = full
        .lines()
        .filter_map(|l| l.strip_prefix("  ALLOW "))
        .collect();
    let got: Vec<&str> = quiet
        .lines()
        .map(|l| l.strip_prefix("ALLOW ").unwrap())
        .collect();
    assert!(!allows.is_empty());
    assert_eq!(got, allows);
    // findings: each finding's first line and the count, as the full answer has them.
    let (full, quiet) =
        with_and_without(&with(&["audit", "findings", "--fail-on", "warning"]), "-q");
    let heads: Vec<&str> = full
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .collect();
    assert!(heads.len() > 1);
    assert_eq!(quiet.lines().collect::<Vec<_>>(), heads);
    // what-can and matrix: no witness, no note.
    for sub in [
        vec![
            "audit",
            "what-can",
            "-i",
            "urn:v1:eu:identity:user:xx1111-ovh/user1",
        ],
        vec!["audit", "matrix"],
    ] {
        let (full, quiet) = with_and_without(&with(&sub), "--quiet");
        assert!(full.contains("witness") || full.contains("note:"), "{full}");
        assert!(
            !quiet.contains("witness") && !quiet.contains("note:"),
            "{quiet}"
        );
        assert!(quiet.lines().count() < full.lines().count() && !quiet.is_empty());
    }
    // diff (exit 1: NEW grants more): one line per change, then the same count.
    let (full, quiet) = with_and_without(
        &[
            "audit",
            "diff",
            "policies/examples/ovh",
            "policies/examples/ovh-proposed",
            "--at",
            AT,
        ],
        "-q",
    );
    let lines: Vec<&str> = quiet.lines().collect();
    let count = full.lines().find(|l| l.contains(" changes: ")).unwrap();
    assert_eq!(lines.last(), Some(&count));
    let n: usize = count.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(lines.len(), n + 1, "{quiet}");
    assert!(lines[..n]
        .iter()
        .all(|l| l.starts_with("GRANTS ") || l.starts_with("removes ")));
    // roles: the role sets alone.
    let (_, quiet) = with_and_without(
        &["audit", "roles", "--needs", "compute_read,image_read"],
        "-q",
    );
    assert!(
        !quiet.is_empty()
            && quiet
                .lines()
                .all(|l| l.starts_with("publicCloudProject:openstack:")),
        "{quiet}"
    );

    bad_input(
        &run(&with(&["audit", "who-can", "-a", "x", "-q", "-f", "json"])),
        "cannot be used with --format json",
    );
}

#[test]
fn test_quiet_prints_the_failures_and_the_count() {
    let (_dir, file) = expectations();
    let (full, quiet) = with_and_without(&["test", &file], "-q");
    assert!(full.contains("PASS ") && full.contains("trace"), "{full}");
    assert_eq!(
        quiet,
        format!("FAIL {file}:4 may not <write> & delete\n     expected allow, got deny (implicit_deny)\n1 passed, 1 failed\n")
    );
    let (_, quiet) = with_and_without(&["test", "policies/expectations/examples.json"], "-q");
    assert!(
        quiet.lines().count() == 1 && quiet.ends_with(" passed, 0 failed\n"),
        "{quiet}"
    );
    bad_input(&run(&["test", &file, "-q", "-v"]), "cannot be used with");
    bad_input(
        &run(&["test", &file, "-q", "-f", "junit"]),
        "cannot be used with --format junit",
    );
}

// ---------------------------------------------------------------- 5. --color

#[test]
fn colour_is_asked_for_or_follows_no_color() {
    const ESC: &str = "\u{1b}[";
    let always = run(&strs(&check_seed000(&["-q", "--color", "always"])));
    assert!(stdout(&always).contains(ESC), "{:?}", stdout(&always));
    // `always` overrides NO_COLOR.
    let o = cmd(&strs(&check_seed000(&["-q", "--color=always"])))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(stdout(&o).contains(ESC));
    // A pipe is not a terminal: no colour under auto, nor with never.
    for c in ["auto", "never"] {
        let o = run(&strs(&check_seed000(&["-q", "--color", c])));
        assert!(!stdout(&o).contains(ESC), "{c}: {:?}", stdout(&o));
    }
    let lint = run(&[
        "lint",
        "--color",
        "always",
        "--at",
        AT,
        "policies/examples/ovh",
    ]);
    assert!(
        stdout(&lint).contains(&format!("{ESC}33mwarning")),
        "{}",
        stdout(&lint)
    );
    // Machine formats are never coloured.
    let json = run(&strs(&check_seed000(&["--color", "always", "-f", "json"])));
    assert!(!stdout(&json).contains(ESC));
    bad_input(&run(&["--color", "sometimes", "roles"]), "sometimes");
}

// ---------------------------------------------------------------- 6. completions

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let s = stdout(&o);
        for word in ["check", "lint", "who-can", "terraform-plan", "color"] {
            assert!(s.contains(word), "{shell}: `{word}` not completed");
        }
    }
}

// ---------------------------------------------------------------- 7. --version

#[test]
fn version_names_the_catalogues_with_their_sources() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout(&o);
    assert!(
        v.starts_with(&format!("policy-sim {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let count = |path: &str| {
        String::from_utf8(read(path))
            .unwrap()
            .lines()
            .skip(1)
            .count()
    };
    assert!(
        v.contains(&format!(
            "{} OVHcloud IAM actions",
            count("policies/ovh-actions.tsv")
        )),
        "{v}"
    );
    assert!(
        v.contains(&format!(
            "{} OUTSCALE EIM action names",
            count("policies/outscale-actions.tsv")
        )),
        "{v}"
    );
    let coverage: serde_json::Value =
        serde_json::from_slice(&read("policies/ovh-catalogue-coverage.json")).unwrap();
    for s in coverage["sources"].as_array().unwrap() {
        assert!(v.contains(s.as_str().unwrap()), "{s} missing:\n{v}");
    }
    let oslo: serde_json::Value =
        serde_json::from_slice(&read("policies/openstack-policy-defaults.json")).unwrap();
    assert!(v.contains(&format!(
        "oslo.policy {}",
        oslo["oslo.policy"].as_str().unwrap()
    )));
    for name in [
        "ovh-permission-groups.json",
        "openstack-role-matrix.json",
        "openstack-commands.json",
        "openstack-policy-defaults.json",
    ] {
        assert!(v.contains(name), "{name} missing:\n{v}");
    }
    assert!(v.contains("updated: 2023-12-06"), "{v}");
    // Nothing points at the maintainers' working files.
    assert!(!v.contains("seed") && !v.contains("shared"), "{v}");
}

// ---------------------------------------------------------------- 8. help on every option

#[test]
fn every_argument_of_every_command_has_help_text() {
    fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
        let path = format!("{path} {}", c.get_name());
        if c.get_about().is_none() && c.get_long_about().is_none() && c.get_name() != "policy-sim" {
            missing.push(format!("{path}: the command has no about"));
        }
        for a in c.get_arguments() {
            let id = a.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if a.get_help().is_none() && a.get_long_help().is_none() {
                missing.push(format!("{path}: `{id}`"));
            }
        }
        for s in c.get_subcommands() {
            if s.get_name() != "help" {
                walk(s, &path, missing);
            }
        }
    }
    let mut missing = Vec::new();
    let mut root = policy_sim::cli::command();
    root.build();
    walk(&root, "", &mut missing);
    assert!(
        missing.is_empty(),
        "without help text:\n{}",
        missing.join("\n")
    );
}

// ---------------------------------------------------------------- 9. test --format json|junit

/// An expectation file with one passing and one failing case (a `<` and `&` in a name, for XML).
fn expectations() -> (PathBuf, String) {
    let dir = tmp("expect");
    let path = dir.join("expect.json");
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        &path,
        format!(
            r#"{{"policies": ["{root}/{SEED000}"], "at": "{AT}",
 "cases": [
  {{"name": "may list servers", "identity": "{SA}", "action": "compute_read", "resource": "{PROJECT}", "expect": "allow"}},
  {{"name": "may not <write> & delete", "identity": "{SA}", "action": "compute_manage", "resource": "{PROJECT}", "expect": "allow"}}
 ]}}
"#
        ),
    )
    .unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn test_json_lists_every_case() {
    let (_dir, file) = expectations();
    let o = run(&["test", &file, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 1);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0]["passed"], true);
    assert_eq!(cases[0]["line"], 3);
    assert_eq!(cases[1]["passed"], false);
    assert_eq!(cases[1]["expected"], "allow");
    assert_eq!(cases[1]["decision"], "deny");
    assert_eq!(cases[1]["reason"], "implicit_deny");
    assert_eq!(cases[1]["file"], file.as_str());
}

#[test]
fn test_junit_is_junit_xml() {
    let (_dir, file) = expectations();
    let o = run(&[
        "test",
        &file,
        "policies/expectations/examples.json",
        "--format",
        "junit",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let xml = stdout(&o);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2, "one testsuite per file");
    let mut total = 0;
    let mut failures = 0;
    for s in &suites {
        assert_eq!(s.tag_name().name(), "testsuite");
        let cases: Vec<_> = s.children().filter(|n| n.is_element()).collect();
        assert_eq!(s.attribute("tests").unwrap(), cases.len().to_string());
        let failed = cases
            .iter()
            .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
            .count();
        assert_eq!(s.attribute("failures").unwrap(), failed.to_string());
        for c in &cases {
            assert_eq!(c.tag_name().name(), "testcase");
            assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
        }
        total += cases.len();
        failures += failed;
    }
    assert_eq!(root.attribute("tests").unwrap(), total.to_string());
    assert_eq!(root.attribute("failures").unwrap(), failures.to_string());
    assert_eq!(failures, 1);
    let failed = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    let case = failed.parent().unwrap();
    assert_eq!(case.attribute("name"), Some("may not <write> & delete"));
    assert_eq!(case.attribute("line"), Some("4"));
    assert_eq!(
        failed.attribute("message"),
        Some("expected allow, got deny (implicit_deny)")
    );
    assert!(failed
        .text()
        .unwrap_or_default()
        .contains("DENY (implicit_deny)"));
}
