"""An independent reader and writer of cosign-format encrypted keys: Debian's python3-nacl
(libsodium's crypto_secretbox) and Python's hashlib.scrypt (OpenSSL), with python3-cryptography
for the PKCS#8 inside. Run with /usr/bin/python3 (installed by scripts/install-peers.sh).

  cosign-key.py open KEY PASSPHRASE        print the key's SPKI PEM public key (exit 1 if the
                                           box does not open)
  cosign-key.py seal PKCS8_PEM PASSPHRASE  print an ENCRYPTED SIGSTORE PRIVATE KEY holding it,
                                           made the way go-securesystemslib does (N=32768, r=8,
                                           p=1, 32-byte salt, 24-byte nonce)
"""
import base64
import hashlib
import json
import os
import sys

import nacl.exceptions
import nacl.secret
from cryptography.hazmat.primitives import serialization

LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"


def scrypt(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)


def pem_body(text: str) -> bytes:
    lines = [l for l in text.strip().splitlines() if not l.startswith("-----")]
    return base64.b64decode("".join(lines))


def open_key(path: str, passphrase: bytes) -> None:
    with open(path, encoding="ascii") as f:
        env = json.loads(pem_body(f.read()))
    assert env["kdf"]["name"] == "scrypt" and env["cipher"]["name"] == "nacl/secretbox"
    prm = env["kdf"]["params"]
    key = scrypt(passphrase, base64.b64decode(env["kdf"]["salt"]), prm["N"], prm["r"], prm["p"])
    box = nacl.secret.SecretBox(key)
    try:
        der = box.decrypt(base64.b64decode(env["ciphertext"]), base64.b64decode(env["cipher"]["nonce"]))
    except nacl.exceptions.CryptoError:
        print("refused: the box does not open (wrong passphrase or tampered)")
        sys.exit(1)
    priv = serialization.load_der_private_key(der, password=None)
    pub = priv.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sys.stdout.write(pub.decode())


def seal(path: str, passphrase: bytes) -> None:
    with open(path, "rb") as f:
        priv = serialization.load_pem_private_key(f.read(), password=None)
    der = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    ct = nacl.secret.SecretBox(scrypt(passphrase, salt, 32768, 8, 1)).encrypt(der, nonce).ciphertext
    env = {
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ct).decode(),
    }
    b = base64.b64encode(json.dumps(env).encode()).decode()
    print(f"-----BEGIN {LABEL}-----")
    for i in range(0, len(b), 64):
        print(b[i : i + 64])
    print(f"-----END {LABEL}-----")


cmd, path, pw = sys.argv[1:4]
{"open": open_key, "seal": seal}[cmd](path, pw.encode())
