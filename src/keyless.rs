//! Certificate-based Sigstore bundles verified offline against a trusted root. Owned by issue 6.
