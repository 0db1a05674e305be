//! `mcpseal run` end to end against the fixture server: what passes, what is removed, what is
//! refused, and how the gate fails closed.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::client::Client;
use common::{audit, events, fixture_server, pin};

use serde_json::json;

/// Pins the fixture server in `dir`, then rewrites the pinned launch to
/// `fixture-server --misbehave MODE` (a misbehaving server cannot be captured, so it cannot be
/// pinned as itself); returns that command line, for the gate to run.
fn pin_misbehaving(dir: &Path, mode: &str) -> Vec<String> {
    pin(dir, "fx", &fixture_server(&[]));
    let lock_path = dir.join("mcpseal.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let edited = lock.replace(
        "\"fixture-server\"",
        &format!("\"fixture-server\",\n        \"--misbehave\",\n        \"{mode}\""),
    );
    assert_ne!(edited, lock, "the pinned launch names fixture-server");
    std::fs::write(&lock_path, edited).unwrap();
    fixture_server(&["--misbehave", mode])
}

fn counter(dir: &Path) -> (PathBuf, String) {
    let p = dir.join("launches");
    let s = p.display().to_string();
    (p, s)
}

#[test]
fn pinned_server_passes_through_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let server = fixture_server(&[]);
    pin(t.path(), "fx", &server);
    let mut direct = Client::direct(t.path(), &server);
    let mut gated = Client::gate(t.path(), "fx", &[], &server);
    assert_eq!(direct.init()["result"], gated.init()["result"]);
    let d = direct.ask("tools/list", json!({}), &mut vec![]).unwrap();
    let g = gated.ask("tools/list", json!({}), &mut vec![]).unwrap();
    assert_eq!(d["result"], g["result"]);
    assert_eq!(
        direct.call("add", &mut vec![])["result"],
        gated.call("add", &mut vec![])["result"]
    );
    // Issue 9: a prompt not yet listed in this session is listed by the gate itself (with its
    // own id, unseen by the client), checked, and then the request is forwarded.
    let p = gated
        .ask(
            "prompts/get",
            json!({"name": "greet", "arguments": {"who": "x"}}),
            &mut vec![],
        )
        .unwrap();
    assert!(p["result"].is_object(), "{p}");
    direct.finish();
    assert_eq!(gated.finish(), 0);
    let a = audit(t.path());
    assert_eq!(events(&a, "prelaunch-verdict")[0]["decision"], "allow");
    assert!(events(&a, "entity-removed").is_empty());
    assert_eq!(events(&a, "gate-list")[0]["kind"], "prompts");
}

#[test]
fn sleeper_rug_pull_is_removed_and_its_call_refused() {
    let t = tempfile::tempdir().unwrap();
    let (_, c) = counter(t.path());
    let server = fixture_server(&["--launch-counter", &c, "--rug-pull", "description"]);
    pin(t.path(), "calc", &server); // launch 1: benign
    let mut g = Client::gate(t.path(), "calc", &[], &server); // launch 2: poisoned
    g.init();
    assert_eq!(g.tools(), ["echo"]);
    let r = g.call("add", &mut vec![]);
    assert_eq!(r["error"]["code"], -32001, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match its pin")
    );
    assert_eq!(
        g.call("echo", &mut vec![])["result"]["content"][0]["text"],
        "hi"
    );
    g.finish();
    let a = audit(t.path());
    let removed = events(&a, "entity-removed");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["entity"], "add");
    assert_eq!(removed[0]["reason"], "changed-entity");
    assert_ne!(removed[0]["digestPinned"], removed[0]["digestLive"]);
    assert_eq!(events(&a, "call-refused")[0]["entity"], "add");
}

/// A tool that changes after N calls and announces it with list_changed, mid-session.
#[test]
fn mid_session_rug_pull_after_list_changed_is_caught() {
    let t = tempfile::tempdir().unwrap();
    let server = fixture_server(&["--change-after-calls", "1", "--rug-pull", "description"]);
    pin(t.path(), "calc", &server); // pin never calls a tool: the benign surface
    let mut g = Client::gate(t.path(), "calc", &[], &server);
    g.init();
    assert_eq!(g.tools(), ["add", "echo"]);
    let mut seen = vec![];
    assert_eq!(
        g.call("add", &mut seen)["result"]["content"][0]["text"],
        "3"
    );
    // The server announces the change (right after its answer). Once the client has the
    // notification — the gate marks the list stale before forwarding it — nothing of that
    // kind is callable until the client re-lists. (A request already in flight when the
    // notification crosses it cannot be told apart, so the test waits for the notification.)
    while !seen
        .iter()
        .any(|n| n["method"] == "notifications/tools/list_changed")
    {
        seen.push(
            g.rx.recv_timeout(Duration::from_secs(20))
                .expect("list_changed forwarded"),
        );
    }
    // A call after the change is decided on a fresh listing: the gate lists again itself,
    // sees the changed `add`, refuses it, and lets the unchanged `echo` pass.
    let r = g.call("add", &mut seen);
    assert!(r["error"].is_object(), "changed after list_changed: {r}");
    assert!(g.call("echo", &mut vec![])["result"].is_object());
    assert_eq!(g.tools(), ["echo"], "the re-list loses the changed tool");
    assert!(g.call("add", &mut vec![])["error"].is_object());
    g.finish();
}

#[test]
fn unpinned_server_is_refused_before_it_starts() {
    let t = tempfile::tempdir().unwrap();
    let (marker, c) = counter(t.path());
    let server = fixture_server(&["--launch-counter", &c]);
    let mut g = Client::gate(t.path(), "ghost", &[], &server);
    let r = g.init();
    assert_eq!(r["error"]["code"], -32001, "{r}");
    assert_eq!(r["error"]["data"]["reason"], "not-pinned");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mcpseal pin ghost")
    );
    assert_eq!(g.finish(), 1);
    assert!(!marker.exists(), "the server must never have started");
    let a = audit(t.path());
    assert_eq!(events(&a, "prelaunch-verdict")[0]["decision"], "block");
}

#[test]
fn changed_launch_command_is_refused_before_it_starts() {
    let t = tempfile::tempdir().unwrap();
    let (marker, c) = counter(t.path());
    pin(t.path(), "fx", &fixture_server(&[]));
    let mut g = Client::gate(
        t.path(),
        "fx",
        &[],
        &fixture_server(&["--launch-counter", &c]),
    );
    let r = g.init();
    assert_eq!(r["error"]["data"]["reason"], "launch-mismatch", "{r}");
    assert_eq!(g.finish(), 1);
    assert!(!marker.exists());
}

#[test]
fn swapped_artifact_is_refused_before_it_starts() {
    let t = tempfile::tempdir().unwrap();
    let art = t.path().join("server.js");
    std::fs::write(&art, "v1").unwrap();
    common::pin_fixture(t.path(), "fx", &["--artifact", "server.js"]);
    std::fs::write(&art, "v1 with a backdoor").unwrap();
    let mut g = Client::gate(t.path(), "fx", &[], &fixture_server(&[]));
    let r = g.init();
    assert_eq!(r["error"]["data"]["reason"], "artifact-mismatch", "{r}");
    assert_eq!(g.finish(), 1);
}

#[test]
fn tofu_pins_on_first_launch_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let mut g = Client::gate(t.path(), "fresh", &["--tofu"], &fixture_server(&[]));
    assert!(g.init()["result"].is_object());
    assert_eq!(g.tools(), ["add", "echo"]);
    let (_, stderr) = g.finish_with_stderr();
    assert!(
        stderr.contains("trust on first use: pinned \"fresh\""),
        "{stderr}"
    );
    let lock = std::fs::read_to_string(t.path().join("mcpseal.lock")).unwrap();
    assert!(lock.contains("\"fresh\""));
    assert_eq!(events(&audit(t.path()), "tofu-pinned").len(), 1);
    // Pinned now: a second --tofu launch checks the pin and says nothing of pinning.
    let mut g = Client::gate(t.path(), "fresh", &["--tofu"], &fixture_server(&[]));
    assert!(g.init()["result"].is_object());
    assert_eq!(g.tools(), ["add", "echo"]);
    let (_, stderr) = g.finish_with_stderr();
    assert!(!stderr.contains("trust on first use"), "{stderr}");
    assert_eq!(events(&audit(t.path()), "tofu-pinned").len(), 1);
}

#[test]
fn on_drift_kill_ends_the_session_with_an_error() {
    let t = tempfile::tempdir().unwrap();
    let (_, c) = counter(t.path());
    let server = fixture_server(&["--launch-counter", &c, "--rug-pull", "add-tool"]);
    pin(t.path(), "fx", &server);
    let mut g = Client::gate(t.path(), "fx", &["--on-drift", "kill"], &server);
    g.init();
    let r = g.ask("tools/list", json!({}), &mut vec![]).unwrap();
    assert_eq!(r["error"]["data"]["reason"], "drift", "{r}");
    assert_eq!(g.finish(), 1);
}

/// Fail closed: whatever the server sends that the gate cannot check ends the session, and no
/// unchecked list reaches the client.
#[test]
fn malformed_server_output_ends_the_session_without_forwarding() {
    for mode in ["garbage", "duplicate-key", "oversized"] {
        let t = tempfile::tempdir().unwrap();
        let server = pin_misbehaving(t.path(), mode);
        let mut g = Client::gate(t.path(), "fx", &[], &server);
        assert!(g.init()["result"].is_object(), "{mode}");
        let r = g.ask("tools/list", json!({}), &mut vec![]);
        assert!(
            r.is_none(),
            "{mode}: the gate forwarded an unchecked answer: {r:?}"
        );
        assert_eq!(g.finish(), 1, "{mode}");
        let a = audit(t.path());
        assert_eq!(
            events(&a, "server-message-rejected").len(),
            1,
            "{mode}: {a:?}"
        );
    }
}

#[test]
fn server_that_exits_early_ends_the_gate() {
    let t = tempfile::tempdir().unwrap();
    let server = pin_misbehaving(t.path(), "exit");
    let mut g = Client::gate(t.path(), "fx", &[], &server);
    g.init();
    assert!(g.ask("tools/list", json!({}), &mut vec![]).is_none());
    assert_eq!(g.finish(), 0, "the server exited 0 on its own");
    assert_eq!(events(&audit(t.path()), "server-exit").len(), 1);
}

#[test]
fn client_closing_stdin_ends_server_and_gate() {
    let t = tempfile::tempdir().unwrap();
    pin(t.path(), "fx", &fixture_server(&[]));
    let mut g = Client::gate(t.path(), "fx", &[], &fixture_server(&[]));
    g.init();
    assert_eq!(g.finish(), 0);
}

#[test]
fn oversized_client_line_is_refused() {
    let t = tempfile::tempdir().unwrap();
    pin(t.path(), "fx", &fixture_server(&[]));
    let mut g = Client::gate(
        t.path(),
        "fx",
        &["--max-message", "1000"],
        &fixture_server(&[]),
    );
    g.init();
    let big = "x".repeat(2000);
    let r = g.ask(
        "tools/call",
        json!({"name": "echo", "arguments": {"text": big}}),
        &mut vec![],
    );
    assert!(r.is_none(), "{r:?}");
    g.finish();
    assert_eq!(
        events(&audit(t.path()), "client-message-rejected")[0]["reason"],
        "message-too-long"
    );
}

/// `--audit-syslog` sends each event to the local syslog socket in RFC 5424 framing (a test
/// socket stands in for /dev/log); `--audit-stderr` prints the same JSON lines.
#[test]
fn audit_events_reach_syslog_and_stderr() {
    use std::os::unix::net::UnixDatagram;
    let t = tempfile::tempdir().unwrap();
    let sock_path = t.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = common::mcpseal();
    c.current_dir(t.path())
        .env("MCPSEAL_SYSLOG_SOCKET", &sock_path)
        .args([
            "run",
            "--name",
            "ghost",
            "--audit-syslog",
            "--audit-stderr",
            "--",
        ])
        .args(fixture_server(&[]))
        .stdin(std::process::Stdio::null());
    let (code, _, err) = common::run(&mut c);
    assert_eq!(code, 1, "not pinned: refused");
    assert!(
        err.contains("mcpseal audit: {") && err.contains("\"prelaunch-verdict\""),
        "{err}"
    );
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.len() == 2 {
            break;
        }
    }
    assert_eq!(got.len(), 2, "gate-start and the verdict: {got:?}");
    // <PRI>1 TIMESTAMP HOST APP PROCID MSGID - JSON; authpriv.info = 86, authpriv.warning = 84.
    assert!(
        got[0].starts_with("<86>1 ")
            && got[0].contains(" mcpseal ")
            && got[0].contains(" gate-start - {"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("<84>1 ")
            && got[1].contains(" prelaunch-verdict - {")
            && got[1].contains("\"not-pinned\""),
        "{}",
        got[1]
    );
}
