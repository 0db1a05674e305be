//! The package a launch spec runs: `npx -y NAME@VERSION`, `uvx NAME==VERSION` (and their
//! spellings), read as a registry type, an identifier and a version.
//!
//! `pin` records it (with the registry metadata and the verified provenance it was given),
//! `run` and `check` compare it with the launch they are asked to start, and `scan` reports a
//! server whose policy requires provenance but whose launch names no exact version. Nothing
//! here does I/O. Runners this does not recognise give `None`: the caller decides what that
//! means (the gate refuses a provenance requirement it cannot tie to a package).

use std::sync::LazyLock;

use regex::Regex;

use crate::mcp::LaunchSpec;

static EXACT_NPM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
        .unwrap_or_else(|e| panic!("{e}"))
});
static EXACT_PY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*$").unwrap_or_else(|e| panic!("{e}"))
});

/// A package named by a launch spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPackage {
    /// `npm` or `pypi` (the MCP Registry's `registryType` values).
    pub registry_type: &'static str,
    /// The package name as written (`@scope/name`, `mcp-server-git`).
    pub identifier: String,
    /// The version as written after `@` / `==`, if any.
    pub version: Option<String>,
}

impl LaunchPackage {
    /// Whether the version is one exact release (not absent, not a tag, not a range).
    pub fn is_exact(&self) -> bool {
        match (&self.version, self.registry_type) {
            (Some(v), "npm") => EXACT_NPM.is_match(v),
            (Some(v), _) => EXACT_PY.is_match(v),
            (None, _) => false,
        }
    }

    /// `NAME@VERSION` (npm) or `NAME==VERSION` (PyPI), as the runner would take it.
    pub fn display(&self) -> String {
        let sep = if self.registry_type == "npm" {
            "@"
        } else {
            "=="
        };
        match &self.version {
            Some(v) => format!("{}{sep}{v}", self.identifier),
            None => self.identifier.clone(),
        }
    }

    /// Whether this names `identifier` at `version` in `registry_type` (PyPI names compared
    /// in their normalized form, PEP 503).
    pub fn names(&self, registry_type: &str, identifier: &str, version: &str) -> bool {
        if self.registry_type != registry_type || self.version.as_deref() != Some(version) {
            return false;
        }
        if registry_type == "pypi" {
            pypi_normalize(&self.identifier) == pypi_normalize(identifier)
        } else {
            self.identifier == identifier
        }
    }
}

/// PEP 503 normalization: lower case, every run of `-`, `_`, `.` as one `-`.
pub fn pypi_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn base(command: &str) -> &str {
    let b = command.rsplit(['/', '\\']).next().unwrap_or(command);
    b.strip_suffix(".cmd")
        .or_else(|| b.strip_suffix(".exe"))
        .unwrap_or(b)
}

/// The package a launch spec runs, if its runner is `npx`, `npm exec`, `uvx` or `uv tool run`.
pub fn launch_package(spec: &LaunchSpec) -> Option<LaunchPackage> {
    let LaunchSpec::Stdio { command, args, .. } = spec else {
        return None;
    };
    package_of(command, args)
}

/// [`launch_package`] of a command and its arguments.
pub fn package_of(command: &str, args: &[String]) -> Option<LaunchPackage> {
    match base(command) {
        "npx" => npm(args),
        "npm" if args.first().is_some_and(|a| a == "exec" || a == "x") => npm(&args[1..]),
        "uvx" => pypi(args),
        "uv" if args.len() >= 2 && args[0] == "tool" && args[1] == "run" => pypi(&args[2..]),
        _ => None,
    }
}

/// The package spec a runner's arguments name: the value of a package option (`-p VALUE`,
/// `--package=VALUE`, `--from VALUE`; two of them name no one package: `None`), else the first
/// positional argument (after `--`, the next argument). Options in `takes_value` are skipped
/// with their value, any other option alone. One reading for every runner, so `npx` and `uvx`
/// cannot drift apart in how a launch is read.
fn spec_of(args: &[String], package_opts: &[&str], takes_value: &[&str]) -> Option<String> {
    let mut i = 0;
    let mut spec: Option<String> = None;
    while let Some(a) = args.get(i).map(String::as_str) {
        let given = if package_opts.contains(&a) {
            i += 1;
            Some(args.get(i)?.clone())
        } else {
            package_opts
                .iter()
                .find_map(|o| a.strip_prefix(o)?.strip_prefix('='))
                .map(str::to_owned)
        };
        if let Some(v) = given {
            if spec.is_some() {
                return None;
            }
            spec = Some(v);
            i += 1;
        } else if a == "--" {
            return spec.or_else(|| args.get(i + 1).cloned());
        } else if takes_value.contains(&a) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            return spec.or_else(|| Some(a.to_owned()));
        }
    }
    spec
}

fn npm(args: &[String]) -> Option<LaunchPackage> {
    let spec = spec_of(args, &["-p", "--package"], &[])?;
    if spec.starts_with(['.', '/']) || spec.contains(':') {
        return None; // a path, a git or URL spec: not a registry package
    }
    let body_at = usize::from(spec.starts_with('@'));
    let (name, version) = match spec[body_at..].split_once('@') {
        Some((n, v)) => (spec[..body_at + n.len()].to_owned(), Some(v.to_owned())),
        None => (spec.clone(), None),
    };
    (!name.is_empty() && name != "@").then_some(LaunchPackage {
        registry_type: "npm",
        identifier: name,
        version,
    })
}

fn pypi(args: &[String]) -> Option<LaunchPackage> {
    let spec = spec_of(
        args,
        &["--from"],
        &[
            "-p",
            "--python",
            "--with",
            "-w",
            "--index",
            "--index-url",
            "--extra-index-url",
            "--python-version",
        ],
    )?;
    if spec.starts_with(['.', '/']) || spec.contains("://") || spec.starts_with("git+") {
        return None;
    }
    let (name, version) = if let Some((n, v)) = spec.split_once("==") {
        (n, Some(v.trim().to_owned()))
    } else if let Some((n, v)) = spec.split_once('@') {
        (n, Some(v.trim().to_owned()))
    } else if let Some(i) = spec.find(['>', '<', '~', '!', '=']) {
        (&spec[..i], Some(spec[i..].to_owned()))
    } else {
        (spec.as_str(), None)
    };
    // Extras (`name[cli]`) are not part of the name.
    let name = name.split('[').next().unwrap_or(name).trim();
    (!name.is_empty()).then(|| LaunchPackage {
        registry_type: "pypi",
        identifier: name.to_owned(),
        version,
    })
}

/// The package identity a pin records for a launch that runs one exact version (none for a
/// launch without one: nothing could be tied to it).
pub fn pinned_package(spec: &LaunchSpec) -> Option<crate::lock::PinnedPackage> {
    let p = launch_package(spec).filter(LaunchPackage::is_exact)?;
    Some(crate::lock::PinnedPackage {
        registry_type: p.registry_type.to_owned(),
        identifier: p.identifier,
        version: p.version.unwrap_or_default(),
        digest: None,
        server_json: None,
        provenance: None,
    })
}

/// Whether a launch (`command`, `args`) runs the package `recorded` in a lock entry. Only npm
/// and PyPI packages are tied to the launch (an MCPB or OCI package is checked by its digest).
/// `Err` carries what the launch runs instead, if anything.
pub fn launch_runs(
    recorded: &crate::lock::PinnedPackage,
    command: &str,
    args: &[String],
) -> Result<(), Option<LaunchPackage>> {
    if recorded.registry_type != "npm" && recorded.registry_type != "pypi" {
        return Ok(());
    }
    match package_of(command, args) {
        Some(f)
            if f.names(
                &recorded.registry_type,
                &recorded.identifier,
                &recorded.version,
            ) =>
        {
            Ok(())
        }
        other => Err(other),
    }
}

/// For an OCI package (`pin --server-json` of a container launch): the image the lock pins for
/// the launch (which the gate runs by digest) is the digest the registry entry's package
/// resolved to when pinned. `Err` says what differs. Other packages: `Ok`.
pub fn image_is_package(
    recorded: &crate::lock::PinnedPackage,
    image: Option<&crate::lock::PinnedImage>,
) -> Result<(), String> {
    if recorded.registry_type != "oci" {
        return Ok(());
    }
    let want = recorded.digest.as_deref().unwrap_or("(none recorded)");
    match image {
        Some(i) if i.digest.to_string() == want => Ok(()),
        Some(i) => Err(format!(
            "the pinned image {} is {}, but the registry entry's package {} was pinned at {want}",
            i.reference, i.digest, recorded.identifier
        )),
        None => Err(format!(
            "the registry entry's OCI package {} ({want}) is recorded, but no container image is pinned for the launch",
            recorded.identifier
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(cmd: &str, args: &[&str]) -> Option<LaunchPackage> {
        package_of(cmd, &args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn npx_and_uvx_specs_are_read() {
        let x = p(
            "npx",
            &["-y", "@modelcontextprotocol/server-memory@2026.8.31"],
        )
        .unwrap();
        assert_eq!(x.identifier, "@modelcontextprotocol/server-memory");
        assert_eq!(x.version.as_deref(), Some("2026.8.31"));
        assert!(x.is_exact());
        let x = p("npx", &["-y", "sigstore@1.0.0", "--flag"]).unwrap();
        assert!(x.names("npm", "sigstore", "1.0.0") && !x.names("npm", "sigstore", "1.1.0"));
        let x = p("/usr/bin/uvx", &["mcp-server-git==2025.1.14"]).unwrap();
        assert_eq!(x.registry_type, "pypi");
        assert!(x.is_exact());
        assert!(x.names("pypi", "MCP_Server.Git", "2025.1.14"));
        let x = p("uvx", &["--from", "pypi-attestations[cli]==0.0.19", "x"]).unwrap();
        assert_eq!(x.identifier, "pypi-attestations");
        assert!(x.is_exact());
    }

    /// The launches a provenance requirement cannot rest on: no version, a tag, a range.
    #[test]
    fn unpinned_versions_are_not_exact() {
        for (cmd, args) in [
            ("npx", vec!["foo"]),
            ("npx", vec!["-y", "foo@latest"]),
            ("npx", vec!["foo@^1"]),
            ("npx", vec!["@scope/foo"]),
            ("npx", vec!["foo@1.x"]),
            ("uvx", vec!["foo"]),
            ("uvx", vec!["foo>=1.0"]),
            ("uvx", vec!["foo==1.*"]),
        ] {
            let x = p(cmd, &args).unwrap();
            assert!(!x.is_exact(), "{cmd} {args:?} read as exact: {x:?}");
        }
        // Two explicit packages name no one package (npx or uvx alike).
        assert_eq!(p("npx", &["-p", "a@1.0.0", "-p", "b@1.0.0", "b"]), None);
        assert_eq!(p("uvx", &["--from", "a==1.0", "--from=b==1.0", "b"]), None);
        // Options that take a value are skipped with it; `--` ends the options.
        let x = p(
            "uvx",
            &["--python", "3.12", "--with", "rich", "mcp-server-git==1.0"],
        )
        .unwrap();
        assert_eq!(x.identifier, "mcp-server-git");
        let x = p("npx", &["--yes", "--", "sigstore@1.0.0"]).unwrap();
        assert_eq!(x.display(), "sigstore@1.0.0");
        let x = p("npx", &["--package=@scope/a@1.0.0", "a"]).unwrap();
        assert_eq!(x.identifier, "@scope/a");
        assert_eq!(p("node", &["server.js"]), None);
        assert_eq!(p("npx", &["github:org/repo"]), None);
    }

    #[test]
    fn pep503_normalization() {
        assert_eq!(pypi_normalize("Pypi_Attestations"), "pypi-attestations");
        assert_eq!(pypi_normalize("a.-_b"), "a-b");
    }
}
