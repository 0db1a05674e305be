//! Image signatures in the formats cosign reads and writes, over a [`Registry`].
//!
//! - **cosign 3** (the default since cosign 3): an in-toto Statement v1 whose one subject is
//!   the image (`registry/repository`, its manifest SHA-256) with predicate type
//!   [`COSIGN_PREDICATE`] and an empty predicate, DSSE-signed in a Sigstore bundle v0.3, stored
//!   as an OCI 1.1 referrer: an image manifest with `artifactType` = the bundle media type, an
//!   empty config, the bundle as its one layer and `subject` = the image. mcpseal always also
//!   updates the referrers tag schema index (`sha256-<hex>`), so registries without the
//!   referrers API (docker-registry 2.8) serve it too.
//! - **mcpseal release**: the same kind of referrer whose bundle carries mcpseal's release
//!   predicate (server name, version, the signed tool surface) over the same image digest.
//! - **legacy** (cosign 1/2): a "simple signing" JSON payload naming the image digest
//!   (`critical.image.docker-manifest-digest`) and repository (`critical.identity
//!   .docker-reference`), signed as is, stored as a layer of the image tagged
//!   `sha256-<hex>.sig` with the base64 signature in the `dev.cosignproject.cosign/signature`
//!   annotation.
//!
//! Verification trusts nothing the registry says: every signature is checked with the key
//! first, then its signed content must name the image's digest (as computed from the bytes
//! received) and repository. A valid legacy signature copied under another image's `.sig` tag
//! therefore fails (`legacy-digest-mismatch`), which ToolHive and the Docker MCP gateway do not
//! check.

use serde_json::{Value, json};

use super::reference::{ImageRef, same_repository};
use super::registry::{Manifest, OCI_INDEX, OCI_MANIFEST, OciError, Registry, tag_schema};
use crate::bundle::{self, MEDIA_TYPE as BUNDLE_MEDIA_TYPE, STATEMENT_TYPE};
use crate::digest::Digest;
use crate::keys::{PublicKey, Signer};

/// cosign 3's predicate type for an image signature.
pub const COSIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The legacy signature layer's media type.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding a legacy signature (base64).
pub const SIG_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The legacy payload's `critical.type`.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// OCI's empty descriptor media type (config of an artifact manifest).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_JSON: &[u8] = b"{}";
/// Largest legacy payload read.
const MAX_PAYLOAD: usize = 64 << 10;
/// Most signature manifests examined for one image (a registry could list thousands).
const MAX_CANDIDATES: usize = 64;

/// The cosign 3 statement over `digest` of `image`'s repository.
pub fn cosign_statement(image: &ImageRef, digest: Digest) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": image.repo_name(), "digest": {"sha256": digest.hex()}}],
        "predicateType": COSIGN_PREDICATE,
        "predicate": {},
    })
}

/// The legacy simple-signing payload, byte for byte as cosign writes it.
pub fn simple_signing_payload(image: &ImageRef, digest: Digest) -> Vec<u8> {
    // Field order as cosign's Go struct; the signature covers these exact bytes.
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":"{}"}},"type":"{SIMPLE_SIGNING_TYPE}"}},"optional":null}}"#,
        Value::String(image.repo_name()),
        digest
    )
    .into_bytes()
}

fn bad_registry(image: &ImageRef, why: impl Into<String>) -> OciError {
    OciError::Malformed {
        image: image.display(),
        why: why.into(),
    }
}

/// Pushes `bundle_bytes` as a referrer of `subject` (artifactType: the bundle media type) and
/// adds it to the referrers tag schema index. Returns the referrer manifest's digest.
pub fn push_referrer(
    reg: &Registry,
    subject: &Manifest,
    bundle_bytes: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<Digest, OciError> {
    let config = reg.push_blob(EMPTY_JSON)?;
    let layer = reg.push_blob(bundle_bytes)?;
    let annotations = json!({
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": predicate_type,
        "org.opencontainers.image.created": created,
    });
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config.to_string(), "size": EMPTY_JSON.len()},
        "layers": [{"mediaType": BUNDLE_MEDIA_TYPE, "digest": layer.to_string(), "size": bundle_bytes.len()}],
        "subject": subject.descriptor(),
        "annotations": annotations,
    });
    let bytes =
        serde_json::to_vec(&manifest).map_err(|e| bad_registry(reg.image(), e.to_string()))?;
    let image = reg.image().at_digest(subject.digest);
    let digest = reg.push_manifest(&image.at_digest(Digest::of(&bytes)), &bytes, OCI_MANIFEST)?;
    // The referrers tag schema: read the index, add this referrer, write it back.
    let tag = image.at_tag(&tag_schema(subject.digest));
    let mut entries: Vec<Value> = match reg.manifest_opt(&tag)? {
        Some(m) if m.is_index() => m
            .json
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Some(_) => {
            return Err(bad_registry(
                &tag,
                "the referrers tag holds an image manifest, not an index: refusing to overwrite it",
            ));
        }
        None => Vec::new(),
    };
    let digest_s = digest.to_string();
    if !entries
        .iter()
        .any(|e| e.get("digest").and_then(Value::as_str) == Some(digest_s.as_str()))
    {
        entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": digest_s,
            "size": bytes.len(),
            "artifactType": BUNDLE_MEDIA_TYPE,
            "annotations": annotations,
        }));
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let index_bytes = serde_json::to_vec(&index).map_err(|e| bad_registry(&tag, e.to_string()))?;
    reg.push_manifest(&tag, &index_bytes, OCI_INDEX)?;
    Ok(digest)
}

/// Adds a legacy signature layer to the image's `sha256-<hex>.sig` manifest (keeping the
/// signatures already there). Returns the signature manifest's digest.
pub fn push_legacy(
    reg: &Registry,
    subject: Digest,
    payload: &[u8],
    signature_b64: &str,
) -> Result<Digest, OciError> {
    let tag = reg.image().at_tag(&format!("{}.sig", tag_schema(subject)));
    let mut layers: Vec<Value> = match reg.manifest_opt(&tag)? {
        Some(m) if !m.is_index() => m
            .json
            .get("layers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Some(_) => return Err(bad_registry(&tag, "the .sig tag holds an index")),
        None => Vec::new(),
    };
    let layer = reg.push_blob(payload)?;
    let entry = json!({
        "mediaType": SIMPLE_SIGNING,
        "digest": layer.to_string(),
        "size": payload.len(),
        "annotations": {SIG_ANNOTATION: signature_b64},
    });
    if !layers.contains(&entry) {
        layers.push(entry);
    }
    let diff_ids: Vec<&Value> = layers.iter().filter_map(|l| l.get("digest")).collect();
    let config = json!({
        "architecture": "", "os": "", "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config_bytes =
        serde_json::to_vec(&config).map_err(|e| bad_registry(&tag, e.to_string()))?;
    let config_digest = reg.push_blob(&config_bytes)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_bytes.len()},
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| bad_registry(&tag, e.to_string()))?;
    reg.push_manifest(&tag, &bytes, OCI_MANIFEST)
}

/// The signatures an image carries, fetched but not yet verified.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Sigstore bundles from referrers: (referrer manifest digest, bundle bytes).
    pub bundles: Vec<(Digest, Vec<u8>)>,
    /// Legacy signatures: (payload bytes, base64 signature).
    pub legacy: Vec<(Vec<u8>, String)>,
    /// Referrers or layers skipped, and why (reported, never trusted).
    pub skipped: Vec<String>,
}

fn descriptor_digest(d: &Value) -> Option<(Digest, u64)> {
    let digest = d.get("digest")?.as_str()?.parse().ok()?;
    let size = d.get("size")?.as_u64()?;
    Some((digest, size))
}

/// Fetches every Sigstore-bundle referrer and legacy signature of `subject`.
pub fn fetch(reg: &Registry, subject: Digest) -> Result<Candidates, OciError> {
    let mut out = Candidates::default();
    for entry in reg.referrers(subject)?.iter().take(MAX_CANDIDATES) {
        // Filter by the layer media type, not the index entry's artifactType (some registries
        // rewrite it), as sigstore-rs does.
        let Some((digest, _)) = descriptor_digest(entry) else {
            out.skipped.push("a referrer entry without a digest".into());
            continue;
        };
        let m = reg.manifest(&reg.image().at_digest(digest))?;
        let points_back = m
            .json
            .pointer("/subject/digest")
            .and_then(Value::as_str)
            .is_some_and(|d| d == subject.to_string());
        if !points_back {
            out.skipped.push(format!(
                "referrer {digest} does not name the image as its subject"
            ));
            continue;
        }
        let layers = m.json.get("layers").and_then(Value::as_array);
        for l in layers.into_iter().flatten() {
            if l.get("mediaType").and_then(Value::as_str) != Some(BUNDLE_MEDIA_TYPE) {
                continue;
            }
            let Some((ld, size)) = descriptor_digest(l) else {
                out.skipped
                    .push(format!("referrer {digest}: a layer without digest or size"));
                continue;
            };
            let bytes = reg.blob(ld, size, bundle::MAX_BUNDLE_BYTES)?;
            out.bundles.push((digest, bytes));
        }
    }
    let sig_tag = reg.image().at_tag(&format!("{}.sig", tag_schema(subject)));
    if let Some(m) = reg.manifest_opt(&sig_tag)? {
        let layers = m.json.get("layers").and_then(Value::as_array);
        for l in layers.into_iter().flatten().take(MAX_CANDIDATES) {
            if l.get("mediaType").and_then(Value::as_str) != Some(SIMPLE_SIGNING) {
                continue;
            }
            let sig = l
                .pointer(&crate::json::pointer_child("/annotations", SIG_ANNOTATION))
                .and_then(Value::as_str);
            let (Some((ld, size)), Some(sig)) = (descriptor_digest(l), sig) else {
                out.skipped
                    .push("a .sig layer without digest, size or signature annotation".into());
                continue;
            };
            let payload = reg.blob(ld, size, MAX_PAYLOAD)?;
            out.legacy.push((payload, sig.to_owned()));
        }
    }
    Ok(out)
}

/// Which format verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// cosign 3: DSSE bundle with the cosign sign predicate, as a referrer.
    Cosign3,
    /// cosign 1/2: simple signing under the `.sig` tag.
    Legacy,
}

/// One signature that verified over the image.
#[derive(Clone, Debug)]
pub struct VerifiedSignature {
    pub format: Format,
    pub key_id: String,
}

/// Why a signature (or all of them) did not verify. Codes are stable (docs/exit-codes.md).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("no signature: the image has no cosign referrer bundle and no legacy .sig signature")]
    NoSignature,
    #[error("{0}")]
    Bundle(String, &'static str),
    #[error(
        "a legacy signature verifies, but it signs digest {signed}, not this image's {image}: it was copied from another image"
    )]
    LegacyDigest { signed: String, image: Digest },
    #[error("a legacy signature verifies, but it names repository {signed:?}, not {image:?}")]
    LegacyReference { signed: String, image: String },
    #[error("a legacy signature's payload is not a cosign simple-signing payload: {0}")]
    LegacyPayload(String),
    #[error("a legacy signature does not verify with the key given (key id {0})")]
    LegacyBadSignature(String),
    #[error("a cosign bundle verifies, but its statement signs {signed}, not this image's {image}")]
    SubjectMismatch { signed: String, image: Digest },
}

impl SigError {
    pub fn code(&self) -> &'static str {
        match self {
            SigError::NoSignature => "no-signature",
            SigError::Bundle(_, code) => code,
            SigError::LegacyDigest { .. } => "legacy-digest-mismatch",
            SigError::LegacyReference { .. } => "legacy-reference-mismatch",
            SigError::LegacyPayload(_) => "legacy-payload-invalid",
            SigError::LegacyBadSignature(_) => "bad-signature",
            SigError::SubjectMismatch { .. } => "subject-mismatch",
        }
    }
    /// How telling a refusal is, to report the most specific one when all fail: a signature
    /// by the right key over the wrong thing says more than one by another key.
    pub fn rank(&self) -> u8 {
        match self {
            SigError::NoSignature => 0,
            SigError::Bundle(_, "wrong-key") => 1,
            SigError::Bundle(..) | SigError::LegacyBadSignature(_) => 2,
            SigError::LegacyPayload(_) => 3,
            _ => 4,
        }
    }
}

/// The statement of a verified cosign 3 bundle must be the cosign predicate over `image`.
pub fn check_cosign_statement(payload: &[u8], image: Digest) -> Result<bool, SigError> {
    let st = crate::json::parse_strict(payload).map_err(|e| {
        SigError::Bundle(
            format!("the signed statement is not JSON: {e}"),
            "bad-statement",
        )
    })?;
    if st.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(SigError::Bundle(
            "the signed statement is not in-toto v1".into(),
            "bad-statement",
        ));
    }
    if st.get("predicateType").and_then(Value::as_str) != Some(COSIGN_PREDICATE) {
        return Ok(false);
    }
    let subjects = st
        .get("subject")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let hex = image.hex();
    if subjects
        .iter()
        .any(|s| s.pointer("/digest/sha256").and_then(Value::as_str) == Some(hex.as_str()))
    {
        Ok(true)
    } else {
        let signed = subjects
            .iter()
            .filter_map(|s| s.pointer("/digest/sha256").and_then(Value::as_str))
            .map(|h| format!("sha256:{h}"))
            .collect::<Vec<_>>()
            .join(", ");
        Err(SigError::SubjectMismatch { signed, image })
    }
}

/// Checks a legacy payload (after its signature verified) against the image.
fn check_legacy_payload(
    payload: &[u8],
    image_ref: &ImageRef,
    image: Digest,
) -> Result<(), SigError> {
    let v =
        crate::json::parse_strict(payload).map_err(|e| SigError::LegacyPayload(e.to_string()))?;
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    if s("/critical/type") != Some(SIMPLE_SIGNING_TYPE) {
        return Err(SigError::LegacyPayload(format!(
            "critical.type is not {SIMPLE_SIGNING_TYPE:?}"
        )));
    }
    let signed = s("/critical/image/docker-manifest-digest").ok_or_else(|| {
        SigError::LegacyPayload("no critical.image.docker-manifest-digest".into())
    })?;
    let matches = signed.parse::<Digest>().is_ok_and(|d| d.ct_eq(&image));
    if !matches {
        return Err(SigError::LegacyDigest {
            signed: signed.chars().take(80).collect(),
            image,
        });
    }
    let reference = s("/critical/identity/docker-reference")
        .ok_or_else(|| SigError::LegacyPayload("no critical.identity.docker-reference".into()))?;
    // cosign writes the repository; some signers add a tag or digest to it.
    let repo = reference.split_once('@').map_or(reference, |(r, _)| r);
    let repo = match repo.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r,
        _ => repo,
    };
    if !same_repository(repo, image_ref) {
        return Err(SigError::LegacyReference {
            signed: reference.chars().take(200).collect(),
            image: image_ref.repo_name(),
        });
    }
    Ok(())
}

/// The outcome of checking every candidate with one key.
#[derive(Debug, Default)]
pub struct KeyOutcome {
    pub verified: Vec<VerifiedSignature>,
    /// Release statements (mcpseal's predicate) over the image that verified.
    pub releases: Vec<bundle::Verified>,
    pub refusals: Vec<SigError>,
}

impl KeyOutcome {
    /// The most telling refusal, when nothing verified.
    pub fn reason(&self) -> SigError {
        self.refusals
            .iter()
            .max_by_key(|e| e.rank())
            .cloned()
            .unwrap_or(SigError::NoSignature)
    }
}

/// Checks every candidate with `key`: cosign 3 bundles, mcpseal release bundles, legacy
/// signatures. `image` is the digest the candidates were fetched for.
pub fn verify_with_key(
    c: &Candidates,
    image_ref: &ImageRef,
    image: Digest,
    key: &PublicKey,
) -> KeyOutcome {
    let mut out = KeyOutcome::default();
    for (_, b) in &c.bundles {
        let v = match bundle::verify_envelope(b, key) {
            Ok(v) => v,
            Err(e) => {
                out.refusals.push(SigError::Bundle(e.to_string(), e.code()));
                continue;
            }
        };
        match check_cosign_statement(v.payload(), image) {
            Ok(true) => out.verified.push(VerifiedSignature {
                format: Format::Cosign3,
                key_id: v.key_id().to_owned(),
            }),
            Ok(false) => match bundle::verify(b, key) {
                // mcpseal's release predicate: its subject must be this image too.
                Ok(r) => {
                    if r.statement()
                        .subject
                        .iter()
                        .any(|s| s.sha256().is_some_and(|d| d.ct_eq(&image)))
                    {
                        out.releases.push(r);
                    } else {
                        out.refusals.push(SigError::SubjectMismatch {
                            signed: r
                                .statement()
                                .subject
                                .iter()
                                .filter_map(|s| s.sha256())
                                .map(|d| d.to_string())
                                .collect::<Vec<_>>()
                                .join(", "),
                            image,
                        });
                    }
                }
                Err(e) => out.refusals.push(SigError::Bundle(e.to_string(), e.code())),
            },
            Err(e) => out.refusals.push(e),
        }
    }
    for (payload, sig_b64) in &c.legacy {
        use base64::Engine;
        let sig = base64::engine::general_purpose::STANDARD.decode(sig_b64.trim());
        let ok = sig.as_deref().is_ok_and(|s| key.verify(payload, s).is_ok());
        if !ok {
            out.refusals
                .push(SigError::LegacyBadSignature(key.key_id()));
            continue;
        }
        match check_legacy_payload(payload, image_ref, image) {
            Ok(()) => out.verified.push(VerifiedSignature {
                format: Format::Legacy,
                key_id: key.key_id(),
            }),
            Err(e) => out.refusals.push(e),
        }
    }
    out
}

/// Signs `digest` of `image` with `key` in the cosign 3 format; returns the bundle bytes.
pub fn sign_cosign3(
    image: &ImageRef,
    digest: Digest,
    key: &dyn Signer,
) -> Result<Vec<u8>, bundle::SignError> {
    let b = bundle::sign_statement_value(&cosign_statement(image, digest), key)?;
    Ok(crate::json::to_pretty_sorted(&b).into_bytes())
}

/// Picks an index's manifest for `platform` (`os/arch[/variant]`).
pub fn select_platform(index: &Manifest, platform: &str) -> Option<(Digest, String)> {
    let mut want = platform.split('/');
    let (os, arch, variant) = (want.next()?, want.next()?, want.next());
    let list = index.json.get("manifests")?.as_array()?;
    list.iter().find_map(|m| {
        let p = m.get("platform")?;
        let s = |k: &str| p.get(k).and_then(Value::as_str);
        let hit = s("os") == Some(os)
            && s("architecture") == Some(arch)
            && (variant.is_none() || s("variant") == variant);
        if !hit {
            return None;
        }
        let d: Digest = m.get("digest")?.as_str()?.parse().ok()?;
        Some((d, m.get("mediaType")?.as_str()?.to_owned()))
    })
}

/// This machine's platform in OCI terms (`linux/amd64`, `linux/arm64`, …).
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{os}/{arch}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn img() -> ImageRef {
        ImageRef::parse_oci_url("oci://127.0.0.1:5000/acme/fetch:1").unwrap()
    }

    #[test]
    fn simple_signing_payload_is_cosigns() {
        let d: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        let p = simple_signing_payload(&img(), d);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/acme/fetch"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
    }

    #[test]
    fn legacy_signature_copied_to_another_digest_is_refused() {
        let k = keys::generate().unwrap();
        let a = Digest::of(b"image a");
        let b = Digest::of(b"image b");
        let payload = simple_signing_payload(&img(), a);
        use base64::Engine;
        let sig = base64::engine::general_purpose::STANDARD.encode(k.sign(&payload));
        let c = Candidates {
            legacy: vec![(payload, sig)],
            ..Default::default()
        };
        let ok = verify_with_key(&c, &img(), a, &k.public());
        assert_eq!(ok.verified.len(), 1);
        let moved = verify_with_key(&c, &img(), b, &k.public());
        assert!(moved.verified.is_empty());
        assert_eq!(moved.reason().code(), "legacy-digest-mismatch");
        let other_repo = ImageRef::parse_oci_url("oci://127.0.0.1:5000/evil/fetch").unwrap();
        let r = verify_with_key(&c, &other_repo, a, &k.public());
        assert_eq!(r.reason().code(), "legacy-reference-mismatch");
        let other = keys::generate().unwrap();
        assert_eq!(
            verify_with_key(&c, &img(), a, &other.public())
                .reason()
                .code(),
            "bad-signature"
        );
        assert_eq!(
            verify_with_key(&Candidates::default(), &img(), a, &k.public())
                .reason()
                .code(),
            "no-signature"
        );
    }

    #[test]
    fn cosign3_bundle_over_another_digest_is_refused() {
        let k = keys::generate().unwrap();
        let a = Digest::of(b"image a");
        let b = Digest::of(b"image b");
        let bundle = sign_cosign3(&img(), a, &k).unwrap();
        let c = Candidates {
            bundles: vec![(a, bundle)],
            ..Default::default()
        };
        assert_eq!(
            verify_with_key(&c, &img(), a, &k.public()).verified.len(),
            1
        );
        assert_eq!(
            verify_with_key(&c, &img(), b, &k.public()).reason().code(),
            "subject-mismatch"
        );
        let other = keys::generate().unwrap();
        assert_eq!(
            verify_with_key(&c, &img(), a, &other.public())
                .reason()
                .code(),
            "wrong-key"
        );
    }
}
