//! Issue 17: settling by events, against the real fixture server (it declares `listChanged`
//! for every kind). Nothing here is timed: a settle window of an hour under a deadline of a
//! minute only finishes if the capture does not wait it out.

mod common;

use common::{exe, mcpseal, run};

#[test]
fn issue_17_a_server_that_announces_nothing_is_not_waited_for() {
    let e = exe();
    let (code, out, err) = run(mcpseal().args([
        "surface",
        "--settle",
        "3600000",
        "--timeout",
        "60",
        "--",
        &e,
        "fixture-server",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("add"), "{out}");
}

/// A server that announces right after `initialized` and then stops is listed again once and
/// pinned clean: the quiet window is measured from its one announcement.
#[test]
fn issue_17_an_announcing_server_settles_after_its_last_announcement() {
    let t = tempfile::tempdir().unwrap();
    let e = exe();
    let server = [e.as_str(), "fixture-server", "--list-changed-on-init"];
    let (code, out, err) = run(mcpseal()
        .current_dir(t.path())
        .args(["surface", "--settle", "50", "--"])
        .args(server));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(mcpseal()
        .current_dir(t.path())
        .args(["pin", "fx", "--"])
        .args(server));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(mcpseal().current_dir(t.path()).args(["check"]));
    assert_eq!(code, 0, "{out}{err}");
}
