//! `mcpseal wrap` and `mcpseal unwrap`: put every server of a client config behind
//! `mcpseal run`, and take it back out. The edits themselves live in
//! [`crate::clients::edit`]; this file selects files, refuses before writing, and reports.

use std::path::PathBuf;

use serde_json::json;

use super::clients::{clients_error, roots};
use super::{CliError, ClientArg, CmdResult, Exit, Global, emit, emit_json};
use crate::clients::{self, ConfigFile, Selection, edit};

/// Which configs to work on.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false, id = "which")]
pub struct Which {
    /// Every config file found for this client.
    #[arg(long, value_enum, value_name = "CLIENT", group = "which")]
    pub client: Option<ClientArg>,
    /// One config file (its client is guessed from the path; add --as to say it).
    #[arg(long, value_name = "FILE", group = "which")]
    pub config: Option<PathBuf>,
    /// Every config file `mcpseal clients` lists.
    #[arg(long, group = "which")]
    pub all: bool,
}

#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub which: Which,
    /// With --config: the client whose format the file is in.
    #[arg(long = "as", value_enum, value_name = "CLIENT", requires = "config")]
    pub as_client: Option<ClientArg>,
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --client/--all: stop at a config file that cannot be read, parsed or edited,
    /// writing nothing, instead of reporting it and going on with the others (exit 2 either way).
    #[arg(long)]
    pub strict: bool,
    /// Home folder to look in (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Project folder for project-scoped configs (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
}

/// Rewrite client configs so each server launches as `mcpseal run --name NAME -- <command>`.
///
/// Keeps comments, key order and unknown keys; stores each original entry in the file so
/// `mcpseal unwrap` restores it byte for byte; writes `<file>.mcpseal-backup` first and
/// replaces the file atomically. Wrapping twice changes nothing. Pin first (`mcpseal pin
/// --all`): the gate refuses servers that are not in the lock.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// Lockfile the wrapped entries use, written into each entry as an absolute path (a client
    /// starts servers from a folder of its choosing) [default: mcpseal.lock in the current
    /// folder; with --client or --all, the per-user lock, as `pin --all` writes it].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Trust policy the wrapped entries use, written into each entry as an absolute path
    /// [default: mcpseal-policy.toml beside the lockfile, if there is one]. Passed explicitly,
    /// a policy that is deleted later makes the gate refuse instead of silently running
    /// without it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Wrap servers the lock does not pin (the gate refuses them until they are pinned).
    /// Without it, wrap refuses a missing lock and lists the unpinned servers, writing nothing.
    #[arg(long)]
    pub allow_unpinned: bool,
}

/// Restore the entries `mcpseal wrap` rewrote, byte for byte.
#[derive(Debug, clap::Args)]
pub struct UnwrapArgs {
    #[command(flatten)]
    pub common: Common,
}

struct Request {
    files: Vec<ConfigFile>,
    dry_run: bool,
    /// Stop at the first file that cannot be handled (always so for an explicit --config).
    strict: bool,
}

fn request(c: Common) -> Result<Request, CliError> {
    let strict = c.strict || c.which.config.is_some();
    let sel = match (c.which.client, c.which.config, c.which.all) {
        (Some(n), None, false) => Selection::Client(n.0),
        (None, Some(p), false) => Selection::Config(p, c.as_client.map(|a| a.0)),
        (None, None, true) => Selection::All,
        _ => {
            return Err(CliError::error(
                "usage",
                "give exactly one of --client, --config, --all",
            ));
        }
    };
    let r = roots(c.home, c.project)?;
    let files = clients::select(&r, &sel);
    if files.is_empty() {
        return Err(
            CliError::error("no-config", "no MCP client config found for that selection")
                .help("run `mcpseal clients` to see what was found, or pass --config FILE"),
        );
    }
    Ok(Request {
        files,
        dry_run: c.dry_run,
        strict,
    })
}

/// Computes every file's new text first; writes only if all of them could be computed.
/// `before_writing` sees every computed outcome and may stop the command before any file is
/// written.
fn apply_all(
    req: &Request,
    g: &Global,
    verb: &str,
    f: &dyn Fn(&ConfigFile, &str) -> Result<edit::Outcome, clients::ClientsError>,
    before_writing: &dyn Fn(&[edit::Outcome]) -> Result<(), CliError>,
) -> CmdResult {
    let mut plans = Vec::new();
    // Files that could not be handled, reported and left as they are (not with --strict).
    let mut skipped: Vec<(&ConfigFile, CliError)> = Vec::new();
    for cf in &req.files {
        let planned = std::fs::read(&cf.path)
            .map_err(|source| clients::ClientsError::Io {
                path: cf.path.clone(),
                source,
            })
            .and_then(|old| {
                let text = std::str::from_utf8(&old).map_err(|_| clients::ClientsError::Parse {
                    path: cf.path.clone(),
                    line: 1,
                    column: 1,
                    message: "not valid UTF-8".into(),
                })?;
                let out = f(cf, text)?;
                Ok((old, out))
            });
        match planned {
            Ok((old, out)) => plans.push((cf, old, out)),
            Err(e) if !req.strict => skipped.push((cf, clients_error(e))),
            Err(e) => return Err(clients_error(e)),
        }
    }
    let outcomes: Vec<edit::Outcome> = plans.iter().map(|(_, _, o)| o.clone()).collect();
    before_writing(&outcomes)?;
    let mut report = Vec::new();
    for (cf, old, out) in &plans {
        let mut backup = None;
        if out.changed() && !req.dry_run {
            backup = Some(
                edit::write_with_backup(&cf.path, old, out.text.as_bytes()).map_err(|e| {
                    CliError::error(
                        "config-write",
                        format!("cannot write {}: {e}", cf.path.display()),
                    )
                    .help("check the folder is writable; the file was left as it was")
                })?,
            );
        }
        if g.json {
            report.push(json!({
                "client": cf.client.id(),
                "path": cf.path.display().to_string(),
                "changed": out.changed(),
                "backup": backup.as_ref().map(|b| b.display().to_string()),
                "entries": out.entries.iter().map(|e| json!({
                    "name": e.name, "key": e.key, "project": e.project, "action": e.action, "note": e.note,
                })).collect::<Vec<_>>(),
            }));
        } else {
            let state = match (out.changed(), req.dry_run) {
                (false, _) => "unchanged".to_owned(),
                (true, true) => format!("would be {verb}"),
                (true, false) => format!(
                    "{verb} (backup: {})",
                    backup
                        .as_ref()
                        .map_or(String::new(), |b| b.display().to_string())
                ),
            };
            emit(&format!(
                "{}  {}  {state}",
                cf.client.id(),
                cf.path.display()
            ));
            for e in &out.entries {
                let mut line = format!("  {:?}  {}", e.name, e.action);
                if let Some(p) = &e.project {
                    line += &format!("  (project {p:?})");
                }
                if let Some(n) = &e.note {
                    line += &format!("\n    note: {n}");
                }
                emit(&line);
            }
        }
    }
    for (cf, e) in &skipped {
        if !g.json {
            emit(&format!(
                "{}  {}  SKIPPED, left as it is: [{}] {}\n    {}",
                cf.client.id(),
                cf.path.display(),
                e.code,
                e.message,
                e.help.as_deref().unwrap_or("")
            ));
        }
    }
    if g.json {
        emit_json(&json!({
            "ok": skipped.is_empty(),
            "reason": (!skipped.is_empty()).then_some("some-configs-skipped"),
            "dryRun": req.dry_run,
            "files": report,
            "skipped": skipped.iter().map(|(cf, e)| json!({
                "client": cf.client.id(),
                "path": cf.path.display().to_string(),
                "reason": e.code,
                "message": e.message,
            })).collect::<Vec<_>>(),
        }));
    } else if !skipped.is_empty() {
        emit(&format!(
            "{} config file(s) skipped; the others were {verb}. Fix them and run again (--strict stops at the first instead)",
            skipped.len()
        ));
    }
    Ok(if skipped.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

fn absolute(p: &std::path::Path) -> Result<PathBuf, CliError> {
    std::path::absolute(p).map_err(|e| {
        CliError::error(
            "usage",
            format!("cannot make {} absolute: {e}", p.display()),
        )
    })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let host_wide = args.common.which.client.is_some() || args.common.which.all;
    let lock_abs = absolute(&super::resolve_lock(args.lock.as_ref(), host_wide)?)?;
    super::progress(&format!(
        "wrap: entries will use the lock {}",
        lock_abs.display()
    ));
    let policy = match &args.policy {
        Some(p) if !p.is_file() => {
            return Err(CliError::error(
                "policy-invalid",
                format!("{}: no such policy file", p.display()),
            )
            .help("pass the policy the gate should apply, or leave --policy out"));
        }
        Some(p) => Some(absolute(p)?),
        None => {
            let beside = lock_abs
                .parent()
                .unwrap_or(std::path::Path::new("/"))
                .join("mcpseal-policy.toml");
            beside.is_file().then_some(beside)
        }
    };
    let lock = Some(lock_abs.display().to_string());
    let req = request(args.common)?;
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| {
            CliError::error(
                "no-self-path",
                format!("cannot find mcpseal's own path: {e}"),
            )
        })?;
    // The lock the entries will run under: it must exist (unless --allow-unpinned), and its
    // `client/name` keys decide the name each entry is wrapped under.
    let lock_shown = lock_abs.display().to_string();
    let lockfile = match crate::lock::Store::load(&lock_abs) {
        Ok(l) => l,
        Err(crate::lock::LockError::Missing { .. }) if args.allow_unpinned => {
            crate::lock::Lockfile::new()
        }
        Err(e) => {
            return Err(CliError::error(
                e.code(),
                format!("{e}: wrap writes this lock into every entry, and the gate refuses every server it does not pin"),
            )
            .help(format!(
                "pin first: mcpseal pin --all --lock {lock_shown} (or pass --lock FILE; --allow-unpinned wraps anyway)"
            )));
        }
    };
    let opts = edit::WrapOptions {
        mcpseal: exe.display().to_string(),
        lock,
        policy: policy.map(|p| p.display().to_string()),
        qualified: lockfile
            .servers
            .keys()
            .filter(|k| k.contains('/'))
            .cloned()
            .collect(),
        images: lockfile
            .servers
            .iter()
            .filter_map(|(k, e)| Some((k.clone(), e.image.as_ref()?.digest)))
            .collect(),
    };
    let allow_unpinned = args.allow_unpinned;
    let pinned_check = |outcomes: &[edit::Outcome]| -> Result<(), CliError> {
        if allow_unpinned {
            return Ok(());
        }
        let unpinned: Vec<&str> = outcomes
            .iter()
            .flat_map(|o| &o.entries)
            .filter(|e| e.action == "wrapped")
            .filter_map(|e| e.key.as_deref())
            .filter(|k| !lockfile.servers.contains_key(*k))
            .collect();
        if unpinned.is_empty() {
            return Ok(());
        }
        Err(CliError::fail(
            "unpinned-servers",
            format!(
                "not pinned in {lock_shown}: {}; wrapped, the gate would refuse to start them. Nothing was written",
                unpinned.join(", ")
            ),
        )
        .help(format!(
            "pin them first: mcpseal pin --all --lock {lock_shown}; or pass --allow-unpinned to wrap them anyway"
        )))
    };
    apply_all(
        &req,
        g,
        "wrapped",
        &|cf, text| edit::wrap_text(cf.client, &cf.path, text, &opts),
        &pinned_check,
    )
}

pub fn run_unwrap(args: UnwrapArgs, g: &Global) -> CmdResult {
    let req = request(args.common)?;
    apply_all(
        &req,
        g,
        "unwrapped",
        &|cf, text| edit::unwrap_text(cf.client, &cf.path, text),
        &|_| Ok(()),
    )
}
