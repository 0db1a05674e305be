//! `mcpseal verify ARTIFACT --bundle B (--certificate-identity ID | --certificate-identity-regexp
//! RE) --certificate-oidc-issuer ISS [--trusted-root FILE]`: keyless Sigstore bundles, offline.

use serde_json::json;

use super::Args;
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::keyless::{self, IdentityMatch, Signer};

pub fn run(args: Args, g: &Global) -> CmdResult {
    let [artifact] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            "keyless verification takes exactly one artifact",
        ));
    };
    let issuer = args.certificate_oidc_issuer.as_deref().ok_or_else(|| {
        CliError::error(
            "issuer-needed",
            "say which OIDC issuer must have vouched for the signer",
        )
        .help("--certificate-oidc-issuer https://token.actions.githubusercontent.com")
    })?;
    let regex = match &args.certificate_identity_regexp {
        Some(re) => Some(regex::Regex::new(re).map_err(|e| {
            CliError::error("bad-regexp", format!("--certificate-identity-regexp: {e}"))
        })?),
        None => None,
    };
    let identity = match (&args.certificate_identity, &regex) {
        (Some(id), _) => IdentityMatch::Exact(id),
        (None, Some(re)) => IdentityMatch::Regex(re),
        (None, None) => {
            return Err(CliError::error(
                "identity-needed",
                "--certificate-identity or --certificate-identity-regexp is required",
            ));
        }
    };
    let bundle_path = super::verify_key::bundle_path(&args)?;
    let bundle = read_input(
        &bundle_path,
        crate::bundle::MAX_BUNDLE_BYTES as u64,
        "a bundle",
    )?;
    let bundle = String::from_utf8(bundle).map_err(|_| {
        CliError::error(
            "malformed-bundle",
            format!("{}: not UTF-8", bundle_path.display()),
        )
    })?;
    let root = match &args.trusted_root {
        Some(p) => {
            let text = read_input(p, 16 << 20, "a trusted root")?;
            keyless::trusted_root(&String::from_utf8_lossy(&text))
                .map_err(|e| CliError::error(e.code(), format!("{}: {e}", p.display())))?
        }
        None => keyless::production_root().map_err(|e| CliError::error(e.code(), e.to_string()))?,
    };
    let mut file = std::fs::File::open(artifact)
        .map_err(|e| crate::cli::io_error(artifact, "the artifact", e))?;
    let signer = Signer::Identity { identity, issuer };
    let v = keyless::verify(&mut file, &bundle, &signer, &root).map_err(|e| {
        crate::cli::verifier_error(
            e.code(),
            format!("{}: {e}", bundle_path.display()),
            e.is_input_error(),
        )
    })?;
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
