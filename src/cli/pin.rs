//! `mcpseal pin NAME -- CMD ARGS…`: capture a server's surface and pin it in mcpseal.lock.
//!
//! Updating an existing pin prints what changed, so a reviewer approves a named diff, not a
//! silent swap.

use std::path::PathBuf;

use serde_json::json;

use super::surface::{ServerArgs, capture_error};
use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::lock::{self, PinnedLaunch, ServerEntry, Store};
use crate::mcp;
use crate::surface::diff;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The name to pin the server under (the name your MCP client config gives it).
    #[arg(value_name = "NAME", required_unless_present_any = ["config", "client", "all"])]
    pub name: Option<String>,
    /// Pin every server of this MCP client config file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "client", "all"])]
    pub config: Option<PathBuf>,
    /// Pin every server of every config of this client (claude-desktop, claude-code, cursor,
    /// vscode, windsurf, gemini, codex, kiro).
    #[arg(long, value_name = "CLIENT", conflicts_with_all = ["name", "all"])]
    pub client: Option<String>,
    /// Pin every server of every MCP client config found (see `mcpseal clients`).
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
    /// With --config/--client/--all: the home folder to look in (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// With --config/--client/--all: the project folder (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The lockfile to update.
    #[arg(long, default_value = lock::DEFAULT_PATH, value_name = "FILE")]
    pub lock: PathBuf,
    /// Also pin the digest of this release artifact (file or directory); `mcpseal run` refuses
    /// to start the server if it changes on disk. Repeatable.
    #[arg(long = "artifact", value_name = "PATH")]
    pub artifacts: Vec<PathBuf>,
    /// Pin from a signed release: the live surface must equal the surface signed in this
    /// bundle (no trust on first use); the lock records the signer and the bundle digest.
    #[arg(long, value_name = "BUNDLE", requires = "key")]
    pub bundle: Option<PathBuf>,
    /// With --bundle: the publisher's Ed25519 public key.
    #[arg(long, value_name = "PUB", requires = "bundle")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub(crate) fn lock_error(e: lock::LockError) -> CliError {
    let help = match e.code() {
        "lock-missing" => "pin a server first: mcpseal pin NAME -- CMD ARGS…",
        "lock-tampered" => {
            "restore the file from version control, or re-pin the server: mcpseal pin NAME -- CMD ARGS…"
        }
        _ => "check the lockfile path; `git diff mcpseal.lock` shows what changed",
    };
    CliError::error(e.code(), e.to_string()).help(help)
}

/// A server name is a key in files and configs: printable, no control characters.
pub(crate) fn check_name(name: &str) -> Result<(), CliError> {
    lock::check_server_name(name).map_err(|why| {
        CliError::error("bad-server-name", format!("{name:?}: {why}"))
            .help("pick another name for the server (the lockfile's key and `run --name`)")
    })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    if args.config.is_some() || args.client.is_some() || args.all {
        return super::pin_configs::run(args, g);
    }
    let name = args
        .name
        .clone()
        .ok_or_else(|| CliError::error("usage", "name the server to pin"))?;
    check_name(&name)?;
    let spec = args.server.spec()?;
    let opts = args.server.options()?;
    let mut store = Store::open(&args.lock).map_err(lock_error)?;
    let cap = mcp::capture(&spec, &opts).map_err(capture_error)?;
    let mut entry = ServerEntry::from_surface(
        PinnedLaunch::from_spec(&spec),
        opts.capabilities.clone(),
        &cap.surface,
    )
    .map_err(lock_error)?;
    if let (Some(b), Some(k)) = (&args.bundle, &args.key) {
        let (verified, mismatches) = super::verify_surface::check_signed(b, k, &cap.surface)?;
        if !mismatches.is_empty() {
            let list: Vec<String> = mismatches
                .iter()
                .map(super::verify_surface::describe)
                .collect();
            return Err(CliError::fail(
                "surface-mismatch",
                format!(
                    "{}: the live surface is not the one signed in {}:\n  {}",
                    name,
                    b.display(),
                    list.join("\n  ")
                ),
            )
            .help("do not pin it: the server differs from its signed release"));
        }
        entry.signed = Some(lock::PinnedSignature {
            bundle_digest: verified.bundle_digest(),
            key_id: verified.key_id().to_owned(),
            surface_digest: entry.surface_digest,
        });
    }
    for a in &args.artifacts {
        let abs = a
            .canonicalize()
            .map_err(|e| super::io_error(a, "an artifact", e))?;
        let d = crate::digest::digest_path(&abs).map_err(super::digest::digest_error)?;
        entry.artifacts.push(lock::PinnedArtifact {
            path: abs.display().to_string(),
            digest: d.digest,
        });
    }
    // One engine everywhere: what is pinned is scanned, and the findings are reported.
    let findings = crate::scan::scan_alone(&crate::scan::ScanInput {
        name: name.clone(),
        surface: Some(cap.surface.clone()),
        launch: Some(spec.clone()),
    });
    let previous = store.lock.servers.get(&name).cloned();
    let changes = previous
        .as_ref()
        .map(|p| diff::diff(&p.to_surface(), &cap.surface));
    let surface_digest = entry.surface_digest;
    let count = cap.surface.len();
    store.lock.servers.insert(name.clone(), entry);
    let path = store.path().display().to_string();
    store.commit().map_err(lock_error)?;
    if g.json {
        emit_json(&json!({
            "ok": true, "server": name, "lock": path, "surfaceDigest": surface_digest,
            "entities": count, "updated": previous.is_some(), "changes": changes,
            "findings": findings,
        }));
    } else {
        match (&previous, &changes) {
            (None, _) => emit(&format!(
                "pinned {} ({count} entities, surface {surface_digest}) in {path}",
                name
            )),
            (Some(_), Some(d)) if d.is_empty() => {
                emit(&format!("{}: unchanged (surface {surface_digest})", name))
            }
            (Some(_), Some(d)) => {
                emit(&format!(
                    "re-pinned {} in {path}; what changed since the last pin:",
                    name
                ));
                for l in super::render_diff::lines(d, "  ") {
                    emit(&l);
                }
            }
            _ => {}
        }
        if let Some(summary) = super::scan::pin_summary(&findings, &path) {
            emit(&summary);
        }
    }
    Ok(Exit::Ok)
}
