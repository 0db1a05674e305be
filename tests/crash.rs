//! Issue 10: a lock write stopped at any step (after the temp file is written, after its
//! fsync, after the rename) leaves the old lock or the new one, never a torn one; and writing
//! through a symlinked lock is refused. Debug builds of mcpseal abort at a step named by
//! `MCPSEAL_FAULT` (src/atomic.rs), which stands in for `kill -9`.

mod common;

use std::path::Path;

use common::exe;

fn pin(dir: &Path, name: &str, fault: Option<&str>) -> i32 {
    let e = exe();
    let mut c = common::mcpseal();
    c.current_dir(dir)
        .args(["pin", name, "--", &e, "fixture-server"]);
    if let Some(f) = fault {
        c.env("MCPSEAL_FAULT", f);
    }
    common::run(&mut c).0
}

fn servers(dir: &Path) -> Vec<String> {
    let bytes = std::fs::read(dir.join("mcpseal.lock")).unwrap();
    // Whatever happened, the file parses and validates as a whole lockfile.
    let lock = mcpseal::lock::Lockfile::parse(&bytes, Path::new("mcpseal.lock"))
        .expect("a whole lockfile, never a torn one");
    lock.servers.keys().cloned().collect()
}

#[test]
fn a_lock_write_killed_at_any_step_leaves_the_old_or_the_new_lock() {
    for (step, expect_new) in [("written", false), ("synced", false), ("renamed", true)] {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(pin(t.path(), "a", None), 0);
        let code = pin(t.path(), "b", Some(step));
        assert_ne!(code, 0, "{step}: the process was stopped");
        let got = servers(t.path());
        if expect_new {
            assert_eq!(got, ["a", "b"], "{step}");
        } else {
            assert_eq!(got, ["a"], "{step}");
        }
        // The next write works and cleans nothing it should not.
        assert_eq!(pin(t.path(), "c", None), 0, "{step}");
        assert!(servers(t.path()).contains(&"c".to_owned()));
    }
}

#[test]
fn writing_through_a_symlinked_lock_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let real = t.path().join("real");
    std::fs::create_dir(&real).unwrap();
    assert_eq!(pin(&real, "a", None), 0);
    std::os::unix::fs::symlink(real.join("mcpseal.lock"), t.path().join("mcpseal.lock")).unwrap();
    let e = exe();
    let (code, _, err) = common::run(common::mcpseal().current_dir(t.path()).args([
        "pin",
        "b",
        "--",
        &e,
        "fixture-server",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(servers(&real), ["a"], "the link's target is untouched");
}
