//! minisign and signify: the vectors in `testdata/vectors/minisign` (made with Debian's
//! minisign 0.11) and a round trip with Debian's `signify-openbsd`.

mod common;

use std::path::Path;
use std::process::Command;

fn verify(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(dir)
            .arg("--json")
            .arg("verify")
            .args(args),
    );
    (
        code,
        serde_json::from_str(&out).unwrap_or(serde_json::Value::Null),
        err,
    )
}

#[test]
fn minisign_vectors_verify_and_refuse_as_their_readme_says() {
    let Some(v) = common::require("minisign vectors", common::vectors().join("minisign")) else {
        return;
    };
    // Prehashed (ED) and legacy (Ed) both verify, and the trusted comment is shown.
    for sig in ["artifact.txt.minisig", "artifact.txt.legacy.minisig"] {
        let (code, out, err) = verify(
            &v,
            &[
                "artifact.txt",
                "--minisign-key",
                "key.pub",
                "--signature",
                sig,
            ],
        );
        assert_eq!(code, 0, "{sig}: {out} {err}");
        assert!(!out["trustedComment"].as_str().unwrap().is_empty(), "{out}");
    }
    let must_fail = [
        (
            &[
                "tampered.txt",
                "--minisign-key",
                "key.pub",
                "--signature",
                "artifact.txt.minisig",
            ][..],
            "minisign-bad-signature",
        ),
        (
            &[
                "artifact.txt",
                "--minisign-key",
                "key.pub",
                "--signature",
                "bad-trusted-comment.minisig",
            ][..],
            "minisign-bad-trusted-comment",
        ),
        (
            &[
                "artifact.txt",
                "--minisign-key",
                "other.pub",
                "--signature",
                "artifact.txt.minisig",
            ][..],
            "minisign-key-id-mismatch",
        ),
    ];
    for (args, reason) in must_fail {
        let (code, out, _) = verify(&v, args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert_eq!(out["reason"], reason, "{args:?}: {out}");
    }
    // Unusable input: exit 2.
    let (code, out, _) = verify(
        &v,
        &[
            "artifact.txt",
            "--minisign-key",
            "artifact.txt",
            "--signature",
            "artifact.txt.minisig",
        ],
    );
    assert_eq!(
        (code, out["reason"].as_str()),
        (2, Some("minisign-malformed")),
        "{out}"
    );
}

#[test]
fn signify_openbsd_signatures_verify_and_tampering_does_not() {
    let Some(signify) = common::system_bin("signify-openbsd") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let run = |args: &[&str]| {
        let (code, _, err) = common::run(Command::new(&signify).current_dir(d).args(args));
        assert_eq!(code, 0, "signify {args:?}: {err}");
    };
    run(&["-G", "-n", "-p", "k.pub", "-s", "k.sec"]);
    run(&["-G", "-n", "-p", "o.pub", "-s", "o.sec"]);
    std::fs::write(d.join("f.txt"), "release").unwrap();
    run(&["-S", "-s", "k.sec", "-m", "f.txt", "-x", "f.txt.sig"]);
    assert_eq!(verify(d, &["f.txt", "--signify-key", "k.pub"]).0, 0);
    let (code, out, _) = verify(d, &["f.txt", "--signify-key", "o.pub"]);
    assert_eq!(
        (code, out["reason"].as_str()),
        (1, Some("signify-key-id-mismatch")),
        "{out}"
    );
    std::fs::write(d.join("f.txt"), "release, tampered").unwrap();
    let (code, out, _) = verify(d, &["f.txt", "--signify-key", "k.pub"]);
    assert_eq!(
        (code, out["reason"].as_str()),
        (1, Some("signify-bad-signature")),
        "{out}"
    );
}
