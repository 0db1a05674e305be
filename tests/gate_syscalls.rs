//! Issue 17: the gate at its floor, checked by counting system calls, not by timing them.
//! A whole gated session runs under `strace` (a real tool, installed by
//! scripts/install-peers.sh), and the trace of the gate's own threads is read back:
//!
//! - no `nanosleep` / `clock_nanosleep` at all: the gate waits for the server's exit on an
//!   event (a pidfd), never by sleeping and asking again;
//! - one `write` per message, each a whole line: to the client and to the server.

mod common;

use std::io::{BufRead, Write};
use std::path::Path;

use common::exe;

use serde_json::{Value, json};

/// One traced system call: thread id, name, first argument as strace printed it (`-y` adds
/// the path or `pipe:[…]` to an fd) and the whole line.
struct Call {
    tid: u32,
    name: String,
    line: String,
}

fn parse_trace(text: &str) -> Vec<Call> {
    text.lines()
        .filter_map(|l| {
            let (tid, rest) = l.split_once(' ')?;
            let tid = tid.parse().ok()?;
            let rest = rest.trim_start();
            let name = rest.split('(').next()?.to_owned();
            Some(Call {
                tid,
                name,
                line: rest.to_owned(),
            })
        })
        .collect()
}

/// The bytes strace printed as a write's buffer (`-s` is large enough to show it whole),
/// with its escapes undone only as far as this test needs (`\n`, `\"`, `\\`).
fn written(line: &str) -> Option<String> {
    let start = line.find(", \"")? + 3;
    let end = line.rfind("\", ")?;
    let raw = line.get(start..end)?;
    Some(
        raw.replace("\\\\", "\u{0}")
            .replace("\\n", "\n")
            .replace("\\\"", "\"")
            .replace('\u{0}', "\\"),
    )
}

fn session_input() -> Vec<Value> {
    let mut lines = vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
    ];
    for i in 0..5 {
        lines.push(
            json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": i, "b": 1}}}),
        );
    }
    lines
}

fn traced_session(dir: &Path) -> Option<(Vec<Call>, u32, String)> {
    let strace = common::system_bin("strace")?;
    let e = exe();
    common::pin(dir, "fx", &common::fixture_server(&[]));
    let mut gate = std::process::Command::new(strace)
        .current_dir(dir)
        .args(["-f", "-qq", "-y", "-s", "65536", "-o", "trace.txt"])
        .args(["-e", "trace=write,writev,nanosleep,clock_nanosleep"])
        .args([
            &e,
            "run",
            "--name",
            "fx",
            "--audit-log",
            "audit.jsonl",
            "--",
        ])
        .args(common::fixture_server(&[]))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A client that waits for each answer before it sends the next request, as clients do.
    let mut to_gate = gate.stdin.take().unwrap();
    let mut from_gate = std::io::BufReader::new(gate.stdout.take().unwrap());
    let mut out = String::new();
    for msg in session_input() {
        to_gate.write_all(msg.to_string().as_bytes()).unwrap();
        to_gate.write_all(b"\n").unwrap();
        to_gate.flush().unwrap();
        if msg.get("id").is_some() {
            let mut line = String::new();
            from_gate.read_line(&mut line).unwrap();
            out.push_str(&line);
        }
    }
    drop(to_gate);
    let status = gate.wait().unwrap();
    assert!(status.success(), "the traced session failed: {status}");
    let audit = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    let child: u32 = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"] == "server-start")
        .and_then(|e| e["childPid"].as_u64())
        .and_then(|p| u32::try_from(p).ok())
        .expect("a server-start event with the child's pid");
    let trace = std::fs::read_to_string(dir.join("trace.txt")).unwrap();
    // The fixture server is single-threaded: its one thread id is its pid.
    let gate = parse_trace(&trace)
        .into_iter()
        .filter(|c| c.tid != child)
        .collect();
    Some((gate, child, out))
}

#[test]
fn issue_17_gated_session_never_sleeps() {
    let t = tempfile::tempdir().unwrap();
    let Some((gate, _, out)) = traced_session(t.path()) else {
        return;
    };
    // The session really ran: every request was answered.
    assert_eq!(out.lines().count(), 7, "answers: {out}");
    let sleeps: Vec<&str> = gate
        .iter()
        .filter(|c| c.name.contains("sleep"))
        .map(|c| c.line.as_str())
        .collect();
    assert!(sleeps.is_empty(), "the gate slept: {sleeps:#?}");
}

#[test]
fn issue_17_one_write_per_message_each_a_whole_line() {
    let t = tempfile::tempdir().unwrap();
    let Some((gate, _, out)) = traced_session(t.path()) else {
        return;
    };
    let to_client: Vec<&Call> = gate
        .iter()
        .filter(|c| c.name.starts_with("write") && c.line.contains("(1<"))
        .collect();
    let answers = out.lines().count();
    assert_eq!(answers, 7, "answers: {out}");
    assert_eq!(
        to_client.len(),
        answers,
        "one write per message to the client: {:#?}",
        to_client.iter().map(|c| &c.line).collect::<Vec<_>>()
    );
    let to_server: Vec<&Call> = gate
        .iter()
        .filter(|c| c.name.starts_with("write") && c.line.contains("<pipe:["))
        .collect();
    // initialize, initialized, tools/list and five calls (the gate may add its own listing).
    assert!(
        to_server.len() >= 8,
        "writes to the server: {}",
        to_server.len()
    );
    for c in to_client.iter().chain(&to_server) {
        assert_eq!(c.name, "write", "{}", c.line);
        let text = written(&c.line).unwrap_or_else(|| panic!("no buffer in {}", c.line));
        assert_eq!(
            text.matches('\n').count(),
            1,
            "a write carries exactly one line: {}",
            c.line
        );
        assert!(text.ends_with('\n'), "the line ends the write: {}", c.line);
        let msg: Value = serde_json::from_str(text.trim_end())
            .unwrap_or_else(|e| panic!("a write is one whole JSON message ({e}): {}", c.line));
        assert_eq!(msg["jsonrpc"], "2.0", "{}", c.line);
    }
}
