//! MCP Registry metadata (`server.json`): the checks the registry leaves to its clients.
//!
//! The registry stores `fileSha256` for downloadable packages (MCPB) without validating it,
//! and relies on name markers in the packages themselves to tie a package to a registry name
//! (docs/channels.md cites the registry's rules): npm's `mcpName` in `package.json`, read
//! from the tarball; a PyPI package's `mcp-name: NAME` in its README (the long description
//! of a wheel's `METADATA` or an sdist's `PKG-INFO`); and an OCI image's config label
//! `io.modelcontextprotocol.server.name`, read at the image's registry (every platform of an
//! index). The schema requires exact versions: a range or `latest` is refused, and an OCI
//! package's version is the tag in its `identifier` (the registry refuses a `version` field).

use serde_json::Value;

use crate::digest::Digest;
use crate::oci::ImageRef;

/// The OCI image label (and annotation) the registry reads to tie an image to a server name.
pub const OCI_NAME_LABEL: &str = "io.modelcontextprotocol.server.name";
/// Largest image config read.
pub const MAX_OCI_CONFIG: usize = 4 << 20;
/// Largest `METADATA` / `PKG-INFO` read.
pub const MAX_CORE_METADATA: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("server.json is not usable: {0}")]
    Malformed(String),
    #[error(
        "package {identifier}: version {version:?} is not an exact version (ranges and `latest` are refused)"
    )]
    VersionNotExact { identifier: String, version: String },
    #[error("package {identifier}: fileSha256 says {said}, the artifact is {actual}")]
    Digest {
        identifier: String,
        said: String,
        actual: String,
    },
    #[error("package {identifier} ({kind}) has no fileSha256 to check the artifact against")]
    DigestMissing { identifier: String, kind: String },
    #[error("{artifact}: matches no package of server.json")]
    Unmatched { artifact: String },
    #[error("{artifact}: {marker} says {found:?}, server.json's name is {expected:?}")]
    NameMarker {
        artifact: String,
        marker: &'static str,
        expected: String,
        found: String,
    },
    #[error("{artifact}: no {marker}, so nothing ties it to server.json's name {expected:?}")]
    NameMarkerMissing {
        artifact: String,
        marker: &'static str,
        expected: String,
    },
    #[error(
        "{artifact}: {marker} names {} servers ({}): which one it belongs to cannot be told",
        found.len(),
        found.join(", ")
    )]
    NameMarkerAmbiguous {
        artifact: String,
        marker: &'static str,
        found: Vec<String>,
    },
    #[error("{artifact}: not a readable {kind}: {why}")]
    Unreadable {
        artifact: String,
        kind: &'static str,
        why: String,
    },
    #[error("OCI package {identifier}: {why}")]
    OciIdentifier { identifier: String, why: String },
    #[error("OCI package {identifier}: {error}")]
    Oci {
        identifier: String,
        error: crate::oci::OciError,
    },
}

impl RegistryError {
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::Malformed(_) => "registry-malformed",
            RegistryError::VersionNotExact { .. } => "registry-version-not-exact",
            RegistryError::Digest { .. } => "registry-digest-mismatch",
            RegistryError::DigestMissing { .. } => "registry-digest-missing",
            RegistryError::Unmatched { .. } => "registry-artifact-unmatched",
            RegistryError::NameMarker { .. } => "registry-name-marker-mismatch",
            RegistryError::NameMarkerMissing { .. } => "registry-name-marker-missing",
            RegistryError::NameMarkerAmbiguous { .. } => "registry-name-marker-ambiguous",
            RegistryError::Unreadable { kind, .. } if *kind == NPM_TARBALL => {
                "registry-tarball-unreadable"
            }
            RegistryError::Unreadable { .. } => "registry-dist-unreadable",
            RegistryError::OciIdentifier { .. } => "registry-oci-identifier-invalid",
            RegistryError::Oci { error, .. } => error.code(),
        }
    }
    /// Exit 2 (nothing could be decided) rather than 1.
    pub fn is_input_error(&self) -> bool {
        match self {
            RegistryError::Malformed(_) => true,
            RegistryError::Oci { error, .. } => !error.is_untrustworthy(),
            _ => false,
        }
    }
}

const NPM_TARBALL: &str = "npm tarball";
const PYPI_DIST: &str = "wheel or sdist";

/// One entry of `packages`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    #[serde(rename = "registryType")]
    pub registry_type: String,
    pub identifier: String,
    pub version: String,
    #[serde(rename = "fileSha256", skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    #[serde(rename = "registryBaseUrl", skip_serializing_if = "Option::is_none")]
    pub registry_base_url: Option<String>,
}

/// The parts of a server.json the checks use.
#[derive(Debug, Clone)]
pub struct ServerJson {
    pub name: String,
    pub version: String,
    pub packages: Vec<Package>,
}

/// Parses server.json strictly (duplicate keys refused).
pub fn parse(bytes: &[u8]) -> Result<ServerJson, RegistryError> {
    let v =
        crate::json::parse_strict(bytes).map_err(|e| RegistryError::Malformed(e.to_string()))?;
    let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let name = s(&v, "name").ok_or_else(|| RegistryError::Malformed("no \"name\"".into()))?;
    let version =
        s(&v, "version").ok_or_else(|| RegistryError::Malformed("no \"version\"".into()))?;
    let mut packages = Vec::new();
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |k: &str| {
            s(p, k).ok_or_else(|| RegistryError::Malformed(format!("a package has no \"{k}\"")))
        };
        packages.push(Package {
            registry_type: field("registryType")?,
            identifier: field("identifier")?,
            // MCPB and OCI packages may carry their version in the identifier.
            version: s(p, "version").unwrap_or_default(),
            file_sha256: s(p, "fileSha256"),
            registry_base_url: s(p, "registryBaseUrl"),
        });
    }
    Ok(ServerJson {
        name,
        version,
        packages,
    })
}

/// Whether a version string is exact (what the schema requires): no range operators, no
/// wildcards, no `latest`.
pub fn is_exact_version(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty()
        && v != "latest"
        && !v.contains(['^', '~', '>', '<', '=', '*', '|', ' ', ','])
        && !v
            .split(['.', '-', '+'])
            .any(|p| p.eq_ignore_ascii_case("x"))
}

/// The exact-version rule for the server and every package that states a version, and the
/// registry's rules for OCI identifiers ([`oci_image`]).
pub fn check_versions(s: &ServerJson) -> Result<(), RegistryError> {
    if !is_exact_version(&s.version) {
        return Err(RegistryError::VersionNotExact {
            identifier: s.name.clone(),
            version: s.version.clone(),
        });
    }
    for p in &s.packages {
        if p.registry_type == "oci" {
            oci_image(p)?;
        } else if !p.version.is_empty() && !is_exact_version(&p.version) {
            return Err(RegistryError::VersionNotExact {
                identifier: p.identifier.clone(),
                version: p.version.clone(),
            });
        }
    }
    Ok(())
}

/// An OCI package's image, by the registry's rules (its `ValidateOCI`): the identifier is a
/// canonical reference `REGISTRY/NAMESPACE/REPOSITORY:TAG` (or `@sha256:DIGEST`, or both);
/// no `version` (the tag is the version), no `fileSha256`, no `registryBaseUrl`. The tag is
/// held to the schema's version rule: no tag (docker reads `latest`), `latest` or a range is
/// refused, unless a digest pins the image.
pub fn oci_image(p: &Package) -> Result<ImageRef, RegistryError> {
    let bad = |why: String| RegistryError::OciIdentifier {
        identifier: p.identifier.clone(),
        why,
    };
    if !p.version.is_empty() {
        return Err(bad(format!(
            "has \"version\": {:?}; an OCI package's version is the tag in its identifier (the registry refuses the field)",
            p.version
        )));
    }
    if p.file_sha256.is_some() {
        return Err(bad(
            "has \"fileSha256\"; an OCI image is identified by its manifest digest (the registry refuses the field)".into(),
        ));
    }
    if p.registry_base_url.is_some() {
        return Err(bad(
            "has \"registryBaseUrl\"; the registry host is part of the identifier (the registry refuses the field)".into(),
        ));
    }
    let image = ImageRef::parse_docker(&p.identifier).map_err(|e| bad(e.why))?;
    let version = match (&image.tag, &image.digest) {
        (_, Some(_)) => None,
        (None, None) => Some("(no tag: docker reads latest)".to_owned()),
        (Some(t), None) => (!is_exact_version(t)).then(|| t.clone()),
    };
    if let Some(version) = version {
        return Err(RegistryError::VersionNotExact {
            identifier: p.identifier.clone(),
            version,
        });
    }
    Ok(image)
}

/// Reads the one file `is_it` picks out of a gzip'd tar or ZIP `artifact` of `kind`.
fn archived(
    bytes: &[u8],
    artifact: &str,
    kind: &'static str,
    what: &str,
    zip: bool,
    is_it: &dyn Fn(&str) -> bool,
    max: u64,
) -> Result<Vec<u8>, RegistryError> {
    let got = if zip {
        crate::archive::zip_unique(
            bytes,
            what,
            &|n: &[u8]| std::str::from_utf8(n).is_ok_and(is_it),
            max,
        )
        .map(|(_, d)| d)
    } else {
        crate::archive::tar_gz_unique(bytes, what, is_it, max).map(|(_, d)| d)
    };
    got.map_err(|e| RegistryError::Unreadable {
        artifact: artifact.to_owned(),
        kind,
        why: e.to_string(),
    })
}

/// `package/package.json` from an npm tarball (gzip'd ustar), at most 1 MiB of it.
pub fn npm_package_json(tgz: &[u8], artifact: &str) -> Result<Value, RegistryError> {
    let bytes = archived(
        tgz,
        artifact,
        NPM_TARBALL,
        "package/package.json",
        false,
        &|p| p == "package/package.json",
        1 << 20,
    )?;
    crate::json::parse_strict(&bytes).map_err(|e| RegistryError::Unreadable {
        artifact: artifact.to_owned(),
        kind: NPM_TARBALL,
        why: format!("package.json: {e}"),
    })
}

/// A wheel's or sdist's core metadata: its `Name`, `Version` and long description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub name: String,
    pub version: String,
    /// The body after the headers, and any `Description:` header (older metadata versions).
    pub description: String,
}

/// The core metadata of a wheel (`NAME-VERSION.dist-info/METADATA`) or an sdist
/// (`NAME-VERSION/PKG-INFO` in a `.tar.gz` or `.zip`), told apart by `artifact`'s name.
pub fn pypi_metadata(bytes: &[u8], artifact: &str) -> Result<CoreMetadata, RegistryError> {
    let two = |p: &str, first_suffix: &str, file: &str| {
        let mut parts = p.split('/');
        matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(d), Some(f), None) if d.ends_with(first_suffix) && !d.is_empty() && f == file
        )
    };
    let raw = if artifact.ends_with(".whl") {
        archived(
            bytes,
            artifact,
            PYPI_DIST,
            "NAME-VERSION.dist-info/METADATA",
            true,
            &|p| two(p, ".dist-info", "METADATA"),
            MAX_CORE_METADATA,
        )?
    } else {
        archived(
            bytes,
            artifact,
            PYPI_DIST,
            "NAME-VERSION/PKG-INFO",
            artifact.ends_with(".zip"),
            &|p| two(p, "", "PKG-INFO"),
            MAX_CORE_METADATA,
        )?
    };
    let text = String::from_utf8(raw).map_err(|_| RegistryError::Unreadable {
        artifact: artifact.to_owned(),
        kind: PYPI_DIST,
        why: "the core metadata is not UTF-8".into(),
    })?;
    parse_core_metadata(&text).map_err(|why| RegistryError::Unreadable {
        artifact: artifact.to_owned(),
        kind: PYPI_DIST,
        why,
    })
}

/// Parses core metadata (RFC 822 headers, a blank line, the description).
pub fn parse_core_metadata(text: &str) -> Result<CoreMetadata, String> {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            let Some((_, v)) = headers.last_mut() else {
                return Err("a continuation line before any header".into());
            };
            // Older `Description:` continuation lines are indented (8 spaces and a `|`).
            let l = line.trim_start();
            v.push('\n');
            v.push_str(l.strip_prefix('|').unwrap_or(l));
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        } else {
            return Err(format!("not a header line: {line:?}"));
        }
    }
    let one = |k: &str| -> Result<String, String> {
        let mut it = headers.iter().filter(|(h, _)| h == k);
        match (it.next(), it.next()) {
            (Some((_, v)), None) => Ok(v.clone()),
            (None, _) => Err(format!("no {k} header")),
            (Some(_), Some(_)) => Err(format!("two {k} headers")),
        }
    };
    let mut description = body.to_owned();
    for (_, v) in headers.iter().filter(|(h, _)| h == "description") {
        description.push('\n');
        description.push_str(v);
    }
    Ok(CoreMetadata {
        name: one("name")?,
        version: one("version")?,
        description,
    })
}

/// Whether `b` may appear in a server name (the registry's grammar:
/// `[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+`).
fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/')
}

/// Every server name a README declares with `mcp-name: NAME`, in order, each once. The name
/// is the whole run of name characters after the token (the registry's
/// `ReadmeDeclaresMCPName`: `mcp-name: io.github.a/foo-evil` does not declare
/// `io.github.a/foo`, and a trailing `.` is part of what is declared). Markers count wherever
/// they are (an HTML comment, a code block), as they do for the registry.
pub fn mcp_names(readme: &str) -> Vec<String> {
    const TOKEN: &str = "mcp-name: ";
    let mut out: Vec<String> = Vec::new();
    for (at, _) in readme.match_indices(TOKEN) {
        let rest = &readme.as_bytes()[at + TOKEN.len()..];
        let n = rest
            .iter()
            .position(|&b| !name_byte(b))
            .unwrap_or(rest.len());
        if n == 0 {
            continue;
        }
        let name = String::from_utf8_lossy(&rest[..n]).into_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The name marker rule: exactly one name declared, and it is `expected`.
fn check_marker(
    artifact: &str,
    marker: &'static str,
    expected: &str,
    found: Vec<String>,
) -> Result<String, RegistryError> {
    match found.as_slice() {
        [] => Err(RegistryError::NameMarkerMissing {
            artifact: artifact.to_owned(),
            marker,
            expected: expected.to_owned(),
        }),
        [one] if one == expected => Ok(one.clone()),
        [one] => Err(RegistryError::NameMarker {
            artifact: artifact.to_owned(),
            marker,
            expected: expected.to_owned(),
            found: one.clone(),
        }),
        _ => Err(RegistryError::NameMarkerAmbiguous {
            artifact: artifact.to_owned(),
            marker,
            found,
        }),
    }
}

/// What an artifact was found to be.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArtifactMatch {
    pub artifact: String,
    pub sha256: String,
    pub package: Package,
    /// The name marker read from the package, when there is one to read.
    #[serde(rename = "nameMarker", skip_serializing_if = "Option::is_none")]
    pub name_marker: Option<String>,
}

/// The package's `fileSha256`, when it has one, must be the artifact's.
fn matched(
    pkg: &Package,
    artifact: &str,
    sha256: String,
    name_marker: Option<String>,
) -> Result<ArtifactMatch, RegistryError> {
    let hex_only = sha256.trim_start_matches("sha256:");
    if let Some(want) = &pkg.file_sha256
        && !want.eq_ignore_ascii_case(hex_only)
    {
        return Err(RegistryError::Digest {
            identifier: pkg.identifier.clone(),
            said: want.clone(),
            actual: hex_only.to_owned(),
        });
    }
    Ok(ArtifactMatch {
        artifact: artifact.to_owned(),
        sha256,
        package: pkg.clone(),
        name_marker,
    })
}

/// Ties an artifact (its file name and bytes) to one package of `s` and checks it: the
/// digest for packages with `fileSha256` (MCPB must have one), npm's `mcpName` for npm
/// tarballs, the README's `mcp-name:` for wheels and sdists.
pub fn check_artifact(
    s: &ServerJson,
    artifact: &str,
    bytes: &[u8],
) -> Result<ArtifactMatch, RegistryError> {
    let sha256 = format!("sha256:{}", Digest::of(bytes).hex());
    let hex_only = sha256.trim_start_matches("sha256:").to_owned();
    if artifact.ends_with(".tgz") {
        let pj = npm_package_json(bytes, artifact)?;
        let name = pj.get("name").and_then(Value::as_str).unwrap_or("");
        let version = pj.get("version").and_then(Value::as_str).unwrap_or("");
        let pkg = s
            .packages
            .iter()
            .find(|p| p.registry_type == "npm" && p.identifier == name && p.version == version)
            .ok_or_else(|| RegistryError::Unmatched {
                artifact: format!("{artifact} ({name}@{version})"),
            })?;
        let found = match pj.get("mcpName") {
            None => Vec::new(),
            Some(Value::String(m)) => vec![m.clone()],
            Some(other) => vec![other.to_string()],
        };
        let marker = check_marker(artifact, "package.json's mcpName", &s.name, found)?;
        return matched(pkg, artifact, sha256, Some(marker));
    }
    if [".whl", ".tar.gz", ".zip"]
        .iter()
        .any(|x| artifact.ends_with(x))
    {
        let m = pypi_metadata(bytes, artifact)?;
        let norm = crate::channels::pypi_normalize(&m.name);
        let pkg = s
            .packages
            .iter()
            .find(|p| {
                p.registry_type == "pypi"
                    && crate::channels::pypi_normalize(&p.identifier) == norm
                    && p.version == m.version
            })
            .ok_or_else(|| RegistryError::Unmatched {
                artifact: format!("{artifact} ({}=={})", m.name, m.version),
            })?;
        let marker = check_marker(
            artifact,
            "the README's `mcp-name:`",
            &s.name,
            mcp_names(&m.description),
        )?;
        return matched(pkg, artifact, sha256, Some(marker));
    }
    // Any other file: the package whose fileSha256 it is, else the MCPB package that names it.
    if let Some(p) = s.packages.iter().find(|p| {
        p.file_sha256
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(&hex_only))
    }) {
        return matched(p, artifact, sha256, None);
    }
    let base = artifact.rsplit('/').next().unwrap_or(artifact);
    let named = s
        .packages
        .iter()
        .find(|p| p.registry_type == "mcpb" && p.identifier.rsplit('/').next() == Some(base));
    match named {
        Some(p) => match &p.file_sha256 {
            Some(d) => Err(RegistryError::Digest {
                identifier: p.identifier.clone(),
                said: d.clone(),
                actual: hex_only,
            }),
            None => Err(RegistryError::DigestMissing {
                identifier: p.identifier.clone(),
                kind: p.registry_type.clone(),
            }),
        },
        None => Err(RegistryError::Unmatched {
            artifact: artifact.to_owned(),
        }),
    }
}

/// One image an OCI package resolved to, and its label.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OciImage {
    /// `os/architecture[/variant]` for an index's entry, empty for a single manifest.
    pub platform: String,
    pub digest: Digest,
}

/// What an OCI package was found to be at its registry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OciMatch {
    pub identifier: String,
    /// The manifest (or index) digest the identifier resolved to.
    pub digest: Digest,
    /// Each image checked (one, or every platform of an index).
    pub images: Vec<OciImage>,
    #[serde(rename = "nameMarker")]
    pub name_marker: String,
}

/// Resolves an OCI package at its registry and checks the label
/// `io.modelcontextprotocol.server.name` of its image config against server.json's name: on
/// the image, or on every platform's image of an index (attestation manifests, platform
/// `unknown/unknown`, are not images and are passed over). A platform without the label, or
/// whose label names another server, refuses the package: the platform a host pulls is not
/// known here.
pub fn check_oci(
    s: &ServerJson,
    p: &Package,
    opts: &crate::oci::Options,
) -> Result<OciMatch, RegistryError> {
    let image = oci_image(p)?;
    let oci = |error: crate::oci::OciError| RegistryError::Oci {
        identifier: p.identifier.clone(),
        error,
    };
    let malformed = |why: String| {
        oci(crate::oci::OciError::Malformed {
            image: image.display(),
            why,
        })
    };
    let reg = crate::oci::Registry::connect(&image, opts).map_err(oci)?;
    let top = reg.manifest(&image).map_err(oci)?;
    let mut images = Vec::new();
    if top.is_index() {
        for d in top
            .json
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = |k: &str| {
                d.pointer(&format!("/platform/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            };
            if field("os") == "unknown" {
                continue;
            }
            let mut platform = format!("{}/{}", field("os"), field("architecture"));
            if !field("variant").is_empty() {
                platform = format!("{platform}/{}", field("variant"));
            }
            let digest: Digest = d
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| malformed("an index entry has no sha256 digest".into()))?;
            let m = reg.manifest(&image.at_digest(digest)).map_err(oci)?;
            if m.is_index() {
                return Err(malformed(format!("{platform}: an index inside the index")));
            }
            images.push((platform, m));
        }
        if images.is_empty() {
            return Err(malformed("the index lists no image".into()));
        }
    } else {
        images.push((String::new(), top.clone()));
    }
    let mut checked = Vec::new();
    for (platform, m) in images {
        let c = m
            .json
            .get("config")
            .ok_or_else(|| malformed("the manifest has no config".into()))?;
        let digest: Digest = c
            .get("digest")
            .and_then(Value::as_str)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| malformed("the config has no sha256 digest".into()))?;
        let size = c.get("size").and_then(Value::as_u64).unwrap_or(0);
        let config = reg.blob(digest, size, MAX_OCI_CONFIG).map_err(oci)?;
        let v = crate::json::parse_strict(&config)
            .map_err(|e| malformed(format!("the image config is not JSON: {e}")))?;
        let found = match v
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| l.get(OCI_NAME_LABEL))
        {
            None => Vec::new(),
            Some(Value::String(l)) => vec![l.clone()],
            Some(other) => vec![other.to_string()],
        };
        let what = if platform.is_empty() {
            image.display()
        } else {
            format!("{} ({platform})", image.display())
        };
        check_marker(
            &what,
            "the image config label io.modelcontextprotocol.server.name",
            &s.name,
            found,
        )?;
        checked.push(OciImage {
            platform,
            digest: m.digest,
        });
    }
    Ok(OciMatch {
        identifier: p.identifier.clone(),
        digest: top.digest,
        images: checked,
        name_marker: s.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_versions_only() {
        for ok in ["1.0.0", "2026.8.31", "1.0.0-rc.1", "0.3.0+build.5"] {
            assert!(is_exact_version(ok), "{ok}");
        }
        for bad in [
            "latest", "^1.0.0", "~1.2", ">=1", "1.x", "1.0.X", "*", "1 || 2", "", "=1.0.0",
        ] {
            assert!(!is_exact_version(bad), "{bad}");
        }
    }

    fn pkg(identifier: &str) -> Package {
        Package {
            registry_type: "oci".into(),
            identifier: identifier.into(),
            version: String::new(),
            file_sha256: None,
            registry_base_url: None,
        }
    }

    /// The registry's rules for OCI identifiers (its ValidateOCI) and the schema's version
    /// rule applied to the tag: each way around them is refused.
    #[test]
    fn attack_oci_identifiers_that_name_no_exact_image_are_refused() {
        for ok in [
            "docker.io/acme/fetch:1.0.0",
            "ghcr.io/acme/fetch:v2",
            &format!("ghcr.io/acme/fetch@sha256:{}", "a".repeat(64)),
            &format!("ghcr.io/acme/fetch:latest@sha256:{}", "a".repeat(64)),
        ] {
            assert!(oci_image(&pkg(ok)).is_ok(), "{ok}");
        }
        for (bad, code) in [
            ("ghcr.io/acme/fetch", "registry-version-not-exact"),
            ("ghcr.io/acme/fetch:latest", "registry-version-not-exact"),
            ("ghcr.io/acme/fetch:1.x", "registry-version-not-exact"),
            (
                "ghcr.io/Acme/fetch:1.0.0",
                "registry-oci-identifier-invalid",
            ),
            (
                "ghcr.io/acme/fetch@sha256:abc",
                "registry-oci-identifier-invalid",
            ),
        ] {
            let e = oci_image(&pkg(bad)).unwrap_err();
            assert_eq!(e.code(), code, "{bad}: {e}");
        }
        let with = |f: &dyn Fn(&mut Package)| {
            let mut p = pkg("ghcr.io/acme/fetch:1.0.0");
            f(&mut p);
            oci_image(&p).unwrap_err().code()
        };
        assert_eq!(
            with(&|p| p.version = "1.0.0".into()),
            "registry-oci-identifier-invalid"
        );
        assert_eq!(
            with(&|p| p.file_sha256 = Some("a".repeat(64))),
            "registry-oci-identifier-invalid"
        );
        assert_eq!(
            with(&|p| p.registry_base_url = Some("https://docker.io".into())),
            "registry-oci-identifier-invalid"
        );
    }

    /// `mcp-name:` as the registry reads it: the whole name must follow the token.
    #[test]
    fn mcp_name_markers_are_read_as_the_registry_reads_them() {
        assert_eq!(
            mcp_names("# X\n\n<!-- mcp-name: io.github.acme/demo -->\n"),
            ["io.github.acme/demo"]
        );
        assert_eq!(
            mcp_names("mcp-name: io.github.acme/demo"),
            ["io.github.acme/demo"]
        );
        // A longer name is another name, not this one with a suffix.
        assert_eq!(
            mcp_names("mcp-name: io.github.acme/demo-evil\n"),
            ["io.github.acme/demo-evil"]
        );
        // Glued to a period: the registry does not match it (its docs say so).
        assert_eq!(
            mcp_names("see mcp-name: io.github.acme/demo."),
            ["io.github.acme/demo."]
        );
        assert!(mcp_names("mcp-name:io.github.acme/demo").is_empty());
        assert!(mcp_names("nothing here").is_empty());
        let two = mcp_names("mcp-name: a.b/c\nmcp-name: a.b/c\nmcp-name: x.y/z");
        assert_eq!(two, ["a.b/c", "x.y/z"]);
        let e = check_marker("x.whl", "m", "a.b/c", two).unwrap_err();
        assert_eq!(e.code(), "registry-name-marker-ambiguous");
        assert_eq!(
            check_marker("x.whl", "m", "a.b/c", vec![])
                .unwrap_err()
                .code(),
            "registry-name-marker-missing"
        );
        assert_eq!(
            check_marker("x.whl", "m", "a.b/c", vec!["a.b/d".into()])
                .unwrap_err()
                .code(),
            "registry-name-marker-mismatch"
        );
    }

    #[test]
    fn core_metadata_headers_and_body() {
        let m = parse_core_metadata(
            "Metadata-Version: 2.1\r\nName: acme-demo\r\nVersion: 1.2.3\r\n\r\n# Demo\r\n\r\nmcp-name: a.b/c\r\n",
        )
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.version.as_str()),
            ("acme-demo", "1.2.3")
        );
        assert_eq!(mcp_names(&m.description), ["a.b/c"]);
        // Metadata 1.x: the description is a folded header.
        let m = parse_core_metadata(
            "Name: a\nVersion: 1\nDescription: Demo\n        |\n        |mcp-name: a.b/c\n",
        )
        .unwrap();
        assert_eq!(mcp_names(&m.description), ["a.b/c"]);
        assert!(parse_core_metadata("Name: a\nName: b\nVersion: 1\n\n").is_err());
        assert!(parse_core_metadata("Version: 1\n\n").is_err());
    }

    #[test]
    fn a_tarball_that_is_not_gzip_is_an_error_not_a_panic() {
        assert!(npm_package_json(b"not gzip", "x.tgz").is_err());
        assert!(npm_package_json(&[0x1f, 0x8b, 8, 0], "x.tgz").is_err());
    }
}
