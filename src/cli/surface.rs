//! `mcpseal surface -- CMD ARGS…`: capture a server's surface and print it with its digests.
//!
//! The JSON form is a document other tools (and `mcpseal fixture-server --surface`) read:
//! `protocolVersion`, `serverInfo`, `instructions`, the four entity arrays as received, and
//! `digests` (surface, instructions, every entity).

use std::time::Duration;

use serde_json::{Value, json};

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::mcp::{self, CaptureOptions, LaunchSpec};
use crate::surface::{EntityKind, Surface};

/// How to reach the server and how to capture: shared by surface, pin, scan.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Give up on a server that has not answered within this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// Client capabilities to declare (comma-separated: roots, sampling, elicitation).
    /// Servers may announce different tools for different capabilities; pin with the set
    /// your host declares.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub capabilities: Vec<String>,
    /// After a server announces a change (`list_changed`): how long, in milliseconds, it must
    /// stay quiet before everything is listed again (docs/capture.md). A server that announces
    /// nothing is not waited for.
    #[arg(long, default_value_t = 10, value_name = "MS")]
    pub settle: u64,
    /// Offer the 2026-07-28 protocol first (`server/discover`), falling back to `initialize`
    /// for servers that do not speak it.
    #[arg(long)]
    pub discover: bool,
    /// A remote server's Streamable HTTP endpoint, instead of a command.
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    pub url: Option<String>,
    /// With --url: speak the legacy HTTP+SSE transport (2024-11-05) instead.
    #[arg(long, requires = "url")]
    pub sse: bool,
    /// With --url: an HTTP header to send, `Name: value` (repeatable). Only the name is ever
    /// pinned or printed.
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "url")]
    pub headers: Vec<String>,
    /// The server command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

impl ServerArgs {
    pub(crate) fn options(&self) -> Result<CaptureOptions, CliError> {
        let capabilities = mcp::capture::capabilities_for(&self.capabilities)
            .map_err(|e| CliError::error("bad-capabilities", e))?;
        Ok(CaptureOptions {
            timeout: Duration::from_secs(self.timeout.max(1)),
            settle: Duration::from_millis(self.settle),
            capabilities,
            discover: self.discover,
            ..CaptureOptions::default()
        })
    }

    pub(crate) fn spec(&self) -> Result<LaunchSpec, CliError> {
        if let Some(url) = &self.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(CliError::error(
                    "bad-url",
                    format!("{url:?}: --url takes an http:// or https:// URL"),
                ));
            }
            let mut headers = std::collections::BTreeMap::new();
            for h in &self.headers {
                let (k, v) = h.split_once(':').ok_or_else(|| {
                    CliError::error(
                        "bad-header",
                        "--header takes `Name: value` (the value is not shown here)",
                    )
                })?;
                headers.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            return Ok(if self.sse {
                LaunchSpec::Sse {
                    url: url.clone(),
                    headers,
                }
            } else {
                LaunchSpec::Http {
                    url: url.clone(),
                    headers,
                }
            });
        }
        let (command, args) = self.command.split_first().ok_or_else(|| {
            CliError::error(
                "no-server",
                "name the server to start after `--`, or give --url URL",
            )
            .help("mcpseal surface -- npx -y @modelcontextprotocol/server-everything@2026.8.31")
        })?;
        Ok(LaunchSpec::Stdio {
            command: command.clone(),
            args: args.to_vec(),
            env: Default::default(),
            cwd: None,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
}

pub(crate) fn capture_error(e: mcp::CaptureError) -> CliError {
    CliError::error(e.code(), e.to_string())
        .help("check the command starts the server by hand; raise --timeout for slow starts")
}

/// The surface as a JSON document (see module docs).
pub(crate) fn surface_document(s: &Surface) -> Result<Value, CliError> {
    let d = s
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    let mut doc = json!({
        "protocolVersion": s.protocol_version,
        "serverInfo": s.server_info,
        "instructions": s.instructions,
        "digests": d,
    });
    for kind in EntityKind::ALL {
        let items: Vec<Value> = s
            .entities
            .get(&kind)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        doc[kind.as_str()] = Value::Array(items);
    }
    Ok(doc)
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let spec = args.server.spec()?;
    let opts = args.server.options()?;
    let cap = mcp::capture(&spec, &opts).map_err(capture_error)?;
    let s = &cap.surface;
    if g.json {
        emit_json(&surface_document(s)?);
        return Ok(Exit::Ok);
    }
    let d = s
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    let name = s
        .server_info
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    let version = s
        .server_info
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("");
    emit(&format!(
        "server {name} {version} (protocol {})",
        s.protocol_version
    ));
    if let Some(i) = d.instructions {
        emit(&format!("instructions {i}"));
    }
    for (kind, items) in &d.entities {
        for (key, digest) in items {
            emit(&format!("{:<18} {digest} {key}", kind.noun()));
        }
    }
    emit(&format!("surface {} ({} entities)", d.surface, s.len()));
    Ok(Exit::Ok)
}
