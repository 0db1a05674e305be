//! `canonical`: arbitrary bytes through [`json::parse_strict`] and, when they are JSON, through
//! [`json::canonical`], our RFC 8785 writer (every digest mcpseal pins or signs).
//!
//! Oracles: no panic; the canonical bytes equal serde_json_canonicalizer's, byte for byte (the
//! implementation ours replaced, which passes the same reference vectors, testdata/jcs); the
//! only value ours refuses and it accepts is an integer beyond ±2^53 (which it would round);
//! the canonical text parses strictly back to a value whose canonical text is itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpseal::json::{self, JsonError};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = json::parse_strict(data) else {
        return;
    };
    let theirs = serde_json_canonicalizer::to_vec(&v);
    match json::canonical(&v) {
        Ok(ours) => {
            let theirs = theirs.unwrap_or_else(|e| panic!("only ours accepted {v:?}: {e}"));
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "the two RFC 8785 writers disagree on {v:?}"
            );
            let back = json::parse_strict(&ours)
                .unwrap_or_else(|e| panic!("canonical text does not parse back: {e}"));
            assert_eq!(json::canonical(&back).ok(), Some(ours), "not a fixed point");
        }
        Err(JsonError::UnsafeInteger(_)) => {}
        Err(e) => panic!("ours refused {v:?} for another reason than an unsafe integer: {e}"),
    }
});
