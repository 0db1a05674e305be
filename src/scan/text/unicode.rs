//! Unicode rules on one string: invisible characters, stray variation selectors (and the bytes
//! they encode), bidirectional controls and marks, tag characters (and the text they hide),
//! terminal control characters, whitespace padding. One pass counts every class in one
//! [`Tally`]; the hits are written from the tallies.

use super::{Hit, Role};
use crate::scan::Code;
use crate::severity::Severity;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Hidden {
    Invisible,
    SoftHyphen,
    VariationSelector,
    Bidi,
    BidiMark,
    Tag,
    Control,
}

pub(super) fn classify(c: char) -> Option<Hidden> {
    let cp = c as u32;
    Some(match cp {
        0x00AD => Hidden::SoftHyphen,
        0x034F | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x200B..=0x200D => {
            Hidden::Invisible
        }
        0x2060..=0x2064 | 0x206A..=0x206F | 0x3164 | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB => {
            Hidden::Invisible
        }
        0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A => Hidden::Invisible,
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => Hidden::VariationSelector,
        0x202A..=0x202E | 0x2066..=0x2069 => Hidden::Bidi,
        0x200E | 0x200F | 0x061C => Hidden::BidiMark,
        0xE0000..=0xE007F => Hidden::Tag,
        0x1B | 0x7F | 0x80..=0x9F => Hidden::Control,
        0x00..=0x1F if !matches!(c, '\t' | '\n' | '\r') => Hidden::Control,
        _ => return None,
    })
}

/// Whether `c` is one of the characters the hidden-text rules report.
pub fn is_hidden(c: char) -> bool {
    classify(c).is_some()
}

fn is_emoji(c: char) -> bool {
    let cp = c as u32;
    (0x1F000..=0x1FAFF).contains(&cp)
        || (0x2190..=0x2BFF).contains(&cp)
        || cp == 0x00A9
        || cp == 0x00AE
        || cp == 0x20E3
        || cp == 0xFE0F
}

/// Invisible characters a reader of emoji text expects: a single variation selector after a
/// visible character, a zero-width joiner between emoji, the tag sequence of a subdivision
/// flag (U+1F3F4, up to seven tags, U+E007F).
fn allowed_in_context(chars: &[char], i: usize, class: Hidden) -> bool {
    let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
    let next = chars.get(i + 1).copied();
    let c = chars.get(i).copied().unwrap_or(' ');
    match class {
        Hidden::VariationSelector => {
            matches!(c as u32, 0xFE0E | 0xFE0F)
                && prev.is_some_and(|p| classify(p).is_none() && !p.is_whitespace())
        }
        Hidden::Invisible if c == '\u{200D}' => {
            prev.is_some_and(is_emoji) && next.is_some_and(is_emoji)
        }
        Hidden::Tag => {
            // Walk back to the start of the tag run and forward to its end.
            let start = (0..=i)
                .rev()
                .find(|&j| chars.get(j).and_then(|&c| classify(c)) != Some(Hidden::Tag))
                .map_or(0, |j| j + 1);
            let end = (i..chars.len())
                .find(|&j| chars.get(j).and_then(|&c| classify(c)) != Some(Hidden::Tag))
                .unwrap_or(chars.len());
            start >= 1
                && chars.get(start - 1) == Some(&'\u{1F3F4}')
                && end - start <= 8
                && chars.get(end - 1) == Some(&'\u{E007F}')
        }
        _ => false,
    }
}

pub(super) fn printable_preview(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.chars().count() >= max {
            out.push('…');
            break;
        }
        if c.is_control() || classify(c).is_some() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// How often one class of character occurs in a string, and where it first does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    /// Char offset of the first occurrence.
    first: usize,
    count: usize,
}

impl Tally {
    fn add(&mut self, at: usize) {
        if self.count == 0 {
            self.first = at;
        }
        self.count += 1;
    }

    /// `(first offset, count)` when the class occurred at all.
    fn seen(self) -> Option<(usize, usize)> {
        (self.count > 0).then_some((self.first, self.count))
    }
}

/// Every class the hidden-text rules count in one string, plus what the classes carry: the
/// bytes variation selectors encode, the text tag characters spell, the first control
/// character's description.
#[derive(Default)]
struct Tallies {
    invisible: Tally,
    /// Soft hyphens among `invisible`: a string hidden only by them is less suspicious.
    soft_hyphens: Tally,
    selectors: Tally,
    selector_bytes: Vec<u8>,
    bidi: Tally,
    marks: Tally,
    tags: Tally,
    tag_text: String,
    control: Tally,
    control_what: String,
    lone_cr: Tally,
}

impl Tallies {
    fn count(chars: &[char]) -> Tallies {
        let mut t = Tallies::default();
        for (i, &c) in chars.iter().enumerate() {
            if c == '\r' {
                if chars.get(i + 1) != Some(&'\n') {
                    t.lone_cr.add(i);
                }
                continue;
            }
            let Some(class) = classify(c) else { continue };
            if allowed_in_context(chars, i, class) {
                continue;
            }
            let cp = c as u32;
            match class {
                Hidden::Invisible => t.invisible.add(i),
                Hidden::SoftHyphen => {
                    t.invisible.add(i);
                    t.soft_hyphens.add(i);
                }
                Hidden::VariationSelector => {
                    t.selectors.add(i);
                    t.selector_bytes.push(if cp <= 0xFE0F {
                        (cp - 0xFE00) as u8
                    } else {
                        (cp - 0xE0100 + 16) as u8
                    });
                }
                Hidden::Bidi => t.bidi.add(i),
                Hidden::BidiMark => t.marks.add(i),
                Hidden::Tag => {
                    t.tags.add(i);
                    let v = cp - 0xE0000;
                    if (0x20..0x7F).contains(&v) {
                        t.tag_text.push(char::from(v as u8));
                    }
                }
                Hidden::Control => {
                    if t.control.count == 0 {
                        t.control_what = describe_control(cp, chars.get(i + 1).copied());
                    }
                    t.control.add(i);
                }
            }
        }
        t
    }
}

fn describe_control(cp: u32, next: Option<char>) -> String {
    match (cp, next) {
        (0x1B, Some('[')) | (0x9B, _) => "an ANSI CSI sequence (ESC [)".to_owned(),
        (0x1B, Some(']')) | (0x9D, _) => {
            "an OSC sequence (ESC ]: hyperlinks, window titles, clipboard writes)".to_owned()
        }
        (0x1B, _) => "an escape character (ESC)".to_owned(),
        (0x08, _) => "a backspace, which overwrites the text before it".to_owned(),
        (cp, _) => format!("control character U+{cp:04X}"),
    }
}

/// The hidden-text hits of one string: one per class present, at its first occurrence.
pub(super) fn hidden(s: &str, role: Role, hits: &mut Vec<Hit>) {
    let chars: Vec<char> = s.chars().collect();
    let t = Tallies::count(&chars);
    let code_point = |at: usize| chars.get(at).map_or(0, |&c| c as u32);
    let in_name = matches!(role, Role::Name | Role::Key);
    if let Some((first, n)) = t.invisible.seen() {
        let soft_only = t.soft_hyphens.count == n;
        hits.push(Hit {
            code: Code::HiddenUnicode,
            severity: if soft_only && !in_name {
                Severity::Medium
            } else {
                Severity::High
            },
            offset: first,
            reason: format!(
                "{n} invisible character{} (first U+{:04X}){}",
                plural(n),
                code_point(first),
                if in_name { " in a name" } else { "" }
            ),
        });
    }
    if let Some((first, n)) = t.selectors.seen() {
        let decoded = String::from_utf8(t.selector_bytes)
            .ok()
            .filter(|d| n >= 4 && !d.is_empty());
        hits.push(Hit {
            code: Code::HiddenUnicode,
            severity: Severity::High,
            offset: first,
            reason: match decoded {
                Some(d) => format!(
                    "{n} stray variation selectors encode hidden bytes: \"{}\"",
                    printable_preview(&d, 60)
                ),
                None => format!("{n} stray variation selector{}", plural(n)),
            },
        });
    }
    if let Some((first, n)) = t.bidi.seen() {
        hits.push(Hit {
            code: Code::BidiControl,
            severity: Severity::High,
            offset: first,
            reason: format!(
                "{n} bidirectional control{} (first U+{:04X}) reorder how this text is displayed",
                plural(n),
                code_point(first)
            ),
        });
    }
    if let Some((first, n)) = t.marks.seen() {
        hits.push(Hit {
            code: Code::BidiControl,
            severity: if in_name {
                Severity::High
            } else {
                Severity::Medium
            },
            offset: first,
            reason: format!("{n} invisible direction mark{} (LRM/RLM/ALM)", plural(n)),
        });
    }
    if let Some((first, n)) = t.tags.seen() {
        hits.push(Hit {
            code: Code::TagCharacters,
            severity: Severity::Critical,
            offset: first,
            reason: if t.tag_text.is_empty() {
                format!("{n} Unicode tag character{}", plural(n))
            } else {
                format!(
                    "{n} Unicode tag characters hide the text \"{}\"",
                    printable_preview(&t.tag_text, 80)
                )
            },
        });
    }
    if let Some((first, n)) = t.control.seen() {
        hits.push(Hit {
            code: Code::TerminalEscape,
            severity: Severity::High,
            offset: first,
            reason: format!(
                "{}{} can hide or rewrite text on a terminal",
                t.control_what,
                if n > 1 {
                    format!(" and {} more control character{}", n - 1, plural(n - 1))
                } else {
                    String::new()
                }
            ),
        });
    }
    if let Some((first, n)) = t.lone_cr.seen() {
        hits.push(Hit {
            code: Code::TerminalEscape,
            severity: Severity::Medium,
            offset: first,
            reason: format!(
                "{n} carriage return{} without a line feed: a terminal overwrites the line",
                plural(n)
            ),
        });
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Long whitespace runs followed by more text. Within a run, the spaces before its first line
/// break push text sideways on the same line; the spaces after a line break are the next
/// line's indentation (template literals and docstrings indent every line), which pushes
/// nothing out of view until it is very deep. Medium: 40+ spaces within a line, an indent of
/// 100+, 10+ line breaks or 250+ characters in all; high: 100+ within a line, an indent of
/// 200+, 25+ line breaks or 500+ characters.
pub(super) fn whitespace_padding(s: &str, hits: &mut Vec<Hit>) {
    #[derive(Clone, Copy, Default)]
    struct Run {
        start: usize,
        len: usize,
        newlines: usize,
        /// Horizontal whitespace before the run's first line break.
        inline: usize,
        /// The longest horizontal stretch after a line break.
        indent: usize,
        current: usize,
    }
    impl Run {
        fn severity(&self) -> Option<Severity> {
            let indent = self
                .indent
                .max(if self.newlines > 0 { self.current } else { 0 });
            let inline = if self.newlines == 0 {
                self.current
            } else {
                self.inline
            };
            // Blank lines that are each indented just under the limit still add up.
            if inline >= 100 || indent >= 200 || self.newlines >= 25 || self.len >= 500 {
                Some(Severity::High)
            } else if inline >= 40 || indent >= 100 || self.newlines >= 10 || self.len >= 250 {
                Some(Severity::Medium)
            } else {
                None
            }
        }
    }
    let mut run = Run::default();
    let mut best: Option<(Severity, Run)> = None;
    for (i, c) in s.chars().enumerate() {
        if c.is_whitespace() || c == '\u{2800}' {
            if run.len == 0 {
                run = Run {
                    start: i,
                    ..Run::default()
                };
            }
            run.len += 1;
            if c == '\n' {
                if run.newlines == 0 {
                    run.inline = run.current;
                } else {
                    run.indent = run.indent.max(run.current);
                }
                run.newlines += 1;
                run.current = 0;
            } else if c != '\r' {
                run.current += 1;
            }
        } else {
            if run.len > 0
                && let Some(sev) = run.severity()
                && best.is_none_or(|(b, r)| (sev, run.len) > (b, r.len))
            {
                best = Some((sev, run));
            }
            run.len = 0;
        }
    }
    if let Some((severity, run)) = best {
        hits.push(Hit {
            code: Code::WhitespacePadding,
            severity,
            offset: run.start,
            reason: format!(
                "{} whitespace characters ({} line breaks) push the text after them out of view",
                run.len, run.newlines
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pass counts every class, each with its own first offset; what a class carries
    /// (the tag text, the first control's description) comes with it.
    #[test]
    fn one_pass_tallies_every_class_with_its_first_offset() {
        let s = "a\u{ad}b\u{200b}\u{ad}c\u{202e}d\u{200f}\u{1b}[0m\u{7}\u{e0068}\u{e0069}\r!";
        let chars: Vec<char> = s.chars().collect();
        let t = Tallies::count(&chars);
        assert_eq!(t.invisible.seen(), Some((1, 3)));
        assert_eq!(t.soft_hyphens.seen(), Some((1, 2)));
        assert_eq!(t.bidi.seen(), Some((6, 1)));
        assert_eq!(t.marks.seen(), Some((8, 1)));
        assert_eq!(t.control.seen(), Some((9, 2)));
        assert_eq!(t.control_what, "an ANSI CSI sequence (ESC [)");
        assert_eq!(t.tags.seen(), Some((14, 2)));
        assert_eq!(t.tag_text, "hi");
        assert_eq!(t.lone_cr.seen(), Some((16, 1)));
        assert_eq!(t.selectors.seen(), None);
        let mut hits = Vec::new();
        hidden(s, Role::Text, &mut hits);
        // Not soft hyphens only: high. Each class one hit.
        assert_eq!(hits.len(), 6, "{hits:?}");
        assert_eq!(hits[0].severity, Severity::High);
        let mut soft = Vec::new();
        hidden("co\u{ad}op", Role::Text, &mut soft);
        assert_eq!(soft[0].severity, Severity::Medium);
        let mut named = Vec::new();
        hidden("co\u{ad}op", Role::Name, &mut named);
        assert_eq!(named[0].severity, Severity::High);
    }
}
