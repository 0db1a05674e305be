//! `mcpseal pin --config FILE | --client NAME | --all`: pin every server of MCP client configs.
//!
//! Each server's launch spec is read the way its client reads it (variables expanded per
//! client, docs/clients.md); an entry already wrapped by `mcpseal wrap` is pinned as the
//! original command it wraps. Servers are captured concurrently and written to the lock in one
//! transaction. A server that cannot be pinned (unset variable, a remote server, a name two
//! configs define differently, a server that will not start) is reported, the others are
//! pinned, and the command exits 2.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use super::pin::{Args, check_name, lock_error};
use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::clients::{self, Client, Selection};
use crate::lock::{PinnedLaunch, ServerEntry, Store};
use crate::mcp::{self, CaptureOptions, LaunchSpec};

/// `mcpseal run … -- CMD ARGS` (as `wrap` writes it) → `CMD ARGS`.
fn unwrap_gate(spec: LaunchSpec) -> LaunchSpec {
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
        if is_mcpseal
            && args.first().map(String::as_str) == Some("run")
            && let Some(i) = args.iter().position(|a| a == "--")
            && let Some((c, rest)) = args[i + 1..].split_first()
        {
            return LaunchSpec::Stdio {
                command: c.clone(),
                args: rest.to_vec(),
                env: env.clone(),
                cwd: cwd.clone(),
            };
        }
    }
    spec
}

struct Job {
    spec: LaunchSpec,
    file: PathBuf,
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let sel = match (&args.config, &args.client, args.all) {
        (Some(p), None, false) => Selection::Config(p.clone(), None),
        (None, Some(c), false) => Selection::Client(Client::from_id(c).ok_or_else(|| {
            super::clients::clients_error(clients::ClientsError::UnknownClient(c.clone()))
        })?),
        (None, None, true) => Selection::All,
        _ => {
            return Err(CliError::error(
                "usage",
                "give exactly one of --config, --client, --all",
            ));
        }
    };
    let roots = super::clients::roots(args.home.clone(), args.project.clone())?;
    let files = clients::select(&roots, &sel);
    if files.is_empty() {
        return Err(
            CliError::error("no-config", "no MCP client config found for that selection")
                .help("run `mcpseal clients` to see what was found, or pass --config FILE"),
        );
    }
    let opts = args.server.options()?;
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    let mut problems: Vec<(String, CliError)> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for cf in &files {
        let servers = clients::load(cf).map_err(super::clients::clients_error)?;
        let ctx = roots.context(cf);
        for s in servers {
            if s.disabled {
                skipped.push(format!("{} ({}: disabled)", s.name, cf.path.display()));
                continue;
            }
            if let Err(e) = check_name(&s.name) {
                problems.push((s.name.clone(), e));
                continue;
            }
            let spec = match s.launch_spec(&ctx, &|k| std::env::var(k).ok()) {
                Ok(spec) => unwrap_gate(spec),
                Err(e) => {
                    problems.push((s.name.clone(), super::clients::clients_error(e)));
                    continue;
                }
            };
            if !matches!(spec, LaunchSpec::Stdio { .. }) {
                problems.push((
                    s.name.clone(),
                    CliError::error(
                        "unsupported-transport",
                        format!(
                            "{}: {} is a remote server; only stdio servers are captured yet",
                            cf.path.display(),
                            s.name
                        ),
                    ),
                ));
                continue;
            }
            match jobs.get(&s.name) {
                Some(j) if PinnedLaunch::from_spec(&j.spec) != PinnedLaunch::from_spec(&spec) => {
                    problems.push((
                        s.name.clone(),
                        CliError::error(
                            "name-conflict",
                            format!(
                                "{} defines {:?} differently from {}: one lock name, two servers",
                                cf.path.display(),
                                s.name,
                                j.file.display()
                            ),
                        )
                        .help("rename one of them in its client config"),
                    ));
                }
                Some(_) => {}
                None => {
                    jobs.insert(
                        s.name.clone(),
                        Job {
                            spec,
                            file: cf.path.clone(),
                        },
                    );
                }
            }
        }
    }
    let mut store = Store::open(&args.lock).map_err(lock_error)?;
    let captured: Vec<(String, Result<ServerEntry, CliError>)> = std::thread::scope(|sc| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(name, job)| {
                let opts: &CaptureOptions = &opts;
                (
                    name.clone(),
                    sc.spawn(move || {
                        let cap =
                            mcp::capture(&job.spec, opts).map_err(super::surface::capture_error)?;
                        ServerEntry::from_surface(
                            PinnedLaunch::from_spec(&job.spec),
                            opts.capabilities.clone(),
                            &cap.surface,
                        )
                        .map_err(lock_error)
                    }),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(n, h)| {
                (
                    n,
                    h.join().unwrap_or_else(|_| {
                        Err(CliError::error("internal", "a capture thread panicked"))
                    }),
                )
            })
            .collect()
    });
    let mut pinned = Vec::new();
    for (name, r) in captured {
        match r {
            Ok(entry) => {
                let count = entry.tools.len()
                    + entry.prompts.len()
                    + entry.resources.len()
                    + entry.resource_templates.len();
                let changed = store
                    .lock
                    .servers
                    .get(&name)
                    .is_some_and(|old| old.surface_digest != entry.surface_digest);
                pinned.push((
                    name.clone(),
                    count,
                    changed,
                    jobs.get(&name)
                        .map(|j| j.file.display().to_string())
                        .unwrap_or_default(),
                ));
                store.lock.servers.insert(name, entry);
            }
            Err(e) => problems.push((name, e)),
        }
    }
    let path = store.path().display().to_string();
    store.commit().map_err(lock_error)?;
    if g.json {
        emit_json(&json!({
            "ok": problems.is_empty(),
            "reason": if problems.is_empty() { None } else { Some("some-servers-not-pinned") },
            "lock": path,
            "pinned": pinned.iter().map(|(n, c, ch, f)| json!({"server": n, "entities": c, "changed": ch, "config": f})).collect::<Vec<_>>(),
            "skipped": skipped,
            "errors": problems.iter().map(|(n, e)| json!({"server": n, "reason": e.code, "message": e.message})).collect::<Vec<_>>(),
        }));
    } else {
        for (n, c, ch, f) in &pinned {
            emit(&format!(
                "pinned {n} ({c} entities{}) from {f}",
                if *ch {
                    ", CHANGED since the last pin: run `mcpseal check` before re-pinning to review"
                } else {
                    ""
                }
            ));
        }
        for s in &skipped {
            emit(&format!("skipped {s}"));
        }
        for (n, e) in &problems {
            emit(&format!("NOT pinned {n}: [{}] {}", e.code, e.message));
        }
        emit(&format!(
            "{} pinned in {path}, {} not pinned",
            pinned.len(),
            problems.len()
        ));
    }
    Ok(if problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}
