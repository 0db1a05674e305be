//! Pattern rules on the cleaned copy of a string (see [`super::clean`]): orders aimed at the
//! model, sensitive paths, exfiltration hints, credentials, the order families of
//! [`crate::scan::orders`], and the same rules once more on text hidden in base64. Every
//! pattern runs on bytes; one [`RegexSet`] pass tells which can match at all.

use std::sync::{LazyLock, OnceLock};

use regex::bytes::{Regex, RegexSet};

use super::clean::Cleaned;
use super::unicode::printable_preview;
use super::{Hit, Role, Shape};
use crate::scan::Code;
use crate::severity::Severity;

pub(crate) struct Pattern {
    code: Code,
    severity: Severity,
    /// The pattern as compiled, `(?-u)` first: what [`PATTERN_SET`] is built from.
    source: String,
    /// Compiled when [`PATTERN_SET`] first says the pattern can match: most text matches none,
    /// so a process compiles the few its inputs need, not all of them (~15 ms, issue 17).
    re: OnceLock<Regex>,
    why: &'static str,
}

impl Pattern {
    fn re(&self) -> &Regex {
        // The patterns are constants; `every_pattern_compiles` (text/mod.rs) compiles each.
        self.re.get_or_init(|| exact(&self.source))
    }
}

pub(crate) fn p(code: Code, severity: Severity, re: &str, why: &'static str) -> Pattern {
    Pattern {
        code,
        severity,
        source: format!("(?-u){re}"),
        re: OnceLock::new(),
        why,
    }
}

/// Patterns run on bytes with ASCII semantics (`(?-u)`): the keywords are ASCII, and Unicode
/// classes under bounded repetition (`[^.]{0,80}`) cost milliseconds to compile per process.
pub(crate) fn compile(re: &str) -> Regex {
    exact(&format!("(?-u){re}"))
}

fn exact(re: &str) -> Regex {
    Regex::new(re).unwrap_or_else(|e| panic!("scan pattern {re:?}: {e}"))
}

pub(crate) const EMAIL: &str = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}";

pub(super) static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    use Code::*;
    use Severity::*;
    let send_to = format!(
        r"(?i)\b(?:send|forward|bcc|cc|e-?mail|mail|post|upload|transmit|exfiltrate|redirect|copy|deliver|leak|report)\b[^.!?\n]{{0,80}}?\bto\b\s*:?\s*(?:{EMAIL}|{})",
        super::urls::URL
    );
    let mut patterns = vec![
        // Orders aimed at the model.
        p(
            ModelDirective,
            High,
            r"(?i)<\s*(?:important|system|instructions?|secret|hidden|admin|override|critical|assistant|im_start)\b[^<>]{0,40}>|\[\s*(?:INST|SYSTEM)\s*\]|<\|(?:im_start|system)\|>",
            "an <IMPORTANT>-style tag addressed to the model",
        ),
        p(
            ModelDirective,
            High,
            r"(?i)\b(?:ignore|disregard|forget|override)\s+(?:(?:all|any|the|your|of)\s+)*(?:previous|prior|above|earlier|preceding|other|system|existing)\s+(?:instructions?|prompts?|rules|directions|guidelines|messages|context)",
            "tells the model to ignore its instructions",
        ),
        p(
            ModelDirective,
            High,
            r"(?i)\b(?:do\s+not|don't|dont|never|must\s+not|should\s+not|shouldn't)\s+(?:ever\s+)?(?:tell|inform|notify|alert|warn|show|mention|reveal|disclose|let)\b[^.!?\n]{0,60}?\b(?:user|human|operator|anyone)\b",
            "tells the model to keep something from the user",
        ),
        p(
            ModelDirective,
            High,
            r"(?i)\b(?:do\s+not|don't|dont|never|must\s+not)\s+(?:ever\s+)?(?:mention|reveal|disclose)\b",
            "tells the model not to mention something",
        ),
        p(
            ModelDirective,
            High,
            r"(?i)\bwithout\s+(?:telling|informing|notifying|alerting|asking|showing)\s+(?:the\s+)?(?:user|human)|\b(?:hide|conceal|keep)\s+(?:this|it|that)\s+(?:secret\s+|hidden\s+)?from\s+(?:the\s+)?user|\bthe\s+user\s+(?:must|should|need|needs)\s*(?:not|n't)\s+(?:know|see|notice|be\s+told)",
            "tells the model to act behind the user's back",
        ),
        p(
            ModelDirective,
            High,
            r"(?i)\bbefore\s+(?:using|calling|invoking|running|executing)\s+(?:this|any|the|other)\s+(?:tools?|functions?)\b[^.!?\n]{0,40}?\b(?:read|open|cat|load|fetch|get|call|invoke|run|pass|include|send|provide|access)\b",
            "orders the model to do something else before using the tool",
        ),
        p(
            ModelDirective,
            Medium,
            r"(?i)\b(?:always|must)\s+(?:call|use|invoke|run)\s+this\s+tool\s+(?:first|before)|\b(?:instead\s+of|rather\s+than)\s+(?:using\s+|calling\s+)?(?:any\s+other|other|the\s+other)\s+(?:tools?|servers?)|\byou\s+are\s+now\b",
            "tries to steer the model's choice of tools or its role",
        ),
        p(
            ModelDirective,
            Low,
            r"(?i)\b(?:this\s+tool\s+)?now\s+(?:grants|gives)\s+you\b|\byou\s+(?:now\s+)?have\s+been\s+granted\b",
            "tells the model it has new capabilities (common in benign tools; informational)",
        ),
        // Sensitive resources.
        p(
            SensitivePath,
            High,
            r"(?i)(?:~|\$HOME|%USERPROFILE%)?/?\.ssh\b(?:/[\w.-]+)?|\bid_(?:rsa|dsa|ecdsa|ed25519)(?:\.pub)?\b|\bauthorized_keys\b",
            "names SSH keys",
        ),
        p(
            SensitivePath,
            High,
            r#"(?i)(?:^|[\s'"`(/~=:])\.env(?:\.[\w-]+)?(?:$|[^\w.-])"#,
            "names a .env file",
        ),
        p(
            SensitivePath,
            High,
            r"(?i)(?:~?/?\.cursor/)?\bmcp\.json\b|\bclaude_desktop_config\.json\b|~?/?\.cursor/|\.codeium/windsurf|\.gemini/settings\.json|\.codex/config\.toml|~/\.claude(?:\.json|/)",
            "names an MCP client config",
        ),
        p(
            SensitivePath,
            High,
            r"(?i)~?/?\.aws/(?:credentials|config)\b|~?/?\.azure/|\.config/gcloud|application_default_credentials\.json|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|\.docker/config\.json|\.kube/config\b|\.gnupg\b|\.password-store\b|/etc/(?:shadow|sudoers)\b|\blogin\.keychain\b|\bwallet\.dat\b|\.(?:bash|zsh)_history\b|\bLogin Data\b",
            "names a credential store",
        ),
        p(
            SensitivePath,
            High,
            r"(?i)/etc/(?:passwd|master\.passwd|gshadow|krb5\.keytab)\b|(?:~|\$HOME|%USERPROFILE%)?/?\.(?:gitconfig|git/config|bashrc|bash_profile|zshrc|zprofile|profile|zshenv|config/fish/config\.fish|ssh/config)\b|\.git-credentials\b|\b(?:credentials|secrets?|service[-_]account|token)\.(?:json|ya?ml|toml)\b|\.(?:pem|p12|pfx|keystore|jks)\b",
            "names a system account file, shell start-up file or key file",
        ),
        // Exfiltration hints.
        p(
            Exfiltration,
            High,
            &send_to,
            "tells the model to send data to an address",
        ),
        p(
            Exfiltration,
            High,
            &format!(r"(?i)\b(?:bcc|cc)\b\s*:?\s*{EMAIL}"),
            "adds a hidden recipient",
        ),
        p(
            Exfiltration,
            High,
            r"(?i)\b(?:include|pass|add|put|provide|send|append|insert|copy|paste|attach|summari[sz]e|repeat|output|give)\b[^.!?\n]{0,60}?(?:\b(?:previous|prior|earlier|preceding|last|entire|full|whole|all)\s+(?:user\s+)?(?:messages?|conversation|chat|prompts?)\b|\b(?:conversation|chat)\s+history\b|\bsystem\s+prompt\b)",
            "asks for conversation content: it would leave through the tool's arguments",
        ),
        // Secrets in surface strings.
        p(
            LiteralSecret,
            High,
            crate::scan::secrets::TOKEN_RE,
            "a credential written into the surface",
        ),
    ];
    patterns.extend(crate::scan::orders::patterns());
    patterns
});

/// All of [`PATTERNS`] in one automaton: one pass tells which patterns can match at all.
static PATTERN_SET: LazyLock<RegexSet> = LazyLock::new(|| {
    // Bounded gaps (`{0,80}?`) multiply DFA states; the set is only a prefilter, so it may
    // match more loosely than the patterns it stands for.
    let loose = regex::Regex::new(r"\{0,\d+\}").unwrap_or_else(|e| panic!("{e}"));
    RegexSet::new(
        PATTERNS
            .iter()
            .map(|p| loose.replace_all(&p.source, "*").into_owned()),
    )
    .unwrap_or_else(|e| panic!("scan pattern set: {e}"))
});

pub(super) fn patterns(clean: &Cleaned, role: Role, depth: u8, hits: &mut Vec<Hit>) {
    let t: &[u8] = clean.text.as_bytes();
    let text = |m: &regex::bytes::Match<'_>| String::from_utf8_lossy(m.as_bytes()).into_owned();
    let mut spans: Vec<(usize, usize, Code)> = Vec::new();
    for i in PATTERN_SET.matches(t).iter() {
        let Some(pat) = PATTERNS.get(i) else { continue };
        for m in pat.re().find_iter(t) {
            // One hit per overlapping span and code.
            if spans
                .iter()
                .any(|&(s, e, c)| c == pat.code && m.start() < e && s < m.end())
            {
                continue;
            }
            spans.push((m.start(), m.end(), pat.code));
            let whole = text(&m);
            let mut matched = whole.trim().to_owned();
            if pat.code == Code::LiteralSecret {
                matched = crate::scan::secrets::redact(&matched);
            }
            // "send it to alice@example.com" documents a mail tool; RFC 2606 names are no one's.
            let example = pat.code == Code::Exfiltration
                && super::urls::names_example_host(&matched, clean.original(m.start(), m.end()));
            // "files such as .env are skipped" names a secret file without asking for it.
            let listed = pat.code == Code::SensitivePath
                && crate::scan::orders::named_as_example(crate::scan::orders::sentence_around(
                    t,
                    m.start(),
                    m.end(),
                ));
            hits.push(Hit {
                code: pat.code,
                severity: if example || listed {
                    Severity::Low
                } else {
                    pat.severity
                },
                offset: clean.orig(m.start() + (whole.len() - whole.trim_start().len())),
                reason: format!(
                    "{}{}: \"{}\"",
                    pat.why,
                    if example {
                        " (a reserved example address)"
                    } else if listed {
                        " (named as an example or a refusal, not asked for)"
                    } else {
                        ""
                    },
                    printable_preview(&matched, 70)
                ),
            });
        }
    }
    if depth == 0 && t.len() >= 24 && role == Role::Text {
        base64_hidden(clean, t, hits);
    }
    // A resource's `uri`, a template's `uriTemplate` and `$schema` are addresses by design.
    if !matches!(role, Role::SchemaRef | Role::Name) {
        super::urls::addresses(clean, &mut spans, hits);
    }
}

/// Orders carried in base64 ("Execute: aWdub3Jl…"): each decoded run that is text goes through
/// the pattern rules once more; what they find is reported at the run, marked "in base64".
fn base64_hidden(clean: &Cleaned, t: &[u8], hits: &mut Vec<Hit>) {
    for (at, decoded) in crate::scan::orders::base64_payloads(t) {
        let mut inner = Vec::new();
        let shape = Shape::of(&decoded);
        patterns(&Cleaned::new(&decoded, &shape), Role::Text, 1, &mut inner);
        for h in inner {
            if h.severity < Severity::Medium {
                continue;
            }
            hits.push(Hit {
                code: h.code,
                severity: h.severity,
                offset: clean.orig(at),
                reason: format!("in base64: {}", h.reason),
            });
        }
    }
}

/// Compiles this module's patterns now (see [`crate::scan::warm`]).
pub(super) fn warm() {
    LazyLock::force(&PATTERN_SET);
}

/// Every pattern, compiled: for the test that each constant is a valid pattern.
#[cfg(test)]
pub(super) fn compile_all() -> usize {
    for p in PATTERNS.iter() {
        p.re();
    }
    PATTERNS.len()
}
