//! Policy parsing refuses what it cannot enforce (docs/policy.md): each case here is one
//! field edited in a policy that parses, and cargo mutants found each refusal untested.
//! `Policy::parse` reads no file for these (no `public-key`, no `[authz]`), so no folder is
//! needed.

use std::path::Path;

use mcpseal::policy::Policy;

const PATH: &str = "/p/mcpseal-policy.toml";

const SIGNER: &str = "[[signer]]\nname = \"ci\"\nidentity = \"https://ci.example/release\"\nissuer = \"https://issuer.example\"\n";

fn parse(text: &str) -> Result<Policy, String> {
    Policy::parse(text, Path::new(PATH)).map_err(|e| {
        assert_eq!(e.code(), "policy-invalid", "{e}");
        assert!(e.to_string().contains(PATH), "names the file: {e}");
        e.to_string()
    })
}

fn server(fields: &str) -> String {
    format!("{SIGNER}[server.calc]\n{fields}")
}

#[test]
fn valid_policy_parses() {
    let pol = parse(&server(
        "require-signature = true\nsigners = [\"ci\"]\nbundle = \"b.json\"\nartifacts = [\"a.tgz\"]\non-drift = \"kill\"\n",
    ))
    .unwrap();
    let r = pol.requirements_for("calc");
    assert!(r.require_signature);
    assert_eq!(r.on_drift.as_deref(), Some("kill"));
    assert!(parse(&server("on-drift = \"block\"\n")).is_ok());
}

#[test]
fn fail_signer_with_both_identity_and_identity_regexp() {
    let both = "[[signer]]\nname = \"ci\"\nidentity = \"https://ci.example/release\"\nidentity-regexp = \"https://ci\\\\.example/.*\"\nissuer = \"https://issuer.example\"\n";
    let e = parse(both).unwrap_err();
    assert!(e.contains("\"ci\"") && e.contains("identity-regexp"), "{e}");
    // Neither is as wrong as both: an issuer alone names no signer.
    let neither = "[[signer]]\nname = \"ci\"\nissuer = \"https://issuer.example\"\n";
    assert!(parse(neither).is_err());
    // Each alone is a signer.
    let regexp = "[[signer]]\nname = \"ci\"\nidentity-regexp = \"https://ci\\\\.example/.*\"\nissuer = \"https://issuer.example\"\n";
    assert!(parse(regexp).is_ok());
    assert!(parse(SIGNER).is_ok());
}

#[test]
fn fail_require_signature_with_a_bundle_but_no_artifacts() {
    let e = parse(&server(
        "require-signature = true\nsigners = [\"ci\"]\nbundle = \"b.json\"\n",
    ))
    .unwrap_err();
    assert!(e.contains("\"calc\"") && e.contains("artifacts"), "{e}");
    let e = parse(&server(
        "require-signature = true\nsigners = [\"ci\"]\nbundle = \"b.json\"\nartifacts = []\n",
    ))
    .unwrap_err();
    assert!(e.contains("artifacts"), "{e}");
    // And the other half: artifacts but no bundle.
    assert!(
        parse(&server(
            "require-signature = true\nsigners = [\"ci\"]\nartifacts = [\"a.tgz\"]\n"
        ))
        .is_err()
    );
}

#[test]
fn fail_unknown_on_drift() {
    for bad in ["ignore", "Block", "kill ", ""] {
        let e = parse(&server(&format!("on-drift = {bad:?}\n"))).unwrap_err();
        assert!(
            e.contains("on-drift") && e.contains("\"calc\""),
            "{bad:?}: {e}"
        );
    }
}
