//! The authorization core over the expense example (docs/authz.md), with its attacks.

use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::lock::PinnedLaunch;
use crate::policy::Policy;
use crate::surface::{EntityKind, Surface, keyed};

/// The expense tools as the Python SDK fixture (testdata/servers/expense_server.py) lists them.
pub(crate) fn expense_tools(destructive_delete: bool) -> Vec<Value> {
    let num = json!({"title": "Amount", "type": "number"});
    vec![
        json!({"name": "list_expenses", "description": "List the expenses.",
               "inputSchema": {"type": "object", "properties": {}},
               "annotations": {"readOnlyHint": true}}),
        json!({"name": "create_expense", "description": "Create an expense.",
               "inputSchema": {"type": "object", "required": ["amount", "description"],
                   "properties": {"amount": num, "description": {"type": "string"}}}}),
        json!({"name": "approve_expense", "description": "Approve an expense.",
               "inputSchema": {"type": "object", "required": ["id", "amount"],
                   "properties": {"id": {"type": "integer"}, "amount": num}}}),
        json!({"name": "delete_expense", "description": "Delete an expense.",
               "inputSchema": {"type": "object", "required": ["id"],
                   "properties": {"id": {"type": "integer"}}},
               "annotations": {"destructiveHint": destructive_delete}}),
    ]
}

pub(crate) fn expense_entry(tools: Vec<Value>) -> ServerEntry {
    let mut s = Surface::default();
    s.entities
        .insert(EntityKind::Tools, keyed(EntityKind::Tools, tools).unwrap());
    ServerEntry::from_surface(
        PinnedLaunch::Stdio {
            command: "python".into(),
            args: vec![],
            env: vec![],
        },
        json!({}),
        &s,
    )
    .unwrap()
}

fn testdata(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/authz")
        .join(name)
}

fn policy(name: &str) -> Policy {
    Policy::load(&testdata(name)).unwrap()
}

fn authz(policy_file: &str, principal: &str) -> Authz {
    let p = policy(policy_file);
    Authz::build(
        p.authz.as_ref().unwrap(),
        "expense",
        &expense_entry(expense_tools(true)),
        principal,
    )
    .unwrap()
}

fn allowed(a: &Authz, tool: &str, args: Value) -> bool {
    a.decide(Act::CallTool, tool, Some(&args)).allow
}

/// The request table of the issue: every role × tool, amounts around the $500 line, a string
/// amount, a missing amount, an extra nested object.
fn table() -> Vec<(&'static str, Value)> {
    vec![
        ("list_expenses", json!({})),
        (
            "create_expense",
            json!({"amount": 20, "description": "lunch"}),
        ),
        ("approve_expense", json!({"id": 1, "amount": 499.99})),
        ("approve_expense", json!({"id": 1, "amount": 500})),
        ("approve_expense", json!({"id": 1, "amount": 500.01})),
        ("approve_expense", json!({"id": 1, "amount": "100"})),
        ("approve_expense", json!({"id": 1})),
        (
            "approve_expense",
            json!({"id": 1, "amount": 100, "extra": {"nested": true}}),
        ),
        ("delete_expense", json!({"id": 1})),
    ]
}

#[test]
fn the_role_table_of_the_expense_example() {
    let expect = |who: &str| -> Vec<bool> {
        match who {
            "alice" => vec![true, true, true, true, true, false, true, false, true],
            "bob" => vec![true, false, true, false, false, false, false, false, false],
            "carol" => vec![true, true, false, false, false, false, false, false, false],
            _ => vec![false; 9],
        }
    };
    for who in ["alice", "bob", "carol", "mallory"] {
        let a = authz("expense.toml", who);
        let got: Vec<bool> = table()
            .into_iter()
            .map(|(t, args)| allowed(&a, t, args))
            .collect();
        assert_eq!(got, expect(who), "{who}");
    }
}

#[test]
fn a_deny_names_its_reason_and_the_deciding_policies() {
    let bob = authz("expense.toml", "bob");
    let v = bob.decide(Act::CallTool, "delete_expense", Some(&json!({"id": 1})));
    assert_eq!(v.reason, "authz-forbidden");
    assert_eq!(v.policies, ["destructive-admin-only"]);
    let v = bob.decide(
        Act::CallTool,
        "create_expense",
        Some(&json!({"amount": 1, "description": "x"})),
    );
    assert_eq!((v.allow, v.reason), (false, "authz-no-permit"));
    let v = bob.decide(
        Act::CallTool,
        "approve_expense",
        Some(&json!({"id": 1, "amount": 1})),
    );
    assert_eq!(v.policies, ["manager-approve-under-500"]);
    let v = bob.decide(
        Act::CallTool,
        "approve_expense",
        Some(&json!({"id": 1, "amount": "1"})),
    );
    assert_eq!(v.reason, "authz-unrepresentable", "{v:?}");
}

#[test]
fn numbers_cedar_cannot_hold_exactly_deny_even_for_an_admin() {
    let alice = authz("expense.toml", "alice");
    for raw in [
        r#"{"id": 1, "amount": 500.00001}"#,
        r#"{"id": 1, "amount": 1e300}"#,
        r#"{"id": 1, "amount": -0}"#,
        r#"{"id": 1, "amount": 18446744073709551615}"#,
        r#"{"id": 1, "amount": 100000000000000000000000}"#,
        r#"{"id": 1, "amount": null}"#,
        r#"{"id": 1, "amount": [1]}"#,
    ] {
        let args = crate::json::parse_strict(raw.as_bytes()).unwrap();
        let v = alice.decide(Act::CallTool, "approve_expense", Some(&args));
        assert_eq!(
            (v.allow, v.reason),
            (false, "authz-unrepresentable"),
            "{raw}: {v:?}"
        );
    }
    assert!(allowed(
        &alice,
        "approve_expense",
        json!({"id": 1, "amount": 500.0001})
    ));
}

/// Attack: a key that a normalising parser (case folding, NFKC, trimming) would merge with
/// `amount`. The gate never normalises: the look-alike key is not declared, so the call is
/// denied, and the real `amount` is what the policy sees.
#[test]
fn argument_keys_that_collide_after_normalisation_deny() {
    let bob = authz("expense.toml", "bob");
    for k in ["Amount", "ａmount", "amount ", "amount\u{200b}", "AMOUNT"] {
        let mut args = json!({"id": 1, "amount": 100});
        args[k] = json!(100000);
        let v = bob.decide(Act::CallTool, "approve_expense", Some(&args));
        assert!(!v.allow, "{k:?}: {v:?}");
        assert_eq!(v.reason, "authz-unrepresentable");
    }
}

/// Attack: a duplicate key (`amount` twice) is a parser differential between the gate and the
/// server. The gate's strict parser refuses it before any decision.
#[test]
fn duplicate_argument_keys_never_reach_a_decision() {
    let raw = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"approve_expense","arguments":{"id":1,"amount":1,"amount":100000}}}"#;
    let e = crate::mcp::framing::Message::parse(raw).unwrap_err();
    assert_eq!(e.code(), "json-duplicate-key");
}

/// Attack: principal ids and tool names are never parsed as Cedar, so quotes and `::` cannot
/// change what a policy means.
#[test]
fn hostile_principal_and_tool_names_are_only_names() {
    for who in [
        r#"alice" || true || ""#,
        "Mcp::Role::\"admin\"",
        "admin",
        "alice\0",
    ] {
        let a = authz("expense.toml", who);
        assert!(!allowed(&a, "list_expenses", json!({})), "{who:?}");
        assert!(!a.may_ever(Act::CallTool, "list_expenses"), "{who:?}");
    }
    let mut tools = expense_tools(true);
    tools.push(json!({"name": "weird\" name::x", "inputSchema": {"type": "object"}}));
    let p = policy("expense.toml");
    let alice = Authz::build(
        p.authz.as_ref().unwrap(),
        "expense",
        &expense_entry(tools),
        "alice",
    )
    .unwrap();
    assert!(allowed(&alice, "weird\" name::x", json!({})));
    let bob = Authz::build(
        p.authz.as_ref().unwrap(),
        "expense",
        &expense_entry(expense_tools(true)),
        "bob",
    )
    .unwrap();
    assert!(!allowed(&bob, "weird\" name::x", json!({})));
}

/// The tool's attributes are the pinned ones: a definition pinned without `destructiveHint`
/// lets the manager's forbid pass, pinned with it does not — nothing live is consulted.
#[test]
fn tool_attributes_come_from_the_pinned_definition() {
    let p = policy("expense.toml");
    let spec = p.authz.as_ref().unwrap();
    let text = "@id(\"manager-delete\")\npermit (principal in Mcp::Role::\"manager\", action == Mcp::Action::\"call_tool\", resource == Mcp::Tool::\"delete_expense\");\n";
    let mut spec2 = spec.clone();
    let (path, cedar) = spec.cedar.clone().unwrap();
    spec2.cedar = Some((path, format!("{cedar}\n{text}")));
    let pinned_destructive = Authz::build(
        &spec2,
        "expense",
        &expense_entry(expense_tools(true)),
        "bob",
    )
    .unwrap();
    let pinned_harmless = Authz::build(
        &spec2,
        "expense",
        &expense_entry(expense_tools(false)),
        "bob",
    )
    .unwrap();
    assert!(!allowed(
        &pinned_destructive,
        "delete_expense",
        json!({"id": 1})
    ));
    assert!(allowed(
        &pinned_harmless,
        "delete_expense",
        json!({"id": 1})
    ));
}

#[test]
fn tools_a_principal_can_never_call_are_known() {
    let e = expense_entry(expense_tools(true));
    let names = |who: &str| -> Vec<String> {
        authz("expense.toml", who)
            .callable_tools(&e)
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(names("alice").len(), 4);
    assert_eq!(names("bob"), ["approve_expense", "list_expenses"]);
    assert_eq!(names("carol"), ["create_expense", "list_expenses"]);
    assert!(names("mallory").is_empty());
}

/// The TOML front end against the hand-written Cedar: the same decision for every request of
/// the table, for every principal.
#[test]
fn toml_rules_decide_as_the_hand_written_cedar() {
    let mut rows = table();
    for amt in [0.0, 0.0001, 250.5, 499.9999, 500.0001, 1e6, -1.0] {
        rows.push(("approve_expense", json!({"id": 2, "amount": amt})));
        rows.push(("create_expense", json!({"amount": amt, "description": "d"})));
    }
    rows.push(("create_expense", json!({"description": "no amount"})));
    rows.push(("nonexistent_tool", json!({})));
    for who in ["alice", "bob", "carol", "mallory"] {
        let cedar = authz("expense.toml", who);
        let rules = authz("expense-rules.toml", who);
        for (t, args) in &rows {
            assert_eq!(
                allowed(&cedar, t, args.clone()),
                allowed(&rules, t, args.clone()),
                "{who} {t} {args}"
            );
        }
        let e = expense_entry(expense_tools(true));
        assert_eq!(cedar.callable_tools(&e), rules.callable_tools(&e), "{who}");
    }
}

#[test]
fn policies_that_do_not_validate_against_the_pins_are_refused() {
    let p = policy("expense.toml");
    let base = p.authz.unwrap();
    let with = |text: &str| {
        let mut s = base.clone();
        s.cedar = Some(("t.cedar".into(), text.into()));
        Authz::build(&s, "expense", &expense_entry(expense_tools(true)), "bob")
    };
    for (what, text) in [
        (
            "an argument no tool has",
            "permit(principal, action == Mcp::Action::\"call_tool\", resource) when { context.arguments has amout && context.arguments.amout.lessThan(decimal(\"1.0\")) };",
        ),
        (
            "an unguarded optional argument",
            "permit(principal, action == Mcp::Action::\"call_tool\", resource) when { context.arguments.amount.lessThan(decimal(\"1.0\")) };",
        ),
        (
            "a number compared as a string",
            "permit(principal, action == Mcp::Action::\"call_tool\", resource) when { context.arguments has amount && context.arguments.amount == \"1\" };",
        ),
        (
            "an unknown entity type",
            "permit(principal in Mcp::Group::\"x\", action, resource);",
        ),
        (
            "an unknown action",
            "permit(principal, action == Mcp::Action::\"delete_everything\", resource);",
        ),
        (
            "a policy that can never apply (a warning)",
            "permit(principal, action == Mcp::Action::\"call_tool\", resource) when { false };",
        ),
        ("not Cedar", "permit(principal, action, resource"),
        ("no policies", "// nothing"),
        (
            "a template",
            "permit(principal == ?principal, action, resource);",
        ),
        (
            "two policies with one @id",
            "@id(\"a\") permit(principal, action, resource); @id(\"a\") permit(principal, action, resource);",
        ),
    ] {
        let e = with(text)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        assert_eq!(e.code(), "authz-invalid", "{what}: {e}");
    }
}

/// A policy whose evaluation errs for a request denies it (Cedar alone would skip the erring
/// policy and let another permit).
#[test]
fn an_evaluation_error_denies() {
    let p = policy("expense.toml");
    let mut s = p.authz.unwrap();
    // An integer overflow, at evaluation time only, and only when `description` is passed.
    s.cedar = Some((
        "t.cedar".into(),
        "@id(\"all\") permit(principal, action, resource);\n@id(\"overflows\") forbid(principal, action == Mcp::Action::\"call_tool\", resource) when { 9223372036854775807 + (if context.arguments has description then 1 else 0) < 0 };\n".into(),
    ));
    let a = Authz::build(&s, "expense", &expense_entry(expense_tools(true)), "bob").unwrap();
    let v = a.decide(
        Act::CallTool,
        "create_expense",
        Some(&json!({"amount": 1, "description": "not a number"})),
    );
    assert_eq!((v.allow, v.reason), (false, "authz-eval-error"), "{v:?}");
    assert!(allowed(&a, "list_expenses", json!({})));
}

/// The per-entity policy sets decide exactly as the whole set: for every principal and every
/// request of the table, the verdict (decision, reason, deciding policies) is the same.
#[test]
fn scoped_policy_sets_decide_as_the_whole_set() {
    for file in ["expense.toml", "expense-rules.toml"] {
        for who in ["alice", "bob", "carol", "mallory"] {
            let scoped = authz(file, who);
            let mut whole = authz(file, who);
            whole.scoped.clear();
            for (t, args) in table() {
                assert_eq!(
                    scoped.decide(Act::CallTool, t, Some(&args)),
                    whole.decide(Act::CallTool, t, Some(&args)),
                    "{file} {who} {t} {args}"
                );
            }
        }
    }
}

/// The expense tools plus `tag_expense {id, tags: list[str]}` as the Python SDK declares it
/// (`--tags` in testdata/servers/expense_server.py), and tools whose arrays Cedar cannot hold.
fn tagged_entry() -> ServerEntry {
    let mut tools = expense_tools(true);
    tools.push(json!({"name": "tag_expense", "description": "Tag an expense.",
        "inputSchema": {"type": "object", "required": ["id", "tags"], "properties": {
            "id": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}, "title": "Tags"},
            "weights": {"type": "array", "items": {"type": "number"}},
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
            "rows": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "loose": {"type": "array"},
            "tuple": {"type": "array", "items": [{"type": "string"}]},
            "either": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}}
        }}}));
    expense_entry(tools)
}

const TAG_POLICY: &str = r#"
@id("tag-travel-only")
permit (principal, action == Mcp::Action::"call_tool", resource == Mcp::Tool::"tag_expense")
when { context.arguments has tags && context.arguments.tags.contains("travel") }
unless { context.arguments.tags.contains("secret") };
"#;

fn tag_authz(text: &str) -> Result<Authz, AuthzError> {
    let mut s = policy("expense.toml").authz.unwrap();
    s.cedar = Some(("t.cedar".into(), text.into()));
    s.rules.clear();
    Authz::build(&s, "expense", &tagged_entry(), "bob")
}

#[test]
fn an_array_the_pin_declares_is_a_cedar_set_a_policy_can_ask_about() {
    let a = tag_authz(TAG_POLICY).unwrap();
    let schema = Authz::schema_json(&tagged_entry());
    let attrs = &schema["Mcp"]["actions"]["call_tool"]["appliesTo"]["context"]["attributes"]["arguments"]
        ["attributes"];
    assert_eq!(
        attrs["tags"],
        json!({"type": "Set", "element": {"type": "String"}, "required": false})
    );
    assert_eq!(
        attrs["weights"]["element"],
        json!({"type": "Extension", "name": "decimal"})
    );
    for (args, allow) in [
        (json!({"id": 1, "tags": ["travel"]}), true),
        (json!({"id": 1, "tags": ["food", "travel"]}), true),
        (json!({"id": 1, "tags": ["travel", "food"]}), true),
        (json!({"id": 1, "tags": ["food"]}), false),
        (json!({"id": 1, "tags": []}), false),
        (json!({"id": 1, "tags": ["travel", "secret"]}), false),
        (json!({"id": 1, "tags": ["Travel"]}), false),
        (json!({"id": 1}), false),
    ] {
        let v = a.decide(Act::CallTool, "tag_expense", Some(&args));
        assert_eq!(v.allow, allow, "{args}: {v:?}");
    }
}

#[test]
fn attack_arrays_cedar_cannot_hold_exactly_are_denied() {
    // Permits every call, so only the representation can deny.
    let a = tag_authz("permit (principal, action, resource);").unwrap();
    for (what, args) in [
        (
            "an array where the pin declares a string",
            json!({"amount": 1, "description": ["a"]}),
        ),
        (
            "an array where the pin declares a number",
            json!({"id": [1]}),
        ),
        (
            "a string where the pin declares an array",
            json!({"id": 1, "tags": "travel"}),
        ),
        ("nested arrays", json!({"id": 1, "tags": [["travel"]]})),
        (
            "nested arrays the pin declares",
            json!({"id": 1, "matrix": [["a"]]}),
        ),
        (
            "an array of objects",
            json!({"id": 1, "rows": [{"a": "x"}]}),
        ),
        (
            "an array without items in the pin",
            json!({"id": 1, "loose": ["a"]}),
        ),
        ("a tuple-form items", json!({"id": 1, "tuple": ["a"]})),
        ("a union element type", json!({"id": 1, "either": ["a"]})),
        (
            "mixed element types",
            json!({"id": 1, "tags": ["travel", 1]}),
        ),
        ("a null element", json!({"id": 1, "tags": ["travel", null]})),
        (
            "an object element",
            json!({"id": 1, "tags": ["travel", {"x": 1}]}),
        ),
        (
            "a number Cedar cannot hold",
            json!({"id": 1, "weights": [1, 1e300]}),
        ),
        (
            "a negative zero element",
            json!({"id": 1, "weights": [-0.0]}),
        ),
        (
            "a repeated string",
            json!({"id": 1, "tags": ["travel", "travel"]}),
        ),
        (
            "a repeated number spelled twice",
            json!({"id": 1, "weights": [1, 1.0]}),
        ),
    ] {
        let v = a.decide(Act::CallTool, "tag_expense", Some(&args));
        assert_eq!(
            (v.allow, v.reason),
            (false, "authz-unrepresentable"),
            "{what}: {args}: {v:?}"
        );
    }
    // The control: the same policy allows what it can represent.
    assert!(allowed(
        &a,
        "tag_expense",
        json!({"id": 1, "tags": ["a", "b"], "weights": [1, 2.5]})
    ));
}

#[test]
fn a_policy_over_an_array_the_pin_does_not_declare_as_a_set_is_refused() {
    for text in [
        "permit (principal, action == Mcp::Action::\"call_tool\", resource) when { context.arguments has matrix };",
        "permit (principal, action == Mcp::Action::\"call_tool\", resource) when { context.arguments has tags && context.arguments.tags.contains(1) };",
    ] {
        let e = tag_authz(text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"));
        assert_eq!(e.code(), "authz-invalid", "{e}");
    }
}

/// Issue 14, gap 4: with no policy naming a list action, nothing is decided for lists — the
/// gate filters `tools/list` by `may_ever` alone, as before list actions existed. An
/// unconstrained `action` does not count as naming one.
#[test]
fn without_list_rules_no_list_is_decided() {
    let mut any = policy("expense.toml").authz.unwrap();
    any.cedar = Some((
        "t.cedar".into(),
        "@id(\"all\") permit(principal, action, resource);".into(),
    ));
    for who in ["alice", "bob", "carol", "mallory"] {
        let e = expense_entry(expense_tools(true));
        for a in [authz("expense.toml", who), authz("expense-rules.toml", who)]
            .into_iter()
            .chain(Authz::build(&any, "expense", &e, who))
        {
            for t in e.tools.keys() {
                for act in [Act::ListTools, Act::ListPrompts, Act::ListResources] {
                    assert_eq!(a.may_list(act, t), None, "{who} {t} {act:?}");
                }
            }
        }
    }
}

pub(crate) fn list_authz(who: &str) -> Authz {
    let mut s = policy("expense.toml").authz.unwrap();
    let path = testdata("expense-list.cedar");
    let text = std::fs::read_to_string(&path).unwrap();
    s.cedar = Some((path, text));
    Authz::build(&s, "expense", &expense_entry(expense_tools(true)), who).unwrap()
}

#[test]
fn list_tools_is_decided_apart_from_call_tool() {
    let listed = |a: &Authz| -> Vec<&str> {
        [
            "list_expenses",
            "create_expense",
            "approve_expense",
            "delete_expense",
        ]
        .into_iter()
        .filter(|t| a.may_list(Act::ListTools, t).expect("list rules").allow)
        .collect()
    };
    // The admin sees all but the destructive tool, and may still call it.
    let alice = list_authz("alice");
    assert_eq!(
        listed(&alice),
        ["list_expenses", "create_expense", "approve_expense"]
    );
    assert!(allowed(&alice, "delete_expense", json!({"id": 1})));
    let v = alice.may_list(Act::ListTools, "delete_expense").unwrap();
    assert_eq!(v.reason, "authz-forbidden");
    assert_eq!(v.policies, ["nobody-sees-destructive"]);
    // The user may see list_expenses (read-only) without being permitted to call it (so the
    // gate's pruning still hides it), and approve_expense neither.
    let carol = list_authz("carol");
    assert_eq!(listed(&carol), ["list_expenses", "create_expense"]);
    assert!(allowed(
        &carol,
        "create_expense",
        json!({"amount": 1, "description": "x"})
    ));
    assert!(!allowed(&carol, "list_expenses", json!({})));
    assert_eq!(
        carol
            .may_list(Act::ListTools, "approve_expense")
            .unwrap()
            .reason,
        "authz-no-permit"
    );
    // The manager is permitted to see only the read-only tool, and may call nothing.
    let bob = list_authz("bob");
    assert_eq!(listed(&bob), ["list_expenses"]);
    assert!(!allowed(&bob, "list_expenses", json!({})));
    // Prompts and resources: named by a forbid only, so decided (and nothing permits them).
    assert!(carol.may_list(Act::ListPrompts, "any").is_some());
    assert_eq!(carol.may_list(Act::ListResources, "test://x"), None);
}

/// A list rule cannot be made to depend on the arguments of some call: a list is decided with
/// empty arguments, so `context.arguments has …` does not hold.
#[test]
fn attack_a_list_rule_on_arguments_never_holds() {
    let mut s = policy("expense.toml").authz.unwrap();
    s.cedar = Some((
        "t.cedar".into(),
        "@id(\"see-cheap\") permit(principal, action == Mcp::Action::\"list_tools\", resource) when { context.arguments has amount && context.arguments.amount.lessThan(decimal(\"1.0\")) };".into(),
    ));
    let a = Authz::build(&s, "expense", &expense_entry(expense_tools(true)), "bob").unwrap();
    let v = a.may_list(Act::ListTools, "approve_expense").unwrap();
    assert_eq!((v.allow, v.reason), (false, "authz-no-permit"));
}
