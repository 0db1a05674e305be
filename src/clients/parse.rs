//! Parsing: reading each client's config format into [`Server`]s — the JSON and JSONC of most
//! clients (server map key, `type` / `serverUrl` / `httpUrl`, Zed's nested command, Claude
//! Code's per-project maps), Codex's TOML, Goose's YAML (in [`super::goose`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::{
    Client, ClientsError, ConfigFile, MARKER, Server, Transport, edit, goose, jsonc, wrap_state,
};

/// The language of a client's config files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON with comments and trailing commas (every client not named below).
    Jsonc,
    /// Codex's `config.toml`.
    Toml,
    /// Goose's `config.yaml`.
    Yaml,
}

impl Client {
    /// The language this client's config files are written in.
    pub fn format(self) -> Format {
        match self {
            Client::Codex => Format::Toml,
            Client::Goose => Format::Yaml,
            _ => Format::Jsonc,
        }
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
    match client.format() {
        Format::Toml => return parse_codex(path, text),
        Format::Yaml => return goose::parse(path, text),
        Format::Jsonc => {}
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

/// One test per client, each on the part of its format that differs from the others: the key
/// of the server map, how a remote server says its transport, where env and headers live, what
/// disables an entry. Each also has the entry a reader of another client's format would get
/// wrong.
#[cfg(test)]
mod tests {
    use super::*;

    fn servers(client: Client, file: &str, text: &str) -> Vec<Server> {
        parse(client, Path::new(file), text.as_bytes())
            .unwrap_or_else(|e| panic!("{client:?}: {e}"))
    }

    fn one(client: Client, file: &str, text: &str) -> Server {
        let mut v = servers(client, file, text);
        assert_eq!(v.len(), 1, "{client:?}: {v:?}");
        v.remove(0)
    }

    fn stdio(command: &str, args: &[&str]) -> Transport {
        Transport::Stdio {
            command: command.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            cwd: None,
        }
    }

    fn label(s: &Server) -> (&str, &'static str) {
        (s.name.as_str(), s.transport_label())
    }

    #[test]
    fn claude_desktop_reads_mcp_servers_with_env() {
        let s = one(
            Client::ClaudeDesktop,
            "claude_desktop_config.json",
            r#"{"globalShortcut": "x", "mcpServers": {"fs": {"command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem@1.0.0"],
                "env": {"DEBUG": 1, "TOKEN": "t"}}}}"#,
        );
        assert!(
            s.transport
                == stdio(
                    "npx",
                    &["-y", "@modelcontextprotocol/server-filesystem@1.0.0"]
                ),
            "{:?}",
            s
        );
        // Numbers are written as strings, as the clients do.
        assert_eq!(s.env.get("DEBUG").map(String::as_str), Some("1"));
        assert_eq!(
            (s.client, s.project.as_deref()),
            (Client::ClaudeDesktop, None)
        );
        // A server map under another client's key is not this client's.
        assert!(
            servers(
                Client::ClaudeDesktop,
                "c.json",
                r#"{"servers": {"a": {"command": "x"}}}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn claude_code_reads_user_and_per_project_maps() {
        let v = servers(
            Client::ClaudeCode,
            ".claude.json",
            r#"{"mcpServers": {"u": {"type": "http", "url": "https://mcp.example.com/mcp",
                 "headers": {"Authorization": "Bearer ${TOKEN}"}}},
               "projects": {"/work/p": {"mcpServers": {"p": {"type": "sse", "url": "https://e.example/sse"}}},
                            "/work/q": {"allowedTools": []}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("u", "http"), ("p", "sse")]
        );
        assert_eq!(
            v[0].headers.get("Authorization").map(String::as_str),
            Some("Bearer ${TOKEN}")
        );
        assert_eq!(v[1].project.as_deref(), Some("/work/p"));
        // `projects` is Claude Code's alone: Cursor does not read it.
        assert!(
            servers(
                Client::Cursor,
                "mcp.json",
                r#"{"projects": {"/p": {"mcpServers": {"p": {"command": "x"}}}}}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn cursor_reads_jsonc_and_a_url_without_type_as_http() {
        let s = one(
            Client::Cursor,
            ".cursor/mcp.json",
            "{\n  // comments and trailing commas, as Cursor accepts\n  \"mcpServers\": {\"r\": {\"url\": \"https://r.example/mcp\",},},\n}",
        );
        assert!(
            s.transport
                == Transport::Http {
                    url: "https://r.example/mcp".into()
                },
            "{:?}",
            s
        );
    }

    #[test]
    fn vscode_reads_servers_and_its_type_field() {
        let v = servers(
            Client::VsCode,
            ".vscode/mcp.json",
            r#"{"inputs": [], "servers": {
                "gh": {"type": "http", "url": "https://api.example.com/mcp/"},
                "old": {"type": "sse", "url": "https://o.example/sse"},
                "local": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time==1.0.0"],
                          "cwd": "${workspaceFolder}"}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("gh", "http"), ("old", "sse"), ("local", "stdio")]
        );
        assert!(
            matches!(&v[2].transport, Transport::Stdio { cwd: Some(c), .. } if c == "${workspaceFolder}")
        );
        // VS Code's map is `servers`: an `mcpServers` map is not read.
        assert!(
            servers(
                Client::VsCode,
                "mcp.json",
                r#"{"mcpServers": {"a": {"command": "x"}}}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn windsurf_reads_server_url() {
        let s = one(
            Client::Windsurf,
            "mcp_config.json",
            r#"{"mcpServers": {"w": {"serverUrl": "https://w.example/mcp"}}}"#,
        );
        assert!(
            s.transport
                == Transport::Http {
                    url: "https://w.example/mcp".into()
                },
            "{:?}",
            s
        );
        // `serverUrl` is Windsurf's: another client finds neither a command nor a url.
        let e = parse(
            Client::Cursor,
            Path::new("mcp.json"),
            br#"{"mcpServers": {"w": {"serverUrl": "https://w.example/mcp"}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), "config-entry");
    }

    #[test]
    fn gemini_reads_http_url_as_http_and_url_as_sse() {
        let v = servers(
            Client::Gemini,
            ".gemini/settings.json",
            r#"{"theme": "x", "mcpServers": {
                "h": {"httpUrl": "https://h.example/mcp"},
                "s": {"url": "https://s.example/sse"},
                "t": {"url": "https://t.example/mcp", "type": "http"}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("h", "http"), ("s", "sse"), ("t", "http")]
        );
    }

    #[test]
    fn codex_reads_toml_with_env_vars_and_header_variables() {
        let v = servers(
            Client::Codex,
            "config.toml",
            r#"model = "o3"
[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp@2.0.0"]
env = { LOG = "1" }
env_vars = ["HOME_TOKEN"]

[mcp_servers.remote]
url = "https://r.example/mcp"
bearer_token_env_var = "R_TOKEN"
env_http_headers = { "X-Team" = "TEAM_ID" }
enabled = false
"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("docs", "stdio"), ("remote", "http")]
        );
        assert_eq!(v[0].env_passthrough, ["HOME_TOKEN"]);
        assert_eq!(
            v[1].header_vars.get("Authorization"),
            Some(&("Bearer ".to_owned(), "R_TOKEN".to_owned()))
        );
        assert_eq!(
            v[1].header_vars.get("X-Team"),
            Some(&(String::new(), "TEAM_ID".to_owned()))
        );
        assert!(v[1].disabled && !v[0].disabled);
        // A value of the wrong type names the server and the key.
        let e = parse(
            Client::Codex,
            Path::new("config.toml"),
            b"[mcp_servers.x]\ncommand = 1\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("\"x\"") && e.to_string().contains("command"),
            "{e}"
        );
    }

    #[test]
    fn kiro_reads_mcp_servers_and_disabled() {
        let s = one(
            Client::Kiro,
            ".kiro/settings/mcp.json",
            r#"{"mcpServers": {"k": {"command": "uvx", "args": ["awslabs.aws-documentation-mcp-server@1.1.0"],
                "disabled": true, "autoApprove": []}}}"#,
        );
        assert!(s.disabled);
        assert!(
            s.transport == stdio("uvx", &["awslabs.aws-documentation-mcp-server@1.1.0"]),
            "{:?}",
            s
        );
    }

    #[test]
    fn cline_reads_a_url_without_type_as_sse() {
        let v = servers(
            Client::Cline,
            "cline_mcp_settings.json",
            r#"{"mcpServers": {
                "a": {"url": "https://a.example/sse"},
                "b": {"url": "https://b.example/mcp", "type": "streamableHttp"},
                "c": {"url": "https://c.example/mcp", "transportType": "http"}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("a", "sse"), ("b", "http"), ("c", "http")]
        );
    }

    #[test]
    fn roo_code_reads_streamable_http_and_sse_types() {
        let v = servers(
            Client::RooCode,
            ".roo/mcp.json",
            r#"{"mcpServers": {
                "s": {"type": "sse", "url": "https://s.example/sse"},
                "h": {"type": "streamable-http", "url": "https://h.example/mcp"},
                "l": {"command": "node", "args": ["server.js"], "alwaysAllow": []}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("s", "sse"), ("h", "http"), ("l", "stdio")]
        );
    }

    #[test]
    fn zed_reads_context_servers_old_and_new_forms_and_skips_extensions() {
        let v = servers(
            Client::Zed,
            "zed/settings.json",
            r#"{"context_servers": {
                "new": {"command": "npx", "args": ["-y", "x@1.0.0"], "env": {"A": "b"}},
                "old": {"command": {"path": "uvx", "args": ["y==1.0"], "env": {"C": "d"}}},
                "ext": {"source": "extension", "settings": {}},
                "settings-only": {"settings": {"k": 1}}}}"#,
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("new", "stdio"), ("old", "stdio")]
        );
        assert!(v[1].transport == stdio("uvx", &["y==1.0"]), "{:?}", v[1]);
        assert_eq!(v[1].env.get("C").map(String::as_str), Some("d"));
        let e = parse(
            Client::Zed,
            Path::new("settings.json"),
            br#"{"context_servers": {"z": {"command": {"args": []}}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("command.path"), "{e}");
    }

    #[test]
    fn continue_reads_one_json_file_of_its_folder_and_refuses_yaml() {
        let s = one(
            Client::Continue,
            ".continue/mcpServers/context7.json",
            r#"{"mcpServers": {"context7": {"command": "npx", "args": ["-y", "@upstash/context7-mcp@1.0.0"]}}}"#,
        );
        assert_eq!(s.name, "context7");
        let e = parse(
            Client::Continue,
            Path::new(".continue/config.yaml"),
            b"mcpServers: []\n",
        )
        .unwrap_err();
        assert_eq!(e.code(), "config-parse");
        assert!(e.to_string().contains("Goose only"), "{e}");
    }

    #[test]
    fn goose_reads_extensions_and_leaves_builtins_out() {
        let v = servers(
            Client::Goose,
            "goose/config.yaml",
            "extensions:\n  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    type: builtin\n  fetch:\n    args:\n    - mcp-server-fetch==2025.4.7\n    cmd: uvx\n    enabled: false\n    env_keys:\n    - FETCH_KEY\n    envs:\n      LOG: '1'\n    name: fetch\n    type: stdio\n  remote:\n    enabled: true\n    name: remote\n    type: streamable_http\n    uri: https://g.example/mcp\n",
        );
        assert_eq!(
            v.iter().map(label).collect::<Vec<_>>(),
            [("fetch", "stdio"), ("remote", "http")]
        );
        assert!(
            v[0].transport == stdio("uvx", &["mcp-server-fetch==2025.4.7"]),
            "{:?}",
            v[0]
        );
        assert!(v[0].disabled && !v[1].disabled);
        assert_eq!(v[0].env_passthrough, ["FETCH_KEY"]);
        // An anchor (which another YAML reader may resolve differently) is refused.
        assert!(
            parse(
                Client::Goose,
                Path::new("config.yaml"),
                b"extensions:\n  a: &x\n    type: stdio\n    cmd: x\n  b: *x\n"
            )
            .is_err()
        );
    }

    #[test]
    fn every_client_has_a_format_test_above() {
        // The tests above cover Client::ALL; a new client must add one.
        assert_eq!(Client::ALL.len(), 13);
    }
}
