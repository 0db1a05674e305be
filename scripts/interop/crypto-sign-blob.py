"""Signs a file with PyPI `cryptography` (OpenSSL) the way cosign's key-based bundles do, as an
independent signer for mcpseal's verifier (tests/key_types.rs).

Usage: python crypto-sign-blob.py KIND OUTDIR ARTIFACT
  KIND: p256 | p384 | rsa2048 | ed25519
Writes into OUTDIR:
  key.pub           SPKI PEM public key;  key.der  the same SPKI as DER
  key.pem           the private key, unencrypted PKCS#8 PEM (for `mcpseal sign --key`)
  msg.sigstore.json a Sigstore bundle v0.3 with a messageSignature over ARTIFACT
                    (what `cosign sign-blob --key --bundle --tlog-upload=false` writes)
  dsse.sigstore.json a v0.3 DSSE bundle whose in-toto statement names ARTIFACT
                    (what `cosign attest-blob --key --tlog-upload=false` writes)
  pss.sig           (rsa2048 only) an RSA-PSS SHA-256 signature over ARTIFACT, salt = 32
The ECDSA hash is the curve's (SHA-256 for P-256, SHA-384 for P-384); RSA signs PKCS#1 v1.5
with SHA-256 in the bundles, as cosign does.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

B64 = lambda b: base64.b64encode(b).decode()


def main() -> None:
    kind, out, artifact_path = sys.argv[1:4]
    with open(artifact_path, "rb") as f:
        data = f.read()
    if kind == "p256":
        key = ec.generate_private_key(ec.SECP256R1())
        sign = lambda m: key.sign(m, ec.ECDSA(hashes.SHA256()))
    elif kind == "p384":
        key = ec.generate_private_key(ec.SECP384R1())
        sign = lambda m: key.sign(m, ec.ECDSA(hashes.SHA384()))
    elif kind == "rsa2048":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        sign = lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA256())
        pss = key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        with open(os.path.join(out, "pss.sig"), "wb") as f:
            f.write(pss)
    elif kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        sign = key.sign
    else:
        raise SystemExit(f"unknown kind {kind}")
    public = key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for name, content in [("key.pub", pem), ("key.der", der), ("key.pem", priv)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(content)
    keyid = B64(hashlib.sha256(der).digest())
    material = {"publicKey": {"hint": keyid}, "tlogEntries": [], "timestampVerificationData": {"rfc3161Timestamps": []}}
    msg = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material,
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64(hashlib.sha256(data).digest())},
            "signature": B64(sign(data)),
        },
    }
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": os.path.basename(artifact_path), "digest": {"sha256": hashlib.sha256(data).hexdigest()}}],
        "predicateType": "https://cosign.sigstore.dev/attestation/v1",
        "predicate": {"Data": "peer-signed\n", "Timestamp": "2026-01-01T00:00:00Z"},
    }
    payload = json.dumps(statement).encode()
    ptype = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    dsse = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material,
        "dsseEnvelope": {"payload": B64(payload), "payloadType": ptype, "signatures": [{"sig": B64(sign(pae)), "keyid": ""}]},
    }
    for name, b in [("msg.sigstore.json", msg), ("dsse.sigstore.json", dsse)]:
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(b, f)


main()
