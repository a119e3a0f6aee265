//! The pre-scan of a large top-level array on two cores ([`check_items`]).
//!
//! [`scan::check`] is one linear walk, on one core while the other waits. A walk cannot start in the middle
//! of a text (it would not know whether it is in a string, nor how deep), so the text is cut where the
//! *next item* very likely starts, and the cut is then proved, not trusted:
//!
//! - the cut is a `,` followed by exactly the text that opens the first item (its indentation, `{`, and its
//!   first key: `,\n  {\n    "id"` in an API dump), looked for from the middle of the text; the item starts
//!   at its `{`;
//! - one thread walks the text from its start and stops there ([`scan::check_until_item`]): it says whether
//!   it reached that offset as an item of the top-level array, that is, with nothing else open;
//! - the other walks from that item to the end ([`scan::check_from_item`]), starting in the state the first
//!   walk is in when it gets there.
//!
//! When the first walk reached the item, the two walks together are exactly the walk of the whole text:
//! same issues, same items, same completeness. When both are clean and complete, their items are the
//! text's; in any other case (no cut found, the item not reached, an issue, an incomplete walk) the answer is
//! `None` and the caller walks the whole text as before, which words the problems: the split only ever saves
//! time, it never decides anything. Nothing is copied.

use super::scan::{self, ScanLimits};

/// Texts shorter than this are walked on one core: a second thread costs more than it saves (the text is
/// cut in two parts of at least half this; see [`crate::parallel::parts`]).
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// The item starts of a clean top-level array, found on two cores; `None` when the text is small, not an
/// array, cannot be cut, or is not clean and complete (then [`scan::check`] must say why).
pub fn check_items(text: &str, limits: ScanLimits) -> Option<Vec<usize>> {
    if crate::parallel::parts(text.len(), PARALLEL_MIN_BYTES / 2) < 2 {
        return None;
    }
    two_walks(text, limits)
}

/// [`check_items`] whatever the size of the text.
fn two_walks(text: &str, limits: ScanLimits) -> Option<Vec<usize>> {
    let item = find_cut(text)? + 1;
    let item = item + text.get(item..)?.find('{')?;
    let (first, second) = rayon::join(
        || scan::check_until_item(text, item, limits),
        || scan::check_from_item(text, item, limits),
    );
    let first = first?;
    if !(second.complete && first.issues.is_empty() && second.issues.is_empty()) {
        return None;
    }
    let mut items = first.items;
    items.extend(second.items);
    Some(items)
}

/// Where to cut: a `,` followed by the text that opens the first item, nearest after the middle.
fn find_cut(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let ws = |i: usize| -> usize {
        bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|b| !b" \t\r\n".contains(b)))
            .map_or(bytes.len(), |n| i + n)
    };
    let open = ws(0);
    if bytes.get(open) != Some(&b'[') {
        return None;
    }
    let item = ws(open + 1);
    if bytes.get(item) != Some(&b'{') {
        return None;
    }
    let key = ws(item + 1);
    if bytes.get(key) != Some(&b'"') {
        return None;
    }
    // The first key, up to its closing quote (a key with an escape is not worth cutting at).
    let key_end = key + 1 + memchr::memchr2(b'"', b'\\', bytes.get(key + 1..)?)?;
    if bytes.get(key_end) != Some(&b'"') {
        return None;
    }
    let mut needle = Vec::with_capacity(key_end + 2 - open);
    needle.push(b',');
    needle.extend_from_slice(bytes.get(open + 1..=key_end)?);
    let from = text.len() / 2;
    let found = memchr::memmem::find(bytes.get(from..)?, &needle)?;
    Some(from + found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    const LIMITS: ScanLimits = ScanLimits {
        max_depth: 64,
        max_string_bytes: 1 << 20,
    };

    /// A top-level array of `n` policies, pretty-printed or compact.
    fn policies(n: usize, pretty: bool) -> String {
        let items: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({
                    "id": format!("id-{i}"),
                    "name": format!("policy-{i}"),
                    "permissions": {"allow": [{"action": "a:b"}, {"action": "c:d"}]},
                    "resources": [{"urn": "urn:v1:eu:resource:vps:x"}],
                })
            })
            .collect();
        if pretty {
            serde_json::to_string_pretty(&items).unwrap()
        } else {
            serde_json::to_string(&items).unwrap()
        }
    }

    #[test]
    fn a_walk_stopped_at_any_item_and_one_from_it_are_the_whole_walk() {
        let text = r#" [ {"a": 1, "b": [{"c": 2}, {"c": 3}]}, {"a": "x,{\"a\"", "a": 2}, [1, {"d": {}}], "s", {"e": 5} ] "#;
        let whole = scan::check(text, LIMITS);
        assert!(whole.complete);
        assert_eq!(whole.items.len(), 5);
        assert_eq!(
            whole.issues.len(),
            1,
            "the duplicate `a` of the second item"
        );
        for (k, &at) in whole.items.iter().enumerate() {
            let first = scan::check_until_item(text, at, LIMITS).unwrap();
            let second = scan::check_from_item(text, at, LIMITS);
            assert_eq!(first.items, whole.items[..k]);
            assert_eq!(second.items, whole.items[k..]);
            assert!(second.complete);
            assert_eq!(first.issues.len() + second.issues.len(), 1, "{k}");
        }
        // Not an item start of the top-level array: inside an item, a string, a nested array, or no value.
        for needle in ["{\"c\": 3}", "{\"d\"", ",{", "1, {", "\"x,"] {
            let at = text.find(needle).unwrap() + usize::from(needle.starts_with(','));
            assert!(
                scan::check_until_item(text, at, LIMITS).is_none(),
                "{needle}"
            );
        }
        // A rest that does not end the array where the text ends is incomplete.
        let cut = &text[..text.len() - 3];
        assert!(!scan::check_from_item(cut, whole.items[4], LIMITS).complete);
    }

    #[test]
    fn the_two_walks_find_the_same_items_as_one() {
        for pretty in [true, false] {
            let text = policies(12_000, pretty);
            assert!(text.len() >= PARALLEL_MIN_BYTES, "{}", text.len());
            let whole = scan::check(&text, LIMITS);
            assert!(whole.complete && whole.issues.is_empty());
            let cut = find_cut(&text).unwrap();
            assert!(cut >= text.len() / 2);
            let split = check_items(&text, LIMITS);
            if rayon::current_num_threads() >= 2 {
                assert_eq!(split.as_deref(), Some(&whole.items[..]), "pretty: {pretty}");
            }
        }
    }

    #[test]
    fn a_cut_inside_an_item_or_a_string_is_refused() {
        let text = policies(12_000, true);
        let cut = find_cut(&text).unwrap();
        let needle_at = |t: &str| find_cut(t).map(|c| t.as_bytes()[c]);
        assert_eq!(needle_at(&text), Some(b','));
        // The same bytes as the cut, one level deeper: `[[...]]` has one item, so a cut between the inner
        // items cannot close the array, and the split gives up (the caller walks the whole).
        let nested = format!("[{text}]");
        assert!(
            find_cut(&nested).is_none(),
            "the first item is an array, not an object"
        );
        // A cut that looks right but is inside the second item: the first walk never reaches it as an item.
        let compact = policies(12_000, false);
        let wrapped = format!("[{{\"id\": 1}},{{\"x\": {compact}}}]");
        assert!(scan::check(&wrapped, LIMITS).complete);
        assert!(find_cut(&wrapped).is_some_and(|c| c > wrapped.len() / 2));
        assert_eq!(check_items(&wrapped, LIMITS), None);
        // A duplicate key in the second half, or in the first: the split gives up, the whole walk reports it.
        let mut dup = text.clone();
        let at = dup.rfind("\"name\"").unwrap();
        dup.insert_str(at, "\"id\": 0, ");
        assert!(!scan::check(&dup, LIMITS).issues.is_empty());
        assert_eq!(check_items(&dup, LIMITS), None);
        let mut dup = text.clone();
        let at = dup[..cut].rfind("\"name\"").unwrap();
        dup.insert_str(at, "\"id\": 0, ");
        assert_eq!(check_items(&dup, LIMITS), None);
        // Trailing text after the array.
        assert_eq!(check_items(&format!("{text} 1"), LIMITS), None);
    }

    /// The `i`th member of an object: `"id"` first, then `"k1"`, `"k2"`...; or, rarely, the key before it
    /// again (a duplicate).
    fn field(i: usize, dup: bool, value: &str) -> String {
        let key = match (i, dup) {
            (0, _) | (1, true) => String::from("id"),
            (i, true) => format!("k{}", i - 1),
            (i, false) => format!("k{i}"),
        };
        format!("\"{key}\": {value}")
    }

    /// A small JSON-like text: an array of objects whose keys repeat (duplicates), with nested values and
    /// strings that hold the cut's bytes (`,{"id"`), written compact or indented.
    fn text_strategy() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(String::from("1")),
            Just(String::from("\"v\"")),
            Just(String::from("\",{\\\"id\\\"\"")),
            Just(String::from("\"\\\\\"")),
            Just(String::from("[]")),
        ];
        let value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((prop::bool::weighted(0.05), inner), 0..4).prop_map(
                    |kv| {
                        let body: Vec<String> = kv
                            .iter()
                            .enumerate()
                            .map(|(i, (dup, v))| field(i, *dup, v))
                            .collect();
                        format!("{{{}}}", body.join(", "))
                    }
                ),
            ]
        });
        let item =
            proptest::collection::vec((prop::bool::weighted(0.05), value), 0..4).prop_map(|kv| {
                let mut body = vec![String::from("\n    \"id\": 0")];
                body.extend(
                    kv.iter()
                        .enumerate()
                        .map(|(i, (dup, v))| format!("\n    {}", field(i + 1, *dup, v))),
                );
                format!("{{{}\n  }}", body.join(","))
            });
        (proptest::collection::vec(item, 1..12), any::<bool>()).prop_map(|(items, compact)| {
            let text = format!("[\n  {}\n]", items.join(",\n  "));
            if compact {
                text.replace(['\n', ' '], "")
            } else {
                text
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the text (mutated into broken JSON too), the two walks either give up or give exactly
        /// the one walk's items, of a clean and complete text: the split never decides anything.
        #[test]
        fn two_walks_agree_with_one_or_give_up(
            text in text_strategy(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..10usize), 0..2),
        ) {
            let mut bytes = text.into_bytes();
            for (at, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 if i < bytes.len() => { bytes.remove(i); }
                    _ => bytes.insert(i, b"{}[],:\"\\ a"[op % 10]),
                }
            }
            let text = String::from_utf8(bytes).unwrap();
            let whole = scan::check(&text, LIMITS);
            if let Some(items) = two_walks(&text, LIMITS) {
                prop_assert!(whole.complete && whole.issues.is_empty(), "{text}");
                prop_assert_eq!(items, whole.items);
            }
        }
    }
}
