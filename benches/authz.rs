//! Issue 14: one `[authz]` decision without processes — the in-process part of what
//! `scripts/bench-gate.sh` measures end to end (50 Cedar policies vs no `[authz]`).
//! Run: `cargo bench --bench authz`. Median of 21 runs of 1,000 decisions; plain std timing.

mod common;
use common::median_ms;

use mcpseal::authz::{Act, Authz};
use mcpseal::lock::{PinnedLaunch, ServerEntry};
use mcpseal::policy::AuthzSpec;
use mcpseal::surface::{EntityKind, Surface, keyed};
use serde_json::json;

/// The fixture server's tools with `--extra-tools 18`: add, echo, tool_0 … tool_17.
fn entry() -> ServerEntry {
    let mut tools = vec![
        json!({"name": "add", "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}, "annotations": {"readOnlyHint": true}}),
        json!({"name": "echo", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}),
    ];
    for i in 0..18 {
        tools.push(json!({"name": format!("tool_{i}"), "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}));
    }
    let mut s = Surface::default();
    s.entities
        .insert(EntityKind::Tools, keyed(EntityKind::Tools, tools).unwrap());
    ServerEntry::from_surface(
        PinnedLaunch::Stdio {
            command: "fx".into(),
            args: vec![],
            env: vec![],
        },
        json!({}),
        &s,
    )
    .unwrap()
}

/// The 50 policies of scripts/bench-gate.sh.
fn fifty() -> AuthzSpec {
    let mut text = String::new();
    for i in 0..47 {
        text.push_str(&format!("@id(\"other-{i}\")\npermit (principal in Mcp::Role::\"role{i}\", action == Mcp::Action::\"call_tool\", resource == Mcp::Tool::\"tool_{}\")\nwhen {{ context.arguments has x && context.arguments.x == \"v{i}\" }};\n", i % 18));
    }
    text.push_str("@id(\"bench-echo\")\npermit (principal in Mcp::Role::\"bench\", action == Mcp::Action::\"call_tool\", resource == Mcp::Tool::\"echo\")\nwhen { context.arguments has text && context.server == \"fx\" };\n");
    text.push_str("@id(\"no-destructive\")\nforbid (principal, action == Mcp::Action::\"call_tool\", resource)\nwhen { resource has destructiveHint && resource.destructiveHint };\n");
    text.push_str("@id(\"no-secret\")\nforbid (principal, action == Mcp::Action::\"call_tool\", resource)\nwhen { context.arguments has text && context.arguments.text like \"*SECRET*\" };\n");
    let mut roles = std::collections::BTreeMap::new();
    roles.insert("bench".to_owned(), vec!["bench".to_owned()]);
    for i in 0..47 {
        roles.insert(format!("role{i}"), vec![format!("u{i}")]);
    }
    AuthzSpec {
        cedar: Some(("bench.cedar".into(), text)),
        servers: None,
        roles,
        rules: vec![],
    }
}

fn main() {
    let e = entry();
    let spec = fifty();
    let a = Authz::build(&spec, "fx", &e, "bench").unwrap();
    let args = json!({"text": "x"});
    assert!(a.decide(Act::CallTool, "echo", Some(&args)).allow);
    const N: usize = 1000;
    let ms = median_ms(|| {
        for _ in 0..N {
            std::hint::black_box(a.decide(
                Act::CallTool,
                "echo",
                Some(std::hint::black_box(&args)),
            ));
        }
    });
    println!(
        "[authz] decide, 50 Cedar policies, tools/call echo: {:.1} us per decision (median of 21 x {N})",
        ms * 1000.0 / N as f64
    );
    let build = median_ms(|| {
        std::hint::black_box(Authz::build(&spec, "fx", &e, "bench").unwrap());
    });
    println!("[authz] build (parse, strict validation, entities), once per session: {build:.2} ms");
}
