//! `policy-sim --version`: the version, and the data catalogues built into the binary with where each
//! comes from, read from the catalogues' own metadata (nothing here is typed by hand).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

const OVH_ACTIONS: &str = include_str!("../../policies/ovh-actions.tsv");
const OVH_COVERAGE: &str = include_str!("../../policies/ovh-catalogue-coverage.json");
const OVH_GROUPS: &str = include_str!("../../policies/ovh-permission-groups.json");
const OVH_GROUP_SOURCES: &str =
    include_str!("../../policies/gen/ovh/ovh-permission-groups.sources.tsv");
const OUTSCALE_ACTIONS: &str = include_str!("../../policies/outscale-actions.tsv");
const ROLE_MATRIX: &str = include_str!("../../policies/openstack-role-matrix.json");
const OPENSTACK_COMMANDS: &str = include_str!("../../policies/openstack-commands.json");
const OSLO_DEFAULTS: &str = include_str!("../../policies/openstack-policy-defaults.json");

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn len(v: &Value, key: &str) -> usize {
    v.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

fn rows(tsv: &str) -> impl Iterator<Item = Vec<&str>> {
    tsv.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').collect())
}

/// A source text without what points at the maintainers' working files (a parenthesis naming them).
fn public(source: &str) -> &str {
    match source.find(" (") {
        Some(i) if source.get(i..).is_some_and(|r| r.contains("seed")) => {
            source.get(..i).unwrap_or(source)
        }
        _ => source,
    }
}

/// The long version text: `policy-sim X.Y.Z` and one paragraph per built-in catalogue.
pub fn long_version() -> String {
    let mut out = format!(
        "{}\n\nbuilt-in data catalogues (policies/):",
        env!("CARGO_PKG_VERSION")
    );
    let mut item = |name: &str, what: String, from: Vec<String>| {
        let _ = write!(out, "\n  {name}: {what}");
        for f in from {
            let _ = write!(out, "\n      from {f}");
        }
    };

    let coverage = json(OVH_COVERAGE);
    let sources = coverage
        .get("sources")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    item(
        "ovh-actions.tsv",
        format!("{} OVHcloud IAM actions", rows(OVH_ACTIONS).count()),
        sources,
    );

    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows(OVH_GROUP_SOURCES) {
        if let [_, _, "shipped", source, path, commit, date, ..] = r.as_slice() {
            let commit = commit.get(..12).unwrap_or(commit);
            *groups
                .entry(format!("{source}, {path}, commit {commit} ({date})"))
                .or_default() += 1;
        }
    }
    let count = json(OVH_GROUPS).as_array().map_or(0, Vec::len);
    item(
        "ovh-permission-groups.json",
        format!("{count} OVHcloud-managed permission groups"),
        groups
            .into_iter()
            .map(|(s, n)| format!("{s}: {n} of them"))
            .collect(),
    );

    let mut by_source: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0usize;
    for r in rows(OUTSCALE_ACTIONS) {
        total += 1;
        for s in r.get(2).copied().unwrap_or_default().split(';') {
            *by_source.entry(s).or_default() += 1;
        }
    }
    item(
        "outscale-actions.tsv",
        format!("{total} OUTSCALE EIM action names"),
        vec![by_source
            .iter()
            .map(|(s, n)| format!("{s} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")],
    );

    let matrix = json(ROLE_MATRIX);
    item(
        "openstack-role-matrix.json",
        format!(
            "{} OpenStack role actions x {} permissions",
            len(&matrix, "roles"),
            len(&matrix, "permissions")
        ),
        matrix
            .get("source")
            .and_then(Value::as_str)
            .map(|s| vec![public(s).to_owned()])
            .unwrap_or_default(),
    );

    let commands = json(OPENSTACK_COMMANDS);
    let upstream = commands
        .get("upstream")
        .and_then(Value::as_object)
        .map(|o| {
            o.values()
                .filter_map(Value::as_str)
                .map(|s| match s.rsplit_once(' ') {
                    Some((head, sha)) => format!("{head} {}", sha.get(..12).unwrap_or(sha)),
                    None => s.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .into_iter()
        .collect();
    item(
        "openstack-commands.json",
        format!(
            "{} openstack CLI commands, {} openstacksdk calls",
            len(&commands, "commands"),
            len(&commands, "sdk")
        ),
        upstream,
    );

    let oslo = json(OSLO_DEFAULTS);
    let services = oslo
        .get("services")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(name, s)| {
                    let v = s
                        .get("package_version")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    format!("{name} {v}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    item(
        "openstack-policy-defaults.json",
        String::from("the registered oslo.policy defaults of the shipped services"),
        vec![format!(
            "oslo.policy {}: {services}",
            oslo.get("oslo.policy")
                .and_then(Value::as_str)
                .unwrap_or("?")
        )],
    );
    out
}
