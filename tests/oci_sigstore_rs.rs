//! sigstore-rs (the `sigstore` crate 0.15, `cosign` feature) as an independent cosign
//! implementation against mcpseal, both ways, on a real `docker-registry` (issue 12):
//!
//! - an image sigstore-rs signs (legacy `.sig`, a cosign-format P-256 key mcpseal generated)
//!   verifies with `mcpseal verify oci://…`;
//! - an image mcpseal signs with `--legacy` verifies with sigstore-rs;
//! - a legacy signature copied onto another image's digest is refused by both;
//! - each verifier also says no to another key.
//!
//! The driver is interop/sigstore-rs (its own crate and lockfile), built by
//! scripts/install-peers.sh into target/peers/bin. sigstore-rs reads cosign 3 referrer bundles
//! only when they carry a Fulcio certificate and a Rekor entry, so the key-based cosign 3
//! bundles mcpseal writes offline are checked with @sigstore/verify instead (tests/oci.rs).

mod common;

use std::path::{Path, PathBuf};

use common::registry::TestRegistry;
use common::{json, run};

const PASSWORD: &str = "interop passphrase";

fn mcpseal(dir: &Path, reg: &TestRegistry, args: &[&str]) -> (i32, String, String) {
    run(reg
        .mcpseal(dir)
        .env("MCPSEAL_PASSWORD", PASSWORD)
        .args(args))
}

fn driver(bin: &Path, args: &[&str]) -> (i32, String, String) {
    run(std::process::Command::new(bin).args(args))
}

/// The registry-relative name sigstore-rs reads (`127.0.0.1:PORT/REPO:TAG`).
fn plain(url: &str) -> String {
    url.trim_start_matches("oci://").to_owned()
}

/// Two cosign-format keys (`ENCRYPTED SIGSTORE PRIVATE KEY`), made by mcpseal.
fn cosign_keys(dir: &Path, reg: &TestRegistry) {
    for name in ["pub", "other"] {
        let (c, o, e) = mcpseal(dir, reg, &["key", "generate", "--cosign", "--name", name]);
        assert_eq!(c, 0, "{o}{e}");
    }
    let text = std::fs::read_to_string(dir.join("pub.key")).unwrap();
    assert!(text.contains("ENCRYPTED SIGSTORE PRIVATE KEY"), "{text}");
}

fn setup() -> Option<(TestRegistry, PathBuf, tempfile::TempDir)> {
    let bin = common::peer_bin("sigstore-rs-driver")?;
    let reg = TestRegistry::start()?;
    let t = tempfile::tempdir().unwrap();
    cosign_keys(t.path(), &reg);
    Some((reg, bin, t))
}

#[test]
fn an_image_sigstore_rs_signs_verifies_with_mcpseal_and_only_with_its_key() {
    let Some((reg, bin, t)) = setup() else {
        return;
    };
    let d = t.path();
    let digest = reg.push_image("acme/fetch:1", "fetch 1.0");
    let url = reg.url("acme/fetch:1");

    let key = d.join("pub.key");
    let (c, o, e) = driver(
        &bin,
        &["sign", &plain(&url), key.to_str().unwrap(), PASSWORD],
    );
    assert_eq!(c, 0, "sigstore-rs sign: {o}{e}");
    assert_eq!(json(&o)["signed"], digest.as_str());

    let (c, out, err) = mcpseal(d, &reg, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["formats"], serde_json::json!(["legacy"]));

    let (c, out, _) = mcpseal(d, &reg, &["verify", &url, "--key", "other.pub", "--json"]);
    assert_eq!(c, 1, "another key must fail: {out}");

    // sigstore-rs agrees with itself, and says no to the other key.
    let pubk = d.join("pub.pub");
    let other = d.join("other.pub");
    assert_eq!(
        driver(&bin, &["verify", &plain(&url), pubk.to_str().unwrap()]).0,
        0
    );
    let (c, o, e) = driver(&bin, &["verify", &plain(&url), other.to_str().unwrap()]);
    assert_eq!(c, 1, "sigstore-rs must refuse another key: {o}{e}");
}

#[test]
fn an_image_mcpseal_signs_verifies_with_sigstore_rs_and_a_copied_signature_fails_both() {
    let Some((reg, bin, t)) = setup() else {
        return;
    };
    let d = t.path();
    let a = reg.push_image("acme/fetch:good", "the signed release");
    let b = reg.push_image("acme/fetch:evil", "what the attacker wants run");
    let good = reg.url("acme/fetch:good");
    let evil = reg.url("acme/fetch:evil");
    let pubk = d.join("pub.pub");
    let pubk = pubk.to_str().unwrap();

    // Unsigned: sigstore-rs says no before anything is signed.
    let (c, o, e) = driver(&bin, &["verify", &plain(&good), pubk]);
    assert_eq!(c, 1, "an unsigned image must fail with sigstore-rs: {o}{e}");

    let (c, out, err) = mcpseal(d, &reg, &["sign", &good, "--key", "pub.key", "--legacy"]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, o, e) = driver(&bin, &["verify", &plain(&good), pubk]);
    assert_eq!(
        c, 0,
        "sigstore-rs must verify mcpseal's legacy signature: {o}{e}"
    );

    // The attack ToolHive's and the Docker MCP gateway's verifiers miss: the publisher's valid
    // .sig manifest copied under the attacker image's .sig tag.
    reg.copy_manifest(
        "acme/fetch",
        &format!("sha256-{}.sig", &a[7..]),
        &format!("sha256-{}.sig", &b[7..]),
    );
    let (c, o, e) = driver(&bin, &["verify", &plain(&evil), pubk]);
    assert_eq!(c, 1, "sigstore-rs must refuse a copied signature: {o}{e}");
    let (c, out, _) = mcpseal(d, &reg, &["verify", &evil, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 1, "mcpseal must refuse a copied signature: {out}");
    assert_eq!(json(&out)["reason"], "legacy-digest-mismatch");
}

#[test]
fn a_signature_sigstore_rs_made_copied_onto_another_image_fails_both() {
    let Some((reg, bin, t)) = setup() else {
        return;
    };
    let d = t.path();
    let a = reg.push_image("acme/fetch:good", "the signed release");
    let b = reg.push_image("acme/fetch:evil", "what the attacker wants run");
    let key = d.join("pub.key");
    let pubk = d.join("pub.pub");
    let (c, o, e) = driver(
        &bin,
        &[
            "sign",
            &plain(&reg.url("acme/fetch:good")),
            key.to_str().unwrap(),
            PASSWORD,
        ],
    );
    assert_eq!(c, 0, "{o}{e}");
    reg.copy_manifest(
        "acme/fetch",
        &format!("sha256-{}.sig", &a[7..]),
        &format!("sha256-{}.sig", &b[7..]),
    );
    let evil = reg.url("acme/fetch:evil");
    let (c, o, e) = driver(&bin, &["verify", &plain(&evil), pubk.to_str().unwrap()]);
    assert_eq!(c, 1, "{o}{e}");
    let (c, out, _) = mcpseal(d, &reg, &["verify", &evil, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 1, "{out}");
    assert_eq!(json(&out)["reason"], "legacy-digest-mismatch");
}
