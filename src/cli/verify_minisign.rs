//! `mcpseal verify ARTIFACT --minisign-key KEY.pub [--signature F]` and `--signify-key`.

use std::path::PathBuf;

use serde_json::json;

use super::Args;
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input, verifier_error};
use crate::minisign::{self, SigKey};

pub fn run(args: Args, g: &Global) -> CmdResult {
    let [artifact] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            "minisign and signify signatures cover exactly one artifact",
        ));
    };
    let (flavour, key_path, ext) = match (&args.minisign_key, &args.signify_key) {
        (Some(k), None) => ("minisign", k, "minisig"),
        (None, Some(k)) => ("signify", k, "sig"),
        _ => {
            return Err(CliError::error(
                "no-verifier",
                "give --minisign-key or --signify-key",
            ));
        }
    };
    let sig_path = args.signature.clone().unwrap_or_else(|| {
        let mut s = artifact.as_os_str().to_owned();
        s.push(format!(".{ext}"));
        PathBuf::from(s)
    });
    let text = |p: &PathBuf, what: &str| -> Result<String, CliError> {
        let b = read_input(p, 64 * 1024, what)?;
        String::from_utf8(b).map_err(|_| {
            CliError::error(
                format!("{flavour}-malformed"),
                format!("{}: not UTF-8", p.display()),
            )
        })
    };
    let key_text = text(key_path, "a public key")?;
    let key = SigKey::parse(
        &key_text,
        if flavour == "minisign" {
            "minisign public key"
        } else {
            "signify public key"
        },
    )
    .map_err(|e| CliError::error(e.code(flavour), format!("{}: {e}", key_path.display())))?;
    let sig_text = text(&sig_path, "a signature")?;
    let mut file = std::fs::File::open(artifact)
        .map_err(|e| crate::cli::io_error(artifact, "the artifact", e))?;
    let result = if flavour == "minisign" {
        minisign::verify_minisign(&key, &sig_text, &mut file).map(Some)
    } else {
        minisign::verify_signify(&key, &sig_text, &mut file).map(|()| None)
    };
    let trusted = result.map_err(|e| {
        verifier_error(
            &e.code(flavour),
            format!("{}: {e}", sig_path.display()),
            e.is_input_error(),
        )
    })?;
    if g.json {
        emit_json(
            &json!({"ok": true, "verified": true, "kind": flavour, "keyId": key.id_hex(), "trustedComment": trusted, "signature": sig_path.display().to_string()}),
        );
    } else {
        emit(&format!(
            "verified {} ({flavour}, key id {})",
            artifact.display(),
            key.id_hex()
        ));
        if let Some(t) = trusted {
            emit(&format!(
                "  trusted comment: {}",
                crate::scan::printable(&t)
            ));
        }
    }
    Ok(Exit::Ok)
}
