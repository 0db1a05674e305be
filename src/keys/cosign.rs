//! cosign-format encrypted private keys (`ENCRYPTED SIGSTORE PRIVATE KEY`, and the older
//! `ENCRYPTED COSIGN PRIVATE KEY` label), as sigstore/sigstore `pkg/cryptoutils` and cosign
//! `pkg/cosign/keys.go` write them through go-securesystemslib's `encrypted` package.
//!
//! The PEM body is JSON:
//!
//! ```json
//! {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": "<base64 32 bytes>"},
//!  "cipher": {"name": "nacl/secretbox", "nonce": "<base64 24 bytes>"},
//!  "ciphertext": "<base64>"}
//! ```
//!
//! The secretbox key is scrypt(passphrase, salt, N, r, p) with 32 output bytes; the ciphertext
//! is NaCl `secretbox` (XSalsa20-Poly1305, the 16-byte tag first) of the PKCS#8 DER key. A
//! wrong passphrase and a tampered box are the same failure (`key-wrong-passphrase`): the
//! Poly1305 tag cannot tell them apart. Malformed JSON, another KDF or cipher, or scrypt costs
//! past [`MAX_SCRYPT_MEMORY`] are format errors, refused before any work is done.

use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use pkcs8::der::pem::{self, LineEnding};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyError, PrivateKey};

/// The label cosign (2.x and later) and sigstore/sigstore write.
pub const PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign releases wrote; read, never written.
pub const LEGACY_PEM_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The most memory a key's scrypt parameters may ask for (128 · N · r bytes): 1 GiB. cosign
/// writes N = 32768, r = 8 (32 MiB); go-securesystemslib's strongest preset is 128 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;

/// scrypt parameters mcpseal writes: cosign's (N = 2^15, r = 8, p = 1).
const WRITE_LOG_N: u8 = 15;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cipher {
    name: String,
    nonce: String,
}

fn malformed(what: impl std::fmt::Display) -> KeyError {
    KeyError::Malformed(format!("cosign-format key: {what}"))
}

fn scrypt_key(pass: &[u8], salt: &[u8], p: &ScryptParams) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    if !p.n.is_power_of_two() || p.n < 2 {
        return Err(malformed(format!(
            "scrypt N = {} is not a power of two",
            p.n
        )));
    }
    let log_n = u8::try_from(p.n.trailing_zeros()).map_err(|_| malformed("scrypt N"))?;
    let memory = 128u64.saturating_mul(p.n).saturating_mul(u64::from(p.r));
    if memory > MAX_SCRYPT_MEMORY || p.p == 0 || p.p > 16 || p.r == 0 {
        return Err(malformed(format!(
            "scrypt N = {}, r = {}, p = {} is outside what mcpseal accepts (at most {} MiB, p in 1..=16)",
            p.n,
            p.r,
            p.p,
            MAX_SCRYPT_MEMORY >> 20
        )));
    }
    let params = scrypt::Params::new(log_n, p.r, p.p).map_err(malformed)?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(pass, salt, &params, key.as_mut()).map_err(malformed)?;
    Ok(key)
}

/// Whether a PEM text is a cosign-format encrypted key (either label).
pub fn is_cosign_pem(text: &[u8]) -> bool {
    let t = String::from_utf8_lossy(text);
    let t = t.trim_start();
    [PEM_LABEL, LEGACY_PEM_LABEL]
        .iter()
        .any(|l| t.starts_with(&format!("-----BEGIN {l}-----")))
}

/// Decrypts the JSON body of a cosign-format key: the PKCS#8 DER inside.
pub fn decrypt(json: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let env: Envelope = crate::json::from_slice_strict(json).map_err(malformed)?;
    if env.kdf.name != "scrypt" {
        return Err(malformed(format!("KDF {:?} (only scrypt)", env.kdf.name)));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(malformed(format!(
            "cipher {:?} (only nacl/secretbox)",
            env.cipher.name
        )));
    }
    let salt = B64
        .decode(&env.kdf.salt)
        .map_err(|_| malformed("salt is not base64"))?;
    let nonce = B64
        .decode(&env.cipher.nonce)
        .map_err(|_| malformed("nonce is not base64"))?;
    let nonce = <[u8; 24]>::try_from(nonce.as_slice())
        .map_err(|_| malformed("the secretbox nonce is not 24 bytes"))?;
    let ct = B64
        .decode(&env.ciphertext)
        .map_err(|_| malformed("ciphertext is not base64"))?;
    if ct.len() < 16 {
        return Err(malformed("the ciphertext is shorter than its tag"));
    }
    let key = scrypt_key(passphrase, &salt, &env.kdf.params)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    cipher
        .decrypt(Nonce::from_slice(&nonce), ct.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::WrongPassphrase)
}

/// Encrypts PKCS#8 DER the way cosign does (fresh 32-byte salt and 24-byte nonce); the JSON
/// body of the PEM.
pub fn encrypt(pkcs8_der: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut salt).map_err(|e| KeyError::Random(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
    let params = ScryptParams {
        n: 1 << WRITE_LOG_N,
        r: 8,
        p: 1,
    };
    let key = scrypt_key(passphrase, &salt, &params)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), pkcs8_der)
        .map_err(|_| malformed("cannot encrypt"))?;
    let env = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params,
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(ct),
    };
    serde_json::to_vec(&env).map_err(malformed)
}

/// The key as cosign writes it: `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.
pub fn to_pem(key: &PrivateKey, passphrase: &[u8]) -> Result<Zeroizing<String>, KeyError> {
    let der = key.to_pkcs8_der()?;
    let body = encrypt(&der, passphrase)?;
    pem::encode_string(PEM_LABEL, LineEnding::LF, &body)
        .map(Zeroizing::new)
        .map_err(malformed)
}
