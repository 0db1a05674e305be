//! The shell around the [`Proxy`] core: it reads lines from both sides, parses them, hands
//! each message to the core, and carries out the returned [`Action`]s.
//!
//! Two reader threads (client → gate, server → gate) share the core behind one mutex; the core
//! does bounded work per message (list checks are linear in the message, template matching
//! linear in the URI) and never blocks, so neither direction can stall the other. Writes
//! happen outside the core's lock, each line whole under its sink's own lock.
//!
//! What the shell decides by itself, before the core sees a message: a line from the server
//! that is oversized, not UTF-8, not JSON or has a duplicate key ends the session
//! (`server-message-rejected`: the stream can no longer be trusted to be in step); a JSON
//! object that is not a valid JSON-RPC message is dropped ([`Proxy::on_server_malformed`]).
//! From the client, an oversized line ends the session; an unparseable one is answered with a
//! parse error. The process side (spawning, signals, the only `unsafe`) is in
//! [`super::child`].

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::audit::{Audit, Event};
use super::child::{self, Child};
use super::prelaunch::{Cleared, Launch};
use super::proxy::{Action, AuditRecord, GATE_ERROR, Proxy};
use super::{Ended, Refusal};
use crate::mcp::framing::{self, FrameError, Kind, LineReader, Message};

/// Called for every audit record as it happens (the CLI prints blocks on stderr with it).
pub type Observer = Arc<dyn Fn(&AuditRecord) + Send + Sync>;

/// How one session runs.
pub struct Options {
    pub max_message: usize,
    pub audit: Arc<Audit>,
    pub observer: Option<Observer>,
}

type Sink = Arc<Mutex<Option<Box<dyn Write + Send>>>>;

/// Why the shell stops.
enum Stop {
    /// A side closed its pipe.
    Closed,
    /// The gate ended the session.
    Blocked(String),
}

fn write_line(sink: &Sink, v: &Value) -> std::io::Result<()> {
    let mut buf = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    buf.push(b'\n');
    let mut g = sink
        .lock()
        .map_err(|_| std::io::Error::other("a sink's lock was poisoned"))?;
    let w = g
        .as_mut()
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
    w.write_all(&buf)?;
    w.flush()
}

/// Everything the actions act on.
struct Shell {
    core: Mutex<Proxy>,
    to_client: Sink,
    to_server: Sink,
    audit: Arc<Audit>,
    observer: Option<Observer>,
    /// Why the gate ended the session on a client message (a tripped canary under
    /// `on-canary = "kill"`), for the session's outcome.
    client_blocked: Mutex<Option<String>>,
}

impl Shell {
    fn record(&self, r: &AuditRecord) {
        let verdict = r.decision == "block";
        self.audit.record(
            Event {
                event: r.event,
                decision: r.decision,
                fields: r.fields.clone(),
            },
            verdict,
        );
        if let Some(o) = &self.observer {
            o(r);
        }
    }

    /// Carries out actions in order; returns why the session is over, if it is.
    fn act(&self, actions: Vec<Action>) -> Option<Stop> {
        for a in actions {
            match a {
                // A side that closed (the client left, so the server's input was closed too) is
                // the end of the session, not a block.
                Action::ToServer(v) => {
                    if write_line(&self.to_server, &v).is_err() {
                        return Some(Stop::Closed);
                    }
                }
                Action::ToClient(v) => {
                    if write_line(&self.to_client, &v).is_err() {
                        return Some(Stop::Closed);
                    }
                }
                Action::Audit(r) => self.record(&r),
                Action::End(why) => return Some(Stop::Blocked(why)),
            }
        }
        None
    }

    fn with_core<T>(&self, f: impl FnOnce(&mut Proxy) -> T) -> Option<T> {
        self.core.lock().ok().map(|mut p| f(&mut p))
    }
}

/// Runs a gated session over a spawned server: the child's pipes toward it, the client's
/// stdio toward the client. Returns when the server exits or the gate ends the session.
pub fn serve(
    cleared: &Cleared,
    opts: Options,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    let Launch::Command { command, args } = cleared.launch() else {
        return Err(std::io::Error::other(
            "serve needs a command; use serve_remote for --url",
        ));
    };
    let mut child = child::spawn(command, args)?;
    opts.audit.record(
        Event {
            event: "server-start",
            decision: "allow",
            fields: json!({"childPid": child.id(), "command": command}),
        },
        false,
    );
    let server_in = child.take_stdin()?;
    let server_out = child.take_stdout()?;
    run(
        cleared,
        opts,
        server_in,
        server_out,
        Some(child),
        client_in,
        client_out,
    )
}

/// The gate toward a remote Streamable HTTP server (`run --url`): stdio toward the client,
/// one POST per message toward the server. The server's replies (JSON or an SSE stream per
/// POST) are fed through the same core as a stdio server's output.
pub fn serve_remote(
    cleared: &Cleared,
    opts: Options,
    headers: &std::collections::BTreeMap<String, String>,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    use crate::mcp::transport::HttpTransport;
    let Launch::Url(url) = cleared.launch() else {
        return Err(std::io::Error::other("serve_remote needs a URL"));
    };
    let (to_server_r, to_server_w) = std::io::pipe()?;
    let (from_server_r, mut from_server_w) = std::io::pipe()?;
    let mut http = HttpTransport::new(url, headers, Duration::from_secs(300), opts.max_message);
    let max = opts.max_message;
    let audit = opts.audit.clone();
    let observer = opts.observer.clone();
    std::thread::spawn(move || {
        let mut r = LineReader::new(BufReader::new(to_server_r), max);
        while let Ok(Some(line)) = r.next_line() {
            // The gate wrote this line itself; parse it again to POST it.
            let Ok(msg) = Message::parse(&line) else {
                break;
            };
            match http.post_values(&msg.value) {
                Ok(replies) => {
                    for m in replies {
                        if let Some(v) =
                            m.pointer("/result/protocolVersion").and_then(Value::as_str)
                        {
                            http.set_protocol_version(v);
                        }
                        let mut bytes = serde_json::to_vec(&m).unwrap_or_default();
                        bytes.push(b'\n');
                        if from_server_w.write_all(&bytes).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let fields = json!({"reason": e.code(), "message": e.to_string()});
                    audit.block("server-message-rejected", fields.clone());
                    if let Some(o) = &observer {
                        o(&AuditRecord {
                            event: "server-message-rejected",
                            decision: "block",
                            fields,
                        });
                    }
                    // Ending the stream ends the session: fail closed.
                    return;
                }
            }
        }
    });
    opts.audit.record(
        Event {
            event: "server-start",
            decision: "allow",
            fields: json!({"url": url}),
        },
        false,
    );
    run(
        cleared,
        opts,
        Box::new(to_server_w),
        Box::new(from_server_r),
        None,
        client_in,
        client_out,
    )
}

/// Answers the client's first request with the refusal (waiting up to `wait` for it).
pub fn refuse(
    refusal: &Refusal,
    input: impl BufRead + Send + 'static,
    output: &mut impl Write,
    wait: Duration,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut r = LineReader::new(input, framing::DEFAULT_MAX_MESSAGE);
        while let Ok(Some(line)) = r.next_line() {
            if let Ok(m) = Message::parse(&line)
                && m.kind == Kind::Request
            {
                let _ = tx.send(m.id().cloned().unwrap_or(Value::Null));
                return;
            }
        }
    });
    if let Ok(id) = rx.recv_timeout(wait) {
        let msg = format!(
            "mcpseal refused to start this server: {} — fix: {}",
            refusal.message, refusal.fix
        );
        let data = json!({"reason": refusal.reason, "fix": refusal.fix});
        let _ = framing::write_message(
            output,
            &framing::error_response(id, GATE_ERROR, &msg, Some(data)),
        );
    }
}

/// Parses one server line: `Err` ends the session, `Ok(Err)` is a JSON value that is not a
/// JSON-RPC message (dropped), `Ok(Ok)` goes to the core.
fn parse_server(line: &[u8]) -> Result<Result<Message, String>, FrameError> {
    std::str::from_utf8(line).map_err(|_| FrameError::NotUtf8)?;
    let v = crate::json::parse_strict(line)?;
    Ok(Message::from_value(v).map_err(|e| e.to_string()))
}

fn run(
    cleared: &Cleared,
    opts: Options,
    server_in: Box<dyn Write + Send>,
    server_out: Box<dyn Read + Send>,
    child: Option<Child>,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    let shell = Arc::new(Shell {
        core: Mutex::new(cleared.proxy()),
        to_client: Arc::new(Mutex::new(Some(client_out))),
        to_server: Arc::new(Mutex::new(Some(server_in))),
        audit: opts.audit.clone(),
        observer: opts.observer.clone(),
        client_blocked: Mutex::new(None),
    });
    let max = opts.max_message;
    let exit = child.as_ref().map(Child::exit);

    // Client → gate. Rate limits count from the session's start (a monotonic clock).
    let started = std::time::Instant::now();
    let c2s = {
        let shell = shell.clone();
        std::thread::spawn(move || {
            let mut r = LineReader::new(client_in, max);
            loop {
                let line = match r.next_line() {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => {
                        shell.record(&AuditRecord {
                            event: "client-message-rejected",
                            decision: "block",
                            fields: json!({"reason": e.code()}),
                        });
                        break;
                    }
                };
                let msg = match Message::parse(&line) {
                    Ok(m) => m,
                    Err(e) => {
                        shell.record(&AuditRecord {
                            event: "client-message-rejected",
                            decision: "block",
                            fields: json!({"reason": e.code()}),
                        });
                        let err = framing::error_response(
                            Value::Null,
                            -32700,
                            &format!("mcpseal: {e}"),
                            None,
                        );
                        if write_line(&shell.to_client, &err).is_err() {
                            break;
                        }
                        continue;
                    }
                };
                let now = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
                let Some(actions) = shell.with_core(|p| {
                    p.set_clock(now);
                    p.on_client(msg)
                }) else {
                    break;
                };
                match shell.act(actions) {
                    None => {}
                    Some(Stop::Closed) => break,
                    Some(Stop::Blocked(why)) => {
                        if let Ok(mut g) = shell.client_blocked.lock() {
                            *g = Some(why);
                        }
                        break;
                    }
                }
            }
            // EOF to the server: its cue to exit. A server that ignores it is ended.
            if let Ok(mut g) = shell.to_server.lock() {
                g.take();
            }
            if let Some(exit) = exit {
                exit.end_after_eof();
            }
        })
    };

    // Server → gate (this thread).
    let mut reader = LineReader::new(BufReader::new(server_out), max);
    let mut ended: Option<String> = None;
    loop {
        let line = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                ended = Some(reject(&shell, &e));
                break;
            }
        };
        let actions = match parse_server(&line) {
            Err(e) => {
                ended = Some(reject(&shell, &e));
                break;
            }
            Ok(Err(why)) => shell.with_core(|p| p.on_server_malformed(&why)),
            Ok(Ok(msg)) => shell.with_core(|p| p.on_server(msg)),
        };
        let Some(actions) = actions else { break };
        match shell.act(actions) {
            None => {}
            Some(Stop::Closed) => break,
            Some(Stop::Blocked(why)) => {
                ended = Some(why);
                break;
            }
        }
    }
    // A block on the client side closed the server's input first, then it exited.
    if ended.is_none() {
        ended = shell.client_blocked.lock().ok().and_then(|g| g.clone());
    }
    let status = child.map(|mut c| c.finish(ended.is_some()));
    let code = status.flatten().and_then(|s| s.code());
    opts.audit.record(
        Event {
            event: "server-exit",
            decision: if ended.is_some() { "block" } else { "allow" },
            fields: json!({"exitCode": code, "reason": ended}),
        },
        true,
    );
    drop(c2s); // the client thread ends when the client closes stdin; do not wait for it
    Ok(match ended {
        Some(why) => Ended::Blocked(why),
        None => Ended::Normally(code),
    })
}

fn reject(shell: &Shell, e: &FrameError) -> String {
    shell.record(&AuditRecord {
        event: "server-message-rejected",
        decision: "block",
        fields: json!({"reason": e.code()}),
    });
    format!(
        "the server sent a message the gate cannot check ({}: {e})",
        e.code()
    )
}

#[cfg(test)]
mod tests {
    //! The shell over in-process pipes: the test is the client on one side and a scripted
    //! server (a thread) on the other; the core's rules have their own tests in `proxy`.
    use super::*;
    use crate::gate::OnDrift;
    use crate::lock::{PinnedLaunch, ServerEntry};
    use crate::surface::{EntityKind, Surface, keyed};
    use std::io::{PipeReader, PipeWriter};

    fn echo() -> Value {
        json!({"name": "echo", "inputSchema": {"type": "object"}})
    }

    fn entry() -> ServerEntry {
        let mut s = Surface::default();
        s.entities.insert(
            EntityKind::Tools,
            keyed(EntityKind::Tools, vec![echo()]).unwrap(),
        );
        let launch = PinnedLaunch::Stdio {
            command: "test-server".into(),
            args: vec![],
            env: vec![],
        };
        ServerEntry::from_surface(launch, json!({}), &s).unwrap()
    }

    /// The server's side: what it reads from the gate, and where it writes its answers.
    type Script = Box<dyn FnOnce(LineReader<BufReader<PipeReader>>, PipeWriter) + Send>;

    /// Answers `tools/list` with the pinned `echo` and every other request with an empty
    /// result, until the gate closes its input.
    fn honest_server() -> Script {
        Box::new(|mut from_gate, mut to_gate| {
            while let Ok(Some(line)) = from_gate.next_line() {
                let Ok(m) = serde_json::from_slice::<Value>(&line) else {
                    return;
                };
                let Some(id) = m.get("id").cloned() else {
                    continue;
                };
                let result = match m["method"].as_str() {
                    Some("tools/list") => json!({"tools": [echo()]}),
                    _ => json!({"content": [{"type": "text", "text": "ok"}]}),
                };
                let answer = json!({"jsonrpc": "2.0", "id": id, "result": result});
                if writeln!(to_gate, "{answer}").is_err() {
                    return;
                }
            }
        })
    }

    struct Session {
        to_gate: Option<PipeWriter>,
        /// Lines the client receives, read on their own thread so a test waits with a
        /// deadline (a broken shell then fails the test at once instead of hanging it).
        from_gate: std::sync::mpsc::Receiver<Vec<u8>>,
        done: std::thread::JoinHandle<std::io::Result<Ended>>,
        audit: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    impl Session {
        fn start(server: Script) -> Session {
            let dir = tempfile::tempdir().unwrap();
            let audit_path = dir.path().join("audit.jsonl");
            let audit =
                Arc::new(Audit::new("test-server", Some(&audit_path), false, false).unwrap());
            let (client_in, to_gate) = std::io::pipe().unwrap();
            let (from_gate, client_out) = std::io::pipe().unwrap();
            let (server_reads, server_in) = std::io::pipe().unwrap();
            let (server_out, server_writes) = std::io::pipe().unwrap();
            std::thread::spawn(move || {
                server(
                    LineReader::new(BufReader::new(server_reads), 1 << 20),
                    server_writes,
                )
            });
            let done = std::thread::spawn(move || {
                let cleared = Cleared::for_tests(entry(), OnDrift::Block);
                let opts = Options {
                    max_message: 1 << 20,
                    audit,
                    observer: None,
                };
                run(
                    &cleared,
                    opts,
                    Box::new(server_in),
                    Box::new(server_out),
                    None,
                    BufReader::new(client_in),
                    Box::new(client_out),
                )
            });
            Session {
                to_gate: Some(to_gate),
                from_gate: {
                    let (tx, rx) = std::sync::mpsc::channel();
                    std::thread::spawn(move || {
                        let mut r = LineReader::new(BufReader::new(from_gate), 1 << 20);
                        while let Ok(Some(line)) = r.next_line() {
                            if tx.send(line).is_err() {
                                return;
                            }
                        }
                    });
                    rx
                },
                done,
                audit: audit_path,
                _dir: dir,
            }
        }

        fn send(&mut self, line: &str) {
            let w = self.to_gate.as_mut().unwrap();
            writeln!(w, "{line}").unwrap();
        }

        /// The next line the client receives.
        fn receive(&mut self) -> Value {
            let line = self
                .from_gate
                .recv_timeout(Duration::from_secs(10))
                .expect("the client receives a line within 10 s");
            serde_json::from_slice(&line).unwrap()
        }

        /// The client leaves; the session's outcome and its audit events.
        fn end(mut self) -> (Ended, Vec<Value>) {
            self.to_gate.take();
            let ended = self.done.join().unwrap().unwrap();
            let text = std::fs::read_to_string(&self.audit).unwrap();
            let events = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (ended, events)
        }
    }

    fn events_named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
        events.iter().filter(|e| e["event"] == name).collect()
    }

    /// Through the shell, both ways: the client's requests reach the server and the checked
    /// answers come back; a call to a tool that is not pinned is answered by the gate and
    /// recorded as a block; the session ends normally when the client leaves.
    #[test]
    fn a_session_carries_checked_traffic_both_ways_and_records_its_blocks() {
        let mut s = Session::start(honest_server());
        s.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#);
        let listed = s.receive();
        assert_eq!(listed["id"], 1);
        assert_eq!(listed["result"]["tools"][0]["name"], "echo");
        s.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#);
        let called = s.receive();
        assert_eq!(called["id"], 2);
        assert_eq!(called["result"]["content"][0]["text"], "ok");
        s.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"rm","arguments":{}}}"#);
        let refused = s.receive();
        assert_eq!(refused["id"], 3);
        assert_eq!(
            refused["error"]["code"], -32001,
            "the documented code (docs/gate.md)"
        );
        let (ended, events) = s.end();
        assert_eq!(ended, Ended::Normally(None));
        let blocks: Vec<_> = events.iter().filter(|e| e["decision"] == "block").collect();
        assert!(
            blocks.iter().any(|e| e.to_string().contains("\"rm\"")),
            "{events:?}"
        );
        assert_eq!(events_named(&events, "server-exit").len(), 1);
    }

    /// A client line that is not JSON is answered with a JSON-RPC parse error (code -32700,
    /// id null) and recorded; the session goes on.
    #[test]
    fn a_client_line_that_is_not_json_is_answered_with_a_parse_error() {
        let mut s = Session::start(honest_server());
        s.send("{not json");
        let e = s.receive();
        assert_eq!(e["error"]["code"], -32700);
        assert_eq!(e["id"], Value::Null);
        s.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#);
        assert_eq!(s.receive()["id"], 1);
        let (ended, events) = s.end();
        assert_eq!(ended, Ended::Normally(None));
        let rejected = events_named(&events, "client-message-rejected");
        assert_eq!(rejected.len(), 1, "{events:?}");
        assert_eq!(rejected[0]["decision"], "block");
    }

    /// A server line the gate cannot check (not JSON) ends the session: the outcome says why
    /// and names the frame error, and the audit log has the rejection.
    #[test]
    fn a_server_line_that_is_not_json_ends_the_session() {
        let s = Session::start(Box::new(|_from_gate, mut to_gate| {
            let _ = writeln!(to_gate, "this is not json");
        }));
        let (ended, events) = s.end();
        let Ended::Blocked(why) = ended else {
            panic!("not blocked: {ended:?}");
        };
        assert!(
            why.contains("cannot check") && why.contains("json-syntax"),
            "{why}"
        );
        let rejected = events_named(&events, "server-message-rejected");
        assert_eq!(rejected.len(), 1, "{events:?}");
        assert_eq!(events_named(&events, "server-exit")[0]["decision"], "block");
    }

    /// A refused start answers the client's first *request* (not a notification before it)
    /// with the refusal: its id, the gate's error code, what failed and the fix.
    #[test]
    fn a_refusal_answers_the_first_request_with_what_failed_and_the_fix() {
        let refusal = Refusal {
            reason: "not-pinned",
            message: "server \"s\" is not pinned".into(),
            fix: "mcpseal pin s".into(),
        };
        let input = concat!(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}"#,
            "\n"
        );
        let mut out = Vec::new();
        refuse(
            &refusal,
            std::io::Cursor::new(input.as_bytes().to_vec()),
            &mut out,
            Duration::from_secs(10),
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["error"]["code"], -32001);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("is not pinned") && msg.contains("mcpseal pin s"),
            "{msg}"
        );
        assert_eq!(v["error"]["data"]["reason"], "not-pinned");
    }
}
