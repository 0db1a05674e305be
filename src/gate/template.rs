//! Matching a resource URI against a pinned resource template (RFC 6570), in linear time.
//!
//! A `resources/read` (or `subscribe`, or a completion) may name a URI that no `resources/list`
//! announced but that a pinned, checked template produces. The gate must decide that on every
//! such request, under the session's state, so matching has to be cheap whatever the URI: the
//! template is compiled once into a [`regex`] (finite automata: time linear in the URI's length,
//! no backtracking), never searched by trying every split.
//!
//! What each expression matches (the forms the MCP SDKs generate and match):
//!
//! | expression | matches |
//! |---|---|
//! | `{var}`, `{a,b}` | one or more characters other than `/ , ? #`, space and control characters, comma-separated |
//! | `{+var}` | one or more characters other than space and control characters (reserved expansion: `/` allowed) |
//! | `{#var}` | `#` then as `{+var}` |
//! | `{/var}`, `{.var}` | `/` (or `.`) then as `{var}`, once per variable (any number with `*`) |
//! | `{;a,b}` | `;name` or `;name=value` per variable |
//! | `{?a,b}`, `{&a,b}` | `?name=value&name=value` / `&name=value`, names from the list |
//!
//! **Path traversal.** Unless the template contains a reserved expansion (`{+var}` or
//! `{#var}`), whose author allowed arbitrary paths, a URI whose percent-decoded form (decoded
//! repeatedly, so `%252e` counts) has a `.` or `..` segment (split on `/` and `\`) matches
//! nothing: a variable never smuggles `..`, `%2e%2e%2f` or `%252e%252e` past the pin.
//!
//! A template that cannot be compiled (an unclosed brace, a huge literal) matches nothing.

use regex::bytes::Regex;

/// A pinned resource template, compiled for matching.
#[derive(Debug, Clone)]
pub struct Template {
    re: Option<Regex>,
    reserved: bool,
}

/// A simple (unreserved) variable value: no `/ , ? #`, no ASCII space or control character.
/// (ASCII classes keep the automaton small: a URI never carries raw Unicode whitespace that
/// a server would treat as a separator.)
const SIMPLE: &str = r"[^/,?#\x00-\x20\x7F]+";
/// A reserved-expansion value: anything but ASCII space and control characters.
const RESERVED: &str = r"[^\x00-\x20\x7F]+";
/// A query value.
const QUERY: &str = r"[^&#\x00-\x20\x7F]*";

impl Template {
    /// Compiles `template`. Never fails: an invalid template matches nothing.
    pub fn new(template: &str) -> Template {
        let (re, reserved) = match compile(template) {
            Some((pattern, reserved)) => (
                regex::bytes::RegexBuilder::new(&pattern)
                    // Byte classes: a small automaton; the URI is checked as bytes.
                    .unicode(false)
                    .size_limit(1 << 20)
                    .dfa_size_limit(1 << 21)
                    .build()
                    .ok(),
                reserved,
            ),
            None => (None, false),
        };
        Template { re, reserved }
    }

    /// Whether `uri` is one this template produces (and not a traversal, see the module docs).
    pub fn matches(&self, uri: &str) -> bool {
        let Some(re) = &self.re else { return false };
        re.is_match(uri.as_bytes()) && (self.reserved || !has_dot_segment(uri))
    }
}

/// One-shot matching (compiles the template each call; the gate caches [`Template`]s).
pub fn matches(template: &str, uri: &str) -> bool {
    Template::new(template).matches(uri)
}

/// The anchored pattern of a template, and whether it has a reserved expansion.
fn compile(t: &str) -> Option<(String, bool)> {
    let mut out = String::from("^");
    let mut reserved = false;
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let (lit, after) = rest.split_at(open);
        if lit.contains('}') {
            return None;
        }
        out.push_str(&regex::escape(lit));
        let close = after.find('}')?;
        let expr = &after[1..close];
        rest = &after[close + 1..];
        let (op, vars) = match expr.chars().next()? {
            c @ ('+' | '#' | '/' | '.' | ';' | '?' | '&') => (c, &expr[1..]),
            _ => (' ', expr),
        };
        let names: Vec<(&str, bool)> = vars
            .split(',')
            .map(|v| {
                let v = v.split(':').next().unwrap_or(v); // prefix modifier {var:3}
                match v.strip_suffix('*') {
                    Some(n) => (n, true),
                    None => (v, false),
                }
            })
            .collect();
        if names.iter().any(|(n, _)| {
            n.is_empty()
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'%')
        }) {
            return None;
        }
        let explode = names.iter().any(|(_, e)| *e);
        let n = names.len();
        let reps = |unit: &str| {
            if explode {
                format!("(?:{unit})+")
            } else {
                format!("(?:{unit}){{1,{n}}}")
            }
        };
        let alternatives = names
            .iter()
            .map(|(n, _)| regex::escape(n))
            .collect::<Vec<_>>()
            .join("|");
        let piece = match op {
            ' ' => {
                if explode || n > 1 {
                    format!("{SIMPLE}(?:,{SIMPLE})*")
                } else {
                    SIMPLE.to_owned()
                }
            }
            '+' => {
                reserved = true;
                RESERVED.to_owned()
            }
            '#' => {
                reserved = true;
                format!("#{RESERVED}")
            }
            '/' => reps(&format!("/{SIMPLE}")),
            '.' => reps(&format!(r"\.{SIMPLE}")),
            ';' => reps(&format!(";(?:{alternatives})(?:={SIMPLE})?")),
            '?' => format!(r"(?:\?(?:{alternatives})={QUERY}(?:&(?:{alternatives})={QUERY})*)?"),
            '&' => format!("(?:&(?:{alternatives})={QUERY})*"),
            _ => return None,
        };
        out.push_str(&piece);
    }
    if rest.contains('}') {
        return None;
    }
    out.push_str(&regex::escape(rest));
    out.push('$');
    Some((out, reserved))
}

/// Whether `uri`, percent-decoded until it stops changing (at most 4 rounds; a URI still
/// changing after that counts as a traversal), has a `.` or `..` segment.
fn has_dot_segment(uri: &str) -> bool {
    let mut cur: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(uri.as_bytes());
    for round in 0..=4 {
        if dot_segment(&cur) {
            return true;
        }
        if memchr::memchr(b'%', &cur).is_none() {
            return false;
        }
        let next = percent_decode(&cur);
        if next.len() == cur.len() {
            return false; // nothing decodable left
        }
        if round == 4 {
            return true;
        }
        cur = std::borrow::Cow::Owned(next);
    }
    true
}

/// Whether `s` has a `.` or `..` segment between `/` or `\` separators (or the ends). Jumps
/// from dot to dot (memchr), so a long URI with few dots is cheap.
fn dot_segment(s: &[u8]) -> bool {
    let sep = |i: Option<usize>| i.is_none_or(|i| matches!(s.get(i), None | Some(b'/' | b'\\')));
    let mut from = 0;
    while let Some(off) = memchr::memchr(b'.', &s[from..]) {
        let i = from + off;
        let before = i.checked_sub(1);
        if sep(before) {
            let end = if s.get(i + 1) == Some(&b'.') {
                i + 2
            } else {
                i + 1
            };
            if sep(Some(end)) {
                return true;
            }
        }
        from = i + 1;
    }
    false
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let (Some(h), Some(l)) = (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_variables_match_one_segment() {
        assert!(matches("file:///items/{id}", "file:///items/7"));
        assert!(!matches("file:///items/{id}", "file:///items/"));
        assert!(!matches("file:///items/{id}", "file:///items/7/8"));
        assert!(!matches("file:///items/{id}", "file:///items/7?x=1"));
        assert!(!matches("x://a/{id}", "x://b/1"));
        assert!(matches("x://{a}{b}{c}.z", "x://abc.z"));
        assert!(matches("x://{a},{b}", "x://1,2"));
        assert!(matches("x://{a,b}", "x://1,2"));
        assert!(!matches("x://{a,b}", "x://1/2"));
        // One variable is one value: a comma list only for a list of variables (or `*`).
        assert!(!matches("x://{a}", "x://1,2"));
        assert!(matches("x://{a*}", "x://1,2"));
    }

    /// Variable names are RFC 6570's: letters, digits, `_`, percent-encoded octets, and dots
    /// between them; any other character makes the template invalid (it matches nothing).
    #[test]
    fn variable_names_take_dots_and_percent_encoding() {
        assert!(matches("x://{a.b}", "x://1"));
        assert!(matches("x://{a%41}", "x://1"));
        assert!(matches("x://{a_1}", "x://1"));
        assert!(!matches("x://{a-b}", "x://1"));
    }

    #[test]
    fn operators() {
        assert!(matches("x://{+path}", "x://a/b/c"));
        assert!(matches("x://doc{#frag}", "x://doc#a/b"));
        assert!(matches("x://r{/seg}", "x://r/one"));
        assert!(!matches("x://r{/seg}", "x://r/one/two"));
        assert!(matches("x://r{/seg*}", "x://r/one/two"));
        assert!(matches("x://r/file{.ext}", "x://r/file.txt"));
        assert!(matches("x://s{?q,lang}", "x://s?q=cats&lang=en"));
        assert!(matches("x://s{?q,lang}", "x://s"));
        assert!(!matches("x://s{?q}", "x://s?evil=1"));
        assert!(matches("x://s?fixed=1{&q}", "x://s?fixed=1&q=2"));
        assert!(matches("x://m{;v}", "x://m;v=1"));
        assert!(matches("x://{var:3}", "x://abc"));
    }

    #[test]
    fn invalid_templates_match_nothing() {
        for t in ["x://{id", "x://id}", "x://{}", "x://{a b}", "x://{!a}"] {
            assert!(!matches(t, "x://1"), "{t}");
            assert!(!matches(t, t), "{t}");
        }
    }

    /// Issue 9: a variable value must never carry a path-traversal segment, in any encoding.
    #[test]
    fn attack_traversal_through_a_variable_is_refused() {
        for uri in [
            "file:///items/..",
            "file:///items/.",
            "file:///items/%2e%2e",
            "file:///items/%2E%2e",
            "file:///items/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "file:///items/a%2f..%2f..%2fetc",
            "file:///items/%252e%252e",
            "file:///items/%25252e%25252e",
            "file:///items/..%5c..%5cwindows",
        ] {
            assert!(!matches("file:///items/{id}", uri), "{uri}");
        }
        // A `.` segment followed by more path, in a template of two variables.
        assert!(!matches("file:///{a}/{b}", "file:///./x"));
        assert!(!matches("file:///{a}/{b}", "file:///%2e/x"));
        assert!(matches("file:///{a}/{b}", "file:///.x/y"));
        assert!(matches("file:///items/{id}", "file:///items/...")); // a name, not a segment
        assert!(matches("file:///items/{id}", "file:///items/.hidden"));
        assert!(matches("file:///items/{id}", "file:///items/%41"));
        // A reserved expansion is the pin author's explicit choice of arbitrary paths.
        assert!(matches("file:///{+path}", "file:///a/../b"));
    }

    /// Issue 9: matching used to try every split (15 s for a 400 KB URI); now it is linear.
    #[test]
    fn attack_long_uris_are_matched_in_linear_time() {
        let long = "a".repeat(1 << 20);
        let t = Template::new("test://r/{id}");
        assert!(t.matches(&format!("test://r/{long}")));
        assert!(!t.matches(&format!("test://r/{long}/")));
        let three = Template::new("x://{a}{b}{c}.z");
        assert!(!three.matches(&format!("x://{}", "a".repeat(1000))));
        assert!(three.matches(&format!("x://{}.z", "a".repeat(1000))));
        // (No timed assertion: scripts/bench-gate.sh measures matching; a return of the
        // quadratic search would make this test run for minutes and hit nextest's timeout.)
    }
}
