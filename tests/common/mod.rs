//! Shared helpers for integration tests: the binary under test and the real peers.
//!
//! Peers (npm and PyPI MCP servers, clients and verifiers) are installed pinned into
//! `target/peers/` by `scripts/install-peers.sh`. A test that needs a missing peer skips with a
//! message on a developer machine, and **fails** when `CI` is set: in CI a skip is a failure.
#![allow(dead_code)]

pub mod client;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `mcpseal` as built for this test run.
pub fn mcpseal() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcpseal"));
    c.env_remove("MCPSEAL_PASSWORD")
        .env_remove("MCPSEAL_PRIVATE_KEY")
        // `run --lock-key` records enforced lock serials under the state directory: keep the
        // tests' records inside the build folder, never in the user's home.
        .env("XDG_STATE_HOME", root().join("target/test-state"))
        // Host-wide commands default to the per-user lock under XDG_CONFIG_HOME: a test must
        // name its lock, and one that forgets fails here instead of writing the user's.
        .env(
            "XDG_CONFIG_HOME",
            "/nonexistent/mcpseal-tests-name-your-lock",
        );
    c
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("spawn");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// `mcpseal`'s path as a string, for the command lines a test builds (a gated server after
/// `run … --`, a fixture server, a client config entry).
pub fn exe() -> String {
    env!("CARGO_BIN_EXE_mcpseal").to_owned()
}

/// `mcpseal ARGS` in `dir`, which must exit 0; its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(mcpseal().current_dir(dir).args(args));
    assert_eq!(code, 0, "mcpseal {args:?}: {out}{err}");
    out
}

/// `mcpseal key generate --name NAME --no-password` in `dir` for each name, which must exit 0
/// (`NAME.key` and `NAME.pub`, no passphrase).
pub fn keys(dir: &Path, names: &[&str]) {
    for name in names {
        ok(dir, &["key", "generate", "--name", name, "--no-password"]);
    }
}

/// `out` parsed as JSON (a `--json` report); anything else fails the test, quoting it.
pub fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// `mcpseal pin NAME` in `dir`, for the caller to add options and the server to.
pub fn pin_cmd(dir: &Path, name: &str) -> Command {
    let mut c = mcpseal();
    c.current_dir(dir).args(["pin", name]);
    c
}

/// `mcpseal pin NAME ARGS…` (options, then `-- SERVER…` or `--url URL`), which must exit 0.
pub fn pin_ok<S: AsRef<std::ffi::OsStr>>(dir: &Path, name: &str, args: &[S]) {
    let (code, out, err) = run(pin_cmd(dir, name).args(args));
    assert_eq!(code, 0, "pin {name}: {out}{err}");
}

/// `mcpseal pin NAME OPTIONS… -- mcpseal fixture-server`, which must exit 0.
pub fn pin_fixture(dir: &Path, name: &str, options: &[&str]) {
    let mut args: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
    args.push("--".into());
    args.extend(fixture_server(&[]));
    pin_ok(dir, name, &args);
}

/// `mcpseal pin NAME -- SERVER…`, which must exit 0.
pub fn pin<S: AsRef<std::ffi::OsStr>>(dir: &Path, name: &str, server: &[S]) {
    let (code, out, err) = run(pin_cmd(dir, name).arg("--").args(server));
    assert_eq!(code, 0, "pin {name}: {out}{err}");
}

/// The fixture MCP server's command line, `mcpseal fixture-server FLAGS…` (src/fixture.rs:
/// `--launch-counter FILE`, `--rug-pull WHAT`, `--misbehave MODE`, …), as `pin`, `run` and
/// client configs take a server.
pub fn fixture_server(flags: &[&str]) -> Vec<String> {
    let mut argv = vec![exe(), "fixture-server".to_owned()];
    argv.extend(flags.iter().map(|f| (*f).to_owned()));
    argv
}

/// `mcpseal run --name NAME --lock DIR/mcpseal.lock --audit-log AUDIT` as a client config
/// launches the gate; the caller appends its options and the server.
pub fn gate_argv(dir: &Path, name: &str, audit: &Path) -> Vec<String> {
    vec![
        exe(),
        "run".into(),
        "--name".into(),
        name.into(),
        "--lock".into(),
        dir.join("mcpseal.lock").display().to_string(),
        "--audit-log".into(),
        audit.display().to_string(),
    ]
}

/// The events `run --audit-log DIR/audit.jsonl` wrote, in order (none when there is no file).
/// Every line must be one JSON object: a torn or garbled line fails the test.
pub fn audit(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l:?}: {e}")))
        .collect()
}

/// The events named `event` among `a`.
pub fn events<'a>(a: &'a [serde_json::Value], event: &str) -> Vec<&'a serde_json::Value> {
    a.iter().filter(|e| e["event"] == event).collect()
}

/// `testdata/vectors`: the sigstore-conformance and minisign vectors (see its README for
/// their source and licence). Nothing a test reads lives outside the repository.
pub fn vectors() -> PathBuf {
    root().join("testdata/vectors")
}

fn peers_dir() -> PathBuf {
    std::env::var_os("MCPSEAL_PEERS").map_or_else(|| root().join("target/peers"), PathBuf::from)
}

/// Whether a missing peer must fail the test (CI) rather than skip it.
pub fn strict() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Returns `path` if it exists. Otherwise fails under CI, or prints a skip line and returns None.
pub fn require(what: &str, path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "peer {what} not found at {}: run `bash scripts/install-peers.sh`",
        path.display()
    );
    assert!(
        !strict(),
        "{msg} (CI is set: a missing peer is a failure, not a skip)"
    );
    eprintln!("SKIP: {msg}");
    None
}

/// A file inside the pinned npm peers, e.g. `@modelcontextprotocol/server-everything/dist/index.js`.
pub fn node_module(rel: &str) -> Option<PathBuf> {
    require(rel, peers_dir().join("node/node_modules").join(rel))
}

/// An executable in the peers' Python venv, e.g. `python` or `mcp-server-git`.
pub fn venv_bin(name: &str) -> Option<PathBuf> {
    require(name, peers_dir().join("venv/bin").join(name))
}

/// A binary install-peers.sh built into target/peers/bin, e.g. `sigstore-rs-driver`.
pub fn peer_bin(name: &str) -> Option<PathBuf> {
    require(name, peers_dir().join("bin").join(name))
}

/// A system binary on PATH (installed by apt-get in install-peers.sh).
pub fn system_bin(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    });
    require(
        name,
        found.unwrap_or_else(|| Path::new("/nonexistent").join(name)),
    )
}

/// A free TCP port on 127.0.0.1 (for a real HTTP server a test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed and reaped when the test is done with it (or panics).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
