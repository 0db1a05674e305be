//! A line-by-line MCP client for tests: drives `mcpseal run` (or a server directly) over
//! stdio and collects answers and notifications.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// An MCP client session with a gate (or, with `direct`, with the server itself).
pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    pub rx: Receiver<Value>,
    next: u64,
}

impl Client {
    pub fn gate<S: AsRef<std::ffi::OsStr>>(
        dir: &Path,
        name: &str,
        extra: &[&str],
        server: &[S],
    ) -> Client {
        let mut cmd = super::mcpseal();
        cmd.current_dir(dir)
            .args(["run", "--name", name, "--audit-log", "audit.jsonl"])
            .args(extra)
            .arg("--")
            .args(server);
        Self::spawn(cmd)
    }

    pub fn direct<S: AsRef<std::ffi::OsStr>>(dir: &Path, server: &[S]) -> Client {
        let mut cmd = Command::new(&server[0]);
        cmd.current_dir(dir).args(&server[1..]);
        Self::spawn(cmd)
    }

    pub fn spawn(mut cmd: Command) -> Client {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v =
                    serde_json::from_str(&line).unwrap_or_else(|_| json!({"unparseable": line}));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            rx,
            next: 0,
        }
    }

    pub fn send(&mut self, v: &Value) {
        let s = self.stdin.as_mut().unwrap();
        let _ = writeln!(s, "{v}");
        let _ = s.flush();
    }

    /// Sends a request and returns its response (skipping notifications, collected in `seen`).
    pub fn ask(&mut self, method: &str, params: Value, seen: &mut Vec<Value>) -> Option<Value> {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let v = self.rx.recv_timeout(Duration::from_secs(20)).ok()?;
            if v.get("id") == Some(&json!(id)) {
                return Some(v);
            }
            seen.push(v);
        }
    }

    pub fn init(&mut self) -> Value {
        let r = self
            .ask("initialize", json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}), &mut vec![])
            .expect("initialize answered");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        r
    }

    pub fn tools(&mut self) -> Vec<String> {
        let r = self
            .ask("tools/list", json!({}), &mut vec![])
            .expect("tools/list answered");
        r["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn call(&mut self, name: &str, seen: &mut Vec<Value>) -> Value {
        self.ask(
            "tools/call",
            json!({"name": name, "arguments": {"a": 1, "b": 2, "text": "hi"}}),
            seen,
        )
        .expect("tools/call answered")
    }

    /// As [`Client::finish`], and what the process printed on stderr.
    pub fn finish_with_stderr(mut self) -> (i32, String) {
        let err = self.child.stderr.take();
        let code = self.finish();
        let mut text = String::new();
        if let Some(mut e) = err {
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
        }
        (code, text)
    }

    /// Closes stdin and waits for exit (killing after 10 s); returns the exit code.
    pub fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        for _ in 0..500 {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        -1
    }
}
