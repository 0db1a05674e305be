//! `mcpseal pin --config FILE | --client NAME | --all`: pin every server of MCP client configs.
//!
//! Each server's launch spec is read the way its client reads it (variables expanded per
//! client, docs/clients.md); an entry already wrapped by `mcpseal wrap` is pinned as the
//! original command it wraps. Servers are captured concurrently, then planned and written to the
//! lock in one transaction ([`crate::pin`]): a server whose surface changed since its pin is not
//! re-pinned without `--accept-changes` (exit 1, the diff printed). A server that cannot be
//! pinned (unset variable, a name two configs define differently, a server that will not start)
//! is reported, the others are pinned, and the command exits 2. Remote servers (Streamable HTTP,
//! SSE) are captured like local ones; header values are sent for the capture and never stored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use super::pin::Args;
use super::{CliError, CmdResult, Exit, Global, check_name, emit, emit_json, lock_error};
use crate::clients::{self, Client, Selection};
use crate::lock::{PinnedLaunch, ServerEntry, Store};
use crate::mcp::{self, LaunchSpec};
use crate::pin::{self, Verdict};

struct Job {
    spec: LaunchSpec,
    file: PathBuf,
    client: Client,
    /// The server's name in its config.
    name: String,
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let sel = match (&args.config, args.client, args.all) {
        (Some(p), None, false) => Selection::Config(p.clone(), args.as_client.map(|c| c.0)),
        (None, Some(c), false) => Selection::Client(c.0),
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
    let mut problems: Vec<(String, CliError)> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    // Every server of the selection, grouped by name: one name, one launch → one lock key;
    // one name, several launches (Claude Desktop's `memory` and Claude Code's) → each keyed
    // `client/name`, the key `wrap` then writes into that client's entry (docs/clients.md).
    let mut by_name: BTreeMap<String, Vec<(Client, LaunchSpec, PathBuf)>> = BTreeMap::new();
    let explicit = args.config.is_some();
    for cf in &files {
        // An explicitly named file that cannot be read is an error; among discovered configs,
        // one broken file (another client's, say) is reported and skipped.
        let servers = match clients::load(cf) {
            Ok(s) => s,
            Err(e) if !explicit && !args.strict => {
                problems.push((
                    format!("({})", cf.path.display()),
                    super::clients::clients_error(e),
                ));
                continue;
            }
            Err(e) => return Err(super::clients::clients_error(e)),
        };
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
                Ok(spec) => clients::gated_server(spec),
                Err(e) => {
                    problems.push((s.name.clone(), super::clients::clients_error(e)));
                    continue;
                }
            };
            by_name
                .entry(s.name.clone())
                .or_default()
                .push((cf.client, spec, cf.path.clone()));
        }
    }
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    for (name, defs) in by_name {
        let same = defs
            .windows(2)
            .all(|w| PinnedLaunch::from_spec(&w[0].1) == PinnedLaunch::from_spec(&w[1].1));
        for (client, spec, file) in defs {
            let key = if same {
                name.clone()
            } else {
                crate::lock::qualified_name(client.id(), &name)
            };
            match jobs.get(&key) {
                Some(j) if PinnedLaunch::from_spec(&j.spec) != PinnedLaunch::from_spec(&spec) => {
                    problems.push((
                        key.clone(),
                        CliError::error(
                            "name-conflict",
                            format!(
                                "{} defines {name:?} differently from {}, in the same client: one lock name, two servers",
                                file.display(),
                                j.file.display()
                            ),
                        )
                        .help("rename one of them in its client config"),
                    ));
                }
                Some(_) => {}
                None => {
                    jobs.insert(
                        key,
                        Job {
                            spec,
                            file,
                            client,
                            name: name.clone(),
                        },
                    );
                }
            }
        }
    }
    // Capture first (concurrently); only then take the folder lock.
    let job_list: Vec<(&String, &Job)> = jobs.iter().collect();
    let mut progress = super::progress::Progress::start(
        "pin",
        job_list.iter().map(|(n, _)| (*n).clone()).collect(),
    );
    // Each server is captured with the capabilities its client declares (docs/clients.md),
    // unless --capabilities names one set for all.
    let explicit_caps = !args.server.capabilities.is_empty();
    let specs: Vec<(LaunchSpec, mcp::CaptureOptions)> = job_list
        .iter()
        .map(|(_, job)| {
            let mut opts = opts.clone();
            if !explicit_caps {
                opts.capabilities = job.client.capture_capabilities();
            }
            (job.spec.clone(), opts)
        })
        .collect();
    let results = mcp::capture_many(&specs, 8, |i, r| {
        let state = match r {
            Ok(c) => format!("captured ({} entities)", c.surface.len()),
            Err(e) => format!("not captured [{}]", e.code()),
        };
        progress.finished(i, job_list[i].0, &state);
    });
    drop(progress);
    let candidate = |name: &str,
                     job: &Job,
                     opts: &mcp::CaptureOptions,
                     cap: mcp::Capture|
     -> Result<pin::Candidate, CliError> {
        let mut entry = ServerEntry::from_surface(
            PinnedLaunch::from_spec(&job.spec),
            opts.capabilities.clone(),
            &cap.surface,
        )
        .map_err(lock_error)?;
        entry.package = crate::channels::pinned_package(&job.spec);
        entry.origin = Some(crate::lock::Origin {
            client: job.client.id().to_owned(),
            config: std::path::absolute(&job.file)
                .unwrap_or_else(|_| job.file.clone())
                .display()
                .to_string(),
            name: job.name.clone(),
        });
        Ok(pin::Candidate {
            name: name.to_owned(),
            spec: job.spec.clone(),
            surface: cap.surface,
            entry,
        })
    };
    let captured: Vec<(String, Result<pin::Candidate, CliError>)> = job_list
        .iter()
        .zip(specs.iter().zip(results))
        .map(|((name, job), ((_, opts), r))| {
            let c = r
                .map_err(super::surface::capture_error)
                .and_then(|cap| candidate(name, job, opts, cap));
            ((*name).clone(), c)
        })
        .collect();
    let mut candidates = Vec::new();
    for (name, r) in captured {
        match r {
            Ok(c) => candidates.push(c),
            Err(e) => problems.push((name, e)),
        }
    }
    let lock_path = args.lock_path()?;
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| super::io_error(dir, "the lock's folder", e))?;
    }
    super::progress(&format!("pin: using the lock {}", lock_path.display()));
    let mut store = Store::open(&lock_path).map_err(lock_error)?;
    let plans = pin::plan(candidates, &store.lock, &args.approval());
    let written = pin::apply(&mut store, &plans);
    let config_of = |name: &str| {
        jobs.get(name)
            .map(|j| j.file.display().to_string())
            .unwrap_or_default()
    };
    let path = store.path().display().to_string();
    if written > 0 {
        let _whole = super::progress::writing();
        store.commit().map_err(lock_error)?;
    } else {
        drop(store);
    }
    let refused: Vec<&pin::Plan> = plans.iter().filter(|p| !p.verdict.writes()).collect();
    // One policy for pin, check and scan (docs/clients.md): something definite found (here a
    // refused change) is exit 1 even when other servers could not be captured (exit 2).
    let reason = if !refused.is_empty() {
        Some("changes-not-accepted")
    } else if !problems.is_empty() {
        Some("some-servers-not-pinned")
    } else {
        None
    };
    if g.json {
        emit_json(&json!({
            "ok": reason.is_none(),
            "reason": reason,
            "lock": path,
            "pinned": plans.iter().filter(|p| p.verdict.writes()).map(|p| json!({"server": p.name, "entities": p.entry.to_surface().len(), "verdict": super::pin::verdict_name(p.verdict), "changed": p.verdict == Verdict::Accepted, "config": config_of(&p.name), "findings": p.findings.len(), "capabilities": p.entry.capabilities})).collect::<Vec<_>>(),
            "refused": refused.iter().map(|p| json!({"server": p.name, "reason": match p.verdict { Verdict::Refused(r) => r, _ => "" }, "changes": p.diff, "otherChanges": p.other_changes, "failing": p.failing, "config": config_of(&p.name)})).collect::<Vec<_>>(),
            "skipped": skipped,
            "errors": problems.iter().map(|(n, e)| json!({"server": n, "reason": e.code, "message": e.message})).collect::<Vec<_>>(),
        }));
    } else {
        for p in plans.iter().filter(|p| p.verdict.writes()) {
            let what = match p.verdict {
                Verdict::New => "pinned",
                Verdict::Unchanged => "unchanged",
                _ => "re-pinned (changes accepted)",
            };
            let caps: Vec<&str> = p
                .entry
                .capabilities
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            emit(&format!(
                "{what} {} ({} entities{}) from {}",
                p.name,
                p.entry.to_surface().len(),
                if caps.is_empty() {
                    String::new()
                } else {
                    format!(", capabilities {}", caps.join(","))
                },
                config_of(&p.name)
            ));
        }
        for p in &refused {
            emit(&format!(
                "NOT re-pinned {}: it changed since the last pin ({}); the lock keeps the old pin. What changed:",
                p.name,
                match p.verdict {
                    Verdict::Refused(r) => r,
                    _ => "",
                }
            ));
            for l in super::pin::change_lines(p, "    ") {
                emit(&l);
            }
        }
        if !refused.is_empty() {
            emit(
                "review each diff (mcpseal check shows them too); if the changes are intended, re-run with --accept-changes (and --accept-findings for findings at or above --fail-on)",
            );
        }
        for s in &skipped {
            emit(&format!("skipped {s}"));
        }
        for (n, e) in &problems {
            emit(&format!("NOT pinned {n}: [{}] {}", e.code, e.message));
        }
        emit(&format!(
            "{written} pinned in {path}, {} refused (changed), {} not pinned",
            refused.len(),
            problems.len()
        ));
    }
    Ok(if !refused.is_empty() {
        Exit::Fail
    } else if !problems.is_empty() {
        Exit::Error
    } else {
        Exit::Ok
    })
}
