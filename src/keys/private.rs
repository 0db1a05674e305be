//! [`PrivateKey`]: every private key mcpseal signs with, read from PEM.
//!
//! Accepted PEM labels: `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2, as
//! `mcpseal key generate` and OpenSSL write), and cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` /
//! `ENCRYPTED COSIGN PRIVATE KEY` ([`super::cosign`]), whose plaintext is PKCS#8 too. Inside,
//! an Ed25519, ECDSA P-256 / P-384 / P-521 or RSA (2048 to 8192 bits) key. SEC1 (`EC PRIVATE
//! KEY`), PKCS#1 (`RSA PRIVATE KEY`) and OpenSSH keys are refused with the command that
//! converts them, as cosign refuses them.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair, RsaKeyPair};
use pkcs8::der::pem;
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use zeroize::Zeroizing;

use super::public::{EC_OID, ED25519_OID, MAX_RSA_BITS, MIN_RSA_BITS, RSA_OID};
use super::{Hash, KeyError, KeyKind, PublicKey, Scheme, SecretKey, Signer};

/// A private key of any supported type. `Debug` shows the type and key id, never the key.
pub enum PrivateKey {
    /// mcpseal's own key type.
    Ed25519(SecretKey),
    /// ECDSA on P-256, P-384 or P-521; signs with the curve's hash, DER signatures.
    Ecdsa {
        pair: EcdsaKeyPair,
        public: PublicKey,
    },
    /// RSA; signs with PKCS#1 v1.5 and SHA-256 (cosign's default).
    Rsa { pair: RsaKeyPair, public: PublicKey },
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.public_key();
        write!(f, "PrivateKey({} key id {})", p.kind(), p.key_id())
    }
}

fn malformed(e: impl std::fmt::Display) -> KeyError {
    KeyError::Malformed(e.to_string())
}

/// The PKCS#8 DER inside a private-key PEM, decrypted with `passphrase` when it is encrypted
/// (mcpseal / OpenSSL PBES2, or cosign's scrypt + secretbox).
pub(super) fn pkcs8_plaintext(
    text: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let (label, der) = pem::decode_vec(text).map_err(|e| KeyError::NotPem(e.to_string()))?;
    let der = Zeroizing::new(der);
    match label {
        "PRIVATE KEY" => Ok(der),
        "ENCRYPTED PRIVATE KEY" => {
            let pass = passphrase.ok_or(KeyError::PassphraseNeeded)?;
            let enc = EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).map_err(malformed)?;
            let doc = enc.decrypt(pass).map_err(|_| KeyError::WrongPassphrase)?;
            Ok(Zeroizing::new(doc.as_bytes().to_vec()))
        }
        super::cosign::PEM_LABEL | super::cosign::LEGACY_PEM_LABEL => {
            let pass = passphrase.ok_or(KeyError::PassphraseNeeded)?;
            super::cosign::decrypt(&der, pass)
        }
        "PUBLIC KEY" => Err(KeyError::WrongLabel {
            found: label.into(),
            expected: "a private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY)",
        }),
        "EC PRIVATE KEY" => Err(KeyError::Unsupported(
            "an elliptic-curve key in SEC1 form (EC PRIVATE KEY): convert it with `openssl pkcs8 -topk8 -in KEY -out KEY.p8`".into(),
        )),
        "RSA PRIVATE KEY" => Err(KeyError::Unsupported(
            "an RSA key in PKCS#1 form (RSA PRIVATE KEY): convert it with `openssl pkcs8 -topk8 -in KEY -out KEY.p8`".into(),
        )),
        other if other.contains("PRIVATE KEY") => Err(KeyError::Unsupported(format!(
            "a {other} (mcpseal reads PKCS#8 and cosign keys)"
        ))),
        other => Err(KeyError::WrongLabel {
            found: other.into(),
            expected: "PRIVATE KEY, ENCRYPTED PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY",
        }),
    }
}

/// Whether a private-key PEM needs a passphrase (without trying one).
pub fn is_encrypted(text: &[u8]) -> bool {
    matches!(pkcs8_plaintext(text, None), Err(KeyError::PassphraseNeeded))
}

impl PrivateKey {
    /// Reads a private key PEM (see the module docs for the forms), decrypting it with
    /// `passphrase` when it is encrypted; `key-passphrase-needed` when it is and none is given.
    pub fn from_pem(text: &[u8], passphrase: Option<&[u8]>) -> Result<PrivateKey, KeyError> {
        let plain = pkcs8_plaintext(text, passphrase)?;
        Self::from_pkcs8_der(&plain)
    }

    /// From an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der).map_err(malformed)?;
        let oid = info.algorithm.oid;
        if oid == ED25519_OID {
            return SecretKey::from_pkcs8(info).map(PrivateKey::Ed25519);
        }
        if oid == EC_OID {
            for alg in [
                &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
                &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
                &lc::ECDSA_P521_SHA512_ASN1_SIGNING,
            ] {
                if let Ok(pair) = EcdsaKeyPair::from_pkcs8(alg, der) {
                    let public = spki_of(pair.public_key().as_der())?;
                    return Ok(PrivateKey::Ecdsa { pair, public });
                }
            }
            return Err(KeyError::Unsupported(
                "an elliptic-curve private key not on P-256, P-384 or P-521, or damaged".into(),
            ));
        }
        if oid == RSA_OID {
            let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| {
                // aws-lc-rs refuses keys under 2048 bits here; say so with the size.
                malformed(format!("not a usable RSA private key ({e})"))
            });
            let pair = match pair {
                Ok(p) => p,
                Err(e) => return Err(rsa_size_error(&info).unwrap_or(e)),
            };
            let bits = u32::try_from(pair.public_modulus_len() * 8).unwrap_or(u32::MAX);
            if bits < MIN_RSA_BITS {
                return Err(KeyError::TooSmall { bits });
            }
            if bits > MAX_RSA_BITS {
                return Err(KeyError::Unsupported(format!("RSA key of {bits} bits")));
            }
            let public = spki_of(pair.public_key().as_der())?;
            return Ok(PrivateKey::Rsa { pair, public });
        }
        Err(KeyError::Unsupported(format!(
            "private key algorithm {oid} (supported: Ed25519, ECDSA P-256/P-384/P-521, RSA)"
        )))
    }

    /// A new ECDSA P-256 key (what `cosign generate-key-pair` makes).
    pub fn generate_p256() -> Result<PrivateKey, KeyError> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|_| KeyError::Random("cannot generate a P-256 key".into()))?;
        let der = Zeroizing::new(doc.as_ref().to_vec());
        Self::from_pkcs8_der(&der)
    }

    /// Unencrypted PKCS#8 DER of the key (to encrypt it; never write it out as is).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match self {
            PrivateKey::Ed25519(k) => k.to_pkcs8_der(),
            PrivateKey::Ecdsa { pair, .. } => pair
                .to_pkcs8v1()
                .map(|d| Zeroizing::new(d.as_ref().to_vec()))
                .map_err(|_| malformed("cannot encode the ECDSA key")),
            PrivateKey::Rsa { pair, .. } => {
                use aws_lc_rs::encoding::Pkcs8V1Der;
                let d: Pkcs8V1Der<'static> = pair
                    .as_der()
                    .map_err(|_| malformed("cannot encode the RSA key"))?;
                Ok(Zeroizing::new(d.as_ref().to_vec()))
            }
        }
    }
}

/// When aws-lc-rs refused an RSA key, whether it is because the modulus is too small.
fn rsa_size_error(info: &PrivateKeyInfoRef<'_>) -> Option<KeyError> {
    // RSAPrivateKey ::= SEQUENCE { version, modulus INTEGER, ... }
    use pkcs8::der::{Decode, Reader, SliceReader, asn1::UintRef};
    let mut r = SliceReader::new(info.private_key.as_bytes()).ok()?;
    let n: UintRef<'_> = r
        .sequence(|r: &mut SliceReader<'_>| {
            let _version: UintRef<'_> = UintRef::decode(r)?;
            let n: UintRef<'_> = UintRef::decode(r)?;
            r.read_slice(r.remaining_len())?;
            Ok::<_, pkcs8::der::Error>(n)
        })
        .ok()?;
    let bytes = n.as_bytes();
    let lead = bytes.first().map_or(0, |b| 8 - b.leading_zeros());
    let bits = u32::try_from(bytes.len().saturating_sub(1) * 8).ok()? + lead;
    (bits < MIN_RSA_BITS).then_some(KeyError::TooSmall { bits })
}

fn spki_of(
    der: Result<aws_lc_rs::encoding::PublicKeyX509Der<'static>, aws_lc_rs::error::Unspecified>,
) -> Result<PublicKey, KeyError> {
    let der = der.map_err(|_| malformed("cannot encode the public key"))?;
    PublicKey::from_spki_der(der.as_ref())
}

impl Signer for PrivateKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        match self {
            PrivateKey::Ed25519(k) => Ok(k.sign(msg).to_vec()),
            PrivateKey::Ecdsa { pair, .. } => pair
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign("ECDSA signing failed".into())),
            PrivateKey::Rsa { pair, .. } => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&lc::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| KeyError::Sign("RSA signing failed".into()))?;
                Ok(sig)
            }
        }
    }

    fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => k.public(),
            PrivateKey::Ecdsa { public, .. } | PrivateKey::Rsa { public, .. } => public.clone(),
        }
    }

    fn algorithm(&self) -> Scheme {
        match self {
            PrivateKey::Ed25519(_) => Scheme::Ed25519,
            PrivateKey::Ecdsa { public, .. } => public.default_scheme(),
            PrivateKey::Rsa { .. } => Scheme::RsaPkcs1(Hash::Sha256),
        }
    }
}

impl PrivateKey {
    /// The key's type.
    pub fn kind(&self) -> KeyKind {
        self.public_key().kind()
    }
}
