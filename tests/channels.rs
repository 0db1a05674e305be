//! The channels servers ship through, end to end: `pin` records what was verified (an MCP
//! bundle's digest, signer and declared tools; a server.json package; an npm or PyPI package
//! with its provenance), `scan` reports what does not add up, and `run` refuses before
//! spawning when the bundle, the package or the provenance is not what the lock and the
//! policy say (docs/channels.md).
//!
//! Real peers: the `@anthropic-ai/mcpb` CLI packs and signs the bundles; the npm and PyPI
//! provenance is the real documents of real packages in testdata/provenance; the registry
//! test runs the real `@modelcontextprotocol/server-everything` 2026.8.31.
//!
//! One stand-in, said plainly: the launches are `npx -y NAME@VERSION` / `uvx NAME==VERSION`,
//! and `npx` / `uvx` here are two-line scripts first on PATH that start a server already on
//! disk. The packages with real provenance (`sigstore`, `pypi-attestations`) are not MCP
//! servers, and the registries reachable here do not serve what a real `npx -y` would fetch;
//! what is under test is what mcpseal records and enforces about the launch, which does not
//! depend on how the runner finds its files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::client::Client;
use serde_json::Value;

fn mcpb_bin() -> Option<PathBuf> {
    let peers = std::env::var_os("MCPSEAL_PEERS")
        .map_or_else(|| common::root().join("target/peers"), PathBuf::from);
    common::require("mcpb", peers.join("mcpb/node_modules/.bin/mcpb"))
}

fn node() -> Option<PathBuf> {
    common::system_bin("node")
}

fn ok(cmd: &mut Command) -> String {
    let (code, out, err) = common::run(cmd);
    assert_eq!(code, 0, "{cmd:?}: {out}\n{err}");
    out
}

/// A test folder with `bin/` (the runner stand-ins) first on PATH.
struct Env {
    t: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("bin")).unwrap();
        Env { t }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.t.path().join(rel)
    }

    fn s(&self, rel: &str) -> String {
        self.p(rel).display().to_string()
    }

    /// `bin/NAME`: a runner stand-in that ignores its arguments and starts `server`.
    fn runner(&self, name: &str, server: &[&str]) {
        use std::os::unix::fs::PermissionsExt;
        let quoted: Vec<String> = server.iter().map(|a| format!("'{a}'")).collect();
        let p = self.p(&format!("bin/{name}"));
        std::fs::write(&p, format!("#!/bin/sh\nexec {}\n", quoted.join(" "))).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn cmd(&self) -> Command {
        let mut c = common::mcpseal();
        let path = format!(
            "{}:{}",
            self.s("bin"),
            std::env::var("PATH").unwrap_or_default()
        );
        c.current_dir(self.t.path()).env("PATH", path);
        c
    }

    /// `mcpseal --json ARGS…`: (exit, JSON).
    fn json(&self, args: &[&str]) -> (i32, Value) {
        let (code, out, err) = common::run(self.cmd().arg("--json").args(args));
        let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
        (code, v)
    }

    /// `mcpseal run --name NAME ARGS… -- SERVER…`, answered `initialize`.
    fn gate(&self, name: &str, extra: &[&str], server: &[&str]) -> (Value, i32) {
        let mut c = self.cmd();
        c.args(["run", "--name", name, "--lock", "mcpseal.lock"])
            .args(extra)
            .arg("--")
            .args(server);
        let mut g = Client::spawn(c);
        let r = g.init();
        (r, g.finish())
    }

    fn lock(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.p("mcpseal.lock")).unwrap()).unwrap()
    }
}

/// Copies testdata/mcpb/served to `env/DIR` (optionally with other tools.json), packs it to
/// `env/OUT` with the real `mcpb pack`, and signs it with `mcpb sign --self-signed`.
fn served_bundle(env: &Env, mcpb: &Path, dir: &str, out: &str, tools: Option<&str>) {
    let src = common::root().join("testdata/mcpb/served");
    let to = env.p(dir);
    std::fs::create_dir_all(to.join("server")).unwrap();
    for f in ["manifest.json", "server/index.js", "server/tools.json"] {
        std::fs::copy(src.join(f), to.join(f)).unwrap();
    }
    if let Some(t) = tools {
        std::fs::write(to.join("server/tools.json"), t).unwrap();
    }
    ok(Command::new(mcpb).arg("pack").arg(&to).arg(env.p(out)));
    ok(Command::new(mcpb)
        .arg("sign")
        .arg(env.p(out))
        .arg("--self-signed"));
}

#[test]
fn mcpb_pin_records_digest_and_signer_and_the_gate_refuses_a_swapped_bundle() {
    let (Some(mcpb), Some(_)) = (mcpb_bin(), node()) else {
        return;
    };
    let env = Env::new();
    served_bundle(&env, &mcpb, "served", "served.mcpb", None);
    let entry = env.s("served/server/index.js");
    let server = ["node", entry.as_str()];
    // What `verify` says about the bundle is what `pin` records.
    let (code, v) = env.json(&["verify", "served.mcpb", "--allow-self-signed"]);
    assert_eq!(code, 0, "{v}");
    let fingerprint = v["bundles"][0]["signer"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, v) = env.json(&[
        "pin",
        "served",
        "--lock",
        "mcpseal.lock",
        "--mcpb",
        "served.mcpb",
        "--allow-self-signed",
        "--signer",
        &fingerprint,
        "--",
        server[0],
        server[1],
    ]);
    assert_eq!(code, 0, "{v}");
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
    let b = &env.lock()["servers"]["served"]["mcpb"];
    assert_eq!(b["signer"]["fingerprint"], fingerprint.as_str());
    assert_eq!(b["signer"]["selfSigned"], true);
    let bytes = std::fs::read(env.p("served.mcpb")).unwrap();
    let digest = format!("sha256:{}", mcpseal::digest::Digest::of(&bytes).hex());
    assert_eq!(b["digest"], digest.as_str());
    assert_eq!(b["declaredTools"], serde_json::json!(["echo"]));
    assert_eq!(
        (b["name"].as_str(), b["version"].as_str()),
        (Some("served-mcpb"), Some("1.0.0"))
    );
    // The gate starts the pinned bundle's server.
    let (r, _) = env.gate("served", &[], &server);
    assert!(r.get("result").is_some(), "{r}");
    // `check` agrees the pin holds.
    let (code, v) = env.json(&["check", "--lock", "mcpseal.lock"]);
    assert_eq!(code, 0, "{v}");

    // Attack: the bundle on disk is replaced by another one (here: the same source, packed and
    // signed again, so it is a valid signed bundle; only its digest tells it apart).
    served_bundle(&env, &mcpb, "other", "served.mcpb", None);
    assert_ne!(std::fs::read(env.p("served.mcpb")).unwrap(), bytes);
    std::fs::remove_file(env.p("served/started")).unwrap();
    let (r, code) = env.gate("served", &[], &server);
    assert_eq!(r["error"]["data"]["reason"], "mcpb-mismatch", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("served.mcpb")
    );
    assert_eq!(code, 1);
    assert!(
        !env.p("served/started").exists(),
        "the server must never have started"
    );
    let (code, v) = env.json(&["check", "--lock", "mcpseal.lock"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["servers"][0]["reason"], "mcpb-mismatch", "{v}");
    // A deleted bundle is refused too.
    std::fs::remove_file(env.p("served.mcpb")).unwrap();
    let (r, _) = env.gate("served", &[], &server);
    assert_eq!(r["error"]["data"]["reason"], "mcpb-unreadable", "{r}");
}

/// `pin --mcpb X --mcpb-dir DIR` binds the folder the bundle was unpacked into (here by the
/// real `mcpb unpack`) to the bundle's files; the gate and `check` refuse the folder once a
/// file is changed, added or removed, or a symlink appears, naming what differs.
#[test]
fn attack_an_edited_install_folder_of_a_pinned_bundle_is_refused() {
    let (Some(mcpb), Some(_)) = (mcpb_bin(), node()) else {
        return;
    };
    let env = Env::new();
    served_bundle(&env, &mcpb, "src", "served.mcpb", None);
    ok(Command::new(&mcpb)
        .arg("unpack")
        .arg(env.p("served.mcpb"))
        .arg(env.p("installed")));
    let entry = env.s("installed/server/index.js");
    let server = ["node", entry.as_str()];
    let pin = |name: &str| {
        env.json(&[
            "pin",
            name,
            "--lock",
            "mcpseal.lock",
            "--mcpb",
            "served.mcpb",
            "--allow-self-signed",
            "--mcpb-dir",
            "installed",
            "--",
            server[0],
            server[1],
        ])
    };
    // A folder with a file the bundle does not have is not pinned.
    std::fs::write(env.p("installed/server/extra.js"), "1").unwrap();
    let (code, v) = pin("served");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "mcpb-folder-mismatch", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("server/extra.js was added"),
        "{v}"
    );
    assert!(!env.p("installed/started").exists(), "nothing started");
    std::fs::remove_file(env.p("installed/server/extra.js")).unwrap();

    let (code, v) = pin("served");
    assert_eq!(code, 0, "{v}");
    let folder = &env.lock()["servers"]["served"]["mcpb"]["folder"];
    assert!(folder["files"].as_u64().unwrap() >= 3, "{folder}");
    assert!(
        folder["path"].as_str().unwrap().ends_with("/installed"),
        "{folder}"
    );
    // The fixture server writes `started` into its own folder: a server that writes into its
    // install folder changes it (the gate would refuse the next start), so remove it.
    let fresh = || std::fs::remove_file(env.p("installed/started")).ok();
    fresh();
    let (r, _) = env.gate("served", &[], &server);
    assert!(r.get("result").is_some(), "{r}");
    fresh();
    let (code, v) = env.json(&["check", "--lock", "mcpseal.lock"]);
    assert_eq!(code, 0, "{v}");
    fresh(); // `check` captured the server again

    let tools = env.p("installed/server/tools.json");
    let original = std::fs::read(&tools).unwrap();
    type Edit<'a> = (&'a str, Box<dyn Fn()>, Box<dyn Fn()>);
    let (t1, t2, t3, o1) = (
        tools.clone(),
        tools.clone(),
        tools.clone(),
        original.clone(),
    );
    let (o2, o3) = (original.clone(), original.clone());
    let evil = env.p("installed/server/evil.js");
    let evil2 = evil.clone();
    let link = env.p("installed/server/link.js");
    let link2 = link.clone();
    let edits: Vec<Edit> = vec![
        (
            "server/tools.json was changed",
            Box::new(move || {
                std::fs::write(
                    &t1,
                    br#"[{"name":"exfiltrate","inputSchema":{"type":"object"}}]"#,
                )
                .unwrap()
            }),
            Box::new(move || std::fs::write(&t2, &o1).unwrap()),
        ),
        (
            "server/evil.js was added",
            Box::new(move || std::fs::write(&evil, "require('child_process')").unwrap()),
            Box::new(move || std::fs::remove_file(&evil2).unwrap()),
        ),
        (
            "server/tools.json is missing",
            Box::new(move || std::fs::remove_file(&t3).unwrap()),
            Box::new({
                let t = tools.clone();
                move || std::fs::write(&t, &o2).unwrap()
            }),
        ),
        (
            "server/link.js is a symlink",
            Box::new(move || std::os::unix::fs::symlink("/etc/passwd", &link).unwrap()),
            Box::new(move || std::fs::remove_file(&link2).unwrap()),
        ),
    ];
    for (says, edit, undo) in edits {
        edit();
        let (r, code) = env.gate("served", &[], &server);
        assert_eq!(
            r["error"]["data"]["reason"], "mcpb-folder-mismatch",
            "{says}: {r}"
        );
        assert!(
            r["error"]["message"].as_str().unwrap().contains(says),
            "{says}: {r}"
        );
        assert_eq!(code, 1);
        assert!(
            !env.p("installed/started").exists(),
            "{says}: the server started"
        );
        let (code, v) = env.json(&["check", "--lock", "mcpseal.lock"]);
        assert_eq!(code, 1, "{says}: {v}");
        assert_eq!(
            v["servers"][0]["reason"], "mcpb-folder-mismatch",
            "{says}: {v}"
        );
        undo();
    }
    assert_eq!(std::fs::read(&tools).unwrap(), o3);
    let (r, _) = env.gate("served", &[], &server);
    assert!(r.get("result").is_some(), "restored: {r}");
}

#[test]
fn mcpb_pin_refuses_what_does_not_verify_and_starts_nothing() {
    let (Some(mcpb), Some(_)) = (mcpb_bin(), node()) else {
        return;
    };
    let env = Env::new();
    served_bundle(&env, &mcpb, "served", "served.mcpb", None);
    ok(Command::new(&mcpb)
        .arg("pack")
        .arg(env.p("served"))
        .arg(env.p("unsigned.mcpb")));
    let entry = env.s("served/server/index.js");
    let pin = |bundle: &str, extra: &[&str]| {
        let mut a = vec!["pin", "served", "--lock", "mcpseal.lock", "--mcpb", bundle];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--", "node", entry.as_str()]);
        env.json(&a)
    };
    for (bundle, extra, reason) in [
        (
            "unsigned.mcpb",
            vec!["--allow-self-signed"],
            "mcpb-unsigned",
        ),
        // Self-signed without a trust decision.
        ("served.mcpb", vec![], "mcpb-self-signed"),
        // Another signer than the one the user pinned.
        (
            "served.mcpb",
            vec![
                "--allow-self-signed",
                "--signer",
                &*format!("sha256:{}", "0".repeat(64)).leak(),
            ],
            "mcpb-signer-mismatch",
        ),
    ] {
        let (code, v) = pin(bundle, &extra);
        assert_eq!(code, 1, "{bundle} {extra:?}: {v}");
        assert_eq!(v["reason"], reason, "{v}");
        assert!(v["help"].as_str().unwrap().contains("not pinned"), "{v}");
    }
    assert!(!env.p("mcpseal.lock").exists(), "nothing was pinned");
    assert!(!env.p("served/started").exists(), "nothing was started");
    // A bundle edited after signing (one byte of its archive) is refused, not pinned.
    let mut bytes = std::fs::read(env.p("served.mcpb")).unwrap();
    bytes[100] ^= 1;
    std::fs::write(env.p("edited.mcpb"), &bytes).unwrap();
    let (code, v) = pin("edited.mcpb", &["--allow-self-signed"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "mcpb-content-digest-mismatch", "{v}");
    assert!(!env.p("mcpseal.lock").exists());
}

/// The bundle's install dialog shows the tools manifest.json declares (`echo`); the server it
/// carries also serves `read_file`. pin reports it, scan --lock reports it, and a gate that
/// denies high findings refuses it.
#[test]
fn attack_a_bundle_that_serves_an_undeclared_tool_is_a_finding() {
    let (Some(mcpb), Some(_)) = (mcpb_bin(), node()) else {
        return;
    };
    let env = Env::new();
    let tools = r#"[{"name": "echo", "description": "Echo the input", "inputSchema": {"type": "object"}},
                    {"name": "read_file", "description": "Read a file", "inputSchema": {"type": "object"}}]"#;
    served_bundle(&env, &mcpb, "liar", "liar.mcpb", Some(tools));
    let entry = env.s("liar/server/index.js");
    let (code, v) = env.json(&[
        "pin",
        "liar",
        "--lock",
        "mcpseal.lock",
        "--mcpb",
        "liar.mcpb",
        "--allow-self-signed",
        "--",
        "node",
        &entry,
    ]);
    assert_eq!(code, 0, "a new pin records and reports: {v}");
    let f: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "mcpb-tools-mismatch")
        .collect();
    assert_eq!(f.len(), 1, "{v}");
    assert_eq!(f[0]["entity"], "read_file");
    assert_eq!(f[0]["severity"], "high");
    let (code, v) = env.json(&["scan", "--lock", "mcpseal.lock"]);
    assert_eq!(code, 1, "{v}");
    assert!(v.to_string().contains("mcpb-tools-mismatch"), "{v}");
    let (r, code) = env.gate("liar", &["--deny-findings", "high"], &["node", &entry]);
    assert_eq!(r["error"]["data"]["reason"], "scan-finding", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mcpb-tools-mismatch"),
        "{r}"
    );
    assert_eq!(code, 1);
}

fn everything_server() -> Option<String> {
    common::node_module("@modelcontextprotocol/server-everything/dist/index.js")
        .map(|p| p.display().to_string())
}

#[test]
fn server_json_pin_records_the_package_and_a_launch_of_another_version_is_refused() {
    let (Some(srv), Some(_)) = (everything_server(), node()) else {
        return;
    };
    let env = Env::new();
    env.runner("npx", &["node", &srv, "stdio"]);
    let sj = common::root()
        .join("testdata/registry/server-everything.json")
        .display()
        .to_string();
    let launch = |v: &str| format!("@modelcontextprotocol/server-everything@{v}");
    let good = launch("2026.8.31");
    let (code, v) = env.json(&[
        "pin",
        "everything",
        "--lock",
        "mcpseal.lock",
        "--server-json",
        &sj,
        "--",
        "npx",
        "-y",
        &good,
        "stdio",
    ]);
    assert_eq!(code, 0, "{v}");
    let p = &env.lock()["servers"]["everything"]["package"];
    assert_eq!(p["registryType"], "npm");
    assert_eq!(p["identifier"], "@modelcontextprotocol/server-everything");
    assert_eq!(p["version"], "2026.8.31");
    assert_eq!(
        p["serverJson"]["name"],
        "io.github.modelcontextprotocol/server-everything"
    );
    let sj_bytes = std::fs::read(&sj).unwrap();
    let d = format!("sha256:{}", mcpseal::digest::Digest::of(&sj_bytes).hex());
    assert_eq!(p["serverJson"]["digest"], d.as_str());
    let (r, _) = env.gate("everything", &[], &["npx", "-y", &good, "stdio"]);
    assert!(r.get("result").is_some(), "{r}");

    // Attack: the client config now launches another version.
    let other = launch("2026.9.1");
    let (r, code) = env.gate("everything", &[], &["npx", "-y", &other, "stdio"]);
    assert_eq!(r["error"]["data"]["reason"], "package-mismatch", "{r}");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("2026.8.31") && msg.contains("2026.9.1"),
        "{msg}"
    );
    assert_eq!(code, 1);
    // …or another package altogether.
    let (r, _) = env.gate(
        "everything",
        &[],
        &["npx", "-y", "@evil/server-everything@2026.8.31", "stdio"],
    );
    assert_eq!(r["error"]["data"]["reason"], "package-mismatch", "{r}");
    // A lock edited by hand so the launch and the recorded package disagree: check refuses.
    let text = std::fs::read_to_string(env.p("mcpseal.lock")).unwrap();
    let edited = text.replace(&format!("\"{good}\""), &format!("\"{other}\""));
    assert_ne!(edited, text);
    std::fs::write(env.p("mcpseal.lock"), edited).unwrap();
    let (code, v) = env.json(&["check", "--lock", "mcpseal.lock"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["servers"][0]["reason"], "package-mismatch", "{v}");

    // At pin time: a launch of a version or package the entry does not name is refused.
    for l in [other.as_str(), "@evil/server-everything@2026.8.31"] {
        let (code, v) = env.json(&[
            "pin",
            "e2",
            "--lock",
            "fresh.lock",
            "--server-json",
            &sj,
            "--",
            "npx",
            "-y",
            l,
            "stdio",
        ]);
        assert_eq!(code, 1, "{l}: {v}");
        assert_eq!(v["reason"], "package-mismatch", "{v}");
    }
    // A server.json with a range is refused (the schema forbids it).
    let ranged = String::from_utf8(sj_bytes)
        .unwrap()
        .replace("\"version\": \"2026.8.31\"", "\"version\": \"^2026.8.31\"");
    std::fs::write(env.p("ranged.json"), ranged).unwrap();
    let (code, v) = env.json(&[
        "pin",
        "e3",
        "--lock",
        "fresh.lock",
        "--server-json",
        "ranged.json",
        "--",
        "npx",
        "-y",
        &good,
        "stdio",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "registry-version-not-exact", "{v}");
    assert!(!env.p("fresh.lock").exists());
}

#[test]
fn server_json_of_an_mcpb_package_must_carry_the_bundles_digest() {
    let (Some(mcpb), Some(_)) = (mcpb_bin(), node()) else {
        return;
    };
    let env = Env::new();
    served_bundle(&env, &mcpb, "served", "served.mcpb", None);
    let entry = env.s("served/server/index.js");
    let digest = mcpseal::digest::Digest::of(&std::fs::read(env.p("served.mcpb")).unwrap()).hex();
    let sj = |sha: &str| {
        serde_json::json!({
            "name": "io.github.example/served", "version": "1.0.0",
            "packages": [{"registryType": "mcpb", "identifier": "https://example.com/served.mcpb",
                          "fileSha256": sha, "transport": {"type": "stdio"}}]
        })
        .to_string()
    };
    std::fs::write(env.p("good.json"), sj(&digest)).unwrap();
    std::fs::write(env.p("other.json"), sj(&"ab".repeat(32))).unwrap();
    let pin = |file: &str, lock: &str| {
        env.json(&[
            "pin",
            "served",
            "--lock",
            lock,
            "--mcpb",
            "served.mcpb",
            "--allow-self-signed",
            "--server-json",
            file,
            "--",
            "node",
            &entry,
        ])
    };
    let (code, v) = pin("other.json", "a.lock");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "registry-digest-mismatch", "{v}");
    let (code, v) = pin("good.json", "b.lock");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["package"]["registryType"], "mcpb");
    assert_eq!(v["package"]["digest"], format!("sha256:{digest}").as_str());
}

/// The served bundle's server, copied to `env/srv` to run as a plain folder (it creates
/// `srv/started` when it starts). Returns its entry point.
fn plain_server(env: &Env) -> String {
    let served = common::root().join("testdata/mcpb/served");
    std::fs::create_dir_all(env.p("srv/server")).unwrap();
    for f in ["server/index.js", "server/tools.json"] {
        std::fs::copy(served.join(f), env.p(&format!("srv/{f}"))).unwrap();
    }
    env.s("srv/server/index.js")
}

fn trusted_root() -> String {
    common::vectors()
        .join("sigstore-conformance/production_trusted_root.json")
        .display()
        .to_string()
}

fn npm_dir() -> PathBuf {
    common::root().join("testdata/provenance/npm")
}

fn write_policy(env: &Env, name: &str, table: &str) -> String {
    std::fs::write(
        env.p("policy.toml"),
        format!("[server.{name}]\nprovenance = {table}\n"),
    )
    .unwrap();
    env.s("policy.toml")
}

/// `npx -y sigstore@1.0.0` pinned with its real npm provenance; the policy's provenance table
/// is checked offline by the gate against the record.
#[test]
fn npm_provenance_is_recorded_by_pin_and_enforced_by_the_policy() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("npx", &["node", &entry]);
    let d = npm_dir();
    let (att, tgz, tgz11) = (
        d.join("sigstore-1.0.0.attestations.json")
            .display()
            .to_string(),
        d.join("sigstore-1.0.0.tgz").display().to_string(),
        d.join("sigstore-1.1.0.tgz").display().to_string(),
    );
    let tr = trusted_root();
    let pin = |name: &str, launch: &str, artifact: &str| {
        env.json(&[
            "pin",
            name,
            "--lock",
            "mcpseal.lock",
            "--provenance",
            &att,
            "--artifact",
            artifact,
            "--trusted-root",
            &tr,
            "--",
            "npx",
            "-y",
            launch,
        ])
    };
    // Attacks at pin time, each refused before anything starts: another version's tarball,
    // a launch of another version than the provenance speaks for, another package.
    for (launch, artifact, reason) in [
        (
            "sigstore@1.0.0",
            tgz11.as_str(),
            "keyless-verification-failed",
        ),
        (
            "sigstore@1.1.0",
            tgz.as_str(),
            "provenance-subject-mismatch",
        ),
        ("tuf-js@1.0.0", tgz.as_str(), "provenance-subject-mismatch"),
    ] {
        let (code, v) = pin("sig", launch, artifact);
        assert_eq!(code, 1, "{launch} {artifact}: {v}");
        assert!(
            v["reason"] == reason || v["reason"] == "provenance-digest-mismatch",
            "{launch} {artifact}: {v}"
        );
    }
    // An unpinned launch has no package the provenance could speak for.
    let (code, v) = pin("sig", "sigstore@latest", &tgz);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["reason"], "provenance-needs-package", "{v}");
    assert!(!env.p("mcpseal.lock").exists(), "nothing pinned");
    assert!(!env.p("srv/started").exists(), "nothing started");

    let (code, v) = pin("sig", "sigstore@1.0.0", &tgz);
    assert_eq!(code, 0, "{v}");
    let p = &env.lock()["servers"]["sig"]["package"];
    assert_eq!(p["identifier"], "sigstore");
    assert_eq!(p["version"], "1.0.0");
    assert!(p["digest"].as_str().unwrap().starts_with("sha512-"), "{p}");
    let prov = &p["provenance"];
    assert_eq!(prov["repository"], "github.com/sigstore/sigstore-js", "{p}");
    assert_eq!(prov["workflow"], ".github/workflows/publish.yml");
    assert_eq!(prov["ref"], "refs/tags/v1.0.0");
    assert!(
        env.lock()["servers"]["sig"].get("artifacts").is_none(),
        "the package file is not an artifact to re-digest at run"
    );

    let launch = ["npx", "-y", "sigstore@1.0.0"];
    // The policy the package satisfies: the gate starts it.
    let pol = write_policy(
        &env,
        "sig",
        r#"{ repository = "github.com/sigstore/sigstore-js", workflow = "publish.yml", ref-regexp = "refs/tags/v.*" }"#,
    );
    let (r, _) = env.gate("sig", &["--policy", &pol], &launch);
    assert!(r.get("result").is_some(), "{r}");
    // Each field of the table, when the package was built elsewhere, refuses before spawning.
    for table in [
        r#"{ repository = "github.com/evil/sigstore-js" }"#,
        r#"{ repository = "github.com/sigstore/sigstore-js", workflow = "release.yml" }"#,
        r#"{ repository = "github.com/sigstore/sigstore-js", ref-regexp = "refs/tags/v2.*" }"#,
        // A whole match: a prefix is not enough.
        r#"{ repository = "github.com/sigstore/sigstore-js", ref-regexp = "refs/tags/v1" }"#,
    ] {
        let pol = write_policy(&env, "sig", table);
        std::fs::remove_file(env.p("srv/started")).ok();
        let (r, code) = env.gate("sig", &["--policy", &pol], &launch);
        assert_eq!(
            r["error"]["data"]["reason"], "provenance-source-mismatch",
            "{table}: {r}"
        );
        assert_eq!(code, 1);
        assert!(
            !env.p("srv/started").exists(),
            "{table}: the server started"
        );
    }
    // A table that constrains nothing is a policy error, not a pass.
    let pol = write_policy(&env, "sig", "{ workflow = \"publish.yml\" }");
    let (r, _) = env.gate("sig", &["--policy", &pol], &launch);
    assert_eq!(r["error"]["data"]["reason"], "policy-invalid", "{r}");

    // A server pinned without provenance: refused, and told the command that records it.
    let (code, v) = env.json(&[
        "pin",
        "bare",
        "--lock",
        "mcpseal.lock",
        "--",
        "npx",
        "-y",
        "sigstore@1.0.0",
    ]);
    assert_eq!(code, 0, "{v}");
    let pol = write_policy(
        &env,
        "bare",
        r#"{ repository = "github.com/sigstore/sigstore-js" }"#,
    );
    std::fs::remove_file(env.p("srv/started")).ok();
    let (r, _) = env.gate("bare", &["--policy", &pol], &launch);
    assert_eq!(r["error"]["data"]["reason"], "provenance-missing", "{r}");
    let m = r["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("mcpseal pin bare") && m.contains("--provenance"),
        "{m}"
    );
    assert!(!env.p("srv/started").exists());
    // …and --tofu cannot get around it: nothing is captured, nothing started.
    let (r, _) = env.gate(
        "ghost",
        &[
            "--policy",
            &write_policy(
                &env,
                "ghost",
                r#"{ repository = "github.com/sigstore/sigstore-js" }"#,
            ),
            "--tofu",
        ],
        &launch,
    );
    assert_eq!(r["error"]["data"]["reason"], "provenance-missing", "{r}");
    assert!(!env.p("srv/started").exists());
    // A recorded provenance does not carry over to a launch of another version.
    let pol = write_policy(
        &env,
        "sig",
        r#"{ repository = "github.com/sigstore/sigstore-js" }"#,
    );
    let (r, _) = env.gate("sig", &["--policy", &pol], &["npx", "-y", "sigstore@1.1.0"]);
    assert_eq!(r["error"]["data"]["reason"], "package-mismatch", "{r}");
}

/// `uvx pypi-attestations==0.0.19` pinned with its real PEP 740 provenance.
#[test]
fn pypi_provenance_is_recorded_for_the_launched_version_only() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("uvx", &["node", &entry]);
    let d = common::root().join("testdata/provenance/pypi");
    let s = |f: &str| d.join(f).display().to_string();
    let tr = trusted_root();
    let (prov, dist, dist20) = (
        s("pypi_attestations-0.0.19.tar.gz.provenance"),
        s("pypi_attestations-0.0.19.tar.gz"),
        s("pypi_attestations-0.0.20.tar.gz"),
    );
    let pin = |launch: &str, artifact: &str| {
        env.json(&[
            "pin",
            "pa",
            "--lock",
            "mcpseal.lock",
            "--provenance",
            &prov,
            "--artifact",
            artifact,
            "--trusted-root",
            &tr,
            "--",
            "uvx",
            launch,
        ])
    };
    // The launch's version and the file's disagree: refused.
    let (code, v) = pin("pypi-attestations==0.0.20", &dist);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "provenance-subject-mismatch", "{v}");
    // The right launch with the next release's file: its digest is not the attested one.
    let (code, v) = pin("pypi-attestations==0.0.20", &dist20);
    assert_eq!(code, 1, "{v}");
    assert!(!env.p("mcpseal.lock").exists());
    let (code, v) = pin("pypi-attestations==0.0.19", &dist);
    assert_eq!(code, 0, "{v}");
    let p = &env.lock()["servers"]["pa"]["package"];
    assert_eq!(p["registryType"], "pypi");
    assert_eq!(p["provenance"]["kind"], "pep740");
    assert_eq!(
        p["provenance"]["repository"], "github.com/trailofbits/pypi-attestations",
        "{p}"
    );
    assert!(p["digest"].as_str().unwrap().starts_with("sha256:"));
    let pol = write_policy(
        &env,
        "pa",
        r#"{ repository = "github.com/trailofbits/pypi-attestations", workflow = "release.yml" }"#,
    );
    let (r, _) = env.gate(
        "pa",
        &["--policy", &pol],
        &["uvx", "pypi-attestations==0.0.19"],
    );
    assert!(r.get("result").is_some(), "{r}");
}

/// scan reports a server whose policy requires provenance but whose launch is not one exact
/// version; the exact one is not reported.
#[test]
fn scan_reports_a_provenance_requirement_on_an_unpinned_launch() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("npx", &["node", &entry]);
    env.runner("uvx", &["node", &entry]);
    let servers: [(&str, &[&str]); 5] = [
        ("exact", &["npx", "-y", "foo@1.2.3"]),
        ("bare", &["npx", "foo"]),
        ("latest", &["npx", "-y", "foo@latest"]),
        ("caret", &["npx", "foo@^1"]),
        ("uv", &["uvx", "foo"]),
    ];
    let mut policy = String::new();
    for (name, launch) in servers {
        let mut a = vec!["pin", name, "--lock", "mcpseal.lock", "--"];
        a.extend_from_slice(launch);
        let (code, v) = env.json(&a);
        assert_eq!(code, 0, "{v}");
        policy.push_str(&format!(
            "[server.{name}]\nprovenance = {{ repository = \"github.com/org/foo\" }}\n"
        ));
    }
    std::fs::write(env.p("policy.toml"), policy).unwrap();
    let (code, v) = env.json(&["scan", "--lock", "mcpseal.lock", "--policy", "policy.toml"]);
    assert_eq!(code, 1, "{v}");
    let mut flagged: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "provenance-unpinned-launch")
        .map(|f| f["server"].as_str().unwrap().to_owned())
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["bare", "caret", "latest", "uv"], "{v}");
    // Without the policy, the provenance rule says nothing.
    let (_, v) = env.json(&["scan", "--lock", "mcpseal.lock"]);
    assert!(!v.to_string().contains("provenance-unpinned-launch"), "{v}");
}

/// A loopback HTTP/1.1 server standing in for npm's attestations endpoint and PyPI's
/// integrity API, which the registries reachable here do not serve: `GET PATH` answers the
/// recorded real response for that path (the real documents in testdata/provenance, byte for
/// byte, or a test's edit of them), anything else 404. Records the paths asked for; stops
/// when dropped.
struct Attestations {
    base: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Attestations {
    fn serve(routes: Vec<(String, Vec<u8>)>) -> Attestations {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(mut s) = s else { continue };
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&req).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                seen2.lock().unwrap().push(path.clone());
                let (status, body) = match routes.iter().find(|(p, _)| *p == path) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"{\"error\":\"not found\"}".to_vec()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            }
        });
        Attestations { base, seen, stop }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Attestations {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the stop.
        let _ = std::net::TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

/// The real npm document with its SLSA statement edited (the repository it claims), its
/// signature left as it was.
fn tampered(doc: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v: Value = serde_json::from_slice(doc).unwrap();
    let att = v["attestations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| {
            a["predicateType"]
                .as_str()
                .unwrap()
                .starts_with("https://slsa.dev/")
        })
        .unwrap();
    let p = &mut att["bundle"]["dsseEnvelope"]["payload"];
    let stmt = String::from_utf8(b64.decode(p.as_str().unwrap()).unwrap()).unwrap();
    assert!(stmt.contains("sigstore/sigstore-js"));
    *p = b64
        .encode(stmt.replace("sigstore/sigstore-js", "evil/sigstore-js"))
        .into();
    serde_json::to_vec(&v).unwrap()
}

/// `pin --fetch-provenance`: npm's attestations fetched from a configurable base (here the
/// loopback server with the recorded responses), verified exactly as a given document; each
/// wrong answer refused, a 404 refused when the policy requires provenance; and `run` never
/// fetches: the gate starts the server with the base unreachable.
#[test]
fn fetched_npm_provenance_is_verified_and_run_never_fetches() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("npx", &["node", &entry]);
    let d = npm_dir();
    let doc = std::fs::read(d.join("sigstore-1.0.0.attestations.json")).unwrap();
    let tuf_doc = std::fs::read(d.join("tuf-js-1.0.0.attestations.json")).unwrap();
    let at = |prefix: &str, spec: &str| format!("{prefix}/-/npm/v1/attestations/{spec}");
    let server = Attestations::serve(vec![
        (at("", "sigstore@1.0.0"), doc.clone()),
        (at("", "tuf-js@1.0.0"), tuf_doc),
        // Answers for another package, another version, and an edited statement.
        (at("/other-package", "tuf-js@1.0.0"), doc.clone()),
        (at("/other-version", "sigstore@1.1.0"), doc.clone()),
        (at("/tampered", "sigstore@1.0.0"), tampered(&doc)),
    ]);
    let tr = trusted_root();
    let tgz = |f: &str| d.join(f).display().to_string();
    let pin = |name: &str, base: &str, spec: &str, artifact: &str, extra: &[&str]| {
        let mut a = vec![
            "pin",
            name,
            "--lock",
            "mcpseal.lock",
            "--fetch-provenance",
            "--provenance-url",
            base,
            "--artifact",
            artifact,
            "--trusted-root",
            &tr,
        ];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--", "npx", "-y", spec]);
        env.json(&a)
    };
    let b = |p: &str| format!("{}{p}", server.base);
    for (what, base, spec, artifact) in [
        (
            "another package's response",
            b("/other-package"),
            "tuf-js@1.0.0",
            tgz("tuf-js-1.0.0.tgz"),
        ),
        (
            "another version's response",
            b("/other-version"),
            "sigstore@1.1.0",
            tgz("sigstore-1.1.0.tgz"),
        ),
        (
            "a tampered statement",
            b("/tampered"),
            "sigstore@1.0.0",
            tgz("sigstore-1.0.0.tgz"),
        ),
    ] {
        let (code, v) = pin("sig", &base, spec, &artifact, &[]);
        assert_eq!(code, 1, "{what}: {v}");
        assert!(
            v["reason"].as_str().unwrap().starts_with("provenance-")
                || v["reason"] == "keyless-verification-failed",
            "{what}: {v}"
        );
        assert!(
            v["help"].as_str().unwrap_or_default().contains(&base),
            "{what}: the help names where the document came from: {v}"
        );
    }
    assert!(!env.p("mcpseal.lock").exists(), "nothing pinned");
    assert!(!env.p("srv/started").exists(), "nothing started");

    // None published (404) while the policy requires provenance: refused, nothing pinned.
    let pol = write_policy(
        &env,
        "sig",
        r#"{ repository = "github.com/sigstore/sigstore-js" }"#,
    );
    let (code, v) = pin(
        "sig",
        &b("/empty"),
        "sigstore@1.0.0",
        &tgz("sigstore-1.0.0.tgz"),
        &["--policy", &pol],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["reason"], "provenance-missing", "{v}");
    assert!(!env.p("mcpseal.lock").exists());
    // An unreachable base decides nothing.
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    let (code, v) = pin(
        "sig",
        &dead,
        "sigstore@1.0.0",
        &tgz("sigstore-1.0.0.tgz"),
        &[],
    );
    assert_eq!(
        (code, v["reason"].as_str()),
        (2, Some("provenance-unreachable")),
        "{v}"
    );

    // The real response: verified, recorded.
    let (code, v) = pin(
        "sig",
        &server.base,
        "sigstore@1.0.0",
        &tgz("sigstore-1.0.0.tgz"),
        &["--policy", &pol],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["provenanceFetched"]["outcome"], "verified", "{v}");
    assert_eq!(
        v["provenanceFetched"]["url"],
        format!("{}/-/npm/v1/attestations/sigstore@1.0.0", server.base)
    );
    let p = &env.lock()["servers"]["sig"]["package"];
    assert_eq!(
        p["provenance"]["repository"], "github.com/sigstore/sigstore-js",
        "{p}"
    );
    assert!(
        server
            .seen()
            .contains(&"/-/npm/v1/attestations/sigstore@1.0.0".to_owned())
    );

    // A package without provenance, no policy requiring it: pinned without, and said so.
    let (code, v) = pin(
        "tuf",
        &b("/empty"),
        "tuf-js@1.0.0",
        &tgz("tuf-js-1.0.0.tgz"),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["provenanceFetched"]["outcome"], "not-published", "{v}");
    assert!(
        env.lock()["servers"]["tuf"]["package"]
            .get("provenance")
            .is_none()
    );

    // `run` never fetches: with the attestation server gone, the gate checks the record
    // offline and starts the server.
    let asked = server.seen().len();
    let seen = server.seen.clone();
    drop(server);
    let (r, _) = env.gate("sig", &["--policy", &pol], &["npx", "-y", "sigstore@1.0.0"]);
    assert!(r.get("result").is_some(), "{r}");
    assert!(env.p("srv/started").exists(), "the server started");
    // (The drop's wake-up connection is the only one after the pins.)
    assert!(seen.lock().unwrap().len() <= asked + 1);
}

/// PyPI's integrity API, the same way: the real provenance file for the launched file, and a
/// response for another version refused.
#[test]
fn fetched_pypi_provenance_is_for_the_launched_file_only() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("uvx", &["node", &entry]);
    let d = common::root().join("testdata/provenance/pypi");
    let prov = std::fs::read(d.join("pypi_attestations-0.0.19.tar.gz.provenance")).unwrap();
    let path = |v: &str| {
        format!("/integrity/pypi-attestations/{v}/pypi_attestations-{v}.tar.gz/provenance")
    };
    let server = Attestations::serve(vec![(path("0.0.19"), prov.clone()), (path("0.0.20"), prov)]);
    let tr = trusted_root();
    let pin = |v: &str| {
        let dist = d.join(format!("pypi_attestations-{v}.tar.gz"));
        env.json(&[
            "pin",
            "pa",
            "--lock",
            "mcpseal.lock",
            "--fetch-provenance",
            "--provenance-url",
            &server.base,
            "--artifact",
            &dist.display().to_string(),
            "--trusted-root",
            &tr,
            "--",
            "uvx",
            &format!("pypi-attestations=={v}"),
        ])
    };
    let (code, v) = pin("0.0.20");
    assert_eq!(code, 1, "another version's provenance: {v}");
    assert!(!env.p("mcpseal.lock").exists());
    let (code, v) = pin("0.0.19");
    assert_eq!(code, 0, "{v}");
    let p = &env.lock()["servers"]["pa"]["package"];
    assert_eq!(p["provenance"]["kind"], "pep740", "{p}");
    assert_eq!(
        p["provenance"]["repository"], "github.com/trailofbits/pypi-attestations",
        "{p}"
    );
    assert_eq!(server.seen(), [path("0.0.20"), path("0.0.19")]);
}

/// `pin --server-json` with the package file (`--provenance` / `--fetch-provenance
/// --artifact`): the file must carry the entry's name marker, as `verify-registry` requires.
/// The real packages with real provenance here (sigstore 1.0.0, pypi-attestations 0.0.19)
/// predate the registry and carry none: an entry claiming them is refused, nothing pinned.
#[test]
fn attack_a_registry_entry_claiming_a_package_without_its_name_marker_is_not_pinned() {
    let Some(_) = node() else { return };
    let env = Env::new();
    let entry = plain_server(&env);
    env.runner("npx", &["node", &entry]);
    env.runner("uvx", &["node", &entry]);
    let tr = trusted_root();
    let npm = npm_dir();
    let pypi = common::root().join("testdata/provenance/pypi");
    let s = |p: PathBuf| p.display().to_string();
    for (kind, id, version, att, artifact, launch) in [
        (
            "npm",
            "sigstore",
            "1.0.0",
            s(npm.join("sigstore-1.0.0.attestations.json")),
            s(npm.join("sigstore-1.0.0.tgz")),
            vec!["npx", "-y", "sigstore@1.0.0"],
        ),
        (
            "pypi",
            "pypi-attestations",
            "0.0.19",
            s(pypi.join("pypi_attestations-0.0.19.tar.gz.provenance")),
            s(pypi.join("pypi_attestations-0.0.19.tar.gz")),
            vec!["uvx", "pypi-attestations==0.0.19"],
        ),
    ] {
        std::fs::write(
            env.p("server.json"),
            format!(
                r#"{{"name": "io.github.evil/{id}", "version": "{version}", "packages": [{{"registryType": "{kind}", "identifier": "{id}", "version": "{version}", "transport": {{"type": "stdio"}}}}]}}"#
            ),
        )
        .unwrap();
        let mut a = vec![
            "pin",
            "x",
            "--lock",
            "mcpseal.lock",
            "--server-json",
            "server.json",
            "--provenance",
            &att,
            "--artifact",
            &artifact,
            "--trusted-root",
            &tr,
            "--",
        ];
        a.extend_from_slice(&launch);
        let (code, v) = env.json(&a);
        assert_eq!(code, 1, "{kind}: {v}");
        assert_eq!(v["reason"], "registry-name-marker-missing", "{kind}: {v}");
        assert!(!env.p("mcpseal.lock").exists(), "{kind}: nothing pinned");
        assert!(!env.p("srv/started").exists(), "{kind}: nothing started");
    }
}
