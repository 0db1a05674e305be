//! `mcpseal scan`: find poisoning, shadowing, hidden text and unpinned launch specs.
//!
//! Flags are validated into a [`Request`] before any I/O. Inputs become
//! [`crate::scan::ScanInput`]s (a surface, a launch spec, or both, per server; gathered by
//! [`crate::scan::inputs`], with progress reported here), the engine in
//! [`crate::scan`] finds, suppressions apply, and the report is rendered here as human text,
//! JSON or SARIF 2.1.0 ([`sarif`]). Exit 0 when no unsuppressed finding reaches
//! `--fail-on`, 1 otherwise, 2 when an input could not be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{CliError, ClientArg, CmdResult, Exit, Global, SeverityArg};
use crate::scan::inputs::{Inputs, Stage};
use crate::scan::{self, DenyFindings, Report, ScanInput, Suppressions};
use crate::severity::Severity;

mod sarif;

/// Scan MCP servers for tool poisoning, shadowing, hidden text and unpinned launch specs.
///
/// Everything runs locally and deterministically: no description is sent anywhere. Pick the
/// servers with one source (a client config, a lockfile, surface files, or a command after
/// `--`). With `--lock`, surfaces come from the lockfile and nothing is started; combine it
/// with `--config`/`--client`/`--all` to also check those configs' launch specs.
///
/// Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 an input could not be
/// read. Codes, examples and fixes: docs/findings.md.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scan the servers of this MCP client config file (their launch specs, and their
    /// surfaces captured live unless --lock or --launch-only).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["client", "all"])]
    pub config: Option<PathBuf>,
    /// Scan the servers of one client's configs.
    #[arg(long, value_enum, value_name = "CLIENT", conflicts_with = "all")]
    pub client: Option<ClientArg>,
    /// Scan the servers of every client config found on this machine.
    #[arg(long)]
    pub all: bool,
    /// Read surfaces (and launch specs) from this lockfile; starts nothing.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Scan a surface JSON file ({"serverInfo", "instructions", "tools", "prompts",
    /// "resources", "resourceTemplates"}). `NAME=FILE` names the server; otherwise the file
    /// stem does. Repeatable.
    #[arg(long = "surface-file", value_name = "[NAME=]FILE")]
    pub surface_files: Vec<String>,
    /// With --config/--client/--all: check launch specs only, start no server.
    #[arg(long)]
    pub launch_only: bool,
    /// With --config/--client/--all: the home folder to look in (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// With --config/--client/--all: the project folder (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// With --client/--all: stop at a config file that cannot be read or parsed, instead of
    /// reporting it and scanning the other clients' servers (exit 2 either way).
    #[arg(long)]
    pub strict: bool,
    /// Name of the server started after `--` (default: the command's file name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Output: human, json (same as --json) or sarif (SARIF 2.1.0 for code scanning).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    pub format: FormatArg,
    /// Exit 1 when an unsuppressed finding reaches this severity: info, low, medium, high,
    /// critical.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: SeverityArg,
    /// Policy file (TOML) whose [[scan.suppress]] tables suppress findings.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// The trust policy (docs/policy.md): a server whose `[server.NAME] provenance` table
    /// requires provenance must launch one exact package version
    /// (`provenance-unpinned-launch`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Start this server (no shell) and scan its surface: `-- COMMAND ARGS…`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `--format`, as a flag value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// Where configs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Configs {
    File(PathBuf),
    Client(crate::clients::Client),
    All,
}

/// A validated `scan` request.
#[derive(Clone, Debug)]
pub struct Request {
    pub configs: Option<Configs>,
    pub lock: Option<PathBuf>,
    pub surface_files: Vec<(String, PathBuf)>,
    pub command: Option<(String, Vec<String>)>,
    pub launch_only: bool,
    pub strict: bool,
    /// Where to look for client configs (`--home`, `--project`).
    pub home: Option<PathBuf>,
    pub project: Option<PathBuf>,
    pub format: Format,
    pub fail_on: Severity,
    pub suppressions: Option<PathBuf>,
    pub policy: Option<PathBuf>,
}

impl Request {
    pub fn from_args(a: Args, g: &Global) -> Result<Request, CliError> {
        let format = match a.format {
            FormatArg::Human if g.json => Format::Json,
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
        };
        let fail_on = Severity::from(a.fail_on);
        let configs = match (a.config, a.client, a.all) {
            (Some(f), _, _) => Some(Configs::File(f)),
            (_, Some(c), _) => Some(Configs::Client(c.0)),
            (_, _, true) => Some(Configs::All),
            _ => None,
        };
        let mut surface_files = Vec::new();
        for s in a.surface_files {
            let (name, path) = match s.split_once('=') {
                Some((n, p)) if !n.is_empty() && !n.contains(['/', '\\']) => {
                    (n.to_owned(), PathBuf::from(p))
                }
                _ => {
                    let p = PathBuf::from(&s);
                    let stem = p
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("surface")
                        .to_owned();
                    (stem, p)
                }
            };
            if surface_files
                .iter()
                .any(|(n, _): &(String, PathBuf)| *n == name)
            {
                return Err(CliError::error(
                    "usage",
                    format!("two --surface-file inputs are both named {name:?}"),
                )
                .help("name them: --surface-file NAME=FILE"));
            }
            surface_files.push((name, path));
        }
        let command = match a.command.split_first() {
            Some((cmd, _)) => {
                let name = a.name.unwrap_or_else(|| {
                    Path::new(cmd)
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or(cmd)
                        .to_owned()
                });
                Some((name, a.command.clone()))
            }
            None => None,
        };
        if configs.is_none() && a.lock.is_none() && surface_files.is_empty() && command.is_none() {
            return Err(CliError::error("usage", "nothing to scan")
                .help("mcpseal scan --lock mcpseal.lock | --config FILE | --all | --surface-file FILE | -- COMMAND ARGS…"));
        }
        if a.launch_only && configs.is_none() {
            return Err(CliError::error(
                "usage",
                "--launch-only needs --config, --client or --all",
            ));
        }
        Ok(Request {
            configs,
            lock: a.lock,
            surface_files,
            command,
            launch_only: a.launch_only,
            strict: a.strict,
            home: a.home,
            project: a.project,
            format,
            fail_on,
            suppressions: a.suppressions,
            policy: a.policy,
        })
    }
}

/// Where a server came from, for SARIF locations and messages.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    /// Server name → the file that defines it (lockfile, config, surface file).
    pub files: BTreeMap<String, PathBuf>,
    pub suppressions: Option<PathBuf>,
    /// Servers of client configs whose surface could not be captured (a value the client
    /// would pass is unset, the server did not start): (server, reason code, message). Their
    /// launch specs are still scanned.
    pub not_captured: Vec<(String, String, String)>,
    /// Findings on what the lockfile recorded beyond surfaces and launches (an MCP bundle's
    /// declared tools: [`scan::pinned_findings`]).
    pub pinned: Vec<scan::Finding>,
}

pub fn run(args: Args, g: &Global) -> CmdResult {
    // `--format json` asks for JSON on failure too, as `--json` does.
    let json_errors = g.json || args.format == FormatArg::Json;
    match run_inner(args, g) {
        Err(e) if json_errors && !g.json => {
            super::render_error(&e, &Global { json: true });
            Ok(e.exit)
        }
        r => r,
    }
}

fn run_inner(args: Args, g: &Global) -> CmdResult {
    let req = Request::from_args(args, g)?;
    // The rules' patterns compile on a thread of their own while the inputs are read (a
    // lockfile's parse leaves a core idle part of the time); the scan waits for what is left.
    std::thread::spawn(scan::warm);
    let suppressions = match &req.suppressions {
        Some(p) => {
            let text = read_text(p)?;
            Suppressions::parse(&text).map_err(|e| {
                CliError::error(e.code(), format!("{}: {e}", p.display()))
                    .help("see docs/findings.md#suppressions for the [[scan.suppress]] format")
            })?
        }
        None => Suppressions::default(),
    };
    let policy = match &req.policy {
        Some(p) => Some(crate::policy::Policy::load(p).map_err(|e| {
            CliError::error(e.code(), e.to_string()).help("fix the policy file (docs/policy.md)")
        })?),
        None => None,
    };
    let (inputs, mut origins) = load_inputs(&req)?;
    origins.suppressions = req.suppressions.clone();
    let mut findings = scan::scan(&inputs);
    findings.append(&mut origins.pinned);
    if let Some(policy) = &policy {
        for i in &inputs {
            let wants = policy
                .servers
                .get(&i.name)
                .is_some_and(|r| r.provenance.is_some());
            if let (true, Some(spec)) = (wants, &i.launch) {
                findings.extend(scan::channels::provenance_unpinned(&i.name, spec));
            }
        }
    }
    let findings = scan::sorted(findings);
    let servers = inputs.len();
    let report = suppressions.apply(findings);
    // The process ends right after the report: freeing thousands of entity trees would only
    // add time (about a tenth of a 100-server scan).
    std::mem::forget(inputs);
    let failing = report.failing(req.fail_on).count();
    let missing = &origins.not_captured;
    match req.format {
        Format::Human => {
            let mut text = human(&report, req.fail_on, servers);
            for (name, code, message) in missing {
                text.push_str(&format!("\nNOT captured {name} [{code}]: {message}"));
            }
            super::emit(&text)
        }
        Format::Json => super::emit(&json_report(&report, req.fail_on, servers, missing)),
        Format::Sarif => super::emit_json(&sarif::log(&report, &origins)),
    }
    // The same policy as pin and check: not trustworthy (1) wins; else a server that could
    // not be looked at leaves the scan undecided (2).
    Ok(if failing > 0 {
        Exit::Fail
    } else if !missing.is_empty() {
        Exit::Error
    } else {
        Exit::Ok
    })
}

fn read_text(p: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(p).map_err(|e| super::io_error(p, "the policy file", e))
}

fn load_inputs(req: &Request) -> Result<(Vec<ScanInput>, Origins), CliError> {
    let mut inputs = Inputs::default();
    if let Some(path) = &req.lock {
        let lockfile = crate::lock::Store::load(path).map_err(super::lock_error)?;
        inputs.add_lock(path, lockfile);
    }
    if let Some(c) = &req.configs {
        use crate::clients::{self, Selection};
        let sel = match c {
            Configs::File(p) => Selection::Config(p.clone(), None),
            Configs::Client(c) => Selection::Client(*c),
            Configs::All => Selection::All,
        };
        let roots = super::clients::roots(req.home.clone(), req.project.clone())?;
        let files = clients::select(&roots, &sel);
        if files.is_empty() {
            return Err(CliError::error(
                "no-config",
                "no MCP client config found for that selection",
            )
            .help("run `mcpseal clients` to see what was found, or pass --config FILE"));
        }
        // Among discovered configs one broken file (another client's) is reported and
        // skipped: its servers count as not captured and the scan exits 2.
        let skip_broken = !matches!(c, Configs::File(_)) && !req.strict;
        let before = inputs.not_captured.len();
        let to_capture = inputs
            .add_configs(&roots, &files, skip_broken, req.launch_only, &|k| {
                std::env::var(k).ok()
            })
            .map_err(super::clients::clients_error)?;
        for n in &inputs.not_captured[before..] {
            super::progress(&match n.stage {
                Stage::ConfigSkipped => format!("scan: skipped [{}]: {}", n.code, n.message),
                _ => format!(
                    "scan: {} not captured [{}]: {}",
                    n.server, n.code, n.message
                ),
            });
        }
        // Captures run concurrently, each with its client's capabilities, reported as each
        // finishes.
        let mut progress = super::progress::Progress::start(
            "scan",
            to_capture.iter().map(|c| c.name.clone()).collect(),
        );
        inputs.capture(&to_capture, 8, |i, r| {
            let state = match r {
                Ok(cap) => format!("captured ({} entities)", cap.surface.len()),
                Err(e) => format!("not captured [{}]", e.code()),
            };
            progress.finished(i, &to_capture[i].name, &state);
        });
        drop(progress);
    }
    inputs
        .add_surface_files(&req.surface_files)
        .map_err(|e| CliError::error(e.code(), e.to_string()))?;
    if let Some((name, argv)) = &req.command {
        inputs.add_command(name, argv).map_err(|e| {
            CliError::error(e.code(), format!("{name}: {e}"))
                .help("check the server starts on its own: run the command directly")
        })?;
    }
    let pinned = std::mem::take(&mut inputs.pinned);
    let (servers, files, not_captured) = inputs.finish();
    let origins = Origins {
        files,
        pinned,
        suppressions: None,
        not_captured: not_captured
            .into_iter()
            .map(|n| (n.server, n.code.to_owned(), n.message))
            .collect(),
    };
    Ok((servers, origins))
}

/// Findings at or above `min`, one line each (`Finding`'s `Display`), for commands that scan
/// on the side: `pin` reports what it pins, `run --deny-findings` names what it refused.
pub fn brief(findings: &[scan::Finding], min: Severity) -> String {
    findings
        .iter()
        .filter(|f| f.severity >= min)
        .map(|f| format!("{f}\n"))
        .collect()
}

/// What `pin` prints after pinning: findings at medium and above, one line each, and a count
/// of the rest with the command that shows them. `None` when there is nothing to say.
pub fn pin_summary(findings: &[scan::Finding], lock_path: &str) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let shown = brief(findings, Severity::Medium);
    let rest = findings
        .iter()
        .filter(|f| f.severity < Severity::Medium)
        .count();
    let mut s = String::new();
    for line in shown.lines() {
        s.push_str("  finding: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!(
        "{} scan finding{}{}; review: mcpseal scan --lock {lock_path}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        if rest > 0 {
            format!(" ({rest} below medium not shown)")
        } else {
            String::new()
        }
    ));
    Some(s)
}

/// Validates `run`'s scan flags (usage and policy errors exit 2 before the gate starts).
pub fn deny_request(
    severity: Option<SeverityArg>,
    suppressions: Option<&Path>,
) -> Result<Option<DenyFindings>, CliError> {
    let Some(sev) = severity else { return Ok(None) };
    let threshold = Severity::from(sev);
    let suppressions = match suppressions {
        Some(p) => Suppressions::parse(&read_text(p)?)
            .map_err(|e| CliError::error(e.code(), format!("{}: {e}", p.display())))?,
        None => Suppressions::default(),
    };
    Ok(Some(DenyFindings::new(threshold, suppressions)))
}

fn counts(report: &Report) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for r in &report.findings {
        if r.suppressed.is_none() {
            *m.entry(r.finding.severity).or_insert(0) += 1;
        }
    }
    m
}

/// The JSON report. Fields in alphabetical order: serialized directly, keys come out sorted
/// as `emit_json` would print them, without an intermediate `Value` (thousands of findings).
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(rename = "bySeverity")]
    by_severity: BTreeMap<&'static str, usize>,
    exit: u8,
    failing: usize,
    findings: &'a [crate::scan::suppress::Reported],
    #[serde(rename = "notCaptured", skip_serializing_if = "Vec::is_empty")]
    not_captured: Vec<serde_json::Value>,
    ok: bool,
    reason: Option<&'static str>,
    servers: usize,
    suppressed: usize,
    threshold: &'static str,
}

fn json_report(
    report: &Report,
    threshold: Severity,
    servers: usize,
    missing: &[(String, String, String)],
) -> String {
    let failing = report.failing(threshold).count();
    let r = JsonReport {
        not_captured: missing
            .iter()
            .map(|(s, c, m)| serde_json::json!({"server": s, "reason": c, "message": m}))
            .collect(),
        by_severity: counts(report)
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect(),
        exit: if failing > 0 {
            1
        } else if missing.is_empty() {
            0
        } else {
            2
        },
        failing,
        findings: &report.findings,
        ok: failing == 0 && missing.is_empty(),
        reason: if failing > 0 {
            Some("findings-at-threshold")
        } else if !missing.is_empty() {
            Some("some-servers-not-captured")
        } else {
            None
        },
        servers,
        suppressed: report
            .findings
            .iter()
            .filter(|r| r.suppressed.is_some())
            .count(),
        threshold: threshold.as_str(),
    };
    let mut s = serde_json::to_string_pretty(&r).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

fn human(report: &Report, threshold: Severity, servers: usize) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for r in &report.findings {
        let f = &r.finding;
        let mut place = format!("{} › {}", f.server, f.kind.noun());
        if let Some(e) = &f.entity {
            let _ = write!(place, " {}", printable(e));
        }
        if !f.pointer.is_empty() {
            let _ = write!(place, " › {}", printable(&f.pointer));
        }
        if let Some(o) = f.offset {
            let _ = write!(place, " @{o}");
        }
        let sev = f.severity.as_str().to_uppercase();
        let _ = writeln!(s, "{sev:<8} {:<22} {place}", f.code.as_str());
        let _ = writeln!(s, "         {}", printable(&f.reason));
        if let Some(why) = &r.suppressed {
            let _ = writeln!(s, "         suppressed: {}", printable(why));
        }
    }
    let c = counts(report);
    let total: usize = c.values().sum();
    let parts: Vec<String> = c
        .iter()
        .rev()
        .map(|(sev, n)| format!("{n} {sev}"))
        .collect();
    let suppressed = report
        .findings
        .iter()
        .filter(|r| r.suppressed.is_some())
        .count();
    let failing = report.failing(threshold).count();
    let _ = write!(
        s,
        "{total} finding{} in {servers} server{}{}{}; ",
        if total == 1 { "" } else { "s" },
        if servers == 1 { "" } else { "s" },
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        },
        if suppressed > 0 {
            format!(", {suppressed} suppressed")
        } else {
            String::new()
        }
    );
    if failing == 0 {
        let _ = write!(s, "none at or above {threshold}");
    } else {
        let _ = write!(s, "{failing} at or above {threshold}: not trustworthy");
    }
    s
}

use crate::scan::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\u{1b}[2Jb\u{202e}"), "a\\u{1b}[2Jb\\u{202e}");
    }
}
