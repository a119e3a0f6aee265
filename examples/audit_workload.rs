//! Writes the audit bench's generated OVHcloud workload to a directory, to time the CLI on it or to edit
//! it by hand: `cargo run --release --example audit_workload -- 250 /tmp/w` writes `policies.json` and
//! `account.json` (the bench's 2,000-user account).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/workload.rs"]
mod workload;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(250);
    let users: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let dir = std::path::PathBuf::from(args.get(2).map_or("audit-workload", String::as_str));
    std::fs::create_dir_all(&dir).unwrap();
    let mut w = workload::ovh(n);
    workload::add_users(&mut w, users);
    std::fs::write(dir.join("policies.json"), &w.policies_json).unwrap();
    std::fs::write(dir.join("account.json"), &w.account_json).unwrap();
    eprintln!("{n} policies, {users} users in {}", dir.display());
}
