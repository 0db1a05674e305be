//! `mcpseal clients [--home DIR] [--project DIR]`: which MCP client configs exist, and what
//! servers they launch. Env and header *names* only, never values.

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::clients::{self, ClientsError, Os, Roots, Scope, Server, Transport, WrapState};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Home folder to look in (default: $HOME). Useful to inspect another account or a test tree.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Project folder whose project-scoped configs (.mcp.json, .vscode/mcp.json, …) to include
    /// (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

/// Builds the search roots from `--home` / `--project` or the environment.
pub(crate) fn roots(home: Option<PathBuf>, project: Option<PathBuf>) -> Result<Roots, CliError> {
    let home = match home.or_else(std::env::home_dir) {
        Some(h) => h,
        None => {
            return Err(
                CliError::error("no-home", "cannot tell the home folder").help("pass --home DIR")
            );
        }
    };
    let project = project.or_else(|| std::env::current_dir().ok());
    Ok(Roots {
        home,
        project,
        appdata: std::env::var_os("APPDATA").map(PathBuf::from),
        os: Os::current(),
    })
}

pub(crate) fn clients_error(e: ClientsError) -> CliError {
    let help = match &e {
        ClientsError::Parse { path, .. } => {
            let backup = crate::clients::edit::backup_path(path);
            if backup.is_file() {
                format!(
                    "fix {} (or restore it from {}) and run again",
                    path.display(),
                    backup.display()
                )
            } else {
                format!(
                    "fix {} (the line and column above) and run again",
                    path.display()
                )
            }
        }
        ClientsError::UnknownClient(_) => "run `mcpseal clients` to see what was found".into(),
        _ => "run `mcpseal clients` to see what was found".into(),
    };
    CliError::error(e.code(), e.to_string()).help(help)
}

fn wrap_state(w: WrapState) -> &'static str {
    match w {
        WrapState::No => "no",
        WrapState::Wrapped => "wrapped",
        WrapState::ByHand => "by-hand",
        WrapState::Stale => "stale",
    }
}

pub(crate) fn server_json(s: &Server) -> serde_json::Value {
    let mut o = json!({
        "name": s.name,
        "transport": s.transport_label(),
        "env": s.env.keys().chain(s.env_passthrough.iter()).collect::<Vec<_>>(),
        "headers": s.headers.keys().chain(s.header_vars.keys()).collect::<Vec<_>>(),
        "wrapped": wrap_state(s.wrapped),
        "disabled": s.disabled,
    });
    match &s.transport {
        Transport::Stdio { command, args, .. } => {
            o["command"] = json!(command);
            o["args"] = json!(args);
        }
        Transport::Http { url } | Transport::Sse { url } => o["url"] = json!(url),
    }
    if let Some(p) = &s.project {
        o["project"] = json!(p);
    }
    o
}

fn server_line(s: &Server) -> String {
    let what = match &s.transport {
        Transport::Stdio { command, args, .. } => std::iter::once(command)
            .chain(args)
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        Transport::Http { url } | Transport::Sse { url } => url.clone(),
    };
    let mut line = format!("  {:?}  {}  {what}", s.name, s.transport_label());
    let env: Vec<&String> = s.env.keys().chain(s.env_passthrough.iter()).collect();
    if !env.is_empty() {
        line += &format!(
            "  env: {}",
            env.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(p) = &s.project {
        line += &format!("  (project {p:?})");
    }
    match s.wrapped {
        WrapState::Wrapped => line += "  [wrapped]",
        WrapState::ByHand => line += "  [runs mcpseal, not wrapped by mcpseal wrap]",
        WrapState::Stale => {
            line += "  [NOT GATED: carries a wrap marker but does not launch mcpseal run]"
        }
        WrapState::No => {}
    }
    if s.disabled {
        line += "  [disabled]";
    }
    line
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let r = roots(args.home, args.project)?;
    let mut files = Vec::new();
    let mut broken = 0;
    let found = clients::discover(&r);
    if found.is_empty() && !g.json {
        emit(&format!(
            "no MCP client configs found (home {})",
            r.home.display()
        ));
    }
    for cf in found {
        let scope = if cf.scope == Scope::User {
            "user"
        } else {
            "project"
        };
        match clients::load(&cf) {
            Ok(servers) => {
                if g.json {
                    files.push(json!({"client": cf.client.id(), "scope": scope, "path": cf.path.display().to_string(),
                        "servers": servers.iter().map(server_json).collect::<Vec<_>>()}));
                } else {
                    emit(&format!(
                        "{}  {scope}  {}",
                        cf.client.id(),
                        cf.path.display()
                    ));
                    for s in &servers {
                        emit(&server_line(s));
                    }
                    if servers.is_empty() {
                        emit("  (no servers)");
                    }
                }
            }
            Err(e) => {
                broken += 1;
                if g.json {
                    files.push(json!({"client": cf.client.id(), "scope": scope, "path": cf.path.display().to_string(),
                        "error": {"reason": e.code(), "message": e.to_string()}}));
                } else {
                    emit(&format!(
                        "{}  {scope}  {}\n  error[{}]: {e}",
                        cf.client.id(),
                        cf.path.display(),
                        e.code()
                    ));
                }
            }
        }
    }
    if g.json {
        emit_json(&json!({"ok": broken == 0, "files": files}));
    }
    if broken > 0 {
        if !g.json {
            super::render_error(
                &CliError::error(
                    "config-parse",
                    format!("{broken} config file(s) could not be read"),
                )
                .help("fix the files named above, then run `mcpseal clients` again"),
                g,
            );
        }
        return Ok(Exit::Error);
    }
    Ok(Exit::Ok)
}
