//! Image references: `oci://REGISTRY/REPO[:TAG][@sha256:HEX]` on the command line, and the
//! `IMAGE[:TAG][@DIGEST]` of a `docker run` / `podman run` launch spec (Docker Hub defaults).
//!
//! Parsing only: no network. The registry is always explicit in an `oci://` reference (a
//! signature is bound to the repository it names, so mcpseal never guesses one); a launch
//! spec's bare `IMAGE` means Docker Hub, as docker and podman read it.

use crate::digest::Digest;

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `host[:port]`, lowercase, e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub registry: String,
    /// The repository path, e.g. `acme/mcp-fetch`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a reference is not one.
#[derive(Debug, thiserror::Error)]
#[error("{input:?} is not an image reference: {why}")]
pub struct RefError {
    pub input: String,
    pub why: String,
}

impl RefError {
    fn new(input: &str, why: impl Into<String>) -> Self {
        RefError {
            input: input.to_owned(),
            why: why.into(),
        }
    }
}

/// The longest reference accepted (the distribution spec bounds names at 255 characters).
const MAX_REF: usize = 512;

impl ImageRef {
    /// Parses `oci://REGISTRY/REPO[:TAG][@sha256:HEX]`.
    pub fn parse_oci_url(input: &str) -> Result<ImageRef, RefError> {
        let rest = input.strip_prefix("oci://").ok_or_else(|| {
            RefError::new(
                input,
                "expected oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]",
            )
        })?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| RefError::new(input, "no repository after the registry"))?;
        Self::build(input, registry, path)
    }

    /// Parses a `docker run` image argument: `[REGISTRY/]REPO[:TAG][@DIGEST]`, where a first
    /// component without `.`, `:` or `localhost` is a Docker Hub path (`library/` added for a
    /// single component), as docker reads it.
    pub fn parse_docker(input: &str) -> Result<ImageRef, RefError> {
        let (first, rest) = input.split_once('/').unwrap_or(("", input));
        let explicit = !first.is_empty()
            && (first.contains('.') || first.contains(':') || first == "localhost");
        if explicit {
            Self::build(input, first, rest)
        } else if first.is_empty() {
            Self::build(input, "docker.io", &format!("library/{rest}"))
        } else {
            Self::build(input, "docker.io", input)
        }
    }

    fn build(input: &str, registry: &str, path: &str) -> Result<ImageRef, RefError> {
        if input.len() > MAX_REF {
            return Err(RefError::new(
                input,
                format!("longer than {MAX_REF} characters"),
            ));
        }
        let registry = registry.to_ascii_lowercase();
        if registry.is_empty()
            || !registry
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            return Err(RefError::new(
                input,
                format!("bad registry host {registry:?}"),
            ));
        }
        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => {
                let d: Digest = d.parse().map_err(|_| {
                    RefError::new(
                        input,
                        "the digest must be sha256: and 64 lowercase hex digits",
                    )
                })?;
                (p, Some(d))
            }
            None => (path, None),
        };
        // A tag follows the last `:` after the last `/`.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (path, None),
        };
        if repository.is_empty()
            || repository.split('/').any(|c| {
                c.is_empty()
                    || !c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
                    || c.starts_with(['.', '_', '-'])
            })
        {
            return Err(RefError::new(
                input,
                format!("bad repository {repository:?} (lowercase letters, digits, . _ - and /)"),
            ));
        }
        if let Some(t) = tag
            && (t.is_empty()
                || t.len() > 128
                || t.starts_with(['.', '-'])
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
        {
            return Err(RefError::new(input, format!("bad tag {t:?}")));
        }
        Ok(ImageRef {
            registry,
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// `registry/repository`: the name a signature's subject and `docker-reference` carry.
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository at a digest.
    pub fn at_digest(&self, d: Digest) -> ImageRef {
        ImageRef {
            tag: None,
            digest: Some(d),
            ..self.clone()
        }
    }

    /// The same repository at a tag.
    pub fn at_tag(&self, tag: &str) -> ImageRef {
        ImageRef {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }

    /// Whether the registry is a loopback address (plain HTTP is allowed there).
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
            _ => self.registry.as_str(),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The reference the way `docker run` reads it, digest preferred:
    /// `registry/repository@sha256:…` (or `:tag`).
    pub fn display(&self) -> String {
        let mut s = self.repo_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }

    /// The `oci://` form.
    pub fn to_oci_url(&self) -> String {
        format!("oci://{}", self.display())
    }
}

/// The docker-reference a legacy signature names: cosign writes `registry/repository`, and for
/// Docker Hub some tools write `index.docker.io/…` or leave the host out.
pub fn same_repository(signed: &str, image: &ImageRef) -> bool {
    if signed == image.repo_name() {
        return true;
    }
    if image.registry != "docker.io" {
        return false;
    }
    let bare = signed
        .strip_prefix("index.docker.io/")
        .or_else(|| signed.strip_prefix("docker.io/"))
        .unwrap_or(signed);
    let bare = if bare.contains('/') {
        bare.to_owned()
    } else {
        format!("library/{bare}")
    };
    bare == image.repository
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_urls() {
        let r = ImageRef::parse_oci_url("oci://127.0.0.1:5000/acme/fetch:1.0").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "acme/fetch");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert!(r.is_loopback());
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse_oci_url(&format!("oci://ghcr.io/a/b@{d}")).unwrap();
        assert_eq!(r.digest.unwrap().to_string(), d);
        assert!(!r.is_loopback());
        for bad in [
            "ghcr.io/a/b",
            "oci://ghcr.io",
            "oci://ghcr.io/",
            "oci://ghcr.io/A/b",
            "oci://ghcr.io/a//b",
            "oci://ghcr.io/a/b@sha256:abc",
            "oci://ghcr.io/a/b:",
            "oci://ghcr.io/a/b:-x",
            "oci://gh cr.io/a",
            "oci://ghcr.io/../b",
        ] {
            assert!(ImageRef::parse_oci_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docker_defaults() {
        let r = ImageRef::parse_docker("mcp/fetch").unwrap();
        assert_eq!(r.repo_name(), "docker.io/mcp/fetch");
        let r = ImageRef::parse_docker("alpine:3").unwrap();
        assert_eq!(r.repo_name(), "docker.io/library/alpine");
        let r = ImageRef::parse_docker("localhost:5000/x").unwrap();
        assert_eq!(r.repo_name(), "localhost:5000/x");
        assert!(r.is_loopback());
        assert!(same_repository(
            "index.docker.io/library/alpine",
            &ImageRef::parse_docker("alpine").unwrap()
        ));
        assert!(!same_repository(
            "ghcr.io/library/alpine",
            &ImageRef::parse_docker("alpine").unwrap()
        ));
    }

    #[test]
    fn loopback_is_only_loopback() {
        for (host, lo) in [
            ("127.0.0.1:1", true),
            ("[::1]:5000", true),
            ("localhost", true),
            ("127.0.0.1.nip.io", false),
            ("localhost.evil.com:5000", false),
            ("10.0.0.1:5000", false),
        ] {
            let r = ImageRef::parse_oci_url(&format!("oci://{host}/a")).unwrap();
            assert_eq!(r.is_loopback(), lo, "{host}");
        }
    }
}
