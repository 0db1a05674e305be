//! What the benchmarks share: plain std timing, no harness.

use std::time::Instant;

/// The median of 21 runs of `f`, in milliseconds.
pub fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..21)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[10]
}
