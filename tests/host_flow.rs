//! Issue 11, done when: the host flow a new user meets, end to end, from `pin --all` through
//! `wrap --all` and gated launches to `unwrap --all`, on four clients' configs under a fake
//! HOME, with:
//!
//! - the per-user lock (no `--lock` anywhere; `$XDG_CONFIG_HOME/mcpseal/mcpseal.lock`);
//! - env references (`${env:VAR}` in Cursor, its value only in the environment, needed by
//!   the server to start, never in the lock; `${input:…}` in VS Code, which only VS Code can
//!   fill: reported as not captured, with its name, the rest going on);
//! - one name in two clients with two launches (`memory`): two lock keys, each wrapped
//!   entry gated under its own;
//! - a remote server (the real `server-everything` over Streamable HTTP on 127.0.0.1);
//! - a hung server (a real process that never answers): not captured after `--timeout`;
//! - VS Code's servers captured with the capabilities VS Code declares.

mod common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::client::Client;
use mcpseal::clients::{self, Client as Host};
use serde_json::{Value, json};

/// A command run with this test's per-user config folder (and nothing of the real user's).
fn mcpseal(xdg: &Path) -> Command {
    let mut c = common::mcpseal();
    c.env("XDG_CONFIG_HOME", xdg)
        .env_remove("MCPSEAL_E2E_TOKEN");
    c
}

fn write(path: &Path, v: &Value) -> Vec<u8> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let bytes = format!("{}\n", serde_json::to_string_pretty(v).unwrap()).into_bytes();
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// The wrapped entry `name` of `file` as its client would launch it.
fn launch_of(host: Host, file: &Path, name: &str, env: &dyn Fn(&str) -> Option<String>) -> Command {
    let servers = clients::parse(host, file, &std::fs::read(file).unwrap()).unwrap();
    let s = servers
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} not in {file:?}"));
    assert_eq!(s.wrapped, clients::WrapState::Wrapped, "{name} in {file:?}");
    let ctx = clients::expand::Context {
        home: "/nonexistent".into(),
        workspace: None,
    };
    let mcpseal::mcp::LaunchSpec::Stdio {
        command, args, env, ..
    } = s.launch_spec(&ctx, env).unwrap()
    else {
        panic!("{name}: a wrapped entry is a stdio launch of the gate")
    };
    let mut c = Command::new(command);
    c.args(args).envs(env);
    c
}

#[test]
fn the_host_flow_end_to_end() {
    let Some(everything) =
        common::node_module("@modelcontextprotocol/server-everything/dist/index.js")
    else {
        return;
    };
    let Some(python) = common::system_bin("python3") else {
        return;
    };
    let Some(node) = common::system_bin("node") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let project = t.path().join("project");
    let xdg = t.path().join("xdg");
    std::fs::create_dir_all(&project).unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_mcpseal")).unwrap();
    let m = exe.to_str().unwrap();

    // The remote server.
    let port = common::free_port();
    let _remote = common::KillOnDrop(
        Command::new(&node)
            .arg(&everything)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "server-everything did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/mcp");

    // Four clients. `memory` is two different servers in Claude Desktop and Claude Code.
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    let claude_code = home.join(".claude.json");
    let cursor = home.join(".cursor/mcp.json");
    let vscode = home.join(".config/Code/User/mcp.json");
    let secret = "s3cret-e2e-value";
    let mut originals: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    originals.insert(
        desktop.clone(),
        write(
            &desktop,
            &json!({"mcpServers": {"memory": {"command": m, "args": ["fixture-server"]}}}),
        ),
    );
    originals.insert(
        claude_code.clone(),
        write(
            &claude_code,
            &json!({"mcpServers": {
                "memory": {"command": m, "args": ["fixture-server", "--extra-tools", "2"]},
                "hung": {"command": python, "args": ["-c", "import sys; sys.stdin.read()"]},
            }}),
        ),
    );
    // The server refuses to start unless the referenced value reaches it.
    let guard = t.path().join("guard.py");
    std::fs::write(
        &guard,
        format!(
            "import os, sys\nif os.environ.get('E2E_TOKEN') != '{secret}':\n    sys.exit('E2E_TOKEN not passed')\nos.execv(sys.argv[1], [sys.argv[1], 'fixture-server'])\n"
        ),
    )
    .unwrap();
    originals.insert(
        cursor.clone(),
        write(
            &cursor,
            &json!({"mcpServers": {
                "needs-token": {"command": python, "args": [guard, m],
                                "env": {"E2E_TOKEN": "${env:MCPSEAL_E2E_TOKEN}"}},
                "everything-remote": {"url": url},
            }}),
        ),
    );
    originals.insert(
        vscode.clone(),
        write(
            &vscode,
            &json!({"servers": {
                "vs-fixture": {"type": "stdio", "command": m, "args": ["fixture-server"]},
                "prompted": {"type": "stdio", "command": m, "args": ["fixture-server"],
                             "env": {"API_KEY": "${input:api-key}"}},
            }}),
        ),
    );
    let with_home = |c: &mut Command| {
        c.arg("--home").arg(&home).arg("--project").arg(&project);
    };

    // scan --launch-only: references are references, with no value set and no server started.
    let mut scan = mcpseal(&xdg);
    scan.args(["--json", "scan", "--all", "--launch-only"]);
    with_home(&mut scan);
    let (code, out, err) = common::run(&mut scan);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("literal-secret"), "{out}");

    // pin --all: the per-user lock; the hung and the prompted server are not captured and
    // named, the others are pinned; exit 2.
    let mut pin = mcpseal(&xdg);
    pin.env("MCPSEAL_E2E_TOKEN", secret)
        .args(["--json", "pin", "--all", "--timeout", "8"]);
    with_home(&mut pin);
    let (code, out, err) = common::run(&mut pin);
    assert_eq!(code, 2, "{out}{err}");
    let user_lock = xdg.join("mcpseal/mcpseal.lock");
    assert!(
        err.contains(&format!("using the lock {}", user_lock.display())),
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "some-servers-not-pinned");
    let errors: BTreeMap<String, String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["server"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["hung", "prompted"],
        "{out}"
    );
    assert!(errors["prompted"].contains("${input:api-key}"), "{out}");
    let lock_text = std::fs::read_to_string(&user_lock).unwrap();
    assert!(!lock_text.contains(secret), "an env value reached the lock");
    let lock: Value = serde_json::from_str(&lock_text).unwrap();
    let keys: Vec<&String> = lock["servers"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "claude-code/memory",
            "claude-desktop/memory",
            "everything-remote",
            "needs-token",
            "vs-fixture"
        ],
        "{lock_text}"
    );
    assert_eq!(
        lock["servers"]["vs-fixture"]["capabilities"],
        json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}})
    );
    assert_eq!(
        lock["servers"]["needs-token"]["capabilities"],
        json!({"roots": {"listChanged": true}, "elicitation": {}})
    );

    // check re-launches every pinned server, the env value read from the client config the
    // server was pinned from (here: its reference, resolved from the environment).
    // Without the value the guarded server cannot start: check says so for that server.
    let (code, out, err) = common::run(mcpseal(&xdg).args(["--json", "check"]));
    assert_eq!(code, 2, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] != "ok")
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["needs-token"], "{out}");
    let mut check = mcpseal(&xdg);
    check
        .env("MCPSEAL_E2E_TOKEN", secret)
        .args(["--json", "check"]);
    let (code, out, err) = common::run(&mut check);
    assert_eq!(code, 0, "{out}{err}");

    // wrap --all refuses while servers it would wrap are not pinned, writing nothing…
    let mut wrap = mcpseal(&xdg);
    wrap.args(["wrap", "--all"]);
    with_home(&mut wrap);
    let (code, out, err) = common::run(&mut wrap);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("hung") && err.contains("prompted"), "{err}");
    for (f, bytes) in &originals {
        assert_eq!(&std::fs::read(f).unwrap(), bytes, "{f:?} written");
    }
    // …and wraps all of them when told those may stay unpinned (the gate refuses them).
    let mut wrap = mcpseal(&xdg);
    wrap.args(["wrap", "--all", "--allow-unpinned"]);
    with_home(&mut wrap);
    let (code, out, err) = common::run(&mut wrap);
    assert_eq!(code, 0, "{out}{err}");

    // Gated launches, as each client would start its wrapped entry.
    let no_env = |_: &str| None;
    let with_token = |k: &str| (k == "MCPSEAL_E2E_TOKEN").then(|| secret.to_owned());
    let tools_of = |mut cmd: Command| {
        cmd.env("XDG_STATE_HOME", common::root().join("target/test-state"));
        let mut c = Client::spawn(cmd);
        c.init();
        let tools = c.tools();
        c.finish();
        tools
    };
    let desktop_tools = tools_of(launch_of(Host::ClaudeDesktop, &desktop, "memory", &no_env));
    let code_tools = tools_of(launch_of(Host::ClaudeCode, &claude_code, "memory", &no_env));
    assert_eq!(code_tools.len(), desktop_tools.len() + 2, "{code_tools:?}");
    let token_tools = tools_of(launch_of(Host::Cursor, &cursor, "needs-token", &with_token));
    assert!(!token_tools.is_empty());
    let remote_tools = tools_of(launch_of(
        Host::Cursor,
        &cursor,
        "everything-remote",
        &no_env,
    ));
    assert!(remote_tools.iter().any(|t| t == "echo"), "{remote_tools:?}");
    // The hung server, wrapped but never pinned, is refused by its gate before it starts.
    let mut hung = Client::spawn(launch_of(Host::ClaudeCode, &claude_code, "hung", &no_env));
    let mut seen = Vec::new();
    let answer = hung.ask("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}), &mut seen);
    assert!(
        answer
            .as_ref()
            .is_some_and(|a| a["error"]["message"].is_string()),
        "{answer:?}"
    );
    hung.finish();

    // unwrap --all puts every byte back.
    let mut unwrap = mcpseal(&xdg);
    unwrap.args(["unwrap", "--all"]);
    with_home(&mut unwrap);
    let (code, out, err) = common::run(&mut unwrap);
    assert_eq!(code, 0, "{out}{err}");
    for (f, bytes) in &originals {
        assert_eq!(&std::fs::read(f).unwrap(), bytes, "{f:?} not restored");
    }
}
