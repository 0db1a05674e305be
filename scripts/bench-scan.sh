#!/usr/bin/env bash
# Benchmark `mcpseal scan`: 100 servers x 50 tools, end to end (process start, reading and
# strictly parsing the surface files, every rule, cross-server rules over 5,000 names, JSON
# output). Target (issue 5): <= 100 ms. Median of 10 runs with hyperfine.
#
#   bash scripts/bench-scan.sh [path/to/mcpseal]     (default: target/release/mcpseal)
#
# The surfaces are those of benches/scan.rs (deterministic), as surface files; when the
# lockfile lands, the same surfaces go through `mcpseal scan --lock`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/mcpseal}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The surfaces benches/scan.rs generates, written as files (one definition of the data).
(cd "$root" && cargo bench --quiet --bench scan -- --write-surfaces "$work" >/dev/null)
args=()
for f in "$work"/s*.json; do args+=(--surface-file "$f"); done
echo "bench-scan: $(ls "$work" | wc -l) servers x 50 tools, $(du -sh "$work" | cut -f1) of surface JSON"
echo "bench-scan: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" scan --format json "${args[@]}" > "$work/out.json" || true
python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print('bench-scan: servers', v['servers'], 'findings', len(v['findings']), 'failing', v['failing'])" "$work/out.json"
hyperfine --warmup 2 --runs 10 --export-json "$work/hf.json" \
  "$bin scan --format json ${args[*]}"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('bench-scan: median %.1f ms (min %.1f, max %.1f)' % (r['median']*1e3, r['min']*1e3, r['max']*1e3))" "$work/hf.json"
