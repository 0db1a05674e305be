//! `mcpseal pin`.

use super::{CmdResult, Global};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _g: &Global) -> CmdResult {
    super::not_yet("pin")
}
