//! `--terraform-plan`: a `terraform show -json` plan's IAM objects, mapped to the API shapes (issue 20).
//! Fixtures: `fixtures/terraform/*.json`, written in the documented plan format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::bin;

use policy_sim::load::terraform::{add_state, diff_inputs, PlanInputs, State};
use policy_sim::load::{Limits, Loaded};
use policy_sim::source::SourceId;

const OVH: &str = "fixtures/terraform/ovh-plan.json";
const OVH_UNKNOWN: &str = "fixtures/terraform/ovh-unknown-identity.json";
const OVH_BAD: &str = "fixtures/terraform/ovh-unknown-attribute.json";
const OSC: &str = "fixtures/terraform/outscale-plan.json";
const VPS: &str = "urn:v1:eu:resource:vps:vps-1.vps.ovh.net";

/// Every synthetic source of one state of a plan, as the loader reads it: the mapping, pinned.
fn mapped(path: &str, state: State) -> String {
    let mut loaded = Loaded::new();
    let read = add_state(&mut loaded, path, state);
    let mut out = String::new();
    let mut id = 0u32;
    while let Some(s) = loaded.sources.get(SourceId(id)) {
        if read.addresses.contains_key(&s.name) {
            out.push_str(&format!("== {}\n{}\n", s.name, s.text));
        }
        id += 1;
    }
    for p in &loaded.problems {
        out.push_str(&format!("problem: {}\n", p.message));
    }
    for n in &read.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// The addresses of the decisive entries of `engine`'s answer to `req`.
fn decisive(
    engine: &policy_sim::Engine,
    req: &policy_sim::Request,
    inputs: &PlanInputs,
) -> (bool, Vec<String>) {
    let resp = engine.explain(&engine.prepare(req).unwrap());
    let addresses = resp
        .trace
        .iter()
        .filter(|e| e.decisive)
        .filter_map(|e| e.file.as_deref())
        .filter_map(|f| inputs.address_of(f))
        .map(str::to_owned)
        .collect();
    (resp.decision == policy_sim::Verdict::Allow, addresses)
}

#[test]
fn ovh_planned_mapping() {
    insta::assert_snapshot!(mapped(OVH, State::Planned));
}

#[test]
fn ovh_prior_mapping() {
    insta::assert_snapshot!(mapped(OVH, State::Prior));
}

/// A module called with `for_each`: each instance's policy names its own group (references are relative
/// to the module).
#[test]
fn module_instances_mapping() {
    insta::assert_snapshot!(mapped("fixtures/terraform/ovh-module.json", State::Planned));
}

/// A resource group and a permission group created with the policy that names them (their URNs known
/// only after apply): one placeholder URN each, in the group and in the policy.
#[test]
fn groups_created_with_their_policy() {
    insta::assert_snapshot!(mapped("fixtures/terraform/ovh-groups.json", State::Planned));
    let out = bin()
        .args([
            "check",
            "--terraform-plan",
            "fixtures/terraform/ovh-groups.json",
        ])
        .args([
            "-i",
            "urn:v1:eu:identity:user:xx1111-ovh/ci",
            "-a",
            "vps:apiovh:reboot",
            "-r",
            VPS,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn outscale_planned_mapping() {
    insta::assert_snapshot!(mapped(OSC, State::Planned));
}

#[test]
fn outscale_prior_mapping() {
    insta::assert_snapshot!(mapped(OSC, State::Prior));
}

#[test]
fn unknown_attribute_is_an_error_naming_address_and_attribute() {
    let out = bin()
        .args(["check", "--terraform-plan", OVH_BAD, "-i"])
        .args([
            "urn:v1:eu:identity:user:xx1111-ovh/ci",
            "-a",
            "vps:apiovh:get",
            "-r",
            VPS,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`ovh_iam_policy.typo[\"x\"]`: attribute `allowed` of `ovh_iam_policy`"),
        "{err}"
    );
    assert!(err.contains("ovh-unknown-attribute.json:36:24"), "{err}");
}

#[test]
fn unknown_identity_answers_with_the_placeholder() {
    // No `data "ovh_me"`, no --account: the account is unknown, the group a placeholder that keeps its name.
    let id = "urn:v1:eu:identity:group:known-after-apply/devs";
    let run = |action: &str| {
        bin()
            .args([
                "check",
                "--terraform-plan",
                OVH_UNKNOWN,
                "-f",
                "json",
                "-i",
                id,
                "-a",
                action,
                "-r",
                VPS,
            ])
            .output()
            .unwrap()
    };
    let out = run("vps:apiovh:get");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("(known after apply: ovh_me_identity_group.devs.urn)"),
        "{notes}"
    );
    // The policy's deny names the placeholder too.
    assert_eq!(run("vps:apiovh:delete").status.code(), Some(1));
    // bob joins it through `group = ovh_me_identity_group.devs.name`, unknown in the plan: read through
    // the configuration's references.
    let out = bin()
        .args([
            "check",
            "--terraform-plan",
            OVH_UNKNOWN,
            "-a",
            "vps:apiovh:get",
            "-r",
            VPS,
        ])
        .args(["-i", "urn:v1:eu:identity:user:known-after-apply/bob"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn built_urns_and_group_membership() {
    // alice is created in group `ops` (created too): her URN and the group's are built from data.ovh_me.
    let alice = "urn:v1:eu:identity:user:xx1111-ovh/alice";
    let out = bin()
        .args([
            "check",
            "--terraform-plan",
            OVH,
            "-i",
            alice,
            "-a",
            "vps:apiovh:reboot",
            "-r",
            VPS,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ovh-plan.json: ovh_iam_policy.ops_admin"),
        "{text}"
    );
    assert!(
        text.contains("built as `urn:v1:eu:identity:group:xx1111-ovh/ops`"),
        "{text}"
    );
}

#[test]
fn combines_with_policies() {
    // The plan's users and groups, with policies kept outside Terraform.
    let out = bin()
        .args([
            "check",
            "--policies",
            "policies/examples/ovh",
            "--terraform-plan",
            OVH,
        ])
        .args([
            "-i",
            "urn:v1:eu:identity:user:xx1111-ovh/ci",
            "-a",
            "vps:apiovh:reinstall",
            "-r",
            VPS,
        ])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The diff support for `audit diff --terraform-plan`: prior against planned, each change attributed to the
/// address of the policy that decides its witness.
#[test]
fn diff_prior_against_planned_names_addresses() {
    let mut inputs = diff_inputs(OVH, &[], &[], Limits::default());
    let mut prior = policy_sim::build(std::mem::take(&mut inputs.prior), None).unwrap();
    let mut planned = policy_sim::build(std::mem::take(&mut inputs.planned), None).unwrap();
    let u = policy_sim::audit::Universe::joint(
        &mut [&mut prior, &mut planned],
        &policy_sim::audit::Scope::default(),
    );
    let mut lines = Vec::new();
    for c in policy_sim::audit::diff::diff(&prior, &planned, &u, || {}) {
        let engine = match c.kind {
            policy_sim::audit::diff::ChangeKind::Granted => &planned,
            policy_sim::audit::diff::ChangeKind::Removed => &prior,
        };
        let (_, causes) = decisive(engine, &c.witness.request(), &inputs);
        lines.push(format!(
            "{:?} {} on {}: {} actions, e.g. {} — {}",
            c.kind,
            c.identity.as_deref().unwrap_or("-"),
            c.resource.as_deref().unwrap_or("-"),
            c.actions.len(),
            c.witness.action,
            causes.join(", ")
        ));
    }
    let all = lines.join("\n");
    // alice joins the new group `ops`, which the new policy makes a global admin.
    assert!(all.contains("Granted urn:v1:eu:identity:user:xx1111-ovh/alice on urn:v1:eu:resource:vps:vps-1.vps.ovh.net"), "{all}");
    assert!(all.contains("— ovh_iam_policy.ops_admin"), "{all}");
    // The new service account, known only after apply, is a placeholder granted by its policy.
    assert!(all.contains("Granted urn:v1:eu:identity:credential:xx1111-ovh/oauth2-known-after-apply(ovh_me_api_oauth2_client.bot.identity)"), "{all}");
    // The deleted `count` instance removes access.
    assert!(all.contains("— ovh_iam_policy.old[0]"), "{all}");
    insta::assert_snapshot!(all);
}

#[test]
fn lint_findings_carry_the_address() {
    let out = bin()
        .args(["lint", "--terraform-plan", OVH, "-f", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(!files.is_empty(), "{v}");
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("fixtures/terraform/ovh-plan.json: ")),
        "{files:?}"
    );
    let out = bin()
        .args(["lint", "--terraform-plan", OVH_BAD])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("attribute `allowed`"));
}

#[test]
fn test_subcommand_reads_the_plan() {
    let dir = std::env::temp_dir().join(format!("policy-sim-tf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("plan-expect.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"cases": [
  {{"identity": "urn:v1:eu:identity:user:xx1111-ovh/ci", "action": "vps:apiovh:reinstall", "resource": "{VPS}", "expect": "allow"}},
  {{"identity": "urn:v1:eu:identity:user:xx1111-ovh/alice", "action": "vps:apiovh:reboot", "resource": "{VPS}", "expect": "deny"}}
]}}"#
        ),
    )
    .unwrap();
    let out = bin()
        .args(["test", file.to_str().unwrap(), "--terraform-plan", OVH])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The first case passes (the plan adds `reinstall` to the devs group's policy); the second fails: the
    // plan makes alice's new group a global admin.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("1 passed") || text.contains("passed: 1") || text.contains("1 failed"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real `terraform show -json` (Terraform 1.11, built-in `terraform_data` only, no prior state): the
/// envelope reads, nothing is mapped, nothing is a problem.
#[test]
fn real_terraform_envelope_reads() {
    let plan = "fixtures/terraform/real-terraform-data.json";
    for state in [State::Prior, State::Planned] {
        let mut loaded = Loaded::new();
        let read = add_state(&mut loaded, plan, state);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert!(read.addresses.is_empty());
    }
}

#[test]
fn not_a_plan_is_refused() {
    let mut loaded = Loaded::new();
    add_state(
        &mut loaded,
        "policies/examples/accounts/ovh-account.json",
        State::Planned,
    );
    assert!(loaded
        .problems
        .iter()
        .any(|p| p.message.contains("not a Terraform plan")));
}

/// OUTSCALE: a new default version widens a group's policy; a new user is linked (through a reference, the
/// ORN being known only after apply) to a new policy; a `count` user is deleted.
#[test]
fn outscale_diff_names_addresses() {
    let mut inputs = diff_inputs(OSC, &[], &[], Limits::default());
    let mut prior = policy_sim::build(std::mem::take(&mut inputs.prior), None).unwrap();
    let mut planned = policy_sim::build(std::mem::take(&mut inputs.planned), None).unwrap();
    let u = policy_sim::audit::Universe::joint(
        &mut [&mut prior, &mut planned],
        &policy_sim::audit::Scope::default(),
    );
    let mut lines = Vec::new();
    for c in policy_sim::audit::diff::diff(&prior, &planned, &u, || {}) {
        let granted = c.kind == policy_sim::audit::diff::ChangeKind::Granted;
        let engine = if granted { &planned } else { &prior };
        let (_, causes) = decisive(engine, &c.witness.request(), &inputs);
        lines.push(format!(
            "{:?} {} {} — {}",
            c.kind,
            c.identity.as_deref().unwrap_or("-"),
            if c.actions.contains(&String::from("api:DeleteVms")) {
                "api:DeleteVms"
            } else {
                c.witness.action.as_str()
            },
            causes.join(", ")
        ));
    }
    let all = lines.join("\n");
    assert!(
        all.contains("Granted watcher api:DeleteVms — outscale_policy.read"),
        "{all}"
    );
    // A user on one side only (created or deleted by the plan) may do nothing on the other side: everything
    // it may do is a change. (Skipping such users was a false all-clear: a plan creating an admin user
    // reported only the other changes.)
    assert!(
        all.contains("Granted deployer api:DeleteVms — outscale_policy.admin"),
        "{all}"
    );
    assert!(
        all.contains("Removed legacy api:ReadVms — outscale_policy.read"),
        "{all}"
    );
    // Their deciding policies, asked directly.
    let cause = |engine: &policy_sim::Engine, user: &str, action: &str| {
        decisive(
            engine,
            &policy_sim::Request::new(Some(user), action, None),
            &inputs,
        )
    };
    assert_eq!(
        cause(&planned, "deployer", "api:DeleteVms"),
        (true, vec![String::from("outscale_policy.admin")])
    );
    assert_eq!(
        cause(&prior, "legacy", "api:ReadVms"),
        (true, vec![String::from("outscale_policy.read")])
    );
    // The deleted user is gone from the planned state.
    assert!(planned
        .prepare(&policy_sim::Request::new(
            Some("legacy"),
            "api:ReadVms",
            None
        ))
        .is_err());
}

/// An expectation file names its plan (`terraform_plan`, relative to the file).
#[test]
fn expectation_file_names_its_plan() {
    let out = bin()
        .args(["test", "fixtures/terraform/expectations/ovh-plan.json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("PASS ").count(), 3, "{text}");
}

/// `audit diff --terraform-plan`: a plan that makes a group a global admin exits 1 and names the address.
#[test]
fn audit_diff_of_a_plan_exits_1_naming_the_address() {
    let o = common::bin()
        .args([
            "audit",
            "diff",
            "--terraform-plan",
            "fixtures/terraform/ovh-plan.json",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("caused by (Terraform addresses"), "{out}");
    assert!(
        out.contains("granted urn:v1:eu:identity:user:xx1111-ovh/alice on urn:v1:eu:resource:vps:vps-1.vps.ovh.net: ovh_iam_policy.ops_admin"),
        "{out}"
    );
    assert!(
        out.contains("removed ") && out.contains("ovh_iam_policy.old[0]"),
        "{out}"
    );
    // The planned side's witnesses paste as `check --terraform-plan`.
    assert!(
        out.contains("policy-sim check --terraform-plan fixtures/terraform/ovh-plan.json"),
        "{out}"
    );
}

/// A plan creating an account's first policies: the prior state is an empty policy set, not a missing input,
/// so the plan's grants are new access (exit 1), not "no policy file was given" (exit 2).
#[test]
fn audit_diff_of_a_plan_creating_the_first_policies() {
    let o = common::bin()
        .args([
            "audit",
            "diff",
            "--terraform-plan",
            "fixtures/terraform/ovh-groups.json",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("GRANTS urn:v1:eu:identity:user:xx1111-ovh/ci:"),
        "{out}"
    );
}

/// Every audit command reads plans: `who-can` over a plan, its witness confirmed by `check --terraform-plan`.
#[test]
fn audit_who_can_reads_a_plan_and_its_witness_pastes() {
    let run = |args: &[&str]| common::bin().args(args).output().unwrap();
    let o = run(&[
        "audit",
        "who-can",
        "--terraform-plan",
        "fixtures/terraform/ovh-plan.json",
        "-a",
        "vps:apiovh:reinstall",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    let witness = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("witness: policy-sim "))
        .unwrap_or_else(|| panic!("no witness in {out}"));
    assert!(
        witness.starts_with("check --terraform-plan fixtures/terraform/ovh-plan.json"),
        "{witness}"
    );
    let args: Vec<&str> = witness.split_whitespace().collect();
    assert_eq!(run(&args).status.code(), Some(0), "{witness}");
}
