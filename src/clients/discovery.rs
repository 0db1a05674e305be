//! Discovery: where each client keeps its MCP config files ([`candidates`], [`discover`]),
//! which of them a command works on ([`select`]), and which client a file named on the command
//! line belongs to ([`Client::guess`]). Nothing here reads a file's contents.

use std::path::{Path, PathBuf};

use super::{Client, expand};

impl Client {
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
        // At the root there is nothing further up: the file's folder is the project.
        let Some(up) = d.parent() else { break };
        d = up;
    }
    Some(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(os: Os, project: bool) -> Roots {
        Roots {
            home: PathBuf::from("/h"),
            project: project.then(|| PathBuf::from("/p")),
            appdata: None,
            os,
        }
    }

    fn paths(r: &Roots, client: Client) -> Vec<String> {
        candidates(r)
            .into_iter()
            .filter(|c| c.client == client)
            .map(|c| c.path.display().to_string().replace('\\', "/"))
            .collect()
    }

    /// Every client but Continue (which reads whatever JSON files its folder holds) has a
    /// user-level place on every OS; and every place is guessed back to its client.
    #[test]
    fn every_client_has_a_place_on_every_os_that_guesses_back_to_it() {
        for os in [Os::Linux, Os::MacOs, Os::Windows] {
            let r = roots(os, true);
            for client in Client::ALL {
                if client != Client::Continue {
                    assert!(!paths(&r, client).is_empty(), "{client:?} on {os:?}");
                }
            }
            for c in candidates(&r) {
                assert_eq!(Client::guess(&c.path), c.client, "{}", c.path.display());
                let project = c.path.starts_with("/p");
                assert_eq!(c.scope == Scope::Project, project, "{}", c.path.display());
            }
        }
    }

    #[test]
    fn user_config_folders_follow_the_os() {
        let desktop = |os| paths(&roots(os, false), Client::ClaudeDesktop);
        assert_eq!(
            desktop(Os::Linux),
            ["/h/.config/Claude/claude_desktop_config.json"]
        );
        assert_eq!(
            desktop(Os::MacOs),
            ["/h/Library/Application Support/Claude/claude_desktop_config.json"]
        );
        assert_eq!(
            desktop(Os::Windows),
            ["/h/AppData/Roaming/Claude/claude_desktop_config.json"]
        );
        // Zed keeps ~/.config/zed on macOS too.
        assert_eq!(
            paths(&roots(Os::MacOs, false), Client::Zed),
            ["/h/.config/zed/settings.json"]
        );
        assert_eq!(
            paths(&roots(Os::Linux, true), Client::Codex),
            ["/h/.codex/config.toml", "/p/.codex/config.toml"]
        );
        // No project folder, no project files.
        assert!(
            candidates(&roots(Os::Linux, false))
                .iter()
                .all(|c| c.scope == Scope::User)
        );
    }

    #[test]
    fn a_config_named_on_the_command_line_is_taken_as_given() {
        let r = roots(Os::Linux, true);
        let sel = Selection::Config(PathBuf::from("/p/.vscode/mcp.json"), None);
        let got = select(&r, &sel);
        assert_eq!(
            got,
            [ConfigFile {
                client: Client::VsCode,
                scope: Scope::Project,
                path: PathBuf::from("/p/.vscode/mcp.json"),
            }]
        );
        let forced = Selection::Config(PathBuf::from("/x/odd.json"), Some(Client::Kiro));
        assert_eq!(select(&r, &forced)[0].client, Client::Kiro);
        assert_eq!(select(&r, &forced)[0].scope, Scope::User);
        // `${workspaceFolder}` of a project file is the folder holding `.vscode/`.
        assert_eq!(r.context(&got[0]).workspace, Some(PathBuf::from("/p")));
        // Found writing this test: a file one level below the root had no project folder.
        assert_eq!(
            project_of(Path::new("/q/.mcp.json")),
            Some(PathBuf::from("/q"))
        );
        assert_eq!(
            project_of(Path::new("/w/q/.mcp.json")),
            Some(PathBuf::from("/w/q"))
        );
        assert_eq!(
            project_of(Path::new("/w/q/.kiro/settings/mcp.json")),
            Some(PathBuf::from("/w/q"))
        );
    }
}
