//! Rules on launch specs: unpinned packages (npx, bunx, pnpm dlx, yarn dlx, npm exec, uvx,
//! uv tool run, pipx run, docker / podman run), shell launches, literal secrets in env,
//! headers, arguments and URLs.
//!
//! Pointers address the spec's JSON form: `/command`, `/args/N`, `/env/NAME`,
//! `/headers/NAME`, `/url`. A secret is never copied into a finding: only a redacted prefix
//! (at most four characters and never more than a quarter of the value) and its length.

use std::sync::LazyLock;

use regex::Regex;

use super::secrets::{SECRET_NAME, TOKEN, redact};
use super::{Code, Finding, Target};
use crate::mcp::LaunchSpec;
use crate::severity::Severity;

static EXACT_NPM_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
        .unwrap_or_else(|e| panic!("{e}"))
});
static EXACT_PY_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*(?:\+[0-9A-Za-z.]+)?$")
        .unwrap_or_else(|e| panic!("{e}"))
});

struct Out<'a> {
    server: &'a str,
    out: &'a mut Vec<Finding>,
}

impl Out<'_> {
    fn push(&mut self, code: Code, severity: Severity, pointer: String, reason: String) {
        let field = pointer.split('/').nth(1).unwrap_or("command").to_owned();
        self.out.push(Finding {
            code,
            severity,
            server: self.server.to_owned(),
            kind: Target::Launch,
            entity: None,
            field,
            pointer,
            offset: None,
            reason,
        });
    }
}

/// All launch-spec rules for one server.
pub fn scan_launch(server: &str, spec: &LaunchSpec, out: &mut Vec<Finding>) {
    let mut o = Out { server, out };
    match spec {
        LaunchSpec::Stdio {
            command, args, env, ..
        } => {
            let mut argv: Vec<(String, String)> = vec![(command.clone(), "/command".into())];
            argv.extend(
                args.iter()
                    .enumerate()
                    .map(|(i, a)| (a.clone(), format!("/args/{i}"))),
            );
            command_line(&argv, &mut o, 0);
            for (i, a) in args.iter().enumerate() {
                secret_arg(a, args.get(i + 1), i, &mut o);
            }
            for (k, v) in env {
                secret_value(
                    k,
                    v,
                    crate::json::pointer_child("/env", k),
                    "environment variable",
                    &mut o,
                );
            }
        }
        LaunchSpec::Http { url, headers } | LaunchSpec::Sse { url, headers } => {
            for (k, v) in headers {
                let value = v
                    .strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .or_else(|| v.strip_prefix("Basic "))
                    .unwrap_or(v);
                secret_value(
                    k,
                    value,
                    crate::json::pointer_child("/headers", k),
                    "header",
                    &mut o,
                );
            }
            secret_url(url, &mut o);
        }
    }
}

fn is_reference(v: &str) -> bool {
    let v = v.trim();
    v.is_empty()
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with("${")
        || v.starts_with("{env:")
        || v.starts_with("op://")
        || v.starts_with("env:")
        || v.starts_with("<")
}

fn secret_value(name: &str, value: &str, pointer: String, what: &str, o: &mut Out<'_>) {
    if is_reference(value) {
        return;
    }
    if let Some(m) = TOKEN.find(value) {
        o.push(
            Code::LiteralSecret,
            Severity::High,
            pointer,
            format!(
                "{what} {name} holds a literal credential {}",
                redact(m.as_str())
            ),
        );
        return;
    }
    let looks_random = value.len() >= 16
        && !value.contains(char::is_whitespace)
        && !value.contains('/')
        && value.chars().any(|c| c.is_ascii_digit())
        && value.chars().any(|c| c.is_ascii_alphabetic());
    if SECRET_NAME.is_match(name) && looks_random {
        o.push(
            Code::LiteralSecret,
            Severity::High,
            pointer,
            format!("{what} {name} holds a literal secret {}", redact(value)),
        );
    }
}

fn secret_arg(arg: &str, next: Option<&String>, i: usize, o: &mut Out<'_>) {
    let pointer = format!("/args/{i}");
    if let Some(m) = TOKEN.find(arg) {
        o.push(
            Code::LiteralSecret,
            Severity::High,
            pointer,
            format!(
                "argument {i} holds a literal credential {}",
                redact(m.as_str())
            ),
        );
        return;
    }
    let Some(flag) = arg.strip_prefix("--") else {
        return;
    };
    let (name, value, at) = match flag.split_once('=') {
        Some((n, v)) => (n, Some(v), i),
        None => (flag, next.map(String::as_str), i + 1),
    };
    if let Some(v) = value
        && SECRET_NAME.is_match(name)
        && !v.starts_with('-')
        && !TOKEN.is_match(v)
    {
        secret_value(&format!("--{name}"), v, format!("/args/{at}"), "option", o);
    }
}

fn secret_url(url: &str, o: &mut Out<'_>) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && userinfo.contains(':')
    {
        o.push(
            Code::LiteralSecret,
            Severity::High,
            "/url".into(),
            "the URL carries a password in its user info".into(),
        );
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                secret_value(k, v, "/url".into(), "URL query parameter", o);
            }
        }
    }
}

fn base_name(command: &str) -> String {
    let b = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let b = b.to_ascii_lowercase();
    for ext in [".exe", ".cmd", ".bat", ".ps1"] {
        if let Some(s) = b.strip_suffix(ext) {
            return s.to_owned();
        }
    }
    b
}

/// Looks at an argv (each word with its pointer). `depth` bounds recursion into shell strings.
fn command_line(argv: &[(String, String)], o: &mut Out<'_>, depth: usize) {
    let Some((cmd, _)) = argv.first() else {
        return;
    };
    let rest = argv.get(1..).unwrap_or(&[]);
    let base = base_name(cmd);
    match base.as_str() {
        "env" => {
            // env [-i] [NAME=value …] command …
            let skip = rest
                .iter()
                .take_while(|(a, _)| a.starts_with('-') || a.contains('='))
                .count();
            command_line(rest.get(skip..).unwrap_or(&[]), o, depth);
        }
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" | "ash" | "cmd" | "powershell" | "pwsh" => {
            shell(&base, rest, o, depth)
        }
        "npx" | "bunx" | "pnpx" => npm_runner(&base, rest, o),
        "bun" | "pnpm" | "yarn" | "npm" => {
            let sub = rest.first().map(|(a, _)| a.as_str());
            match (base.as_str(), sub) {
                ("bun", Some("x"))
                | ("pnpm", Some("dlx"))
                | ("yarn", Some("dlx"))
                | ("npm", Some("exec" | "x")) => npm_runner(
                    &format!("{base} {}", sub.unwrap_or("")),
                    rest.get(1..).unwrap_or(&[]),
                    o,
                ),
                _ => {}
            }
        }
        "uvx" => py_runner("uvx", rest, o),
        "uv" if rest.first().map(|(a, _)| a.as_str()) == Some("tool")
            && rest.get(1).map(|(a, _)| a.as_str()) == Some("run") =>
        {
            py_runner("uv tool run", rest.get(2..).unwrap_or(&[]), o);
        }
        "pipx" if rest.first().map(|(a, _)| a.as_str()) == Some("run") => {
            py_runner("pipx run", rest.get(1..).unwrap_or(&[]), o);
        }
        "docker" | "podman" | "nerdctl" => {
            let i = rest
                .iter()
                .position(|(a, _)| !a.starts_with('-'))
                .unwrap_or(rest.len());
            let sub = rest.get(i).map(|(a, _)| a.as_str());
            let (start, ok) = match (sub, rest.get(i + 1).map(|(a, _)| a.as_str())) {
                (Some("run"), _) => (i + 1, true),
                (Some("container"), Some("run")) => (i + 2, true),
                _ => (0, false),
            };
            if ok {
                container(&base, rest.get(start..).unwrap_or(&[]), o);
            }
        }
        _ => {}
    }
}

fn shell(base: &str, rest: &[(String, String)], o: &mut Out<'_>, depth: usize) {
    let is_cmd_flag = |a: &str| -> bool {
        let l = a.to_ascii_lowercase();
        match base {
            "cmd" => l == "/c" || l == "/k",
            "powershell" | "pwsh" => {
                l == "-c" || l == "-command" || l == "-encodedcommand" || l == "-e" || l == "-ec"
            }
            _ => a.starts_with('-') && !a.starts_with("--") && a.contains('c'),
        }
    };
    let Some(i) = rest.iter().position(|(a, _)| is_cmd_flag(a)) else {
        return;
    };
    let Some((flag, ptr)) = rest.get(i) else {
        return;
    };
    let script: Vec<(String, String)> = match base {
        // cmd /c takes the rest of the line as words.
        "cmd" => rest.get(i + 1..).unwrap_or(&[]).to_vec(),
        _ => rest
            .get(i + 1)
            .map(|(s, p)| {
                s.split_whitespace()
                    .map(|w| (w.trim_matches(['"', '\'']).to_owned(), p.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let text: Vec<&str> = script.iter().map(|(w, _)| w.as_str()).collect();
    let shown = text.join(" ");
    let pipe_to_shell = shown.contains("| sh") || shown.contains("| bash") || shown.contains("|sh");
    o.push(
        Code::ShellLaunch,
        Severity::High,
        ptr.clone(),
        format!(
            "launched through `{base} {flag}`{}: the command line is a shell string that cannot be pinned",
            if pipe_to_shell { " piping a download into a shell" } else { "" }
        ),
    );
    if depth < 2 {
        // Look inside the script for package runners, command by command.
        for part in script.split(|(w, _)| matches!(w.as_str(), "&&" | "||" | ";" | "|")) {
            command_line(part, o, depth + 1);
        }
    }
}

/// An npm package spec: `name`, `name@ver`, `@scope/name`, `@scope/name@ver`, or a
/// git / URL / path spec. Returns why it is unpinned, if it is.
fn npm_unpinned(spec: &str) -> Option<String> {
    if spec.starts_with('.') || spec.starts_with('/') || spec.starts_with("file:") {
        return None;
    }
    if spec.starts_with("github:") || spec.starts_with("git+") || spec.starts_with("git://") {
        let commit = spec.rsplit_once('#').map(|(_, c)| c);
        return match commit {
            Some(c) if c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit()) => None,
            _ => Some("a git dependency without a commit hash".into()),
        };
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Some("a tarball URL whose content can change".into());
    }
    // `@scope/name@version`: the version follows the second `@`.
    let body = spec.strip_prefix('@').unwrap_or(spec);
    let version = body.split_once('@').map(|(_, v)| v);
    match version {
        None => Some("no version: every launch runs whatever is newest".into()),
        Some("") => Some("an empty version".into()),
        Some(v) if EXACT_NPM_VERSION.is_match(v) => None,
        Some(v) => Some(format!(
            "version `{v}` is a tag or range, not an exact version"
        )),
    }
}

fn npm_runner(runner: &str, rest: &[(String, String)], o: &mut Out<'_>) {
    let mut explicit: Vec<&(String, String)> = Vec::new();
    let mut positional: Option<&(String, String)> = None;
    let mut i = 0;
    while let Some(item) = rest.get(i) {
        let a = item.0.as_str();
        if a == "--" {
            if positional.is_none() {
                positional = rest.get(i + 1);
            }
            break;
        }
        if a == "-p" || a == "--package" {
            if let Some(v) = rest.get(i + 1) {
                explicit.push(v);
            }
            i += 2;
            continue;
        }
        if a.starts_with("--package=") {
            explicit.push(item);
            i += 1;
            continue;
        }
        if a == "-c" || a == "--call" {
            o.push(
                Code::ShellLaunch,
                Severity::High,
                item.1.clone(),
                format!("`{runner} {a}` runs a shell string"),
            );
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        positional = Some(item);
        break;
    }
    let specs: Vec<(String, String)> = if explicit.is_empty() {
        positional.into_iter().cloned().collect()
    } else {
        explicit
            .into_iter()
            .map(|(a, p)| {
                (
                    a.strip_prefix("--package=").unwrap_or(a).to_owned(),
                    p.clone(),
                )
            })
            .collect()
    };
    for (spec, ptr) in specs {
        if let Some(why) = npm_unpinned(&spec) {
            o.push(
                Code::UnpinnedPackage,
                Severity::High,
                ptr,
                format!("`{runner} {spec}`: {why}; pin an exact version (pkg@1.2.3)"),
            );
        }
    }
}

fn py_unpinned(spec: &str) -> Option<String> {
    if spec.starts_with('.') || spec.starts_with('/') {
        return None;
    }
    if spec.starts_with("git+") {
        let rev = spec.rsplit_once('@').map(|(_, c)| c);
        return match rev {
            Some(c) if c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit()) => None,
            _ => Some("a git dependency without a commit hash".into()),
        };
    }
    if let Some((_, v)) = spec.split_once("==") {
        return if EXACT_PY_VERSION.is_match(v.trim()) {
            None
        } else {
            Some(format!("`=={v}` is not an exact version"))
        };
    }
    if let Some((_, v)) = spec.split_once('@') {
        return if EXACT_PY_VERSION.is_match(v) {
            None
        } else {
            Some(format!("version `{v}` is not an exact version"))
        };
    }
    if spec.contains(['>', '<', '~', '!', '*']) {
        return Some("a version range, not an exact version".into());
    }
    Some("no version: every launch runs whatever is newest".into())
}

fn py_runner(runner: &str, rest: &[(String, String)], o: &mut Out<'_>) {
    let mut from: Vec<&(String, String)> = Vec::new();
    let mut positional: Option<&(String, String)> = None;
    let mut i = 0;
    while let Some(item) = rest.get(i) {
        let a = item.0.as_str();
        match a {
            "--from" | "--spec" | "--with" | "-w" => {
                if let Some(v) = rest.get(i + 1) {
                    from.push(v);
                }
                i += 2;
            }
            "-p" | "--python" | "--index" | "--index-url" | "--extra-index-url"
            | "--python-version" => {
                i += 2;
            }
            _ if a.starts_with('-') => i += 1,
            _ => {
                positional = Some(item);
                break;
            }
        }
    }
    let mut specs: Vec<&(String, String)> = from;
    let has_from = rest.iter().any(|(a, _)| a == "--from" || a == "--spec");
    if !has_from {
        specs.extend(positional);
    }
    for (spec, ptr) in specs {
        if let Some(why) = py_unpinned(spec) {
            o.push(
                Code::UnpinnedPackage,
                Severity::High,
                ptr.clone(),
                format!("`{runner} {spec}`: {why}; pin an exact version (pkg==1.2.3)"),
            );
        }
    }
}

fn container(engine: &str, rest: &[(String, String)], o: &mut Out<'_>) {
    const WITH_VALUE: &[&str] = &[
        "-e",
        "--env",
        "-v",
        "--volume",
        "--name",
        "-p",
        "--publish",
        "--env-file",
        "--network",
        "--net",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
        "--mount",
        "-l",
        "--label",
        "--platform",
        "--pull",
        "-m",
        "--memory",
        "--cpus",
        "--add-host",
        "--cap-add",
        "--cap-drop",
        "--device",
        "--dns",
        "-h",
        "--hostname",
        "--restart",
        "--security-opt",
        "--tmpfs",
        "--ulimit",
        "--gpus",
        "--runtime",
        "--ipc",
        "--pid",
        "--log-driver",
        "--log-opt",
        "--label-file",
        "--shm-size",
        "--stop-signal",
        "--group-add",
        "--cidfile",
        "--expose",
        "--link",
        "--volumes-from",
        "--userns",
        "--uts",
        "--cgroupns",
    ];
    let mut i = 0;
    while let Some((a, ptr)) = rest.get(i) {
        if a.starts_with('-') {
            i += if WITH_VALUE.contains(&a.as_str()) {
                2
            } else {
                1
            };
            continue;
        }
        let pinned = a
            .split_once("@sha256:")
            .is_some_and(|(_, d)| d.len() == 64 && d.chars().all(|c| c.is_ascii_hexdigit()));
        if !pinned {
            let last = a.rsplit('/').next().unwrap_or(a);
            let why = match last.split_once(':') {
                Some((_, tag)) => format!("tag `{tag}` can be moved to another image"),
                None => "no tag or digest: `latest` at every launch".into(),
            };
            o.push(
                Code::UnpinnedPackage,
                Severity::High,
                ptr.clone(),
                format!("`{engine} run {a}`: {why}; pin a digest (image@sha256:…)"),
            );
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn stdio(cmd: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<Finding> {
        let spec = LaunchSpec::Stdio {
            command: cmd.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cwd: None,
        };
        let mut out = Vec::new();
        scan_launch("s", &spec, &mut out);
        out
    }

    fn codes(f: &[Finding]) -> Vec<(Code, &str)> {
        f.iter().map(|f| (f.code, f.pointer.as_str())).collect()
    }

    #[test]
    fn npx_versions() {
        assert_eq!(
            codes(&stdio("npx", &["-y", "@acme/mcp"], &[])),
            vec![(Code::UnpinnedPackage, "/args/1")]
        );
        assert_eq!(
            codes(&stdio("npx", &["-y", "@acme/mcp@latest"], &[])).len(),
            1
        );
        assert_eq!(codes(&stdio("npx", &["-y", "mcp-x@^1.2.0"], &[])).len(), 1);
        assert!(stdio("npx", &["-y", "@acme/mcp@1.2.3"], &[]).is_empty());
        assert!(
            stdio(
                "npx.cmd",
                &["--yes", "mcp-x@1.2.3-beta.1", "--port", "1"],
                &[]
            )
            .is_empty()
        );
        assert!(stdio("node", &["server.js"], &[]).is_empty());
    }

    #[test]
    fn python_runners() {
        assert_eq!(stdio("uvx", &["mcp-server-git"], &[]).len(), 1);
        assert_eq!(stdio("uvx", &["mcp-server-git>=1"], &[]).len(), 1);
        assert!(stdio("uvx", &["mcp-server-git==2026.10.19"], &[]).is_empty());
        assert!(
            stdio(
                "uvx",
                &["--from", "mcp-server-git==1.0", "mcp-server-git"],
                &[]
            )
            .is_empty()
        );
        assert_eq!(
            stdio("uv", &["tool", "run", "--from", "pkg", "cmd"], &[]).len(),
            1
        );
        assert_eq!(stdio("pipx", &["run", "pkg"], &[]).len(), 1);
    }

    #[test]
    fn containers() {
        assert_eq!(
            codes(&stdio(
                "docker",
                &["run", "-i", "--rm", "-e", "X", "ghcr.io/acme/mcp:1.0"],
                &[]
            )),
            vec![(Code::UnpinnedPackage, "/args/5")]
        );
        assert_eq!(stdio("podman", &["run", "acme/mcp"], &[]).len(), 1);
        let d = format!("acme/mcp@sha256:{}", "a".repeat(64));
        assert!(stdio("docker", &["run", "-i", &d], &[]).is_empty());
    }

    #[test]
    fn shells_and_what_they_run() {
        let f = stdio("sh", &["-c", "npx -y evil-mcp"], &[]);
        assert_eq!(
            f.iter().map(|f| f.code).collect::<Vec<_>>(),
            vec![Code::ShellLaunch, Code::UnpinnedPackage]
        );
        assert_eq!(stdio("/bin/bash", &["-lc", "node x.js"], &[]).len(), 1);
        assert_eq!(
            stdio("cmd", &["/c", "npx", "-y", "pkg@1.0.0"], &[]).len(),
            1
        );
        assert!(stdio("bash", &["script.sh"], &[]).is_empty());
    }

    #[test]
    fn literal_secrets_are_redacted() {
        let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
        let f = stdio(
            "node",
            &["s.js"],
            &[
                ("ANTHROPIC_API_KEY", key),
                ("HOME", "/root"),
                ("TOKEN", "${TOKEN}"),
            ],
        );
        assert_eq!(
            codes(&f),
            vec![(Code::LiteralSecret, "/env/ANTHROPIC_API_KEY")]
        );
        assert!(!f[0].reason.contains(&key[..8]), "{}", f[0].reason);
        assert!(f[0].reason.contains("sk-a…"), "{}", f[0].reason);
        let f = stdio(
            "node",
            &["s.js"],
            &[("DB_PASSWORD", "hunter2hunter2hunter2x9")],
        );
        assert_eq!(f.len(), 1);
        let f = stdio("node", &["--api-key", "ab12cd34ef56gh78ij90"], &[]);
        assert_eq!(codes(&f), vec![(Code::LiteralSecret, "/args/1")]);
        let mut headers = BTreeMap::new();
        headers.insert(
            "Authorization".to_string(),
            "Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789AB".to_string(),
        );
        let mut out = Vec::new();
        scan_launch(
            "s",
            &LaunchSpec::Http {
                url: "https://u:p@h/mcp".into(),
                headers,
            },
            &mut out,
        );
        assert_eq!(
            codes(&out),
            vec![
                (Code::LiteralSecret, "/headers/Authorization"),
                (Code::LiteralSecret, "/url")
            ]
        );
    }
}
