//! Issue 14: who may call what. The expense server of docs/authz.md — a real MCP server on the
//! official Python SDK (testdata/servers/expense_server.py) — pinned, and driven through
//! `mcpseal run` by the Python SDK's own client (testdata/clients/expense_client.py) as an
//! admin, a manager and a user; a rug pull that flips `destructiveHint` mid-session; canary
//! tokens and a decoy tool; limits; the signed lock binding the Cedar file; `authz test` and
//! `authz explain`. Raw JSON-RPC (tests/common/client.rs) only where the attack is something
//! an SDK client will not send.

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::client::Client;
use serde_json::{Value, json};

const TOKEN: &str = "mcpseal-canary-7f3a9c2e41d8";

fn exe() -> String {
    env!("CARGO_BIN_EXE_mcpseal").to_owned()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = common::run(common::mcpseal().current_dir(dir).args(args));
    assert_eq!(code, 0, "mcpseal {args:?}: {out}{err}");
    out
}

/// A folder with the expense policy files, and the server pinned (with `extra` arguments) as
/// `expense`. None when the Python peer is missing (a failure under CI).
fn setup(policy: &str, extra: &[&str]) -> Option<(tempfile::TempDir, Vec<String>)> {
    let py = common::venv_bin("python")?;
    let t = tempfile::tempdir().unwrap();
    for f in ["expense.cedar", "expense.toml", "expense-rules.toml"] {
        std::fs::copy(
            common::root().join("testdata/authz").join(f),
            t.path().join(f),
        )
        .unwrap();
    }
    std::fs::write(t.path().join("policy.toml"), policy).unwrap();
    let mut server = vec![
        py.display().to_string(),
        common::root()
            .join("testdata/servers/expense_server.py")
            .display()
            .to_string(),
    ];
    server.extend(extra.iter().map(|s| s.to_string()));
    let mut pin = vec!["pin", "expense", "--"];
    pin.extend(server.iter().map(String::as_str));
    ok(t.path(), &pin);
    Some((t, server))
}

fn expense_policy() -> String {
    std::fs::read_to_string(common::root().join("testdata/authz/expense.toml")).unwrap()
}

fn gate(dir: &Path, principal: &str, server: &[String]) -> Vec<String> {
    let mut v = vec![
        exe(),
        "run".into(),
        "--name".into(),
        "expense".into(),
        "--lock".into(),
        dir.join("mcpseal.lock").display().to_string(),
        "--policy".into(),
        dir.join("policy.toml").display().to_string(),
        "--principal".into(),
        principal.into(),
        "--audit-log".into(),
        dir.join("audit.jsonl").display().to_string(),
        "--".into(),
    ];
    v.extend(server.iter().cloned());
    v
}

/// The Python SDK client through the gate: `steps` in one session.
fn sdk(dir: &Path, steps: &Value, cmd: &[String]) -> Value {
    let py = common::venv_bin("python").expect("python peer");
    let script = common::root().join("testdata/clients/expense_client.py");
    let (code, out, err) = common::run(
        Command::new(py)
            .current_dir(dir)
            .arg(script)
            .arg(steps.to_string())
            .arg("--")
            .args(cmd),
    );
    assert_eq!(code, 0, "sdk client: {out}{err}");
    serde_json::from_str(out.lines().last().unwrap_or("")).unwrap_or_else(|_| panic!("{out}{err}"))
}

fn audit(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn call(label: &str, tool: &str, args: Value) -> Value {
    json!({"call": tool, "arguments": args, "label": label})
}

/// How a call ended: `P` the server answered it (with what it received), `G` the gate refused
/// it (never forwarded), `S` the server refused it (forwarded; the SDK validates arguments).
fn outcome(calls: &Value, label: &str) -> char {
    let c = &calls[label];
    match (c.get("result"), c.get("error")) {
        (Some(_), None) if c["isError"] == true => 'S',
        (Some(r), None) => {
            assert!(r.as_str().unwrap().contains("\"received\""), "{label}: {c}");
            'P'
        }
        (None, Some(e)) if e.as_str().unwrap().contains("mcpseal") => 'G',
        (None, Some(_)) => 'S',
        _ => panic!("{label}: {c}"),
    }
}

fn passed(calls: &Value, label: &str) -> bool {
    outcome(calls, label) == 'P'
}

#[test]
fn the_expense_role_table_through_the_gate_with_the_python_sdk_client() {
    let Some((t, server)) = setup(&expense_policy(), &[]) else {
        return;
    };
    let d = t.path();
    let rows = [
        ("list", "list_expenses", json!({})),
        (
            "create",
            "create_expense",
            json!({"amount": 20.5, "description": "lunch"}),
        ),
        (
            "approve-499.99",
            "approve_expense",
            json!({"id": 1, "amount": 499.99}),
        ),
        (
            "approve-500",
            "approve_expense",
            json!({"id": 1, "amount": 500}),
        ),
        (
            "approve-500.01",
            "approve_expense",
            json!({"id": 1, "amount": 500.01}),
        ),
        (
            "approve-string",
            "approve_expense",
            json!({"id": 1, "amount": "100"}),
        ),
        ("approve-missing", "approve_expense", json!({"id": 1})),
        (
            "approve-nested",
            "approve_expense",
            json!({"id": 1, "amount": 100, "extra": {"x": {"y": 1}}}),
        ),
        ("delete", "delete_expense", json!({"id": 1})),
    ];
    let mut steps = vec![json!({"list": true})];
    steps.extend(rows.iter().map(|(l, t, a)| call(l, t, a.clone())));
    let steps = Value::Array(steps);
    // (principal, its list, each row's outcome). The admin's call without `amount` is
    // forwarded (`admin-all` has no condition on it) and refused by the server's own argument
    // validation; the string amount and the undeclared nested object are refused by the gate
    // for everyone (not representable / not declared in the pinned schema).
    let table: [(&str, &[&str], &str); 4] = [
        (
            "alice",
            &[
                "approve_expense",
                "create_expense",
                "delete_expense",
                "list_expenses",
            ],
            "PPPPPGSGP",
        ),
        ("bob", &["approve_expense", "list_expenses"], "PGPGGGGGG"),
        ("carol", &["create_expense", "list_expenses"], "PPGGGGGGG"),
        ("mallory", &[], "GGGGGGGGG"),
    ];
    for (who, list, expect) in table {
        let out = sdk(d, &steps, &gate(d, who, &server));
        assert_eq!(out["lists"][0], json!(list), "{who}: tools/list");
        let got: String = rows
            .iter()
            .map(|(l, _, _)| outcome(&out["calls"], l))
            .collect();
        assert_eq!(got, expect, "{who}: {}", out["calls"]);
    }
    let a = audit(d);
    let decisions: Vec<&Value> = a
        .iter()
        .filter(|e| e["event"] == "authz-decision")
        .collect();
    assert!(
        decisions
            .iter()
            .all(|e| e["principal"].is_string() && e["policies"].is_array())
    );
    let denied_delete = decisions
        .iter()
        .find(|e| e["principal"] == "bob" && e["entity"] == "delete_expense")
        .expect("bob's delete is audited");
    assert_eq!(denied_delete["decision"], "block");
    assert_eq!(denied_delete["reason"], "authz-forbidden");
    assert_eq!(denied_delete["policies"], json!(["destructive-admin-only"]));
    let string_amount = decisions
        .iter()
        .find(|e| e["principal"] == "alice" && e["reason"] == "authz-unrepresentable")
        .expect("the string amount is audited");
    assert_eq!(string_amount["decision"], "block");
    assert!(a.iter().any(|e| e["event"] == "entity-hidden"
        && e["principal"] == "carol"
        && e["entity"] == "delete_expense"));
}

/// The rug pull: after the first call the server stops saying `destructiveHint` on
/// `delete_expense` and sends `tools/list_changed`. The manager's delete is denied before and
/// after; nothing turns into an allow; the admin loses the changed tool to the pin check.
#[test]
fn a_rug_pull_flipping_destructive_hint_changes_no_decision() {
    let Some((t, server)) = setup(&expense_policy(), &["--rug-pull"]) else {
        return;
    };
    let d = t.path();
    let steps = json!([
        {"list": true},
        call("delete-before", "delete_expense", json!({"id": 1})),
        call("approve-before", "approve_expense", json!({"id": 1, "amount": 100})),
        {"sleep": 0.5},
        {"list": true},
        call("delete-after", "delete_expense", json!({"id": 1})),
        call("approve-after", "approve_expense", json!({"id": 1, "amount": 100})),
    ]);
    let bob = sdk(d, &steps, &gate(d, "bob", &server));
    assert!(!passed(&bob["calls"], "delete-before"));
    assert!(!passed(&bob["calls"], "delete-after"));
    assert!(passed(&bob["calls"], "approve-before"));
    assert!(passed(&bob["calls"], "approve-after"));
    assert_eq!(bob["lists"][0], bob["lists"][1]);
    let alice = sdk(d, &steps, &gate(d, "alice", &server));
    assert!(passed(&alice["calls"], "delete-before"));
    assert!(
        !passed(&alice["calls"], "delete-after"),
        "the changed tool is not the pinned one"
    );
    assert!(
        !alice["lists"][1]
            .as_array()
            .unwrap()
            .contains(&json!("delete_expense"))
    );
    let a = audit(d);
    assert!(a.iter().any(|e| e["event"] == "entity-removed"
        && e["entity"] == "delete_expense"
        && e["reason"] == "changed-entity"));
}

fn canary_policy(kill: bool) -> String {
    format!(
        "{}\n[canary]\ntokens = [\"{TOKEN}\"]\n{}\n[[canary.tool]]\nname = \"export_all_expenses\"\ndescription = \"Export every expense with card numbers.\"\n",
        expense_policy(),
        if kill { "on-canary = \"kill\"" } else { "" }
    )
}

#[test]
fn canaries_in_arguments_and_results_and_a_decoy_call_are_blocked() {
    let leak = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(leak.path(), TOKEN).unwrap();
    let leak_path = leak.path().display().to_string();
    let Some((t, server)) = setup(&canary_policy(false), &["--leak-file", &leak_path]) else {
        return;
    };
    let d = t.path();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("ref:{TOKEN}"));
    let steps = json!([
        {"list": true},
        call("plain", "create_expense", json!({"amount": 1, "description": format!("see {TOKEN}")})),
        call("base64", "create_expense", json!({"amount": 1, "description": b64})),
        call("split", "create_expense", json!({"amount": 1, "description": &TOKEN[..12], "x": &TOKEN[12..]})),
        call("decoy", "export_all_expenses", json!({})),
        call("leak", "list_expenses", json!({})),
        call("clean", "create_expense", json!({"amount": 1, "description": "taxi"})),
    ]);
    let out = sdk(d, &steps, &gate(d, "alice", &server));
    assert!(
        out["lists"][0]
            .as_array()
            .unwrap()
            .contains(&json!("export_all_expenses"))
    );
    for l in ["plain", "base64", "split", "decoy", "leak"] {
        assert!(!passed(&out["calls"], l), "{l}");
        assert!(
            out["calls"][l]["error"]
                .as_str()
                .unwrap()
                .contains("canary")
                || l == "decoy",
            "{l}"
        );
    }
    assert!(passed(&out["calls"], "clean"));
    let a = audit(d);
    let trips: Vec<&Value> = a
        .iter()
        .filter(|e| e["event"] == "canary-tripped")
        .collect();
    assert_eq!(trips.len(), 5, "{trips:?}");
    assert!(
        trips
            .iter()
            .all(|e| e["severity"] == "critical" && e["principal"] == "alice")
    );
    let kinds: Vec<&str> = trips.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "token-in-request",
            "token-in-request",
            "token-in-request",
            "decoy-tool",
            "token-in-result"
        ]
    );
    // The token is never written to the audit log.
    let log = std::fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert!(!log.contains(TOKEN) && !log.contains(&TOKEN[..12]));
}

#[test]
fn on_canary_kill_ends_the_session_at_the_first_trip() {
    let Some((t, server)) = setup(&canary_policy(true), &[]) else {
        return;
    };
    let d = t.path();
    let s: Vec<&str> = server.iter().map(String::as_str).collect();
    let p = d.join("policy.toml").display().to_string();
    let mut g = Client::gate(d, "expense", &["--policy", &p, "--principal", "alice"], &s);
    g.init();
    let r = g
        .ask(
            "tools/call",
            json!({"name": "export_all_expenses", "arguments": {}}),
            &mut vec![],
        )
        .unwrap();
    assert_eq!(r["error"]["data"]["reason"], "canary-tripped", "{r}");
    assert!(
        g.ask("tools/list", json!({}), &mut vec![]).is_none(),
        "the session went on"
    );
    assert_eq!(g.finish(), 1);
}

#[test]
fn a_decoy_named_like_a_pinned_tool_refuses_to_start() {
    let policy = format!(
        "{}\n[[canary.tool]]\nname = \"delete_expense\"\ndescription = \"decoy\"\n[canary]\n",
        expense_policy()
    );
    // `[canary]` after its array of tables is not TOML; write it properly.
    let policy = policy.replace("\n[canary]\n", "\n");
    let Some((t, server)) = setup(&policy, &[]) else {
        return;
    };
    let d = t.path();
    let s: Vec<&str> = server.iter().map(String::as_str).collect();
    let p = d.join("policy.toml").display().to_string();
    let mut g = Client::gate(d, "expense", &["--policy", &p, "--principal", "alice"], &s);
    let r = g.init();
    assert_eq!(r["error"]["data"]["reason"], "canary-decoy-collides", "{r}");
    assert_eq!(g.finish(), 1);
}

#[test]
fn limits_refuse_calls_over_the_rate_and_the_size() {
    let policy = format!(
        "{}\n[server.expense.limits]\ncalls-per-minute = 3\nmax-argument-bytes = 200\n[server.expense.limits.tool.create_expense]\ncalls-per-minute = 1\n",
        expense_policy()
    );
    let Some((t, server)) = setup(&policy, &[]) else {
        return;
    };
    let d = t.path();
    let big = "x".repeat(300);
    let steps = json!([
        call(
            "create-1",
            "create_expense",
            json!({"amount": 1, "description": "a"})
        ),
        call(
            "create-2",
            "create_expense",
            json!({"amount": 1, "description": "b"})
        ),
        call("big", "list_expenses", json!({"description": big})),
        call("list-1", "list_expenses", json!({})),
        call("list-2", "list_expenses", json!({})),
        call("list-3", "list_expenses", json!({})),
    ]);
    let out = sdk(d, &steps, &gate(d, "alice", &server));
    let got: Vec<bool> = ["create-1", "create-2", "big", "list-1", "list-2", "list-3"]
        .iter()
        .map(|l| passed(&out["calls"], l))
        .collect();
    assert_eq!(got, [true, false, false, true, true, false]);
    let a = audit(d);
    let over: Vec<(&str, &str)> = a
        .iter()
        .filter(|e| e["event"] == "limit-exceeded")
        .map(|e| (e["scope"].as_str().unwrap(), e["limit"].as_str().unwrap()))
        .collect();
    assert_eq!(
        over,
        [
            ("tool", "calls-per-minute"),
            ("server", "max-argument-bytes"),
            ("server", "calls-per-minute")
        ]
    );
}

/// The signed lock binds the policy *and* the Cedar file it names: an edited `.cedar` under a
/// signed lock is refused before the server starts.
#[test]
fn a_changed_cedar_file_under_a_signed_lock_is_refused() {
    let Some((t, server)) = setup(&expense_policy(), &[]) else {
        return;
    };
    let d = t.path();
    ok(d, &["key", "generate", "--name", "acme", "--no-password"]);
    ok(d, &["sign", "policy.toml", "--key", "acme.key"]);
    ok(
        d,
        &[
            "sign",
            "mcpseal.lock",
            "--key",
            "acme.key",
            "--policy",
            "policy.toml",
        ],
    );
    let s: Vec<&str> = server.iter().map(String::as_str).collect();
    let state = d.join("state.json").display().to_string();
    let first = |d: &Path| {
        let mut g = Client::gate(
            d,
            "expense",
            &[
                "--policy",
                "policy.toml",
                "--principal",
                "bob",
                "--lock-key",
                "acme.pub",
                "--state-file",
                &state,
            ],
            &s,
        );
        let r = g.init();
        g.finish();
        r
    };
    assert!(first(d)["result"].is_object(), "{}", first(d));
    let cedar = d.join("expense.cedar");
    let text = std::fs::read_to_string(&cedar).unwrap();
    std::fs::write(
        &cedar,
        format!("{text}\npermit (principal, action, resource);\n"),
    )
    .unwrap();
    let r = first(d);
    assert_eq!(r["error"]["data"]["reason"], "policy-mismatch", "{r}");
    std::fs::write(&cedar, text).unwrap();
    assert!(first(d)["result"].is_object());
}

#[test]
fn authz_test_decides_offline_with_exit_codes() {
    let Some((t, _server)) = setup(&expense_policy(), &[]) else {
        return;
    };
    let d = t.path();
    let test = |who: &str, tool: &str, args: &str| {
        common::run(common::mcpseal().current_dir(d).args([
            "--json",
            "authz",
            "test",
            "--policy",
            "policy.toml",
            "--server",
            "expense",
            "--principal",
            who,
            "--tool",
            tool,
            "--arguments",
            args,
        ]))
    };
    let (code, out, _) = test("bob", "approve_expense", r#"{"id": 1, "amount": 499.99}"#);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["policies"], json!(["manager-approve-under-500"]));
    let (code, out, _) = test("bob", "approve_expense", r#"{"id": 1, "amount": 500}"#);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["reason"],
        "authz-no-permit"
    );
    let (code, out, _) = test("bob", "delete_expense", r#"{"id": 1}"#);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["reason"].as_str(), v["hiddenFromList"].as_bool()),
        (Some("authz-forbidden"), Some(true))
    );
    let (code, out, _) = test("bob", "approve_expense", r#"{"amount": 1, "amount": 2}"#);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["reason"],
        "json-duplicate-key"
    );
    std::fs::write(
        d.join("expense.cedar"),
        "permit (principal, action, resource) when { context.arguments.nope };",
    )
    .unwrap();
    let (code, out, _) = test("bob", "list_expenses", "{}");
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["reason"],
        "authz-invalid"
    );
}

#[test]
fn authz_explain_prints_the_cedar_the_rules_compile_to() {
    let Some((t, _server)) = setup("", &[]) else {
        return;
    };
    let d = t.path();
    let out = ok(
        d,
        &[
            "authz",
            "explain",
            "--policy",
            "expense-rules.toml",
            "--server",
            "expense",
        ],
    );
    assert!(out.contains(r#"permit (principal in Mcp::Role::"manager", action == Mcp::Action::"call_tool", resource == Mcp::Tool::"approve_expense")"#), "{out}");
    assert!(
        out.contains(r#"context.arguments["amount"].lessThan(decimal("500.0"))"#),
        "{out}"
    );
    assert!(out.contains("validates (strict)"), "{out}");
    // The explained Cedar, used as a Cedar file, decides as the rules do.
    let cedar: String = out
        .lines()
        .filter(|l| !l.starts_with("// validates"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(d.join("explained.cedar"), cedar).unwrap();
    let roles = std::fs::read_to_string(d.join("expense-rules.toml")).unwrap();
    let roles = roles.split("[[authz.rule]]").next().unwrap().replace(
        "[authz.roles]",
        "[authz]\ncedar = \"explained.cedar\"\n[authz.roles]",
    );
    std::fs::write(d.join("explained.toml"), roles).unwrap();
    for (p, file) in [(0, "expense-rules.toml"), (1, "explained.toml")] {
        let (code, out, err) = common::run(common::mcpseal().current_dir(d).args([
            "authz",
            "test",
            "--policy",
            file,
            "--server",
            "expense",
            "--principal",
            "bob",
            "--tool",
            "approve_expense",
            "--arguments",
            r#"{"id": 1, "amount": 12}"#,
        ]));
        assert_eq!(code, 0, "{p} {out}{err}");
    }
}

/// Gap 1 of issue 14: an array argument the pin declares `array` of strings is a Cedar set. The
/// server (`--tags`: `tag_expense {id, tags: list[str]}`) is the Python SDK's; the client too.
#[test]
fn an_array_argument_is_a_cedar_set_through_the_gate() {
    let policy = "[authz]\ncedar = \"tags.cedar\"\n[authz.roles]\nmanager = [\"bob\"]\n";
    let Some((t, server)) = setup(policy, &["--tags"]) else {
        return;
    };
    let d = t.path();
    std::fs::write(
        d.join("tags.cedar"),
        r#"@id("manager-tags-travel")
permit (principal in Mcp::Role::"manager", action == Mcp::Action::"call_tool",
        resource == Mcp::Tool::"tag_expense")
when { context.arguments has tags && context.arguments.tags.contains("travel") }
unless { context.arguments.tags.contains("secret") };
"#,
    )
    .unwrap();
    let rows = [
        ("travel", json!({"id": 1, "tags": ["travel"]}), 'P'),
        (
            "travel-and-food",
            json!({"id": 1, "tags": ["food", "travel"]}),
            'P',
        ),
        ("food", json!({"id": 1, "tags": ["food"]}), 'G'),
        ("empty", json!({"id": 1, "tags": []}), 'G'),
        (
            "secret",
            json!({"id": 1, "tags": ["travel", "secret"]}),
            'G',
        ),
        // The attacks: each would be `travel` to a careless conversion.
        ("string-not-array", json!({"id": 1, "tags": "travel"}), 'G'),
        ("nested", json!({"id": 1, "tags": [["travel"]]}), 'G'),
        (
            "repeated",
            json!({"id": 1, "tags": ["travel", "travel"]}),
            'G',
        ),
        ("mixed", json!({"id": 1, "tags": ["travel", 1]}), 'G'),
        (
            "null-element",
            json!({"id": 1, "tags": ["travel", null]}),
            'G',
        ),
        (
            "array-where-a-number-is-pinned",
            json!({"id": [1], "tags": ["travel"]}),
            'G',
        ),
    ];
    let steps = Value::Array(
        rows.iter()
            .map(|(l, a, _)| call(l, "tag_expense", a.clone()))
            .collect(),
    );
    let out = sdk(d, &steps, &gate(d, "bob", &server));
    for (l, _, want) in &rows {
        assert_eq!(outcome(&out["calls"], l), *want, "{l}: {}", out["calls"][l]);
    }
    assert!(
        out["calls"]["travel"]["result"]
            .as_str()
            .unwrap()
            .contains(r#""tags": ["travel"]"#)
    );
    let a = audit(d);
    let reason = |entity_args: &str| {
        a.iter()
            .filter(|e| e["event"] == "authz-decision")
            .map(|e| {
                e["reason"].as_str().unwrap().to_owned() + " " + e["message"].as_str().unwrap()
            })
            .find(|m| m.contains(entity_args))
    };
    assert!(reason("repeats the element").is_some_and(|m| m.starts_with("authz-unrepresentable")));
    assert!(reason("no policy permits").is_some_and(|m| m.starts_with("authz-no-permit")));
}

/// Gap 3 of issue 14: a server that asks the client for a sampling (`sampling/createMessage`)
/// or an elicitation (`elicitation/create`) with a canary token in it — the Python SDK server
/// (`--ask-client-file`) and the Python SDK client, which answers both. The gate answers the
/// server's requests with its error; the client is never asked. The control: the same session
/// without the token, where the client is asked twice.
#[test]
fn a_token_in_a_servers_sampling_or_elicitation_request_is_blocked() {
    let ask = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ask.path(), "the quarterly expenses").unwrap();
    let ask_path = ask.path().display().to_string();
    let Some((t, server)) = setup(&canary_policy(false), &["--ask-client-file", &ask_path]) else {
        return;
    };
    let d = t.path();
    let steps = json!([
        call("sample", "summarize_expenses", json!({})),
        call("elicit", "confirm_expense", json!({"id": 7})),
    ]);
    let clean = sdk(d, &steps, &gate(d, "alice", &server));
    assert_eq!(
        clean["asked"],
        json!([
            "Summarize: the quarterly expenses",
            "Confirm expense 7: the quarterly expenses"
        ])
    );
    assert!(
        clean["calls"]["sample"]["result"]
            .as_str()
            .unwrap()
            .contains("sampled")
    );
    assert!(audit(d).iter().all(|e| e["event"] != "canary-tripped"));

    std::fs::write(ask.path(), format!("internal reference {TOKEN}")).unwrap();
    let out = sdk(d, &steps, &gate(d, "alice", &server));
    assert_eq!(out["asked"], json!([]), "the client was asked: {out}");
    for l in ["sample", "elicit"] {
        let r = out["calls"][l]["result"].as_str().unwrap();
        assert!(r.contains("refused") && r.contains("canary"), "{l}: {r}");
        assert!(!r.contains(TOKEN), "{l}: {r}");
    }
    let a = audit(d);
    let trips: Vec<&Value> = a
        .iter()
        .filter(|e| e["event"] == "canary-tripped")
        .collect();
    let methods: Vec<&str> = trips
        .iter()
        .map(|e| e["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["sampling/createMessage", "elicitation/create"],
        "{trips:?}"
    );
    assert!(trips.iter().all(|e| e["kind"] == "token-in-server-request"
        && e["side"] == "server-request"
        && e["severity"] == "critical"
        && e["principal"] == "alice"));
    let log = std::fs::read_to_string(d.join("audit.jsonl")).unwrap();
    assert!(!log.contains(TOKEN));
}

/// Gap 4 of issue 14: `Mcp::Action::"list_tools"` decides what a principal *sees*, apart from
/// what it may call. The Python SDK client lists and calls through the gate. (That the default
/// — no list rule — lists exactly as before is the role-table test above: its lists are
/// unchanged.)
#[test]
fn list_tools_rules_decide_seeing_apart_from_calling_through_the_gate() {
    let policy =
        "[authz]\ncedar = \"list.cedar\"\n[authz.roles]\nadmin = [\"alice\"]\nuser = [\"carol\"]\n";
    let Some((t, server)) = setup(policy, &[]) else {
        return;
    };
    let d = t.path();
    std::fs::copy(
        common::root().join("testdata/authz/expense-list.cedar"),
        d.join("list.cedar"),
    )
    .unwrap();
    let steps = json!([
        {"list": true},
        call("delete", "delete_expense", json!({"id": 1})),
        call("create", "create_expense", json!({"amount": 1, "description": "x"})),
    ]);
    let alice = sdk(d, &steps, &gate(d, "alice", &server));
    assert_eq!(
        alice["lists"][0],
        json!(["approve_expense", "create_expense", "list_expenses"])
    );
    assert!(
        passed(&alice["calls"], "delete"),
        "hidden, still callable: {alice}"
    );
    let carol = sdk(d, &steps, &gate(d, "carol", &server));
    assert_eq!(carol["lists"][0], json!(["create_expense"]));
    assert!(passed(&carol["calls"], "create"));
    assert!(!passed(&carol["calls"], "delete"));
    let a = audit(d);
    let hidden = a
        .iter()
        .find(|e| e["event"] == "entity-hidden" && e["principal"] == "alice")
        .expect("alice's hidden tool is audited");
    assert_eq!(hidden["entity"], "delete_expense");
    assert_eq!(hidden["action"], "list_tools");
    assert_eq!(hidden["policies"], json!(["nobody-sees-destructive"]));
    // `authz test` says so offline.
    let p = d.join("policy.toml").display().to_string();
    let out = ok(
        d,
        &[
            "--json",
            "authz",
            "test",
            "--policy",
            &p,
            "--server",
            "expense",
            "--principal",
            "alice",
            "--tool",
            "delete_expense",
            "--arguments",
            "{\"id\": 1}",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["hiddenFromList"], true, "{v}");
    assert_eq!(
        v["list"]["policies"],
        json!(["nobody-sees-destructive"]),
        "{v}"
    );
}
