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

impl LaunchSpec {
    /// The same stdio launch running `command ARGS` instead: its environment and working
    /// folder are kept (they are where and with what the server runs, not what runs). `None`
    /// for an HTTP or SSE endpoint, which has no command line.
    pub fn with_command_line(&self, command: &str, args: Vec<String>) -> Option<LaunchSpec> {
        match self {
            LaunchSpec::Stdio { env, cwd, .. } => Some(LaunchSpec::Stdio {
                command: command.to_owned(),
                args,
                env: env.clone(),
                cwd: cwd.clone(),
            }),
            LaunchSpec::Http { .. } | LaunchSpec::Sse { .. } => None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_command_line_keeps_env_and_cwd_and_refuses_endpoints() {
        let spec = LaunchSpec::Stdio {
            command: "docker".into(),
            args: vec!["run".into(), "img:1".into()],
            env: BTreeMap::from([("TOKEN".into(), "secret".into())]),
            cwd: Some(PathBuf::from("/srv")),
        };
        let moved = spec
            .with_command_line("node", vec!["server.js".into()])
            .expect("a stdio launch has a command line");
        assert_eq!(
            moved,
            LaunchSpec::Stdio {
                command: "node".into(),
                args: vec!["server.js".into()],
                env: BTreeMap::from([("TOKEN".into(), "secret".into())]),
                cwd: Some(PathBuf::from("/srv")),
            }
        );
        for endpoint in [
            LaunchSpec::Http {
                url: "https://example.com/mcp".into(),
                headers: BTreeMap::new(),
            },
            LaunchSpec::Sse {
                url: "https://example.com/sse".into(),
                headers: BTreeMap::new(),
            },
        ] {
            assert_eq!(endpoint.with_command_line("node", vec![]), None);
        }
    }
}
