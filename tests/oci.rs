//! Container images (issue 12): `mcpseal sign oci://…` and `mcpseal verify oci://…` against a
//! real `docker-registry` 2.8.2 on loopback (tests/common/registry.rs), images built with umoci
//! and pushed with skopeo. docker-registry 2.8 has no OCI referrers API, so every cosign 3
//! bundle here is found through the referrers tag schema (`sha256-<hex>`) fallback.
//!
//! Each refusal is an attack: another key, a tag moved to other content after signing, a
//! legacy signature or a referrer index copied onto another image, a digest the registry does
//! not have, missing credentials.

mod common;

use std::path::Path;

use common::registry::{TestRegistry, write};
use common::{json, run};
use serde_json::Value;

#[test]
fn cosign3_sign_then_verify_through_the_tag_schema_and_other_keys_are_refused() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    let digest = reg.push_image("acme/fetch:1", "fetch 1.0");
    let url = reg.url("acme/fetch:1");

    let (c, out, err) = reg.run(d, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 1, "an unsigned image must fail: {out}{err}");
    assert_eq!(json(&out)["reason"], "no-signature");

    let (c, out, err) = reg.run(d, &["sign", &url, "--key", "pub.key", "--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let signed = json(&out);
    assert_eq!(signed["digest"], digest.as_str());

    // The registry has no referrers API: the referrer is listed under the tag schema.
    let tag = format!("acme/fetch:sha256-{}", &digest[7..]);
    let index: Value = serde_json::from_slice(&reg.skopeo(&["inspect", "--raw"], &tag)).unwrap();
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(entry["digest"], signed["referrer"]);
    let referrer: Value = serde_json::from_slice(&reg.skopeo(
        &["inspect", "--raw"],
        &format!("acme/fetch@{}", signed["referrer"].as_str().unwrap()),
    ))
    .unwrap();
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(
        referrer["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );

    let (c, out, err) = reg.run(d, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["digest"], digest.as_str());
    assert_eq!(v["formats"], serde_json::json!(["cosign3"]));

    let (c, out, _) = reg.run(d, &["verify", &url, "--key", "other.pub", "--json"]);
    assert_eq!(c, 1, "another key must fail: {out}");
    assert_eq!(json(&out)["reason"], "wrong-key");

    // Human output names the image by digest and the signer.
    let (c, out, _) = reg.run(d, &["verify", &url, "--key", "pub.pub"]);
    assert_eq!(c, 0);
    assert!(
        out.contains(&format!("@{digest}")) && out.contains("cosign 3"),
        "{out}"
    );
}

#[test]
fn a_tag_moved_to_other_content_after_signing_is_refused() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    reg.push_image("acme/fetch:1", "fetch 1.0");
    let url = reg.url("acme/fetch:1");
    assert_eq!(
        reg.run(d, &["sign", &url, "--key", "pub.key", "--legacy"])
            .0,
        0
    );
    // The publisher's tag now points at an image nobody signed.
    reg.push_image("acme/fetch:1", "fetch 1.0 with a backdoor");
    let (c, out, _) = reg.run(d, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 1, "{out}");
    assert_eq!(json(&out)["reason"], "no-signature");
}

#[test]
fn legacy_signature_copied_onto_another_digest_is_refused() {
    // ToolHive and the Docker MCP gateway accept a valid .sig without comparing the payload's
    // docker-manifest-digest with the image: this is the attack they miss.
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    let a = reg.push_image("acme/fetch:good", "the signed release");
    let b = reg.push_image("acme/fetch:evil", "what the attacker wants run");
    let (c, out, err) = reg.run(
        d,
        &[
            "sign",
            &reg.url("acme/fetch:good"),
            "--key",
            "pub.key",
            "--legacy",
            "--json",
        ],
    );
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, err) = reg.run(
        d,
        &[
            "verify",
            &reg.url("acme/fetch:good"),
            "--key",
            "pub.pub",
            "--json",
        ],
    );
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(
        json(&out)["formats"],
        serde_json::json!(["cosign3", "legacy"])
    );

    // Copy the publisher's valid .sig manifest under the attacker image's .sig tag.
    reg.copy_manifest(
        "acme/fetch",
        &format!("sha256-{}.sig", &a[7..]),
        &format!("sha256-{}.sig", &b[7..]),
    );
    let (c, out, _) = reg.run(
        d,
        &[
            "verify",
            &reg.url("acme/fetch:evil"),
            "--key",
            "pub.pub",
            "--json",
        ],
    );
    assert_eq!(c, 1, "a copied legacy signature must fail: {out}");
    assert_eq!(json(&out)["reason"], "legacy-digest-mismatch");

    // The cosign 3 referrer index copied the same way names A as its subject: refused too.
    reg.copy_manifest(
        "acme/fetch",
        &format!("sha256-{}", &a[7..]),
        &format!("sha256-{}", &b[7..]),
    );
    let (c, out, _) = reg.run(
        d,
        &[
            "verify",
            &reg.url("acme/fetch:evil"),
            "--key",
            "pub.pub",
            "--json",
        ],
    );
    assert_eq!(c, 1, "{out}");
    assert_eq!(json(&out)["reason"], "legacy-digest-mismatch");
}

#[test]
fn a_digest_the_registry_does_not_have_and_bad_references_decide_nothing() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    reg.push_image("acme/fetch:1", "x");
    let missing = format!("oci://{}/acme/fetch@sha256:{}", reg.host, "0".repeat(64));
    let (c, out, _) = reg.run(d, &["verify", &missing, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 2, "{out}");
    assert_eq!(json(&out)["reason"], "image-not-found");
    for bad in ["oci://", "oci://host", "oci://HOST/Repo"] {
        let (c, out, _) = reg.run(d, &["verify", bad, "--key", "pub.pub", "--json"]);
        assert_eq!(c, 2, "{bad}: {out}");
        assert_eq!(json(&out)["reason"], "bad-image-reference");
    }
    let (c, out, _) = reg.run(d, &["verify", &reg.url("acme/fetch:1"), "--json"]);
    assert_eq!(c, 2);
    assert_eq!(json(&out)["reason"], "no-verifier");
}

#[test]
fn basic_auth_registry_uses_docker_config_credentials() {
    let Some(reg) = TestRegistry::start_with_auth("publisher", "correct horse battery") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    let digest = reg.push_image("team/server:2", "server 2");
    let url = reg.url("team/server:2");
    let (c, out, err) = reg.run(d, &["sign", &url, "--key", "pub.key", "--legacy"]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, err) = reg.run(d, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(json(&out)["digest"], digest.as_str());

    // No credentials: the registry says 401, nothing is decided (exit 2), and the password is
    // never printed.
    let empty = t.path().join("no-creds");
    std::fs::create_dir_all(&empty).unwrap();
    let (c, out, err) = run(common::mcpseal()
        .current_dir(d)
        .env("DOCKER_CONFIG", &empty)
        .args(["verify", &url, "--key", "pub.pub", "--json"]));
    assert_eq!(c, 2, "{out}{err}");
    assert_eq!(json(&out)["reason"], "registry-unauthorized");
    // Wrong credentials: refused the same way.
    write(
        &empty,
        "config.json",
        format!(
            r#"{{"auths":{{"{}":{{"username":"publisher","password":"wrong"}}}}}}"#,
            reg.host
        )
        .as_bytes(),
    );
    let (c, out, err) = run(common::mcpseal()
        .current_dir(d)
        .env("DOCKER_CONFIG", &empty)
        .args(["verify", &url, "--key", "pub.pub", "--json"]));
    assert_eq!(c, 2, "{out}{err}");
    assert_eq!(json(&out)["reason"], "registry-unauthorized");
    assert!(!out.contains("correct horse") && !err.contains("correct horse"));
}

#[test]
fn sign_surface_adds_a_release_referrer_that_verify_reports() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    reg.push_image("acme/calc:1", "calc");
    let url = reg.url("acme/calc:1");
    let exe = env!("CARGO_BIN_EXE_mcpseal");
    let (c, out, err) = reg.run(
        d,
        &[
            "sign",
            &url,
            "--key",
            "pub.key",
            "--server-name",
            "calc",
            "--surface",
            "--json",
            "--",
            exe,
            "fixture-server",
        ],
    );
    assert_eq!(c, 0, "{out}{err}");
    let s = json(&out);
    assert!(
        s["surfaceDigest"]
            .as_str()
            .is_some_and(|x| x.starts_with("sha256:")),
        "{out}"
    );
    assert!(s["releaseReferrer"].is_string());
    let (c, out, err) = reg.run(d, &["verify", &url, "--key", "pub.pub", "--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["surfaceDigest"], s["surfaceDigest"]);
    assert_eq!(v["server"]["name"], "calc");
}

/// Builds an OCI layout holding an index of two single-layer images (linux/amd64 and
/// linux/arm64) tagged `multi`, pushes it with `skopeo copy --all`, and returns the digests
/// (index, amd64, arm64).
fn push_index(reg: &TestRegistry, repo_tag: &str) -> (String, String, String) {
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let l = layout.display().to_string();
    let ok = |c: &mut std::process::Command| {
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(std::process::Command::new("umoci").args(["init", "--layout", &l]));
    for arch in ["amd64", "arm64"] {
        let img = format!("{l}:{arch}");
        let f = write(work.path(), &format!("{arch}.txt"), arch.as_bytes());
        ok(std::process::Command::new("umoci").args(["new", "--image", &img]));
        ok(std::process::Command::new("umoci")
            .args(["insert", "--rootless", "--image", &img])
            .arg(&f)
            .arg("/arch.txt"));
        ok(std::process::Command::new("umoci").args([
            "config",
            "--image",
            &img,
            "--architecture",
            arch,
            "--os",
            "linux",
        ]));
    }
    let index_path = layout.join("index.json");
    let mut top: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let find = |arch: &str| {
        top["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == arch)
            .unwrap()
            .clone()
    };
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let mut e = find(arch);
        e.as_object_mut().unwrap().remove("annotations");
        e["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
        entries.push(e);
    }
    let (amd, arm) = (
        entries[0]["digest"].as_str().unwrap().to_owned(),
        entries[1]["digest"].as_str().unwrap().to_owned(),
    );
    let nested = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .unwrap();
    let hex = common::registry::sha256_hex(&nested);
    std::fs::write(layout.join("blobs/sha256").join(&hex), &nested).unwrap();
    top["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": nested.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }));
    std::fs::write(&index_path, serde_json::to_vec(&top).unwrap()).unwrap();
    reg.skopeo_copy(&format!("oci:{l}:multi"), repo_tag, true);
    (format!("sha256:{hex}"), amd, arm)
}

#[test]
fn an_index_is_resolved_by_platform() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    let (index, amd, arm) = push_index(&reg, "acme/multi:1");
    assert_eq!(reg.digest_of("acme/multi:1"), index);
    // Only the arm64 manifest is signed.
    let arm_url = format!("oci://{}/acme/multi@{arm}", reg.host);
    let (c, out, err) = reg.run(d, &["sign", &arm_url, "--key", "pub.key"]);
    assert_eq!(c, 0, "{out}{err}");
    let url = reg.url("acme/multi:1");
    let (c, out, err) = reg.run(
        d,
        &[
            "verify",
            &url,
            "--key",
            "pub.pub",
            "--platform",
            "linux/arm64",
            "--json",
        ],
    );
    assert_eq!(c, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["digest"], index.as_str());
    assert_eq!(v["platformDigest"], arm.as_str());
    assert_eq!(v["signedDigest"], arm.as_str());
    let (c, out, _) = reg.run(
        d,
        &[
            "verify",
            &url,
            "--key",
            "pub.pub",
            "--platform",
            "linux/amd64",
            "--json",
        ],
    );
    assert_eq!(c, 1, "the amd64 manifest is not signed: {out}");
    assert_eq!(json(&out)["reason"], "no-signature");
    let (c, out, _) = reg.run(
        d,
        &[
            "verify",
            &url,
            "--key",
            "pub.pub",
            "--platform",
            "linux/s390x",
            "--json",
        ],
    );
    assert_eq!(c, 2, "{out}");
    assert_eq!(json(&out)["reason"], "platform-not-found");
    // Signing the index covers every platform.
    assert_eq!(reg.run(d, &["sign", &url, "--key", "pub.key"]).0, 0);
    let (c, out, err) = reg.run(
        d,
        &[
            "verify",
            &url,
            "--key",
            "pub.pub",
            "--platform",
            "linux/amd64",
            "--json",
        ],
    );
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(json(&out)["signedDigest"], index.as_str());
    let _ = amd;
}

#[test]
fn the_cosign3_bundle_mcpseal_pushes_verifies_with_sigstore_js() {
    // The referrer's bundle, extracted from the registry over its HTTP API, checked by npm's
    // @sigstore/verify (scripts/interop/sigstore-verify.js: the DSSE
    // signature with the key, then the in-toto subject digest against the manifest's bytes).
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let Some(node) = common::system_bin("node") else {
        return;
    };
    let Some(module) = common::node_module("@sigstore/verify/package.json") else {
        return;
    };
    let node_path = module
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .unwrap()
        .to_owned();
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::keys(d, &["pub", "other"]);
    let digest = reg.push_image("acme/js:1", "for sigstore-js");
    let other = reg.push_image("acme/js:2", "another image");
    let (c, out, err) = reg.run(
        d,
        &["sign", &reg.url("acme/js:1"), "--key", "pub.key", "--json"],
    );
    assert_eq!(c, 0, "{out}{err}");
    let referrer = json(&out)["referrer"].as_str().unwrap().to_owned();
    let (status, _, m) = reg.http(
        "GET",
        &format!("/v2/acme/js/manifests/{referrer}"),
        None,
        b"",
    );
    assert_eq!(status, 200);
    let m: Value = serde_json::from_slice(&m).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let bundle = write(d, "bundle.sigstore.json", &reg.blob("acme/js", layer));
    let manifest = write(
        d,
        "image-manifest.json",
        &reg.skopeo(&["inspect", "--raw"], "acme/js:1"),
    );
    let other_manifest = write(
        d,
        "other-manifest.json",
        &reg.skopeo(&["inspect", "--raw"], "acme/js:2"),
    );
    assert_eq!(
        format!(
            "sha256:{}",
            common::registry::sha256_hex(&std::fs::read(&manifest).unwrap())
        ),
        digest
    );
    assert_ne!(digest, other);
    let driver = common::root().join("scripts/interop/sigstore-verify.js");
    let js = |key: &str, artifact: &Path| {
        std::process::Command::new(&node)
            .env("NODE_PATH", &node_path)
            .arg(&driver)
            .arg(&bundle)
            .arg(d.join(key))
            .arg(artifact)
            .output()
            .unwrap()
    };
    let ok = js("pub.pub", &manifest);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        !js("other.pub", &manifest).status.success(),
        "another key must fail"
    );
    assert!(
        !js("pub.pub", &other_manifest).status.success(),
        "another image's digest must fail"
    );
}
