//! `mcpseal verify SERVER.mcpb [--ca ROOTS.pem | --allow-self-signed] [--signer SHA256]`:
//! the `MCPB_SIG_V1` block of an MCP bundle ([`crate::mcpb`]).
//!
//! Roots: `--ca` (PEM, one or more certificates), else the system's
//! (`SSL_CERT_FILE`, else `/etc/ssl/certs/ca-certificates.crt`). The signing time is the
//! signed `signingTime` attribute; without one, now.

use std::path::Path;

use serde_json::json;

use super::Args;
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::mcpb::{self, Trust, Verified};

/// Where the system's roots are read from when `--ca` is not given.
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Whether `verify` should treat these arguments as an MCPB verification.
pub fn wanted(args: &Args) -> bool {
    args.ca.is_some()
        || args.allow_self_signed
        || (args.key.is_none()
            && args.certificate_identity.is_none()
            && args.certificate_identity_regexp.is_none()
            && args.minisign_key.is_none()
            && args.signify_key.is_none()
            && args.bundle.is_none()
            && !args.artifacts.is_empty()
            && args.artifacts.iter().all(|a| is_mcpb(a)))
}

pub fn is_mcpb(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mcpb"))
}

/// The roots to chain to: the file given, or the system's.
pub(crate) fn load_roots(ca: Option<&Path>) -> Result<Vec<Vec<u8>>, CliError> {
    let system;
    let path = match ca {
        Some(p) => p,
        None => {
            system = std::env::var_os("SSL_CERT_FILE")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| SYSTEM_ROOTS.into());
            system.as_path()
        }
    };
    let text = read_input(path, 16 << 20, "a root certificate file")?;
    mcpb::certs_from_pem(&text).map_err(|e| {
        CliError::error(
            "bad-trusted-roots",
            format!("{}: not usable as root certificates: {e}", path.display()),
        )
        .help("pass --ca ROOTS.pem with one or more PEM CERTIFICATE blocks")
    })
}

/// The help line for a refusal: what to run next.
fn help_for(code: &str, file: &Path) -> String {
    let f = file.display();
    match code {
        "mcpb-unsigned" => format!("the publisher has to sign it: mcpseal sign {f} --cert CERT.pem --key KEY.pem"),
        "mcpb-self-signed" => format!(
            "if you trust this signer by its certificate fingerprint: mcpseal verify {f} --allow-self-signed --signer SHA256"
        ),
        "mcpb-untrusted-chain" | "mcpb-key-usage" | "mcpb-cert-not-valid-at-signing-time" => {
            format!("check which roots you trust: mcpseal verify {f} --ca ROOTS.pem")
        }
        "mcpb-zip-comment-rewritten" => "the bundle was changed after signing (a tool rewrote the ZIP comment length over the signature block); get the bundle as published, or have it re-signed".into(),
        _ => "do not install this bundle; get it again from its publisher, or ask them to re-sign it".into(),
    }
}

/// Verifies one bundle file. `signer`: a certificate fingerprint that must match.
pub(crate) fn verify_file(
    file: &Path,
    trust: &Trust<'_>,
    signer: Option<&str>,
) -> Result<Verified, CliError> {
    let mut f =
        std::fs::File::open(file).map_err(|e| crate::cli::io_error(file, "an MCP bundle", e))?;
    let len = f
        .metadata()
        .map_err(|e| crate::cli::io_error(file, "an MCP bundle", e))?
        .len();
    let now = jiff::Timestamp::now().as_second().max(0) as u64;
    let v = mcpb::verify(&mut f, len, trust, now).map_err(|e| {
        crate::cli::verifier_error(
            e.code(),
            format!("{}: {e}", file.display()),
            e.is_input_error(),
        )
        .help(help_for(e.code(), file))
    })?;
    if let Some(want) = signer {
        let want = normalize_fingerprint(want);
        if want != v.signer_fingerprint() {
            return Err(CliError::fail(
                "mcpb-signer-mismatch",
                format!(
                    "{}: signed by {} ({}), not by {want}",
                    file.display(),
                    v.signer_subject(),
                    v.signer_fingerprint()
                ),
            )
            .help("if the publisher changed certificates, confirm it with them, then re-pin"));
        }
    }
    Ok(v)
}

/// `sha256:HEX`, from `HEX`, `sha256:HEX` or OpenSSL's `AA:BB:…` form.
pub fn normalize_fingerprint(s: &str) -> String {
    let hexpart = s.strip_prefix("sha256:").unwrap_or(s);
    let hexpart: String = hexpart
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!("sha256:{hexpart}")
}

pub(crate) fn verified_json(file: &Path, v: &Verified) -> serde_json::Value {
    json!({
        "bundle": file.display().to_string(),
        "contentDigest": v.content_digest(),
        "signer": {
            "subject": v.signer_subject(),
            "issuer": v.signer_issuer(),
            "fingerprint": v.signer_fingerprint(),
            "selfSigned": v.self_signed(),
        },
        "signingTime": v.signing_time(),
    })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    if args.bundle.is_some() || args.key.is_some() {
        return Err(CliError::error(
            "mcpb-flags",
            "an MCP bundle carries its own signature: --bundle and --key do not apply",
        )
        .help("mcpseal verify SERVER.mcpb [--ca ROOTS.pem | --allow-self-signed]"));
    }
    if let Some(bad) = args.artifacts.iter().find(|a| !is_mcpb(a)) {
        return Err(CliError::error(
            "not-an-mcpb",
            format!(
                "{}: --ca and --allow-self-signed verify MCP bundles (.mcpb)",
                bad.display()
            ),
        )
        .help("mcpseal verify ARTIFACT --key signing.pub (for Sigstore bundles)"));
    }
    let roots = match (&args.ca, args.allow_self_signed) {
        (Some(p), _) => load_roots(Some(p))?,
        // Self-signed only: no system roots needed, but a CA-issued signer still chains to them.
        (None, true) => load_roots(None).unwrap_or_default(),
        (None, false) => load_roots(None)?,
    };
    let trust = if args.allow_self_signed {
        Trust::AllowSelfSigned(&roots)
    } else {
        Trust::Roots(&roots)
    };
    let mut results = Vec::new();
    for file in &args.artifacts {
        let v = verify_file(file, &trust, args.signer.as_deref())?;
        results.push((file, v));
    }
    if g.json {
        let list: Vec<_> = results.iter().map(|(f, v)| verified_json(f, v)).collect();
        emit_json(&json!({"ok": true, "verified": true, "bundles": list}));
    } else {
        for (f, v) in &results {
            emit(&format!("verified {} (MCPB signature)", f.display()));
            emit(&format!("  content: {}", v.content_digest()));
            emit(&format!(
                "  signer:  {}{}",
                v.signer_subject(),
                if v.self_signed() {
                    " (self-signed)"
                } else {
                    ""
                }
            ));
            if !v.self_signed() {
                emit(&format!("  issuer:  {}", v.signer_issuer()));
            }
            emit(&format!("  cert:    {}", v.signer_fingerprint()));
            match v.signing_time() {
                Some(t) => emit(&format!("  signed:  {t}")),
                None => emit("  signed:  (no signing time; validity checked now)"),
            }
        }
    }
    Ok(Exit::Ok)
}
