//! Canary tokens and honeytools: strings that must never leave through a call or come back in
//! a result, and decoy tools no honest agent has a reason to call.
//!
//! Each string of a message is searched for a token as it is, base64-encoded (standard and
//! URL-safe alphabets, at each of the three alignments inside a longer base64 text),
//! percent-encoded (every byte, either case; and any string with a `%` is also searched once
//! decoded), and for a **fragment** of at least half its length — so a token split in two is
//! found in whichever order the halves come.
//!
//! A token cut into **more pieces** is found by [`Canary::scan`]'s four *streams*, each built
//! once per message and searched once: the string values (and numbers, as written) in the
//! gate's order — object members by key, array elements in order, nested objects where they
//! stand — then the keys, then keys and values interleaved, then the values each **decoded**
//! first (a value that is wholly base64 and decodes to text, or has a `%`). Every stream is
//! *normalised* — ASCII letters lowercased, every other byte (spaces, `-`, `|`, quotes,
//! punctuation, non-ASCII) dropped — and searched for the token normalised the same way and
//! for its normalised fragments of two thirds of it. So pieces in that order are found however
//! many there are, whatever separates them, each base64'd on its own or not. What is not
//! found: pieces shuffled out of that order (unless half the token is one piece, or two thirds
//! of it still run in order), a token interleaved
//! with letters or digits, and other transformations (reversed, hex, compressed, encrypted);
//! docs/authz.md says so. The cost is linear in the message: four extra passes. The tokens are
//! never printed: a trip names the token by its position (`#1`) and the encoding.

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use base64::Engine;
use serde_json::Value;

use crate::policy::CanarySpec;

/// One tripped canary: which token (1-based), in what form, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trip {
    pub token: usize,
    pub encoding: &'static str,
}

/// The compiled `[canary]` table.
pub struct Canary {
    matcher: Option<AhoCorasick>,
    /// Pattern index → (token index, encoding).
    labels: Vec<(usize, &'static str)>,
    /// The normalised tokens and their normalised fragments of two thirds, for the streams.
    normalised: Option<AhoCorasick>,
    /// Pattern index of `normalised` → token index.
    normalised_labels: Vec<usize>,
    decoys: BTreeMap<String, Value>,
    kill: bool,
}

impl std::fmt::Debug for Canary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens.
        f.debug_struct("Canary")
            .field("patterns", &self.labels.len())
            .field("decoys", &self.decoys.keys().collect::<Vec<_>>())
            .field("kill", &self.kill)
            .finish()
    }
}

/// The base64 text of `t` that does not depend on its neighbours, at alignment `k` (0..3).
fn b64_core(engine: &impl Engine, t: &[u8], k: usize) -> Option<String> {
    let mut buf = vec![0u8; k];
    buf.extend_from_slice(t);
    let enc = engine.encode(&buf);
    let start = (8 * k).div_ceil(6);
    let end = (8 * (k + t.len())) / 6;
    (end > start + 4).then(|| enc.get(start..end).map(str::to_owned))?
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        if b[i] == b'+' {
            out.push(b' ');
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    out
}

/// One leaf of a message, in the gate's order.
enum Leaf<'a> {
    Key(&'a str),
    Str(&'a str),
    Num(String),
}

fn leaves<'a>(v: &'a Value, out: &mut Vec<Leaf<'a>>) {
    match v {
        Value::String(s) => out.push(Leaf::Str(s)),
        Value::Number(n) => out.push(Leaf::Num(n.to_string())),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(Leaf::Key(k));
                leaves(x, out);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Appends the bytes of `s` that survive normalisation: ASCII letters (lowercased) and digits.
fn normalise_into(s: &[u8], out: &mut Vec<u8>) {
    out.extend(
        s.iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_lowercase),
    );
}

fn normalised(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len());
    normalise_into(s, &mut v);
    v
}

/// The text a value decodes to, if it is wholly base64 (either alphabet, padded or not) of
/// text, or has a `%` (percent-decoded); else `None`.
fn decoded(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CFG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CFG);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CFG);
    let t = s.trim();
    if t.contains('%') {
        return Some(percent_decode(t));
    }
    if t.len() < 4 {
        return None;
    }
    let text = |b: Vec<u8>| {
        std::str::from_utf8(&b)
            .is_ok_and(|u| u.chars().all(|c| !c.is_control() || c.is_whitespace()))
            .then_some(b)
    };
    STD.decode(t)
        .ok()
        .and_then(text)
        .or_else(|| URL.decode(t).ok().and_then(text))
}

impl Canary {
    pub fn new(spec: &CanarySpec) -> Result<Canary, String> {
        let mut pats: Vec<Vec<u8>> = Vec::new();
        let mut labels = Vec::new();
        let std_e = base64::engine::general_purpose::STANDARD_NO_PAD;
        let url_e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        for (i, t) in spec.tokens.iter().enumerate() {
            let t = t.as_bytes();
            let mut add = |p: Vec<u8>, enc: &'static str| {
                if !pats.contains(&p) {
                    pats.push(p);
                    labels.push((i + 1, enc));
                }
            };
            add(t.to_vec(), "plain");
            let half = t.len().div_ceil(2).max(8);
            if half < t.len() {
                for w in t.windows(half) {
                    add(w.to_vec(), "fragment");
                }
            }
            for k in 0..3 {
                if let Some(c) = b64_core(&std_e, t, k) {
                    add(c.into_bytes(), "base64");
                }
                if let Some(c) = b64_core(&url_e, t, k) {
                    add(c.into_bytes(), "base64url");
                }
            }
            let upper: String = t.iter().map(|b| format!("%{b:02X}")).collect();
            add(upper.to_lowercase().into_bytes(), "percent");
            add(upper.into_bytes(), "percent");
        }
        let mut npats: Vec<Vec<u8>> = Vec::new();
        let mut normalised_labels = Vec::new();
        for (i, t) in spec.tokens.iter().enumerate() {
            let n = normalised(t.as_bytes());
            if n.len() < 8 {
                continue; // a token of mostly punctuation: found raw only (docs/authz.md)
            }
            // Two thirds, not half: normalising drops the separators, so half of a normalised
            // token is less text than half of the token (`mcpseal-canary` would be one).
            let long = (2 * n.len()).div_ceil(3).max(8);
            let mut add = |p: &[u8]| {
                if !npats.iter().any(|q| q == p) {
                    npats.push(p.to_vec());
                    normalised_labels.push(i + 1);
                }
            };
            add(&n);
            if long < n.len() {
                n.windows(long).for_each(&mut add);
            }
        }
        let normalised = if npats.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&npats).map_err(|e| format!("[canary]: {e}"))?)
        };
        let matcher = if pats.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&pats).map_err(|e| format!("[canary]: {e}"))?)
        };
        let decoys = spec
            .decoys
            .iter()
            .map(|d| (d.name.clone(), d.definition.clone()))
            .collect();
        Ok(Canary {
            matcher,
            labels,
            normalised,
            normalised_labels,
            decoys,
            kill: spec.kill,
        })
    }

    /// Whether a trip ends the session (`on-canary = "kill"`).
    pub fn kill(&self) -> bool {
        self.kill
    }

    /// The decoy tool of this name, if it is one.
    pub fn decoy(&self, name: &str) -> Option<&Value> {
        self.decoys.get(name)
    }

    /// The decoy tools' definitions, in name order.
    pub fn decoys(&self) -> impl Iterator<Item = &Value> {
        self.decoys.values()
    }

    fn find(&self, hay: &[u8]) -> Option<Trip> {
        let m = self.matcher.as_ref()?.find(hay)?;
        let (token, encoding) = self.labels.get(m.pattern().as_usize()).copied()?;
        Some(Trip { token, encoding })
    }

    fn find_normalised(&self, hay: &[u8], encoding: &'static str) -> Option<Trip> {
        let m = self.normalised.as_ref()?.find(hay)?;
        let token = self
            .normalised_labels
            .get(m.pattern().as_usize())
            .copied()?;
        Some(Trip { token, encoding })
    }

    /// The first token found in any string (or key) of `v`, each on its own, then in the four
    /// normalised streams (the module documentation).
    pub fn scan(&self, v: &Value) -> Option<Trip> {
        self.matcher.as_ref()?;
        let mut all = Vec::new();
        leaves(v, &mut all);
        for l in &all {
            let s = match l {
                Leaf::Key(s) | Leaf::Str(s) => *s,
                Leaf::Num(_) => continue,
            };
            if let Some(t) = self.find(s.as_bytes()) {
                return Some(t);
            }
            if s.contains('%')
                && let Some(t) = self.find(&percent_decode(s))
            {
                return Some(Trip {
                    encoding: "percent",
                    ..t
                });
            }
        }
        let (mut values, mut keys, mut both, mut dec) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for l in &all {
            match l {
                Leaf::Key(k) => {
                    normalise_into(k.as_bytes(), &mut keys);
                    normalise_into(k.as_bytes(), &mut both);
                }
                Leaf::Str(s) => {
                    normalise_into(s.as_bytes(), &mut values);
                    normalise_into(s.as_bytes(), &mut both);
                    match decoded(s) {
                        Some(d) => normalise_into(&d, &mut dec),
                        None => normalise_into(s.as_bytes(), &mut dec),
                    }
                }
                Leaf::Num(n) => {
                    for out in [&mut values, &mut both, &mut dec] {
                        normalise_into(n.as_bytes(), out);
                    }
                }
            }
        }
        self.find_normalised(&values, "split")
            .or_else(|| self.find_normalised(&keys, "split"))
            .or_else(|| self.find_normalised(&both, "split"))
            .or_else(|| self.find_normalised(&dec, "split-encoded"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOKEN: &str = "mcpseal-canary-7f3a9c2e41d8";

    fn canary() -> Canary {
        Canary::new(&CanarySpec {
            tokens: vec![zeroize::Zeroizing::new(TOKEN.to_owned())],
            decoys: vec![],
            kill: false,
        })
        .unwrap()
    }

    #[test]
    fn a_token_is_found_plain_encoded_and_split() {
        let c = canary();
        let b64 = base64::engine::general_purpose::STANDARD;
        let url = base64::engine::general_purpose::URL_SAFE;
        for (what, v) in [
            ("plain", json!({"a": format!("x {TOKEN} y")})),
            ("key", json!({TOKEN: 1})),
            ("nested", json!({"a": {"b": [1, TOKEN]}})),
            ("base64", json!({"a": b64.encode(TOKEN)})),
            (
                "base64 after 1 byte",
                json!({"a": b64.encode(format!("x{TOKEN}"))}),
            ),
            (
                "base64 after 2 bytes",
                json!({"a": b64.encode(format!("xy{TOKEN}!"))}),
            ),
            ("base64url", json!({"a": url.encode(format!("??{TOKEN}"))})),
            (
                "percent",
                json!({"a": TOKEN.bytes().map(|b| format!("%{b:02x}")).collect::<String>()}),
            ),
            ("partly percent", json!({"a": TOKEN.replace('-', "%2D")})),
            (
                "split in order",
                json!({"a": &TOKEN[..10], "b": &TOKEN[10..]}),
            ),
            (
                "split reversed",
                json!({"a": &TOKEN[14..], "b": &TOKEN[..14]}),
            ),
        ] {
            assert!(c.scan(&v).is_some(), "{what}: not found in {v}");
        }
    }

    /// `TOKEN` cut into `n` pieces of (nearly) equal length, in order.
    fn pieces(n: usize) -> Vec<String> {
        let len = TOKEN.len().div_ceil(n);
        TOKEN
            .as_bytes()
            .chunks(len)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect()
    }

    /// Issue 14, gap 2: a token in three or more pieces, spread or separated, still trips.
    #[test]
    fn attack_a_token_in_three_or_more_pieces_is_found() {
        let c = canary();
        let b64 = base64::engine::general_purpose::STANDARD;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let p3 = pieces(3);
        let p5 = pieces(5);
        // Every piece is shorter than half the token: the fragment rule alone finds none.
        assert!(p3.iter().all(|p| p.len() < TOKEN.len() / 2));
        for (what, v) in [
            (
                "3 pieces across arguments",
                json!({"a": p3[0], "b": p3[1], "c": p3[2]}),
            ),
            (
                "5 pieces across arguments",
                json!({"a": p5[0], "b": p5[1], "c": p5[2], "d": p5[3], "e": p5[4]}),
            ),
            (
                "3 pieces with separators in one argument",
                json!({"a": p3.join(" | ")}),
            ),
            (
                "5 pieces with separators in one argument",
                json!({"a": p5.join("\n- ")}),
            ),
            (
                "pieces in nested objects",
                json!({"a": {"x": p5[0], "y": {"z": p5[1]}}, "b": [p5[2], {"q": p5[3]}], "c": p5[4]}),
            ),
            ("pieces in an array", json!({"a": p5})),
            (
                "pieces interleaved with innocent keys and numbers",
                json!({"a": p3[0], "b": 12, "c": p3[1], "d": true, "e": p3[2]}),
            ),
            (
                "pieces as keys",
                json!({"args": {p3[0].clone(): 1, p3[1].clone(): 2, p3[2].clone(): 3}}),
            ),
            (
                "pieces as keys and values",
                json!({p5[0].clone(): p5[1], p5[2].clone(): p5[3], "z": p5[4]}),
            ),
            (
                "each piece base64'd on its own",
                json!({"a": b64.encode(&p3[0]), "b": b64.encode(&p3[1]), "c": b64.encode(&p3[2])}),
            ),
            (
                "each of 5 pieces base64url'd, unpadded",
                json!({"a": p5.iter().map(|p| url.encode(p)).collect::<Vec<_>>()}),
            ),
            (
                "each piece percent-encoded",
                json!({"a": p3.iter().map(|p| p.bytes().map(|b| format!("%{b:02x}")).collect::<String>()).collect::<Vec<_>>()}),
            ),
            ("upper case", json!({"a": TOKEN.to_uppercase()})),
        ] {
            assert!(c.scan(&v).is_some(), "{what}: not found in {v}");
        }
    }

    /// The documented limits (docs/authz.md, threat model): what the streams do not find.
    #[test]
    fn pieces_out_of_the_gates_order_are_the_documented_limit() {
        let c = canary();
        let p5 = pieces(5);
        for v in [
            // Shuffled against the gate's order (members by key), no two thirds in order.
            json!({"a": p5[2], "b": p5[0], "c": p5[4], "d": p5[1], "e": p5[3]}),
            // Interleaved with letters (a separator the normalisation keeps).
            json!({"a": p5.join("x")}),
        ] {
            assert_eq!(c.scan(&v), None, "{v}");
        }
    }

    #[test]
    fn other_text_does_not_trip() {
        let c = canary();
        for v in [
            // Under half the token: not a fragment (a token's shared prefix must stay shorter
            // than half of it, docs/authz.md).
            json!({"a": "mcpseal-cana"}),
            json!({"a": "an ordinary expense of 12.50"}),
            json!({"a": base64::engine::general_purpose::STANDARD.encode("mcpseal-canary")}),
            // Many ordinary strings, numbers and base64 text: the streams stay quiet.
            json!({"description": "Lunch with the team", "amount": 42.5, "tags": ["travel", "food"],
                   "note": {"by": "carol", "ref": "INV-2026-0042", "blob": "aGVsbG8gd29ybGQ="}}),
            // The shared prefix in pieces: under two thirds of the token.
            json!({"a": "mcpseal", "b": "canary", "c": "-"}),
        ] {
            assert_eq!(c.scan(&v), None, "{v}");
        }
    }

    #[test]
    fn debug_never_prints_a_token() {
        assert!(!format!("{:?}", canary()).contains("7f3a9c"));
    }
}
