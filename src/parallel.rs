//! When work is split across cores, for every data-parallel loop (the pre-scan of a large file, validation,
//! the identity index, `check --requests`): each runs on rayon's one work-stealing pool, and each cuts its
//! work by [`parts`], so that a small input stays on the calling thread.

/// Into how many parts to cut `units` of work: one per core of the pool, but no part smaller than
/// `min_part` units (below that, handing work to another core costs more than it saves). `1`: do it here.
pub fn parts(units: usize, min_part: usize) -> usize {
    (units / min_part.max(1)).clamp(1, rayon::current_num_threads())
}

#[cfg(test)]
mod tests {
    use super::parts;

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
