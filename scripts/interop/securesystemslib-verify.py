"""Independent check of an mcpseal bundle with PyPI securesystemslib's DSSE Envelope.

securesystemslib verifies the DSSE signature over the PAE; like any real consumer, this driver
then compares the in-toto subject digest with the artifact.
Usage: python securesystemslib-verify.py BUNDLE PUBLIC_KEY.pem ARTIFACT [SCHEME]  (exit 0 / 1)
SCHEME is a securesystemslib scheme; by default the key's own (ed25519, ecdsa-sha2-nistp256 /
nistp384), and for RSA rsa-pkcs1v15-sha256, the scheme mcpseal (like cosign) signs RSA with.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def main() -> None:
    bundle_path, key_path, artifact_path = sys.argv[1:4]
    with open(bundle_path, encoding="utf-8") as f:
        bundle = json.load(f)
    with open(key_path, "rb") as f:
        pem = f.read()
    public = serialization.load_pem_public_key(pem)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyid = base64.b64encode(hashlib.sha256(der).digest()).decode()
    scheme = sys.argv[4] if len(sys.argv) > 4 else None
    if scheme is None and isinstance(public, rsa.RSAPublicKey):
        scheme = "rsa-pkcs1v15-sha256"
    key = SSlibKey.from_crypto(public, keyid=keyid, scheme=scheme)
    if bundle.get("mediaType") != "application/vnd.dev.sigstore.bundle.v0.3+json":
        raise ValueError(f"unexpected media type {bundle.get('mediaType')!r}")
    envelope = Envelope.from_dict(bundle["dsseEnvelope"])
    envelope.verify([key], 1)  # raises VerificationError when the signature does not hold
    statement = json.loads(envelope.payload)
    with open(artifact_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if not any(s.get("digest", {}).get("sha256") == digest for s in statement["subject"]):
        raise ValueError(f"artifact sha256 {digest} is not among the signed subjects")


try:
    main()
    print("verified")
except Exception as e:  # any refusal, whatever its kind, is a "no"
    print(f"refused: {type(e).__name__}: {e}")
    sys.exit(1)
