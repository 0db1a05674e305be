//! The parts of `mcpseal run` that apply the trust policy: a signed lock and policy
//! (`--lock-key`), and, for a server the policy says must be signed, a verifying bundle from a
//! trusted signer over the artifacts now on disk. Every refusal names the signer check that
//! failed; the audit log records the signer that passed.

use std::path::{Path, PathBuf};

use crate::bundle;
use crate::gate::Refusal;
use crate::keys::PublicKey;
use crate::policy::{Evidence, Policy, Requirements};

fn refusal(reason: &'static str, message: String, fix: &str) -> Refusal {
    Refusal {
        reason,
        message,
        fix: fix.to_owned(),
    }
}

fn sidecar(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".sigstore.json");
    PathBuf::from(s)
}

/// Verifies that `file` is covered by `<file>.sigstore.json` signed with `key`.
pub(crate) fn check_signed_file(
    file: &Path,
    key: &PublicKey,
    what: &'static str,
) -> Result<(), Refusal> {
    let reason = if what == "lockfile" {
        "lock-signature"
    } else {
        "policy-signature"
    };
    let b = sidecar(file);
    let fix = format!(
        "sign it: mcpseal sign {} --key KEY (and distribute {} with it)",
        file.display(),
        b.display()
    );
    let bytes = std::fs::read(&b).map_err(|e| {
        refusal(
            reason,
            format!(
                "the {what} {} has no signature bundle {}: {e}",
                file.display(),
                b.display()
            ),
            &fix,
        )
    })?;
    let v = bundle::verify(&bytes, key).map_err(|e| {
        refusal(
            reason,
            format!("the {what}'s bundle {} does not verify: {e}", b.display()),
            &fix,
        )
    })?;
    let d = crate::digest::sha256_file(file).map_err(|e| refusal(reason, format!("{e}"), &fix))?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    bundle::match_subjects(v.statement(), &[(file.display().to_string(), name, d)]).map_err(|e| {
        refusal(
            reason,
            format!("the {what} {} is not the signed one: {e}", file.display()),
            &fix,
        )
    })
}

/// Loads the policy from `path`.
pub(crate) fn load_policy(path: &Path) -> Result<Policy, Refusal> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        refusal(
            "policy-invalid",
            format!("{}: {e}", path.display()),
            "check --policy",
        )
    })?;
    Policy::parse(&text, path).map_err(|e| {
        refusal(
            "policy-invalid",
            e.to_string(),
            "fix the policy file (docs/policy.md)",
        )
    })
}

/// For a server that must be signed: the bundle verifies for a trusted signer over the
/// artifacts on disk. Returns the signer's name.
pub(crate) fn check_signature(server: &str, req: &Requirements) -> Result<Option<String>, Refusal> {
    if !req.require_signature {
        return Ok(None);
    }
    let fix = "install the release its publisher signed, or fix the policy's signers";
    let bundle_path = req.bundle.as_ref().ok_or_else(|| {
        refusal(
            "policy-invalid",
            format!("server {server:?} must be signed but the policy names no bundle"),
            fix,
        )
    })?;
    let bytes = std::fs::read(bundle_path).map_err(|e| {
        refusal(
            "unsigned",
            format!(
                "server {server:?} must be signed, but its bundle {} cannot be read: {e}",
                bundle_path.display()
            ),
            fix,
        )
    })?;
    let mut artifacts = Vec::new();
    for a in &req.artifacts {
        let d = crate::digest::digest_path(a).map_err(|e| {
            refusal(
                "artifact-unreadable",
                format!("server {server:?}: {e}"),
                fix,
            )
        })?;
        let name = a
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        artifacts.push((a.display().to_string(), name, d.digest));
    }
    let mut why = Vec::new();
    for s in &req.signers {
        let evidence = if let Some(k) = &s.public_key {
            let pem = match std::fs::read(k) {
                Ok(p) => p,
                Err(e) => {
                    why.push(format!("{}: {}: {e}", s.name, k.display()));
                    continue;
                }
            };
            let key = match PublicKey::from_pem(&pem) {
                Ok(k) => k,
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            };
            match bundle::verify(&bytes, &key)
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    bundle::match_subjects(v.statement(), &artifacts)
                        .map_err(|e| e.to_string())
                        .map(|()| v)
                }) {
                Ok(v) => Evidence {
                    key_id: Some(v.key_id().to_owned()),
                    ..Evidence::default()
                },
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            }
        } else if let (Some(issuer), [artifact]) = (&s.issuer, req.artifacts.as_slice()) {
            let re = s
                .identity_regexp
                .as_deref()
                .map(regex::Regex::new)
                .transpose()
                .ok()
                .flatten();
            let identity = match (&s.identity, &re) {
                (Some(x), _) => crate::keyless::IdentityMatch::Exact(x),
                (None, Some(r)) => crate::keyless::IdentityMatch::Regex(r),
                _ => continue,
            };
            let root = match crate::keyless::production_root() {
                Ok(r) => r,
                Err(e) => return Err(refusal("bad-trusted-root", e.to_string(), fix)),
            };
            let text = String::from_utf8_lossy(&bytes);
            let mut f = match std::fs::File::open(artifact) {
                Ok(f) => f,
                Err(e) => {
                    return Err(refusal(
                        "artifact-unreadable",
                        format!("{}: {e}", artifact.display()),
                        fix,
                    ));
                }
            };
            match crate::keyless::verify(
                &mut f,
                &text,
                &crate::keyless::Signer::Identity { identity, issuer },
                &root,
            ) {
                Ok(v) => Evidence {
                    identity: v.identity().map(str::to_owned),
                    issuer: v.issuer().map(str::to_owned),
                    ..Evidence::default()
                },
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            }
        } else {
            why.push(format!(
                "{}: a keyless signer covers exactly one artifact",
                s.name
            ));
            continue;
        };
        // The combinator is the last word: a verified signature from a signer it rejects is no pass.
        return req
            .check(&evidence)
            .map(|t| Some(t.name.clone()))
            .map_err(|e| refusal("untrusted-signer", e.to_string(), fix));
    }
    Err(refusal(
        "unsigned",
        format!(
            "server {server:?} must be signed by one of its trusted signers; none verified: {}",
            why.join("; ")
        ),
        fix,
    ))
}
