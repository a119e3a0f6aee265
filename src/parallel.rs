//! When work is split across cores, for every data-parallel loop (the pre-scan of a large file, validation,
//! the identity index, `check --requests`): each runs on rayon's one work-stealing pool, and each cuts its
//! work by [`parts`], so that a small input stays on the calling thread.

/// Into how many parts to cut `units` of work: one per core of the pool, but no part smaller than
/// `min_part` units (below that, handing work to another core costs more than it saves). `1`: do it here.
pub fn parts(units: usize, min_part: usize) -> usize {
    (units / min_part.max(1)).clamp(1, rayon::current_num_threads())
}

/// `f` of each item, on every core of the pool, in the items' order; `done(i)` is called on the calling
/// thread as item `i` finishes (a progress bar), in whatever order they finish. Work is handed out an item at
/// a time (work stealing), so one slow item does not hold back a batch.
pub fn map_with_progress<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    mut done: impl FnMut(usize),
) -> Vec<R> {
    use rayon::prelude::*;
    if rayon::current_num_threads() < 2 || items.len() < 2 {
        return items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let r = f(x);
                done(i);
                r
            })
            .collect();
    }
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    std::thread::scope(|s| {
        let work = s.spawn(|| {
            items
                .par_iter()
                .enumerate()
                .with_max_len(1)
                .map_with(tx, |tx, (i, x)| {
                    let r = f(x);
                    // The receiver lives until every sender is gone: a send cannot fail before.
                    let _ = tx.send(i);
                    r
                })
                .collect::<Vec<R>>()
        });
        // Ends when the last sender (one per piece of work) is dropped.
        for i in rx {
            done(i);
        }
        work.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::panic)]
    use super::parts;

    #[test]
    fn map_with_progress_keeps_the_order_and_reports_each_item_once() {
        let items: Vec<u64> = (0..1000).collect();
        let mut seen = vec![0u32; items.len()];
        let out = super::map_with_progress(&items, |x| x * x, |i| seen[i] += 1);
        assert_eq!(out, items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
        let none: Vec<u64> = super::map_with_progress(&[] as &[u64], |x| *x, |_| panic!("no item"));
        assert!(none.is_empty());
    }

    #[test]
    fn small_work_is_not_split_and_large_work_gets_every_core() {
        assert_eq!(parts(0, 100), 1);
        assert_eq!(parts(199, 100), 1);
        let cores = rayon::current_num_threads();
        assert_eq!(parts(100 * cores, 100), cores);
        assert_eq!(parts(usize::MAX, 100), cores);
        assert_eq!(parts(5, 0), 5.min(cores));
    }
}
