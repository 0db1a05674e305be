//! The README's first command, `mcpseal demo`, as a test: every step of the walk-through
//! (key, sign, verify, tamper refused, pin, rug pull named by check, the gate removing the
//! changed tool and refusing its call) asserts its own outcome, and the demo exits 1 if any
//! step misbehaves.

mod common;

#[test]
fn demo_walks_through_every_step_and_exits_zero() {
    let (code, out, err) = common::run(common::mcpseal().arg("demo"));
    assert_eq!(code, 0, "demo failed:\n{out}\n{err}");
    for step in [
        "key generate",
        "sign",
        "verify",
        "pin demo",
        "check",
        "mcpseal run --name demo",
    ] {
        assert!(out.contains(step), "the demo never showed `{step}`:\n{out}");
    }
    assert!(out.contains("All steps behaved as expected."), "{out}");
}

#[test]
fn demo_has_no_json_form() {
    let (code, out, _) = common::run(common::mcpseal().args(["--json", "demo"]));
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON error object");
    assert_eq!(v["reason"], "no-json");
}
