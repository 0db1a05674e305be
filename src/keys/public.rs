//! [`PublicKey`]: an SPKI public key of any supported type, and signature checks with it.
//!
//! The type comes from the SPKI's algorithm identifier (and, for ECDSA, its named curve):
//! `id-Ed25519` (1.3.101.112, no parameters), `id-ecPublicKey` (1.2.840.10045.2.1) on P-256,
//! P-384 or P-521 with an uncompressed point, `rsaEncryption` (1.2.840.113549.1.1.1) of 2048 to
//! 8192 bits. Anything else is refused when the key is read, never when a signature is checked:
//! RSA under 2048 bits (`key-too-small`), other curves, compressed points, RSA-PSS-only or DSA
//! keys (`key-unsupported`), a private key (`key-wrong-type`).

use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use pkcs8::der::pem::{self, LineEnding};
use pkcs8::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use sha2::{Digest as _, Sha256};

use super::{Hash, KeyError, Scheme, SignatureError};

pub(super) const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(super) const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(super) const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A; cosign refuses smaller too).
pub const MIN_RSA_BITS: u32 = 2048;
/// Largest RSA modulus accepted (aws-lc-rs' limit; bounds the cost of a check).
pub const MAX_RSA_BITS: u32 = 8192;

/// The type of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Rsa { bits: u32 },
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Ed25519 => f.write_str("Ed25519"),
            KeyKind::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyKind::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyKind::EcdsaP521 => f.write_str("ECDSA P-521"),
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
        }
    }
}

impl KeyKind {
    /// The scheme cosign signs with for this key type: ECDSA with the curve's own hash
    /// (SHA-256 / 384 / 512), RSA PKCS#1 v1.5 with SHA-256, pure Ed25519.
    pub fn default_scheme(self) -> Scheme {
        match self {
            KeyKind::Ed25519 => Scheme::Ed25519,
            KeyKind::EcdsaP256 => Scheme::Ecdsa(Hash::Sha256),
            KeyKind::EcdsaP384 => Scheme::Ecdsa(Hash::Sha384),
            KeyKind::EcdsaP521 => Scheme::Ecdsa(Hash::Sha512),
            KeyKind::Rsa { .. } => Scheme::RsaPkcs1(Hash::Sha256),
        }
    }
}

#[derive(Clone)]
enum Inner {
    Ed25519(VerifyingKey),
    /// ECDSA and RSA keys are checked by aws-lc-rs from their bytes: the SPKI DER for ECDSA,
    /// the PKCS#1 `RSAPublicKey` for RSA.
    Lc(Vec<u8>),
}

/// A public key read from an SPKI. Two keys are equal when their DER SPKIs are.
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    inner: Inner,
    /// The DER SubjectPublicKeyInfo, as read (strict DER) or encoded.
    spki: Vec<u8>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}
impl Eq for PublicKey {}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({} {})", self.kind, self.key_id())
    }
}

fn ec_algorithm(kind: KeyKind, h: Hash) -> Option<&'static lc::EcdsaVerificationAlgorithm> {
    Some(match (kind, h) {
        (KeyKind::EcdsaP256, Hash::Sha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (KeyKind::EcdsaP256, Hash::Sha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (KeyKind::EcdsaP256, Hash::Sha512) => &lc::ECDSA_P256_SHA512_ASN1,
        (KeyKind::EcdsaP384, Hash::Sha256) => &lc::ECDSA_P384_SHA256_ASN1,
        (KeyKind::EcdsaP384, Hash::Sha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (KeyKind::EcdsaP384, Hash::Sha512) => &lc::ECDSA_P384_SHA512_ASN1,
        (KeyKind::EcdsaP521, Hash::Sha256) => &lc::ECDSA_P521_SHA256_ASN1,
        (KeyKind::EcdsaP521, Hash::Sha384) => &lc::ECDSA_P521_SHA384_ASN1,
        (KeyKind::EcdsaP521, Hash::Sha512) => &lc::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

fn rsa_algorithm(pss: bool, h: Hash) -> &'static lc::RsaParameters {
    match (pss, h) {
        (false, Hash::Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
        (false, Hash::Sha384) => &lc::RSA_PKCS1_2048_8192_SHA384,
        (false, Hash::Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
        (true, Hash::Sha256) => &lc::RSA_PSS_2048_8192_SHA256,
        (true, Hash::Sha384) => &lc::RSA_PSS_2048_8192_SHA384,
        (true, Hash::Sha512) => &lc::RSA_PSS_2048_8192_SHA512,
    }
}

fn malformed(e: impl std::fmt::Display) -> KeyError {
    KeyError::Malformed(e.to_string())
}

impl PublicKey {
    pub(super) fn from_ed25519(vk: VerifyingKey) -> PublicKey {
        let spki = vk
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        PublicKey {
            kind: KeyKind::Ed25519,
            inner: Inner::Ed25519(vk),
            spki,
        }
    }

    /// An Ed25519 key from its raw 32 bytes (as minisign and signify carry it).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey::from_ed25519)
            .map_err(|_| KeyError::Malformed("not a valid Ed25519 point".into()))
    }

    /// Reads an SPKI PEM public key (`PUBLIC KEY`). A private key here is refused, never used.
    pub fn from_spki_pem(text: &[u8]) -> Result<PublicKey, KeyError> {
        let (label, der) = pem::decode_vec(text).map_err(|e| KeyError::NotPem(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::WrongLabel {
                found: label.into(),
                expected: "PUBLIC KEY",
            });
        }
        Self::from_spki_der(&der)
    }

    /// Same as [`PublicKey::from_spki_pem`].
    pub fn from_pem(text: &[u8]) -> Result<PublicKey, KeyError> {
        Self::from_spki_pem(text)
    }

    /// Reads a DER SubjectPublicKeyInfo; the key type is the SPKI's.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        let spki = SubjectPublicKeyInfoRef::try_from(der).map_err(malformed)?;
        let bits = spki.subject_public_key.as_bytes().ok_or_else(|| {
            KeyError::Malformed("the public key bit string has unused bits".into())
        })?;
        let oid = spki.algorithm.oid;
        if oid == ED25519_OID {
            if spki.algorithm.parameters.is_some() {
                return Err(malformed("Ed25519 SPKI with parameters"));
            }
            let raw = <[u8; 32]>::try_from(bits)
                .map_err(|_| malformed("an Ed25519 public key is 32 bytes"))?;
            return Self::from_bytes(&raw);
        }
        if oid == EC_OID {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| malformed("an EC key must name its curve (namedCurve)"))?;
            let (kind, len) = match curve {
                P256_OID => (KeyKind::EcdsaP256, 65),
                P384_OID => (KeyKind::EcdsaP384, 97),
                P521_OID => (KeyKind::EcdsaP521, 133),
                other => {
                    return Err(KeyError::Unsupported(format!(
                        "elliptic curve {other} (supported: P-256, P-384, P-521)"
                    )));
                }
            };
            if bits.first() != Some(&0x04) || bits.len() != len {
                return Err(KeyError::Unsupported(format!(
                    "{kind} point is not in the uncompressed form ({len} bytes, 0x04 first) cosign and OpenSSL write"
                )));
            }
            // aws-lc-rs checks the point is on the curve.
            let alg = ec_algorithm(kind, kind.default_scheme_hash())
                .ok_or_else(|| malformed("no ECDSA algorithm"))?;
            if aws_lc_rs::signature::ParsedPublicKey::new(alg, der).is_err() {
                return Err(malformed(format!("not a valid {kind} point")));
            }
            return Ok(PublicKey {
                kind,
                inner: Inner::Lc(der.to_vec()),
                spki: der.to_vec(),
            });
        }
        if oid == RSA_OID {
            let n_bits = lc::RsaParameters::public_modulus_len(bits)
                .map_err(|_| malformed("not a valid RSA public key"))?;
            if n_bits < MIN_RSA_BITS {
                return Err(KeyError::TooSmall { bits: n_bits });
            }
            if n_bits > MAX_RSA_BITS {
                return Err(KeyError::Unsupported(format!(
                    "RSA key of {n_bits} bits (at most {MAX_RSA_BITS})"
                )));
            }
            return Ok(PublicKey {
                kind: KeyKind::Rsa { bits: n_bits },
                inner: Inner::Lc(bits.to_vec()),
                spki: der.to_vec(),
            });
        }
        Err(KeyError::Unsupported(match oid {
            RSA_PSS_OID => "an RSA-PSS-only (id-RSASSA-PSS) key: give it as rsaEncryption".into(),
            other => {
                format!("key algorithm {other} (supported: Ed25519, ECDSA P-256/P-384/P-521, RSA)")
            }
        }))
    }

    /// The key's type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The scheme [`PublicKey::verify`] checks with (cosign's for this key type).
    pub fn default_scheme(&self) -> Scheme {
        self.kind.default_scheme()
    }

    /// The raw 32-byte key, if this is an Ed25519 key.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match &self.inner {
            Inner::Ed25519(vk) => Some(vk.to_bytes()),
            Inner::Lc(_) => None,
        }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// SPKI PEM (`PUBLIC KEY`).
    pub fn to_pem(&self) -> String {
        pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.spki).unwrap_or_default()
    }

    /// Standard base64 of SHA-256 over the DER SubjectPublicKeyInfo.
    pub fn key_id(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.spki))
    }

    /// Checks `sig` over `msg` with the key's [`default_scheme`](PublicKey::default_scheme).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        self.verify_with(self.default_scheme(), msg, sig)
    }

    /// Checks `sig` over `msg` with `scheme`, which must suit the key's type (an Ed25519 key
    /// checks only Ed25519, an EC key only ECDSA, an RSA key PKCS#1 v1.5 or PSS).
    ///
    /// Ed25519 is strict (small-order keys and non-canonical signatures refused). ECDSA
    /// signatures must be DER; a high-S signature is accepted, as cosign (Go) and OpenSSL
    /// accept it — Go signs about half its signatures with a high S.
    pub fn verify_with(
        &self,
        scheme: Scheme,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        let (mismatch, bad) = self.refusals(scheme);
        if let (Inner::Ed25519(vk), Scheme::Ed25519) = (&self.inner, scheme) {
            let sig = <[u8; 64]>::try_from(sig).map_err(|_| bad.clone())?;
            let sig = Signature::from_bytes(&sig);
            return if vk.verify_strict(msg, &sig).is_ok() && vk.verify(msg, &sig).is_ok() {
                Ok(())
            } else {
                Err(bad)
            };
        }
        let (alg, bytes) = self.lc_parts(scheme).ok_or(mismatch)?;
        lc_verify(alg, bytes, msg, sig).map_err(|()| bad)
    }

    fn refusals(&self, scheme: Scheme) -> (SignatureError, SignatureError) {
        let key = self.kind;
        (
            SignatureError::SchemeMismatch { key, scheme },
            SignatureError::BadSignature { key, scheme },
        )
    }

    /// The aws-lc-rs algorithm and key bytes for `scheme`, if it suits this ECDSA or RSA key.
    fn lc_parts(&self, scheme: Scheme) -> Option<(&'static dyn VerificationAlgorithm, &[u8])> {
        let Inner::Lc(bytes) = &self.inner else {
            return None;
        };
        let alg: &'static dyn VerificationAlgorithm = match (self.kind, scheme) {
            (KeyKind::Rsa { .. }, Scheme::RsaPkcs1(h)) => rsa_algorithm(false, h),
            (KeyKind::Rsa { .. }, Scheme::RsaPss(h)) => rsa_algorithm(true, h),
            (kind, Scheme::Ecdsa(h)) => ec_algorithm(kind, h)?,
            _ => return None,
        };
        Some((alg, bytes.as_slice()))
    }

    /// Checks `sig` over a message given by its `digest` (the output of `scheme`'s hash over
    /// the message), so a large file is hashed once — e.g. while its digest is compared with a
    /// bundle's `messageDigest`. ECDSA and RSA only: pure Ed25519 signs the message itself
    /// (`scheme-mismatch`). A digest of the wrong length is a bad signature.
    pub fn verify_digest(
        &self,
        scheme: Scheme,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        let (mismatch, bad) = self.refusals(scheme);
        let (alg, bytes) = self.lc_parts(scheme).ok_or(mismatch)?;
        let h = scheme.hash().ok_or_else(|| bad.clone())?;
        lc_verify_digest(alg, bytes, h, digest, sig).map_err(|()| bad)
    }
}

fn lc_digest_alg(h: Hash) -> &'static aws_lc_rs::digest::Algorithm {
    match h {
        Hash::Sha256 => &aws_lc_rs::digest::SHA256,
        Hash::Sha384 => &aws_lc_rs::digest::SHA384,
        Hash::Sha512 => &aws_lc_rs::digest::SHA512,
    }
}

fn lc_verify(
    alg: &'static dyn VerificationAlgorithm,
    key: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), ()> {
    UnparsedPublicKey::new(alg, key)
        .verify(msg, sig)
        .map_err(|_| ())
}

fn lc_verify_digest(
    alg: &'static dyn VerificationAlgorithm,
    key: &[u8],
    h: Hash,
    digest: &[u8],
    sig: &[u8],
) -> Result<(), ()> {
    let d =
        aws_lc_rs::digest::Digest::import_less_safe(digest, lc_digest_alg(h)).map_err(|_| ())?;
    UnparsedPublicKey::new(alg, key)
        .verify_digest(&d, sig)
        .map_err(|_| ())
}

impl KeyKind {
    fn default_scheme_hash(self) -> Hash {
        match self.default_scheme() {
            Scheme::Ecdsa(h) | Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) => h,
            Scheme::Ed25519 => Hash::Sha512,
        }
    }
}
