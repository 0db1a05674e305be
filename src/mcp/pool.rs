//! Running many captures at once ([`capture_many`]): a bounded work queue of at most `jobs`
//! threads, each taking the next server as soon as it is free (no batch barrier: one slow
//! server holds one worker, never the others), results in input order, and a callback on the
//! calling thread as each one finishes (bulk `pin`, `check` and `scan --all` print progress
//! with it, so one hung server is not minutes of silence). The one way captures run
//! concurrently.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::{Capture, CaptureError, CaptureOptions, LaunchSpec, capture};

/// Captures each `(spec, options)` with at most `jobs` captures running at once (`jobs` 0
/// counts as 1). `done(index, result)` is called on the calling thread as each finishes, in
/// the order they finish; the results come back in input order. A capture that panicked is
/// [`CaptureError::Internal`], and the others go on.
pub fn capture_many(
    specs: &[(LaunchSpec, CaptureOptions)],
    jobs: usize,
    mut done: impl FnMut(usize, &Result<Capture, CaptureError>),
) -> Vec<Result<Capture, CaptureError>> {
    let internal = |i: usize| CaptureError::Internal {
        server: specs
            .get(i)
            .map_or_else(String::new, |(s, _)| super::capture::label(s)),
    };
    map(
        specs,
        jobs,
        |(spec, opts)| capture(spec, opts),
        |i, r| match r {
            Some(r) => done(i, r),
            None => done(i, &Err(internal(i))),
        },
    )
    .into_iter()
    .enumerate()
    .map(|(i, r)| r.unwrap_or_else(|| Err(internal(i))))
    .collect()
}

/// Runs `f` over `items` on at most `jobs` threads. `done(index, result)` is called on the
/// calling thread as each finishes; a call of `f` that panicked gives `None`.
fn map<T: Sync, R: Send>(
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
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn results_keep_input_order_and_every_item_is_reported_once() {
        let items: Vec<u64> = (0..50).collect();
        let mut seen = Vec::new();
        let out = map(
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
        let panics = map(
            &[1, 2],
            2,
            |x| if *x == 2 { panic!("boom") } else { *x },
            |_, _| {},
        );
        assert_eq!(panics, [Some(1), None]);
    }

    /// No batch barrier: with two workers, one item that blocks until every other item has
    /// finished does not stop them (fixed chunks of two would wait for it forever).
    #[test]
    fn a_stuck_item_holds_one_worker_and_the_others_drain_the_queue() {
        let items: Vec<usize> = (0..8).collect();
        let finished = AtomicUsize::new(0);
        let out = map(
            &items,
            2,
            |&x| {
                if x == 0 {
                    while finished.load(Ordering::SeqCst) < items.len() - 1 {
                        std::thread::yield_now();
                    }
                } else {
                    finished.fetch_add(1, Ordering::SeqCst);
                }
                x
            },
            |_, _| {},
        );
        assert_eq!(out, items.iter().map(|&x| Some(x)).collect::<Vec<_>>());
    }

    /// Servers that cannot start: each result is its own server's error, in input order, and
    /// each is reported once. (Live captures run through `check`, `pin --all` and `scan --all`
    /// in tests/pin_check.rs and tests/clients.rs against real servers.)
    #[test]
    fn capture_many_reports_each_server_once_in_input_order() {
        let specs: Vec<(LaunchSpec, CaptureOptions)> = (0..5)
            .map(|i| {
                (
                    LaunchSpec::Stdio {
                        command: format!("/nonexistent/mcpseal-test-server-{i}"),
                        args: vec![],
                        env: BTreeMap::new(),
                        cwd: None,
                    },
                    CaptureOptions::default(),
                )
            })
            .collect();
        let mut reported = Vec::new();
        let out = capture_many(&specs, 2, |i, r| {
            reported.push((i, r.as_ref().err().map(CaptureError::code)));
        });
        assert_eq!(out.len(), 5);
        for (i, r) in out.iter().enumerate() {
            let e = r
                .as_ref()
                .expect_err("a missing command cannot be captured");
            assert_eq!(e.code(), "spawn-failed");
            assert!(e.to_string().contains(&format!("server-{i}")), "{e}");
        }
        reported.sort();
        assert_eq!(
            reported,
            (0..5)
                .map(|i| (i, Some("spawn-failed")))
                .collect::<Vec<_>>()
        );
        assert!(capture_many(&[], 8, |_, _| panic!("nothing to report")).is_empty());
    }
}
