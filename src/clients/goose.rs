//! Goose's `config.yaml`: its `extensions:` map read strictly, and the line-level edits
//! `wrap` and `unwrap` make to it.
//!
//! Goose writes its config with serde (block mappings, one key per line), and that is the
//! layout edited here: an extension entry is the lines from its key to the next entry's key;
//! each of its keys is the lines from that key to the next. Wrap rewrites an entry as its key
//! line, a comment line holding the whole original entry as a JSON string
//! (`# x-mcpseal-original: "…"`, like Codex's TOML: a comment is safe from any schema), the
//! new `type` / `cmd` / `args`, and every other key's lines as they were. Unwrap puts the
//! original lines back, so the round trip is byte-exact. An entry in another layout (flow
//! style, keys sharing a line) is left as it is with a note, never guessed at.
//!
//! The YAML itself is parsed by `saphyr-parser` into plain values; anchors, aliases, tags,
//! several documents, non-string keys and duplicate keys are refused (a reader that resolves
//! them differently from Goose would pin and wrap another server than Goose starts).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::edit::{self, EntryChange, Outcome, Target, WrapOptions};
use super::{Client, ClientsError, Server, Transport, WrapState};

/// The marker comment's prefix (after the indentation).
const MARKER_LINE: &str = "# x-mcpseal-original: ";
const MAX_DEPTH: usize = 64;

/// A YAML value as Goose's config uses them. Positions are 1-based lines and 0-based
/// character columns of a mapping key.
#[derive(Debug, Clone, PartialEq)]
enum Yaml {
    /// A scalar's text, and whether it was plain (unquoted: `true`, `null`, `300` …).
    Str(String, bool),
    Seq(Vec<Yaml>),
    Map(Vec<Member>),
}

#[derive(Debug, Clone, PartialEq)]
struct Member {
    key: String,
    line: usize,
    col: usize,
    value: Yaml,
}

impl Yaml {
    fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m.iter().find(|x| x.key == key).map(|x| &x.value),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s, _) => Some(s),
            _ => None,
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, Yaml::Str(s, true) if s.is_empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    }
}

struct Reader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn err(&self, line: usize, column: usize, message: impl Into<String>) -> ClientsError {
        ClientsError::Parse {
            path: self.path.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, usize, usize), ClientsError> {
        match self.parser.next_event() {
            Some(Ok((ev, span))) => Ok((ev, span.start.line(), span.start.col() + 1)),
            Some(Err(e)) => {
                Err(self.err(e.marker().line(), e.marker().col() + 1, e.info().to_owned()))
            }
            None => Err(self.err(1, 1, "unexpected end of the YAML stream")),
        }
    }

    /// The value starting with `ev` (already read).
    fn value(
        &mut self,
        ev: Event<'a>,
        line: usize,
        col: usize,
        depth: usize,
    ) -> Result<Yaml, ClientsError> {
        if depth > MAX_DEPTH {
            return Err(self.err(line, col, "nested too deeply"));
        }
        let refuse = |r: &Self, what: &str| {
            r.err(
                line,
                col,
                format!("{what} are not accepted in an MCP client config (mcpseal reads plain values only)"),
            )
        };
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(refuse(self, "anchors"));
                }
                if tag.is_some() {
                    return Err(refuse(self, "tags"));
                }
                Ok(Yaml::Str(text.into_owned(), style == ScalarStyle::Plain))
            }
            Event::Alias(_) => Err(refuse(self, "aliases")),
            Event::SequenceStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(refuse(self, "anchors and tags"));
                }
                let mut items = Vec::new();
                loop {
                    let (ev, l, c) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        return Ok(Yaml::Seq(items));
                    }
                    items.push(self.value(ev, l, c, depth + 1)?);
                }
            }
            Event::MappingStart(anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return Err(refuse(self, "anchors and tags"));
                }
                let mut members: Vec<Member> = Vec::new();
                loop {
                    let (ev, l, c) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => return Ok(Yaml::Map(members)),
                        Event::Scalar(..) => match self.value(ev, l, c, depth + 1)? {
                            Yaml::Str(k, _) => k,
                            _ => return Err(self.err(l, c, "a key must be a string")),
                        },
                        _ => return Err(self.err(l, c, "a key must be a string")),
                    };
                    if members.iter().any(|m| m.key == key) {
                        return Err(self.err(l, c, format!("duplicate key {key:?}")));
                    }
                    let (ev, vl, vc) = self.next()?;
                    let value = self.value(ev, vl, vc, depth + 1)?;
                    members.push(Member {
                        key,
                        line: l,
                        col: c - 1,
                        value,
                    });
                }
            }
            _ => Err(self.err(line, col, "unexpected YAML event")),
        }
    }
}

/// Parses a whole YAML document (an empty file is an empty mapping).
fn parse_yaml(path: &Path, text: &str) -> Result<Yaml, ClientsError> {
    let mut r = Reader {
        parser: Parser::new_from_str(text),
        path,
    };
    let mut root = None;
    loop {
        let (ev, line, col) = r.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                if root.is_some() {
                    return Err(r.err(line, col, "several YAML documents in one config"));
                }
                let (ev, l, c) = r.next()?;
                root = Some(r.value(ev, l, c, 0)?);
            }
            _ => return Err(r.err(line, col, "unexpected YAML event")),
        }
    }
    Ok(root.unwrap_or(Yaml::Map(Vec::new())))
}

/// Extension types Goose runs itself, not from a command in the file.
fn provided_by_goose(ty: &str) -> bool {
    matches!(ty, "builtin" | "platform" | "frontend" | "inline_python")
}

/// One `extensions:` entry: its name, where its key is, and the server it launches (`None`
/// for one Goose provides itself).
struct Entry {
    name: String,
    line: usize,
    col: usize,
    value: Yaml,
    server: Option<Server>,
}

fn entries(path: &Path, text: &str) -> Result<Vec<Entry>, ClientsError> {
    let root = parse_yaml(path, text)?;
    let ext = match root.get("extensions") {
        None => return Ok(Vec::new()),
        Some(v) if v.is_null() => return Ok(Vec::new()),
        Some(Yaml::Map(m)) => m.clone(),
        Some(_) => {
            return Err(ClientsError::Parse {
                path: path.to_owned(),
                line: 1,
                column: 1,
                message: "extensions must be a mapping".into(),
            });
        }
    };
    let mut out = Vec::new();
    for m in ext {
        let server = server(path, &m.key, &m.value)?;
        out.push(Entry {
            name: m.key,
            line: m.line,
            col: m.col,
            value: m.value,
            server,
        });
    }
    Ok(out)
}

fn server(path: &Path, name: &str, e: &Yaml) -> Result<Option<Server>, ClientsError> {
    let err = |message: String| ClientsError::Entry {
        path: path.to_owned(),
        server: name.to_owned(),
        message,
    };
    if !matches!(e, Yaml::Map(_)) {
        return Err(err("the entry must be a mapping".into()));
    }
    let s = |key: &str| -> Result<Option<String>, ClientsError> {
        match e.get(key) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => v
                .str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| err(format!("{key} must be a string"))),
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, ClientsError> {
        match e.get(key) {
            None => Ok(Vec::new()),
            Some(v) if v.is_null() => Ok(Vec::new()),
            Some(Yaml::Seq(items)) => items
                .iter()
                .map(|i| i.str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| err(format!("{key} must be a list of strings"))),
            Some(_) => Err(err(format!("{key} must be a list of strings"))),
        }
    };
    let map = |key: &str| -> Result<BTreeMap<String, String>, ClientsError> {
        match e.get(key) {
            None => Ok(BTreeMap::new()),
            Some(v) if v.is_null() => Ok(BTreeMap::new()),
            Some(Yaml::Map(m)) => m
                .iter()
                .map(|x| {
                    x.value
                        .str()
                        .map(|v| (x.key.clone(), v.to_owned()))
                        .ok_or_else(|| err(format!("{key}.{} must be a string", x.key)))
                })
                .collect(),
            Some(_) => Err(err(format!("{key} must be a mapping of strings"))),
        }
    };
    let ty =
        s("type")?.ok_or_else(|| err("type is missing (stdio, sse, streamable_http …)".into()))?;
    if provided_by_goose(&ty) {
        return Ok(None);
    }
    let transport = match ty.as_str() {
        "stdio" => Transport::Stdio {
            command: s("cmd")?.ok_or_else(|| err("a stdio extension needs cmd".into()))?,
            args: strings("args")?,
            cwd: None,
        },
        "sse" => Transport::Sse {
            url: s("uri")?.ok_or_else(|| err("an sse extension needs uri".into()))?,
        },
        "streamable_http" => Transport::Http {
            url: s("uri")?.ok_or_else(|| err("a streamable_http extension needs uri".into()))?,
        },
        other => return Err(err(format!("unknown extension type {other:?}"))),
    };
    let disabled = matches!(e.get("enabled"), Some(Yaml::Str(v, true)) if v == "false");
    let wrapped = WrapState::No; // set by the caller, which sees the marker line
    Ok(Some(Server {
        name: name.to_owned(),
        client: Client::Goose,
        file: path.to_owned(),
        project: None,
        transport,
        env: map("envs")?,
        // Goose keeps these values in its secret store; a launch takes them from the
        // environment, by name.
        env_passthrough: strings("env_keys")?,
        headers: map("headers")?,
        header_vars: BTreeMap::new(),
        wrapped,
        disabled,
    }))
}

/// Byte offsets of the start of each line (1-based line `n` starts at `starts[n - 1]`), and
/// the text's length at the end.
fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if v.last() != Some(&text.len()) {
        v.push(text.len());
    }
    v
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Is this line content (not blank, not a comment)?
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The byte range of entry `i`: from its key line to the next entry's key line; the last
/// entry ends at the first content line indented no deeper than its key, or the end.
fn entry_range(text: &str, starts: &[usize], all: &[Entry], i: usize) -> Range<usize> {
    let start = starts[all[i].line - 1];
    let end = match all.get(i + 1) {
        Some(next) => starts[next.line - 1],
        None => {
            let mut end = text.len();
            for w in starts.windows(2).skip(all[i].line) {
                let l = &text[w[0]..w[1]];
                if is_content(l) && indent(l) <= all[i].col {
                    end = w[0];
                    break;
                }
            }
            end
        }
    };
    start..end
}

/// A key of an entry and the byte range of its lines.
type Segment = (String, Range<usize>);

/// The entry's keys as `(key, byte range of its lines)`, if the entry is in the layout this
/// module edits: a block mapping whose keys each start a line, one column deeper than the
/// entry's key (the same column for all).
fn key_segments(
    text: &str,
    starts: &[usize],
    e: &Entry,
    range: &Range<usize>,
) -> Option<(usize, Vec<Segment>)> {
    let Yaml::Map(members) = &e.value else {
        return None;
    };
    let first = members.first()?;
    let col = first.col;
    if col <= e.col || first.line != e.line + 1 {
        return None;
    }
    // The entry's key line holds nothing after the colon but a comment.
    let key_line = &text[starts[e.line - 1]..starts[e.line]];
    let after = key_line.split_once(':')?.1.trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let mut out = Vec::new();
    for (j, m) in members.iter().enumerate() {
        if m.col != col {
            return None;
        }
        let line_start = starts[m.line - 1];
        if text[line_start..].len() < col || indent(&text[line_start..]) != col {
            return None;
        }
        let end = members.get(j + 1).map_or(range.end, |n| starts[n.line - 1]);
        if end <= line_start {
            return None;
        }
        out.push((m.key.clone(), line_start..end));
    }
    Some((col, out))
}

/// The original entry stored in a wrapped entry's marker line, if it has one.
fn marker_in(text: &str, range: &Range<usize>) -> Option<String> {
    text[range.clone()].lines().find_map(|l| {
        let json = l.trim_start().strip_prefix(MARKER_LINE)?;
        serde_json::from_str::<String>(json).ok()
    })
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<Server>, ClientsError> {
    let all = entries(path, text)?;
    let starts = line_starts(text);
    let mut out = Vec::new();
    for i in 0..all.len() {
        let range = entry_range(text, &starts, &all, i);
        if let Some(mut s) = all[i].server.clone() {
            s.wrapped = super::wrap_state(marker_in(text, &range).is_some(), &s.transport);
            out.push(s);
        }
    }
    Ok(out)
}

const LAYOUT_NOTE: &str = "not wrapped: this Goose entry is not in the layout Goose writes (one key per line, block style); let Goose save it once, or edit it into that form, and wrap again";

pub(super) fn wrap(path: &Path, text: &str, opts: &WrapOptions) -> Result<Outcome, ClientsError> {
    let all = entries(path, text)?;
    let servers = parse(path, text)?;
    let starts = line_starts(text);
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for (i, e) in all.iter().enumerate() {
        let Some(server) = servers.iter().find(|s| s.name == e.name) else {
            continue; // provided by Goose itself
        };
        let mut change = EntryChange::new(None, e.name.clone(), "wrapped");
        let range = entry_range(text, &starts, &all, i);
        let segs = key_segments(text, &starts, e, &range);
        match (edit::left_alone(server, &e.name), segs) {
            (Some((action, note)), _) => {
                change.action = action;
                change.note = note.map(Into::into);
            }
            (None, None) => {
                change.action = "skipped-layout";
                change.note = Some(LAYOUT_NOTE.into());
            }
            (None, Some((col, segs))) => {
                let target = match &server.transport {
                    Transport::Stdio { command, args, .. } => Target::Command {
                        command: command.clone(),
                        args: args.clone(),
                    },
                    Transport::Http { url } | Transport::Sse { url } => Target::Url(url.clone()),
                };
                let key = opts.gate_name(Client::Goose, &e.name);
                let args = edit::wrapped_args(&key, opts, &target);
                change.key = Some(key);
                let pad = " ".repeat(col);
                let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
                let mut block = text[starts[e.line - 1]..starts[e.line]].to_owned();
                if !block.ends_with('\n') {
                    block.push_str(nl);
                }
                block.push_str(&format!(
                    "{pad}{MARKER_LINE}{}{nl}",
                    q(&text[range.clone()])
                ));
                block.push_str(&format!("{pad}type: stdio{nl}"));
                block.push_str(&format!("{pad}cmd: {}{nl}", q(&opts.mcpseal)));
                block.push_str(&format!(
                    "{pad}args: [{}]{nl}",
                    args.iter().map(|a| q(a)).collect::<Vec<_>>().join(", ")
                ));
                for (k, r) in &segs {
                    if !matches!(k.as_str(), "type" | "cmd" | "args" | "uri" | "headers") {
                        block.push_str(&text[r.clone()]);
                    }
                }
                // The last kept lines may lack a newline at the end of the file.
                if range.end < text.len() && !block.ends_with('\n') {
                    block.push_str(nl);
                }
                edits.push((range, block));
            }
        }
        changes.push(change);
    }
    Ok(Outcome {
        text: edit::apply(text, edits),
        entries: changes,
    })
}

pub(super) fn unwrap(
    path: &Path,
    text: &str,
    only: Option<&BTreeSet<(Option<String>, String)>>,
) -> Result<Outcome, ClientsError> {
    let all = entries(path, text)?;
    let starts = line_starts(text);
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for i in 0..all.len() {
        let name = &all[i].name;
        if only.is_some_and(|o| !o.contains(&(None, name.clone()))) {
            continue;
        }
        let range = entry_range(text, &starts, &all, i);
        let mut change = EntryChange::new(None, name.clone(), "not-wrapped");
        if let Some(original) = marker_in(text, &range) {
            edits.push((range, original));
            change.action = "unwrapped";
        }
        changes.push(change);
    }
    Ok(Outcome {
        text: edit::apply(text, edits),
        entries: changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("config.yaml")
    }

    #[test]
    fn anchors_aliases_tags_duplicates_and_documents_are_refused() {
        for bad in [
            "extensions:\n  a: &x\n    type: stdio\n    cmd: npx\n  b: *x\n",
            "extensions:\n  a:\n    type: stdio\n    cmd: !!str npx\n",
            "extensions:\n  a:\n    type: stdio\n    cmd: npx\n    cmd: evil\n",
            "extensions: {}\n---\nextensions:\n  a: {type: stdio, cmd: evil}\n",
            "extensions:\n  ? [a]\n  : {type: stdio, cmd: x}\n",
        ] {
            let e = parse(p(), bad).map(|_| ()).unwrap_err();
            assert_eq!(e.code(), "config-parse", "{bad}: {e}");
        }
    }

    #[test]
    fn entries_goose_runs_itself_are_not_servers() {
        let s = parse(
            p(),
            "extensions:\n  developer:\n    type: builtin\n    name: developer\n  f:\n    type: stdio\n    cmd: uvx\n    args: [mcp-server-fetch]\n    enabled: false\n",
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "f");
        assert!(s[0].disabled);
    }

    #[test]
    fn a_flow_style_entry_is_left_alone_with_a_note() {
        let text = "extensions:\n  f: {type: stdio, cmd: uvx, args: [mcp-server-fetch]}\n";
        let opts = WrapOptions {
            mcpseal: "/bin/mcpseal".into(),
            lock: None,
            policy: None,
            qualified: Default::default(),
            images: Default::default(),
        };
        let out = wrap(p(), text, &opts).unwrap();
        assert_eq!(out.text, text);
        assert_eq!(out.entries[0].action, "skipped-layout");
    }
}
