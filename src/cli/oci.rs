//! `mcpseal sign oci://…` and `mcpseal verify oci://…`: container images in the registry.
//!
//! Sign resolves the reference to its manifest digest and pushes, as referrers of that digest,
//! a cosign 3 bundle (and with `--surface`, a second bundle carrying mcpseal's release
//! predicate); `--legacy` also writes the cosign 1/2 `.sig` signature. Verify fetches every
//! referrer bundle and legacy signature of the image (and, for an index, of the manifest for
//! `--platform`) and passes when one verifies with the key or keyless identity given and
//! names this image's digest. See docs/oci.md.

use crate::keys::Signer as _;
use serde_json::json;
use std::path::Path;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::bundle::{self, ReleasePredicate, ServerId, Statement, Subject};
use crate::digest::Digest;
use crate::oci::cosign::{self, Candidates, Format};
use crate::oci::{ImageRef, Manifest, OciError, Options, Registry};

/// Whether the first artifact names an image.
pub(crate) fn is_oci(artifacts: &[std::path::PathBuf]) -> bool {
    artifacts
        .first()
        .and_then(|p| p.to_str())
        .is_some_and(|s| s.starts_with("oci://"))
}

/// The one `oci://` reference among the artifacts.
fn one_image(artifacts: &[std::path::PathBuf]) -> Result<ImageRef, CliError> {
    let [one] = artifacts else {
        return Err(CliError::error(
            "one-image",
            "an oci:// reference is signed or verified on its own: pass exactly one",
        ));
    };
    let s = one.to_str().unwrap_or_default();
    ImageRef::parse_oci_url(s).map_err(|e| {
        CliError::error("bad-image-reference", e.to_string())
            .help("oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST")
    })
}

/// A registry error as a CLI error: exit 1 when the registry served something untrustworthy.
pub(crate) fn oci_error(e: OciError) -> CliError {
    let help = e.help();
    let c = if e.is_untrustworthy() {
        CliError::fail(e.code(), e.to_string())
    } else {
        CliError::error(e.code(), e.to_string())
    };
    c.help(help)
}

/// Connects to the image's repository with the user's credentials and insecure hosts.
pub(crate) fn connect(image: &ImageRef, insecure: &[String]) -> Result<Registry, CliError> {
    Registry::connect(image, &Options::from_env(insecure.to_vec())).map_err(oci_error)
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `mcpseal sign oci://…`.
pub fn sign(args: super::sign::Args, g: &Global) -> CmdResult {
    let image = one_image(&args.artifacts)?;
    if args.output.is_some() || args.policy.is_some() || args.no_policy || args.expires.is_some() {
        return Err(CliError::error(
            "usage",
            "--output, --policy, --no-policy and --expires do not apply to an image: its signatures go to the registry",
        ));
    }
    let key = args.signing.load()?;
    let surface = super::sign::signed_surface(&args)?;
    let reg = connect(&image, &args.allow_insecure_registry)?;
    let subject = reg.manifest(&image).map_err(oci_error)?;
    let created = now_rfc3339();
    let sign_err = |e: bundle::SignError| CliError::error("sign-failed", e.to_string());
    let cosign_bundle = cosign::sign_cosign3(&image, subject.digest, &key).map_err(sign_err)?;
    let referrer = cosign::push_referrer(
        &reg,
        &subject,
        &cosign_bundle,
        cosign::COSIGN_PREDICATE,
        &created,
    )
    .map_err(oci_error)?;
    let legacy = if args.legacy {
        use base64::Engine;
        let payload = cosign::simple_signing_payload(&image, subject.digest);
        let sig = key
            .sign(&payload)
            .map_err(|e| CliError::error("sign-failed", e.to_string()))?;
        let sig = base64::engine::general_purpose::STANDARD.encode(sig);
        Some(cosign::push_legacy(&reg, subject.digest, &payload, &sig).map_err(oci_error)?)
    } else {
        None
    };
    let release = if surface.is_some() || args.server_name.is_some() {
        {
            let st = Statement::new(
                vec![Subject::new(image.repo_name(), &subject.digest)],
                ReleasePredicate {
                    server: ServerId {
                        name: args.server_name.clone(),
                        version: args.server_version.clone(),
                    },
                    surface: surface.clone(),
                    lock: None,
                },
            );
            let b = bundle::sign(&st, &key).map_err(sign_err)?;
            let bytes = crate::json::to_pretty_sorted(&b).into_bytes();
            Some(
                cosign::push_referrer(&reg, &subject, &bytes, bundle::PREDICATE_TYPE, &created)
                    .map_err(oci_error)?,
            )
        }
    } else {
        None
    };
    let signed = image.at_digest(subject.digest);
    let key_id = key.public_key().key_id();
    if g.json {
        emit_json(&json!({
            "ok": true,
            "image": signed.to_oci_url(),
            "digest": subject.digest.to_string(),
            "keyId": key_id,
            "referrer": referrer.to_string(),
            "legacySignature": legacy.map(|d| d.to_string()),
            "releaseReferrer": release.map(|d| d.to_string()),
            "surfaceDigest": surface.as_ref().map(|s| s.digest.to_string()),
        }));
    } else {
        emit(&format!("signed {} (key id {key_id})", signed.to_oci_url()));
        emit(&format!("  cosign 3 bundle: referrer {referrer}"));
        if let Some(d) = legacy {
            emit(&format!(
                "  legacy signature: {}:sha256-{}.sig ({d})",
                image.repo_name(),
                subject.digest.hex()
            ));
        }
        if let Some(d) = release {
            match &surface {
                Some(s) => {
                    let n: usize = s.entities.values().map(|m| m.len()).sum();
                    emit(&format!(
                        "  release statement with surface {} ({n} entities): referrer {d}",
                        s.digest
                    ));
                }
                None => emit(&format!("  release statement: referrer {d}")),
            }
        }
    }
    Ok(Exit::Ok)
}

/// Who must have signed an image.
enum Who<'a> {
    Key(Box<crate::keys::PublicKey>),
    /// An identity, checked against this trusted root (loaded once for every bundle tried).
    Keyless(
        super::verify::verify_keyless::KeylessFlags<'a>,
        &'a sigstore_verify::trust_root::TrustedRoot,
    ),
}

/// What verified, for the report.
struct Passed {
    digest: Digest,
    formats: Vec<Format>,
    signer: String,
    /// What verified, as the policy matches it.
    evidence: crate::policy::Evidence,
    releases: Vec<bundle::Verified>,
}

/// Checks `candidates` over `manifest` with the signer; `Ok(None)` with the refusal when none verified.
fn check(
    who: &Who<'_>,
    image: &ImageRef,
    manifest: &Manifest,
    c: &Candidates,
) -> Result<Result<Passed, cosign::SigError>, CliError> {
    match who {
        Who::Key(key) => {
            let out = cosign::verify_with_key(c, image, manifest.digest, key);
            if out.verified.is_empty() {
                return Ok(Err(out.reason()));
            }
            let mut formats: Vec<Format> = out.verified.iter().map(|v| v.format).collect();
            formats.dedup();
            Ok(Ok(Passed {
                digest: manifest.digest,
                formats,
                signer: format!("key id {}", key.key_id()),
                evidence: crate::policy::Evidence {
                    key_id: Some(key.key_id()),
                    ..Default::default()
                },
                releases: out.releases,
            }))
        }
        Who::Keyless(flags, root) => {
            let mut last = cosign::SigError::NoSignature;
            for (_, b) in &c.bundles {
                let text = String::from_utf8_lossy(b);
                let r =
                    super::verify::verify_keyless::with_signer_in(flags, root, |signer, root| {
                        Ok(crate::keyless::verify(
                            &mut manifest.bytes.as_slice(),
                            &text,
                            signer,
                            root,
                        ))
                    })?;
                match r {
                    Ok(v) => {
                        // The statement must be cosign's, over this image.
                        let payload = serde_json::from_slice::<serde_json::Value>(b)
                            .ok()
                            .and_then(|j| {
                                j.pointer("/dsseEnvelope/payload")?
                                    .as_str()
                                    .map(str::to_owned)
                            })
                            .and_then(|p| {
                                use base64::Engine;
                                base64::engine::general_purpose::STANDARD.decode(p).ok()
                            });
                        let cosign_ok = payload
                            .as_deref()
                            .map(|p| cosign::check_cosign_statement(p, manifest.digest));
                        match cosign_ok {
                            Some(Ok(true)) => {
                                return Ok(Ok(Passed {
                                    digest: manifest.digest,
                                    formats: vec![Format::Cosign3],
                                    signer: format!(
                                        "{} via {}",
                                        v.identity().unwrap_or("?"),
                                        v.issuer().unwrap_or("?")
                                    ),
                                    evidence: crate::policy::Evidence {
                                        key_id: None,
                                        identity: v.identity().map(str::to_owned),
                                        issuer: v.issuer().map(str::to_owned),
                                    },
                                    releases: Vec::new(),
                                }));
                            }
                            Some(Err(e)) => last = e,
                            _ => {}
                        }
                    }
                    Err(e) => last = cosign::SigError::Bundle(e.to_string(), e.code()),
                }
            }
            if !c.legacy.is_empty() && c.bundles.is_empty() {
                last = cosign::SigError::Bundle(
                    "only legacy .sig signatures found: keyless verification of legacy signatures is not supported; verify with --key".into(),
                    "keyless-legacy-unsupported",
                );
            }
            Ok(Err(last))
        }
    }
}

/// `mcpseal verify oci://…`.
pub fn verify(args: super::verify::Args, g: &Global) -> CmdResult {
    let image = one_image(&args.artifacts)?;
    let root;
    let who = if let Some(k) = &args.key {
        Who::Key(Box::new(super::key::load_public_key(k)?))
    } else if args.certificate_identity.is_some() || args.certificate_identity_regexp.is_some() {
        root = super::verify::verify_keyless::load_root(args.trusted_root.as_deref())?;
        Who::Keyless(
            super::verify::verify_keyless::KeylessFlags {
                identity: args.certificate_identity.as_deref(),
                identity_regexp: args.certificate_identity_regexp.as_deref(),
                issuer: args.certificate_oidc_issuer.as_deref(),
                trusted_root: args.trusted_root.as_deref(),
            },
            &root,
        )
    } else {
        return Err(CliError::error(
            "no-verifier",
            "say who must have signed the image: --key PUB, or --certificate-identity ID with --certificate-oidc-issuer ISS",
        )
        .help(format!("mcpseal verify {} --key cosign.pub", image.to_oci_url())));
    };
    let reg = connect(&image, &args.allow_insecure_registry)?;
    let top = reg.manifest(&image).map_err(oci_error)?;
    let platform = args.platform.clone().unwrap_or_else(cosign::host_platform);
    // A signature over an index covers every manifest it lists; one over the manifest for this
    // platform covers what would run here.
    let mut targets = vec![top.clone()];
    let mut platform_digest = None;
    if top.is_index() {
        let (d, _) = cosign::select_platform(&top, &platform).ok_or_else(|| {
            CliError::error(
                "platform-not-found",
                format!(
                    "{}: the index lists no manifest for {platform}",
                    image.display()
                ),
            )
            .help("pick one with --platform OS/ARCH[/VARIANT], e.g. --platform linux/arm64")
        })?;
        platform_digest = Some(d);
        targets.push(reg.manifest(&image.at_digest(d)).map_err(oci_error)?);
    }
    let mut best: Option<cosign::SigError> = None;
    let mut passed = None;
    for m in &targets {
        let c = cosign::fetch(&reg, m.digest).map_err(oci_error)?;
        match check(&who, &image, m, &c)? {
            Ok(p) => {
                passed = Some(p);
                break;
            }
            Err(e) => {
                if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                    best = Some(e);
                }
            }
        }
    }
    let Some(p) = passed else {
        let e = best.unwrap_or(cosign::SigError::NoSignature);
        let help = match e.code() {
            "no-signature" => format!(
                "sign it: mcpseal sign {} --key cosign.key",
                image.to_oci_url()
            ),
            "legacy-digest-mismatch" | "subject-mismatch" => {
                "a signature for another image was put on this one: do not run it".to_owned()
            }
            _ => "check that the key (or identity) is the publisher's".to_owned(),
        };
        return Err(CliError::fail(
            e.code(),
            format!("{}: {e}", image.at_digest(top.digest).to_oci_url()),
        )
        .help(help));
    };
    let surface = p
        .releases
        .iter()
        .find_map(|r| r.statement().predicate.surface.clone());
    let server = p
        .releases
        .first()
        .map(|r| r.statement().predicate.server.clone());
    if g.json {
        emit_json(&json!({
            "ok": true,
            "verified": true,
            "image": image.at_digest(top.digest).to_oci_url(),
            "digest": top.digest.to_string(),
            "platform": platform_digest.map(|_| platform.clone()),
            "platformDigest": platform_digest.map(|d| d.to_string()),
            "signedDigest": p.digest.to_string(),
            "formats": p.formats,
            "signer": p.signer,
            "server": server,
            "surfaceDigest": surface.as_ref().map(|s| s.digest.to_string()),
        }));
    } else {
        let formats: Vec<&str> = p
            .formats
            .iter()
            .map(|f| match f {
                Format::Cosign3 => "cosign 3 bundle",
                Format::Legacy => "legacy .sig",
            })
            .collect();
        emit(&format!(
            "verified {} ({})",
            image.at_digest(p.digest).to_oci_url(),
            formats.join(", ")
        ));
        emit(&format!("  signed by {}", p.signer));
        if let Some(d) = platform_digest {
            emit(&format!("  {platform}: {d}"));
        }
        if let Some(s) = surface {
            emit(&format!("  signed surface {}", s.digest));
        }
    }
    Ok(Exit::Ok)
}

/// For a `docker run …` / `podman run …` server: resolves its image to the manifest digest the
/// registry serves now and returns the pin, plus the launch to capture with (the image pinned
/// by that digest, so what is captured is what is pinned). `None` for other launches.
///
/// With `image_signers` (the policy's `image-signers` for the server), the image must also carry
/// a signature by one of them, checked here at the registry (the manifest, or for an index the
/// index or this platform's manifest); the signer that verified is recorded in the pin.
pub(crate) fn pin_container(
    server: &str,
    spec: &crate::mcp::LaunchSpec,
    insecure: &[String],
    image_signers: &[crate::policy::Signer],
    trusted_root: Option<&Path>,
) -> Result<Option<(crate::lock::PinnedImage, crate::mcp::LaunchSpec)>, CliError> {
    let crate::mcp::LaunchSpec::Stdio { command, args, .. } = spec else {
        return Ok(None);
    };
    let Some(found) = crate::oci::launch::container_launch(command, args) else {
        return Ok(None);
    };
    let found = found.map_err(|e| {
        CliError::error(e.code(), e.to_string())
            .help("write options that take a value as --option=VALUE, or put `--` before the image")
    })?;
    let arg = args.get(found.image_index).cloned().unwrap_or_default();
    let image = ImageRef::parse_docker(&arg).map_err(|e| {
        CliError::error("bad-image-reference", e.to_string())
            .help("name the image as docker does: [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST]")
    })?;
    let reg = connect(&image, insecure)?;
    let m = reg.manifest(&image).map_err(oci_error)?;
    let signer = if image_signers.is_empty() {
        None
    } else {
        Some(verify_image_signers(
            server,
            &reg,
            &image,
            &m,
            image_signers,
            trusted_root,
        )?)
    };
    let mut pinned_args = args.clone();
    if let Some(slot) = pinned_args.get_mut(found.image_index) {
        *slot = crate::oci::launch::pinned_arg(&arg, m.digest);
    }
    let pinned = crate::lock::PinnedImage {
        reference: image.display(),
        digest: m.digest,
        signer,
    };
    Ok(spec
        .with_command_line(command, pinned_args)
        .map(|launch| (pinned, launch)))
}

/// The first of the policy's `image-signers` whose signature on `image` verifies, as the lock
/// records it; refuses (exit 1) when none does, naming the best reason found. Keyless signers
/// are checked against `trusted_root` (`pin --trusted-root`, read once, before the registry is
/// asked for signatures) or the embedded public-good root; a keyless signer that verified
/// under a root from a file records that file's digest.
fn verify_image_signers(
    server: &str,
    reg: &Registry,
    image: &ImageRef,
    top: &Manifest,
    signers: &[crate::policy::Signer],
    trusted_root: Option<&Path>,
) -> Result<crate::lock::ImageSigner, CliError> {
    let keyless = signers.iter().any(|s| s.public_key.is_none());
    let root = if keyless {
        Some(super::verify::verify_keyless::read_root(trusted_root)?)
    } else {
        None
    };
    let mut targets = vec![top.clone()];
    if top.is_index()
        && let Some((d, _)) = cosign::select_platform(top, &cosign::host_platform())
    {
        targets.push(reg.manifest(&image.at_digest(d)).map_err(oci_error)?);
    }
    let mut fetched = Vec::new();
    for m in &targets {
        fetched.push(cosign::fetch(reg, m.digest).map_err(oci_error)?);
    }
    let mut best: Option<cosign::SigError> = None;
    for s in signers {
        let who = match &s.public_key {
            Some(k) => Who::Key(Box::new(super::key::load_public_key(k)?)),
            None if s.identity.is_none() && s.identity_regexp.is_none() => {
                return Err(CliError::error(
                    "policy-invalid",
                    format!(
                        "server {server:?}: image signer {:?} names only a key id; verifying an image at the registry needs the key itself",
                        s.name
                    ),
                )
                .help("give the signer public-key = \"FILE.pub\" in the policy (docs/policy.md)"));
            }
            None => {
                // Loaded above whenever a signer is keyless; skipping a signer can only refuse.
                let Some((root, _)) = &root else {
                    continue;
                };
                Who::Keyless(
                    super::verify::verify_keyless::KeylessFlags {
                        identity: s.identity.as_deref(),
                        identity_regexp: s.identity_regexp.as_deref(),
                        issuer: s.issuer.as_deref(),
                        trusted_root,
                    },
                    root,
                )
            }
        };
        let keyless_root = match &who {
            Who::Keyless(..) => root.as_ref().and_then(|(_, d)| *d),
            Who::Key(_) => None,
        };
        for (m, c) in targets.iter().zip(&fetched) {
            match check(&who, image, m, c)? {
                // The policy's own matcher decides, not only the key this loop loaded.
                Ok(p) if s.matcher.matches(&p.evidence) => {
                    return Ok(crate::lock::ImageSigner {
                        name: s.name.clone(),
                        key_id: p.evidence.key_id,
                        identity: p.evidence.identity,
                        issuer: p.evidence.issuer,
                        trusted_root: keyless_root,
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                        best = Some(e);
                    }
                }
            }
        }
    }
    let e = best.unwrap_or(cosign::SigError::NoSignature);
    let names: Vec<&str> = signers.iter().map(|s| s.name.as_str()).collect();
    Err(CliError::fail(
        "image-signer-untrusted",
        format!(
            "server {server:?}: image {} is not signed by any of the policy's image-signers ({}): {e}",
            image.at_digest(top.digest).to_oci_url(),
            names.join(", ")
        ),
    )
    .help(format!(
        "check who signed it: mcpseal verify {} --key PUB; do not pin an image its publisher did not sign",
        image.to_oci_url()
    )))
}
