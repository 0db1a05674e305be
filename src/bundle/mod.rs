//! mcpseal's signed release statements as Sigstore bundles (v0.3), key-based.
//!
//! A bundle holds a DSSE envelope (payload type `application/vnd.in-toto+json`) whose payload is
//! an in-toto Statement v1: one subject per artifact (name and SHA-256) and mcpseal's release
//! predicate ([`PREDICATE_TYPE`]): the server's name and version and, when the tool surface was
//! captured at signing time, the surface digest and every entity's digest. The signature is pure
//! Ed25519 over the DSSE pre-authentication encoding ([`pae`]); `verificationMaterial.publicKey
//! .hint` is the signer's key id. The exact format is in docs/formats.md.
//!
//! Never reads files: callers hand in bytes and digests. [`verify`] returns a [`Verified`]
//! statement, a type only a successful signature check can make (rustls' habit), so no code
//! path can use an unverified statement by mistake.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::digest::Digest;
use crate::json;
use crate::keys::{PublicKey, Signer};
use crate::surface::{EntityKind, SurfaceDigests};

pub mod blob;

/// Sigstore bundle media type we write (and accept for key-based verification).
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// mcpseal's release predicate, version 1 (docs/formats.md).
pub const PREDICATE_TYPE: &str = "https://mcpseal.dev/release/v1";
/// Largest bundle accepted, in bytes. Real bundles are a few KiB.
pub const MAX_BUNDLE_BYTES: usize = 16 * 1024 * 1024;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One signed artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn new(name: impl Into<String>, d: &Digest) -> Self {
        Subject {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_owned(), d.hex())]),
        }
    }
    /// The subject's SHA-256, if it has a well-formed one.
    pub fn sha256(&self) -> Option<Digest> {
        format!("sha256:{}", self.digest.get("sha256")?)
            .parse()
            .ok()
    }
}

/// The server a release is of.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The signed tool surface: the surface digest, the instructions digest, every entity digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedSurface {
    pub digest: Digest,
    pub instructions: Option<Digest>,
    pub entities: BTreeMap<EntityKind, BTreeMap<String, Digest>>,
}

impl From<&SurfaceDigests> for SignedSurface {
    fn from(d: &SurfaceDigests) -> Self {
        SignedSurface {
            digest: d.surface,
            instructions: d.instructions,
            entities: d.entities.clone(),
        }
    }
}

/// One way a live surface differs from the signed one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SurfaceMismatch {
    /// `None` for the instructions.
    pub kind: Option<EntityKind>,
    pub key: String,
    pub signed: Option<Digest>,
    pub live: Option<Digest>,
}

impl SignedSurface {
    /// Every entity (and the instructions) whose live digest is not the signed one; empty when
    /// the live surface is exactly what the publisher signed.
    pub fn compare(&self, live: &SurfaceDigests) -> Vec<SurfaceMismatch> {
        let mut out = Vec::new();
        if self.instructions != live.instructions {
            out.push(SurfaceMismatch {
                kind: None,
                key: "instructions".into(),
                signed: self.instructions,
                live: live.instructions,
            });
        }
        let empty = BTreeMap::new();
        for kind in EntityKind::ALL {
            let s = self.entities.get(&kind).unwrap_or(&empty);
            let l = live.entities.get(&kind).unwrap_or(&empty);
            let keys: std::collections::BTreeSet<&String> = s.keys().chain(l.keys()).collect();
            for k in keys {
                let (a, b) = (s.get(k).copied(), l.get(k).copied());
                if a != b {
                    out.push(SurfaceMismatch {
                        kind: Some(kind),
                        key: k.clone(),
                        signed: a,
                        live: b,
                    });
                }
            }
        }
        out
    }
}

/// mcpseal's release predicate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasePredicate {
    pub server: ServerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<SignedSurface>,
    /// When the signed artifact is a lockfile: what orders and binds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockBinding>,
}

/// What a signed lockfile's statement binds, besides the file's digest: its serial (hosts
/// refuse a lower one than they enforced), the trust policy that goes with it (`None`: the
/// signer said there is none, so a policy that appears is refused), and an optional expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockBinding {
    pub serial: u64,
    /// SHA-256 of the policy file's bytes, or `null` for "no policy".
    pub policy: Option<Digest>,
    /// RFC 3339: after this instant the signed lock is refused (`lock-expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// An in-toto Statement v1 with mcpseal's predicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: ReleasePredicate,
}

impl Statement {
    pub fn new(subject: Vec<Subject>, predicate: ReleasePredicate) -> Self {
        Statement {
            type_: STATEMENT_TYPE.into(),
            subject,
            predicate_type: PREDICATE_TYPE.into(),
            predicate,
        }
    }
}

/// DSSE v1 pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Signing failed: the statement could not be encoded, or the key could not sign.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the statement: {0}")]
pub struct SignError(String);

/// Signs a statement with any [`Signer`] (the signature in its scheme, DER for ECDSA): returns
/// the bundle as a JSON value.
pub fn sign(statement: &Statement, key: &dyn Signer) -> Result<Value, SignError> {
    let v = serde_json::to_value(statement).map_err(|e| SignError(e.to_string()))?;
    sign_statement_value(&v, key)
}

/// Signs any in-toto statement (its RFC 8785 form is the DSSE payload), e.g. cosign's
/// `https://sigstore.dev/cosign/sign/v1` statement over an image digest (src/oci).
pub fn sign_statement_value(statement: &Value, key: &dyn Signer) -> Result<Value, SignError> {
    let payload = json::canonical(statement).map_err(|e| SignError(e.to_string()))?;
    let sig = key
        .sign(&pae(PAYLOAD_TYPE, &payload))
        .map_err(|e| SignError(e.to_string()))?;
    let key_id = key.public_key().key_id();
    Ok(json!({
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_id},
            "tlogEntries": [],
            "timestampVerificationData": {"rfc3161Timestamps": []}
        },
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": B64.encode(sig), "keyid": key_id}]
        }
    }))
}

/// Why a bundle did not verify. Codes are stable (docs/exit-codes.md).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the bundle is {size} bytes, over the {MAX_BUNDLE_BYTES}-byte limit")]
    TooLarge { size: usize },
    #[error("not a Sigstore bundle: {0}")]
    Malformed(String),
    #[error("unsupported bundle media type {0:?} (key-based verification reads {MEDIA_TYPE})")]
    MediaType(String),
    #[error("DSSE payload type is {0:?}, expected {PAYLOAD_TYPE}")]
    PayloadType(String),
    #[error("the envelope has {0} signatures; exactly one is accepted")]
    SignatureCount(usize),
    #[error("signed by key id {found}, but the key given has id {expected}")]
    WrongKey { found: String, expected: String },
    #[error(
        "the signature does not verify with the key given (key id {key_id}): the bundle was altered or signed by another key"
    )]
    BadSignature { key_id: String },
    #[error("the signed statement is not acceptable: {0}")]
    Statement(String),
    #[error("{0}")]
    NotTheArtifact(String),
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::TooLarge { .. } => "bundle-too-large",
            VerifyError::Malformed(_) => "malformed-bundle",
            VerifyError::MediaType(_) => "media-type",
            VerifyError::PayloadType(_) => "payload-type",
            VerifyError::SignatureCount(_) => "signature-count",
            VerifyError::WrongKey { .. } => "wrong-key",
            VerifyError::BadSignature { .. } => "bad-signature",
            VerifyError::Statement(_) => "bad-statement",
            VerifyError::NotTheArtifact(_) => "digest-mismatch",
        }
    }
    /// Exit 2 (the input is not a usable bundle) rather than 1 (it is a bundle, and it says no).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            VerifyError::TooLarge { .. } | VerifyError::Malformed(_)
        )
    }
}

/// A statement whose signature verified. Only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct Verified {
    statement: Statement,
    key_id: String,
    bundle_digest: Digest,
}

impl Verified {
    pub fn statement(&self) -> &Statement {
        &self.statement
    }
    /// The key id of the key that verified it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    /// SHA-256 of the bundle bytes.
    pub fn bundle_digest(&self) -> Digest {
        self.bundle_digest
    }
}

fn field<'a>(v: &'a Value, pointer: &str) -> Result<&'a Value, VerifyError> {
    v.pointer(pointer)
        .ok_or_else(|| VerifyError::Malformed(format!("missing {pointer}")))
}

fn string<'a>(v: &'a Value, pointer: &str) -> Result<&'a str, VerifyError> {
    field(v, pointer)?
        .as_str()
        .ok_or_else(|| VerifyError::Malformed(format!("{pointer} is not a string")))
}

fn base64_field(v: &Value, pointer: &str) -> Result<Vec<u8>, VerifyError> {
    B64.decode(string(v, pointer)?)
        .map_err(|_| VerifyError::Malformed(format!("{pointer} is not valid base64")))
}

/// A DSSE payload whose one signature verified with a key. Only [`verify_envelope`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedPayload {
    payload: Vec<u8>,
    key_id: String,
    bundle_digest: Digest,
}

impl VerifiedPayload {
    /// The signed in-toto statement, as bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
    pub fn bundle_digest(&self) -> Digest {
        self.bundle_digest
    }
}

/// Verifies a bundle's one DSSE signature with `key` and parses the statement it signs.
/// Does not look at artifacts: see [`match_subjects`].
pub fn verify(bundle: &[u8], key: &PublicKey) -> Result<Verified, VerifyError> {
    let v = verify_envelope(bundle, key)?;
    // Only now is the payload trusted enough to parse.
    let statement: Statement =
        json::from_slice_strict(&v.payload).map_err(|e| VerifyError::Statement(e.to_string()))?;
    check_statement(&statement)?;
    Ok(Verified {
        statement,
        key_id: v.key_id,
        bundle_digest: v.bundle_digest,
    })
}

/// Verifies a key-based bundle's media type, payload type and one DSSE signature with `key`;
/// returns the signed payload, whatever statement it holds (the caller checks that).
pub fn verify_envelope(bundle: &[u8], key: &PublicKey) -> Result<VerifiedPayload, VerifyError> {
    if bundle.len() > MAX_BUNDLE_BYTES {
        return Err(VerifyError::TooLarge { size: bundle.len() });
    }
    let v = json::parse_strict(bundle).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if !v.is_object() {
        return Err(VerifyError::Malformed(
            "the top level is not a JSON object".into(),
        ));
    }
    let media = string(&v, "/mediaType")?;
    if media != MEDIA_TYPE {
        return Err(VerifyError::MediaType(media.to_owned()));
    }
    let expected = key.key_id();
    if let Some(hint) = v.pointer("/verificationMaterial/publicKey/hint") {
        let hint = hint
            .as_str()
            .ok_or_else(|| VerifyError::Malformed("publicKey.hint is not a string".into()))?;
        if hint != expected {
            return Err(VerifyError::WrongKey {
                found: hint.to_owned(),
                expected,
            });
        }
    } else {
        return Err(VerifyError::Malformed(
            "no verificationMaterial.publicKey: not a key-based bundle (for a certificate-based bundle use --certificate-identity)".into(),
        ));
    }
    let payload_type = string(&v, "/dsseEnvelope/payloadType")?;
    if payload_type != PAYLOAD_TYPE {
        return Err(VerifyError::PayloadType(payload_type.to_owned()));
    }
    let payload = base64_field(&v, "/dsseEnvelope/payload")?;
    let sigs = field(&v, "/dsseEnvelope/signatures")?
        .as_array()
        .ok_or_else(|| VerifyError::Malformed("dsseEnvelope.signatures is not an array".into()))?;
    if sigs.len() != 1 {
        return Err(VerifyError::SignatureCount(sigs.len()));
    }
    let sig = base64_field(&v, "/dsseEnvelope/signatures/0/sig")?;
    if let Some(kid) = v
        .pointer("/dsseEnvelope/signatures/0/keyid")
        .and_then(Value::as_str)
        && !kid.is_empty()
        && kid != expected
    {
        return Err(VerifyError::WrongKey {
            found: kid.to_owned(),
            expected,
        });
    }
    if key.verify(&pae(payload_type, &payload), &sig).is_err() {
        return Err(VerifyError::BadSignature { key_id: expected });
    }
    Ok(VerifiedPayload {
        payload,
        key_id: expected,
        bundle_digest: Digest::of(bundle),
    })
}

/// The checks every signed release statement passes, key-based ([`verify`]) or keyless
/// ([`crate::keyless::KeylessVerified::release_statement`]): the in-toto Statement v1 type,
/// mcpseal's predicate type, at least one subject, each with a well-formed sha256 digest, and
/// no subject listed twice (by digest or by name). Which artifacts it covers is
/// [`match_subjects`]'.
pub fn check_statement(s: &Statement) -> Result<(), VerifyError> {
    if s.type_ != STATEMENT_TYPE {
        return Err(VerifyError::Statement(format!(
            "_type is {:?}, expected {STATEMENT_TYPE}",
            s.type_
        )));
    }
    if s.predicate_type != PREDICATE_TYPE {
        return Err(VerifyError::Statement(format!(
            "predicateType is {:?}, expected {PREDICATE_TYPE}",
            s.predicate_type
        )));
    }
    if s.subject.is_empty() {
        return Err(VerifyError::Statement("the subject list is empty".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for sub in &s.subject {
        let d = sub.sha256().ok_or_else(|| {
            VerifyError::Statement(format!(
                "subject {:?} has no well-formed sha256 digest",
                sub.name
            ))
        })?;
        if !seen.insert(d) || s.subject.iter().filter(|o| o.name == sub.name).count() > 1 {
            return Err(VerifyError::Statement(format!(
                "subject {:?} is listed twice",
                sub.name
            )));
        }
    }
    Ok(())
}

/// Artifacts and subjects do not correspond one to one.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    #[error(
        "{artifact}: digest {actual} does not match the signed digest {signed} of subject {subject:?}: the artifact was altered"
    )]
    DigestMismatch {
        artifact: String,
        subject: String,
        signed: Digest,
        actual: Digest,
    },
    #[error("{artifact}: digest {actual} is not among the signed subjects")]
    UnknownArtifact { artifact: String, actual: Digest },
    #[error(
        "signed subject {subject:?} was not given as an artifact: pass every artifact the bundle covers"
    )]
    MissingSubject { subject: String },
}

impl SubjectError {
    pub fn code(&self) -> &'static str {
        match self {
            SubjectError::DigestMismatch { .. } => "digest-mismatch",
            SubjectError::UnknownArtifact { .. } => "unknown-subject",
            SubjectError::MissingSubject { .. } => "missing-subject",
        }
    }
}

/// Every artifact's digest must be among the subjects, and every subject matched by an artifact.
/// `artifacts` are `(display name, file name, digest)`.
pub fn match_subjects(
    statement: &Statement,
    artifacts: &[(String, String, Digest)],
) -> Result<(), SubjectError> {
    let mut matched = vec![false; statement.subject.len()];
    for (display, file_name, actual) in artifacts {
        let hit = statement
            .subject
            .iter()
            .position(|s| s.sha256().is_some_and(|d| d.ct_eq(actual)));
        match hit {
            Some(i) => {
                if let Some(m) = matched.get_mut(i) {
                    *m = true;
                }
            }
            None => {
                let by_name = statement.subject.iter().find(|s| &s.name == file_name);
                return Err(match by_name.and_then(|s| s.sha256().map(|d| (s, d))) {
                    Some((s, signed)) => SubjectError::DigestMismatch {
                        artifact: display.clone(),
                        subject: s.name.clone(),
                        signed,
                        actual: *actual,
                    },
                    None => SubjectError::UnknownArtifact {
                        artifact: display.clone(),
                        actual: *actual,
                    },
                });
            }
        }
    }
    match statement.subject.iter().zip(&matched).find(|(_, m)| !**m) {
        Some((s, _)) => Err(SubjectError::MissingSubject {
            subject: s.name.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn signed(key: &dyn Signer) -> (Value, Digest) {
        let d = Digest::of(b"artifact");
        let st = Statement::new(vec![Subject::new("a.tgz", &d)], ReleasePredicate::default());
        (sign(&st, key).unwrap(), d)
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn round_trip_then_every_kind_of_no() {
        let k = keys::generate().unwrap();
        let (b, d) = signed(&k);
        let bytes = serde_json::to_vec(&b).unwrap();
        let ok = verify(&bytes, &k.public()).unwrap();
        assert!(match_subjects(ok.statement(), &[("a".into(), "a.tgz".into(), d)]).is_ok());

        let other = keys::generate().unwrap();
        assert_eq!(
            verify(&bytes, &other.public()).unwrap_err().code(),
            "wrong-key"
        );

        let mut tampered = b.clone();
        let payload = tampered["dsseEnvelope"]["payload"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut raw = B64.decode(payload).unwrap();
        let last = raw.len() - 2;
        raw[last] ^= 1;
        tampered["dsseEnvelope"]["payload"] = json!(B64.encode(raw));
        let e = verify(&serde_json::to_vec(&tampered).unwrap(), &k.public()).unwrap_err();
        assert_eq!(e.code(), "bad-signature");

        let mut two = b.clone();
        let s = two["dsseEnvelope"]["signatures"][0].clone();
        two["dsseEnvelope"]["signatures"] = json!([s.clone(), s]);
        assert_eq!(
            verify(&serde_json::to_vec(&two).unwrap(), &k.public())
                .unwrap_err()
                .code(),
            "signature-count"
        );

        let bad = Digest::of(b"other");
        assert_eq!(
            match_subjects(ok.statement(), &[("a".into(), "a.tgz".into(), bad)])
                .unwrap_err()
                .code(),
            "digest-mismatch"
        );
        assert_eq!(
            match_subjects(ok.statement(), &[("b".into(), "b.tgz".into(), bad)])
                .unwrap_err()
                .code(),
            "unknown-subject"
        );
        assert_eq!(
            match_subjects(ok.statement(), &[]).unwrap_err().code(),
            "missing-subject"
        );
    }

    /// The DSSE `keyid` is not covered by the signature, so a correctly signed bundle can name
    /// another key there: that bundle is refused, not verified (cargo mutants found no test
    /// had one). An empty or absent `keyid` is allowed (DSSE makes it optional).
    #[test]
    fn a_signature_keyid_naming_another_key_is_refused() {
        let k = keys::generate().unwrap();
        let other = keys::generate().unwrap();
        let (b, _) = signed(&k);
        let with_keyid = |kid: Option<&str>| {
            let mut v = b.clone();
            match kid {
                Some(kid) => v["dsseEnvelope"]["signatures"][0]["keyid"] = json!(kid),
                None => {
                    v["dsseEnvelope"]["signatures"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("keyid");
                }
            }
            verify(&serde_json::to_vec(&v).unwrap(), &k.public())
        };
        let e = with_keyid(Some(&other.public().key_id())).unwrap_err();
        assert_eq!(e.code(), "wrong-key", "{e}");
        assert!(e.to_string().contains(&other.public().key_id()), "{e}");
        assert!(with_keyid(Some(&k.public().key_id())).is_ok());
        assert!(with_keyid(Some("")).is_ok());
        assert!(with_keyid(None).is_ok());
    }

    /// A bundle over [`MAX_BUNDLE_BYTES`] is refused before it is parsed; one of exactly that
    /// size (a signed bundle padded with trailing spaces, still the same JSON) verifies.
    #[test]
    fn a_bundle_over_the_size_limit_is_refused_unparsed() {
        let k = keys::generate().unwrap();
        let (b, _) = signed(&k);
        let mut at_limit = serde_json::to_vec(&b).unwrap();
        at_limit.resize(MAX_BUNDLE_BYTES, b' ');
        // Whitespace after the document is still the same JSON: at the limit it verifies.
        assert!(verify(&at_limit, &k.public()).is_ok());
        let mut over = at_limit;
        over.push(b' ');
        let e = verify(&over, &k.public()).unwrap_err();
        assert_eq!(e.code(), "bundle-too-large");
        assert!(e.is_input_error());
    }

    /// The limit is the documented 16 MiB (docs/formats.md): a padded bundle of 15 MiB
    /// verifies, and the refusal of a larger one names the limit in bytes. (The test above
    /// holds the boundary; this one its value: cargo mutants made it 17 KiB unnoticed.)
    #[test]
    fn the_bundle_size_limit_is_16_mib() {
        let k = keys::generate().unwrap();
        let (b, _) = signed(&k);
        let mut large = serde_json::to_vec(&b).unwrap();
        large.resize(15 * 1024 * 1024, b' ');
        assert!(verify(&large, &k.public()).is_ok());
        large.resize(16 * 1024 * 1024 + 1, b' ');
        let e = verify(&large, &k.public()).unwrap_err();
        assert!(e.to_string().contains("16777216-byte limit"), "{e}");
    }

    /// What verified it: both verifiers report the id of the key the signature verified with
    /// (`verify --json` and the gate's audit log print it), never another or an empty one.
    #[test]
    fn a_verified_bundle_names_the_key_that_verified_it() {
        let k = keys::generate().unwrap();
        let (b, _) = signed(&k);
        let bytes = serde_json::to_vec(&b).unwrap();
        let id = k.public().key_id();
        assert_eq!(verify(&bytes, &k.public()).unwrap().key_id(), id);
        assert_eq!(verify_envelope(&bytes, &k.public()).unwrap().key_id(), id);
    }

    /// Exit 2 (not a usable bundle) only for a bundle that is too large or not a bundle; every
    /// "it is a bundle and it says no" is exit 1, the answer a CI job must act on.
    #[test]
    fn only_a_bundle_that_is_not_one_is_an_input_error() {
        let s = String::new;
        let cases = [
            (VerifyError::TooLarge { size: 1 }, true),
            (VerifyError::Malformed(s()), true),
            (VerifyError::MediaType(s()), false),
            (VerifyError::PayloadType(s()), false),
            (VerifyError::SignatureCount(2), false),
            (
                VerifyError::WrongKey {
                    found: s(),
                    expected: s(),
                },
                false,
            ),
            (VerifyError::BadSignature { key_id: s() }, false),
            (VerifyError::Statement(s()), false),
            (VerifyError::NotTheArtifact(s()), false),
        ];
        for (e, input) in cases {
            assert_eq!(e.is_input_error(), input, "{}", e.code());
        }
    }

    /// `compare` names every entity whose live digest is not the signed one (changed, added,
    /// removed; the instructions too), each with both digests, and nothing that matches: the
    /// gate blocks a server whose surface is not the one its publisher signed on this list.
    #[test]
    fn compare_names_every_entity_that_differs_and_nothing_else() {
        let d = |s: &str| Digest::of(s.as_bytes());
        let map = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), d(v)))
                .collect::<BTreeMap<_, _>>()
        };
        let signed_digests = SurfaceDigests {
            surface: d("surface"),
            instructions: Some(d("instructions")),
            entities: BTreeMap::from([
                (
                    EntityKind::Tools,
                    map(&[("a", "a"), ("b", "b"), ("c", "c")]),
                ),
                (EntityKind::Prompts, map(&[("p", "p")])),
            ]),
        };
        let signed = SignedSurface::from(&signed_digests);
        assert_eq!(signed.compare(&signed_digests), vec![]);
        let mut live = signed_digests.clone();
        live.instructions = Some(d("other instructions"));
        live.entities.insert(
            EntityKind::Tools,
            map(&[("a", "a"), ("b", "b2"), ("d", "d")]),
        );
        live.entities
            .insert(EntityKind::Resources, map(&[("r", "r")]));
        let m = |kind, key: &str, signed: Option<&str>, live: Option<&str>| SurfaceMismatch {
            kind,
            key: key.into(),
            signed: signed.map(d),
            live: live.map(d),
        };
        let tool = Some(EntityKind::Tools);
        assert_eq!(
            signed.compare(&live),
            vec![
                m(
                    None,
                    "instructions",
                    Some("instructions"),
                    Some("other instructions")
                ),
                m(tool, "b", Some("b"), Some("b2")),
                m(tool, "c", Some("c"), None),
                m(tool, "d", None, Some("d")),
                m(Some(EntityKind::Resources), "r", None, Some("r")),
            ]
        );
        live.instructions = None;
        assert_eq!(
            signed.compare(&live)[0],
            m(None, "instructions", Some("instructions"), None)
        );
    }

    /// A statement that lists one artifact twice (by digest or by name) is refused, whatever
    /// the signature: subjects and artifacts must correspond one to one.
    #[test]
    fn a_statement_listing_a_subject_twice_is_refused() {
        let k = keys::generate().unwrap();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let verify_subjects = |subjects: Vec<Subject>| {
            let st = Statement::new(subjects, ReleasePredicate::default());
            let bundle = serde_json::to_vec(&sign(&st, &k).unwrap()).unwrap();
            verify(&bundle, &k.public())
        };
        let same_digest =
            verify_subjects(vec![Subject::new("a.tgz", &a), Subject::new("b.tgz", &a)]);
        let e = same_digest.unwrap_err();
        assert_eq!(e.code(), "bad-statement");
        assert!(e.to_string().contains("listed twice"), "{e}");
        let same_name = verify_subjects(vec![Subject::new("a.tgz", &a), Subject::new("a.tgz", &b)]);
        let e = same_name.unwrap_err();
        assert_eq!(e.code(), "bad-statement");
        assert!(e.to_string().contains("listed twice"), "{e}");
        let ok = verify_subjects(vec![Subject::new("a.tgz", &a), Subject::new("b.tgz", &b)]);
        assert_eq!(ok.unwrap().statement().subject.len(), 2);
    }
}
