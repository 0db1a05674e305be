//! `mcpseal key generate` and `mcpseal key id`.

use super::{CmdResult, Global};

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Generate an Ed25519 key pair.
    Generate {},
}

pub fn run(_cmd: KeyCommand, _g: &Global) -> CmdResult {
    super::not_yet("key")
}
