//! `mcpseal run --name NAME -- CMD ARGS…`: what an MCP client launches instead of the server.
//!
//! stdout is the MCP protocol channel: nothing but protocol messages is ever written there.
//! Human messages go to stderr; decisions go to the audit log.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global};
use crate::gate::audit::{Audit, Event};
use crate::gate::{self, OnDrift, Refusal, Session};
use crate::lock::{self, PinnedLaunch, ServerEntry, Store};
use crate::mcp::{self, CaptureOptions, LaunchSpec};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnDriftArg {
    /// Remove changed or unpinned entities and keep the session.
    Block,
    /// End the session with an error at the first changed or unpinned entity.
    Kill,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's name in the lockfile.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The lockfile [default: mcpseal.lock in the current folder].
    #[arg(long, default_value = lock::DEFAULT_PATH, value_name = "FILE")]
    pub lock: PathBuf,
    /// Trust policy (TOML, docs/policy.md) [default: mcpseal-policy.toml beside the lockfile,
    /// if present]: which signers are trusted and whether this server must be signed.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Refuse to start unless the lockfile (and the policy) carry a bundle signed by this key
    /// (`<file>.sigstore.json`, as `mcpseal sign` writes): one signed lock for every host.
    #[arg(long, value_name = "PUB")]
    pub lock_key: Option<PathBuf>,
    /// Trust on first use: if NAME is not pinned, capture and pin it now (and say so).
    #[arg(long)]
    pub tofu: bool,
    /// What to do when a list carries a changed or unpinned entity.
    #[arg(long, value_enum, default_value = "block")]
    pub on_drift: OnDriftArg,
    /// Largest JSON-RPC message accepted from either side, in bytes.
    #[arg(long, default_value_t = crate::mcp::framing::DEFAULT_MAX_MESSAGE, value_name = "BYTES")]
    pub max_message: usize,
    /// Append audit events (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Also write audit events to stderr.
    #[arg(long)]
    pub audit_stderr: bool,
    /// Also send audit events to the local syslog socket (/dev/log, RFC 5424).
    #[arg(long)]
    pub audit_syslog: bool,
    /// Refuse to start the server when its pinned surface or launch spec has a scan finding at
    /// or above this severity (info, low, medium, high, critical); see docs/findings.md.
    #[arg(long, value_name = "SEVERITY")]
    pub deny_findings: Option<String>,
    /// Policy file whose [[scan.suppress]] tables apply to --deny-findings.
    #[arg(long, value_name = "FILE", requires = "deny_findings")]
    pub suppressions: Option<PathBuf>,
    /// Gate a remote Streamable HTTP server instead of a command: stdio toward the client,
    /// HTTP toward the server (pinned with `mcpseal pin NAME --url URL`).
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    pub url: Option<String>,
    /// The server command and its arguments (after `--`, or simply after the options: some
    /// clients, such as the MCP Inspector, drop a `--` from a server's arguments).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required_unless_present = "url",
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

fn refuse_and_exit(refusal: Refusal, audit: &Audit) -> CmdResult {
    audit.block(
        "prelaunch-verdict",
        json!({"reason": refusal.reason, "message": refusal.message}),
    );
    eprintln!(
        "mcpseal: refused to start the server: {}\n  fix: {}",
        refusal.message, refusal.fix
    );
    let mut out = std::io::stdout().lock();
    gate::refuse(
        &refusal,
        std::io::BufReader::new(std::io::stdin()),
        &mut out,
        Duration::from_secs(30),
    );
    Ok(Exit::Fail)
}

pub fn run(args: Args, _g: &Global) -> CmdResult {
    super::pin::check_name(&args.name)?;
    let mut deny_findings =
        super::scan::deny_request(args.deny_findings.as_deref(), args.suppressions.as_deref())?;
    // A remote server (--url) has no command; its URL stands in for it in messages.
    let url_cmd = args.url.clone().map(|u| (u, Vec::new()));
    let (command, cmd_args): (&String, &[String]) = match &url_cmd {
        Some((u, a)) => (u, a.as_slice()),
        None => args.command.split_first().ok_or_else(|| {
            CliError::error(
                "no-server",
                "name the server to start after `--`, or give --url URL",
            )
        })?,
    };
    let audit = Audit::new(
        &args.name,
        args.audit_log.as_deref(),
        args.audit_stderr,
        args.audit_syslog,
    )
    .map_err(|e| {
        CliError::error(
            "audit-unavailable",
            format!("cannot open the audit sink: {e}"),
        )
        .help("check --audit-log's folder exists and is writable")
    })?;
    let audit = std::sync::Arc::new(audit);
    audit.record(Event { event: "gate-start", decision: "allow", fields: json!({"lock": args.lock.display().to_string(), "command": command, "version": env!("CARGO_PKG_VERSION")}) }, false);
    let lock_s = args.lock.display().to_string();
    // The policy: --policy, or mcpseal-policy.toml beside the lockfile when there is one.
    let policy_path = args.policy.clone().or_else(|| {
        let beside = args
            .lock
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("mcpseal-policy.toml");
        beside.exists().then_some(beside)
    });
    if let Some(pubkey) = &args.lock_key {
        let key = super::key::load_public_key(pubkey)?;
        if let Err(r) = super::run_policy::check_signed_file(&args.lock, &key, "lockfile") {
            return refuse_and_exit(r, &audit);
        }
        if let Some(p) = &policy_path
            && let Err(r) = super::run_policy::check_signed_file(p, &key, "policy")
        {
            return refuse_and_exit(r, &audit);
        }
    }
    let policy = match &policy_path {
        Some(p) => match super::run_policy::load_policy(p) {
            Ok(pol) => Some(pol),
            Err(r) => return refuse_and_exit(r, &audit),
        },
        None => None,
    };
    // Only this server's entry is deserialized and re-digested: start-up stays fast with
    // large locks. (The whole file is still parsed strictly.)
    let pinned = match Store::load_server(&args.lock, &args.name) {
        Ok(e) => e,
        Err(lock::LockError::Missing { .. }) => None,
        Err(e) => {
            return refuse_and_exit(
                Refusal {
                    reason: e.code(),
                    message: e.to_string(),
                    fix: "restore or re-create the lockfile with `mcpseal pin`".into(),
                },
                &audit,
            );
        }
    };
    let entry: ServerEntry = match pinned {
        Some(e) => e,
        None if args.tofu => {
            let spec = match &args.url {
                Some(url) => LaunchSpec::Http {
                    url: url.clone(),
                    headers: Default::default(),
                },
                None => LaunchSpec::Stdio {
                    command: command.clone(),
                    args: cmd_args.to_vec(),
                    env: Default::default(),
                    cwd: None,
                },
            };
            let cap = match mcp::capture(&spec, &CaptureOptions::default()) {
                Ok(c) => c,
                Err(e) => {
                    return refuse_and_exit(
                        Refusal {
                            reason: e.code(),
                            message: e.to_string(),
                            fix: "check the server starts by hand".into(),
                        },
                        &audit,
                    );
                }
            };
            let entry =
                ServerEntry::from_surface(PinnedLaunch::from_spec(&spec), json!({}), &cap.surface)
                    .map_err(super::pin::lock_error)?;
            let mut store = Store::open(&args.lock).map_err(super::pin::lock_error)?;
            store.lock.servers.insert(args.name.clone(), entry.clone());
            store.commit().map_err(super::pin::lock_error)?;
            eprintln!(
                "mcpseal: trust on first use: pinned {:?} ({} entities) in {lock_s}",
                args.name,
                cap.surface.len()
            );
            audit.record(
                Event {
                    event: "tofu-pinned",
                    decision: "allow",
                    fields: json!({"surfaceDigest": entry.surface_digest}),
                },
                true,
            );
            entry
        }
        None => {
            return refuse_and_exit(
                Refusal {
                    reason: "not-pinned",
                    message: format!("server {:?} is not pinned in {lock_s}", args.name),
                    fix: format!(
                        "mcpseal pin {} --lock {lock_s} -- {}",
                        args.name,
                        args.command.join(" ")
                    ),
                },
                &audit,
            );
        }
    };
    let checked = match &args.url {
        Some(url) => gate::prelaunch_remote(&args.name, &entry, url, &lock_s),
        None => gate::prelaunch(&args.name, &entry, command, cmd_args, &lock_s),
    };
    if let Err(r) = checked {
        return refuse_and_exit(r, &audit);
    }
    let mut on_drift = args.on_drift;
    if let Some(policy) = &policy {
        let req = policy.requirements_for(&args.name);
        match super::run_policy::check_signature(&args.name, &req) {
            Ok(Some(signer)) => audit.record(
                Event { event: "signature-verified", decision: "allow", fields: json!({"signer": signer, "bundle": req.bundle.as_ref().map(|b| b.display().to_string())}) },
                true,
            ),
            Ok(None) => {}
            Err(r) => return refuse_and_exit(r, &audit),
        }
        if req.on_drift.as_deref() == Some("kill") {
            on_drift = OnDriftArg::Kill;
        }
        if deny_findings.is_none()
            && let Some(sev) = req.deny_findings
        {
            deny_findings = super::scan::deny_request(Some(sev.as_str()), None)?;
        }
    }
    if let Some(deny) = &deny_findings
        && let Some(r) = deny.check(&args.name, &entry, &lock_s)
    {
        return refuse_and_exit(r, &audit);
    }
    audit.record(
        Event {
            event: "prelaunch-verdict",
            decision: "allow",
            fields: json!({"surfaceDigest": entry.surface_digest}),
        },
        true,
    );
    let session = Session {
        name: args.name.clone(),
        entry,
        command: command.clone(),
        args: cmd_args.to_vec(),
        on_drift: match on_drift {
            OnDriftArg::Block => OnDrift::Block,
            OnDriftArg::Kill => OnDrift::Kill,
        },
        max_message: args.max_message,
        audit: audit.clone(),
    };
    let stdin = std::io::BufReader::new(std::io::stdin());
    let stdout: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    let ended = match &args.url {
        Some(url) => gate::proxy_remote(session, url, &Default::default(), stdin, stdout),
        None => gate::proxy(session, stdin, stdout),
    };
    match ended {
        Ok(gate::Ended::Normally(code)) => Ok(if code.unwrap_or(0) == 0 {
            Exit::Ok
        } else {
            Exit::Fail
        }),
        Ok(gate::Ended::Blocked(why)) => {
            eprintln!("mcpseal: ended the session: {why}");
            Ok(Exit::Fail)
        }
        Err(e) => {
            audit.block(
                "server-start",
                json!({"reason": "spawn-failed", "message": e.to_string()}),
            );
            Err(CliError::error(
                "spawn-failed",
                format!("cannot start `{command}`: {e}"),
            ))
        }
    }
}
