//! MCP bundles: `mcpseal verify X.mcpb` and `mcpseal sign X.mcpb --cert --key`, against the
//! real reference CLI (`@anthropic-ai/mcpb` 2.1.2, installed by scripts/install-peers.sh) and
//! Debian's `openssl` (certificate authorities, and `openssl cms -verify` as the independent
//! verifier of what mcpseal signs). Recorded vectors in `testdata/mcpb/` (see its README).
//!
//! Every refusal below is one edit of a real signed bundle, named after the attack it stands
//! for, and must come back with its own reason code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn mcpb_bin() -> Option<PathBuf> {
    let peers = std::env::var_os("MCPSEAL_PEERS")
        .map_or_else(|| common::root().join("target/peers"), PathBuf::from);
    common::require("mcpb", peers.join("mcpb/node_modules/.bin/mcpb"))
}

fn sh(cmd: &mut Command) -> (i32, String, String) {
    common::run(cmd)
}

fn ok(cmd: &mut Command) -> String {
    let (code, out, err) = sh(cmd);
    assert_eq!(code, 0, "{cmd:?}: {out}\n{err}");
    out
}

/// `mcpseal --json verify ARGS…` in `dir`: (exit, JSON).
fn verify(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = common::run(
        common::mcpseal()
            .current_dir(dir)
            .arg("--json")
            .arg("verify")
            .args(args),
    );
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
    (code, v)
}

fn refused(dir: &Path, args: &[&str], reason: &str) {
    let (code, v) = verify(dir, args);
    assert_eq!(code, 1, "{args:?}: {v}");
    assert_eq!(v["reason"], reason, "{args:?}: {v}");
    assert!(v["help"].as_str().is_some_and(|h| !h.is_empty()), "{v}");
}

/// A test CA made with openssl: RSA root, RSA intermediate, and leaves as asked.
struct Ca {
    dir: PathBuf,
}

impl Ca {
    fn new(dir: &Path) -> Option<Ca> {
        common::system_bin("openssl")?;
        let ca = Ca {
            dir: dir.to_path_buf(),
        };
        ca.self_signed("root", "Test Root CA", "RSA");
        ca.issue(
            "inter",
            "Test Intermediate",
            "root",
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n",
            "rsa:2048",
        );
        ca.issue("leaf", "Example Publisher", "inter", LEAF_EXT, "rsa:2048");
        Some(ca)
    }

    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn self_signed(&self, name: &str, cn: &str, _alg: &str) {
        ok(Command::new("openssl")
            .current_dir(&self.dir)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            ])
            .args([
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ])
            .args(["-subj", &format!("/CN={cn}")])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign"]));
    }

    /// Issues `name` signed by `issuer` with extensions `ext` and key `newkey` (openssl req form).
    fn issue(&self, name: &str, cn: &str, issuer: &str, ext: &str, newkey: &str) {
        let extfile = self.dir.join(format!("{name}.ext"));
        std::fs::write(&extfile, ext).unwrap();
        let mut req = Command::new("openssl");
        req.current_dir(&self.dir)
            .args(["req", "-nodes", "-subj", &format!("/CN={cn}")]);
        if let Some(curve) = newkey.strip_prefix("ec:") {
            req.args([
                "-newkey",
                "ec",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{curve}"),
            ]);
        } else {
            req.args(["-newkey", newkey]);
        }
        ok(req.args([
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ]));
        ok(Command::new("openssl")
            .current_dir(&self.dir)
            .args([
                "x509",
                "-req",
                "-days",
                "3650",
                "-in",
                &format!("{name}.csr"),
            ])
            .args([
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
            ])
            .args(["-CAcreateserial", "-out", &format!("{name}.pem")])
            .args(["-extfile", &extfile.display().to_string()]));
    }
}

const LEAF_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n";

/// `mcpb pack testdata/mcpb/hello OUT` with the real peer.
fn pack(mcpb: &Path, out: &Path) {
    let src = common::root().join("testdata/mcpb/hello");
    ok(Command::new(mcpb).arg("pack").arg(&src).arg(out));
}

/// The PKCS#7 DER and the signed content of a signed bundle, cut as the format says.
fn split(bundle: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let footer = bundle.len() - 12;
    assert_eq!(&bundle[footer..], b"MCPB_SIG_END");
    let h = (0..footer)
        .rev()
        .find(|&i| bundle[i..].starts_with(b"MCPB_SIG_V1"))
        .unwrap();
    let n = u32::from_le_bytes(bundle[h + 11..h + 15].try_into().unwrap()) as usize;
    assert_eq!(h + 15 + n, footer);
    (bundle[h + 15..footer].to_vec(), bundle[..h].to_vec())
}

/// `openssl cms -verify` of a signed bundle's block over its content, with `-CAfile roots`.
fn openssl_verifies(dir: &Path, bundle: &Path, roots: &str) -> (bool, String) {
    let bytes = std::fs::read(bundle).unwrap();
    let (der, content) = split(&bytes);
    std::fs::write(dir.join("block.der"), der).unwrap();
    std::fs::write(dir.join("content.bin"), content).unwrap();
    let (code, out, err) = sh(Command::new("openssl")
        .current_dir(dir)
        .args([
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            "block.der",
            "-binary",
        ])
        .args([
            "-content",
            "content.bin",
            "-CAfile",
            roots,
            "-purpose",
            "any",
        ])
        .args(["-out", "/dev/null"]));
    (code == 0, format!("{out}{err}"))
}

#[test]
fn reference_signer_self_signed_bundle_verifies_only_when_allowed() {
    let Some(mcpb) = mcpb_bin() else { return };
    let t = tempfile::tempdir().unwrap();
    let b = t.path().join("hello.mcpb");
    pack(&mcpb, &b);
    ok(Command::new(&mcpb).arg("sign").arg(&b).arg("--self-signed"));
    // Without a trust decision a self-signed signer is refused, and the help says how to pin it.
    refused(t.path(), &["hello.mcpb"], "mcpb-self-signed");
    let (code, v) = verify(t.path(), &["hello.mcpb", "--allow-self-signed"]);
    assert_eq!(code, 0, "{v}");
    let got = &v["bundles"][0];
    assert_eq!(got["signer"]["selfSigned"], true);
    assert!(
        got["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("MCPB Self-Signed Certificate")
    );
    // The content digest is the digest of exactly the ZIP that `mcpb pack` wrote.
    let bytes = std::fs::read(&b).unwrap();
    let (_, content) = split(&bytes);
    let want = format!("sha256:{}", mcpseal::digest::Digest::of(&content).hex());
    assert_eq!(got["contentDigest"], want.as_str());
    // Pinning the signer by fingerprint: the right one passes, another is refused.
    let fp = got["signer"]["fingerprint"].as_str().unwrap().to_owned();
    let (code, v) = verify(
        t.path(),
        &["hello.mcpb", "--allow-self-signed", "--signer", &fp],
    );
    assert_eq!(code, 0, "{v}");
    let other = format!("sha256:{}", "0".repeat(64));
    refused(
        t.path(),
        &["hello.mcpb", "--allow-self-signed", "--signer", &other],
        "mcpb-signer-mismatch",
    );
}

#[test]
fn reference_signer_with_an_openssl_ca_chain_verifies_against_that_root_only() {
    let Some(mcpb) = mcpb_bin() else { return };
    let t = tempfile::tempdir().unwrap();
    let Some(ca) = Ca::new(t.path()) else { return };
    let b = t.path().join("hello.mcpb");
    pack(&mcpb, &b);
    ok(Command::new(&mcpb).arg("sign").arg(&b).args([
        "-c",
        &ca.p("leaf.pem"),
        "-k",
        &ca.p("leaf.key"),
        "-i",
        &ca.p("inter.pem"),
    ]));
    let (code, v) = verify(t.path(), &["hello.mcpb", "--ca", "root.pem"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["bundles"][0]["signer"]["issuer"], "CN=Test Intermediate");
    // Another root (the intermediate's issuer is not it) is refused.
    let other = tempfile::tempdir().unwrap();
    Ca::new(other.path()).unwrap();
    std::fs::copy(
        other.path().join("root.pem"),
        t.path().join("other-root.pem"),
    )
    .unwrap();
    refused(
        t.path(),
        &["hello.mcpb", "--ca", "other-root.pem"],
        "mcpb-untrusted-chain",
    );
    // The system's roots do not know this CA either.
    refused(t.path(), &["hello.mcpb"], "mcpb-untrusted-chain");
    // openssl agrees that the block is good.
    let (good, why) = openssl_verifies(t.path(), &b, "root.pem");
    assert!(good, "{why}");
}

#[test]
fn recorded_reference_bundles_verify_as_their_readme_says() {
    let dir = common::root().join("testdata/mcpb");
    let (code, v) = verify(
        &dir,
        &["mcpb-2.1.2-self-signed.mcpb", "--allow-self-signed"],
    );
    assert_eq!(code, 0, "{v}");
    // mcpb 2.1.2 re-encodes every certificate it embeds with node-forge; an intermediate
    // issued by an ECDSA root comes out with other bytes than its issuer signed, so its
    // chain cannot verify (openssl says the same: see testdata/mcpb/README.md).
    refused(
        &dir,
        &[
            "mcpb-2.1.2-ecdsa-issued-chain.mcpb",
            "--ca",
            "ecdsa-root.pem",
        ],
        "mcpb-untrusted-chain",
    );
}

#[test]
fn mcpseal_signed_bundles_verify_with_openssl_and_mcpseal_and_mcpb_says_unsigned() {
    let Some(mcpb) = mcpb_bin() else { return };
    let t = tempfile::tempdir().unwrap();
    let Some(ca) = Ca::new(t.path()) else { return };
    ca.issue("ecleaf", "EC Publisher", "inter", LEAF_EXT, "ec:P-256");
    ca.issue("ec384", "EC384 Publisher", "inter", LEAF_EXT, "ec:P-384");
    for (leaf, name) in [("leaf", "rsa.mcpb"), ("ecleaf", "p256.mcpb")] {
        let b = t.path().join(name);
        pack(&mcpb, &b);
        let unsigned = std::fs::read(&b).unwrap();
        let (code, out, err) = common::run(
            common::mcpseal()
                .current_dir(t.path())
                .args(["sign", name, "--cert", &format!("{leaf}.pem"), "--key"])
                .arg(format!("{leaf}.key"))
                .args(["--intermediate", "inter.pem"]),
        );
        assert_eq!(code, 0, "{out}{err}");
        let signed = std::fs::read(&b).unwrap();
        assert_eq!(
            &signed[..unsigned.len()],
            unsigned.as_slice(),
            "the ZIP is left as it was"
        );
        let (good, why) = openssl_verifies(t.path(), &b, "root.pem");
        assert!(good, "{name}: openssl cms -verify: {why}");
        let (code, v) = verify(t.path(), &[name, "--ca", "root.pem"]);
        assert_eq!(code, 0, "{name}: {v}");
        // What the reference CLI says about it, recorded (docs/channels.md): its PKCS#7 check
        // is node-forge's `verify()`, which throws "not yet implemented", so every signed
        // RSA bundle is "not signed" to it, its own included; an ECDSA signer it cannot read.
        let (code, out, err) = sh(Command::new(&mcpb).arg("verify").arg(&b));
        assert_eq!(code, 1, "{out}{err}");
        let said = format!("{out}{err}");
        let expected = if leaf == "leaf" {
            "Extension is not signed"
        } else {
            "OID is not RSA"
        };
        assert!(said.contains(expected), "{name}: {said}");
        // Signing twice is refused: a second block would make the first one unsigned content.
        let (code, _, err) = common::run(
            common::mcpseal()
                .current_dir(t.path())
                .args(["sign", name, "--cert", &format!("{leaf}.pem"), "--key"])
                .arg(format!("{leaf}.key")),
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("already signed"), "{err}");
    }
    // A P-384 signer: mcpseal refuses to sign with it (by name), and verifies what openssl
    // signs with it (ecdsa-with-SHA256, as CMS hashes the attributes with SHA-256).
    let b = t.path().join("p384.mcpb");
    pack(&mcpb, &b);
    let (code, _, err) = common::run(common::mcpseal().current_dir(t.path()).args([
        "sign",
        "p384.mcpb",
        "--cert",
        "ec384.pem",
        "--key",
        "ec384.key",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("P-384"), "{err}");
    ok(Command::new("openssl")
        .current_dir(t.path())
        .args([
            "cms",
            "-sign",
            "-binary",
            "-in",
            "p384.mcpb",
            "-signer",
            "ec384.pem",
        ])
        .args([
            "-inkey",
            "ec384.key",
            "-certfile",
            "inter.pem",
            "-outform",
            "DER",
        ])
        .args(["-md", "sha256", "-out", "p384.der"]));
    let mut f = std::fs::read(&b).unwrap();
    let der = std::fs::read(t.path().join("p384.der")).unwrap();
    f.extend_from_slice(b"MCPB_SIG_V1");
    f.extend_from_slice(&(der.len() as u32).to_le_bytes());
    f.extend_from_slice(&der);
    f.extend_from_slice(b"MCPB_SIG_END");
    std::fs::write(&b, f).unwrap();
    let (code, v) = verify(t.path(), &["p384.mcpb", "--ca", "root.pem"]);
    assert_eq!(code, 0, "{v}");

    // A key that is not the certificate's is refused before anything is written.
    let b = t.path().join("wrong.mcpb");
    pack(&mcpb, &b);
    let (code, _, err) = common::run(common::mcpseal().current_dir(t.path()).args([
        "sign",
        "wrong.mcpb",
        "--cert",
        "leaf.pem",
        "--key",
        "ecleaf.key",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mcpb-sign-failed") && err.contains("does not belong"),
        "{err}"
    );
}

/// A signed bundle made by mcpseal with the test CA, for the edits below.
fn signed_fixture(t: &Path) -> Option<Vec<u8>> {
    let mcpb = mcpb_bin()?;
    let ca = Ca::new(t)?;
    let _ = ca;
    let b = t.join("good.mcpb");
    pack(&mcpb, &b);
    ok(common::mcpseal()
        .current_dir(t)
        .args([
            "sign",
            "good.mcpb",
            "--cert",
            "leaf.pem",
            "--key",
            "leaf.key",
        ])
        .args(["--intermediate", "inter.pem"]));
    let (code, v) = verify(t, &["good.mcpb", "--ca", "root.pem"]);
    assert_eq!(code, 0, "{v}");
    Some(std::fs::read(b).unwrap())
}

fn eocd(zip: &[u8]) -> usize {
    (0..zip.len() - 21)
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .unwrap()
}

#[test]
fn every_edit_of_a_signed_bundle_is_refused_with_its_own_reason() {
    let t = tempfile::tempdir().unwrap();
    let Some(good) = signed_fixture(t.path()) else {
        return;
    };
    let (der, content) = split(&good);
    let block_at = content.len();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();

    // A file inside the archive changed after signing.
    let mut e = good.clone();
    e[40] ^= 1;
    cases.push(("content byte flipped", e, "mcpb-content-digest-mismatch"));

    // The archive swapped for another and the messageDigest attribute rewritten to match it:
    // the digest check passes, the signature over the attributes must not.
    let mut other = content.clone();
    other[40] ^= 1;
    let old = mcpseal::digest::Digest::of(&content).0;
    let new = mcpseal::digest::Digest::of(&other).0;
    let mut der2 = der.clone();
    let at = der2.windows(32).position(|w| w == old).unwrap();
    der2[at..at + 32].copy_from_slice(&new);
    let mut e = other.clone();
    e.extend_from_slice(b"MCPB_SIG_V1");
    e.extend_from_slice(&(der2.len() as u32).to_le_bytes());
    e.extend_from_slice(&der2);
    e.extend_from_slice(b"MCPB_SIG_END");
    cases.push((
        "content swapped, digest attribute rewritten",
        e,
        "mcpb-signature-invalid",
    ));

    // The signature value's last byte (the DER's last byte: SignerInfo ends SignedData).
    let mut e = good.clone();
    let n = e.len();
    e[n - 13] ^= 1;
    cases.push(("signature byte flipped", e, "mcpb-signature-invalid"));

    // Bytes appended after the block (a second payload a careless reader might run).
    let mut e = good.clone();
    e.extend_from_slice(b"#!/bin/sh\n");
    cases.push(("data after MCPB_SIG_END", e, "mcpb-trailing-data"));

    // A tool "repairs" the ZIP comment length so that it covers the signature block.
    let mut e = good.clone();
    let z = eocd(&content);
    let cover = (good.len() - block_at) as u16;
    e[z + 20..z + 22].copy_from_slice(&cover.to_le_bytes());
    cases.push((
        "ZIP comment length rewritten over the block",
        e,
        "mcpb-zip-comment-rewritten",
    ));

    // The comment length changed to something else.
    let mut e = good.clone();
    e[z + 20..z + 22].copy_from_slice(&0xffffu16.to_le_bytes());
    cases.push(("ZIP comment length changed", e, "mcpb-zip-comment-mismatch"));

    // The block's length field no longer frames it.
    let mut e = good.clone();
    e[block_at + 11] ^= 1;
    cases.push(("block length changed", e, "mcpb-block-malformed"));

    // The whole signed bundle signed again (what `mcpb sign` does to a signed bundle).
    let mut e = good.clone();
    e.extend_from_slice(&good[block_at..]);
    cases.push(("two blocks", e, "mcpb-two-signatures"));

    // The PKCS#7 structure broken inside a valid frame.
    let mut e = content.clone();
    let junk = vec![0x30u8, 0x03, 0x02, 0x01, 0x01];
    e.extend_from_slice(b"MCPB_SIG_V1");
    e.extend_from_slice(&(junk.len() as u32).to_le_bytes());
    e.extend_from_slice(&junk);
    e.extend_from_slice(b"MCPB_SIG_END");
    cases.push(("not a PKCS#7 ContentInfo", e, "mcpb-cms-malformed"));

    // The unsigned archive.
    cases.push(("no block", content.clone(), "mcpb-unsigned"));

    for (what, bytes, reason) in cases {
        std::fs::write(t.path().join("edited.mcpb"), &bytes).unwrap();
        let (code, v) = verify(t.path(), &["edited.mcpb", "--ca", "root.pem"]);
        assert_eq!(code, 1, "{what}: {v}");
        assert_eq!(v["reason"], reason, "{what}: {v}");
    }
}

#[test]
fn chain_rules_each_have_a_bundle_that_breaks_them() {
    let Some(mcpb) = mcpb_bin() else { return };
    let t = tempfile::tempdir().unwrap();
    let Some(ca) = Ca::new(t.path()) else { return };
    // A leaf for TLS servers, not code signing.
    ca.issue(
        "tls",
        "TLS Server",
        "inter",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        "rsa:2048",
    );
    // A leaf with no extended key usage at all.
    ca.issue(
        "noeku",
        "No EKU",
        "inter",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
        "rsa:2048",
    );
    // A leaf that may only encipher keys.
    ca.issue(
        "keyenc",
        "Key Encipherment",
        "inter",
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment\nextendedKeyUsage=codeSigning\n",
        "rsa:2048",
    );
    for (leaf, reason) in [
        ("tls", "mcpb-key-usage"),
        ("noeku", "mcpb-key-usage"),
        ("keyenc", "mcpb-key-usage"),
    ] {
        let name = format!("{leaf}.mcpb");
        let b = t.path().join(&name);
        pack(&mcpb, &b);
        ok(common::mcpseal()
            .current_dir(t.path())
            .args(["sign", &name, "--cert", &format!("{leaf}.pem"), "--key"])
            .arg(format!("{leaf}.key"))
            .args(["--intermediate", "inter.pem"]));
        refused(t.path(), &[&name, "--ca", "root.pem"], reason);
    }
    // Without the intermediate in the block the chain cannot be built.
    let b = t.path().join("nointer.mcpb");
    pack(&mcpb, &b);
    ok(common::mcpseal().current_dir(t.path()).args([
        "sign",
        "nointer.mcpb",
        "--cert",
        "leaf.pem",
        "--key",
        "leaf.key",
    ]));
    refused(
        t.path(),
        &["nointer.mcpb", "--ca", "root.pem"],
        "mcpb-untrusted-chain",
    );
}

#[test]
fn a_certificate_outside_its_validity_at_the_signing_time_is_refused() {
    let Some(mcpb) = mcpb_bin() else { return };
    let Some(_) = common::system_bin("openssl") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let Some(ca) = Ca::new(t.path()) else { return };
    // `openssl ca` can set the validity window: a leaf valid only in 2020.
    let d = t.path();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("serial"), "1000\n").unwrap();
    std::fs::write(
        d.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca=c\n[c]\ndir={}\ndatabase=$dir/index.txt\nserial=$dir/serial\nnew_certs_dir=$dir\ncertificate=$dir/inter.pem\nprivate_key=$dir/inter.key\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\n{}",
            d.display(),
            LEAF_EXT
        ),
    )
    .unwrap();
    ok(Command::new("openssl")
        .current_dir(d)
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=Expired Publisher",
        ])
        .args(["-keyout", "old.key", "-out", "old.csr"]));
    ok(Command::new("openssl")
        .current_dir(d)
        .args([
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-extensions",
            "ext",
            "-in",
            "old.csr",
        ])
        .args([
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20201231000000Z",
        ])
        .args(["-out", "old.pem", "-notext"]));
    let _ = ca;
    let b = d.join("old.mcpb");
    pack(&mcpb, &b);
    // The reference signer signs with it (it checks nothing), stamping signingTime = now.
    ok(Command::new(&mcpb)
        .arg("sign")
        .arg(&b)
        .args(["-c", "old.pem", "-k", "old.key", "-i", "inter.pem"])
        .current_dir(d));
    refused(
        d,
        &["old.mcpb", "--ca", "root.pem"],
        "mcpb-cert-not-valid-at-signing-time",
    );
}

#[test]
fn a_zip_record_smuggled_into_the_signature_block_is_refused() {
    // A ZIP reader that looks for the end record from the end of the file would find one in
    // the block (here inside an extra, unsigned certificate) and read an archive nobody signed.
    let Some(mcpb) = mcpb_bin() else { return };
    let t = tempfile::tempdir().unwrap();
    let Some(ca) = Ca::new(t.path()) else { return };
    let d = t.path();
    ca.issue(
        "smuggler",
        "Smuggler",
        "inter",
        "basicConstraints=critical,CA:FALSE\n1.3.6.1.4.1.99999.1=DER:504B0506000000000000000000000000000000000000\n",
        "rsa:2048",
    );
    let b = d.join("smuggled.mcpb");
    pack(&mcpb, &b);
    let content = std::fs::read(&b).unwrap();
    // openssl signs the ZIP (detached, binary) and carries the extra certificate.
    ok(Command::new("openssl")
        .current_dir(d)
        .args([
            "cms",
            "-sign",
            "-binary",
            "-in",
            "smuggled.mcpb",
            "-signer",
            "leaf.pem",
        ])
        .args([
            "-inkey",
            "leaf.key",
            "-certfile",
            "smuggler.pem",
            "-outform",
            "DER",
        ])
        .args(["-md", "sha256", "-out", "smuggled.der"]));
    let der = std::fs::read(d.join("smuggled.der")).unwrap();
    let mut f = content.clone();
    f.extend_from_slice(b"MCPB_SIG_V1");
    f.extend_from_slice(&(der.len() as u32).to_le_bytes());
    f.extend_from_slice(&der);
    f.extend_from_slice(b"MCPB_SIG_END");
    std::fs::write(&b, &f).unwrap();
    refused(
        d,
        &["smuggled.mcpb", "--ca", "root.pem"],
        "mcpb-zip-record-in-block",
    );

    // The same signature without the smuggler verifies (openssl's CMS is accepted as is) ...
    std::fs::write(d.join("plain.zip"), &content).unwrap();
    std::fs::write(
        d.join("note.txt"),
        "a signed note, carried inside the signature\n",
    )
    .unwrap();
    let cms_sign = |extra: &[&str], input: &str, out: &str| {
        ok(Command::new("openssl")
            .current_dir(d)
            .args([
                "cms", "-sign", "-binary", "-in", input, "-signer", "leaf.pem",
            ])
            .args([
                "-inkey",
                "leaf.key",
                "-certfile",
                "inter.pem",
                "-outform",
                "DER",
            ])
            .args(["-md", "sha256", "-out", out])
            .args(extra));
    };
    cms_sign(&[], "plain.zip", "plain.der");
    // ... unless it carries content inside it (what it covers is then not the file).
    cms_sign(&["-nodetach"], "note.txt", "attached.der");
    for (der_file, name, reason) in [
        ("plain.der", "openssl.mcpb", None),
        ("attached.der", "attached.mcpb", Some("mcpb-not-detached")),
    ] {
        let der = std::fs::read(d.join(der_file)).unwrap();
        let mut f = content.clone();
        f.extend_from_slice(b"MCPB_SIG_V1");
        f.extend_from_slice(&(der.len() as u32).to_le_bytes());
        f.extend_from_slice(&der);
        f.extend_from_slice(b"MCPB_SIG_END");
        std::fs::write(d.join(name), &f).unwrap();
        match reason {
            None => {
                let (code, v) = verify(d, &[name, "--ca", "root.pem"]);
                assert_eq!(code, 0, "{name}: {v}");
            }
            Some(r) => refused(d, &[name, "--ca", "root.pem"], r),
        }
    }
}
