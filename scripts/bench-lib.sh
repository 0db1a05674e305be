# Shared helpers for scripts/bench-*.sh: the release binary, hyperfine, and medians.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# MCPSEAL_BIN=path runs against an already-built binary instead (say which in docs/benchmarks.md).
if [ -n "${MCPSEAL_BIN:-}" ]; then
  MCPSEAL=$MCPSEAL_BIN
else
  cargo build --release --quiet
  MCPSEAL=$root/target/release/mcpseal
fi
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
work=$root/target/bench
mkdir -p "$work"
machine() { echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"; }
# median_of JSON_FILE INDEX -> median seconds of hyperfine result INDEX
median_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.3f}')" "$1" "$2"; }
