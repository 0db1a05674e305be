//! What `mcpseal scan` looks at, gathered: servers from a lockfile (surfaces and launch specs,
//! nothing started), from client configs (launch specs as written, surfaces captured live),
//! from surface files, and a command started on its own. The one part of [`crate::scan`] that
//! reads files and starts servers; the engine ([`crate::scan::scan`]) does no I/O, and the CLI
//! only reports progress and renders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ScanInput;
use crate::clients::{self, Client, ConfigFile, Roots};
use crate::json::JsonError;
use crate::lock::{Lockfile, PinnedLaunch};
use crate::mcp::{self, Capture, CaptureError, CaptureOptions, LaunchSpec};
use crate::surface::{Surface, SurfaceError};

/// A surface file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SurfaceFileError {
    #[error("{}: cannot read a surface file: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Json { path: PathBuf, source: JsonError },
    #[error("{}: a surface file is a JSON object", path.display())]
    NotObject { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Surface { path: PathBuf, source: SurfaceError },
}

impl SurfaceFileError {
    pub fn code(&self) -> &'static str {
        match self {
            SurfaceFileError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                "not-found"
            }
            SurfaceFileError::Io { .. } => "io-error",
            SurfaceFileError::Json { source, .. } => source.code(),
            SurfaceFileError::NotObject { .. } => "surface-not-object",
            SurfaceFileError::Surface { source, .. } => source.code(),
        }
    }
}

/// Reads one surface JSON file (`{"serverInfo", "instructions", "tools", …}`), strictly:
/// duplicate keys are refused.
pub fn read_surface_file(p: &Path) -> Result<Surface, SurfaceFileError> {
    let bytes = std::fs::read(p).map_err(|source| SurfaceFileError::Io {
        path: p.to_owned(),
        source,
    })?;
    let v = crate::json::parse_strict(&bytes).map_err(|source| SurfaceFileError::Json {
        path: p.to_owned(),
        source,
    })?;
    if !v.is_object() {
        return Err(SurfaceFileError::NotObject { path: p.to_owned() });
    }
    super::surface_from_json(v).map_err(|source| SurfaceFileError::Surface {
        path: p.to_owned(),
        source,
    })
}

/// A pinned launch as a runtime spec for the launch rules. The lockfile keeps env and header
/// *names* only, so the values are empty: launch rules see the command, never a secret.
pub fn launch_from_pin(p: &PinnedLaunch) -> LaunchSpec {
    p.to_spec()
}

/// A server (or a config file) whose surface was not captured. Its launch spec, if any, is
/// still scanned; the scan exits 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotCaptured {
    /// The server's name, or `(PATH)` for a config file that could not be read.
    pub server: String,
    pub code: &'static str,
    pub message: String,
    /// Why: a config file skipped whole, or one server that could not be started.
    pub stage: Stage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A discovered config file that cannot be read or parsed (another client's, say).
    ConfigSkipped,
    /// The values a client would pass are missing (an unset variable, say).
    Unresolved,
    /// The server did not start or answer.
    Capture,
}

/// One live capture a config asks for: the server as its client would start it (values
/// expanded), declaring that client's capabilities.
#[derive(Clone, Debug)]
pub struct ToCapture {
    pub name: String,
    pub client: Client,
    pub spec: LaunchSpec,
}

/// The servers gathered so far, by name: a later source adds to (or replaces parts of) an
/// earlier one's entry for the same name.
#[derive(Debug, Default)]
pub struct Inputs {
    inputs: BTreeMap<String, ScanInput>,
    /// Server name → the file that defines it (lockfile, config, surface file).
    pub files: BTreeMap<String, PathBuf>,
    pub not_captured: Vec<NotCaptured>,
    /// Findings on what the lockfile recorded beyond surfaces and launches (an MCP bundle's
    /// declared tools: [`super::pinned_findings`]).
    pub pinned: Vec<super::Finding>,
}

impl Inputs {
    fn entry(&mut self, name: &str) -> &mut ScanInput {
        self.inputs
            .entry(name.to_owned())
            .or_insert_with(|| ScanInput {
                name: name.to_owned(),
                ..ScanInput::default()
            })
    }

    /// Every pinned server: its pinned surface and launch spec. Starts nothing.
    pub fn add_lock(&mut self, path: &Path, lock: Lockfile) {
        for (name, entry) in lock.servers {
            self.pinned.extend(super::pinned_findings(&name, &entry));
            self.files.insert(name.clone(), path.to_owned());
            let launch = launch_from_pin(entry.launch());
            let i = self.entry(&name);
            i.launch = Some(launch);
            i.surface = Some(entry.into_surface());
        }
    }

    /// The servers of `files`: launch specs as written (references such as `${VAR}` stay
    /// references, so a secret written into the file is seen, a reference is never mistaken
    /// for one, and no variable needs a value). Unless `launch_only`, returns the captures
    /// to run (the expanded spec, values from `env`); a server whose values are missing is
    /// recorded in [`Inputs::not_captured`]. A wrapped entry is judged and captured as the
    /// server it gates, never as the gate. With `skip_broken`, a config file that cannot be
    /// read is recorded and skipped; otherwise its error is returned.
    pub fn add_configs(
        &mut self,
        roots: &Roots,
        files: &[ConfigFile],
        skip_broken: bool,
        launch_only: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<ToCapture>, clients::ClientsError> {
        let mut to_capture = Vec::new();
        for cf in files {
            let ctx = roots.context(cf);
            let servers = match clients::load(cf) {
                Ok(s) => s,
                Err(e) if skip_broken => {
                    self.not_captured.push(NotCaptured {
                        server: format!("({})", cf.path.display()),
                        code: e.code(),
                        message: e.to_string(),
                        stage: Stage::ConfigSkipped,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            for s in servers {
                if !launch_only && !s.disabled {
                    // Used for the capture only, never reported.
                    match s.launch_spec(&ctx, env) {
                        Ok(live) => to_capture.push(ToCapture {
                            name: s.name.clone(),
                            client: cf.client,
                            spec: clients::gated_server(live),
                        }),
                        Err(e) => self.not_captured.push(NotCaptured {
                            server: s.name.clone(),
                            code: e.code(),
                            message: e.to_string(),
                            stage: Stage::Unresolved,
                        }),
                    }
                }
                self.entry(&s.name).launch =
                    Some(clients::gated_server(s.launch_spec_as_written()));
                self.files.insert(s.name.clone(), cf.path.clone());
            }
        }
        Ok(to_capture)
    }

    /// Runs the captures `add_configs` asked for, at most `jobs` at once, each declaring its
    /// client's capabilities; `done` as each finishes (for progress). A server that cannot be
    /// captured is recorded in [`Inputs::not_captured`] and the others go on.
    pub fn capture(
        &mut self,
        to_capture: &[ToCapture],
        jobs: usize,
        done: impl FnMut(usize, &Result<Capture, CaptureError>),
    ) {
        let specs: Vec<(LaunchSpec, CaptureOptions)> = to_capture
            .iter()
            .map(|c| {
                let opts = CaptureOptions {
                    capabilities: c.client.capture_capabilities(),
                    ..CaptureOptions::default()
                };
                (c.spec.clone(), opts)
            })
            .collect();
        let results = mcp::capture_many(&specs, jobs, done);
        for (c, r) in to_capture.iter().zip(results) {
            match r {
                Ok(cap) => {
                    if let Some(i) = self.inputs.get_mut(&c.name) {
                        i.surface = Some(cap.surface);
                    }
                }
                Err(e) => self.not_captured.push(NotCaptured {
                    server: c.name.clone(),
                    code: e.code(),
                    message: format!("{}: {e}", c.name),
                    stage: Stage::Capture,
                }),
            }
        }
    }

    /// Surface files, each under its name; read and parsed in parallel, the first failure in
    /// the order given returned.
    pub fn add_surface_files(
        &mut self,
        files: &[(String, PathBuf)],
    ) -> Result<(), SurfaceFileError> {
        let surfaces: Vec<Result<Surface, SurfaceFileError>> = {
            use rayon::prelude::*;
            files
                .par_iter()
                .map(|(_, path)| read_surface_file(path))
                .collect()
        };
        for ((name, path), surface) in files.iter().zip(surfaces) {
            self.entry(name).surface = Some(surface?);
            self.files.insert(name.clone(), path.clone());
        }
        Ok(())
    }

    /// Starts `argv` (no shell, empty environment additions) and captures it as `name`.
    pub fn add_command(&mut self, name: &str, argv: &[String]) -> Result<(), CaptureError> {
        let (command, args) = argv
            .split_first()
            .map_or((String::new(), vec![]), |(c, a)| (c.clone(), a.to_vec()));
        let spec = LaunchSpec::Stdio {
            command,
            args,
            env: BTreeMap::new(),
            cwd: None,
        };
        let surface = mcp::capture(&spec, &CaptureOptions::default())?.surface;
        let i = self.entry(name);
        i.surface = Some(surface);
        i.launch = Some(spec);
        Ok(())
    }

    /// The servers, in name order, and where each came from.
    pub fn finish(self) -> (Vec<ScanInput>, BTreeMap<String, PathBuf>, Vec<NotCaptured>) {
        (
            self.inputs.into_values().collect(),
            self.files,
            self.not_captured,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::ServerEntry;
    use serde_json::json;

    fn surface_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn surface_files_are_read_strictly_and_errors_name_the_file() {
        let t = tempfile::tempdir().unwrap();
        let ok = surface_file(
            t.path(),
            "ok.json",
            r#"{"tools": [{"name": "add", "inputSchema": {"type": "object"}}]}"#,
        );
        assert_eq!(read_surface_file(&ok).unwrap().len(), 1);
        for (name, text, code) in [
            (
                "dup.json",
                r#"{"tools": [], "tools": []}"#,
                "json-duplicate-key",
            ),
            ("array.json", "[]", "surface-not-object"),
            ("nameless.json", r#"{"tools": [{"description": "a"}]}"#, ""),
        ] {
            let p = surface_file(t.path(), name, text);
            let e = read_surface_file(&p).unwrap_err();
            if !code.is_empty() {
                assert_eq!(e.code(), code, "{name}: {e}");
            }
            assert!(e.to_string().contains(name), "{e}");
        }
        let e = read_surface_file(&t.path().join("missing.json")).unwrap_err();
        assert_eq!(e.code(), "not-found");
    }

    #[test]
    fn a_lock_gives_surfaces_and_value_free_launch_specs_and_later_sources_add_to_them() {
        let mut s = Surface::default();
        s.entities.insert(
            crate::surface::EntityKind::Tools,
            crate::surface::keyed(
                crate::surface::EntityKind::Tools,
                vec![json!({"name": "add"})],
            )
            .unwrap(),
        );
        let launch = PinnedLaunch::Stdio {
            command: "node".into(),
            args: vec!["calc.js".into()],
            env: vec!["API_KEY".into()],
        };
        let mut lock = Lockfile::new();
        lock.servers.insert(
            "calc".into(),
            ServerEntry::from_surface(launch, json!({}), &s).unwrap(),
        );
        let mut inputs = Inputs::default();
        inputs.add_lock(Path::new("/l/mcpseal.lock"), lock);
        let t = tempfile::tempdir().unwrap();
        let f = surface_file(t.path(), "calc.json", r#"{"tools": []}"#);
        inputs
            .add_surface_files(&[("other".into(), f.clone())])
            .unwrap();
        let (servers, files, missing) = inputs.finish();
        assert!(missing.is_empty());
        assert_eq!(
            servers.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
            ["calc", "other"]
        );
        match &servers[0].launch {
            Some(LaunchSpec::Stdio { command, env, .. }) => {
                assert_eq!(command, "node");
                assert_eq!(env.get("API_KEY").map(String::as_str), Some(""));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(servers[0].surface.as_ref().unwrap().len(), 1);
        assert!(servers[1].launch.is_none());
        assert_eq!(files["calc"], Path::new("/l/mcpseal.lock"));
        assert_eq!(files["other"], f);
    }
}
