//! `mcpseal verify-surface --bundle B --key PUB -- CMD ARGS…`: is the running server's tool
//! surface the one its publisher signed? No trust on first use: the signed statement carries
//! every entity's digest, and the live capture must match each one.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::surface::{ServerArgs, capture_error};
use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::bundle::{self, MAX_BUNDLE_BYTES, SurfaceMismatch, Verified};
use crate::surface::Surface;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release bundle whose statement carries the signed surface.
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Ed25519 public key (SPKI PEM) that must have signed the bundle.
    #[arg(long, value_name = "PUB", required_unless_present_any = ["certificate_identity", "certificate_identity_regexp"])]
    pub key: Option<PathBuf>,
    /// Keyless: the signing certificate's identity (SAN), exactly.
    #[arg(long, value_name = "ID", conflicts_with = "key")]
    pub certificate_identity: Option<String>,
    /// Keyless: the signing certificate's identity as a regular expression (whole match).
    #[arg(long, value_name = "RE", conflicts_with_all = ["key", "certificate_identity"])]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer recorded in the certificate.
    #[arg(long, value_name = "ISSUER", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,
    /// Keyless: trusted root JSON [default: the embedded Sigstore public-good root].
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub trusted_root: Option<PathBuf>,
    /// Keyless: the release artifact the bundle's statement is about (its subject).
    #[arg(long, value_name = "ARTIFACT", conflicts_with = "key")]
    pub artifact: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Verifies the bundle and compares its signed surface with `live`.
pub(crate) fn check_signed(
    bundle_path: &Path,
    key_path: &Path,
    live: &Surface,
) -> Result<(Verified, Vec<SurfaceMismatch>), CliError> {
    let key = super::key::load_public_key(key_path)?;
    let bytes = read_input(bundle_path, MAX_BUNDLE_BYTES as u64, "a bundle")?;
    let verified = bundle::verify(&bytes, &key).map_err(|e| {
        crate::cli::verifier_error(
            e.code(),
            format!("{}: {e}", bundle_path.display()),
            e.is_input_error(),
        )
    })?;
    let mismatches = compare_signed(verified.statement(), live, bundle_path)?;
    Ok((verified, mismatches))
}

/// The statement's signed surface against the live one.
fn compare_signed(
    statement: &bundle::Statement,
    live: &Surface,
    bundle_path: &Path,
) -> Result<Vec<SurfaceMismatch>, CliError> {
    let signed = statement.predicate.surface.clone().ok_or_else(|| {
        CliError::fail(
            "no-signed-surface",
            format!(
                "{}: the release statement carries no tool surface",
                bundle_path.display()
            ),
        )
        .help("the publisher signs it with: mcpseal sign ARTIFACT --key KEY --surface -- CMD ARGS…")
    })?;
    let digests = live
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    Ok(signed.compare(&digests))
}

/// Keyless: verifies the certificate-based bundle over `artifact` offline, then reads the
/// statement it signs. Returns the signer's identity and the mismatches.
fn check_signed_keyless(
    args: &Args,
    live: &Surface,
) -> Result<(String, Vec<SurfaceMismatch>), CliError> {
    let artifact = args.artifact.as_ref().ok_or_else(|| {
        CliError::error("artifact-needed", "keyless verification needs the release artifact the statement is about: --artifact PATH")
    })?;
    let flags = super::verify::verify_keyless::KeylessFlags {
        identity: args.certificate_identity.as_deref(),
        identity_regexp: args.certificate_identity_regexp.as_deref(),
        issuer: args.certificate_oidc_issuer.as_deref(),
        trusted_root: args.trusted_root.as_deref(),
    };
    let v = super::verify::verify_keyless::verify_keyless(&flags, &args.bundle, artifact)?;
    // Verified: now the DSSE payload may be read as mcpseal's release statement.
    let statement = v
        .release_statement(artifact)
        .map_err(|e| CliError::fail(e.code(), format!("{}: {e}", args.bundle.display())))?;
    let mismatches = compare_signed(&statement, live, &args.bundle)?;
    Ok((v.identity().unwrap_or("?").to_owned(), mismatches))
}

/// One line per mismatch.
pub(crate) fn describe(m: &SurfaceMismatch) -> String {
    let what = m.kind.map_or_else(
        || "instructions".to_owned(),
        |k| format!("{} {:?}", k.noun(), m.key),
    );
    match (m.signed, m.live) {
        (Some(_), None) => format!("{what}: signed, but the server does not announce it"),
        (None, Some(l)) => format!("{what}: announced ({l}), but not signed"),
        (Some(s), Some(l)) => format!("{what}: live {l} differs from signed {s}"),
        (None, None) => format!("{what}: differs"),
    }
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let spec = args.server.spec()?;
    let cap = crate::mcp::capture(&spec, &args.server.options()?).map_err(capture_error)?;
    let (signer, mismatches) = match &args.key {
        Some(key) => {
            let (v, m) = check_signed(&args.bundle, key, &cap.surface)?;
            (format!("key id {}", v.key_id()), m)
        }
        None => {
            let (identity, m) = check_signed_keyless(&args, &cap.surface)?;
            (identity, m)
        }
    };
    let live = cap
        .surface
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?
        .surface;
    if g.json {
        emit_json(&json!({
            "ok": mismatches.is_empty(),
            "reason": if mismatches.is_empty() { None } else { Some("surface-mismatch") },
            "signer": signer,
            "liveSurface": live,
            "mismatches": mismatches,
        }));
    } else if mismatches.is_empty() {
        emit(&format!(
            "verified: the live surface {live} is the signed surface (signed by {signer})"
        ));
    } else {
        emit(&format!(
            "NOT the signed surface ({} difference(s)):",
            mismatches.len()
        ));
        for m in &mismatches {
            emit(&format!("  {}", describe(m)));
        }
    }
    Ok(if mismatches.is_empty() {
        Exit::Ok
    } else {
        Exit::Fail
    })
}
