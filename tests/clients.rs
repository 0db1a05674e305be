//! Client configs: parsing every supported client, discovery under a fake HOME, hostile and
//! broken files, `mcpseal clients`, and `wrap` / `unwrap` (idempotent, byte-exact, backed up,
//! refusing broken files), up to launching a server from each wrapped entry.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use mcpseal::clients::{self, Client, ConfigFile, Scope, Transport, WrapState, expand};
use mcpseal::mcp::LaunchSpec;

fn fixture(rel: &str) -> PathBuf {
    common::root().join("testdata/clients").join(rel)
}

/// Every fixture: (client, file name under testdata/clients, where it lives under a Linux HOME).
const FIXTURES: [(Client, &str, &str); 13] = [
    (
        Client::ClaudeDesktop,
        "claude-desktop/claude_desktop_config.json",
        ".config/Claude/claude_desktop_config.json",
    ),
    (
        Client::ClaudeCode,
        "claude-code/claude.json",
        ".claude.json",
    ),
    (Client::Cursor, "cursor/mcp.json", ".cursor/mcp.json"),
    (
        Client::VsCode,
        "vscode/mcp.json",
        ".config/Code/User/mcp.json",
    ),
    (
        Client::Windsurf,
        "windsurf/mcp_config.json",
        ".codeium/windsurf/mcp_config.json",
    ),
    (
        Client::Gemini,
        "gemini/settings.json",
        ".gemini/settings.json",
    ),
    (Client::Codex, "codex/config.toml", ".codex/config.toml"),
    (Client::Kiro, "kiro/mcp.json", ".kiro/settings/mcp.json"),
    (
        Client::Cline,
        "cline/cline_mcp_settings.json",
        ".config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json",
    ),
    (
        Client::RooCode,
        "roo-code/mcp_settings.json",
        ".config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json",
    ),
    (
        Client::Zed,
        "zed/settings.json",
        ".config/zed/settings.json",
    ),
    (
        Client::Continue,
        "continue/context7.json",
        ".continue/mcpServers/context7.json",
    ),
    (
        Client::Goose,
        "goose/config.yaml",
        ".config/goose/config.yaml",
    ),
];

fn load(client: Client, rel: &str) -> Vec<clients::Server> {
    clients::load(&ConfigFile {
        client,
        scope: Scope::User,
        path: fixture(rel),
    })
    .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn summary(s: &[clients::Server]) -> Vec<(String, &'static str)> {
    s.iter()
        .map(|s| (s.name.clone(), s.transport_label()))
        .collect()
}

fn fake_env(name: &str) -> Option<String> {
    let v = match name {
        "API_KEY" => "k-123",
        "DATABASE_URL" => "postgres://db",
        "DB_CONNECTION_STRING" => "pg://conn",
        "EXTERNAL_API_KEY" => "ext",
        "TOKEN" => "tok",
        "BRAVE_API_KEY" => "brave",
        "FIGMA_TOKEN" => "fig",
        "FIGMA_OAUTH_TOKEN" => "oauth",
        "AWS_PROFILE" => "dev",
        "EXAMPLE_KEY" => "ex",
        "CONTEXT7_API_KEY" => "c7",
        _ => return None,
    };
    Some(v.to_owned())
}

fn ctx() -> expand::Context {
    expand::Context {
        home: "/home/alice".into(),
        workspace: Some("/work/app".into()),
    }
}

#[test]
fn parses_every_client_fixture() {
    let s = |v: &[(&str, &'static str)]| {
        v.iter()
            .map(|(n, t)| (n.to_string(), *t))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        summary(&load(
            Client::ClaudeDesktop,
            "claude-desktop/claude_desktop_config.json"
        )),
        s(&[("filesystem", "stdio"), ("github", "stdio")])
    );
    let cc = load(Client::ClaudeCode, "claude-code/claude.json");
    assert_eq!(summary(&cc), s(&[("git", "stdio"), ("sentry", "sse")]));
    assert_eq!(cc[1].project.as_deref(), Some("/home/alice/src/app"));
    assert_eq!(
        summary(&load(Client::ClaudeCode, "claude-code/.mcp.json")),
        s(&[("memory", "stdio"), ("api", "http")])
    );
    assert_eq!(
        summary(&load(Client::Cursor, "cursor/mcp.json")),
        s(&[("postgres", "stdio"), ("linear", "http")])
    );
    assert_eq!(
        summary(&load(Client::VsCode, "vscode/mcp.json")),
        s(&[("Perplexity", "stdio"), ("fs", "stdio"), ("github", "http")])
    );
    assert_eq!(
        summary(&load(Client::Windsurf, "windsurf/mcp_config.json")),
        s(&[("brave-search", "stdio"), ("figma", "http")])
    );
    // Gemini: httpUrl is Streamable HTTP, url is SSE.
    assert_eq!(
        summary(&load(Client::Gemini, "gemini/settings.json")),
        s(&[
            ("pythonTools", "stdio"),
            ("httpServer", "http"),
            ("sseServer", "sse")
        ])
    );
    let codex = load(Client::Codex, "codex/config.toml");
    assert_eq!(
        summary(&codex),
        s(&[("context7", "stdio"), ("figma", "http"), ("git", "stdio")])
    );
    assert!(codex[2].disabled);
    assert_eq!(codex[0].env_passthrough, ["CONTEXT7_API_KEY"]);
    assert_eq!(
        summary(&load(Client::Kiro, "kiro/mcp.json")),
        s(&[("aws-docs", "stdio"), ("remote", "http")])
    );
    // Cline: a `url` with no type is SSE (its schema tries SSE first); `streamableHttp` is HTTP.
    assert_eq!(
        summary(&load(Client::Cline, "cline/cline_mcp_settings.json")),
        s(&[
            ("github", "stdio"),
            ("legacy-remote", "sse"),
            ("docs", "http")
        ])
    );
    assert_eq!(
        summary(&load(Client::RooCode, "roo-code/mcp_settings.json")),
        s(&[
            ("filesystem", "stdio"),
            ("brave", "stdio"),
            ("remote", "http")
        ])
    );
    // Zed: `context_servers`; an extension-provided server has no launch of its own and is
    // not listed; the older nested `command` object is read like the flat form.
    let zed = load(Client::Zed, "zed/settings.json");
    assert_eq!(
        summary(&zed),
        s(&[("git", "stdio"), ("old-style", "stdio"), ("remote", "http")])
    );
    match &zed[1].transport {
        Transport::Stdio { command, args, .. } => {
            assert_eq!(command, "npx");
            assert_eq!(args[1], "@modelcontextprotocol/server-memory");
        }
        _ => panic!("not stdio"),
    }
    assert_eq!(zed[1].env.keys().collect::<Vec<_>>(), ["MEMORY_FILE_PATH"]);
    assert_eq!(
        summary(&load(Client::Continue, "continue/context7.json")),
        s(&[("context7", "stdio"), ("sqlite", "stdio")])
    );
    // Goose: `extensions:`; builtin extensions are Goose's own, not launched from the file;
    // `env_keys` are names whose values Goose keeps in its secret store.
    let goose = load(Client::Goose, "goose/config.yaml");
    assert_eq!(
        summary(&goose),
        s(&[
            ("fetch", "stdio"),
            ("github", "stdio"),
            ("docs", "http"),
            ("legacy", "sse")
        ])
    );
    assert!(goose[1].disabled);
    assert_eq!(goose[1].env_passthrough, ["GITHUB_PERSONAL_ACCESS_TOKEN"]);
    match &goose[1].transport {
        Transport::Stdio { command, args, .. } => {
            assert_eq!(command, "npx");
            assert_eq!(args, &["-y", "@modelcontextprotocol/server-github"]);
        }
        _ => panic!("not stdio"),
    }
}

#[test]
fn launch_specs_expand_variables_as_each_client_does() {
    let spec = |c, rel, i: usize| load(c, rel)[i].launch_spec(&ctx(), &fake_env);
    // Claude Code: ${VAR:-default} in env and url, ${VAR} in headers.
    match spec(Client::ClaudeCode, "claude-code/.mcp.json", 0).unwrap() {
        LaunchSpec::Stdio { env, .. } => assert_eq!(env["MEMORY_FILE_PATH"], "/tmp/memory.jsonl"),
        other => panic!("{other:?}"),
    }
    match spec(Client::ClaudeCode, "claude-code/.mcp.json", 1).unwrap() {
        LaunchSpec::Http { url, headers } => {
            assert_eq!(url, "https://api.example.com/mcp");
            assert_eq!(headers["Authorization"], "Bearer k-123");
        }
        other => panic!("{other:?}"),
    }
    // Cursor: ${env:VAR} and ${userHome}.
    match spec(Client::Cursor, "cursor/mcp.json", 0).unwrap() {
        LaunchSpec::Stdio { args, env, .. } => {
            assert_eq!(args[2], "postgres://db");
            assert_eq!(env["PGPASSFILE"], "/home/alice/.pgpass");
        }
        other => panic!("{other:?}"),
    }
    // VS Code: ${workspaceFolder}; ${input:…} cannot be resolved outside VS Code.
    match spec(Client::VsCode, "vscode/mcp.json", 1).unwrap() {
        LaunchSpec::Stdio { args, .. } => {
            assert_eq!(args, ["/work/app/tools/fs-server.js", "/work/app"])
        }
        other => panic!("{other:?}"),
    }
    let e = spec(Client::VsCode, "vscode/mcp.json", 0).unwrap_err();
    assert_eq!(e.code(), "config-unresolvable-var");
    assert!(
        e.to_string().contains("${input:perplexity-key}") && e.to_string().contains("Perplexity"),
        "{e}"
    );
    // Gemini: $VAR and ${VAR}.
    match spec(Client::Gemini, "gemini/settings.json", 0).unwrap() {
        LaunchSpec::Stdio { env, cwd, .. } => {
            assert_eq!(env["DATABASE_URL"], "pg://conn");
            assert_eq!(env["API_KEY"], "ext");
            assert_eq!(cwd, Some(PathBuf::from("./mcp-servers/python")));
        }
        other => panic!("{other:?}"),
    }
    // Codex: nothing expanded; env_vars forwarded by name; bearer token from the environment.
    match spec(Client::Codex, "codex/config.toml", 0).unwrap() {
        LaunchSpec::Stdio { env, .. } => {
            assert_eq!(env["CONTEXT7_API_KEY"], "c7");
            assert_eq!(env["NODE_ENV"], "production");
        }
        other => panic!("{other:?}"),
    }
    match spec(Client::Codex, "codex/config.toml", 1).unwrap() {
        LaunchSpec::Http { headers, .. } => assert_eq!(headers["Authorization"], "Bearer oauth"),
        other => panic!("{other:?}"),
    }
    // Roo Code: ${env:VAR}, in env and in headers.
    match spec(Client::RooCode, "roo-code/mcp_settings.json", 2).unwrap() {
        LaunchSpec::Http { headers, .. } => assert_eq!(headers["Authorization"], "Bearer tok"),
        other => panic!("{other:?}"),
    }
    // Continue's `${{ secrets.… }}` is filled by Continue: unresolvable here, named.
    let e = spec(Client::Continue, "continue/context7.json", 0).unwrap_err();
    assert_eq!(e.code(), "config-unresolvable-var");
    assert!(
        e.to_string().contains("${{ secrets.CONTEXT7_API_KEY }}"),
        "{e}"
    );
    // Claude Desktop expands nothing: the token is literal.
    match spec(
        Client::ClaudeDesktop,
        "claude-desktop/claude_desktop_config.json",
        1,
    )
    .unwrap()
    {
        LaunchSpec::Stdio { env, .. } => assert_eq!(
            env["GITHUB_PERSONAL_ACCESS_TOKEN"],
            "ghp_exampleexampleexample"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unset_variable_is_named_and_its_neighbours_values_are_not_printed() {
    let servers = load(Client::Windsurf, "windsurf/mcp_config.json");
    let only_brave = |n: &str| (n == "BRAVE_API_KEY").then(|| "s3cret-brave".to_owned());
    let e = servers[1].launch_spec(&ctx(), &only_brave).unwrap_err();
    assert_eq!(e.code(), "config-unset-var");
    let msg = e.to_string();
    assert!(
        msg.contains("FIGMA_TOKEN")
            && msg.contains("figma")
            && msg.contains("headers.Authorization"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");
    // Debug of a server shows env names, never values.
    let dbg = format!(
        "{:?}",
        load(
            Client::ClaudeDesktop,
            "claude-desktop/claude_desktop_config.json"
        )
    );
    assert!(
        dbg.contains("GITHUB_PERSONAL_ACCESS_TOKEN") && !dbg.contains("ghp_example"),
        "{dbg}"
    );
}

/// Lays the fixtures out under a fake Linux HOME and a project folder.
fn fake_home() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let project = t.path().join("proj");
    for (_, rel, dest) in FIXTURES {
        let d = home.join(dest);
        std::fs::create_dir_all(d.parent().unwrap()).unwrap();
        std::fs::copy(fixture(rel), d).unwrap();
    }
    std::fs::create_dir_all(project.join(".vscode")).unwrap();
    std::fs::copy(fixture("claude-code/.mcp.json"), project.join(".mcp.json")).unwrap();
    std::fs::copy(fixture("vscode/mcp.json"), project.join(".vscode/mcp.json")).unwrap();
    (t, home, project)
}

#[test]
fn discovery_finds_every_client_under_a_fake_home() {
    let (_t, home, project) = fake_home();
    let roots = clients::Roots {
        home: home.clone(),
        project: Some(project.clone()),
        appdata: None,
        os: clients::Os::Linux,
    };
    let found = clients::discover(&roots);
    for (client, _, dest) in FIXTURES {
        assert!(
            found.contains(&ConfigFile {
                client,
                scope: Scope::User,
                path: home.join(dest)
            }),
            "{client:?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|f| f.scope == Scope::Project && f.path == project.join(".mcp.json"))
    );
    assert!(
        found
            .iter()
            .any(|f| f.scope == Scope::Project && f.path == project.join(".vscode/mcp.json"))
    );
    assert_eq!(found.len(), FIXTURES.len() + 2);
    // macOS and Windows put Claude Desktop and VS Code elsewhere.
    let mac = clients::candidates(&clients::Roots {
        os: clients::Os::MacOs,
        ..roots.clone()
    });
    assert!(
        mac.iter().any(|c| c.path
            == home.join("Library/Application Support/Claude/claude_desktop_config.json"))
    );
    let win = clients::candidates(&clients::Roots {
        os: clients::Os::Windows,
        appdata: Some("C:/Users/a/AppData/Roaming".into()),
        ..roots
    });
    assert!(win.iter().any(|c| {
        c.path
            == Path::new("C:/Users/a/AppData/Roaming")
                .join("Claude")
                .join("claude_desktop_config.json")
    }));
}

#[test]
fn clients_command_lists_names_never_values() {
    let (_t, home, project) = fake_home();
    let (code, out, err) = common::run(
        common::mcpseal()
            .args(["clients", "--json", "--home"])
            .arg(&home)
            .arg("--project")
            .arg(&project),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), FIXTURES.len() + 2);
    let desktop = files
        .iter()
        .find(|f| f["client"] == "claude-desktop")
        .unwrap();
    assert_eq!(
        desktop["servers"][1]["env"],
        serde_json::json!(["GITHUB_PERSONAL_ACCESS_TOKEN"])
    );
    assert_eq!(desktop["servers"][1]["wrapped"], "no");
    assert!(!out.contains("ghp_example"), "an env value leaked");
    let (code, human, _) = common::run(
        common::mcpseal()
            .args(["clients", "--home"])
            .arg(&home)
            .arg("--project")
            .arg(&project),
    );
    assert_eq!(code, 0);
    assert!(
        human.contains("codex  user") && human.contains("\"context7\"  stdio"),
        "{human}"
    );
    assert!(!human.contains("ghp_example"));
}

#[test]
fn a_broken_file_is_an_error_with_file_line_and_column() {
    let e = clients::parse(
        Client::Cursor,
        Path::new("/x/mcp.json"),
        &std::fs::read(fixture("broken/trailing.json")).unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "config-parse");
    assert!(e.to_string().starts_with("/x/mcp.json:4:5:"), "{e}");
    let e = clients::parse(
        Client::Codex,
        Path::new("c.toml"),
        &std::fs::read(fixture("broken/dup.toml")).unwrap(),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("c.toml:3:"), "{e}");
    // Not UTF-8, wrong types, empty entries: errors, never panics or skips.
    for (bytes, want) in [
        (
            &b"{\"mcpServers\": {\"a\": {\"command\": \"\xff\"}}}"[..],
            "UTF-8",
        ),
        (
            b"{\"mcpServers\": {\"a\": {\"command\": 1}}}",
            "command must be a string",
        ),
        (b"{\"mcpServers\": {\"a\": {}}}", "neither"),
        (
            b"{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": [1]}}}",
            "args",
        ),
    ] {
        let e = clients::parse(Client::Cursor, Path::new("m.json"), bytes).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    // `mcpseal clients` reports the broken file and exits 2.
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join(".cursor")).unwrap();
    std::fs::copy(
        fixture("broken/trailing.json"),
        t.path().join(".cursor/mcp.json"),
    )
    .unwrap();
    let (code, out, _) = common::run(
        common::mcpseal()
            .args(["clients", "--home"])
            .arg(t.path())
            .arg("--project")
            .arg(t.path()),
    );
    assert_eq!(code, 2);
    assert!(out.contains("mcp.json:4:5"), "{out}");
}

#[test]
fn hostile_names_and_args_survive_listing_wrap_and_unwrap() {
    let servers = load(Client::Cursor, "hostile.json");
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["../../x", "line\nbreak\u{0}nul", "x-mcpseal-original"]
    );
    // A server *named* like the marker is not mistaken for a wrapped entry.
    assert!(servers.iter().all(|s| s.wrapped == WrapState::No));
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("mcp.json");
    std::fs::copy(fixture("hostile.json"), &f).unwrap();
    let original = std::fs::read(&f).unwrap();
    let (code, out, err) = common::run(
        common::mcpseal()
            .args([
                "wrap",
                "--allow-unpinned",
                "--json",
                "--as",
                "cursor",
                "--config",
            ])
            .arg(&f),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let actions: Vec<&str> = v["files"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["wrapped", "skipped-bad-name", "wrapped"]);
    // Nothing was written outside the file's folder ("../../x" is a name, not a path).
    let mut listing: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    listing.sort();
    assert_eq!(listing, ["mcp.json", "mcp.json.mcpseal-backup"]);
    let wrapped = clients::parse(Client::Cursor, &f, &std::fs::read(&f).unwrap()).unwrap();
    match &wrapped[0].transport {
        Transport::Stdio { args, .. } => assert_eq!(
            &args[args.len() - 4..],
            ["echo", "a b", "\"quoted\"", "new\nline"]
        ),
        _ => panic!(),
    }
    let (code, _, err) = common::run(
        common::mcpseal()
            .args(["unwrap", "--as", "cursor", "--config"])
            .arg(&f),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&f).unwrap(), original);
}

#[test]
fn wrap_refuses_a_broken_file_and_leaves_it_untouched() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("mcp.json");
    std::fs::copy(fixture("broken/trailing.json"), &f).unwrap();
    let before = std::fs::read(&f).unwrap();
    let (code, out, _) = common::run(
        common::mcpseal()
            .args(["wrap", "--allow-unpinned", "--json", "--config"])
            .arg(&f),
    );
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "config-parse");
    assert!(
        v["message"].as_str().unwrap().contains("mcp.json:4:5"),
        "{v}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    assert!(!clients::edit::backup_path(&f).exists());
    // Its help does not offer a backup that does not exist.
    assert!(
        !v["help"].as_str().unwrap_or("").contains("mcpseal-backup"),
        "{v}"
    );
    // With --all, one broken file (another client's) is reported and left as it is; the
    // others are wrapped and the command exits 2. --strict stops before any write.
    let (_t2, home, project) = fake_home();
    let cursor = home.join(".cursor/mcp.json");
    std::fs::copy(fixture("broken/trailing.json"), &cursor).unwrap();
    let desktop = home.join(FIXTURES[0].2);
    let wrap_all = |extra: &[&str]| {
        common::run(
            common::mcpseal()
                .args(["wrap", "--allow-unpinned", "--json", "--all", "--home"])
                .arg(&home)
                .arg("--project")
                .arg(&project)
                .args(extra),
        )
    };
    let (code, out, _) = wrap_all(&["--strict"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        std::fs::read(&desktop).unwrap(),
        std::fs::read(fixture(FIXTURES[0].1)).unwrap(),
        "--strict wrote a file"
    );
    let (code, out, _) = wrap_all(&[]);
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "some-configs-skipped", "{v}");
    assert_eq!(v["skipped"][0]["path"], cursor.display().to_string());
    assert_eq!(v["skipped"][0]["reason"], "config-parse");
    assert_eq!(
        std::fs::read(&cursor).unwrap(),
        before,
        "the broken file was touched"
    );
    assert!(!clients::edit::backup_path(&cursor).exists());
    assert_ne!(
        std::fs::read(&desktop).unwrap(),
        std::fs::read(fixture(FIXTURES[0].1)).unwrap(),
        "the readable configs were not wrapped"
    );
}

/// `mcpseal wrap --as CLIENT --lock LOCK --config FILE`, which must succeed.
fn wrap_config(client: Client, f: &Path, lock: &Path) {
    let (code, _, err) = common::run(
        common::mcpseal()
            .args(["wrap", "--allow-unpinned", "--as", client.id(), "--lock"])
            .arg(lock)
            .arg("--config")
            .arg(f),
    );
    assert_eq!(code, 0, "{client:?} {f:?}: {err}");
}

/// Wraps a copy of every fixture and returns (tempdir, copies, the lock path used).
/// (client, the wrapped copy, its original bytes)
type Wrapped = Vec<(Client, PathBuf, Vec<u8>)>;

fn wrap_all_fixtures() -> (tempfile::TempDir, Wrapped, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let lock = t.path().join("mcpseal.lock");
    let mut out = Vec::new();
    let mut all: Vec<(Client, &str)> = FIXTURES.iter().map(|(c, r, _)| (*c, *r)).collect();
    all.push((Client::ClaudeCode, "claude-code/.mcp.json"));
    for (i, (client, rel)) in all.into_iter().enumerate() {
        let dir = t.path().join(format!("{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(Path::new(rel).file_name().unwrap());
        std::fs::copy(fixture(rel), &f).unwrap();
        let original = std::fs::read(&f).unwrap();
        wrap_config(client, &f, &lock);
        out.push((client, f, original));
    }
    (t, out, lock)
}

#[test]
fn wrap_is_idempotent_backed_up_and_unwrap_restores_every_byte() {
    let (_t, files, lock) = wrap_all_fixtures();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_mcpseal")).unwrap();
    for (client, f, original) in &files {
        let wrapped = std::fs::read(f).unwrap();
        assert_ne!(&wrapped, original, "{f:?} unchanged");
        assert_eq!(
            &std::fs::read(clients::edit::backup_path(f)).unwrap(),
            original,
            "{f:?} backup"
        );
        for s in clients::parse(*client, f, &wrapped).unwrap() {
            let remote_with_headers = !matches!(s.transport, Transport::Stdio { .. })
                && (!s.headers.is_empty() || !s.header_vars.is_empty());
            // Zed's older nested `command` object is left for the user to rewrite (a note says
            // how) rather than guessed at.
            let zed_nested = *client == Client::Zed && s.name == "old-style";
            if remote_with_headers || zed_nested {
                // The gate cannot forward headers: such an entry is left exactly as it was
                // rather than turned into one that cannot start.
                assert_eq!(s.wrapped, WrapState::No, "{f:?} {}", s.name);
                continue;
            }
            assert_eq!(s.wrapped, WrapState::Wrapped, "{f:?} {}", s.name);
            let Transport::Stdio { command, args, .. } = &s.transport else {
                panic!("{f:?} {} not stdio", s.name)
            };
            assert_eq!(Path::new(command), exe);
            assert_eq!(
                &args[..5],
                [
                    "run",
                    "--name",
                    s.name.as_str(),
                    "--lock",
                    lock.to_str().unwrap()
                ]
            );
            assert!(args[5] == "--" || args[5] == "--url", "{args:?}");
        }
        // Comments and unknown keys survive.
        let text = String::from_utf8(wrapped.clone()).unwrap();
        match client {
            Client::VsCode => assert!(text.contains("// prompted") && text.contains("\"envFile\"")),
            Client::Codex => {
                assert!(text.contains("# resolved from PATH") && text.contains("[profiles.fast]"))
            }
            Client::ClaudeDesktop => assert!(text.contains("\"globalShortcut\"")),
            _ => {}
        }
        // Wrapping again changes nothing.
        let (code, out, _) = common::run(
            common::mcpseal()
                .args([
                    "wrap",
                    "--allow-unpinned",
                    "--json",
                    "--as",
                    client.id(),
                    "--config",
                ])
                .arg(f),
        );
        assert_eq!(code, 0);
        assert!(out.contains("\"changed\": false"), "{out}");
        assert_eq!(std::fs::read(f).unwrap(), wrapped);
        // --dry-run of unwrap writes nothing; unwrap restores the original byte for byte.
        let (code, _, _) = common::run(
            common::mcpseal()
                .args(["unwrap", "--dry-run", "--as", client.id(), "--config"])
                .arg(f),
        );
        assert_eq!(code, 0);
        assert_eq!(std::fs::read(f).unwrap(), wrapped);
        let (code, _, err) = common::run(
            common::mcpseal()
                .args(["unwrap", "--as", client.id(), "--config"])
                .arg(f),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(&std::fs::read(f).unwrap(), original, "{f:?} round trip");
    }
}

#[test]
fn a_wrapped_entry_starts_the_gate_which_refuses_a_server_missing_from_the_lock() {
    // The lock does not exist, so `mcpseal run` must refuse before spawning anything and answer
    // the client's initialize with a JSON-RPC error: proof that the wrapped entry starts the
    // gate, not the server (the original commands — npx, uvx, docker — are never run).
    let (_t, files, _lock) = wrap_all_fixtures();
    let mut launched = BTreeMap::new();
    for (client, f, _) in &files {
        let servers = clients::parse(*client, f, &std::fs::read(f).unwrap()).unwrap();
        for s in servers {
            if s.wrapped != WrapState::Wrapped {
                continue; // remote servers with headers stay unwrapped (checked above)
            }
            let spec = match s.launch_spec(&ctx(), &fake_env) {
                Ok(spec) => spec,
                // A VS Code `${input:…}` only VS Code can fill: the entry itself is still checked above.
                Err(e) if e.code() == "config-unresolvable-var" => continue,
                Err(e) => panic!("{e}"),
            };
            let LaunchSpec::Stdio {
                command, args, env, ..
            } = spec
            else {
                panic!("{s:?}")
            };
            if args.contains(&"--url".to_owned()) {
                continue; // `mcpseal run --url` belongs to the gate and is checked there
            }
            let (v, status) = initialize(&command, &args, &env, true);
            assert_eq!(v["id"], 1, "{v}");
            assert!(v["error"]["message"].is_string(), "{f:?} {}: {v}", s.name);
            assert_eq!(status, Some(1), "{f:?} {}", s.name);
            *launched.entry(client.id()).or_insert(0) += 1;
        }
    }
    // Every client had at least one stdio server launched through the gate.
    for (c, _, _) in FIXTURES {
        assert!(launched.contains_key(c.id()), "{c:?}: {launched:?}");
    }
}

/// Sends `initialize` to a launched command line and returns the first line it answers, and
/// (when `wait`) its exit code after stdin closes; otherwise the process is killed.
fn initialize(
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    wait: bool,
) -> (serde_json::Value, Option<i32>) {
    let mut child = std::process::Command::new(command)
        .args(args)
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"t","version":"0"}}}}}}"#
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(stdin);
    if !wait {
        let _ = child.kill();
    }
    let status = child.wait().unwrap().code();
    let v = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (v, if wait { status } else { None })
}

#[test]
fn wraps_a_copy_of_each_supported_client_config_and_launches_a_server_from_the_wrapped_entry() {
    // For every client format: a config whose server "fx" is mcpseal's fixture server, pinned
    // into a lock; after wrap, the entry's command line (as the client would run it) starts
    // `mcpseal run`, which verifies the pin and proxies the real server's initialize result.
    let t = tempfile::tempdir().unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_mcpseal")).unwrap();
    let m = exe.to_str().unwrap();
    let lock = t.path().join("mcpseal.lock");
    let (code, _, err) = common::run(
        common::mcpseal()
            .args(["pin", "fx", "--lock"])
            .arg(&lock)
            .args(["--", m, "fixture-server"]),
    );
    assert_eq!(code, 0, "pin: {err}");
    let q = serde_json::to_string(m).unwrap();
    let json = format!(
        "{{\n  \"mcpServers\": {{\n    \"fx\": {{ \"command\": {q}, \"args\": [\"fixture-server\"] }}\n  }}\n}}\n"
    );
    for (client, _, _) in FIXTURES {
        let (name, text) = match client {
            Client::VsCode => (
                "mcp.json",
                format!(
                    "{{\n  // gated\n  \"servers\": {{\n    \"fx\": {{ \"type\": \"stdio\", \"command\": {q}, \"args\": [\"fixture-server\"], }},\n  }},\n}}\n"
                ),
            ),
            Client::Codex => (
                "config.toml",
                format!("[mcp_servers.fx]\ncommand = {q}\nargs = [\"fixture-server\"]\n"),
            ),
            Client::Goose => (
                "config.yaml",
                format!(
                    "GOOSE_MODEL: x\nextensions:\n  fx:\n    args:\n    - fixture-server\n    cmd: {q}\n    enabled: true\n    envs: {{}}\n    name: fx\n    timeout: 300\n    type: stdio\n"
                ),
            ),
            Client::Zed => (
                "settings.json",
                format!(
                    "// Zed settings\n{{\n  \"theme\": \"One Dark\",\n  \"context_servers\": {{\n    \"fx\": {{ \"source\": \"custom\", \"command\": {q}, \"args\": [\"fixture-server\"], \"env\": {{}} }},\n  }},\n}}\n"
                ),
            ),
            _ => ("mcp.json", json.clone()),
        };
        let dir = t.path().join(client.id());
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(name);
        std::fs::write(&f, &text).unwrap();
        wrap_config(client, &f, &lock);
        let servers = clients::parse(client, &f, &std::fs::read(&f).unwrap()).unwrap();
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].wrapped, WrapState::Wrapped);
        let LaunchSpec::Stdio {
            command, args, env, ..
        } = servers[0].launch_spec(&ctx(), &fake_env).unwrap()
        else {
            panic!("{client:?}: not stdio")
        };
        assert_eq!(&args[..2], ["run", "--name"], "{client:?}");
        let (v, _) = initialize(&command, &args, &env, false);
        assert_eq!(v["id"], 1, "{client:?}: {v}");
        assert!(v["result"]["serverInfo"].is_object(), "{client:?}: {v}");
        // And with a lock that lacks the server, the same entry is refused by the gate.
        let other = t.path().join("empty.lock");
        let mut refused = args.clone();
        if let Some(i) = refused.iter().position(|a| a == "--lock") {
            refused[i + 1] = other.display().to_string();
        }
        let (v, _) = initialize(&command, &refused, &env, false);
        assert!(v["error"]["message"].is_string(), "{client:?}: {v}");
    }
}

/// Issue 11, finding 1: `wrap --all` from a folder without a lock wrote that missing lock into
/// every entry and exited 0; servers never pinned were wrapped without a word and refused at
/// launch. Now wrap refuses a missing lock, and lists (exit 1, nothing written) the servers
/// the lock does not pin, unless --allow-unpinned.
#[test]
fn wrap_refuses_a_missing_lock_and_unpinned_servers() {
    let t = tempfile::tempdir().unwrap();
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let f = t.path().join("claude_desktop_config.json");
    let cfg = serde_json::json!({"mcpServers": {
        "fx": {"command": e, "args": ["fixture-server"]},
        "ghost": {"command": e, "args": ["fixture-server", "--extra-tools", "1"]}
    }});
    std::fs::write(&f, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let before = std::fs::read(&f).unwrap();
    let lock = t.path().join("mcpseal.lock");
    let wrap = || {
        common::run(
            common::mcpseal()
                .args(["wrap", "--as", "claude-desktop", "--lock"])
                .arg(&lock)
                .arg("--config")
                .arg(&f),
        )
    };
    let (code, _, err) = wrap();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("lock-missing") && err.contains("mcpseal pin --all"),
        "{err}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before);
    let (code, _, err) = common::run(
        common::mcpseal()
            .args(["pin", "fx", "--lock"])
            .arg(&lock)
            .args(["--", e, "fixture-server"]),
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = wrap();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("unpinned-servers") && err.contains("ghost") && !err.contains("fx,"),
        "{err}"
    );
    assert_eq!(std::fs::read(&f).unwrap(), before, "nothing written");
    let (code, _, err) = common::run(
        common::mcpseal()
            .args([
                "wrap",
                "--allow-unpinned",
                "--as",
                "claude-desktop",
                "--lock",
            ])
            .arg(&lock)
            .arg("--config")
            .arg(&f),
    );
    assert_eq!(code, 0, "{err}");
    assert_ne!(std::fs::read(&f).unwrap(), before);
}

/// Issue 11, finding 2: Claude Desktop's `memory` and Claude Code's `memory` are two servers
/// with one bare name. Bulk pin keys them `claude-desktop/memory` and `claude-code/memory`,
/// wrap writes each entry's own key, each gated launch starts its own server, and re-pinning
/// one never touches the other.
#[test]
fn one_name_in_two_clients_gets_two_lock_keys_end_to_end() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    let d_cfg =
        serde_json::json!({"mcpServers": {"memory": {"command": e, "args": ["fixture-server"]}}});
    std::fs::write(&desktop, serde_json::to_string_pretty(&d_cfg).unwrap()).unwrap();
    let code_cfg = home.join(".claude.json");
    let c_cfg = serde_json::json!({"mcpServers": {"memory": {"command": e, "args": ["fixture-server", "--extra-tools", "2"]}}});
    std::fs::write(&code_cfg, serde_json::to_string_pretty(&c_cfg).unwrap()).unwrap();
    let originals = (
        std::fs::read(&desktop).unwrap(),
        std::fs::read(&code_cfg).unwrap(),
    );
    let lock = t.path().join("mcpseal.lock");
    let run = |args: &[&str]| {
        common::run(
            common::mcpseal()
                .current_dir(t.path())
                .args(args)
                .arg("--lock")
                .arg(&lock)
                .args([
                    "--home",
                    home.to_str().unwrap(),
                    "--project",
                    t.path().to_str().unwrap(),
                ]),
        )
    };
    let (code, out, err) = run(&["pin", "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    let l: serde_json::Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
    let keys: Vec<&String> = l["servers"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["claude-code/memory", "claude-desktop/memory"], "{l}");
    assert_eq!(
        l["servers"]["claude-code/memory"]["tools"]
            .as_object()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        l["servers"]["claude-desktop/memory"]["tools"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    let (code, out, err) = run(&["wrap", "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    for (file, key, tools) in [
        (&desktop, "claude-desktop/memory", 2),
        (&code_cfg, "claude-code/memory", 4),
    ] {
        let w: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let entry = &w["mcpServers"]["memory"];
        let args: Vec<String> = entry["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(&args[..3], ["run", "--name", key], "{args:?}");
        // The wrapped entry starts the gate, which starts that client's server.
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut c = common::client::Client::spawn({
            let mut cmd = std::process::Command::new(entry["command"].as_str().unwrap());
            cmd.current_dir(t.path()).args(&argv);
            cmd
        });
        assert!(c.init()["result"].is_object(), "{key}");
        assert_eq!(c.tools().len(), tools, "{key}");
        c.finish();
    }
    // Re-pinning after wrap reads each entry as the server it gates: nothing changed.
    let (code, out, err) = run(&["pin", "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = common::run(
        common::mcpseal()
            .args([
                "unwrap",
                "--all",
                "--home",
                home.to_str().unwrap(),
                "--project",
            ])
            .arg(t.path()),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(std::fs::read(&desktop).unwrap(), originals.0);
    assert_eq!(std::fs::read(&code_cfg).unwrap(), originals.1);
}

/// Issue 11, finding 8: one broken config of an unrelated client blocked `pin --all`. It is
/// reported (exit 2, naming the file) and the other configs' servers are pinned.
#[test]
fn pin_all_skips_a_broken_config_and_pins_the_rest() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    let cfg = serde_json::json!({"mcpServers": {"fx": {"command": e, "args": ["fixture-server"]}}});
    std::fs::write(&desktop, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::fs::copy(
        fixture("broken/trailing.json"),
        home.join(".cursor/mcp.json"),
    )
    .unwrap();
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(t.path())
            .args([
                "pin",
                "--all",
                "--lock",
                "mcpseal.lock",
                "--home",
                home.to_str().unwrap(),
                "--project",
            ])
            .arg(t.path()),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("pinned fx") && out.contains(".cursor/mcp.json"),
        "{out}"
    );
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("mcpseal.lock")).unwrap()).unwrap();
    assert!(lock["servers"]["fx"].is_object());
}

/// Issue 11, finding 1: host-wide commands use one per-user lock unless --lock is given, and
/// say which; a repository's `--config` keeps its lock in the current folder.
#[test]
fn host_wide_pin_and_wrap_use_the_per_user_lock() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let xdg = t.path().join("xdg");
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    let cfg = serde_json::json!({"mcpServers": {"fx": {"command": e, "args": ["fixture-server"]}}});
    std::fs::write(&desktop, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let run = |args: &[&str]| {
        common::run(
            common::mcpseal()
                .current_dir(t.path())
                .env("XDG_CONFIG_HOME", &xdg)
                .args(args)
                .args(["--home", home.to_str().unwrap(), "--project"])
                .arg(t.path()),
        )
    };
    let (code, out, err) = run(&["pin", "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    let user_lock = xdg.join("mcpseal/mcpseal.lock");
    assert!(user_lock.is_file(), "{err}");
    assert!(
        err.contains(&user_lock.display().to_string()),
        "says which lock: {err}"
    );
    assert!(
        !t.path().join("mcpseal.lock").exists(),
        "not the current folder's"
    );
    let (code, out, err) = run(&["wrap", "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    let wrapped = std::fs::read_to_string(&desktop).unwrap();
    assert!(
        wrapped.contains(&user_lock.display().to_string()),
        "{wrapped}"
    );
}

/// Issue 11: Ctrl-C during `pin --all` exited silently. Now SIGINT prints which servers
/// finished and which did not, writes nothing, and exits 130. One server answers at once;
/// the other (a real process that reads stdin and never answers) hangs until interrupted.
#[cfg(unix)]
#[test]
fn ctrl_c_during_pin_all_reports_what_finished_and_writes_nothing() {
    use std::io::Read;
    let Some(python) = common::system_bin("python3") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    let cfg = serde_json::json!({"mcpServers": {
        "fx": {"command": e, "args": ["fixture-server"]},
        "hung": {"command": python, "args": ["-c", "import sys; sys.stdin.read()"]},
    }});
    std::fs::write(&desktop, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let lock = t.path().join("mcpseal.lock");
    let mut child = common::mcpseal()
        .args(["pin", "--all", "--lock"])
        .arg(&lock)
        .arg("--home")
        .arg(&home)
        .arg("--project")
        .arg(t.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Wait until the quick server is reported (the hung one cannot be).
    while !seen.contains("pin [1/2] fx: captured") {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "stderr closed: {seen}"
        );
        seen.push_str(&line);
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    err.read_to_string(&mut seen).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(
        seen.contains("interrupted: pin finished 1 of 2 servers")
            && seen.contains("fx: captured")
            && seen.contains("not finished: hung")
            && seen.contains("nothing was written"),
        "{seen}"
    );
    assert!(!lock.exists(), "an interrupted pin wrote the lock");
}

/// A YAML config other than Goose's (Continue's `config.yaml`) is refused with a message that says
/// so, not read as JSON and reported as a syntax error at some byte.
#[test]
fn a_yaml_config_is_refused_by_name() {
    let e = clients::parse(
        Client::Continue,
        Path::new("/h/.continue/config.yaml"),
        b"mcpServers:\n  - name: x\n    command: npx\n",
    )
    .unwrap_err();
    assert_eq!(e.code(), "config-parse");
    assert!(
        e.to_string()
            .contains("YAML configs are read for Goose only"),
        "{e}"
    );
}

/// One exit code policy for pin, check and scan: a definite answer (here a refused change, a
/// rug pull) is exit 1 even when another server could not be captured; that alone is 2.
#[test]
fn pin_all_exits_1_for_a_refused_change_even_when_another_server_was_not_captured() {
    let Some(python) = common::system_bin("python3") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let e = env!("CARGO_BIN_EXE_mcpseal");
    let counter = t.path().join("launches");
    let desktop = home.join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    let cfg = serde_json::json!({"mcpServers": {
        "sleeper": {"command": e, "args": ["fixture-server", "--launch-counter", counter, "--rug-pull", "description"]},
        "hung": {"command": python, "args": ["-c", "import sys; sys.stdin.read()"]},
    }});
    std::fs::write(&desktop, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let pin = || {
        common::run(
            common::mcpseal()
                .args(["--json", "pin", "--all", "--timeout", "2", "--lock"])
                .arg(t.path().join("mcpseal.lock"))
                .arg("--home")
                .arg(&home)
                .arg("--project")
                .arg(t.path()),
        )
    };
    let (code, out, _) = pin();
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "some-servers-not-pinned");
    // The sleeper's second launch rug-pulls its description: refused, and that decides.
    let (code, out, _) = pin();
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "changes-not-accepted");
    assert_eq!(v["refused"][0]["server"], "sleeper");
    assert_eq!(v["errors"][0]["server"], "hung");
}

/// Goose rewrites its own config; an entry mcpseal wrapped keeps its original in a comment
/// (like Codex's). Attacks on the YAML reader: a wrapped-looking marker cannot smuggle a
/// launch past parsing (the entry is still judged by its keys), and an alias that would make
/// two readers disagree about `cmd` is refused.
#[test]
fn goose_markers_and_aliases_cannot_change_what_is_launched() {
    let text = "extensions:\n  x:\n    # x-mcpseal-original: \"  x:\\n    type: stdio\\n    cmd: harmless\\n\"\n    type: stdio\n    cmd: evil\n";
    let s = clients::parse(Client::Goose, Path::new("config.yaml"), text.as_bytes()).unwrap();
    // It claims to be wrapped but does not launch the gate: it is not counted as wrapped
    // (that would let a planted marker keep a server out of `wrap`), and what it launches is
    // `evil`, which is what pin and scan see.
    assert_eq!(s[0].wrapped, WrapState::Stale);
    match &s[0].transport {
        Transport::Stdio { command, .. } => assert_eq!(command, "evil"),
        _ => panic!("not stdio"),
    }
    let alias = "base: &b npx\nextensions:\n  x:\n    type: stdio\n    cmd: *b\n";
    assert_eq!(
        clients::parse(Client::Goose, Path::new("config.yaml"), alias.as_bytes())
            .unwrap_err()
            .code(),
        "config-parse"
    );
}

/// A planted (or stale) wrap marker on an entry that does not launch `mcpseal run` must not
/// make `wrap` report it "already-wrapped" and leave it ungated without a word. JSON, TOML
/// and YAML alike: the entry is reported NOT GATED (`skipped-stale-marker`), and the listing
/// says `stale`.
#[test]
fn a_planted_wrap_marker_does_not_pass_for_wrapped() {
    let t = tempfile::tempdir().unwrap();
    let cases: [(Client, &str, &str); 3] = [
        (
            Client::Cursor,
            "mcp.json",
            r#"{"mcpServers": {"x": {"command": "evil", "x-mcpseal-original": "{\"command\": \"harmless\"}"}}}"#,
        ),
        (
            Client::Codex,
            "config.toml",
            "[mcp_servers.x]\ncommand = \"evil\"\n# x-mcpseal-original = \"command = \\\"harmless\\\"\"\n",
        ),
        (
            Client::Goose,
            "config.yaml",
            "extensions:\n  x:\n    # x-mcpseal-original: \"  x:\\n    type: stdio\\n    cmd: harmless\\n\"\n    type: stdio\n    cmd: evil\n",
        ),
    ];
    for (client, file, text) in cases {
        let f = t.path().join(client.id()).join(file);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, text).unwrap();
        let s = clients::parse(client, &f, text.as_bytes())
            .unwrap_or_else(|e| panic!("{client:?}: {e}"));
        assert_eq!(s[0].wrapped, WrapState::Stale, "{client:?}");
        let (code, out, err) = common::run(
            common::mcpseal()
                .args([
                    "--json",
                    "wrap",
                    "--allow-unpinned",
                    "--as",
                    client.id(),
                    "--config",
                ])
                .arg(&f)
                .arg("--lock")
                .arg(t.path().join("l.lock")),
        );
        assert_eq!(code, 0, "{client:?}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["files"][0]["entries"][0]["action"], "skipped-stale-marker",
            "{client:?}: {out}"
        );
        assert!(
            v["files"][0]["entries"][0]["note"]
                .as_str()
                .unwrap()
                .contains("NOT GATED"),
            "{out}"
        );
    }
}

/// Every client id is named in the `--help` of each command that takes `--client`, and in
/// docs/clients.md (a client added in code but not in the help is one a user cannot find).
#[test]
fn every_client_is_named_in_the_help_and_the_docs() {
    let docs = std::fs::read_to_string(common::root().join("docs/clients.md")).unwrap();
    for cmd in ["pin", "wrap", "scan"] {
        let (code, out, _) = common::run(common::mcpseal().args([cmd, "--help"]));
        assert_eq!(code, 0);
        let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
        for c in Client::ALL {
            assert!(
                flat.contains(c.id()),
                "{cmd} --help does not name {}",
                c.id()
            );
            assert!(
                docs.contains(&format!("`{}`", c.id())),
                "docs/clients.md does not name {}",
                c.id()
            );
        }
    }
}
