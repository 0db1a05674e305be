//! `mcpseal verify-registry server.json [--artifact FILE]…`: an MCP Registry entry's
//! metadata, each artifact against the package it stands for, and each OCI package at its
//! image registry (its name label) ([`crate::registry`]).

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CmdResult, Exit, Global, emit, emit_json, read_input};
use crate::registry;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server.json (as published to the MCP Registry).
    #[arg(value_name = "SERVER.json")]
    pub server_json: PathBuf,
    /// A package file to check against its entry: an npm tarball (its package.json must carry
    /// `mcpName` = the server's name), a wheel or sdist (its README must say `mcp-name:` and
    /// the server's name), or a file whose entry has `fileSha256` (MCPB). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub artifact: Vec<PathBuf>,
    /// OCI packages are resolved at their registry (their image's label
    /// `io.modelcontextprotocol.server.name` must be the server's name): allow plain HTTP to
    /// this registry host[:port] (loopback registries always may). Repeatable.
    #[arg(long, value_name = "HOST")]
    pub allow_insecure_registry: Vec<String>,
}

pub(crate) fn refusal(e: registry::RegistryError, file: &std::path::Path) -> CliError {
    if let registry::RegistryError::Oci { error, .. } = &e {
        let help = error.help();
        return crate::cli::verifier_error(
            e.code(),
            format!("{}: {e}", file.display()),
            e.is_input_error(),
        )
        .help(help);
    }
    let help = match e.code() {
        "registry-version-not-exact" => {
            "publish server.json with exact versions (1.2.3), never ranges or `latest`"
        }
        "registry-digest-mismatch" | "registry-digest-missing" => {
            "do not install this file: it is not the one the registry entry names"
        }
        "registry-name-marker-mismatch" | "registry-name-marker-missing" => {
            "the package does not claim this registry name: it may be an impostor; check the publisher"
        }
        "registry-name-marker-ambiguous" => {
            "the package claims more than one registry name: ask its publisher to declare exactly one"
        }
        "registry-oci-identifier-invalid" => {
            "write the OCI identifier as REGISTRY/NAMESPACE/REPOSITORY:TAG (or @sha256:DIGEST), without version, fileSha256 or registryBaseUrl"
        }
        _ => "mcpseal verify-registry server.json --artifact FILE",
    };
    crate::cli::verifier_error(
        e.code(),
        format!("{}: {e}", file.display()),
        e.is_input_error(),
    )
    .help(help)
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    let text = read_input(&args.server_json, 4 << 20, "a server.json")?;
    let s = registry::parse(&text).map_err(|e| refusal(e, &args.server_json))?;
    registry::check_versions(&s).map_err(|e| refusal(e, &args.server_json))?;
    let mut matches = Vec::new();
    for a in &args.artifact {
        let bytes = read_input(a, 2 << 30, "a package file")?;
        let name = a.display().to_string();
        matches.push(registry::check_artifact(&s, &name, &bytes).map_err(|e| refusal(e, a))?);
    }
    let opts = crate::oci::Options::from_env(args.allow_insecure_registry.clone());
    let mut images = Vec::new();
    for p in s.packages.iter().filter(|p| p.registry_type == "oci") {
        images.push(registry::check_oci(&s, p, &opts).map_err(|e| refusal(e, &args.server_json))?);
    }
    if g.json {
        emit_json(&json!({
            "ok": true, "verified": true, "name": s.name, "version": s.version,
            "packages": s.packages, "artifacts": matches, "images": images,
        }));
    } else {
        emit(&format!(
            "verified {} ({} {})",
            args.server_json.display(),
            s.name,
            s.version
        ));
        for p in &s.packages {
            emit(&format!(
                "  package {} {} {}",
                p.registry_type, p.identifier, p.version
            ));
        }
        for m in &matches {
            emit(&format!(
                "  artifact {} = {} {} ({}{})",
                m.artifact,
                m.package.identifier,
                m.package.version,
                m.sha256,
                m.name_marker
                    .as_ref()
                    .map_or(String::new(), |n| format!(", name marker {n}"))
            ));
        }
        for i in &images {
            emit(&format!(
                "  image {} = {} (label {} on {})",
                i.identifier,
                i.digest,
                i.name_marker,
                i.images
                    .iter()
                    .map(|x| if x.platform.is_empty() {
                        x.digest.to_string()
                    } else {
                        format!("{} {}", x.platform, x.digest)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(Exit::Ok)
}
