//! `mcpseal authz test` and `mcpseal authz explain`: the gate's authorization, offline.
//!
//! `test` decides one request exactly as `mcpseal run` would — the same policy file, the same
//! schema generated from the server's pins, the same entities, canaries and argument-size
//! limits — and prints the decision and the policies that decided it (exit 0 allow, 1 deny,
//! 2 error). `explain` prints the Cedar the policy amounts to (the Cedar file and the compiled
//! `[[authz.rule]]`s), and with `--server` checks that it validates against that server's pins.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::authz::{Act, Authz, canary::Canary, limits::Limiter};
use crate::lock::{self, ServerEntry, Store};
use crate::policy::Policy;

#[derive(Debug, clap::Subcommand)]
pub enum AuthzCommand {
    /// Decide one request offline, as the gate would, and print the deciding policies.
    ///
    /// Exit 0 when the request is allowed, 1 when it is denied, 2 when nothing could be
    /// decided (a policy that does not load or validate, a server that is not pinned).
    Test(TestArgs),
    /// Print the Cedar a policy's [authz] amounts to (its Cedar file and compiled rules).
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The policy file (TOML, docs/authz.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The lockfile with the server's pins (the schema and the tools' attributes come from it).
    #[arg(long, default_value = lock::DEFAULT_PATH, value_name = "FILE")]
    pub lock: PathBuf,
    /// The server's name in the lockfile.
    #[arg(long, value_name = "NAME")]
    pub server: String,
    /// Who calls (the principal id `run --principal` would be given).
    #[arg(long, value_name = "ID")]
    pub principal: String,
    /// The tool called.
    #[arg(long, value_name = "TOOL")]
    pub tool: String,
    /// The call's arguments, a JSON object.
    #[arg(long, default_value = "{}", value_name = "JSON")]
    pub arguments: String,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The policy file (TOML, docs/authz.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Also validate the Cedar against this server's pins (in --lock).
    #[arg(long, value_name = "NAME")]
    pub server: Option<String>,
    /// The lockfile, with --server.
    #[arg(long, default_value = lock::DEFAULT_PATH, value_name = "FILE")]
    pub lock: PathBuf,
}

pub fn run(cmd: AuthzCommand, g: &Global) -> CmdResult {
    match cmd {
        AuthzCommand::Test(a) => test(a, g),
        AuthzCommand::Explain(a) => explain(a, g),
    }
}

fn load_policy(path: &std::path::Path) -> Result<Policy, CliError> {
    Policy::load(path).map_err(|e| {
        CliError::error(e.code(), e.to_string()).help("fix the policy file (docs/authz.md)")
    })
}

fn pinned(lock_path: &std::path::Path, server: &str) -> Result<ServerEntry, CliError> {
    super::check_name(server)?;
    Store::load_server(lock_path, server)
        .map_err(super::lock_error)?
        .ok_or_else(|| {
            CliError::error(
                "not-pinned",
                format!("server {server:?} is not pinned in {}", lock_path.display()),
            )
            .help(format!(
                "pin it first: mcpseal pin {server} --lock {} -- CMD ARGS…",
                lock_path.display()
            ))
        })
}

fn build(
    policy: &Policy,
    server: &str,
    entry: &ServerEntry,
    principal: &str,
) -> Result<Authz, CliError> {
    let spec = policy.authz.as_ref().ok_or_else(|| {
        CliError::error(
            "authz-missing",
            "the policy has no [authz] table: the gate authorizes nothing",
        )
        .help("add [authz] with cedar = \"FILE.cedar\" or [[authz.rule]]s (docs/authz.md)")
    })?;
    if !spec.covers(server) {
        return Err(CliError::error(
            "authz-missing",
            format!("the policy's [authz] servers = [...] does not name {server:?}: the gate does not authorize its calls"),
        )
        .help("add the server to [authz] servers, or remove that line to cover every server"));
    }
    Authz::build(spec, server, entry, principal).map_err(|e| {
        CliError::error(e.code(), e.to_string())
            .help("fix the Cedar file or the [[authz.rule]]s; `mcpseal authz explain --policy FILE` prints the Cedar")
    })
}

fn test(a: TestArgs, g: &Global) -> CmdResult {
    let policy = load_policy(&a.policy)?;
    let entry = pinned(&a.lock, &a.server)?;
    let arguments: Value = crate::json::parse_strict(a.arguments.as_bytes()).map_err(|e| {
        CliError::error(e.code(), format!("--arguments: {e}"))
            .help("give the arguments as one JSON object, e.g. --arguments '{\"amount\": 12.5}'")
    })?;
    if !arguments.is_object() {
        return Err(
            CliError::error("usage", "--arguments must be a JSON object")
                .help("for example --arguments '{}'"),
        );
    }
    let authz = build(&policy, &a.server, &entry, &a.principal)?;
    // The gate's order: canary (decoys, tokens), size limit, [authz].
    let mut verdict = None;
    if let Some(c) = &policy.canary {
        let c = Canary::new(c).map_err(|e| CliError::error("canary-invalid", e))?;
        let params = json!({"name": a.tool, "arguments": arguments});
        if c.decoy(&a.tool).is_some() {
            verdict = Some((
                "canary-tripped",
                format!("{:?} is a decoy tool", a.tool),
                vec![],
            ));
        } else if let Some(t) = c.scan(&params) {
            verdict = Some((
                "canary-tripped",
                format!(
                    "canary token #{} ({}) in the arguments",
                    t.token, t.encoding
                ),
                vec![],
            ));
        }
    }
    let limits = policy.requirements_for(&a.server).limits;
    if verdict.is_none()
        && let Err(o) = Limiter::new(limits).peek_size(&a.tool, arguments.to_string().len())
    {
        verdict = Some((
            "limit-exceeded",
            format!("over the {} {} limit of {}", o.scope, o.limit, o.max),
            vec![],
        ));
    }
    let (allow, reason, message, policies) = match verdict {
        Some((r, m, p)) => (false, r, m, p),
        None => {
            let v = authz.decide(Act::CallTool, &a.tool, Some(&arguments));
            (v.allow, v.reason, v.message, v.policies)
        }
    };
    // Hidden from tools/list: never callable, or a list rule does not let it be seen.
    let list = authz.may_list(Act::ListTools, &a.tool);
    let never = !authz.may_ever(Act::CallTool, &a.tool);
    let hidden = never || list.as_ref().is_some_and(|v| !v.allow);
    let hidden_why = if never {
        "\n  (this principal can never call it: the gate removes it from tools/list)".to_owned()
    } else {
        match &list {
            Some(v) if !v.allow => format!(
                "\n  (list_tools: {} [{}]: the gate removes it from tools/list)",
                v.message, v.reason
            ),
            _ => String::new(),
        }
    };
    if g.json {
        emit_json(&json!({
            "ok": allow,
            "decision": if allow { "allow" } else { "deny" },
            "reason": reason,
            "message": message,
            "policies": policies,
            "principal": a.principal,
            "server": a.server,
            "tool": a.tool,
            "hiddenFromList": hidden,
            "list": list.map(|v| json!({"decision": if v.allow { "allow" } else { "deny" }, "reason": v.reason, "policies": v.policies})),
        }));
    } else {
        emit(&format!(
            "{}: {} calls {}/{}: {message} [{reason}]{}",
            if allow { "allow" } else { "deny" },
            a.principal,
            a.server,
            a.tool,
            hidden_why
        ));
    }
    Ok(if allow { Exit::Ok } else { Exit::Fail })
}

fn explain(a: ExplainArgs, g: &Global) -> CmdResult {
    let policy = load_policy(&a.policy)?;
    let spec = policy.authz.as_ref().ok_or_else(|| {
        CliError::error(
            "authz-missing",
            format!("{}: no [authz] table", a.policy.display()),
        )
        .help("add [authz] with cedar = \"FILE.cedar\" or [[authz.rule]]s (docs/authz.md)")
    })?;
    let text =
        crate::authz::cedar_text(spec).map_err(|e| CliError::error(e.code(), e.to_string()))?;
    let mut validated = None;
    if let Some(s) = &a.server {
        let entry = pinned(&a.lock, s)?;
        build(&policy, s, &entry, "mcpseal-explain")?;
        validated = Some(s.clone());
    }
    if g.json {
        emit_json(&json!({"ok": true, "cedar": text, "validatedFor": validated}));
    } else {
        emit(&text);
        if let Some(s) = validated {
            emit(&format!(
                "// validates (strict) against the pinned surface of {s:?}"
            ));
        }
    }
    Ok(Exit::Ok)
}
