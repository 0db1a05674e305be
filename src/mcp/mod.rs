//! MCP client side: JSON-RPC framing and sessions over stdio, Streamable HTTP and legacy SSE,
//! and the capture of a server's surface ([`capture`]; many at once, [`capture_many`]).
//!
//! Works on raw `serde_json::Value` messages (strictly parsed, see [`crate::json`]): the typed
//! models of SDK clients drop fields, and what we hash or forward must be what was sent.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// How to reach a server. Runtime form: env values and header values live here in memory
/// only; the lockfile stores names, never values.
#[derive(Clone, PartialEq, Eq)]
pub enum LaunchSpec {
    /// Spawned directly (never through a shell), speaking newline-delimited JSON-RPC on stdio.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP endpoint.
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// Legacy HTTP+SSE transport (2024-11-05).
    Sse {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for LaunchSpec {
    /// Names only: env and header values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchSpec::Stdio {
                command,
                args,
                env,
                cwd,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .field("cwd", cwd)
                .finish(),
            LaunchSpec::Http { url, headers } | LaunchSpec::Sse { url, headers } => f
                .debug_struct(if matches!(self, LaunchSpec::Http { .. }) {
                    "Http"
                } else {
                    "Sse"
                })
                .field("url", url)
                .field("headers", &headers.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

pub mod capture;
pub mod framing;
mod pool;
pub mod stdio;
pub mod transport;

pub use capture::{Capture, CaptureError, CaptureOptions, capture};
pub use pool::capture_many;
