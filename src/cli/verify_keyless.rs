//! `mcpseal verify ARTIFACT --bundle B (--certificate-identity ID | --certificate-identity-regexp
//! RE) --certificate-oidc-issuer ISS [--trusted-root FILE]`: keyless Sigstore bundles, offline.

use std::path::Path;

use serde_json::json;

use super::Args;
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::keyless::{self, IdentityMatch, KeylessVerified, Signer};

/// The keyless flags as given to `verify` or `verify-surface`.
pub(crate) struct KeylessFlags<'a> {
    pub identity: Option<&'a str>,
    pub identity_regexp: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub trusted_root: Option<&'a Path>,
}

/// The trusted root from `--trusted-root FILE`, or the embedded Sigstore public-good root.
pub(crate) fn load_root(
    trusted_root: Option<&Path>,
) -> Result<sigstore_verify::trust_root::TrustedRoot, CliError> {
    read_root(trusted_root).map(|(root, _)| root)
}

/// [`load_root`], with the SHA-256 of the file's bytes as they were parsed (`None` for the
/// embedded public-good root), for a record of which root vouched.
pub(crate) fn read_root(
    trusted_root: Option<&Path>,
) -> Result<
    (
        sigstore_verify::trust_root::TrustedRoot,
        Option<crate::digest::Digest>,
    ),
    CliError,
> {
    match trusted_root {
        Some(p) => {
            let text = read_input(p, 16 << 20, "a trusted root")?;
            let root = keyless::trusted_root(&String::from_utf8_lossy(&text))
                .map_err(|e| CliError::error(e.code(), format!("{}: {e}", p.display())))?;
            Ok((root, Some(crate::digest::Digest::of(&text))))
        }
        None => keyless::production_root()
            .map(|root| (root, None))
            .map_err(|e| CliError::error(e.code(), e.to_string())),
    }
}

/// Builds the signer and trusted root the flags require and hands them to `f`.
pub(crate) fn with_signer<T>(
    flags: &KeylessFlags<'_>,
    f: impl FnOnce(&Signer<'_>, &sigstore_verify::trust_root::TrustedRoot) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let root = load_root(flags.trusted_root)?;
    with_signer_in(flags, &root, f)
}

/// [`with_signer`] with a trusted root the caller loaded (once, for many bundles); the flags'
/// `trusted_root` is not read.
pub(crate) fn with_signer_in<T>(
    flags: &KeylessFlags<'_>,
    root: &sigstore_verify::trust_root::TrustedRoot,
    f: impl FnOnce(&Signer<'_>, &sigstore_verify::trust_root::TrustedRoot) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let issuer = flags.issuer.ok_or_else(|| {
        CliError::error(
            "issuer-needed",
            "say which OIDC issuer must have vouched for the signer",
        )
        .help("--certificate-oidc-issuer https://token.actions.githubusercontent.com")
    })?;
    let regex = flags
        .identity_regexp
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| {
            CliError::error("bad-regexp", format!("--certificate-identity-regexp: {e}"))
        })?;
    let identity = match (flags.identity, &regex) {
        (Some(id), _) => IdentityMatch::Exact(id),
        (None, Some(re)) => IdentityMatch::Regex(re),
        (None, None) => {
            return Err(CliError::error(
                "identity-needed",
                "--certificate-identity or --certificate-identity-regexp is required",
            ));
        }
    };
    f(&Signer::Identity { identity, issuer }, root)
}

/// Verifies a certificate-based bundle over `artifact` offline for the identity and issuer the
/// flags require. Returns what was verified (its signed payload included).
pub(crate) fn verify_keyless(
    flags: &KeylessFlags<'_>,
    bundle_path: &Path,
    artifact: &Path,
) -> Result<KeylessVerified, CliError> {
    with_signer(flags, |signer, root| {
        let bundle = read_input(
            bundle_path,
            crate::bundle::MAX_BUNDLE_BYTES as u64,
            "a bundle",
        )?;
        let bundle = String::from_utf8(bundle).map_err(|_| {
            CliError::error(
                "malformed-bundle",
                format!("{}: not UTF-8", bundle_path.display()),
            )
        })?;
        let mut file = std::fs::File::open(artifact)
            .map_err(|e| crate::cli::io_error(artifact, "the artifact", e))?;
        let v = keyless::verify(&mut file, &bundle, signer, root).map_err(|e| {
            crate::cli::verifier_error(
                e.code(),
                format!("{}: {e}", bundle_path.display()),
                e.is_input_error(),
            )
        })?;
        Ok(v)
    })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let [artifact] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            "keyless verification takes exactly one artifact",
        ));
    };
    let bundle_path = super::verify_key::bundle_path(&args)?;
    let flags = KeylessFlags {
        identity: args.certificate_identity.as_deref(),
        identity_regexp: args.certificate_identity_regexp.as_deref(),
        issuer: args.certificate_oidc_issuer.as_deref(),
        trusted_root: args.trusted_root.as_deref(),
    };
    let v = verify_keyless(&flags, &bundle_path, artifact)?;
    if g.json {
        emit_json(
            &json!({"ok": true, "verified": true, "identity": v.identity(), "issuer": v.issuer(), "integratedTime": v.integrated_time(), "bundle": bundle_path.display().to_string()}),
        );
    } else {
        emit(&format!("verified {} (keyless)", artifact.display()));
        emit(&format!(
            "  signer: {} via {}",
            v.identity().unwrap_or("?"),
            v.issuer().unwrap_or("?")
        ));
        if let Some(t) = v.integrated_time() {
            emit(&format!("  logged: {t}"));
        }
    }
    Ok(Exit::Ok)
}
