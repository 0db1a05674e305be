//! `mcpseal run`: the pre-launch gate and the stdio proxy that keeps a server to its pins.
//!
//! 1. **Before spawning** ([`prelaunch`]): the lock has an entry for the server (or `--tofu`
//!    pins it now, and says so); the launch command and arguments equal the pinned ones and
//!    every pinned env var name is set; every pinned artifact digest matches the disk. On any
//!    failure nothing is spawned: the client's first request is answered with a JSON-RPC error
//!    that says what failed and which command fixes it, and the gate exits 1.
//! 2. **Spawn** directly (no shell), stderr inherited; on Linux the child gets
//!    `PR_SET_PDEATHSIG` so it never outlives the gate, and SIGTERM/SIGINT/SIGHUP are passed on.
//! 3. **Proxy** newline-delimited JSON-RPC both ways. Lines pass byte for byte, except: list
//!    results lose every entity that is not pinned and unchanged ([`filter`]); changed
//!    `instructions` are dropped from the `initialize` result; `tools/call`, `prompts/get` and
//!    `resources/read` for anything not approved are answered by the gate and never forwarded;
//!    after `notifications/*/list_changed` nothing of that kind is callable until listed again.
//! 4. **Fail closed**: an oversized, non-UTF-8, non-JSON or duplicate-key line from the server
//!    ends the session (the gate never forwards a line it could not check); so does
//!    `--on-drift kill` at the first removed entity.
//!
//! Every decision is an [`audit`] event. The library never prints to stdout: stdout is the
//! protocol channel, owned by the proxy.

pub mod audit;
pub mod filter;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::lock::{PinnedLaunch, ServerEntry};
use crate::mcp::framing::{self, Kind, LineReader, Message};
use crate::surface::EntityKind;
use audit::{Audit, Event};

/// What to do when a list result carries a changed or unpinned entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDrift {
    /// Remove the entity, keep the session.
    Block,
    /// End the session with an error to the client.
    Kill,
}

/// JSON-RPC error code the gate answers with (implementation-defined server error range).
pub const GATE_ERROR: i64 = -32001;

/// A refusal before launch: what failed, and the command that fixes it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
    pub fix: String,
}

/// The pre-launch checks, against a loaded lock entry.
pub fn prelaunch(
    name: &str,
    entry: &ServerEntry,
    command: &str,
    args: &[String],
    lock_path: &str,
) -> Result<(), Refusal> {
    let repin = format!(
        "mcpseal pin {name} --lock {lock_path} -- {command} {}",
        args.join(" ")
    );
    match &entry.launch {
        PinnedLaunch::Stdio {
            command: c,
            args: a,
            env,
        } => {
            if c != command || a.as_slice() != args {
                return Err(Refusal {
                    reason: "launch-mismatch",
                    message: format!(
                        "server {name:?} is pinned to launch `{}`, but this launch is `{command} {}`",
                        entry.launch.display(),
                        args.join(" ")
                    ),
                    fix: format!("if the new command is intended, re-pin it: {repin}"),
                });
            }
            if let Some(var) = env.iter().find(|v| std::env::var_os(v).is_none()) {
                return Err(Refusal {
                    reason: "env-unset",
                    message: format!(
                        "server {name:?} was pinned with the environment variable {var}, which is not set"
                    ),
                    fix: format!("set {var} in the client's server entry, or re-pin: {repin}"),
                });
            }
        }
        other => {
            return Err(Refusal {
                reason: "launch-mismatch",
                message: format!(
                    "server {name:?} is pinned as a remote server ({}), but was launched as a command",
                    other.display()
                ),
                fix: format!("launch it as pinned, or re-pin: {repin}"),
            });
        }
    }
    for a in &entry.artifacts {
        let actual = crate::digest::digest_path(std::path::Path::new(&a.path));
        match actual {
            Ok(d) if d.digest == a.digest => {}
            Ok(d) => {
                return Err(Refusal {
                    reason: "artifact-mismatch",
                    message: format!(
                        "artifact {} of server {name:?} digests to {}, but {} is pinned: it was swapped or altered",
                        a.path, d.digest, a.digest
                    ),
                    fix: format!(
                        "reinstall the release and verify it (mcpseal verify {} --key PUB), then re-pin",
                        a.path
                    ),
                });
            }
            Err(e) => {
                return Err(Refusal {
                    reason: "artifact-unreadable",
                    message: format!(
                        "artifact {} of server {name:?} cannot be digested: {e}",
                        a.path
                    ),
                    fix: "reinstall the server, then re-pin it".into(),
                });
            }
        }
    }
    Ok(())
}

/// The pre-launch checks for a remote server: pinned as that URL (headers are not supported).
pub fn prelaunch_remote(
    name: &str,
    entry: &ServerEntry,
    url: &str,
    lock_path: &str,
) -> Result<(), Refusal> {
    match &entry.launch {
        PinnedLaunch::Http { url: u, headers } if u == url && headers.is_empty() => Ok(()),
        PinnedLaunch::Http { url: u, headers } if u == url => Err(Refusal {
            reason: "launch-mismatch",
            message: format!(
                "server {name:?} was pinned with HTTP headers ({}), which the gate cannot send",
                headers.join(", ")
            ),
            fix: "gate it without headers, or leave it ungated and check it with `mcpseal check`"
                .into(),
        }),
        other => Err(Refusal {
            reason: "launch-mismatch",
            message: format!(
                "server {name:?} is pinned as `{}`, but this launch is {url}",
                other.display()
            ),
            fix: format!(
                "if the new URL is intended, re-pin it: mcpseal pin {name} --lock {lock_path} --url {url}"
            ),
        }),
    }
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

/// Options of one gated session.
pub struct Session {
    pub name: String,
    pub entry: ServerEntry,
    pub command: String,
    pub args: Vec<String>,
    pub on_drift: OnDrift,
    pub max_message: usize,
    pub audit: Arc<Audit>,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The server exited (with this code, if any) or the client closed its side.
    Normally(Option<i32>),
    /// The gate ended the session to keep the server to its pins.
    Blocked(String),
}

static CHILD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let pid = CHILD_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

fn install_signal_forwarding() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only reads an atomic and calls kill(2).
        unsafe {
            libc::signal(sig, forward_signal as *const () as libc::sighandler_t);
        }
    }
}

type Out = Arc<Mutex<Box<dyn Write + Send>>>;

fn send(out: &Out, bytes: &[u8]) -> std::io::Result<()> {
    let mut o = out
        .lock()
        .map_err(|_| std::io::Error::other("stdout lock poisoned"))?;
    o.write_all(bytes)?;
    o.write_all(b"\n")?;
    o.flush()
}

fn id_key(v: &Value) -> String {
    v.to_string()
}

/// Runs the proxy until the server exits or the client closes its side.
pub fn proxy(
    s: Session,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    let mut cmd = Command::new(&s.command);
    cmd.args(&s.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it only sets the child's parent-death signal.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn()?;
    CHILD_PID.store(child.id() as i32, Ordering::SeqCst);
    install_signal_forwarding();
    s.audit.record(
        Event {
            event: "server-start",
            decision: "allow",
            fields: json!({"childPid": child.id(), "command": s.command}),
        },
        false,
    );

    let server_in: Box<dyn Write + Send> = Box::new(
        child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin pipe"))?,
    );
    let server_out: Box<dyn Read + Send> = Box::new(
        child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout pipe"))?,
    );
    proxy_io(s, server_in, server_out, Some(child), client_in, client_out)
}

/// The gate toward a remote Streamable HTTP server (`run --url`): stdio toward the client,
/// one POST per client message toward the server. The server's replies (JSON or an SSE
/// stream per POST) are fed through the same checks as a stdio server's output.
pub fn proxy_remote(
    s: Session,
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    use crate::mcp::transport::HttpTransport;
    let (to_server_r, to_server_w) = std::io::pipe()?;
    let (from_server_r, mut from_server_w) = std::io::pipe()?;
    let mut http = HttpTransport::new(url, headers, Duration::from_secs(300), s.max_message);
    let max = s.max_message;
    let audit = s.audit.clone();
    std::thread::spawn(move || {
        let mut r = LineReader::new(BufReader::new(to_server_r), max);
        while let Ok(Some(line)) = r.next_line() {
            // The client side already parsed and approved the line; parse again to POST it.
            let Ok(msg) = Message::parse(&line) else {
                break;
            };
            match http.post(&msg.value) {
                Ok(replies) => {
                    for m in replies {
                        if let Some(v) = m
                            .result()
                            .and_then(|r| r.get("protocolVersion"))
                            .and_then(Value::as_str)
                        {
                            http.set_protocol_version(v);
                        }
                        let mut bytes = serde_json::to_vec(&m.value).unwrap_or_default();
                        bytes.push(b'\n');
                        if from_server_w.write_all(&bytes).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    audit.block(
                        "server-message-rejected",
                        json!({"reason": e.code(), "message": e.to_string()}),
                    );
                    // Ending the stream ends the session: fail closed.
                    return;
                }
            }
        }
    });
    s.audit.record(
        Event {
            event: "server-start",
            decision: "allow",
            fields: json!({"url": url}),
        },
        false,
    );
    proxy_io(
        s,
        Box::new(to_server_w),
        Box::new(from_server_r),
        None,
        client_in,
        client_out,
    )
}

/// The proxy proper, over any server connection: a child's pipes or a remote bridge.
fn proxy_io(
    s: Session,
    mut server_in: Box<dyn Write + Send>,
    server_out: Box<dyn Read + Send>,
    child: Option<std::process::Child>,
    client_in: impl BufRead + Send + 'static,
    client_out: Box<dyn Write + Send>,
) -> std::io::Result<Ended> {
    let out: Out = Arc::new(Mutex::new(client_out));
    let pending: Arc<Mutex<HashMap<String, (String, bool)>>> = Arc::default();
    let live: Arc<Mutex<filter::Live>> = Arc::default();
    let entry = Arc::new(s.entry);
    let stop = Arc::new(AtomicBool::new(false));

    // Client → server.
    let c2s = {
        let (out, pending, live, entry, audit, stop) = (
            out.clone(),
            pending.clone(),
            live.clone(),
            entry.clone(),
            s.audit.clone(),
            stop.clone(),
        );
        let max = s.max_message;
        std::thread::spawn(move || {
            let mut r = LineReader::new(client_in, max);
            loop {
                let line = match r.next_line() {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => {
                        audit.block("client-message-rejected", json!({"reason": e.code()}));
                        break;
                    }
                };
                let msg = match Message::parse(&line) {
                    Ok(m) => m,
                    Err(e) => {
                        audit.block("client-message-rejected", json!({"reason": e.code()}));
                        let _ = send(
                            &out,
                            framing::error_response(
                                Value::Null,
                                -32700,
                                &format!("mcpseal: {e}"),
                                None,
                            )
                            .to_string()
                            .as_bytes(),
                        );
                        continue;
                    }
                };
                if msg.kind == Kind::Request {
                    let method = msg.method().unwrap_or_default().to_owned();
                    let allowed = live
                        .lock()
                        .map(|l| l.allow_call(&entry, &method, msg.params()))
                        .unwrap_or_else(|_| Err("internal lock error".into()));
                    if let Err(why) = allowed {
                        let id = msg.id().cloned().unwrap_or(Value::Null);
                        let entity = msg
                            .params()
                            .and_then(|p| p.get("name").or_else(|| p.get("uri")))
                            .cloned();
                        audit.block(
                            "call-refused",
                            json!({"method": method, "entity": entity, "reason": why}),
                        );
                        eprintln!("mcpseal: refused {method}: {why}");
                        let text = format!("mcpseal blocked this request: {why}");
                        let _ = send(
                            &out,
                            framing::error_response(
                                id,
                                GATE_ERROR,
                                &text,
                                Some(json!({"reason": "not-approved"})),
                            )
                            .to_string()
                            .as_bytes(),
                        );
                        continue;
                    }
                    let first_page = msg.params().and_then(|p| p.get("cursor")).is_none();
                    if let (Some(id), Ok(mut p)) = (msg.id(), pending.lock()) {
                        p.insert(id_key(id), (method, first_page));
                    }
                }
                if server_in
                    .write_all(&line)
                    .and_then(|()| server_in.write_all(b"\n"))
                    .and_then(|()| server_in.flush())
                    .is_err()
                {
                    break;
                }
            }
            stop.store(true, Ordering::SeqCst);
            drop(server_in); // EOF to the server: its cue to exit
            // A server that ignores EOF is ended: TERM after 2 s, KILL after 3 s.
            for (wait, sig) in [(2000, libc::SIGTERM), (1000, libc::SIGKILL)] {
                std::thread::sleep(Duration::from_millis(wait));
                let pid = CHILD_PID.load(Ordering::SeqCst);
                if pid > 0 {
                    // SAFETY: plain kill(2) on our own child's pid.
                    unsafe {
                        libc::kill(pid, sig);
                    }
                }
            }
        })
    };

    // Server → client (this thread).
    let mut reader = LineReader::new(BufReader::new(server_out), s.max_message);
    let mut ended: Option<Ended> = None;
    loop {
        // Read and parse in one step: whatever fails, the line is not forwarded.
        let next = reader
            .next_line()
            .and_then(|l| l.map(|l| Message::parse(&l).map(|m| (l, m))).transpose());
        let (line, msg) = match next {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) => {
                ended = Some(Ended::Blocked(format!(
                    "the server sent a message the gate cannot check ({}: {e})",
                    e.code()
                )));
                s.audit
                    .block("server-message-rejected", json!({"reason": e.code()}));
                break;
            }
        };
        match msg.kind {
            Kind::Notification => {
                if let Some(m) = msg.method() {
                    let kind = match m {
                        "notifications/tools/list_changed" => Some(EntityKind::Tools),
                        "notifications/prompts/list_changed" => Some(EntityKind::Prompts),
                        "notifications/resources/list_changed" => Some(EntityKind::Resources),
                        _ => None,
                    };
                    if let (Some(k), Ok(mut l)) = (kind, live.lock()) {
                        l.stale(k);
                        if k == EntityKind::Resources {
                            l.stale(EntityKind::ResourceTemplates);
                        }
                        s.audit.record(
                            Event {
                                event: "list-changed",
                                decision: "recheck",
                                fields: json!({"kind": k}),
                            },
                            false,
                        );
                    }
                }
                send(&out, &line)?;
            }
            Kind::Request => send(&out, &line)?,
            Kind::Response => {
                let method = msg
                    .id()
                    .and_then(|id| pending.lock().ok().and_then(|mut p| p.remove(&id_key(id))));
                match method {
                    Some((m, first_page))
                        if EntityKind::from_list_method(&m).is_some() && msg.result().is_some() =>
                    {
                        let kind = EntityKind::from_list_method(&m).unwrap_or(EntityKind::Tools);
                        let mut v = msg.value.clone();
                        let items = v
                            .pointer(&format!("/result/{}", kind.as_str()))
                            .and_then(Value::as_array)
                            .cloned();
                        let Some(items) = items else {
                            ended = Some(Ended::Blocked(format!(
                                "the server's {m} result has no `{}` array",
                                kind.as_str()
                            )));
                            s.audit.block(
                                "server-message-rejected",
                                json!({"reason": "malformed-list", "method": m}),
                            );
                            break;
                        };
                        let check = filter::check_list(&entry, kind, &items);
                        if let Ok(mut l) = live.lock() {
                            l.record(kind, first_page, &check.kept_keys);
                        }
                        for r in &check.removed {
                            eprintln!(
                                "mcpseal: removed {} {:?} from {m}: {}",
                                kind.noun(),
                                r.key,
                                r.reason
                            );
                            s.audit.block("entity-removed", json!({"kind": kind, "entity": r.key, "reason": r.reason, "digestPinned": r.pinned, "digestLive": r.live}));
                        }
                        if !check.removed.is_empty() && s.on_drift == OnDrift::Kill {
                            let id = msg.id().cloned().unwrap_or(Value::Null);
                            let why = format!(
                                "the server's {m} does not match its pins ({} entities changed or unpinned); session ended (--on-drift kill)",
                                check.removed.len()
                            );
                            send(
                                &out,
                                framing::error_response(
                                    id,
                                    GATE_ERROR,
                                    &format!("mcpseal: {why}"),
                                    Some(json!({"reason": "drift"})),
                                )
                                .to_string()
                                .as_bytes(),
                            )?;
                            ended = Some(Ended::Blocked(why));
                            break;
                        }
                        if check.removed.is_empty() {
                            send(&out, &line)?;
                        } else {
                            if let Some(arr) = v.pointer_mut(&format!("/result/{}", kind.as_str()))
                            {
                                *arr = Value::Array(check.kept);
                            }
                            send(&out, v.to_string().as_bytes())?;
                        }
                    }
                    Some((m, _)) if m == "initialize" || m == "server/discover" => {
                        let live_instr = msg
                            .value
                            .pointer("/result/instructions")
                            .and_then(Value::as_str);
                        let pinned = entry.instructions.as_ref().map(|i| i.text.as_str());
                        if live_instr.is_some() && live_instr != pinned {
                            let mut v = msg.value.clone();
                            if let Some(r) = v.get_mut("result").and_then(Value::as_object_mut) {
                                r.remove("instructions");
                            }
                            s.audit.record(Event { event: "instructions-removed", decision: "block", fields: json!({"reason": "changed-instructions", "digestPinned": entry.instructions.as_ref().map(|i| i.digest), "digestLive": live_instr.map(crate::surface::instructions_digest)}) }, true);
                            eprintln!("mcpseal: removed changed server instructions");
                            send(&out, v.to_string().as_bytes())?;
                        } else {
                            send(&out, &line)?;
                        }
                    }
                    _ => send(&out, &line)?,
                }
            }
        }
    }
    // Session over: make sure the child does not outlive it.
    let status = if let Some(mut child) = child {
        child_status(&mut child, ended.is_some())
    } else {
        None
    };
    CHILD_PID.store(0, Ordering::SeqCst);
    let code = status.and_then(|x| x.code());
    s.audit.record(
        Event {
            event: "server-exit",
            decision: if ended.is_some() { "block" } else { "allow" },
            fields: json!({"exitCode": code, "reason": ended.as_ref().map(|e| format!("{e:?}"))}),
        },
        true,
    );
    drop(c2s); // the client thread ends when the client closes stdin; do not wait for it
    Ok(ended.unwrap_or(Ended::Normally(code)))
}

/// Ends a child: at once when the gate ended the session, else after a moment to exit alone.
fn child_status(
    child: &mut std::process::Child,
    ended_by_gate: bool,
) -> Option<std::process::ExitStatus> {
    if ended_by_gate {
        let _ = child.kill();
        child.wait().ok()
    } else {
        // Give a server that is exiting on its own a moment, then end it.
        let mut st = None;
        for _ in 0..50 {
            if let Ok(Some(x)) = child.try_wait() {
                st = Some(x);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        match st {
            Some(x) => Some(x),
            None => {
                let _ = child.kill();
                child.wait().ok()
            }
        }
    }
}
