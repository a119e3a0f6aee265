//! Helpers shared by the integration tests: run the real binary from the repository root and read what it
//! printed. Each test binary uses a subset, hence `dead_code`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The repository root: every path in the tests is relative to it.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The policy-sim binary, run from the repository root.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_policy-sim"));
    c.current_dir(repo());
    c
}

/// Run the binary with `args` from the repository root.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run policy-sim")
}

/// Run the binary with `args` from `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run policy-sim")
}

/// Run the binary with `args`, `input` on its standard input.
pub fn run_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn policy-sim");
    // A child that exits before reading all its input closes the pipe: not an error of the test.
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes());
    child.wait_with_output().expect("wait for policy-sim")
}

/// What the binary printed on standard output.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What the binary printed on standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The shipped example's time, service account, project and policy file, as several test files ask them.
pub const AT: &str = "2026-06-01T12:00:00Z";
pub const SA: &str = "urn:v1:eu:identity:credential:xx11111-ovh/oauth2-0f0f0f0f0f0f0f0f";
pub const PROJECT: &str = "urn:v1:eu:resource:publicCloudProject:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
pub const SEED000: &str = "policies/examples/ovh/demo-service-account.json";
