//! A blocking OCI registry client over `oci-client`, its async runtime private to this file.
//!
//! Each [`Registry`] owns a current-thread tokio runtime and blocks on it; nothing async leaves
//! this module. It talks to one repository of one registry:
//!
//! - **Transport**: HTTPS, except plain HTTP for a loopback registry (`127.0.0.0/8`, `::1`,
//!   `localhost`) or a host the user named with `--allow-insecure-registry`.
//! - **Auth**: anonymous, or the basic credentials `~/.docker/config.json` (or `$DOCKER_CONFIG/
//!   config.json`) holds for the host. `oci-client` answers the registry's challenge: a bearer
//!   token from the realm it names (anonymous or with those credentials), or basic auth.
//!   Credential helpers (`credsStore`, `credHelpers`) are not run: a host they serve must have
//!   an `auths` entry (say so in the error).
//! - **Content is addressed, never trusted**: the digest of a manifest is SHA-256 of the bytes
//!   received, and a manifest fetched by digest must hash to it; a blob is checked against its
//!   descriptor's digest and size. Sizes are capped before anything is buffered.

use std::path::{Path, PathBuf};

use base64::Engine;
use oci_client::Reference;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use serde_json::Value;

use super::reference::ImageRef;
use crate::digest::Digest;

/// Largest manifest or index read (the distribution spec asks registries to take 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Manifest media types.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPT: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Hosts (`host[:port]`) where plain HTTP is allowed besides loopback.
    pub insecure: Vec<String>,
    /// The folder holding `config.json` (`$DOCKER_CONFIG`, else `~/.docker`); `None`: anonymous.
    pub docker_config: Option<PathBuf>,
}

impl Options {
    /// Options from the environment: `DOCKER_CONFIG`, else `$HOME/.docker`.
    pub fn from_env(insecure: Vec<String>) -> Options {
        let docker_config = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
        Options {
            insecure,
            docker_config,
        }
    }
}

/// What went wrong talking to a registry. Codes are stable (docs/exit-codes.md).
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{host}: cannot reach the registry: {why}")]
    Unreachable { host: String, why: String },
    #[error("{host}: the registry refused the credentials (or asked for some): {why}")]
    Unauthorized { host: String, why: String },
    #[error("{image}: no such manifest in the registry")]
    NotFound { image: String },
    #[error("{host}: {why}")]
    Registry { host: String, why: String },
    #[error("{image}: {why}")]
    Malformed { image: String, why: String },
    #[error("{image}: the registry sent content with digest {got}, not the {want} asked for")]
    DigestMismatch {
        image: String,
        want: Digest,
        got: Digest,
    },
    #[error("{path}: cannot read the Docker credentials: {why}")]
    Credentials { path: String, why: String },
    #[error("cannot start the registry client: {0}")]
    Runtime(String),
}

impl OciError {
    pub fn code(&self) -> &'static str {
        match self {
            OciError::Unreachable { .. } => "registry-unreachable",
            OciError::Unauthorized { .. } => "registry-unauthorized",
            OciError::NotFound { .. } => "image-not-found",
            OciError::Registry { .. } => "registry-error",
            OciError::Malformed { .. } => "malformed-manifest",
            OciError::DigestMismatch { .. } => "registry-digest-mismatch",
            OciError::Credentials { .. } => "docker-config-invalid",
            OciError::Runtime(_) => "io-error",
        }
    }
    /// Exit 1 (the registry served something untrustworthy) rather than 2 (nothing decided).
    pub fn is_untrustworthy(&self) -> bool {
        matches!(self, OciError::DigestMismatch { .. })
    }
    /// The next thing to try.
    pub fn help(&self) -> &'static str {
        match self {
            OciError::Unreachable { .. } => {
                "check the registry host and port; a registry without TLS needs --allow-insecure-registry HOST"
            }
            OciError::Unauthorized { .. } => {
                "log in (`docker login HOST` writes ~/.docker/config.json; credential helpers are not run, so the host needs an `auths` entry) or set DOCKER_CONFIG"
            }
            OciError::NotFound { .. } => {
                "check the repository and tag: skopeo inspect docker://REGISTRY/REPO:TAG"
            }
            OciError::Credentials { .. } => {
                "fix or move the file, or point DOCKER_CONFIG at another folder"
            }
            _ => "try again; if it persists, the registry is not speaking the OCI distribution API",
        }
    }
}

/// A manifest or index as fetched: its bytes, their digest, its media type.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
    pub json: Value,
}

impl Manifest {
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_LIST
    }
    /// A descriptor pointing at this manifest.
    pub fn descriptor(&self) -> Value {
        serde_json::json!({
            "mediaType": self.media_type,
            "digest": self.digest.to_string(),
            "size": self.bytes.len(),
        })
    }
}

/// One repository of one registry, blocking.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: oci_client::Client,
    auth: RegistryAuth,
    image: ImageRef,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the credentials.
        f.debug_struct("Registry")
            .field("repository", &self.image.repo_name())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client for `image`'s repository. Reads credentials; does not touch the network yet.
    pub fn connect(image: &ImageRef, opts: &Options) -> Result<Registry, OciError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OciError::Runtime(e.to_string()))?;
        let plain = image.is_loopback() || opts.insecure.iter().any(|h| h == &image.registry);
        let protocol = if plain {
            ClientProtocol::HttpsExcept(vec![image.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            connect_timeout: Some(std::time::Duration::from_secs(10)),
            read_timeout: Some(std::time::Duration::from_secs(60)),
            user_agent: concat!("mcpseal/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let client = {
            let _guard = rt.enter();
            oci_client::Client::try_from(config).map_err(|e| OciError::Runtime(e.to_string()))?
        };
        let auth = match &opts.docker_config {
            Some(dir) => docker_credentials(&dir.join("config.json"), &image.registry)?,
            None => RegistryAuth::Anonymous,
        };
        Ok(Registry {
            rt,
            client,
            auth,
            image: image.clone(),
        })
    }

    /// The repository this client talks to.
    pub fn image(&self) -> &ImageRef {
        &self.image
    }

    fn reference(&self, r: &ImageRef) -> Reference {
        match (&r.digest, &r.tag) {
            (Some(d), _) => {
                Reference::with_digest(r.registry.clone(), r.repository.clone(), d.to_string())
            }
            (None, t) => Reference::with_tag(
                r.registry.clone(),
                r.repository.clone(),
                t.clone().unwrap_or_else(|| "latest".into()),
            ),
        }
    }

    fn classify(&self, what: &ImageRef, e: OciDistributionError) -> OciError {
        let host = self.image.registry.clone();
        let not_found = |env: &oci_client::errors::OciEnvelope| {
            env.errors.iter().any(|x| {
                matches!(
                    x.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown
                )
            })
        };
        match e {
            OciDistributionError::ImageManifestNotFoundError(_) => OciError::NotFound {
                image: what.display(),
            },
            OciDistributionError::RegistryError { envelope, .. } if not_found(&envelope) => {
                OciError::NotFound {
                    image: what.display(),
                }
            }
            OciDistributionError::ServerError { code: 404, .. } => OciError::NotFound {
                image: what.display(),
            },
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|x| {
                    matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)
                }) =>
            {
                OciError::Unauthorized {
                    host,
                    why: envelope.to_string(),
                }
            }
            OciDistributionError::UnauthorizedError { url } => OciError::Unauthorized {
                host,
                why: format!("401 from {url}"),
            },
            OciDistributionError::ServerError {
                code: 401 | 403,
                url,
                ..
            } => OciError::Unauthorized {
                host,
                why: format!("refused at {url}"),
            },
            OciDistributionError::AuthenticationFailure(why) => {
                OciError::Unauthorized { host, why }
            }
            OciDistributionError::RequestError(r) if r.is_connect() || r.is_timeout() => {
                OciError::Unreachable {
                    host,
                    why: error_chain(&r),
                }
            }
            other => OciError::Registry {
                host,
                why: error_chain(&other),
            },
        }
    }

    /// The manifest (or index) `r` names, or `None` if the registry has none there.
    pub fn manifest_opt(&self, r: &ImageRef) -> Result<Option<Manifest>, OciError> {
        match self.manifest(r) {
            Ok(m) => Ok(Some(m)),
            Err(OciError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The manifest (or index) `r` names. Its digest is SHA-256 of the bytes received; when `r`
    /// names a digest, the bytes must hash to it.
    pub fn manifest(&self, r: &ImageRef) -> Result<Manifest, OciError> {
        let reference = self.reference(r);
        let got = self.rt.block_on(async {
            // Authenticate for pull first (the bearer-token flow when the registry asks).
            self.client
                .pull_manifest_raw(&reference, &self.auth, ACCEPT)
                .await
        });
        let (bytes, _) = got.map_err(|e| self.classify(r, e))?;
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(OciError::Malformed {
                image: r.display(),
                why: format!("manifest over the {MAX_MANIFEST_BYTES}-byte limit"),
            });
        }
        let digest = Digest::of(&bytes);
        if let Some(want) = r.digest
            && !want.ct_eq(&digest)
        {
            return Err(OciError::DigestMismatch {
                image: r.display(),
                want,
                got: digest,
            });
        }
        let json = crate::json::parse_strict(&bytes).map_err(|e| OciError::Malformed {
            image: r.display(),
            why: format!("the manifest is not JSON: {e}"),
        })?;
        let media_type = json
            .get("mediaType")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                // An OCI manifest may leave mediaType out; tell it from an index by its fields.
                if json.get("manifests").is_some() {
                    Some(OCI_INDEX.into())
                } else if json.get("config").is_some() {
                    Some(OCI_MANIFEST.into())
                } else {
                    None
                }
            })
            .filter(|m| ACCEPT.contains(&m.as_str()))
            .ok_or_else(|| OciError::Malformed {
                image: r.display(),
                why: "not an OCI or Docker v2 manifest or index".into(),
            })?;
        Ok(Manifest {
            bytes: bytes.to_vec(),
            digest,
            media_type,
            json,
        })
    }

    /// A blob, checked against `digest` and at most `max` bytes (`size` as its descriptor says).
    pub fn blob(&self, digest: Digest, size: u64, max: usize) -> Result<Vec<u8>, OciError> {
        let what = self.image.at_digest(digest);
        if size > max as u64 {
            return Err(OciError::Malformed {
                image: what.display(),
                why: format!("blob of {size} bytes is over the {max}-byte limit"),
            });
        }
        let reference = self.reference(&self.image);
        let d = digest.to_string();
        let mut out = Capped {
            buf: Vec::new(),
            max,
        };
        self.rt
            .block_on(async {
                self.client
                    .store_auth_if_needed(reference.resolve_registry(), &self.auth)
                    .await;
                self.client
                    .pull_blob(&reference, d.as_str(), &mut out)
                    .await
            })
            .map_err(|e| self.classify(&what, e))?;
        let got = Digest::of(&out.buf);
        if !got.ct_eq(&digest) || out.buf.len() as u64 != size {
            return Err(OciError::DigestMismatch {
                image: what.display(),
                want: digest,
                got,
            });
        }
        Ok(out.buf)
    }

    /// Uploads a blob (skipped when the registry has it); returns its digest.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<Digest, OciError> {
        let digest = Digest::of(bytes);
        let reference = self.reference(&self.image);
        let d = digest.to_string();
        let what = self.image.at_digest(digest);
        self.rt
            .block_on(async {
                self.client
                    .auth(&reference, &self.auth, oci_client::RegistryOperation::Push)
                    .await?;
                if !self.client.blob_exists(&reference, &d).await? {
                    self.client
                        .push_blob(&reference, bytes.to_vec(), &d)
                        .await?;
                }
                Ok::<_, OciDistributionError>(())
            })
            .map_err(|e| self.classify(&what, e))?;
        Ok(digest)
    }

    /// Uploads a manifest under `r` (a tag, or its own digest); returns its digest.
    pub fn push_manifest(
        &self,
        r: &ImageRef,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, OciError> {
        let digest = Digest::of(bytes);
        let target = if r.tag.is_some() {
            r.clone()
        } else {
            r.at_digest(digest)
        };
        let reference = self.reference(&target);
        let ct = http::HeaderValue::from_str(media_type).map_err(|e| OciError::Malformed {
            image: target.display(),
            why: e.to_string(),
        })?;
        self.rt
            .block_on(async {
                self.client
                    .auth(&reference, &self.auth, oci_client::RegistryOperation::Push)
                    .await?;
                self.client
                    .push_manifest_raw(&reference, bytes.to_vec(), ct)
                    .await
            })
            .map_err(|e| self.classify(&target, e))?;
        Ok(digest)
    }

    /// The referrers of `subject`: the OCI 1.1 referrers API, or the referrers tag schema
    /// (`sha256-<hex>`) where the registry has no such API. Entries as JSON descriptors.
    pub fn referrers(&self, subject: Digest) -> Result<Vec<Value>, OciError> {
        let what = self.image.at_digest(subject);
        let reference = self.reference(&what);
        let index = self
            .rt
            .block_on(async {
                self.client
                    .store_auth_if_needed(reference.resolve_registry(), &self.auth)
                    .await;
                self.client.pull_referrers(&reference, None).await
            })
            .map_err(|e| self.classify(&what, e))?;
        let v = serde_json::to_value(&index.manifests).map_err(|e| OciError::Malformed {
            image: what.display(),
            why: e.to_string(),
        })?;
        let mut out = v.as_array().cloned().unwrap_or_default();
        // oci-client's own fallback reads any registry error on the tag as "no referrers";
        // read the tag schema here too, so a refused or broken tag is an error, not silence.
        if let Some(tagged) = self.manifest_opt(&self.image.at_tag(&tag_schema(subject)))?
            && let Some(list) = tagged.json.get("manifests").and_then(Value::as_array)
        {
            for d in list {
                if !out.iter().any(|o| o.get("digest") == d.get("digest")) {
                    out.push(d.clone());
                }
            }
        }
        Ok(out)
    }
}

/// The referrers tag schema's tag for `subject`: `sha256-<hex>`.
pub fn tag_schema(subject: Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// The chain of an error's causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// A sink that refuses more than `max` bytes.
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.buf.len() + data.len() > self.max {
            return std::task::Poll::Ready(Err(std::io::Error::other(format!(
                "blob over the {}-byte limit",
                self.max
            ))));
        }
        self.buf.extend_from_slice(data);
        std::task::Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// The credentials `config.json` holds for `host`: an `auths` entry keyed by the host (or by a
/// URL naming it, as `docker login` writes for Docker Hub), with `auth` (base64 `user:pass`) or
/// `username` and `password`. No file, or no entry: anonymous.
pub fn docker_credentials(path: &Path, host: &str) -> Result<RegistryAuth, OciError> {
    let bad = |why: String| OciError::Credentials {
        path: path.display().to_string(),
        why,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistryAuth::Anonymous),
        Err(e) => return Err(bad(e.to_string())),
    };
    if bytes.len() > 1 << 20 {
        return Err(bad("over 1 MiB".into()));
    }
    let v = crate::json::parse_strict(&bytes).map_err(|e| bad(e.to_string()))?;
    let Some(auths) = v.get("auths").and_then(Value::as_object) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let hub = host == "docker.io" || host == "index.docker.io";
    let entry = auths.iter().find(|(k, _)| {
        let k = k
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let k = k.split('/').next().unwrap_or(k);
        k == host || (hub && (k == "index.docker.io" || k == "docker.io"))
    });
    let Some((key, entry)) = entry else {
        return Ok(RegistryAuth::Anonymous);
    };
    let field = |n: &str| {
        entry
            .get(n)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(a) = field("auth") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a)
            .map_err(|_| bad(format!("auths.{key}.auth is not base64")))?;
        let text = zeroize::Zeroizing::new(
            String::from_utf8(raw).map_err(|_| bad(format!("auths.{key}.auth is not UTF-8")))?,
        );
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| bad(format!("auths.{key}.auth is not user:password")))?;
        return Ok(RegistryAuth::Basic(u.to_owned(), p.to_owned()));
    }
    match (field("username"), field("password")) {
        (Some(u), Some(p)) => Ok(RegistryAuth::Basic(u.to_owned(), p.to_owned())),
        _ => Ok(RegistryAuth::Anonymous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        assert!(matches!(
            docker_credentials(&p, "x").unwrap(),
            RegistryAuth::Anonymous
        ));
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret:with:colons");
        std::fs::write(
            &p,
            format!(
                r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"bob","password":"pw"}}}}}}"#
            ),
        )
        .unwrap();
        match docker_credentials(&p, "127.0.0.1:5000").unwrap() {
            RegistryAuth::Basic(u, pw) => {
                assert_eq!((u.as_str(), pw.as_str()), ("alice", "s3cret:with:colons"))
            }
            _ => panic!("expected basic"),
        }
        assert!(matches!(
            docker_credentials(&p, "docker.io").unwrap(),
            RegistryAuth::Basic(..)
        ));
        assert!(matches!(
            docker_credentials(&p, "127.0.0.1:5001").unwrap(),
            RegistryAuth::Anonymous
        ));
        std::fs::write(&p, r#"{"auths":{"h":{"auth":"!!"}}}"#).unwrap();
        let e = docker_credentials(&p, "h").unwrap_err();
        assert_eq!(e.code(), "docker-config-invalid");
        assert!(!e.to_string().contains("!!"), "{e}");
        std::fs::write(&p, r#"{"auths":{"h":{},"h":{}}}"#).unwrap();
        assert!(
            docker_credentials(&p, "h").is_err(),
            "duplicate keys are refused"
        );
    }
}
