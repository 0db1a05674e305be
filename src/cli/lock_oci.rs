//! `mcpseal lock push oci://… --key K` and `mcpseal lock pull oci://… --lock-key PUB`: one
//! registry serves a fleet its signed lock and policy.
//!
//! Push signs the lockfile (with its serial, the policy's digest and an optional expiry bound
//! in the statement, exactly as `mcpseal sign LOCK --policy P` does) and the policy, and
//! pushes the four files as the layers of one OCI artifact (artifactType [`ARTIFACT_TYPE`])
//! under the tag given. Pull fetches it, verifies both signatures with the fleet key, the lock
//! binding (serial in the statement is the file's, policy digest is the policy's, not
//! expired), refuses a serial lower than the lock installed here or the highest this host
//! enforced for that key (src/gate/serials.rs), and then installs the files atomically
//! (src/atomic.rs): the bundles and the policy first, the lock last. A crash in between leaves
//! files whose signatures do not match, which `run --lock-key` refuses; it never leaves a
//! lock that runs unverified.

use crate::keys::Signer as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::oci::{connect, oci_error};
use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::bundle::{self, LockBinding, ReleasePredicate, Statement, Subject};
use crate::digest::Digest;
use crate::oci::ImageRef;
use crate::oci::cosign::EMPTY_MEDIA_TYPE;
use crate::oci::registry::OCI_MANIFEST;

/// The artifact type of a fleet lock.
pub const ARTIFACT_TYPE: &str = "application/vnd.mcpseal.lock.v1";
const LOCK_MEDIA: &str = "application/vnd.mcpseal.lock.v1+json";
const POLICY_MEDIA: &str = "application/vnd.mcpseal.policy.v1+toml";
const TITLE: &str = "org.opencontainers.image.title";
/// Largest policy or signature bundle accepted from a registry. The lock itself may be as
/// large as any lockfile ([`crate::lock::MAX_LOCK_BYTES`]): a fleet of 10,000 servers is a
/// 118 MB lock (docs/benchmarks.md, "Fleet scale").
const MAX_FILE: usize = 16 << 20;

/// The size limit of the layer titled `title`.
fn max_layer(title: &str) -> usize {
    if title == "mcpseal.lock" {
        usize::try_from(crate::lock::MAX_LOCK_BYTES).unwrap_or(usize::MAX)
    } else {
        MAX_FILE
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum LockCommand {
    /// Sign the lockfile and its policy and publish them as one OCI artifact.
    Push(PushArgs),
    /// Fetch a published lock and policy, verify them, and install them atomically.
    Pull(PullArgs),
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Where to publish: oci://REGISTRY/REPOSITORY:TAG (e.g. oci://registry.corp/mcp/lock:prod).
    #[arg(value_name = "OCI_REF")]
    pub target: String,
    // The fleet's signing key: the same `--key` and `--password-file` as `mcpseal sign`.
    #[command(flatten)]
    pub signing: super::key::SigningKeyArgs,
    /// The lockfile to publish.
    #[arg(long, value_name = "FILE", default_value = "mcpseal.lock")]
    pub lock: PathBuf,
    /// The trust policy that goes with it [default: mcpseal-policy.toml beside the lock, if any].
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    pub policy: Option<PathBuf>,
    /// Publish the lock with no policy (hosts then refuse one that appears).
    #[arg(long)]
    pub no_policy: bool,
    /// Hosts refuse the lock after this instant (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Allow plain HTTP to this registry host[:port] (loopback registries always may).
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The published lock: oci://REGISTRY/REPOSITORY:TAG or @sha256:DIGEST.
    #[arg(value_name = "OCI_REF")]
    pub source: String,
    /// The fleet's public key: both signatures must verify with it.
    #[arg(long, value_name = "PUB")]
    pub lock_key: PathBuf,
    /// Where to install the lock (its bundle goes beside it, as FILE.sigstore.json).
    #[arg(long, value_name = "FILE", default_value = "mcpseal.lock")]
    pub lock: PathBuf,
    /// Where to install the policy [default: mcpseal-policy.toml beside the lock].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The file of highest enforced lock serials [default: as `mcpseal run --lock-key`].
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Allow plain HTTP to this registry host[:port] (loopback registries always may).
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
}

pub fn run(cmd: LockCommand, g: &Global) -> CmdResult {
    match cmd {
        LockCommand::Push(a) => push(a, g),
        LockCommand::Pull(a) => pull(a, g),
    }
}

fn parse_ref(s: &str) -> Result<ImageRef, CliError> {
    ImageRef::parse_oci_url(s).map_err(|e| {
        CliError::error("bad-image-reference", e.to_string())
            .help("oci://REGISTRY/REPOSITORY:TAG, e.g. oci://registry.corp/mcp/lock:prod")
    })
}

fn sibling(p: &Path, name: &str) -> PathBuf {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(name)
}

fn bundle_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".sigstore.json");
    PathBuf::from(s)
}

fn layer(media: &str, title: &str, digest: Digest, size: usize) -> Value {
    json!({"mediaType": media, "digest": digest.to_string(), "size": size, "annotations": {TITLE: title}})
}

fn push(a: PushArgs, g: &Global) -> CmdResult {
    let target = parse_ref(&a.target)?;
    if target.tag.is_none() {
        return Err(CliError::error(
            "tag-needed",
            format!("{}: name a tag to publish the lock under", a.target),
        )
        .help("mcpseal lock push oci://REGISTRY/REPOSITORY:prod --key fleet.key"));
    }
    let key = a.signing.load()?;
    let lock_bytes = read_input(&a.lock, crate::lock::MAX_LOCK_BYTES, "a lockfile")?;
    let lock = crate::lock::Lockfile::parse(&lock_bytes, &a.lock).map_err(super::lock_error)?;
    let policy_path = match (&a.policy, a.no_policy) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => Some(sibling(&a.lock, "mcpseal-policy.toml")).filter(|p| p.is_file()),
    };
    let policy_bytes = policy_path
        .as_ref()
        .map(|p| read_input(p, MAX_FILE as u64, "a policy"))
        .transpose()?;
    if let Some(e) = &a.expires {
        e.parse::<jiff::Timestamp>().map_err(|err| {
            CliError::error(
                "usage",
                format!("--expires {e:?}: not an RFC 3339 time: {err}"),
            )
        })?;
    }
    let sign_err = |e: bundle::SignError| CliError::error("sign-failed", e.to_string());
    let lock_digest = Digest::of(&lock_bytes);
    let lock_statement = Statement::new(
        vec![Subject::new("mcpseal.lock", &lock_digest)],
        ReleasePredicate {
            lock: Some(LockBinding {
                serial: lock.serial,
                policy: policy_bytes.as_deref().map(Digest::of),
                expires: a.expires.clone(),
            }),
            ..ReleasePredicate::default()
        },
    );
    let lock_bundle =
        crate::json::to_pretty_sorted(&bundle::sign(&lock_statement, &key).map_err(sign_err)?)
            .into_bytes();
    let reg = connect(&target, &a.allow_insecure_registry)?;
    let mut layers = vec![
        layer(
            LOCK_MEDIA,
            "mcpseal.lock",
            reg.push_blob(&lock_bytes).map_err(oci_error)?,
            lock_bytes.len(),
        ),
        layer(
            bundle::MEDIA_TYPE,
            "mcpseal.lock.sigstore.json",
            reg.push_blob(&lock_bundle).map_err(oci_error)?,
            lock_bundle.len(),
        ),
    ];
    if let Some(pb) = &policy_bytes {
        let st = Statement::new(
            vec![Subject::new("mcpseal-policy.toml", &Digest::of(pb))],
            ReleasePredicate::default(),
        );
        let b =
            crate::json::to_pretty_sorted(&bundle::sign(&st, &key).map_err(sign_err)?).into_bytes();
        layers.push(layer(
            POLICY_MEDIA,
            "mcpseal-policy.toml",
            reg.push_blob(pb).map_err(oci_error)?,
            pb.len(),
        ));
        layers.push(layer(
            bundle::MEDIA_TYPE,
            "mcpseal-policy.toml.sigstore.json",
            reg.push_blob(&b).map_err(oci_error)?,
            b.len(),
        ));
    }
    let config = reg.push_blob(b"{}").map_err(oci_error)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config.to_string(), "size": 2},
        "layers": layers,
        "annotations": {"dev.mcpseal.lock.serial": lock.serial.to_string()},
    });
    let bytes =
        serde_json::to_vec(&manifest).map_err(|e| CliError::error("internal", e.to_string()))?;
    let digest = reg
        .push_manifest(&target, &bytes, OCI_MANIFEST)
        .map_err(oci_error)?;
    let key_id = key.public_key().key_id();
    if g.json {
        emit_json(&json!({
            "ok": true, "pushed": target.to_oci_url(), "digest": digest.to_string(),
            "serial": lock.serial, "policy": policy_path.map(|p| p.display().to_string()),
            "keyId": key_id,
        }));
    } else {
        emit(&format!(
            "pushed lock serial {} {} to {} ({digest}, key id {key_id})",
            lock.serial,
            policy_path.map_or("with no policy".to_owned(), |p| format!(
                "with policy {}",
                p.display()
            )),
            target.to_oci_url()
        ));
    }
    Ok(Exit::Ok)
}

/// The layers of a fleet lock artifact, by title.
struct Fetched {
    lock: Vec<u8>,
    lock_bundle: Vec<u8>,
    policy: Option<(Vec<u8>, Vec<u8>)>,
}

fn fetch(reg: &crate::oci::Registry, source: &ImageRef) -> Result<(Digest, Fetched), CliError> {
    let m = reg.manifest(source).map_err(oci_error)?;
    let bad = |why: &str| {
        CliError::error(
            "not-a-fleet-lock",
            format!("{}: {why}", source.at_digest(m.digest).to_oci_url()),
        )
        .help("pull what `mcpseal lock push` published")
    };
    if m.json.get("artifactType").and_then(Value::as_str) != Some(ARTIFACT_TYPE) {
        return Err(bad(&format!("not an {ARTIFACT_TYPE} artifact")));
    }
    let mut by_title = std::collections::BTreeMap::new();
    for l in m
        .json
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = l
            .pointer("/annotations/org.opencontainers.image.title")
            .and_then(Value::as_str);
        let d = l
            .get("digest")
            .and_then(Value::as_str)
            .and_then(|d| d.parse::<Digest>().ok());
        let size = l.get("size").and_then(Value::as_u64);
        let (Some(title), Some(d), Some(size)) = (title, d, size) else {
            return Err(bad("a layer without title, digest or size"));
        };
        if by_title.contains_key(title) {
            return Err(bad(&format!("two layers are titled {title:?}")));
        }
        by_title.insert(
            title.to_owned(),
            reg.blob(d, size, max_layer(title)).map_err(oci_error)?,
        );
    }
    let mut take = |t: &str| by_title.remove(t);
    let (Some(lock), Some(lock_bundle)) =
        (take("mcpseal.lock"), take("mcpseal.lock.sigstore.json"))
    else {
        return Err(bad("no mcpseal.lock and its bundle"));
    };
    let policy = match (
        take("mcpseal-policy.toml"),
        take("mcpseal-policy.toml.sigstore.json"),
    ) {
        (Some(p), Some(b)) => Some((p, b)),
        (None, None) => None,
        _ => {
            return Err(bad(
                "a policy without its bundle, or a bundle without its policy",
            ));
        }
    };
    Ok((
        m.digest,
        Fetched {
            lock,
            lock_bundle,
            policy,
        },
    ))
}

/// Verifies `bundle` with `key` and that it signs exactly `bytes`.
fn verify_file(
    bytes: &[u8],
    bundle_bytes: &[u8],
    key: &crate::keys::PublicKey,
    name: &str,
    reason: &'static str,
) -> Result<bundle::Verified, CliError> {
    let v = bundle::verify(bundle_bytes, key).map_err(|e| {
        CliError::fail(
            reason,
            format!("the published {name}'s signature does not verify: {e}"),
        )
    })?;
    bundle::match_subjects(
        v.statement(),
        &[(name.to_owned(), name.to_owned(), Digest::of(bytes))],
    )
    .map_err(|e| {
        CliError::fail(
            reason,
            format!("the published {name} is not the signed one: {e}"),
        )
    })?;
    Ok(v)
}

fn pull(a: PullArgs, g: &Global) -> CmdResult {
    let source = parse_ref(&a.source)?;
    let key = super::key::load_public_key(&a.lock_key)?;
    let reg = connect(&source, &a.allow_insecure_registry)?;
    let (digest, f) = fetch(&reg, &source)?;
    let v = verify_file(
        &f.lock,
        &f.lock_bundle,
        &key,
        "mcpseal.lock",
        "lock-signature",
    )?;
    let binding = v.statement().predicate.lock.clone().ok_or_else(|| {
        CliError::fail(
            "lock-unbound",
            "the published lock's statement carries no serial or policy binding",
        )
    })?;
    let lock_path = &a.lock;
    let lock = crate::lock::Lockfile::parse(&f.lock, lock_path).map_err(super::lock_error)?;
    if lock.serial != binding.serial {
        return Err(CliError::fail(
            "lock-signature",
            format!(
                "the signed statement says serial {}, the published lock has {}",
                binding.serial, lock.serial
            ),
        ));
    }
    if let Some(exp) = &binding.expires {
        let when: jiff::Timestamp = exp.parse().map_err(|e| {
            CliError::fail(
                "lock-expired",
                format!("the signed expiry {exp:?} is not a time: {e}"),
            )
        })?;
        if jiff::Timestamp::now() > when {
            return Err(CliError::fail(
                "lock-expired",
                format!("the published lock expired at {exp}"),
            )
            .help("ask for the fleet's lock to be re-signed and pushed"));
        }
    }
    match (&binding.policy, &f.policy) {
        (None, None) => {}
        (Some(d), Some((p, b))) => {
            if !Digest::of(p).ct_eq(d) {
                return Err(CliError::fail(
                    "policy-mismatch",
                    format!(
                        "the published policy ({}) is not the one the lock was signed with ({d})",
                        Digest::of(p)
                    ),
                ));
            }
            verify_file(p, b, &key, "mcpseal-policy.toml", "policy-signature")?;
        }
        (Some(d), None) => {
            return Err(CliError::fail(
                "policy-missing",
                format!("the lock was signed with a policy ({d}), but none was published with it"),
            ));
        }
        (None, Some(_)) => {
            return Err(CliError::fail(
                "policy-mismatch",
                "the lock was signed with no policy, but a policy was published with it",
            ));
        }
    }
    // Serial order: never below the lock installed here, nor below what this host enforced.
    if let Ok(bytes) = std::fs::read(lock_path)
        && let Ok(installed) = crate::lock::Lockfile::parse_only(&bytes, lock_path, None)
        && installed.serial > lock.serial
    {
        return Err(CliError::fail(
            "lock-rollback",
            format!(
                "the published lock has serial {}, older than the installed {} (serial {})",
                lock.serial,
                lock_path.display(),
                installed.serial
            ),
        )
        .help("the registry serves an older lock: check the tag, or ask for the current lock to be pushed"));
    }
    let state = a
        .state_file
        .clone()
        .or_else(crate::gate::prelaunch::default_state_file)
        .ok_or_else(|| {
            CliError::error(
                "state-unavailable",
                "no state directory (neither XDG_STATE_HOME nor HOME is set to an absolute path)",
            )
            .help("pass --state-file FILE")
        })?;
    crate::gate::serials::advance(&state, &key.key_id(), lock.serial).map_err(|e| match e {
        crate::gate::serials::Error::Rollback { highest } => CliError::fail(
            "lock-rollback",
            format!("the published lock has serial {}, but this host already enforced serial {highest} signed by this key", lock.serial),
        ),
        other => CliError::error("state-unavailable", format!("{}: {other}", state.display())),
    })?;
    let policy_path = a
        .policy
        .clone()
        .unwrap_or_else(|| sibling(lock_path, "mcpseal-policy.toml"));
    let write = |p: &Path, b: &[u8]| super::sign::write_atomic(p, b);
    if let Some((p, b)) = &f.policy {
        write(&bundle_path(&policy_path), b)?;
        write(&policy_path, p)?;
    }
    write(&bundle_path(lock_path), &f.lock_bundle)?;
    write(lock_path, &f.lock)?;
    if g.json {
        emit_json(&json!({
            "ok": true, "pulled": source.at_digest(digest).to_oci_url(), "serial": lock.serial,
            "lock": lock_path.display().to_string(),
            "policy": f.policy.as_ref().map(|_| policy_path.display().to_string()),
            "keyId": key.key_id(),
        }));
    } else {
        emit(&format!(
            "installed lock serial {} from {} into {}{}",
            lock.serial,
            source.at_digest(digest).to_oci_url(),
            lock_path.display(),
            f.policy.as_ref().map_or(String::new(), |_| format!(
                " with policy {}",
                policy_path.display()
            ))
        ));
    }
    Ok(Exit::Ok)
}
