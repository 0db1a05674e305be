//! `mcpseal wrap` and `mcpseal unwrap`.

use super::{CmdResult, Global};

#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(Debug, clap::Args)]
pub struct UnwrapArgs {}

pub fn run(_args: Args, _g: &Global) -> CmdResult {
    super::not_yet("wrap")
}

pub fn run_unwrap(_args: UnwrapArgs, _g: &Global) -> CmdResult {
    super::not_yet("unwrap")
}
