//! MCP bundles (`.mcpb`): the `MCPB_SIG_V1` signature block, verified and written.
//!
//! An MCPB file is a ZIP archive. The reference signer (`@anthropic-ai/mcpb` 2.1,
//! `src/node/sign.ts`) appends one block after the archive's last byte:
//!
//! ```text
//! CONTENT  "MCPB_SIG_V1"  u32-le LEN  PKCS7[LEN]  "MCPB_SIG_END"
//! ```
//!
//! `PKCS7` is a DER CMS `ContentInfo` holding a detached `SignedData` over exactly `CONTENT`
//! (SHA-256, signed attributes `contentType`, `messageDigest`, `signingTime`). The ZIP's
//! end-of-central-directory record is left as it was signed, so its comment length still ends
//! at `CONTENT`'s last byte; a tool that "fixes" the comment length afterwards changes the
//! signed bytes, and [`verify`] says so rather than guessing what was meant.
//!
//! What [`verify`] checks, in order, each failure with its own [`McpbError::code`]:
//! the block's framing (one block, at the very end, nothing after it, no second block inside
//! the content), the ZIP's end record against the signed bytes, that the block carries no ZIP
//! record a reader could take for the archive's own, the CMS structure (detached, one signer,
//! SHA-256, signed attributes present and single-valued), the content digest, the signature
//! with the signer's certificate, and then trust: a chain to the given roots that grants
//! code signing at the signing time (rustls-webpki on aws-lc-rs), or, when the caller allows
//! it, a self-signed certificate (its own signature, validity and key usage checked). Only
//! [`Verified`] — which nothing else can construct — says a bundle passed.
//!
//! [`sign_block`] writes the same block (RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256); verification
//! also accepts ECDSA P-384 with SHA-256 (what OpenSSL writes for a P-384 signer).
//! Nothing here reads files by itself: callers hand in readers and bytes.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo,
    SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

pub mod folder;
pub(crate) mod manifest;
pub use manifest::{MAX_MANIFEST, Manifest, ManifestError, read_manifest};

pub const HEADER: &[u8] = b"MCPB_SIG_V1";
pub const FOOTER: &[u8] = b"MCPB_SIG_END";
/// Largest PKCS#7 block accepted (a signer certificate and a few intermediates fit in 64 KiB).
pub const MAX_BLOCK: usize = 1 << 20;
/// ZIP end-of-central-directory record: fixed part, and the largest comment after it.
const EOCD_LEN: usize = 22;
const MAX_COMMENT: usize = 0xffff;

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-codeSigning, as the DER content bytes rustls-webpki matches.
const CODE_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// ZIP record signatures ("PK" + type). A signature block that holds one could be read by a
/// ZIP reader that scans from the end of the file as the archive's own end record.
const ZIP_MARKERS: [&[u8]; 5] = [
    b"PK\x05\x06", // end of central directory
    b"PK\x06\x06", // zip64 end of central directory
    b"PK\x06\x07", // zip64 end of central directory locator
    b"PK\x01\x02", // central directory header
    b"PK\x03\x04", // local file header
];

#[derive(Debug, thiserror::Error)]
pub enum McpbError {
    #[error("cannot read the bundle: {0}")]
    Io(String),
    #[error("not signed: no MCPB_SIG_V1 block at the end of the file")]
    Unsigned,
    #[error("{0}")]
    TrailingData(String),
    #[error("the signature block is malformed: {0}")]
    BlockMalformed(String),
    #[error(
        "two signature blocks: the signed content itself ends with an MCPB_SIG_V1 block (a bundle signed twice; which signer is meant cannot be told)"
    )]
    TwoSignatures,
    #[error("the signed content is not a ZIP archive: {0}")]
    NotZip(String),
    #[error(
        "the ZIP comment length was changed after signing: the end record says {said} comment bytes, which run {over} bytes into the signature block, so the file no longer holds the bytes that were signed"
    )]
    CommentRewritten { said: usize, over: usize },
    #[error(
        "the ZIP comment length does not match the signed bytes: the end record says {said} comment bytes but {actual} follow it before the signature block"
    )]
    CommentMismatch { said: usize, actual: usize },
    #[error(
        "the signature block contains a ZIP record marker at block offset {offset}: a ZIP reader could take unsigned bytes for the archive"
    )]
    ZipRecordInBlock { offset: usize },
    #[error("the PKCS#7 signature is malformed: {0}")]
    CmsMalformed(String),
    #[error(
        "the PKCS#7 signature carries its own content (not detached): what it covers is not the file"
    )]
    NotDetached,
    #[error("the PKCS#7 signature has {0} signers; an MCPB signature has exactly one")]
    SignerCount(usize),
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    #[error("the signed attributes are not usable: {0}")]
    SignedAttributes(String),
    #[error(
        "content digest mismatch: the signature covers sha256:{signed}, the bundle's content is sha256:{actual}"
    )]
    ContentDigest { signed: String, actual: String },
    #[error("the signer's certificate is not in the signature block")]
    SignerCertMissing,
    #[error("the signature does not verify with the signer's certificate")]
    Signature,
    #[error(
        "the signer's certificate is self-signed ({subject}); self-signed bundles are refused unless allowed"
    )]
    SelfSigned { subject: String },
    #[error("the signer's certificate does not chain to a trusted root: {0}")]
    Chain(String),
    #[error("the signer's certificate is not for code signing: {0}")]
    KeyUsage(String),
    #[error("a certificate was not valid at the signing time {time}: {why}")]
    Validity { time: String, why: String },
    #[error("the signing time {0} is in the future")]
    SigningTimeFuture(String),
    #[error("signer mismatch: signed by {found}, expected {expected}")]
    SignerMismatch { expected: String, found: String },
    #[error("the trusted roots are not usable: {0}")]
    Roots(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

impl McpbError {
    /// The stable reason code (docs/exit-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            McpbError::Io(_) => "io-error",
            McpbError::Unsigned => "mcpb-unsigned",
            McpbError::TrailingData(_) => "mcpb-trailing-data",
            McpbError::BlockMalformed(_) => "mcpb-block-malformed",
            McpbError::TwoSignatures => "mcpb-two-signatures",
            McpbError::NotZip(_) => "mcpb-not-zip",
            McpbError::CommentRewritten { .. } => "mcpb-zip-comment-rewritten",
            McpbError::CommentMismatch { .. } => "mcpb-zip-comment-mismatch",
            McpbError::ZipRecordInBlock { .. } => "mcpb-zip-record-in-block",
            McpbError::CmsMalformed(_) => "mcpb-cms-malformed",
            McpbError::NotDetached => "mcpb-not-detached",
            McpbError::SignerCount(_) => "mcpb-signer-count",
            McpbError::UnsupportedAlgorithm(_) => "mcpb-unsupported-algorithm",
            McpbError::SignedAttributes(_) => "mcpb-signed-attributes",
            McpbError::ContentDigest { .. } => "mcpb-content-digest-mismatch",
            McpbError::SignerCertMissing => "mcpb-signer-cert-missing",
            McpbError::Signature => "mcpb-signature-invalid",
            McpbError::SelfSigned { .. } => "mcpb-self-signed",
            McpbError::Chain(_) => "mcpb-untrusted-chain",
            McpbError::KeyUsage(_) => "mcpb-key-usage",
            McpbError::Validity { .. } => "mcpb-cert-not-valid-at-signing-time",
            McpbError::SigningTimeFuture(_) => "mcpb-signing-time-in-future",
            McpbError::SignerMismatch { .. } => "mcpb-signer-mismatch",
            McpbError::Roots(_) => "bad-trusted-roots",
            McpbError::Sign(_) => "mcpb-sign-failed",
        }
    }
    /// Exit 2 (nothing could be decided: the file or the roots could not be read) rather
    /// than 1 (the bundle is not trustworthy).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            McpbError::Io(_) | McpbError::Roots(_) | McpbError::Sign(_)
        )
    }
}

/// Where the signed content ends and the block is, found from the file's tail.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Length of the signed content (the ZIP archive as signed).
    pub content_len: u64,
    /// The PKCS#7 DER.
    pub pkcs7: Vec<u8>,
}

/// Reads the tail of `r` (of total length `len`) and locates the signature block.
pub fn locate<R: Read + Seek>(r: &mut R, len: u64) -> Result<Layout, McpbError> {
    let tail_len = len.min((MAX_BLOCK + HEADER.len() + 4 + FOOTER.len()) as u64);
    let tail = read_at(r, len - tail_len, tail_len as usize)?;
    if !tail.ends_with(FOOTER) {
        if let Some(i) = memchr::memmem::rfind(&tail, FOOTER) {
            return Err(McpbError::TrailingData(format!(
                "{} bytes follow the MCPB_SIG_END marker (the block must be the file's last bytes)",
                tail.len() - i - FOOTER.len()
            )));
        }
        return Err(McpbError::Unsigned);
    }
    let footer_at = tail.len() - FOOTER.len();
    // The block is framed by its length, not by searching for the header: the header bytes
    // may occur inside the DER.
    let min_block = HEADER.len() + 4;
    if footer_at < min_block {
        return Err(McpbError::BlockMalformed(
            "the file is too short for a signature block".into(),
        ));
    }
    // Find the header whose length field frames exactly up to the footer.
    let mut found = None;
    let mut search_end = footer_at.saturating_sub(4);
    while let Some(h) = memchr::memmem::rfind(&tail[..search_end], HEADER) {
        let len_at = h + HEADER.len();
        if len_at + 4 <= footer_at {
            let n = u32::from_le_bytes([
                tail[len_at],
                tail[len_at + 1],
                tail[len_at + 2],
                tail[len_at + 3],
            ]) as usize;
            if len_at + 4 + n == footer_at {
                found = Some(h);
                break;
            }
        }
        if h == 0 {
            break;
        }
        search_end = h + HEADER.len() - 1;
    }
    let Some(h) = found else {
        return Err(McpbError::BlockMalformed(
            "no MCPB_SIG_V1 header whose length field ends at MCPB_SIG_END (the length was changed, or the block was cut)".into(),
        ));
    };
    let content_len = len - tail_len + h as u64;
    let pkcs7 = tail[h + HEADER.len() + 4..footer_at].to_vec();
    Ok(Layout { content_len, pkcs7 })
}

fn read_at<R: Read + Seek>(r: &mut R, at: u64, n: usize) -> Result<Vec<u8>, McpbError> {
    r.seek(SeekFrom::Start(at))
        .map_err(|e| McpbError::Io(e.to_string()))?;
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)
        .map_err(|e| McpbError::Io(e.to_string()))?;
    Ok(buf)
}

/// Checks the ZIP end record of the signed content: it must be the last record and its comment
/// must end exactly where the signed bytes end. `tail` is the content's last bytes (at least
/// 22 + 65535 of them, or all of it).
fn check_zip_end(tail: &[u8], block_len: usize) -> Result<(), McpbError> {
    if tail.ends_with(FOOTER) {
        return Err(McpbError::TwoSignatures);
    }
    let Some(eocd) = memchr::memmem::rfind(tail, b"PK\x05\x06") else {
        return Err(McpbError::NotZip(
            "no end-of-central-directory record in its last 64 KiB".into(),
        ));
    };
    if eocd + EOCD_LEN > tail.len() {
        return Err(McpbError::NotZip("the end record is cut short".into()));
    }
    let said = u16::from_le_bytes([tail[eocd + 20], tail[eocd + 21]]) as usize;
    let actual = tail.len() - eocd - EOCD_LEN;
    if said == actual {
        return Ok(());
    }
    if said > actual && said - actual <= block_len {
        return Err(McpbError::CommentRewritten {
            said,
            over: said - actual,
        });
    }
    Err(McpbError::CommentMismatch { said, actual })
}

/// What the trust decision rests on.
pub enum Trust<'a> {
    /// A chain to one of these roots (DER certificates) granting code signing.
    Roots(&'a [Vec<u8>]),
    /// A self-signed signer certificate is accepted (its own signature, validity and key
    /// usage are still checked); a chain to `roots` is accepted too. Without this, a
    /// self-signed signer passes only when it is itself one of the roots.
    AllowSelfSigned(&'a [Vec<u8>]),
}

/// A verified bundle. Only [`verify`] makes one.
#[derive(Debug, Clone)]
pub struct Verified {
    content_digest: String,
    signer_subject: String,
    signer_issuer: String,
    signer_fingerprint: String,
    self_signed: bool,
    signing_time: Option<String>,
    content_len: u64,
}

impl Verified {
    /// `sha256:<hex>` of the signed content (the ZIP archive).
    pub fn content_digest(&self) -> &str {
        &self.content_digest
    }
    /// The signer certificate's subject (RFC 4514 form).
    pub fn signer_subject(&self) -> &str {
        &self.signer_subject
    }
    pub fn signer_issuer(&self) -> &str {
        &self.signer_issuer
    }
    /// `sha256:<hex>` of the signer certificate's DER.
    pub fn signer_fingerprint(&self) -> &str {
        &self.signer_fingerprint
    }
    pub fn self_signed(&self) -> bool {
        self.self_signed
    }
    /// The signed `signingTime` (RFC 3339), if the signer gave one.
    pub fn signing_time(&self) -> Option<&str> {
        self.signing_time.as_deref()
    }
    pub fn content_len(&self) -> u64 {
        self.content_len
    }
}

/// Verifies a signed MCPB file read from `r` (of length `len`) at time `now` (seconds since
/// the Unix epoch).
pub fn verify<R: Read + Seek>(
    r: &mut R,
    len: u64,
    trust: &Trust<'_>,
    now: u64,
) -> Result<Verified, McpbError> {
    let layout = locate(r, len)?;
    let zip_tail_len = layout.content_len.min((EOCD_LEN + MAX_COMMENT) as u64);
    let zip_tail = read_at(r, layout.content_len - zip_tail_len, zip_tail_len as usize)?;
    check_zip_end(
        &zip_tail,
        layout.pkcs7.len() + HEADER.len() + 4 + FOOTER.len(),
    )?;
    let block_len = HEADER.len() + 4 + layout.pkcs7.len() + FOOTER.len();
    let block_bytes = read_at(r, layout.content_len, block_len)?;
    for m in ZIP_MARKERS {
        if let Some(offset) = memchr::memmem::find(&block_bytes, m) {
            return Err(McpbError::ZipRecordInBlock { offset });
        }
    }
    let parsed = parse_cms(&layout.pkcs7)?;
    // The content digest, streamed over exactly the signed bytes.
    r.seek(SeekFrom::Start(0))
        .map_err(|e| McpbError::Io(e.to_string()))?;
    let actual = sha256_prefix(r, layout.content_len)?;
    if actual[..] != parsed.message_digest[..] {
        return Err(McpbError::ContentDigest {
            signed: hex::encode(&parsed.message_digest),
            actual: hex::encode(actual),
        });
    }
    let signer_der = parsed.signer_cert_der()?;
    let signer_cert = pki_types::CertificateDer::from(signer_der.as_slice());
    let signer = webpki::EndEntityCert::try_from(&signer_cert)
        .map_err(|e| McpbError::CmsMalformed(format!("the signer's certificate: {e}")))?;
    signer
        .verify_signature(parsed.sig_alg, &parsed.signed_attrs_der, &parsed.signature)
        .map_err(|_| McpbError::Signature)?;
    let time = match parsed.signing_time {
        Some(t) if t > now + 300 => {
            return Err(McpbError::SigningTimeFuture(rfc3339(t)));
        }
        Some(t) => t,
        None => now,
    };
    let cert = &parsed.certs[parsed.signer_index];
    let self_signed = cert.tbs_certificate.subject == cert.tbs_certificate.issuer;
    let roots = match trust {
        Trust::Roots(r) | Trust::AllowSelfSigned(r) => *r,
    };
    if self_signed {
        // A self-signed signer is trusted when it is itself one of the roots given, or when
        // the caller allows self-signed signers.
        let is_root = roots.iter().any(|r| r.as_slice() == signer_der.as_slice());
        if !is_root && !matches!(trust, Trust::AllowSelfSigned(_)) {
            return Err(McpbError::SelfSigned {
                subject: cert.tbs_certificate.subject.to_string(),
            });
        }
        check_self_signed(cert, &signer_der, parsed.sig_alg_for_cert(cert)?, time)?;
    } else {
        check_chain(&signer, &parsed, roots, time)?;
    }
    Ok(Verified {
        content_digest: format!("sha256:{}", hex::encode(actual)),
        signer_subject: cert.tbs_certificate.subject.to_string(),
        signer_issuer: cert.tbs_certificate.issuer.to_string(),
        signer_fingerprint: format!("sha256:{}", hex::encode(Sha256::digest(&signer_der))),
        self_signed,
        signing_time: parsed.signing_time.map(rfc3339),
        content_len: layout.content_len,
    })
}

fn rfc3339(t: u64) -> String {
    jiff::Timestamp::from_second(t as i64)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.to_string())
}

fn sha256_prefix<R: Read>(r: &mut R, n: u64) -> Result<[u8; 32], McpbError> {
    let mut h = Sha256::new();
    let mut left = n;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let got = r
            .read(&mut buf[..want])
            .map_err(|e| McpbError::Io(e.to_string()))?;
        if got == 0 {
            return Err(McpbError::Io("the file ended early".into()));
        }
        h.update(&buf[..got]);
        left -= got as u64;
    }
    Ok(h.finalize().into())
}

/// The parts of the CMS structure the checks need.
struct ParsedCms {
    certs: Vec<Certificate>,
    /// The same certificates as received (signatures are over these bytes, not a re-encoding).
    raw_certs: Vec<Vec<u8>>,
    signer_index: usize,
    message_digest: Vec<u8>,
    signing_time: Option<u64>,
    /// The signed attributes as signed: the received bytes re-tagged as SET OF.
    signed_attrs_der: Vec<u8>,
    signature: Vec<u8>,
    sig_alg: &'static dyn pki_types::SignatureVerificationAlgorithm,
}

impl ParsedCms {
    fn signer_cert_der(&self) -> Result<Vec<u8>, McpbError> {
        Ok(self.raw_certs[self.signer_index].clone())
    }

    /// The algorithm a certificate's own signature uses (for the self-signed check).
    fn sig_alg_for_cert(
        &self,
        cert: &Certificate,
    ) -> Result<&'static dyn pki_types::SignatureVerificationAlgorithm, McpbError> {
        let alg = &cert.signature_algorithm;
        let spki = &cert.tbs_certificate.subject_public_key_info;
        match alg.oid {
            OID_SHA256_RSA => Ok(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256),
            o if o == ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12") => {
                Ok(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA384)
            }
            o if o == ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13") => {
                Ok(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA512)
            }
            OID_ECDSA_SHA256 | ECDSA_SHA384 => ecdsa_alg(spki, alg.oid),
            o => Err(McpbError::UnsupportedAlgorithm(format!(
                "certificate signature algorithm {o}"
            ))),
        }
    }
}

const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

fn ecdsa_alg(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    sig_oid: ObjectIdentifier,
) -> Result<&'static dyn pki_types::SignatureVerificationAlgorithm, McpbError> {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let sha384 = sig_oid == ECDSA_SHA384;
    match (curve, sha384) {
        (Some(OID_P256), false) => Ok(webpki::aws_lc_rs::ECDSA_P256_SHA256),
        (Some(OID_P256), true) => Ok(webpki::aws_lc_rs::ECDSA_P256_SHA384),
        (Some(OID_P384), false) => Ok(webpki::aws_lc_rs::ECDSA_P384_SHA256),
        (Some(OID_P384), true) => Ok(webpki::aws_lc_rs::ECDSA_P384_SHA384),
        _ => Err(McpbError::UnsupportedAlgorithm(
            "ECDSA on a curve other than P-256 or P-384".into(),
        )),
    }
}

fn malformed(e: impl std::fmt::Display) -> McpbError {
    McpbError::CmsMalformed(e.to_string())
}

fn parse_cms(der_bytes: &[u8]) -> Result<ParsedCms, McpbError> {
    let ci = ContentInfo::from_der(der_bytes).map_err(malformed)?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(McpbError::CmsMalformed(format!(
            "content type {} is not SignedData",
            ci.content_type
        )));
    }
    let sd: SignedData = ci.content.decode_as().map_err(malformed)?;
    if sd.encap_content_info.econtent_type != OID_DATA {
        return Err(McpbError::CmsMalformed(format!(
            "encapsulated content type {} is not id-data",
            sd.encap_content_info.econtent_type
        )));
    }
    if sd.encap_content_info.econtent.is_some() {
        return Err(McpbError::NotDetached);
    }
    let signers: Vec<&SignerInfo> = sd.signer_infos.0.iter().collect();
    let [si] = signers.as_slice() else {
        return Err(McpbError::SignerCount(signers.len()));
    };
    if si.digest_alg.oid != OID_SHA256 {
        return Err(McpbError::UnsupportedAlgorithm(format!(
            "digest {} (an MCPB signature uses SHA-256)",
            si.digest_alg.oid
        )));
    }
    let Some(attrs) = &si.signed_attrs else {
        return Err(McpbError::SignedAttributes(
            "none (the signature must be over signed attributes carrying the content digest)"
                .into(),
        ));
    };
    let mut content_type = None;
    let mut message_digest = None;
    let mut signing_time = None;
    for a in attrs.iter() {
        let slot = match a.oid {
            OID_CONTENT_TYPE => &mut content_type,
            OID_MESSAGE_DIGEST => &mut message_digest,
            OID_SIGNING_TIME => &mut signing_time,
            _ => continue,
        };
        if slot.is_some() {
            return Err(McpbError::SignedAttributes(format!(
                "attribute {} appears twice",
                a.oid
            )));
        }
        let values: Vec<&Any> = a.values.iter().collect();
        let [v] = values.as_slice() else {
            return Err(McpbError::SignedAttributes(format!(
                "attribute {} has {} values, not one",
                a.oid,
                values.len()
            )));
        };
        *slot = Some((*v).clone());
    }
    let ct: ObjectIdentifier = content_type
        .ok_or_else(|| McpbError::SignedAttributes("no contentType attribute".into()))?
        .decode_as()
        .map_err(malformed)?;
    if ct != OID_DATA {
        return Err(McpbError::SignedAttributes(format!(
            "contentType {ct} is not id-data"
        )));
    }
    let md: OctetString = message_digest
        .ok_or_else(|| McpbError::SignedAttributes("no messageDigest attribute".into()))?
        .decode_as()
        .map_err(malformed)?;
    if md.as_bytes().len() != 32 {
        return Err(McpbError::SignedAttributes(format!(
            "messageDigest is {} bytes, not a SHA-256",
            md.as_bytes().len()
        )));
    }
    let signing_time = signing_time
        .map(|v| {
            v.to_der()
                .and_then(|d| x509_cert::time::Time::from_der(&d))
                .map(|t| t.to_unix_duration().as_secs())
                .map_err(malformed)
        })
        .transpose()?;
    let (signed_attrs_der, raw_certs) = raw_parts(der_bytes)?;
    let decoded = sd.certificates.as_ref().map_or(0, |s| s.0.len());
    if decoded != raw_certs.len() {
        return Err(McpbError::CmsMalformed(format!(
            "{decoded} certificate entries, {} of them X.509 certificates",
            raw_certs.len()
        )));
    }
    let certs: Vec<Certificate> = raw_certs
        .iter()
        .map(|c| Certificate::from_der(c).map_err(malformed))
        .collect::<Result<_, _>>()?;
    let signer_index = certs
        .iter()
        .position(|c| matches_sid(c, &si.sid))
        .ok_or(McpbError::SignerCertMissing)?;
    let spki = &certs[signer_index].tbs_certificate.subject_public_key_info;
    let sig_alg = signer_alg(&si.signature_algorithm, spki)?;
    Ok(ParsedCms {
        signed_attrs_der,
        raw_certs,
        certs,
        signer_index,
        message_digest: md.as_bytes().to_vec(),
        signing_time,
        signature: si.signature.as_bytes().to_vec(),
        sig_alg,
    })
}

fn matches_sid(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == cert.tbs_certificate.issuer
                && ias.serial_number == cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate
            .get::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, found)| found.0 == ski.0),
    }
}

/// The signature algorithm of the signer, from `signatureAlgorithm` and the key's type. The
/// signed attributes are hashed with `digestAlgorithm` (RFC 5652 §5.4), SHA-256 here. CMS
/// names RSA PKCS#1 v1.5 either `rsaEncryption` (as the reference signer and OpenSSL write)
/// or `sha256WithRSAEncryption`.
fn signer_alg(
    alg: &AlgorithmIdentifierOwned,
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Result<&'static dyn pki_types::SignatureVerificationAlgorithm, McpbError> {
    let key = spki.algorithm.oid;
    match alg.oid {
        OID_RSA | OID_SHA256_RSA if key == OID_RSA => {
            Ok(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256)
        }
        // The attributes are hashed with digestAlgorithm (SHA-256), so only ecdsa-with-SHA256
        // names what was done; on P-384 that is what OpenSSL writes.
        OID_ECDSA_SHA256 if key == OID_EC_PUBLIC_KEY => ecdsa_alg(spki, OID_ECDSA_SHA256),
        o => Err(McpbError::UnsupportedAlgorithm(format!(
            "signature algorithm {o} with a {key} key"
        ))),
    }
}

/// One DER TLV header: (tag, header length, content length). Definite lengths only.
fn tlv(buf: &[u8], at: usize) -> Result<(u8, usize, usize), McpbError> {
    let bad = || McpbError::CmsMalformed("truncated or indefinite-length DER".into());
    let tag = *buf.get(at).ok_or_else(bad)?;
    let first = *buf.get(at + 1).ok_or_else(bad)?;
    let (hl, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(bad());
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(at + 2 + i).ok_or_else(bad)? as usize;
        }
        (2 + n, len)
    };
    if at + hl + len > buf.len() {
        return Err(bad());
    }
    Ok((tag, hl, len))
}

/// The signer's signed attributes exactly as received, with the `[0] IMPLICIT` tag replaced
/// by SET OF (RFC 5652 §5.4: that is what the signature is computed over). Re-encoding them
/// would sort the SET and could produce other bytes than the signer signed.
fn raw_parts(der_bytes: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), McpbError> {
    let (_, hl, _) = tlv(der_bytes, 0)?; // ContentInfo
    let mut at = hl;
    let (_, hl, len) = tlv(der_bytes, at)?; // contentType OID
    at += hl + len;
    let (_, hl, _) = tlv(der_bytes, at)?; // [0] EXPLICIT
    at += hl;
    let (_, hl, sd_len) = tlv(der_bytes, at)?; // SignedData
    at += hl;
    let sd_end = at + sd_len;
    // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
    let mut signer_infos = None;
    let mut certs = Vec::new();
    while at < sd_end {
        let (tag, hl, len) = tlv(der_bytes, at)?;
        if tag == 0xa0 {
            // [0] IMPLICIT CertificateSet: keep each certificate's bytes as received.
            let mut c = at + hl;
            while c < at + hl + len {
                let (ctag, chl, clen) = tlv(der_bytes, c)?;
                if ctag == 0x30 {
                    certs.push(der_bytes[c..c + chl + clen].to_vec());
                }
                c += chl + clen;
            }
        }
        if tag == 0x31 && at + hl + len == sd_end {
            signer_infos = Some(at + hl);
        }
        at += hl + len;
    }
    let at = signer_infos
        .ok_or_else(|| McpbError::CmsMalformed("no signerInfos at the end of SignedData".into()))?;
    let (_, hl, _) = tlv(der_bytes, at)?; // SignerInfo
    let mut at = at + hl;
    for _ in 0..3 {
        // version, sid, digestAlgorithm
        let (_, hl, len) = tlv(der_bytes, at)?;
        at += hl + len;
    }
    let (tag, hl, len) = tlv(der_bytes, at)?;
    if tag != 0xa0 {
        return Err(McpbError::SignedAttributes("none".into()));
    }
    let mut out = der_bytes[at..at + hl + len].to_vec();
    out[0] = 0x31;
    Ok((out, certs))
}

/// The `tbsCertificate` of a DER certificate, as received (what its issuer signed).
fn raw_tbs(cert_der: &[u8]) -> Result<&[u8], McpbError> {
    let (_, hl, _) = tlv(cert_der, 0)?;
    let (_, thl, tlen) = tlv(cert_der, hl)?;
    Ok(&cert_der[hl..hl + thl + tlen])
}

/// A chain from the signer to one of `roots` granting code signing, valid at `time`.
fn check_chain(
    signer: &webpki::EndEntityCert<'_>,
    parsed: &ParsedCms,
    roots: &[Vec<u8>],
    time: u64,
) -> Result<(), McpbError> {
    let root_ders: Vec<pki_types::CertificateDer<'_>> = roots
        .iter()
        .map(|r| pki_types::CertificateDer::from(r.as_slice()))
        .collect();
    let anchors: Vec<pki_types::TrustAnchor<'_>> = root_ders
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    if anchors.is_empty() {
        return Err(McpbError::Roots("no usable root certificate".into()));
    }
    let intermediates: Vec<pki_types::CertificateDer<'_>> = parsed
        .raw_certs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != parsed.signer_index)
        .map(|(_, c)| pki_types::CertificateDer::from(c.as_slice()))
        .collect();
    let algs = [
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA384,
        webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA512,
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        webpki::aws_lc_rs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        webpki::aws_lc_rs::ECDSA_P256_SHA256,
        webpki::aws_lc_rs::ECDSA_P256_SHA384,
        webpki::aws_lc_rs::ECDSA_P384_SHA256,
        webpki::aws_lc_rs::ECDSA_P384_SHA384,
        webpki::aws_lc_rs::ED25519,
    ];
    let at = pki_types::UnixTime::since_unix_epoch(Duration::from_secs(time));
    // webpki applies the usage to every certificate on the path: one that states extended key
    // usages must include codeSigning. That the signer's states it is checked below.
    signer
        .verify_for_usage(
            &algs,
            &anchors,
            &intermediates,
            at,
            webpki::KeyUsage::required_if_present(CODE_SIGNING_DER),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                McpbError::Validity {
                    time: rfc3339(time),
                    why: e.to_string(),
                }
            }
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                McpbError::KeyUsage("its extended key usage does not include codeSigning".into())
            }
            other => McpbError::Chain(other.to_string()),
        })?;
    check_key_usage(&parsed.certs[parsed.signer_index], true)
}

/// A self-signed signer: its own signature, its validity at `time`, and its key usage (when it
/// states one, it must allow digital signatures and code signing).
fn check_self_signed(
    cert: &Certificate,
    der_bytes: &[u8],
    alg: &'static dyn pki_types::SignatureVerificationAlgorithm,
    time: u64,
) -> Result<(), McpbError> {
    let tbs = raw_tbs(der_bytes)?;
    let ee_der = pki_types::CertificateDer::from(der_bytes);
    let ee = webpki::EndEntityCert::try_from(&ee_der)
        .map_err(|e| McpbError::CmsMalformed(format!("the signer's certificate: {e}")))?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| McpbError::CmsMalformed("certificate signature has unused bits".into()))?;
    ee.verify_signature(alg, tbs, sig)
        .map_err(|_| McpbError::Signature)?;
    let v = &cert.tbs_certificate.validity;
    let nb = v.not_before.to_unix_duration().as_secs();
    let na = v.not_after.to_unix_duration().as_secs();
    if time < nb || time > na {
        return Err(McpbError::Validity {
            time: rfc3339(time),
            why: format!(
                "the certificate is valid from {} to {}",
                rfc3339(nb),
                rfc3339(na)
            ),
        });
    }
    check_key_usage(cert, false)
}

/// keyUsage, when present, must include digitalSignature; extendedKeyUsage must include
/// codeSigning (`eku_required`: even when absent).
fn check_key_usage(cert: &Certificate, eku_required: bool) -> Result<(), McpbError> {
    let exts = cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    let mut eku_seen = false;
    for e in exts {
        if e.extn_id == OID_KEY_USAGE {
            let ku = x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes())
                .map_err(malformed)?;
            if !ku.digital_signature() {
                return Err(McpbError::KeyUsage(
                    "its key usage does not include digitalSignature".into(),
                ));
            }
        } else if e.extn_id == OID_EXT_KEY_USAGE {
            eku_seen = true;
            let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                .map_err(malformed)?;
            if !eku.0.contains(&OID_CODE_SIGNING) {
                return Err(McpbError::KeyUsage(
                    "its extended key usage does not include codeSigning".into(),
                ));
            }
        }
    }
    if eku_required && !eku_seen {
        return Err(McpbError::KeyUsage(
            "it has no extended key usage naming codeSigning".into(),
        ));
    }
    Ok(())
}

/// Parses every certificate in a PEM text (roots, intermediates).
pub fn certs_from_pem(text: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use pki_types::pem::PemObject;
    let mut out = Vec::new();
    for c in pki_types::CertificateDer::pem_slice_iter(text) {
        out.push(c.map_err(|e| e.to_string())?.to_vec());
    }
    if out.is_empty() {
        return Err("no CERTIFICATE in it".into());
    }
    Ok(out)
}

/// A private key that can sign the block: RSA (PKCS#1 v1.5, SHA-256) or ECDSA P-256 (SHA-256).
pub enum SigningKey {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ecdsa(aws_lc_rs::signature::EcdsaKeyPair, ObjectIdentifier),
}

impl SigningKey {
    /// From a PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`)
    /// DER document.
    pub fn from_der(der_bytes: &[u8]) -> Result<SigningKey, McpbError> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
        };
        // A P-384 key is recognised to be refused by name: CMS hashes the attributes with the
        // digest algorithm (SHA-256) and aws-lc-rs signs P-384 only with SHA-384.
        if EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, der_bytes).is_ok()
            || EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_ASN1_SIGNING, der_bytes)
                .is_ok()
        {
            return Err(McpbError::Sign(
                "ECDSA P-384 keys cannot sign MCPB bundles here (SHA-256 over P-384 is not offered by the crypto backend); use RSA or ECDSA P-256".into(),
            ));
        }
        if let Ok(k) = aws_lc_rs::rsa::KeyPair::from_pkcs8(der_bytes) {
            return Ok(SigningKey::Rsa(k));
        }
        if let Ok(k) = aws_lc_rs::rsa::KeyPair::from_der(der_bytes) {
            return Ok(SigningKey::Rsa(k));
        }
        let p256 = &ECDSA_P256_SHA256_ASN1_SIGNING;
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(p256, der_bytes)
            .or_else(|_| EcdsaKeyPair::from_private_key_der(p256, der_bytes))
        {
            return Ok(SigningKey::Ecdsa(k, OID_P256));
        }
        Err(McpbError::Sign(
            "the key is not an RSA or ECDSA P-256 private key".into(),
        ))
    }

    /// The public key bits as a certificate's SubjectPublicKeyInfo carries them.
    fn public_bits(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair;
        match self {
            SigningKey::Rsa(k) => k.public_key().as_ref().to_vec(),
            SigningKey::Ecdsa(k, _) => k.public_key().as_ref().to_vec(),
        }
    }

    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        match self {
            SigningKey::Rsa(_) => AlgorithmIdentifierOwned {
                oid: OID_RSA,
                parameters: Some(Any::from(der::asn1::Null)),
            },
            SigningKey::Ecdsa(..) => AlgorithmIdentifierOwned {
                oid: OID_ECDSA_SHA256,
                parameters: None,
            },
        }
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, McpbError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            SigningKey::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| McpbError::Sign("RSA signing failed".into()))?;
                Ok(sig)
            }
            SigningKey::Ecdsa(k, _) => k
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| McpbError::Sign("ECDSA signing failed".into())),
        }
    }
}

/// The signature block over `content` (a ZIP archive, unsigned): `MCPB_SIG_V1`, length,
/// the DER CMS SignedData (detached, SHA-256, signed attributes contentType, messageDigest,
/// signingTime = `now`), `MCPB_SIG_END`. `cert` is the signer's certificate (DER),
/// `chain` any intermediates to include.
pub fn sign_block<R: Read>(
    content: &mut R,
    content_len: u64,
    cert_der: &[u8],
    chain: &[Vec<u8>],
    key: &SigningKey,
    now: u64,
) -> Result<Vec<u8>, McpbError> {
    let sign_err = |e: der::Error| McpbError::Sign(e.to_string());
    let cert = Certificate::from_der(cert_der)
        .map_err(|e| McpbError::Sign(format!("the certificate is not DER X.509: {e}")))?;
    let spki_bits = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    if spki_bits != key.public_bits().as_slice() {
        return Err(McpbError::Sign(
            "the private key does not belong to the certificate".into(),
        ));
    }
    if let SigningKey::Ecdsa(_, curve) = key {
        let cert_curve = cert
            .tbs_certificate
            .subject_public_key_info
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if cert_curve != Some(*curve) {
            return Err(McpbError::Sign(
                "the certificate's curve is not the key's".into(),
            ));
        }
    }
    let digest = sha256_prefix(content, content_len)?;
    let time = x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(now))
        .map_err(sign_err)?;
    let attr = |oid: ObjectIdentifier, v: Any| -> Result<x509_cert::attr::Attribute, McpbError> {
        Ok(x509_cert::attr::Attribute {
            oid,
            values: SetOfVec::try_from(vec![v]).map_err(sign_err)?,
        })
    };
    let signed_attrs: SignedAttributes = SetOfVec::try_from(vec![
        attr(
            OID_CONTENT_TYPE,
            Any::encode_from(&OID_DATA).map_err(sign_err)?,
        )?,
        attr(
            OID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.to_vec()).map_err(sign_err)?)
                .map_err(sign_err)?,
        )?,
        attr(OID_SIGNING_TIME, Any::encode_from(&time).map_err(sign_err)?)?,
    ])
    .map_err(sign_err)?;
    let to_sign = signed_attrs.to_der().map_err(sign_err)?;
    let signature = key.sign(&to_sign)?;
    let sha256 = AlgorithmIdentifierOwned {
        oid: OID_SHA256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: key.algorithm(),
        signature: OctetString::new(signature).map_err(sign_err)?,
        unsigned_attrs: None,
    };
    let mut certs = vec![CertificateChoices::Certificate(cert)];
    for c in chain {
        certs.push(CertificateChoices::Certificate(
            Certificate::from_der(c)
                .map_err(|e| McpbError::Sign(format!("an intermediate is not DER X.509: {e}")))?,
        ));
    }
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(sign_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: OID_DATA,
            econtent: None,
        },
        certificates: Some(cms::signed_data::CertificateSet(
            SetOfVec::try_from(certs).map_err(sign_err)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(sign_err)?),
    };
    let ci = ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: Any::encode_from(&sd).map_err(sign_err)?,
    };
    let pkcs7 = ci.to_der().map_err(sign_err)?;
    let mut block = Vec::with_capacity(pkcs7.len() + 27);
    block.extend_from_slice(HEADER);
    block.extend_from_slice(&(pkcs7.len() as u32).to_le_bytes());
    block.extend_from_slice(&pkcs7);
    block.extend_from_slice(FOOTER);
    Ok(block)
}

/// Checks an unsigned bundle before signing: a ZIP whose end record ends it, no block yet.
pub fn check_unsigned<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), McpbError> {
    match locate(r, len) {
        Err(McpbError::Unsigned) => {}
        Ok(_) => return Err(McpbError::Sign("the bundle is already signed".into())),
        Err(e) => return Err(e),
    }
    let tail_len = len.min((EOCD_LEN + MAX_COMMENT) as u64);
    let tail = read_at(r, len - tail_len, tail_len as usize)?;
    check_zip_end(&tail, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_end(comment: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04 pretend local file ".to_vec();
        v.extend_from_slice(b"PK\x05\x06");
        v.extend_from_slice(&[0u8; 16]);
        v.extend_from_slice(&(comment.len() as u16).to_le_bytes());
        v.extend_from_slice(comment);
        v
    }

    #[test]
    fn comment_length_that_runs_into_the_block_is_named() {
        let mut z = zip_end(b"");
        let n = z.len();
        z[n - 2..].copy_from_slice(&40u16.to_le_bytes());
        assert!(matches!(
            check_zip_end(&z, 100),
            Err(McpbError::CommentRewritten { said: 40, over: 40 })
        ));
        // Past the block it is a plain mismatch, not a rewrite.
        assert!(matches!(
            check_zip_end(&z, 10),
            Err(McpbError::CommentMismatch {
                said: 40,
                actual: 0
            })
        ));
        assert!(check_zip_end(&zip_end(b"hello"), 0).is_ok());
    }

    #[test]
    fn garbage_after_the_zip_inside_the_signed_bytes_is_a_mismatch() {
        let mut z = zip_end(b"hi");
        z.extend_from_slice(b"appended");
        assert!(matches!(
            check_zip_end(&z, 50),
            Err(McpbError::CommentMismatch {
                said: 2,
                actual: 10
            })
        ));
    }

    #[test]
    fn locate_frames_by_length_not_by_search() {
        let mut f = zip_end(b"");
        let content = f.len() as u64;
        // The DER holds the header bytes itself: the framing must still find the real one.
        let der = b"xxMCPB_SIG_V1\x03\x00\x00\x00yy".to_vec();
        f.extend_from_slice(HEADER);
        f.extend_from_slice(&(der.len() as u32).to_le_bytes());
        f.extend_from_slice(&der);
        f.extend_from_slice(FOOTER);
        let len = f.len() as u64;
        let l = locate(&mut std::io::Cursor::new(f), len).unwrap();
        assert_eq!(l.content_len, content);
        assert_eq!(l.pkcs7, der);
    }

    #[test]
    fn truncated_der_never_panics() {
        for cut in 0..8 {
            let buf = vec![0x30u8, 0x84, 0xff, 0xff, 0xff, 0xff, 0x01][..cut].to_vec();
            let _ = raw_parts(&buf);
            let _ = raw_tbs(&buf);
            let _ = parse_cms(&buf);
        }
    }
}
