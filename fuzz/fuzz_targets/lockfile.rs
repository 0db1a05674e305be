//! `lockfile`: arbitrary bytes through [`Lockfile::parse`] and [`Lockfile::parse_only`].
//!
//! Oracles: no panic; a lockfile that parses is written back by [`Lockfile::to_text`] into text
//! that parses to the same lockfile and is byte-stable (what mcpseal writes, it can read); and
//! the gate's fast path `parse_only(name)` returns, for every server, the same entry as the
//! full parse.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mcpseal::lock::Lockfile;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.lock");
    // The gate reads only its own server: exercise the partial parse on any input, too.
    let _ = Lockfile::parse_only(data, path, Some("x"));
    let Ok(lock) = Lockfile::parse(data, path) else {
        return;
    };
    let text = lock.to_text();
    let again = Lockfile::parse(text.as_bytes(), path)
        .unwrap_or_else(|e| panic!("mcpseal cannot read the lockfile it wrote: {e}\n{text}"));
    assert_eq!(again, lock, "the lockfile changed on a write and read");
    assert_eq!(again.to_text(), text, "to_text is not byte-stable");
    for (name, entry) in &lock.servers {
        let one = Lockfile::parse_only(data, path, Some(name)).unwrap_or_else(|e| {
            panic!("parse accepted the file, parse_only({name:?}) did not: {e}")
        });
        assert_eq!(one.servers.len(), 1);
        assert_eq!(
            one.servers.get(name),
            Some(entry),
            "parse_only({name:?}) differs"
        );
    }
});
