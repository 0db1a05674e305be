//! Real MCP clients through `mcpseal run`: the MCP Inspector CLI (npm, 0.15.0) and the
//! official Python SDK client (PyPI `mcp`), driving real servers (`server-everything`,
//! `server-filesystem`) and the fixture server's rug pull.
//!
//! A pinned server must give the same results through the gate as without it; after a rug
//! pull the changed tool must be absent from the client's list and calling it must return the
//! gate's error. Capability-dependent tools: a server pinned with the capabilities the client
//! declares shows them all; pinned without, they are unpinned and removed (docs/gate.md).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// `mcpseal run` as a client config entry would launch it (no `--`: the Inspector drops it).
fn gated(dir: &Path, name: &str, server: &[String]) -> Vec<String> {
    let mut v = common::gate_argv(dir, name, &dir.join("audit.jsonl"));
    v.extend(server.iter().cloned());
    v
}

struct Inspector(PathBuf);

impl Inspector {
    fn find() -> Option<Inspector> {
        common::node_module("@modelcontextprotocol/inspector/cli/build/cli.js").map(Inspector)
    }

    /// Runs the Inspector CLI against `server` (launched from a config file, as hosts do).
    fn run(&self, dir: &Path, server: &[String], method: &[&str]) -> (i32, Value, String) {
        let cfg = dir.join(format!("inspector-{}.json", std::process::id()));
        let entry = json!({"mcpServers": {"s": {"command": server[0], "args": server[1..]}}});
        std::fs::write(&cfg, entry.to_string()).unwrap();
        let (code, out, err) = common::run(
            Command::new("node")
                .arg(&self.0)
                .args(["--cli", "--config"])
                .arg(&cfg)
                .args(["--server", "s", "--method"])
                .args(method),
        );
        let v = serde_json::from_str(&out).unwrap_or(Value::Null);
        (code, v, format!("{out}{err}"))
    }
}

fn sdk_client(dir: &Path, opts: &[&str], server: &[String]) -> Value {
    let py = common::venv_bin("python").expect("python peer");
    let script = common::root().join("testdata/clients/sdk_client.py");
    let (code, out, err) = common::run(
        Command::new(py)
            .current_dir(dir)
            .arg(script)
            .args(opts)
            .arg("--")
            .args(server),
    );
    assert_eq!(code, 0, "sdk client: {out}{err}");
    serde_json::from_str(out.lines().last().unwrap_or(""))
        .unwrap_or_else(|_| panic!("sdk client output: {out}{err}"))
}

fn everything() -> Option<Vec<String>> {
    let js = common::node_module("@modelcontextprotocol/server-everything/dist/index.js")?;
    Some(vec!["node".into(), js.display().to_string()])
}

fn filesystem(root: &Path) -> Option<Vec<String>> {
    let js = common::node_module("@modelcontextprotocol/server-filesystem/dist/index.js")?;
    Some(vec![
        "node".into(),
        js.display().to_string(),
        root.display().to_string(),
    ])
}

fn sleeper(dir: &Path) -> Vec<String> {
    let c = dir.join("launches").display().to_string();
    common::fixture_server(&["--launch-counter", &c, "--rug-pull", "description"])
}

#[test]
fn inspector_sees_the_same_through_the_gate_for_pinned_real_servers() {
    let (Some(insp), Some(ev)) = (Inspector::find(), everything()) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("hello.txt"), "hi").unwrap();
    let Some(fs) = filesystem(root.path()) else {
        return;
    };
    common::pin(t.path(), "ev", &ev);
    common::pin(t.path(), "fs", &fs);
    for (name, server, call) in [
        (
            "ev",
            &ev,
            vec![
                "tools/call",
                "--tool-name",
                "get-sum",
                "--tool-arg",
                "a=1",
                "--tool-arg",
                "b=2",
            ],
        ),
        (
            "fs",
            &fs,
            vec!["tools/call", "--tool-name", "list_allowed_directories"],
        ),
    ] {
        let (c1, direct, o1) = insp.run(t.path(), server, &["tools/list"]);
        let (c2, through, o2) = insp.run(t.path(), &gated(t.path(), name, server), &["tools/list"]);
        assert_eq!((c1, c2), (0, 0), "{o1}\n{o2}");
        assert!(!direct["tools"].as_array().unwrap().is_empty());
        assert_eq!(
            direct, through,
            "{name}: tools/list differs through the gate"
        );
        let (_, d, _) = insp.run(t.path(), server, &call);
        let (_, g, o) = insp.run(t.path(), &gated(t.path(), name, server), &call);
        assert!(d["content"].is_array(), "{name}: {d}");
        assert_eq!(d, g, "{name}: tools/call differs through the gate: {o}");
    }
}

#[test]
fn inspector_after_a_rug_pull_lacks_the_tool_and_gets_the_gates_error() {
    let Some(insp) = Inspector::find() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let server = sleeper(t.path());
    common::pin(t.path(), "calc", &server); // launch 1: benign
    let (code, list, out) = insp.run(t.path(), &gated(t.path(), "calc", &server), &["tools/list"]);
    assert_eq!(code, 0, "{out}");
    let names: Vec<&str> = list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo"]);
    let (code, _, out) = insp.run(
        t.path(),
        &gated(t.path(), "calc", &server),
        &[
            "tools/call",
            "--tool-name",
            "add",
            "--tool-arg",
            "a=1",
            "--tool-arg",
            "b=2",
        ],
    );
    assert_ne!(code, 0);
    assert!(out.contains("mcpseal blocked this request"), "{out}");
}

#[test]
fn python_sdk_client_sees_the_same_through_the_gate() {
    let Some(ev) = everything() else { return };
    let t = tempfile::tempdir().unwrap();
    common::pin(t.path(), "ev", &ev);
    let call = ["--call", "get-sum", r#"{"a": 2, "b": 3}"#];
    let direct = sdk_client(t.path(), &call, &ev);
    let through = sdk_client(t.path(), &call, &gated(t.path(), "ev", &ev));
    assert_eq!(direct["tools"], through["tools"]);
    assert_eq!(direct["call"], through["call"]);
    assert!(
        direct["call"]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains('5')
    );
}

#[test]
fn python_sdk_client_with_roots_and_sampling_sees_conditional_tools_when_pinned_so() {
    let Some(ev) = everything() else { return };
    let t = tempfile::tempdir().unwrap();
    let direct = sdk_client(t.path(), &["--roots-sampling"], &ev);
    let plain = sdk_client(t.path(), &[], &ev);
    assert!(
        direct["tools"].as_array().unwrap().len() > plain["tools"].as_array().unwrap().len(),
        "the server announces more tools to a client with roots and sampling"
    );
    // Pinned with the same capabilities the host declares: everything passes, list_changed too.
    let mut args = vec![
        "--capabilities".to_owned(),
        "roots,sampling".to_owned(),
        "--".to_owned(),
    ];
    args.extend(ev.iter().cloned());
    common::pin_ok(t.path(), "ev", &args);
    let through = sdk_client(t.path(), &["--roots-sampling"], &gated(t.path(), "ev", &ev));
    assert_eq!(direct["tools"], through["tools"]);
    assert!(
        through["listChanged"].as_u64().unwrap() >= 1,
        "list_changed reaches the client: {through}"
    );
    // Pinned without them: the conditional tools are unpinned, and the gate removes them.
    let t2 = tempfile::tempdir().unwrap();
    common::pin(t2.path(), "ev", &ev);
    let narrowed = sdk_client(
        t2.path(),
        &["--roots-sampling"],
        &gated(t2.path(), "ev", &ev),
    );
    assert_eq!(narrowed["tools"], plain["tools"]);
}

#[test]
fn python_sdk_client_through_the_gate_on_server_filesystem() {
    let root = tempfile::tempdir().unwrap();
    let Some(fs) = filesystem(root.path()) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    common::pin(t.path(), "fs", &fs);
    let call = ["--call", "list_allowed_directories", "{}"];
    let direct = sdk_client(t.path(), &call, &fs);
    let through = sdk_client(t.path(), &call, &gated(t.path(), "fs", &fs));
    assert_eq!(direct, through);
}

#[test]
fn python_sdk_client_after_a_rug_pull_lacks_the_tool_and_gets_the_gates_error() {
    if common::venv_bin("python").is_none() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let server = sleeper(t.path());
    common::pin(t.path(), "calc", &server);
    let out = sdk_client(
        t.path(),
        &["--call", "add", r#"{"a": 1, "b": 2}"#],
        &gated(t.path(), "calc", &server),
    );
    assert_eq!(out["tools"], json!(["echo"]));
    assert!(
        out["call"]["error"]
            .as_str()
            .unwrap_or("")
            .contains("mcpseal blocked this request"),
        "{out}"
    );
}
