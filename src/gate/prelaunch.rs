//! Before the server starts: [`prepare`] runs every check, in a fixed order, and returns a
//! [`Cleared`] — the only value a proxy can be built from — or the first [`Refusal`].
//!
//! The order (docs/gate.md):
//! 1. the lockfile's and the policy's signatures (`--lock-key`);
//! 2. the policy loads;
//! 3. the lock entry loads and validates;
//! 4. a signature the policy requires for this server verifies, for a trusted signer, over the
//!    artifacts on disk — *before* `--tofu` may start anything, so trust on first use never
//!    starts or pins a server the policy says must be signed;
//! 5. a `provenance` table the policy has for this server is satisfied by the provenance the
//!    lock entry records (offline; none recorded is a refusal, also before `--tofu`);
//! 6. `--tofu` captures an unpinned server (it is started here, under the same checks);
//! 7. the launch runs the package and version the entry records (`package-mismatch`), the
//!    launch matches the pin (command, arguments, env var names set; or the URL), every
//!    pinned artifact digests to its pin, a pinned MCP bundle on disk is the pinned digest
//!    (`mcpb-mismatch`); a pinned container image is spawned by its digest;
//! 8. `--deny-findings` (or the policy's `deny-findings`): no scan finding at or above it
//!    (an MCP bundle's undeclared tools included).
//!
//! A `--tofu` pin is written to the lockfile only after steps 7 and 8 pass.
//! [`Cleared`] has no public constructor: no path reaches [`Proxy`] around these checks (the
//! rustls habit of verification that proves itself).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::audit::{Audit, Event};
use super::proxy::Proxy;
use super::{OnDrift, Refusal};
use crate::bundle;
use crate::keys::PublicKey;
use crate::lock::{self, PinnedLaunch, ServerEntry, Store};
use crate::mcp::{self, CaptureOptions, LaunchSpec};
use crate::policy::{Evidence, Policy, Requirements};
use crate::scan::DenyFindings;

/// How the server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// A command the gate spawns (stdio).
    Command { command: String, args: Vec<String> },
    /// A remote Streamable HTTP server.
    Url(String),
}

impl Launch {
    /// The command (or URL) and its arguments, as one line for messages.
    pub fn display(&self) -> String {
        match self {
            Launch::Command { command, args } if args.is_empty() => command.clone(),
            Launch::Command { command, args } => format!("{command} {}", args.join(" ")),
            Launch::Url(u) => u.clone(),
        }
    }
}

/// Everything `mcpseal run` was asked to check.
pub struct Request<'a> {
    pub name: &'a str,
    pub lock: &'a Path,
    /// The trust policy file, if any (the CLI resolves its default).
    pub policy: Option<&'a Path>,
    /// The lockfile and the policy must carry a bundle signed by this key.
    pub lock_key: Option<&'a PublicKey>,
    pub tofu: bool,
    pub launch: Launch,
    pub on_drift: OnDrift,
    pub deny_findings: Option<DenyFindings>,
    /// For a `--tofu` capture.
    pub capture: CaptureOptions,
    /// With `lock_key`: the file that keeps, per signing key, the highest lock serial this host
    /// enforced [`None`: [`default_state_file`]].
    pub state_file: Option<&'a Path>,
    /// Who the session acts for, for `[authz]` (`run --principal`, `MCPSEAL_PRINCIPAL`, else the
    /// OS user name; the CLI resolves it).
    pub principal: Option<&'a str>,
}

/// Where a host keeps the highest signed-lock serial it enforced, per key id:
/// `$XDG_STATE_HOME/mcpseal/lock-serials.json`, else `~/.local/state/mcpseal/lock-serials.json`.
/// (An empty or relative `XDG_STATE_HOME` counts as unset; without an absolute home there is
/// no default.)
pub fn default_state_file() -> Option<PathBuf> {
    crate::lock::user_state_home().map(|b| b.join("mcpseal").join("lock-serials.json"))
}

/// Proof that every pre-launch check passed for one server.
#[derive(Debug)]
pub struct Cleared {
    entry: ServerEntry,
    launch: Launch,
    on_drift: OnDrift,
    tofu_pinned: bool,
    guards: crate::authz::Guards,
}

impl Cleared {
    pub fn entry(&self) -> &ServerEntry {
        &self.entry
    }
    pub fn launch(&self) -> &Launch {
        &self.launch
    }
    pub fn on_drift(&self) -> OnDrift {
        self.on_drift
    }
    /// Whether `--tofu` pinned the server just now.
    pub fn tofu_pinned(&self) -> bool {
        self.tofu_pinned
    }
    /// The proxy core for this session.
    pub fn proxy(&self) -> Proxy {
        Proxy::new(self.entry.clone(), self.on_drift, self.guards.clone())
    }
    /// A cleared server for the session's own tests, which drive it over pipes: only
    /// [`prepare`] makes one otherwise.
    #[cfg(test)]
    pub(crate) fn for_tests(entry: ServerEntry, on_drift: OnDrift) -> Cleared {
        Cleared {
            entry,
            launch: Launch::Command {
                command: "test-server".into(),
                args: vec![],
            },
            on_drift,
            tofu_pinned: false,
            guards: Default::default(),
        }
    }
}

fn refusal(reason: &'static str, message: String, fix: impl Into<String>) -> Refusal {
    Refusal {
        reason,
        message,
        fix: fix.into(),
    }
}

/// Runs the pre-launch checks in order; see the module docs.
pub fn prepare(mut req: Request<'_>, audit: &Audit) -> Result<Cleared, Refusal> {
    let lock_s = req.lock.display().to_string();
    let mut bound = None;
    // Under --lock-key the lock is read once: the bytes whose digest the signature covers are
    // the bytes the entry is parsed from.
    let mut signed_lock = None;
    // So is the policy: its signature, its binding and its parse all see one read's bytes.
    let mut policy_bytes = None;
    if let Some(key) = req.lock_key {
        let read = Store::read_whole(req.lock).map_err(|e| {
            refusal(
                "lock-signature",
                e.to_string(),
                "restore the signed lockfile (and its .sigstore.json) you were given",
            )
        })?;
        let statement = check_signed_bytes(req.lock, &read.bytes, key, "lockfile")?;
        let policy_read = req
            .policy
            .map(|p| read_capped(p, lock::MAX_LOCK_BYTES, "policy-missing", "policy"))
            .transpose()?;
        bound = check_binding(&req, &read.bytes, policy_read.as_deref(), &statement, key)?;
        if let (Some(p), Some(bytes)) = (req.policy, &policy_read) {
            check_signed_bytes(p, bytes, key, "policy")?;
        }
        signed_lock = Some(read);
        policy_bytes = policy_read;
    }
    let policy = match (req.policy, &policy_bytes) {
        (Some(p), Some(bytes)) => Some(parse_policy(p, bytes)?),
        (Some(p), None) => Some(load_policy(p)?),
        (None, _) => None,
    };
    // The files the policy names (a Cedar file, a tokens file) as parsed must be what the
    // signed lock binds: the binding read them first, this closes the window until the parse.
    if let (Some(d), Some(p), Some(path)) = (bound, &policy, req.policy)
        && p.binding != d
    {
        return Err(refusal(
            "policy-mismatch",
            format!(
                "the policy {} (or a file it names) changed while the gate read it",
                path.display()
            ),
            "restore the policy the lock was signed with, or re-sign the lock with this policy",
        ));
    }
    let loaded = match &signed_lock {
        Some(read) => read.server(req.lock, req.name),
        None => Store::load_server(req.lock, req.name),
    };
    let pinned = match loaded {
        Ok(e) => e,
        Err(lock::LockError::Missing { .. }) => None,
        Err(e) => {
            return Err(refusal(
                e.code(),
                e.to_string(),
                "restore or re-create the lockfile with `mcpseal pin`",
            ));
        }
    };
    let requirements = policy.as_ref().map(|p| p.requirements_for(req.name));
    if let Some(r) = &requirements
        && let Some(s) = check_signature(req.name, r)?
    {
        audit.record(
            Event {
                event: "signature-verified",
                decision: "allow",
                fields: json!({"signer": s, "bundle": r.bundle.as_ref().map(|b| b.display().to_string())}),
            },
            true,
        );
    }
    let mut on_drift = req.on_drift;
    let mut deny = req.deny_findings.take();
    if let Some(r) = &requirements {
        if r.on_drift.as_deref() == Some("kill") {
            on_drift = OnDrift::Kill;
        }
        if deny.is_none()
            && let Some(sev) = r.deny_findings
        {
            deny = Some(DenyFindings::new(sev, Default::default()));
        }
    }
    // A provenance requirement is checked against what `pin` recorded, never by starting the
    // server: `--tofu` cannot record provenance, so it cannot start such a server either.
    if let Some(rule) = requirements.as_ref().and_then(|r| r.provenance.as_ref()) {
        provenance_matches(req.name, pinned.as_ref(), rule, &req.launch, &lock_s)?;
    }
    let (entry, tofu) = match pinned {
        Some(e) => (e, false),
        None if req.tofu => {
            if req.lock_key.is_some() {
                return Err(refusal(
                    "not-pinned",
                    format!(
                        "server {:?} is not pinned in the signed lockfile {lock_s}, and --tofu cannot add to a signed lockfile",
                        req.name
                    ),
                    "pin it where the lockfile is signed, re-sign and distribute it",
                ));
            }
            (tofu_capture(&req, &lock_s)?, true)
        }
        None => {
            let fix = match &req.launch {
                Launch::Command { .. } => {
                    format!(
                        "mcpseal pin {} --lock {lock_s} -- {}",
                        req.name,
                        req.launch.display()
                    )
                }
                Launch::Url(u) => format!("mcpseal pin {} --lock {lock_s} --url {u}", req.name),
            };
            return Err(refusal(
                "not-pinned",
                format!("server {:?} is not pinned in {lock_s}", req.name),
                fix,
            ));
        }
    };
    package_matches(req.name, &entry, &req.launch, &lock_s)?;
    let launch = match &req.launch {
        Launch::Command { command, args } => {
            launch_matches(req.name, &entry, command, args, &lock_s)?
        }
        Launch::Url(url) => {
            url_matches(req.name, &entry, url, &lock_s)?;
            req.launch.clone()
        }
    };
    artifacts_match(req.name, &entry)?;
    bundle_matches(req.name, &entry)?;
    if let Some(r) = &requirements {
        image_signer_matches(req.name, r, &entry, &req.launch, &lock_s)?;
    }
    let guards = guards(&req, &entry, policy.as_ref(), requirements.as_ref())?;
    if let Some(d) = &deny
        && let Some(r) = d.check(req.name, &entry, &lock_s)
    {
        return Err(r);
    }
    if tofu {
        let mut store = Store::open(req.lock).map_err(|e| {
            refusal(
                e.code(),
                e.to_string(),
                "check the lockfile's folder is writable",
            )
        })?;
        store
            .lock
            .servers
            .insert(req.name.to_owned(), entry.clone());
        store.commit().map_err(|e| {
            refusal(
                e.code(),
                e.to_string(),
                "check the lockfile's folder is writable",
            )
        })?;
        audit.record(
            Event {
                event: "tofu-pinned",
                decision: "allow",
                fields: json!({"surfaceDigest": entry.surface_digest}),
            },
            true,
        );
    }
    Ok(Cleared {
        entry,
        launch,
        on_drift,
        tofu_pinned: tofu,
        guards,
    })
}

/// `[authz]`, `[canary]` and the server's limits, compiled for this server's pins.
fn guards(
    req: &Request<'_>,
    entry: &ServerEntry,
    policy: Option<&Policy>,
    requirements: Option<&Requirements>,
) -> Result<crate::authz::Guards, Refusal> {
    use crate::authz::{Authz, Guards, canary::Canary};
    let mut g = Guards {
        limits: requirements.map(|r| r.limits.clone()).unwrap_or_default(),
        principal: req.principal.map(str::to_owned),
        ..Guards::default()
    };
    let Some(policy) = policy else {
        return Ok(g);
    };
    let fix_policy = "fix the policy file (docs/authz.md)";
    if let Some(c) = &policy.canary {
        if let Some(d) = c.decoys.iter().find(|d| entry.tools.contains_key(&d.name)) {
            return Err(refusal(
                "canary-decoy-collides",
                format!(
                    "the decoy tool {:?} of [[canary.tool]] has the name of a tool server {:?} really has: a call to the real tool would trip the canary, or the decoy would hide it",
                    d.name, req.name
                ),
                "rename the decoy in the policy's [[canary.tool]]",
            ));
        }
        let c = Canary::new(c).map_err(|e| refusal("canary-invalid", e, fix_policy))?;
        g.canary = Some(std::sync::Arc::new(c));
    }
    if let Some(a) = &policy.authz
        && a.covers(req.name)
    {
        let Some(principal) = req.principal else {
            return Err(refusal(
                "no-principal",
                format!(
                    "the policy authorizes calls to {:?} ([authz]), but no principal is known for this session",
                    req.name
                ),
                "pass --principal ID (or set MCPSEAL_PRINCIPAL) in the client's server entry",
            ));
        };
        let z = Authz::build(a, req.name, entry, principal).map_err(|e| {
            refusal(
                e.code(),
                e.to_string(),
                format!(
                    "fix the policy, then try it offline: mcpseal authz test --policy FILE --lock {} --server {} --principal {principal} --tool TOOL --arguments '{{}}'",
                    req.lock.display(),
                    req.name
                ),
            )
        })?;
        g.authz = Some(std::sync::Arc::new(z));
    }
    Ok(g)
}

/// Trust on first use: capture the server as launched (not yet written to the lock).
fn tofu_capture(req: &Request<'_>, lock_s: &str) -> Result<ServerEntry, Refusal> {
    let spec = match &req.launch {
        Launch::Url(url) => LaunchSpec::Http {
            url: url.clone(),
            headers: Default::default(),
        },
        Launch::Command { command, args } => LaunchSpec::Stdio {
            command: command.clone(),
            args: args.clone(),
            env: Default::default(),
            cwd: None,
        },
    };
    let cap = mcp::capture(&spec, &req.capture)
        .map_err(|e| refusal(e.code(), e.to_string(), "check the server starts by hand"))?;
    ServerEntry::from_surface(PinnedLaunch::from_spec(&spec), json!({}), &cap.surface).map_err(
        |e| {
            refusal(
                e.code(),
                format!("cannot pin {:?} in {lock_s}: {e}", req.name),
                "check the server's surface with `mcpseal surface`",
            )
        },
    )
}

/// The command and arguments equal the pinned ones, and every pinned env var name is set.
/// Returns the launch to spawn: as given, or for a pinned container image, with the image
/// argument pinned to its digest (src/oci/launch.rs).
fn launch_matches(
    name: &str,
    entry: &ServerEntry,
    command: &str,
    args: &[String],
    lock_path: &str,
) -> Result<Launch, Refusal> {
    let repin = format!(
        "mcpseal pin {name} --lock {lock_path} -- {command} {}",
        args.join(" ")
    );
    match &entry.launch {
        PinnedLaunch::Stdio {
            command: c,
            args: a,
            env,
        } => {
            let spawn = match &entry.image {
                Some(img) if c == command => {
                    crate::oci::launch::enforce(command, a, args, img.digest).map_err(|e| {
                        refusal(
                            "image-not-pinned",
                            format!("server {name:?}: {e}"),
                            format!(
                                "launch the pinned image ({}), or re-pin: {repin}",
                                img.reference
                            ),
                        )
                    })?
                }
                _ => args.to_vec(),
            };
            if c != command || (entry.image.is_none() && a.as_slice() != args) {
                return Err(refusal(
                    "launch-mismatch",
                    format!(
                        "server {name:?} is pinned to launch `{}`, but this launch is `{command} {}`",
                        entry.launch.display(),
                        args.join(" ")
                    ),
                    format!("if the new command is intended, re-pin it: {repin}"),
                ));
            }
            if let Some(var) = env.iter().find(|v| std::env::var_os(v).is_none()) {
                return Err(refusal(
                    "env-unset",
                    format!(
                        "server {name:?} was pinned with the environment variable {var}, which is not set"
                    ),
                    format!("set {var} in the client's server entry, or re-pin: {repin}"),
                ));
            }
            Ok(Launch::Command {
                command: command.to_owned(),
                args: spawn,
            })
        }
        other => Err(refusal(
            "launch-mismatch",
            format!(
                "server {name:?} is pinned as a remote server ({}), but was launched as a command",
                other.display()
            ),
            format!("launch it as pinned, or re-pin: {repin}"),
        )),
    }
}

/// A remote server is pinned as this URL (headers are not supported).
fn url_matches(name: &str, entry: &ServerEntry, url: &str, lock_path: &str) -> Result<(), Refusal> {
    match &entry.launch {
        PinnedLaunch::Http { url: u, headers } if u == url && headers.is_empty() => Ok(()),
        PinnedLaunch::Http { url: u, headers } if u == url => Err(refusal(
            "launch-mismatch",
            format!(
                "server {name:?} was pinned with HTTP headers ({}), which the gate cannot send",
                headers.join(", ")
            ),
            "gate it without headers, or leave it ungated and check it with `mcpseal check`",
        )),
        other => Err(refusal(
            "launch-mismatch",
            format!(
                "server {name:?} is pinned as `{}`, but this launch is {url}",
                other.display()
            ),
            format!(
                "if the new URL is intended, re-pin it: mcpseal pin {name} --lock {lock_path} --url {url}"
            ),
        )),
    }
}

/// The package the launch runs is the one the lock records (`pin --server-json`, or the
/// `npx`/`uvx` package pinned): a launch naming another package or version is refused before
/// the launch itself is compared, with both named.
fn package_matches(
    name: &str,
    entry: &ServerEntry,
    launch: &Launch,
    lock_path: &str,
) -> Result<(), Refusal> {
    let Some(p) = &entry.package else {
        return Ok(());
    };
    if let Err(why) = crate::channels::image_is_package(p, entry.image.as_ref()) {
        return Err(refusal(
            "package-mismatch",
            format!("server {name:?}: {why}"),
            format!(
                "the lock was edited: restore it, or re-pin the server: mcpseal pin {name} --lock {lock_path} --server-json FILE -- {}",
                launch.display()
            ),
        ));
    }
    let found = match launch {
        Launch::Command { command, args } => crate::channels::launch_runs(p, command, args),
        Launch::Url(_) => crate::channels::launch_runs(p, "", &[]),
    };
    let Err(found) = found else {
        return Ok(());
    };
    Err(refusal(
        "package-mismatch",
        format!(
            "server {name:?} is pinned to {} package {}@{}{}, but this launch {}",
            p.registry_type,
            p.identifier,
            p.version,
            p.server_json
                .as_ref()
                .map(|s| format!(" (registry entry {})", s.name))
                .unwrap_or_default(),
            match &found {
                Some(f) => format!("runs {}", f.display()),
                None => format!(
                    "runs no {} package (`{}`)",
                    p.registry_type,
                    launch.display()
                ),
            }
        ),
        format!(
            "launch the pinned version, or re-pin the new one after reviewing it: mcpseal pin {name} --lock {lock_path} [--server-json FILE] [--provenance FILE --artifact FILE] -- {}",
            launch.display()
        ),
    ))
}

/// The policy's `provenance` table against what `pin --provenance` recorded, offline. No
/// recorded provenance is a refusal that names the command that records it.
fn provenance_matches(
    name: &str,
    entry: Option<&ServerEntry>,
    rule: &crate::provenance::SourcePolicy,
    launch: &Launch,
    lock_path: &str,
) -> Result<(), Refusal> {
    let pkg = entry.and_then(|e| e.package.as_ref());
    let Some((pkg, prov)) = pkg.and_then(|p| p.provenance.as_ref().map(|v| (p, v))) else {
        let (fetch, file) = match pkg.map(|p| p.registry_type.as_str()) {
            Some("pypi") => (
                "pip download NAME==VERSION --no-deps, and its provenance from PyPI's integrity API",
                "DIST.provenance",
            ),
            _ => (
                "npm pack NAME@VERSION, and GET /-/npm/v1/attestations/NAME@VERSION",
                "ATTESTATIONS.json",
            ),
        };
        return Err(refusal(
            "provenance-missing",
            format!(
                "the policy requires provenance for server {name:?} (built from {}), but {lock_path} records none for it",
                rule.repository.as_deref().unwrap_or("?")
            ),
            format!(
                "fetch the package file and its provenance ({fetch}), then: mcpseal pin {name} --lock {lock_path} --provenance {file} --artifact PACKAGE_FILE -- {}",
                launch.display()
            ),
        ));
    };
    let source = crate::provenance::Source {
        repository: prov.repository.clone(),
        workflow: prov.workflow.clone(),
        git_ref: prov.git_ref.clone(),
    };
    crate::provenance::check_source(&source, rule).map_err(|e| {
        refusal(
            "provenance-source-mismatch",
            format!(
                "server {name:?} ({} {}@{}): the recorded provenance does not satisfy the policy: {e}",
                pkg.registry_type, pkg.identifier, pkg.version
            ),
            "if the package really moved, review the new source, then change the policy's provenance table",
        )
    })
}

/// A server pinned from an MCP bundle: the bundle on disk is the pinned bytes.
fn bundle_matches(name: &str, entry: &ServerEntry) -> Result<(), Refusal> {
    let Some(b) = &entry.mcpb else {
        return Ok(());
    };
    match crate::digest::sha256_file(Path::new(&b.path)) {
        Ok(d) if d == b.digest => folder_matches(name, b),
        Ok(d) => Err(refusal(
            "mcpb-mismatch",
            format!(
                "the MCP bundle {} of server {name:?} digests to {d}, but {} is pinned (signed by {}): it was replaced or altered",
                b.path, b.digest, b.signer.subject
            ),
            format!(
                "verify the new bundle (mcpseal verify {}), then re-pin it with --mcpb",
                b.path
            ),
        )),
        Err(e) => Err(refusal(
            "mcpb-unreadable",
            format!(
                "the MCP bundle {} of server {name:?} cannot be read: {e}",
                b.path
            ),
            "restore the bundle, or re-pin the server",
        )),
    }
}

/// A pinned bundle's folder (`pin --mcpb-dir`) still holds exactly the bundle's files.
fn folder_matches(name: &str, b: &crate::lock::PinnedMcpb) -> Result<(), Refusal> {
    let Some(f) = &b.folder else {
        return Ok(());
    };
    crate::mcpb::folder::check_recorded(Path::new(&f.path), &f.files_digest, &|| {
        std::fs::read(&b.path).ok()
    })
    .map_err(|e| {
        refusal(
            e.code(),
            format!("server {name:?}: {e}"),
            format!(
                "reinstall the bundle {} into {} (or re-pin with --mcpb-dir after reviewing the change)",
                b.path, f.path
            ),
        )
    })
}

/// Every pinned artifact digests to its pin.
fn artifacts_match(name: &str, entry: &ServerEntry) -> Result<(), Refusal> {
    for a in &entry.artifacts {
        match crate::digest::digest_path(Path::new(&a.path)) {
            Ok(d) if d.digest == a.digest => {}
            Ok(d) => {
                return Err(refusal(
                    "artifact-mismatch",
                    format!(
                        "artifact {} of server {name:?} digests to {}, but {} is pinned: it was swapped or altered",
                        a.path, d.digest, a.digest
                    ),
                    format!(
                        "reinstall the release and verify it (mcpseal verify {} --key PUB), then re-pin",
                        a.path
                    ),
                ));
            }
            Err(e) => {
                return Err(refusal(
                    "artifact-unreadable",
                    format!(
                        "artifact {} of server {name:?} cannot be digested: {e}",
                        a.path
                    ),
                    "reinstall the server, then re-pin it",
                ));
            }
        }
    }
    Ok(())
}

fn sidecar(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".sigstore.json");
    PathBuf::from(s)
}

/// A signed lock's binding: its serial is the file's and not below the highest this host
/// enforced for this key (`lock-rollback`), it has not expired (`lock-expired`), and the policy
/// in use is the one it was signed with (`policy-missing`, `policy-mismatch`). A lock signed
/// without a binding (`lock-unbound`) cannot be ordered, so it is refused.
///
/// `lock_bytes` and `policy_bytes` are the files as the caller read them once (the bytes whose
/// signatures it checks); only the files the policy names are read here.
fn check_binding(
    req: &Request<'_>,
    lock_bytes: &[u8],
    policy_bytes: Option<&[u8]>,
    st: &bundle::Statement,
    key: &PublicKey,
) -> Result<Option<crate::digest::Digest>, Refusal> {
    let lock_s = req.lock.display();
    let resign = format!(
        "re-sign the current lock: mcpseal sign {lock_s} --key KEY [--policy FILE | --no-policy]"
    );
    let Some(b) = &st.predicate.lock else {
        return Err(refusal(
            "lock-unbound",
            format!(
                "the signed lock {lock_s} carries no serial or policy binding (signed by an older mcpseal?)"
            ),
            resign,
        ));
    };
    let lock = lock::Lockfile::parse_only(lock_bytes, req.lock, Some(req.name))
        .map_err(|e| refusal(e.code(), e.to_string(), &resign))?;
    if lock.serial != b.serial {
        return Err(refusal(
            "lock-signature",
            format!(
                "the signed statement says serial {}, the lock {lock_s} has {}",
                b.serial, lock.serial
            ),
            resign,
        ));
    }
    if let Some(exp) = &b.expires {
        let when: jiff::Timestamp = exp.parse().map_err(|e| {
            refusal(
                "lock-expired",
                format!("the signed lock's expiry {exp:?} is not a time: {e}"),
                &resign,
            )
        })?;
        if jiff::Timestamp::now() > when {
            return Err(refusal(
                "lock-expired",
                format!("the signed lock {lock_s} expired at {exp}"),
                "get the fleet's current signed lock (and its bundle), or have it re-signed",
            ));
        }
    }
    match (b.policy, req.policy) {
        (None, None) => {}
        (Some(d), None) => {
            return Err(refusal(
                "policy-missing",
                format!(
                    "the signed lock {lock_s} goes with a policy ({d}), but no policy is in use: it was deleted or not passed"
                ),
                "restore the policy the lock was signed with (mcpseal-policy.toml beside the lock, or --policy FILE)",
            ));
        }
        (None, Some(p)) => {
            return Err(refusal(
                "policy-mismatch",
                format!(
                    "the signed lock {lock_s} was signed with no policy, but {} is in use",
                    p.display()
                ),
                resign,
            ));
        }
        (Some(d), Some(p)) => {
            let live = crate::policy::binding_digest_of_bytes(policy_bytes.unwrap_or_default(), p)
                .map_err(|e| refusal("policy-missing", format!("{}: {e}", p.display()), &resign))?;
            if live != d {
                return Err(refusal(
                    "policy-mismatch",
                    format!(
                        "the policy {} ({live}) is not the one the lock {lock_s} was signed with ({d})",
                        p.display()
                    ),
                    "restore the policy the lock was signed with, or re-sign the lock with this policy",
                ));
            }
        }
    }
    let state = match req.state_file {
        Some(p) => p.to_path_buf(),
        None => default_state_file().ok_or_else(|| {
            refusal(
                "state-unavailable",
                "no state directory for the highest enforced lock serial (neither XDG_STATE_HOME nor HOME is set)".into(),
                "set XDG_STATE_HOME, or pass --state-file FILE",
            )
        })?,
    };
    super::serials::advance(&state, &key.key_id(), b.serial).map(|()| b.policy).map_err(|e| match e {
        super::serials::Error::Rollback { highest } => refusal(
            "lock-rollback",
            format!(
                "the signed lock {lock_s} has serial {}, but this host already enforced serial {highest} signed by this key: an older lock was put back",
                b.serial
            ),
            "get the fleet's current signed lock and its bundle",
        ),
        other => refusal(
            "state-unavailable",
            format!("{}: {other}", state.display()),
            "check the state file's folder is writable, or pass --state-file FILE",
        ),
    })
}

/// Reads `file` whole, refusing one over `max` bytes (it is digested and parsed from memory).
fn read_capped(
    file: &Path,
    max: u64,
    reason: &'static str,
    what: &str,
) -> Result<Vec<u8>, Refusal> {
    let fail = |e: String| {
        refusal(
            reason,
            format!("the {what} {}: {e}", file.display()),
            format!("restore the {what}, or re-create it with `mcpseal pin` and sign it"),
        )
    };
    let f = std::fs::File::open(file).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, max + 1), &mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(fail(format!("over the {max}-byte limit")));
    }
    Ok(bytes)
}

/// The signature sidecar of `file` verifies with `key` and its statement covers exactly
/// `bytes` (the file's contents as read once by the caller).
fn check_signed_bytes(
    file: &Path,
    bytes: &[u8],
    key: &PublicKey,
    what: &'static str,
) -> Result<bundle::Statement, Refusal> {
    let reason = if what == "lockfile" {
        "lock-signature"
    } else {
        "policy-signature"
    };
    let b = sidecar(file);
    let fix = format!(
        "sign it: mcpseal sign {} --key KEY (and distribute {} with it)",
        file.display(),
        b.display()
    );
    let bundle_bytes = std::fs::read(&b).map_err(|e| {
        refusal(
            reason,
            format!(
                "the {what} {} has no signature bundle {}: {e}",
                file.display(),
                b.display()
            ),
            &fix,
        )
    })?;
    let v = bundle::verify(&bundle_bytes, key).map_err(|e| {
        refusal(
            reason,
            format!("the {what}'s bundle {} does not verify: {e}", b.display()),
            &fix,
        )
    })?;
    let d = crate::digest::Digest::of(bytes);
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    bundle::match_subjects(v.statement(), &[(file.display().to_string(), name, d)]).map_err(
        |e| {
            refusal(
                reason,
                format!("the {what} {} is not the signed one: {e}", file.display()),
                &fix,
            )
        },
    )?;
    Ok(v.statement().clone())
}

/// Loads the policy from `path`.
fn load_policy(path: &Path) -> Result<Policy, Refusal> {
    let bytes = std::fs::read(path).map_err(|e| {
        refusal(
            "policy-invalid",
            format!("{}: {e}", path.display()),
            "check --policy",
        )
    })?;
    parse_policy(path, &bytes)
}

/// Parses the policy `path` held when it was read as `bytes` (never reading `path` again).
fn parse_policy(path: &Path, bytes: &[u8]) -> Result<Policy, Refusal> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        refusal(
            "policy-invalid",
            format!("{}: the policy is not UTF-8 text", path.display()),
            "fix the policy file (docs/policy.md)",
        )
    })?;
    Policy::parse(text, path).map_err(|e| {
        refusal(
            "policy-invalid",
            e.to_string(),
            "fix the policy file (docs/policy.md)",
        )
    })
}

/// The policy's `image-signers` for a container server: the pin must record an image signer
/// (verified by `pin` at the registry) that the policy's signers match now. Offline: the gate
/// never contacts a registry. A pin made before the policy named image signers, a lock edited
/// to claim another signer, and a signer the policy no longer trusts are all refused.
fn image_signer_matches(
    name: &str,
    r: &Requirements,
    entry: &ServerEntry,
    launch: &Launch,
    lock_s: &str,
) -> Result<(), Refusal> {
    if r.image_signers.is_empty() {
        return Ok(());
    }
    let repin = format!("mcpseal pin {name} --lock {lock_s} -- {}", launch.display());
    let names: Vec<&str> = r.image_signers.iter().map(|s| s.name.as_str()).collect();
    let Some(img) = &entry.image else {
        return Err(refusal(
            "image-signer-missing",
            format!(
                "server {name:?}: the policy requires its container image to be signed by {}, but {lock_s} pins no container image for it",
                names.join(", ")
            ),
            "launch it as `docker run …` / `podman run …` and pin it, or remove image-signers from the policy",
        ));
    };
    let Some(signer) = &img.signer else {
        return Err(refusal(
            "image-signer-missing",
            format!(
                "server {name:?}: the policy requires image {} to be signed by {}, and its pin records no verified signer (pinned before the policy named image signers?)",
                img.reference,
                names.join(", ")
            ),
            format!("re-pin, which verifies the image's signature at the registry: {repin}"),
        ));
    };
    r.check_image(&signer.evidence()).map(|_| ()).map_err(|e| {
        refusal(
            "image-signer-untrusted",
            format!(
                "server {name:?}: image {} was pinned as signed by {:?}: {e}",
                img.reference, signer.name
            ),
            format!("re-pin with the policy's signers: {repin}"),
        )
    })
}

/// For a server that must be signed: the bundle verifies for a trusted signer over the
/// artifacts on disk. Returns the signer's name.
fn check_signature(server: &str, req: &Requirements) -> Result<Option<String>, Refusal> {
    if !req.require_signature {
        return Ok(None);
    }
    let fix = "install the release its publisher signed, or fix the policy's signers";
    let bundle_path = req.bundle.as_ref().ok_or_else(|| {
        refusal(
            "policy-invalid",
            format!("server {server:?} must be signed but the policy names no bundle"),
            fix,
        )
    })?;
    let bytes = std::fs::read(bundle_path).map_err(|e| {
        refusal(
            "unsigned",
            format!(
                "server {server:?} must be signed, but its bundle {} cannot be read: {e}",
                bundle_path.display()
            ),
            fix,
        )
    })?;
    let mut artifacts = Vec::new();
    for a in &req.artifacts {
        let d = crate::digest::digest_path(a).map_err(|e| {
            refusal(
                "artifact-unreadable",
                format!("server {server:?}: {e}"),
                fix,
            )
        })?;
        let name = a
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        artifacts.push((a.display().to_string(), name, d.digest));
    }
    let mut why = Vec::new();
    for s in &req.signers {
        let evidence = if let Some(k) = &s.public_key {
            let pem = match std::fs::read(k) {
                Ok(p) => p,
                Err(e) => {
                    why.push(format!("{}: {}: {e}", s.name, k.display()));
                    continue;
                }
            };
            let key = match PublicKey::from_pem(&pem) {
                Ok(k) => k,
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            };
            match bundle::verify(&bytes, &key)
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    bundle::match_subjects(v.statement(), &artifacts)
                        .map_err(|e| e.to_string())
                        .map(|()| v)
                }) {
                Ok(v) => Evidence {
                    key_id: Some(v.key_id().to_owned()),
                    ..Evidence::default()
                },
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            }
        } else if let (Some(issuer), [artifact]) = (&s.issuer, req.artifacts.as_slice()) {
            let re = s
                .identity_regexp
                .as_deref()
                .map(regex::Regex::new)
                .transpose()
                .ok()
                .flatten();
            let identity = match (&s.identity, &re) {
                (Some(x), _) => crate::keyless::IdentityMatch::Exact(x),
                (None, Some(r)) => crate::keyless::IdentityMatch::Regex(r),
                _ => continue,
            };
            let root = match crate::keyless::production_root() {
                Ok(r) => r,
                Err(e) => return Err(refusal("bad-trusted-root", e.to_string(), fix)),
            };
            let text = String::from_utf8_lossy(&bytes);
            let mut f = match std::fs::File::open(artifact) {
                Ok(f) => f,
                Err(e) => {
                    return Err(refusal(
                        "artifact-unreadable",
                        format!("{}: {e}", artifact.display()),
                        fix,
                    ));
                }
            };
            match crate::keyless::verify(
                &mut f,
                &text,
                &crate::keyless::Signer::Identity { identity, issuer },
                &root,
            ) {
                Ok(v) => Evidence {
                    identity: v.identity().map(str::to_owned),
                    issuer: v.issuer().map(str::to_owned),
                    ..Evidence::default()
                },
                Err(e) => {
                    why.push(format!("{}: {e}", s.name));
                    continue;
                }
            }
        } else {
            why.push(format!(
                "{}: a keyless signer covers exactly one artifact",
                s.name
            ));
            continue;
        };
        // The combinator is the last word: a verified signature from a signer it rejects is no pass.
        return req
            .check(&evidence)
            .map(|t| Some(t.name.clone()))
            .map_err(|e| refusal("untrusted-signer", e.to_string(), fix));
    }
    Err(refusal(
        "unsigned",
        format!(
            "server {server:?} must be signed by one of its trusted signers; none verified: {}",
            why.join("; ")
        ),
        fix,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages name the launch as one line: the command alone, the command and its arguments,
    /// or the URL.
    #[test]
    fn a_launch_displays_as_one_line() {
        let cmd = |args: &[&str]| Launch::Command {
            command: "npx".into(),
            args: strings(args),
        };
        assert_eq!(cmd(&[]).display(), "npx");
        assert_eq!(cmd(&["-y", "server"]).display(), "npx -y server");
        assert_eq!(
            Launch::Url("https://mcp.example/mcp".into()).display(),
            "https://mcp.example/mcp"
        );
    }

    /// The serials file lives in the user's XDG state folder (the rule `lock::index` tests),
    /// under `mcpseal/`; the tests run with `HOME` set, so there is one.
    #[test]
    fn the_default_serials_file_is_in_the_state_folder() {
        // The XDG rule, written out here as the oracle: an absolute XDG_STATE_HOME, else HOME.
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .expect("HOME is set for the tests");
        assert!(base.is_absolute(), "{}", base.display());
        assert_eq!(
            default_state_file(),
            Some(base.join("mcpseal").join("lock-serials.json"))
        );
    }

    fn entry(launch: PinnedLaunch) -> ServerEntry {
        ServerEntry::from_surface(
            launch,
            serde_json::json!({}),
            &crate::surface::Surface::default(),
        )
        .unwrap()
    }

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|a| a.to_string()).collect()
    }

    fn stdio(command: &str, args: &[&str], env: &[&str]) -> PinnedLaunch {
        PinnedLaunch::Stdio {
            command: command.into(),
            args: strings(args),
            env: strings(env),
        }
    }

    fn reason<T: std::fmt::Debug>(r: Result<T, Refusal>) -> &'static str {
        r.map_or_else(|e| e.reason, |_| "ok")
    }

    /// The launch must be the pinned one: the same command and the same arguments, each pinned
    /// environment variable set (by name: values are never pinned); a server pinned as remote
    /// is not launched as a command.
    #[test]
    fn a_launch_must_be_the_pinned_command_and_arguments() {
        let e = entry(stdio("node", &["server.js", "--ro"], &[]));
        let ok = launch_matches("s", &e, "node", &strings(&["server.js", "--ro"]), "L").unwrap();
        assert_eq!(ok.display(), "node server.js --ro");
        for (command, a) in [
            ("node", &["server.js"][..]),
            ("node", &["server.js", "--rw"][..]),
            ("node", &["server.js", "--ro", "--x"][..]),
            ("nodejs", &["server.js", "--ro"][..]),
        ] {
            let r = launch_matches("s", &e, command, &strings(a), "L");
            assert_eq!(reason(r), "launch-mismatch", "{command} {a:?}");
        }
        let with_env = entry(stdio(
            "node",
            &[],
            &["PATH", "MCPSEAL_TEST_SURELY_UNSET_VAR"],
        ));
        let r = launch_matches("s", &with_env, "node", &[], "L");
        let e = r.unwrap_err();
        assert_eq!(e.reason, "env-unset");
        assert!(
            e.message.contains("MCPSEAL_TEST_SURELY_UNSET_VAR"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("PATH"), "only the unset one is named");
        let remote = entry(PinnedLaunch::Http {
            url: "https://x/mcp".into(),
            headers: vec![],
        });
        assert_eq!(
            reason(launch_matches("s", &remote, "node", &[], "L")),
            "launch-mismatch"
        );
    }

    /// A remote launch must be the pinned URL, and a server pinned with headers (which the
    /// gate cannot send) is refused rather than gated without them.
    #[test]
    fn a_remote_launch_must_be_the_pinned_url_without_headers() {
        let http = |headers: &[&str]| {
            entry(PinnedLaunch::Http {
                url: "https://x/mcp".into(),
                headers: strings(headers),
            })
        };
        assert_eq!(
            reason(url_matches("s", &http(&[]), "https://x/mcp", "L")),
            "ok"
        );
        assert_eq!(
            reason(url_matches("s", &http(&[]), "https://y/mcp", "L")),
            "launch-mismatch"
        );
        let e = url_matches("s", &http(&["Authorization"]), "https://x/mcp", "L").unwrap_err();
        assert!(
            e.message.contains("HTTP headers (Authorization)"),
            "{}",
            e.message
        );
        let e = url_matches("s", &http(&["Authorization"]), "https://y/mcp", "L").unwrap_err();
        assert!(
            e.message.contains("this launch is https://y/mcp"),
            "{}",
            e.message
        );
        let cmd = entry(stdio("node", &[], &[]));
        assert_eq!(
            reason(url_matches("s", &cmd, "https://x/mcp", "L")),
            "launch-mismatch"
        );
    }

    /// Every pinned artifact must digest as pinned: a swapped file is `artifact-mismatch`
    /// (naming both digests), a missing one `artifact-unreadable`; the first bad one decides.
    #[test]
    fn pinned_artifacts_must_digest_as_pinned() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.js"), d.path().join("b.js"));
        std::fs::write(&a, "one").unwrap();
        std::fs::write(&b, "two").unwrap();
        let mut e = entry(stdio("node", &[], &[]));
        let pin = |p: &Path| crate::lock::PinnedArtifact {
            path: p.display().to_string(),
            digest: crate::digest::digest_path(p).unwrap().digest,
        };
        e.artifacts = vec![pin(&a), pin(&b)];
        assert_eq!(reason(artifacts_match("s", &e)), "ok");
        std::fs::write(&b, "tw0").unwrap();
        let err = artifacts_match("s", &e).unwrap_err();
        assert_eq!(err.reason, "artifact-mismatch");
        assert!(
            err.message.contains("b.js")
                && err.message.contains(&e.artifacts[1].digest.to_string()),
            "{}",
            err.message
        );
        std::fs::remove_file(&a).unwrap();
        assert_eq!(reason(artifacts_match("s", &e)), "artifact-unreadable");
    }

    /// Files the gate reads before trusting them are read to at most `max` bytes: exactly
    /// `max` is read whole, one byte more is refused (without reading the rest), a missing
    /// file is refused with the reason given.
    #[test]
    fn capped_reads_take_up_to_the_limit_and_refuse_past_it() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_capped(&f, 5, "r", "file").unwrap(), b"12345");
        let e = read_capped(&f, 4, "r", "file").unwrap_err();
        assert_eq!(e.reason, "r");
        assert!(e.message.contains("over the 4-byte limit"), "{}", e.message);
        assert_eq!(
            reason(read_capped(&d.path().join("none"), 5, "gone", "lock")),
            "gone"
        );
    }

    /// A policy that requires provenance refuses a pin that records none, and its fix says how
    /// to fetch the provenance from the package's own registry: PyPI's integrity API for a
    /// PyPI package, npm's attestations endpoint otherwise (cargo mutants: the PyPI wording
    /// could be dropped unnoticed, the CLI tests cover npm).
    #[test]
    fn missing_provenance_is_refused_with_the_fetch_for_its_registry() {
        let rule = crate::provenance::SourcePolicy {
            repository: Some("github.com/o/r".into()),
            workflow: None,
            ref_regexp: None,
        };
        let launch = Launch::Command {
            command: "uvx".into(),
            args: vec!["pkg==1.0".into()],
        };
        let with_package = |registry: &str| {
            let mut e = entry(stdio("uvx", &["pkg==1.0"], &[]));
            e.package = Some(crate::lock::PinnedPackage {
                registry_type: registry.into(),
                identifier: "pkg".into(),
                version: "1.0".into(),
                digest: None,
                server_json: None,
                provenance: None,
            });
            e
        };
        for (registry, fetch, file) in [
            ("pypi", "pip download", "DIST.provenance"),
            ("npm", "npm pack", "ATTESTATIONS.json"),
        ] {
            let e = with_package(registry);
            let r = provenance_matches("s", Some(&e), &rule, &launch, "L").unwrap_err();
            assert_eq!(r.reason, "provenance-missing");
            assert!(r.message.contains("github.com/o/r"), "{}", r.message);
            assert!(
                r.fix.contains(fetch) && r.fix.contains(file),
                "{registry}: {}",
                r.fix
            );
        }
        assert_eq!(
            reason(provenance_matches("s", None, &rule, &launch, "L")),
            "provenance-missing"
        );
    }

    fn key_signer(name: &str, pem: &Path) -> crate::policy::Signer {
        let key = PublicKey::from_pem(&std::fs::read(pem).unwrap()).unwrap();
        crate::policy::Signer {
            name: name.into(),
            matcher: crate::policy::Matcher::KeyId(key.key_id()),
            public_key: Some(pem.to_path_buf()),
            identity: None,
            identity_regexp: None,
            issuer: None,
        }
    }

    /// A release signed by `key` over `artifact`, the bundle written to `bundle`.
    fn sign_release(key: &crate::keys::SecretKey, artifact: &Path, bundle: &Path) {
        let d = crate::digest::Digest::of(&std::fs::read(artifact).unwrap());
        let name = artifact.file_name().unwrap().to_str().unwrap();
        let st = bundle::Statement::new(
            vec![bundle::Subject::new(name, &d)],
            bundle::ReleasePredicate::default(),
        );
        std::fs::write(
            bundle,
            serde_json::to_vec(&bundle::sign(&st, key).unwrap()).unwrap(),
        )
        .unwrap();
    }

    /// `require-signature`: the bundle must verify with a trusted signer's key over the
    /// artifacts as they are on disk, and the signer must satisfy the policy; the signer's
    /// name is what passes. Each way to fail is its own refusal.
    #[test]
    fn a_required_signature_verifies_over_the_artifacts_with_a_trusted_key() {
        let d = tempfile::tempdir().unwrap();
        let p = |n: &str| d.path().join(n);
        let key = crate::keys::generate().unwrap();
        std::fs::write(p("pub.pem"), key.public().to_pem()).unwrap();
        let other = crate::keys::generate().unwrap();
        std::fs::write(p("other.pem"), other.public().to_pem()).unwrap();
        std::fs::write(p("server.tgz"), b"release").unwrap();
        sign_release(&key, &p("server.tgz"), &p("b.json"));
        let mut r = Requirements {
            require_signature: true,
            signers: vec![key_signer("ci", &p("pub.pem"))],
            artifacts: vec![p("server.tgz")],
            bundle: Some(p("b.json")),
            ..Default::default()
        };
        assert_eq!(check_signature("s", &r).unwrap().as_deref(), Some("ci"));
        assert_eq!(
            check_signature("s", &Requirements::default()).unwrap(),
            None,
            "nothing is required"
        );

        // Tried in turn: a signer whose key did not sign is skipped with its reason.
        r.signers.insert(0, key_signer("other", &p("other.pem")));
        assert_eq!(check_signature("s", &r).unwrap().as_deref(), Some("ci"));

        // The key verifies, but the signer's matcher names another key id: not trusted.
        let mut mismatched = r.clone();
        mismatched.signers = vec![key_signer("ci", &p("pub.pem"))];
        mismatched.signers[0].matcher = crate::policy::Matcher::KeyId(other.public().key_id());
        assert_eq!(
            reason(check_signature("s", &mismatched)),
            "untrusted-signer"
        );

        let mut only_other = r.clone();
        only_other.signers.remove(1);
        let e = check_signature("s", &only_other).unwrap_err();
        assert_eq!(e.reason, "unsigned");
        assert!(
            e.message.contains("other:"),
            "the signer is named: {}",
            e.message
        );

        std::fs::write(p("server.tgz"), b"swapped").unwrap();
        assert_eq!(
            reason(check_signature("s", &r)),
            "unsigned",
            "artifact swapped"
        );
        std::fs::remove_file(p("server.tgz")).unwrap();
        assert_eq!(reason(check_signature("s", &r)), "artifact-unreadable");
        std::fs::write(p("server.tgz"), b"release").unwrap();
        assert_eq!(check_signature("s", &r).unwrap().as_deref(), Some("ci"));

        let mut no_bundle = r.clone();
        no_bundle.bundle = None;
        assert_eq!(reason(check_signature("s", &no_bundle)), "policy-invalid");
        let mut gone = r.clone();
        gone.bundle = Some(p("none.json"));
        assert_eq!(reason(check_signature("s", &gone)), "unsigned");
        let mut no_key = r.clone();
        no_key.signers = vec![key_signer("ci", &p("pub.pem"))];
        no_key.signers[0].public_key = Some(p("missing.pem"));
        assert_eq!(reason(check_signature("s", &no_key)), "unsigned");
        std::fs::write(p("bad.pem"), b"not a key").unwrap();
        no_key.signers[0].public_key = Some(p("bad.pem"));
        assert_eq!(reason(check_signature("s", &no_key)), "unsigned");
    }

    /// A keyless signer: a real Sigstore bundle (the conformance suite's happy path, public-good
    /// instance) verifies for the signer's exact identity or its regexp, with its issuer; the
    /// evidence the policy sees is the certificate's identity and issuer.
    #[test]
    fn a_keyless_signer_is_verified_by_identity_and_issuer() {
        let v = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/vectors/sigstore-conformance");
        let id = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
        let issuer = "https://token.actions.githubusercontent.com";
        let signer =
            |exact: Option<&str>, re: Option<&str>, matcher_issuer: &str| crate::policy::Signer {
                name: "beacon".into(),
                matcher: crate::policy::Matcher::Identity {
                    exact: exact.map(str::to_owned),
                    regex: re.map(|r| regex::Regex::new(r).unwrap()),
                    issuer: matcher_issuer.into(),
                },
                public_key: None,
                identity: exact.map(str::to_owned),
                identity_regexp: re.map(str::to_owned),
                issuer: Some(issuer.into()),
            };
        let req = |s: crate::policy::Signer| Requirements {
            require_signature: true,
            signers: vec![s],
            artifacts: vec![v.join("a.txt")],
            bundle: Some(v.join("happy-path-v0.3/bundle.sigstore.json")),
            ..Default::default()
        };
        let exact = req(signer(Some(id), None, issuer));
        assert_eq!(
            check_signature("s", &exact).unwrap().as_deref(),
            Some("beacon")
        );
        let re = req(signer(
            None,
            Some("https://github.com/sigstore-conformance/.*"),
            issuer,
        ));
        assert_eq!(
            check_signature("s", &re).unwrap().as_deref(),
            Some("beacon")
        );
        // Verified, but the policy's matcher wants another issuer: the evidence decides.
        let other_issuer = req(signer(Some(id), None, "https://issuer.example"));
        assert_eq!(
            reason(check_signature("s", &other_issuer)),
            "untrusted-signer"
        );
        let wrong = req(signer(Some("https://github.com/evil/x"), None, issuer));
        assert_eq!(reason(check_signature("s", &wrong)), "unsigned");
        // A keyless signer covers exactly one artifact.
        let mut two = req(signer(Some(id), None, issuer));
        two.artifacts.push(v.join("a.txt"));
        let e = check_signature("s", &two).unwrap_err();
        assert!(e.message.contains("exactly one artifact"), "{}", e.message);
    }

    fn request<'a>(lock: &'a Path, policy: Option<&'a Path>, state: &'a Path) -> Request<'a> {
        Request {
            name: "s",
            lock,
            policy,
            lock_key: None,
            tofu: false,
            launch: Launch::Command {
                command: "node".into(),
                args: vec![],
            },
            on_drift: OnDrift::Block,
            deny_findings: None,
            capture: CaptureOptions::default(),
            state_file: Some(state),
            principal: None,
        }
    }

    fn binding(
        serial: u64,
        policy: Option<crate::digest::Digest>,
        expires: Option<&str>,
    ) -> bundle::Statement {
        bundle::Statement::new(
            vec![],
            bundle::ReleasePredicate {
                lock: Some(bundle::LockBinding {
                    serial,
                    policy,
                    expires: expires.map(str::to_owned),
                }),
                ..Default::default()
            },
        )
    }

    /// A signed lock's binding: the serial is the file's and never below the highest enforced
    /// (which it then becomes), the expiry has not passed, and the policy in use is the one
    /// signed with (none when none was). Returns the bound policy digest.
    #[test]
    fn a_signed_locks_binding_orders_expires_and_names_its_policy() {
        let d = tempfile::tempdir().unwrap();
        let (lock_p, state) = (d.path().join("mcpseal.lock"), d.path().join("serials.json"));
        let mut lf = lock::Lockfile::new();
        lf.serial = 7;
        let bytes = lf.to_text().into_bytes();
        let key = crate::keys::generate().unwrap().public();
        let req = request(&lock_p, None, &state);
        let check = |req: &Request<'_>, pol: Option<&[u8]>, st: &bundle::Statement| {
            check_binding(req, &bytes, pol, st, &key)
        };
        assert_eq!(check(&req, None, &binding(7, None, None)).unwrap(), None);
        assert_eq!(
            reason(check(
                &req,
                None,
                &bundle::Statement::new(vec![], Default::default())
            )),
            "lock-unbound"
        );
        assert_eq!(
            reason(check(&req, None, &binding(8, None, None))),
            "lock-signature"
        );
        assert_eq!(
            reason(check(
                &req,
                None,
                &binding(7, None, Some("2020-01-01T00:00:00Z"))
            )),
            "lock-expired"
        );
        assert_eq!(
            reason(check(&req, None, &binding(7, None, Some("next tuesday")))),
            "lock-expired"
        );
        assert_eq!(
            check(&req, None, &binding(7, None, Some("2999-01-01T00:00:00Z"))).unwrap(),
            None
        );

        // The policy: bound and present and the same, bound and absent, absent and present.
        let pol_p = d.path().join("policy.toml");
        let text = b"[server.s]\non-drift = \"kill\"\n";
        let digest = crate::policy::binding_digest_of_bytes(text, &pol_p).unwrap();
        let with_policy = request(&lock_p, Some(&pol_p), &state);
        assert_eq!(
            check(&with_policy, Some(text), &binding(7, Some(digest), None)).unwrap(),
            Some(digest)
        );
        assert_eq!(
            reason(check(
                &with_policy,
                Some(b"# another\n"),
                &binding(7, Some(digest), None)
            )),
            "policy-mismatch"
        );
        assert_eq!(
            reason(check(&req, None, &binding(7, Some(digest), None))),
            "policy-missing"
        );
        assert_eq!(
            reason(check(&with_policy, Some(text), &binding(7, None, None))),
            "policy-mismatch"
        );

        // Serial 7 is now the highest enforced: a lock put back at 6 is a rollback.
        let mut older = lock::Lockfile::new();
        older.serial = 6;
        let old_bytes = older.to_text().into_bytes();
        let e = check_binding(&req, &old_bytes, None, &binding(6, None, None), &key).unwrap_err();
        assert_eq!(e.reason, "lock-rollback");
        assert!(
            e.message.contains("already enforced serial 7"),
            "{}",
            e.message
        );
        // Another key's serials are its own.
        let k2 = crate::keys::generate().unwrap().public();
        assert!(check_binding(&req, &old_bytes, None, &binding(6, None, None), &k2).is_ok());
        // A state file that cannot be kept is refused, not skipped.
        std::fs::write(d.path().join("file"), b"").unwrap();
        let bad = d.path().join("file/serials.json");
        let r = request(&lock_p, None, &bad);
        assert_eq!(
            reason(check(&r, None, &binding(7, None, None))),
            "state-unavailable"
        );
    }

    /// The lock's (and the policy's) signature sidecar must verify with the key and cover
    /// exactly the bytes read; each failure names the file's kind in its reason.
    #[test]
    fn a_signed_file_verifies_over_the_bytes_read() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("mcpseal.lock");
        std::fs::write(&f, b"{}").unwrap();
        let key = crate::keys::generate().unwrap();
        sign_release(&key, &f, &sidecar(&f));
        assert_eq!(sidecar(&f), d.path().join("mcpseal.lock.sigstore.json"));
        let st = check_signed_bytes(&f, b"{}", &key.public(), "lockfile").unwrap();
        assert_eq!(st.subject[0].name, "mcpseal.lock");
        for what in ["lockfile", "policy"] {
            let want = if what == "lockfile" {
                "lock-signature"
            } else {
                "policy-signature"
            };
            let other = crate::keys::generate().unwrap().public();
            assert_eq!(
                reason(check_signed_bytes(&f, b"{}", &other, what)),
                want,
                "{what}: wrong key"
            );
            assert_eq!(
                reason(check_signed_bytes(&f, b"{ }", &key.public(), what)),
                want,
                "{what}: other bytes"
            );
        }
        std::fs::remove_file(sidecar(&f)).unwrap();
        assert_eq!(
            reason(check_signed_bytes(&f, b"{}", &key.public(), "policy")),
            "policy-signature"
        );
    }

    fn image_entry(signer: Option<crate::lock::ImageSigner>) -> ServerEntry {
        let mut e = entry(stdio("docker", &["run", "-i", "img"], &[]));
        e.image = Some(crate::lock::PinnedImage {
            reference: "registry.example/img:1".into(),
            digest: crate::digest::Digest::of(b"manifest"),
            signer,
        });
        e
    }

    /// `image-signers`: the pin must record a verified image signer the policy trusts now.
    #[test]
    fn an_image_signer_must_be_recorded_and_trusted() {
        let trusted = crate::policy::Signer {
            name: "corp".into(),
            matcher: crate::policy::Matcher::KeyId("k1".into()),
            public_key: None,
            identity: None,
            identity_regexp: None,
            issuer: None,
        };
        let r = Requirements {
            image_signers: vec![trusted],
            ..Default::default()
        };
        let launch = Launch::Command {
            command: "docker".into(),
            args: vec![],
        };
        let signed_by = |k: &str| crate::lock::ImageSigner {
            name: "corp".into(),
            key_id: Some(k.into()),
            identity: None,
            issuer: None,
            trusted_root: None,
        };
        let m = |r: &Requirements, e: &ServerEntry| image_signer_matches("s", r, e, &launch, "L");
        assert_eq!(reason(m(&r, &image_entry(Some(signed_by("k1"))))), "ok");
        assert_eq!(
            reason(m(&r, &image_entry(Some(signed_by("k2"))))),
            "image-signer-untrusted"
        );
        assert_eq!(reason(m(&r, &image_entry(None))), "image-signer-missing");
        assert_eq!(
            reason(m(&r, &entry(stdio("node", &[], &[])))),
            "image-signer-missing"
        );
        assert_eq!(
            reason(m(&Requirements::default(), &image_entry(None))),
            "ok"
        );
    }

    fn npm(version: &str) -> crate::lock::PinnedPackage {
        crate::lock::PinnedPackage {
            registry_type: "npm".into(),
            identifier: "pkg".into(),
            version: version.into(),
            digest: None,
            server_json: None,
            provenance: None,
        }
    }

    /// The launch must run the pinned package version; an OCI package must be the pinned image.
    #[test]
    fn a_launch_must_run_the_pinned_package() {
        let mut e = entry(stdio("npx", &["-y", "pkg@1.0"], &[]));
        e.package = Some(npm("1.0"));
        let run = |args: &[&str]| Launch::Command {
            command: "npx".into(),
            args: strings(args),
        };
        assert_eq!(
            reason(package_matches("s", &e, &run(&["-y", "pkg@1.0"]), "L")),
            "ok"
        );
        let err = package_matches("s", &e, &run(&["-y", "pkg@1.1"]), "L").unwrap_err();
        assert_eq!(err.reason, "package-mismatch");
        assert!(
            err.message.contains("pkg@1.0") && err.message.contains("1.1"),
            "{}",
            err.message
        );
        assert_eq!(
            reason(package_matches(
                "s",
                &e,
                &Launch::Url("https://x/mcp".into()),
                "L"
            )),
            "package-mismatch"
        );
        let mut oci = image_entry(None);
        oci.package = Some(crate::lock::PinnedPackage {
            registry_type: "oci".into(),
            identifier: "registry.example/img".into(),
            version: "1".into(),
            digest: Some(crate::digest::Digest::of(b"other manifest").to_string()),
            server_json: None,
            provenance: None,
        });
        assert_eq!(
            reason(package_matches("s", &oci, &run(&[]), "L")),
            "package-mismatch"
        );
        if let Some(p) = oci.package.as_mut() {
            p.digest = Some(crate::digest::Digest::of(b"manifest").to_string());
        }
        assert_eq!(reason(package_matches("s", &oci, &run(&[]), "L")), "ok");
    }

    /// Recorded provenance is held to the policy's source: the same repository passes, another
    /// is refused.
    #[test]
    fn recorded_provenance_must_come_from_the_policys_source() {
        let rule = crate::provenance::SourcePolicy {
            repository: Some("github.com/o/r".into()),
            workflow: None,
            ref_regexp: None,
        };
        let launch = Launch::Command {
            command: "npx".into(),
            args: vec![],
        };
        let from = |repo: &str| {
            let mut e = entry(stdio("npx", &[], &[]));
            let mut p = npm("1.0");
            p.provenance = Some(crate::lock::PinnedProvenance {
                kind: "slsa".into(),
                repository: repo.into(),
                workflow: ".github/workflows/release.yml".into(),
                git_ref: "refs/tags/v1.0".into(),
                identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0"
                    .into(),
                environment: None,
                integrated_time: None,
            });
            e.package = Some(p);
            e
        };
        let ok = from("github.com/o/r");
        assert_eq!(
            reason(provenance_matches("s", Some(&ok), &rule, &launch, "L")),
            "ok"
        );
        let moved = from("github.com/evil/r");
        assert_eq!(
            reason(provenance_matches("s", Some(&moved), &rule, &launch, "L")),
            "provenance-source-mismatch"
        );
    }

    /// A server pinned from an MCP bundle: the bundle must be the pinned bytes, and an installed
    /// folder (`--mcpb-dir`) must still hold exactly its files.
    #[test]
    fn a_pinned_bundle_and_its_folder_must_be_unchanged() {
        let d = tempfile::tempdir().unwrap();
        let zip = crate::mcpb::manifest::tests::zip(&[
            ("manifest.json", b"{}"),
            ("server/index.js", b"serve()"),
        ]);
        let file = d.path().join("s.mcpb");
        std::fs::write(&file, &zip).unwrap();
        let dir = d.path().join("installed");
        std::fs::create_dir_all(dir.join("server")).unwrap();
        std::fs::write(dir.join("manifest.json"), b"{}").unwrap();
        std::fs::write(dir.join("server/index.js"), b"serve()").unwrap();
        let files = crate::mcpb::folder::bundle_files(&zip).unwrap();
        let mut e = entry(stdio("node", &[], &[]));
        e.mcpb = Some(crate::lock::PinnedMcpb {
            path: file.display().to_string(),
            digest: crate::digest::sha256_file(&file).unwrap(),
            content_digest: String::new(),
            signer: crate::lock::PinnedMcpbSigner {
                fingerprint: String::new(),
                subject: "CN=pub".into(),
                issuer: "CN=pub".into(),
                self_signed: true,
            },
            name: "s".into(),
            version: "1".into(),
            declared_tools: vec![],
            tools_generated: false,
            folder: None,
        });
        assert_eq!(reason(bundle_matches("s", &e)), "ok");
        let folder = crate::lock::PinnedMcpbFolder {
            path: dir.display().to_string(),
            files_digest: crate::mcpb::folder::files_digest(&files),
            files: files.len(),
        };
        if let Some(b) = e.mcpb.as_mut() {
            b.folder = Some(folder);
        }
        assert_eq!(reason(bundle_matches("s", &e)), "ok");
        std::fs::write(dir.join("server/index.js"), b"steal()").unwrap();
        let err = bundle_matches("s", &e).unwrap_err();
        assert!(
            err.message.contains("server/index.js"),
            "the file is named: {}",
            err.message
        );
        assert!(err.fix.contains("--mcpb-dir"), "{}", err.fix);

        std::fs::write(&file, b"another bundle").unwrap();
        let err = bundle_matches("s", &e).unwrap_err();
        assert_eq!(err.reason, "mcpb-mismatch");
        assert!(err.message.contains("CN=pub"), "{}", err.message);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(reason(bundle_matches("s", &e)), "mcpb-unreadable");
    }

    /// A container server is launched by the pinned image's digest, never its tag: the launch
    /// that passes spawns `IMAGE@DIGEST`; another runtime, or another image, is refused.
    #[test]
    fn a_container_launch_runs_the_pinned_digest() {
        let e = image_entry(None);
        let digest = e.image.as_ref().map(|i| i.digest).unwrap();
        let args = strings(&["run", "-i", "img"]);
        let Launch::Command {
            command,
            args: spawn,
        } = launch_matches("s", &e, "docker", &args, "L").unwrap()
        else {
            panic!("a command launch");
        };
        assert_eq!(command, "docker");
        assert_eq!(spawn, strings(&["run", "-i", &format!("img@{digest}")]));
        assert_eq!(
            reason(launch_matches("s", &e, "podman", &args, "L")),
            "launch-mismatch",
            "another runtime is another launch"
        );
        assert_eq!(
            reason(launch_matches(
                "s",
                &e,
                "podman",
                &strings(&["run", "-i", "evil"]),
                "L"
            )),
            "launch-mismatch",
            "the command is compared first: the image is checked only for the pinned runtime"
        );
        assert_eq!(
            reason(launch_matches(
                "s",
                &e,
                "docker",
                &strings(&["run", "-i", "evil"]),
                "L"
            )),
            "image-not-pinned"
        );
    }
}
