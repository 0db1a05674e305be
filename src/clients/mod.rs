//! MCP client configs: where each client keeps them ([`discover`]), what their server entries
//! say ([`load`]), and how each client expands variables ([`expand`]). Editing (wrap / unwrap)
//! lives in [`edit`]; the span-keeping JSONC parser in [`jsonc`].
//!
//! Paths are never taken from the real environment here: the caller passes the home folder,
//! the project folder, `%APPDATA%` and the OS as [`Roots`], so tests run against a fake home.
//! Env and header *values* are kept in memory only ([`Server`] has a `Debug` that prints names).
//! A file that exists but cannot be parsed is an error naming the file, line and column.
//!
//! docs/clients.md documents every client, path, key and expansion rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::mcp::LaunchSpec;

pub mod edit;
pub mod expand;
mod goose;
pub mod jsonc;

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
    /// The key holding the server map (JSON clients).
    fn servers_key(self) -> &'static str {
        match self {
            Client::VsCode => "servers",
            Client::Codex => "mcp_servers",
            Client::Zed => "context_servers",
            _ => "mcpServers",
        }
    }
    /// The client a config file belongs to, guessed from its path (for `--config FILE`).
    pub fn guess(path: &Path) -> Client {
        let s = path.to_string_lossy().replace('\\', "/");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".toml") {
            Client::Codex
        } else if s.contains("/goose/") && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            Client::Goose
        } else if name == "cline_mcp_settings.json" {
            Client::Cline
        } else if s.contains("rooveterinaryinc.roo-cline/") || s.contains(".roo/") {
            Client::RooCode
        } else if s.contains(".continue/") {
            Client::Continue
        } else if s.contains(".zed/") || s.contains("/zed/settings.json") || s.contains("/Zed/") {
            Client::Zed
        } else if s.contains(".vscode/")
            || s.contains("/Code/User/")
            || s.contains("Code - Insiders/User/")
        {
            Client::VsCode
        } else if s.contains(".gemini/") {
            Client::Gemini
        } else if s.contains(".codeium/windsurf/") {
            Client::Windsurf
        } else if s.contains(".cursor/") {
            Client::Cursor
        } else if s.contains(".kiro/") {
            Client::Kiro
        } else if name == "claude_desktop_config.json" {
            Client::ClaudeDesktop
        } else {
            Client::ClaudeCode
        }
    }
}

/// The operating system whose paths to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "macos") {
            Os::MacOs
        } else if cfg!(windows) {
            Os::Windows
        } else {
            Os::Linux
        }
    }
}

/// Where to look. Built by the CLI from `--home` / `--project` or the environment.
#[derive(Debug, Clone)]
pub struct Roots {
    pub home: PathBuf,
    /// The project (workspace) folder: project-scoped configs and `${workspaceFolder}`.
    pub project: Option<PathBuf>,
    /// `%APPDATA%` on Windows; defaults to `<home>/AppData/Roaming`.
    pub appdata: Option<PathBuf>,
    pub os: Os,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Project,
}

/// One config file of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub client: Client,
    pub scope: Scope,
    pub path: PathBuf,
}

/// Every place each client keeps MCP servers, whether or not the file exists (for Continue,
/// which reads a folder, the JSON files that folder holds now).
pub fn candidates(r: &Roots) -> Vec<ConfigFile> {
    let h = &r.home;
    let appdata = r
        .appdata
        .clone()
        .unwrap_or_else(|| h.join("AppData").join("Roaming"));
    let user_cfg = match r.os {
        Os::Linux => h.join(".config"),
        Os::MacOs => h.join("Library").join("Application Support"),
        Os::Windows => appdata,
    };
    let mut v = Vec::new();
    let mut u = |client, path: PathBuf| {
        v.push(ConfigFile {
            client,
            scope: Scope::User,
            path,
        })
    };
    u(
        Client::ClaudeDesktop,
        user_cfg.join("Claude").join("claude_desktop_config.json"),
    );
    u(Client::ClaudeCode, h.join(".claude.json"));
    u(Client::Cursor, h.join(".cursor").join("mcp.json"));
    u(
        Client::VsCode,
        user_cfg.join("Code").join("User").join("mcp.json"),
    );
    u(
        Client::VsCode,
        user_cfg
            .join("Code - Insiders")
            .join("User")
            .join("mcp.json"),
    );
    u(
        Client::Windsurf,
        h.join(".codeium").join("windsurf").join("mcp_config.json"),
    );
    u(Client::Gemini, h.join(".gemini").join("settings.json"));
    u(Client::Codex, h.join(".codex").join("config.toml"));
    u(
        Client::Kiro,
        h.join(".kiro").join("settings").join("mcp.json"),
    );
    // Cline and Roo Code are VS Code extensions: their settings live in the editor's
    // globalStorage (VS Code's, and Cursor's when installed there); the Cline CLI has its own.
    for editor in ["Code", "Cursor"] {
        let storage = user_cfg.join(editor).join("User").join("globalStorage");
        u(
            Client::Cline,
            storage
                .join("saoudrizwan.claude-dev")
                .join("settings")
                .join("cline_mcp_settings.json"),
        );
        u(
            Client::RooCode,
            storage
                .join("rooveterinaryinc.roo-cline")
                .join("settings")
                .join("mcp_settings.json"),
        );
    }
    u(
        Client::Cline,
        h.join(".cline")
            .join("data")
            .join("settings")
            .join("cline_mcp_settings.json"),
    );
    // Zed keeps its settings in ~/.config/zed on Linux and macOS alike.
    u(
        Client::Zed,
        match r.os {
            Os::Windows => user_cfg.join("Zed").join("settings.json"),
            _ => h.join(".config").join("zed").join("settings.json"),
        },
    );
    u(
        Client::Goose,
        match r.os {
            Os::Windows => user_cfg
                .join("Block")
                .join("goose")
                .join("config")
                .join("config.yaml"),
            _ => h.join(".config").join("goose").join("config.yaml"),
        },
    );
    // Continue reads every JSON file of a folder (the Claude / Cursor `mcpServers` format).
    for file in json_files(&h.join(".continue").join("mcpServers")) {
        u(Client::Continue, file);
    }
    if let Some(p) = &r.project {
        let mut pr = |client, path: PathBuf| {
            v.push(ConfigFile {
                client,
                scope: Scope::Project,
                path,
            })
        };
        pr(Client::ClaudeCode, p.join(".mcp.json"));
        pr(Client::Cursor, p.join(".cursor").join("mcp.json"));
        pr(Client::VsCode, p.join(".vscode").join("mcp.json"));
        pr(Client::Gemini, p.join(".gemini").join("settings.json"));
        pr(Client::Codex, p.join(".codex").join("config.toml"));
        pr(
            Client::Kiro,
            p.join(".kiro").join("settings").join("mcp.json"),
        );
        pr(Client::RooCode, p.join(".roo").join("mcp.json"));
        pr(Client::Zed, p.join(".zed").join("settings.json"));
        for file in json_files(&p.join(".continue").join("mcpServers")) {
            pr(Client::Continue, file);
        }
    }
    v
}

/// The `*.json` files of a folder, sorted (none when it does not exist).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// The candidate files that exist (regular files or symlinks to them).
pub fn discover(r: &Roots) -> Vec<ConfigFile> {
    candidates(r)
        .into_iter()
        .filter(|c| c.path.is_file())
        .collect()
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
    if let LaunchSpec::Stdio {
        command,
        args,
        env,
        cwd,
    } = &spec
    {
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
            return LaunchSpec::Stdio {
                command: c.clone(),
                args: rest.to_vec(),
                env: env.clone(),
                cwd: cwd.clone(),
            };
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

/// Reads and parses one config file into its servers, in file order.
pub fn load(cf: &ConfigFile) -> Result<Vec<Server>, ClientsError> {
    let bytes = std::fs::read(&cf.path).map_err(|source| ClientsError::Io {
        path: cf.path.clone(),
        source,
    })?;
    parse(cf.client, &cf.path, &bytes)
}

/// Parses config text of `client` (the path is for messages and `Server::file`).
pub fn parse(client: Client, path: &Path, bytes: &[u8]) -> Result<Vec<Server>, ClientsError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = jsonc::line_col(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        );
        ClientsError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: "not valid UTF-8".into(),
        }
    })?;
    if client == Client::Codex {
        return parse_codex(path, text);
    }
    if client == Client::Goose {
        return goose::parse(path, text);
    }
    if path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"))
    {
        return Err(ClientsError::Parse {
            path: path.to_owned(),
            line: 1,
            column: 1,
            message: "YAML configs are read for Goose only (--as goose); Continue's config.yaml is not read yet (docs/clients.md): put its servers in a JSON file under .continue/mcpServers/".into(),
        });
    }
    let root = jsonc::parse(text).map_err(|e| ClientsError::Parse {
        path: path.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    let mut out = Vec::new();
    for (project, map) in json_server_maps(client, &root) {
        for m in map
            .members()
            .iter()
            .filter(|m| !provided_by_client(client, &m.value))
        {
            out.push(json_server(
                client,
                path,
                project.clone(),
                &m.key,
                &m.value,
            )?);
        }
    }
    Ok(out)
}

/// An entry the client itself provides rather than launches from the config: Zed's
/// extension-provided context servers (`"source": "extension"`, or only `settings`). They have
/// no launch spec to pin or wrap and are left out of the config's servers.
pub(crate) fn provided_by_client(client: Client, e: &jsonc::Node) -> bool {
    client == Client::Zed
        && e.is_object()
        && (e.get("source").and_then(|s| s.as_str()) == Some("extension")
            || (e.get("command").is_none() && e.get("url").is_none()))
}

/// The server maps of a JSON config: `(project, map node)`.
pub(crate) fn json_server_maps(
    client: Client,
    root: &jsonc::Node,
) -> Vec<(Option<String>, &jsonc::Node)> {
    let mut v = Vec::new();
    if let Some(m) = root.get(client.servers_key()).filter(|m| m.is_object()) {
        v.push((None, m));
    }
    if client == Client::ClaudeCode
        && let Some(projects) = root.get("projects")
    {
        for p in projects.members() {
            if let Some(m) = p.value.get("mcpServers").filter(|m| m.is_object()) {
                v.push((Some(p.key.clone()), m));
            }
        }
    }
    v
}

fn str_map(
    node: Option<&jsonc::Node>,
    entry_err: &dyn Fn(String) -> ClientsError,
    what: &str,
) -> Result<BTreeMap<String, String>, ClientsError> {
    let mut out = BTreeMap::new();
    let Some(n) = node else { return Ok(out) };
    if !n.is_object() {
        return Err(entry_err(format!("{what} must be an object of strings")));
    }
    for m in n.members() {
        let v = match &m.value.kind {
            jsonc::Kind::String(s) => s.clone(),
            // Numbers and booleans are written as strings by every client.
            jsonc::Kind::Number(s) => s.clone(),
            jsonc::Kind::Bool(b) => b.to_string(),
            _ => return Err(entry_err(format!("{what}.{} must be a string", m.key))),
        };
        out.insert(m.key.clone(), v);
    }
    Ok(out)
}

fn json_server(
    client: Client,
    path: &Path,
    project: Option<String>,
    name: &str,
    e: &jsonc::Node,
) -> Result<Server, ClientsError> {
    let entry_err = |message: String| ClientsError::Entry {
        path: path.to_owned(),
        server: name.to_owned(),
        message,
    };
    if !e.is_object() {
        return Err(entry_err("the entry must be an object".into()));
    }
    let s = |key: &str| -> Result<Option<String>, ClientsError> {
        match e.get(key) {
            None => Ok(None),
            Some(n) => n
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| entry_err(format!("{key} must be a string"))),
        }
    };
    let ty = s("type")?.or(s("transport")?).or(s("transportType")?);
    let url = match client {
        Client::Windsurf => s("serverUrl")?.or(s("url")?),
        _ => None.or(s("url")?),
    };
    let http_url = if client == Client::Gemini {
        s("httpUrl")?
    } else {
        None
    };
    // Zed's older form nests the launch: `"command": {"path", "args", "env"}`.
    let nested = e
        .get("command")
        .filter(|c| client == Client::Zed && c.is_object());
    let e_launch = nested.unwrap_or(e);
    let command = match nested {
        Some(n) => Some(
            n.get("path")
                .and_then(|p| p.as_str())
                .map(str::to_owned)
                .ok_or_else(|| entry_err("command.path must be a string".into()))?,
        ),
        None => s("command")?,
    };
    let transport = if let Some(command) = command {
        let args = match e_launch.get("args") {
            None => Vec::new(),
            Some(a) => match &a.kind {
                jsonc::Kind::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| entry_err("args must be an array of strings".into()))?,
                _ => return Err(entry_err("args must be an array of strings".into())),
            },
        };
        Transport::Stdio {
            command,
            args,
            cwd: s("cwd")?,
        }
    } else if let Some(url) = http_url {
        Transport::Http { url }
    } else if let Some(url) = url {
        // Gemini: `url` is SSE, `httpUrl` Streamable HTTP. Others: `type` says, default http.
        let sse = match client {
            Client::Gemini => ty.as_deref() != Some("http"),
            // Cline's schema tries SSE before Streamable HTTP: a `url` with no type is SSE.
            Client::Cline => !matches!(ty.as_deref(), Some("streamableHttp" | "http")),
            _ => ty.as_deref() == Some("sse"),
        };
        if sse {
            Transport::Sse { url }
        } else {
            Transport::Http { url }
        }
    } else {
        return Err(entry_err(
            "the entry has neither a command nor a url".into(),
        ));
    };
    let env = str_map(e_launch.get("env"), &entry_err, "env")?;
    let headers = str_map(e.get("headers"), &entry_err, "headers")?;
    let disabled = matches!(
        e.get("disabled").map(|d| &d.kind),
        Some(jsonc::Kind::Bool(true))
    );
    let wrapped = wrap_state(e.get(MARKER).is_some(), &transport);
    Ok(Server {
        name: name.to_owned(),
        client,
        file: path.to_owned(),
        project,
        transport,
        env,
        env_passthrough: Vec::new(),
        headers,
        header_vars: BTreeMap::new(),
        wrapped,
        disabled,
    })
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

fn toml_err(path: &Path, text: &str, e: &toml_edit::TomlError) -> ClientsError {
    let (line, column) = e.span().map_or((1, 1), |s| jsonc::line_col(text, s.start));
    ClientsError::Parse {
        path: path.to_owned(),
        line,
        column,
        message: e.message().to_owned(),
    }
}

pub(crate) fn parse_toml(
    path: &Path,
    text: &str,
) -> Result<toml_edit::Document<String>, ClientsError> {
    toml_edit::Document::parse(text.to_owned()).map_err(|e| toml_err(path, text, &e))
}

fn parse_codex(path: &Path, text: &str) -> Result<Vec<Server>, ClientsError> {
    let doc = parse_toml(path, text)?;
    let mut out = Vec::new();
    let Some(servers) = doc.get("mcp_servers").and_then(|i| i.as_table_like()) else {
        return Ok(out);
    };
    for (name, item) in servers.iter() {
        let entry_err = |message: String| ClientsError::Entry {
            path: path.to_owned(),
            server: name.to_owned(),
            message,
        };
        let t = item
            .as_table_like()
            .ok_or_else(|| entry_err("the entry must be a table".into()))?;
        let s = |key: &str| -> Result<Option<String>, ClientsError> {
            match t.get(key) {
                None => Ok(None),
                Some(i) => i
                    .as_str()
                    .map(|s| Some(s.to_owned()))
                    .ok_or_else(|| entry_err(format!("{key} must be a string"))),
            }
        };
        let strs = |key: &str| -> Result<Vec<String>, ClientsError> {
            match t.get(key) {
                None => Ok(Vec::new()),
                Some(i) => i
                    .as_array()
                    .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect())
                    .ok_or_else(|| entry_err(format!("{key} must be an array of strings"))),
            }
        };
        let map = |key: &str| -> Result<BTreeMap<String, String>, ClientsError> {
            let mut m = BTreeMap::new();
            if let Some(i) = t.get(key) {
                let tl = i
                    .as_table_like()
                    .ok_or_else(|| entry_err(format!("{key} must be a table of strings")))?;
                for (k, v) in tl.iter() {
                    let v = v
                        .as_str()
                        .ok_or_else(|| entry_err(format!("{key}.{k} must be a string")))?;
                    m.insert(k.to_owned(), v.to_owned());
                }
            }
            Ok(m)
        };
        let transport = if let Some(command) = s("command")? {
            Transport::Stdio {
                command,
                args: strs("args")?,
                cwd: s("cwd")?,
            }
        } else if let Some(url) = s("url")? {
            Transport::Http { url }
        } else {
            return Err(entry_err("the entry has neither command nor url".into()));
        };
        let headers = map("http_headers")?;
        let mut header_vars = BTreeMap::new();
        for (h, var) in map("env_http_headers")? {
            header_vars.insert(h, (String::new(), var));
        }
        if let Some(var) = s("bearer_token_env_var")? {
            header_vars.insert("Authorization".into(), ("Bearer ".into(), var));
        }
        let disabled = t.get("enabled").and_then(|i| i.as_bool()) == Some(false);
        let wrapped = wrap_state(
            edit::toml_marker_after(text, &doc, name).is_some(),
            &transport,
        );
        out.push(Server {
            name: name.to_owned(),
            client: Client::Codex,
            file: path.to_owned(),
            project: None,
            transport,
            env: map("env")?,
            env_passthrough: strs("env_vars")?,
            headers,
            header_vars,
            wrapped,
            disabled,
        });
    }
    Ok(out)
}

/// Which config files a command works on (`--client`, `--config`, `--all`).
#[derive(Debug, Clone)]
pub enum Selection {
    /// Every config file of one client that exists.
    Client(Client),
    /// One file; the client is guessed from its path unless given.
    Config(PathBuf, Option<Client>),
    /// Every config file found.
    All,
}

/// The config files a selection names. `--config FILE` is returned whether or not it exists
/// (reading it reports the error); the others list existing files only.
pub fn select(r: &Roots, sel: &Selection) -> Vec<ConfigFile> {
    match sel {
        Selection::Client(c) => discover(r).into_iter().filter(|f| f.client == *c).collect(),
        Selection::Config(p, c) => vec![ConfigFile {
            client: c.unwrap_or_else(|| Client::guess(p)),
            scope: if r.project.as_ref().is_some_and(|pr| p.starts_with(pr)) {
                Scope::Project
            } else {
                Scope::User
            },
            path: p.clone(),
        }],
        Selection::All => discover(r),
    }
}

impl Roots {
    /// The expansion context for one file: `${workspaceFolder}` is the project folder of a
    /// project-scoped file (the folder holding `.vscode/`, `.cursor/`, …).
    pub fn context(&self, cf: &ConfigFile) -> expand::Context {
        let workspace = match cf.scope {
            Scope::Project => project_of(&cf.path).or_else(|| self.project.clone()),
            Scope::User => self.project.clone(),
        };
        expand::Context {
            home: self.home.clone(),
            workspace,
        }
    }
}

/// `/p/.vscode/mcp.json` -> `/p`; `/p/.mcp.json` -> `/p`.
fn project_of(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    let mut d = dir;
    for _ in 0..2 {
        if d.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            return d.parent().map(Path::to_path_buf);
        }
        d = d.parent()?;
    }
    Some(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

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
