//! Package provenance, checked offline: npm's Sigstore attestations of a tarball, and PyPI's
//! PEP 740 attestations of a wheel or sdist.
//!
//! npm serves, per published version, `{"attestations": [{"predicateType", "bundle"}, …]}`:
//! a SLSA provenance statement signed keylessly by the CI workflow that built the package
//! (a Fulcio certificate for the GitHub Actions identity), and npm's publish attestation
//! signed with the registry's own key. Both are Sigstore bundles over a DSSE in-toto statement
//! whose subject is `pkg:npm/<name>@<version>` with the tarball's SHA-512.
//!
//! The Sigstore checks (signature, certificate chain to the trusted root, transparency log,
//! the artifact digest among the subjects) are [`crate::keyless::verify`]'s; nothing here
//! verifies a signature itself. What is added on top: the subject names exactly the package
//! and version asked for, with the tarball's digest; the source identity (repository, workflow,
//! ref) is read from the signed certificate's SAN and must agree with the signed predicate and
//! with the caller's [`SourcePolicy`]; the publish attestation, when present, verifies with
//! npm's key and names the same package.
//!
//! PEP 740 attestation objects are turned into the Sigstore bundle they stand for and go
//! through the same keyless verifier; their one subject must be the distribution's file name
//! with its SHA-256, and the Trusted Publisher (repository, workflow from the certificate;
//! the environment as PyPI recorded it in the provenance file) must satisfy the policy.

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha512};

use crate::keyless::{self, IdentityMatch, Signer};

/// The OIDC issuer of GitHub Actions workflow identities.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// npm's publish-attestation predicate.
pub const NPM_PUBLISH_PREDICATE: &str =
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
/// npm's registry signing key (`GET /-/npm/v1/keys`, key id
/// `SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA`), which signs publish attestations.
pub const NPM_REGISTRY_KEY_ID: &str = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
pub const NPM_REGISTRY_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==\n-----END PUBLIC KEY-----\n";
/// Largest attestations document read.
pub const MAX_ATTESTATIONS: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error("the attestations document is not usable: {0}")]
    Document(String),
    #[error("no SLSA provenance attestation among the {0} attestations")]
    Missing(usize),
    #[error("{0} SLSA provenance attestations: which one speaks for the package cannot be told")]
    Ambiguous(usize),
    #[error("{0}")]
    Keyless(#[from] keyless::KeylessError),
    #[error("the signed statement is not usable: {0}")]
    Statement(String),
    #[error("the statement is about {found}, not {expected}")]
    Subject { expected: String, found: String },
    #[error("the statement's SHA-512 for {name} is not the tarball's")]
    Digest { name: String },
    #[error("the signing certificate's identity {0:?} is not a GitHub Actions workflow")]
    NotWorkflow(String),
    #[error(
        "the signed predicate says {field} {predicate:?}, the certificate says {certificate:?}"
    )]
    PredicateMismatch {
        field: &'static str,
        predicate: String,
        certificate: String,
    },
    #[error("built from {field} {found:?}, the policy requires {expected}")]
    Source {
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error("npm's publish attestation does not verify: {0}")]
    Publish(String),
}

impl ProvenanceError {
    pub fn code(&self) -> &'static str {
        match self {
            ProvenanceError::Document(_) => "provenance-malformed",
            ProvenanceError::Missing(_) => "provenance-missing",
            ProvenanceError::Ambiguous(_) => "provenance-ambiguous",
            ProvenanceError::Keyless(e) => e.code(),
            ProvenanceError::Statement(_) => "provenance-statement-invalid",
            ProvenanceError::Subject { .. } => "provenance-subject-mismatch",
            ProvenanceError::Digest { .. } => "provenance-digest-mismatch",
            ProvenanceError::NotWorkflow(_) => "provenance-not-ci",
            ProvenanceError::PredicateMismatch { .. } => "provenance-predicate-mismatch",
            ProvenanceError::Source { .. } => "provenance-source-mismatch",
            ProvenanceError::Publish(_) => "npm-publish-attestation-invalid",
        }
    }
    /// Exit 2 (nothing could be decided) rather than 1.
    pub fn is_input_error(&self) -> bool {
        match self {
            ProvenanceError::Document(_) => true,
            ProvenanceError::Keyless(e) => e.is_input_error(),
            _ => false,
        }
    }
}

/// Where a package must have been built: `[server.NAME] provenance = {…}` in the policy, or
/// the verify flags. An absent field is not checked; all absent checks only that the build
/// was a GitHub Actions workflow.
#[derive(Debug, Clone, Default)]
pub struct SourcePolicy {
    /// `github.com/ORG/REPO`.
    pub repository: Option<String>,
    /// The workflow file: `release.yml` or `.github/workflows/release.yml`.
    pub workflow: Option<String>,
    /// A regular expression the whole git ref must match (`refs/tags/v.*`).
    pub ref_regexp: Option<regex::Regex>,
}

/// The source a CI identity names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// `github.com/ORG/REPO`.
    pub repository: String,
    /// `.github/workflows/FILE`.
    pub workflow: String,
    /// `refs/tags/v1.0.0`.
    #[serde(rename = "ref")]
    pub git_ref: String,
}

/// Reads a GitHub Actions SAN: `https://github.com/ORG/REPO/.github/workflows/FILE@REF`.
pub fn parse_github_san(san: &str) -> Option<Source> {
    let rest = san.strip_prefix("https://github.com/")?;
    let (path, git_ref) = rest.split_once('@')?;
    let mut parts = path.splitn(3, '/');
    let org = parts.next()?;
    let repo = parts.next()?;
    let workflow = parts.next()?;
    if org.is_empty() || repo.is_empty() || !workflow.starts_with(".github/workflows/") {
        return None;
    }
    if !git_ref.starts_with("refs/") {
        return None;
    }
    Some(Source {
        repository: format!("github.com/{org}/{repo}"),
        workflow: workflow.to_owned(),
        git_ref: git_ref.to_owned(),
    })
}

/// Checks a source against the policy.
pub fn check_source(src: &Source, policy: &SourcePolicy) -> Result<(), ProvenanceError> {
    if let Some(r) = &policy.repository {
        let want = r
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        if src.repository.to_ascii_lowercase() != want {
            return Err(ProvenanceError::Source {
                field: "repository",
                expected: want,
                found: src.repository.clone(),
            });
        }
    }
    if let Some(w) = &policy.workflow {
        let want = if w.contains('/') {
            w.clone()
        } else {
            format!(".github/workflows/{w}")
        };
        if src.workflow != want {
            return Err(ProvenanceError::Source {
                field: "workflow",
                expected: want,
                found: src.workflow.clone(),
            });
        }
    }
    if let Some(re) = &policy.ref_regexp
        && !crate::policy::whole_match(re, &src.git_ref)
    {
        return Err(ProvenanceError::Source {
            field: "ref",
            expected: format!("/{}/ (whole match)", re.as_str()),
            found: src.git_ref.clone(),
        });
    }
    Ok(())
}

/// The package URL of an npm package: `pkg:npm/name@1.0.0`, `pkg:npm/%40scope/name@1.0.0`.
pub fn npm_purl(name: &str, version: &str) -> String {
    match name.strip_prefix('@') {
        Some(scoped) => format!("pkg:npm/%40{scoped}@{version}"),
        None => format!("pkg:npm/{name}@{version}"),
    }
}

/// What a verified npm provenance established.
#[derive(Debug, Clone)]
pub struct NpmVerified {
    pub purl: String,
    pub source: Source,
    pub identity: String,
    pub integrated_time: Option<String>,
    /// Whether npm's publish attestation was present (and then verified).
    pub publish_attestation: bool,
}

fn statement_of(bundle: &Value) -> Result<Value, ProvenanceError> {
    let payload = bundle
        .pointer("/dsseEnvelope/payload")
        .and_then(Value::as_str)
        .ok_or_else(|| ProvenanceError::Statement("no DSSE payload".into()))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| ProvenanceError::Statement(format!("payload is not base64: {e}")))?;
    crate::json::parse_strict(&bytes).map_err(|e| ProvenanceError::Statement(e.to_string()))
}

/// The statement's one subject must be `expected` with `digest_hex` under `/digest/<algo>`
/// (npm: the package URL and the tarball's SHA-512; PyPI: the file name and its SHA-256).
/// `one` says what the single subject stands for, in the error.
fn check_one_subject(
    stmt: &Value,
    expected: &str,
    algo: &str,
    digest_hex: &str,
    one: &str,
) -> Result<(), ProvenanceError> {
    let subjects = stmt
        .get("subject")
        .and_then(Value::as_array)
        .ok_or_else(|| ProvenanceError::Statement("no subject list".into()))?;
    let [subject] = subjects.as_slice() else {
        return Err(ProvenanceError::Statement(format!(
            "{} subjects; {one}",
            subjects.len()
        )));
    };
    let name = subject.get("name").and_then(Value::as_str).unwrap_or("");
    if name != expected {
        return Err(ProvenanceError::Subject {
            expected: expected.to_owned(),
            found: name.to_owned(),
        });
    }
    let digest = subject
        .get("digest")
        .and_then(|d| d.get(algo))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !digest.eq_ignore_ascii_case(digest_hex) {
        return Err(ProvenanceError::Digest {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The Sigstore checks of a CI-signed bundle over `artifact` (its statement `stmt`, whose
/// subject's `/digest/<algo>` is compared with `digest_hex` first: another version's file is
/// named as such before the signature check, which would refuse it too), with the GitHub
/// Actions issuer and any workflow identity; then the source the certificate's SAN names
/// (the caller checks it against the predicate and the policy). Returns the verification,
/// the SAN and the source.
fn verify_ci(
    artifact: &[u8],
    bundle: &Value,
    stmt: &Value,
    algo: &str,
    digest_hex: &str,
    root: &sigstore_verify::trust_root::TrustedRoot,
) -> Result<(keyless::KeylessVerified, String, Source), ProvenanceError> {
    if let Some(d) = stmt
        .pointer(&format!("/subject/0/digest/{algo}"))
        .and_then(Value::as_str)
        && !d.eq_ignore_ascii_case(digest_hex)
    {
        return Err(ProvenanceError::Digest {
            name: stmt
                .pointer("/subject/0/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
        });
    }
    let any = regex::Regex::new(".*").map_err(|e| ProvenanceError::Document(e.to_string()))?;
    let v = keyless::verify(
        &mut &artifact[..],
        &bundle.to_string(),
        &Signer::Identity {
            identity: IdentityMatch::Regex(&any),
            issuer: GITHUB_ACTIONS_ISSUER,
        },
        root,
    )?;
    let san = v.identity().unwrap_or("").to_owned();
    let source = parse_github_san(&san).ok_or_else(|| ProvenanceError::NotWorkflow(san.clone()))?;
    Ok((v, san, source))
}

/// The source the signed predicate names (SLSA v1 `buildDefinition.externalParameters.workflow`
/// or v0.2 `invocation.configSource`), compared with the certificate's.
fn check_predicate(stmt: &Value, cert: &Source) -> Result<(), ProvenanceError> {
    let pt = stmt
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (repo, workflow, git_ref) = match pt {
        "https://slsa.dev/provenance/v1" => {
            let w = stmt
                .pointer("/predicate/buildDefinition/externalParameters/workflow")
                .ok_or_else(|| {
                    ProvenanceError::Statement("no externalParameters.workflow".into())
                })?;
            let s = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (
                s("repository").trim_start_matches("https://").to_owned(),
                s("path"),
                s("ref"),
            )
        }
        "https://slsa.dev/provenance/v0.2" => {
            let c = stmt
                .pointer("/predicate/invocation/configSource")
                .ok_or_else(|| ProvenanceError::Statement("no invocation.configSource".into()))?;
            let uri = c.get("uri").and_then(Value::as_str).unwrap_or("");
            let (repo, git_ref) = uri
                .strip_prefix("git+https://")
                .and_then(|u| u.split_once('@'))
                .unwrap_or(("", ""));
            // entryPoint: "ORG/REPO/.github/workflows/FILE@REF" (npm's v0.2 form) or the path.
            let ep = c.get("entryPoint").and_then(Value::as_str).unwrap_or("");
            let ep = ep.split_once('@').map_or(ep, |(p, _)| p);
            let workflow = ep
                .find(".github/workflows/")
                .map_or(ep, |i| &ep[i..])
                .to_owned();
            (repo.to_owned(), workflow, git_ref.to_owned())
        }
        other => {
            return Err(ProvenanceError::Statement(format!(
                "predicate type {other:?} is not SLSA provenance v1 or v0.2"
            )));
        }
    };
    for (field, p, c) in [
        ("repository", &repo, &cert.repository),
        ("workflow", &workflow, &cert.workflow),
        ("ref", &git_ref, &cert.git_ref),
    ] {
        if !p.eq_ignore_ascii_case(c) {
            return Err(ProvenanceError::PredicateMismatch {
                field,
                predicate: p.clone(),
                certificate: c.clone(),
            });
        }
    }
    Ok(())
}

/// Verifies an npm tarball (`tarball`, its bytes) against npm's attestations document for
/// `name@version`, offline against `root`.
pub fn verify_npm(
    tarball: &[u8],
    attestations: &[u8],
    name: &str,
    version: &str,
    policy: &SourcePolicy,
    root: &sigstore_verify::trust_root::TrustedRoot,
) -> Result<NpmVerified, ProvenanceError> {
    let doc = crate::json::parse_strict(attestations)
        .map_err(|e| ProvenanceError::Document(e.to_string()))?;
    let list = doc
        .get("attestations")
        .and_then(Value::as_array)
        .ok_or_else(|| ProvenanceError::Document("no \"attestations\" list".into()))?;
    let pick = |pred: &dyn Fn(&str) -> bool| -> Vec<&Value> {
        list.iter()
            .filter(|a| {
                a.get("predicateType")
                    .and_then(Value::as_str)
                    .is_some_and(pred)
            })
            .filter_map(|a| a.get("bundle"))
            .collect()
    };
    let slsa = pick(&|t: &str| t.starts_with("https://slsa.dev/provenance/"));
    let bundle = match slsa.as_slice() {
        [] => return Err(ProvenanceError::Missing(list.len())),
        [one] => *one,
        more => return Err(ProvenanceError::Ambiguous(more.len())),
    };
    let purl = npm_purl(name, version);
    let sha512_hex = hex::encode(Sha512::digest(tarball));
    let stmt = statement_of(bundle)?;
    let (v, san, source) = verify_ci(tarball, bundle, &stmt, "sha512", &sha512_hex, root)?;
    // npm attests one tarball: its package URL with its SHA-512.
    let npm_subject = |stmt: &Value| {
        check_one_subject(
            stmt,
            &purl,
            "sha512",
            &sha512_hex,
            "npm attests one tarball",
        )
    };
    npm_subject(&stmt)?;
    check_predicate(&stmt, &source)?;
    check_source(&source, policy)?;
    // npm's publish attestation, when present: npm's key, the same package.
    let publish = pick(&|t: &str| t == NPM_PUBLISH_PREDICATE);
    let publish_attestation = !publish.is_empty();
    for b in publish {
        keyless::verify(
            &mut &tarball[..],
            &b.to_string(),
            &Signer::Key {
                pem: NPM_REGISTRY_KEY_PEM,
            },
            root,
        )
        .map_err(|e| ProvenanceError::Publish(e.to_string()))?;
        npm_subject(&statement_of(b)?).map_err(|e| ProvenanceError::Publish(e.to_string()))?;
    }
    Ok(NpmVerified {
        purl,
        source,
        identity: san,
        integrated_time: v.integrated_time().map(str::to_owned),
        publish_attestation,
    })
}

/// PEP 740's publish predicate.
pub const PYPI_PUBLISH_PREDICATE: &str = "https://docs.pypi.org/attestations/publish/v1";

/// What a verified PyPI provenance established.
#[derive(Debug, Clone)]
pub struct PypiVerified {
    pub filename: String,
    pub source: Source,
    pub identity: String,
    /// The Trusted Publisher's environment as PyPI recorded it (not signed by the publisher).
    pub environment: Option<String>,
    /// How many attestations verified.
    pub attestations: usize,
    pub integrated_time: Option<String>,
}

/// A PEP 740 attestation object as the Sigstore bundle v0.3 it stands for (the form the
/// keyless verifier reads): the certificate, the transparency entries as they are, and the
/// DSSE envelope of the in-toto statement.
fn pep740_to_bundle(att: &Value) -> Result<Value, ProvenanceError> {
    let bad = |w: &str| ProvenanceError::Document(format!("attestation object: {w}"));
    if att.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(bad("version is not 1"));
    }
    let vm = att
        .get("verification_material")
        .ok_or_else(|| bad("no verification_material"))?;
    let text = |o: &Value, k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad(&format!("no {k}")))
    };
    let cert = text(vm, "certificate")?;
    let entries = vm
        .get("transparency_entries")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no transparency_entries"))?;
    let env = att.get("envelope").ok_or_else(|| bad("no envelope"))?;
    let statement = text(env, "statement")?;
    let signature = text(env, "signature")?;
    Ok(serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": cert}, "tlogEntries": entries},
        "dsseEnvelope": {
            "payload": statement,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": signature}],
        },
    }))
}

/// Verifies a wheel or sdist (`dist`, its bytes; `filename`, its file name) against a PEP 740
/// provenance file (`{"version": 1, "attestation_bundles": [...]}`) or one attestation object,
/// offline against `root`. Every attestation must verify; the Trusted Publisher must be a
/// GitHub Actions workflow matching `policy`, and agree with the provenance file's publisher.
pub fn verify_pypi(
    dist: &[u8],
    filename: &str,
    doc: &[u8],
    policy: &SourcePolicy,
    environment: Option<&str>,
    root: &sigstore_verify::trust_root::TrustedRoot,
) -> Result<PypiVerified, ProvenanceError> {
    let doc =
        crate::json::parse_strict(doc).map_err(|e| ProvenanceError::Document(e.to_string()))?;
    // (publisher as PyPI recorded it, attestation)
    let mut items: Vec<(Option<&Value>, &Value)> = Vec::new();
    if let Some(bundles) = doc.get("attestation_bundles").and_then(Value::as_array) {
        for b in bundles {
            let publisher = b.get("publisher");
            for a in b
                .get("attestations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                items.push((publisher, a));
            }
        }
    } else if doc.get("envelope").is_some() {
        items.push((None, &doc));
    } else {
        return Err(ProvenanceError::Document(
            "neither a provenance file (attestation_bundles) nor an attestation object".into(),
        ));
    }
    if items.is_empty() {
        return Err(ProvenanceError::Missing(0));
    }
    let sha256_hex = hex::encode(sha2::Sha256::digest(dist));
    let mut first: Option<(Source, String, Option<String>)> = None;
    let mut env_seen: Option<String> = None;
    for (publisher, att) in &items {
        let bundle = pep740_to_bundle(att)?;
        let stmt = statement_of(&bundle)?;
        let (v, san, source) = verify_ci(dist, &bundle, &stmt, "sha256", &sha256_hex, root)?;
        check_one_subject(
            &stmt,
            filename,
            "sha256",
            &sha256_hex,
            "a PEP 740 attestation is about one distribution",
        )?;
        let pt = stmt
            .get("predicateType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if pt != PYPI_PUBLISH_PREDICATE && !pt.starts_with("https://slsa.dev/provenance/") {
            return Err(ProvenanceError::Statement(format!("predicate type {pt:?}")));
        }
        if let Some(p) = publisher {
            // PyPI's record of the Trusted Publisher must name the certificate's source.
            let kind = p.get("kind").and_then(Value::as_str).unwrap_or("");
            let repo = p.get("repository").and_then(Value::as_str).unwrap_or("");
            let wf = p.get("workflow").and_then(Value::as_str).unwrap_or("");
            let cert_repo = source.repository.trim_start_matches("github.com/");
            let cert_wf = source.workflow.trim_start_matches(".github/workflows/");
            for (field, said, cert) in [
                ("publisher kind", kind, "GitHub"),
                ("repository", repo, cert_repo),
                ("workflow", wf, cert_wf),
            ] {
                if !said.eq_ignore_ascii_case(cert) {
                    return Err(ProvenanceError::PredicateMismatch {
                        field,
                        predicate: said.to_owned(),
                        certificate: cert.to_owned(),
                    });
                }
            }
            env_seen = p
                .get("environment")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        check_source(&source, policy)?;
        match &first {
            None => first = Some((source, san, v.integrated_time().map(str::to_owned))),
            Some((s, _, _)) if *s != source => {
                return Err(ProvenanceError::PredicateMismatch {
                    field: "source of a second attestation",
                    predicate: format!("{}@{}", source.repository, source.git_ref),
                    certificate: format!("{}@{}", s.repository, s.git_ref),
                });
            }
            Some(_) => {}
        }
    }
    if let Some(want) = environment
        && env_seen.as_deref() != Some(want)
    {
        return Err(ProvenanceError::Source {
            field: "environment",
            expected: want.to_owned(),
            found: env_seen.unwrap_or_else(|| "(none recorded)".into()),
        });
    }
    let Some((source, identity, integrated_time)) = first else {
        return Err(ProvenanceError::Missing(0));
    };
    Ok(PypiVerified {
        filename: filename.to_owned(),
        source,
        identity,
        environment: env_seen,
        attestations: items.len(),
        integrated_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_san_is_read_strictly() {
        let s = parse_github_san(
            "https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0",
        )
        .unwrap();
        assert_eq!(s.repository, "github.com/sigstore/sigstore-js");
        assert_eq!(s.workflow, ".github/workflows/publish.yml");
        assert_eq!(s.git_ref, "refs/tags/v1.0.0");
        for bad in [
            "https://gitlab.com/a/b/.github/workflows/x.yml@refs/heads/main",
            "https://github.com/a/b/other/x.yml@refs/heads/main",
            "https://github.com/a/b/.github/workflows/x.yml",
            "https://github.com//b/.github/workflows/x.yml@refs/heads/main",
            "https://github.com/a/b/.github/workflows/x.yml@main",
            "brian@example.com",
        ] {
            assert!(parse_github_san(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn source_policy_checks_each_field_and_the_whole_ref() {
        let src = Source {
            repository: "github.com/org/repo".into(),
            workflow: ".github/workflows/release.yml".into(),
            git_ref: "refs/tags/v1.2.3".into(),
        };
        let mut p = SourcePolicy::default();
        assert!(check_source(&src, &p).is_ok());
        p.repository = Some("github.com/org/repo".into());
        p.workflow = Some("release.yml".into());
        p.ref_regexp = Some(regex::Regex::new("refs/tags/v.*").unwrap());
        assert!(check_source(&src, &p).is_ok());
        let mut other = p.clone();
        other.repository = Some("github.com/org/repo-fork".into());
        assert!(check_source(&src, &other).is_err());
        let mut other = p.clone();
        other.workflow = Some("ci.yml".into());
        assert!(check_source(&src, &other).is_err());
        // A regexp must match the whole ref: "v1" does not let "refs/heads/v1-evil" through.
        let mut other = p.clone();
        other.ref_regexp = Some(regex::Regex::new("refs/tags/v1").unwrap());
        assert!(check_source(&src, &other).is_err());
        let branch = Source {
            git_ref: "refs/heads/main".into(),
            ..src.clone()
        };
        assert!(check_source(&branch, &p).is_err());
    }

    #[test]
    fn scoped_names_are_percent_encoded_in_the_purl() {
        assert_eq!(npm_purl("sigstore", "1.0.0"), "pkg:npm/sigstore@1.0.0");
        assert_eq!(
            npm_purl("@modelcontextprotocol/server-memory", "1.0.0"),
            "pkg:npm/%40modelcontextprotocol/server-memory@1.0.0"
        );
    }
}
