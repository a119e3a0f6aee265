//! Writes the audit bench's generated OVHcloud workload to a directory, to time the CLI on it or to edit
//! it by hand: `cargo run --release --example audit_workload -- 250 /tmp/w` writes `policies.json`,
//! `account.json` (the bench's 2,000-user account) and `new_ar.json` (the same policies with policy 0's
//! allows widened to `*` on `urn:v1:eu:resource:*`: a change `audit diff` must report).
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
    let mut v: serde_json::Value = serde_json::from_str(&w.policies_json).unwrap();
    let p0 = &mut v.as_array_mut().unwrap()[0];
    p0["resources"] = serde_json::json!([{"urn": "urn:v1:eu:resource:*"}]);
    p0["permissions"]["allow"] = serde_json::json!([{"action": "*"}]);
    std::fs::write(dir.join("new_ar.json"), v.to_string()).unwrap();
    eprintln!("{n} policies, {users} users in {}", dir.display());
}
