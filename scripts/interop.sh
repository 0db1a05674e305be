#!/usr/bin/env bash
# Interop checks against independent, real peers: every script in scripts/interop.d/ runs in
# order against the mcpseal binary ($MCPSEAL, default: target/debug/mcpseal, built now so it
# is never stale). Each check prints "ok - …" or "not ok - …"; any failure fails the run.
# Nothing is skipped: a peer that is missing is a failure (scripts/install-peers.sh installs them).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-peers.sh >/dev/null || { echo "not ok - scripts/install-peers.sh failed"; exit 1; }
# shellcheck disable=SC1091
source target/peers/env.sh
if [ -z "${MCPSEAL:-}" ]; then
  cargo build --quiet || { echo "not ok - cargo build failed"; exit 1; }
  MCPSEAL=$root/target/debug/mcpseal
fi
export MCPSEAL
passed=0; failed=0
for part in scripts/interop.d/*.sh; do
  [ -e "$part" ] || continue
  echo "# ${part##*/}"
  work=$(mktemp -d)
  if out=$(cd "$work" && bash "$root/$part" 2>&1); then :; else echo "not ok - ${part##*/} exited non-zero"; fi
  echo "$out"
  passed=$((passed + $(grep -c '^ok - ' <<<"$out")))
  failed=$((failed + $(grep -c '^not ok - ' <<<"$out")))
  grep -q '^\(not \)\?ok - ' <<<"$out" || { echo "not ok - ${part##*/} ran no check"; failed=$((failed+1)); }
  rm -rf "$work"
done
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
