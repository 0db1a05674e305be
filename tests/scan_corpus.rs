//! Issue 16: how much of what published tool-poisoning attacks actually say does `scan` catch,
//! and how often does it cry wolf on real servers? Measured on `testdata/scan-corpus/`:
//!
//! - `attacks/` + `corpus.json`: attack tool definitions from public proofs of concept and one
//!   live capture of a deliberately malicious PyPI server, each labelled with the entity that
//!   carries the attack and the servers it targets (`victims/`, or a real capture in `benign/`);
//! - `paraphrases.json`: held-out attacks written in other words (and with the usual
//!   obfuscations), to test that the rules generalise instead of matching the corpus's words;
//! - `benign/`: live captures (`mcpseal surface --json`) of real servers from npm and PyPI.
//!
//! An attack counts as caught when its labelled entity has a finding at or above the
//! threshold. "With victims" scans the attack together with every benign server and its
//! victims, as `scan --all` sees a host; "alone" scans the attack server by itself, as `pin`
//! and `run --deny-findings` do. The floors below are the measured values: a rule change that
//! loses an attack, or flags a real tool, fails here and prints what changed.
//! `docs/findings.md` records the figures and the command.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use mcpseal::scan::{self, Finding, ScanInput};
use mcpseal::severity::Severity;
use serde_json::Value;

/// Published attacks caught at `high` with their victims present / alone (out of 17).
const PUBLISHED_HIGH_WITH_VICTIMS: usize = 17;
const PUBLISHED_HIGH_ALONE: usize = 17;
/// Held-out paraphrases caught at `high` with victims / alone (out of 30).
const PARAPHRASE_HIGH_WITH_VICTIMS: usize = 30;
const PARAPHRASE_HIGH_ALONE: usize = 30;
/// Round-2 paraphrases (written after the rules, never tuned for) caught at `high` (of 15).
const ROUND2_HIGH_WITH_VICTIMS: usize = 7;
const ROUND2_HIGH_ALONE: usize = 7;
/// Real tools with a finding at `high` / at `medium` or above, scanned all together.
const BENIGN_TOOLS_HIGH: usize = 0;
const BENIGN_TOOLS_MEDIUM: usize = 3;

fn corpus(rel: &str) -> PathBuf {
    common::root().join("testdata/scan-corpus").join(rel)
}

fn read_json(rel: &str) -> Value {
    let path = corpus(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A surface file as a scan input named after the file (`benign/server-github.json` →
/// `server-github`).
fn load(rel: &str) -> ScanInput {
    let name = rel
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".json"))
        .unwrap_or(rel)
        .to_owned();
    ScanInput {
        name,
        surface: Some(
            scan::surface_from_json(read_json(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")),
        ),
        launch: None,
    }
}

fn benign() -> Vec<ScanInput> {
    let dir = corpus("benign");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .collect();
    files.sort();
    files.iter().map(|f| load(&format!("benign/{f}"))).collect()
}

/// One labelled attack: the server that carries it, the entity, the servers it targets.
struct Case {
    id: String,
    attack: ScanInput,
    entity: String,
    victims: Vec<String>,
}

fn published() -> Vec<Case> {
    let v = read_json("corpus.json");
    v["attacks"]
        .as_array()
        .expect("corpus.json: attacks[]")
        .iter()
        .map(|a| Case {
            id: a["id"].as_str().unwrap_or_default().to_owned(),
            attack: load(a["file"].as_str().expect("file")),
            entity: a["entity"].as_str().expect("entity").to_owned(),
            victims: strings(&a["victims"]),
        })
        .collect()
}

fn paraphrases(file: &str) -> Vec<Case> {
    let v = read_json(file);
    v.as_array()
        .expect("paraphrases.json: []")
        .iter()
        .map(|p| {
            let id = p["id"].as_str().expect("id").to_owned();
            let tool = p["tool"].clone();
            let entity = tool["name"].as_str().expect("tool name").to_owned();
            Case {
                attack: ScanInput {
                    name: format!("para-{id}"),
                    surface: Some(
                        scan::surface_from_json(serde_json::json!({"tools": [tool]}))
                            .unwrap_or_else(|e| panic!("{id}: {e}")),
                    ),
                    launch: None,
                },
                id,
                entity,
                victims: strings(&p["victims"]),
            }
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn worst_on(findings: &[Finding], server: &str, entity: &str) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.server == server && f.entity.as_deref() == Some(entity))
        .map(|f| f.severity)
        .max()
}

/// How many cases are caught at `min`, scanned with their victims (and every benign server)
/// or alone; prints the misses.
fn recall(cases: &[Case], with_victims: bool, min: Severity, what: &str) -> usize {
    let benign = if with_victims { benign() } else { Vec::new() };
    let mut misses = Vec::new();
    for case in cases {
        let findings = if with_victims {
            let mut inputs: Vec<ScanInput> = benign.clone();
            for v in &case.victims {
                let victim = load(v);
                if !inputs.iter().any(|i| i.name == victim.name) {
                    inputs.push(victim);
                }
            }
            inputs.push(case.attack.clone());
            scan::scan(&inputs)
        } else {
            scan::scan_alone(&case.attack)
        };
        let worst = worst_on(&findings, &case.attack.name, &case.entity);
        if worst.is_none_or(|s| s < min) {
            misses.push(format!(
                "  {} (worst: {})",
                case.id,
                worst.map_or("none".to_owned(), |s| s.to_string())
            ));
        }
    }
    let caught = cases.len() - misses.len();
    println!(
        "{what}: {caught}/{} at {min} ({:.3})",
        cases.len(),
        caught as f64 / cases.len().max(1) as f64
    );
    for m in &misses {
        println!("{m}");
    }
    caught
}

fn check_floor(caught: usize, floor: usize, what: &str) {
    assert!(
        caught >= floor,
        "{what}: {caught} caught, the floor is {floor}; the misses are printed above \
         (cargo nextest run --test scan_corpus --no-capture)"
    );
    if caught > floor {
        println!("{what}: {caught} is above the floor {floor}: raise the floor");
    }
}

#[test]
fn published_attacks_with_victims_at_high() {
    let cases = published();
    assert_eq!(cases.len(), 17);
    let n = recall(&cases, true, Severity::High, "published, with victims");
    recall(&cases, true, Severity::Medium, "published, with victims");
    check_floor(n, PUBLISHED_HIGH_WITH_VICTIMS, "published with victims");
}

#[test]
fn published_attacks_alone_at_high() {
    let cases = published();
    let n = recall(&cases, false, Severity::High, "published, alone");
    recall(&cases, false, Severity::Medium, "published, alone");
    check_floor(n, PUBLISHED_HIGH_ALONE, "published alone");
}

/// Round 1: written before the issue-16 rules, from the attack list; the rules were
/// then written with these misses in view, so this round measures less than it seems.
#[test]
fn paraphrased_attacks_at_high() {
    let cases = paraphrases("paraphrases.json");
    assert_eq!(cases.len(), 30);
    let with = recall(&cases, true, Severity::High, "paraphrases, with victims");
    let alone = recall(&cases, false, Severity::High, "paraphrases, alone");
    check_floor(
        with,
        PARAPHRASE_HIGH_WITH_VICTIMS,
        "paraphrases with victims",
    );
    check_floor(alone, PARAPHRASE_HIGH_ALONE, "paraphrases alone");
}

/// Round 2: written after the rules, in other registers (polite, casual, fake errors,
/// another language, leetspeak, orders in titles, enums and defaults), and measured once
/// without changing a rule for them: the honest figure for unseen phrasings.
#[test]
fn paraphrased_attacks_round_two_at_high() {
    let cases = paraphrases("paraphrases-round2.json");
    assert_eq!(cases.len(), 15);
    let with = recall(
        &cases,
        true,
        Severity::High,
        "paraphrases round 2, with victims",
    );
    let alone = recall(&cases, false, Severity::High, "paraphrases round 2, alone");
    check_floor(with, ROUND2_HIGH_WITH_VICTIMS, "round 2 with victims");
    check_floor(alone, ROUND2_HIGH_ALONE, "round 2 alone");
}

/// Real servers scanned together, as `scan --all` sees a host that runs all of them: how many
/// of their tools carry a finding at `high`, and at `medium` or above.
#[test]
fn real_servers_false_positives() {
    let inputs = benign();
    assert!(inputs.len() >= 25, "{} benign servers", inputs.len());
    let tools: usize = inputs
        .iter()
        .filter_map(|i| i.surface.as_ref())
        .map(|s| {
            s.entities
                .get(&mcpseal::surface::EntityKind::Tools)
                .map_or(0, |m| m.len())
        })
        .sum();
    let findings = scan::scan(&inputs);
    let mut flagged: BTreeMap<Severity, BTreeSet<(String, String)>> = BTreeMap::new();
    for f in &findings {
        if f.kind != scan::Target::Entity(mcpseal::surface::EntityKind::Tools) {
            continue;
        }
        let Some(e) = &f.entity else { continue };
        for min in [Severity::Medium, Severity::High] {
            if f.severity >= min {
                flagged
                    .entry(min)
                    .or_default()
                    .insert((f.server.clone(), e.clone()));
            }
        }
        if f.severity >= Severity::Medium {
            println!("  {f}");
        }
    }
    let high = flagged.get(&Severity::High).map_or(0, |s| s.len());
    let medium = flagged.get(&Severity::Medium).map_or(0, |s| s.len());
    println!(
        "benign: {} servers, {tools} tools; {high} at high ({:.4}), {medium} at medium or above ({:.4})",
        inputs.len(),
        high as f64 / tools as f64,
        medium as f64 / tools as f64
    );
    assert_eq!(
        high, BENIGN_TOOLS_HIGH,
        "{high} real tools flagged high (the measured value is {BENIGN_TOOLS_HIGH}); printed above"
    );
    assert!(
        medium <= BENIGN_TOOLS_MEDIUM,
        "{medium} real tools flagged medium or above (ceiling {BENIGN_TOOLS_MEDIUM}); printed above"
    );
    // Two real servers that both have `create_issue` (GitHub and GitLab) are not shadowing.
    let collision = findings
        .iter()
        .find(|f| {
            f.code == scan::Code::NameCollision && f.entity.as_deref() == Some("create_issue")
        })
        .expect("create_issue is announced by server-github and server-gitlab");
    assert_eq!(collision.severity, Severity::Info, "{collision}");
}

/// The labels are right: every labelled entity exists in its file, every attack file is
/// labelled, every victim file exists, and SOURCES.md names every file in the corpus.
#[test]
fn corpus_is_labelled_and_sourced() {
    let sources = std::fs::read_to_string(corpus("SOURCES.md")).expect("SOURCES.md");
    let cases = published();
    let mut labelled = BTreeSet::new();
    for c in &cases {
        let tools = c
            .attack
            .surface
            .as_ref()
            .and_then(|s| s.entities.get(&mcpseal::surface::EntityKind::Tools))
            .expect("tools");
        assert!(
            tools.contains_key(&c.entity),
            "{}: no tool {}",
            c.id,
            c.entity
        );
        labelled.insert(c.attack.name.clone());
        for v in &c.victims {
            load(v);
        }
    }
    for dir in ["attacks", "victims", "benign"] {
        for e in std::fs::read_dir(corpus(dir)).expect("dir").flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            let stem = f.trim_end_matches(".json");
            assert!(
                sources.contains(&format!("`{dir}/{f}`")),
                "SOURCES.md does not name {dir}/{f}"
            );
            if dir == "attacks" {
                assert!(
                    labelled.contains(stem),
                    "attacks/{f} has no label in corpus.json"
                );
            }
        }
    }
}

/// Same input, same findings: the corpus scanned twice, in two orders.
#[test]
fn corpus_scan_is_deterministic() {
    let mut inputs = benign();
    for c in published() {
        if !inputs.iter().any(|i| i.name == c.attack.name) {
            inputs.push(c.attack);
        }
    }
    let one = scan::scan(&inputs);
    inputs.reverse();
    let two = scan::scan(&inputs);
    assert!(
        one == two,
        "{} findings one way, {} the other",
        one.len(),
        two.len()
    );
}
