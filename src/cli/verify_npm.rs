//! `mcpseal verify PKG.tgz --provenance ATTESTATIONS.json --package NAME@VERSION
//! [--repository github.com/ORG/REPO] [--workflow release.yml] [--ref-regexp RE]
//! [--trusted-root FILE]`: an npm tarball against npm's provenance attestations, offline
//! ([`crate::provenance::verify_npm`]); and a wheel or sdist (`.whl`, `.tar.gz`) against its
//! PEP 740 provenance file or attestation object, `--environment` naming the Trusted
//! Publisher's environment ([`crate::provenance::verify_pypi`]).

use serde_json::json;

use super::Args;
use crate::cli::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::provenance::{self, SourcePolicy};

/// `NAME@VERSION` (`@scope/name@1.2.3` too): an exact version, never a range or tag.
pub(crate) fn split_package(spec: &str) -> Result<(String, String), CliError> {
    let bad = || {
        CliError::error(
            "bad-package",
            format!("{spec:?}: expected NAME@VERSION with an exact version"),
        )
        .help("--package @modelcontextprotocol/server-memory@2026.8.31")
    };
    let at = spec.rfind('@').filter(|&i| i > 0).ok_or_else(bad)?;
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    // An exact semver version: MAJOR.MINOR.PATCH, numeric, then an optional -pre / +build.
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let exact = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if name.is_empty() || !exact {
        return Err(bad());
    }
    Ok((name.to_owned(), version.to_owned()))
}

/// The source policy from the flags.
pub(crate) fn source_policy(args: &Args) -> Result<SourcePolicy, CliError> {
    let ref_regexp = args
        .ref_regexp
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| CliError::error("bad-regexp", format!("--ref-regexp: {e}")))?;
    Ok(SourcePolicy {
        repository: args.repository.clone(),
        workflow: args.workflow.clone(),
        ref_regexp,
    })
}

/// The trusted root from `--trusted-root FILE`, or the embedded public-good root.
pub(crate) fn trusted_root(
    p: Option<&std::path::Path>,
) -> Result<sigstore_verify::trust_root::TrustedRoot, CliError> {
    super::verify_keyless::load_root(p)
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let [tarball] = args.artifacts.as_slice() else {
        return Err(CliError::error(
            "one-artifact",
            "provenance verification takes exactly one package file",
        ));
    };
    let att_path = args
        .provenance
        .as_deref()
        .ok_or_else(|| CliError::error("usage", "--provenance FILE is required"))?;
    let fname = tarball.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if fname.ends_with(".whl") || fname.ends_with(".tar.gz") {
        return run_pypi(&args, g, tarball, att_path, fname);
    }
    let spec = args.package.as_deref().ok_or_else(|| {
        CliError::error(
            "package-needed",
            "say which package and version the tarball must be: --package NAME@VERSION",
        )
        .help(format!(
            "mcpseal verify {} --provenance {} --package NAME@VERSION",
            tarball.display(),
            att_path.display()
        ))
    })?;
    let (name, version) = split_package(spec)?;
    let policy = source_policy(&args)?;
    let root = trusted_root(args.trusted_root.as_deref())?;
    let tar = read_input(tarball, crate::keyless::MAX_IN_MEMORY, "a package tarball")?;
    let att = read_input(
        att_path,
        provenance::MAX_ATTESTATIONS as u64,
        "an attestations document",
    )?;
    let v = provenance::verify_npm(&tar, &att, &name, &version, &policy, &root).map_err(|e| {
        let help = match e.code() {
            "provenance-source-mismatch" => "if the package really moved, review the new source, then change the policy's provenance table",
            "provenance-subject-mismatch" | "provenance-digest-mismatch" | "keyless-verification-failed" => "this tarball is not the one the provenance speaks for: fetch NAME@VERSION again (npm pack NAME@VERSION)",
            _ => "do not run this package; check you have its attestations (GET /-/npm/v1/attestations/NAME@VERSION)",
        };
        crate::cli::verifier_error(e.code(), format!("{} ({spec}): {e}", tarball.display()), e.is_input_error()).help(help)
    })?;
    if g.json {
        emit_json(&json!({
            "ok": true, "verified": true, "package": v.purl, "source": v.source,
            "identity": v.identity, "integratedTime": v.integrated_time,
            "publishAttestation": v.publish_attestation,
        }));
    } else {
        emit(&format!(
            "verified {} ({}) npm provenance",
            tarball.display(),
            v.purl
        ));
        emit(&format!(
            "  built by: {} at {}",
            v.source.repository, v.source.git_ref
        ));
        emit(&format!("  workflow: {}", v.source.workflow));
        if let Some(t) = &v.integrated_time {
            emit(&format!("  logged:   {t}"));
        }
        emit(&format!(
            "  npm publish attestation: {}",
            if v.publish_attestation {
                "verified"
            } else {
                "absent"
            }
        ));
    }
    Ok(Exit::Ok)
}

fn run_pypi(
    args: &Args,
    g: &Global,
    dist: &std::path::Path,
    att_path: &std::path::Path,
    fname: &str,
) -> CmdResult {
    if args.package.is_some() {
        return Err(CliError::error(
            "usage",
            "a PyPI distribution is named by its file name: --package is for npm tarballs",
        ));
    }
    let policy = source_policy(args)?;
    let root = trusted_root(args.trusted_root.as_deref())?;
    let bytes = read_input(dist, crate::keyless::MAX_IN_MEMORY, "a distribution")?;
    let doc = read_input(
        att_path,
        provenance::MAX_ATTESTATIONS as u64,
        "a provenance file",
    )?;
    let v = provenance::verify_pypi(
        &bytes,
        fname,
        &doc,
        &policy,
        args.environment.as_deref(),
        &root,
    )
    .map_err(|e| {
        let help = match e.code() {
            "provenance-source-mismatch" => "if the project really moved, review the new Trusted Publisher, then change the policy's provenance table",
            "provenance-subject-mismatch" | "provenance-digest-mismatch" => "this file is not the one the attestation speaks for: download it again (pip download NAME==VERSION)",
            "keyless-verification-failed" => "the attestation does not verify (its signature, its log entry, or a Trusted Publisher other than GitHub Actions, which is all mcpseal accepts yet): do not install this distribution",
            _ => "do not install this distribution; check you have its provenance (PyPI's integrity API)",
        };
        crate::cli::verifier_error(e.code(), format!("{}: {e}", dist.display()), e.is_input_error()).help(help)
    })?;
    if g.json {
        emit_json(&json!({
            "ok": true, "verified": true, "distribution": v.filename, "source": v.source,
            "identity": v.identity, "environment": v.environment,
            "attestations": v.attestations, "integratedTime": v.integrated_time,
        }));
    } else {
        emit(&format!(
            "verified {} PEP 740 provenance ({} attestation(s))",
            dist.display(),
            v.attestations
        ));
        emit(&format!(
            "  built by: {} at {}",
            v.source.repository, v.source.git_ref
        ));
        emit(&format!("  workflow: {}", v.source.workflow));
        if let Some(e) = &v.environment {
            emit(&format!("  environment: {e} (as PyPI recorded it)"));
        }
    }
    Ok(Exit::Ok)
}
