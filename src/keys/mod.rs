//! Keys: the public keys mcpseal verifies with, the private keys it signs with, key ids.
//!
//! - [`PublicKey`]: an SPKI public key (PEM `PUBLIC KEY` or DER) of any type cosign users
//!   have — Ed25519, ECDSA P-256 / P-384 / P-521, RSA of 2048 to 8192 bits. The type is read
//!   from the SPKI; [`PublicKey::verify`] checks a signature with the scheme that type implies
//!   ([`PublicKey::default_scheme`], cosign's choice), [`PublicKey::verify_with`] with an
//!   explicit [`Scheme`] where the key does not fix it (RSA PKCS#1 v1.5 or PSS, the ECDSA hash).
//! - [`Signer`]: what signs. [`PrivateKey`] implements it for every private key mcpseal reads:
//!   its own Ed25519 keys ([`SecretKey`], PKCS#8, see [`ed25519`]), PKCS#8 ECDSA / RSA keys,
//!   and cosign-format encrypted keys ([`cosign`]).
//! - Key id: standard base64 of SHA-256 over the DER SubjectPublicKeyInfo (the form cosign and
//!   the Sigstore bundle's `publicKey.hint` use), the same for every key type.
//!
//! ECDSA and RSA run on aws-lc-rs (the backend `sigstore-verify` uses); Ed25519 on
//! `ed25519-dalek` (strict verification). The library takes bytes and passphrases from the
//! caller; it never reads files, prompts or prints. Secret material lives in `Zeroizing`
//! buffers, and no `Debug` prints it.

pub mod cosign;
pub mod ed25519;
mod private;
mod public;
#[cfg(test)]
mod tests;

pub use ed25519::{SecretKey, generate};
pub use private::{PrivateKey, is_encrypted};
pub use public::{KeyKind, PublicKey};

/// A key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not PEM: {0}")]
    NotPem(String),
    #[error("PEM label is {found:?}, expected {expected}")]
    WrongLabel {
        found: String,
        expected: &'static str,
    },
    #[error("the key is {0}, but mcpseal keys are Ed25519")]
    NotEd25519(&'static str),
    #[error("unsupported key: {0}")]
    Unsupported(String),
    #[error("the RSA key has {bits} bits; at least 2048 are required")]
    TooSmall { bits: u32 },
    #[error("the private key is encrypted: a passphrase is needed")]
    PassphraseNeeded,
    #[error("wrong passphrase, or the encrypted key is damaged")]
    WrongPassphrase,
    #[error("malformed key: {0}")]
    Malformed(String),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

impl KeyError {
    /// Stable reason code (docs/exit-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NotPem(_) => "key-not-pem",
            KeyError::WrongLabel { .. } => "key-wrong-type",
            KeyError::NotEd25519(_) => "key-not-ed25519",
            KeyError::Unsupported(_) => "key-unsupported",
            KeyError::TooSmall { .. } => "key-too-small",
            KeyError::PassphraseNeeded => "key-passphrase-needed",
            KeyError::WrongPassphrase => "key-wrong-passphrase",
            KeyError::Malformed(_) => "key-malformed",
            KeyError::Random(_) => "no-randomness",
            KeyError::Sign(_) => "sign-failed",
        }
    }
}

/// A message digest a signature scheme hashes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        })
    }
}

/// A signature scheme: how a signature is made over a message. The curve or modulus comes
/// from the key; the scheme says the rest.
///
/// - `Ed25519`: pure Ed25519 (RFC 8032), 64-byte signatures.
/// - `Ecdsa(h)`: ECDSA over the message hashed with `h`, the signature ASN.1 DER
///   (`SEQUENCE { r, s }`) as cosign, Sigstore and OpenSSL write it.
/// - `RsaPkcs1(h)`: RSASSA-PKCS1-v1_5 with `h`.
/// - `RsaPss(h)`: RSASSA-PSS with `h`, MGF1 with `h`, salt length = digest length (Sigstore's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Ed25519,
    Ecdsa(Hash),
    RsaPkcs1(Hash),
    RsaPss(Hash),
}

impl Scheme {
    /// The hash the scheme signs with; `None` for pure Ed25519, which hashes inside.
    pub fn hash(self) -> Option<Hash> {
        match self {
            Scheme::Ed25519 => None,
            Scheme::Ecdsa(h) | Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) => Some(h),
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scheme::Ed25519 => f.write_str("Ed25519"),
            Scheme::Ecdsa(h) => write!(f, "ECDSA with {h}"),
            Scheme::RsaPkcs1(h) => write!(f, "RSA PKCS#1 v1.5 with {h}"),
            Scheme::RsaPss(h) => write!(f, "RSA-PSS with {h}"),
        }
    }
}

/// A signature did not verify.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("a {key} key cannot check a {scheme} signature")]
    SchemeMismatch { key: KeyKind, scheme: Scheme },
    #[error("the {scheme} signature does not verify with this {key} key")]
    BadSignature { key: KeyKind, scheme: Scheme },
}

impl SignatureError {
    /// Stable reason code (docs/exit-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::SchemeMismatch { .. } => "scheme-mismatch",
            SignatureError::BadSignature { .. } => "bad-signature",
        }
    }
}

/// Something that signs: a private key in memory (and, later, a KMS or hardware key).
///
/// `sign` returns the signature in the encoding [`Signer::algorithm`] names (DER for ECDSA),
/// so [`PublicKey::verify_with`]`(signer.algorithm(), …)` on [`Signer::public_key`] accepts it.
pub trait Signer {
    /// A signature over `msg` (the scheme hashes it; pass the message, not a digest).
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError>;
    /// The matching public key.
    fn public_key(&self) -> PublicKey;
    /// The scheme `sign` uses.
    fn algorithm(&self) -> Scheme;
}
