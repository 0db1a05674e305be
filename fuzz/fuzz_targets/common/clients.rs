//! Shared by `client_config_jsonc` and `client_config_toml`: parse a config, wrap it, and
//! check what wrap promises.
//!
//! - `clients::parse` never panics;
//! - when `wrap_text` succeeds: the wrapped text parses; every entry it reports `wrapped` now
//!   launches exactly `<mcpseal> run --name NAME [--lock L] [--policy P] -- <original command and args>`
//!   (or `--url`) and is recognised as wrapped; wrapping again changes nothing; and
//!   `unwrap_text` gives back the input byte for byte (when the input held no wrapped entry
//!   of its own, which unwrap would restore too); and if the input unwraps, so does its wrap;
//! - wrap's own round-trip self-check ("internal check failed") never fires: it guards the
//!   user's file, and firing means wrap built text it cannot undo;
//! - `unwrap_text` on the raw input never panics, and what it returns parses.

use std::collections::BTreeMap;
use std::path::Path;

use mcpseal::clients::edit::{self, Target, WrapOptions};
use mcpseal::clients::{self, Client, ClientsError, Transport, WrapState};

/// The `mcpseal` paths and lock paths wrap may be given: plain, Windows-style, with quotes,
/// backslashes, DEL and non-ASCII (all must survive JSON and TOML string encoding).
const MCPSEAL: [&str; 4] = [
    "/opt/bin/mcpseal",
    "C:\\Program Files\\mcpseal\\mcpseal.exe",
    "/home/o'neil/\"x\"/\u{7f}é/mcpseal",
    "mcpseal",
];
const LOCK: [Option<&str>; 3] = [None, Some("/l/mcpseal.lock"), Some("C:\\a b\\\"q\".lock")];
const POLICY: [Option<&str>; 2] = [None, Some("/etc/mcpseal/policy #1.toml")];

/// Names the options may ask to wrap under their qualified lock key (`client/name`).
const QUALIFIED: [&str; 3] = ["git", "fs", "context7"];

pub fn options(client: Client, b: u8) -> WrapOptions {
    // Lock choice 3 (no --lock, like choice 0) also qualifies some names.
    let qualified = if (b >> 2) & 3 == 3 {
        QUALIFIED
            .iter()
            .map(|n| mcpseal::lock::qualified_name(client.id(), n))
            .collect()
    } else {
        Default::default()
    };
    WrapOptions {
        qualified,
        mcpseal: MCPSEAL[usize::from(b & 3)].to_owned(),
        lock: LOCK[usize::from((b >> 2) & 3) % 3].map(str::to_owned),
        policy: POLICY[usize::from((b >> 4) & 1)].map(str::to_owned),
        images: Default::default(),
    }
}

type Key = (Option<String>, String);

fn by_key(servers: Vec<clients::Server>) -> BTreeMap<Key, clients::Server> {
    servers
        .into_iter()
        .map(|s| ((s.project.clone(), s.name.clone()), s))
        .collect()
}

pub fn check(client: Client, bytes: &[u8], opts: &WrapOptions) {
    let path = Path::new(match client {
        Client::Codex => "config.toml",
        _ => "mcp.json",
    });
    let parsed = clients::parse(client, path, bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        assert!(parsed.is_err(), "non-UTF-8 config accepted");
        return;
    };
    let unwraps = match edit::unwrap_text(client, path, text) {
        Ok(u) => {
            clients::parse(client, path, u.text.as_bytes())
                .expect("unwrap returned text that does not parse");
            true
        }
        // A marker edited by hand (not a JSON object, not a TOML string, an original that no
        // longer parses) is refused, and stays refused after a wrap.
        Err(_) => false,
    };
    let wrapped = match edit::wrap_text(client, path, text, opts) {
        Ok(w) => w,
        Err(ClientsError::Edit { message, .. }) if message.starts_with("internal check failed") => {
            panic!("wrap's own round-trip check failed: {message}")
        }
        Err(_) => return,
    };
    let before = by_key(parsed.expect("wrap accepted a config that parse refuses"));
    let after = by_key(
        clients::parse(client, path, wrapped.text.as_bytes())
            .expect("the wrapped config does not parse"),
    );
    assert_eq!(
        before.len(),
        after.len(),
        "wrap changed the number of servers"
    );
    for e in &wrapped.entries {
        let key = (e.project.clone(), e.name.clone());
        let (old, new) = (&before[&key], &after[&key]);
        if e.action != "wrapped" {
            assert!(
                old.transport == new.transport,
                "{key:?} left alone but changed"
            );
            assert_eq!(old.wrapped, new.wrapped, "{key:?}");
            continue;
        }
        assert_eq!(
            new.wrapped,
            WrapState::Wrapped,
            "{key:?} wrapped but not recognised"
        );
        let target = match &old.transport {
            Transport::Stdio { command, args, .. } => Target::Command {
                command: command.clone(),
                args: args.clone(),
            },
            Transport::Http { url } | Transport::Sse { url } => Target::Url(url.clone()),
        };
        match &new.transport {
            Transport::Stdio { command, args, .. } => {
                assert_eq!(command, &opts.mcpseal, "{key:?} does not launch mcpseal");
                assert_eq!(
                    args,
                    &edit::wrapped_args(&opts.gate_name(client, &e.name), opts, &target),
                    "{key:?}"
                );
            }
            _ => panic!("{key:?} wrapped into a non-stdio entry"),
        }
    }
    let again = edit::wrap_text(client, path, &wrapped.text, opts)
        .expect("wrapping a wrapped config failed");
    assert_eq!(again.text, wrapped.text, "wrap is not idempotent");
    assert!(!again.changed());
    let back = edit::unwrap_text(client, path, &wrapped.text);
    if unwraps {
        let back = back.expect("x unwraps, wrap(x) does not");
        // Entries that already carry a stored original (wrapped, or `stale`: a marker on an
        // entry that does not launch the gate) are restored by unwrap by design.
        let had_wrapped = before
            .values()
            .any(|s| matches!(s.wrapped, WrapState::Wrapped | WrapState::Stale));
        if !had_wrapped {
            assert_eq!(back.text, text, "unwrap(wrap(x)) != x");
        }
    }
}
