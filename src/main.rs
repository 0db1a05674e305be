//! The `mcpseal` binary: parse arguments, run, map the outcome to an exit code. Nothing else.
//!
//! Exit codes are policy (docs/exit-codes.md): 0 trusted / no drift, 1 not trustworthy,
//! 2 could not decide (usage, input or I/O error).

fn main() -> std::process::ExitCode {
    match mcpseal::cli::parse_args() {
        Ok(cli) => mcpseal::cli::run(cli).into(),
        Err(exit) => exit.into(),
    }
}
