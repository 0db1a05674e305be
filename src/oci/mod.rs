//! Container images: registries, references, and image signatures cosign reads and writes.
//!
//! - [`reference`]: `oci://REGISTRY/REPO[:TAG|@DIGEST]` and `docker run` image arguments.
//! - [`registry`]: a blocking client for one repository over `oci-client` (HTTPS, plain HTTP
//!   only for loopback or an explicitly allowed host; anonymous, bearer-token or basic auth
//!   with Docker's `config.json` credentials). Its tokio runtime is private: nothing async
//!   leaves this module.
//! - [`launch`]: where the image is in a `docker run` / `podman run` launch spec.
//! - [`cosign`]: cosign 3 referrer bundles, mcpseal release referrers and legacy `.sig`
//!   signatures; signing, fetching and checking them against the image digest.
//!
//! No terminal I/O here (the CLI renders), no key handling beyond using a key it is given.

pub mod cosign;
pub mod launch;
pub mod reference;
pub mod registry;

pub use reference::ImageRef;
pub use registry::{Manifest, OciError, Options, Registry};
