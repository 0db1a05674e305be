//! Capture over Streamable HTTP and legacy SSE against the real `server-everything`, on
//! 127.0.0.1: the surface digest is the one stdio gives (the transport is not part of the
//! surface), and `pin --url` then `check` passes on a second capture.

mod common;

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn start(js: &std::path::Path, mode: &str) -> (common::KillOnDrop, u16) {
    let port = common::free_port();
    let child = Command::new("node")
        .arg(js)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "server-everything {mode} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (common::KillOnDrop(child), port)
}

fn surface_digest(args: &[&str]) -> String {
    let (code, out, err) = common::run(common::mcpseal().arg("--json").arg("surface").args(args));
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["digests"]["surface"].as_str().unwrap().to_owned()
}

#[test]
fn streamable_http_and_sse_capture_the_same_surface_as_stdio() {
    let Some(js) = common::node_module("@modelcontextprotocol/server-everything/dist/index.js")
    else {
        return;
    };
    let stdio = surface_digest(&["--", "node", js.to_str().unwrap()]);
    let (_http, port) = start(&js, "streamableHttp");
    let url = format!("http://127.0.0.1:{port}/mcp");
    assert_eq!(surface_digest(&["--url", &url]), stdio);
    let (_sse, sport) = start(&js, "sse");
    let surl = format!("http://127.0.0.1:{sport}/sse");
    assert_eq!(surface_digest(&["--url", &surl, "--sse"]), stdio);

    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(t.path())
            .args(["pin", "ev", "--url", &url]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = common::run(common::mcpseal().current_dir(t.path()).arg("check"));
    assert_eq!(code, 0, "second capture over HTTP drifted: {out}{err}");
}

#[test]
fn http_errors_name_the_server() {
    let port = common::free_port(); // nothing listens there
    let url = format!("http://127.0.0.1:{port}/mcp");
    let (code, _, err) =
        common::run(common::mcpseal().args(["surface", "--url", &url, "--timeout", "5"]));
    assert_eq!(code, 2);
    assert!(err.contains(&url) && err.contains("spawn-failed"), "{err}");
    let (code, _, err) =
        common::run(common::mcpseal().args(["surface", "--url", "ftp://example/x"]));
    assert_eq!(code, 2);
    assert!(err.contains("bad-url"), "{err}");
}

/// `mcpseal run --url`: stdio toward the client, Streamable HTTP toward a pinned remote server.
#[test]
fn gate_in_front_of_a_remote_streamable_http_server() {
    let Some(js) = common::node_module("@modelcontextprotocol/server-everything/dist/index.js")
    else {
        return;
    };
    let (_http, port) = start(&js, "streamableHttp");
    let url = format!("http://127.0.0.1:{port}/mcp");
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(t.path())
            .args(["pin", "ev", "--url", &url]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("mcpseal.lock")).unwrap()).unwrap();
    let pinned = lock["servers"]["ev"]["tools"].as_object().unwrap().len();

    let mut g = common::client::Client::gate(t.path(), "ev", &["--url", &url], &[] as &[&str]);
    assert!(g.init()["result"]["serverInfo"].is_object());
    let tools = g.tools();
    assert_eq!(tools.len(), pinned, "{tools:?}");
    let r = g
        .ask(
            "tools/call",
            serde_json::json!({"name": "get-sum", "arguments": {"a": 2, "b": 3}}),
            &mut vec![],
        )
        .unwrap();
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains('5'),
        "{r}"
    );
    let r = g
        .ask(
            "tools/call",
            serde_json::json!({"name": "not-a-pinned-tool", "arguments": {}}),
            &mut vec![],
        )
        .unwrap();
    assert_eq!(r["error"]["code"], -32001, "{r}");
    g.finish();

    // Another URL than the pinned one is refused before anything is contacted.
    let other = format!("http://127.0.0.1:{}/mcp", common::free_port());
    let mut g = common::client::Client::gate(t.path(), "ev", &["--url", &other], &[] as &[&str]);
    assert_eq!(g.init()["error"]["data"]["reason"], "launch-mismatch");
    assert_eq!(g.finish(), 1);
}

/// Issue 11, finding 6: bulk pin said only stdio servers are captured, and after `wrap` a
/// remote entry (`mcpseal run --name … --url URL`) made `pin --all` launch the gate itself.
/// Remote servers are pinned like local ones, and a wrapped entry is unwrapped in memory.
#[test]
fn bulk_pin_captures_remote_servers_and_never_the_gate() {
    let Some(js) = common::node_module("@modelcontextprotocol/server-everything/dist/index.js")
    else {
        return;
    };
    let (_http, port) = start(&js, "streamableHttp");
    let url = format!("http://127.0.0.1:{port}/mcp");
    let t = tempfile::tempdir().unwrap();
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let cfg = serde_json::json!({"mcpServers": {
        "remote": {"type": "http", "url": url},
        "gated": {"command": e, "args": ["run", "--name", "gated", "--lock", "/x/mcpseal.lock", "--url", url]}
    }});
    let f = t.path().join(".mcp.json");
    std::fs::write(&f, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(t.path())
            .args(["pin", "--config"])
            .arg(&f)
            .args(["--home", t.path().to_str().unwrap()]),
    );
    assert_eq!(code, 0, "{out}{err}");
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("mcpseal.lock")).unwrap()).unwrap();
    for name in ["remote", "gated"] {
        let s = &lock["servers"][name];
        assert_eq!(s["launch"]["transport"], "streamable-http", "{name}: {s}");
        assert_eq!(s["launch"]["url"], url.as_str(), "{name}");
        assert!(!s["tools"].as_object().unwrap().is_empty(), "{name}");
    }
    assert_eq!(
        lock["servers"]["remote"]["surfaceDigest"],
        lock["servers"]["gated"]["surfaceDigest"]
    );
    let (code, out, err) = common::run(common::mcpseal().current_dir(t.path()).arg("check"));
    assert_eq!(code, 0, "{out}{err}");
}
