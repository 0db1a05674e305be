//! `client_config_jsonc`: arbitrary text through the JSONC parser (`clients::jsonc::parse`),
//! the JSON clients' config parser, and wrap / unwrap (see `common/clients.rs`).
//!
//! JSONC oracles, besides no panic: strict JSON that mcpseal's own strict parser accepts is
//! accepted by the JSONC parser with the same value; text the JSONC parser accepts that uses no
//! JSONC extension (no `/`, no trailing comma, no byte-order mark) is strict JSON; a parsed
//! value written out again parses to the same value; and every span lies inside the text.
//! (Numbers beyond f64 and nesting past serde_json's limit are the known, harmless exceptions.)
//!
//! Input: byte 0 picks the client (bits 0-2) and the wrap options (bits 3-6); the rest is the
//! config file.

#![no_main]

#[path = "common/clients.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mcpseal::clients::{Client, Format};
use mcpseal::clients::jsonc::{self, Kind, Node};

/// The clients whose configs are JSON(C): every client but the TOML and YAML ones, from
/// `Client::ALL`, so a new JSON client is fuzzed without an edit here.
fn json_client(sel: u8) -> Client {
    let json = || {
        Client::ALL
            .into_iter()
            .filter(|c| c.format() == Format::Jsonc)
    };
    let n = json().count();
    json()
        .nth(usize::from(sel & 15) % n)
        .expect("at least one JSON client")
}

fn spans_ok(n: &Node, len: usize) {
    assert!(n.span.start <= n.span.end && n.span.end <= len);
    match &n.kind {
        Kind::Array(items) => items.iter().for_each(|i| spans_ok(i, len)),
        Kind::Object(members) => {
            for m in members {
                assert!(m.key_span.end <= m.value.span.start);
                spans_ok(&m.value, len);
            }
        }
        _ => {}
    }
}

/// A trailing comma: `,` then only whitespace before `]` or `}` (anywhere, strings included:
/// this only decides whether the text is skipped, so over-matching is safe).
fn has_trailing_comma(t: &[u8]) -> bool {
    t.iter().enumerate().any(|(i, &c)| {
        c == b','
            && t[i + 1..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|&b| b == b']' || b == b'}')
    })
}

fuzz_target!(|data: &[u8]| {
    let [sel, config @ ..] = data else {
        return;
    };
    let client = json_client(*sel);
    let opts = common::options(client, sel >> 3);

    if let Ok(text) = std::str::from_utf8(config) {
        let node = jsonc::parse(text);
        if let Ok(n) = &node {
            spans_ok(n, text.len());
            let v = n.to_value();
            let again = jsonc::parse(&v.to_string()).expect("written-out JSONC value parses");
            assert_eq!(again.to_value(), v);
            if !config.contains(&b'/')
                && !text.starts_with('\u{feff}')
                && !has_trailing_comma(config)
            {
                // serde_json refuses numbers beyond f64 (JSON allows them; JSONC keeps the
                // text) and nests one level less deep: neither is a differential that matters.
                if let Err(e) = mcpseal::json::parse_strict(config) {
                    let m = e.to_string();
                    assert!(
                        m.contains("number out of range") || m.contains("recursion limit"),
                        "JSONC accepted plain text that is not JSON: {m}"
                    );
                }
            }
        }
        if let Ok(strict) = mcpseal::json::parse_strict(config) {
            match &node {
                Ok(n) => assert_eq!(n.to_value(), strict, "JSONC and strict JSON disagree"),
                Err(e) => assert!(
                    e.message.contains("too deep"),
                    "strict JSON refused by JSONC: {e:?}"
                ),
            }
        }
    }
    common::check(client, config, &opts);
});
