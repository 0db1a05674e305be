//! A small span-keeping parser for JSON with comments and trailing commas (JSONC), as VS Code
//! and friends write their `mcp.json`.
//!
//! Every value and every object key keeps its byte range in the source, so `wrap` can replace
//! one server entry in place and leave every other byte (comments, indentation, key order,
//! unknown keys) as it was. Strict where it matters: a duplicate key in one object is an error
//! (serde_json keeps the last, other parsers the first: a parser differential), nesting deeper
//! than [`MAX_DEPTH`] is an error, never a stack overflow. Errors carry line and column.
//!
//! What does not live here: what the keys mean (see [`super`]), editing (see [`super::edit`]).

use std::ops::Range;

/// Deepest nesting accepted (objects plus arrays).
pub const MAX_DEPTH: usize = 128;

/// A parsed value with its byte range in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// The number as written (validated against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `"key": value` of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Node,
}

/// Where and why the text is not JSONC. Line and column are 1-based (column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            Kind::Object(m) => m.iter().find(|m| m.key == key),
            _ => None,
        }
    }
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Object(m) => m,
            _ => &[],
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }
    /// The plain JSON value (comments and spans dropped).
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            Kind::String(s) => Value::String(s.clone()),
            Kind::Array(a) => Value::Array(a.iter().map(Node::to_value).collect()),
            Kind::Object(m) => Value::Object(
                m.iter()
                    .map(|m| (m.key.clone(), m.value.to_value()))
                    .collect(),
            ),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Parses one JSONC document: `//` and `/* */` comments and trailing commas allowed, nothing
/// but whitespace and comments after the value. A UTF-8 byte-order mark is skipped.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    if text.starts_with('\u{feff}') {
        p.i = 3;
    }
    p.ws()?;
    let v = p.value(0)?;
    p.ws()?;
    if p.i < p.s.len() {
        return Err(p.err("unexpected data after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> ParseError {
        self.err_at(self.i, msg)
    }
    fn err_at(&self, at: usize, msg: &str) -> ParseError {
        let (line, column) = line_col(self.text, at);
        ParseError {
            line,
            column,
            message: msg.to_owned(),
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips whitespace and comments.
    fn ws(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') => match self.s.get(self.i + 1) {
                    Some(b'/') => {
                        while let Some(c) = self.peek() {
                            if c == b'\n' {
                                break;
                            }
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.i;
                        self.i += 2;
                        loop {
                            match self.peek() {
                                None => return Err(self.err_at(start, "unterminated comment")),
                                Some(b'*') if self.s.get(self.i + 1) == Some(&b'/') => {
                                    self.i += 2;
                                    break;
                                }
                                Some(_) => self.i += 1,
                            }
                        }
                    }
                    _ => return Err(self.err("unexpected '/'")),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        let start = self.i;
        let kind = match self.peek() {
            None => return Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.word("true", Kind::Bool(true))?,
            Some(b'f') => self.word("false", Kind::Bool(false))?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(Node {
            span: start..self.i,
            kind,
        })
    }

    fn word(&mut self, w: &str, k: Kind) -> Result<Kind, ParseError> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(k)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn digits(&mut self) -> usize {
        let st = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - st
    }

    fn number(&mut self) -> Result<Kind, ParseError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        Ok(Kind::Number(self.text[start..self.i].to_owned()))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        // Four hex digits exactly: `from_str_radix` alone also takes a sign (`\u+041`).
        let h = self
            .s
            .get(self.i..self.i + 4)
            .filter(|b| b.iter().all(u8::is_ascii_hexdigit))
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let run = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.text[run..self.i]);
            match self.peek() {
                None => return Err(self.err_at(start, "unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let at = self.i - 2;
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.err_at(at, "unpaired surrogate"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err_at(at, "unpaired surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(
                                char::from_u32(cp)
                                    .ok_or_else(|| self.err_at(at, "unpaired surrogate"))?,
                            );
                        }
                        _ => return Err(self.err_at(self.i - 2, "invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Kind, ParseError> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.ws()?;
            if self.peek() == Some(b']') {
                self.i += 1;
                return Ok(Kind::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Kind, ParseError> {
        self.i += 1;
        let mut members: Vec<Member> = Vec::new();
        loop {
            self.ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Kind::Object(members));
                }
                Some(b'"') => {}
                _ => return Err(self.err("expected a string key or '}'")),
            }
            let ks = self.i;
            let key = self.string()?;
            let key_span = ks..self.i;
            if members.iter().any(|m| m.key == key) {
                return Err(self.err_at(ks, &format!("duplicate key {key:?}")));
            }
            self.ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws()?;
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_trailing_commas_and_spans() {
        let t =
            "// head\n{\n  /* c */ \"a\": [1, 2,], // x\n  \"b\": \"\\u00e9\\ud83d\\ude00\",\n}\n";
        let n = parse(t).unwrap();
        let a = n.member("a").unwrap();
        assert_eq!(&t[a.key_span.clone()], "\"a\"");
        assert_eq!(&t[a.value.span.clone()], "[1, 2,]");
        assert_eq!(n.get("b").unwrap().as_str(), Some("é😀"));
        assert_eq!(n.to_value(), serde_json::json!({"a":[1,2],"b":"é😀"}));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("{\n  \"a\": 1,\n  \"a\": 2\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));
        assert!(e.message.contains("duplicate"));
        let e = parse("{\n \"a\": tru }").unwrap_err();
        assert_eq!(e.line, 2);
        for bad in [
            "",
            "{",
            "[1 2]",
            "{\"a\" 1}",
            "\"\\x\"",
            "01",
            "1.",
            "/* x",
            "{} {}",
            "\"\n\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    /// The `client_config_jsonc` fuzz target's differential oracle (docs/fuzzing.md) fails on
    /// this, on an input written after reading the code: `\u+041` was read as `A`, because the
    /// four "hex digits" went to `u32::from_str_radix`, which accepts a leading `+`. JSON (and
    /// the clients' own parsers) refuse it: a config that means one thing to mcpseal and
    /// another, or nothing, to the client is a parser differential.
    #[test]
    fn a_unicode_escape_is_four_hex_digits_and_no_sign() {
        for bad in [
            r#""\u+041""#,
            r#""\u+0041""#,
            r#""\u-041""#,
            r#""\ud83d\u+e00""#,
            r#""\u 041""#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse(r#""\u0041\u00e9""#).unwrap().as_str(), Some("Aé"));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).unwrap_err().message.contains("deep"));
    }
}
