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
