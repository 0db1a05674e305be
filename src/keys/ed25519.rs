//! mcpseal's own keys: Ed25519, generation, PKCS#8 PEM, encryption at rest.
//!
//! - Private key: PKCS#8 **v1** PEM (`PRIVATE KEY`), or encrypted (`ENCRYPTED PRIVATE KEY`,
//!   PBES2 with scrypt N=2^14, r=8, p=1 and AES-256-CBC — OpenSSL's own scrypt defaults, which
//!   `openssl pkey` reads within its default memory limit). We write v1 because OpenSSL 3.0
//!   refuses the v2 form (public key embedded) that `ed25519-dalek` writes; we read both.
//! - Public key: SPKI PEM (`PUBLIC KEY`), a [`PublicKey`] of kind Ed25519.

use ed25519_dalek::pkcs8::KeypairBytes;
use ed25519_dalek::{Signer as _, SigningKey};
use pkcs8::PrivateKeyInfoRef;
use pkcs8::der::pem::{self, LineEnding};
use zeroize::Zeroizing;

use super::private::{PrivateKey, pkcs8_plaintext};
use super::public::ED25519_OID;
use super::{KeyError, PublicKey, Scheme, Signer};

/// scrypt cost: log2(N) = 14, r = 8, p = 1 (OpenSSL's defaults).
const SCRYPT_LOG_N: u8 = 14;

/// An Ed25519 private key. Zeroized on drop; `Debug` shows only the key id.
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(key id {})", self.public().key_id())
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
        PublicKey::from_ed25519(self.0.verifying_key())
    }

    /// An Ed25519 signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }

    /// PKCS#8 v1 PEM, encrypted under `passphrase` when one is given.
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, KeyError> {
        let der = self.to_pkcs8_der()?;
        let (label, doc) = match passphrase {
            None => ("PRIVATE KEY", der.to_vec()),
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
                let info = PrivateKeyInfoRef::try_from(der.as_slice())
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let enc = info
                    .encrypt_with_params(pbes2, pass)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                ("ENCRYPTED PRIVATE KEY", enc.as_bytes().to_vec())
            }
        };
        let doc = Zeroizing::new(doc);
        let pem = pem::encode_string(label, LineEnding::LF, &doc)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(Zeroizing::new(pem))
    }

    /// Reads an Ed25519 private key: PKCS#8 PEM (v1 or v2, plain or PBES2-encrypted) or a
    /// cosign-format encrypted key. Another key type is refused (`key-not-ed25519`).
    pub fn from_pem(text: &[u8], passphrase: Option<&[u8]>) -> Result<SecretKey, KeyError> {
        let plain = pkcs8_plaintext(text, passphrase)?;
        match PrivateKey::from_pkcs8_der(&plain)? {
            PrivateKey::Ed25519(k) => Ok(k),
            other => Err(KeyError::NotEd25519(match other.public_key().kind() {
                super::KeyKind::Rsa { .. } => "an RSA key",
                _ => "an elliptic-curve (e.g. P-256) key",
            })),
        }
    }

    /// From a decrypted PKCS#8 `PrivateKeyInfo` whose algorithm is Ed25519.
    pub(super) fn from_pkcs8(info: PrivateKeyInfoRef<'_>) -> Result<SecretKey, KeyError> {
        if info.algorithm.oid != ED25519_OID {
            return Err(KeyError::NotEd25519("not an Ed25519 key"));
        }
        let kp = KeypairBytes::try_from(info).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let sk = SigningKey::try_from(&kp).map_err(|_| {
            KeyError::Malformed("the embedded public key does not match the private key".into())
        })?;
        Ok(SecretKey(sk))
    }

    /// Unencrypted PKCS#8 v1 DER (for re-encryption, e.g. in cosign's format).
    pub(super) fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let v1 = KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        let der = pkcs8::EncodePrivateKey::to_pkcs8_der(&v1)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(Zeroizing::new(der.as_bytes().to_vec()))
    }
}

impl Signer for SecretKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(SecretKey::sign(self, msg).to_vec())
    }
    fn public_key(&self) -> PublicKey {
        self.public()
    }
    fn algorithm(&self) -> Scheme {
        Scheme::Ed25519
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
        assert!(p.verify(b"msg", &sig).is_ok());
        assert!(p.verify(b"msh", &sig).is_err());
        assert!(p.verify(b"msg", &sig[..63]).is_err());
        assert!(generate().unwrap().public().verify(b"msg", &sig).is_err());
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
