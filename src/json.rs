//! Strict JSON in, canonical JSON out.
//!
//! Everything mcpseal hashes or forwards passes through here. Two parser differentials are
//! closed: a duplicate object key (serde_json keeps the last, other parsers the first) is an
//! error, and an integer beyond ±2^53 (which RFC 8785 would silently round) cannot be
//! canonicalized. Nesting is bounded by serde_json's recursion limit (128), so hostile depth
//! is an error, never a stack overflow.
//!
//! What does not live here: framing (see [`crate::mcp`]) and digests (see [`crate::digest`]).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A strict parse or canonicalization failed.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("invalid JSON: {0}")]
    Syntax(String),
    #[error("duplicate key {key:?} in a JSON object")]
    DuplicateKey { key: String },
    #[error("integer {0} is outside ±2^53 and cannot be canonicalized exactly (RFC 8785)")]
    UnsafeInteger(String),
    #[error("canonicalization failed: {0}")]
    Canonical(String),
}

impl JsonError {
    /// Stable kebab-case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::Syntax(_) => "json-syntax",
            JsonError::DuplicateKey { .. } => "json-duplicate-key",
            JsonError::UnsafeInteger(_) => "json-unsafe-integer",
            JsonError::Canonical(_) => "json-canonical",
        }
    }
}

/// A `serde_json::Value` whose objects were checked for duplicate keys while parsing.
pub(crate) struct StrictValue(pub(crate) Value);

/// A JSON value checked like [`StrictValue`] (duplicate keys refused at every depth) but not
/// kept: for the parts of a document a caller does not need.
pub(crate) struct StrictIgnored;

impl<'de> Deserialize<'de> for StrictIgnored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IgnoreVisitor).map(|()| StrictIgnored)
    }
}

struct IgnoreVisitor;

impl<'de> Visitor<'de> for IgnoreVisitor {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<StrictIgnored>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Seen::default();
        while let Some(Key(key)) = map.next_key()? {
            seen.insert(key)?;
            map.next_value::<StrictIgnored>()?;
        }
        Ok(())
    }
}

/// A member name as the parser hands it over: borrowed from the input when it has no escape,
/// decoded into its own string when it has one (so `"a"` and `"\u0061"` are the same name).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The member names of one object read so far, to refuse a repeated one. Most objects have a
/// handful of members, searched in a short list without hashing or copying; past
/// [`Seen::LIST`] they move to a hash set (randomly keyed), so an object with a million
/// members stays linear.
#[derive(Default)]
struct Seen<'de> {
    list: Vec<Cow<'de, str>>,
    set: std::collections::HashSet<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
    const LIST: usize = 16;

    /// Records `key`; a name already recorded is the duplicate-key error.
    fn insert<E: de::Error>(&mut self, key: Cow<'de, str>) -> Result<(), E> {
        let repeated = if !self.set.is_empty() {
            !self.set.insert(key.clone())
        } else if self.list.contains(&key) {
            true
        } else if self.list.len() < Self::LIST {
            self.list.push(key.clone());
            false
        } else {
            // The list is full: every name moves to the set, this one with them.
            self.set.extend(self.list.drain(..));
            self.set.insert(key.clone());
            false
        };
        if repeated {
            return Err(E::custom(format_args!("{DUP_MARK}{key}")));
        }
        Ok(())
    }
}

/// From a top-level object, the value at `outer` / `inner` (e.g. `servers` / a name) and every
/// other top-level member, parsed strictly; everything else is checked (syntax, duplicate keys,
/// depth) without being kept. Cheaper than [`parse_strict`] when only one entry is needed.
pub fn parse_strict_pick(
    bytes: &[u8],
    outer: &str,
    inner: &str,
) -> Result<(Map<String, Value>, Option<Value>), JsonError> {
    struct Top<'a> {
        outer: &'a str,
        inner: &'a str,
    }
    struct Picked<'a>(&'a str);
    impl<'de> de::DeserializeSeed<'de> for Picked<'_> {
        type Value = Option<Value>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Picked<'_> {
        type Value = Option<Value>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
            let mut seen = Seen::default();
            let mut out = None;
            while let Some(Key(key)) = map.next_key()? {
                let picked = key == self.0;
                seen.insert(key)?;
                if picked {
                    out = Some(map.next_value::<StrictValue>()?.0);
                } else {
                    map.next_value::<StrictIgnored>()?;
                }
            }
            Ok(out)
        }
    }
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = (Map<String, Value>, Option<Value>);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut rest = Map::new();
            let mut picked = None;
            let mut seen_outer = false;
            while let Some(key) = map.next_key::<String>()? {
                if key == self.outer {
                    if seen_outer {
                        return Err(de::Error::custom(format_args!("{DUP_MARK}{key}")));
                    }
                    seen_outer = true;
                    picked = map.next_value_seed(Picked(self.inner))?;
                } else {
                    if rest.contains_key(&key) {
                        return Err(de::Error::custom(format_args!("{DUP_MARK}{key}")));
                    }
                    let StrictValue(v) = map.next_value()?;
                    rest.insert(key, v);
                }
            }
            Ok((rest, picked))
        }
    }
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let r = d
        .deserialize_map(Top { outer, inner })
        .and_then(|v| d.end().map(|()| v));
    r.map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix(DUP_MARK) {
            Some(rest) => JsonError::DuplicateKey {
                key: rest
                    .rsplit_once(" at line ")
                    .map_or(rest, |(k, _)| k)
                    .to_owned(),
            },
            None => JsonError::Syntax(msg),
        }
    })
}

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    // No `visit_string`: serde_json's slice reader hands every string over borrowed or copied
    // (`visit_borrowed_str` / `visit_str`), and serde's default `visit_string` forwards here.
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUP_MARK}{key}")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

const DUP_MARK: &str = "\u{0}duplicate-key:";

/// Checks one JSON document as [`parse_strict`] does (duplicate keys, trailing data, depth)
/// without building it: the first pass before a typed deserialization from the same bytes.
pub fn check_strict(bytes: &[u8]) -> Result<(), JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let checked = StrictIgnored::deserialize(&mut de).and_then(|_| de.end());
    checked.map_err(strict_error)
}

/// Parses one JSON document, rejecting duplicate keys, trailing data and nesting deeper than 128.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue::deserialize(&mut de).and_then(|v| de.end().map(|()| v.0));
    parsed.map_err(strict_error)
}

fn strict_error(e: serde_json::Error) -> JsonError {
    {
        let msg = e.to_string();
        match msg.strip_prefix(DUP_MARK) {
            Some(rest) => {
                // serde_json appends " at line L column C"; keep only the key.
                let key = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
                JsonError::DuplicateKey {
                    key: key.to_owned(),
                }
            }
            None => JsonError::Syntax(msg),
        }
    }
}

/// Parses strictly and deserializes into `T`.
pub fn from_slice_strict<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let v = parse_strict(bytes)?;
    serde_json::from_value(v).map_err(|e| JsonError::Syntax(e.to_string()))
}

const MAX_SAFE: u64 = (1 << 53) - 1;

/// An integer beyond ±2^53 has no exact double, so RFC 8785 would round it: refused. A
/// float is written exactly as ECMAScript would.
fn check_safe_number(n: &Number) -> Result<(), JsonError> {
    let ok = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u <= MAX_SAFE,
        (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE,
        (None, None) => true,
    };
    if ok {
        Ok(())
    } else {
        Err(JsonError::UnsafeInteger(n.to_string()))
    }
}

/// RFC 8785 (JCS) canonical bytes of `v`.
///
/// Written here, into one buffer, rather than through a serde `Formatter` (which must buffer
/// every member to sort it): every digest mcpseal checks goes through this, 5,000 of them on a
/// `scan --lock` (issue 17). RFC 8785 section 3.2: no whitespace; object members sorted by the
/// UTF-16 code units of their names; strings escaped as ECMAScript's `JSON.stringify` does
/// (`"`, `\\`, and the controls below U+0020, as `\b \t \n \f \r` or `\u00xx`, lower-case
/// hex; nothing else, `/` and U+007F included); numbers as ECMAScript's `Number.toString` of
/// the IEEE 754 double (ryu-js), which is exact for integers because
/// [`check_safe_number`] refuses any beyond ±2^53 as it meets them. Checked byte for byte against the
/// reference implementation's vectors (`testdata/jcs/`), against serde_json_canonicalizer in a
/// unit test and in the `canonical` fuzz target.
pub fn canonical(v: &Value) -> Result<Vec<u8>, JsonError> {
    let mut out = Vec::with_capacity(256);
    write_canonical(v, &mut out)?;
    Ok(out)
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            check_safe_number(n)?;
            // Without serde_json's `arbitrary_precision`, every Number has an f64 value.
            let f = n
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| JsonError::Canonical(format!("the number {n} is not finite")))?;
            out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
        }
        Value::String(s) => write_canonical_str(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(o) => {
            let mut members: Vec<(&String, &Value)> = o.iter().collect();
            // What mcpseal wrote (a lockfile's definitions) is already in order: check first.
            if !members.is_sorted_by(|a, b| utf16_order(a.0, b.0).is_le()) {
                members.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
            }
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_str(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// RFC 8785 section 3.2.3: member names compare as arrays of UTF-16 code units. For names
/// without a character beyond U+FFFF that is the byte order of their UTF-8; a surrogate pair
/// (U+D800..) sorts before U+E000..U+FFFF, where UTF-8 puts it after.
fn utf16_order(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        // One is a prefix of the other (same code units so far): the shorter sorts first.
        None => x.len().cmp(&y.len()),
        // Two ASCII bytes after an equal prefix are two whole characters, each one code unit
        // in UTF-16 too: they decide both orders alike. Anything else: compare the units.
        Some(i) if x[i].is_ascii() && y[i].is_ascii() => x[i].cmp(&y[i]),
        Some(_) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

fn write_canonical_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// SHA-256 of the canonical form.
pub fn canonical_digest(v: &Value) -> Result<crate::digest::Digest, JsonError> {
    Ok(crate::digest::Digest::of(&canonical(v)?))
}

/// Sorted-key, two-space-indented, newline-terminated JSON: the form of every file mcpseal writes.
pub fn to_pretty_sorted(v: &Value) -> String {
    // Sorted explicitly: serde_json's `preserve_order` (which a dependency — cedar-policy —
    // turns on for the whole build) makes its Map keep insertion order, and the lockfile's
    // format (and the gate's index over it, src/lock/index.rs) is sorted keys at every depth.
    let mut s = serde_json::to_string_pretty(&sorted(v)).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// One RFC 6901 reference token: `~` becomes `~0` and `/` becomes `~1` (`~` first, so a key
/// that already reads `~1` stays that key). The one escaper every pointer mcpseal writes goes
/// through: findings, diffs, lookups of member names with a `/` in them.
pub fn pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if !token.contains(['~', '/']) {
        return std::borrow::Cow::Borrowed(token);
    }
    let mut out = String::with_capacity(token.len() + 4);
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Appends `/token` (escaped by [`pointer_token`]) to a JSON pointer in place.
pub fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&pointer_token(token));
}

/// `pointer` followed by `/token` (escaped by [`pointer_token`]), as a new string.
pub fn pointer_child(pointer: &str, token: &str) -> String {
    let mut p = String::with_capacity(pointer.len() + token.len() + 1);
    p.push_str(pointer);
    push_pointer_token(&mut p, token);
    p
}

/// `v` with every object's keys in byte order, at every depth.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6901 section 3: `~` is escaped before `/`, so `~1` in a key does not become `/`;
    /// the pointer written resolves to the member it names.
    #[test]
    fn pointer_tokens_escape_tilde_then_slash() {
        assert_eq!(pointer_token("plain"), "plain");
        assert_eq!(pointer_token("a/b"), "a~1b");
        assert_eq!(pointer_token("m~n"), "m~0n");
        assert_eq!(pointer_token("~1"), "~01");
        assert_eq!(pointer_token("/~/"), "~1~0~1");
        assert_eq!(pointer_child("/a", "b/c~d"), "/a/b~1c~0d");
        assert_eq!(pointer_child("", ""), "/");
        let v = serde_json::json!({"a/b": {"~1": {"m~n": 7}}});
        let mut p = String::new();
        for k in ["a/b", "~1", "m~n"] {
            push_pointer_token(&mut p, k);
        }
        assert_eq!(p, "/a~1b/~01/m~0n");
        assert_eq!(v.pointer(&p), Some(&serde_json::json!(7)));
    }

    #[test]
    fn pretty_sorted_sorts_keys_at_every_depth_whatever_the_map_keeps() {
        let mut inner = serde_json::Map::new();
        inner.insert("z".into(), json_lit("1"));
        inner.insert("a".into(), json_lit("2"));
        let mut outer = serde_json::Map::new();
        outer.insert("servers".into(), Value::Object(inner));
        outer.insert("serial".into(), json_lit("3"));
        let text = to_pretty_sorted(&Value::Object(outer));
        assert_eq!(
            text,
            "{\n  \"serial\": 3,\n  \"servers\": {\n    \"a\": 2,\n    \"z\": 1\n  }\n}\n"
        );
    }

    fn json_lit(s: &str) -> Value {
        serde_json::from_str(s).unwrap_or(Value::Null)
    }

    #[test]
    fn duplicate_keys_are_rejected_at_any_depth() {
        let e = parse_strict(br#"{"a":{"b":1,"b":2}}"#).unwrap_err();
        assert!(
            matches!(e, JsonError::DuplicateKey { ref key } if key == "b"),
            "{e}"
        );
        assert!(parse_strict(br#"{"a":1,"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(
            parse_strict(deep.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn pick_builds_one_entry_but_checks_the_whole_document() {
        let doc = br#"{"version":1,"servers":{"a":{"x":1},"b":{"y":[1,{"z":2}]}}}"#;
        let (top, picked) = parse_strict_pick(doc, "servers", "b").unwrap();
        assert_eq!(top["version"], 1);
        assert_eq!(picked.unwrap()["y"][1]["z"], 2);
        assert!(parse_strict_pick(doc, "servers", "c").unwrap().1.is_none());
        // A duplicate key in an entry that is not picked is still refused.
        let dup = br#"{"version":1,"servers":{"a":{"x":1,"x":2},"b":{}}}"#;
        assert!(matches!(
            parse_strict_pick(dup, "servers", "b"),
            Err(JsonError::DuplicateKey { .. })
        ));
        let dup_server = br#"{"version":1,"servers":{"b":{},"b":{}}}"#;
        assert!(matches!(
            parse_strict_pick(dup_server, "servers", "b"),
            Err(JsonError::DuplicateKey { .. })
        ));
        assert!(matches!(
            parse_strict_pick(b"{\"servers\":{}} x", "servers", "b"),
            Err(JsonError::Syntax(_))
        ));
    }

    /// `check_strict` (the lock's first pass before its typed parse) refuses what
    /// `parse_strict` refuses: a duplicate key hidden inside an array inside an object (the
    /// differential a lockfile smuggles a second `digest` through), trailing data, hostile
    /// depth; and accepts every JSON type, arrays included, without building a tree.
    #[test]
    fn check_strict_refuses_what_parse_strict_refuses() {
        let dup = br#"{"servers":{"a":{"tools":[{"name":"x","digest":"1","digest":"2"}]}}}"#;
        assert!(
            matches!(check_strict(dup), Err(JsonError::DuplicateKey { ref key }) if key == "digest"),
            "{:?}",
            check_strict(dup).err()
        );
        assert!(matches!(
            check_strict(br#"{"a":1,"a":1}"#),
            Err(JsonError::DuplicateKey { .. })
        ));
        assert!(matches!(check_strict(b"{} {}"), Err(JsonError::Syntax(_))));
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(
            check_strict(deep.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
        let every_type =
            br#"{"s":"t\u00e9","n":[1,-2,3.5],"b":[true,false],"z":null,"o":{"a":{}}}"#;
        assert!(check_strict(every_type).is_ok());
        assert!(parse_strict(every_type).is_ok());
    }

    /// A document of the wrong shape is refused with a message that says which shape was
    /// expected (the top level, and the member being picked from).
    #[test]
    fn pick_names_the_shape_it_expected() {
        let msg = |r: Result<(Map<String, Value>, Option<Value>), JsonError>| match r {
            Err(JsonError::Syntax(m)) => m,
            other => panic!("expected a syntax error, got {other:?}"),
        };
        let top = msg(parse_strict_pick(b"[]", "servers", "a"));
        assert!(top.contains("expected a JSON object"), "{top}");
        let inner = msg(parse_strict_pick(br#"{"servers":[1]}"#, "servers", "a"));
        assert!(inner.contains("expected an object"), "{inner}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(parse_strict(b"{} x").is_err());
        assert!(parse_strict(b"{}\n").is_ok());
    }

    #[test]
    fn canonical_sorts_keys_and_rejects_unsafe_integers() {
        let v = parse_strict(br#"{"b":1,"a":[true,null,"x"],"c":1.5}"#).unwrap();
        assert_eq!(
            canonical(&v).unwrap(),
            br#"{"a":[true,null,"x"],"b":1,"c":1.5}"#
        );
        let big = parse_strict(b"{\"n\":9007199254740993}").unwrap();
        assert!(matches!(canonical(&big), Err(JsonError::UnsafeInteger(_))));
        let edge = parse_strict(b"{\"n\":9007199254740991}").unwrap();
        assert!(canonical(&edge).is_ok());
    }

    /// Byte for byte the reference implementation's vectors (testdata/jcs/README.md): key
    /// order by UTF-16 code units (the `weird` and `french` cases), ECMAScript numbers
    /// (`values`: 1E30 → 1e+30, 4.50 → 4.5, 0.000…1 → 1e-27), escapes (`\u000F` → `\u000f`,
    /// `\/` → `/`, U+007F literal). The crate we replaced is held to the same bytes, so the
    /// differential below compares two writers that both pass the reference.
    #[test]
    fn canonical_matches_the_rfc_8785_reference_vectors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/jcs");
        let mut n = 0;
        for name in [
            "arrays",
            "french",
            "structures",
            "unicode",
            "values",
            "weird",
        ] {
            let input = std::fs::read(dir.join("input").join(format!("{name}.json"))).unwrap();
            let want = std::fs::read(dir.join("output").join(format!("{name}.json"))).unwrap();
            let v = parse_strict(&input).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&canonical(&v).unwrap()),
                String::from_utf8_lossy(&want),
                "{name}"
            );
            assert_eq!(
                serde_json_canonicalizer::to_vec(&v).unwrap(),
                want,
                "{name}"
            );
            n += 1;
        }
        assert_eq!(n, 6);
    }

    /// A name with a character beyond U+FFFF (a surrogate pair in UTF-16) sorts before one in
    /// U+E000..U+FFFF, the reverse of their UTF-8 byte order: a writer that sorted by bytes
    /// would give another digest than every other RFC 8785 implementation.
    #[test]
    fn canonical_sorts_names_by_utf16_code_units_not_bytes() {
        let v = parse_strict("{\"\u{e000}\":1,\"\u{10000}\":2,\"z\":3}".as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(canonical(&v).unwrap()).unwrap(),
            "{\"z\":3,\"\u{10000}\":2,\"\u{e000}\":1}"
        );
        assert!("\u{e000}".as_bytes() < "\u{10000}".as_bytes());
    }

    /// The shortcut in [`utf16_order`] (a byte compare when the first difference is ASCII)
    /// agrees with comparing every UTF-16 code unit, on prefixes, ASCII against non-ASCII
    /// and the surrogate-pair range against U+E000..U+FFFF.
    #[test]
    fn utf16_order_is_the_order_of_code_units() {
        let names = [
            "",
            "a",
            "ab",
            "b",
            "a\u{7f}",
            "a\u{80}",
            "aé",
            "a\u{e000}",
            "a\u{e000}b",
            "a\u{10000}",
            "a😂b",
            "\u{ffff}",
            "\u{10ffff}",
            "é",
            "Z",
            "a\u{d7ff}",
        ];
        for a in names {
            for b in names {
                let want = a.encode_utf16().cmp(b.encode_utf16());
                assert_eq!(utf16_order(a, b), want, "{a:?} vs {b:?}");
            }
        }
    }

    /// Our writer against serde_json_canonicalizer on many generated documents: every control
    /// character, quotes and backslashes, names that differ only past U+FFFF, doubles at the
    /// edges of ECMAScript's formatting (1e21, 1e-7, subnormals, -0) and integers at ±2^53.
    #[test]
    fn canonical_agrees_with_serde_json_canonicalizer() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const CHARS: &[char] = &[
            'a',
            'Z',
            '0',
            '"',
            '\\',
            '/',
            '\u{0}',
            '\u{8}',
            '\u{9}',
            '\u{a}',
            '\u{b}',
            '\u{c}',
            '\u{d}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            'é',
            '\u{2028}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fb33}',
            '\u{ffff}',
            '\u{10000}',
            '😂',
            '\u{10ffff}',
        ];
        const NUMBERS: &[f64] = &[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e21,
            1e20,
            999999999999999900000.0,
            1e-6,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            333333333.3333333,
            9007199254740991.0,
            -9007199254740991.0,
            1.5e300,
            4.35,
        ];
        fn string(next: &mut impl FnMut() -> u64) -> String {
            (0..next() % 6)
                .map(|_| CHARS[(next() as usize) % CHARS.len()])
                .collect()
        }
        fn value(next: &mut impl FnMut() -> u64, depth: u32) -> Value {
            match next() % if depth > 3 { 5 } else { 7 } {
                0 => Value::Null,
                1 => Value::Bool(next().is_multiple_of(2)),
                2 => Value::from(NUMBERS[(next() as usize) % NUMBERS.len()]),
                3 => Value::from(
                    (next() % (1 << 53)) as i64 * if next().is_multiple_of(2) { 1 } else { -1 },
                ),
                4 => Value::String(string(next)),
                5 => Value::Array((0..next() % 5).map(|_| value(next, depth + 1)).collect()),
                _ => Value::Object(
                    (0..next() % 6)
                        .map(|_| (string(next), value(next, depth + 1)))
                        .collect(),
                ),
            }
        }
        for _ in 0..5_000 {
            let v = value(&mut next, 0);
            let ours = canonical(&v).unwrap();
            let theirs = serde_json_canonicalizer::to_vec(&v).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{v:?}"
            );
            // Canonical text is JSON that reads back to the same value.
            let back = parse_strict(&ours).unwrap();
            assert_eq!(canonical(&back).unwrap(), ours);
        }
    }

    /// The duplicate check of an object stays linear however many members it has: names go
    /// to a short list up to [`Seen::LIST`], then all of them to a hash set (searching a list
    /// of a million names for each new one would be quadratic, a denial of service by one
    /// lockfile or one message). Cargo mutants found no test holding the switch.
    #[test]
    fn the_duplicate_check_moves_from_a_list_to_a_hash_set_past_sixteen_members() {
        let names: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let mut seen = Seen::default();
        for (i, n) in names.iter().enumerate() {
            let r: Result<(), serde_json::Error> = seen.insert(Cow::Borrowed(n.as_str()));
            assert!(r.is_ok(), "{n}");
            if i < Seen::LIST {
                assert_eq!(
                    (seen.list.len(), seen.set.len()),
                    (i + 1, 0),
                    "after {}",
                    i + 1
                );
            } else {
                assert_eq!(
                    (seen.list.len(), seen.set.len()),
                    (0, i + 1),
                    "after {}",
                    i + 1
                );
            }
        }
        assert_eq!(Seen::LIST, 16);
        for n in [&names[0], &names[15], &names[16], &names[39]] {
            let r: Result<(), serde_json::Error> = seen.insert(Cow::Borrowed(n.as_str()));
            assert!(r.is_err(), "{n} again");
        }
    }

    /// A duplicate spelled with an escape (`"a"` and `"\u0061"`) is the same name: refused
    /// by every strict reader, in a small object and past the point where the check moves
    /// from a list to a hash set (both the list's names and later ones).
    #[test]
    fn escaped_duplicates_are_duplicates_in_small_and_large_objects() {
        let refused = |doc: &str| {
            let dup = |r: Result<(), JsonError>| matches!(r, Err(JsonError::DuplicateKey { .. }));
            let strict = dup(check_strict(doc.as_bytes()));
            let parsed = dup(parse_strict(doc.as_bytes()).map(|_| ()));
            assert_eq!(strict, parsed, "{doc}");
            let wrapped = format!("{{\"servers\":{{\"x\":{doc}}}}}");
            let picked = dup(parse_strict_pick(wrapped.as_bytes(), "servers", "x").map(|_| ()));
            let other = dup(parse_strict_pick(wrapped.as_bytes(), "servers", "y").map(|_| ()));
            assert_eq!(strict, picked, "{doc}");
            assert_eq!(strict, other, "{doc}");
            strict
        };
        assert!(refused(r#"{"a":1,"\u0061":2}"#));
        assert!(refused(r#"{"\u0061":1,"a":2}"#));
        assert!(!refused(r#"{"a":1,"\u0062":2}"#));
        let many = |extra: &str| {
            let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{},{extra}}}", members.join(","))
        };
        assert!(!refused(&many(r#""k40":0"#)));
        assert!(
            refused(&many(r#""k3":0"#)),
            "a name from the list phase, repeated late"
        );
        assert!(refused(&many(r#""k39":0"#)), "a name from the set phase");
        assert!(refused(&many(r#""k\u0031":0"#)), "k1, escaped");
        let sixteen: Vec<String> = (0..16).map(|i| format!("\"k{i}\":{i}")).collect();
        assert!(
            refused(&format!("{{{},\"k0\":0}}", sixteen.join(","))),
            "the 17th repeats the 1st"
        );
        assert!(
            refused(&format!("{{{},\"k15\":0}}", sixteen.join(","))),
            "the 17th repeats the 16th"
        );
    }

    /// The ±2^53 rule holds inside arrays and for negative integers too (cargo mutants found
    /// both unchecked); the boundary itself, positive or negative, is still exact.
    #[test]
    fn unsafe_integers_in_arrays_and_negative_ones_are_rejected() {
        let unsafe_ = |text: &str| {
            let v = parse_strict(text.as_bytes()).unwrap();
            matches!(canonical(&v), Err(JsonError::UnsafeInteger(n)) if text.contains(&n))
        };
        assert!(unsafe_("[9007199254740992]"));
        assert!(unsafe_("[1,[2,{\"n\":[9007199254740993]}]]"));
        assert!(unsafe_("{\"n\":-9007199254740992}"));
        assert!(unsafe_("[-9223372036854775808]"));
        for ok in [
            "[9007199254740991]",
            "[-9007199254740991]",
            "-1",
            "[-1.5e300]",
        ] {
            let v = parse_strict(ok.as_bytes()).unwrap();
            assert!(canonical(&v).is_ok(), "{ok}");
        }
    }
}
