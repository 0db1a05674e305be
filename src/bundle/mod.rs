//! Sigstore bundle v0.3 model, DSSE envelopes, in-toto statements; key-based sign and verify.
//!
//! Never reads files: callers hand in bytes and digests. Owned by issue 2.
