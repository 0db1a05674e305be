//! Keys interoperate with OpenSSL both ways, are written 0600, and are never overwritten
//! without --force.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{mcpseal, run};

fn openssl() -> Option<std::path::PathBuf> {
    common::system_bin("openssl")
}

#[test]
fn openssl_reads_both_private_forms_and_the_public_key() {
    let Some(ossl) = openssl() else { return };
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = run(mcpseal().current_dir(t.path()).args([
        "key",
        "generate",
        "--name",
        "plain",
        "--no-password",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(mcpseal()
        .current_dir(t.path())
        .env("MCPSEAL_PASSWORD", "correct horse")
        .args(["key", "generate", "--name", "enc"]));
    assert_eq!(code, 0, "{err}");
    let enc = std::fs::read_to_string(t.path().join("enc.key")).unwrap();
    assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    for (file, pass) in [("plain.key", None), ("enc.key", Some("pass:correct horse"))] {
        let mut c = Command::new(&ossl);
        c.current_dir(t.path())
            .args(["pkey", "-in", file, "-noout", "-text"]);
        if let Some(p) = pass {
            c.args(["-passin", p]);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "openssl pkey {file}: {err}");
        assert!(out.contains("ED25519 Private-Key"), "{out}");
    }
    let (code, _, err) = run(Command::new(&ossl).current_dir(t.path()).args([
        "pkey",
        "-in",
        "enc.key",
        "-passin",
        "pass:wrong",
        "-noout",
    ]));
    assert_ne!(code, 0, "openssl must refuse a wrong passphrase: {err}");
    let (code, out, _) = run(Command::new(&ossl).current_dir(t.path()).args([
        "pkey",
        "-pubin",
        "-in",
        "plain.pub",
        "-noout",
        "-text",
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("ED25519 Public-Key"));
    // The key id is base64 SHA-256 of the DER SPKI: recompute it with OpenSSL.
    let (_, der_b64, _) = run(Command::new("sh").current_dir(t.path()).args([
        "-c",
        &format!(
            "{} pkey -pubin -in plain.pub -outform DER | {} dgst -sha256 -binary | base64",
            ossl.display(),
            ossl.display()
        ),
    ]));
    let (_, id, _) = run(mcpseal()
        .current_dir(t.path())
        .args(["key", "id", "plain.pub"]));
    assert_eq!(id.trim(), der_b64.trim());
}

#[test]
fn mcpseal_reads_keys_openssl_made_and_signs_with_them() {
    let Some(ossl) = openssl() else { return };
    let t = tempfile::tempdir().unwrap();
    let sh = |cmd: &str| {
        let (code, _, err) = run(Command::new("sh")
            .current_dir(t.path())
            .args(["-c", &cmd.replace("openssl", &ossl.display().to_string())]));
        assert_eq!(code, 0, "{cmd}: {err}");
    };
    sh("openssl genpkey -algorithm ed25519 -out o.key");
    sh("openssl pkey -in o.key -pubout -out o.pub");
    sh("openssl pkcs8 -topk8 -in o.key -v2 aes-256-cbc -passout pass:pw -out o-pbkdf2.key");
    sh("openssl pkcs8 -topk8 -in o.key -scrypt -passout pass:pw -out o-scrypt.key");
    std::fs::write(t.path().join("a.txt"), "artifact").unwrap();
    for (key, pw) in [
        ("o.key", None),
        ("o-pbkdf2.key", Some("pw")),
        ("o-scrypt.key", Some("pw")),
    ] {
        let mut c = mcpseal();
        c.current_dir(t.path())
            .args(["sign", "a.txt", "--key", key, "--output", "a.bundle"]);
        if let Some(p) = pw {
            c.env("MCPSEAL_PASSWORD", p);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "sign with {key}: {out}{err}");
        let (code, out, err) = run(mcpseal()
            .current_dir(t.path())
            .args(["verify", "a.txt", "--bundle", "a.bundle", "--key", "o.pub"]));
        assert_eq!(code, 0, "verify after signing with {key}: {out}{err}");
    }
    // OpenSSL's P-256 and RSA keys sign too, and verify with their own public key only.
    sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key");
    sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key");
    sh("openssl pkey -in p256.key -pubout -out p256.pub");
    sh("openssl pkey -in rsa.key -pubout -out rsa.pub");
    for (key, public) in [("p256.key", "p256.pub"), ("rsa.key", "rsa.pub")] {
        let (code, out, err) = run(mcpseal()
            .current_dir(t.path())
            .args(["sign", "a.txt", "--key", key, "--output", "x.bundle"]));
        assert_eq!(code, 0, "sign with {key}: {out}{err}");
        let (code, out, err) = run(mcpseal()
            .current_dir(t.path())
            .args(["verify", "a.txt", "--bundle", "x.bundle", "--key", public]));
        assert_eq!(code, 0, "verify with {public}: {out}{err}");
    }
    // An Ed25519-signed bundle checked with the P-256 key: another signer.
    let (code, _, err) = run(mcpseal().current_dir(t.path()).args([
        "verify", "a.txt", "--bundle", "a.bundle", "--key", "p256.pub",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("wrong-key"), "{err}");
}

#[test]
fn key_files_are_0600_and_never_overwritten_without_force() {
    let t = tempfile::tempdir().unwrap();
    let generate = |extra: &[&str]| {
        run(mcpseal()
            .current_dir(t.path())
            .args(["key", "generate", "--name", "k", "--no-password"])
            .args(extra))
    };
    assert_eq!(generate(&[]).0, 0);
    let mode = std::fs::metadata(t.path().join("k.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(t.path().join("k.key")).unwrap();
    let (code, _, err) = generate(&[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("key-exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(before, std::fs::read(t.path().join("k.key")).unwrap());
    assert_eq!(generate(&["--force"]).0, 0);
    assert_ne!(before, std::fs::read(t.path().join("k.key")).unwrap());
    assert_eq!(
        std::fs::metadata(t.path().join("k.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn no_passphrase_source_without_a_terminal_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = run(mcpseal()
        .current_dir(t.path())
        .args(["key", "generate", "--name", "k"])
        .stdin(std::process::Stdio::null()));
    assert_eq!(code, 2);
    assert!(
        err.contains("no-password-source") && err.contains("MCPSEAL_PASSWORD"),
        "{err}"
    );
    assert!(!t.path().join("k.key").exists());
}

#[test]
fn signing_key_from_the_environment_for_ci() {
    let t = tempfile::tempdir().unwrap();
    assert_eq!(
        run(mcpseal()
            .current_dir(t.path())
            .args(["key", "generate", "--name", "ci"])
            .env("MCPSEAL_PASSWORD", "s3cret"))
        .0,
        0
    );
    let pem = std::fs::read_to_string(t.path().join("ci.key")).unwrap();
    std::fs::write(t.path().join("a.txt"), "x").unwrap();
    let (code, out, err) = run(mcpseal()
        .current_dir(t.path())
        .args(["sign", "a.txt"])
        .env("MCPSEAL_PRIVATE_KEY", &pem)
        .env("MCPSEAL_PASSWORD", "s3cret"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("PRIVATE") && !err.contains("PRIVATE") && !out.contains("s3cret"));
    let (code, _, err) = run(mcpseal()
        .current_dir(t.path())
        .args(["sign", "a.txt"])
        .env("MCPSEAL_PRIVATE_KEY", &pem)
        .env("MCPSEAL_PASSWORD", "wrong"));
    assert_eq!(code, 2);
    assert!(
        err.contains("key-wrong-passphrase") && !err.contains("wrong\""),
        "{err}"
    );
}
