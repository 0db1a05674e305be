//! Newline-delimited JSON-RPC 2.0 framing (the MCP stdio transport) with a per-message size
//! limit, strict parsing, and message classification.
//!
//! A line longer than the limit is an error, never a partial read: after [`FrameError::TooLong`]
//! the stream is out of step and the caller must end the session (fail closed). Batches (JSON
//! arrays) are refused: no current MCP version sends them, and a checker that looked at only
//! the first element would be blind to the rest.

use std::io::{self, BufRead, Write};

use serde_json::Value;

use crate::json::{self, JsonError};

/// Default largest message: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("a message exceeds the {limit}-byte limit")]
    TooLong { limit: usize },
    #[error("a message is not valid UTF-8")]
    NotUtf8,
    #[error("a message is not valid JSON: {0}")]
    Json(#[from] JsonError),
    #[error("not a JSON-RPC 2.0 message: {0}")]
    NotJsonRpc(&'static str),
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

impl FrameError {
    /// Stable kebab-case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::TooLong { .. } => "message-too-long",
            FrameError::NotUtf8 => "message-not-utf8",
            FrameError::Json(e) => e.code(),
            FrameError::NotJsonRpc(_) => "message-not-jsonrpc",
            FrameError::Io(_) => "io-error",
        }
    }
}

/// Reads newline-terminated lines of at most `max` bytes, skipping blank lines (or keeping
/// them, for Server-Sent Events, where a blank line ends an event).
pub struct LineReader<R> {
    inner: R,
    max: usize,
    keep_blank: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            max,
            keep_blank: false,
        }
    }

    /// A reader that returns blank lines as empty lines instead of skipping them.
    pub fn keeping_blank_lines(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            max,
            keep_blank: true,
        }
    }

    /// The maximum line length.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The next non-blank line without its `\n` (or `\r\n`); `None` at end of stream.
    /// A final line without a newline is returned as a line.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        loop {
            let mut line = Vec::new();
            let mut saw_newline = false;
            loop {
                let avail = match self.inner.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                };
                if avail.is_empty() {
                    break;
                }
                let (take, done) = match avail.iter().position(|&b| b == b'\n') {
                    Some(i) => (i, true),
                    None => (avail.len(), false),
                };
                if line.len() + take > self.max {
                    return Err(FrameError::TooLong { limit: self.max });
                }
                line.extend_from_slice(&avail[..take]);
                self.inner.consume(if done { take + 1 } else { take });
                if done {
                    saw_newline = true;
                    break;
                }
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                if !saw_newline {
                    return Ok(None);
                }
                if self.keep_blank {
                    return Ok(Some(Vec::new()));
                }
                continue; // blank line between messages
            }
            return Ok(Some(line));
        }
    }
}

/// What a JSON-RPC message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Has `method` and a non-null `id`.
    Request,
    /// Has `method`, no `id`.
    Notification,
    /// Has `id` and exactly one of `result` / `error`.
    Response,
}

/// A strictly parsed, classified JSON-RPC 2.0 message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub kind: Kind,
    /// The whole message object.
    pub value: Value,
}

impl Message {
    /// Parses one line: UTF-8, strict JSON (no duplicate keys), a JSON-RPC 2.0 object.
    pub fn parse(line: &[u8]) -> Result<Message, FrameError> {
        std::str::from_utf8(line).map_err(|_| FrameError::NotUtf8)?;
        Self::from_value(json::parse_strict(line)?)
    }

    /// Classifies an already parsed value.
    pub fn from_value(value: Value) -> Result<Message, FrameError> {
        let o = match &value {
            Value::Object(o) => o,
            Value::Array(_) => return Err(FrameError::NotJsonRpc("batches are not accepted")),
            _ => return Err(FrameError::NotJsonRpc("not an object")),
        };
        if o.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(FrameError::NotJsonRpc("`jsonrpc` is not \"2.0\""));
        }
        let id_ok = |id: &Value| id.is_string() || id.is_i64() || id.is_u64();
        let kind = match (o.get("method"), o.get("id")) {
            (Some(Value::String(_)), None) => Kind::Notification,
            (Some(Value::String(_)), Some(id)) if id_ok(id) => Kind::Request,
            (Some(Value::String(_)), Some(_)) => {
                return Err(FrameError::NotJsonRpc(
                    "request id is not a string or integer",
                ));
            }
            (Some(_), _) => return Err(FrameError::NotJsonRpc("`method` is not a string")),
            (None, Some(id)) => {
                match (o.contains_key("result"), o.contains_key("error")) {
                    (true, false) | (false, true) => {}
                    _ => {
                        return Err(FrameError::NotJsonRpc(
                            "a response needs exactly one of `result` and `error`",
                        ));
                    }
                }
                // An error response to an unparseable request may carry `id: null`.
                if !(id_ok(id) || (id.is_null() && o.contains_key("error"))) {
                    return Err(FrameError::NotJsonRpc(
                        "response id is not a string or integer",
                    ));
                }
                Kind::Response
            }
            (None, None) => return Err(FrameError::NotJsonRpc("neither `method` nor `id`")),
        };
        Ok(Message { kind, value })
    }

    pub fn method(&self) -> Option<&str> {
        self.value.get("method").and_then(Value::as_str)
    }
    pub fn id(&self) -> Option<&Value> {
        self.value.get("id")
    }
    pub fn params(&self) -> Option<&Value> {
        self.value.get("params")
    }
    pub fn result(&self) -> Option<&Value> {
        self.value.get("result")
    }
    pub fn error(&self) -> Option<&Value> {
        self.value.get("error")
    }
}

/// Writes one message as a single line and flushes.
pub fn write_message(w: &mut impl Write, v: &Value) -> io::Result<()> {
    let mut buf = serde_json::to_vec(v).map_err(io::Error::other)?;
    buf.push(b'\n');
    w.write_all(&buf)?;
    w.flush()
}

/// A JSON-RPC request object.
pub fn request(id: impl Into<Value>, method: &str, params: Value) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": id.into(), "method": method, "params": params})
}

/// A JSON-RPC notification object.
pub fn notification(method: &str, params: Option<Value>) -> Value {
    let mut v = serde_json::json!({"jsonrpc": "2.0", "method": method});
    if let Some(p) = params {
        v["params"] = p;
    }
    v
}

/// A JSON-RPC error response.
pub fn error_response(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut err = serde_json::json!({"code": code, "message": message});
    if let Some(d) = data {
        err["data"] = d;
    }
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": err})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<Option<Vec<u8>>, String>> {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        loop {
            match r.next_line() {
                Ok(Some(l)) => out.push(Ok(Some(l))),
                Ok(None) => {
                    out.push(Ok(None));
                    return out;
                }
                Err(e) => {
                    out.push(Err(e.code().to_owned()));
                    return out;
                }
            }
        }
    }

    #[test]
    fn reader_splits_skips_blanks_and_keeps_a_final_unterminated_line() {
        let got = lines(b"{\"a\":1}\r\n\n  \n{\"b\":2}", 100);
        assert_eq!(
            got,
            vec![
                Ok(Some(b"{\"a\":1}".to_vec())),
                Ok(Some(b"{\"b\":2}".to_vec())),
                Ok(None)
            ]
        );
    }

    #[test]
    fn reader_refuses_an_oversized_line() {
        let got = lines(b"0123456789\n", 5);
        assert_eq!(got, vec![Err("message-too-long".to_owned())]);
        // Exactly at the limit is fine.
        assert_eq!(lines(b"01234\n", 5)[0], Ok(Some(b"01234".to_vec())));
    }

    #[test]
    fn classification_and_refusals() {
        let k = |s: &str| {
            Message::parse(s.as_bytes())
                .map(|m| m.kind)
                .map_err(|e| e.code())
        };
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Ok(Kind::Request)
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Kind::Notification)
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":"x","result":{}}"#),
            Ok(Kind::Response)
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#),
            Ok(Kind::Response)
        );
        assert_eq!(
            k(r#"[{"jsonrpc":"2.0","id":1,"method":"a"}]"#),
            Err("message-not-jsonrpc")
        );
        assert_eq!(
            k(r#"{"jsonrpc":"1.0","id":1,"method":"a"}"#),
            Err("message-not-jsonrpc")
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#),
            Err("message-not-jsonrpc")
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":{},"method":"a"}"#),
            Err("message-not-jsonrpc")
        );
        assert_eq!(
            k(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"a"}"#),
            Err("json-duplicate-key")
        );
        assert_eq!(
            Message::parse(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}").map_err(|e| e.code()),
            Err("message-not-utf8")
        );
    }
}
