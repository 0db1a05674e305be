//! `keys`: arbitrary bytes through every key parser — `PublicKey::from_spki_der`,
//! `PublicKey::from_spki_pem`, `PrivateKey::from_pem` (no passphrase: an encrypted key stops at
//! `key-passphrase-needed` before any KDF), and `cosign::decrypt` of the bytes as a cosign
//! envelope (only when its scrypt cost is at most 128 · 1024 · 8 bytes, so the fuzzer measures
//! parsing, not scrypt; the 1 GiB cap itself is a unit test).
//!
//! Oracles: no panic; a public key that parses from DER re-encodes to exactly the input (strict
//! DER, so one key has one key id), and reads back from its own PEM as the same key; a private
//! key that parses signs, and its public key verifies that signature and no other message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mcpseal::keys::{PrivateKey, PublicKey, Signer, cosign};

/// Whether a cosign envelope asks for cheap scrypt (or is not one, which the parser refuses
/// before any scrypt).
fn cheap_scrypt(data: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return true;
    };
    let n = v
        .pointer("/kdf/params/N")
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    let r = v
        .pointer("/kdf/params/r")
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    n.saturating_mul(r) <= 1024 * 8
}

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = PublicKey::from_spki_der(data) {
        assert_eq!(
            k.to_spki_der(),
            data,
            "a parsed SPKI re-encodes to its input"
        );
        let again = PublicKey::from_spki_pem(k.to_pem().as_bytes()).expect("own PEM reads back");
        assert_eq!(again, k);
    }
    if let Ok(k) = PublicKey::from_spki_pem(data) {
        assert_eq!(
            PublicKey::from_spki_der(&k.to_spki_der()).expect("own DER reads back"),
            k
        );
    }
    if let Ok(k) = PrivateKey::from_pem(data, None) {
        let sig = k.sign(b"fuzz").expect("a parsed key signs");
        let p = k.public_key();
        assert!(p.verify_with(k.algorithm(), b"fuzz", &sig).is_ok());
        assert!(p.verify_with(k.algorithm(), b"fuzZ", &sig).is_err());
    }
    if cheap_scrypt(data) {
        if let Ok(der) = cosign::decrypt(data, b"fuzz") {
            let _ = PrivateKey::from_pkcs8_der(&der);
        }
    }
});
