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

/// Shell words of one command line (quotes and `\` escapes; enough for documentation).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '#') if cur.is_empty() => break, // a comment
            (None, ' ' | '\t') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Every `mcpseal …` command in the README's shell blocks parses with this build's argument
/// parser (so the quick start and the host flow never go stale), and every subcommand's
/// `--help` works.
#[test]
fn readme_commands_parse_and_every_subcommand_has_help() {
    use clap::Parser;
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let mut in_sh = false;
    let mut pending = String::new();
    let mut checked = 0;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let l = line.trim_end();
        if let Some(head) = l.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(l);
        let cmd = std::mem::take(&mut pending);
        let argv = words(cmd.trim());
        if argv.first().map(String::as_str) != Some("mcpseal") {
            continue;
        }
        if let Err(e) = mcpseal::cli::Cli::try_parse_from(&argv) {
            panic!("README command does not parse: {cmd}\n{e}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} README commands found");
    let (code, out, _) = common::run(common::mcpseal().arg("--help"));
    assert_eq!(code, 0);
    let subs: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|s| s != "help")
        .collect();
    assert!(subs.len() >= 12, "{subs:?}");
    for s in &subs {
        let (code, out, err) = common::run(common::mcpseal().args([s.as_str(), "--help"]));
        assert_eq!(code, 0, "{s} --help: {err}");
        assert!(out.contains("Usage:"), "{s} --help: {out}");
    }
    // Every `mcpseal <subcommand>` named in docs/ is one this build has.
    let re = regex::Regex::new(r"`mcpseal ([a-z][a-z-]*)[ `]").unwrap();
    for e in std::fs::read_dir(common::root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for c in re.captures_iter(&text) {
            assert!(
                subs.iter().any(|s| s == &c[1]),
                "{} names `mcpseal {}`, which is no subcommand",
                p.display(),
                &c[1]
            );
        }
    }
}
