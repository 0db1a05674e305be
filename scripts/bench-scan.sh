#!/usr/bin/env bash
# Benchmark `mcpseal scan`: 100 servers x 50 tools, end to end (process start, reading and
# strictly parsing the surface files, every rule, cross-server rules over 5,000 names, JSON
# output). Target (issue 5): <= 100 ms. Median of 10 runs with hyperfine.
#
#   bash scripts/bench-scan.sh [path/to/mcpseal]     (default: target/release/mcpseal)
#
# The surfaces are those of benches/scan.rs (deterministic): pinned in one lockfile
# (`mcpseal scan --lock`, the target case) and as 100 surface files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/mcpseal}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The surfaces benches/scan.rs generates, written as files (one definition of the data).
(cd "$root" && cargo bench --quiet --bench scan -- --write-surfaces "$work" >/dev/null)
mkdir "$work/lock"
(cd "$root" && cargo bench --quiet --bench scan -- --write-lock "$work/lock/mcpseal.lock" >/dev/null)
args=()
for f in "$work"/s*.json; do args+=(--surface-file "$f"); done
echo "bench-scan: $(( ${#args[@]} / 2 )) servers x 50 tools, $(cat "$work"/s*.json | wc -c) bytes of surface JSON"
echo "bench-scan: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" scan --format json "${args[@]}" > "$work/out.json" || true
python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print('bench-scan: servers', v['servers'], 'findings', len(v['findings']), 'failing', v['failing'])" "$work/out.json"
echo "bench-scan: lockfile $(wc -c < "$work/lock/mcpseal.lock") bytes"
hyperfine --warmup 2 --runs 10 --export-json "$work/hf.json" \
  -n lock "$bin scan --format json --lock $work/lock/mcpseal.lock" \
  -n surface-files "$bin scan --format json ${args[*]}"
python3 -c "
import json, sys
for r in json.load(open(sys.argv[1]))['results']:
    print('bench-scan: %s: median %.1f ms (min %.1f, max %.1f)' % (r['command'], r['median']*1e3, r['min']*1e3, r['max']*1e3))
" "$work/hf.json"
