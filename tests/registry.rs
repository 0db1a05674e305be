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

// ---- PyPI: the README's `mcp-name:` ----------------------------------------------------

/// `/usr/bin/python3` with setuptools and wheel (Debian's python3-setuptools, python3-wheel),
/// which build the test wheels and sdists offline; None (skip, a failure under CI) without.
fn python_build() -> Option<PathBuf> {
    let py = common::require("/usr/bin/python3", PathBuf::from("/usr/bin/python3"))?;
    let ok = std::process::Command::new(&py)
        .args(["-c", "import setuptools, wheel"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || !common::strict(),
        "python3-setuptools and python3-wheel are needed (CI is set)"
    );
    ok.then_some(py)
}

/// A tiny project built with the real tooling (`setup.py sdist bdist_wheel`, setuptools and
/// wheel): its README is the long description. Returns (wheel, sdist) file names in `dir`.
fn build_dist(py: &Path, dir: &Path, version: &str, readme: &str) -> (String, String) {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("README.md"), readme).unwrap();
    std::fs::write(
        src.path().join("setup.py"),
        format!(
            "from setuptools import setup\nsetup(name='acme-demo-mcp', version='{version}', long_description=open('README.md').read(), long_description_content_type='text/markdown', py_modules=[])\n"
        ),
    )
    .unwrap();
    let (code, out, err) = common::run(
        std::process::Command::new(py)
            .current_dir(src.path())
            .args(["setup.py", "-q", "sdist", "--dist-dir"])
            .arg(dir)
            .args(["bdist_wheel", "--dist-dir"])
            .arg(dir),
    );
    assert_eq!(code, 0, "setup.py: {out}{err}");
    (
        format!("acme_demo_mcp-{version}-py3-none-any.whl"),
        format!("acme-demo-mcp-{version}.tar.gz"),
    )
}

const DEMO: &str = "io.github.acme/demo";

fn pypi_entry(d: &Path, extra: &str) {
    std::fs::write(
        d.join("server.json"),
        format!(
            r#"{{"name": "{DEMO}", "version": "1.2.3", "packages": [{{"registryType": "pypi", "identifier": "acme-demo-mcp", "version": "1.2.3"{extra}, "transport": {{"type": "stdio"}}}}]}}"#
        ),
    )
    .unwrap();
}

#[test]
fn pypi_wheels_and_sdists_carry_the_mcp_name_of_their_entry() {
    let Some(py) = python_build() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    pypi_entry(d, "");
    // The registry's documented form: hidden in an HTML comment.
    let (whl, sdist) = build_dist(
        &py,
        &d.join("good"),
        "1.2.3",
        &format!("# Demo\n\nAn MCP server.\n\n<!-- mcp-name: {DEMO} -->\n"),
    );
    let (whl, sdist) = (format!("good/{whl}"), format!("good/{sdist}"));
    let (code, v) = run(
        d,
        &["server.json", "--artifact", &whl, "--artifact", &sdist],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["artifacts"][0]["nameMarker"], DEMO, "{v}");
    assert_eq!(v["artifacts"][1]["nameMarker"], DEMO, "{v}");
    assert_eq!(v["artifacts"][0]["package"]["registryType"], "pypi");

    // The registry searches the description as text: a marker in a fenced code block counts
    // for it (its docs make no exception), so it counts here too.
    let (w, _) = build_dist(
        &py,
        &d.join("fenced"),
        "1.2.3",
        &format!("# Demo\n\n```\nmcp-name: {DEMO}\n```\n"),
    );
    let (code, v) = run(d, &["server.json", "--artifact", &format!("fenced/{w}")]);
    assert_eq!(code, 0, "{v}");

    // Each way around the marker, in a wheel and its sdist.
    for (what, readme, reason) in [
        (
            "no marker",
            "# Demo\n\nAn MCP server.\n".to_owned(),
            "registry-name-marker-missing",
        ),
        (
            "another server's name",
            "<!-- mcp-name: io.github.evil/demo -->\n".to_owned(),
            "registry-name-marker-mismatch",
        ),
        (
            // The entry's name as a prefix of a longer one is not the entry's name.
            "a longer name",
            format!("<!-- mcp-name: {DEMO}-evil -->\n"),
            "registry-name-marker-mismatch",
        ),
        (
            // A package that claims two servers: which one it belongs to cannot be told
            // (stricter than the registry, which accepts any one match).
            "two names",
            format!("<!-- mcp-name: {DEMO} -->\n<!-- mcp-name: io.github.evil/demo -->\n"),
            "registry-name-marker-ambiguous",
        ),
    ] {
        let sub = what.replace(' ', "-");
        let (w, s) = build_dist(&py, &d.join(&sub), "1.2.3", &readme);
        for f in [w, s] {
            let (code, v) = run(d, &["server.json", "--artifact", &format!("{sub}/{f}")]);
            assert_eq!(code, 1, "{what} {f}: {v}");
            assert_eq!(v["reason"], reason, "{what} {f}: {v}");
        }
    }

    // Another release's wheel, with the right marker: no package of the entry.
    let (w, _) = build_dist(
        &py,
        &d.join("next"),
        "1.2.4",
        &format!("<!-- mcp-name: {DEMO} -->\n"),
    );
    let (code, v) = run(d, &["server.json", "--artifact", &format!("next/{w}")]);
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-artifact-unmatched")),
        "{v}"
    );

    // A fileSha256 the entry gives must be the file's.
    pypi_entry(d, &format!(r#", "fileSha256": "{}""#, "0".repeat(64)));
    let (code, v) = run(d, &["server.json", "--artifact", &whl]);
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-digest-mismatch")),
        "{v}"
    );

    // Not a wheel at all.
    pypi_entry(d, "");
    std::fs::write(d.join("junk-1.2.3-py3-none-any.whl"), b"PK not really").unwrap();
    let (code, v) = run(
        d,
        &["server.json", "--artifact", "junk-1.2.3-py3-none-any.whl"],
    );
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-dist-unreadable")),
        "{v}"
    );
}

// ---- OCI: the image label io.modelcontextprotocol.server.name ---------------------------

const FETCH: &str = "io.github.acme/fetch";
const LABEL: &str = "io.modelcontextprotocol.server.name";

fn oci_entry(d: &Path, identifier: &str, extra: &str) {
    std::fs::write(
        d.join("server.json"),
        format!(
            r#"{{"name": "{FETCH}", "version": "1.0.0", "packages": [{{"registryType": "oci", "identifier": "{identifier}"{extra}, "transport": {{"type": "stdio"}}}}]}}"#
        ),
    )
    .unwrap();
}

fn run_reg(
    cwd: &Path,
    reg: &common::registry::TestRegistry,
    args: &[&str],
) -> (i32, serde_json::Value) {
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(cwd)
            .env("DOCKER_CONFIG", &reg.docker_config)
            .args(["--json", "verify-registry"])
            .args(args),
    );
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
    (code, v)
}

/// A real docker-registry on loopback, images built by umoci with `--config.label`.
#[test]
fn oci_packages_are_tied_to_their_entry_by_the_image_label() {
    let Some(reg) = common::registry::TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let h = &reg.host;
    let good = reg.push_image_with("acme/fetch:1.0.0", "fetch 1.0", &[(LABEL, FETCH)], None);
    oci_entry(d, &format!("{h}/acme/fetch:1.0.0"), "");
    let (code, v) = run_reg(d, &reg, &["server.json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["images"][0]["digest"], good.as_str(), "{v}");
    assert_eq!(v["images"][0]["nameMarker"], FETCH, "{v}");
    // By digest: the same image.
    oci_entry(d, &format!("{h}/acme/fetch@{good}"), "");
    assert_eq!(run_reg(d, &reg, &["server.json"]).0, 0);

    reg.push_image("acme/nolabel:1.0.0", "fetch without a label");
    reg.push_image_with(
        "acme/other:1.0.0",
        "another server's image",
        &[(LABEL, "io.github.evil/fetch")],
        None,
    );
    let cases = [
        (
            "no label",
            format!("{h}/acme/nolabel:1.0.0"),
            "",
            "registry-name-marker-missing",
        ),
        (
            "another server's label",
            format!("{h}/acme/other:1.0.0"),
            "",
            "registry-name-marker-mismatch",
        ),
        // The schema's exact-version rule, applied to the tag that is the version.
        (
            "no tag (latest)",
            format!("{h}/acme/fetch"),
            "",
            "registry-version-not-exact",
        ),
        (
            "latest",
            format!("{h}/acme/fetch:latest"),
            "",
            "registry-version-not-exact",
        ),
        // The registry's own OCI rules: the version lives in the identifier only.
        (
            "a version field",
            format!("{h}/acme/fetch:1.0.0"),
            r#", "version": "1.0.0""#,
            "registry-oci-identifier-invalid",
        ),
        (
            "a fileSha256",
            format!("{h}/acme/fetch:1.0.0"),
            r#", "fileSha256": "0000000000000000000000000000000000000000000000000000000000000000""#,
            "registry-oci-identifier-invalid",
        ),
    ];
    for (what, identifier, extra, reason) in cases {
        oci_entry(d, &identifier, extra);
        let (code, v) = run_reg(d, &reg, &["server.json"]);
        assert_eq!(code, 1, "{what}: {v}");
        assert_eq!(v["reason"], reason, "{what}: {v}");
    }
    // A digest the registry does not have decides nothing.
    oci_entry(d, &format!("{h}/acme/fetch@sha256:{}", "1".repeat(64)), "");
    let (code, v) = run_reg(d, &reg, &["server.json"]);
    assert_eq!(
        (code, v["reason"].as_str()),
        (2, Some("image-not-found")),
        "{v}"
    );

    // An index: every platform's image must carry the label. One platform labelled for
    // another server is refused, and named.
    let amd = reg.push_image_with("acme/multi:amd", "amd64", &[(LABEL, FETCH)], Some("amd64"));
    let arm_evil = reg.push_image_with(
        "acme/multi:arm-evil",
        "arm64",
        &[(LABEL, "io.github.evil/fetch")],
        Some("arm64"),
    );
    let arm = reg.push_image_with(
        "acme/multi:arm",
        "arm64 ok",
        &[(LABEL, FETCH)],
        Some("arm64"),
    );
    reg.push_index_of(
        "acme/multi",
        "1.0.0-bad",
        &[("amd64", &amd), ("arm64", &arm_evil)],
    );
    let index = reg.push_index_of("acme/multi", "1.0.0", &[("amd64", &amd), ("arm64", &arm)]);
    oci_entry(d, &format!("{h}/acme/multi:1.0.0-bad"), "");
    let (code, v) = run_reg(d, &reg, &["server.json"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "registry-name-marker-mismatch", "{v}");
    assert!(
        v.to_string().contains("linux/arm64"),
        "the platform is named: {v}"
    );
    oci_entry(d, &format!("{h}/acme/multi:1.0.0"), "");
    let (code, v) = run_reg(d, &reg, &["server.json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["images"][0]["digest"], index.as_str());
    assert_eq!(v["images"][0]["images"].as_array().unwrap().len(), 2, "{v}");
}

/// A `docker` shim on PATH (no container runtime runs here; tests/oci_fleet.rs says why):
/// it execs the fixture MCP server. The registry, images, digests, lock and gate are real.
fn docker_shim(dir: &Path) -> String {
    let bin = dir.join("shim-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join("docker");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n# Test shim standing in for `docker run`.\nexec '{}' fixture-server\n",
            common::exe()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `pin --server-json` of a container launch records the digest the entry's OCI package
/// resolves to (its label checked); the launch must be that image, and the gate compares the
/// recorded package with the pinned image.
#[test]
fn pin_server_json_of_an_oci_package_records_its_digest_and_the_gate_compares_it() {
    let Some(reg) = common::registry::TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let path = docker_shim(d);
    let h = &reg.host;
    let d1 = reg.push_image_with("acme/fetch:1.0.0", "fetch 1.0", &[(LABEL, FETCH)], None);
    reg.push_image_with("acme/fetch:1.0.1", "fetch 1.0.1", &[(LABEL, FETCH)], None);
    reg.push_image_with("acme/evil:1.0.0", "look-alike", &[(LABEL, FETCH)], None);
    oci_entry(d, &format!("{h}/acme/fetch:1.0.0"), "");
    let mcpseal = |args: &[&str]| {
        let (code, out, err) = common::run(
            common::mcpseal()
                .current_dir(d)
                .env("PATH", &path)
                .env("DOCKER_CONFIG", &reg.docker_config)
                .arg("--json")
                .args(args),
        );
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
        (code, v)
    };
    let pin = |image: &str| {
        mcpseal(&[
            "pin",
            "fetch",
            "--lock",
            "mcpseal.lock",
            "--server-json",
            "server.json",
            "--",
            "docker",
            "run",
            "-i",
            "--rm",
            image,
        ])
    };
    // Another tag of the same repository, another repository: refused, nothing pinned.
    for image in [
        format!("{h}/acme/fetch:1.0.1"),
        format!("{h}/acme/evil:1.0.0"),
    ] {
        let (code, v) = pin(&image);
        assert_eq!(code, 1, "{image}: {v}");
        assert_eq!(v["reason"], "package-mismatch", "{image}: {v}");
    }
    assert!(!d.join("mcpseal.lock").exists());
    // The entry's image without the label: refused at pin as verify-registry refuses it.
    reg.push_image("acme/nolabel:1.0.0", "no label");
    oci_entry(d, &format!("{h}/acme/nolabel:1.0.0"), "");
    let (code, v) = pin(&format!("{h}/acme/nolabel:1.0.0"));
    assert_eq!(
        (code, v["reason"].as_str()),
        (1, Some("registry-name-marker-missing")),
        "{v}"
    );

    oci_entry(d, &format!("{h}/acme/fetch:1.0.0"), "");
    let image = format!("{h}/acme/fetch:1.0.0");
    let (code, v) = pin(&image);
    assert_eq!(code, 0, "{v}");
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("mcpseal.lock")).unwrap()).unwrap();
    let p = &lock["servers"]["fetch"]["package"];
    assert_eq!(p["registryType"], "oci", "{p}");
    assert_eq!(p["identifier"], image.as_str());
    assert_eq!(p["version"], "1.0.0");
    assert_eq!(p["digest"], d1.as_str());
    assert_eq!(lock["servers"]["fetch"]["image"]["digest"], d1.as_str());
    assert_eq!(p["serverJson"]["name"], FETCH);

    let gate = |d: &Path| {
        let mut c = common::mcpseal();
        c.current_dir(d)
            .env("PATH", &path)
            .args(["run", "--name", "fetch", "--lock", "mcpseal.lock", "--"])
            .args(["docker", "run", "-i", "--rm", &image]);
        let mut cl = common::client::Client::spawn(c);
        let r = cl.init();
        cl.finish();
        r
    };
    let r = gate(d);
    assert!(r.get("result").is_some(), "{r}");
    // A lock whose package names another digest than the pinned image (an edit of one of the
    // two records): the gate refuses before anything starts.
    let mut edited = lock.clone();
    edited["servers"]["fetch"]["package"]["digest"] = format!("sha256:{}", "2".repeat(64)).into();
    std::fs::write(
        d.join("mcpseal.lock"),
        serde_json::to_string_pretty(&edited).unwrap() + "\n",
    )
    .unwrap();
    let r = gate(d);
    assert_eq!(r["error"]["data"]["reason"], "package-mismatch", "{r}");
}
