//! Order-preserving work on a few threads: the output never depends on how many there are.

/// `f` applied to every item on up to `threads` scoped threads, results in the items' order.
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    // Interleaved shares, so big and small items spread evenly.
    let share =
        |start: usize| -> Vec<R> { items.iter().skip(start).step_by(threads).map(&f).collect() };
    let mut shares: Vec<std::vec::IntoIter<R>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .map(|start| scope.spawn(move || share(start)))
            .collect();
        let mut shares = vec![share(0).into_iter()];
        for handle in handles {
            // A panic in a worker is a bug of the caller's `f`: re-raise it as is.
            match handle.join() {
                Ok(results) => shares.push(results.into_iter()),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        shares
    });
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        if let Some(result) = shares[i % threads].next() {
            out.push(result);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_whatever_the_threads() {
        let items: Vec<u32> = (0..103).collect();
        let expected: Vec<u32> = items.iter().map(|i| i * 3).collect();
        for threads in [0, 1, 2, 3, 8, 500] {
            assert_eq!(
                super::map(&items, threads, |i| i * 3),
                expected,
                "{threads}"
            );
        }
        assert!(super::map(&[] as &[u32], 4, |i| *i).is_empty());
    }
}
