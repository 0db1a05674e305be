//! Running many captures at once: at most `jobs` threads, results in input order, and a
//! callback on the calling thread as each one finishes (bulk `pin` and `check` print progress
//! with it, so one hung server is not minutes of silence).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `f` over `items` on at most `jobs` threads. `done(index, result)` is called on the
/// calling thread as each finishes; a call of `f` that panicked gives `None`.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
    mut done: impl FnMut(usize, Option<&R>),
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Option<R>)>();
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|sc| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            let tx = tx.clone();
            let (next, f) = (&next, &f);
            sc.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item))).ok();
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            done(i, r.as_ref());
            if let Some(slot) = out.get_mut(i) {
                *slot = r;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_input_order_and_every_item_is_reported_once() {
        let items: Vec<u64> = (0..50).collect();
        let mut seen = Vec::new();
        let out = super::map(
            &items,
            4,
            |x| {
                std::thread::sleep(std::time::Duration::from_millis(50 - x));
                x * 2
            },
            |i, r| seen.push((i, r.copied())),
        );
        assert_eq!(out, items.iter().map(|x| Some(x * 2)).collect::<Vec<_>>());
        seen.sort();
        assert_eq!(seen.len(), 50);
        assert!(seen.iter().all(|(i, r)| *r == Some(*i as u64 * 2)));
        let panics = super::map(
            &[1, 2],
            2,
            |x| if *x == 2 { panic!("boom") } else { *x },
            |_, _| {},
        );
        assert_eq!(panics, [Some(1), None]);
    }
}
