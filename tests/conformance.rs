//! Every case of the sigstore-conformance bundle-verify suite (`testdata/vectors/
//! sigstore-conformance`, its README says how): each non-`_fail` case must verify and each
//! `_fail` case must be refused. All cases run; the failure message lists every mismatch.
//!
//! Cases the verifier cannot support are listed in [`EXPECTED_REFUSALS`] with the reason and
//! docs/keyless.md; their refusal is asserted, never skipped.

mod common;

use std::path::Path;

use mcpseal::keyless::{self, IdentityMatch, Signer};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Passing cases the verifier refuses, and why (docs/keyless.md).
const EXPECTED_REFUSALS: &[(&str, &str)] = &[];

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// Verifies one case through the library; Ok(()) verified, Err(why) refused.
fn verify_case(dir: &Path, root_dir: &Path) -> Result<(), String> {
    let bundle =
        std::fs::read_to_string(dir.join("bundle.sigstore.json")).map_err(|e| e.to_string())?;
    let artifact_path = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        root_dir.join("a.txt")
    };
    let root_json = std::fs::read_to_string(if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        root_dir.join("production_trusted_root.json")
    })
    .map_err(|e| e.to_string())?;
    let root = keyless::trusted_root(&root_json).map_err(|e| e.to_string())?;
    let mut artifact = std::fs::File::open(&artifact_path).map_err(|e| e.to_string())?;
    let key = read(&dir.join("key.pub"));
    let identity = read(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into());
    let issuer = read(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into());
    let signer = match &key {
        Some(pem) => Signer::Key { pem },
        None => Signer::Identity {
            identity: IdentityMatch::Exact(&identity),
            issuer: &issuer,
        },
    };
    keyless::verify(&mut artifact, &bundle, &signer, &root)
        .map(|_| ())
        .map_err(|e| format!("[{}] {e}", e.code()))
}

#[test]
fn every_conformance_case_verifies_or_is_refused_as_expected() {
    let root_dir = common::vectors().join("sigstore-conformance");
    let Some(root_dir) = common::require("sigstore-conformance vectors", root_dir) else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(&root_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 50, "found only {} cases", cases.len());
    let mut wrong = Vec::new();
    let (mut passed, mut refused) = (0, 0);
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let must_fail =
            name.ends_with("_fail") || EXPECTED_REFUSALS.iter().any(|(n, _)| *n == name);
        match (verify_case(dir, &root_dir), must_fail) {
            (Ok(()), false) => passed += 1,
            (Err(_), true) => refused += 1,
            (Ok(()), true) => wrong.push(format!("{name}: verified, but must be refused")),
            (Err(why), false) => wrong.push(format!("{name}: refused, but must verify: {why}")),
        }
    }
    eprintln!(
        "conformance: {passed} verified, {refused} refused, {} wrong",
        wrong.len()
    );
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

fn cli(args: &[&str]) -> (i32, String, String) {
    common::run(common::mcpseal().args(args))
}

/// The CLI front door: exact identity, whole-match regex, and the ways it must say no.
#[test]
fn keyless_cli_checks_identity_and_issuer() {
    let Some(v) = common::require(
        "sigstore-conformance vectors",
        common::vectors().join("sigstore-conformance"),
    ) else {
        return;
    };
    let a = v.join("a.txt").display().to_string();
    let b = v
        .join("happy-path-v0.3/bundle.sigstore.json")
        .display()
        .to_string();
    let base = ["verify", &a, "--bundle", &b];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        cli(&args)
    };
    assert_eq!(
        with(&[
            "--certificate-identity",
            DEFAULT_IDENTITY,
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER
        ])
        .0,
        0,
        "embedded root"
    );
    assert_eq!(
        with(&[
            "--certificate-identity-regexp",
            "https://github\\.com/sigstore-conformance/.*",
            "--certificate-oidc-issuer",
            DEFAULT_ISSUER
        ])
        .0,
        0
    );
    let (code, _, err) = with(&[
        "--certificate-identity-regexp",
        "sigstore-conformance",
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(code, 1, "a regex must match the whole SAN: {err}");
    assert!(err.contains("identity-mismatch"), "{err}");
    let (code, _, err) = with(&[
        "--certificate-identity",
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("identity-mismatch"), "{err}");
    let (code, _, err) = with(&[
        "--certificate-identity",
        DEFAULT_IDENTITY,
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("issuer mismatch"), "{err}");
    let (code, _, err) = with(&["--certificate-identity", DEFAULT_IDENTITY]);
    assert_eq!(code, 2);
    assert!(err.contains("issuer-needed"), "{err}");
    // A tampered artifact.
    let t = tempfile::tempdir().unwrap();
    let other = t.path().join("a.txt");
    std::fs::write(&other, "not the signed bytes").unwrap();
    let o = other.display().to_string();
    let (code, _, _) = cli(&[
        "verify",
        &o,
        "--bundle",
        &b,
        "--certificate-identity",
        DEFAULT_IDENTITY,
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(code, 1);
    // Not a bundle at all: exit 2.
    let junk = t.path().join("junk.json");
    std::fs::write(&junk, "{\"mediaType\": 1}").unwrap();
    let j = junk.display().to_string();
    let (code, _, err) = cli(&[
        "verify",
        &a,
        "--bundle",
        &j,
        "--certificate-identity",
        DEFAULT_IDENTITY,
        "--certificate-oidc-issuer",
        DEFAULT_ISSUER,
    ]);
    assert_eq!(code, 2, "{err}");
}

/// Issue 12: the managed-key cases (a P-256 key cosign users have, a hashedrekord message
/// signature with a Rekor entry) through the CLI front door, `verify --key`, which refused any
/// key but Ed25519 with exit 2. The happy case verifies (signature and tlog entry); the wrong
/// key, a tampered log entry, another file and a bundle signed by another key must say no.
#[test]
fn managed_key_cases_verify_through_the_cli_issue_12() {
    let Some(v) = common::require(
        "sigstore-conformance vectors",
        common::vectors().join("sigstore-conformance"),
    ) else {
        return;
    };
    let a = v.join("a.txt").display().to_string();
    let case = |name: &str| v.join(name);
    let verify = |bundle: &Path, key: &Path, artifact: &str| {
        cli(&[
            "--json",
            "verify",
            artifact,
            "--bundle",
            &bundle.display().to_string(),
            "--key",
            &key.display().to_string(),
        ])
    };
    let happy = case("managed-key-happy-path");
    let bundle = happy.join("bundle.sigstore.json");
    let key = happy.join("key.pub");
    let (code, out, err) = verify(&bundle, &key, &a);
    assert_eq!(code, 0, "{out}{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["keyType"], "ECDSA P-256");
    assert_eq!(j["transparencyLog"], true, "{out}");

    // The wrong-key case's key.pub is not even valid base64: refused as input.
    let wrong = case("managed-key-wrong-key_fail");
    let (code, _, err) = verify(
        &wrong.join("bundle.sigstore.json"),
        &wrong.join("key.pub"),
        &a,
    );
    assert_eq!(code, 2, "{err}");

    let t = tempfile::tempdir().unwrap();
    // Another file than the one signed.
    let other = t.path().join("a.txt");
    std::fs::write(&other, "not the signed bytes").unwrap();
    let (code, out, _) = verify(&bundle, &key, &other.display().to_string());
    assert_eq!(code, 1);
    assert!(out.contains("digest-mismatch"), "{out}");

    // Another P-256 key (cosign's own CI key) than the one that signed.
    let (code, out, _) = verify(
        &bundle,
        &common::root().join("testdata/keys/cosign/cosign-ci.pub"),
        &a,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("wrong-key"), "{out}");

    // The signature is right but the Rekor entry is tampered: its inclusion proof's root hash,
    // then its signed entry timestamp. The key alone must not carry the bundle.
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 2] = [
        ("root hash", |b| {
            b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"] =
                "rnpacIXSjoToEDh0qD4CLAKdkPnW1Y4R1DhFMS+AGlA=".into();
        }),
        ("integrated time", |b| {
            b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = "1766077480".into();
        }),
    ];
    for (what, edit) in edits {
        let mut b = original.clone();
        edit(&mut b);
        let p = t.path().join("tampered.json");
        std::fs::write(&p, serde_json::to_vec(&b).unwrap()).unwrap();
        let (code, out, err) = verify(&p, &key, &a);
        assert_eq!(code, 1, "tampered {what} must be refused: {out}{err}");
    }
}
