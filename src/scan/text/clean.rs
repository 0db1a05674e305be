//! Text cleaning: the copy of a string the pattern rules read (invisible characters dropped,
//! whitespace runs collapsed, curly quotes straightened, ASCII look-alike letters read as
//! ASCII), with the map from its offsets back to the original's.

use std::sync::LazyLock;

use super::Shape;
use super::unicode::{Hidden, classify};

/// `s` with invisible characters dropped, whitespace runs collapsed to one space and curly
/// quotes straightened, plus the original char offset of every cleaned char.
pub(crate) struct Cleaned<'a> {
    pub text: std::borrow::Cow<'a, str>,
    /// The string as it was given.
    source: &'a str,
    /// Original char offset of each char of `text`, plus one past the end; `None` when
    /// `text` is the original ASCII string (byte offset = char offset).
    offsets: Option<Vec<usize>>,
}

impl<'a> Cleaned<'a> {
    pub(super) fn new(s: &'a str, shape: &Shape) -> Cleaned<'a> {
        // Fast path: ASCII with no control characters and no whitespace runs is already clean.
        if shape.ascii && !shape.low_byte && !shape.double_space {
            return Cleaned {
                text: std::borrow::Cow::Borrowed(s),
                source: s,
                offsets: None,
            };
        }
        let mut text = String::with_capacity(s.len());
        let mut offsets = Vec::with_capacity(s.len() + 1);
        let mut in_space = false;
        let mut n = 0;
        for (i, c) in s.chars().enumerate() {
            n = i + 1;
            if classify(c).is_some_and(|h| h != Hidden::Control) {
                continue;
            }
            if c.is_whitespace() {
                if in_space {
                    continue;
                }
                in_space = true;
                text.push(' ');
                offsets.push(i);
                continue;
            }
            in_space = false;
            let c = match c {
                '\u{2018}' | '\u{2019}' | '\u{02BC}' => '\'',
                '\u{201C}' | '\u{201D}' => '"',
                c => c,
            };
            // A letter that looks like ASCII (Greek capital iota for `I`, Cyrillic `е` for
            // `e`, fullwidth letters) is read as that ASCII, so look-alikes do not hide words.
            if !c.is_ascii()
                && let Some(ascii) = ascii_look_alike(c)
            {
                text.push(ascii);
                offsets.push(i);
                continue;
            }
            text.push(c);
            offsets.push(i);
        }
        offsets.push(n);
        Cleaned {
            text: std::borrow::Cow::Owned(text),
            source: s,
            offsets: Some(offsets),
        }
    }

    /// Original char offset of a byte offset in `text`.
    pub(crate) fn orig(&self, byte: usize) -> usize {
        match &self.offsets {
            None => byte,
            Some(offsets) => {
                let bytes = self.text.as_bytes();
                let idx = bytes
                    .get(..byte)
                    .unwrap_or(bytes)
                    .iter()
                    .filter(|&&b| (b & 0xC0) != 0x80)
                    .count();
                offsets.get(idx).copied().unwrap_or(0)
            }
        }
    }

    /// The original text behind `text[start..end]` (byte offsets in `text`): what an address
    /// in the cleaned copy really spells, look-alike letters and invisible characters kept.
    pub(crate) fn original(&self, start: usize, end: usize) -> &'a str {
        if self.offsets.is_none() {
            return self.source.get(start..end).unwrap_or("");
        }
        let byte = |chars: usize| {
            self.source
                .char_indices()
                .nth(chars)
                .map_or(self.source.len(), |(i, _)| i)
        };
        let (from, to) = (byte(self.orig(start)), byte(self.orig(end)));
        self.source.get(from..to).unwrap_or("")
    }
}

/// The ASCII letters a non-ASCII letter is confusable with (Unicode TR39 skeleton), when the
/// whole skeleton is ASCII alphanumeric: `Ι` (U+0399) → `I`, `е` (U+0435) → `e`.
///
/// TR39 maps `I`, `l` and `1` to one skeleton, so the ASCII letter is the one of the same
/// case (an uppercase look-alike reads as the uppercase letter); when no single letter fits,
/// the character is left alone.
pub(crate) fn ascii_look_alike(c: char) -> Option<char> {
    static BY_SKELETON: LazyLock<std::collections::BTreeMap<String, Vec<char>>> =
        LazyLock::new(|| {
            let mut m: std::collections::BTreeMap<String, Vec<char>> = Default::default();
            for a in ('0'..='9').chain('A'..='Z').chain('a'..='z') {
                m.entry(skeleton_of(a)).or_default().push(a);
            }
            m
        });
    if !c.is_alphanumeric() {
        return None;
    }
    let candidates = BY_SKELETON.get(&skeleton_of(c))?;
    let same_case: Vec<char> = candidates
        .iter()
        .copied()
        .filter(|a| {
            (a.is_ascii_uppercase() && c.is_uppercase())
                || (a.is_ascii_lowercase() && c.is_lowercase())
                || (a.is_ascii_digit() && c.is_numeric())
        })
        .collect();
    match (same_case.as_slice(), candidates.as_slice()) {
        ([one], _) | ([], [one]) => Some(*one),
        _ => None,
    }
}

fn skeleton_of(c: char) -> String {
    let mut buf = [0u8; 4];
    unicode_security::skeleton(c.encode_utf8(&mut buf)).collect()
}
