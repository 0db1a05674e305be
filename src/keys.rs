//! Ed25519 keys: generation, PKCS#8 / SPKI PEM, encryption at rest, key ids. Owned by issue 2.
