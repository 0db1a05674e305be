//! `mcpseal verify` with verify_keyless flags.

use super::Args;
use crate::cli::{CmdResult, Global};

pub fn run(_args: Args, _g: &Global) -> CmdResult {
    crate::cli::not_yet("verify (verify_keyless)")
}
