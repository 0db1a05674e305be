//! `mcpseal check [NAME…]`: re-capture pinned servers, concurrently, and report any drift.
//! The checking is [`crate::check`]'s; this file picks the lock and the servers and renders.
//!
//! Exit 0 when every server matches its pin; 1 on any drift (with a diff a reviewer reads:
//! old and new text, the JSON pointer of each changed schema node, added and removed
//! entities); 2 when a server could not be checked and nothing drifted.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::check::{self, Outcome};
use crate::lock::{self, Store};

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
    let servers: Vec<(&str, &lock::ServerEntry)> = names
        .iter()
        .map(|n| (n.as_str(), &lockfile.servers[n]))
        .collect();
    // Where client configs live, for env values a pin's origin config gives; a machine
    // without a home folder just has none to offer.
    let roots = super::clients::roots(None, None).ok();
    let env = |k: &str| std::env::var(k).ok();
    let mut progress = super::progress::Progress::start("check", names.clone());
    let results = check::check_all(
        &servers,
        timeout,
        args.jobs.max(1),
        roots.as_ref(),
        &env,
        |i, o| {
            let state = match o {
                Outcome::Same => "ok".to_owned(),
                Outcome::Drift(_) => "DRIFT".to_owned(),
                Outcome::NotChecked(e) => format!("not checked [{}]", e.code()),
                Outcome::Refused(e) => format!("REFUSED [{}]", e.code),
            };
            progress.finished(i, &names[i], &state);
        },
    );
    drop(progress);
    let outcomes: Vec<(String, Outcome)> = names.iter().cloned().zip(results).collect();
    let drift = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Drift(_)));
    let errors = outcomes
        .iter()
        .any(|(_, o)| matches!(o, Outcome::NotChecked(_)));
    // A channel record that no longer holds (the pinned package or bundle) is a definite
    // failure (1), not undecided (2).
    let failed = outcomes
        .iter()
        .any(|(_, o)| matches!(o, Outcome::Refused(_)));
    if g.json {
        let servers: Vec<Value> = outcomes
            .iter()
            .map(|(n, o)| match o {
                Outcome::Same => json!({"server": n, "status": "ok"}),
                Outcome::Drift(d) => json!({"server": n, "status": "drift", "maxSeverity": d.max_severity(), "changes": d}),
                Outcome::NotChecked(e) => json!({"server": n, "status": "error", "reason": e.code(), "message": e.to_string()}),
                Outcome::Refused(e) => json!({"server": n, "status": "error", "reason": e.code, "message": e.message, "help": e.help}),
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
        emit_json(
            &json!({"ok": !drift && !errors && !failed, "reason": reason, "servers": servers}),
        );
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
                Outcome::NotChecked(e) => {
                    emit(&format!("ERROR  {n}: [{}] {e}", e.code()));
                }
                Outcome::Refused(e) => {
                    emit(&format!("ERROR  {n}: [{}] {}", e.code, e.message));
                    emit(&format!("         {}", e.help));
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
