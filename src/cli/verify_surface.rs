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
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
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
    let signed = verified.statement().predicate.surface.clone().ok_or_else(|| {
        CliError::fail("no-signed-surface", format!("{}: the release statement carries no tool surface", bundle_path.display()))
            .help("the publisher signs it with: mcpseal sign ARTIFACT --key KEY --surface -- CMD ARGS…")
    })?;
    let digests = live
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    let mismatches = signed.compare(&digests);
    Ok((verified, mismatches))
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
    let (verified, mismatches) = check_signed(&args.bundle, &args.key, &cap.surface)?;
    let signed = verified
        .statement()
        .predicate
        .surface
        .as_ref()
        .map(|s| s.digest);
    if g.json {
        emit_json(&json!({
            "ok": mismatches.is_empty(),
            "reason": if mismatches.is_empty() { None } else { Some("surface-mismatch") },
            "keyId": verified.key_id(),
            "signedSurface": signed,
            "mismatches": mismatches,
        }));
    } else if mismatches.is_empty() {
        emit(&format!(
            "verified: the live surface is the signed surface {} (key id {})",
            signed.map(|d| d.to_string()).unwrap_or_default(),
            verified.key_id()
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
