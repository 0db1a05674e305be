//! Suppressions: the `[[scan.suppress]]` tables of a policy file (TOML).
//!
//! ```toml
//! [[scan.suppress]]
//! code = "name-collision"        # a finding code (docs/findings.md)
//! server = "calc"                # the server's name as configured
//! entity = "calculate"           # tool / prompt name, resource uri, template, or
//!                                # "instructions" / "serverInfo" / "launch"
//! kind = "tools"                 # optional: disambiguates an entity key
//! reason = "both calculators are ours"
//! ```
//!
//! Every member but `kind` is required and unknown members are refused: a typo must not
//! silently widen or drop a suppression. A suppression that matches no finding is itself
//! reported (`unused-suppression`). Other top-level tables (the trust policy of
//! `src/policy/`) are ignored here, so both can live in one file.

use serde::{Deserialize, Serialize};

use super::{Code, Finding, Target};
use crate::severity::Severity;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub code: String,
    pub server: String,
    pub entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    scan: Option<ScanSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanSection {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

/// A policy file's suppressions, validated.
#[derive(Clone, Debug, Default)]
pub struct Suppressions {
    pub entries: Vec<Suppression>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    #[error("not a valid policy file: {0}")]
    Toml(String),
    #[error("suppression {index}: unknown finding code {code:?} (see docs/findings.md)")]
    UnknownCode { index: usize, code: String },
    #[error("suppression {index}: unknown kind {kind:?}")]
    UnknownKind { index: usize, kind: String },
    #[error("suppression {index}: `{field}` must not be empty")]
    Empty { index: usize, field: &'static str },
}

impl SuppressionError {
    pub fn code(&self) -> &'static str {
        match self {
            SuppressionError::Toml(_) => "policy-syntax",
            SuppressionError::UnknownCode { .. } => "suppression-unknown-code",
            SuppressionError::UnknownKind { .. } => "suppression-unknown-kind",
            SuppressionError::Empty { .. } => "suppression-incomplete",
        }
    }
}

/// A finding and, if a suppression matched it, that suppression's reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reported {
    #[serde(flatten)]
    pub finding: Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// Findings after suppressions: the suppressed ones are kept (for SARIF and JSON), and
/// unused suppressions became findings of their own.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Reported>,
}

impl Report {
    /// Unsuppressed findings at or above `threshold`.
    pub fn failing(&self, threshold: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |r| r.suppressed.is_none() && r.finding.severity >= threshold)
            .map(|r| &r.finding)
    }
}

impl Suppressions {
    /// Parses the `[[scan.suppress]]` tables of a TOML policy file.
    pub fn parse(text: &str) -> Result<Suppressions, SuppressionError> {
        let file: File =
            toml_edit::de::from_str(text).map_err(|e| SuppressionError::Toml(e.to_string()))?;
        let entries = file.scan.unwrap_or_default().suppress;
        for (i, s) in entries.iter().enumerate() {
            let index = i + 1;
            for (field, v) in [
                ("code", &s.code),
                ("server", &s.server),
                ("entity", &s.entity),
                ("reason", &s.reason),
            ] {
                if v.trim().is_empty() {
                    return Err(SuppressionError::Empty { index, field });
                }
            }
            if Code::parse(&s.code).is_none() {
                return Err(SuppressionError::UnknownCode {
                    index,
                    code: s.code.clone(),
                });
            }
            if let Some(k) = &s.kind
                && Target::parse(k).is_none()
            {
                return Err(SuppressionError::UnknownKind {
                    index,
                    kind: k.clone(),
                });
            }
        }
        Ok(Suppressions { entries })
    }

    fn matches(s: &Suppression, f: &Finding) -> bool {
        s.code == f.code.as_str()
            && s.server == f.server
            && s.entity == f.entity_label()
            && s.kind.as_deref().is_none_or(|k| k == f.kind.as_str())
    }

    /// Marks matching findings suppressed and reports every unused suppression.
    pub fn apply(&self, findings: Vec<Finding>) -> Report {
        let mut used = vec![false; self.entries.len()];
        let mut out: Vec<Reported> = findings
            .into_iter()
            .map(|finding| {
                let hit = self.entries.iter().position(|s| Self::matches(s, &finding));
                if let Some(i) = hit
                    && let Some(u) = used.get_mut(i)
                {
                    *u = true;
                }
                Reported {
                    suppressed: hit
                        .and_then(|i| self.entries.get(i))
                        .map(|s| s.reason.clone()),
                    finding,
                }
            })
            .collect();
        for (i, s) in self.entries.iter().enumerate() {
            if used.get(i) == Some(&false) {
                out.push(Reported {
                    finding: Finding {
                        code: Code::UnusedSuppression,
                        severity: Severity::Low,
                        server: s.server.clone(),
                        kind: Target::Suppression,
                        entity: Some(s.entity.clone()),
                        field: "scan.suppress".into(),
                        pointer: format!("/scan/suppress/{i}"),
                        offset: None,
                        reason: format!(
                            "suppression {} ({} on {} `{}`) matched no finding",
                            i + 1,
                            s.code,
                            s.server,
                            s.entity
                        ),
                    },
                    suppressed: None,
                });
            }
        }
        Report { findings: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Code, server: &str, entity: &str) -> Finding {
        Finding {
            code,
            severity: Severity::High,
            server: server.into(),
            kind: Target::Entity(crate::surface::EntityKind::Tools),
            entity: Some(entity.into()),
            field: "description".into(),
            pointer: "/description".into(),
            offset: Some(0),
            reason: "r".into(),
        }
    }

    const FILE: &str = r#"
[trust]
anything = "belongs to src/policy"

[[scan.suppress]]
code = "sensitive-path"
server = "fs"
entity = "read_file"
reason = "it is a file server"

[[scan.suppress]]
code = "name-collision"
server = "fs"
entity = "gone"
reason = "stale"
"#;

    #[test]
    fn matching_suppresses_and_unused_is_reported() {
        let s = Suppressions::parse(FILE).unwrap();
        let r = s.apply(vec![
            finding(Code::SensitivePath, "fs", "read_file"),
            finding(Code::SensitivePath, "fs", "write_file"),
        ]);
        assert_eq!(r.findings.len(), 3);
        assert_eq!(
            r.findings[0].suppressed.as_deref(),
            Some("it is a file server")
        );
        assert_eq!(r.findings[1].suppressed, None);
        assert_eq!(r.findings[2].finding.code, Code::UnusedSuppression);
        assert_eq!(r.failing(Severity::High).count(), 1);
    }

    #[test]
    fn invalid_files_are_refused() {
        let bad_code = "[[scan.suppress]]\ncode='nope'\nserver='a'\nentity='b'\nreason='c'\n";
        assert_eq!(
            Suppressions::parse(bad_code).unwrap_err().code(),
            "suppression-unknown-code"
        );
        let no_reason =
            "[[scan.suppress]]\ncode='shell-launch'\nserver='a'\nentity='launch'\nreason=' '\n";
        assert_eq!(
            Suppressions::parse(no_reason).unwrap_err().code(),
            "suppression-incomplete"
        );
        let missing = "[[scan.suppress]]\ncode='shell-launch'\nserver='a'\n";
        assert_eq!(
            Suppressions::parse(missing).unwrap_err().code(),
            "policy-syntax"
        );
        let typo = "[[scan.suppress]]\ncode='shell-launch'\nserver='a'\nentity='launch'\nreason='x'\nentitty='y'\n";
        assert_eq!(
            Suppressions::parse(typo).unwrap_err().code(),
            "policy-syntax"
        );
        assert!(Suppressions::parse("").unwrap().entries.is_empty());
    }
}
