//! `policy`: arbitrary text through [`Policy::parse`], as if it were
//! `fuzz/keys/mcpseal-policy.toml` (so `public-key = "fuzz-test.pub"` loads the test key).
//!
//! Oracles: no panic; a server that requires a signature names signers, a bundle and
//! artifacts; no evidence at all never satisfies a server's requirements; a key signer matches
//! its own key id; and an `identity-regexp` signer matches an identity exactly when the whole
//! identity matches the expression (checked against `\A(?:re)\z` for every string the policy
//! itself contains).
//!
//! Inputs whose `public-key` is absolute or climbs out with `..` are skipped: the parser reads
//! that file, and a fuzzer that finds `/dev/zero` only proves that reading it never ends.

#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mcpseal::policy::{Evidence, Matcher, Policy};

/// Whether every `signer` `public-key` stays inside the base folder.
fn key_paths_are_local(text: &str) -> bool {
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return true; // the policy parser refuses it as well
    };
    let Some(signer) = doc.get("signer") else {
        return true;
    };
    let mut tables: Vec<&dyn toml_edit::TableLike> = Vec::new();
    if let Some(a) = signer.as_array_of_tables() {
        tables.extend(a.iter().map(|t| t as &dyn toml_edit::TableLike));
    } else if let Some(a) = signer.as_array() {
        for t in a.iter().filter_map(|v| v.as_inline_table()) {
            tables.push(t);
        }
    }
    tables.iter().all(|t| match t.get("public-key") {
        None => true,
        Some(v) => v
            .as_str()
            .is_none_or(|p| !Path::new(p).is_absolute() && !p.contains("..") && !p.contains('\\')),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if !key_paths_are_local(text) {
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/mcpseal-policy.toml");
    let Ok(policy) = Policy::parse(text, &path) else {
        return;
    };

    let mut strings: BTreeSet<String> = ["".to_owned()].into();
    for (name, s) in &policy.signers {
        assert_eq!(name, &s.name);
        strings.insert(name.clone());
        strings.extend(s.identity.iter().cloned());
        strings.extend(s.identity_regexp.iter().cloned());
        strings.extend(s.issuer.iter().cloned());
    }
    strings.extend(policy.servers.keys().cloned());

    for (name, req) in &policy.servers {
        if req.require_signature {
            assert!(
                !req.signers.is_empty(),
                "server {name:?} requires a signature from no one"
            );
            assert!(req.bundle.is_some() && !req.artifacts.is_empty());
        }
        assert_eq!(req.matcher().is_some(), !req.signers.is_empty());
        assert!(
            req.check(&Evidence::default()).is_err(),
            "server {name:?}: no evidence satisfied the policy"
        );
        assert!(
            !policy
                .requirements_for(name)
                .check(&Evidence::default())
                .is_ok()
        );
    }

    for s in policy.signers.values() {
        match &s.matcher {
            Matcher::KeyId(k) => {
                let e = Evidence {
                    key_id: Some(k.clone()),
                    ..Evidence::default()
                };
                assert!(s.matcher.matches(&e));
            }
            Matcher::Identity { exact, issuer, .. } => {
                let Some(re) = &s.identity_regexp else {
                    assert!(exact.is_some());
                    continue;
                };
                let Ok(whole) = regex::Regex::new(&format!(r"\A(?:{re})\z")) else {
                    continue;
                };
                for id in &strings {
                    let e = Evidence {
                        key_id: None,
                        identity: Some(id.clone()),
                        issuer: Some(issuer.clone()),
                    };
                    assert_eq!(
                        s.matcher.matches(&e),
                        whole.is_match(id),
                        "identity-regexp {re:?} against identity {id:?}"
                    );
                }
            }
            Matcher::AllOf(_) | Matcher::AnyOf(_) => {}
        }
    }
});
