//! npm provenance: real attestations of real tarballs, verified offline through the keyless
//! verifier against the Sigstore public-good trusted root in testdata (see
//! testdata/provenance/README.md for the sources). Every refusal is one edit of the real
//! documents, or a real file that is not the one attested.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;

fn dir() -> PathBuf {
    common::root().join("testdata/provenance/npm")
}

fn root_json() -> String {
    common::vectors()
        .join("sigstore-conformance/production_trusted_root.json")
        .display()
        .to_string()
}

fn verify(cwd: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let tr = root_json();
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(cwd)
            .args(["--json", "verify"])
            .args(args)
            .args(["--trusted-root", &tr]),
    );
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
    (code, v)
}

fn refused(cwd: &Path, args: &[&str], reason: &str) {
    let (code, v) = verify(cwd, args);
    assert_eq!(code, 1, "{args:?}: {v}");
    assert_eq!(v["reason"], reason, "{args:?}: {v}");
}

const SIGSTORE: [&str; 5] = [
    "sigstore-1.0.0.tgz",
    "--provenance",
    "sigstore-1.0.0.attestations.json",
    "--package",
    "sigstore@1.0.0",
];

#[test]
fn real_npm_provenance_verifies_with_the_source_the_policy_names() {
    let (code, v) = verify(
        &dir(),
        &[
            &SIGSTORE[..],
            &[
                "--repository",
                "github.com/sigstore/sigstore-js",
                "--workflow",
                "publish.yml",
                "--ref-regexp",
                "refs/tags/v.*",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["package"], "pkg:npm/sigstore@1.0.0");
    assert_eq!(v["source"]["repository"], "github.com/sigstore/sigstore-js");
    assert_eq!(v["source"]["workflow"], ".github/workflows/publish.yml");
    assert_eq!(v["source"]["ref"], "refs/tags/v1.0.0");
    assert_eq!(v["publishAttestation"], true);
    let (code, v) = verify(
        &dir(),
        &[
            "tuf-js-1.0.0.tgz",
            "--provenance",
            "tuf-js-1.0.0.attestations.json",
            "--package",
            "tuf-js@1.0.0",
            "--repository",
            "github.com/theupdateframework/tuf-js",
        ],
    );
    assert_eq!(code, 0, "{v}");
}

#[test]
fn another_version_another_package_another_source_are_refused() {
    let d = dir();
    // The tarball of another version of the same package.
    refused(
        &d,
        &[
            "sigstore-1.1.0.tgz",
            "--provenance",
            "sigstore-1.0.0.attestations.json",
            "--package",
            "sigstore@1.0.0",
        ],
        "provenance-digest-mismatch",
    );
    // Another package's real tarball and provenance, offered for the name asked for.
    refused(
        &d,
        &[
            "tuf-js-1.0.0.tgz",
            "--provenance",
            "tuf-js-1.0.0.attestations.json",
            "--package",
            "sigstore@1.0.0",
        ],
        "provenance-subject-mismatch",
    );
    // The right file, asked for as another version.
    refused(
        &d,
        &[&SIGSTORE[..4], &["sigstore@1.1.0"]].concat(),
        "provenance-subject-mismatch",
    );
    // Another repository (a fork), another workflow, a branch instead of a tag.
    for (flag, value) in [
        ("--repository", "github.com/attacker/sigstore-js"),
        ("--workflow", "release.yml"),
        ("--ref-regexp", "refs/heads/.*"),
        ("--ref-regexp", "refs/tags/v2.*"),
    ] {
        refused(
            &d,
            &[&SIGSTORE[..], &[flag, value]].concat(),
            "provenance-source-mismatch",
        );
    }
}

/// The attestations document with `edit` applied to the decoded statement of entry `i`.
fn edited_statement(i: usize, edit: impl Fn(&mut serde_json::Value)) -> String {
    let text = std::fs::read_to_string(dir().join("sigstore-1.0.0.attestations.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let p = doc["attestations"][i]["bundle"]["dsseEnvelope"]["payload"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stmt: serde_json::Value = serde_json::from_slice(&b64.decode(p).unwrap()).unwrap();
    edit(&mut stmt);
    doc["attestations"][i]["bundle"]["dsseEnvelope"]["payload"] =
        b64.encode(serde_json::to_vec(&stmt).unwrap()).into();
    doc.to_string()
}

#[test]
fn tampered_statements_and_documents_are_refused() {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir().join("sigstore-1.0.0.tgz"),
        t.path().join("sigstore-1.0.0.tgz"),
    )
    .unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            // The provenance rewritten to claim another source repository: the signature breaks.
            "SLSA statement's source rewritten",
            edited_statement(0, |s| {
                s["predicate"]["invocation"]["configSource"]["uri"] =
                    "git+https://github.com/attacker/sigstore-js@refs/tags/v1.0.0".into();
            }),
            "keyless-verification-failed",
        ),
        (
            "publish attestation's statement rewritten",
            edited_statement(1, |s| {
                s["predicate"]["registry"] = "https://evil.example".into();
            }),
            "npm-publish-attestation-invalid",
        ),
        (
            "no SLSA provenance",
            {
                let mut d: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(dir().join("sigstore-1.0.0.attestations.json"))
                        .unwrap(),
                )
                .unwrap();
                d["attestations"].as_array_mut().unwrap().remove(0);
                d.to_string()
            },
            "provenance-missing",
        ),
        (
            "two SLSA provenances",
            {
                let mut d: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(dir().join("sigstore-1.0.0.attestations.json"))
                        .unwrap(),
                )
                .unwrap();
                let first = d["attestations"][0].clone();
                d["attestations"].as_array_mut().unwrap().push(first);
                d.to_string()
            },
            "provenance-ambiguous",
        ),
    ];
    for (what, doc, reason) in cases {
        std::fs::write(t.path().join("att.json"), doc).unwrap();
        let (code, v) = verify(
            t.path(),
            &[
                "sigstore-1.0.0.tgz",
                "--provenance",
                "att.json",
                "--package",
                "sigstore@1.0.0",
            ],
        );
        assert_eq!(code, 1, "{what}: {v}");
        assert_eq!(v["reason"], reason, "{what}: {v}");
    }
    // A duplicate key is a parser differential: refused as malformed (exit 2).
    std::fs::write(
        t.path().join("att.json"),
        r#"{"attestations":[],"attestations":[]}"#,
    )
    .unwrap();
    let (code, v) = verify(
        t.path(),
        &[
            "sigstore-1.0.0.tgz",
            "--provenance",
            "att.json",
            "--package",
            "sigstore@1.0.0",
        ],
    );
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["reason"], "provenance-malformed");
    // Ranges and tags are not versions.
    for spec in [
        "sigstore@^1.0.0",
        "sigstore@latest",
        "sigstore",
        "sigstore@1.x",
    ] {
        let (code, v) = verify(
            &dir(),
            &[
                "sigstore-1.0.0.tgz",
                "--provenance",
                "sigstore-1.0.0.attestations.json",
                "--package",
                spec,
            ],
        );
        assert_eq!(code, 2, "{spec}: {v}");
        assert_eq!(v["reason"], "bad-package", "{spec}: {v}");
    }
}

fn pypi() -> PathBuf {
    common::root().join("testdata/provenance/pypi")
}

const SDIST: &str = "pypi_attestations-0.0.19.tar.gz";

#[test]
fn real_pep740_provenance_verifies_with_its_trusted_publisher() {
    for doc in [
        "pypi_attestations-0.0.19.tar.gz.provenance",
        "pypi_attestations-0.0.19.tar.gz.publish.attestation",
        "pypi_attestations-0.0.19.tar.gz.slsa.attestation",
    ] {
        let (code, v) = verify(
            &pypi(),
            &[
                SDIST,
                "--provenance",
                doc,
                "--repository",
                "github.com/trailofbits/pypi-attestations",
                "--workflow",
                "release.yml",
                "--ref-regexp",
                "refs/tags/v.*",
            ],
        );
        assert_eq!(code, 0, "{doc}: {v}");
        assert_eq!(v["distribution"], SDIST);
        assert_eq!(v["source"]["ref"], "refs/tags/v0.0.19");
    }
}

#[test]
fn pep740_must_say_no() {
    let d = pypi();
    let prov = "pypi_attestations-0.0.19.tar.gz.provenance";
    // Another version's real sdist against 0.0.19's provenance.
    refused(
        &d,
        &["pypi_attestations-0.0.20.tar.gz", "--provenance", prov],
        "provenance-digest-mismatch",
    );
    // Another project's real sdist.
    refused(
        &d,
        &["gitlab_oidc_project-0.0.3.tar.gz", "--provenance", prov],
        "provenance-digest-mismatch",
    );
    // Another repository, another workflow, a branch, an environment PyPI did not record.
    for (flag, value) in [
        ("--repository", "github.com/attacker/pypi-attestations"),
        ("--workflow", "ci.yml"),
        ("--ref-regexp", "refs/heads/.*"),
        ("--environment", "pypi"),
    ] {
        refused(
            &d,
            &[SDIST, "--provenance", prov, flag, value],
            "provenance-source-mismatch",
        );
    }
    // A Trusted Publisher that is not GitHub Actions (GitLab) is not accepted yet.
    refused(
        &d,
        &[
            "gitlab_oidc_project-0.0.3.tar.gz",
            "--provenance",
            "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
        ],
        "keyless-verification-failed",
    );
    let t = tempfile::tempdir().unwrap();
    // The same bytes under another version's file name: the subject names 0.0.19.
    std::fs::copy(
        d.join(SDIST),
        t.path().join("pypi_attestations-0.0.21.tar.gz"),
    )
    .unwrap();
    std::fs::copy(d.join(prov), t.path().join(prov)).unwrap();
    refused(
        t.path(),
        &["pypi_attestations-0.0.21.tar.gz", "--provenance", prov],
        "provenance-subject-mismatch",
    );
    // Edits of the real provenance file.
    std::fs::copy(d.join(SDIST), t.path().join(SDIST)).unwrap();
    let text = std::fs::read_to_string(d.join(prov)).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let edits: Vec<(&str, Edit<'_>, &str)> = vec![
        (
            "statement rewritten (subject renamed)",
            Box::new(|doc| {
                let a = &mut doc["attestation_bundles"][0]["attestations"][0]["envelope"];
                let mut s: serde_json::Value =
                    serde_json::from_slice(&b64.decode(a["statement"].as_str().unwrap()).unwrap())
                        .unwrap();
                s["predicate"] = serde_json::json!({"note": "rewritten"});
                a["statement"] = b64.encode(serde_json::to_vec(&s).unwrap()).into();
            }),
            "keyless-verification-failed",
        ),
        (
            "PyPI's publisher record names another repository",
            Box::new(|doc| {
                doc["attestation_bundles"][0]["publisher"]["repository"] =
                    "attacker/pypi-attestations".into();
            }),
            "provenance-predicate-mismatch",
        ),
        (
            "no attestations",
            Box::new(|doc| {
                doc["attestation_bundles"][0]["attestations"] = serde_json::json!([]);
            }),
            "provenance-missing",
        ),
    ];
    for (what, edit, reason) in edits {
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        edit(&mut doc);
        std::fs::write(t.path().join("edited.provenance"), doc.to_string()).unwrap();
        let (code, v) = verify(t.path(), &[SDIST, "--provenance", "edited.provenance"]);
        assert_eq!(code, 1, "{what}: {v}");
        assert_eq!(v["reason"], reason, "{what}: {v}");
    }
}
