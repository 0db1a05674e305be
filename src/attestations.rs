//! Fetching a package's provenance for `pin --fetch-provenance`: npm's attestations
//! (`GET {registry}/-/npm/v1/attestations/NAME@VERSION`) and PyPI's integrity API
//! (`GET {index}/integrity/NAME/VERSION/FILENAME/provenance`, PEP 740).
//!
//! Only `pin` calls this; the gate never fetches anything. What is fetched is not trusted:
//! the caller verifies it with [`crate::provenance`] against the package file, exactly as a
//! document given with `--provenance FILE`. The base URL is HTTPS, or plain HTTP to a loopback
//! address only (the tests' recorded-response server); redirects are not followed (a document
//! is fetched from the base the user named, or not at all).

use std::time::Duration;

/// npm's public registry.
pub const NPM_REGISTRY: &str = "https://registry.npmjs.org";
/// PyPI.
pub const PYPI_INDEX: &str = "https://pypi.org";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{base:?} cannot serve provenance: {why}")]
    BadBase { base: String, why: String },
    #[error("{what:?} cannot be put in a provenance URL")]
    BadName { what: String },
    #[error("GET {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("GET {url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: the document is over the {max}-byte limit")]
    TooLarge { url: String, max: usize },
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::BadBase { .. } => "provenance-url-invalid",
            FetchError::BadName { .. } => "bad-package",
            FetchError::Unreachable { .. } | FetchError::Status { .. } => "provenance-unreachable",
            FetchError::TooLarge { .. } => "provenance-malformed",
        }
    }
}

/// The base URL, checked: `https://…`, or `http://` to a loopback host; no query or fragment.
/// Returned without a trailing `/`.
pub fn base_url(base: &str) -> Result<String, FetchError> {
    let bad = |why: &str| FetchError::BadBase {
        base: base.to_owned(),
        why: why.to_owned(),
    };
    let u = url::Url::parse(base).map_err(|e| bad(&e.to_string()))?;
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(bad("plain HTTP is allowed to a loopback address only")),
        _ => return Err(bad("not an https:// URL")),
    }
    if u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() {
        return Err(bad("a base URL has no query, fragment or credentials"));
    }
    Ok(u.as_str().trim_end_matches('/').to_owned())
}

/// Whether `s` is safe as a URL path segment as it is (no escaping needed or wanted).
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+!~".contains(&b))
}

fn checked(s: &str) -> Result<&str, FetchError> {
    if plain(s) {
        Ok(s)
    } else {
        Err(FetchError::BadName { what: s.to_owned() })
    }
}

/// npm's attestations URL for `name@version` (a scoped name as npm escapes it:
/// `@scope%2fname`).
pub fn npm_url(base: &str, name: &str, version: &str) -> Result<String, FetchError> {
    let escaped = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, n)) => format!("@{}%2f{}", checked(scope)?, checked(n)?),
        None => checked(name)?.to_owned(),
    };
    Ok(format!(
        "{}/-/npm/v1/attestations/{escaped}@{}",
        base_url(base)?,
        checked(version)?
    ))
}

/// PyPI's provenance URL for one distribution file of `name==version` (the name normalized,
/// PEP 503).
pub fn pypi_url(
    base: &str,
    name: &str,
    version: &str,
    filename: &str,
) -> Result<String, FetchError> {
    Ok(format!(
        "{}/integrity/{}/{}/{}/provenance",
        base_url(base)?,
        checked(&crate::channels::pypi_normalize(name))?,
        checked(version)?,
        checked(filename)?
    ))
}

/// `GET url` (`accept` as the Accept header), at most `max` bytes: `Ok(None)` for a 404 (no
/// provenance published), the body for a 200, an error for anything else.
pub fn fetch(url: &str, accept: &str, max: usize) -> Result<Option<Vec<u8>>, FetchError> {
    let agent = crate::mcp::transport::agent(Duration::from_secs(30));
    let unreachable = |e: ureq::Error| FetchError::Unreachable {
        url: url.to_owned(),
        why: e.to_string(),
    };
    let mut resp = agent
        .get(url)
        .config()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .header("Accept", accept)
        .call()
        .map_err(unreachable)?;
    match resp.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        status => {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status,
            });
        }
    }
    resp.body_mut()
        .with_config()
        .limit(max as u64)
        .read_to_vec()
        .map(Some)
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
                url: url.to_owned(),
                max,
            },
            e => unreachable(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_built_as_the_registries_serve_them() {
        assert_eq!(
            npm_url(NPM_REGISTRY, "sigstore", "1.0.0").unwrap(),
            "https://registry.npmjs.org/-/npm/v1/attestations/sigstore@1.0.0"
        );
        assert_eq!(
            npm_url("https://registry.npmjs.org/", "@sigstore/cli", "0.5.0").unwrap(),
            "https://registry.npmjs.org/-/npm/v1/attestations/@sigstore%2fcli@0.5.0"
        );
        assert_eq!(
            pypi_url(
                PYPI_INDEX,
                "Pypi_Attestations",
                "0.0.19",
                "pypi_attestations-0.0.19.tar.gz"
            )
            .unwrap(),
            "https://pypi.org/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance"
        );
        assert_eq!(
            npm_url("http://127.0.0.1:8080", "a", "1.0.0").unwrap(),
            "http://127.0.0.1:8080/-/npm/v1/attestations/a@1.0.0"
        );
    }

    /// A base that is not HTTPS (except loopback), and names that would walk the URL path.
    #[test]
    fn attack_bases_and_names_that_leave_the_registry_are_refused() {
        for bad in [
            "http://registry.npmjs.org",
            "http://127.0.0.1.nip.io:80",
            "ftp://example.com",
            "https://u:p@example.com",
            "https://example.com/?x=1",
            "not a url",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        for (name, version) in [
            ("../../evil", "1.0.0"),
            ("a", "1.0.0/../../x"),
            ("a?b", "1"),
            ("@scope/../x", "1"),
            ("", "1"),
        ] {
            assert!(
                npm_url(NPM_REGISTRY, name, version).is_err(),
                "{name} {version}"
            );
        }
        assert!(pypi_url(PYPI_INDEX, "a", "1", "../x.whl").is_err());
    }
}
