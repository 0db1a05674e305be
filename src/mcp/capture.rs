//! Capturing a server's surface: handshake, every list page, settling after `list_changed`.
//!
//! The rules (docs/capture.md): the client declares a fixed capability set (default `{}`,
//! optionally roots / sampling / elicitation, because real servers change their lists with
//! what the client declares); `initialize` offers 2025-11-25 and accepts 2024-11-05 through
//! 2025-11-25; after `notifications/initialized` every kind the server declared is listed, all
//! pages. Settling is by events, not by a clock (issue 17): a server that declared
//! `listChanged` is sent one `ping` after the lists, and everything it wrote before answering
//! it has arrived by then; if any `notifications/*/list_changed` arrived while listing or
//! before that answer, the capture waits until the announcements stop (a quiet window of
//! `settle` measured from the last one, at most [`MAX_QUIET_WINDOWS`] windows long) and lists
//! everything again, up to [`MAX_ROUNDS`] times. A server that announces nothing is not waited
//! for. A kind the server did not declare, or that answers -32601, is an empty list. Server
//! requests during capture are answered (`ping`, `roots/list` with no roots; others -32601).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::LaunchSpec;
use super::framing::{self, Kind};
use super::stdio::{Incoming, StdioServer};
use super::transport::{HttpTransport, SseTransport, Transport, TransportError};
use crate::surface::{self, EntityKind, Surface};

/// Protocol versions a capture accepts from `initialize`.
pub const ACCEPTED_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// The version a capture offers.
pub const OFFERED_VERSION: &str = "2025-11-25";
/// Re-list at most this many times while the server keeps announcing changes.
pub const MAX_ROUNDS: usize = 5;
/// Pages per list before the server counts as looping.
pub const MAX_PAGES: usize = 1000;
/// A quiet period after an announcement ends after this many `settle` windows even if the
/// server keeps announcing (the next round lists what it has then).
pub const MAX_QUIET_WINDOWS: u32 = 10;
/// How long the settling `ping` may go unanswered before the lists count as settled (a server
/// that does not answer `ping` is then waited for once, not until the capture's deadline).
pub const BARRIER_WAIT: Duration = Duration::from_secs(1);

/// How to capture. The default capability set is fixed and documented (docs/capture.md).
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Whole-capture deadline.
    pub timeout: Duration,
    /// After a `list_changed`: the quiet period, measured from the last one, before the lists
    /// are listed again. A server that announces nothing is not waited for.
    pub settle: Duration,
    /// Client capabilities declared in `initialize`.
    pub capabilities: Value,
    /// Largest accepted message, in bytes.
    pub max_message: usize,
    /// Offer the 2026-07-28 flow first (`server/discover`, stateless requests carrying
    /// `_meta`), falling back to `initialize` when the server does not speak it.
    pub discover: bool,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            timeout: Duration::from_secs(30),
            settle: DEFAULT_SETTLE,
            capabilities: json!({}),
            max_message: super::framing::DEFAULT_MAX_MESSAGE,
            discover: false,
        }
    }
}

/// The default quiet window after the last `list_changed` (`--settle`).
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(10);

/// The capability object for a list of names (`roots`, `sampling`, `elicitation`).
pub fn capabilities_for(names: &[String]) -> Result<Value, String> {
    let mut caps = serde_json::Map::new();
    for n in names {
        match n.as_str() {
            "roots" => caps.insert("roots".into(), json!({"listChanged": true})),
            "sampling" => caps.insert("sampling".into(), json!({})),
            "elicitation" => caps.insert("elicitation".into(), json!({})),
            other => {
                return Err(format!(
                    "unknown client capability {other:?}: use roots, sampling or elicitation"
                ));
            }
        };
    }
    Ok(Value::Object(caps))
}

/// A captured surface and what was learned on the way.
#[derive(Clone, Debug)]
pub struct Capture {
    pub surface: Surface,
    /// The server's capabilities from the handshake.
    pub capabilities: Value,
    /// How the lists settled.
    pub settling: Settling,
}

/// What settling the lists took: counts of events, for tests and `--json` readers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Settling {
    /// Times every list was listed (1 when nothing was announced).
    pub rounds: usize,
    /// `list_changed` notifications received.
    pub announcements: usize,
    /// Settling pings sent (0 when the server did not declare `listChanged`).
    pub pings: usize,
    /// Whether the server still announced changes after the last round.
    pub unsettled: bool,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{server}: cannot start: {message}")]
    Spawn { server: String, message: String },
    #[error(
        "{server}: no answer within {seconds:.1} s while waiting for {waiting_for}{}",
        tail(stderr_tail)
    )]
    Timeout {
        server: String,
        seconds: f64,
        waiting_for: String,
        stderr_tail: String,
    },
    #[error("{server}: exited before answering {waiting_for}{}", tail(stderr_tail))]
    Exited {
        server: String,
        waiting_for: String,
        stderr_tail: String,
    },
    #[error("{server}: sent a malformed message ({message}){}", tail(stderr_tail))]
    Malformed {
        server: String,
        message: String,
        stderr_tail: String,
    },
    #[error("{server}: {method} failed: {message}")]
    Rpc {
        server: String,
        method: String,
        message: String,
    },
    #[error("{server}: answered protocol version {version:?}, which mcpseal does not accept (accepted: {})", ACCEPTED_VERSIONS.join(", "))]
    ProtocolVersion { server: String, version: String },
    #[error("{server}: {message}")]
    Surface { server: String, message: String },
    #[error("{server}: this transport is not supported for capture yet")]
    Unsupported { server: String },
    /// The capture stopped on a bug in mcpseal (a panic), not on anything the server did.
    #[error("{server}: the capture failed inside mcpseal (a bug: please report it)")]
    Internal { server: String },
}

/// A line that states an error (Node's `Error [ERR_…]: Cannot find package …`, Python's
/// `ModuleNotFoundError: …`, `error: …`), not a stack frame.
fn is_error_line(l: &str) -> bool {
    let l = l.trim();
    if l.starts_with("at ") || l.starts_with("File \"") {
        return false;
    }
    let lower = l.to_ascii_lowercase();
    lower.starts_with("error")
        || lower.starts_with("fatal")
        || lower.starts_with("traceback")
        || lower.contains("error:")
        || lower.contains("error [")
        || lower.contains("exception:")
        || lower.contains("cannot find")
        || lower.contains("not found")
}

fn tail(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        // The last lines, and before them the first few error lines that fall outside them:
        // a runtime's own error line comes first and its stack after, so the last lines alone
        // are often only frames.
        let lines: Vec<&str> = t.lines().collect();
        let start = lines.len().saturating_sub(10);
        let first: Vec<&str> = lines[..start]
            .iter()
            .copied()
            .filter(|l| is_error_line(l))
            .take(3)
            .collect();
        let mut out = String::from("\n  server stderr");
        if !first.is_empty() {
            out.push_str(" (first error lines):\n    ");
            out.push_str(&first.join("\n    "));
            out.push_str("\n  server stderr");
        }
        format!("{out} (last lines):\n    {}", lines[start..].join("\n    "))
    }
}

impl CaptureError {
    pub fn code(&self) -> &'static str {
        match self {
            CaptureError::Spawn { .. } => "spawn-failed",
            CaptureError::Timeout { .. } => "timeout",
            CaptureError::Exited { .. } => "server-exited",
            CaptureError::Malformed { .. } => "malformed-message",
            CaptureError::Rpc { .. } => "handshake-failed",
            CaptureError::ProtocolVersion { .. } => "protocol-version",
            CaptureError::Surface { .. } => "bad-surface",
            CaptureError::Unsupported { .. } => "unsupported-transport",
            CaptureError::Internal { .. } => "internal",
        }
    }
}

/// A short, value-free label for a server: its command and arguments, or its URL.
pub fn label(spec: &LaunchSpec) -> String {
    match spec {
        LaunchSpec::Stdio { command, args, .. } => {
            let mut s = std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            if s.len() > 160 {
                s.truncate(
                    s.char_indices()
                        .take_while(|(i, _)| *i < 157)
                        .last()
                        .map_or(0, |(i, c)| i + c.len_utf8()),
                );
                s.push('…');
            }
            s
        }
        LaunchSpec::Http { url, .. } | LaunchSpec::Sse { url, .. } => url.clone(),
    }
}

/// The stdio server as a [`Transport`] (its reader thread already parses strictly).
impl Transport for StdioServer {
    fn send(&mut self, msg: &Value) -> Result<(), TransportError> {
        StdioServer::send(self, msg).map_err(TransportError::Write)
    }
    fn recv(&mut self, deadline: Instant) -> Result<Option<framing::Message>, TransportError> {
        match StdioServer::recv(self, deadline) {
            None => Ok(None),
            Some(Incoming::Message(m)) => Ok(Some(m)),
            Some(Incoming::Bad(e)) => Err(TransportError::Frame(e)),
            Some(Incoming::Closed) => Err(TransportError::Closed {
                status: self.try_status().map(|s| s.to_string()),
            }),
        }
    }
    fn can_push(&self) -> bool {
        true
    }
    fn stderr_tail(&self) -> String {
        StdioServer::stderr_tail(self)
    }
}

struct Session {
    server: Box<dyn Transport>,
    label: String,
    deadline: Instant,
    timeout: Duration,
    next_id: u64,
    changed: bool,
    /// When the last `list_changed` arrived, and how many did.
    last_announcement: Option<Instant>,
    announcements: usize,
    /// 2026-07-28: the `_meta` every request carries (version, client info, capabilities).
    meta: Option<Value>,
}

enum Reply {
    Result(Value),
    Error { code: i64, message: String },
}

impl Session {
    fn fail_closed(&mut self, waiting_for: &str) -> CaptureError {
        std::thread::sleep(Duration::from_millis(50)); // let stderr drain
        CaptureError::Exited {
            server: self.label.clone(),
            waiting_for: waiting_for.into(),
            stderr_tail: self.server.stderr_tail(),
        }
    }

    fn send(&mut self, v: &Value, what: &str) -> Result<(), CaptureError> {
        match self.server.send(v) {
            Ok(()) => Ok(()),
            Err(TransportError::Http(m)) => Err(CaptureError::Spawn {
                server: self.label.clone(),
                message: format!("{what}: {m}"),
            }),
            Err(TransportError::Frame(e)) => Err(CaptureError::Malformed {
                server: self.label.clone(),
                message: e.to_string(),
                stderr_tail: self.server.stderr_tail(),
            }),
            Err(_) => Err(self.fail_closed(what)),
        }
    }

    /// Handles one incoming item that is not the awaited response. Returns it if it is a response.
    fn pump(
        &mut self,
        until: Instant,
        waiting_for: &str,
    ) -> Result<Option<framing::Message>, CaptureError> {
        match self.server.recv(until) {
            // A transport that cannot push (Streamable HTTP without a stream) has nothing more
            // to say: its answers arrived with the request.
            Ok(None) if !self.server.can_push() => Err(CaptureError::Exited {
                server: self.label.clone(),
                waiting_for: waiting_for.into(),
                stderr_tail: String::new(),
            }),
            Ok(None) => Ok(None),
            Err(TransportError::Frame(e)) => Err(CaptureError::Malformed {
                server: self.label.clone(),
                message: e.to_string(),
                stderr_tail: self.server.stderr_tail(),
            }),
            Err(TransportError::Http(m)) => Err(CaptureError::Spawn {
                server: self.label.clone(),
                message: m,
            }),
            Err(_) => Err(self.fail_closed(waiting_for)),
            Ok(Some(m)) => match m.kind {
                Kind::Response => Ok(Some(m)),
                Kind::Notification => {
                    if m.method().is_some_and(|x| x.ends_with("/list_changed")) {
                        self.changed = true;
                        self.last_announcement = Some(Instant::now());
                        self.announcements += 1;
                    }
                    Ok(None)
                }
                Kind::Request => {
                    let id = m.id().cloned().unwrap_or(Value::Null);
                    let reply = match m.method().unwrap_or_default() {
                        "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
                        "roots/list" => {
                            json!({"jsonrpc": "2.0", "id": id, "result": {"roots": []}})
                        }
                        other => framing::error_response(
                            id,
                            -32601,
                            &format!("mcpseal capture does not handle {other}"),
                            None,
                        ),
                    };
                    self.send(&reply, waiting_for)?;
                    Ok(None)
                }
            },
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Reply, CaptureError> {
        self.next_id += 1;
        let id = self.next_id;
        let mut params = params;
        if let (Some(meta), Some(obj)) = (&self.meta, params.as_object_mut()) {
            obj.insert("_meta".into(), meta.clone());
        }
        self.send(&framing::request(id, method, params), method)?;
        loop {
            if Instant::now() >= self.deadline {
                return Err(CaptureError::Timeout {
                    server: self.label.clone(),
                    seconds: self.timeout.as_secs_f64(),
                    waiting_for: method.into(),
                    stderr_tail: self.server.stderr_tail(),
                });
            }
            if let Some(m) = self.pump(self.deadline, method)? {
                if m.id() != Some(&json!(id)) {
                    continue; // a late answer to something else
                }
                if let Some(r) = m.result() {
                    return Ok(Reply::Result(r.clone()));
                }
                let e = m.error().cloned().unwrap_or(Value::Null);
                return Ok(Reply::Error {
                    code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)")
                        .to_owned(),
                });
            }
        }
    }

    /// The settling barrier: one `ping`, and everything the server wrote before its answer.
    /// Returns when the answer (any answer, even an error) arrives or after [`BARRIER_WAIT`].
    fn barrier(&mut self) -> Result<(), CaptureError> {
        self.next_id += 1;
        let id = self.next_id;
        let mut params = json!({});
        if let (Some(meta), Some(obj)) = (&self.meta, params.as_object_mut()) {
            obj.insert("_meta".into(), meta.clone());
        }
        self.send(&framing::request(id, "ping", params), "ping")?;
        let until = self.deadline.min(Instant::now() + BARRIER_WAIT);
        while Instant::now() < until {
            if let Some(m) = self.pump(until, "the answer to ping")?
                && m.id() == Some(&json!(id))
            {
                break;
            }
        }
        Ok(())
    }

    /// After an announcement: waits until `settle` has passed since the last one, at most
    /// [`MAX_QUIET_WINDOWS`] windows, never past the capture's deadline.
    fn quiet(&mut self, settle: Duration) -> Result<(), CaptureError> {
        let cap = self
            .deadline
            .min(Instant::now() + settle * MAX_QUIET_WINDOWS);
        loop {
            let last = self.last_announcement.unwrap_or_else(Instant::now);
            let until = (last + settle).min(cap);
            if Instant::now() >= until {
                return Ok(());
            }
            self.pump(until, "the announcements to stop")?;
        }
    }

    /// Every page of one kind's list.
    fn list_all(&mut self, kind: EntityKind) -> Result<Vec<Value>, CaptureError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let result = match self.request(kind.list_method(), params)? {
                Reply::Result(r) => r,
                Reply::Error { code: -32601, .. } => return Ok(Vec::new()),
                Reply::Error { message, .. } => {
                    return Err(CaptureError::Rpc {
                        server: self.label.clone(),
                        method: kind.list_method().into(),
                        message,
                    });
                }
            };
            let page = result
                .get(kind.as_str())
                .and_then(Value::as_array)
                .ok_or_else(|| CaptureError::Surface {
                    server: self.label.clone(),
                    message: format!(
                        "{} result has no `{}` array",
                        kind.list_method(),
                        kind.as_str()
                    ),
                })?;
            items.extend(page.iter().cloned());
            match result.get("nextCursor") {
                Some(Value::String(c)) if !c.is_empty() => {
                    if !seen.insert(c.clone()) {
                        return Err(CaptureError::Surface {
                            server: self.label.clone(),
                            message: format!(
                                "{} repeats cursor {c:?}: the pagination loops",
                                kind.list_method()
                            ),
                        });
                    }
                    cursor = Some(c.clone());
                }
                _ => return Ok(items),
            }
        }
        Err(CaptureError::Surface {
            server: self.label.clone(),
            message: format!("{} has more than {MAX_PAGES} pages", kind.list_method()),
        })
    }
}

/// Starts (or connects to) the server, captures its surface, and shuts it down.
pub fn capture(spec: &LaunchSpec, opts: &CaptureOptions) -> Result<Capture, CaptureError> {
    let label = label(spec);
    let spawn_err = |message: String| CaptureError::Spawn {
        server: label.clone(),
        message,
    };
    let server: Box<dyn Transport> = match spec {
        LaunchSpec::Stdio { .. } => Box::new(
            StdioServer::spawn(spec, opts.max_message).map_err(|e| spawn_err(e.to_string()))?,
        ),
        LaunchSpec::Http { url, headers } => Box::new(HttpTransport::new(
            url,
            headers,
            opts.timeout,
            opts.max_message,
        )),
        LaunchSpec::Sse { url, headers } => Box::new(
            SseTransport::connect(
                url,
                headers,
                Instant::now() + opts.timeout,
                opts.max_message,
            )
            .map_err(|e| spawn_err(e.to_string()))?,
        ),
    };
    let mut s = Session {
        server,
        label,
        deadline: Instant::now() + opts.timeout,
        timeout: opts.timeout,
        next_id: 0,
        changed: false,
        last_announcement: None,
        announcements: 0,
        meta: None,
    };
    let result = capture_session(&mut s, opts);
    drop(s); // kills a stdio server; ends an HTTP session (DELETE)
    result
}

/// The 2026-07-28 protocol version, negotiated by `server/discover`.
pub const DISCOVER_VERSION: &str = "2026-07-28";
/// Where 2026-07-28 results carry the server's info.
const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";

/// Tries `server/discover`. `Some(result)` when the server speaks 2026-07-28; `None` (fall
/// back to `initialize`) on any error or a result that offers no version we speak.
fn try_discover(s: &mut Session, opts: &CaptureOptions) -> Result<Option<Value>, CaptureError> {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": DISCOVER_VERSION,
        "io.modelcontextprotocol/clientInfo": {"name": "mcpseal", "version": env!("CARGO_PKG_VERSION")},
        "io.modelcontextprotocol/clientCapabilities": opts.capabilities,
    });
    s.meta = Some(meta);
    s.server.set_protocol_version(DISCOVER_VERSION);
    let reply = s.request("server/discover", json!({}))?;
    let modern = match reply {
        Reply::Result(r) => {
            let speaks = r
                .get("supportedVersions")
                .and_then(Value::as_array)
                .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(DISCOVER_VERSION)));
            speaks.then_some(r)
        }
        Reply::Error { .. } => None,
    };
    if modern.is_none() {
        s.meta = None;
    }
    Ok(modern)
}

fn capture_session(s: &mut Session, opts: &CaptureOptions) -> Result<Capture, CaptureError> {
    if opts.discover
        && let Some(d) = try_discover(s, opts)?
    {
        let server_info = d
            .pointer(&crate::json::pointer_child("/_meta", SERVER_INFO_META))
            .cloned()
            .unwrap_or(Value::Null);
        let instructions = d
            .get("instructions")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let caps = d.get("capabilities").cloned().unwrap_or_else(|| json!({}));
        return list_everything(
            s,
            opts,
            DISCOVER_VERSION.to_owned(),
            server_info,
            instructions,
            caps,
        );
    }
    let init = match s.request(
        "initialize",
        json!({
            "protocolVersion": OFFERED_VERSION,
            "capabilities": opts.capabilities,
            "clientInfo": {"name": "mcpseal", "version": env!("CARGO_PKG_VERSION")}
        }),
    )? {
        Reply::Result(r) => r,
        Reply::Error { message, .. } => {
            return Err(CaptureError::Rpc {
                server: s.label.clone(),
                method: "initialize".into(),
                message,
            });
        }
    };
    let version = init
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !ACCEPTED_VERSIONS.contains(&version.as_str()) {
        return Err(CaptureError::ProtocolVersion {
            server: s.label.clone(),
            version,
        });
    }
    let caps = init
        .get("capabilities")
        .cloned()
        .unwrap_or_else(|| json!({}));
    s.server.set_protocol_version(&version);
    s.send(
        &framing::notification("notifications/initialized", None),
        "notifications/initialized",
    )?;

    let server_info = init.get("serverInfo").cloned().unwrap_or(Value::Null);
    let instructions = init
        .get("instructions")
        .and_then(Value::as_str)
        .map(str::to_owned);
    list_everything(s, opts, version, server_info, instructions, caps)
}

/// Lists every declared kind until the lists settle, and assembles the surface.
fn list_everything(
    s: &mut Session,
    opts: &CaptureOptions,
    version: String,
    server_info: Value,
    instructions: Option<String>,
    caps: Value,
) -> Result<Capture, CaptureError> {
    let declared = |k: EntityKind| match k {
        EntityKind::Tools => caps.get("tools").is_some(),
        EntityKind::Prompts => caps.get("prompts").is_some(),
        EntityKind::Resources | EntityKind::ResourceTemplates => caps.get("resources").is_some(),
    };
    // Only a server that can push and declared `listChanged` for some kind announces changes
    // by the protocol; it alone gets the settling barrier. An announcement from any other is
    // still honoured (everything is listed again).
    let announces = s.server.can_push()
        && ["tools", "prompts", "resources"].iter().any(|k| {
            caps.pointer(&format!("/{k}/listChanged"))
                .and_then(Value::as_bool)
                == Some(true)
        });
    let mut entities = BTreeMap::new();
    let mut settling = Settling::default();
    for round in 0..MAX_ROUNDS {
        s.changed = false;
        entities.clear();
        settling.rounds += 1;
        for kind in EntityKind::ALL {
            let items = if declared(kind) {
                s.list_all(kind)?
            } else {
                Vec::new()
            };
            let keyed = surface::keyed(kind, items).map_err(|e| CaptureError::Surface {
                server: s.label.clone(),
                message: e.to_string(),
            })?;
            entities.insert(kind, keyed);
        }
        if announces && !s.changed {
            settling.pings += 1;
            s.barrier()?;
        }
        if !s.changed {
            break;
        }
        if round + 1 == MAX_ROUNDS {
            settling.unsettled = true;
            break;
        }
        // A list_changed means the lists above may be stale: let the announcements stop,
        // then list again.
        s.quiet(opts.settle)?;
    }
    settling.announcements = s.announcements;
    Ok(Capture {
        surface: Surface {
            protocol_version: version,
            server_info,
            instructions,
            entities,
        },
        capabilities: caps,
        settling,
    })
}

/// Settling, counted in events (issue 17). The server here is a script in memory — a mock,
/// because no real server can be made to put an announcement exactly before or after a given
/// answer; the real fixture and server-everything are captured in tests/pin_check.rs and
/// tests/conformance.rs. Nothing below asserts a time: a server that announces nothing is
/// captured with a settle window of an hour and a deadline of a minute, which only ends if
/// it is not waited for.
#[cfg(test)]
mod settle_tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::mcp::framing::Message;

    /// When the scripted server announces `tools/list_changed`.
    #[derive(Clone, Copy, PartialEq)]
    enum Announce {
        Never,
        /// Before its first `tools/list` answer (as server-everything does).
        OnInitialized,
        /// Before answering the settling ping, the first `n` times.
        OnPing(usize),
        /// After every `tools/list` answer, forever.
        Always,
    }

    struct Script {
        caps: Value,
        announce: Announce,
        answers_ping: bool,
        queue: VecDeque<Value>,
        sent: Vec<String>,
    }

    impl Script {
        fn new(caps: Value, announce: Announce) -> Script {
            Script {
                caps,
                announce,
                answers_ping: true,
                queue: VecDeque::new(),
                sent: Vec::new(),
            }
        }
        fn count(&self, method: &str) -> usize {
            self.sent.iter().filter(|m| *m == method).count()
        }
    }

    fn changed() -> Value {
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    }

    struct Scripted(std::rc::Rc<std::cell::RefCell<Script>>);

    impl Transport for Scripted {
        fn send(&mut self, msg: &Value) -> Result<(), TransportError> {
            let mut s = self.0.borrow_mut();
            let method = msg["method"].as_str().unwrap_or("(response)").to_owned();
            s.sent.push(method.clone());
            let id = msg["id"].clone();
            let ok = |r: Value| json!({"jsonrpc": "2.0", "id": id, "result": r});
            match method.as_str() {
                "initialize" => {
                    let r = ok(json!({"protocolVersion": OFFERED_VERSION,
                        "capabilities": s.caps, "serverInfo": {"name": "s", "version": "1"}}));
                    s.queue.push_back(r);
                }
                "notifications/initialized" if s.announce == Announce::OnInitialized => {
                    s.queue.push_back(changed());
                }
                "tools/list" => {
                    let r =
                        ok(json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}));
                    s.queue.push_back(r);
                    if s.announce == Announce::Always {
                        s.queue.push_back(changed());
                    }
                }
                "ping" => {
                    if let Announce::OnPing(n) = s.announce
                        && s.count("ping") <= n
                    {
                        s.queue.push_back(changed());
                    }
                    if s.answers_ping {
                        s.queue.push_back(ok(json!({})));
                    }
                }
                m if m.ends_with("/list") => s.queue.push_back(ok(json!({m
                    .trim_end_matches("/list")
                    .rsplit('/')
                    .next()
                    .map(|k| if k == "templates" { "resourceTemplates" } else { k })
                    .unwrap_or(""): []}))),
                _ => {}
            }
            Ok(())
        }
        fn recv(&mut self, deadline: Instant) -> Result<Option<Message>, TransportError> {
            match self.0.borrow_mut().queue.pop_front() {
                Some(v) => Ok(Some(Message::from_value(v).expect("a valid message"))),
                None => {
                    // Nothing to say: as a real pipe, block until the deadline.
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    Ok(None)
                }
            }
        }
        fn can_push(&self) -> bool {
            true
        }
    }

    fn run(script: Script, settle: Duration) -> (Result<Capture, CaptureError>, Script) {
        let shared = std::rc::Rc::new(std::cell::RefCell::new(script));
        let opts = CaptureOptions {
            timeout: Duration::from_secs(60),
            settle,
            ..CaptureOptions::default()
        };
        let mut s = Session {
            server: Box::new(Scripted(shared.clone())),
            label: "scripted".into(),
            deadline: Instant::now() + opts.timeout,
            timeout: opts.timeout,
            next_id: 0,
            changed: false,
            last_announcement: None,
            announcements: 0,
            meta: None,
        };
        let r = capture_session(&mut s, &opts);
        drop(s);
        let script = std::rc::Rc::try_unwrap(shared)
            .ok()
            .expect("the session is gone")
            .into_inner();
        (r, script)
    }

    const HOUR: Duration = Duration::from_secs(3600);
    const MS: Duration = Duration::from_millis(1);

    fn announcing() -> Value {
        json!({"tools": {"listChanged": true}})
    }

    #[test]
    fn a_server_that_announces_nothing_is_not_waited_for() {
        let (r, script) = run(Script::new(announcing(), Announce::Never), HOUR);
        let cap = r.expect("captured without waiting out an hour's settle window");
        assert_eq!(
            cap.settling,
            Settling {
                rounds: 1,
                announcements: 0,
                pings: 1,
                unsettled: false
            }
        );
        assert_eq!(script.count("tools/list"), 1);
    }

    #[test]
    fn a_server_that_declared_no_list_changed_gets_no_ping() {
        let (r, script) = run(Script::new(json!({"tools": {}}), Announce::Never), HOUR);
        let cap = r.unwrap();
        assert_eq!(cap.settling.pings, 0);
        assert_eq!(script.count("ping"), 0);
        assert_eq!(script.count("tools/list"), 1);
    }

    #[test]
    fn an_announcement_during_listing_lists_again() {
        let (r, script) = run(Script::new(announcing(), Announce::OnInitialized), MS);
        let cap = r.unwrap();
        assert_eq!(cap.settling.rounds, 2);
        assert_eq!(cap.settling.announcements, 1);
        assert!(!cap.settling.unsettled);
        assert_eq!(script.count("tools/list"), 2);
        // The second round was confirmed by the barrier; the first needed none.
        assert_eq!(script.count("ping"), 1);
    }

    /// The attack on a settle-by-barrier rule: announce only while the capture waits at the
    /// barrier, hoping the first lists are taken as final.
    #[test]
    fn an_announcement_before_the_pings_answer_lists_again() {
        let (r, script) = run(Script::new(announcing(), Announce::OnPing(2)), MS);
        let cap = r.unwrap();
        assert_eq!(cap.settling.rounds, 3);
        assert_eq!(cap.settling.announcements, 2);
        assert_eq!(script.count("ping"), 3);
        assert!(!cap.settling.unsettled);
    }

    #[test]
    fn a_server_that_never_stops_announcing_is_bounded_and_flagged() {
        let (r, script) = run(Script::new(announcing(), Announce::Always), MS);
        let cap = r.unwrap();
        assert_eq!(cap.settling.rounds, MAX_ROUNDS);
        assert!(cap.settling.unsettled);
        assert_eq!(script.count("tools/list"), MAX_ROUNDS);
    }

    #[test]
    fn a_server_that_ignores_ping_is_waited_for_once_not_until_the_deadline() {
        let mut script = Script::new(announcing(), Announce::Never);
        script.answers_ping = false;
        let (r, script) = run(script, HOUR);
        let cap = r.expect("captured after the bounded barrier");
        assert_eq!(cap.settling.rounds, 1);
        assert_eq!(script.count("ping"), 1);
    }
}
