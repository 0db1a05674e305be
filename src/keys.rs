//! Ed25519 keys: generation, PKCS#8 / SPKI PEM, encryption at rest, key ids.
//!
//! - Private key: PKCS#8 **v1** PEM (`PRIVATE KEY`), or encrypted (`ENCRYPTED PRIVATE KEY`,
//!   PBES2 with scrypt N=2^14, r=8, p=1 and AES-256-CBC — OpenSSL's own scrypt defaults, which
//!   `openssl pkey` reads within its default memory limit). We write v1 because OpenSSL 3.0
//!   refuses the v2 form (public key embedded) that `ed25519-dalek` writes; we read both.
//! - Public key: SPKI PEM (`PUBLIC KEY`).
//! - Key id: standard base64 of SHA-256 over the DER SubjectPublicKeyInfo (the form cosign and
//!   the Sigstore bundle's `publicKey.hint` use).
//!
//! The library takes bytes and passphrases from the caller; it never reads files, prompts or
//! prints. Secret material lives in `Zeroizing` buffers and no `Debug` prints it.

use base64::Engine;
use ed25519_dalek::pkcs8::{EncodePublicKey, KeypairBytes};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use pkcs8::der::pem::{self, LineEnding};
use pkcs8::{
    EncryptedPrivateKeyInfoRef, ObjectIdentifier, PrivateKeyInfoRef, SubjectPublicKeyInfoRef,
};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// scrypt cost: log2(N) = 14, r = 8, p = 1 (OpenSSL's defaults).
const SCRYPT_LOG_N: u8 = 14;

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
    #[error("the private key is encrypted: a passphrase is needed")]
    PassphraseNeeded,
    #[error("wrong passphrase, or the encrypted key is damaged")]
    WrongPassphrase,
    #[error("malformed key: {0}")]
    Malformed(String),
    #[error("no randomness available: {0}")]
    Random(String),
}

impl KeyError {
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NotPem(_) => "key-not-pem",
            KeyError::WrongLabel { .. } => "key-wrong-type",
            KeyError::NotEd25519(_) => "key-not-ed25519",
            KeyError::PassphraseNeeded => "key-passphrase-needed",
            KeyError::WrongPassphrase => "key-wrong-passphrase",
            KeyError::Malformed(_) => "key-malformed",
            KeyError::Random(_) => "no-randomness",
        }
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> &'static str {
    match oid {
        EC_OID => "an elliptic-curve (e.g. P-256) key",
        RSA_OID => "an RSA key",
        _ => "not an Ed25519 key",
    }
}

/// An Ed25519 private key. Zeroized on drop; `Debug` shows only the key id.
pub struct SecretKey(SigningKey);

/// An Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(key id {})", self.public().key_id())
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

/// Generates a new key from the operating system's randomness.
pub fn generate() -> Result<SecretKey, KeyError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(SecretKey(SigningKey::from_bytes(&seed)))
}

impl SecretKey {
    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// An Ed25519 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }

    /// PKCS#8 v1 PEM, encrypted under `passphrase` when one is given.
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, KeyError> {
        let v1 = KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&v1)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        let (label, doc) = match passphrase {
            None => ("PRIVATE KEY", der),
            Some(pass) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                getrandom::fill(&mut salt).map_err(|e| KeyError::Random(e.to_string()))?;
                getrandom::fill(&mut iv).map_err(|e| KeyError::Random(e.to_string()))?;
                let params = pkcs8::pkcs5::scrypt::Params::new(SCRYPT_LOG_N, 8, 1)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let pbes2 =
                    pkcs8::pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(params, &salt, iv)
                        .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let info = PrivateKeyInfoRef::try_from(der.as_bytes())
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let enc = info
                    .encrypt_with_params(pbes2, pass)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                ("ENCRYPTED PRIVATE KEY", enc)
            }
        };
        let pem = pem::encode_string(label, LineEnding::LF, doc.as_bytes())
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(Zeroizing::new(pem))
    }

    /// Reads a PKCS#8 PEM private key (v1 or v2, plain or PBES2-encrypted).
    pub fn from_pem(text: &[u8], passphrase: Option<&[u8]>) -> Result<SecretKey, KeyError> {
        let (label, der) = pem::decode_vec(text).map_err(|e| KeyError::NotPem(e.to_string()))?;
        let der = Zeroizing::new(der);
        let plain: Zeroizing<Vec<u8>> = match label {
            "PRIVATE KEY" => der,
            "ENCRYPTED PRIVATE KEY" => {
                let pass = passphrase.ok_or(KeyError::PassphraseNeeded)?;
                let enc = EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let doc = enc.decrypt(pass).map_err(|_| KeyError::WrongPassphrase)?;
                Zeroizing::new(doc.as_bytes().to_vec())
            }
            "PUBLIC KEY" => {
                return Err(KeyError::WrongLabel {
                    found: label.into(),
                    expected: "a private key (PRIVATE KEY or ENCRYPTED PRIVATE KEY)",
                });
            }
            other if other.contains("PRIVATE KEY") => {
                // "EC PRIVATE KEY", "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY": not PKCS#8 Ed25519.
                return Err(KeyError::NotEd25519(if other.starts_with("EC") {
                    "an elliptic-curve (SEC1) key"
                } else if other.starts_with("RSA") {
                    "an RSA (PKCS#1) key"
                } else {
                    "not a PKCS#8 key"
                }));
            }
            other => {
                return Err(KeyError::WrongLabel {
                    found: other.into(),
                    expected: "PRIVATE KEY or ENCRYPTED PRIVATE KEY",
                });
            }
        };
        let info = PrivateKeyInfoRef::try_from(plain.as_slice())
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        if info.algorithm.oid != ED25519_OID {
            return Err(KeyError::NotEd25519(algorithm_name(info.algorithm.oid)));
        }
        let kp = KeypairBytes::try_from(info).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let sk = SigningKey::try_from(&kp).map_err(|_| {
            KeyError::Malformed("the embedded public key does not match the private key".into())
        })?;
        Ok(SecretKey(sk))
    }
}

impl PublicKey {
    /// The raw 32-byte key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// From a raw 32-byte key (as minisign and signify carry it).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::Malformed("not a valid Ed25519 point".into()))
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.0
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    }

    /// SPKI PEM (`PUBLIC KEY`).
    pub fn to_pem(&self) -> String {
        pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.to_spki_der()).unwrap_or_default()
    }

    /// Reads an SPKI PEM public key. A private key here is refused, never used.
    pub fn from_pem(text: &[u8]) -> Result<PublicKey, KeyError> {
        let (label, der) = pem::decode_vec(text).map_err(|e| KeyError::NotPem(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(KeyError::WrongLabel {
                found: label.into(),
                expected: "PUBLIC KEY",
            });
        }
        Self::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        let spki = SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        if spki.algorithm.oid != ED25519_OID {
            return Err(KeyError::NotEd25519(algorithm_name(spki.algorithm.oid)));
        }
        let raw: [u8; 32] = spki
            .subject_public_key
            .as_bytes()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| KeyError::Malformed("an Ed25519 public key is 32 bytes".into()))?;
        Self::from_bytes(&raw)
    }

    /// Standard base64 of SHA-256 over the DER SubjectPublicKeyInfo.
    pub fn key_id(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(self.to_spki_der()))
    }

    /// Checks an Ed25519 signature (strict: small-order keys and malleable signatures refused).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        let sig = Signature::from_bytes(&sig);
        self.0.verify_strict(msg, &sig).is_ok() && self.0.verify(msg, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_plain_and_encrypted() {
        let k = generate().unwrap();
        let plain = k.to_pem(None).unwrap();
        assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SecretKey::from_pem(plain.as_bytes(), None).unwrap();
        assert_eq!(back.public(), k.public());

        let enc = k.to_pem(Some(b"hunter2")).unwrap();
        assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(matches!(
            SecretKey::from_pem(enc.as_bytes(), None),
            Err(KeyError::PassphraseNeeded)
        ));
        assert!(matches!(
            SecretKey::from_pem(enc.as_bytes(), Some(b"wrong")),
            Err(KeyError::WrongPassphrase)
        ));
        assert_eq!(
            SecretKey::from_pem(enc.as_bytes(), Some(b"hunter2"))
                .unwrap()
                .public(),
            k.public()
        );
    }

    #[test]
    fn v2_with_embedded_public_key_is_read() {
        let k = generate().unwrap();
        let v2 = KeypairBytes::from(&k.0);
        let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&v2).unwrap();
        let pem = pem::encode_string("PRIVATE KEY", LineEnding::LF, der.as_bytes()).unwrap();
        assert_eq!(
            SecretKey::from_pem(pem.as_bytes(), None).unwrap().public(),
            k.public()
        );
    }

    #[test]
    fn public_key_pem_key_id_and_signatures() {
        let k = generate().unwrap();
        let p = PublicKey::from_pem(k.public().to_pem().as_bytes()).unwrap();
        assert_eq!(p, k.public());
        assert_eq!(p.key_id().len(), 44);
        let sig = k.sign(b"msg");
        assert!(p.verify(b"msg", &sig));
        assert!(!p.verify(b"msh", &sig));
        assert!(!p.verify(b"msg", &sig[..63]));
        assert!(!generate().unwrap().public().verify(b"msg", &sig));
    }

    #[test]
    fn debug_never_prints_secret_material() {
        let k = generate().unwrap();
        let secret_hex = hex::encode(k.0.to_bytes());
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&secret_hex) && dbg.contains("key id"));
    }

    #[test]
    fn private_key_where_public_expected_is_refused() {
        let k = generate().unwrap();
        let pem = k.to_pem(None).unwrap();
        assert!(matches!(
            PublicKey::from_pem(pem.as_bytes()),
            Err(KeyError::WrongLabel { .. })
        ));
    }
}
