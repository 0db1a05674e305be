//! minisign and signify signature verification. Owned by issue 6.
