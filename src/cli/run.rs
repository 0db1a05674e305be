//! `mcpseal run --name NAME -- CMD ARGS…`: what an MCP client launches instead of the server.
//!
//! stdout is the MCP protocol channel: nothing but protocol messages is ever written there.
//! Human messages go to stderr; decisions go to the audit log.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global};
use crate::gate::audit::{Audit, Event};
use crate::gate::{self, AuditRecord, Launch, OnDrift, Refusal, Request, session};
use crate::lock;
use crate::mcp::CaptureOptions;

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
    /// The lockfile (relative to the current folder).
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
    /// With --lock-key: the file that keeps the highest signed-lock serial this host enforced,
    /// per key [default: $XDG_STATE_HOME/mcpseal/lock-serials.json, else
    /// ~/.local/state/mcpseal/lock-serials.json]. An older signed lock is refused.
    #[arg(long, value_name = "FILE", requires = "lock_key")]
    pub state_file: Option<PathBuf>,
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
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub deny_findings: Option<super::SeverityArg>,
    /// Policy file whose [[scan.suppress]] tables apply to --deny-findings.
    #[arg(long, value_name = "FILE", requires = "deny_findings")]
    pub suppressions: Option<PathBuf>,
    /// Who this session acts for, for the policy's [authz] rules (docs/authz.md)
    /// [default: $MCPSEAL_PRINCIPAL, else the OS user name].
    #[arg(long, value_name = "ID", env = "MCPSEAL_PRINCIPAL")]
    pub principal: Option<String>,
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
    session::refuse(
        &refusal,
        std::io::BufReader::new(std::io::stdin()),
        &mut out,
        Duration::from_secs(30),
    );
    Ok(Exit::Fail)
}

/// Human lines on stderr for the gate's blocks (the audit log has every event). `repin` is
/// the command that pins this server again (`mcpseal pin NAME --lock L`, launch after it).
fn observer(repin: (String, String)) -> session::Observer {
    std::sync::Arc::new(move |r: &AuditRecord| {
        if r.event == "capabilities-differ" {
            let list = |k: &str| {
                r.fields[k]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            let caps = list("clientCapabilities");
            eprintln!(
                "mcpseal: this client declares capabilities [{caps}], but the server was pinned with [{}]: tools it shows only to such clients are not pinned and will be removed; to pin them: {} --capabilities {caps} {}",
                list("pinnedCapabilities"),
                repin.0,
                repin.1
            );
            return;
        }
        if r.decision != "block" {
            return;
        }
        let f = |k: &str| r.fields.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let line = match r.event {
            "entity-removed" => format!("removed {} {:?}: {}", f("kind"), f("entity"), f("reason")),
            "call-refused" => format!("refused {}: {}", f("method"), f("reason")),
            "response-dropped" => format!("dropped a server message: {}", f("reason")),
            "request-dropped" => format!("dropped {} sent as a notification", f("method")),
            "instructions-removed" => "removed changed server instructions".to_owned(),
            "authz-decision" => format!(
                "denied {} {:?} for {:?}: {}",
                f("method"),
                f("entity"),
                f("principal"),
                f("message")
            ),
            "canary-tripped" => format!(
                "CANARY TRIPPED ({}) on {} {}",
                f("kind"),
                f("method"),
                f("entity")
            ),
            "limit-exceeded" => format!(
                "refused tools/call {:?}: over the {} {} limit",
                f("entity"),
                f("scope"),
                f("limit")
            ),
            "entity-hidden" => return,
            "server-message-rejected" => format!(
                "the server sent what the gate cannot check ({}{}); ending the session",
                f("reason"),
                r.fields
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            other => format!("{other}: {}", f("reason")),
        };
        eprintln!("mcpseal: {line}");
    })
}

pub fn run(args: Args, _g: &Global) -> CmdResult {
    super::check_name(&args.name)?;
    let deny_findings =
        super::scan::deny_request(args.deny_findings, args.suppressions.as_deref())?;
    let launch = match (&args.url, args.command.split_first()) {
        (Some(u), _) => Launch::Url(u.clone()),
        (None, Some((c, a))) => Launch::Command {
            command: c.clone(),
            args: a.to_vec(),
        },
        (None, None) => {
            return Err(CliError::error(
                "no-server",
                "name the server to start after `--`, or give --url URL",
            ));
        }
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
    audit.record(Event { event: "gate-start", decision: "allow", fields: json!({"lock": args.lock.display().to_string(), "command": launch.display(), "version": env!("CARGO_PKG_VERSION")}) }, false);
    // The policy: --policy, or mcpseal-policy.toml beside the lockfile when there is one.
    let policy_path = args.policy.clone().or_else(|| {
        let beside = args
            .lock
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("mcpseal-policy.toml");
        beside.exists().then_some(beside)
    });
    let lock_key = match &args.lock_key {
        Some(p) => Some(super::key::load_public_key(p)?),
        None => None,
    };
    let principal = args
        .principal
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(crate::gate::child::os_user_name);
    let request = Request {
        name: &args.name,
        lock: &args.lock,
        policy: policy_path.as_deref(),
        lock_key: lock_key.as_ref(),
        tofu: args.tofu,
        launch,
        on_drift: match args.on_drift {
            OnDriftArg::Block => OnDrift::Block,
            OnDriftArg::Kill => OnDrift::Kill,
        },
        deny_findings,
        capture: CaptureOptions::default(),
        state_file: args.state_file.as_deref(),
        principal: principal.as_deref(),
    };
    let cleared = match gate::prepare(request, &audit) {
        Ok(c) => c,
        Err(r) => return refuse_and_exit(r, &audit),
    };
    if cleared.tofu_pinned() {
        eprintln!(
            "mcpseal: trust on first use: pinned {:?} ({} entities) in {}",
            args.name,
            cleared.entry().to_surface().len(),
            args.lock.display()
        );
    }
    audit.record(
        Event {
            event: "prelaunch-verdict",
            decision: "allow",
            fields: json!({"surfaceDigest": cleared.entry().surface_digest}),
        },
        true,
    );
    let opts = session::Options {
        max_message: args.max_message,
        audit: audit.clone(),
        observer: Some(observer((
            format!("mcpseal pin {} --lock {}", args.name, args.lock.display()),
            match cleared.launch() {
                Launch::Url(u) => format!("--url {u}"),
                l @ Launch::Command { .. } => format!("-- {}", l.display()),
            },
        ))),
    };
    let stdin = std::io::BufReader::new(std::io::stdin());
    let stdout: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    let ended = match cleared.launch() {
        Launch::Url(_) => session::serve_remote(&cleared, opts, &Default::default(), stdin, stdout),
        Launch::Command { .. } => session::serve(&cleared, opts, stdin, stdout),
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
                format!("cannot start `{}`: {e}", cleared.launch().display()),
            ))
        }
    }
}
