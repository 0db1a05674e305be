//! Container launch specs and fleet locks (issue 12) against a real docker-registry 2.8.2 on
//! loopback (tests/common/registry.rs).
//!
//! Running a container needs a container runtime; Debian's podman 4.3.1 cannot run one in this
//! build environment (`podman run --rootfs / /bin/true` fails with "crun: setrlimit
//! `RLIMIT_NOFILE`: Operation not permitted"), so these tests put a `docker` **shim** on PATH: a shell script that records the arguments it was started with and then runs the
//! fixture MCP server in place of the container. What is real: the registry, the image and
//! its digest, the lock, the gate. What the shim stands in for: `docker run` itself. The
//! assertions are on what the gate passes to the runtime (the pinned digest, never the tag).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::client::Client;
use common::registry::{TestRegistry, write};
use common::run;
use serde_json::Value;

/// A `docker` shim on PATH that appends its arguments to `log` and execs the fixture server.
struct Shim {
    /// One line per start: the arguments the shim was given.
    log: PathBuf,
    /// `PATH` with the shim's folder first.
    path: String,
}

/// Writes the `docker` shim into `dir/shim-bin`.
fn docker_shim(dir: &Path) -> Shim {
    let bin = dir.join("shim-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("docker-args.log");
    let script = format!(
        "#!/bin/sh\n# Test shim standing in for `docker run` (no container runtime here).\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' fixture-server\n",
        log.display(),
        env!("CARGO_BIN_EXE_mcpseal")
    );
    let p = write(&bin, "docker", script.as_bytes());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Shim { log, path }
}

impl Shim {
    /// `mcpseal` in `dir` with `reg`'s credentials and this shim as `docker`.
    fn mcpseal(&self, reg: &TestRegistry, dir: &Path) -> Command {
        let mut c = reg.mcpseal(dir);
        c.env("PATH", &self.path);
        c
    }
}

/// `docker run -i --rm IMAGE`: the launch spec of every container server here.
fn docker_run(image: &str) -> [&str; 5] {
    ["docker", "run", "-i", "--rm", image]
}

/// `mcpseal pin fetch --lock mcpseal.lock --json -- docker run -i --rm IMAGE` as `cmd` (the
/// shim on its PATH) runs it: (exit code, stdout, stderr).
fn pin_fetch(mut cmd: Command, image: &str) -> (i32, String, String) {
    cmd.args(["pin", "fetch"]);
    pin_fetch_with(cmd, image)
}

/// [`pin_fetch`] for a `cmd` that already holds `pin fetch` and the caller's options.
fn pin_fetch_with(mut cmd: Command, image: &str) -> (i32, String, String) {
    cmd.args(["--lock", "mcpseal.lock", "--json", "--"])
        .args(docker_run(image));
    run(&mut cmd)
}

/// `mcpseal run --name fetch --lock mcpseal.lock --audit-log audit.jsonl -- SERVER…` as `cmd`
/// (the shim on its PATH) starts it, with a client on its stdio.
fn gate_fetch(mut cmd: Command, server: &[&str]) -> Client {
    cmd.args([
        "run",
        "--name",
        "fetch",
        "--lock",
        "mcpseal.lock",
        "--audit-log",
        "audit.jsonl",
        "--",
    ])
    .args(server);
    Client::spawn(cmd)
}

#[test]
fn pin_records_the_image_digest_and_run_spawns_only_that_digest() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let docker = docker_shim(d);
    let log = &docker.log;
    let d1 = reg.push_image("acme/fetch:1", "fetch 1.0");
    let image = format!("{}/acme/fetch:1", reg.host);
    let shim = || docker.mcpseal(&reg, d);
    let (c, out, err) = pin_fetch(shim(), &image);
    assert_eq!(c, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["image"]["digest"], d1.as_str());
    let lock: Value =
        serde_json::from_slice(&std::fs::read(d.join("mcpseal.lock")).unwrap()).unwrap();
    assert_eq!(lock["servers"]["fetch"]["image"]["digest"], d1.as_str());
    assert_eq!(
        lock["servers"]["fetch"]["image"]["reference"],
        image.as_str()
    );
    // The capture ran the digest, not the tag.
    let captured = std::fs::read_to_string(log).unwrap();
    assert!(captured.contains(&format!("{image}@{d1}")), "{captured}");

    // The publisher's tag moves to other content after the pin.
    let d2 = reg.push_image("acme/fetch:1", "fetch 1.0, rebuilt by someone else");
    assert_ne!(d1, d2);
    std::fs::write(log, "").unwrap();
    let gate = |server: &[&str]| gate_fetch(shim(), server);
    let mut cl = gate(&docker_run(&image));
    let init = cl.init();
    assert!(init.get("result").is_some(), "{init}");
    assert!(!cl.tools().is_empty());
    cl.finish();
    let spawned = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        spawned.trim(),
        format!("run -i --rm {image}@{d1}"),
        "the gate must run the pinned digest"
    );

    // Another digest, or other container arguments: refused before anything starts.
    for args in [
        vec!["docker", "run", "-i", "--rm", &*format!("{image}@{d2}")],
        vec!["docker", "run", "-i", "--rm", "-v", "/:/host", &image],
        vec![
            "docker",
            "run",
            "-i",
            "--rm",
            &*format!("{}/acme/evil:1", reg.host),
        ],
    ] {
        std::fs::write(log, "").unwrap();
        let mut cl = gate(&args);
        let r = cl.init();
        assert_eq!(
            r["error"]["data"]["reason"], "image-not-pinned",
            "{args:?}: {r}"
        );
        cl.finish();
        assert_eq!(
            std::fs::read_to_string(log).unwrap(),
            "",
            "{args:?} must not start"
        );
    }
}

#[test]
fn wrap_rewrites_the_tag_to_the_pinned_digest_and_unwrap_restores_the_bytes() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let docker = docker_shim(d);
    let digest = reg.push_image("acme/fetch:1", "fetch 1.0");
    let image = format!("{}/acme/fetch:1", reg.host);
    let shim = || docker.mcpseal(&reg, d);
    let (c, out, err) = pin_fetch(shim(), &image);
    assert_eq!(c, 0, "{out}{err}");
    let original = format!(
        "{{\n  \"mcpServers\": {{\n    \"fetch\": {{ \"command\": \"docker\", \"args\": [\"run\", \"-i\", \"--rm\", \"{image}\"] }}\n  }}\n}}\n"
    );
    let cfg = write(d, "claude_desktop_config.json", original.as_bytes());
    let (c, out, err) = run(common::mcpseal()
        .current_dir(d)
        .args([
            "wrap",
            "--as",
            "claude-desktop",
            "--lock",
            "mcpseal.lock",
            "--config",
        ])
        .arg(&cfg));
    assert_eq!(c, 0, "{out}{err}");
    let wrapped = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        wrapped.contains(&format!("\"{image}@{digest}\"")),
        "{wrapped}"
    );
    // The wrapped entry passes the gate (the digest form is the pinned image).
    let v: Value = serde_json::from_str(&wrapped).unwrap();
    let args: Vec<String> = v["mcpServers"]["fetch"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let mut cmd = shim();
    cmd.args(&args);
    let mut cl = Client::spawn(cmd);
    let r = cl.init();
    assert!(r.get("result").is_some(), "{r}");
    cl.finish();
    let (c, out, err) = run(common::mcpseal()
        .current_dir(d)
        .args(["unwrap", "--as", "claude-desktop", "--config"])
        .arg(&cfg));
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), original);
}

/// `mcpseal lock push URL --key KEY EXTRA…`, run in `dir`.
fn lock_push(dir: &Path, url: &str, key: &str, extra: &[&str]) -> (i32, String, String) {
    run(common::mcpseal()
        .current_dir(dir)
        .args(["lock", "push", url, "--key", key])
        .args(extra))
}

/// `mcpseal lock pull URL --lock-key KEY --lock mcpseal.lock --state-file STATE --json`, run
/// in `host`.
fn lock_pull(host: &Path, key: &Path, url: &str, state: &Path) -> (i32, String, String) {
    run(common::mcpseal().current_dir(host).args([
        "lock",
        "pull",
        url,
        "--lock-key",
        &key.display().to_string(),
        "--lock",
        "mcpseal.lock",
        "--state-file",
        &state.display().to_string(),
        "--json",
    ]))
}

/// A lockfile with one pinned server and a policy, in `dir`.
fn fleet_files(dir: &Path) {
    common::pin_fixture(dir, "calc", &["--lock", "mcpseal.lock"]);
    write(
        dir,
        "mcpseal-policy.toml",
        b"[server.calc]\non-drift = \"kill\"\n",
    );
}

#[test]
fn lock_push_then_pull_installs_a_verified_lock_and_refuses_tampering_and_rollback() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let publisher = t.path().join("publisher");
    let host = t.path().join("host");
    std::fs::create_dir_all(&publisher).unwrap();
    std::fs::create_dir_all(&host).unwrap();
    common::keys(&publisher, &["fleet", "other"]);
    fleet_files(&publisher);
    let url = reg.url("fleet/lock:prod");
    let state = host.join("state.json");
    let pull = |key: &str, url: &str| lock_pull(&host, &publisher.join(key), url, &state);
    let (c, out, err) = lock_push(&publisher, &url, "fleet.key", &["--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let pushed: Value = serde_json::from_str(&out).unwrap();
    let serial1 = pushed["serial"].as_u64().unwrap();

    let (c, out, _) = pull("other.pub", &url);
    assert_eq!(c, 1, "another key must fail: {out}");
    assert!(
        !host.join("mcpseal.lock").exists(),
        "nothing is installed on failure"
    );

    let (c, out, err) = pull("fleet.pub", &url);
    assert_eq!(c, 0, "{out}{err}");
    for f in [
        "mcpseal.lock",
        "mcpseal.lock.sigstore.json",
        "mcpseal-policy.toml",
        "mcpseal-policy.toml.sigstore.json",
    ] {
        assert!(
            !std::fs::read(host.join(f)).unwrap().is_empty(),
            "{f} installed"
        );
    }
    assert_eq!(
        std::fs::read(host.join("mcpseal.lock")).unwrap(),
        std::fs::read(publisher.join("mcpseal.lock")).unwrap()
    );
    // The installed files pass the gate's own signed-lock checks.
    let mut cmd = common::mcpseal();
    cmd.current_dir(&host).args([
        "run",
        "--name",
        "calc",
        "--lock",
        "mcpseal.lock",
        "--lock-key",
        &publisher.join("fleet.pub").display().to_string(),
        "--state-file",
        &state.display().to_string(),
        "--",
    ]);
    cmd.args(common::fixture_server(&[]));
    let mut cl = Client::spawn(cmd);
    let r = cl.init();
    assert!(r.get("result").is_some(), "{r}");
    cl.finish();

    // The publisher pins one more server (the serial goes up) and pushes under another tag.
    common::pin_fixture(&publisher, "calc2", &["--lock", "mcpseal.lock"]);
    let new_url = reg.url("fleet/lock:next");
    let (c, out, err) = lock_push(&publisher, &new_url, "fleet.key", &["--json"]);
    assert_eq!(c, 0, "{out}{err}");
    let serial2 = serde_json::from_str::<Value>(&out).unwrap()["serial"]
        .as_u64()
        .unwrap();
    assert!(serial2 > serial1);
    let (c, out, err) = pull("fleet.pub", &new_url);
    assert_eq!(c, 0, "{out}{err}");

    // Rollback: the old tag still serves serial 1; pulling it now is refused.
    let (c, out, _) = pull("fleet.pub", &url);
    assert_eq!(c, 1, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["reason"],
        "lock-rollback"
    );
    let installed: Value =
        serde_json::from_slice(&std::fs::read(host.join("mcpseal.lock")).unwrap()).unwrap();
    assert_eq!(installed["serial"].as_u64(), Some(serial2));

    // Tampering: the registry serves an artifact whose policy was swapped (pushed by hand
    // with the real lock and its bundle): refused with policy-mismatch.
    let evil = t.path().join("evil");
    std::fs::create_dir_all(&evil).unwrap();
    for f in ["mcpseal.lock", "fleet.key", "other.key"] {
        std::fs::copy(publisher.join(f), evil.join(f)).unwrap();
    }
    write(&evil, "mcpseal-policy.toml", b"# no rules at all\n");
    // Signed with the wrong key: the host refuses.
    let evil_url = reg.url("fleet/lock:evil");
    let (c, out, err) = lock_push(&evil, &evil_url, "other.key", &[]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, _) = pull("fleet.pub", &evil_url);
    assert_eq!(c, 1, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["reason"],
        "lock-signature"
    );
}

/// Issue 17, fleet scale: a lock larger than the 16 MiB a policy or bundle may be (here ~17
/// MiB, ~1,500 servers; a 10,000-server fleet is 118 MB) is published and installed whole. It
/// used to be refused at both ends by the policy's limit. The lock's own limit still holds: a
/// manifest whose lock layer claims more than a lockfile may be is refused before any byte
/// of it is fetched, and nothing is installed.
#[test]
fn a_fleet_lock_over_16_mib_is_pushed_and_pulled_whole() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let (publisher, host) = (t.path().join("publisher"), t.path().join("host"));
    std::fs::create_dir_all(&publisher).unwrap();
    std::fs::create_dir_all(&host).unwrap();
    common::keys(&publisher, &["fleet"]);
    common::pin_fixture(&publisher, "calc", &["--lock", "mcpseal.lock"]);
    // The fleet: the pinned entry under many names (each valid: same definitions, same digests).
    let lock_path = publisher.join("mcpseal.lock");
    let mut lock: Value = serde_json::from_slice(&std::fs::read(&lock_path).unwrap()).unwrap();
    let entry = lock["servers"]["calc"].clone();
    let per = serde_json::to_vec(&entry).unwrap().len();
    let n = (17 << 20) / per + 1;
    let servers = lock["servers"].as_object_mut().unwrap();
    for i in 0..n {
        servers.insert(format!("calc-{i:05}"), entry.clone());
    }
    std::fs::write(&lock_path, serde_json::to_vec_pretty(&lock).unwrap()).unwrap();
    let size = std::fs::metadata(&lock_path).unwrap().len();
    assert!(size > 16 << 20, "{size}");
    let url = reg.url("fleet/big:prod");
    let (c, out, err) = lock_push(&publisher, &url, "fleet.key", &["--no-policy"]);
    assert_eq!(c, 0, "{out}{err}");
    let (key, state) = (publisher.join("fleet.pub"), host.join("state.json"));
    let pull = |url: &str| lock_pull(&host, &key, url, &state);
    let (c, out, err) = pull(&url);
    assert_eq!(c, 0, "{out}{err}");
    assert_eq!(
        std::fs::read(host.join("mcpseal.lock")).unwrap(),
        std::fs::read(&lock_path).unwrap(),
        "the {size}-byte lock is installed byte for byte"
    );

    // The same artifact, its lock layer claiming one byte over the lockfile limit: refused
    // on the claimed size, before the blob is fetched.
    std::fs::remove_file(host.join("mcpseal.lock")).unwrap();
    let (status, ct, manifest) = reg.http("GET", "/v2/fleet/big/manifests/prod", None, b"");
    assert_eq!(status, 200);
    let mut m: Value = serde_json::from_slice(&manifest).unwrap();
    for l in m["layers"].as_array_mut().unwrap() {
        if l["annotations"]["org.opencontainers.image.title"] == "mcpseal.lock" {
            l["size"] = Value::from((256u64 << 20) + 1);
        }
    }
    let body = serde_json::to_vec(&m).unwrap();
    let (status, _, resp) = reg.http("PUT", "/v2/fleet/big/manifests/huge", Some(&ct), &body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
    let (c, out, _) = pull(&reg.url("fleet/big:huge"));
    assert_eq!(c, 2, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("over the 268435456-byte limit"),
        "{v}"
    );
    assert!(!host.join("mcpseal.lock").exists(), "nothing is installed");
}

/// Issue 12: `[server.NAME] image-signers`. `pin` verifies the image's signature at the
/// registry and records the signer; `run` checks the record against the policy offline. The
/// attacks: an unsigned image, an image signed by another key, a pin made before the policy
/// named image signers, a lock edited to claim the trusted signer's key, and a policy that no
/// longer trusts the signer the pin recorded.
#[test]
fn image_signers_are_verified_by_pin_and_enforced_by_the_gate() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let docker = docker_shim(d);
    common::keys(d, &["rel", "other"]);
    let policy = |key: &str| {
        write(
            d,
            "mcpseal-policy.toml",
            format!(
                "[[signer]]\nname = \"acme-release\"\npublic-key = \"{key}\"\n\n[server.fetch]\nimage-signers = [\"acme-release\"]\n"
            )
            .as_bytes(),
        );
    };
    policy("rel.pub");
    reg.push_image("acme/fetch:1", "fetch 1.0");
    let image = format!("{}/acme/fetch:1", reg.host);
    let url = reg.url("acme/fetch:1");
    let shim = || docker.mcpseal(&reg, d);
    let mcpseal = |args: &[&str]| run(shim().args(args));
    let pin = || pin_fetch(shim(), &image);
    let reason = |out: &str| serde_json::from_str::<Value>(out).unwrap()["reason"].clone();

    // Unsigned, then signed by a key the policy does not name: pin refuses, writes nothing.
    let (c, out, err) = pin();
    assert_eq!(c, 1, "an unsigned image must not be pinned: {out}{err}");
    assert_eq!(reason(&out), "image-signer-untrusted");
    assert!(!d.join("mcpseal.lock").exists());
    assert_eq!(mcpseal(&["sign", &url, "--key", "other.key"]).0, 0);
    let (c, out, _) = pin();
    assert_eq!(c, 1, "another key's signature must not pass: {out}");
    assert_eq!(reason(&out), "image-signer-untrusted");

    // Signed by the policy's signer: pinned, with the signer recorded.
    assert_eq!(
        mcpseal(&["sign", &url, "--key", "rel.key", "--legacy"]).0,
        0
    );
    let (c, out, err) = pin();
    assert_eq!(c, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["image"]["signer"]["name"], "acme-release");
    let key_id = v["image"]["signer"]["keyId"].as_str().unwrap().to_owned();
    let lock_text = std::fs::read_to_string(d.join("mcpseal.lock")).unwrap();
    let lock: Value = serde_json::from_str(&lock_text).unwrap();
    assert_eq!(
        lock["servers"]["fetch"]["image"]["signer"]["keyId"],
        key_id.as_str()
    );

    let gate_reason = || {
        let mut cl = gate_fetch(shim(), &docker_run(&image));
        let r = cl.init();
        cl.finish();
        r
    };
    let r = gate_reason();
    assert!(
        r.get("result").is_some(),
        "the signed, pinned image runs: {r}"
    );

    // A pin without a recorded signer (made before the policy named image signers).
    let mut edited = lock.clone();
    edited["servers"]["fetch"]["image"]
        .as_object_mut()
        .unwrap()
        .remove("signer");
    std::fs::write(d.join("mcpseal.lock"), edited.to_string()).unwrap();
    let r = gate_reason();
    assert_eq!(r["error"]["data"]["reason"], "image-signer-missing", "{r}");

    // A lock edited to claim a signer the policy does not trust.
    let mut edited = lock.clone();
    edited["servers"]["fetch"]["image"]["signer"]["keyId"] = Value::from("f".repeat(64));
    std::fs::write(d.join("mcpseal.lock"), edited.to_string()).unwrap();
    let r = gate_reason();
    assert_eq!(
        r["error"]["data"]["reason"], "image-signer-untrusted",
        "{r}"
    );

    // The pin as written, but the policy now trusts another key: refused until re-pinned.
    std::fs::write(d.join("mcpseal.lock"), &lock_text).unwrap();
    policy("other.pub");
    let r = gate_reason();
    assert_eq!(
        r["error"]["data"]["reason"], "image-signer-untrusted",
        "{r}"
    );
    policy("rel.pub");
    let r = gate_reason();
    assert!(r.get("result").is_some(), "{r}");
}

/// Issue 12: keyless `image-signers` against a private Sigstore root (`pin --trusted-root`).
/// No keyless signature over an image can be made offline (it needs a Fulcio certificate and
/// a Rekor entry), so this tests the plumbing, with the refusals it must cause: the root given
/// is the one loaded for keyless image signers, before the registry is asked (a root that does
/// not parse refuses the pin, exit 2, even for an unsigned image), and a valid other root (the
/// sigstore-conformance suite's custom root) refuses an image its keyless signer did not sign.
#[test]
fn pin_checks_keyless_image_signers_against_the_trusted_root_given() {
    let Some(reg) = TestRegistry::start() else {
        return;
    };
    let Some(vectors) = common::require(
        "sigstore-conformance vectors",
        common::vectors().join("sigstore-conformance"),
    ) else {
        return;
    };
    let custom_root = vectors.join("intoto-with-custom-trust-root/trusted_root.json");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let docker = docker_shim(d);
    common::keys(d, &["rel"]);
    write(
        d,
        "mcpseal-policy.toml",
        b"[[signer]]\nname = \"corp-ci\"\nidentity = \"https://ci.corp.example/release\"\nissuer = \"https://oidc.corp.example\"\n\n[server.fetch]\nimage-signers = [\"corp-ci\"]\n",
    );
    let not_a_root = write(d, "not-a-root.json", b"this is not JSON");
    reg.push_image("acme/fetch:1", "fetch 1.0");
    let image = format!("{}/acme/fetch:1", reg.host);
    let pin = |root: Option<&Path>| {
        let mut cmd = docker.mcpseal(&reg, d);
        cmd.args(["pin", "fetch"]);
        if let Some(r) = root {
            cmd.arg("--trusted-root").arg(r);
        }
        pin_fetch_with(cmd, &image)
    };
    let reason = |out: &str| common::json(out)["reason"].clone();

    // Unsigned: a root that does not parse is refused before any signature is looked for.
    let (c, out, err) = pin(Some(&not_a_root));
    assert_eq!(c, 2, "{out}{err}");
    assert_eq!(reason(&out), "bad-trusted-root");

    // Signed (cosign 3, by a key, so there is a bundle for the keyless check to try).
    let (c, out, err) = reg.run(d, &["sign", &reg.url("acme/fetch:1"), "--key", "rel.key"]);
    assert_eq!(c, 0, "{out}{err}");
    let (c, out, _) = pin(Some(&not_a_root));
    assert_eq!(c, 2, "{out}");
    assert_eq!(reason(&out), "bad-trusted-root");
    for root in [None, Some(custom_root.as_path())] {
        let (c, out, err) = pin(root);
        assert_eq!(c, 1, "{root:?}: {out}{err}");
        assert_eq!(reason(&out), "image-signer-untrusted", "{root:?}");
    }
    assert!(!d.join("mcpseal.lock").exists(), "nothing pinned");
}
