//! `mcpseal verify-registry`: a real server.json and real npm tarballs (testdata/registry,
//! see its README), and an MCPB entry for the MCPB test bundle.

mod common;

use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    common::root().join("testdata/registry")
}

fn run(cwd: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(cwd)
            .args(["--json", "verify-registry"])
            .args(args),
    );
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
    (code, v)
}

const EVERYTHING: &str = "modelcontextprotocol-server-everything-2026.8.31.tgz";
const MEMORY: &str = "modelcontextprotocol-server-memory-2026.8.31.tgz";

#[test]
fn a_real_entry_and_its_tarball_verify_and_the_name_marker_is_read() {
    let (code, v) = run(
        &dir(),
        &["server-everything.json", "--artifact", EVERYTHING],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["artifacts"][0]["nameMarker"],
        "io.github.modelcontextprotocol/server-everything"
    );
    // The upstream file as published: exact versions, so it passes on its own ...
    let (code, v) = run(&dir(), &["server-everything.upstream.json"]);
    assert_eq!(code, 0, "{v}");
    // ... but names no release the tarball is.
    let (code, v) = run(
        &dir(),
        &["server-everything.upstream.json", "--artifact", EVERYTHING],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "registry-artifact-unmatched");
}

#[test]
fn registry_checks_must_say_no() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for f in [EVERYTHING, MEMORY] {
        std::fs::copy(dir().join(f), d.join(f)).unwrap();
    }
    let base = std::fs::read_to_string(dir().join("server-everything.json")).unwrap();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "a range",
            base.replacen(
                "\"version\": \"2026.8.31\"",
                "\"version\": \"^2026.8.31\"",
                2,
            ),
            vec![],
            "registry-version-not-exact",
        ),
        (
            "latest",
            base.replace("\"version\": \"2026.8.31\"", "\"version\": \"latest\""),
            vec![],
            "registry-version-not-exact",
        ),
        (
            // Another package's tarball offered for this entry.
            "another package",
            base.clone(),
            vec![MEMORY],
            "registry-artifact-unmatched",
        ),
        (
            // An entry that claims a package whose package.json names another server: the
            // registry's name marker says this package is not this server's.
            "name marker of another server",
            base.replace(
                "@modelcontextprotocol/server-everything",
                "@modelcontextprotocol/server-memory",
            ),
            vec![MEMORY],
            "registry-name-marker-mismatch",
        ),
    ];
    for (what, json, artifacts, reason) in cases {
        std::fs::write(d.join("server.json"), json).unwrap();
        let mut args = vec!["server.json"];
        for a in artifacts {
            args.extend(["--artifact", a]);
        }
        let (code, v) = run(d, &args);
        assert_eq!(code, 1, "{what}: {v}");
        assert_eq!(v["reason"], reason, "{what}: {v}");
    }
    std::fs::write(
        d.join("server.json"),
        r#"{"name":"a","name":"b","version":"1.0.0"}"#,
    )
    .unwrap();
    let (code, v) = run(d, &["server.json"]);
    assert_eq!(
        (code, v["reason"].as_str()),
        (2, Some("registry-malformed")),
        "{v}"
    );
}

#[test]
fn mcpb_entries_are_checked_by_their_file_sha256() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bundle = common::root().join("testdata/mcpb/mcpb-2.1.2-self-signed.mcpb");
    std::fs::copy(&bundle, d.join("mcpb-2.1.2-self-signed.mcpb")).unwrap();
    let entry = std::fs::read_to_string(dir().join("hello-mcpb.json")).unwrap();
    std::fs::write(d.join("server.json"), &entry).unwrap();
    let (code, v) = run(
        d,
        &["server.json", "--artifact", "mcpb-2.1.2-self-signed.mcpb"],
    );
    assert_eq!(code, 0, "{v}");
    // The file changed by one byte: the registry's digest says no.
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[100] ^= 1;
    std::fs::write(d.join("mcpb-2.1.2-self-signed.mcpb"), &bytes).unwrap();
    let (code, v) = run(
        d,
        &["server.json", "--artifact", "mcpb-2.1.2-self-signed.mcpb"],
    );
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-digest-mismatch")),
        "{v}"
    );
    // An MCPB entry without fileSha256 cannot vouch for any file.
    let mut e: serde_json::Value = serde_json::from_str(&entry).unwrap();
    e["packages"][0]
        .as_object_mut()
        .unwrap()
        .remove("fileSha256");
    std::fs::write(d.join("server.json"), e.to_string()).unwrap();
    let (code, v) = run(
        d,
        &["server.json", "--artifact", "mcpb-2.1.2-self-signed.mcpb"],
    );
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-digest-missing")),
        "{v}"
    );
}
