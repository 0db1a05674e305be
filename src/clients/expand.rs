//! Variable expansion in server entries, the way each client does it.
//!
//! | client | syntax expanded |
//! |---|---|
//! | Claude Code | `${VAR}`, `${VAR:-default}` |
//! | Kiro | `${VAR}` |
//! | Cursor | `${env:VAR}`, `${userHome}`, `${workspaceFolder}`, `${workspaceFolderBasename}`, `${pathSeparator}`, `${/}` |
//! | VS Code | as Cursor, plus `${input:ID}` (prompted by VS Code: unresolvable here) |
//! | Windsurf | `${env:VAR}`, `${file:PATH}` (unresolvable here) |
//! | Gemini CLI | `$VAR`, `${VAR}` |
//! | Roo Code | `${env:VAR}` |
//! | Continue | `${{ secrets.NAME }}`, `${{ inputs.NAME }}` (filled by Continue: unresolvable here) |
//! | Claude Desktop, Codex, Cline, Zed, Goose | nothing (Codex forwards named variables with `env_vars`, Goose with `env_keys`) |
//!
//! Applied to command, args, cwd, env values, url and header values ([`super::Server::launch_spec`]).
//! An unset variable is an error naming the variable (never a value), although some clients
//! would pass the text on literally or as empty: a server launched with `${TOKEN}` as its
//! token is not what the user meant, and pinning it would pin the wrong thing.
//! Text that is not one of a client's forms is left as written.

use std::path::PathBuf;

use super::Client;

/// What `${userHome}` and `${workspaceFolder}` stand for.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub home: PathBuf,
    pub workspace: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// An environment variable that is not set (its name).
    Unset(String),
    /// A variable only the client can fill (`${input:…}`, `${file:…}`, `${workspaceFolder}`
    /// with no workspace).
    Unresolvable(String),
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Expands `s` as `client` would.
pub fn expand(
    client: Client,
    s: &str,
    ctx: &Context,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, VarError> {
    if matches!(
        client,
        Client::ClaudeDesktop | Client::Codex | Client::Cline | Client::Zed | Client::Goose
    ) || !s.contains('$')
    {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // `${…}` forms.
        if let Some(body_end) = after.strip_prefix('{').and_then(|b| b.find('}')) {
            let body = &after[1..1 + body_end];
            let whole = &rest[i..i + 2 + body_end + 1];
            if let Some(v) = braced(client, body, ctx, env)? {
                out.push_str(&v);
            } else {
                out.push_str(whole);
            }
            rest = &rest[i + whole.len()..];
            continue;
        }
        // Gemini's bare `$VAR`.
        if client == Client::Gemini {
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..n];
            if is_name(name) && !name.starts_with(|c: char| c.is_ascii_digit()) {
                out.push_str(&env(name).ok_or_else(|| VarError::Unset(name.to_owned()))?);
                rest = &after[n..];
                continue;
            }
        }
        out.push('$');
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// The value of `${body}`, `None` when the client leaves that text alone.
fn braced(
    client: Client,
    body: &str,
    ctx: &Context,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, VarError> {
    let get = |name: &str| env(name).ok_or_else(|| VarError::Unset(name.to_owned()));
    let workspace = || {
        ctx.workspace
            .clone()
            .ok_or_else(|| VarError::Unresolvable(format!("${{{body}}}")))
    };
    Ok(match client {
        Client::ClaudeCode | Client::Kiro | Client::Gemini => {
            let (name, default) = match body.split_once(":-") {
                Some((n, d)) if client == Client::ClaudeCode => (n, Some(d)),
                _ => (body, None),
            };
            if !is_name(name) {
                return Ok(None);
            }
            match (env(name), default) {
                (Some(v), _) => Some(v),
                (None, Some(d)) => Some(d.to_owned()),
                (None, None) => return Err(VarError::Unset(name.to_owned())),
            }
        }
        Client::Cursor | Client::VsCode | Client::Windsurf => {
            if let Some(name) = body.strip_prefix("env:") {
                Some(get(name)?)
            } else if body.starts_with("input:")
                || (client == Client::Windsurf && body.starts_with("file:"))
            {
                return Err(VarError::Unresolvable(format!("${{{body}}}")));
            } else if client == Client::Windsurf {
                None
            } else {
                match body {
                    "userHome" => Some(ctx.home.display().to_string()),
                    "workspaceFolder" => Some(workspace()?.display().to_string()),
                    "workspaceFolderBasename" => Some(
                        workspace()?
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ),
                    "pathSeparator" | "/" => Some(std::path::MAIN_SEPARATOR.to_string()),
                    _ => None,
                }
            }
        }
        Client::RooCode => match body.strip_prefix("env:") {
            Some(name) => Some(get(name)?),
            None => None,
        },
        // `${{ secrets.X }}`: the scan of `${` stops at the first `}`, so the body starts `{`.
        Client::Continue if body.starts_with('{') => {
            return Err(VarError::Unresolvable(format!("${{{body}}}}}")));
        }
        Client::Continue
        | Client::ClaudeDesktop
        | Client::Codex
        | Client::Cline
        | Client::Zed
        | Client::Goose => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(n: &str) -> Option<String> {
        (n == "TOKEN").then(|| "t0k".to_owned())
    }

    fn x(c: Client, s: &str) -> Result<String, VarError> {
        let ctx = Context {
            home: "/h".into(),
            workspace: Some("/w/proj".into()),
        };
        expand(c, s, &ctx, &env)
    }

    #[test]
    fn each_client_expands_its_own_syntax_only() {
        assert_eq!(x(Client::ClaudeCode, "a${TOKEN}b").unwrap(), "at0kb");
        assert_eq!(x(Client::ClaudeCode, "${NOPE:-d}").unwrap(), "d");
        assert_eq!(
            x(Client::ClaudeCode, "$TOKEN ${env:TOKEN}").unwrap(),
            "$TOKEN ${env:TOKEN}"
        );
        assert_eq!(
            x(Client::VsCode, "${env:TOKEN}@${workspaceFolder}").unwrap(),
            "t0k@/w/proj"
        );
        assert_eq!(
            x(Client::Cursor, "${userHome}/x ${TOKEN}").unwrap(),
            "/h/x ${TOKEN}"
        );
        assert_eq!(x(Client::Gemini, "$TOKEN-${TOKEN}$").unwrap(), "t0k-t0k$");
        assert_eq!(x(Client::ClaudeDesktop, "${TOKEN}").unwrap(), "${TOKEN}");
        assert_eq!(x(Client::Codex, "$TOKEN").unwrap(), "$TOKEN");
        assert_eq!(
            x(Client::Windsurf, "${env:TOKEN}${userHome}").unwrap(),
            "t0k${userHome}"
        );
        assert_eq!(
            x(Client::RooCode, "${env:TOKEN} ${TOKEN} ${userHome}").unwrap(),
            "t0k ${TOKEN} ${userHome}"
        );
        assert_eq!(x(Client::Cline, "${env:TOKEN}").unwrap(), "${env:TOKEN}");
        assert_eq!(x(Client::Zed, "${TOKEN}").unwrap(), "${TOKEN}");
        assert_eq!(x(Client::Continue, "${TOKEN}").unwrap(), "${TOKEN}");
        assert!(matches!(
            x(Client::Continue, "Bearer ${{ secrets.TOKEN }}"),
            Err(VarError::Unresolvable(v)) if v == "${{ secrets.TOKEN }}"
        ));
    }

    #[test]
    fn unset_and_unresolvable_name_the_variable() {
        assert_eq!(
            x(Client::ClaudeCode, "${MISSING}"),
            Err(VarError::Unset("MISSING".into()))
        );
        assert_eq!(
            x(Client::Gemini, "$MISSING"),
            Err(VarError::Unset("MISSING".into()))
        );
        assert_eq!(
            x(Client::VsCode, "${input:key}"),
            Err(VarError::Unresolvable("${input:key}".into()))
        );
        let no_ws = Context::default();
        assert!(matches!(
            expand(Client::VsCode, "${workspaceFolder}", &no_ws, &env),
            Err(VarError::Unresolvable(_))
        ));
    }
}
