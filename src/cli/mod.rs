//! The command line: clap definitions, validation into requests, rendering (human / JSON).
//!
//! This is the only module that touches the terminal. Each subcommand lives in its own file
//! with an `Args` struct (raw flags) and a `run(args, &Global) -> CmdResult`. Errors that stop
//! a command before it can decide anything are [`CliError`]s (exit 2 unless stated); verdicts
//! are [`Exit::Ok`] / [`Exit::Fail`] after the command printed its report.

use std::io::Write;

use clap::{Parser, Subcommand};

pub mod authz;
pub mod check;
pub mod clients;
#[cfg(feature = "demo")]
pub mod demo;
pub mod digest;
#[cfg(feature = "demo")]
pub mod fixture;
pub mod key;
pub mod lock_oci;
pub mod oci;
pub mod pin;
pub mod pin_channels;
pub mod pin_configs;
mod progress;
pub mod render_diff;
pub mod run;
pub mod scan;
pub mod sign;
pub mod sign_mcpb;
pub mod surface;
pub mod verify;
pub mod verify_registry;
pub mod verify_surface;
pub mod wrap;

/// Sign MCP server releases, pin their tool surfaces, and gate their launch.
///
/// Exit codes: 0 verified / allowed / no drift; 1 a verification, policy or drift failure;
/// 2 a usage, input or I/O error (nothing could be decided). See docs/exit-codes.md.
#[derive(Debug, Parser)]
#[command(
    name = "mcpseal",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (with a stable `reason` code on failure).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through signing, verifying, pinning and gating in a temporary folder.
    #[cfg(feature = "demo")]
    Demo(demo::Args),
    /// Generate Ed25519 signing keys and print key ids.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Print SHA-256 digests of files and directory trees (and npm integrity for .tgz).
    Digest(digest::Args),
    /// Sign artifacts and tool surfaces (Sigstore bundle), or a .mcpb (X.509).
    Sign(sign::Args),
    /// Verify artifacts: Sigstore bundles, minisign / signify, MCP bundles (.mcpb).
    Verify(verify::Args),
    /// Check an MCP Registry server.json and package files against it.
    VerifyRegistry(verify_registry::Args),
    /// Publish a signed lock and policy to a registry, or pull and install one (fleets).
    #[command(subcommand)]
    Lock(lock_oci::LockCommand),
    /// Capture a server's tool surface and print it with its digests.
    Surface(surface::Args),
    /// Pin servers' tool surfaces into mcpseal.lock.
    Pin(pin::Args),
    /// Re-capture pinned servers and report any drift from mcpseal.lock.
    Check(check::Args),
    /// List the MCP client configs found on this machine and their servers.
    Clients(clients::Args),
    /// Gate a server: verify before launch, then enforce its pins on the stdio pipe.
    Run(run::Args),
    /// Decide a call offline as the gate would ([authz]), or print a policy's Cedar.
    #[command(subcommand)]
    Authz(authz::AuthzCommand),
    /// Rewrite client configs so every server launches through `mcpseal run`.
    Wrap(wrap::Args),
    /// Undo `mcpseal wrap`: restore the original server entries.
    Unwrap(wrap::UnwrapArgs),
    /// Find poisoning, shadowing, hidden text and unpinned launch specs.
    Scan(scan::Args),
    /// Check a running server's surface against the surface signed in a release bundle.
    VerifySurface(verify_surface::Args),
    /// A scriptable MCP server for tests and the demo (rug pulls on demand).
    #[command(hide = true)]
    #[cfg(feature = "demo")]
    FixtureServer(fixture::Args),
}

/// Flags every subcommand sees.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    pub json: bool,
}

/// A process outcome. The numbers are the exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Verified, allowed, no drift.
    Ok = 0,
    /// Not trustworthy: verification, policy or drift failure.
    Fail = 1,
    /// Nothing could be decided: usage, input or I/O error.
    Error = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// A command stopped with a reason. `code` is a stable kebab-case reason (docs/exit-codes.md).
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub code: String,
    pub message: String,
    pub help: Option<String>,
}

impl CliError {
    /// Exit 2: input, usage or I/O error.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Error,
            code: code.into(),
            message: message.into(),
            help: None,
        }
    }
    /// Exit 1: the thing checked is not trustworthy.
    pub fn fail(code: impl Into<String>, message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::Fail,
            code: code.into(),
            message: message.into(),
            help: None,
        }
    }
    /// Attach the next command the user should run.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

pub type CmdResult = Result<Exit, CliError>;

/// `--lock`, or the per-user lock for host-wide commands, or `mcpseal.lock` here.
pub(crate) fn resolve_lock(
    given: Option<&std::path::PathBuf>,
    host_wide: bool,
) -> Result<std::path::PathBuf, CliError> {
    match given {
        Some(p) => Ok(p.clone()),
        None if host_wide => crate::lock::user_lock_path().ok_or_else(|| {
            CliError::error(
                "no-home",
                "cannot tell where the per-user lock lives (no home folder)",
            )
            .help("pass --lock FILE")
        }),
        None => Ok(std::path::PathBuf::from(crate::lock::DEFAULT_PATH)),
    }
}

pub(crate) fn lock_error(e: crate::lock::LockError) -> CliError {
    let help = match e.code() {
        "lock-missing" => "pin a server first: mcpseal pin NAME -- CMD ARGS…",
        "lock-tampered" => {
            "restore the file from version control, or re-pin the server: mcpseal pin NAME -- CMD ARGS…"
        }
        "io-error" => "check --lock names a lockfile (a file, not a folder) you can read and write",
        _ => "check the lockfile path; `git diff mcpseal.lock` shows what changed",
    };
    CliError::error(e.code(), e.to_string()).help(help)
}

/// A server name is a key in files and configs: printable, no control characters.
pub(crate) fn check_name(name: &str) -> Result<(), CliError> {
    crate::lock::check_server_name(name).map_err(|why| {
        CliError::error("bad-server-name", format!("{name:?}: {why}"))
            .help("pick another name for the server (the lockfile's key and `run --name`)")
    })
}

/// A finding severity, as a flag value.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for crate::severity::Severity {
    fn from(s: SeverityArg) -> crate::severity::Severity {
        match s {
            SeverityArg::Info => crate::severity::Severity::Info,
            SeverityArg::Low => crate::severity::Severity::Low,
            SeverityArg::Medium => crate::severity::Severity::Medium,
            SeverityArg::High => crate::severity::Severity::High,
            SeverityArg::Critical => crate::severity::Severity::Critical,
        }
    }
}

/// A client id as a flag value (`--client`, `--as`): clap lists and checks the ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientArg(pub crate::clients::Client);

impl clap::ValueEnum for ClientArg {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [ClientArg; crate::clients::Client::ALL.len()] = {
            let mut out =
                [ClientArg(crate::clients::Client::ALL[0]); crate::clients::Client::ALL.len()];
            let mut i = 0;
            while i < out.len() {
                out[i] = ClientArg(crate::clients::Client::ALL[i]);
                i += 1;
            }
            out
        };
        &ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.id()))
    }
}

/// A progress line for a bulk command, on stderr (stdout stays the report, `--json` or not).
pub(crate) fn progress(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs a parsed command line and renders any error.
pub fn run(cli: Cli) -> Exit {
    let g = Global { json: cli.json };
    let result = match cli.command {
        #[cfg(feature = "demo")]
        Command::Demo(a) => demo::run(a, &g),
        Command::Key(a) => key::run(a, &g),
        Command::Digest(a) => digest::run(a, &g),
        Command::Sign(a) => sign::run(a, &g),
        Command::Verify(a) => verify::run(a, &g),
        Command::VerifyRegistry(a) => verify_registry::run(a, &g),
        Command::Lock(a) => lock_oci::run(a, &g),
        Command::Surface(a) => surface::run(a, &g),
        Command::Pin(a) if a.is_bulk() => pin_configs::run(a, &g),
        Command::Pin(a) => pin::run(a, &g),
        Command::Check(a) => check::run(a, &g),
        Command::Clients(a) => clients::run(a, &g),
        Command::Run(a) => run::run(a, &g),
        Command::Authz(a) => authz::run(a, &g),
        Command::Wrap(a) => wrap::run(a, &g),
        Command::Unwrap(a) => wrap::run_unwrap(a, &g),
        Command::Scan(a) => scan::run(a, &g),
        Command::VerifySurface(a) => verify_surface::run(a, &g),
        #[cfg(feature = "demo")]
        Command::FixtureServer(a) => fixture::run(a, &g),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            render_error(&e, &g);
            e.exit
        }
    }
}

/// Human form on stderr (`error[code]: message` and `help: …`), or a JSON object on stdout.
pub fn render_error(e: &CliError, g: &Global) {
    if g.json {
        emit_json(&serde_json::json!({
            "ok": false,
            "exit": e.exit as u8,
            "reason": e.code,
            "message": e.message,
            "help": e.help,
        }));
    } else {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error[{}]: {}", e.code, e.message);
        if let Some(h) = &e.help {
            let _ = writeln!(err, "  help: {h}");
        }
    }
}

/// Parses the command line. A usage error is clap's own message, exit 2 — and with `--json`
/// (or `--format json`) anywhere on the line, the same JSON error object every other failure
/// gives (`reason` `usage`), so a script reading stdout is never handed plain text.
pub fn parse_args() -> Result<Cli, Exit> {
    use clap::Parser;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => Ok(cli),
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return Err(Exit::Ok);
            }
            let json = args.iter().any(|a| a == "--json")
                || args
                    .windows(2)
                    .any(|w| w[0] == "--format" && w[1] == "json")
                || args.iter().any(|a| a == "--format=json");
            if json {
                let message = e.render().to_string();
                let first = message
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                render_error(
                    &CliError::error("usage", first.to_owned()).help("run the command with --help"),
                    &Global { json: true },
                );
            } else {
                let _ = e.print();
            }
            Err(Exit::Error)
        }
    }
}

/// Writes a report line (or lines) to stdout. A closed pipe (`mcpseal … | head`) ends the
/// process quietly with exit 0, as ripgrep does.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let r = out.write_all(text.as_bytes()).and_then(|()| {
        if text.ends_with('\n') {
            Ok(())
        } else {
            out.write_all(b"\n")
        }
    });
    if let Err(e) = r.and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Pretty JSON (sorted keys, two-space indent) on stdout.
pub fn emit_json(v: &serde_json::Value) {
    emit(&crate::json::to_pretty_sorted(v));
}

/// Reads a whole input file of at most `max` bytes, with errors that name the file.
pub(crate) fn read_input(
    path: &std::path::Path,
    max: u64,
    what: &str,
) -> Result<Vec<u8>, CliError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, what, e))?;
    if meta.is_dir() {
        return Err(CliError::error(
            "is-a-directory",
            format!("{}: is a directory, expected {what} file", path.display()),
        ));
    }
    if meta.len() > max {
        return Err(CliError::error(
            "input-too-large",
            format!(
                "{}: {} bytes is over the {max}-byte limit for {what}",
                path.display(),
                meta.len()
            ),
        ));
    }
    let mut buf = Vec::new();
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut buf))
        .map_err(|e| io_error(path, what, e))?;
    if buf.len() as u64 > max {
        return Err(CliError::error(
            "input-too-large",
            format!("{}: over the {max}-byte limit for {what}", path.display()),
        ));
    }
    Ok(buf)
}

/// An I/O error on `path`, coded `not-found` or `io-error`.
pub(crate) fn io_error(path: &std::path::Path, what: &str, e: std::io::Error) -> CliError {
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        "not-found"
    } else {
        "io-error"
    };
    CliError::error(code, format!("{}: cannot read {what}: {e}", path.display()))
}

/// A verifier's refusal: exit 2 when the input was not usable (nothing could be decided),
/// exit 1 when it was usable and did not verify.
pub(crate) fn verifier_error(code: &str, message: String, input_error: bool) -> CliError {
    if input_error {
        CliError::error(code, message)
    } else {
        CliError::fail(code, message)
    }
}
