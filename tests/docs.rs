//! Every reason code the source can emit is documented (docs/exit-codes.md, docs/audit.md or
//! docs/findings.md): scripts match on these codes, so an undocumented one is a bug.
//!
//! The codes are read from the source the way they are written there — the first argument of
//! `CliError::error` / `CliError::fail` / `refusal`, `reason: "…"` fields, `Verdict::Refused`,
//! and the arms of every `fn code(&self) -> &'static str` — outside `#[cfg(test)]` modules.

mod common;

use std::collections::BTreeMap;

fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            out.push((p.display().to_string(), text));
        }
    }
}

#[test]
fn every_reason_code_in_the_source_is_documented() {
    let root = common::root();
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let pats = [
        r#"CliError::(?:error|fail)\(\s*"([a-z0-9-]+)""#,
        r#"refusal\(\s*"([a-z0-9-]+)""#,
        r#"\breason:\s*"([a-z0-9-]+)""#,
        r#"Refused\("([a-z0-9-]+)"\)"#,
    ]
    .map(|p| regex::Regex::new(p).unwrap());
    let code_fn =
        regex::Regex::new(r#"(?s)fn code\(&self\) -> &'static str \{(.*?)\n    \}"#).unwrap();
    let arm = regex::Regex::new(r#"=> "([a-z0-9-]+)""#).unwrap();
    let mut codes: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in &files {
        for re in &pats {
            for c in re.captures_iter(text) {
                codes.entry(c[1].to_owned()).or_insert_with(|| path.clone());
            }
        }
        for body in code_fn.captures_iter(text) {
            for c in arm.captures_iter(&body[1]) {
                codes.entry(c[1].to_owned()).or_insert_with(|| path.clone());
            }
        }
    }
    assert!(
        codes.len() > 100,
        "the patterns found only {} codes",
        codes.len()
    );
    let docs: String = ["exit-codes.md", "audit.md", "findings.md"]
        .iter()
        .map(|f| std::fs::read_to_string(root.join("docs").join(f)).unwrap())
        .collect();
    let missing: Vec<String> = codes
        .iter()
        .filter(|(c, _)| !docs.contains(&format!("`{c}`")))
        .map(|(c, f)| format!("{c} ({f})"))
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented reason codes:\n  {}",
        missing.join("\n  ")
    );
}
