//! MCP client configs: the clients mcpseal knows ([`Client`]), the model of one server entry
//! as written ([`Server`], [`Transport`], [`WrapState`]) and the errors reading one.
//!
//! - [`discovery`]: where each client keeps its configs ([`discover`], [`select`]).
//! - [`parse`](mod@parse): reading each client's format into servers ([`load`], [`parse()`]).
//! - [`expand`]: how each client expands variables.
//! - [`edit`]: wrap / unwrap; [`jsonc`]: the span-keeping JSONC parser.
//!
//! Paths are never taken from the real environment here: the caller passes the home folder,
//! the project folder, `%APPDATA%` and the OS as [`Roots`], so tests run against a fake home.
//! Env and header *values* are kept in memory only ([`Server`] has a `Debug` that prints names).
//! A file that exists but cannot be parsed is an error naming the file, line and column.
//!
//! docs/clients.md documents every client, path, key and expansion rule.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::mcp::LaunchSpec;

pub mod discovery;
pub mod edit;
pub mod expand;
mod goose;
pub mod jsonc;
pub mod parse;

pub use discovery::{ConfigFile, Os, Roots, Scope, Selection, candidates, discover, select};
pub use parse::{Format, load, parse};
pub(crate) use parse::{json_server_maps, parse_toml, provided_by_client};

/// The marker key (JSON) / comment (TOML) under which `wrap` keeps the original entry.
pub const MARKER: &str = "x-mcpseal-original";

/// A supported MCP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    VsCode,
    Windsurf,
    Gemini,
    Codex,
    Kiro,
    Cline,
    RooCode,
    Zed,
    Continue,
    Goose,
}

impl Client {
    pub const ALL: [Client; 13] = [
        Client::ClaudeDesktop,
        Client::ClaudeCode,
        Client::Cursor,
        Client::VsCode,
        Client::Windsurf,
        Client::Gemini,
        Client::Codex,
        Client::Kiro,
        Client::Cline,
        Client::RooCode,
        Client::Zed,
        Client::Continue,
        Client::Goose,
    ];
    /// Stable id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Gemini => "gemini",
            Client::Codex => "codex",
            Client::Kiro => "kiro",
            Client::Cline => "cline",
            Client::RooCode => "roo-code",
            Client::Zed => "zed",
            Client::Continue => "continue",
            Client::Goose => "goose",
        }
    }
    /// The client capabilities this client's own documentation says it declares
    /// (`docs/clients.md` has the table and its sources). Bulk `pin` captures each server with
    /// its client's set, so a server that announces tools only to clients with roots, sampling
    /// or elicitation is pinned with the tools that client really sees. A client whose docs do
    /// not say is captured with none (`--capabilities` overrides for every server).
    pub fn capabilities(self) -> &'static [&'static str] {
        match self {
            Client::ClaudeCode | Client::Cursor => &["roots", "elicitation"],
            Client::VsCode => &["roots", "sampling", "elicitation"],
            _ => &[],
        }
    }
    pub fn from_id(s: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.id() == s)
    }
    /// [`Client::capabilities`] as the object a capture declares in `initialize`.
    pub fn capture_capabilities(self) -> serde_json::Value {
        let names: Vec<String> = self
            .capabilities()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        crate::mcp::capture::capabilities_for(&names).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// Failure reading a client config. Messages name the file and server, never an env value.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: server {server:?}: {message}")]
    Entry {
        path: PathBuf,
        server: String,
        message: String,
    },
    #[error("{path}: server {server:?}: variable {var} is not set (in {field})")]
    UnsetVar {
        path: PathBuf,
        server: String,
        var: String,
        field: String,
    },
    #[error(
        "{path}: server {server:?}: {var} in {field} is resolved by the client at launch and cannot be resolved here"
    )]
    Unresolvable {
        path: PathBuf,
        server: String,
        var: String,
        field: String,
    },
    #[error("{path}: {message}")]
    Edit { path: PathBuf, message: String },
    #[error("unknown client {0:?} (known: {ids})", ids = Client::ALL.map(Client::id).join(", "))]
    UnknownClient(String),
}

impl ClientsError {
    pub fn code(&self) -> &'static str {
        match self {
            ClientsError::Io { .. } => "config-io",
            ClientsError::Parse { .. } => "config-parse",
            ClientsError::Entry { .. } => "config-entry",
            ClientsError::UnsetVar { .. } => "config-unset-var",
            ClientsError::Unresolvable { .. } => "config-unresolvable-var",
            ClientsError::Edit { .. } => "config-edit",
            ClientsError::UnknownClient(_) => "unknown-client",
        }
    }
}

/// How a server entry is reached, as written (variables not yet expanded).
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        cwd: Option<String>,
    },
    Http {
        url: String,
    },
    Sse {
        url: String,
    },
}

/// Whether an entry already launches through `mcpseal run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapState {
    No,
    /// Wrapped by `mcpseal wrap`: the original is kept and `unwrap` restores it.
    Wrapped,
    /// Launches `mcpseal run` but carries no original (wrapped by hand).
    ByHand,
    /// Carries an original stored by `mcpseal wrap` but does not launch `mcpseal run` (edited
    /// after wrap, or a planted marker): **not** gated, whatever the marker says. `wrap` leaves
    /// it with a note to remove the marker; `unwrap` restores the stored original.
    Stale,
}

/// The wrap state of an entry from whether it carries a stored original and what it launches.
/// A marker alone never makes an entry count as wrapped: only an entry that launches
/// `mcpseal run` is gated.
pub(crate) fn wrap_state(has_marker: bool, transport: &Transport) -> WrapState {
    let runs_gate = transport_is_mcpseal(transport)
        && matches!(transport, Transport::Stdio { args, .. } if args.first().map(String::as_str) == Some("run"));
    match (has_marker, runs_gate) {
        (true, true) => WrapState::Wrapped,
        (true, false) => WrapState::Stale,
        (false, true) => WrapState::ByHand,
        (false, false) => WrapState::No,
    }
}

/// One server entry of one config file, as written.
#[derive(Clone)]
pub struct Server {
    pub name: String,
    pub client: Client,
    pub file: PathBuf,
    /// For `~/.claude.json` `projects.<path>.mcpServers`: that project path.
    pub project: Option<String>,
    pub transport: Transport,
    /// Env as written (values may hold secrets: memory only).
    pub env: BTreeMap<String, String>,
    /// Names of variables the client forwards from its own environment (Codex `env_vars`).
    pub env_passthrough: Vec<String>,
    /// HTTP headers as written (values may hold secrets: memory only).
    pub headers: BTreeMap<String, String>,
    /// Headers the client fills from its environment at launch: header -> (prefix, var name)
    /// (Codex `env_http_headers`, `bearer_token_env_var`).
    pub header_vars: BTreeMap<String, (String, String)>,
    pub wrapped: WrapState,
    /// `disabled: true` (or Codex `enabled = false`).
    pub disabled: bool,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("client", &self.client)
            .field("file", &self.file)
            .field("transport", &self.transport_label())
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("wrapped", &self.wrapped)
            .finish()
    }
}

impl Server {
    pub fn transport_label(&self) -> &'static str {
        match self.transport {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "http",
            Transport::Sse { .. } => "sse",
        }
    }

    /// The launch spec with variables expanded the way this server's client does
    /// ([`expand`]). `env` looks a variable up in the environment the client would see.
    pub fn launch_spec(
        &self,
        ctx: &expand::Context,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<LaunchSpec, ClientsError> {
        self.spec(Some((ctx, env)))
    }

    /// The launch spec exactly as written: no variable is expanded, so `${VAR}`,
    /// `${env:VAR}` and `${input:…}` stay references (what `scan` judges, with no value
    /// needed), and a variable the client passes through appears as `${VAR}`.
    pub fn launch_spec_as_written(&self) -> LaunchSpec {
        // Without expansion nothing can fail.
        self.spec(None).unwrap_or_else(|_| LaunchSpec::Stdio {
            command: String::new(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
        })
    }

    #[allow(clippy::type_complexity)]
    fn spec(
        &self,
        expanding: Option<(&expand::Context, &dyn Fn(&str) -> Option<String>)>,
    ) -> Result<LaunchSpec, ClientsError> {
        let x = |field: &str, s: &str| match expanding {
            Some((ctx, env)) => {
                expand::expand(self.client, s, ctx, env).map_err(|e| self.var_error(field, e))
            }
            None => Ok(s.to_owned()),
        };
        let env = |k: &str| match expanding {
            Some((_, env)) => env(k),
            None => Some(format!("${{{k}}}")),
        };
        let mut envs = BTreeMap::new();
        for (k, v) in &self.env {
            envs.insert(k.clone(), x(&format!("env.{k}"), v)?);
        }
        for k in &self.env_passthrough {
            if let Some(v) = env(k) {
                envs.insert(k.clone(), v);
            }
        }
        let mut headers = BTreeMap::new();
        for (k, v) in &self.headers {
            headers.insert(k.clone(), x(&format!("headers.{k}"), v)?);
        }
        for (k, (prefix, var)) in &self.header_vars {
            let v = env(var).ok_or_else(|| {
                self.var_error(
                    &format!("headers.{k}"),
                    expand::VarError::Unset(var.clone()),
                )
            })?;
            headers.insert(k.clone(), format!("{prefix}{v}"));
        }
        Ok(match &self.transport {
            Transport::Stdio { command, args, cwd } => LaunchSpec::Stdio {
                command: x("command", command)?,
                args: args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| x(&format!("args[{i}]"), a))
                    .collect::<Result<_, _>>()?,
                env: envs,
                cwd: cwd
                    .as_deref()
                    .map(|c| x("cwd", c))
                    .transpose()?
                    .map(PathBuf::from),
            },
            Transport::Http { url } => LaunchSpec::Http {
                url: x("url", url)?,
                headers,
            },
            Transport::Sse { url } => LaunchSpec::Sse {
                url: x("url", url)?,
                headers,
            },
        })
    }

    fn var_error(&self, field: &str, e: expand::VarError) -> ClientsError {
        let (path, server, field) = (self.file.clone(), self.name.clone(), field.to_owned());
        match e {
            expand::VarError::Unset(var) => ClientsError::UnsetVar {
                path,
                server,
                var,
                field,
            },
            expand::VarError::Unresolvable(var) => ClientsError::Unresolvable {
                path,
                server,
                var,
                field,
            },
        }
    }
}

/// `mcpseal run … -- CMD ARGS` or `mcpseal run … --url URL` (as `wrap` writes them) → the
/// server they gate: pin and scan capture the server, never the gate itself; any other spec
/// is returned as it is.
pub fn gated_server(spec: LaunchSpec) -> LaunchSpec {
    if let LaunchSpec::Stdio { command, args, .. } = &spec {
        let is_mcpseal = std::path::Path::new(command)
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("mcpseal"));
        if !is_mcpseal || args.first().map(String::as_str) != Some("run") {
            return spec;
        }
        if let Some(i) = args.iter().position(|a| a == "--")
            && let Some((c, rest)) = args[i + 1..].split_first()
        {
            return spec.with_command_line(c, rest.to_vec()).unwrap_or(spec);
        }
        if let Some(i) = args.iter().position(|a| a == "--url")
            && let Some(url) = args.get(i + 1)
        {
            return LaunchSpec::Http {
                url: url.clone(),
                headers: Default::default(),
            };
        }
    }
    spec
}

/// Whether an entry launches mcpseal: the command's file name is `mcpseal` (or `mcpseal.exe`),
/// whichever separator the path uses (a Windows client's config read on Linux, say).
fn transport_is_mcpseal(t: &Transport) -> bool {
    match t {
        Transport::Stdio { command, .. } => {
            let name = command.rsplit(['/', '\\']).next().unwrap_or(command);
            name == "mcpseal" || name.eq_ignore_ascii_case("mcpseal.exe")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Found by the fuzz smoke: a wrapped entry whose mcpseal path is a Windows path (a
    /// Windows client's config read on Linux) was not recognised as launching the gate, so
    /// the marker made it `stale`. The file name is read with either separator.
    #[test]
    fn mcpseal_is_recognised_by_file_name_with_either_separator() {
        let t = |c: &str| Transport::Stdio {
            command: c.into(),
            args: vec!["run".into()],
            cwd: None,
        };
        for yes in [
            "mcpseal",
            "/opt/bin/mcpseal",
            "C:\\Program Files\\mcpseal\\mcpseal.exe",
            "C:\\x\\MCPSEAL.EXE",
        ] {
            assert!(transport_is_mcpseal(&t(yes)), "{yes}");
            assert_eq!(wrap_state(true, &t(yes)), WrapState::Wrapped, "{yes}");
        }
        for no in [
            "/opt/bin/mcpseal-evil",
            "/mcpseal/npx",
            "C:\\mcpseal\\node.exe",
            "",
        ] {
            assert!(!transport_is_mcpseal(&t(no)), "{no}");
            assert_eq!(wrap_state(true, &t(no)), WrapState::Stale, "{no}");
        }
    }

    #[test]
    fn every_client_has_an_id_a_capability_set_captures_accept_and_a_guess() {
        for c in Client::ALL {
            assert_eq!(Client::from_id(c.id()), Some(c));
            let names: Vec<String> = c.capabilities().iter().map(|s| (*s).to_owned()).collect();
            let v = crate::mcp::capture::capabilities_for(&names).expect("a known capability");
            assert_eq!(v.as_object().map(|o| o.len()), Some(names.len()), "{c:?}");
        }
        assert_eq!(
            Client::VsCode.capture_capabilities(),
            serde_json::json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}})
        );
        // Extension settings live under an editor's folder: the extension, not the editor.
        let g = |p: &str| Client::guess(Path::new(p));
        assert_eq!(
            g(
                "/h/.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"
            ),
            Client::Cline
        );
        assert_eq!(
            g(
                "/h/.config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"
            ),
            Client::RooCode
        );
        assert_eq!(g("/p/.roo/mcp.json"), Client::RooCode);
        assert_eq!(g("/h/.config/zed/settings.json"), Client::Zed);
        assert_eq!(g("/p/.zed/settings.json"), Client::Zed);
        assert_eq!(g("/h/.continue/mcpServers/a.json"), Client::Continue);
        assert_eq!(g("/h/.config/Code/User/mcp.json"), Client::VsCode);
    }
}
