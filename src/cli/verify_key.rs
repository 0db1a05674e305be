//! `mcpseal verify ARTIFACT… --key PUB`: mcpseal's key-based Sigstore bundles.
//!
//! Checks, in order: the bundle is a bundle (exit 2 if not), its media type, the one DSSE
//! signature with the given key, the statement, then every artifact's digest among the
//! subjects and every subject matched by an artifact (exit 1 on any of these).

use std::path::PathBuf;

use serde_json::json;

use super::Args;
use crate::bundle::{self, MAX_BUNDLE_BYTES};
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};

/// The bundle path: `--bundle`, or ARTIFACT.sigstore.json for a single artifact.
pub(crate) fn bundle_path(args: &Args) -> Result<PathBuf, CliError> {
    match (&args.bundle, args.artifacts.as_slice()) {
        (Some(b), _) => Ok(b.clone()),
        (None, [one]) => {
            let mut s = one.as_os_str().to_owned();
            s.push(".sigstore.json");
            Ok(PathBuf::from(s))
        }
        (None, _) => Err(CliError::error(
            "bundle-needed",
            "several artifacts: say which bundle covers them with --bundle",
        )),
    }
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let key_path = args
        .key
        .clone()
        .ok_or_else(|| CliError::error("no-verifier", "--key is required"))?;
    let bundle_file = bundle_path(&args)?;
    let key = crate::cli::key::load_public_key(&key_path)?;
    // A missing artifact is the artifact's problem, not its bundle's: say so first.
    if let Some(missing) = args.artifacts.iter().find(|p| !p.exists()) {
        return Err(CliError::error(
            "not-found",
            format!("{}: no such artifact", missing.display()),
        )
        .help("name the downloaded release file (or folder) to verify"));
    }
    let bytes = read_input(&bundle_file, MAX_BUNDLE_BYTES as u64, "a bundle")?;
    let mut artifacts = Vec::new();
    for p in &args.artifacts {
        let d = crate::cli::progress::hashing(p, || crate::digest::digest_path(p))
            .map_err(crate::cli::digest::digest_error)?;
        artifacts.push((
            p.display().to_string(),
            crate::cli::sign::subject_name(p)?,
            d.digest,
        ));
    }
    let verified = bundle::verify(&bytes, &key).map_err(|e| {
        let msg = format!("{}: {e}", bundle_file.display());
        if e.is_input_error() {
            CliError::error(e.code(), msg)
                .help("pass the .sigstore.json bundle `mcpseal sign` wrote")
        } else {
            CliError::fail(e.code(), msg)
        }
    })?;
    bundle::match_subjects(verified.statement(), &artifacts)
        .map_err(|e| CliError::fail(e.code(), e.to_string()))?;
    let st = verified.statement();
    if g.json {
        emit_json(&json!({
            "ok": true,
            "verified": true,
            "bundle": bundle_file.display().to_string(),
            "keyId": verified.key_id(),
            "server": st.predicate.server,
            "surfaceSigned": st.predicate.surface.is_some(),
            "artifacts": artifacts.iter().map(|(p, n, d)| json!({"path": p, "subject": n, "digest": d.to_string()})).collect::<Vec<_>>(),
        }));
    } else {
        for (p, _, d) in &artifacts {
            emit(&format!("verified {p} {d}"));
        }
        let server = &st.predicate.server;
        emit(&format!(
            "signed by key id {}{}",
            verified.key_id(),
            match (&server.name, &server.version) {
                (Some(n), Some(v)) => format!(" for {n} {v}"),
                (Some(n), None) => format!(" for {n}"),
                _ => String::new(),
            }
        ));
    }
    Ok(Exit::Ok)
}
