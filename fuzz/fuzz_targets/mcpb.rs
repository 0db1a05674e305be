//! `mcpb`: arbitrary bytes through [`mcpb::verify`] (a self-signed signer allowed, no roots)
//! and [`mcpb::read_manifest`] (the `manifest.json` reader `pin --mcpb` uses).
//!
//! Oracles: no panic; a bundle that verifies has its signed content inside the file, and the
//! content digest it reports is the SHA-256 of exactly those leading bytes (the verifier hashed
//! what it says it signed); a manifest that reads has no tool declared twice and reads the same every time.

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use mcpseal::digest::Digest;
use mcpseal::mcpb::{self, Trust};

/// 2026-12-02, inside the seeds' certificate validity.
const NOW: u64 = 1_796_169_600;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Ok(v) = mcpb::verify(
        &mut Cursor::new(data),
        len,
        &Trust::AllowSelfSigned(&[]),
        NOW,
    ) {
        let n = usize::try_from(v.content_len()).expect("content length fits");
        assert!(
            n < data.len(),
            "the signed content is the whole file: no block was read"
        );
        let want = format!("sha256:{}", Digest::of(&data[..n]).hex());
        assert_eq!(
            v.content_digest(),
            want,
            "the reported content digest is not of the signed bytes"
        );
        // What pin reads the manifest from: never panics, whatever the signed bytes are.
        let _ = mcpb::read_manifest(&data[..n]);
    }
    if let Ok(m) = mcpb::read_manifest(data) {
        let mut seen = std::collections::BTreeSet::new();
        for t in &m.tools {
            assert!(seen.insert(t), "tool {t:?} read twice from one manifest");
        }
        // The reader is a function of the bytes: the same input reads the same manifest.
        assert_eq!(mcpb::read_manifest(data).ok(), Some(m));
    }
});
