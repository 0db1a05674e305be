//! Credentials: the shapes with a recognisable prefix (API keys, tokens, private key blocks),
//! the member names that hold secrets, and the one redaction every finding about a secret
//! goes through. Used on launch specs ([`super::launch`]) and on surface strings
//! ([`super::text`]). A secret is never copied into a finding: only a redacted prefix.

use std::sync::LazyLock;

use regex::Regex;

/// Credential shapes with a recognisable prefix.
pub(crate) const TOKEN_RE: &str = r"\b(?:sk-ant-[A-Za-z0-9_-]{20,}|sk-(?:proj-)?[A-Za-z0-9_-]{32,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|[sr]k_live_[0-9A-Za-z]{20,}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_-]{50,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----";

/// [`TOKEN_RE`] compiled (Unicode mode, for launch-spec values).
pub(crate) static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TOKEN_RE).unwrap_or_else(|e| panic!("{e}")));

/// Names of variables, headers and options that hold secrets.
pub(crate) static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)key|token|secret|passw|pwd|credential|auth|bearer|session|cookie|private")
        .unwrap_or_else(|e| panic!("{e}"))
});

/// `abcd…` (N chars): at most four characters, never more than a quarter of the value.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let show = (n / 4).min(4);
    let prefix: String = secret.chars().take(show).collect();
    format!("{prefix}… ({n} chars)")
}

/// Compiles this module's patterns now (see [`crate::scan::warm`]).
pub(super) fn warm() {
    for re in [&TOKEN, &SECRET_NAME] {
        LazyLock::force(re);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_little() {
        assert_eq!(redact("abcdefghijklmnopqrstuvwxyz"), "abcd… (26 chars)");
        assert_eq!(redact("abcdefgh"), "ab… (8 chars)");
        assert_eq!(redact("abc"), "… (3 chars)");
    }

    #[test]
    fn token_shapes_are_found_and_look_alikes_are_not() {
        for t in [
            "sk-ant-api03-abcdefghijklmnopqrstuv",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "AKIAABCDEFGHIJKLMNOP",
            "-----BEGIN PRIVATE KEY-----",
        ] {
            assert!(TOKEN.is_match(t), "{t}");
        }
        for t in [
            "sk-short",
            "ghp_short",
            "AKIA-not-a-key",
            "BEGIN PUBLIC KEY",
        ] {
            assert!(!TOKEN.is_match(t), "{t}");
        }
    }
}
