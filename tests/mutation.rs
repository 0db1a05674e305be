//! No panic on any input: every parser that reads bytes from outside is fed thousands of
//! mutations of a real, valid input (bit flips, truncations, inserted bytes), with a fixed
//! seed so a failure reproduces. Each must return `Ok` or an error — never panic.
//! (A cargo-fuzz target needs nightly; this is the stable stand-in.)

use mcpseal::{bundle, json, keys, lock, mcp::framing, minisign};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PALETTE: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b":",
    b",",
    b"\n",
    b"\xff",
    b"\x00",
    b"-1e999",
    b"9007199254740993",
    b"null",
    b"\"a\":1",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(4) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 => {
                let i = rng.below(v.len() + 1);
                let p = PALETTE[rng.below(PALETTE.len())];
                v.splice(i..i, p.iter().copied());
            }
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                let j = (i + rng.below(16)).min(v.len());
                v.drain(i..j);
            }
            _ => {}
        }
    }
    v
}

fn corpus() -> (Vec<u8>, keys::PublicKey, Vec<u8>, Vec<u8>) {
    let k = keys::generate().unwrap();
    let d = mcpseal::digest::Digest::of(b"artifact");
    let st = bundle::Statement::new(vec![bundle::Subject::new("a", &d)], Default::default());
    let b = serde_json::to_vec(&bundle::sign(&st, &k).unwrap()).unwrap();
    let mut s = mcpseal::surface::Surface::default();
    s.entities.insert(
        mcpseal::surface::EntityKind::Tools,
        mcpseal::surface::keyed(
            mcpseal::surface::EntityKind::Tools,
            vec![serde_json::json!({"name": "add", "inputSchema": {"type": "object"}})],
        )
        .unwrap(),
    );
    let entry = lock::ServerEntry::from_surface(
        lock::PinnedLaunch::Stdio {
            command: "x".into(),
            args: vec![],
            env: vec![],
        },
        serde_json::json!({}),
        &s,
    )
    .unwrap();
    let mut l = lock::Lockfile::new();
    l.servers.insert("x".into(), entry);
    let pem = k.to_pem(None).unwrap().as_bytes().to_vec();
    (b, k.public(), l.to_text().into_bytes(), pem)
}

#[test]
fn parsers_never_panic_on_mutated_inputs() {
    let (bundle_bytes, key, lock_bytes, pem) = corpus();
    let frame = br#"{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"add","inputSchema":{"type":"object"}}],"nextCursor":"2"}}"#;
    let sig_key = "untrusted comment: minisign public key 29FD5043C65371C4\nRWTEcVPGQ1D9Kdva3oSm3+FkOtecltTfiBiZvAqw0nu8oWir4yi+gaSs\n";
    let sig = "untrusted comment: signature\nRUTEcVPGQ1D9Kaib5iNvj0Y8iX0dgi9HWE3j3XyvQtycwwx9P1Ocqoy5MK4B0LBFKSw+4bkoEC+NzeF7tjM8R+aCmX6sGMDm3AU=\ntrusted comment: timestamp:1700000000\nkb3IvmulnjjUMXoiNmY4w+g3cf/ncDHO4YpqR3dTRlZWwrHRR/BmK5Ca5GeYxrdsxGGOLB8dtIL5PngWwxPNAw==\n";
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let signed = |b: &[u8]| -> Option<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(b).ok()?;
        Some((
            v["dsseEnvelope"]["payload"].as_str()?.to_owned(),
            v["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()?
                .to_owned(),
        ))
    };
    let original = signed(&bundle_bytes).unwrap();
    let mut verified_mutants = 0;
    for _ in 0..3000 {
        let b = mutate(&mut rng, &bundle_bytes);
        if bundle::verify(&b, &key).is_ok() {
            // Whatever a verifying mutant changed, it is not the signed payload or signature.
            assert_eq!(
                signed(&b).as_ref(),
                Some(&original),
                "a changed payload verified: {}",
                String::from_utf8_lossy(&b)
            );
            verified_mutants += 1;
        }
        let _ = json::parse_strict(&mutate(&mut rng, frame));
        let _ = framing::Message::parse(&mutate(&mut rng, frame));
        let _ = lock::Lockfile::parse(
            &mutate(&mut rng, &lock_bytes),
            std::path::Path::new("m.lock"),
        );
        let _ = lock::Lockfile::parse_only(
            &mutate(&mut rng, &lock_bytes),
            std::path::Path::new("m.lock"),
            Some("x"),
        );
        let _ = keys::SecretKey::from_pem(&mutate(&mut rng, &pem), None);
        let _ = keys::PublicKey::from_pem(&mutate(&mut rng, &pem));
        let k = String::from_utf8_lossy(&mutate(&mut rng, sig_key.as_bytes())).into_owned();
        let s = String::from_utf8_lossy(&mutate(&mut rng, sig.as_bytes())).into_owned();
        if let Ok(k) = minisign::SigKey::parse(&k, "key") {
            let _ = minisign::verify_minisign(&k, &s, &mut &b"x"[..]);
            let _ = minisign::verify_signify(&k, &s, &mut &b"x"[..]);
        }
        let lines = mutate(&mut rng, frame);
        let mut r = framing::LineReader::new(&lines[..], 64);
        while let Ok(Some(_)) = r.next_line() {}
    }
    // Most mutants must fail: the run would be worthless if the bundle were never disturbed.
    assert!(
        verified_mutants < 1500,
        "{verified_mutants} of 3000 mutants verified"
    );
}
