//! `framing`: arbitrary bytes through [`LineReader`] with a small limit and a small read buffer,
//! and each line through [`Message::parse`].
//!
//! Oracles: no panic; the reader's lines equal a plain reference split of the whole input
//! (split on `\n`, one trailing `\r` dropped, blank lines skipped or kept, an over-long line
//! an error that ends the stream), whatever the buffer size; every line is within the limit;
//! a parsed message, written out again, parses to the same kind, method and id.
//!
//! Input: byte 0 picks the limit (1..=64, or 32..=2048 in steps of 32) and blank-line mode, byte 1 the `BufReader`
//! capacity (1..=16); the rest is the stream.

#![no_main]

use std::io::BufReader;

use libfuzzer_sys::fuzz_target;
use mcpseal::mcp::framing::{FrameError, LineReader, Message};

#[derive(Debug, PartialEq)]
enum Step {
    Line(Vec<u8>),
    End,
    TooLong,
}

/// What the reader should return, from the whole input at once.
fn reference(input: &[u8], max: usize, keep_blank: bool) -> Vec<Step> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        let (seg, terminated, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], true, &rest[i + 1..]),
            None => (rest, false, &rest[rest.len()..]),
        };
        if seg.len() > max {
            out.push(Step::TooLong);
            return out;
        }
        let line = seg.strip_suffix(b"\r").unwrap_or(seg);
        if line.iter().all(u8::is_ascii_whitespace) {
            if !terminated {
                out.push(Step::End);
                return out;
            }
            if keep_blank {
                out.push(Step::Line(Vec::new()));
            }
        } else {
            out.push(Step::Line(line.to_vec()));
        }
        rest = next;
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, cap, stream @ ..] = data else {
        return;
    };
    let max = (usize::from(mode & 0x3f) + 1) * if mode & 0x80 != 0 { 32 } else { 1 };
    let keep_blank = mode & 0x40 != 0;
    let cap = usize::from(cap & 0x0f) + 1;
    let buf = BufReader::with_capacity(cap, stream);
    let mut r = if keep_blank {
        LineReader::keeping_blank_lines(buf, max)
    } else {
        LineReader::new(buf, max)
    };
    assert_eq!(r.max(), max);

    let mut got = Vec::new();
    loop {
        match r.next_line() {
            Ok(Some(line)) => {
                assert!(
                    line.len() <= max,
                    "a {}-byte line passed a {max}-byte limit",
                    line.len()
                );
                assert!(!line.contains(&b'\n'));
                check_message(&line);
                got.push(Step::Line(line));
            }
            Ok(None) => {
                got.push(Step::End);
                break;
            }
            Err(FrameError::TooLong { limit }) => {
                assert_eq!(limit, max);
                got.push(Step::TooLong);
                break;
            }
            Err(e) => panic!("reading from a slice failed: {e}"),
        }
    }
    assert_eq!(got, reference(stream, max, keep_blank));

    // The whole stream as one message, too: longer and more varied than a line under 64 bytes.
    check_message(stream);
});

fn check_message(line: &[u8]) {
    let Ok(m) = Message::parse(line) else {
        return;
    };
    assert_eq!(
        Message::from_value(m.value.clone()).ok().map(|x| x.kind),
        Some(m.kind)
    );
    let again = serde_json::to_vec(&m.value).expect("a parsed message serializes");
    let m2 = Message::parse(&again).expect("a re-serialized message parses");
    assert_eq!(m2.kind, m.kind);
    assert_eq!(m2.method(), m.method());
    assert_eq!(m2.id(), m.id());
}
