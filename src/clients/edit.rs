//! `wrap` and `unwrap` as text edits, and the atomic write with a backup.
//!
//! Wrap rewrites only the bytes of each server entry that must change (the `command` and
//! `args` values, a URL key turned into `command` + `args`, `type` set to `stdio`) and adds
//! the entry's original text, verbatim, under [`MARKER`]: a JSON member (every supported JSON
//! client ignores unknown members) or, for Codex's TOML, a comment line after the entry
//! (Codex's strict config mode rejects unknown keys; comments are always safe). Unwrap puts
//! that original text back in place of the wrapped entry, so the round trip is byte-exact
//! whatever the formatting, and needs no knowledge of how wrap built its arguments. Every
//! other byte of the file (comments, key order, unknown keys, other entries) is untouched.
//!
//! Both directions are checked before anything is written: the wrapped text must parse, and
//! unwrapping it must give back the input exactly.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::jsonc::{self, Node};
use super::{Client, ClientsError, MARKER};

/// What a wrapped entry launches.
#[derive(Debug, Clone)]
pub struct WrapOptions {
    /// mcpseal's own absolute path.
    pub mcpseal: String,
    /// The lockfile, absolute; `None` lets `mcpseal run` use its default.
    pub lock: Option<String>,
    /// The trust policy, absolute; `None`: no `--policy` is written.
    pub policy: Option<String>,
    /// Lock keys of the form `client/name` ([`crate::lock::qualified_name`]): an entry whose
    /// qualified key is here is wrapped under that key, not its bare name.
    pub qualified: std::collections::BTreeSet<String>,
    /// Lock key → pinned container image digest: a wrapped `docker run IMAGE:TAG` launches
    /// `IMAGE:TAG@sha256:…` (docs/oci.md). The original text is kept as ever, so unwrap still
    /// restores it byte for byte.
    pub images: std::collections::BTreeMap<String, crate::digest::Digest>,
}

impl WrapOptions {
    /// The lock key (`run --name`) for `client`'s entry `name`.
    pub fn gate_name(&self, client: Client, name: &str) -> String {
        let q = crate::lock::qualified_name(client.id(), name);
        if self.qualified.contains(&q) {
            q
        } else {
            name.to_owned()
        }
    }
}

/// One entry's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    /// For `~/.claude.json` `projects.<path>`: that project.
    pub project: Option<String>,
    pub name: String,
    /// `wrapped`, `unwrapped`, `already-wrapped`, `wrapped-by-hand`, `not-wrapped`.
    pub action: &'static str,
    /// The lock key a wrapped entry runs under (`name`, or `client/name`).
    pub key: Option<String>,
    /// A note for the user (headers not forwarded, …).
    pub note: Option<String>,
}

impl EntryChange {
    /// What happened to one entry: no lock key and no note yet. Every format's wrap and
    /// unwrap (JSON, TOML, Goose's YAML) starts its report of an entry here.
    pub fn new(project: Option<String>, name: String, action: &'static str) -> EntryChange {
        EntryChange {
            project,
            name,
            action,
            key: None,
            note: None,
        }
    }
}

/// The new text and what happened to each entry.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub text: String,
    pub entries: Vec<EntryChange>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.action == "wrapped" || e.action == "unwrapped")
    }
}

type Key = (Option<String>, String);

/// The `args` of a wrapped entry.
pub fn wrapped_args(name: &str, opts: &WrapOptions, original: &Target) -> Vec<String> {
    let mut a = vec!["run".to_owned(), "--name".to_owned(), name.to_owned()];
    if let Some(l) = &opts.lock {
        a.push("--lock".into());
        a.push(l.clone());
    }
    if let Some(p) = &opts.policy {
        a.push("--policy".into());
        a.push(p.clone());
    }
    match original {
        Target::Command { command, args } => {
            a.push("--".into());
            a.push(command.clone());
            let mut args = args.clone();
            if let Some(d) = opts.images.get(name)
                && let Some(Ok(c)) = crate::oci::launch::container_launch(command, &args)
                && let Some(slot) = args.get_mut(c.image_index)
            {
                *slot = crate::oci::launch::pinned_arg(slot, *d);
            }
            a.extend(args);
        }
        Target::Url(u) => {
            a.push("--url".into());
            a.push(u.clone());
        }
    }
    a
}

/// What the original entry launched.
#[derive(Debug, Clone)]
pub enum Target {
    Command { command: String, args: Vec<String> },
    Url(String),
}

/// Names `mcpseal run --name` accepts ([`crate::lock::check_server_name`]). An entry with
/// another name is left as it is: wrapping it would give the client a server that cannot start.
pub fn gate_name_ok(name: &str) -> bool {
    crate::lock::check_server_name(name).is_ok()
}

const BAD_NAME_NOTE: &str = "not wrapped: `mcpseal run --name` needs 1-200 characters, no control characters, not starting with `-`; rename the server";

/// A remote server that sends HTTP headers (usually credentials). `mcpseal run --url` cannot
/// forward them, and a stdio entry that keeps header keys is refused by some clients (Codex
/// rejects `bearer_token_env_var` on a stdio server), so such an entry is left as it is.
fn has_headers(s: &super::Server) -> bool {
    is_remote(s) && (!s.headers.is_empty() || !s.header_vars.is_empty())
}

fn is_remote(s: &super::Server) -> bool {
    !matches!(s.transport, super::Transport::Stdio { .. })
}

/// Why wrap leaves an entry as it is (its action and note), or `None` to wrap it.
pub(super) fn left_alone(
    server: &super::Server,
    name: &str,
) -> Option<(&'static str, Option<&'static str>)> {
    if !gate_name_ok(name) {
        return Some(("skipped-bad-name", Some(BAD_NAME_NOTE)));
    }
    match server.wrapped {
        super::WrapState::No if has_headers(server) => {
            Some(("skipped-headers", Some(HEADERS_NOTE)))
        }
        super::WrapState::Wrapped => Some(("already-wrapped", None)),
        super::WrapState::ByHand => Some(("wrapped-by-hand", None)),
        super::WrapState::Stale => Some(("skipped-stale-marker", Some(STALE_NOTE))),
        super::WrapState::No => None,
    }
}

const HEADERS_NOTE: &str = "not wrapped: this remote server sends HTTP headers, which `mcpseal run --url` does not forward; it stays pinned-but-ungated (check it with `mcpseal check`)";

const ZED_NESTED_NOTE: &str = "not wrapped: Zed's older nested form (`\"command\": {\"path\": …}`); write it as `\"command\": \"…\", \"args\": […], \"env\": {…}` (Zed reads both) and wrap again";

const STALE_NOTE: &str = "NOT GATED: this entry carries an original stored by `mcpseal wrap` but does not launch `mcpseal run` (it was edited after wrap, or the marker was planted); run `mcpseal unwrap` on this file to restore the stored original, or delete the x-mcpseal-original marker, then wrap again";

const URL_KEYS: [&str; 3] = ["url", "serverUrl", "httpUrl"];

fn edit_err(path: &Path, message: String) -> ClientsError {
    ClientsError::Edit {
        path: path.to_owned(),
        message,
    }
}

pub(super) fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    // Stable sort by start; apply from the end so earlier offsets stay valid. Insertions at the
    // same offset keep their listed order.
    let mut idx: Vec<usize> = (0..edits.len()).collect();
    idx.sort_by_key(|&i| (edits[i].0.start, i));
    let mut out = text.to_owned();
    for &i in idx.iter().rev() {
        let (r, s) = std::mem::take(&mut edits[i]);
        out.replace_range(r, &s);
    }
    out
}

fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The separator before a new member placed after `last`: `,\n<indent>` when members sit on
/// their own lines, `, ` otherwise.
fn json_sep(text: &str, key_start: usize) -> String {
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..key_start];
    if line_start > 0 && indent.chars().all(|c| c == ' ' || c == '\t') {
        format!(",{}{indent}", newline(text))
    } else {
        ", ".to_owned()
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn json_array(a: &[String]) -> String {
    format!(
        "[{}]",
        a.iter().map(|s| json_str(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Wraps every server entry of a config file (or only those in `only`).
pub fn wrap_text(
    client: Client,
    path: &Path,
    text: &str,
    opts: &WrapOptions,
) -> Result<Outcome, ClientsError> {
    let out = if client == Client::Codex {
        wrap_toml(path, text, opts)?
    } else if client == Client::Goose {
        super::goose::wrap(path, text, opts)?
    } else {
        wrap_json(client, path, text, opts)?
    };
    // Prove the round trip before anyone writes it.
    let wrapped: BTreeSet<Key> = out
        .entries
        .iter()
        .filter(|e| e.action == "wrapped")
        .map(|e| (e.project.clone(), e.name.clone()))
        .collect();
    super::parse(client, path, out.text.as_bytes())?;
    let back = unwrap_inner(client, path, &out.text, Some(&wrapped))?;
    if back.text != text {
        return Err(edit_err(
            path,
            "internal check failed: unwrapping the wrapped text would not restore the file; nothing was written".into(),
        ));
    }
    Ok(out)
}

/// Restores every entry `wrap` changed.
pub fn unwrap_text(client: Client, path: &Path, text: &str) -> Result<Outcome, ClientsError> {
    let out = unwrap_inner(client, path, text, None)?;
    super::parse(client, path, out.text.as_bytes())?;
    Ok(out)
}

fn unwrap_inner(
    client: Client,
    path: &Path,
    text: &str,
    only: Option<&BTreeSet<Key>>,
) -> Result<Outcome, ClientsError> {
    if client == Client::Codex {
        unwrap_toml(path, text, only)
    } else if client == Client::Goose {
        super::goose::unwrap(path, text, only)
    } else {
        unwrap_json(client, path, text, only)
    }
}

fn parse_json(path: &Path, text: &str) -> Result<Node, ClientsError> {
    jsonc::parse(text).map_err(|e| ClientsError::Parse {
        path: path.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

fn wrap_json(
    client: Client,
    path: &Path,
    text: &str,
    opts: &WrapOptions,
) -> Result<Outcome, ClientsError> {
    let root = parse_json(path, text)?;
    // Validates every entry (a broken entry refuses the whole file).
    let servers = super::parse(client, path, text.as_bytes())?;
    let mut edits = Vec::new();
    let mut entries = Vec::new();
    let mut i = 0;
    for (project, map) in super::json_server_maps(client, &root) {
        for m in map
            .members()
            .iter()
            .filter(|m| !super::provided_by_client(client, &m.value))
        {
            let server = servers
                .get(i)
                .ok_or_else(|| edit_err(path, "entry count mismatch".into()))?;
            i += 1;
            let e = &m.value;
            let mut change = EntryChange::new(project.clone(), m.key.clone(), "wrapped");
            let legacy = (client == Client::Zed && e.get("command").is_some_and(|c| c.is_object()))
                .then_some(("skipped-legacy-form", Some(ZED_NESTED_NOTE)));
            match legacy.or_else(|| left_alone(server, &m.key)) {
                Some((action, note)) => {
                    change.action = action;
                    change.note = note.map(Into::into);
                }
                None => {
                    let (target, url_member) = match &server.transport {
                        super::Transport::Stdio { command, args, .. } => (
                            Target::Command {
                                command: command.clone(),
                                args: args.clone(),
                            },
                            None,
                        ),
                        super::Transport::Http { url } | super::Transport::Sse { url } => (
                            Target::Url(url.clone()),
                            URL_KEYS.iter().find_map(|k| e.member(k)),
                        ),
                    };
                    let last = e
                        .members()
                        .iter()
                        .max_by_key(|m| m.value.span.end)
                        .ok_or_else(|| edit_err(path, format!("server {:?} is empty", m.key)))?;
                    let sep = json_sep(text, last.key_span.start);
                    let key = opts.gate_name(client, &m.key);
                    let args = json_array(&wrapped_args(&key, opts, &target));
                    change.key = Some(key);
                    let cmd = json_str(&opts.mcpseal);
                    match (e.member("command"), url_member) {
                        (Some(c), _) => {
                            edits.push((c.value.span.clone(), cmd));
                            match e.member("args") {
                                Some(a) => edits.push((a.value.span.clone(), args)),
                                None => edits.push((
                                    c.value.span.end..c.value.span.end,
                                    format!("{sep}\"args\": {args}"),
                                )),
                            }
                        }
                        (None, Some(u)) => {
                            edits.push((
                                u.key_span.start..u.value.span.end,
                                format!("\"command\": {cmd}{sep}\"args\": {args}"),
                            ));
                            if let Some(t) = e.member("type") {
                                edits.push((t.value.span.clone(), "\"stdio\"".into()));
                            }
                        }
                        (None, None) => {
                            return Err(edit_err(
                                path,
                                format!("server {:?}: no command or url", m.key),
                            ));
                        }
                    }
                    edits.push((
                        last.value.span.end..last.value.span.end,
                        format!(
                            "{sep}{}: {}",
                            json_str(MARKER),
                            json_str(&text[e.span.clone()])
                        ),
                    ));
                }
            }
            entries.push(change);
        }
    }
    Ok(Outcome {
        text: apply(text, edits),
        entries,
    })
}

fn unwrap_json(
    client: Client,
    path: &Path,
    text: &str,
    only: Option<&BTreeSet<Key>>,
) -> Result<Outcome, ClientsError> {
    let root = parse_json(path, text)?;
    let mut edits = Vec::new();
    let mut entries = Vec::new();
    for (project, map) in super::json_server_maps(client, &root) {
        for m in map
            .members()
            .iter()
            .filter(|m| !super::provided_by_client(client, &m.value))
        {
            let key = (project.clone(), m.key.clone());
            if only.is_some_and(|o| !o.contains(&key)) {
                continue;
            }
            let mut change = EntryChange::new(project.clone(), m.key.clone(), "not-wrapped");
            if let Some(orig) = m.value.get(MARKER) {
                let orig = orig.as_str().ok_or_else(|| {
                    edit_err(
                        path,
                        format!("server {:?}: {MARKER} must be a string", m.key),
                    )
                })?;
                // The original must itself be an object, or restoring would corrupt the file.
                if !jsonc::parse(orig).is_ok_and(|n| n.is_object()) {
                    return Err(edit_err(
                        path,
                        format!(
                            "server {:?}: {MARKER} does not hold a JSON object; restore from the .mcpseal-backup file",
                            m.key
                        ),
                    ));
                }
                edits.push((m.value.span.clone(), orig.to_owned()));
                change.action = "unwrapped";
            }
            entries.push(change);
        }
    }
    Ok(Outcome {
        text: apply(text, edits),
        entries,
    })
}

// ---- TOML (Codex) ----

/// One Codex server entry's place in the text.
struct TomlSeg {
    /// From the first key of the entry to the end of its last value.
    range: Range<usize>,
    inline: bool,
    /// key -> (key span start, value span)
    kvs: Vec<(String, usize, Range<usize>)>,
}

fn toml_seg(doc: &toml_edit::Document<String>, name: &str) -> Result<Option<TomlSeg>, String> {
    let Some(servers) = doc.get("mcp_servers").and_then(|i| i.as_table_like()) else {
        return Ok(None);
    };
    let Some(item) = servers.get(name) else {
        return Ok(None);
    };
    let (tl, inline): (&dyn toml_edit::TableLike, bool) = if let Some(t) = item.as_table() {
        if t.is_dotted() || t.is_implicit() {
            return Err(format!(
                "server {name:?} is written with dotted keys; write it as a [mcp_servers.{name}] table to wrap it"
            ));
        }
        (t, false)
    } else if let Some(t) = item.as_inline_table() {
        (t, true)
    } else {
        return Err(format!("server {name:?} is not a table"));
    };
    let mut kvs = Vec::new();
    for (k, _) in tl.iter() {
        let Some((key, it)) = tl.get_key_value(k) else {
            continue;
        };
        if it.is_table() || it.is_array_of_tables() {
            continue; // `[mcp_servers.NAME.env]`: untouched by wrap
        }
        match (key.span(), it.span()) {
            (Some(ks), Some(vs)) => kvs.push((k.to_owned(), ks.start, vs)),
            _ => return Err(format!("server {name:?}: no position for {k}")),
        }
    }
    let range = if inline {
        item.span().ok_or("no position for the entry")?
    } else {
        let start = kvs.iter().map(|k| k.1).min();
        let end = kvs.iter().map(|k| k.2.end).max();
        match (start, end) {
            (Some(s), Some(e)) => s..e,
            _ => return Err(format!("server {name:?} has no keys")),
        }
    };
    Ok(Some(TomlSeg { range, inline, kvs }))
}

fn toml_str(s: &str) -> String {
    // A JSON string is a TOML basic string, except that TOML forbids a raw DEL.
    json_str(s).replace('\u{7f}', "\\u007F")
}

fn toml_array(a: &[String]) -> String {
    format!(
        "[{}]",
        a.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", ")
    )
}

fn marker_prefix(inline: bool, nl: &str) -> String {
    if inline {
        format!(" # {MARKER} = ")
    } else {
        format!("{nl}# {MARKER} = ")
    }
}

/// If the server `name` carries a wrap marker: the end of the marker and the original text.
pub(crate) fn toml_marker_after(
    text: &str,
    doc: &toml_edit::Document<String>,
    name: &str,
) -> Option<(usize, String)> {
    let seg = toml_seg(doc, name).ok()??;
    let rest = text.get(seg.range.end..)?;
    let pre = [
        marker_prefix(seg.inline, "\n"),
        marker_prefix(seg.inline, "\r\n"),
    ]
    .into_iter()
    .find(|p| rest.starts_with(p.as_str()))?;
    let s = &rest[pre.len()..];
    // The basic string ends at the first unescaped quote.
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => break,
            b'\n' => return None,
            _ => i += 1,
        }
    }
    let lit = s.get(..=i)?;
    let v: toml_edit::Value = lit.parse().ok()?;
    Some((
        seg.range.end + pre.len() + lit.len(),
        v.as_str()?.to_owned(),
    ))
}

fn wrap_toml(path: &Path, text: &str, opts: &WrapOptions) -> Result<Outcome, ClientsError> {
    let servers = super::parse(Client::Codex, path, text.as_bytes())?;
    let doc = super::parse_toml(path, text)?;
    let nl = newline(text);
    let mut edits = Vec::new();
    let mut entries = Vec::new();
    for server in &servers {
        let name = &server.name;
        let mut change = EntryChange::new(None, name.clone(), "wrapped");
        match left_alone(server, name) {
            Some((action, note)) => {
                change.action = action;
                change.note = note.map(Into::into);
            }
            None => {
                let seg = toml_seg(&doc, name)
                    .map_err(|m| edit_err(path, m))?
                    .ok_or_else(|| edit_err(path, format!("server {name:?} not found")))?;
                let sep = if seg.inline { ", " } else { nl };
                let target = match &server.transport {
                    super::Transport::Stdio { command, args, .. } => Target::Command {
                        command: command.clone(),
                        args: args.clone(),
                    },
                    super::Transport::Http { url } | super::Transport::Sse { url } => {
                        Target::Url(url.clone())
                    }
                };
                let key = opts.gate_name(Client::Codex, name);
                let args = toml_array(&wrapped_args(&key, opts, &target));
                change.key = Some(key);
                let cmd = toml_str(&opts.mcpseal);
                let kv = |k: &str| seg.kvs.iter().find(|x| x.0 == k);
                match (kv("command"), kv("url")) {
                    (Some(c), _) => {
                        edits.push((c.2.clone(), cmd));
                        match kv("args") {
                            Some(a) => edits.push((a.2.clone(), args)),
                            None => edits.push((c.2.end..c.2.end, format!("{sep}args = {args}"))),
                        }
                    }
                    (None, Some(u)) => {
                        edits.push((u.1..u.2.end, format!("command = {cmd}{sep}args = {args}")));
                    }
                    (None, None) => {
                        return Err(edit_err(
                            path,
                            format!("server {name:?}: no command or url"),
                        ));
                    }
                }
                edits.push((
                    seg.range.end..seg.range.end,
                    format!(
                        "{}{}",
                        marker_prefix(seg.inline, nl),
                        toml_str(&text[seg.range.clone()])
                    ),
                ));
            }
        }
        entries.push(change);
    }
    Ok(Outcome {
        text: apply(text, edits),
        entries,
    })
}

fn unwrap_toml(
    path: &Path,
    text: &str,
    only: Option<&BTreeSet<Key>>,
) -> Result<Outcome, ClientsError> {
    let doc = super::parse_toml(path, text)?;
    let mut edits = Vec::new();
    let mut entries = Vec::new();
    let names: Vec<String> = doc
        .get("mcp_servers")
        .and_then(|i| i.as_table_like())
        .map(|t| t.iter().map(|(k, _)| k.to_owned()).collect())
        .unwrap_or_default();
    for name in names {
        if only.is_some_and(|o| !o.contains(&(None, name.clone()))) {
            continue;
        }
        let mut change = EntryChange::new(None, name.clone(), "not-wrapped");
        if let Some((end, orig)) = toml_marker_after(text, &doc, &name) {
            let seg = toml_seg(&doc, &name)
                .map_err(|m| edit_err(path, m))?
                .ok_or_else(|| edit_err(path, format!("server {name:?} not found")))?;
            edits.push((seg.range.start..end, orig));
            change.action = "unwrapped";
        }
        entries.push(change);
    }
    Ok(Outcome {
        text: apply(text, edits),
        entries,
    })
}

// ---- writing ----

/// `<file>.mcpseal-backup`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".mcpseal-backup");
    PathBuf::from(s)
}

/// Replaces `path` with `new`: first copies the current bytes `old` to `<file>.mcpseal-backup`,
/// then writes a temp file in the same folder, fsyncs it, keeps the file's permissions, and
/// renames it over the target (through a symlink: the link's target is replaced, the link kept).
///
/// If the file no longer holds `old` (the client saved it meanwhile), nothing is written.
pub fn write_with_backup(path: &Path, old: &[u8], new: &[u8]) -> std::io::Result<PathBuf> {
    let target = std::fs::canonicalize(path)?;
    if std::fs::read(&target)? != old {
        return Err(std::io::Error::other(
            "the file changed while mcpseal was editing it; nothing was written, run the command again",
        ));
    }
    let perms = std::fs::metadata(&target)?.permissions();
    let backup = backup_path(&target);
    write_atomic(&backup, old, &perms)?;
    write_atomic(&target, new, &perms)?;
    Ok(backup)
}

fn write_atomic(path: &Path, bytes: &[u8], perms: &std::fs::Permissions) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    crate::atomic::write_atomic(
        path,
        bytes,
        crate::atomic::Options {
            mode: perms.mode() & 0o7777,
            ..crate::atomic::Options::PUBLIC
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> WrapOptions {
        WrapOptions {
            mcpseal: "/opt/bin/mcpseal".into(),
            lock: Some("/l/mcpseal.lock".into()),
            policy: None,
            qualified: Default::default(),
            images: Default::default(),
        }
    }

    #[test]
    fn json_round_trip_keeps_comments_and_is_idempotent() {
        let t = "{\n  // servers\n  \"servers\": {\n    \"a\": { \"command\": \"npx\", /* c */ \"args\": [\"-y\", \"x\"], },\n    \"b\": {\n      \"type\": \"http\",\n      \"url\": \"https://h/mcp\"\n    }\n  },\n}\n";
        let p = Path::new("mcp.json");
        let w = wrap_text(Client::VsCode, p, t, &opts()).unwrap();
        assert!(w.text.contains("// servers") && w.text.contains("/* c */"));
        assert!(w.text.contains(r#""args": ["run", "--name", "a", "--lock", "/l/mcpseal.lock", "--", "npx", "-y", "x"]"#), "{}", w.text);
        assert!(
            w.text.contains(r#""command": "/opt/bin/mcpseal","#),
            "{}",
            w.text
        );
        assert!(w.text.contains(r#""type": "stdio""#));
        let again = wrap_text(Client::VsCode, p, &w.text, &opts()).unwrap();
        assert_eq!(again.text, w.text);
        assert!(!again.changed());
        assert_eq!(unwrap_text(Client::VsCode, p, &w.text).unwrap().text, t);
    }

    /// Issue 12: a pinned container image is wrapped by digest; unwrap restores the tag.
    #[test]
    fn wrap_pins_a_container_image_by_digest_and_unwrap_restores_the_tag() {
        let t = "{\"mcpServers\": {\"fetch\": {\"command\": \"docker\", \"args\": [\"run\", \"-i\", \"--rm\", \"mcp/fetch:1\"]}}}";
        let d = crate::digest::Digest::of(b"manifest");
        let mut o = opts();
        o.images.insert("fetch".into(), d);
        let p = Path::new("claude_desktop_config.json");
        let w = wrap_text(Client::ClaudeDesktop, p, t, &o).unwrap();
        assert!(
            w.text.contains(&format!(
                "\"--\", \"docker\", \"run\", \"-i\", \"--rm\", \"mcp/fetch:1@{d}\""
            )),
            "{}",
            w.text
        );
        assert_eq!(
            unwrap_text(Client::ClaudeDesktop, p, &w.text).unwrap().text,
            t
        );
        // Without a pinned image the arguments are kept as they are.
        let plain = wrap_text(Client::ClaudeDesktop, p, t, &opts()).unwrap();
        assert!(plain.text.contains("\"mcp/fetch:1\"]"), "{}", plain.text);
    }

    /// Issue 10, finding 4: the policy is written into each entry, so deleting it later makes
    /// the gate refuse (the file named is missing) instead of running without it.
    #[test]
    fn wrap_writes_the_absolute_policy() {
        let t = "{\"mcpServers\": {\"a\": {\"command\": \"npx\", \"args\": [\"x\"]}}}";
        let o = WrapOptions {
            policy: Some("/etc/mcpseal/policy.toml".into()),
            ..opts()
        };
        let w = wrap_text(Client::ClaudeDesktop, Path::new("c.json"), t, &o).unwrap();
        assert!(
            w.text.contains(r#""--lock", "/l/mcpseal.lock", "--policy", "/etc/mcpseal/policy.toml", "--", "npx""#),
            "{}",
            w.text
        );
    }

    /// Issue 9: a server named `--` (or `-x`) would be written as `run --name -- …`, which
    /// cannot start; such entries are left alone and say why.
    #[test]
    fn names_run_cannot_take_are_not_wrapped() {
        let t = "{\"mcpServers\": {\"--\": {\"command\": \"a\"}, \"-rf\": {\"command\": \"b\"}, \"ok\": {\"command\": \"c\"}}}";
        let w = wrap_text(Client::ClaudeDesktop, Path::new("c.json"), t, &opts()).unwrap();
        let actions: Vec<(&str, &str)> = w
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("--", "skipped-bad-name"),
                ("-rf", "skipped-bad-name"),
                ("ok", "wrapped")
            ]
        );
        assert!(!w.text.contains("\"--name\", \"--\""), "{}", w.text);
    }

    /// Every prefix and many one-byte edits of real configs: parse and wrap return an error or
    /// a round-trippable result, never a panic (a poor man's fuzz target for both parsers).
    #[test]
    fn truncated_and_mutated_configs_never_panic() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/clients");
        for (client, rel) in [
            (Client::VsCode, "vscode/mcp.json"),
            (Client::Codex, "codex/config.toml"),
            (Client::ClaudeCode, "claude-code/claude.json"),
            (Client::Zed, "zed/settings.json"),
            (Client::Cline, "cline/cline_mcp_settings.json"),
            (Client::Goose, "goose/config.yaml"),
        ] {
            let text = std::fs::read_to_string(root.join(rel)).unwrap();
            let mut cases: Vec<String> = (0..text.len())
                .filter(|&i| text.is_char_boundary(i))
                .map(|i| text[..i].to_owned())
                .collect();
            for (i, c) in text.char_indices().step_by(3) {
                for rep in ["\"", "{", "]", "\\", "#", "\n", "é"] {
                    let mut m = text.clone();
                    m.replace_range(i..i + c.len_utf8(), rep);
                    cases.push(m);
                }
            }
            for t in &cases {
                let _ = super::super::parse(client, Path::new("f"), t.as_bytes());
                if let Ok(w) = wrap_text(client, Path::new("f"), t, &opts()) {
                    // wrap_text proved the round trip itself; wrapping again must change nothing.
                    let again = wrap_text(client, Path::new("f"), &w.text, &opts()).unwrap();
                    assert_eq!(again.text, w.text);
                }
            }
        }
    }

    #[test]
    fn toml_round_trip() {
        let t = "# top\n[mcp_servers.git]\ncommand = \"uvx\" # the runner\nargs = [\"mcp-server-git\"]\n\n[mcp_servers.git.env]\nA = \"1\"\n\n[mcp_servers]\nremote = { url = \"https://h/mcp\", startup_timeout_sec = 5 }\n";
        let p = Path::new("config.toml");
        let w = wrap_text(Client::Codex, p, t, &opts()).unwrap();
        assert!(
            w.text
                .contains("command = \"/opt/bin/mcpseal\" # the runner"),
            "{}",
            w.text
        );
        let s = super::super::parse(Client::Codex, p, w.text.as_bytes()).unwrap();
        assert!(
            s.iter()
                .all(|s| s.wrapped == super::super::WrapState::Wrapped),
            "{s:?}"
        );
        assert_eq!(
            wrap_text(Client::Codex, p, &w.text, &opts()).unwrap().text,
            w.text
        );
        assert_eq!(unwrap_text(Client::Codex, p, &w.text).unwrap().text, t);
    }
}
