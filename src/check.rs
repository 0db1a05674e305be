//! Checking pinned servers against their pins (`mcpseal check`): the runtime spec of a pin,
//! a live capture of each server ([`crate::mcp::capture_many`]) and the diff with its pin.
//!
//! The lockfile stores env *names*, never values: [`runtime_spec`] takes each value from the
//! environment, or else from the client config the server was pinned from (as that client
//! would expand it). HTTP header values are never stored either, so a server pinned with
//! headers cannot be checked here ([`SpecError::HeadersNeeded`]). Rendering is the CLI's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::clients::{self, Roots};
use crate::lock::{Origin, PinnedLaunch, ServerEntry};
use crate::mcp::{self, CaptureError, CaptureOptions, LaunchSpec};
use crate::surface::diff::{self, SurfaceDiff};

/// Looks up an environment variable (the process environment, or a test's map).
pub type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// A pin that cannot be turned into a runnable spec.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("server {server:?} needs the environment variable {var}, which is not set{}", match origin { Some(o) => format!(", and {} no longer gives it", o.config), None => String::new() })]
    EnvUnset {
        server: String,
        var: String,
        /// Where the server was pinned from, if the lock records it.
        origin: Option<Origin>,
    },
    #[error("server {server:?} was pinned with HTTP headers ({}); their values are never stored, so check cannot send them", headers.join(", "))]
    HeadersNeeded {
        server: String,
        headers: Vec<String>,
    },
}

impl SpecError {
    pub fn code(&self) -> &'static str {
        match self {
            SpecError::EnvUnset { .. } => "env-unset",
            SpecError::HeadersNeeded { .. } => "headers-needed",
        }
    }

    /// The next thing to do.
    pub fn help(&self) -> String {
        match self {
            SpecError::EnvUnset {
                var,
                origin: Some(o),
                ..
            } => format!(
                "{} no longer gives {var} to {:?}: export {var}=… before running, or fix that config",
                o.config, o.name
            ),
            SpecError::EnvUnset { var, .. } => {
                format!("export {var}=… before running, as your MCP client would")
            }
            SpecError::HeadersNeeded { server, .. } => format!(
                "re-check it by hand: mcpseal pin {server} --url URL --header 'Name: value' (prints what changed)"
            ),
        }
    }
}

/// The env values the client config a server was pinned from gives it (expanded the way that
/// client expands them), or none if that config or entry is gone.
pub fn origin_env(
    origin: Option<&Origin>,
    roots: Option<&Roots>,
    env: Env<'_>,
) -> BTreeMap<String, String> {
    let (Some(o), Some(roots)) = (origin, roots) else {
        return BTreeMap::new();
    };
    let Some(client) = clients::Client::from_id(&o.client) else {
        return BTreeMap::new();
    };
    let path = PathBuf::from(&o.config);
    let files = clients::select(roots, &clients::Selection::Config(path, Some(client)));
    let Some(cf) = files.first() else {
        return BTreeMap::new();
    };
    let ctx = roots.context(cf);
    clients::load(cf)
        .ok()
        .and_then(|servers| servers.into_iter().find(|s| s.name == o.name))
        .and_then(|s| s.launch_spec(&ctx, &|k| env(k)).ok())
        .map(|spec| match spec {
            LaunchSpec::Stdio { env, .. } => env,
            _ => BTreeMap::new(),
        })
        .unwrap_or_default()
}

/// The runtime spec of a pinned launch: env values come from `env`, or else from the client
/// config the server was pinned from (read only when a value is missing; `roots` says where
/// client configs live, `None` when that cannot be told).
pub fn runtime_spec(
    name: &str,
    entry: &ServerEntry,
    roots: Option<&Roots>,
    env: Env<'_>,
) -> Result<LaunchSpec, SpecError> {
    match &entry.launch {
        PinnedLaunch::Stdio {
            command,
            args,
            env: names,
        } => {
            let mut values = BTreeMap::new();
            let mut from_config: Option<BTreeMap<String, String>> = None;
            for var in names {
                if let Some(v) = env(var) {
                    values.insert(var.clone(), v);
                    continue;
                }
                let cfg = from_config
                    .get_or_insert_with(|| origin_env(entry.origin.as_ref(), roots, env));
                match cfg.get(var) {
                    Some(v) => values.insert(var.clone(), v.clone()),
                    None => {
                        return Err(SpecError::EnvUnset {
                            server: name.to_owned(),
                            var: var.clone(),
                            origin: entry.origin.clone(),
                        });
                    }
                };
            }
            Ok(LaunchSpec::Stdio {
                command: command.clone(),
                args: args.clone(),
                env: values,
                cwd: None,
            })
        }
        PinnedLaunch::Http { headers, .. } | PinnedLaunch::Sse { headers, .. }
            if !headers.is_empty() =>
        {
            Err(SpecError::HeadersNeeded {
                server: name.to_owned(),
                headers: headers.clone(),
            })
        }
        PinnedLaunch::Http { url, .. } => Ok(LaunchSpec::Http {
            url: url.clone(),
            headers: BTreeMap::new(),
        }),
        PinnedLaunch::Sse { url, .. } => Ok(LaunchSpec::Sse {
            url: url.clone(),
            headers: BTreeMap::new(),
        }),
    }
}

/// Why a server was not checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

impl CheckError {
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::Spec(e) => e.code(),
            CheckError::Capture(e) => e.code(),
        }
    }

    pub fn help(&self) -> String {
        match self {
            CheckError::Spec(e) => e.help(),
            CheckError::Capture(_) => {
                "check the command starts the server by hand; raise --timeout for slow starts"
                    .to_owned()
            }
        }
    }
}

/// One server's verdict.
#[derive(Debug)]
pub enum Outcome {
    /// The live surface is the pinned one.
    Same,
    /// It differs: what changed.
    Drift(SurfaceDiff),
    /// It could not be looked at.
    NotChecked(CheckError),
    /// What the lock recorded about its channel no longer holds (a package or MCP bundle
    /// other than the pinned one): not started, and a definite failure (exit 1).
    Refused(ChannelError),
}

/// A pinned channel record that no longer holds ([`channel_holds`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

/// What the lock recorded about the server's channel still holds, before it is started: the
/// pinned launch runs the recorded package and version, and a pinned MCP bundle is unchanged
/// on disk (the gate's own checks, docs/channels.md). `Ok(Err(_))` would be undecided; an
/// unreadable bundle is reported as a [`ChannelError`] too, since nothing may start without it.
pub fn channel_holds(name: &str, entry: &ServerEntry) -> Result<(), ChannelError> {
    if let Some(p) = &entry.package {
        if let Err(why) = crate::channels::image_is_package(p, entry.image.as_ref()) {
            return Err(ChannelError {
                code: "package-mismatch",
                message: format!("server {name:?}: {why}"),
                help: "the lock was edited by hand: restore it, or re-pin the server".to_owned(),
            });
        }
        let found = match &entry.launch {
            crate::lock::PinnedLaunch::Stdio { command, args, .. } => {
                crate::channels::launch_runs(p, command, args)
            }
            _ => crate::channels::launch_runs(p, "", &[]),
        };
        if let Err(found) = found {
            return Err(ChannelError {
                code: "package-mismatch",
                message: format!(
                    "server {name:?} records {} package {}@{}, but its pinned launch `{}` runs {}",
                    p.registry_type,
                    p.identifier,
                    p.version,
                    entry.launch.display(),
                    found.map_or_else(|| "no such package".to_owned(), |f| f.display())
                ),
                help: "the lock was edited by hand: restore it, or re-pin the server".to_owned(),
            });
        }
    }
    if let Some(b) = &entry.mcpb {
        let d = crate::digest::sha256_file(std::path::Path::new(&b.path)).map_err(|e| {
            ChannelError {
                code: "mcpb-unreadable",
                message: format!("server {name:?}: {e}"),
                help: format!(
                    "restore the bundle {}, or re-pin the server with --mcpb",
                    b.path
                ),
            }
        })?;
        if let (true, Some(f)) = (d == b.digest, &b.folder) {
            crate::mcpb::folder::check_recorded(
                std::path::Path::new(&f.path),
                &f.files_digest,
                &|| std::fs::read(&b.path).ok(),
            )
            .map_err(|e| ChannelError {
                code: e.code(),
                message: format!("server {name:?}: {e}"),
                help: format!(
                    "reinstall the bundle {} into {}, or re-pin with --mcpb-dir",
                    b.path, f.path
                ),
            })?;
        }
        if d != b.digest {
            return Err(ChannelError {
                code: "mcpb-mismatch",
                message: format!(
                    "the MCP bundle {} of server {name:?} digests to {d}, but {} is pinned",
                    b.path, b.digest
                ),
                help: format!(
                    "verify the new bundle (mcpseal verify {}), then re-pin it with --mcpb",
                    b.path
                ),
            });
        }
    }
    Ok(())
}

/// The capture options a pin asks for: its declared capabilities and protocol flow.
pub fn capture_options(entry: &ServerEntry, timeout: Duration) -> CaptureOptions {
    CaptureOptions {
        timeout,
        capabilities: entry.capabilities.clone(),
        discover: entry.protocol_version == mcp::capture::DISCOVER_VERSION,
        ..CaptureOptions::default()
    }
}

/// Checks each `(name, entry)`: at most `jobs` captures at once, each given `timeout`.
/// `done(index, outcome)` is called on the calling thread as each server is decided (one
/// whose spec cannot be built, at once); the outcomes come back in input order.
pub fn check_all(
    servers: &[(&str, &ServerEntry)],
    timeout: Duration,
    jobs: usize,
    roots: Option<&Roots>,
    env: Env<'_>,
    mut done: impl FnMut(usize, &Outcome),
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = (0..servers.len()).map(|_| None).collect();
    // Index in `servers` of each capture.
    let mut captured = Vec::new();
    let mut specs = Vec::new();
    for (i, (name, entry)) in servers.iter().enumerate() {
        if let Err(e) = channel_holds(name, entry) {
            let o = Outcome::Refused(e);
            done(i, &o);
            outcomes[i] = Some(o);
            continue;
        }
        match runtime_spec(name, entry, roots, env) {
            Ok(spec) => {
                captured.push(i);
                specs.push((spec, capture_options(entry, timeout)));
            }
            Err(e) => {
                let o = Outcome::NotChecked(e.into());
                done(i, &o);
                outcomes[i] = Some(o);
            }
        }
    }
    let verdict = |i: usize, r: &Result<mcp::Capture, CaptureError>| match r {
        Ok(cap) => {
            let d = diff::diff(&servers[i].1.to_surface(), &cap.surface);
            if d.is_empty() {
                Outcome::Same
            } else {
                Outcome::Drift(d)
            }
        }
        Err(e) => Outcome::NotChecked(CheckError::Capture(e.clone())),
    };
    mcp::capture_many(&specs, jobs, |j, r| {
        let i = captured[j];
        let o = verdict(i, r);
        done(i, &o);
        outcomes[i] = Some(o);
    });
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.unwrap_or_else(|| {
                Outcome::NotChecked(CheckError::Capture(CaptureError::Internal {
                    server: servers[i].0.to_owned(),
                }))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::Surface;
    use serde_json::json;

    fn pinned(launch: PinnedLaunch, origin: Option<Origin>) -> ServerEntry {
        let mut e = ServerEntry::from_surface(launch, json!({}), &Surface::default()).unwrap();
        e.origin = origin;
        e
    }

    fn stdio(env: &[&str]) -> PinnedLaunch {
        PinnedLaunch::Stdio {
            command: "node".into(),
            args: vec!["calc.js".into()],
            env: env.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn env_of(
        vars: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + Sync {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn env_values(spec: &LaunchSpec) -> BTreeMap<String, String> {
        match spec {
            LaunchSpec::Stdio { env, .. } => env.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn env_values_come_from_the_environment_and_a_missing_one_is_named() {
        let e = pinned(stdio(&["API_KEY"]), None);
        let env = env_of(&[("API_KEY", "sk-1"), ("OTHER", "x")]);
        let spec = runtime_spec("calc", &e, None, &env).unwrap();
        assert_eq!(
            env_values(&spec),
            BTreeMap::from([("API_KEY".into(), "sk-1".into())])
        );
        let err = runtime_spec("calc", &e, None, &env_of(&[])).unwrap_err();
        assert_eq!(err.code(), "env-unset");
        assert!(err.to_string().contains("\"calc\"") && err.to_string().contains("API_KEY"));
        assert!(err.help().contains("export API_KEY="), "{}", err.help());
    }

    /// The pin's origin config gives a value the environment lacks, expanded the way that
    /// client expands it; a config that no longer gives it is named in the error.
    #[test]
    fn a_missing_value_comes_from_the_config_the_server_was_pinned_from() {
        let t = tempfile::tempdir().unwrap();
        let config = t.path().join("claude_desktop_config.json");
        std::fs::write(
            &config,
            r#"{"mcpServers": {"calc": {"command": "node", "args": ["calc.js"], "env": {"API_KEY": "from-config"}}}}"#,
        )
        .unwrap();
        let roots = Roots {
            home: t.path().to_owned(),
            project: None,
            appdata: None,
            os: crate::clients::Os::current(),
        };
        let origin = |name: &str| Origin {
            client: "claude-desktop".into(),
            config: config.display().to_string(),
            name: name.into(),
        };
        let e = pinned(stdio(&["API_KEY"]), Some(origin("calc")));
        let spec = runtime_spec("calc", &e, Some(&roots), &env_of(&[])).unwrap();
        assert_eq!(env_values(&spec)["API_KEY"], "from-config");
        // The environment wins over the config.
        let spec = runtime_spec("calc", &e, Some(&roots), &env_of(&[("API_KEY", "env")])).unwrap();
        assert_eq!(env_values(&spec)["API_KEY"], "env");
        // The entry is gone from the config: the error names the config.
        let gone = pinned(stdio(&["API_KEY"]), Some(origin("renamed")));
        let err = runtime_spec("calc", &gone, Some(&roots), &env_of(&[])).unwrap_err();
        assert!(
            err.to_string().contains(&config.display().to_string()),
            "{err}"
        );
        assert!(err.help().contains("\"renamed\""), "{}", err.help());
        // Without roots (no home folder), no config is read.
        assert!(runtime_spec("calc", &e, None, &env_of(&[])).is_err());
    }

    #[test]
    fn http_pins_run_without_headers_and_pins_with_headers_cannot_be_checked() {
        let url = "https://mcp.example/mcp".to_owned();
        let e = pinned(
            PinnedLaunch::Http {
                url: url.clone(),
                headers: vec![],
            },
            None,
        );
        match runtime_spec("web", &e, None, &env_of(&[])).unwrap() {
            LaunchSpec::Http { url: u, headers } => {
                assert_eq!(u, url);
                assert!(headers.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let e = pinned(
            PinnedLaunch::Sse {
                url,
                headers: vec!["Authorization".into()],
            },
            None,
        );
        let err = runtime_spec("web", &e, None, &env_of(&[])).unwrap_err();
        assert_eq!(err.code(), "headers-needed");
        assert!(err.to_string().contains("Authorization"), "{err}");
        assert!(
            err.help().contains("mcpseal pin web --url"),
            "{}",
            err.help()
        );
    }

    /// Every server gets one outcome, in input order, and is reported once; one whose spec
    /// cannot be built is not started. (Live drift and matches: tests/pin_check.rs.)
    #[test]
    fn check_all_reports_each_server_once_in_input_order() {
        let unset = pinned(stdio(&["MCPSEAL_TEST_UNSET"]), None);
        let missing = pinned(
            PinnedLaunch::Stdio {
                command: "/nonexistent/mcpseal-check-test".into(),
                args: vec![],
                env: vec![],
            },
            None,
        );
        let servers = [("a", &unset), ("b", &missing), ("c", &unset)];
        let mut reported = Vec::new();
        let out = check_all(
            &servers,
            Duration::from_secs(5),
            2,
            None,
            &env_of(&[]),
            |i, o| {
                if let Outcome::NotChecked(e) = o {
                    reported.push((i, e.code()));
                }
            },
        );
        let codes: Vec<&str> = out
            .iter()
            .map(|o| match o {
                Outcome::NotChecked(e) => e.code(),
                _ => "checked",
            })
            .collect();
        assert_eq!(codes, ["env-unset", "spawn-failed", "env-unset"]);
        reported.sort();
        assert_eq!(
            reported,
            [(0, "env-unset"), (1, "spawn-failed"), (2, "env-unset")]
        );
    }
}
