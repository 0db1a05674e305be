//! Unit tests of the key types on real vectors (testdata/keys/cosign/README.md names them):
//! cosign's and sigstore-rs' encrypted keys, and every way a key or signature must be refused.

use super::*;

macro_rules! vector {
    ($name:literal) => {
        include_bytes!(concat!("../../testdata/keys/cosign/", $name)).as_slice()
    };
}

fn open(pem: &[u8], pass: &[u8]) -> PrivateKey {
    PrivateKey::from_pem(pem, Some(pass)).unwrap_or_else(|e| panic!("{e}"))
}

/// Signs and verifies with the key's own scheme; checks another message fails.
fn sign_round_trip(k: &dyn Signer) {
    let sig = k.sign(b"release bytes").unwrap();
    let p = k.public_key();
    assert_eq!(p.default_scheme(), k.algorithm());
    p.verify(b"release bytes", &sig).unwrap();
    assert_eq!(
        p.verify(b"other bytes", &sig).unwrap_err().code(),
        "bad-signature"
    );
}

#[test]
fn cosign_and_sigstore_rs_encrypted_keys_open_with_their_passphrase() {
    let cases: &[(&[u8], &[u8], KeyKind)] = &[
        (
            vector!("cosign-sigstore-label.key"),
            b"hello",
            KeyKind::EcdsaP256,
        ),
        (
            vector!("cosign-legacy-label.key"),
            b"hello",
            KeyKind::EcdsaP256,
        ),
        (
            vector!("rs-ecdsa-encrypted.key"),
            b"123",
            KeyKind::EcdsaP256,
        ),
        (
            vector!("rs-ed25519-encrypted.key"),
            b"123",
            KeyKind::Ed25519,
        ),
        (
            vector!("rs-cosign-empty-passphrase.key"),
            b"",
            KeyKind::EcdsaP256,
        ),
        (
            vector!("rs-p256-example-encrypted.key"),
            b"password",
            KeyKind::EcdsaP256,
        ),
    ];
    for (pem, pass, kind) in cases {
        let k = open(pem, pass);
        assert_eq!(k.kind(), *kind);
        sign_round_trip(&k);
        assert!(is_encrypted(pem));
        assert_eq!(
            PrivateKey::from_pem(pem, None).unwrap_err().code(),
            "key-passphrase-needed"
        );
    }
    let rsa = open(vector!("rs-rsa-encrypted.key"), b"123");
    assert!(matches!(rsa.kind(), KeyKind::Rsa { bits } if bits >= 2048));
    sign_round_trip(&rsa);
}

#[test]
fn plain_pkcs8_ec_keys_sign_and_pem_der_public_keys_agree() {
    sign_round_trip(&PrivateKey::from_pem(vector!("rs-ecdsa-plain.key"), None).unwrap());
    // sigstore-rs ships these two as unrelated keys: each read in its own form.
    let pub_pem = PublicKey::from_spki_pem(vector!("rs-p256-example.pub")).unwrap();
    let pub_der = PublicKey::from_spki_der(vector!("rs-p256-example.pub.der")).unwrap();
    assert_eq!(pub_pem.kind(), KeyKind::EcdsaP256);
    assert_eq!(pub_der.kind(), KeyKind::EcdsaP256);
    assert_eq!(pub_der.to_spki_der(), vector!("rs-p256-example.pub.der"));
    assert_eq!(
        PublicKey::from_spki_pem(pub_der.to_pem().as_bytes()).unwrap(),
        pub_der
    );
}

#[test]
fn wrong_passphrase_is_a_passphrase_error_not_a_format_error() {
    for (pem, pass) in [
        (vector!("cosign-sigstore-label.key"), b"hellO".as_slice()),
        (vector!("rs-ecdsa-encrypted.key"), b"1234"),
        (vector!("rs-cosign-empty-passphrase.key"), b"x"),
    ] {
        let e = PrivateKey::from_pem(pem, Some(pass)).unwrap_err();
        assert_eq!(e.code(), "key-wrong-passphrase", "{e}");
    }
}

/// Re-encodes a cosign key after `edit` changed its JSON.
fn edited(pem: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let (label, body) = pkcs8::der::pem::decode_vec(pem).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    edit(&mut v);
    let body = serde_json::to_vec(&v).unwrap();
    pkcs8::der::pem::encode_string(label, pkcs8::der::pem::LineEnding::LF, &body)
        .unwrap()
        .into_bytes()
}

fn flip_b64(v: &mut serde_json::Value, at: usize) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(v.as_str().unwrap()).unwrap();
    raw[at] ^= 1;
    *v = b64.encode(raw).into();
}

#[test]
fn a_tampered_box_salt_or_nonce_fails_its_tag() {
    let pem = vector!("cosign-sigstore-label.key");
    for edit in [
        |v: &mut serde_json::Value| flip_b64(&mut v["ciphertext"], 0), // the tag
        |v: &mut serde_json::Value| flip_b64(&mut v["ciphertext"], 40), // the box
        |v: &mut serde_json::Value| flip_b64(&mut v["kdf"]["salt"], 3),
        |v: &mut serde_json::Value| flip_b64(&mut v["cipher"]["nonce"], 5),
    ] {
        let e = PrivateKey::from_pem(&edited(pem, edit), Some(b"hello")).unwrap_err();
        assert_eq!(e.code(), "key-wrong-passphrase", "{e}");
    }
}

#[test]
fn a_malformed_envelope_is_a_format_error_before_any_scrypt() {
    let pem = vector!("cosign-sigstore-label.key");
    let edits: [fn(&mut serde_json::Value); 6] = [
        |v| v["kdf"]["name"] = "pbkdf2".into(),
        |v| v["cipher"]["name"] = "aes-gcm".into(),
        |v| v["cipher"]["nonce"] = "AAAA".into(),
        |v| v["kdf"]["params"]["N"] = 1000.into(),
        // 128 · 2^30 · 8 bytes: a key file must not make mcpseal allocate a terabyte.
        |v| v["kdf"]["params"]["N"] = (1u64 << 30).into(),
        |v| v["extra"] = true.into(),
    ];
    for edit in edits {
        let e = PrivateKey::from_pem(&edited(pem, edit), Some(b"hello")).unwrap_err();
        assert_eq!(e.code(), "key-malformed", "{e}");
    }
    // The box opens, but holds SEC1 rather than PKCS#8: cosign refuses it too.
    let e = PrivateKey::from_pem(vector!("cosign-sec1-inside.key"), Some(b"hello")).unwrap_err();
    assert_eq!(e.code(), "key-malformed", "{e}");
}

#[test]
fn cosign_format_written_here_reads_back_and_signs() {
    let k = PrivateKey::generate_p256().unwrap();
    let pem = cosign::to_pem(&k, b"pw").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let back = open(pem.as_bytes(), b"pw");
    assert_eq!(back.public_key(), k.public_key());
    sign_round_trip(&back);
    assert_eq!(
        PrivateKey::from_pem(pem.as_bytes(), Some(b"pW"))
            .unwrap_err()
            .code(),
        "key-wrong-passphrase"
    );
    let ed = PrivateKey::Ed25519(generate().unwrap());
    let pem = cosign::to_pem(&ed, b"pw").unwrap();
    assert_eq!(open(pem.as_bytes(), b"pw").public_key(), ed.public_key());
}

#[test]
fn schemes_must_suit_the_key() {
    let ec = PrivateKey::generate_p256().unwrap();
    let ed = generate().unwrap();
    let rsa = open(vector!("rs-rsa-encrypted.key"), b"123");
    let msg = b"m";
    let ec_sig = ec.sign(msg).unwrap();
    let ed_sig = Signer::sign(&ed, msg).unwrap();
    let rsa_sig = rsa.sign(msg).unwrap();
    let mismatch = |k: &PublicKey, s: Scheme, sig: &[u8]| {
        assert_eq!(
            k.verify_with(s, msg, sig).unwrap_err().code(),
            "scheme-mismatch"
        );
    };
    mismatch(&ed.public(), Scheme::Ecdsa(Hash::Sha256), &ed_sig);
    mismatch(&ec.public_key(), Scheme::Ed25519, &ec_sig);
    mismatch(&ec.public_key(), Scheme::RsaPkcs1(Hash::Sha256), &ec_sig);
    mismatch(&rsa.public_key(), Scheme::Ecdsa(Hash::Sha256), &rsa_sig);
    mismatch(&rsa.public_key(), Scheme::Ed25519, &rsa_sig);
    // The right scheme with the wrong hash is a bad signature, not a pass.
    let bad = |k: &PublicKey, s: Scheme, sig: &[u8]| {
        assert_eq!(
            k.verify_with(s, msg, sig).unwrap_err().code(),
            "bad-signature"
        );
    };
    bad(&ec.public_key(), Scheme::Ecdsa(Hash::Sha384), &ec_sig);
    bad(&rsa.public_key(), Scheme::RsaPkcs1(Hash::Sha512), &rsa_sig);
    // PSS and PKCS#1 v1.5 are not interchangeable.
    bad(&rsa.public_key(), Scheme::RsaPss(Hash::Sha256), &rsa_sig);
    // Another key of the same type.
    let other = PrivateKey::generate_p256().unwrap();
    bad(&other.public_key(), Scheme::Ecdsa(Hash::Sha256), &ec_sig);
}

/// Minimal DER for `SEQUENCE { INTEGER r, INTEGER s }` from big-endian magnitudes.
fn der_sig(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let mut body = int(r);
    body.extend(int(s));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// (r, s) of a DER ECDSA signature, each as 32 big-endian bytes.
fn split_sig(sig: &[u8]) -> ([u8; 32], [u8; 32]) {
    let mut at = 2;
    let mut read = || {
        let len = sig[at + 1] as usize;
        let v = &sig[at + 2..at + 2 + len];
        at += 2 + len;
        let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = [0u8; 32];
        out[32 - v.len()..].copy_from_slice(&v);
        out
    };
    (read(), read())
}

/// n − s for P-256's group order n.
fn negate_p256(s: &[u8; 32]) -> [u8; 32] {
    let n =
        hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = n[i] as i16 - s[i] as i16 - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

#[test]
fn ecdsa_der_forms_high_s_is_accepted_malformed_der_is_not() {
    let k = PrivateKey::generate_p256().unwrap();
    let p = k.public_key();
    let msg = b"m";
    let sig = k.sign(msg).unwrap();
    let (r, s) = split_sig(&sig);
    assert_eq!(
        der_sig(&r, &s),
        sig,
        "the helper re-encodes what aws-lc-rs wrote"
    );
    p.verify(msg, &sig).unwrap();
    // The other S of the pair: Go's ecdsa (cosign) signs with either, so it must verify.
    p.verify(msg, &der_sig(&r, &negate_p256(&s))).unwrap();
    let refused = |sig: &[u8]| assert!(p.verify(msg, sig).is_err(), "{}", hex::encode(sig));
    let mut trailing = sig.clone();
    trailing.push(0);
    refused(&trailing);
    refused(&sig[..sig.len() - 1]);
    // BER long-form length for the SEQUENCE: the same numbers, not DER.
    let mut ber = vec![0x30, 0x81, sig[1]];
    ber.extend_from_slice(&sig[2..]);
    refused(&ber);
    // The fixed-width r || s form (JOSE / WebCrypto) is not what cosign writes.
    let mut fixed = r.to_vec();
    fixed.extend_from_slice(&s);
    refused(&fixed);
    // r = 0 and s = 0.
    refused(&der_sig(&[0], &s));
    refused(&der_sig(&r, &[0]));
    refused(b"");
}

#[test]
fn public_keys_that_must_be_refused() {
    let code = |pem: &str| PublicKey::from_spki_pem(pem.as_bytes()).unwrap_err().code();
    assert_eq!(
        code(include_str!("../../testdata/keys/rsa-1024.pub")),
        "key-too-small"
    );
    assert_eq!(
        code(include_str!("../../testdata/keys/secp256k1.pub")),
        "key-unsupported"
    );
    // A P-256 key with one byte of its point changed: not on the curve.
    let good = include_str!("../../testdata/keys/p256.pub");
    let k = PublicKey::from_spki_pem(good.as_bytes()).unwrap();
    let mut der = k.to_spki_der();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert_eq!(
        PublicKey::from_spki_der(&der).unwrap_err().code(),
        "key-malformed"
    );
    // Truncated and garbage PEM, a private key, trailing bytes after the DER.
    assert_eq!(code(&good[..good.len() - 30]), "key-not-pem");
    assert_eq!(
        code("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n"),
        "key-malformed"
    );
    assert_eq!(code(""), "key-not-pem");
    let pk = generate().unwrap().to_pem(None).unwrap();
    assert_eq!(code(&pk), "key-wrong-type");
    let mut der = k.to_spki_der();
    der.push(0);
    assert_eq!(
        PublicKey::from_spki_der(&der).unwrap_err().code(),
        "key-malformed"
    );
}

#[test]
fn rsa_private_key_under_2048_bits_is_refused_with_its_size() {
    let e =
        PrivateKey::from_pem(include_bytes!("../../testdata/keys/rsa-1024.key"), None).unwrap_err();
    assert_eq!(e.code(), "key-too-small", "{e}");
    assert!(e.to_string().contains("1024"), "{e}");
}

#[test]
fn debug_shows_the_key_id_never_the_key() {
    let k = PrivateKey::generate_p256().unwrap();
    let der = k.to_pkcs8_der().unwrap();
    let dbg = format!("{k:?}");
    assert!(dbg.contains(&k.public_key().key_id()), "{dbg}");
    assert!(!dbg.contains(&hex::encode(&der[der.len() - 40..])), "{dbg}");
}

#[test]
fn verify_digest_agrees_with_verify_and_refuses_what_it_must() {
    use sha2::Digest as _;
    let ec = PrivateKey::generate_p256().unwrap();
    let rsa = open(vector!("rs-rsa-encrypted.key"), b"123");
    for k in [&ec, &rsa] {
        let p = k.public_key();
        let sig = k.sign(b"big file").unwrap();
        let d = sha2::Sha256::digest(b"big file");
        p.verify_digest(k.algorithm(), &d, &sig).unwrap();
        let other = sha2::Sha256::digest(b"big filE");
        assert_eq!(
            p.verify_digest(k.algorithm(), &other, &sig)
                .unwrap_err()
                .code(),
            "bad-signature"
        );
        assert_eq!(
            p.verify_digest(k.algorithm(), &d[..31], &sig)
                .unwrap_err()
                .code(),
            "bad-signature"
        );
    }
    let ed = generate().unwrap();
    let sig = Signer::sign(&ed, b"m").unwrap();
    assert_eq!(
        ed.public()
            .verify_digest(Scheme::Ed25519, &sha2::Sha256::digest(b"m"), &sig)
            .unwrap_err()
            .code(),
        "scheme-mismatch"
    );
}
