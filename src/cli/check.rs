//! `mcpseal check [NAME…]`: re-capture pinned servers, concurrently, and report any drift.
//!
//! Exit 0 when every server matches its pin; 1 on any drift (with a diff a reviewer reads:
//! old and new text, the JSON pointer of each changed schema node, added and removed
//! entities); 2 when a server could not be checked and nothing drifted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::lock::{self, PinnedLaunch, ServerEntry, Store};
use crate::mcp::{self, CaptureOptions, LaunchSpec};
use crate::surface::diff::{self, SurfaceDiff};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Servers to check [default: every pinned server].
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// The lockfile to check against [default: mcpseal.lock in the current folder if there is
    /// one, else the per-user lock that `pin --all` writes].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Give up on a server that has not answered within this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// How many servers to start at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
}

/// The env values the client config a server was pinned from gives it (expanded the way that
/// client expands them), or none if that config or entry is gone.
fn origin_env(origin: Option<&lock::Origin>) -> BTreeMap<String, String> {
    let Some(o) = origin else {
        return BTreeMap::new();
    };
    let Some(client) = crate::clients::Client::from_id(&o.client) else {
        return BTreeMap::new();
    };
    let Ok(roots) = super::clients::roots(None, None) else {
        return BTreeMap::new();
    };
    let path = PathBuf::from(&o.config);
    let cf = crate::clients::select(
        &roots,
        &crate::clients::Selection::Config(path, Some(client)),
    );
    let Some(cf) = cf.first() else {
        return BTreeMap::new();
    };
    let ctx = roots.context(cf);
    crate::clients::load(cf)
        .ok()
        .and_then(|servers| servers.into_iter().find(|s| s.name == o.name))
        .and_then(|s| s.launch_spec(&ctx, &|k| std::env::var(k).ok()).ok())
        .map(|spec| match spec {
            LaunchSpec::Stdio { env, .. } => env,
            _ => BTreeMap::new(),
        })
        .unwrap_or_default()
}

/// The runtime spec of a pinned launch: env values come from this process's environment, or
/// else from the client config the server was pinned from.
pub(crate) fn runtime_spec(name: &str, entry: &ServerEntry) -> Result<LaunchSpec, CliError> {
    match &entry.launch {
        PinnedLaunch::Stdio { command, args, env } => {
            let mut values = BTreeMap::new();
            let mut from_config: Option<BTreeMap<String, String>> = None;
            for var in env {
                if let Ok(v) = std::env::var(var) {
                    values.insert(var.clone(), v);
                    continue;
                }
                let cfg = from_config.get_or_insert_with(|| origin_env(entry.origin.as_ref()));
                if let Some(v) = cfg.get(var) {
                    values.insert(var.clone(), v.clone());
                    continue;
                }
                let v = std::env::var(var).map_err(|_| {
                    CliError::error(
                        "env-unset",
                        match &entry.origin {
                            Some(o) => format!(
                                "server {name:?} needs the environment variable {var}, which is not set, and {} no longer gives it",
                                o.config
                            ),
                            None => format!(
                                "server {name:?} needs the environment variable {var}, which is not set"
                            ),
                        },
                    )
                    .help(match &entry.origin {
                        Some(o) => format!(
                            "{} no longer gives {var} to {:?}: export {var}=… before running, or fix that config",
                            o.config, o.name
                        ),
                        None => format!("export {var}=… before running, as your MCP client would"),
                    })
                })?;
                values.insert(var.clone(), v);
            }
            Ok(LaunchSpec::Stdio {
                command: command.clone(),
                args: args.clone(),
                env: values,
                cwd: None,
            })
        }
        PinnedLaunch::Http { headers, .. } | PinnedLaunch::Sse { headers, .. } if !headers.is_empty() => Err(CliError::error(
            "headers-needed",
            format!("server {name:?} was pinned with HTTP headers ({}); their values are never stored, so check cannot send them", headers.join(", ")),
        )
        .help(format!("re-check it by hand: mcpseal pin {name} --url URL --header 'Name: value' (prints what changed)"))),
        PinnedLaunch::Http { url, .. } => Ok(LaunchSpec::Http { url: url.clone(), headers: BTreeMap::new() }),
        PinnedLaunch::Sse { url, .. } => Ok(LaunchSpec::Sse { url: url.clone(), headers: BTreeMap::new() }),
    }
}

enum Outcome {
    Same,
    Drift(SurfaceDiff),
    Error(CliError),
}

/// What the lock recorded about the server's channel still holds, before it is started: the
/// pinned launch runs the recorded package and version, and a pinned MCP bundle is unchanged
/// on disk (the gate's own checks, docs/channels.md).
fn channel_holds(name: &str, entry: &ServerEntry) -> Result<(), CliError> {
    if let Some(p) = &entry.package {
        let found = match &entry.launch {
            crate::lock::PinnedLaunch::Stdio { command, args, .. } => {
                crate::channels::launch_runs(p, command, args)
            }
            _ => crate::channels::launch_runs(p, "", &[]),
        };
        if let Err(found) = found {
            return Err(CliError::fail(
                "package-mismatch",
                format!(
                    "server {name:?} records {} package {}@{}, but its pinned launch `{}` runs {}",
                    p.registry_type,
                    p.identifier,
                    p.version,
                    entry.launch.display(),
                    found.map_or_else(|| "no such package".to_owned(), |f| f.display())
                ),
            )
            .help("the lock was edited by hand: restore it, or re-pin the server"));
        }
    }
    if let Some(b) = &entry.mcpb {
        let d = crate::digest::sha256_file(std::path::Path::new(&b.path))
            .map_err(|e| CliError::error("mcpb-unreadable", format!("server {name:?}: {e}")))?;
        if d != b.digest {
            return Err(CliError::fail(
                "mcpb-mismatch",
                format!(
                    "the MCP bundle {} of server {name:?} digests to {d}, but {} is pinned",
                    b.path, b.digest
                ),
            )
            .help(format!(
                "verify the new bundle (mcpseal verify {}), then re-pin it with --mcpb",
                b.path
            )));
        }
    }
    Ok(())
}

fn check_one(name: &str, entry: &ServerEntry, timeout: Duration) -> Outcome {
    if let Err(e) = channel_holds(name, entry) {
        return Outcome::Error(e);
    }
    let spec = match runtime_spec(name, entry) {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e),
    };
    let opts = CaptureOptions {
        timeout,
        capabilities: entry.capabilities.clone(),
        discover: entry.protocol_version == crate::mcp::capture::DISCOVER_VERSION,
        ..CaptureOptions::default()
    };
    match mcp::capture(&spec, &opts) {
        Err(e) => Outcome::Error(super::surface::capture_error(e)),
        Ok(cap) => {
            let d = diff::diff(&entry.to_surface(), &cap.surface);
            if d.is_empty() {
                Outcome::Same
            } else {
                Outcome::Drift(d)
            }
        }
    }
}

pub fn run(mut args: Args, g: &Global) -> CmdResult {
    let here = PathBuf::from(lock::DEFAULT_PATH);
    let lock_path = match args.lock.take() {
        Some(p) => p,
        None if here.exists() => here,
        None => match lock::user_lock_path().filter(|p| p.exists()) {
            Some(user) => {
                super::progress(&format!(
                    "check: using the per-user lock {}",
                    user.display()
                ));
                user
            }
            None => here,
        },
    };
    let lockfile = Store::load(&lock_path).map_err(super::lock_error)?;
    let names: Vec<String> = if args.names.is_empty() {
        lockfile.servers.keys().cloned().collect()
    } else {
        args.names.clone()
    };
    for n in &names {
        if !lockfile.servers.contains_key(n) {
            let help = match crate::lock::closest_name(lockfile.servers.keys(), n) {
                Some(near) => format!("did you mean {near:?}? (mcpseal check {near})"),
                None => format!("mcpseal pin {n} -- CMD ARGS…"),
            };
            return Err(CliError::error(
                "not-pinned",
                format!("{}: no server named {n:?} is pinned", lock_path.display()),
            )
            .help(help));
        }
    }
    if names.is_empty() {
        return Err(CliError::error(
            "nothing-pinned",
            format!("{}: no servers are pinned", lock_path.display()),
        )
        .help("mcpseal pin NAME -- CMD ARGS…"));
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let jobs = args.jobs.max(1);
    let mut progress = super::progress::Progress::start("check", names.clone());
    let results = mcp::pool::map(
        &names,
        jobs,
        |n| check_one(n, &lockfile.servers[n], timeout),
        |i, o| {
            let state = match o {
                Some(Outcome::Same) => "ok".to_owned(),
                Some(Outcome::Drift(_)) => "DRIFT".to_owned(),
                Some(Outcome::Error(e)) => format!("not checked [{}]", e.code),
                None => "not checked [internal]".to_owned(),
            };
            progress.finished(i, &names[i], &state);
        },
    );
    drop(progress);
    let outcomes: Vec<(String, Outcome)> = names
        .iter()
        .cloned()
        .zip(results.into_iter().map(|r| {
            r.unwrap_or_else(|| {
                Outcome::Error(CliError::error("internal", "the check thread panicked"))
            })
        }))
        .collect();
    let drift = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Drift(_)));
    let errors = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Error(_)));
    // A channel check that failed (the pinned package or bundle no longer holds) is not
    // trustworthy (1), not undecided (2).
    let failed = outcomes
        .iter()
        .any(|(_, o)| matches!(o, Outcome::Error(e) if e.exit == Exit::Fail));
    if g.json {
        let servers: Vec<Value> = outcomes
            .iter()
            .map(|(n, o)| match o {
                Outcome::Same => json!({"server": n, "status": "ok"}),
                Outcome::Drift(d) => json!({"server": n, "status": "drift", "maxSeverity": d.max_severity(), "changes": d}),
                Outcome::Error(e) => json!({"server": n, "status": "error", "reason": e.code, "message": e.message}),
            })
            .collect();
        let reason = if drift {
            Some("drift")
        } else if failed {
            Some("channel-mismatch")
        } else if errors {
            Some("check-incomplete")
        } else {
            None
        };
        emit_json(&json!({"ok": !drift && !errors, "reason": reason, "servers": servers}));
    } else {
        for (n, o) in &outcomes {
            match o {
                Outcome::Same => emit(&format!("ok     {n}: matches its pin")),
                Outcome::Drift(d) => {
                    emit(&format!(
                        "DRIFT  {n}: the live surface differs from its pin ({} change(s), max severity {})",
                        d.entities.len() + usize::from(d.instructions.is_some()),
                        d.max_severity().map_or("none", |s| s.as_str())
                    ));
                    for l in super::render_diff::lines(d, "         ") {
                        emit(&l);
                    }
                    emit(&format!(
                        "         review, then approve with: mcpseal pin {n} -- …   (or remove the server)"
                    ));
                }
                Outcome::Error(e) => {
                    emit(&format!("ERROR  {n}: [{}] {}", e.code, e.message));
                }
            }
        }
    }
    Ok(if drift || failed {
        Exit::Fail
    } else if errors {
        Exit::Error
    } else {
        Exit::Ok
    })
}
