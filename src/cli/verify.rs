//! `mcpseal verify`: one front door for every signature kind; the flags choose the verifier.
//!
//! - `--key PUB`: mcpseal's key-based Sigstore bundles ([`verify_key`]).
//! - `--certificate-identity[-regexp]` + `--certificate-oidc-issuer`: keyless Sigstore bundles
//!   checked offline against a trusted root ([`verify_keyless`]).
//! - `--minisign-key` / `--signify-key`: minisign and signify signatures ([`verify_minisign`]).

use std::path::PathBuf;

use super::{CliError, CmdResult, Global};

#[path = "verify_key.rs"]
pub mod verify_key;
#[path = "verify_keyless.rs"]
pub mod verify_keyless;
#[path = "verify_minisign.rs"]
pub mod verify_minisign;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifacts (files or directories) the signature must cover; or one container image,
    /// oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], whose registry signatures are checked.
    #[arg(required = true, value_name = "ARTIFACT")]
    pub artifacts: Vec<PathBuf>,

    /// Sigstore bundle to check [default: ARTIFACT.sigstore.json].
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,

    /// Ed25519 public key (SPKI PEM) that must have signed the bundle.
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

    /// Keyless: trusted root JSON [default: the embedded Sigstore public-good root].
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// minisign public key file (`minisign.pub`).
    #[arg(long, value_name = "KEY.pub", group = "verifier")]
    pub minisign_key: Option<PathBuf>,

    /// signify public key file.
    #[arg(long, value_name = "KEY.pub", group = "verifier")]
    pub signify_key: Option<PathBuf>,

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
    if args.key.is_some() {
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
