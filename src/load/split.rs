//! The pre-scan of a large top-level array on two cores ([`check_items`]).
//!
//! [`scan::check`] is one linear walk, and on a file of 10k policies it is a fifth of load + compile, on one
//! core while the other waits. A walk cannot start in the middle of a text (it would not know whether it
//! is in a string, nor how deep), so the text is cut where the *next item* very likely starts, and the cut
//! is then proved, not trusted:
//!
//! - the cut is a `,` followed by exactly the text that opens the first item (its indentation, `{`, and its
//!   first key: `,\n  {\n    "id"` in an API dump), looked for from the middle of the text;
//! - the first half is walked as `text[..cut] + "]"`, the second as `"[" + text[cut + 1..]`, each on its
//!   own core. Both walks must come out clean and complete. The first one can only complete if the cut
//!   closes exactly one open array with nothing else open (not inside a string, an object or a nested
//!   array), that is, if the `,` separates two items of the top-level array; the second then reads the
//!   rest of that array to the end of the text.
//!
//! Duplicate keys are looked for within one object, which never spans the cut; depth and string lengths are
//! the same in the halves as in the whole. So a clean, complete pair of halves is exactly a clean, complete
//! whole, and the items are those of the two halves. In any other case (no cut found, a half with an issue
//! or incomplete) the answer is `None` and the caller walks the whole text as before, which words the
//! problems: the split only ever saves time, it never decides anything.

use super::scan::{self, ScanLimits};

/// Texts shorter than this are walked on one core: two threads and two copies cost more than they save.
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// The item starts of a clean top-level array, found on two cores; `None` when the text is small, not an
/// array, cannot be cut, or is not clean and complete (then [`scan::check`] must say why).
pub fn check_items(text: &str, limits: ScanLimits) -> Option<Vec<usize>> {
    if text.len() < PARALLEL_MIN_BYTES
        || std::thread::available_parallelism().map_or(1, |n| n.get()) < 2
    {
        return None;
    }
    let cut = find_cut(text)?;
    let first = format!("{}]", text.get(..cut)?);
    let second = format!("[{}", text.get(cut + 1..)?);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| scan::check(&first, limits));
        let b = scan::check(&second, limits);
        (a.join(), b)
    });
    let a = a.ok()?;
    if !(a.complete && b.complete && a.issues.is_empty() && b.issues.is_empty()) {
        return None;
    }
    // The second half's offsets count its `[`, which stands for the `,` at `cut`.
    let mut items = a.items;
    items.extend(b.items.iter().map(|&i| i + cut));
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
    fn the_halves_find_the_same_items_as_one_walk() {
        for pretty in [true, false] {
            let text = policies(12_000, pretty);
            assert!(text.len() >= PARALLEL_MIN_BYTES, "{}", text.len());
            let whole = scan::check(&text, LIMITS);
            assert!(whole.complete && whole.issues.is_empty());
            let cut = find_cut(&text).unwrap();
            assert!(cut >= text.len() / 2);
            let split = check_items(&text, LIMITS);
            if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
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
        // A cut that looks right but is inside the second item: its first half cannot complete.
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
}
