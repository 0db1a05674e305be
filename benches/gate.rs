//! Issue 9: the gate's per-message work, without processes.
//! Run: `cargo bench --bench gate`. Median of 21 runs; plain std timing, no harness.
//!
//! 1. Resource-template matching (target: each below 1 ms): a 1,000-character URI against the
//!    three-variable template `x://{a}{b}{c}.z` (no match: the worst case of the old search,
//!    14.8 s), and a 1 MiB and a 400 KB URI against `test://r/{id}` (15.6 s for 400 KB before).
//! 2. The old split-trying matcher on small inputs, to show the growth it had (n = 100, 200,
//!    400 characters; it is cubic in the three-variable case).

mod common;
use common::median_ms;

use mcpseal::gate::template::Template;

/// The matcher the gate had before issue 9 (kept here only as the baseline).
fn old_matches(template: &str, uri: &str) -> bool {
    fn go(t: &str, u: &str) -> bool {
        match t.find('{') {
            None => t == u,
            Some(i) => {
                let (lit, rest) = t.split_at(i);
                let Some(u) = u.strip_prefix(lit) else {
                    return false;
                };
                let Some(end) = rest.find('}') else {
                    return false;
                };
                let var = &rest[1..end];
                let after = &rest[end + 1..];
                let greedy = var.starts_with('+') || var.starts_with('#');
                (1..=u.len()).filter(|&n| u.is_char_boundary(n)).any(|n| {
                    let (val, tail) = u.split_at(n);
                    (greedy || !val.contains('/')) && !val.contains('?') && go(after, tail)
                })
            }
        }
    }
    go(template, uri)
}

fn main() {
    let three = Template::new("x://{a}{b}{c}.z");
    let one = Template::new("test://r/{id}");
    let u1000 = format!("x://{}", "a".repeat(1000));
    let mib = format!("test://r/{}", "a".repeat(1 << 20));
    let k400 = format!("test://r/{}", "a".repeat(400 * 1024));
    let cases: [(&str, &Template, &str, bool); 3] = [
        (
            "x://{a}{b}{c}.z, 1,000-char URI (no match)",
            &three,
            &u1000,
            false,
        ),
        ("test://r/{id}, 1 MiB URI", &one, &mib, true),
        ("test://r/{id}, 400 KB URI", &one, &k400, true),
    ];
    for (label, t, uri, expect) in cases {
        assert_eq!(t.matches(uri), expect, "{label}");
        let ms = median_ms(|| {
            std::hint::black_box(t.matches(std::hint::black_box(uri)));
        });
        println!("template match: {label}: {ms:.3} ms (target < 1 ms)");
    }
    let compile = median_ms(|| {
        std::hint::black_box(Template::new(std::hint::black_box("x://{a}{b}{c}.z")));
    });
    println!(
        "template compile: x://{{a}}{{b}}{{c}}.z: {compile:.3} ms (once per template and session)"
    );
    for n in [100, 200, 400] {
        let u = format!("x://{}", "a".repeat(n));
        let old = median_ms(|| {
            std::hint::black_box(old_matches("x://{a}{b}{c}.z", &u));
        });
        let new = median_ms(|| {
            std::hint::black_box(three.matches(&u));
        });
        println!(
            "three variables, {n}-char URI: old {old:.3} ms, new {new:.4} ms, ratio {:.0}",
            old / new.max(1e-6)
        );
    }
}
