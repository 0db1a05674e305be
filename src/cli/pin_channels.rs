//! What `pin` records about the channel a server ships through, checked **before** the server
//! is started (an unverified bundle or package is never run to capture it):
//!
//! - `--mcpb FILE`: the bundle verifies (`--ca`, `--allow-self-signed`, `--signer`), and its
//!   digest, signer and `manifest.json` tools are recorded ([`crate::lock::PinnedMcpb`]);
//! - `--server-json FILE`: the launch (or the bundle) is one of the entry's packages, at its
//!   version (and the bundle has its `fileSha256`; a container launch's image is the digest
//!   the entry's OCI package resolves to, whose label names the entry); the package identity
//!   is recorded;
//! - a launch `npx -y NAME@VERSION` / `uvx NAME==VERSION`: the package identity is recorded;
//! - `--provenance FILE --artifact FILE`: the package file verifies against its npm or PEP 740
//!   provenance for exactly that package and version, and the source identity is recorded.
//!
//! docs/channels.md shows each end to end.

use std::path::{Path, PathBuf};

use super::{CliError, read_input};
use crate::channels::{self, LaunchPackage};
use crate::lock::{PinnedMcpb, PinnedMcpbSigner, PinnedPackage, PinnedProvenance};
use crate::mcp::LaunchSpec;

/// Largest bundle `pin --mcpb` reads.
pub const MAX_BUNDLE: u64 = 1 << 30;

/// The channel flags of `pin`, as given.
pub struct Flags<'a> {
    pub name: &'a str,
    pub mcpb: Option<&'a Path>,
    /// `--mcpb-dir`: the folder the bundle is unpacked in.
    pub mcpb_dir: Option<&'a Path>,
    pub ca: Option<&'a Path>,
    pub allow_self_signed: bool,
    pub signer: Option<&'a str>,
    pub server_json: Option<&'a Path>,
    pub provenance: Option<&'a Path>,
    pub trusted_root: Option<&'a Path>,
    /// `--fetch-provenance`, from `--provenance-url` or the package's public registry.
    pub fetch_provenance: bool,
    pub provenance_url: Option<&'a str>,
    /// The policy's `provenance` table names the server: a package that publishes no
    /// provenance is refused rather than pinned without.
    pub provenance_required: bool,
    pub artifacts: &'a [PathBuf],
    /// The container image the launch runs, as `pin` resolved it (`docker run …`).
    pub image: Option<&'a crate::lock::PinnedImage>,
    /// Registry hosts where plain HTTP is allowed (`--allow-insecure-registry`).
    pub insecure: &'a [String],
}

/// What the channel checks established, for the lock entry.
#[derive(Default)]
pub struct Recorded {
    pub mcpb: Option<PinnedMcpb>,
    pub package: Option<PinnedPackage>,
    /// The `--artifact` that was the provenance's package file (not pinned as an artifact).
    pub consumed: Option<PathBuf>,
    /// What `--fetch-provenance` found.
    pub fetched: Option<Fetched>,
    /// The `--server-json` entry, as parsed and checked.
    pub server_json: Option<crate::registry::ServerJson>,
}

/// The outcome of `--fetch-provenance`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "outcome", content = "url", rename_all = "kebab-case")]
pub enum Fetched {
    /// Fetched from this URL and verified.
    Verified(String),
    /// The URL answered 404 and the policy does not require provenance.
    NotPublished(String),
}

/// Runs every channel check the flags ask for; see the module docs.
pub fn check(f: &Flags<'_>, spec: &LaunchSpec) -> Result<Recorded, CliError> {
    let mut out = Recorded::default();
    if let Some(b) = f.mcpb {
        out.mcpb = Some(bundle(f, b)?);
    }
    let launched = channels::launch_package(spec);
    if let Some(sj) = f.server_json {
        let (pkg, entry) = server_json(f, sj, launched.as_ref(), out.mcpb.as_ref())?;
        out.package = Some(pkg);
        out.server_json = Some(entry);
    } else {
        out.package = channels::pinned_package(spec);
    }
    if f.trusted_root.is_some() && f.provenance.is_none() && !f.fetch_provenance {
        return Err(CliError::error(
            "usage",
            "--trusted-root is for verifying provenance: give it with --provenance FILE or --fetch-provenance",
        ));
    }
    if f.provenance.is_some() || f.fetch_provenance {
        let pkg = out.package.as_mut().filter(|p| p.registry_type == "npm" || p.registry_type == "pypi").ok_or_else(|| {
            CliError::error(
                "provenance-needs-package",
                format!(
                    "--provenance: the launch of {:?} runs no exact npm or PyPI package version, so there is nothing the provenance could speak for",
                    f.name
                ),
            )
            .help("launch an exact version: -- npx -y NAME@VERSION, or -- uvx NAME==VERSION")
        })?;
        let [artifact] = f.artifacts else {
            return Err(CliError::error(
                "provenance-needs-artifact",
                "--provenance needs the package file it speaks for: exactly one --artifact (the npm tarball, the wheel or the sdist)",
            )
            .help(format!(
                "npm pack {0} (or pip download {0} --no-deps), then add --artifact FILE",
                launched.as_ref().map(LaunchPackage::display).unwrap_or_default()
            )));
        };
        let bytes = read_input(artifact, crate::keyless::MAX_IN_MEMORY, "a package file")?;
        if let (Some(entry), Some(sj)) = (&out.server_json, f.server_json) {
            // The package file must carry the entry's name marker (npm's mcpName, a README's
            // mcp-name:), as verify-registry requires.
            crate::registry::check_artifact(entry, &artifact.display().to_string(), &bytes)
                .map_err(|e| super::verify_registry::refusal(e, sj))?;
        }
        if let Some(prov) = f.provenance {
            let doc = read_input(
                prov,
                crate::provenance::MAX_ATTESTATIONS as u64,
                "a provenance document",
            )?;
            provenance(f, &doc, artifact, &bytes, pkg)?;
        } else {
            out.fetched = Some(fetch_provenance(f, artifact, &bytes, pkg)?);
        }
        out.consumed = Some(artifact.clone());
    }
    Ok(out)
}

/// `--fetch-provenance`: the document from npm's attestations endpoint or PyPI's integrity
/// API, verified as a `--provenance` file is. A 404 is "none published": refused when the
/// policy requires provenance, else the package is pinned without it.
fn fetch_provenance(
    f: &Flags<'_>,
    artifact: &Path,
    bytes: &[u8],
    pkg: &mut PinnedPackage,
) -> Result<Fetched, CliError> {
    use crate::attestations as att;
    let fetch_err = |e: att::FetchError| {
        let c = CliError::error(e.code(), e.to_string());
        c.help(match e {
            att::FetchError::BadBase { .. } => {
                "give --provenance-url as https://HOST (plain http only to a loopback address)"
            }
            _ => {
                "check the registry URL and the network, or download the document and give it with --provenance FILE"
            }
        })
    };
    let (url, accept) = if pkg.registry_type == "npm" {
        let base = f.provenance_url.unwrap_or(att::NPM_REGISTRY);
        (
            att::npm_url(base, &pkg.identifier, &pkg.version).map_err(fetch_err)?,
            "application/json",
        )
    } else {
        let base = f.provenance_url.unwrap_or(att::PYPI_INDEX);
        let fname = artifact.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (
            att::pypi_url(base, &pkg.identifier, &pkg.version, fname).map_err(fetch_err)?,
            "application/vnd.pypi.integrity.v1+json",
        )
    };
    match att::fetch(&url, accept, crate::provenance::MAX_ATTESTATIONS).map_err(fetch_err)? {
        Some(doc) => {
            provenance(f, &doc, artifact, bytes, pkg).map_err(|e| {
                let help = e.help.clone().unwrap_or_default();
                e.help(format!("{help} (the document was fetched from {url})"))
            })?;
            Ok(Fetched::Verified(url))
        }
        None if f.provenance_required => Err(CliError::fail(
            "provenance-missing",
            format!(
                "{:?}: {}@{} publishes no provenance ({url} answered 404), and the policy's provenance table for {:?} requires it",
                f.name, pkg.identifier, pkg.version, f.name
            ),
        )
        .help("do not run this package under that policy: it cannot show where it was built; ask its publisher to publish with provenance")),
        None => Ok(Fetched::NotPublished(url)),
    }
}

fn bundle(f: &Flags<'_>, path: &Path) -> Result<PinnedMcpb, CliError> {
    let abs = path
        .canonicalize()
        .map_err(|e| super::io_error(path, "an MCP bundle", e))?;
    let roots = match (f.ca, f.allow_self_signed) {
        (Some(ca), _) => super::verify::verify_mcpb::load_roots(Some(ca))?,
        (None, true) => Vec::new(),
        (None, false) => super::verify::verify_mcpb::load_roots(None)?,
    };
    let trust = if f.allow_self_signed {
        crate::mcpb::Trust::AllowSelfSigned(&roots)
    } else {
        crate::mcpb::Trust::Roots(&roots)
    };
    let v = super::verify::verify_mcpb::verify_file(&abs, &trust, f.signer).map_err(|e| {
        let help = e.help.clone().unwrap_or_default();
        e.help(format!("{help}; {:?} was not pinned", f.name))
    })?;
    // Read once more for the digest and the manifest: the bytes must still be the ones that
    // verified (a file swapped in between is refused, not pinned).
    let bytes = read_input(&abs, MAX_BUNDLE, "an MCP bundle")?;
    let content_len = usize::try_from(v.content_len())
        .ok()
        .filter(|&n| n <= bytes.len())
        .ok_or_else(|| changed(&abs))?;
    let content = &bytes[..content_len];
    if format!("sha256:{}", crate::digest::Digest::of(content).hex()) != v.content_digest() {
        return Err(changed(&abs));
    }
    let m = crate::mcpb::read_manifest(content).map_err(|e| {
        CliError::fail(e.code(), format!("{}: {e}", abs.display()))
            .help("do not install this bundle; ask its publisher for one with a single, valid manifest.json")
    })?;
    let folder = match f.mcpb_dir {
        Some(dir) => Some(bundle_folder(&abs, content, dir)?),
        None => None,
    };
    Ok(PinnedMcpb {
        folder,
        path: abs.display().to_string(),
        digest: crate::digest::Digest::of(&bytes),
        content_digest: v.content_digest().to_owned(),
        signer: PinnedMcpbSigner {
            fingerprint: v.signer_fingerprint().to_owned(),
            subject: v.signer_subject().to_owned(),
            issuer: v.signer_issuer().to_owned(),
            self_signed: v.self_signed(),
        },
        name: m.name,
        version: m.version,
        declared_tools: m.tools,
        tools_generated: m.tools_generated,
    })
}

/// `--mcpb-dir`: the folder must hold exactly the signed bundle's files.
fn bundle_folder(
    bundle: &Path,
    content: &[u8],
    dir: &Path,
) -> Result<crate::lock::PinnedMcpbFolder, CliError> {
    let abs = dir
        .canonicalize()
        .map_err(|e| super::io_error(dir, "the bundle's folder", e))?;
    let files = crate::mcpb::folder::bundle_files(content).map_err(|e| {
        CliError::fail(e.code(), format!("{}: {e}", bundle.display()))
            .help("do not install this bundle: an entry could be written outside its folder")
    })?;
    crate::mcpb::folder::check_against(&abs, &files).map_err(|e| {
        let c = if e.code() == "mcpb-folder-unreadable" {
            CliError::error(e.code(), e.to_string())
        } else {
            CliError::fail(e.code(), e.to_string())
        };
        c.help(format!(
            "unpack {} again into an empty folder (or give the folder it was installed to), then pin again",
            bundle.display()
        ))
    })?;
    Ok(crate::lock::PinnedMcpbFolder {
        path: abs.display().to_string(),
        files_digest: crate::mcpb::folder::files_digest(&files),
        files: files.len(),
    })
}

fn changed(p: &Path) -> CliError {
    CliError::fail(
        "mcpb-changed-while-pinning",
        format!(
            "{}: the bundle changed while it was being pinned",
            p.display()
        ),
    )
    .help("pin again once nothing is writing the bundle")
}

fn server_json(
    f: &Flags<'_>,
    path: &Path,
    launched: Option<&LaunchPackage>,
    bundle: Option<&PinnedMcpb>,
) -> Result<(PinnedPackage, crate::registry::ServerJson), CliError> {
    let bytes = read_input(path, 4 << 20, "a server.json")?;
    let registry_err = |e: crate::registry::RegistryError| {
        super::verifier_error(
            e.code(),
            format!("{}: {e}", path.display()),
            e.is_input_error(),
        )
    };
    let sj = crate::registry::parse(&bytes).map_err(registry_err)?;
    crate::registry::check_versions(&sj).map_err(|e| {
        registry_err(e).help(
            "the registry's schema requires exact versions; ask the publisher to fix server.json",
        )
    })?;
    let recorded = crate::lock::PinnedServerJson {
        name: sj.name.clone(),
        digest: crate::digest::Digest::of(&bytes),
    };
    let pkg = entry_package(f, path, &sj, recorded, launched, bundle)?;
    Ok((pkg, sj))
}

/// The package of the entry `sj` (read from `path`) the launch or the bundle is.
fn entry_package(
    f: &Flags<'_>,
    path: &Path,
    sj: &crate::registry::ServerJson,
    recorded: crate::lock::PinnedServerJson,
    launched: Option<&LaunchPackage>,
    bundle: Option<&PinnedMcpb>,
) -> Result<PinnedPackage, CliError> {
    let listed = sj
        .packages
        .iter()
        .map(|p| format!("{} {}@{}", p.registry_type, p.identifier, p.version))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(l) = launched {
        let same_name = |p: &&crate::registry::Package| {
            p.registry_type == l.registry_type
                && if l.registry_type == "pypi" {
                    channels::pypi_normalize(&p.identifier)
                        == channels::pypi_normalize(&l.identifier)
                } else {
                    p.identifier == l.identifier
                }
        };
        let p = sj.packages.iter().find(same_name).ok_or_else(|| {
            CliError::fail(
                "package-mismatch",
                format!(
                    "{:?} launches {} package {}, which {} ({}) does not list (it lists: {listed})",
                    f.name,
                    l.registry_type,
                    l.identifier,
                    path.display(),
                    sj.name
                ),
            )
            .help("launch the package the registry entry names, or pin without --server-json")
        })?;
        if !l.names(&p.registry_type, &p.identifier, &p.version) {
            return Err(CliError::fail(
                "package-mismatch",
                format!(
                    "{:?} launches {}, but {} ({}) names version {}",
                    f.name,
                    l.display(),
                    path.display(),
                    sj.name,
                    p.version
                ),
            )
            .help(format!(
                "launch exactly the version the registry entry names: {}{}{}",
                p.identifier,
                if p.registry_type == "npm" { "@" } else { "==" },
                p.version
            )));
        }
        return Ok(PinnedPackage {
            registry_type: p.registry_type.clone(),
            identifier: p.identifier.clone(),
            version: p.version.clone(),
            digest: p.file_sha256.as_ref().map(|h| format!("sha256:{h}")),
            server_json: Some(recorded),
            provenance: None,
        });
    }
    if let Some(img) = f.image {
        return oci_package(f, path, sj, img, recorded, &listed);
    }
    if let Some(b) = bundle {
        let p = sj
            .packages
            .iter()
            .find(|p| p.registry_type == "mcpb")
            .ok_or_else(|| {
                CliError::fail(
                    "package-mismatch",
                    format!(
                        "{} ({}) lists no MCPB package for the bundle {} (it lists: {listed})",
                        path.display(),
                        sj.name,
                        b.path
                    ),
                )
                .help(
                    "pin the bundle without --server-json, or use the registry entry that lists it",
                )
            })?;
        let said = p.file_sha256.as_deref().ok_or_else(|| {
            CliError::fail(
                "registry-digest-missing",
                format!(
                    "{}: the MCPB package {} has no fileSha256 to check {} against",
                    path.display(),
                    p.identifier,
                    b.path
                ),
            )
            .help("ask the publisher to add fileSha256 to server.json")
        })?;
        if !said.eq_ignore_ascii_case(&b.digest.hex()) {
            return Err(CliError::fail(
                "registry-digest-mismatch",
                format!(
                    "{}: fileSha256 of {} says sha256:{said}, the bundle {} is {}",
                    path.display(),
                    p.identifier,
                    b.path,
                    b.digest
                ),
            )
            .help("this is not the bundle the registry entry publishes: download it again from the URL it names"));
        }
        return Ok(PinnedPackage {
            registry_type: p.registry_type.clone(),
            identifier: p.identifier.clone(),
            version: if p.version.is_empty() {
                b.version.clone()
            } else {
                p.version.clone()
            },
            digest: Some(format!("sha256:{}", said.to_ascii_lowercase())),
            server_json: Some(recorded),
            provenance: None,
        });
    }
    Err(CliError::error(
        "package-mismatch",
        format!(
            "--server-json: the launch of {:?} runs no npm or PyPI package (npx -y NAME@VERSION, uvx NAME==VERSION) and no --mcpb bundle is given, so no package of {} can be tied to it",
            f.name,
            path.display()
        ),
    )
    .help("launch the package the entry names, or add --mcpb FILE for an MCPB package"))
}

/// A container launch pinned with `--server-json`: the entry's OCI package for the launched
/// repository, resolved at its registry (identifier rules and name label as `verify-registry`
/// checks them), must be the very digest the launch's image resolved to; that digest is the
/// package identity the lock records (the gate compares it with the pinned image).
fn oci_package(
    f: &Flags<'_>,
    path: &Path,
    sj: &crate::registry::ServerJson,
    img: &crate::lock::PinnedImage,
    recorded: crate::lock::PinnedServerJson,
    listed: &str,
) -> Result<PinnedPackage, CliError> {
    let refuse = |e| super::verify_registry::refusal(e, path);
    let launched = crate::oci::ImageRef::parse_docker(&img.reference)
        .map_err(|e| CliError::error("bad-image-reference", e.to_string()))?;
    let mut candidates = Vec::new();
    for p in sj.packages.iter().filter(|p| p.registry_type == "oci") {
        let image = crate::registry::oci_image(p).map_err(refuse)?;
        if image.repo_name() == launched.repo_name() {
            candidates.push((p, image));
        }
    }
    if candidates.is_empty() {
        return Err(CliError::fail(
            "package-mismatch",
            format!(
                "{:?} launches the image {}, whose repository {} ({}) does not list (it lists: {listed})",
                f.name,
                img.reference,
                path.display(),
                sj.name
            ),
        )
        .help("launch the image the registry entry names, or pin without --server-json"));
    }
    let opts = crate::oci::Options::from_env(f.insecure.to_vec());
    let mut resolved = Vec::new();
    for (p, image) in candidates {
        let m = crate::registry::check_oci(sj, p, &opts).map_err(refuse)?;
        if m.digest == img.digest {
            return Ok(PinnedPackage {
                registry_type: "oci".into(),
                identifier: p.identifier.clone(),
                version: image.tag.clone().unwrap_or_default(),
                digest: Some(m.digest.to_string()),
                server_json: Some(recorded),
                provenance: None,
            });
        }
        resolved.push(format!("{} is {}", p.identifier, m.digest));
    }
    Err(CliError::fail(
        "package-mismatch",
        format!(
            "{:?} launches {} = {}, but in {} ({}) {}",
            f.name,
            img.reference,
            img.digest,
            path.display(),
            sj.name,
            resolved.join(", ")
        ),
    )
    .help("launch exactly the image the registry entry names (its tag or digest)"))
}

/// A wheel's or sdist's (name, version) from its file name.
fn dist_name(fname: &str) -> Option<(String, String)> {
    if let Some(stem) = fname.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (n, v) = (parts.next()?, parts.next()?);
        return Some((n.to_owned(), v.to_owned()));
    }
    let stem = fname
        .strip_suffix(".tar.gz")
        .or_else(|| fname.strip_suffix(".zip"))?;
    let (n, v) = stem.rsplit_once('-')?;
    Some((n.to_owned(), v.to_owned()))
}

fn provenance(
    f: &Flags<'_>,
    doc: &[u8],
    artifact: &Path,
    bytes: &[u8],
    pkg: &mut PinnedPackage,
) -> Result<(), CliError> {
    let root = super::verify::verify_npm::trusted_root(f.trusted_root)?;
    let any = crate::provenance::SourcePolicy::default();
    let who = format!("{}@{}", pkg.identifier, pkg.version);
    let fail = |e: crate::provenance::ProvenanceError| {
        super::verifier_error(
            e.code(),
            format!(
                "{} ({who}): {e}",
                artifact.display()
            ),
            e.is_input_error(),
        )
        .help(format!(
            "{:?} was not pinned: this package file and its provenance do not speak for {who}; fetch both again for exactly that version",
            f.name
        ))
    };
    let sha256 = crate::digest::Digest::of(bytes);
    if let Some(d) = pkg
        .digest
        .as_deref()
        .and_then(|d| d.strip_prefix("sha256:"))
        && !d.eq_ignore_ascii_case(&sha256.hex())
    {
        return Err(CliError::fail(
            "registry-digest-mismatch",
            format!(
                "{}: server.json says sha256:{d}, the package file is {sha256}",
                artifact.display()
            ),
        )
        .help("this is not the package the registry entry publishes"));
    }
    let recorded = if pkg.registry_type == "npm" {
        let v =
            crate::provenance::verify_npm(bytes, doc, &pkg.identifier, &pkg.version, &any, &root)
                .map_err(fail)?;
        use sha2::Digest as _;
        pkg.digest = Some(format!(
            "sha512-{}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                sha2::Sha512::digest(bytes)
            )
        ));
        PinnedProvenance {
            kind: "npm".into(),
            repository: v.source.repository,
            workflow: v.source.workflow,
            git_ref: v.source.git_ref,
            identity: v.identity,
            environment: None,
            integrated_time: v.integrated_time,
        }
    } else {
        let fname = artifact.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match dist_name(fname) {
            Some((n, v))
                if channels::pypi_normalize(&n) == channels::pypi_normalize(&pkg.identifier)
                    && v == pkg.version => {}
            _ => {
                return Err(CliError::fail(
                    "provenance-subject-mismatch",
                    format!(
                        "{}: not a wheel or sdist of {}=={} (the launch's package)",
                        artifact.display(),
                        pkg.identifier,
                        pkg.version
                    ),
                )
                .help(format!(
                    "pip download {}=={} --no-deps, and give that file",
                    pkg.identifier, pkg.version
                )));
            }
        }
        let v =
            crate::provenance::verify_pypi(bytes, fname, doc, &any, None, &root).map_err(fail)?;
        pkg.digest = Some(sha256.to_string());
        PinnedProvenance {
            kind: "pep740".into(),
            repository: v.source.repository,
            workflow: v.source.workflow,
            git_ref: v.source.git_ref,
            identity: v.identity,
            environment: v.environment,
            integrated_time: v.integrated_time,
        }
    };
    pkg.provenance = Some(recorded);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_names() {
        assert_eq!(
            dist_name("pypi_attestations-0.0.19.tar.gz"),
            Some(("pypi_attestations".into(), "0.0.19".into()))
        );
        assert_eq!(
            dist_name("mcp_server_git-2025.1.14-py3-none-any.whl"),
            Some(("mcp_server_git".into(), "2025.1.14".into()))
        );
        assert_eq!(dist_name("x.tgz"), None);
    }
}
