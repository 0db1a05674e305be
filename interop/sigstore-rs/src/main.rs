//! sigstore-rs as a cosign peer, for mcpseal's OCI interop tests.
//!
//! ```text
//! sigstore-rs-driver sign   IMAGE KEY.pem PASSWORD   push a legacy `.sig` signature of IMAGE
//! sigstore-rs-driver verify IMAGE KEY.pub            exit 0 when a signature verifies, else 1
//! ```
//!
//! IMAGE is `HOST:PORT/REPO:TAG` or `HOST:PORT/REPO@sha256:…` on a plain-HTTP loopback
//! registry (the tests' docker-registry). Registry access is anonymous. Output is one JSON line.

use std::process::ExitCode;

use sigstore::cosign::constraint::PrivateKeySigner;
use sigstore::cosign::verification_constraint::{PublicKeyVerifier, VerificationConstraintVec};
use sigstore::cosign::{Constraint, CosignCapabilities, SignatureLayer};
use sigstore::crypto::SigningScheme;
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};
use zeroize::Zeroizing;

fn client() -> Result<sigstore::cosign::Client, String> {
    let config = ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    };
    sigstore::cosign::ClientBuilder::default()
        .with_oci_client_config(config)
        .build()
        .map_err(|e| format!("client: {e}"))
}

fn image(s: &str) -> Result<OciReference, String> {
    s.parse().map_err(|e| format!("image {s}: {e}"))
}

async fn sign(img: &str, key: &str, password: &str) -> Result<String, String> {
    let image = image(img)?;
    let mut c = client()?;
    let (sig_image, digest) = c
        .triangulate(&image, &Auth::Anonymous)
        .await
        .map_err(|e| format!("triangulate: {e}"))?;
    let mut layer =
        SignatureLayer::new_unsigned(&image, &digest).map_err(|e| format!("layer: {e}"))?;
    let key = Zeroizing::new(std::fs::read(key).map_err(|e| format!("{key}: {e}"))?);
    let password = Zeroizing::new(password.as_bytes().to_vec());
    let signer =
        PrivateKeySigner::new_with_raw(key, password, &SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(|e| format!("key: {e}"))?;
    signer
        .add_constraint(&mut layer)
        .map_err(|e| format!("sign: {e}"))?;
    c.push_signature(None, &Auth::Anonymous, &sig_image, vec![layer])
        .await
        .map_err(|e| format!("push: {e}"))?;
    Ok(format!(
        "{{\"signed\":\"{digest}\",\"tag\":\"{sig_image}\"}}"
    ))
}

async fn verify(img: &str, key: &str) -> Result<(bool, String), String> {
    let image = image(img)?;
    let mut c = client()?;
    let pem = std::fs::read(key).map_err(|e| format!("{key}: {e}"))?;
    let verifier = PublicKeyVerifier::try_from(pem.as_slice()).map_err(|e| format!("key: {e}"))?;
    let layers = match c.trusted_signature_layers(&Auth::Anonymous, &image).await {
        Ok(l) => l,
        // No signature layer for this digest (or none whose payload names it): not verified.
        Err(e) => {
            return Ok((
                false,
                format!("{{\"verified\":0,\"error\":{:?}}}", e.to_string()),
            ));
        }
    };
    let constraints: VerificationConstraintVec = vec![Box::new(verifier)];
    let n = layers.len();
    let ok = sigstore::cosign::verify_constraints(&layers, constraints.iter()).is_ok();
    Ok((
        ok,
        format!("{{\"verified\":{},\"layers\":{n}}}", u8::from(ok)),
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match argv.as_slice() {
        ["sign", img, key, pw] => sign(img, key, pw).await.map(|s| (true, s)),
        ["verify", img, key] => verify(img, key).await,
        _ => Err("usage: sigstore-rs-driver sign IMAGE KEY PASSWORD | verify IMAGE KEY.pub".into()),
    };
    match r {
        Ok((ok, line)) => {
            println!("{line}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("sigstore-rs-driver: {e}");
            ExitCode::from(2)
        }
    }
}
