//! Trust policy: who may sign what, and what the gate requires of each server.
//!
//! A policy is TOML (docs/policy.md), given with `--policy FILE` or found as
//! `mcpseal-policy.toml` beside the lockfile:
//!
//! ```toml
//! [[signer]]
//! name = "acme-release"
//! public-key = "keys/acme.pub"             # an Ed25519 key (mcpseal bundles) …
//!
//! [[signer]]
//! name = "acme-ci"                          # … or a Sigstore identity (keyless bundles)
//! identity-regexp = "https://github\\.com/acme/.*/\\.github/workflows/release\\.yml@refs/tags/v.*"
//! issuer = "https://token.actions.githubusercontent.com"
//!
//! [server.calc]
//! require-signature = true
//! signers = ["acme-release", "acme-ci"]    # any one of them
//! artifacts = ["/opt/calc/server.tgz"]     # what must be signed
//! bundle = "/opt/calc/server.tgz.sigstore.json"
//! on-drift = "kill"
//! deny-findings = "high"
//! ```
//!
//! Signer matching is built from combinators ([`Matcher`]): a key id, an identity with its
//! issuer, and `AllOf` / `AnyOf` over matchers. **An empty combinator is an error, never a
//! pass** (style.md #8: a set that combines nothing must not approve everything), and a server
//! that must be signed but names no signer is a configuration error. Unknown keys are refused
//! with their line. The policy never reads keys or bundles itself beyond the paths it names,
//! and never prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::severity::Severity;

/// What verification established about who signed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Key id of an mcpseal key-based bundle.
    pub key_id: Option<String>,
    /// Certificate SAN of a keyless bundle.
    pub identity: Option<String>,
    /// Certificate OIDC issuer of a keyless bundle.
    pub issuer: Option<String>,
}

/// A signer requirement.
#[derive(Clone, Debug)]
pub enum Matcher {
    KeyId(String),
    Identity {
        exact: Option<String>,
        regex: Option<regex::Regex>,
        issuer: String,
    },
    AllOf(Vec<Matcher>),
    AnyOf(Vec<Matcher>),
}

impl Matcher {
    /// `AllOf` of at least one matcher; `None` for an empty list.
    pub fn all_of(ms: Vec<Matcher>) -> Option<Matcher> {
        (!ms.is_empty()).then_some(Matcher::AllOf(ms))
    }
    /// `AnyOf` of at least one matcher; `None` for an empty list.
    pub fn any_of(ms: Vec<Matcher>) -> Option<Matcher> {
        (!ms.is_empty()).then_some(Matcher::AnyOf(ms))
    }

    /// Whether `e` satisfies this requirement. Empty combinators (only constructible by hand)
    /// match nothing.
    pub fn matches(&self, e: &Evidence) -> bool {
        match self {
            Matcher::KeyId(k) => e.key_id.as_deref() == Some(k.as_str()),
            Matcher::Identity {
                exact,
                regex,
                issuer,
            } => {
                let Some(id) = e.identity.as_deref() else {
                    return false;
                };
                let id_ok = match (exact, regex) {
                    (Some(x), _) => x == id,
                    (None, Some(re)) => whole_match(re, id),
                    (None, None) => false,
                };
                id_ok && e.issuer.as_deref() == Some(issuer.as_str())
            }
            Matcher::AllOf(ms) => !ms.is_empty() && ms.iter().all(|m| m.matches(e)),
            Matcher::AnyOf(ms) => ms.iter().any(|m| m.matches(e)),
        }
    }
}

/// Whether `re` matches the whole of `s`, as `identity-regexp` and
/// `--certificate-identity-regexp` require.
///
/// Checking that one search's match spans `s` is not enough: the search reports the
/// leftmost-*first* match, which can stop short of a longer one (`a|ab` finds `a` in `ab`), and
/// so refuses identities the expression does match. An anchored `\A(?:re)\z` decides it. An
/// expression that cannot be anchored (a `(?x)` comment that would swallow the closing
/// parenthesis) matches nothing; [`Policy::parse`] refuses such an expression up front.
pub fn whole_match(re: &regex::Regex, s: &str) -> bool {
    anchored(re.as_str()).is_ok_and(|w| w.is_match(s))
}

fn anchored(re: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!(r"\A(?:{re})\z"))
}

/// One named signer from the policy file.
#[derive(Clone, Debug)]
pub struct Signer {
    pub name: String,
    pub matcher: Matcher,
    /// For key signers: the public key file, to verify bundles with.
    pub public_key: Option<PathBuf>,
    /// For identity signers: exact identity / regex / issuer, to verify keyless bundles.
    pub identity: Option<String>,
    pub identity_regexp: Option<String>,
    pub issuer: Option<String>,
}

/// What the gate requires of one server.
#[derive(Clone, Debug, Default)]
pub struct Requirements {
    pub require_signature: bool,
    /// Any one of these may sign (never empty when `require_signature`).
    pub signers: Vec<Signer>,
    pub artifacts: Vec<PathBuf>,
    pub bundle: Option<PathBuf>,
    pub on_drift: Option<String>,
    pub deny_findings: Option<Severity>,
    /// `[server.NAME.limits]`: calls per minute and argument sizes (docs/authz.md).
    pub limits: Limits,
    /// `image-signers`: a container server's image must be signed by one of these (checked by
    /// `pin` at the registry, then by the gate against what pin recorded; docs/oci.md).
    pub image_signers: Vec<Signer>,
    /// `provenance = { repository, workflow, ref-regexp }`: where the server's package must
    /// have been built, checked by the gate against what `pin --provenance` recorded.
    pub provenance: Option<crate::provenance::SourcePolicy>,
}

/// `[server.NAME.limits]`: for the server as a whole, and per tool (`[….limits.tool.NAME]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub calls_per_minute: Option<u32>,
    pub max_argument_bytes: Option<usize>,
    pub tools: BTreeMap<String, ToolLimits>,
}

/// One tool's limits, on top of its server's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolLimits {
    pub calls_per_minute: Option<u32>,
    pub max_argument_bytes: Option<usize>,
}

/// `[authz]`: who may call what (docs/authz.md). Compiled and validated by [`crate::authz`].
#[derive(Clone, Debug, Default)]
pub struct AuthzSpec {
    /// `cedar = "FILE.cedar"`: the file and the text read from it (bound into
    /// [`Policy::binding`]).
    pub cedar: Option<(PathBuf, String)>,
    /// The servers it applies to (`None`: every server the gate runs).
    pub servers: Option<Vec<String>>,
    /// Role → its members' principal ids.
    pub roles: BTreeMap<String, Vec<String>>,
    /// `[[authz.rule]]`: the TOML front end, compiled to Cedar.
    pub rules: Vec<Rule>,
}

impl AuthzSpec {
    /// Whether the gate for `server` authorizes calls.
    pub fn covers(&self, server: &str) -> bool {
        self.servers
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == server))
    }
}

/// One `[[authz.rule]]`: these roles (or principals) may call these tools when every condition
/// holds (`effect = "forbid"`: may not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub id: Option<String>,
    pub roles: Vec<String>,
    pub principals: Vec<String>,
    pub tools: Vec<String>,
    pub when: Vec<String>,
    pub forbid: bool,
}

/// `[canary]`: tokens that must never leave through a call or come back in a result, and decoy
/// tools no honest agent calls. Its `Debug` never prints a token.
#[derive(Clone, Default)]
pub struct CanarySpec {
    /// The tokens (from `tokens` and `tokens-file`); never printed or logged.
    pub tokens: Vec<zeroize::Zeroizing<String>>,
    pub decoys: Vec<Decoy>,
    /// `on-canary = "kill"`: a tripped canary ends the session.
    pub kill: bool,
}

impl std::fmt::Debug for CanarySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanarySpec")
            .field("tokens", &format_args!("[{} redacted]", self.tokens.len()))
            .field("decoys", &self.decoys)
            .field("kill", &self.kill)
            .finish()
    }
}

/// A decoy tool the gate adds to `tools/list`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoy {
    pub name: String,
    /// The tool definition the client sees (`name`, `description`, `inputSchema`).
    pub definition: serde_json::Value,
}

/// Files a policy names whose bytes are part of it: read once, bound into its digest.
#[derive(Default)]
pub struct Referenced {
    pub cedar: Option<(PathBuf, Vec<u8>)>,
    pub tokens_file: Option<(PathBuf, zeroize::Zeroizing<Vec<u8>>)>,
}

/// The digest a signed lock binds for a policy: the SHA-256 of the policy file when it names
/// no other file; when it names a Cedar file or a tokens file, the SHA-256 of the compact JSON
/// text `{"policy":"sha256:…","cedar":"sha256:…","tokensFile":"sha256:…"}` (the digests of
/// each file's bytes; a member for a file not named is left out, the others keep this order),
/// so a changed `.cedar` file under a signed lock is a changed policy.
///
/// The text is written here member by member: it was `serde_json::Map::to_string`, whose
/// member order is whatever serde_json's `preserve_order` feature (turned on for the whole
/// build by a dependency) makes it, so a change in the dependency graph would have changed
/// every such binding. These are the same bytes (`binding_digest_known_answers`).
pub fn binding_digest(policy_bytes: &[u8], r: &Referenced) -> crate::digest::Digest {
    use crate::digest::Digest;
    let own = Digest::of(policy_bytes);
    if r.cedar.is_none() && r.tokens_file.is_none() {
        return own;
    }
    // Every value is `sha256:` and hex: nothing in it needs escaping.
    let mut text = format!("{{\"policy\":\"{own}\"");
    if let Some((_, b)) = &r.cedar {
        text.push_str(&format!(",\"cedar\":\"{}\"", Digest::of(b)));
    }
    if let Some((_, b)) = &r.tokens_file {
        text.push_str(&format!(",\"tokensFile\":\"{}\"", Digest::of(b)));
    }
    text.push('}');
    Digest::of(text.as_bytes())
}

/// [`binding_digest`] of the policy file at `path` as it is now. A policy that is not valid
/// TOML names no other file: its binding is the digest of its bytes (and it fails to load
/// later).
pub fn binding_digest_of_file(path: &Path) -> std::io::Result<crate::digest::Digest> {
    binding_digest_of_bytes(&std::fs::read(path)?, path)
}

/// [`binding_digest`] of `bytes`, the policy at `path` as the caller read it (the files it names
/// are read now, relative to `path`'s folder).
pub fn binding_digest_of_bytes(
    bytes: &[u8],
    path: &Path,
) -> std::io::Result<crate::digest::Digest> {
    let refs = match std::str::from_utf8(bytes).map(|t| referenced(t, path)) {
        Ok(Ok(r)) => r,
        Ok(Err(e @ PolicyError::Invalid { .. })) => {
            return Err(std::io::Error::other(e.to_string()));
        }
        _ => Referenced::default(),
    };
    Ok(binding_digest(bytes, &refs))
}

/// Reads the files `text` (a policy at `path`) names: `[authz] cedar` and `[canary]
/// tokens-file`, relative to the policy's folder. Only those two keys are looked at, so `sign`
/// can bind a policy it does not otherwise load.
pub fn referenced(text: &str, path: &Path) -> Result<Referenced, PolicyError> {
    const MAX: u64 = 4 << 20;
    let p = path.display().to_string();
    let doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| PolicyError::Syntax {
                path: p.clone(),
                message: e.to_string().trim().to_owned(),
            })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |table: &str, key: &str| -> Result<Option<(PathBuf, Vec<u8>)>, PolicyError> {
        let Some(item) = doc.get(table).and_then(|t| t.get(key)) else {
            return Ok(None);
        };
        let rel = item.as_str().ok_or_else(|| PolicyError::Invalid {
            path: p.clone(),
            message: format!("[{table}] {key} is a file name (a string)"),
        })?;
        let full = base.join(rel);
        let invalid = |e: String| PolicyError::Invalid {
            path: p.clone(),
            message: format!("[{table}] {key} = {rel:?}: {}: {e}", full.display()),
        };
        let meta = std::fs::metadata(&full).map_err(|e| invalid(e.to_string()))?;
        if meta.len() > MAX {
            return Err(invalid(format!("over the {MAX}-byte limit")));
        }
        let bytes = std::fs::read(&full).map_err(|e| invalid(e.to_string()))?;
        Ok(Some((full, bytes)))
    };
    Ok(Referenced {
        cedar: read("authz", "cedar")?,
        tokens_file: read("canary", "tokens-file")?.map(|(p, b)| (p, zeroize::Zeroizing::new(b))),
    })
}

impl Requirements {
    /// The signer requirement as one matcher (`AnyOf` the named signers).
    pub fn matcher(&self) -> Option<Matcher> {
        Matcher::any_of(self.signers.iter().map(|s| s.matcher.clone()).collect())
    }

    /// The trusted signer `e` satisfies, or why none does.
    pub fn check(&self, e: &Evidence) -> Result<&Signer, PolicyError> {
        check_among(&self.signers, e)
    }

    /// The image signer `e` (what verified a container image's signature) satisfies, or why
    /// none does.
    pub fn check_image(&self, e: &Evidence) -> Result<&Signer, PolicyError> {
        check_among(&self.image_signers, e)
    }
}

/// The first of `signers` that `e` satisfies (an empty list is an error, never a pass).
fn check_among<'a>(signers: &'a [Signer], e: &Evidence) -> Result<&'a Signer, PolicyError> {
    if signers.is_empty() {
        return Err(PolicyError::NoSigners);
    }
    signers
        .iter()
        .find(|s| s.matcher.matches(e))
        .ok_or_else(|| PolicyError::Untrusted {
            found: format!(
                "{}{}",
                e.key_id
                    .as_deref()
                    .map(|k| format!("key id {k}"))
                    .unwrap_or_default(),
                e.identity
                    .as_deref()
                    .map(|i| format!("{i} via {}", e.issuer.as_deref().unwrap_or("?")))
                    .unwrap_or_default()
            ),
            allowed: signers
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A loaded, validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub signers: BTreeMap<String, Signer>,
    pub servers: BTreeMap<String, Requirements>,
    pub authz: Option<AuthzSpec>,
    pub canary: Option<CanarySpec>,
    /// What a signed lock binds: [`binding_digest`] of the bytes parsed.
    pub binding: crate::digest::Digest,
    /// Where the file was, to resolve relative paths.
    pub base: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "the policy requires a signature but names no signer: an empty signer set approves nothing"
    )]
    NoSigners,
    #[error("signed by {found}, which is none of the trusted signers ({allowed})")]
    Untrusted { found: String, allowed: String },
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Syntax { .. } => "policy-syntax",
            PolicyError::Invalid { .. } => "policy-invalid",
            PolicyError::NoSigners => "policy-no-signers",
            PolicyError::Untrusted { .. } => "untrusted-signer",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSigner {
    name: String,
    public_key: Option<PathBuf>,
    key_id: Option<String>,
    identity: Option<String>,
    identity_regexp: Option<String>,
    issuer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawServer {
    #[serde(default)]
    require_signature: bool,
    #[serde(default)]
    signers: Vec<String>,
    #[serde(default)]
    artifacts: Vec<PathBuf>,
    bundle: Option<PathBuf>,
    on_drift: Option<String>,
    deny_findings: Option<String>,
    #[serde(default)]
    limits: RawLimits,
    image_signers: Option<Vec<String>>,
    provenance: Option<RawProvenance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProvenance {
    repository: Option<String>,
    workflow: Option<String>,
    ref_regexp: Option<String>,
}

/// `provenance = {…}` validated: a repository is required (without one, any repository's
/// workflow would pass: a table that constrains nothing is an error, never a pass).
fn provenance_rule(
    server: &str,
    r: RawProvenance,
) -> Result<crate::provenance::SourcePolicy, String> {
    let repository = match r.repository.as_deref().map(str::trim) {
        Some(x) if x.starts_with("github.com/") && x.matches('/').count() == 2 => x.to_owned(),
        Some(x) => {
            return Err(format!(
                "server {server:?}: provenance.repository is github.com/ORG/REPO, not {x:?}"
            ));
        }
        None => {
            return Err(format!(
                "server {server:?}: provenance needs repository = \"github.com/ORG/REPO\" (a provenance table without one would accept any repository's build)"
            ));
        }
    };
    if let Some(w) = &r.workflow
        && (w.is_empty() || w.contains('@'))
    {
        return Err(format!(
            "server {server:?}: provenance.workflow is a workflow file (release.yml), not {w:?}"
        ));
    }
    let ref_regexp = match &r.ref_regexp {
        Some(re) => {
            anchored(re).map_err(|e| format!("server {server:?}: provenance.ref-regexp: {e}"))?;
            Some(
                regex::Regex::new(re)
                    .map_err(|e| format!("server {server:?}: provenance.ref-regexp: {e}"))?,
            )
        }
        None => None,
    };
    Ok(crate::provenance::SourcePolicy {
        repository: Some(repository),
        workflow: r.workflow,
        ref_regexp,
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    calls_per_minute: Option<u32>,
    max_argument_bytes: Option<usize>,
    #[serde(default)]
    tool: BTreeMap<String, RawToolLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawToolLimits {
    calls_per_minute: Option<u32>,
    max_argument_bytes: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    signer: Vec<RawSigner>,
    #[serde(default)]
    server: BTreeMap<String, RawServer>,
    /// Scan suppressions live in the same file (docs/findings.md); read by `scan`.
    #[serde(default)]
    #[allow(dead_code)]
    scan: Option<serde::de::IgnoredAny>,
    authz: Option<RawAuthz>,
    canary: Option<RawCanary>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAuthz {
    /// Read by [`referenced`] (its bytes are bound into the policy digest).
    #[allow(dead_code)]
    cedar: Option<PathBuf>,
    servers: Option<Vec<String>>,
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    principals: Vec<String>,
    tools: Vec<String>,
    #[serde(default)]
    when: Vec<String>,
    #[serde(default)]
    effect: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCanary {
    #[serde(default)]
    tokens: Vec<String>,
    /// Read by [`referenced`] (its bytes are bound into the policy digest).
    #[allow(dead_code)]
    tokens_file: Option<PathBuf>,
    #[serde(default)]
    tool: Vec<RawDecoy>,
    on_canary: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDecoy {
    name: String,
    description: String,
    input_schema: Option<serde_json::Value>,
}

impl Policy {
    /// Parses and validates policy TOML. `path` locates relative paths and names errors.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let p = path.display().to_string();
        let raw: RawPolicy = toml_edit::de::from_str(text).map_err(|e| PolicyError::Syntax {
            path: p.clone(),
            message: e.to_string().trim().to_owned(),
        })?;
        let refs = referenced(text, path)?;
        let binding = binding_digest(text.as_bytes(), &refs);
        let invalid = |message: String| PolicyError::Invalid {
            path: p.clone(),
            message,
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut signers = BTreeMap::new();
        for s in raw.signer {
            let key_id = match (&s.key_id, &s.public_key) {
                (Some(k), _) => Some(k.clone()),
                (None, Some(pk)) => {
                    let full = base.join(pk);
                    let pem = std::fs::read(&full).map_err(|e| {
                        invalid(format!("signer {:?}: {}: {e}", s.name, full.display()))
                    })?;
                    let key = crate::keys::PublicKey::from_pem(&pem).map_err(|e| {
                        invalid(format!("signer {:?}: {}: {e}", s.name, full.display()))
                    })?;
                    Some(key.key_id())
                }
                (None, None) => None,
            };
            let matcher = match (key_id, &s.identity, &s.identity_regexp, &s.issuer) {
                (Some(k), None, None, None) => Matcher::KeyId(k),
                (None, exact, regexp, Some(issuer)) if exact.is_some() != regexp.is_some() => {
                    let regex = match regexp {
                        Some(r) => {
                            let re = regex::Regex::new(r).map_err(|e| {
                                invalid(format!("signer {:?}: identity-regexp: {e}", s.name))
                            })?;
                            anchored(r).map_err(|e| {
                                invalid(format!(
                                    "signer {:?}: identity-regexp cannot be matched against a whole identity: {e}",
                                    s.name
                                ))
                            })?;
                            Some(re)
                        }
                        None => None,
                    };
                    Matcher::Identity {
                        exact: exact.clone(),
                        regex,
                        issuer: issuer.clone(),
                    }
                }
                _ => {
                    return Err(invalid(format!(
                        "signer {:?}: give either public-key (or key-id), or identity / identity-regexp with issuer",
                        s.name
                    )));
                }
            };
            let signer = Signer {
                name: s.name.clone(),
                matcher,
                public_key: s.public_key.map(|k| base.join(k)),
                identity: s.identity,
                identity_regexp: s.identity_regexp,
                issuer: s.issuer,
            };
            if signers.insert(s.name.clone(), signer).is_some() {
                return Err(invalid(format!("signer {:?} is defined twice", s.name)));
            }
        }
        let mut servers = BTreeMap::new();
        for (name, r) in raw.server {
            let mut list = Vec::new();
            for n in &r.signers {
                list.push(signers.get(n).cloned().ok_or_else(|| {
                    invalid(format!(
                        "server {name:?} names signer {n:?}, which no [[signer]] defines"
                    ))
                })?);
            }
            if r.require_signature && list.is_empty() {
                return Err(invalid(format!(
                    "server {name:?} requires a signature but names no signers: an empty signer set is a configuration error, never a pass"
                )));
            }
            if r.require_signature && (r.bundle.is_none() || r.artifacts.is_empty()) {
                return Err(invalid(format!(
                    "server {name:?} requires a signature: name its bundle and the artifacts it covers"
                )));
            }
            if let Some(d) = &r.on_drift
                && d != "block"
                && d != "kill"
            {
                return Err(invalid(format!(
                    "server {name:?}: on-drift is \"block\" or \"kill\", not {d:?}"
                )));
            }
            let deny_findings = match &r.deny_findings {
                Some(s) => Some(
                    s.parse::<Severity>()
                        .map_err(|e| invalid(format!("server {name:?}: deny-findings: {e}")))?,
                ),
                None => None,
            };
            let limits = limits(&name, r.limits).map_err(invalid)?;
            let mut image_signers = Vec::new();
            if let Some(names) = &r.image_signers {
                if names.is_empty() {
                    return Err(invalid(format!(
                        "server {name:?}: image-signers = [] names no signer: an empty signer set is a configuration error, never a pass (remove the line to require none)"
                    )));
                }
                for n in names {
                    image_signers.push(signers.get(n).cloned().ok_or_else(|| {
                        invalid(format!(
                            "server {name:?}: image-signers names signer {n:?}, which no [[signer]] defines"
                        ))
                    })?);
                }
            }
            let provenance = r
                .provenance
                .map(|p| provenance_rule(&name, p))
                .transpose()
                .map_err(invalid)?;
            servers.insert(
                name,
                Requirements {
                    require_signature: r.require_signature,
                    signers: list,
                    artifacts: r.artifacts.into_iter().map(|a| base.join(a)).collect(),
                    bundle: r.bundle.map(|b| base.join(b)),
                    on_drift: r.on_drift,
                    deny_findings,
                    limits,
                    image_signers,
                    provenance,
                },
            );
        }
        let authz = match raw.authz {
            Some(a) => Some(authz_spec(a, refs.cedar).map_err(invalid)?),
            None => None,
        };
        let canary = match raw.canary {
            Some(c) => Some(canary_spec(c, refs.tokens_file).map_err(invalid)?),
            None => None,
        };
        Ok(Policy {
            signers,
            servers,
            authz,
            canary,
            binding,
            base,
        })
    }

    /// Reads and parses the policy at `path` (and the files it names).
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Policy::parse(&text, path)
    }

    /// What the policy requires of `server` (nothing, if it does not name it).
    pub fn requirements_for(&self, server: &str) -> Requirements {
        self.servers.get(server).cloned().unwrap_or_default()
    }
}

fn limits(server: &str, r: RawLimits) -> Result<Limits, String> {
    let zero = |what: &str, v: Option<u64>| match v {
        Some(0) => Err(format!(
            "server {server:?}: {what} = 0 would refuse every call; remove the line to set no limit"
        )),
        _ => Ok(()),
    };
    zero("limits.calls-per-minute", r.calls_per_minute.map(u64::from))?;
    zero(
        "limits.max-argument-bytes",
        r.max_argument_bytes.map(|v| v as u64),
    )?;
    let mut tools = BTreeMap::new();
    for (t, l) in r.tool {
        zero(
            &format!("limits.tool.{t}.calls-per-minute"),
            l.calls_per_minute.map(u64::from),
        )?;
        zero(
            &format!("limits.tool.{t}.max-argument-bytes"),
            l.max_argument_bytes.map(|v| v as u64),
        )?;
        tools.insert(
            t,
            ToolLimits {
                calls_per_minute: l.calls_per_minute,
                max_argument_bytes: l.max_argument_bytes,
            },
        );
    }
    Ok(Limits {
        calls_per_minute: r.calls_per_minute,
        max_argument_bytes: r.max_argument_bytes,
        tools,
    })
}

fn authz_spec(a: RawAuthz, cedar: Option<(PathBuf, Vec<u8>)>) -> Result<AuthzSpec, String> {
    let cedar = match cedar {
        Some((p, b)) => {
            let text = String::from_utf8(b)
                .map_err(|_| format!("[authz] cedar: {} is not UTF-8", p.display()))?;
            Some((p, text))
        }
        None => None,
    };
    if let Some(s) = &a.servers
        && s.is_empty()
    {
        return Err(
            "[authz] servers = [] covers no server: remove the line to cover every server".into(),
        );
    }
    let mut rules = Vec::new();
    for (i, r) in a.rule.into_iter().enumerate() {
        let n = i + 1;
        if r.roles.is_empty() && r.principals.is_empty() {
            return Err(format!(
                "[[authz.rule]] #{n} names no roles or principals: a rule for nobody is a mistake, never a rule for everybody"
            ));
        }
        if r.tools.is_empty() {
            return Err(format!("[[authz.rule]] #{n} names no tools"));
        }
        for role in &r.roles {
            if !a.roles.contains_key(role) {
                return Err(format!(
                    "[[authz.rule]] #{n} names role {role:?}, which [authz.roles] does not define"
                ));
            }
        }
        let forbid = match r.effect.as_deref() {
            None | Some("permit") => false,
            Some("forbid") => true,
            Some(e) => {
                return Err(format!(
                    "[[authz.rule]] #{n}: effect is \"permit\" or \"forbid\", not {e:?}"
                ));
            }
        };
        rules.push(Rule {
            id: r.id,
            roles: r.roles,
            principals: r.principals,
            tools: r.tools,
            when: r.when,
            forbid,
        });
    }
    if cedar.is_none() && rules.is_empty() {
        return Err(
            "[authz] has neither `cedar = \"FILE.cedar\"` nor any [[authz.rule]]: it would permit nothing; give one, or remove [authz]".into(),
        );
    }
    Ok(AuthzSpec {
        cedar,
        servers: a.servers,
        roles: a.roles,
        rules,
    })
}

fn canary_spec(
    c: RawCanary,
    file: Option<(PathBuf, zeroize::Zeroizing<Vec<u8>>)>,
) -> Result<CanarySpec, String> {
    // The smallest token worth matching: a shorter one trips on ordinary text.
    const MIN: usize = 8;
    let mut tokens: Vec<zeroize::Zeroizing<String>> = Vec::new();
    let mut add = |t: &str, where_: &str| -> Result<(), String> {
        let t = t.trim();
        if t.len() < MIN {
            // Never echo the token itself.
            return Err(format!(
                "[canary] {where_}: a token is shorter than {MIN} bytes and would trip on ordinary text"
            ));
        }
        tokens.push(zeroize::Zeroizing::new(t.to_owned()));
        Ok(())
    };
    for (i, t) in c.tokens.iter().enumerate() {
        add(t, &format!("tokens[{i}]"))?;
    }
    if let Some((p, bytes)) = &file {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| format!("[canary] tokens-file {}: not UTF-8", p.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            add(line, &format!("tokens-file {} line {}", p.display(), i + 1))?;
        }
    }
    let mut decoys: Vec<Decoy> = Vec::new();
    for d in c.tool {
        if decoys.iter().any(|x| x.name == d.name) {
            return Err(format!("[[canary.tool]] {:?} is declared twice", d.name));
        }
        let schema = d
            .input_schema
            .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
        if !schema.is_object() {
            return Err(format!(
                "[[canary.tool]] {:?}: input-schema is a table (a JSON Schema object)",
                d.name
            ));
        }
        decoys.push(Decoy {
            definition: serde_json::json!({
                "name": d.name,
                "description": d.description,
                "inputSchema": schema,
            }),
            name: d.name,
        });
    }
    let kill = match c.on_canary.as_deref() {
        None | Some("block") => false,
        Some("kill") => true,
        Some(o) => {
            return Err(format!(
                "[canary] on-canary is \"block\" or \"kill\", not {o:?}"
            ));
        }
    };
    if tokens.is_empty() && decoys.is_empty() {
        return Err(
            "[canary] has no tokens and no [[canary.tool]]: it would watch for nothing".into(),
        );
    }
    Ok(CanarySpec {
        tokens,
        decoys,
        kill,
    })
}

#[cfg(test)]
mod tests {

    /// A provenance table that constrains nothing (no repository) would accept any
    /// repository's build: refused, as are malformed fields.
    #[test]
    fn attack_a_provenance_table_that_constrains_nothing_is_refused() {
        let parse = |t: &str| {
            Policy::parse(
                &format!("[server.s]\nprovenance = {t}\n"),
                Path::new("p.toml"),
            )
        };
        let ok = parse(r#"{ repository = "github.com/org/repo", workflow = "release.yml", ref-regexp = "refs/tags/v.*" }"#).unwrap();
        let rule = ok.servers["s"].provenance.as_ref().unwrap();
        assert_eq!(rule.repository.as_deref(), Some("github.com/org/repo"));
        for bad in [
            "{}",
            r#"{ workflow = "release.yml" }"#,
            r#"{ repository = "org/repo" }"#,
            r#"{ repository = "github.com/org" }"#,
            r#"{ repository = "github.com/org/repo", workflow = "release.yml@main" }"#,
            r#"{ repository = "github.com/org/repo", ref-regexp = "(" }"#,
            r#"{ repository = "github.com/org/repo", refs = "x" }"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                matches!(e, PolicyError::Invalid { .. } | PolicyError::Syntax { .. }),
                "{bad}: {e}"
            );
        }
        assert!(
            Policy::parse("[server.s]\n", Path::new("p.toml"))
                .unwrap()
                .servers["s"]
                .provenance
                .is_none()
        );
    }

    use super::*;

    fn key(k: &str) -> Evidence {
        Evidence {
            key_id: Some(k.into()),
            ..Evidence::default()
        }
    }
    fn ident(i: &str, iss: &str) -> Evidence {
        Evidence {
            identity: Some(i.into()),
            issuer: Some(iss.into()),
            ..Evidence::default()
        }
    }
    const GH: &str = "https://token.actions.githubusercontent.com";

    #[test]
    fn key_id_matcher_positive_and_negative() {
        let m = Matcher::KeyId("A".into());
        assert!(m.matches(&key("A")));
        assert!(!m.matches(&key("B")));
        assert!(!m.matches(&Evidence::default()));
    }

    #[test]
    fn identity_matcher_exact_regex_whole_match_and_issuer() {
        let exact = Matcher::Identity {
            exact: Some("https://github.com/acme/x".into()),
            regex: None,
            issuer: GH.into(),
        };
        assert!(exact.matches(&ident("https://github.com/acme/x", GH)));
        assert!(!exact.matches(&ident(
            "https://github.com/acme/x",
            "https://accounts.google.com"
        )));
        assert!(!exact.matches(&ident("https://github.com/acme/y", GH)));
        let re = Matcher::Identity {
            exact: None,
            regex: Some(regex::Regex::new("https://github\\.com/acme/.*").unwrap()),
            issuer: GH.into(),
        };
        assert!(re.matches(&ident("https://github.com/acme/anything", GH)));
        assert!(
            !re.matches(&ident("https://evil.example/https://github.com/acme/x", GH)),
            "must match the whole SAN"
        );
        let loose = Matcher::Identity {
            exact: None,
            regex: Some(regex::Regex::new("acme").unwrap()),
            issuer: GH.into(),
        };
        assert!(!loose.matches(&ident("https://github.com/acme/x", GH)));
    }

    /// The `policy` fuzz target's whole-match oracle (docs/fuzzing.md) fails on this, on an
    /// input written after reading the code (its first 10-minute campaign had not reached it):
    /// the match was checked by comparing one leftmost-first search's span with the identity,
    /// so an alternative that is a prefix of a later one (`a|ab`) refused an identity the
    /// expression matches in full. Fail-closed, but it refused a legitimate signer.
    #[test]
    fn identity_regexp_with_a_prefix_alternative_matches_the_whole_identity() {
        let m = |re: &str| Matcher::Identity {
            exact: None,
            regex: Some(regex::Regex::new(re).unwrap()),
            issuer: GH.into(),
        };
        assert!(m("a|ab").matches(&ident("ab", GH)));
        assert!(m("a|ab").matches(&ident("a", GH)));
        assert!(!m("a|ab").matches(&ident("abc", GH)));
        let tags = m(
            "https://github\\.com/acme/calc/\\.github/workflows/release\\.yml@refs/tags/(v1|v1\\.2\\.0)",
        );
        let id = "https://github.com/acme/calc/.github/workflows/release.yml@refs/tags/v1.2.0";
        assert!(tags.matches(&ident(id, GH)));
        assert!(!tags.matches(&ident(&format!("{id}-evil"), GH)));
        assert!(!tags.matches(&ident(id, "https://accounts.google.com")));
        assert!(whole_match(&regex::Regex::new("a|ab").unwrap(), "ab"));
        assert!(!whole_match(&regex::Regex::new("b").unwrap(), "ab"));
    }

    #[test]
    fn identity_regexp_that_cannot_be_anchored_is_refused() {
        // Under (?x) a `#` comment runs to the end of the line: wrapped in `\A(?:…)\z` it would
        // swallow the closing parenthesis. Refused with a message rather than never matching.
        let t = "[[signer]]\nname = \"ci\"\nidentity-regexp = \"(?x)a#\"\nissuer = \"i\"\n";
        let e = Policy::parse(t, Path::new("p.toml")).unwrap_err();
        assert_eq!(e.code(), "policy-invalid");
        assert!(e.to_string().contains("whole identity"), "{e}");
    }

    #[test]
    fn all_of_positive_negative_and_empty() {
        let m = Matcher::all_of(vec![
            Matcher::KeyId("A".into()),
            Matcher::AnyOf(vec![Matcher::KeyId("A".into())]),
        ])
        .unwrap();
        assert!(m.matches(&key("A")));
        assert!(!m.matches(&key("B")));
        assert!(
            Matcher::all_of(vec![]).is_none(),
            "an empty AllOf cannot be built"
        );
        assert!(
            !Matcher::AllOf(vec![]).matches(&key("A")),
            "an empty AllOf built by hand matches nothing"
        );
    }

    #[test]
    fn any_of_positive_negative_and_empty() {
        let m =
            Matcher::any_of(vec![Matcher::KeyId("A".into()), Matcher::KeyId("B".into())]).unwrap();
        assert!(m.matches(&key("B")));
        assert!(!m.matches(&key("C")));
        assert!(
            Matcher::any_of(vec![]).is_none(),
            "an empty AnyOf cannot be built"
        );
        assert!(
            !Matcher::AnyOf(vec![]).matches(&key("A")),
            "an empty AnyOf matches nothing"
        );
    }

    #[test]
    fn requirements_check_positive_negative_and_empty() {
        let s = Signer {
            name: "acme".into(),
            matcher: Matcher::KeyId("A".into()),
            public_key: None,
            identity: None,
            identity_regexp: None,
            issuer: None,
        };
        let r = Requirements {
            require_signature: true,
            signers: vec![s],
            ..Requirements::default()
        };
        assert_eq!(r.check(&key("A")).unwrap().name, "acme");
        assert!(matches!(
            r.check(&key("B")),
            Err(PolicyError::Untrusted { .. })
        ));
        let empty = Requirements {
            require_signature: true,
            ..Requirements::default()
        };
        assert!(matches!(
            empty.check(&key("A")),
            Err(PolicyError::NoSigners)
        ));
        assert!(empty.matcher().is_none());
    }

    /// The policy binding, byte for byte: known answers computed outside mcpseal (Python's
    /// hashlib over the documented text) for a policy `P` naming a Cedar file `C`, a tokens
    /// file `T`, or both; naming either changes the binding (a lock signed with the policy
    /// alone does not cover an edited `.cedar`), naming neither is the file's own digest.
    #[test]
    fn binding_digest_known_answers() {
        let file = |b: &[u8]| Some((PathBuf::from("f"), b.to_vec()));
        let tokens = |b: &[u8]| Some((PathBuf::from("t"), zeroize::Zeroizing::new(b.to_vec())));
        let hex = |r: &Referenced| binding_digest(b"P", r).hex();
        let both = Referenced {
            cedar: file(b"C"),
            tokens_file: tokens(b"T"),
        };
        assert_eq!(
            hex(&both),
            "8c551573c51029872317de82b3214aefbec396feab11664255e36e1028eb4ec9"
        );
        let cedar = Referenced {
            cedar: file(b"C"),
            tokens_file: None,
        };
        assert_eq!(
            hex(&cedar),
            "1a9d156c62b03a1ffd32b0156fa3a4aaf3113681408d2b83afdeec66536fab06"
        );
        let only_tokens = Referenced {
            cedar: None,
            tokens_file: tokens(b"T"),
        };
        assert_eq!(
            hex(&only_tokens),
            "12f4a88ded9a6552e52ec81a7b4f19256f59202eeafae86464350b2a9d032e47"
        );
        let plain = crate::digest::Digest::of(b"P");
        assert_eq!(binding_digest(b"P", &Referenced::default()), plain);
        assert_ne!(binding_digest(b"P", &cedar), plain);
        assert_ne!(
            binding_digest(b"P", &cedar),
            binding_digest(
                b"P",
                &Referenced {
                    cedar: file(b"C2"),
                    tokens_file: None
                }
            )
        );
    }

    /// From a policy file on disk: a named Cedar file is read and bound; a named file that is
    /// missing is an error, never a binding of the policy alone; a named file of exactly the
    /// 4 MiB limit is read, one byte more refused.
    #[test]
    fn binding_of_a_file_reads_what_it_names_and_refuses_what_it_cannot() {
        let t = tempfile::tempdir().unwrap();
        let policy = t.path().join("mcpseal-policy.toml");
        let text = b"[authz]\ncedar = \"rules.cedar\"\n";
        std::fs::write(&policy, text).unwrap();
        std::fs::write(t.path().join("rules.cedar"), b"C").unwrap();
        let refs = referenced(std::str::from_utf8(text).unwrap(), &policy).unwrap();
        let bound = binding_digest_of_bytes(text, &policy).unwrap();
        assert_eq!(bound, binding_digest(text, &refs));
        assert_ne!(bound, crate::digest::Digest::of(text));
        assert_eq!(binding_digest_of_file(&policy).unwrap(), bound);
        std::fs::remove_file(t.path().join("rules.cedar")).unwrap();
        let e = binding_digest_of_bytes(text, &policy).unwrap_err();
        assert!(e.to_string().contains("rules.cedar"), "{e}");
        let max = 4usize << 20;
        std::fs::write(t.path().join("rules.cedar"), vec![b' '; max]).unwrap();
        assert!(
            binding_digest_of_bytes(text, &policy).is_ok(),
            "exactly the limit"
        );
        std::fs::write(t.path().join("rules.cedar"), vec![b' '; max + 1]).unwrap();
        let e = binding_digest_of_bytes(text, &policy).unwrap_err();
        assert!(e.to_string().contains("over the 4194304-byte limit"), "{e}");
        // A policy that is not TOML names nothing: its own digest (it fails to load later).
        assert_eq!(
            binding_digest_of_bytes(b"[[[", &policy).unwrap(),
            crate::digest::Digest::of(b"[[[")
        );
    }

    /// `[authz] servers` limits which gates authorize; without it every gate does.
    #[test]
    fn authz_covers_the_servers_it_names_or_all() {
        let all = AuthzSpec::default();
        assert!(all.covers("calc") && all.covers("other"));
        let some = AuthzSpec {
            servers: Some(vec!["calc".into()]),
            ..AuthzSpec::default()
        };
        assert!(some.covers("calc"));
        assert!(!some.covers("other"));
        let none = AuthzSpec {
            servers: Some(vec![]),
            ..AuthzSpec::default()
        };
        assert!(!none.covers("calc"));
    }

    /// A canary's `Debug` says how many tokens there are and never what they are.
    #[test]
    fn canary_debug_counts_tokens_and_never_prints_one() {
        let c = CanarySpec {
            tokens: vec![zeroize::Zeroizing::new("s3cr3t-canary-token".into())],
            decoys: vec![],
            kill: true,
        };
        let d = format!("{c:?}");
        assert!(
            d.contains("CanarySpec") && d.contains("[1 redacted]") && d.contains("kill: true"),
            "{d}"
        );
        assert!(!d.contains("s3cr3t"), "{d}");
    }

    /// The signers of a requirement as one matcher: any one of them, none for no signers.
    #[test]
    fn requirements_matcher_is_any_of_the_signers() {
        let s = |n: &str, k: &str| Signer {
            name: n.into(),
            matcher: Matcher::KeyId(k.into()),
            public_key: None,
            identity: None,
            identity_regexp: None,
            issuer: None,
        };
        let r = Requirements {
            signers: vec![s("a", "A"), s("b", "B")],
            ..Requirements::default()
        };
        let m = r.matcher().expect("two signers make a matcher");
        assert!(m.matches(&key("A")) && m.matches(&key("B")));
        assert!(!m.matches(&key("C")));
    }

    /// The parse-time refusals the integration tests (tests/policy_parse.rs) also hold, here so
    /// that the unit-test run cargo mutants uses sees them: a signer with both `identity` and
    /// `identity-regexp`; `require-signature` with a bundle but no artifacts, or artifacts but
    /// no bundle; an `on-drift` other than `block` / `kill`; a zero limit.
    #[test]
    fn parse_refuses_ambiguous_signers_half_signatures_unknown_on_drift_and_zero_limits() {
        let p = Path::new("/p/mcpseal-policy.toml");
        let parse = |t: &str| Policy::parse(t, p).map_err(|e| e.to_string());
        let signer = "[[signer]]\nname = \"ci\"\nidentity = \"https://ci.example/r\"\nissuer = \"https://i.example\"\n";
        let both = "[[signer]]\nname = \"ci\"\nidentity = \"https://ci.example/r\"\nidentity-regexp = \"https://ci\\\\.example/.*\"\nissuer = \"https://i.example\"\n";
        assert!(parse(signer).is_ok());
        let e = parse(both).unwrap_err();
        assert!(e.contains("identity-regexp"), "{e}");
        let server = |body: &str| format!("{signer}[server.calc]\n{body}");
        let signed = "require-signature = true\nsigners = [\"ci\"]\n";
        assert!(
            parse(&server(&format!(
                "{signed}bundle = \"b.json\"\nartifacts = [\"a.tgz\"]\n"
            )))
            .is_ok()
        );
        let e = parse(&server(&format!("{signed}bundle = \"b.json\"\n"))).unwrap_err();
        assert!(e.contains("artifacts"), "{e}");
        let e = parse(&server(&format!("{signed}artifacts = [\"a.tgz\"]\n"))).unwrap_err();
        assert!(e.contains("bundle"), "{e}");
        for ok in ["block", "kill"] {
            assert!(
                parse(&server(&format!("on-drift = \"{ok}\"\n"))).is_ok(),
                "{ok}"
            );
        }
        let e = parse(&server("on-drift = \"warn\"\n")).unwrap_err();
        assert!(e.contains("on-drift"), "{e}");
        let limited =
            Policy::parse(&server("[server.calc.limits]\ncalls-per-minute = 5\n"), p).unwrap();
        assert_eq!(limited.servers["calc"].limits.calls_per_minute, Some(5));
        let e = parse(&server("[server.calc.limits]\ncalls-per-minute = 0\n")).unwrap_err();
        assert!(e.contains("calls-per-minute = 0"), "{e}");
    }

    /// `[[authz.rule]]` errors name the rule by its place, counted from 1.
    #[test]
    fn authz_rule_errors_name_the_rule_counted_from_one() {
        let p = Path::new("/p/mcpseal-policy.toml");
        let text = "[authz]\n[[authz.rule]]\nprincipals = [\"alice\"]\ntools = [\"add\"]\n[[authz.rule]]\nprincipals = [\"bob\"]\ntools = []\n";
        let e = Policy::parse(text, p).unwrap_err().to_string();
        assert!(e.contains("#2 names no tools"), "{e}");
        let ok = "[authz]\n[[authz.rule]]\nprincipals = [\"alice\"]\ntools = [\"add\"]\n";
        assert_eq!(Policy::parse(ok, p).unwrap().authz.unwrap().rules.len(), 1);
    }

    /// `[canary]`: tokens of at least 8 bytes (7 would trip on ordinary text), from `tokens`
    /// and from a tokens file whose blank and `#` lines are skipped; decoys with an object
    /// schema, each named once; `on-canary` `block` or `kill`; and a canary that watches for
    /// nothing is refused. No error echoes a token.
    #[test]
    fn canary_tokens_decoys_and_refusals() {
        let raw = |t: &str| -> RawCanary {
            let doc: toml_edit::DocumentMut = t.parse().unwrap();
            toml_edit::de::from_document::<std::collections::BTreeMap<String, RawCanary>>(doc)
                .unwrap()
                .remove("canary")
                .unwrap()
        };
        let file = |text: &str| {
            Some((
                PathBuf::from("tokens.txt"),
                zeroize::Zeroizing::new(text.as_bytes().to_vec()),
            ))
        };
        let c = canary_spec(
            raw("[canary]\ntokens = [\"12345678\"]\non-canary = \"kill\"\n[[canary.tool]]\nname = \"decoy\"\ndescription = \"d\"\n"),
            file("# a comment\n\n  \nabcdefgh-from-file\n"),
        )
        .unwrap();
        let tokens: Vec<&str> = c.tokens.iter().map(|t| t.as_str()).collect();
        assert_eq!(tokens, ["12345678", "abcdefgh-from-file"]);
        assert!(c.kill);
        assert_eq!(c.decoys.len(), 1);
        assert_eq!(c.decoys[0].definition["inputSchema"]["type"], "object");
        let e = canary_spec(raw("[canary]\ntokens = [\"1234567\"]\n"), None).unwrap_err();
        assert!(
            e.contains("shorter than 8") && !e.contains("1234567"),
            "{e}"
        );
        let e =
            canary_spec(raw("[canary]\ntokens = [\"12345678\"]\n"), file("short\n")).unwrap_err();
        assert!(e.contains("line 1") && !e.contains("short\n"), "{e}");
        let decoy = "[[canary.tool]]\nname = \"decoy\"\ndescription = \"d\"\n";
        let e = canary_spec(raw(&format!("[canary]\n{decoy}{decoy}")), None).unwrap_err();
        assert!(e.contains("declared twice"), "{e}");
        let e = canary_spec(
            raw("[canary]\n[[canary.tool]]\nname = \"decoy\"\ndescription = \"d\"\ninput-schema = 3\n"),
            None,
        )
        .unwrap_err();
        assert!(e.contains("input-schema"), "{e}");
        assert!(
            canary_spec(raw(&format!("[canary]\n{decoy}")), None).is_ok(),
            "decoys alone"
        );
        let e = canary_spec(raw("[canary]\ntokens = []\n"), None).unwrap_err();
        assert!(e.contains("watch for nothing"), "{e}");
        let e = canary_spec(
            raw("[canary]\ntokens = [\"12345678\"]\non-canary = \"log\"\n"),
            None,
        )
        .unwrap_err();
        assert!(e.contains("on-canary"), "{e}");
    }

    #[test]
    fn parse_refuses_empty_signer_sets_unknown_keys_and_dangling_names() {
        let p = Path::new("/p/mcpseal-policy.toml");
        let ok = "[[signer]]\nname = \"ci\"\nidentity = \"x\"\nissuer = \"y\"\n[server.calc]\nrequire-signature = true\nsigners = [\"ci\"]\nbundle = \"b.json\"\nartifacts = [\"a.tgz\"]\n";
        let pol = Policy::parse(ok, p).unwrap();
        assert_eq!(
            pol.requirements_for("calc").artifacts,
            [PathBuf::from("/p/a.tgz")]
        );
        assert!(!pol.requirements_for("other").require_signature);
        let empty = "[server.calc]\nrequire-signature = true\nsigners = []\nbundle = \"b\"\nartifacts = [\"a\"]\n";
        assert_eq!(
            Policy::parse(empty, p).unwrap_err().code(),
            "policy-invalid"
        );
        let unknown = "[server.calc]\nrequire-signatures = true\n";
        let e = Policy::parse(unknown, p).unwrap_err();
        assert_eq!(e.code(), "policy-syntax");
        assert!(
            e.to_string().contains("require-signatures") && e.to_string().contains("line 2"),
            "{e}"
        );
        let dangling = "[server.calc]\nsigners = [\"nobody\"]\n";
        assert!(
            Policy::parse(dangling, p)
                .unwrap_err()
                .to_string()
                .contains("nobody")
        );
        let both = "[[signer]]\nname = \"x\"\nkey-id = \"k\"\nidentity = \"i\"\nissuer = \"s\"\n";
        assert_eq!(Policy::parse(both, p).unwrap_err().code(), "policy-invalid");
    }

    /// Issue 12: `image-signers` names signers like `signers` does; an empty list or a name no
    /// `[[signer]]` defines is a configuration error, never "no requirement".
    #[test]
    fn image_signers_parse_and_refuse_empty_or_dangling_lists() {
        let p = Path::new("/p/mcpseal-policy.toml");
        let ok = "[[signer]]\nname = \"rel\"\nkey-id = \"K\"\n[server.fetch]\nimage-signers = [\"rel\"]\n";
        let pol = Policy::parse(ok, p).unwrap();
        let r = pol.requirements_for("fetch");
        assert_eq!(r.image_signers.len(), 1);
        assert_eq!(r.check_image(&key("K")).unwrap().name, "rel");
        assert!(r.check_image(&key("other")).is_err());
        // The image signers are not the release signers, and the other way round.
        assert!(matches!(r.check(&key("K")), Err(PolicyError::NoSigners)));
        assert!(pol.requirements_for("other").image_signers.is_empty());
        let empty = "[server.fetch]\nimage-signers = []\n";
        let e = Policy::parse(empty, p).unwrap_err();
        assert_eq!(e.code(), "policy-invalid");
        assert!(e.to_string().contains("image-signers"), "{e}");
        let dangling = "[server.fetch]\nimage-signers = [\"nobody\"]\n";
        let e = Policy::parse(dangling, p).unwrap_err();
        assert!(e.to_string().contains("nobody"), "{e}");
    }
}
