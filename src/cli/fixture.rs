//! `mcpseal fixture-server`: the scriptable MCP server of [`crate::fixture`] on stdin/stdout.
//! Hidden from `--help`: it is test and demo equipment.

use std::path::PathBuf;

use super::{CliError, CmdResult, Exit, Global};
use crate::fixture::{Config, Misbehave, RugPull};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve this surface (JSON: serverInfo, instructions, tools, prompts, resources, resourceTemplates).
    #[arg(long, value_name = "FILE")]
    pub surface: Option<PathBuf>,
    /// Rug pull to perform: description, schema or add-tool (repeatable).
    #[arg(long = "rug-pull", value_name = "KIND")]
    pub rug_pulls: Vec<RugPull>,
    /// Count launches in FILE; rug pulls apply from launch --rug-pull-at on (the sleeper).
    #[arg(long, value_name = "FILE")]
    pub launch_counter: Option<PathBuf>,
    /// The launch from which rug pulls apply.
    #[arg(long, default_value_t = 2)]
    pub rug_pull_at: u64,
    /// Apply the rug pulls after N tools/call, then send tools/list_changed.
    #[arg(long, value_name = "N")]
    pub change_after_calls: Option<u64>,
    /// Page every list in pages of N.
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
    /// Send tools/list_changed right after notifications/initialized.
    #[arg(long)]
    pub list_changed_on_init: bool,
    /// Misbehave on tools/list: garbage, duplicate-key, oversized, exit or hang.
    #[arg(long, value_name = "MODE")]
    pub misbehave: Option<Misbehave>,
    /// Server instructions to announce.
    #[arg(long)]
    pub instructions: Option<String>,
    /// Also serve N generated tools.
    #[arg(long, default_value_t = 0)]
    pub extra_tools: usize,
}

pub fn run(args: Args, _g: &Global) -> CmdResult {
    let surface = match &args.surface {
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| CliError::error("io-error", format!("{}: {e}", p.display())))?;
            Some(
                crate::json::parse_strict(&bytes)
                    .map_err(|e| CliError::error(e.code(), format!("{}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let cfg = Config {
        surface,
        rug_pulls: args.rug_pulls,
        launch_counter: args.launch_counter,
        rug_pull_at: args.rug_pull_at,
        change_after_calls: args.change_after_calls,
        page_size: args.page_size,
        list_changed_on_init: args.list_changed_on_init,
        misbehave: args.misbehave,
        instructions: args.instructions,
        extra_tools: args.extra_tools,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match crate::fixture::serve(&cfg, stdin, stdout) {
        Ok(()) => Ok(Exit::Ok),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        Err(e) => Err(CliError::error("io-error", format!("fixture-server: {e}"))),
    }
}
