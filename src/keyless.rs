//! Certificate-based ("keyless") Sigstore bundles, verified offline against a trusted root.
//!
//! The checks are the maintained `sigstore-verify` crate's (design.md says why not the older
//! `sigstore` crate): bundle media types v0.1–v0.3; message signatures and DSSE; the signing
//! certificate's chain to a Fulcio CA in the trusted root, valid at the signing time; SCTs;
//! the transparency-log entry (inclusion proof with a signed checkpoint, or an inclusion
//! promise; Rekor v2 entries with RFC 3161 timestamps); and the identity (SAN) and OIDC issuer.
//! A certificate identity can also be matched by a regular expression, which must match the
//! whole SAN. Managed-key bundles verify with a PEM public key instead of an identity.
//!
//! The Sigstore public-good trusted root is embedded (the crate's copy); a caller may pass
//! another. Nothing is fetched: no TUF update, no network.

use std::io::Read;

use sigstore_verify::trust_root::{SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot};
use sigstore_verify::types::{Bundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

/// Largest artifact read into memory for schemes that need the whole message.
pub const MAX_IN_MEMORY: u64 = 1 << 30;

/// Who must have signed.
pub enum Signer<'a> {
    /// A certificate whose SAN equals `identity` (or matches `regex` wholly) and whose OIDC
    /// issuer equals `issuer`.
    Identity {
        identity: IdentityMatch<'a>,
        issuer: &'a str,
    },
    /// A managed key (PEM SubjectPublicKeyInfo).
    Key { pem: &'a str },
}

pub enum IdentityMatch<'a> {
    Exact(&'a str),
    Regex(&'a regex::Regex),
}

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct KeylessVerified {
    identity: Option<String>,
    issuer: Option<String>,
    integrated_time: Option<String>,
    /// The DSSE payload the verified signature covers (none for a message-signature bundle).
    payload: Option<Vec<u8>>,
    /// SHA-256 of the artifact bytes the signature was verified over.
    artifact: crate::digest::Digest,
}

/// A verified bundle that does not sign an acceptable mcpseal release statement for the
/// artifact it was verified over.
#[derive(Debug, thiserror::Error)]
pub enum NotAReleaseStatement {
    #[error("the bundle signs no in-toto statement (no DSSE envelope)")]
    NoEnvelope,
    #[error(
        "the signed statement is not an mcpseal release statement ({})",
        crate::bundle::PREDICATE_TYPE
    )]
    OtherStatement,
    /// The statement fails the checks key-signed statements pass ([`crate::bundle::check_statement`]).
    #[error("{0}")]
    Invalid(crate::bundle::VerifyError),
    /// Its subjects are not exactly the artifact verified.
    #[error("{0}")]
    Subjects(crate::bundle::SubjectError),
}

impl NotAReleaseStatement {
    /// The reason code: `bad-statement`, or the subject mismatch's own code.
    pub fn code(&self) -> &'static str {
        match self {
            NotAReleaseStatement::Subjects(e) => e.code(),
            NotAReleaseStatement::NoEnvelope
            | NotAReleaseStatement::OtherStatement
            | NotAReleaseStatement::Invalid(_) => "bad-statement",
        }
    }
}

impl KeylessVerified {
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
    pub fn integrated_time(&self) -> Option<&str> {
        self.integrated_time.as_deref()
    }
    /// The signed DSSE payload: only a verified bundle's is read, so no path reads an
    /// unverified statement.
    pub fn payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }
    /// The signed payload as mcpseal's release statement for `artifact` (the file this bundle
    /// was verified over), e.g. to compare its signed surface. Checked whole, as a key-signed
    /// statement is: strictly parsed, `predicateType` [`crate::bundle::PREDICATE_TYPE`],
    /// [`crate::bundle::check_statement`], and its subjects exactly the artifact
    /// ([`crate::bundle::match_subjects`]: a second subject, or the artifact listed twice, is
    /// refused).
    pub fn release_statement(
        &self,
        artifact: &std::path::Path,
    ) -> Result<crate::bundle::Statement, NotAReleaseStatement> {
        let payload = self.payload().ok_or(NotAReleaseStatement::NoEnvelope)?;
        let statement = crate::json::from_slice_strict(payload)
            .ok()
            .filter(|s: &crate::bundle::Statement| {
                s.predicate_type == crate::bundle::PREDICATE_TYPE
            })
            .ok_or(NotAReleaseStatement::OtherStatement)?;
        crate::bundle::check_statement(&statement).map_err(NotAReleaseStatement::Invalid)?;
        let name = artifact
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        crate::bundle::match_subjects(
            &statement,
            &[(artifact.display().to_string(), name, self.artifact)],
        )
        .map_err(NotAReleaseStatement::Subjects)?;
        Ok(statement)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    #[error("not a usable Sigstore bundle: {0}")]
    Bundle(String),
    #[error("the trusted root is not usable: {0}")]
    TrustRoot(String),
    #[error("the public key is not usable: {0}")]
    Key(String),
    #[error("identity mismatch: the certificate's SAN {} does not wholly match {expected}", found.as_deref().unwrap_or("(none)"))]
    Identity {
        expected: String,
        found: Option<String>,
    },
    #[error("{0}")]
    Verify(String),
    #[error("cannot read the artifact: {0}")]
    Artifact(String),
}

impl KeylessError {
    pub fn code(&self) -> &'static str {
        match self {
            KeylessError::Bundle(_) => "malformed-bundle",
            KeylessError::TrustRoot(_) => "bad-trusted-root",
            KeylessError::Key(_) => "key-malformed",
            KeylessError::Identity { .. } => "identity-mismatch",
            KeylessError::Verify(_) => "keyless-verification-failed",
            KeylessError::Artifact(_) => "io-error",
        }
    }
    /// Exit 2 (nothing could be decided) rather than 1 (the bundle says no).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            KeylessError::Bundle(_)
                | KeylessError::TrustRoot(_)
                | KeylessError::Key(_)
                | KeylessError::Artifact(_)
        )
    }
}

fn classify(e: sigstore_verify::Error) -> KeylessError {
    use sigstore_verify::Error as E;
    match e {
        E::IdentityMismatch { expected, actual } => KeylessError::Identity {
            expected: expected.to_string(),
            found: actual.map(|a| a.as_str().to_owned()),
        },
        E::ArtifactRead(io) => KeylessError::Artifact(io.to_string()),
        other => KeylessError::Verify(other.to_string()),
    }
}

/// The embedded Sigstore public-good trusted root.
pub fn production_root() -> Result<TrustedRoot, KeylessError> {
    TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT)
        .map_err(|e| KeylessError::TrustRoot(e.to_string()))
}

/// Parses a trusted root JSON document.
pub fn trusted_root(json: &str) -> Result<TrustedRoot, KeylessError> {
    TrustedRoot::from_json(json).map_err(|e| KeylessError::TrustRoot(e.to_string()))
}

/// Verifies `bundle_json` over the artifact in `artifact` against `root` for `signer`.
pub fn verify(
    artifact: &mut dyn Read,
    bundle_json: &str,
    signer: &Signer<'_>,
    root: &TrustedRoot,
) -> Result<KeylessVerified, KeylessError> {
    // Strict JSON first: a duplicate key is a parser differential, refused everywhere.
    let strict = crate::json::parse_strict(bundle_json.as_bytes())
        .map_err(|e| KeylessError::Bundle(e.to_string()))?;
    let payload = strict
        .pointer("/dsseEnvelope/payload")
        .and_then(serde_json::Value::as_str)
        .and_then(|p| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, p).ok());
    let bundle = Bundle::from_json(bundle_json).map_err(|e| KeylessError::Bundle(e.to_string()))?;
    let verifier = Verifier::new(root).map_err(|e| KeylessError::TrustRoot(e.to_string()))?;
    let mut bytes = Vec::new();
    artifact
        .take(MAX_IN_MEMORY + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| KeylessError::Artifact(e.to_string()))?;
    if bytes.len() as u64 > MAX_IN_MEMORY {
        return Err(KeylessError::Artifact(format!(
            "over the {MAX_IN_MEMORY}-byte limit"
        )));
    }
    let result = match signer {
        Signer::Key { pem } => {
            let key = DerPublicKey::from_pem(pem).map_err(|e| KeylessError::Key(e.to_string()))?;
            verifier
                .verify(
                    bytes.as_slice(),
                    &bundle,
                    &PublicKeyVerificationPolicy::new(key),
                )
                .map_err(classify)?
        }
        Signer::Identity { identity, issuer } => {
            let policy = match identity {
                IdentityMatch::Exact(id) => VerificationPolicy::new(*id, *issuer),
                IdentityMatch::Regex(_) => {
                    VerificationPolicy::any_identity().require_issuer(*issuer)
                }
            };
            let r = verifier
                .verify(bytes.as_slice(), &bundle, &policy)
                .map_err(classify)?;
            if let IdentityMatch::Regex(re) = identity {
                let san = r.identity().map(|s| s.as_str().to_owned());
                let whole = san
                    .as_deref()
                    .is_some_and(|s| crate::policy::whole_match(re, s));
                if !whole {
                    return Err(KeylessError::Identity {
                        expected: format!("/{}/", re.as_str()),
                        found: san,
                    });
                }
            }
            r
        }
    };
    Ok(KeylessVerified {
        identity: result.identity().map(|s| s.as_str().to_owned()),
        issuer: result.issuer().map(str::to_owned),
        integrated_time: result.integrated_time().map(|t| t.to_string()),
        payload,
        artifact: crate::digest::Digest::of(&bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{ReleasePredicate, Statement, Subject};
    use crate::digest::Digest;
    use std::path::Path;

    /// A verification result as `verify` returns it, for the statement checks that follow it.
    /// (No keyless bundle over an edited statement can be made offline: the conformance
    /// vectors carry no signing keys, and a Fulcio certificate needs Sigstore online. The full
    /// path, a real Sigstore bundle, is in tests/signed_surface.rs.)
    fn verified(payload: Option<&[u8]>) -> KeylessVerified {
        KeylessVerified {
            identity: None,
            issuer: None,
            integrated_time: None,
            payload: payload.map(<[u8]>::to_vec),
            artifact: Digest::of(b"a"),
        }
    }

    fn statement(subjects: Vec<Subject>) -> serde_json::Value {
        serde_json::to_value(Statement::new(subjects, ReleasePredicate::default())).unwrap()
    }

    fn check(st: &serde_json::Value) -> Result<Statement, NotAReleaseStatement> {
        verified(Some(&serde_json::to_vec(st).unwrap())).release_statement(Path::new("dist/a.tgz"))
    }

    /// Only mcpseal's release statement is read from a verified bundle: no envelope, another
    /// predicate type, or a payload that is not strict JSON is refused.
    #[test]
    fn release_statement_is_read_only_when_it_is_mcpseals() {
        let st = Statement::new(
            vec![Subject::new("a.tgz", &Digest::of(b"a"))],
            ReleasePredicate::default(),
        );
        let bytes = serde_json::to_vec(&st).unwrap();
        assert_eq!(
            verified(Some(&bytes))
                .release_statement(Path::new("a.tgz"))
                .unwrap(),
            st
        );
        assert!(matches!(
            verified(None).release_statement(Path::new("a.tgz")),
            Err(NotAReleaseStatement::NoEnvelope)
        ));
        let mut other = serde_json::to_value(&st).unwrap();
        other["predicateType"] = "https://slsa.dev/provenance/v1".into();
        assert!(matches!(
            check(&other),
            Err(NotAReleaseStatement::OtherStatement)
        ));
        let text = String::from_utf8(bytes).unwrap();
        let dup = text.replacen("{", "{\"_type\":\"x\",", 1);
        assert!(matches!(
            verified(Some(dup.as_bytes())).release_statement(Path::new("a.tgz")),
            Err(NotAReleaseStatement::OtherStatement)
        ));
    }

    /// Issue 15: a keyless release statement passes the key-signed path's whole check. Each
    /// case is the good statement with one thing edited, and must be refused with its code.
    #[test]
    fn attack_keyless_release_statements_are_checked_whole() {
        let a = Digest::of(b"a");
        let good = statement(vec![Subject::new("a.tgz", &a)]);
        assert!(check(&good).is_ok());

        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            (
                "the artifact listed twice",
                statement(vec![Subject::new("a.tgz", &a), Subject::new("a.tgz", &a)]),
                "bad-statement",
            ),
            (
                "the artifact twice under two names",
                statement(vec![Subject::new("a.tgz", &a), Subject::new("b.tgz", &a)]),
                "bad-statement",
            ),
            (
                "another artifact as well",
                statement(vec![
                    Subject::new("a.tgz", &a),
                    Subject::new("b.tgz", &Digest::of(b"b")),
                ]),
                "missing-subject",
            ),
            (
                "another artifact only",
                statement(vec![Subject::new("b.tgz", &Digest::of(b"b"))]),
                "unknown-subject",
            ),
            (
                "the artifact's name with another digest",
                statement(vec![Subject::new("a.tgz", &Digest::of(b"b"))]),
                "digest-mismatch",
            ),
            ("no subject", statement(vec![]), "bad-statement"),
            (
                "a malformed digest",
                {
                    let mut st = good.clone();
                    st["subject"][0]["digest"]["sha256"] = "ABC".into();
                    st
                },
                "bad-statement",
            ),
            (
                "another statement type",
                {
                    let mut st = good.clone();
                    st["_type"] = "https://in-toto.io/Statement/v0.1".into();
                    st
                },
                "bad-statement",
            ),
            (
                "another predicate type",
                {
                    let mut st = good.clone();
                    st["predicateType"] = "https://slsa.dev/provenance/v1".into();
                    st
                },
                "bad-statement",
            ),
        ];
        for (what, st, code) in cases {
            match check(&st) {
                Ok(_) => panic!("{what}: accepted"),
                Err(e) => assert_eq!(e.code(), code, "{what}: {e}"),
            }
        }
    }
}
