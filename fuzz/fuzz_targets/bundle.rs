//! `bundle`: arbitrary bytes through [`bundle::verify`] with a fixed test public key
//! (`fuzz/keys/fuzz-test.pub`).
//!
//! Oracles: no panic; and a bundle that verifies carries exactly what mcpseal signed. Every
//! bundle that key ever signed came from [`bundle::sign`], which is deterministic (Ed25519,
//! RFC 8785 payload), so signing the verified statement again must give back the input's
//! payload bytes and signature: a verified bundle whose payload differs from the canonical
//! form of the statement it yields would mean the parser trusted bytes the signature did not
//! cover.

#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mcpseal::bundle;
use mcpseal::keys::{PublicKey, SecretKey};

static SECRET: LazyLock<SecretKey> = LazyLock::new(|| {
    SecretKey::from_pem(include_bytes!("../keys/fuzz-test.key"), None).expect("test key")
});
static PUBLIC: LazyLock<PublicKey> = LazyLock::new(|| {
    let k = PublicKey::from_pem(include_bytes!("../keys/fuzz-test.pub")).expect("test key");
    assert_eq!(k.key_id(), SECRET.public().key_id());
    k
});

fn b64_at(v: &serde_json::Value, pointer: &str) -> Option<Vec<u8>> {
    let s = v.pointer(pointer)?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(verified) = bundle::verify(data, &PUBLIC) else {
        return;
    };
    assert_eq!(verified.key_id(), PUBLIC.key_id());
    let input: serde_json::Value = serde_json::from_slice(data).expect("a verified bundle is JSON");
    let resigned =
        bundle::sign(verified.statement(), &*SECRET).expect("a verified statement signs");
    assert_eq!(
        b64_at(&input, "/dsseEnvelope/payload"),
        b64_at(&resigned, "/dsseEnvelope/payload"),
        "the verified payload is not the canonical form of the statement it yields"
    );
    assert_eq!(
        b64_at(&input, "/dsseEnvelope/signatures/0/sig"),
        b64_at(&resigned, "/dsseEnvelope/signatures/0/sig"),
        "a second signature verified for the same payload"
    );
});
