//! A server spawned on stdio: the child process, a reader thread turning its stdout into
//! strictly parsed messages, and a bounded tail of its stderr for error messages.
//!
//! The command is spawned directly, never through a shell. The child is killed when the
//! [`StdioServer`] is dropped, so no server outlives the session that started it.

use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use super::LaunchSpec;
use super::framing::{self, FrameError, LineReader, Message};

/// A server's stderr as kept for error messages: its first bytes (where Node, Python and
/// most runtimes print the error itself, before the stack) and its last bytes (where they
/// print what finally went wrong), each bounded.
#[derive(Default)]
struct StderrLog {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: bool,
}

impl StderrLog {
    fn push(&mut self, mut bytes: &[u8]) {
        let room = STDERR_HEAD.saturating_sub(self.head.len());
        let (h, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(h);
        bytes = rest;
        self.tail.extend(bytes);
        while self.tail.len() > STDERR_TAIL {
            self.tail.pop_front();
            self.dropped = true;
        }
    }

    fn text(&self) -> String {
        let head = String::from_utf8_lossy(&self.head);
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let tail = String::from_utf8_lossy(&tail);
        let joined = if self.dropped {
            format!("{head}\n…\n{tail}")
        } else {
            format!("{head}{tail}")
        };
        joined.trim().to_owned()
    }
}

/// How much of the start of a server's stderr is kept for error messages.
const STDERR_HEAD: usize = 2048;
/// How much of the end of a server's stderr is kept for error messages.
const STDERR_TAIL: usize = 4096;

/// What the reader thread saw.
pub enum Incoming {
    Message(Message),
    Bad(FrameError),
    Closed,
}

/// A running stdio server.
pub struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Incoming>,
    stderr: Arc<Mutex<StderrLog>>,
}

impl StdioServer {
    /// Spawns `spec` (which must be [`LaunchSpec::Stdio`]).
    pub fn spawn(spec: &LaunchSpec, max_message: usize) -> std::io::Result<StdioServer> {
        let LaunchSpec::Stdio {
            command,
            args,
            env,
            cwd,
        } = spec
        else {
            return Err(std::io::Error::other("not a stdio launch spec"));
        };
        let mut cmd = Command::new(command);
        cmd.args(args)
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(d) = cwd {
            cmd.current_dir(d);
        }
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
        let mut stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no stderr pipe"))?;
        let stderr = Arc::new(Mutex::new(StderrLog::default()));
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = log.lock() {
                    t.push(&buf[..n]);
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = LineReader::new(BufReader::new(stdout), max_message);
            loop {
                let item = match reader.next_line() {
                    Ok(Some(line)) => match Message::parse(&line) {
                        Ok(m) => Incoming::Message(m),
                        Err(e) => Incoming::Bad(e),
                    },
                    Ok(None) => Incoming::Closed,
                    Err(e) => Incoming::Bad(e),
                };
                let stop = !matches!(item, Incoming::Message(_));
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
        });
        Ok(StdioServer {
            child,
            stdin,
            rx,
            stderr,
        })
    }

    /// Sends one message.
    pub fn send(&mut self, v: &Value) -> std::io::Result<()> {
        match &mut self.stdin {
            Some(s) => framing::write_message(s, v),
            None => Err(std::io::Error::other("stdin closed")),
        }
    }

    /// The next message, or `None` at the deadline.
    pub fn recv(&mut self, deadline: Instant) -> Option<Incoming> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(i) => Some(i),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Incoming::Closed),
        }
    }

    /// The first and the last few KiB the server wrote to stderr (lossy UTF-8), with a `…`
    /// line where bytes between them were dropped.
    pub fn stderr_tail(&self) -> String {
        self.stderr.lock().map(|t| t.text()).unwrap_or_default()
    }

    /// Closes stdin, gives the server a moment to exit, then kills it.
    pub fn shutdown(&mut self) {
        drop(self.stdin.take());
        let until = Instant::now() + std::time::Duration::from_millis(200);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The exit status, if the server has exited.
    pub fn try_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stderr_log_keeps_the_first_and_the_last_bytes() {
        let mut log = super::StderrLog::default();
        log.push(b"Error: Cannot find package 'x'\n");
        for i in 0..2000 {
            log.push(format!("    at frame {i}\n").as_bytes());
        }
        log.push(b"Node.js v20");
        let t = log.text();
        assert!(t.starts_with("Error: Cannot find package 'x'"), "{t}");
        assert!(t.contains("\n…\n") && t.ends_with("Node.js v20"), "{t}");
        assert!(t.len() < super::STDERR_HEAD + super::STDERR_TAIL + 16);
    }
}
