//! Digest and diff of a 1,000-tool surface (issue 3 target: <= 10 ms each).
//! Run: `cargo bench --bench surface`. Median of 21 runs; plain std timing, no harness.

mod common;
use common::median_ms;

use mcpseal::surface::{EntityKind, Surface, diff::diff, keyed};
use serde_json::json;

fn surface(n: usize, changed_every: usize) -> Surface {
    let tools = (0..n)
        .map(|i| {
            let desc = if changed_every > 0 && i % changed_every == 0 { "Changed." } else { "Reads a thing." };
            json!({
                "name": format!("tool_{i:04}"),
                "title": format!("Tool {i}"),
                "description": format!("Tool number {i}. {desc}"),
                "inputSchema": {"type": "object", "properties": {
                    "path": {"type": "string", "description": "Where to read."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "How many."},
                    "filters": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}, "v": {"type": "string"}}}}
                }, "required": ["path"]},
                "annotations": {"readOnlyHint": true}
            })
        })
        .collect();
    let mut s = Surface::default();
    s.entities
        .insert(EntityKind::Tools, keyed(EntityKind::Tools, tools).unwrap());
    s
}

fn main() {
    let a = surface(1000, 0);
    let b = surface(1000, 10);
    let digest = median_ms(|| {
        std::hint::black_box(a.digests().unwrap());
    });
    let d = median_ms(|| {
        std::hint::black_box(diff(&a, &b));
    });
    println!("digest of a 1,000-tool surface: {digest:.2} ms (target <= 10)");
    println!("diff of two 1,000-tool surfaces (100 changed): {d:.2} ms (target <= 10)");
}
