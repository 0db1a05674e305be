//! Key-based Sigstore bundles that other tools write over a file: `cosign sign-blob --key`
//! (a message signature) and `cosign attest-blob --key` (a DSSE envelope with an in-toto
//! statement whose subject is the file), media types v0.1 to v0.3.
//!
//! [`verify`] checks, in order: the bundle is a bundle (strict JSON, a known media type, a
//! `publicKey` verification material), then the signature with the caller's key —
//! - message signature: `messageDigest` (when present) must be the file's SHA-256 / 384 / 512,
//!   and `signature` must verify over the file's bytes with the key's default scheme;
//! - DSSE: exactly one signature, over the PAE of the payload; the payload an in-toto
//!   statement (v0.1 or v1) with the file's SHA-256 among its subjects —
//!
//! and returns a [`BlobVerified`] (only a successful check makes one) that says whether the
//! bundle carries transparency-log entries or RFC 3161 timestamps. Neither is checked here:
//! the caller checks log entries against a trusted root with [`crate::keyless::verify`]
//! (`Signer::Key`), as `mcpseal verify` does. A bundle without them is verified by the key
//! alone, like mcpseal's own bundles.

use base64::Engine;
use serde_json::Value;
use sha2::Digest as _;

use super::{MAX_BUNDLE_BYTES, VerifyError, pae};
use crate::json;
use crate::keys::{Hash, PublicKey};

fn hash(h: Hash, data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// The bundle media types read (v0.1 and v0.2 have two spellings in the wild).
pub const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A signature over the file (`cosign sign-blob`).
    MessageSignature,
    /// A DSSE envelope over an in-toto statement naming the file (`cosign attest-blob`).
    Dsse,
}

/// A blob bundle whose signature verified with the caller's key. Only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct BlobVerified {
    content: Content,
    key_id: String,
    tlog: bool,
    timestamps: bool,
    predicate_type: Option<String>,
    sha256: crate::digest::Digest,
}

impl BlobVerified {
    pub fn content(&self) -> Content {
        self.content
    }
    /// The key id of the key that verified it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// Whether the bundle carries transparency-log entries, which the caller must check.
    pub fn has_tlog_entries(&self) -> bool {
        self.tlog
    }
    /// Whether the bundle carries RFC 3161 timestamps.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps
    }
    /// The file's SHA-256 (computed once, while checking).
    pub fn artifact_digest(&self) -> crate::digest::Digest {
        self.sha256
    }
    /// The in-toto predicate type, for a DSSE bundle.
    pub fn predicate_type(&self) -> Option<&str> {
        self.predicate_type.as_deref()
    }
}

fn malformed(what: impl Into<String>) -> VerifyError {
    VerifyError::Malformed(what.into())
}

fn b64(v: &Value, pointer: &str) -> Result<Vec<u8>, VerifyError> {
    let s = v
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("missing {pointer}")))?;
    B64.decode(s)
        .map_err(|_| malformed(format!("{pointer} is not valid base64")))
}

/// Whether `bundle` is an mcpseal release bundle (a DSSE in-toto statement with mcpseal's
/// predicate), read without checking anything: only to choose which verifier runs. Both
/// verifiers check the signature themselves.
pub fn is_mcpseal_release(bundle: &[u8]) -> bool {
    let Ok(v) = json::parse_strict(bundle) else {
        return false;
    };
    let Ok(payload) = b64(&v, "/dsseEnvelope/payload") else {
        return false;
    };
    serde_json::from_slice::<Value>(&payload)
        .ok()
        .and_then(|s| {
            s.get("predicateType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .is_some_and(|t| t == super::PREDICATE_TYPE)
}

/// Verifies a key-based blob bundle over `artifact` (its bytes) with `key`. See the module
/// docs for what is checked and what is left to the caller.
pub fn verify(
    bundle: &[u8],
    artifact: &[u8],
    key: &PublicKey,
) -> Result<BlobVerified, VerifyError> {
    if bundle.len() > MAX_BUNDLE_BYTES {
        return Err(VerifyError::TooLarge { size: bundle.len() });
    }
    let v = json::parse_strict(bundle).map_err(|e| malformed(e.to_string()))?;
    let media = v
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("missing /mediaType"))?;
    if !MEDIA_TYPES.contains(&media) {
        return Err(VerifyError::MediaType(media.to_owned()));
    }
    let material = v
        .get("verificationMaterial")
        .ok_or_else(|| malformed("missing /verificationMaterial"))?;
    if material.get("publicKey").is_none() {
        return Err(malformed(
            "no verificationMaterial.publicKey: not a key-based bundle (for a certificate-based bundle use --certificate-identity)",
        ));
    }
    let expected = key.key_id();
    // The hint is advisory (cosign may leave it empty): it only names the key in an error.
    let hint = material
        .pointer("/publicKey/hint")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    let refused = |hint: &Option<String>| match hint {
        Some(h) if *h != expected => VerifyError::WrongKey {
            found: h.clone(),
            expected: expected.clone(),
        },
        _ => VerifyError::BadSignature {
            key_id: expected.clone(),
        },
    };
    let tlog = material
        .get("tlogEntries")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let timestamps = material
        .pointer("/timestampVerificationData/rfc3161Timestamps")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let mut sha256 = None;
    let (content, predicate_type) = match (v.get("messageSignature"), v.get("dsseEnvelope")) {
        (Some(_), None) => {
            // Hash the file once in the key's scheme's hash (SHA-256 for P-256 and RSA, as
            // cosign signs), compare it with messageDigest, and check the signature on it.
            let scheme = key.default_scheme();
            let ours = scheme.hash().map(|h| (h, hash(h, artifact)));
            if let Some(md) = v.pointer("/messageSignature/messageDigest") {
                let alg = md
                    .get("algorithm")
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed("messageDigest.algorithm is missing"))?;
                let h = match alg {
                    "SHA2_256" => Hash::Sha256,
                    "SHA2_384" => Hash::Sha384,
                    "SHA2_512" => Hash::Sha512,
                    other => return Err(malformed(format!("messageDigest algorithm {other:?}"))),
                };
                let want = b64(&v, "/messageSignature/messageDigest/digest")?;
                let actual = match &ours {
                    Some((oh, d)) if *oh == h => d.clone(),
                    _ => hash(h, artifact),
                };
                if actual != want {
                    return Err(VerifyError::NotTheArtifact(format!(
                        "the file's {alg} is not the bundle's messageDigest: the file is not the one signed"
                    )));
                }
            }
            if let Some((Hash::Sha256, d)) = &ours {
                sha256 = <[u8; 32]>::try_from(d.as_slice()).ok();
            }
            let sig = b64(&v, "/messageSignature/signature")?;
            match &ours {
                Some((_, d)) => key.verify_digest(scheme, d, &sig),
                None => key.verify(artifact, &sig),
            }
            .map_err(|_| refused(&hint))?;
            (Content::MessageSignature, None)
        }
        (None, Some(env)) => {
            let payload_type = env
                .get("payloadType")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("missing dsseEnvelope.payloadType"))?;
            if payload_type != super::PAYLOAD_TYPE {
                return Err(VerifyError::PayloadType(payload_type.to_owned()));
            }
            let payload = b64(&v, "/dsseEnvelope/payload")?;
            let sigs = env
                .get("signatures")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed("dsseEnvelope.signatures is not an array"))?;
            if sigs.len() != 1 {
                return Err(VerifyError::SignatureCount(sigs.len()));
            }
            let sig = b64(&v, "/dsseEnvelope/signatures/0/sig")?;
            key.verify(&pae(payload_type, &payload), &sig)
                .map_err(|_| refused(&hint))?;
            // Only now is the payload trusted enough to parse.
            let st = json::parse_strict(&payload)
                .map_err(|e| VerifyError::Statement(format!("the payload is not JSON: {e}")))?;
            let st_type = st.get("_type").and_then(Value::as_str).unwrap_or_default();
            if !matches!(
                st_type,
                "https://in-toto.io/Statement/v1" | "https://in-toto.io/Statement/v0.1"
            ) {
                return Err(VerifyError::Statement(format!(
                    "_type is {st_type:?}, not an in-toto statement"
                )));
            }
            let raw: [u8; 32] = sha2::Sha256::digest(artifact).into();
            sha256 = Some(raw);
            let digest = hex::encode(raw);
            let subjects = st
                .get("subject")
                .and_then(Value::as_array)
                .ok_or_else(|| VerifyError::Statement("no subject list".into()))?;
            if !subjects
                .iter()
                .any(|s| s.pointer("/digest/sha256").and_then(Value::as_str) == Some(&digest))
            {
                return Err(VerifyError::NotTheArtifact(format!(
                    "the file's sha256 {digest} is not among the signed subjects: the file is not the one attested"
                )));
            }
            let pt = st
                .get("predicateType")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (Content::Dsse, pt)
        }
        (Some(_), Some(_)) => {
            return Err(malformed(
                "both messageSignature and dsseEnvelope: a bundle has one content",
            ));
        }
        (None, None) => return Err(malformed("neither messageSignature nor dsseEnvelope")),
    };
    Ok(BlobVerified {
        content,
        key_id: expected,
        tlog,
        timestamps,
        predicate_type,
        sha256: crate::digest::Digest(
            sha256.unwrap_or_else(|| sha2::Sha256::digest(artifact).into()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PrivateKey, Signer};
    use serde_json::json;

    fn msg_bundle(k: &dyn Signer, artifact: &[u8]) -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": k.public_key().key_id()}},
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(sha2::Sha256::digest(artifact))},
                "signature": B64.encode(k.sign(artifact).unwrap()),
            }
        })
    }

    fn dsse_bundle(k: &dyn Signer, statement: &Value) -> Value {
        let payload = serde_json::to_vec(statement).unwrap();
        let sig = k.sign(&pae(super::super::PAYLOAD_TYPE, &payload)).unwrap();
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": ""}},
            "dsseEnvelope": {"payload": B64.encode(&payload), "payloadType": super::super::PAYLOAD_TYPE,
                "signatures": [{"sig": B64.encode(sig), "keyid": ""}]}
        })
    }

    fn code(b: &Value, artifact: &[u8], k: &PublicKey) -> &'static str {
        verify(&serde_json::to_vec(b).unwrap(), artifact, k).map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn message_signature_bundles_and_their_refusals() {
        let k = PrivateKey::generate_p256().unwrap();
        let p = k.public_key();
        let b = msg_bundle(&k, b"file");
        assert_eq!(code(&b, b"file", &p), "ok");
        assert_eq!(code(&b, b"filf", &p), "digest-mismatch");
        // Without messageDigest, the signature alone decides.
        let mut no_digest = b.clone();
        no_digest["messageSignature"]
            .as_object_mut()
            .unwrap()
            .remove("messageDigest");
        assert_eq!(code(&no_digest, b"file", &p), "ok");
        assert_eq!(code(&no_digest, b"filf", &p), "bad-signature");
        let other = PrivateKey::generate_p256().unwrap().public_key();
        assert_eq!(code(&b, b"file", &other), "wrong-key");
        let mut no_hint = b.clone();
        no_hint["verificationMaterial"]["publicKey"] = json!({});
        assert_eq!(code(&no_hint, b"file", &other), "bad-signature");
        let mut cert = b.clone();
        cert["verificationMaterial"] = json!({"certificate": {"rawBytes": "AA=="}});
        assert_eq!(code(&cert, b"file", &p), "malformed-bundle");
        let mut both = b.clone();
        both["dsseEnvelope"] = json!({});
        assert_eq!(code(&both, b"file", &p), "malformed-bundle");
        let mut md5 = b.clone();
        md5["messageSignature"]["messageDigest"]["algorithm"] = "MD5".into();
        assert_eq!(code(&md5, b"file", &p), "malformed-bundle");
        assert_eq!(
            verify(b"{\"a\":1,\"a\":2}", b"file", &p)
                .unwrap_err()
                .code(),
            "malformed-bundle"
        );
    }

    #[test]
    fn dsse_bundles_name_the_file_in_an_in_toto_statement() {
        let k = PrivateKey::generate_p256().unwrap();
        let p = k.public_key();
        let digest = hex::encode(sha2::Sha256::digest(b"file"));
        let st = json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "f", "digest": {"sha256": digest}}],
            "predicateType": "https://example.com/p", "predicate": {}});
        let b = dsse_bundle(&k, &st);
        assert_eq!(code(&b, b"file", &p), "ok");
        assert_eq!(code(&b, b"other", &p), "digest-mismatch");
        let mut not_intoto = st.clone();
        not_intoto["_type"] = "https://example.com/Statement".into();
        assert_eq!(
            code(&dsse_bundle(&k, &not_intoto), b"file", &p),
            "bad-statement"
        );
        let mut two = b.clone();
        let s = two["dsseEnvelope"]["signatures"][0].clone();
        two["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
        assert_eq!(code(&two, b"file", &p), "signature-count");
        let mut ptype = b.clone();
        ptype["dsseEnvelope"]["payloadType"] = "text/plain".into();
        assert_eq!(code(&ptype, b"file", &p), "payload-type");
        let mut tampered = b.clone();
        let mut raw = B64
            .decode(tampered["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        raw[5] ^= 1;
        tampered["dsseEnvelope"]["payload"] = B64.encode(raw).into();
        assert_eq!(code(&tampered, b"file", &p), "bad-signature");
        assert!(!is_mcpseal_release(&serde_json::to_vec(&b).unwrap()));
    }

    /// What a verified blob bundle reports is what it carries: the id of the key that
    /// verified it, whether it has log entries or timestamps the caller must still check
    /// (an empty list is none), and for DSSE the statement's predicate type. `mcpseal verify`
    /// goes on to check the log entries only when there are some: a bundle with entries
    /// reported as having none would skip that check.
    #[test]
    fn a_verified_blob_bundle_reports_its_key_logs_timestamps_and_predicate() {
        let k = PrivateKey::generate_p256().unwrap();
        let p = k.public_key();
        let ok = |b: &Value| verify(&serde_json::to_vec(b).unwrap(), b"file", &p).unwrap();
        let mut b = msg_bundle(&k, b"file");
        let v = ok(&b);
        assert_eq!(v.key_id(), p.key_id());
        assert_eq!(v.content(), Content::MessageSignature);
        assert_eq!(v.predicate_type(), None);
        assert!(!v.has_tlog_entries() && !v.has_timestamps());
        b["verificationMaterial"]["tlogEntries"] = json!([]);
        b["verificationMaterial"]["timestampVerificationData"] = json!({"rfc3161Timestamps": []});
        let v = ok(&b);
        assert!(!v.has_tlog_entries() && !v.has_timestamps());
        b["verificationMaterial"]["tlogEntries"] = json!([{"logIndex": "1"}]);
        let v = ok(&b);
        assert!(v.has_tlog_entries() && !v.has_timestamps());
        b["verificationMaterial"]["tlogEntries"] = json!([]);
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
            json!([{"signedTimestamp": "AA=="}]);
        let v = ok(&b);
        assert!(!v.has_tlog_entries() && v.has_timestamps());

        let digest = hex::encode(sha2::Sha256::digest(b"file"));
        let st = json!({"_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": "f", "digest": {"sha256": digest}}],
            "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}});
        let v = ok(&dsse_bundle(&k, &st));
        assert_eq!(v.content(), Content::Dsse);
        assert_eq!(v.predicate_type(), Some("https://slsa.dev/provenance/v1"));
        assert_eq!(v.key_id(), p.key_id());
        assert_eq!(v.artifact_digest().hex(), digest);
    }

    /// `messageDigest` may name another hash than the key's scheme uses (the spec allows
    /// SHA-384 and SHA-512 beside a P-256 signature over SHA-256): the file is hashed again
    /// in that algorithm and compared, never the scheme's digest against it.
    #[test]
    fn a_message_digest_in_another_algorithm_is_computed_in_that_algorithm() {
        let k = PrivateKey::generate_p256().unwrap();
        let p = k.public_key();
        let mut b = msg_bundle(&k, b"file");
        b["messageSignature"]["messageDigest"] =
            json!({"algorithm": "SHA2_512", "digest": B64.encode(sha2::Sha512::digest(b"file"))});
        assert_eq!(code(&b, b"file", &p), "ok");
        b["messageSignature"]["messageDigest"]["digest"] =
            B64.encode(sha2::Sha512::digest(b"filf")).into();
        assert_eq!(code(&b, b"file", &p), "digest-mismatch");
        // The scheme's own SHA-256 given as if it were SHA-512: refused.
        b["messageSignature"]["messageDigest"]["digest"] =
            B64.encode(sha2::Sha256::digest(b"file")).into();
        assert_eq!(code(&b, b"file", &p), "digest-mismatch");
    }

    /// The size limit holds here too: a bundle of exactly [`MAX_BUNDLE_BYTES`] (padded) is
    /// read, one byte more is refused before parsing.
    #[test]
    fn a_blob_bundle_over_the_size_limit_is_refused_unparsed() {
        let k = PrivateKey::generate_p256().unwrap();
        let p = k.public_key();
        let mut at_limit = serde_json::to_vec(&msg_bundle(&k, b"file")).unwrap();
        at_limit.resize(MAX_BUNDLE_BYTES, b' ');
        assert!(verify(&at_limit, b"file", &p).is_ok());
        at_limit.push(b' ');
        let e = verify(&at_limit, b"file", &p).unwrap_err();
        assert_eq!(e.code(), "bundle-too-large");
    }

    /// mcpseal's own release bundles are told apart from other tools' (which verifier runs):
    /// a signed mcpseal statement is one, a DSSE statement with another predicate, a message
    /// signature, and what is not JSON are not.
    #[test]
    fn mcpseal_release_bundles_are_recognised() {
        use crate::bundle::{ReleasePredicate, Statement, Subject, sign};
        let k = crate::keys::generate().unwrap();
        let d = crate::digest::Digest::of(b"artifact");
        let st = Statement::new(vec![Subject::new("a.tgz", &d)], ReleasePredicate::default());
        let ours = serde_json::to_vec(&sign(&st, &k).unwrap()).unwrap();
        assert!(is_mcpseal_release(&ours));
        let p256 = PrivateKey::generate_p256().unwrap();
        let msg = serde_json::to_vec(&msg_bundle(&p256, b"file")).unwrap();
        assert!(!is_mcpseal_release(&msg));
        assert!(!is_mcpseal_release(b"not json"));
    }
}
