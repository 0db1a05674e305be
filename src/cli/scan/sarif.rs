//! SARIF 2.1.0 rendering of a scan report, in the shape GitHub code scanning accepts.
//!
//! - One run; `tool.driver.rules` lists every finding code (stable `ruleIndex`), each with
//!   `shortDescription`, `fullDescription`, `help` (text and markdown), a default level and
//!   `properties.security-severity` / `tags` (GitHub ranks security alerts by them).
//! - Results: `level` from the severity (critical / high → error, medium → warning, low /
//!   info → note), a one-line `message`, a physical location in the file that defines the
//!   server (lockfile, client config or surface file; the line naming the server or entity)
//!   when there is one, a logical location `server/kind/entity#pointer` always, and a
//!   `partialFingerprints` entry stable across runs and line moves.
//! - Suppressed findings are kept with `suppressions: [{kind: "external", justification}]`.
//!
//! Checked against the OASIS SARIF 2.1.0 schema in `tests/scan.rs`.

use std::path::Path;

use serde_json::{Value, json};

use super::Origins;
use crate::scan::{Code, Finding, Report, Target};
use crate::severity::Severity;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity`: a CVSS-like score as a string.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The severity a rule usually reports at (its default configuration).
fn default_severity(c: Code) -> Severity {
    match c {
        Code::TagCharacters => Severity::Critical,
        Code::NameCollision | Code::ConfusableName => Severity::Medium,
        Code::UnusedSuppression => Severity::Low,
        Code::WhitespacePadding | Code::Exfiltration | Code::CrossServerReference => {
            Severity::Medium
        }
        _ => Severity::High,
    }
}

fn rule_name(c: Code) -> String {
    c.as_str()
        .split('-')
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rules(report: &Report) -> Vec<Value> {
    Code::ALL
        .iter()
        .map(|&c| {
            // The highest severity this run reported for the rule, else its default.
            let sev = report
                .findings
                .iter()
                .filter(|r| r.finding.code == c)
                .map(|r| r.finding.severity)
                .max()
                .unwrap_or(default_severity(c));
            json!({
                "id": c.as_str(),
                "name": rule_name(c),
                "shortDescription": {"text": c.title()},
                "fullDescription": {"text": format!("{} {}", c.title(), c.help())},
                "help": {
                    "text": format!("{}\nSee docs/findings.md#{}.", c.help(), c.as_str()),
                    "markdown": format!("{}\n\nSee [docs/findings.md](docs/findings.md#{}) — suppress with a `[[scan.suppress]]` table (code, server, entity, reason).", c.help(), c.as_str()),
                },
                "defaultConfiguration": {"level": level(default_severity(c))},
                "properties": {
                    "security-severity": security_severity(sev),
                    "tags": ["security", "mcp"],
                    "precision": "high",
                },
            })
        })
        .collect()
}

/// A repository-relative URI when the file is under the working directory (what code
/// scanning expects), else an absolute `file://` URI.
fn artifact_uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let cwd = std::env::current_dir().ok();
    let rel = cwd.as_deref().and_then(|c| abs.strip_prefix(c).ok());
    let encode = |p: &Path| -> String {
        p.components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .map(|seg| {
                seg.chars()
                    .map(|ch| {
                        if ch.is_ascii_alphanumeric() || "-._~".contains(ch) {
                            ch.to_string()
                        } else {
                            let mut b = [0u8; 4];
                            ch.encode_utf8(&mut b)
                                .bytes()
                                .map(|x| format!("%{x:02X}"))
                                .collect()
                        }
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    match rel {
        Some(r) if !r.as_os_str().is_empty() => encode(r),
        _ => format!("file:///{}", encode(&abs)),
    }
}

/// The 1-based line that names the server, then the entity after it; 1 if not found.
fn locate(text: &str, server: &str, entity: Option<&str>) -> usize {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let server_q = quoted(server);
    let mut line = 1;
    let mut from = 0;
    for (i, l) in text.lines().enumerate() {
        if l.contains(&server_q) {
            line = i + 1;
            from = i;
            break;
        }
    }
    if let Some(e) = entity {
        let e_q = quoted(e);
        if let Some(i) = text
            .lines()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.contains(&e_q))
            .map(|(i, _)| i)
        {
            line = i + 1;
        }
    }
    line
}

fn fingerprint(f: &Finding) -> String {
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        f.code.as_str(),
        f.server,
        f.kind.as_str(),
        f.entity.as_deref().unwrap_or(""),
        f.pointer,
        f.offset.map(|o| o.to_string()).unwrap_or_default()
    );
    let mut hex = crate::digest::Digest::of(key.as_bytes()).hex();
    hex.truncate(32);
    hex
}

pub fn log(report: &Report, origins: &Origins) -> Value {
    let mut texts: std::collections::BTreeMap<&Path, String> = Default::default();
    for p in origins.files.values().chain(origins.suppressions.iter()) {
        texts
            .entry(p.as_path())
            .or_insert_with(|| std::fs::read_to_string(p).unwrap_or_default());
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|r| {
            let f = &r.finding;
            let rule_index = Code::ALL.iter().position(|&c| c == f.code).unwrap_or(0);
            let file = if f.kind == Target::Suppression {
                origins.suppressions.as_deref()
            } else {
                origins.files.get(&f.server).map(PathBuf::as_path)
            };
            let mut logical = format!("{}/{}", f.server, f.kind.as_str());
            if let Some(e) = &f.entity {
                logical.push('/');
                logical.push_str(e);
            }
            if !f.pointer.is_empty() {
                logical.push('#');
                logical.push_str(&f.pointer);
            }
            let mut location = json!({
                "logicalLocations": [{"fullyQualifiedName": logical, "kind": "member"}],
            });
            if let Some(p) = file {
                let text = texts.get(p).map(String::as_str).unwrap_or("");
                let line = if f.kind == Target::Suppression {
                    // The n-th [[scan.suppress]] table.
                    let n: usize = f
                        .pointer
                        .rsplit('/')
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    text.lines()
                        .enumerate()
                        .filter(|(_, l)| l.trim() == "[[scan.suppress]]")
                        .nth(n)
                        .map_or(1, |(i, _)| i + 1)
                } else {
                    locate(text, &f.server, f.entity.as_deref())
                };
                location["physicalLocation"] = json!({
                    "artifactLocation": {"uri": artifact_uri(p)},
                    "region": {"startLine": line},
                });
            }
            let mut result = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", f.server, f.reason)},
                "locations": [location],
                "partialFingerprints": {"mcpsealFinding/v1": fingerprint(f)},
                "properties": {
                    "severity": f.severity.as_str(),
                    "server": f.server,
                    "kind": f.kind.as_str(),
                    "entity": f.entity,
                    "field": f.field,
                    "pointer": f.pointer,
                    "offset": f.offset,
                },
            });
            if let Some(why) = &r.suppressed {
                result["suppressions"] = json!([{"kind": "external", "justification": why}]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mcpseal",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules(report),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

use std::path::PathBuf;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_server_then_entity() {
        let t = "{\n  \"a\": {\n    \"tools\": {\n      \"add\": {}\n    }\n  },\n  \"b\": {\"add\": 1}\n}";
        assert_eq!(locate(t, "a", Some("add")), 4);
        assert_eq!(locate(t, "b", Some("add")), 7);
        assert_eq!(locate(t, "zzz", None), 1);
    }

    #[test]
    fn rule_names_are_camel_case() {
        assert_eq!(rule_name(Code::HiddenUnicode), "HiddenUnicode");
    }
}
