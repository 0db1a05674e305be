//! `mcpseal sign SERVER.mcpb --cert CERT.pem --key KEY.pem [--intermediate PEM]… [-o OUT]`:
//! appends the `MCPB_SIG_V1` block the reference `mcpb` CLI writes ([`crate::mcpb::sign_block`]).
//!
//! The bundle is replaced atomically (or written to `--output`); a bundle that already carries
//! a block is refused. The key (RSA or ECDSA P-256; PKCS#8, PKCS#1 or SEC1 PEM,
//! PKCS#8 possibly encrypted) is held in zeroized memory and never printed.

use std::path::Path;

use serde_json::json;
use zeroize::Zeroizing;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::mcpb::{self, McpbError, SigningKey};

/// Largest bundle signed (it is read whole to be written back with its block).
const MAX_BUNDLE: u64 = 2 << 30;

fn mcpb_error(file: &Path, e: McpbError) -> CliError {
    let help = match e.code() {
        "mcpb-sign-failed" => {
            "check that --cert is the certificate of --key, and that the bundle is not signed yet"
        }
        _ => "sign the ZIP that `mcpb pack` wrote, unchanged",
    };
    CliError::error(e.code(), format!("{}: {e}", file.display())).help(help)
}

/// Reads a PEM private key, decrypting an `ENCRYPTED PRIVATE KEY` with the passphrase.
fn load_key(path: &Path, password_file: Option<&Path>) -> Result<SigningKey, CliError> {
    use pki_types::pem::{PemObject, SectionKind};
    let text = Zeroizing::new(read_input(path, 64 * 1024, "a private key")?);
    let bad = |why: String| {
        CliError::error("key-malformed", format!("{}: {why}", path.display())).help(
            "--key takes an RSA or ECDSA P-256 private key in PEM, as `openssl genpkey` writes",
        )
    };
    let mut der: Option<Zeroizing<Vec<u8>>> = None;
    let as_str = std::str::from_utf8(&text).map_err(|_| bad("not PEM text".into()))?;
    if as_str.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let (_, doc) = pkcs8::SecretDocument::from_pem(as_str)
            .map_err(|e| bad(format!("not an encrypted PKCS#8 key: {e}")))?;
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(doc.as_bytes())
            .map_err(|e| bad(format!("not an encrypted PKCS#8 key: {e}")))?;
        let pass = super::key::passphrase(password_file, false)?;
        let plain = info.decrypt(pass.as_bytes()).map_err(|_| {
            CliError::error(
                "key-wrong-passphrase",
                format!(
                    "{}: the passphrase does not decrypt the key",
                    path.display()
                ),
            )
            .help("check MCPSEAL_PASSWORD or --password-file")
        })?;
        der = Some(Zeroizing::new(plain.as_bytes().to_vec()));
    }
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(&text).take_while(|_| der.is_none()) {
        let (kind, body) = item.map_err(|e| bad(format!("not PEM: {e}")))?;
        let body = Zeroizing::new(body);
        match kind {
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey => {
                der = Some(body);
                break;
            }
            _ => {}
        }
    }
    let der = der.ok_or_else(|| bad("no PRIVATE KEY block".into()))?;
    SigningKey::from_der(&der).map_err(|e| bad(e.to_string()))
}

fn load_certs(path: &Path, what: &str) -> Result<Vec<Vec<u8>>, CliError> {
    let text = read_input(path, 1 << 20, what)?;
    mcpb::certs_from_pem(&text).map_err(|e| {
        CliError::error("cert-malformed", format!("{}: {e}", path.display()))
            .help("pass PEM certificates (-----BEGIN CERTIFICATE-----)")
    })
}

pub fn run(args: super::sign::Args, g: &Global) -> CmdResult {
    let [bundle] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            "--cert signs one MCP bundle at a time",
        ));
    };
    let (Some(cert_path), Some(key_path)) = (args.cert.as_deref(), args.signing.key.as_deref())
    else {
        return Err(CliError::error(
            "no-key",
            "--cert needs --key KEY.pem (the certificate's private key)",
        ));
    };
    if args.surface
        || args.surface_from.is_some()
        || args.server_name.is_some()
        || args.server_version.is_some()
        || args.policy.is_some()
        || args.no_policy
        || args.expires.is_some()
    {
        return Err(CliError::error(
            "usage",
            "an MCP bundle signature covers the bundle's bytes only: --surface, --server-name, --policy and --expires do not apply with --cert",
        ));
    }
    let certs = load_certs(cert_path, "a certificate")?;
    let mut chain = Vec::new();
    for p in &args.intermediate {
        chain.extend(load_certs(p, "an intermediate certificate")?);
    }
    // The --cert file may carry its chain after the leaf, as many CAs hand it out.
    let (leaf, rest) = certs.split_first().ok_or_else(|| {
        CliError::error(
            "cert-malformed",
            format!("{}: no certificate", cert_path.display()),
        )
    })?;
    chain.extend_from_slice(rest);
    let key = load_key(key_path, args.signing.password_file.as_deref())?;
    let content = read_input(bundle, MAX_BUNDLE, "an MCP bundle")?;
    let len = content.len() as u64;
    mcpb::check_unsigned(&mut std::io::Cursor::new(&content), len)
        .map_err(|e| mcpb_error(bundle, e))?;
    let now = jiff::Timestamp::now().as_second().max(0) as u64;
    let block = mcpb::sign_block(&mut content.as_slice(), len, leaf, &chain, &key, now)
        .map_err(|e| mcpb_error(bundle, e))?;
    let out = args.output.clone().unwrap_or_else(|| bundle.clone());
    let mut signed = content;
    signed.extend_from_slice(&block);
    super::sign::write_atomic(&out, &signed)?;
    let fingerprint = format!("sha256:{}", crate::digest::Digest::of(leaf).hex());
    let digest = format!(
        "sha256:{}",
        crate::digest::Digest::of(&signed[..len as usize]).hex()
    );
    if g.json {
        emit_json(
            &json!({"ok": true, "bundle": out.display().to_string(), "contentDigest": digest, "signerFingerprint": fingerprint, "certificates": 1 + chain.len()}),
        );
    } else {
        emit(&format!("signed {} ({digest})", out.display()));
        emit(&format!(
            "  cert: {fingerprint} (+{} intermediate)",
            chain.len()
        ));
    }
    Ok(Exit::Ok)
}
