//! `mcpseal verify`: one front door for every signature kind; the flags choose the verifier.
//!
//! - `--key PUB`: mcpseal's key-based Sigstore bundles ([`verify_key`]).
//! - `--certificate-identity[-regexp]` + `--certificate-oidc-issuer`: keyless Sigstore bundles
//!   checked offline against a trusted root ([`verify_keyless`]).
//! - `--minisign-key` / `--signify-key`: minisign and signify signatures ([`verify_minisign`]).
//! - `--provenance ATTESTATIONS.json --package NAME@VERSION`: npm provenance ([`verify_npm`]).
//! - `SERVER.mcpb` (with `--ca`, `--allow-self-signed` or nothing): the bundle's own
//!   `MCPB_SIG_V1` PKCS#7 signature ([`verify_mcpb`]).

use std::path::PathBuf;

use super::{CliError, CmdResult, Global};

#[path = "verify_key.rs"]
pub mod verify_key;
#[path = "verify_keyless.rs"]
pub mod verify_keyless;
#[path = "verify_mcpb.rs"]
pub mod verify_mcpb;
#[path = "verify_minisign.rs"]
pub mod verify_minisign;
#[path = "verify_npm.rs"]
pub mod verify_npm;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifacts (files or directories) the signature must cover; or one container image,
    /// oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], whose registry signatures are checked.
    #[arg(required = true, value_name = "ARTIFACT")]
    pub artifacts: Vec<PathBuf>,

    /// Sigstore bundle to check [default: ARTIFACT.sigstore.json].
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,

    /// Public key that must have signed the bundle: SPKI PEM or DER, Ed25519, ECDSA
    /// (P-256/P-384/P-521, as `cosign generate-key-pair` makes) or RSA of 2048 bits or more.
    /// Reads mcpseal's bundles and `cosign sign-blob --key --bundle` / `attest-blob` ones.
    #[arg(long, value_name = "PUB", group = "verifier")]
    pub key: Option<PathBuf>,

    /// Keyless: the signing certificate's identity (SAN), exactly.
    #[arg(long, value_name = "ID", group = "verifier")]
    pub certificate_identity: Option<String>,

    /// Keyless: the signing certificate's identity (SAN) as a regular expression (whole match).
    #[arg(long, value_name = "RE", conflicts_with = "certificate_identity")]
    pub certificate_identity_regexp: Option<String>,

    /// Keyless: the OIDC issuer recorded in the certificate.
    #[arg(long, value_name = "ISSUER")]
    pub certificate_oidc_issuer: Option<String>,

    /// Trusted root JSON for keyless bundles, and for the transparency-log entries of a
    /// `--key` bundle that has them [default: the embedded Sigstore public-good root].
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// minisign public key file (`minisign.pub`).
    #[arg(long, value_name = "KEY.pub", group = "verifier")]
    pub minisign_key: Option<PathBuf>,

    /// signify public key file.
    #[arg(long, value_name = "KEY.pub", group = "verifier")]
    pub signify_key: Option<PathBuf>,

    /// MCP bundle: the roots (PEM certificates) the signer must chain to, with code signing
    /// [default: the system's roots].
    #[arg(long, value_name = "ROOTS.pem")]
    pub ca: Option<PathBuf>,

    /// MCP bundle: accept a self-signed signer certificate (pair it with --signer to say which).
    #[arg(long)]
    pub allow_self_signed: bool,

    /// MCP bundle: the SHA-256 fingerprint of the certificate that must have signed it.
    #[arg(long, value_name = "SHA256")]
    pub signer: Option<String>,

    /// Package provenance: npm's attestations document for the version (`{"attestations":…}`),
    /// or for a wheel / sdist its PEP 740 provenance file or attestation object.
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<PathBuf>,

    /// npm provenance: the package and exact version the tarball must be (NAME@VERSION).
    #[arg(long, value_name = "NAME@VERSION", requires = "provenance")]
    pub package: Option<String>,

    /// Provenance: the repository that must have built it (github.com/ORG/REPO).
    #[arg(long, value_name = "REPO", requires = "provenance")]
    pub repository: Option<String>,

    /// Provenance: the workflow file that must have built it (release.yml).
    #[arg(long, value_name = "FILE", requires = "provenance")]
    pub workflow: Option<String>,

    /// Provenance: a regular expression the whole git ref must match (refs/tags/v.*).
    #[arg(long, value_name = "RE", requires = "provenance")]
    pub ref_regexp: Option<String>,

    /// PyPI provenance: the Trusted Publisher's environment PyPI must have recorded.
    #[arg(long, value_name = "ENV", requires = "provenance")]
    pub environment: Option<String>,

    /// minisign / signify signature file [default: ARTIFACT.minisig or ARTIFACT.sig].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// Image index: the platform whose manifest is checked, OS/ARCH[/VARIANT] [default: this
    /// machine's, e.g. linux/amd64].
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Image: allow plain HTTP to this registry host[:port] (loopback registries always may).
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    if super::oci::is_oci(&args.artifacts) {
        return super::oci::verify(args, g);
    }
    if args.platform.is_some() || !args.allow_insecure_registry.is_empty() {
        return Err(CliError::error(
            "usage",
            "--platform and --allow-insecure-registry apply when verifying an oci:// image",
        ));
    }
    if args.provenance.is_some() {
        verify_npm::run(args, g)
    } else if verify_mcpb::wanted(&args) {
        verify_mcpb::run(args, g)
    } else if args.key.is_some() {
        verify_key::run(args, g)
    } else if args.certificate_identity.is_some() || args.certificate_identity_regexp.is_some() {
        verify_keyless::run(args, g)
    } else if args.minisign_key.is_some() || args.signify_key.is_some() {
        verify_minisign::run(args, g)
    } else {
        Err(CliError::error(
            "no-verifier",
            "say who must have signed: --key PUB, --certificate-identity ID with --certificate-oidc-issuer ISS, --minisign-key KEY or --signify-key KEY",
        )
        .help("mcpseal verify ARTIFACT --key signing.pub"))
    }
}
