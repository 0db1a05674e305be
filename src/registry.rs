//! MCP Registry metadata (`server.json`): the checks the registry leaves to its clients.
//!
//! The registry stores `fileSha256` for downloadable packages (MCPB) without validating it,
//! and relies on name markers in the packages themselves to tie a package to a registry name:
//! npm's `mcpName` in `package.json` (checked here, read from the tarball), the OCI label
//! `io.modelcontextprotocol.server.name` and a PyPI README's `mcp-name:` line (not read yet).
//! The schema requires exact versions: a range or `latest` is refused.

use std::io::Read;

use serde_json::Value;

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
    #[error("{artifact}: package.json says mcpName {found:?}, server.json's name is {expected:?}")]
    NameMarker {
        artifact: String,
        expected: String,
        found: Option<String>,
    },
    #[error("{artifact}: not a readable npm tarball: {why}")]
    Tarball { artifact: String, why: String },
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
            RegistryError::Tarball { .. } => "registry-tarball-unreadable",
        }
    }
    pub fn is_input_error(&self) -> bool {
        matches!(self, RegistryError::Malformed(_))
    }
}

/// One entry of `packages`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    #[serde(rename = "registryType")]
    pub registry_type: String,
    pub identifier: String,
    pub version: String,
    #[serde(rename = "fileSha256", skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
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

/// The exact-version rule for the server and every package that states a version.
pub fn check_versions(s: &ServerJson) -> Result<(), RegistryError> {
    if !is_exact_version(&s.version) {
        return Err(RegistryError::VersionNotExact {
            identifier: s.name.clone(),
            version: s.version.clone(),
        });
    }
    for p in &s.packages {
        if !p.version.is_empty() && !is_exact_version(&p.version) {
            return Err(RegistryError::VersionNotExact {
                identifier: p.identifier.clone(),
                version: p.version.clone(),
            });
        }
    }
    Ok(())
}

/// `package/package.json` from an npm tarball (gzip'd ustar), at most 1 MiB of it.
pub fn npm_package_json(tgz: &[u8], artifact: &str) -> Result<Value, RegistryError> {
    let bad = |why: String| RegistryError::Tarball {
        artifact: artifact.to_owned(),
        why,
    };
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(tgz)
        .take(256 << 20)
        .read_to_end(&mut tar)
        .map_err(|e| bad(format!("gzip: {e}")))?;
    let mut at = 0usize;
    while at + 512 <= tar.len() {
        let h = &tar[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let name_end = h[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&h[..name_end]).into_owned();
        let size_field = String::from_utf8_lossy(&h[124..136]);
        let size =
            usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .map_err(|_| bad(format!("entry {name:?}: bad size field")))?;
        let body = at + 512;
        if body + size > tar.len() {
            return Err(bad(format!("entry {name:?} runs past the end")));
        }
        if name == "package/package.json" && (h[156] == b'0' || h[156] == 0) {
            if size > 1 << 20 {
                return Err(bad("package.json over 1 MiB".into()));
            }
            return crate::json::parse_strict(&tar[body..body + size])
                .map_err(|e| bad(format!("package.json: {e}")));
        }
        at = body + size.div_ceil(512) * 512;
    }
    Err(bad("no package/package.json".into()))
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

/// Ties an artifact (its file name and bytes) to one package of `s` and checks it: the
/// digest for packages with `fileSha256` (MCPB must have one), npm's `mcpName` for npm
/// tarballs.
pub fn check_artifact(
    s: &ServerJson,
    artifact: &str,
    bytes: &[u8],
) -> Result<ArtifactMatch, RegistryError> {
    let sha256 = format!("sha256:{}", crate::digest::Digest::of(bytes).hex());
    let hex_only = sha256.trim_start_matches("sha256:");
    let is_tgz = artifact.ends_with(".tgz");
    if is_tgz {
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
        let marker = pj.get("mcpName").and_then(Value::as_str).map(str::to_owned);
        if marker.as_deref() != Some(s.name.as_str()) {
            return Err(RegistryError::NameMarker {
                artifact: artifact.to_owned(),
                expected: s.name.clone(),
                found: marker,
            });
        }
        if let Some(want) = &pkg.file_sha256
            && !want.eq_ignore_ascii_case(hex_only)
        {
            return Err(RegistryError::Digest {
                identifier: pkg.identifier.clone(),
                said: want.clone(),
                actual: hex_only.to_owned(),
            });
        }
        return Ok(ArtifactMatch {
            artifact: artifact.to_owned(),
            sha256,
            package: pkg.clone(),
            name_marker: marker,
        });
    }
    // Any other file: the package whose fileSha256 it is, else the MCPB package that names it.
    if let Some(p) = s.packages.iter().find(|p| {
        p.file_sha256
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(hex_only))
    }) {
        return Ok(ArtifactMatch {
            artifact: artifact.to_owned(),
            sha256,
            package: p.clone(),
            name_marker: None,
        });
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
                actual: hex_only.to_owned(),
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

    #[test]
    fn a_tarball_that_is_not_gzip_is_an_error_not_a_panic() {
        assert!(npm_package_json(b"not gzip", "x.tgz").is_err());
        assert!(npm_package_json(&[0x1f, 0x8b, 8, 0], "x.tgz").is_err());
    }
}
