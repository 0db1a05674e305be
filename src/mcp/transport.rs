//! Client-side MCP transports on raw JSON-RPC messages: Streamable HTTP and the legacy HTTP+SSE
//! transport. (A spawned stdio server is [`super::stdio::StdioServer`], which implements
//! [`Transport`] in [`super::capture`].)
//!
//! Each transport implements [`Transport`]: send one client message, receive the server's
//! messages one at a time until a deadline. Nothing here knows MCP methods; the handshake,
//! paging and settling live in [`super::capture`]. The gate reuses [`HttpTransport`] for
//! `run --url`.
//!
//! Every message is parsed strictly ([`Message::parse`]: UTF-8, no duplicate keys, a JSON-RPC
//! 2.0 object) and bounded by the size limit; any violation ends the session (fail closed).
//! Not here: what to send, and any printing.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, BufReader};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::framing::{FrameError, LineReader, Message};

/// A transport failed. The capture adds the server's name and stderr tail.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not start `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("the server closed the connection{}", .status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())]
    Closed { status: Option<String> },
    #[error("could not write to the server: {0}")]
    Write(io::Error),
    #[error("HTTP: {0}")]
    Http(String),
}

impl TransportError {
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Spawn { .. } => "spawn-failed",
            TransportError::Frame(_) => "malformed-message",
            TransportError::Closed { .. } => "server-exited",
            TransportError::Write(_) => "server-exited",
            TransportError::Http(_) => "http-error",
        }
    }
}

/// One client-side connection to a server.
pub trait Transport {
    /// Sends one client message (request, notification or response).
    fn send(&mut self, msg: &Value) -> Result<(), TransportError>;
    /// The next server message, or `Ok(None)` if none arrived before `deadline`.
    fn recv(&mut self, deadline: Instant) -> Result<Option<Message>, TransportError>;
    /// Whether the server can send a message the client did not ask for right now (a stdio
    /// pipe or an SSE stream can; a Streamable HTTP POST exchange without a GET stream can't).
    /// Settling waits for a quiet period only when this is true.
    fn can_push(&self) -> bool;
    /// Called once the protocol version is agreed (Streamable HTTP sends it as a header).
    fn set_protocol_version(&mut self, _version: &str) {}
    /// The last bytes the server wrote to stderr (stdio only), lossily decoded.
    fn stderr_tail(&self) -> String {
        String::new()
    }
}

/// One Server-Sent Event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Reads Server-Sent Events (`event:` / `data:` lines, blank line ends an event) with the
/// per-line size limit of [`LineReader`].
pub struct SseReader<R> {
    lines: LineReader<R>,
}

impl<R: BufRead> SseReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        SseReader {
            lines: LineReader::keeping_blank_lines(inner, max),
        }
    }

    /// The next event with data; `None` at end of stream.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, FrameError> {
        let mut ev = SseEvent::default();
        let mut has_data = false;
        loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(has_data.then_some(ev));
            };
            if line.is_empty() {
                if has_data {
                    if ev.event.is_empty() {
                        ev.event = "message".into();
                    }
                    return Ok(Some(ev));
                }
                ev = SseEvent::default();
                continue;
            }
            let text = std::str::from_utf8(&line).map_err(|_| FrameError::NotUtf8)?;
            if text.starts_with(':') {
                continue; // comment / keep-alive
            }
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (text, ""),
            };
            match field {
                "event" => ev.event = value.to_owned(),
                "data" => {
                    if has_data {
                        ev.data.push('\n');
                    }
                    if ev.data.len() + value.len() > self.lines.max() {
                        return Err(FrameError::TooLong {
                            limit: self.lines.max(),
                        });
                    }
                    ev.data.push_str(value);
                    has_data = true;
                }
                _ => {} // id, retry: not needed for a capture
            }
        }
    }
}

pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    // aws-lc-rs, the binary's one crypto backend (ureq's default would be ring).
    let tls = ureq::tls::TlsConfig::builder()
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .build();
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        KeptResolver::default(),
    )
}

/// How long [`KeptResolver`] keeps a host's addresses.
const KEEP_ADDRESSES: Duration = Duration::from_secs(60);

/// ureq resolves the host before *every* request, even one its pool then serves on an open
/// connection, and with a timeout set (ours always is) it resolves on a new thread so that the
/// lookup can be abandoned. On loopback that thread cost 0.7 of the 0.9 ms each relayed
/// message took (`strace -f` of `benches/http_stack.rs`: one `clone` and one exit per POST).
/// This resolver keeps what ureq's own resolver answered, per scheme and authority, for
/// [`KEEP_ADDRESSES`]: the first request (and the first after that) still resolves, bounded by
/// the timeout as before; the rest reuse the answer. The addresses are the ones a reused
/// pooled connection goes to anyway, so this changes no destination within the window.
#[derive(Debug, Default)]
struct KeptResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    kept: std::sync::Mutex<
        BTreeMap<String, (ureq::unversioned::resolver::ResolvedSocketAddrs, Instant)>,
    >,
}

impl ureq::unversioned::resolver::Resolver for KeptResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-update: resolve afresh.
        if let Ok(kept) = self.kept.lock()
            && let Some((addrs, at)) = kept.get(&key)
            && now.duration_since(*at) < KEEP_ADDRESSES
        {
            return Ok(addrs.clone());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut kept) = self.kept.lock() {
            kept.insert(key, (addrs.clone(), now));
        }
        Ok(addrs)
    }
}

fn http_err(e: ureq::Error) -> TransportError {
    TransportError::Http(e.to_string())
}

/// The Streamable HTTP transport (MCP 2025-03-26 and later): every client message is a POST;
/// the reply is `application/json` (one message) or `text/event-stream` (messages until the
/// response to the request). Keeps `Mcp-Session-Id` from the `initialize` reply and sends
/// `MCP-Protocol-Version` once [`HttpTransport::set_protocol_version`] was called.
///
/// No GET stream is opened: server-initiated messages arrive only on POST reply streams.
pub struct HttpTransport {
    agent: ureq::Agent,
    url: String,
    headers: BTreeMap<String, String>,
    session_id: Option<String>,
    protocol_version: Option<String>,
    queue: VecDeque<Message>,
    max: usize,
}

impl HttpTransport {
    /// A transport for `url`; `headers` are sent on every request; `timeout` bounds each one.
    pub fn new(
        url: &str,
        headers: &BTreeMap<String, String>,
        timeout: Duration,
        max_message: usize,
    ) -> Self {
        HttpTransport {
            agent: agent(timeout),
            url: url.to_owned(),
            headers: headers.clone(),
            session_id: None,
            protocol_version: None,
            queue: VecDeque::new(),
            max: max_message,
        }
    }

    /// Sends `MCP-Protocol-Version: v` on every later request (after `initialize`).
    pub fn set_protocol_version(&mut self, v: &str) {
        self.protocol_version = Some(v.to_owned());
    }

    /// The session id the server assigned, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// POSTs one client message and returns every server message of the reply (for a
    /// request: up to and including its response; for a notification or response: none).
    pub fn post(&mut self, msg: &Value) -> Result<Vec<Message>, TransportError> {
        self.post_values(msg)?
            .into_iter()
            .map(|v| Message::from_value(v).map_err(TransportError::from))
            .collect()
    }

    /// As [`post`](Self::post), but each reply is strictly parsed JSON, not yet classified
    /// as JSON-RPC: the gate decides itself what to do with a message that is JSON but no
    /// valid JSON-RPC (it drops it rather than ending the session).
    pub fn post_values(&mut self, msg: &Value) -> Result<Vec<Value>, TransportError> {
        let body = serde_json::to_vec(msg).map_err(|e| TransportError::Http(e.to_string()))?;
        let mut req = self
            .agent
            .post(&self.url)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(s) = &self.session_id {
            req = req.header("Mcp-Session-Id", s.as_str());
        }
        if let Some(v) = &self.protocol_version {
            req = req.header("MCP-Protocol-Version", v.as_str());
        }
        let mut resp = req.send(&body[..]).map_err(http_err)?;
        let status = resp.status().as_u16();
        if let Some(s) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            self.session_id = Some(s.to_owned());
        }
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !(200..300).contains(&status) {
            let text = resp
                .body_mut()
                .with_config()
                .limit(2048)
                .read_to_string()
                .unwrap_or_default();
            return Err(TransportError::Http(format!(
                "POST {} answered {status}: {}",
                self.url,
                text.trim()
            )));
        }
        let is_request = msg.get("method").is_some() && msg.get("id").is_some();
        if status == 202 || !is_request {
            return Ok(Vec::new());
        }
        let want_id = msg.get("id").cloned();
        if ctype.starts_with("text/event-stream") {
            let reader = BufReader::new(resp.body_mut().as_reader());
            let mut sse = SseReader::new(reader, self.max);
            let mut out = Vec::new();
            while let Some(ev) = sse.next_event()? {
                // Servers open a stream with an empty "priming" event (an id for resumption,
                // no data): it carries no message.
                if ev.event != "message" || ev.data.trim().is_empty() {
                    continue;
                }
                let v = strict(ev.data.as_bytes())?;
                // The answer to this request: its id, no method, exactly one of a result and an
                // error (a message with both is no answer: the stream goes on to the real one).
                let done = v.get("method").is_none()
                    && v.get("id") == want_id.as_ref()
                    && (v.get("result").is_some() != v.get("error").is_some());
                out.push(v);
                if done {
                    return Ok(out);
                }
            }
            Ok(out)
        } else if ctype.starts_with("application/json") {
            let bytes = resp
                .body_mut()
                .with_config()
                .limit(self.max as u64)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => {
                        TransportError::Frame(FrameError::TooLong { limit: self.max })
                    }
                    e => http_err(e),
                })?;
            Ok(vec![strict(&bytes)?])
        } else {
            Err(TransportError::Http(format!(
                "POST {} answered with content type {ctype:?}, not JSON or an event stream",
                self.url
            )))
        }
    }

    /// Ends the session (`DELETE` with the session id), best effort.
    pub fn close(&mut self) {
        if let Some(s) = self.session_id.take() {
            let mut req = self
                .agent
                .delete(&self.url)
                .header("Mcp-Session-Id", s.as_str());
            for (k, v) in &self.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let _ = req.call();
        }
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, msg: &Value) -> Result<(), TransportError> {
        let got = self.post(msg)?;
        self.queue.extend(got);
        Ok(())
    }
    fn recv(&mut self, _deadline: Instant) -> Result<Option<Message>, TransportError> {
        Ok(self.queue.pop_front())
    }
    fn can_push(&self) -> bool {
        false
    }
    fn set_protocol_version(&mut self, version: &str) {
        HttpTransport::set_protocol_version(self, version);
    }
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        self.close();
    }
}

/// The legacy HTTP+SSE transport (2024-11-05): a GET event stream whose first `endpoint`
/// event names the URL to POST client messages to; every server message arrives on the stream.
pub struct SseTransport {
    agent: ureq::Agent,
    headers: BTreeMap<String, String>,
    endpoint: String,
    rx: Receiver<Result<Message, TransportError>>,
}

impl SseTransport {
    /// Opens the stream and waits (until `deadline`) for the `endpoint` event.
    pub fn connect(
        url: &str,
        headers: &BTreeMap<String, String>,
        deadline: Instant,
        max_message: usize,
    ) -> Result<Self, TransportError> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        let agent = agent(timeout);
        let mut req = agent.get(url).header("Accept", "text/event-stream");
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.call().map_err(http_err)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(TransportError::Http(format!("GET {url} answered {status}")));
        }
        let (ep_tx, ep_rx) = mpsc::channel::<Result<String, TransportError>>();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let body = resp.into_body().into_reader();
            let mut sse = SseReader::new(BufReader::new(body), max_message);
            loop {
                match sse.next_event() {
                    Ok(Some(ev)) if ev.event == "endpoint" => {
                        let _ = ep_tx.send(Ok(ev.data));
                    }
                    Ok(Some(ev)) if ev.event == "message" => {
                        let m = Message::parse(ev.data.as_bytes()).map_err(TransportError::from);
                        let stop = m.is_err();
                        if tx.send(m).is_err() || stop {
                            return;
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                }
            }
        });
        let endpoint = match ep_rx.recv_timeout(timeout) {
            Ok(Ok(ep)) => resolve(url, &ep),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(TransportError::Http(format!(
                    "GET {url}: no `endpoint` event arrived on the stream"
                )));
            }
        };
        Ok(SseTransport {
            agent,
            headers: headers.clone(),
            endpoint,
            rx,
        })
    }
}

/// Resolves the `endpoint` event's URL (absolute, or a path on the stream's origin).
fn resolve(base: &str, ep: &str) -> String {
    if ep.starts_with("http://") || ep.starts_with("https://") {
        return ep.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    let origin = base.get(..origin_end).unwrap_or(base);
    if ep.starts_with('/') {
        format!("{origin}{ep}")
    } else {
        format!("{origin}/{ep}")
    }
}

impl Transport for SseTransport {
    fn send(&mut self, msg: &Value) -> Result<(), TransportError> {
        let body = serde_json::to_vec(msg).map_err(|e| TransportError::Http(e.to_string()))?;
        let mut req = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send(&body[..]).map_err(http_err)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(TransportError::Http(format!(
                "POST {} answered {status}",
                self.endpoint
            )));
        }
        Ok(())
    }
    fn recv(&mut self, deadline: Instant) -> Result<Option<Message>, TransportError> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(wait) {
            Ok(r) => r.map(Some),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Closed { status: None }),
        }
    }
    fn can_push(&self) -> bool {
        true
    }
}

/// UTF-8 and strict JSON (duplicate keys refused), as [`Message::parse`] checks before it
/// classifies.
fn strict(bytes: &[u8]) -> Result<Value, FrameError> {
    std::str::from_utf8(bytes).map_err(|_| FrameError::NotUtf8)?;
    Ok(crate::json::parse_strict(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_reader_joins_data_lines_and_skips_comments() {
        let input =
            b": keep-alive\n\nevent: endpoint\ndata: /messages?s=1\n\ndata: {\"a\":\ndata: 1}\n\n";
        let mut r = SseReader::new(&input[..], 1000);
        assert_eq!(
            r.next_event().unwrap(),
            Some(SseEvent {
                event: "endpoint".into(),
                data: "/messages?s=1".into()
            })
        );
        assert_eq!(
            r.next_event().unwrap(),
            Some(SseEvent {
                event: "message".into(),
                data: "{\"a\":\n1}".into()
            })
        );
        assert_eq!(r.next_event().unwrap(), None);
    }

    #[test]
    fn sse_reader_enforces_the_size_limit_across_data_lines() {
        let input = b"data: 0123456789\ndata: 0123456789\n\n";
        let mut r = SseReader::new(&input[..], 15);
        assert_eq!(
            r.next_event().map_err(|e| e.code()),
            Err("message-too-long")
        );
    }

    #[test]
    fn kept_addresses_are_per_scheme_and_authority() {
        use ureq::unversioned::resolver::Resolver;
        let r = KeptResolver::default();
        let config = ureq::config::Config::default();
        let at = |u: &str| -> Vec<std::net::SocketAddr> {
            let uri: ureq::http::Uri = u.parse().expect("uri");
            r.resolve(&uri, &config, Default::default())
                .expect("resolve")
                .iter()
                .copied()
                .collect()
        };
        let a = at("http://127.0.0.1:4001/mcp");
        assert_eq!(a, vec!["127.0.0.1:4001".parse().expect("addr")]);
        // Another port, another host, another scheme: never the first answer.
        assert_eq!(
            at("http://127.0.0.1:4002/mcp"),
            vec!["127.0.0.1:4002".parse().expect("addr")]
        );
        assert_eq!(
            at("http://127.0.0.2:4001/x"),
            vec!["127.0.0.2:4001".parse().expect("addr")]
        );
        assert_eq!(
            at("https://127.0.0.1/"),
            vec!["127.0.0.1:443".parse().expect("addr")]
        );
        // The same origin again is served from what was kept.
        assert_eq!(at("http://127.0.0.1:4001/other"), a);
        let kept = r.kept.lock().expect("lock");
        assert_eq!(kept.len(), 4, "{:?}", kept.keys().collect::<Vec<_>>());
    }

    #[test]
    fn endpoint_resolution() {
        assert_eq!(
            resolve("http://127.0.0.1:8/sse", "/messages?x=1"),
            "http://127.0.0.1:8/messages?x=1"
        );
        assert_eq!(resolve("http://h/sse", "http://other/m"), "http://other/m");
    }
}
