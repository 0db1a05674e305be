//! `mcpseal pin NAME -- CMD ARGS…`: capture a server's surface and pin it in mcpseal.lock.
//!
//! A pin is an approval ([`crate::pin`]): a re-pin whose surface changed prints the named diff
//! and its findings and exits 1, leaving the lock as it was, unless `--accept-changes` (and,
//! for findings at or above `--fail-on`, `--accept-findings`) says the change is approved.

use std::path::PathBuf;

use serde_json::json;

use super::surface::{ServerArgs, capture_error};
use super::{
    CliError, ClientArg, CmdResult, Exit, Global, SeverityArg, check_name, emit, emit_json,
    lock_error,
};
use crate::lock::{self, PinnedLaunch, ServerEntry, Store};
use crate::mcp;
use crate::pin::{self, Approval, Verdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The name to pin the server under (the name your MCP client config gives it).
    #[arg(value_name = "NAME", required_unless_present_any = ["config", "client", "all"])]
    pub name: Option<String>,
    /// Pin every server of this MCP client config file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "client", "all"])]
    pub config: Option<PathBuf>,
    /// Pin every server of every config of this client.
    #[arg(long, value_enum, value_name = "CLIENT", conflicts_with_all = ["name", "all"])]
    pub client: Option<ClientArg>,
    /// Pin every server of every MCP client config found (see `mcpseal clients`).
    #[arg(long, conflicts_with = "name")]
    pub all: bool,
    /// With --config: read the file as this client's format (when its path does not say).
    #[arg(long = "as", value_enum, value_name = "CLIENT", requires = "config")]
    pub as_client: Option<ClientArg>,
    /// With --client/--all: stop at a config file that cannot be read or parsed, pinning
    /// nothing, instead of reporting it and pinning the other clients' servers (exit 2 either way).
    #[arg(long)]
    pub strict: bool,
    /// With --config/--client/--all: the home folder to look in (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// With --config/--client/--all: the project folder (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The lockfile to update [default: mcpseal.lock in the current folder; with --client or
    /// --all, the per-user lock (~/.config/mcpseal/mcpseal.lock, docs/clients.md)].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Also pin the digest of this release artifact (file or directory); `mcpseal run` refuses
    /// to start the server if it changes on disk. Repeatable. (One server only.)
    #[arg(long = "artifact", value_name = "PATH", conflicts_with_all = ["config", "client", "all"])]
    pub artifacts: Vec<PathBuf>,
    /// Pin from a signed release: the live surface must equal the surface signed in this
    /// bundle (no trust on first use); the lock records the signer and the bundle digest.
    /// (One server only.)
    #[arg(long, value_name = "BUNDLE", requires = "key", conflicts_with_all = ["config", "client", "all"])]
    pub bundle: Option<PathBuf>,
    /// With --bundle: the publisher's Ed25519 public key.
    #[arg(long, value_name = "PUB", requires = "bundle")]
    pub key: Option<PathBuf>,
    /// Approve a changed surface: replace its pin (the lock records what it replaced). Without
    /// it, a re-pin whose surface changed shows the diff, exits 1 and changes nothing.
    #[arg(long)]
    pub accept_changes: bool,
    /// With --accept-changes: also approve scan findings at or above --fail-on in the changed
    /// surface (review them first: `mcpseal scan`).
    #[arg(long, requires = "accept_changes")]
    pub accept_findings: bool,
    /// The finding severity from which a changed surface needs --accept-findings.
    #[arg(long, value_enum, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: SeverityArg,
    /// An MCP bundle server: verify this `.mcpb` (before anything starts) and record its
    /// digest, its signer and the tools its manifest.json declares; `mcpseal run` refuses to
    /// start the server if the bundle on disk changes. The launch after `--` runs the bundle
    /// as installed (`node DIR/server/index.js`). (One server only.)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "client", "all"])]
    pub mcpb: Option<PathBuf>,
    /// With --mcpb: PEM roots the bundle's signer must chain to [default: the system's].
    #[arg(long, value_name = "ROOTS.pem", requires = "mcpb")]
    pub ca: Option<PathBuf>,
    /// With --mcpb: accept a self-signed signer (pin its fingerprint with --signer).
    #[arg(long, requires = "mcpb")]
    pub allow_self_signed: bool,
    /// With --mcpb: the folder the bundle is installed (unpacked) in. It must hold exactly the
    /// bundle's files (none missing, changed or added); `mcpseal run` refuses it once it does
    /// not.
    #[arg(long, value_name = "DIR", requires = "mcpb")]
    pub mcpb_dir: Option<PathBuf>,
    /// With --mcpb: the signer certificate's SHA-256 fingerprint the bundle must carry.
    #[arg(long, value_name = "SHA256", requires = "mcpb")]
    pub signer: Option<String>,
    /// Record the package identity (registry type, identifier, version, digest) from this
    /// MCP Registry server.json: the launch must run one of its packages at its version (or,
    /// with --mcpb, the bundle must have its fileSha256). (One server only.)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "client", "all"])]
    pub server_json: Option<PathBuf>,
    /// Verify the launched package's provenance (npm attestations document, or a PEP 740
    /// provenance file) against the package file given with --artifact, and record where it
    /// was built (repository, workflow, ref) for the policy's `provenance` table.
    #[arg(long, value_name = "FILE", requires = "artifacts", conflicts_with_all = ["config", "client", "all"])]
    pub provenance: Option<PathBuf>,
    /// Fetch the launched package's provenance (npm's attestations endpoint, PyPI's integrity
    /// API) and verify it against the package file given with --artifact, as --provenance
    /// does. A package that publishes none is pinned without it, unless the policy's
    /// `provenance` table for the server requires it (then nothing is pinned).
    #[arg(long, requires = "artifacts", conflicts_with_all = ["provenance", "config", "client", "all"])]
    pub fetch_provenance: bool,
    /// With --fetch-provenance: the npm registry or PyPI index to fetch from (https://, or
    /// http:// to a loopback address) [default: https://registry.npmjs.org, https://pypi.org].
    #[arg(long, value_name = "URL", requires = "fetch_provenance")]
    pub provenance_url: Option<String>,
    /// The Sigstore trusted root (JSON, as for `verify --trusted-root`) for pin's keyless
    /// checks: --provenance / --fetch-provenance, and the policy's keyless image-signers of a
    /// container server (a private Sigstore deployment) [default: the embedded public-good root].
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// A `docker run` / `podman run` server: allow plain HTTP to this registry host[:port]
    /// when resolving its image (loopback registries always may).
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
    /// A `docker run` / `podman run` server: the trust policy whose `image-signers` its image
    /// must be signed by (verified at the registry, recorded in the pin; docs/oci.md)
    /// [default: mcpseal-policy.toml beside the lockfile, when there is one].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["config", "client", "all"])]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

impl Args {
    /// Whether this is a bulk pin of client configs (`--config`, `--client`, `--all`).
    pub fn is_bulk(&self) -> bool {
        self.config.is_some() || self.client.is_some() || self.all
    }

    /// The lock this pin writes: `--lock`, else the per-user lock for host-wide selections
    /// (`--client`, `--all`), else `mcpseal.lock` here.
    pub fn lock_path(&self) -> Result<PathBuf, CliError> {
        super::resolve_lock(self.lock.as_ref(), self.client.is_some() || self.all)
    }

    /// The approval the flags give.
    pub fn approval(&self) -> Approval {
        Approval {
            accept_changes: self.accept_changes,
            accept_findings: self.accept_findings,
            fail_on: self.fail_on.into(),
        }
    }
}

/// The policy `pin` reads for `image-signers`: `--policy`, else `mcpseal-policy.toml` beside
/// the lock when there is one (the one `mcpseal run` would read).
fn image_policy(args: &Args) -> Result<Option<crate::policy::Policy>, CliError> {
    let path = match &args.policy {
        Some(p) => p.clone(),
        None => {
            let lock = args.lock_path()?;
            let beside = lock
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("mcpseal-policy.toml");
            if !beside.is_file() {
                return Ok(None);
            }
            beside
        }
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| super::io_error(&path, "the policy", e))?;
    crate::policy::Policy::parse(&text, &path)
        .map(Some)
        .map_err(|e| {
            CliError::error("policy-invalid", e.to_string())
                .help("fix the policy file (docs/policy.md)")
        })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let name = args
        .name
        .clone()
        .ok_or_else(|| CliError::error("usage", "name the server to pin"))?;
    check_name(&name)?;
    let spec = args.server.spec()?;
    let opts = args.server.options()?;
    // A container server: pin the image's digest (verifying the policy's image signers), and
    // capture exactly that digest.
    let requirements = image_policy(&args)?
        .map(|p| p.requirements_for(&name))
        .unwrap_or_default();
    let image_signers = requirements.image_signers.clone();
    let container = super::oci::pin_container(
        &name,
        &spec,
        &args.allow_insecure_registry,
        &image_signers,
        args.trusted_root.as_deref(),
    )?;
    let capture_spec = container.as_ref().map_or(&spec, |(_, s)| s);
    // The channel's checks come before the capture: an unverified bundle or package is
    // never started to be captured.
    let recorded = super::pin_channels::check(
        &super::pin_channels::Flags {
            name: &name,
            mcpb: args.mcpb.as_deref(),
            mcpb_dir: args.mcpb_dir.as_deref(),
            ca: args.ca.as_deref(),
            allow_self_signed: args.allow_self_signed,
            signer: args.signer.as_deref(),
            server_json: args.server_json.as_deref(),
            provenance: args.provenance.as_deref(),
            trusted_root: args.trusted_root.as_deref(),
            fetch_provenance: args.fetch_provenance,
            provenance_url: args.provenance_url.as_deref(),
            provenance_required: requirements.provenance.is_some(),
            artifacts: &args.artifacts,
            image: container.as_ref().map(|(i, _)| i),
            insecure: &args.allow_insecure_registry,
        },
        &spec,
    )?;
    // Capture first; only then take the folder lock (a long capture must not block `run`).
    let cap = mcp::capture(capture_spec, &opts).map_err(capture_error)?;
    let mut entry = ServerEntry::from_surface(
        PinnedLaunch::from_spec(&spec),
        opts.capabilities.clone(),
        &cap.surface,
    )
    .map_err(lock_error)?;
    entry.image = container.map(|(image, _)| image);
    entry.mcpb = recorded.mcpb;
    entry.package = recorded.package;
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
    for a in args
        .artifacts
        .iter()
        .filter(|a| Some(*a) != recorded.consumed.as_ref())
    {
        let abs = a
            .canonicalize()
            .map_err(|e| super::io_error(a, "an artifact", e))?;
        let d = super::progress::hashing(&abs, || crate::digest::digest_path(&abs))
            .map_err(super::digest::digest_error)?;
        entry.artifacts.push(lock::PinnedArtifact {
            path: abs.display().to_string(),
            digest: d.digest,
        });
    }
    let count = cap.surface.len();
    let lock_path = args.lock_path()?;
    let mut store = Store::open(&lock_path).map_err(lock_error)?;
    let plans = pin::plan(
        vec![pin::Candidate {
            name: name.clone(),
            spec: spec.clone(),
            surface: cap.surface,
            entry,
        }],
        &store.lock,
        &args.approval(),
    );
    let Some(p) = plans.first() else {
        return Err(CliError::error("internal", "no pin plan"));
    };
    let path = store.path().display().to_string();
    if pin::apply(&mut store, &plans) > 0 {
        store.commit().map_err(lock_error)?;
    }
    let surface_digest = p.entry.surface_digest;
    let verdict = verdict_name(p.verdict);
    let refused = match p.verdict {
        Verdict::Refused(r) => Some(r),
        _ => None,
    };
    if g.json {
        emit_json(&json!({
            "ok": refused.is_none(), "reason": refused, "server": name, "lock": path,
            "surfaceDigest": surface_digest, "entities": count, "verdict": verdict,
            "updated": p.previous.is_some() && refused.is_none(), "changes": p.diff,
            "otherChanges": p.other_changes,
            "findings": p.findings,
            "image": p.entry.image.as_ref().map(|i| json!({"reference": i.reference, "digest": i.digest.to_string(), "signer": i.signer})),
            "mcpb": p.entry.mcpb, "package": p.entry.package,
            "provenanceFetched": recorded.fetched,
        }));
    } else {
        if let Some(i) = &p.entry.image {
            emit(&format!("image {} pinned at {}", i.reference, i.digest));
            if let Some(s) = &i.signer {
                emit(&format!(
                    "image signed by {} (verified at the registry)",
                    s.name
                ));
            }
        }
        if let Some(b) = &p.entry.mcpb {
            emit(&format!(
                "bundle {} {}@{} pinned at {}, signed by {} ({})",
                b.path, b.name, b.version, b.digest, b.signer.subject, b.signer.fingerprint
            ));
        }
        if let Some(k) = &p.entry.package {
            emit(&format!(
                "package {} {}@{}{}",
                k.registry_type,
                k.identifier,
                k.version,
                k.server_json
                    .as_ref()
                    .map(|s| format!(" (registry entry {})", s.name))
                    .unwrap_or_default()
            ));
            if let Some(v) = &k.provenance {
                emit(&format!(
                    "  provenance verified: built by {} {} at {}",
                    v.repository, v.workflow, v.git_ref
                ));
            }
            match &recorded.fetched {
                Some(crate::cli::pin_channels::Fetched::Verified(url)) => {
                    emit(&format!("  provenance fetched from {url}"));
                }
                Some(crate::cli::pin_channels::Fetched::NotPublished(url)) => {
                    emit(&format!(
                        "  no provenance published at {url}: pinned without provenance"
                    ));
                }
                None => {}
            }
        }
        match p.verdict {
            Verdict::New => emit(&format!(
                "pinned {name} ({count} entities, surface {surface_digest}) in {path}"
            )),
            Verdict::Unchanged => emit(&format!("{name}: unchanged (surface {surface_digest})")),
            Verdict::Accepted => emit(&format!(
                "re-pinned {name} in {path} (changes accepted); what changed since the last pin:"
            )),
            Verdict::Refused(_) => emit(&format!(
                "NOT re-pinned {name}: it changed since the last pin, and a pin is an approval; {path} is unchanged. What changed:"
            )),
        }
        for l in change_lines(p, "  ") {
            emit(&l);
        }
        if let Some(summary) = super::scan::pin_summary(&p.findings, &path) {
            emit(&summary);
        }
        match refused {
            Some("changes-not-accepted") => emit(&format!(
                "review the diff above; if the change is intended: mcpseal pin {name} --lock {path} --accept-changes {}",
                spec_line(&spec)
            )),
            Some(_) => emit(&format!(
                "{} finding(s) at or above --fail-on; review them (mcpseal scan), then add --accept-findings if they are intended",
                p.failing
            )),
            None => {}
        }
    }
    Ok(if refused.is_some() {
        Exit::Fail
    } else {
        Exit::Ok
    })
}

/// What a plan changes against the previous pin, as indented lines: the surface diff, then
/// whatever else changed (the launch shown old and new).
pub(crate) fn change_lines(p: &pin::Plan, indent: &str) -> Vec<String> {
    let mut out = p
        .diff
        .as_ref()
        .map(|d| super::render_diff::lines(d, indent))
        .unwrap_or_default();
    if let Some(prev) = p.previous.as_ref().filter(|_| !p.other_changes.is_empty()) {
        out.push(format!(
            "{indent}changed besides the surface: {}",
            p.other_changes.join(", ")
        ));
        if p.other_changes.contains(&"launch") {
            out.push(format!("{indent}  launch was `{}`", prev.launch.display()));
            out.push(format!(
                "{indent}  launch now `{}`",
                p.entry.launch.display()
            ));
        }
    }
    out
}

/// The verdict's name in JSON output.
pub(crate) fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::New => "new",
        Verdict::Unchanged => "unchanged",
        Verdict::Accepted => "accepted",
        Verdict::Refused(_) => "refused",
    }
}

/// A launch spec as the arguments that pin it (`-- CMD ARGS`, `--url URL`, `--url URL --sse`).
pub(crate) fn spec_line(spec: &mcp::LaunchSpec) -> String {
    match spec {
        mcp::LaunchSpec::Stdio { command, args, .. } => {
            let mut v = vec!["--", command.as_str()];
            v.extend(args.iter().map(String::as_str));
            v.join(" ")
        }
        mcp::LaunchSpec::Http { url, .. } => format!("--url {url}"),
        mcp::LaunchSpec::Sse { url, .. } => format!("--url {url} --sse"),
    }
}
