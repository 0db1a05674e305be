//! `mcpseal sign`: sign release artifacts into one Sigstore bundle (DSSE + in-toto statement).

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json};
use crate::bundle::{self, ReleasePredicate, ServerId, Statement, Subject};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Artifacts to sign: files (npm .tgz, wheels, binaries, MCPB bundles) or directories; or
    /// one container image, oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST] (its signatures are
    /// pushed to the registry; see docs/oci.md).
    #[arg(required = true, value_name = "ARTIFACT")]
    pub artifacts: Vec<PathBuf>,
    #[command(flatten)]
    pub signing: super::key::SigningKeyArgs,
    /// Sign an MCP bundle (.mcpb) in place with this X.509 certificate (PEM; a chain after the
    /// leaf is included) and its RSA or ECDSA private key given as --key, appending the
    /// MCPB_SIG_V1 block `mcpb sign` writes.
    #[arg(long, value_name = "CERT.pem", requires = "key")]
    pub cert: Option<PathBuf>,
    /// With --cert: an intermediate CA certificate to include (repeatable).
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub intermediate: Vec<PathBuf>,
    /// The MCP server's name, recorded in the signed statement.
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// The MCP server's version, recorded in the signed statement.
    #[arg(long, value_name = "VERSION")]
    pub server_version: Option<String>,
    /// Where to write the bundle [default: ARTIFACT.sigstore.json; required for several
    /// artifacts; with --cert: the signed .mcpb, default in place].
    #[arg(long, short, value_name = "BUNDLE")]
    pub output: Option<PathBuf>,
    /// Also sign the tool surface: start the server given after `--`, capture every tool,
    /// prompt, resource and the instructions, and put their digests in the statement.
    #[arg(long, conflicts_with = "surface_from")]
    pub surface: bool,
    /// Sign the surface from a file `mcpseal surface --json` wrote, instead of starting the server.
    #[arg(long, value_name = "FILE")]
    pub surface_from: Option<PathBuf>,
    /// With --surface: client capabilities to declare (roots, sampling, elicitation).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub capabilities: Vec<String>,
    /// When signing a lockfile: the trust policy it goes with (its digest is signed with the
    /// lock; `run --lock-key` refuses a missing or different policy) [default: the
    /// mcpseal-policy.toml beside the lock if there is one, else none].
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    pub policy: Option<PathBuf>,
    /// When signing a lockfile: sign that it goes with no policy (a policy that appears later
    /// is refused).
    #[arg(long)]
    pub no_policy: bool,
    /// When signing a lockfile: hosts refuse it after this instant (RFC 3339, e.g.
    /// 2027-01-31T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Image: also write the cosign 1/2 `sha256-<hex>.sig` signature older verifiers read.
    #[arg(long)]
    pub legacy: bool,
    /// Image: allow plain HTTP to this registry host[:port] (loopback registries always may).
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
    /// With --surface: the server command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The surface to sign, if asked for: captured live or read from a file.
pub(crate) fn signed_surface(args: &Args) -> Result<Option<bundle::SignedSurface>, CliError> {
    let surface = match (&args.surface_from, args.surface) {
        (Some(p), _) => crate::scan::inputs::read_surface_file(p)
            .map_err(|e| CliError::error(e.code(), e.to_string()))?,
        (None, true) => {
            let server = super::surface::ServerArgs {
                timeout: 30,
                settle: 10,
                discover: false,
                url: None,
                sse: false,
                headers: Vec::new(),
                capabilities: args.capabilities.clone(),
                command: args.command.clone(),
            };
            let cap = crate::mcp::capture(&server.spec()?, &server.options()?)
                .map_err(super::surface::capture_error)?;
            cap.surface
        }
        (None, false) if !args.command.is_empty() => {
            return Err(CliError::error(
                "surface-flag-needed",
                "a server command was given after `--` without --surface",
            )
            .help("mcpseal sign ARTIFACT --key KEY --surface -- CMD ARGS…"));
        }
        (None, false) => return Ok(None),
    };
    let d = surface
        .digests()
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    Ok(Some(bundle::SignedSurface::from(&d)))
}

/// The subject name of an artifact: its file name.
pub(crate) fn subject_name(p: &std::path::Path) -> Result<String, CliError> {
    let canon = p
        .canonicalize()
        .map_err(|e| super::io_error(p, "an artifact", e))?;
    canon
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            CliError::error(
                "bad-artifact-name",
                format!("{}: has no UTF-8 file name", p.display()),
            )
        })
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    if super::oci::is_oci(&args.artifacts) {
        return super::oci::sign(args, g);
    }
    if args.legacy || !args.allow_insecure_registry.is_empty() {
        return Err(CliError::error(
            "usage",
            "--legacy and --allow-insecure-registry apply when signing an oci:// image",
        ));
    }
    if args.cert.is_some() {
        return super::sign_mcpb::run(args, g);
    }
    let output = match (&args.output, args.artifacts.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [one]) => {
            let mut s = one.as_os_str().to_owned();
            s.push(".sigstore.json");
            PathBuf::from(s)
        }
        (None, _) => {
            return Err(CliError::error(
                "output-needed",
                "several artifacts go into one bundle: say where with --output",
            )
            .help("mcpseal sign a.tgz b.whl --key release.key --output release.sigstore.json"));
        }
    };
    let key = args.signing.load()?;
    let mut subjects: Vec<Subject> = Vec::new();
    for p in &args.artifacts {
        let name = subject_name(p)?;
        if subjects.iter().any(|s| s.name == name) {
            return Err(CliError::error(
                "duplicate-subject",
                format!("two artifacts are named {name:?}: subject names must be unique"),
            ));
        }
        let d = super::progress::hashing(p, || crate::digest::digest_path(p))
            .map_err(super::digest::digest_error)?;
        subjects.push(Subject::new(name, &d.digest));
    }
    let surface = signed_surface(&args)?;
    let lock = lock_binding(&args)?;
    let predicate = ReleasePredicate {
        server: ServerId {
            name: args.server_name,
            version: args.server_version,
        },
        surface,
        lock,
    };
    let statement = Statement::new(subjects, predicate);
    let bundle = bundle::sign(&statement, &key)
        .map_err(|e| CliError::error("sign-failed", e.to_string()))?;
    let text = crate::json::to_pretty_sorted(&bundle);
    write_atomic(&output, text.as_bytes())?;
    let key_id = crate::keys::Signer::public_key(&key).key_id();
    if g.json {
        emit_json(&json!({
            "ok": true, "bundle": output.display().to_string(), "keyId": key_id,
            "surfaceDigest": statement.predicate.surface.as_ref().map(|s| s.digest),
            "subjects": statement.subject.iter().map(|s| json!({"name": s.name, "sha256": s.digest.get("sha256")})).collect::<Vec<_>>(),
        }));
    } else {
        for s in &statement.subject {
            emit(&format!(
                "signed {} sha256:{}",
                s.name,
                s.digest.get("sha256").map_or("", String::as_str)
            ));
        }
        if let Some(s) = &statement.predicate.surface {
            let n: usize = s.entities.values().map(|m| m.len()).sum();
            emit(&format!("signed surface {} ({n} entities)", s.digest));
        }
        if let Some(l) = &statement.predicate.lock {
            emit(&format!(
                "signed lock serial {}, {}{}",
                l.serial,
                l.policy
                    .map_or("with no policy".to_owned(), |d| format!("with policy {d}")),
                l.expires
                    .as_ref()
                    .map_or(String::new(), |e| format!(", expires {e}"))
            ));
        }
        emit(&format!("bundle: {} (key id {key_id})", output.display()));
    }
    Ok(Exit::Ok)
}

/// For a lockfile: its serial, the policy it goes with, and the expiry, to be signed with it.
/// `--policy`, `--no-policy` and `--expires` are refused for anything that is not a lockfile.
fn lock_binding(args: &Args) -> Result<Option<bundle::LockBinding>, CliError> {
    let lock_flags = args.policy.is_some() || args.no_policy || args.expires.is_some();
    let lock = match args.artifacts.as_slice() {
        [one] if one.is_file() => std::fs::read(one)
            .ok()
            .and_then(|b| crate::lock::Lockfile::parse(&b, one).ok())
            .map(|l| (one, l)),
        _ => None,
    };
    let Some((path, lock)) = lock else {
        if lock_flags {
            return Err(CliError::error(
                "usage",
                "--policy, --no-policy and --expires apply when signing one mcpseal lockfile",
            ));
        }
        return Ok(None);
    };
    let policy = match (&args.policy, args.no_policy) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => {
            let beside = path
                .parent()
                .unwrap_or(std::path::Path::new(""))
                .join("mcpseal-policy.toml");
            beside.is_file().then_some(beside)
        }
    };
    let policy = policy
        .map(|p| {
            crate::policy::binding_digest_of_file(&p).map_err(|e| {
                CliError::error(
                    "io-error",
                    format!("{}: cannot read the policy: {e}", p.display()),
                )
            })
        })
        .transpose()?;
    if let Some(e) = &args.expires {
        e.parse::<jiff::Timestamp>().map_err(|err| {
            CliError::error(
                "usage",
                format!("--expires {e:?}: not an RFC 3339 time: {err}"),
            )
            .help("for example --expires 2027-01-31T00:00:00Z")
        })?;
    }
    Ok(Some(bundle::LockBinding {
        serial: lock.serial,
        policy,
        expires: args.expires.clone(),
    }))
}

/// Replaces `path` atomically ([`crate::atomic::write_atomic`]), world-readable.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    crate::atomic::write_atomic(path, bytes, crate::atomic::Options::PUBLIC)
        .map_err(|e| CliError::error("io-error", format!("{}: cannot write: {e}", path.display())))
}
