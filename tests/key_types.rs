//! Issue 12, key types: ECDSA P-256 / P-384, RSA and Ed25519 keys and cosign-format keys, both
//! ways against independent peers (installed by scripts/install-peers.sh):
//!
//! - PyPI `cryptography` (OpenSSL) signs files as cosign's key-based bundles do
//!   (scripts/interop/crypto-sign-blob.py); `mcpseal verify --key` must accept them and refuse
//!   them with another key, over another file, or with the signature of other bytes.
//! - `mcpseal sign` with those keys (and with real cosign-format keys) writes bundles that
//!   PyPI `securesystemslib` and npm `@sigstore/verify` accept, and refuse once tampered.

mod common;

use std::path::{Path, PathBuf};

use common::{mcpseal, run};
use mcpseal::keys::{Hash, PrivateKey, Scheme, Signer};

const KINDS: [&str; 4] = ["p256", "p384", "rsa2048", "ed25519"];

fn python() -> Option<PathBuf> {
    common::venv_bin("python")
}

fn script(name: &str) -> String {
    common::root()
        .join("scripts/interop")
        .join(name)
        .display()
        .to_string()
}

/// A folder with `a.txt` and, per key kind, the peer's keys and bundles over it.
fn peer_signed(py: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.txt"), "release bytes\n").unwrap();
    for kind in KINDS {
        std::fs::create_dir(t.path().join(kind)).unwrap();
        let (code, out, err) = run(std::process::Command::new(py).current_dir(t.path()).args([
            &script("crypto-sign-blob.py"),
            kind,
            kind,
            "a.txt",
        ]));
        assert_eq!(code, 0, "crypto-sign-blob {kind}: {out}{err}");
    }
    t
}

fn verify(dir: &Path, artifact: &str, bundle: &str, key: &str) -> (i32, String) {
    let (code, out, err) = run(mcpseal()
        .current_dir(dir)
        .args(["verify", artifact, "--bundle", bundle, "--key", key]));
    (code, format!("{out}{err}"))
}

#[test]
fn bundles_signed_by_openssl_through_cryptography_verify_and_must_fail_otherwise() {
    let Some(py) = python() else { return };
    let t = peer_signed(&py);
    let d = t.path();
    std::fs::write(d.join("b.txt"), "other bytes\n").unwrap();
    for kind in KINDS {
        for bundle in ["msg", "dsse"] {
            let b = format!("{kind}/{bundle}.sigstore.json");
            for key in ["key.pub", "key.der"] {
                let (code, out) = verify(d, "a.txt", &b, &format!("{kind}/{key}"));
                assert_eq!(code, 0, "{b} with {key}: {out}");
                assert!(out.contains("verified by the key alone"), "{out}");
            }
            // Over another file.
            let (code, out) = verify(d, "b.txt", &b, &format!("{kind}/key.pub"));
            assert_eq!(code, 1, "{b} over b.txt: {out}");
            assert!(out.contains("digest-mismatch"), "{out}");
            // With another key: every other kind's (wrong key type, wrong curve).
            for other in KINDS.iter().filter(|o| **o != kind) {
                let (code, out) = verify(d, "a.txt", &b, &format!("{other}/key.pub"));
                assert_eq!(code, 1, "{b} with the {other} key: {out}");
                assert!(out.contains("wrong-key"), "{out}");
            }
        }
        // The signature of other bytes (the DSSE one, over the PAE) in the message bundle,
        // the hint kept: the key is right, the signature is not over this file.
        let read = |p: &str| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(d.join(kind).join(p)).unwrap()).unwrap()
        };
        let mut msg = read("msg.sigstore.json");
        let dsse = read("dsse.sigstore.json");
        msg["messageSignature"]["signature"] = dsse["dsseEnvelope"]["signatures"][0]["sig"].clone();
        std::fs::write(d.join(kind).join("swapped.json"), msg.to_string()).unwrap();
        let (code, out) = verify(
            d,
            "a.txt",
            &format!("{kind}/swapped.json"),
            &format!("{kind}/key.pub"),
        );
        assert_eq!(code, 1, "{kind} swapped signature: {out}");
        assert!(out.contains("bad-signature"), "{out}");
    }
}

#[test]
fn rsa_pss_and_pkcs1_signatures_are_not_confused() {
    let Some(py) = python() else { return };
    let t = peer_signed(&py);
    let d = t.path().join("rsa2048");
    let key = mcpseal::keys::PublicKey::from_spki_pem(&std::fs::read(d.join("key.pub")).unwrap())
        .unwrap();
    let msg = std::fs::read(t.path().join("a.txt")).unwrap();
    let pss = std::fs::read(d.join("pss.sig")).unwrap();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("msg.sigstore.json")).unwrap()).unwrap();
    use base64::Engine;
    let pkcs1 = base64::engine::general_purpose::STANDARD
        .decode(bundle["messageSignature"]["signature"].as_str().unwrap())
        .unwrap();
    key.verify_with(Scheme::RsaPss(Hash::Sha256), &msg, &pss)
        .unwrap();
    key.verify_with(Scheme::RsaPkcs1(Hash::Sha256), &msg, &pkcs1)
        .unwrap();
    assert_eq!(
        key.verify(&msg, &pkcs1),
        Ok(()),
        "PKCS#1 v1.5 is the default, as in cosign"
    );
    for (scheme, sig) in [
        (Scheme::RsaPkcs1(Hash::Sha256), &pss),
        (Scheme::RsaPss(Hash::Sha256), &pkcs1),
        (Scheme::RsaPss(Hash::Sha384), &pss),
    ] {
        let e = key.verify_with(scheme, &msg, sig).unwrap_err();
        assert_eq!(e.code(), "bad-signature", "{scheme}");
    }
    // Through the CLI, a PSS signature in a message bundle is refused (cosign's RSA scheme is
    // PKCS#1 v1.5), never accepted by trying both.
    let mut b = bundle.clone();
    b["messageSignature"]["signature"] = base64::engine::general_purpose::STANDARD
        .encode(&pss)
        .into();
    std::fs::write(d.join("pss.json"), b.to_string()).unwrap();
    let (code, out) = verify(t.path(), "a.txt", "rsa2048/pss.json", "rsa2048/key.pub");
    assert_eq!(code, 1, "{out}");
}

/// The peers that check an mcpseal bundle: (name, command) for BUNDLE KEY ARTIFACT.
fn peers(py: &Path) -> Vec<(&'static str, std::process::Command)> {
    let mut out = Vec::new();
    let mut c = std::process::Command::new(py);
    c.arg(script("securesystemslib-verify.py"));
    out.push(("securesystemslib", c));
    if let Some(m) = common::node_module("@sigstore/verify/package.json") {
        let modules = m
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_owned();
        let mut c = std::process::Command::new("node");
        c.env("NODE_PATH", modules)
            .arg(script("sigstore-verify.js"));
        out.push(("@sigstore/verify", c));
    }
    out
}

fn peer_check(py: &Path, dir: &Path, bundle: &str, key: &str, want_ok: bool, what: &str) {
    for (name, mut cmd) in peers(py) {
        let (code, out, err) = run(cmd.current_dir(dir).args([bundle, key, "a.txt"]));
        assert_eq!(code == 0, want_ok, "{name} on {what}: {out}{err}");
    }
}

/// Flips one byte of a bundle's DSSE payload.
fn tamper(dir: &Path, bundle: &str, out: &str) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(bundle)).unwrap()).unwrap();
    let mut p = b64
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let i = p.len() - 3;
    p[i] ^= 1;
    b["dsseEnvelope"]["payload"] = b64.encode(p).into();
    std::fs::write(dir.join(out), b.to_string()).unwrap();
}

#[test]
fn mcpseal_signatures_with_every_key_type_verify_with_securesystemslib_and_sigstore_js() {
    let Some(py) = python() else { return };
    let t = peer_signed(&py);
    let d = t.path();
    for kind in KINDS {
        let bundle = format!("{kind}/mcpseal.json");
        let (code, out, err) = run(mcpseal().current_dir(d).args([
            "sign",
            "a.txt",
            "--key",
            &format!("{kind}/key.pem"),
            "--output",
            &bundle,
        ]));
        assert_eq!(code, 0, "sign with {kind}: {out}{err}");
        let key = format!("{kind}/key.pub");
        assert_eq!(verify(d, "a.txt", &bundle, &key).0, 0);
        if kind == "p384" {
            // @sigstore/verify 2.1 checks every ECDSA key with SHA-256; cosign and mcpseal sign
            // P-384 with SHA-384 (Sigstore's PKIX_ECDSA_P384_SHA_384), so only securesystemslib
            // is asked here.
            let (code, out, err) = run(std::process::Command::new(&py).current_dir(d).args([
                &script("securesystemslib-verify.py"),
                &bundle,
                &key,
                "a.txt",
            ]));
            assert_eq!(code, 0, "securesystemslib on {bundle}: {out}{err}");
        } else {
            peer_check(&py, d, &bundle, &key, true, &bundle);
        }
        tamper(d, &bundle, &format!("{kind}/tampered.json"));
        peer_check(
            &py,
            d,
            &format!("{kind}/tampered.json"),
            &key,
            false,
            "a tampered payload",
        );
    }
}

#[test]
fn cosign_format_keys_sign_and_peers_verify() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("a.txt"), "release bytes\n").unwrap();
    let vectors = common::root().join("testdata/keys/cosign");
    for (file, pass) in [
        ("cosign-sigstore-label.key", Some("hello")),
        ("cosign-legacy-label.key", Some("hello")),
        ("rs-ecdsa-encrypted.key", Some("123")),
        ("rs-rsa-encrypted.key", Some("123")),
        ("rs-ed25519-encrypted.key", Some("123")),
        // Made by `cosign generate-key-pair` with an empty passphrase: opens without one.
        ("rs-cosign-empty-passphrase.key", None),
    ] {
        let pem = std::fs::read(vectors.join(file)).unwrap();
        let public = PrivateKey::from_pem(&pem, Some(pass.unwrap_or("").as_bytes()))
            .unwrap()
            .public_key();
        std::fs::write(d.join("k.pub"), public.to_pem()).unwrap();
        let mut c = mcpseal();
        c.current_dir(d).env_remove("MCPSEAL_PASSWORD").args([
            "sign",
            "a.txt",
            "--key",
            &vectors.join(file).display().to_string(),
            "--output",
            "b.json",
        ]);
        if let Some(p) = pass {
            c.env("MCPSEAL_PASSWORD", p);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "sign with {file}: {out}{err}");
        assert_eq!(verify(d, "a.txt", "b.json", "k.pub").0, 0, "{file}");
        peer_check(&py, d, "b.json", "k.pub", true, file);
        if pass.is_some() {
            let (code, out, err) = run(mcpseal()
                .current_dir(d)
                .env("MCPSEAL_PASSWORD", "not-it")
                .args([
                    "sign",
                    "a.txt",
                    "--key",
                    &vectors.join(file).display().to_string(),
                    "--output",
                    "c.json",
                ]));
            assert_eq!(code, 2, "{file}: {out}{err}");
            assert!(err.contains("key-wrong-passphrase"), "{file}: {err}");
            assert!(!d.join("c.json").exists());
        }
    }
}

#[test]
fn a_cosign_key_with_a_tampered_box_is_a_wrong_passphrase_and_signs_nothing() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("a.txt"), "release bytes\n").unwrap();
    let pem = std::fs::read_to_string(
        common::root().join("testdata/keys/cosign/cosign-sigstore-label.key"),
    )
    .unwrap();
    // One byte of the secretbox ciphertext flipped, the rest of the file as cosign wrote it.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut v: serde_json::Value = serde_json::from_slice(&b64.decode(body).unwrap()).unwrap();
    let mut ct = b64.decode(v["ciphertext"].as_str().unwrap()).unwrap();
    ct[20] ^= 0x40;
    v["ciphertext"] = b64.encode(ct).into();
    let enc = b64.encode(v.to_string());
    let mut out = String::from("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    for chunk in enc.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
    std::fs::write(d.join("t.key"), out).unwrap();
    let (code, out, err) = run(mcpseal()
        .current_dir(d)
        .env("MCPSEAL_PASSWORD", "hello")
        .args([
            "--json", "sign", "a.txt", "--key", "t.key", "--output", "o.json",
        ]));
    assert_eq!(code, 2, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("key-wrong-passphrase"), "{all}");
    assert!(all.contains("t.key"), "the error names the file: {all}");
    assert!(!d.join("o.json").exists());
}

#[test]
fn the_signer_trait_signs_what_the_public_key_verifies_for_every_type() {
    let vectors = common::root().join("testdata/keys/cosign");
    let rsa = PrivateKey::from_pem(
        &std::fs::read(vectors.join("rs-rsa-encrypted.key")).unwrap(),
        Some(b"123"),
    )
    .unwrap();
    let signers: Vec<Box<dyn Signer>> = vec![
        Box::new(mcpseal::keys::generate().unwrap()),
        Box::new(PrivateKey::generate_p256().unwrap()),
        Box::new(rsa),
    ];
    for s in &signers {
        let sig = s.sign(b"payload").unwrap();
        s.public_key()
            .verify_with(s.algorithm(), b"payload", &sig)
            .unwrap();
        assert!(s.public_key().verify(b"payloaD", &sig).is_err());
    }
}

/// Debian's /usr/bin/python3 with python3-nacl (libsodium) and python3-cryptography.
fn nacl_python() -> Option<PathBuf> {
    common::require(
        "Debian python3-nacl (apt-get install python3-nacl)",
        PathBuf::from("/usr/lib/python3/dist-packages/nacl/secret.py"),
    )?;
    Some(PathBuf::from("/usr/bin/python3"))
}

fn cosign_key_py(py: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let (code, out, err) = run(std::process::Command::new(py)
        .current_dir(dir)
        .arg(script("cosign-key.py"))
        .args(args));
    if code != 0 {
        return (code, format!("{out}{err}"));
    }
    (code, out)
}

/// cosign-format keys against an independent secretbox (libsodium) and scrypt (OpenSSL):
/// what `mcpseal key generate --cosign` writes opens there (and not with another passphrase);
/// what libsodium seals, mcpseal signs with; the real vectors open to the same public key in
/// both.
#[test]
fn cosign_format_keys_interoperate_with_libsodium() {
    let Some(npy) = nacl_python() else { return };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("a.txt"), "release bytes\n").unwrap();
    let (code, out, err) = run(mcpseal()
        .current_dir(d)
        .env("MCPSEAL_PASSWORD", "pw")
        .args(["--json", "key", "generate", "--cosign", "--name", "c"]));
    assert_eq!(code, 0, "{out}{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["keyType"], "ECDSA P-256");
    assert_eq!(j["format"], "cosign");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("c.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (code, public) = cosign_key_py(&npy, d, &["open", "c.key", "pw"]);
    assert_eq!(code, 0, "{public}");
    assert_eq!(public, std::fs::read_to_string(d.join("c.pub")).unwrap());
    let (code, out) = cosign_key_py(&npy, d, &["open", "c.key", "pW"]);
    assert_eq!(
        code, 1,
        "libsodium must not open it with another passphrase: {out}"
    );

    // A P-256 PKCS#8 key sealed by libsodium: mcpseal signs with it.
    let (code, out, err) = run(std::process::Command::new("openssl").current_dir(d).args([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "p.pem",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, sealed) = cosign_key_py(&npy, d, &["seal", "p.pem", "sekrit"]);
    assert_eq!(code, 0, "{sealed}");
    std::fs::write(d.join("sealed.key"), sealed).unwrap();
    let (code, public) = cosign_key_py(&npy, d, &["open", "sealed.key", "sekrit"]);
    assert_eq!(code, 0);
    std::fs::write(d.join("sealed.pub"), public).unwrap();
    let sign = |pass: &str| {
        run(mcpseal()
            .current_dir(d)
            .env("MCPSEAL_PASSWORD", pass)
            .args(["sign", "a.txt", "--key", "sealed.key", "--output", "s.json"]))
    };
    let (code, _, err) = sign("wrong");
    assert_eq!(code, 2);
    assert!(err.contains("key-wrong-passphrase"), "{err}");
    let (code, out, err) = sign("sekrit");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(verify(d, "a.txt", "s.json", "sealed.pub").0, 0);

    // The real vectors: libsodium and mcpseal find the same public key. (sigstore-rs' Ed25519
    // vector holds PKCS#8 v2, which Debian's OpenSSL 3.0 cannot read: mcpseal reads it.)
    let vectors = common::root().join("testdata/keys/cosign");
    for (file, pass) in [
        ("cosign-sigstore-label.key", "hello"),
        ("cosign-legacy-label.key", "hello"),
        ("rs-ecdsa-encrypted.key", "123"),
        ("rs-rsa-encrypted.key", "123"),
        ("rs-cosign-empty-passphrase.key", ""),
    ] {
        let path = vectors.join(file).display().to_string();
        let (code, theirs) = cosign_key_py(&npy, d, &["open", &path, pass]);
        assert_eq!(code, 0, "{file}: {theirs}");
        let ours = PrivateKey::from_pem(
            &std::fs::read(vectors.join(file)).unwrap(),
            Some(pass.as_bytes()),
        )
        .unwrap()
        .public_key();
        assert_eq!(
            mcpseal::keys::PublicKey::from_spki_pem(theirs.as_bytes()).unwrap(),
            ours,
            "{file}"
        );
    }
}

/// sigstore-go's key-signed message bundle (a P-256 key, an RFC 3161 timestamp, no log entry):
/// verified by the key, its timestamp reported as not checked; another key or file says no.
#[test]
fn sigstore_go_key_signed_bundle_verifies_by_its_key_only() {
    let d = common::root().join("testdata/vectors/sigstore-go");
    let (code, out) = {
        let (c, o, e) = run(mcpseal().current_dir(&d).args([
            "--json",
            "verify",
            "public-key-validity.artifact",
            "--bundle",
            "public-key-validity.sigstore.json",
            "--key",
            "public-key-validity.pem",
        ]));
        (c, format!("{o}{e}"))
    };
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["transparencyLog"], false);
    assert_eq!(j["timestampsUnchecked"], true);
    assert_eq!(j["content"], "message-signature");
    let (code, out) = verify(
        &d,
        "public-key-validity.artifact",
        "public-key-validity.sigstore.json",
        &common::root()
            .join("testdata/keys/cosign/cosign-ci.pub")
            .display()
            .to_string(),
    );
    assert_eq!(code, 1, "{out}");
    let (code, out) = verify(
        &d,
        "README.md",
        "public-key-validity.sigstore.json",
        "public-key-validity.pem",
    );
    assert_eq!(code, 1, "{out}");
}

/// Media types v0.1 and v0.2 read as v0.3 for key-based bundles; an unknown version is refused.
#[test]
fn bundle_media_types_v01_to_v03_and_no_other() {
    let Some(py) = python() else { return };
    let t = peer_signed(&py);
    let d = t.path();
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("p256/msg.sigstore.json")).unwrap()).unwrap();
    for (media, want) in [
        ("application/vnd.dev.sigstore.bundle+json;version=0.1", 0),
        ("application/vnd.dev.sigstore.bundle+json;version=0.2", 0),
        ("application/vnd.dev.sigstore.bundle+json;version=0.3", 0),
        ("application/vnd.dev.sigstore.bundle.v0.4+json", 1),
        ("application/json", 1),
    ] {
        b["mediaType"] = media.into();
        std::fs::write(d.join("m.json"), b.to_string()).unwrap();
        let (code, out) = verify(d, "a.txt", "m.json", "p256/key.pub");
        assert_eq!(code, want, "{media}: {out}");
    }
}
