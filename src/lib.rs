//! mcpseal: sign MCP server releases, pin their tool surfaces, and gate their launch.
//!
//! The library never prints, prompts or exits; only [`cli`] talks to the terminal.
//!
//! - [`digest`]: streaming SHA-256 of files, trees and archives, the [`digest::Digest`] newtype.
//! - [`archive`]: single files read out of ZIP and gzip'd tar archives (bundles, packages).
//! - [`json`]: strict JSON parsing (duplicate keys rejected) and RFC 8785 canonical form.
//! - [`keys`]: Ed25519 keys, PKCS#8 / SPKI PEM, encryption at rest, key ids.
//! - [`bundle`]: Sigstore bundle v0.3, DSSE, in-toto statements; key-based sign and verify.
//! - [`keyless`]: certificate-based Sigstore bundles checked offline against a trusted root.
//! - [`minisign`]: minisign and signify signatures.
//! - [`mcpb`]: MCP bundles: the `MCPB_SIG_V1` PKCS#7 signature block, verified and written.
//! - [`oci`]: container registries and image signatures in the cosign formats.
//! - [`mcp`]: JSON-RPC framing and MCP client sessions (stdio, Streamable HTTP, SSE).
//! - [`surface`]: a server's tool surface, entity digests, diffs.
//! - [`lock`]: the `mcpseal.lock` model and the one `Store` that writes it.
//! - [`check`]: pinned servers re-captured (env values resolved) and compared with their pins.
//! - [`gate`]: `mcpseal run`, the pre-launch gate and stdio proxy, audit events.
//! - [`scan`]: poisoning and shadowing findings.
//! - [`clients`]: MCP client configs: discovery, parsing, wrap / unwrap.
//! - [`attestations`]: fetching npm and PyPI provenance documents (`pin` only; never the gate).
//! - [`provenance`]: npm provenance of a package tarball (SLSA, publish attestation), offline.
//! - [`registry`]: MCP Registry `server.json`: exact versions, `fileSha256`, name markers.
//! - [`channels`]: the package a launch spec runs (`npx NAME@VERSION`, `uvx NAME==VERSION`).
//! - [`policy`]: trust policy: who may sign what, what the gate requires.

pub mod archive;
pub mod atomic;
pub mod attestations;
pub mod authz;
pub mod bundle;
pub mod channels;
pub mod check;
pub mod cli;
pub mod clients;
pub mod digest;
/// The scriptable MCP server behind `mcpseal fixture-server` (the demo's and the tests' server);
/// crate-private, and built only with the default `demo` feature.
#[cfg(feature = "demo")]
pub(crate) mod fixture;
pub mod gate;
pub mod json;
pub mod keyless;
pub mod keys;
pub mod lock;
pub mod mcp;
pub mod mcpb;
pub mod minisign;
pub mod oci;
pub mod pin;
pub mod policy;
pub mod provenance;
pub mod registry;
pub mod scan;
pub mod severity;
pub mod surface;
