//! Signed tool manifests end to end (issue 6): a publisher signs a fixture server's release
//! *with its surface*; a host pins from the bundle (no trust on first use); the gate then
//! refuses the server after a rug pull and after an artifact swap.

mod common;

use std::path::Path;

use common::client::Client;
use common::{exe, run};
use serde_json::Value;

fn mcpseal(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(common::mcpseal().current_dir(dir).args(args))
}

#[test]
fn sign_surface_pin_from_bundle_then_gate_refuses_rug_pull_and_swap() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let e = exe();
    let counter = d.join("launches").display().to_string();
    // Launches: 1 sign, 2 pin, 3 verify-surface, 4+ the gate — poisoned from launch 4 on.
    let server = [
        e.as_str(),
        "fixture-server",
        "--launch-counter",
        &counter,
        "--rug-pull",
        "description",
        "--rug-pull-at",
        "4",
    ];
    std::fs::write(d.join("server.js"), "release 1.0.0").unwrap();
    assert_eq!(
        mcpseal(d, &["key", "generate", "--name", "pub", "--no-password"]).0,
        0
    );

    let mut sign = vec![
        "sign",
        "server.js",
        "--key",
        "pub.key",
        "--server-name",
        "calc",
        "--surface",
        "--",
    ];
    sign.extend(server);
    let (code, out, err) = mcpseal(d, &sign);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("signed surface sha256:"), "{out}");
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(d.join("server.js.sigstore.json")).unwrap()).unwrap();
    let payload = base64_decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap());
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert!(
        statement["predicate"]["surface"]["entities"]["tools"]["add"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let mut pin = vec![
        "pin",
        "calc",
        "--bundle",
        "server.js.sigstore.json",
        "--key",
        "pub.pub",
        "--artifact",
        "server.js",
        "--",
    ];
    pin.extend(server);
    let (code, out, err) = mcpseal(d, &pin);
    assert_eq!(code, 0, "{out}{err}");
    let lock: Value =
        serde_json::from_slice(&std::fs::read(d.join("mcpseal.lock")).unwrap()).unwrap();
    assert!(
        lock["servers"]["calc"]["signed"]["keyId"].is_string(),
        "{lock}"
    );

    let mut vs = vec![
        "verify-surface",
        "--bundle",
        "server.js.sigstore.json",
        "--key",
        "pub.pub",
        "--",
    ];
    vs.extend(server);
    assert_eq!(mcpseal(d, &vs).0, 0, "launch 3 is still the signed surface");

    // Launch 4: the rug pull. The gate removes the changed tool and refuses its call.
    let mut g = Client::gate(d, "calc", &[], &server);
    g.init();
    assert_eq!(g.tools(), ["echo"]);
    assert!(g.call("add", &mut vec![])["error"].is_object());
    g.finish();
    // verify-surface now names the difference.
    let (code, out, _) = mcpseal(d, &vs);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("tool \"add\"") && out.contains("differs from signed"),
        "{out}"
    );

    // The artifact is swapped on disk: the gate refuses before starting anything.
    std::fs::write(d.join("server.js"), "release 1.0.0 + backdoor").unwrap();
    let before = std::fs::read_to_string(d.join("launches")).unwrap();
    let mut g = Client::gate(d, "calc", &[], &server);
    let r = g.init();
    assert_eq!(r["error"]["data"]["reason"], "artifact-mismatch", "{r}");
    assert_eq!(g.finish(), 1);
    assert_eq!(
        before,
        std::fs::read_to_string(d.join("launches")).unwrap(),
        "the server never started"
    );
}

#[test]
fn pin_from_bundle_refuses_a_server_that_is_not_the_signed_one() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let e = exe();
    std::fs::write(d.join("server.js"), "release").unwrap();
    assert_eq!(
        mcpseal(d, &["key", "generate", "--name", "pub", "--no-password"]).0,
        0
    );
    assert_eq!(
        mcpseal(
            d,
            &[
                "sign",
                "server.js",
                "--key",
                "pub.key",
                "--surface",
                "--",
                &e,
                "fixture-server"
            ]
        )
        .0,
        0
    );
    // The host is handed a server with an extra tool.
    let (code, _, err) = mcpseal(
        d,
        &[
            "pin",
            "calc",
            "--bundle",
            "server.js.sigstore.json",
            "--key",
            "pub.pub",
            "--",
            &e,
            "fixture-server",
            "--rug-pull",
            "add-tool",
            "--rug-pull-at",
            "1",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("surface-mismatch")
            && err.contains("send_email")
            && err.contains("not signed"),
        "{err}"
    );
    assert!(!d.join("mcpseal.lock").exists(), "nothing may be pinned");
    // A bundle without a surface cannot vouch for one.
    assert_eq!(
        mcpseal(
            d,
            &[
                "sign",
                "server.js",
                "--key",
                "pub.key",
                "--output",
                "plain.json"
            ]
        )
        .0,
        0
    );
    let (code, _, err) = mcpseal(
        d,
        &[
            "pin",
            "calc",
            "--bundle",
            "plain.json",
            "--key",
            "pub.pub",
            "--",
            &e,
            "fixture-server",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no-signed-surface"), "{err}");
    // Another key: refused.
    assert_eq!(
        mcpseal(d, &["key", "generate", "--name", "other", "--no-password"]).0,
        0
    );
    let (code, _, err) = mcpseal(
        d,
        &[
            "pin",
            "calc",
            "--bundle",
            "server.js.sigstore.json",
            "--key",
            "other.pub",
            "--",
            &e,
            "fixture-server",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("wrong-key"), "{err}");
}

#[test]
fn sign_surface_from_a_file_equals_a_live_capture() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let e = exe();
    std::fs::write(d.join("a.txt"), "x").unwrap();
    assert_eq!(
        mcpseal(d, &["key", "generate", "--name", "k", "--no-password"]).0,
        0
    );
    let (code, doc, _) = mcpseal(d, &["--json", "surface", "--", &e, "fixture-server"]);
    assert_eq!(code, 0);
    std::fs::write(d.join("surface.json"), doc).unwrap();
    assert_eq!(
        mcpseal(
            d,
            &[
                "sign",
                "a.txt",
                "--key",
                "k.key",
                "--surface-from",
                "surface.json",
                "--output",
                "from-file.json"
            ]
        )
        .0,
        0
    );
    assert_eq!(
        mcpseal(
            d,
            &[
                "sign",
                "a.txt",
                "--key",
                "k.key",
                "--surface",
                "--output",
                "live.json",
                "--",
                &e,
                "fixture-server"
            ]
        )
        .0,
        0
    );
    let surface = |f: &str| {
        let b: Value = serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap();
        let st: Value = serde_json::from_slice(&base64_decode(
            b["dsseEnvelope"]["payload"].as_str().unwrap(),
        ))
        .unwrap();
        st["predicate"]["surface"].clone()
    };
    assert_eq!(surface("from-file.json"), surface("live.json"));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// `verify-surface` with a Sigstore identity: the keyless bundle is verified offline first
/// (a real DSSE bundle from the conformance suite), and only then is its statement read — an
/// in-toto statement that is not mcpseal's release statement vouches for no surface.
#[test]
fn verify_surface_keyless_verifies_the_signer_before_reading_the_statement() {
    let Some(v) = common::require(
        "sigstore-conformance vectors",
        common::vectors().join("sigstore-conformance"),
    ) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let e = exe();
    let bundle = v
        .join("happy-path-intoto-in-dsse-v3/bundle.sigstore.json")
        .display()
        .to_string();
    let artifact = v.join("a.txt").display().to_string();
    let id = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let issuer = "https://token.actions.githubusercontent.com";
    let run = |extra: &[&str]| {
        let mut a = vec!["verify-surface", "--bundle", &bundle];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--", &e, "fixture-server"]);
        mcpseal(t.path(), &a)
    };
    let (code, _, err) = run(&[
        "--certificate-identity",
        id,
        "--certificate-oidc-issuer",
        issuer,
        "--artifact",
        &artifact,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("bad-statement") && err.contains("mcpseal release statement"),
        "signature verified, statement refused: {err}"
    );
    let (code, _, err) = run(&[
        "--certificate-identity",
        "https://github.com/evil/x",
        "--certificate-oidc-issuer",
        issuer,
        "--artifact",
        &artifact,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("identity-mismatch"), "{err}");
    let (code, _, err) = run(&[
        "--certificate-identity",
        id,
        "--certificate-oidc-issuer",
        issuer,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("artifact-needed"), "{err}");
}
