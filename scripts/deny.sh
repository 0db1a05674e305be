#!/usr/bin/env bash
# cargo-deny over the dependency graph: banned crates, licences, sources (deny.toml says what
# and why). Installs the pinned cargo-deny into target/tools on first use (a few minutes of
# compiling; crates.io is the only network it needs). Advisories are not checked: see deny.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.20.2
BIN=target/tools/bin/cargo-deny
if ! { [ -x "$BIN" ] && "$BIN" --version | grep -qF "$VERSION"; }; then
    # A checker, not a shipped binary: built for compile time, not speed (no LTO, opt-level 1).
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=64 \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        cargo install --locked --quiet "cargo-deny@$VERSION" --root target/tools
fi
exec "$BIN" deny check bans licenses sources
