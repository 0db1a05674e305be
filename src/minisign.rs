//! minisign and signify signatures, verified with our own strict parsers.
//!
//! - **minisign** public key: an `untrusted comment:` line, then base64 of `Ed` ‖ key id (8
//!   bytes) ‖ Ed25519 key (32). Signature file: `untrusted comment:` line; base64 of the
//!   algorithm (`ED`: the signature is over BLAKE2b-512 of the file, "prehashed"; `Ed`: over the
//!   file itself, legacy) ‖ key id ‖ signature (64); a `trusted comment:` line; base64 of the
//!   global signature, Ed25519 over signature ‖ trusted comment. Both signatures are checked;
//!   the trusted comment is returned only then.
//! - **signify** (OpenBSD): public key `untrusted comment:` line + base64 of `Ed` ‖ key number
//!   (8) ‖ key (32); signature `untrusted comment:` line + base64 of `Ed` ‖ key number ‖
//!   signature (64) over the message itself.
//!
//! Inputs are bounded; nothing panics on garbage. The library never reads files: the caller
//! hands in the texts and a reader for the artifact.

use std::io::Read;

use base64::Engine;
use blake2::{Blake2b512, Digest as _};

use crate::keys::PublicKey;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error)]
pub enum SigError {
    #[error("malformed {what}: {why}")]
    Malformed { what: &'static str, why: String },
    #[error("signed by key id {found}, but the key given has id {expected}")]
    KeyIdMismatch { found: String, expected: String },
    #[error("the signature does not verify: the file was altered or signed by another key")]
    BadSignature,
    #[error("the trusted comment's signature does not verify: the comment was edited")]
    BadTrustedComment,
    #[error("cannot read the artifact: {0}")]
    Read(String),
}

impl SigError {
    pub fn code(&self, flavour: &str) -> String {
        let c = match self {
            SigError::Malformed { .. } => "malformed",
            SigError::KeyIdMismatch { .. } => "key-id-mismatch",
            SigError::BadSignature => "bad-signature",
            SigError::BadTrustedComment => "bad-trusted-comment",
            SigError::Read(_) => "io-error",
        };
        if c == "io-error" {
            c.to_owned()
        } else {
            format!("{flavour}-{c}")
        }
    }
    /// Exit 2 rather than 1.
    pub fn is_input_error(&self) -> bool {
        matches!(self, SigError::Malformed { .. } | SigError::Read(_))
    }
}

fn malformed(what: &'static str, why: impl Into<String>) -> SigError {
    SigError::Malformed {
        what,
        why: why.into(),
    }
}

/// The non-comment lines of a minisign / signify file, with the first line's check.
fn lines<'a>(text: &'a str, what: &'static str) -> Result<Vec<&'a str>, SigError> {
    let mut it = text.lines();
    match it.next() {
        Some(l) if l.starts_with("untrusted comment:") => {}
        _ => {
            return Err(malformed(
                what,
                "the first line must be `untrusted comment: …`",
            ));
        }
    }
    Ok(it.filter(|l| !l.trim().is_empty()).collect())
}

fn decode(what: &'static str, line: &str, len: usize) -> Result<Vec<u8>, SigError> {
    let b = B64
        .decode(line.trim())
        .map_err(|_| malformed(what, "not valid base64"))?;
    if b.len() != len {
        return Err(malformed(
            what,
            format!("{} bytes, expected {len}", b.len()),
        ));
    }
    Ok(b)
}

/// A minisign or signify public key.
#[derive(Clone, Debug)]
pub struct SigKey {
    pub key_id: [u8; 8],
    key: PublicKey,
}

impl SigKey {
    /// Parses a public key file (the same layout for minisign and signify).
    pub fn parse(text: &str, what: &'static str) -> Result<SigKey, SigError> {
        let l = lines(text, what)?;
        let [line] = l.as_slice() else {
            return Err(malformed(what, "expected one key line after the comment"));
        };
        let b = decode(what, line, 42)?;
        if &b[..2] != b"Ed" {
            return Err(malformed(
                what,
                "not an Ed25519 key (algorithm is not `Ed`)",
            ));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&b[2..10]);
        let mut raw = [0u8; 32];
        raw.copy_from_slice(&b[10..42]);
        let key = PublicKey::from_bytes(&raw).map_err(|e| malformed(what, e.to_string()))?;
        Ok(SigKey { key_id, key })
    }

    /// The key id as minisign prints it (hex, big-endian of the little-endian bytes).
    pub fn id_hex(&self) -> String {
        let mut b = self.key_id;
        b.reverse();
        hex::encode_upper(b)
    }
}

fn check_id(key: &SigKey, found: &[u8]) -> Result<(), SigError> {
    if found != key.key_id {
        let mut f = [0u8; 8];
        f.copy_from_slice(found);
        f.reverse();
        return Err(SigError::KeyIdMismatch {
            found: hex::encode_upper(f),
            expected: key.id_hex(),
        });
    }
    Ok(())
}

/// Largest artifact read whole (legacy `Ed` minisign, signify).
pub const MAX_WHOLE: u64 = 1 << 30;

fn read_all(r: &mut dyn Read) -> Result<Vec<u8>, SigError> {
    let mut v = Vec::new();
    r.take(MAX_WHOLE + 1)
        .read_to_end(&mut v)
        .map_err(|e| SigError::Read(e.to_string()))?;
    if v.len() as u64 > MAX_WHOLE {
        return Err(SigError::Read(format!(
            "over the {MAX_WHOLE}-byte limit for unhashed signatures"
        )));
    }
    Ok(v)
}

/// Verifies a minisign signature over the artifact; returns the trusted comment.
pub fn verify_minisign(
    key: &SigKey,
    sig_text: &str,
    artifact: &mut dyn Read,
) -> Result<String, SigError> {
    const W: &str = "minisign signature";
    let l = lines(sig_text, W)?;
    let [sig_line, tc_line, global_line] = l.as_slice() else {
        return Err(malformed(
            W,
            "expected a signature line, a `trusted comment:` line and a global signature line",
        ));
    };
    let b = decode(W, sig_line, 74)?;
    let (alg, id, sig) = (&b[..2], &b[2..10], &b[10..74]);
    check_id(key, id)?;
    let trusted = tc_line
        .strip_prefix("trusted comment: ")
        .ok_or_else(|| malformed(W, "the third line must be `trusted comment: …`"))?;
    let global = decode(W, global_line, 64)?;
    let signed_ok = match alg {
        b"ED" => {
            let mut h = Blake2b512::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = artifact
                    .read(&mut buf)
                    .map_err(|e| SigError::Read(e.to_string()))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            key.key.verify(&h.finalize(), sig).is_ok()
        }
        b"Ed" => key.key.verify(&read_all(artifact)?, sig).is_ok(),
        _ => return Err(malformed(W, "unknown algorithm (expected `ED` or `Ed`)")),
    };
    if !signed_ok {
        return Err(SigError::BadSignature);
    }
    let mut global_msg = sig.to_vec();
    global_msg.extend_from_slice(trusted.as_bytes());
    if key.key.verify(&global_msg, &global).is_err() {
        return Err(SigError::BadTrustedComment);
    }
    Ok(trusted.to_owned())
}

/// Verifies a detached signify signature over the artifact.
pub fn verify_signify(
    key: &SigKey,
    sig_text: &str,
    artifact: &mut dyn Read,
) -> Result<(), SigError> {
    const W: &str = "signify signature";
    let l = lines(sig_text, W)?;
    let [sig_line] = l.as_slice() else {
        return Err(malformed(
            W,
            "expected one signature line after the comment (embedded signatures are not supported)",
        ));
    };
    let b = decode(W, sig_line, 74)?;
    if &b[..2] != b"Ed" {
        return Err(malformed(W, "not an Ed25519 signature"));
    }
    check_id(key, &b[2..10])?;
    if key.key.verify(&read_all(artifact)?, &b[10..74]).is_ok() {
        Ok(())
    } else {
        Err(SigError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for text in [
            "",
            "x",
            "untrusted comment: a",
            "untrusted comment: a\n!!!",
            "untrusted comment: a\nRWQ=",
            "untrusted comment: a\nRWQ\nRWQ",
        ] {
            assert!(
                matches!(SigKey::parse(text, "k"), Err(SigError::Malformed { .. })),
                "{text:?}"
            );
        }
        let k = crate::keys::generate().unwrap();
        let mut raw = b"Xy".to_vec();
        raw.extend_from_slice(&[0; 8]);
        raw.extend_from_slice(&k.public().ed25519_bytes().unwrap());
        let text = format!("untrusted comment: k\n{}\n", B64.encode(&raw));
        assert!(
            matches!(SigKey::parse(&text, "k"), Err(SigError::Malformed { .. })),
            "wrong algorithm bytes"
        );
        raw[..2].copy_from_slice(b"Ed");
        let key = SigKey::parse(
            &format!("untrusted comment: k\n{}\n", B64.encode(&raw)),
            "k",
        )
        .unwrap();
        for sig in [
            "",
            "untrusted comment: s\n",
            "untrusted comment: s\nAAAA\ntrusted comment: x\nAAAA",
            "untrusted comment: s\n\n\n",
        ] {
            assert!(
                matches!(
                    verify_minisign(&key, sig, &mut &b"x"[..]),
                    Err(SigError::Malformed { .. })
                ),
                "{sig:?}"
            );
            assert!(
                matches!(
                    verify_signify(&key, sig, &mut &b"x"[..]),
                    Err(SigError::Malformed { .. })
                ),
                "{sig:?}"
            );
        }
    }
}
