//! Canary tokens and honeytools: strings that must never leave through a call or come back in
//! a result, and decoy tools no honest agent has a reason to call.
//!
//! A token is found as it is, base64-encoded (standard and URL-safe alphabets, at each of the
//! three alignments inside a longer base64 text), percent-encoded (every byte, either case;
//! and any string with a `%` is also searched once decoded), and as a **fragment** of at least
//! half its length — so a token split across two arguments is found in whichever order the
//! halves come. The concatenation of every string of a message is searched too. What is not
//! found: a token cut into three or more pieces, or transformed otherwise (reversed, hex,
//! compressed); docs/authz.md says so. The tokens are never printed: a trip names the token by
//! its position (`#1`) and the encoding.

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

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k);
                strings(x, out);
            }
        }
        _ => {}
    }
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

    /// The first token found in any string (or key) of `v`.
    pub fn scan(&self, v: &Value) -> Option<Trip> {
        self.matcher.as_ref()?;
        let mut all = Vec::new();
        strings(v, &mut all);
        for s in &all {
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
        self.find(all.concat().as_bytes()).map(|t| Trip {
            encoding: "split",
            ..t
        })
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

    #[test]
    fn other_text_does_not_trip() {
        let c = canary();
        for v in [
            // Under half the token: not a fragment (a token's shared prefix must stay shorter
            // than half of it, docs/authz.md).
            json!({"a": "mcpseal-cana"}),
            json!({"a": "an ordinary expense of 12.50"}),
            json!({"a": base64::engine::general_purpose::STANDARD.encode("mcpseal-canary")}),
        ] {
            assert_eq!(c.scan(&v), None, "{v}");
        }
    }

    #[test]
    fn debug_never_prints_a_token() {
        assert!(!format!("{:?}", canary()).contains("7f3a9c"));
    }
}
