//! The `mcpseal` binary: parse arguments, run, map the outcome to an exit code. Nothing else.
//!
//! Exit codes are policy (docs/exit-codes.md): 0 trusted / no drift, 1 not trustworthy,
//! 2 could not decide (usage, input or I/O error).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = mcpseal::cli::Cli::parse();
    mcpseal::cli::run(cli).into()
}
