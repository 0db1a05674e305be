//! `client_config_toml`: arbitrary text through the Codex config parser (TOML) and wrap /
//! unwrap (see `common/clients.rs`).
//!
//! Input: byte 0 picks the wrap options; the rest is `config.toml`.

#![no_main]

#[path = "common/clients.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mcpseal::clients::Client;

fuzz_target!(|data: &[u8]| {
    let [sel, config @ ..] = data else {
        return;
    };
    common::check(Client::Codex, config, &common::options(Client::Codex, *sel));
});
