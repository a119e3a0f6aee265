//! SEMANTICS.md documents every lint code of the registry, and the CLI help every subcommand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[test]
fn readme_lists_every_lint_code_with_its_level() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SEMANTICS.md")).unwrap();
    for r in policy_sim::lint::RULES {
        let row = format!("| `{}` | {} | {} |", r.code, r.name, r.level.as_str());
        assert!(
            readme.contains(&row),
            "SEMANTICS.md has no row `{row}` for {}: add it to the lint table",
            r.code
        );
    }
}
