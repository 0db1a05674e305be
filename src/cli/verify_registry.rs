//! `mcpseal verify-registry server.json [--artifact FILE]…`: an MCP Registry entry's
//! metadata, and each artifact against the package it stands for ([`crate::registry`]).

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::registry;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server.json (as published to the MCP Registry).
    #[arg(value_name = "SERVER.json")]
    pub server_json: PathBuf,
    /// A package file to check against its entry: an npm tarball (its package.json must carry
    /// `mcpName` = the server's name) or a file whose entry has `fileSha256` (MCPB). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub artifact: Vec<PathBuf>,
}

fn refusal(e: registry::RegistryError, file: &std::path::Path) -> CliError {
    let help = match e.code() {
        "registry-version-not-exact" => {
            "publish server.json with exact versions (1.2.3), never ranges or `latest`"
        }
        "registry-digest-mismatch" | "registry-digest-missing" => {
            "do not install this file: it is not the one the registry entry names"
        }
        "registry-name-marker-mismatch" => {
            "the package does not claim this registry name: it may be an impostor; check the publisher"
        }
        _ => "mcpseal verify-registry server.json --artifact FILE",
    };
    crate::cli::verifier_error(
        e.code(),
        format!("{}: {e}", file.display()),
        e.is_input_error(),
    )
    .help(help)
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let text = read_input(&args.server_json, 4 << 20, "a server.json")?;
    let s = registry::parse(&text).map_err(|e| refusal(e, &args.server_json))?;
    registry::check_versions(&s).map_err(|e| refusal(e, &args.server_json))?;
    let mut matches = Vec::new();
    for a in &args.artifact {
        let bytes = read_input(a, 2 << 30, "a package file")?;
        let name = a.display().to_string();
        matches.push(registry::check_artifact(&s, &name, &bytes).map_err(|e| refusal(e, a))?);
    }
    if g.json {
        emit_json(&json!({
            "ok": true, "verified": true, "name": s.name, "version": s.version,
            "packages": s.packages, "artifacts": matches,
        }));
    } else {
        emit(&format!(
            "verified {} ({} {})",
            args.server_json.display(),
            s.name,
            s.version
        ));
        for p in &s.packages {
            emit(&format!(
                "  package {} {} {}",
                p.registry_type, p.identifier, p.version
            ));
        }
        for m in &matches {
            emit(&format!(
                "  artifact {} = {} {} ({}{})",
                m.artifact,
                m.package.identifier,
                m.package.version,
                m.sha256,
                m.name_marker
                    .as_ref()
                    .map_or(String::new(), |n| format!(", mcpName {n}"))
            ));
        }
    }
    Ok(Exit::Ok)
}
