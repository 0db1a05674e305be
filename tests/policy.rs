//! The trust policy applied by the gate: a server that must be signed does not start without a
//! verifying bundle from a trusted signer over the artifact now on disk; an empty signer set is
//! a configuration error; `--lock-key` refuses an unsigned or altered lock or policy. The
//! audit log records the signer, or the reason for every refusal.

mod common;

use std::path::Path;

use common::client::Client;
use common::{audit, ok};
use serde_json::Value;

/// A pinned fixture server, its release artifact signed by `acme`, and a policy requiring it.
fn setup(dir: &Path, counter: &str) -> Vec<String> {
    let server = common::fixture_server(&["--launch-counter", counter]);
    std::fs::write(dir.join("server.js"), "release 1").unwrap();
    ok(dir, &["key", "generate", "--name", "acme", "--no-password"]);
    ok(
        dir,
        &["key", "generate", "--name", "mallory", "--no-password"],
    );
    let s: Vec<&str> = server.iter().map(String::as_str).collect();
    let mut pin = vec!["pin", "calc", "--"];
    pin.extend(&s);
    ok(dir, &pin);
    std::fs::write(
        dir.join("mcpseal-policy.toml"),
        r#"
[[signer]]
name = "acme-release"
public-key = "acme.pub"

[server.calc]
require-signature = true
signers = ["acme-release"]
artifacts = ["server.js"]
bundle = "server.js.sigstore.json"
"#,
    )
    .unwrap();
    server
}

fn first_answer(dir: &Path, server: &[String], extra: &[&str]) -> Value {
    let s: Vec<&str> = server.iter().map(String::as_str).collect();
    let mut g = Client::gate(dir, "calc", extra, &s);
    let r = g.init();
    g.finish();
    r
}

fn launches(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("launches"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn a_server_that_must_be_signed_starts_only_with_a_trusted_signature_over_its_artifact() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    let pinned_launches = launches(d);

    // Not signed at all: refused, never started.
    let r = first_answer(d, &server, &[]);
    assert_eq!(r["error"]["data"]["reason"], "unsigned", "{r}");
    assert_eq!(launches(d), pinned_launches);

    // Signed by a key the policy does not trust: refused.
    ok(d, &["sign", "server.js", "--key", "mallory.key"]);
    let r = first_answer(d, &server, &[]);
    assert_eq!(r["error"]["data"]["reason"], "unsigned", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("acme-release"),
        "{r}"
    );

    // Signed by the trusted key: the server starts, and the audit log names the signer.
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    let r = first_answer(d, &server, &[]);
    assert!(r["result"].is_object(), "{r}");
    let a = audit(d);
    let v: Vec<&Value> = a
        .iter()
        .filter(|e| e["event"] == "signature-verified")
        .collect();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["signer"], "acme-release");

    // The artifact is swapped after signing: refused before the server starts.
    std::fs::write(d.join("server.js"), "release 1 + backdoor").unwrap();
    let before = launches(d);
    let r = first_answer(d, &server, &[]);
    assert_eq!(r["error"]["data"]["reason"], "unsigned", "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("digest"),
        "{r}"
    );
    assert_eq!(launches(d), before);
    let blocks = audit(d)
        .into_iter()
        .filter(|e| e["event"] == "prelaunch-verdict" && e["decision"] == "block")
        .count();
    assert_eq!(blocks, 3, "every refusal is on record");
}

#[test]
fn an_empty_signer_set_is_a_configuration_error_not_a_pass() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    std::fs::write(d.join("mcpseal-policy.toml"), "[server.calc]\nrequire-signature = true\nsigners = []\nartifacts = [\"server.js\"]\nbundle = \"server.js.sigstore.json\"\n").unwrap();
    let r = first_answer(d, &server, &[]);
    assert_eq!(r["error"]["data"]["reason"], "policy-invalid", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty signer set"),
        "{r}"
    );
}

#[test]
fn lock_key_refuses_an_unsigned_or_altered_lock_and_policy() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    // Unsigned lock.
    let r = first_answer(d, &server, &["--lock-key", "acme.pub"]);
    assert_eq!(r["error"]["data"]["reason"], "lock-signature", "{r}");
    // Signed lock, unsigned policy.
    ok(d, &["sign", "mcpseal.lock", "--key", "acme.key"]);
    let r = first_answer(d, &server, &["--lock-key", "acme.pub"]);
    assert_eq!(r["error"]["data"]["reason"], "policy-signature", "{r}");
    // Both signed: the server starts.
    ok(d, &["sign", "mcpseal-policy.toml", "--key", "acme.key"]);
    let r = first_answer(d, &server, &["--lock-key", "acme.pub"]);
    assert!(r["result"].is_object(), "{r}");
    // Signed by another key: refused.
    let r = first_answer(d, &server, &["--lock-key", "mallory.pub"]);
    assert_eq!(r["error"]["data"]["reason"], "lock-signature", "{r}");
    // The lock edited after signing (an extra server pinned): refused.
    common::pin(d, "extra", &common::fixture_server(&[]));
    let r = first_answer(d, &server, &["--lock-key", "acme.pub"]);
    assert_eq!(r["error"]["data"]["reason"], "lock-signature", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not the signed one"),
        "{r}"
    );
}

/// Issue 9, finding 2: `run --tofu` used to start and pin a server the policy requires to be
/// signed, before the signature check refused it. The required signature is checked first:
/// the server never starts and nothing is pinned.
#[test]
fn attack_tofu_never_starts_or_pins_a_server_that_must_be_signed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    // A server the policy covers, unpinned: remove its entry from the lock.
    let lock_path = d.join("mcpseal.lock");
    let mut lock: Value =
        serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    lock["servers"].as_object_mut().unwrap().remove("calc");
    std::fs::write(
        &lock_path,
        serde_json::to_string_pretty(&lock).unwrap() + "\n",
    )
    .unwrap();
    let before = launches(d);
    let r = first_answer(d, &server, &["--tofu"]);
    assert_eq!(r["error"]["data"]["reason"], "unsigned", "{r}");
    assert_eq!(launches(d), before, "the server must never have started");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(!lock.contains("\"calc\""), "nothing pinned: {lock}");
    assert!(audit(d).iter().all(|e| e["event"] != "tofu-pinned"));
    // Signed by the trusted key, --tofu may pin it (a control: the refusal above was the policy).
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    let r = first_answer(d, &server, &["--tofu"]);
    assert!(r["result"].is_object(), "{r}");
    assert!(
        std::fs::read_to_string(&lock_path)
            .unwrap()
            .contains("\"calc\"")
    );
}

/// Issue 10, findings 3 and 4: a signed lock is ordered by its serial and bound to its policy.
/// An older signed lock put back is refused (`lock-rollback`); deleting the policy and its
/// bundle (`policy-missing`), swapping in another signed policy or adding one to a lock signed
/// with none (`policy-mismatch`), and an expired signed lock (`lock-expired`) are refused.
#[test]
fn attack_signed_lock_rollback_policy_deletion_and_expiry_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    let state = d.join("state.json").display().to_string();
    let gate = |extra: &[&str]| {
        let mut a = vec!["--lock-key", "acme.pub", "--state-file", state.as_str()];
        a.extend(extra);
        first_answer(d, &server, &a)
    };
    let copy = |from: &str, to: &str| std::fs::copy(d.join(from), d.join(to)).unwrap();
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    ok(d, &["sign", "mcpseal-policy.toml", "--key", "acme.key"]);
    ok(d, &["sign", "mcpseal.lock", "--key", "acme.key"]);
    assert!(gate(&[])["result"].is_object());
    // Keep the old signed lock, then the fleet moves on (a new pin: serial + 1, re-signed).
    copy("mcpseal.lock", "old.lock");
    copy("mcpseal.lock.sigstore.json", "old.lock.sigstore.json");
    common::pin(d, "extra", &common::fixture_server(&[]));
    ok(d, &["sign", "mcpseal.lock", "--key", "acme.key"]);
    assert!(
        gate(&[])["result"].is_object(),
        "the new signed lock is enforced"
    );
    // Rollback: the old lock and its (valid) bundle are put back.
    copy("old.lock", "mcpseal.lock");
    copy("old.lock.sigstore.json", "mcpseal.lock.sigstore.json");
    let r = gate(&[]);
    assert_eq!(r["error"]["data"]["reason"], "lock-rollback", "{r}");
    // Back to the current lock; then the policy and its bundle are deleted.
    common::pin(d, "extra2", &common::fixture_server(&[]));
    ok(d, &["sign", "mcpseal.lock", "--key", "acme.key"]);
    assert!(gate(&[])["result"].is_object());
    copy("mcpseal-policy.toml", "policy.bak");
    copy(
        "mcpseal-policy.toml.sigstore.json",
        "policy.bak.sigstore.json",
    );
    std::fs::remove_file(d.join("mcpseal-policy.toml")).unwrap();
    std::fs::remove_file(d.join("mcpseal-policy.toml.sigstore.json")).unwrap();
    let r = gate(&[]);
    assert_eq!(r["error"]["data"]["reason"], "policy-missing", "{r}");
    // Another policy, validly signed by the same key (say one without require-signature).
    std::fs::write(
        d.join("mcpseal-policy.toml"),
        "[[signer]]\nname = \"acme-release\"\npublic-key = \"acme.pub\"\n",
    )
    .unwrap();
    ok(d, &["sign", "mcpseal-policy.toml", "--key", "acme.key"]);
    let r = gate(&[]);
    assert_eq!(r["error"]["data"]["reason"], "policy-mismatch", "{r}");
    // A lock signed with no policy refuses a policy that appears.
    copy("policy.bak", "mcpseal-policy.toml");
    copy(
        "policy.bak.sigstore.json",
        "mcpseal-policy.toml.sigstore.json",
    );
    ok(
        d,
        &["sign", "mcpseal.lock", "--key", "acme.key", "--no-policy"],
    );
    let r = gate(&[]);
    assert_eq!(r["error"]["data"]["reason"], "policy-mismatch", "{r}");
    // An expired signed lock.
    ok(
        d,
        &[
            "sign",
            "mcpseal.lock",
            "--key",
            "acme.key",
            "--expires",
            "2020-01-01T00:00:00Z",
        ],
    );
    let r = gate(&[]);
    assert_eq!(r["error"]["data"]["reason"], "lock-expired", "{r}");
    ok(
        d,
        &[
            "sign",
            "mcpseal.lock",
            "--key",
            "acme.key",
            "--expires",
            "2999-01-01T00:00:00Z",
        ],
    );
    assert!(gate(&[])["result"].is_object());
    // The state file is the host's own: 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Issue 15: under `--lock-key` the policy is read once, and the bytes whose signature and
/// binding are checked are the bytes parsed. The policy here is a named pipe whose writer
/// hands the signed policy to the first reader only: once that reader has closed the pipe,
/// every later reader gets a rewritten policy (pointing at a bundle that does not exist, so a
/// parse of it refuses the launch), and one that opens it before that gets no bytes at all. A
/// gate that opened the policy a second time, to verify or to parse it, would refuse. (Before
/// the fix the gate read it three times: binding, signature, parse; this test failed with
/// `policy-signature`.)
#[test]
fn attack_a_policy_rewritten_between_verify_and_parse_is_never_read() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let counter = d.join("launches").display().to_string();
    let server = setup(d, &counter);
    ok(d, &["sign", "server.js", "--key", "acme.key"]);
    ok(d, &["sign", "mcpseal-policy.toml", "--key", "acme.key"]);
    ok(d, &["sign", "mcpseal.lock", "--key", "acme.key"]);
    let state = d.join("state.json").display().to_string();
    let gate = || {
        first_answer(
            d,
            &server,
            &["--lock-key", "acme.pub", "--state-file", &state],
        )
    };
    assert!(gate()["result"].is_object(), "the signed policy as a file");

    let policy = d.join("mcpseal-policy.toml");
    let signed = std::fs::read(&policy).unwrap();
    let rewritten = String::from_utf8(signed.clone())
        .unwrap()
        .replace("server.js.sigstore.json", "missing.sigstore.json");
    assert_ne!(rewritten.as_bytes(), signed.as_slice());
    std::fs::remove_file(&policy).unwrap();
    let mk = std::process::Command::new("mkfifo")
        .arg(&policy)
        .status()
        .unwrap();
    assert!(mk.success(), "mkfifo");
    let fifo = policy.clone();
    std::thread::spawn(move || {
        use std::os::unix::fs::OpenOptionsExt;
        let open = |flags| {
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(flags)
                .open(&fifo)
        };
        // The first reader (opening waits for it) gets the signed bytes.
        if let Ok(mut w) = open(0) {
            let _ = std::io::Write::write_all(&mut w, &signed);
        }
        // Until it has closed the pipe, a non-blocking open succeeds (a reader is there) and
        // is closed at once with nothing written: a second reader in this window reads an
        // empty policy. ENXIO says no reader has it open any more.
        loop {
            match open(libc::O_NONBLOCK) {
                Ok(w) => drop(w),
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => break,
                Err(_) => return,
            }
            std::thread::yield_now();
        }
        // Every later reader gets the rewrite; the thread is left waiting in the next open
        // when the gate is done (the test process ends with it).
        while let Ok(mut w) = open(0) {
            let _ = std::io::Write::write_all(&mut w, rewritten.as_bytes());
        }
    });
    let r = gate();
    assert!(
        r["result"].is_object(),
        "the gate must verify and obey the one read it made: {r}"
    );
}
