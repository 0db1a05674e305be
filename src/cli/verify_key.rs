//! `mcpseal verify ARTIFACT… --key PUB`: key-based Sigstore bundles, with any key type
//! `keys::PublicKey` reads (Ed25519, ECDSA, RSA).
//!
//! - mcpseal's release bundles: the bundle is a bundle (exit 2 if not), its media type, the
//!   one DSSE signature with the given key, the statement, then every artifact's digest among
//!   the subjects and every subject matched by an artifact (exit 1 on any of these).
//! - Any other key-based bundle over one file (`cosign sign-blob --key --bundle`, `cosign
//!   attest-blob --key`): [`crate::bundle::blob`] checks the signature over the file; when the
//!   bundle carries transparency-log entries or timestamps they are checked too, against
//!   `--trusted-root` or the embedded Sigstore public-good root ([`crate::keyless`]).

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
    if !bundle::blob::is_mcpseal_release(&bytes) {
        return verify_blob(&args, g, &key, &bundle_file, &bytes);
    }
    let mut artifacts = Vec::new();
    for p in &args.artifacts {
        let d = crate::digest::digest_path(p).map_err(crate::cli::digest::digest_error)?;
        artifacts.push((
            p.display().to_string(),
            crate::cli::sign::subject_name(p)?,
            d.digest,
        ));
    }
    let verified = bundle::verify(&bytes, &key).map_err(|e| bundle_error(&bundle_file, &e))?;
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

fn bundle_error(bundle_file: &std::path::Path, e: &bundle::VerifyError) -> CliError {
    let msg = format!("{}: {e}", bundle_file.display());
    if e.is_input_error() {
        CliError::error(e.code(), msg).help(
            "pass the .sigstore.json bundle `mcpseal sign` or `cosign sign-blob --bundle` wrote",
        )
    } else {
        CliError::fail(e.code(), msg)
    }
}

/// A key-based bundle another tool wrote over one file (see the module docs).
fn verify_blob(
    args: &Args,
    g: &Global,
    key: &crate::keys::PublicKey,
    bundle_file: &std::path::Path,
    bytes: &[u8],
) -> CmdResult {
    let [artifact] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            format!(
                "{}: not an mcpseal release bundle, so it covers exactly one file; {} were given",
                bundle_file.display(),
                args.artifacts.len()
            ),
        )
        .help("mcpseal verify FILE --bundle FILE.sigstore.json --key cosign.pub"));
    };
    if artifact.is_dir() {
        return Err(CliError::error(
            "is-a-directory",
            format!(
                "{}: a directory; this bundle signs one file's bytes",
                artifact.display()
            ),
        ));
    }
    let data = read_input(artifact, crate::keyless::MAX_IN_MEMORY, "the artifact")?;
    let verified =
        bundle::blob::verify(bytes, &data, key).map_err(|e| bundle_error(bundle_file, &e))?;
    // Log entries are checked against the trusted root (sigstore-verify, which also checks the
    // timestamps that come with them). Timestamps alone are not checked: sigstore-verify needs
    // a log entry, and with a bare key there is no validity window for a time to fall in.
    let logged = if verified.has_tlog_entries() {
        let root = super::verify_keyless::load_root(args.trusted_root.as_deref())?;
        let text = String::from_utf8_lossy(bytes);
        let pem = key.to_pem();
        let v = crate::keyless::verify(
            &mut data.as_slice(),
            &text,
            &crate::keyless::Signer::Key { pem: &pem },
            &root,
        )
        .map_err(|e| {
            crate::cli::verifier_error(
                e.code(),
                format!(
                    "{}: the signature holds, but the transparency-log entry does not verify: {e}",
                    bundle_file.display()
                ),
                e.is_input_error(),
            )
        })?;
        Some(v.integrated_time().map(str::to_owned))
    } else {
        None
    };
    let kind = match verified.content() {
        bundle::blob::Content::MessageSignature => "message-signature",
        bundle::blob::Content::Dsse => "dsse",
    };
    if g.json {
        emit_json(&json!({
            "ok": true,
            "verified": true,
            "bundle": bundle_file.display().to_string(),
            "keyId": verified.key_id(),
            "keyType": key.kind().to_string(),
            "content": kind,
            "predicateType": verified.predicate_type(),
            "transparencyLog": logged.is_some(),
            "integratedTime": logged.clone().flatten(),
            "timestampsChecked": verified.has_timestamps() && logged.is_some(),
            "timestampsUnchecked": verified.has_timestamps() && logged.is_none(),
            "artifacts": [{"path": artifact.display().to_string(), "digest": verified.artifact_digest().to_string()}],
        }));
    } else {
        emit(&format!(
            "verified {} ({kind} bundle, {} key id {})",
            artifact.display(),
            key.kind(),
            verified.key_id()
        ));
        match &logged {
            Some(Some(t)) => emit(&format!("  transparency log: verified, integrated {t}")),
            Some(None) => emit("  transparency evidence: verified"),
            None => emit("  transparency log: none in the bundle (verified by the key alone)"),
        }
        if verified.has_timestamps() && logged.is_none() {
            emit("  RFC 3161 timestamps: present, not checked (no log entry to check them with)");
        }
    }
    Ok(Exit::Ok)
}
