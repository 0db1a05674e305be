//! Rules on the channel a server ships through, from what `pin` recorded and the policy:
//!
//! - `mcpb-tools-mismatch`: an MCP bundle's `manifest.json` declares other tools than the
//!   server announces (an undeclared tool is high: the install dialog showed the user
//!   something else; a declared tool the server does not serve is medium). Names are
//!   compared, not descriptions (the text rules judge those). A manifest with
//!   `tools_generated: true` may serve more than it declares.
//! - `provenance-unpinned-launch`: the policy requires provenance for a server whose launch
//!   spec runs no exact package version (`npx foo`, `foo@latest`, `foo@^1`, `uvx foo`), or no
//!   package a provenance could be tied to at all.

use super::{Code, Finding, Target};
use crate::lock::PinnedMcpb;
use crate::mcp::LaunchSpec;
use crate::severity::Severity;
use crate::surface::EntityKind;

/// The tools `bundle` declares against the tools pinned (or announced) for `server`.
pub fn mcpb_tools<'a>(
    server: &str,
    bundle: &PinnedMcpb,
    live: impl IntoIterator<Item = &'a String>,
) -> Vec<Finding> {
    let live: std::collections::BTreeSet<&String> = live.into_iter().collect();
    let mut out = Vec::new();
    let finding = |name: &str, severity, reason: String| Finding {
        code: Code::McpbToolsMismatch,
        severity,
        server: server.to_owned(),
        kind: Target::Entity(EntityKind::Tools),
        entity: Some(name.to_owned()),
        field: "name".into(),
        pointer: "/name".into(),
        offset: None,
        reason,
    };
    if !bundle.tools_generated {
        for t in live.iter().filter(|t| !bundle.declared_tools.contains(t)) {
            out.push(finding(
                t,
                Severity::High,
                format!(
                    "the server announces tool {t:?}, which manifest.json of {} ({}) does not declare",
                    bundle.name, bundle.path
                ),
            ));
        }
    }
    for t in bundle.declared_tools.iter().filter(|t| !live.contains(t)) {
        out.push(finding(
            t,
            Severity::Medium,
            format!(
                "manifest.json of {} ({}) declares tool {t:?}, which the server does not announce",
                bundle.name, bundle.path
            ),
        ));
    }
    out
}

/// For a server whose policy requires provenance: a finding unless its launch runs one exact
/// package version.
pub fn provenance_unpinned(server: &str, launch: &LaunchSpec) -> Option<Finding> {
    let why = match crate::channels::launch_package(launch) {
        Some(p) if p.is_exact() => return None,
        Some(p) => match &p.version {
            None => format!(
                "the policy requires provenance, but `{}` names no version: every launch runs whatever is newest, which no recorded provenance speaks for",
                p.identifier
            ),
            Some(v) => format!(
                "the policy requires provenance, but `{}` is pinned to `{v}`, a tag or range, not one exact version",
                p.identifier
            ),
        },
        None => "the policy requires provenance, but the launch spec runs no npm or PyPI package (npx NAME@VERSION, uvx NAME==VERSION) a provenance could be tied to".to_owned(),
    };
    Some(Finding {
        code: Code::ProvenanceUnpinned,
        severity: Severity::High,
        server: server.to_owned(),
        kind: Target::Launch,
        entity: None,
        field: "args".into(),
        pointer: "/args".into(),
        offset: None,
        reason: why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(tools: &[&str], generated: bool) -> PinnedMcpb {
        PinnedMcpb {
            path: "/x/hello.mcpb".into(),
            digest: crate::digest::Digest::of(b"x"),
            content_digest: String::new(),
            signer: crate::lock::PinnedMcpbSigner {
                fingerprint: String::new(),
                subject: String::new(),
                issuer: String::new(),
                self_signed: true,
            },
            name: "hello".into(),
            version: "1.0.0".into(),
            declared_tools: tools.iter().map(|s| s.to_string()).collect(),
            tools_generated: generated,
            folder: None,
        }
    }

    #[test]
    fn a_bundle_that_serves_what_it_declares_has_no_finding() {
        let live = ["echo".to_owned()];
        assert!(mcpb_tools("h", &bundle(&["echo"], false), &live).is_empty());
    }

    /// The bundle's install dialog shows `echo`; the server also serves `read_file`.
    #[test]
    fn attack_an_undeclared_tool_is_high_and_a_missing_one_medium() {
        let live = ["echo".to_owned(), "read_file".to_owned()];
        let f = mcpb_tools("h", &bundle(&["echo", "add"], false), &live);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.entity.as_deref().unwrap(), f.severity))
            .collect();
        assert_eq!(
            got,
            [("read_file", Severity::High), ("add", Severity::Medium)]
        );
        // tools_generated: undeclared tools are expected, missing ones still are not.
        let f = mcpb_tools("h", &bundle(&["echo", "add"], true), &live);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].entity.as_deref(), Some("add"));
    }

    #[test]
    fn provenance_needs_an_exact_launch() {
        let spec = |c: &str, a: &[&str]| LaunchSpec::Stdio {
            command: c.into(),
            args: a.iter().map(|s| s.to_string()).collect(),
            env: Default::default(),
            cwd: None,
        };
        for (c, a) in [
            ("npx", vec!["foo"]),
            ("npx", vec!["-y", "foo@latest"]),
            ("npx", vec!["foo@^1"]),
            ("uvx", vec!["foo"]),
            ("node", vec!["server.js"]),
        ] {
            let f = provenance_unpinned("s", &spec(c, &a));
            assert_eq!(
                f.map(|f| f.code),
                Some(Code::ProvenanceUnpinned),
                "{c} {a:?}"
            );
        }
        assert!(provenance_unpinned("s", &spec("npx", &["-y", "foo@1.2.3"])).is_none());
        assert!(provenance_unpinned("s", &spec("uvx", &["foo==1.2.3"])).is_none());
    }
}
