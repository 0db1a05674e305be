#!/usr/bin/env bash
# Benchmark `mcpseal scan`: 100 servers x 50 tools, end to end (process start, reading and
# strictly parsing the surface files, every rule, cross-server rules over 5,000 names, JSON
# output). Target (issue 5): <= 100 ms. Median of 10 runs with hyperfine.
#
#   bash scripts/bench-scan.sh [path/to/mcpseal]     (default: target/release/mcpseal)
#
# The surfaces are generated here (deterministically) as surface files; when the lockfile
# lands, the same surfaces go through `mcpseal scan --lock`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/mcpseal}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, sys
out = sys.argv[1]
for s in range(100):
    tools = []
    for t in range(50):
        name = f"srv{s}_tool_{t}"
        tools.append({
            "name": name,
            "title": f"Tool {t} of server {s}",
            "description": (
                f"Reads records from the {s}th data source and returns them as JSON. "
                "Use the 'limit' parameter to page through large result sets; results are "
                "sorted by creation time. See https://docs.example.com/api for the field "
                f"reference. Related: srv{s}_tool_{(t + 1) % 50} writes records back."
            ),
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "A filter expression, e.g. `status = 'open'`."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "Largest number of records to return."},
                    "format": {"type": "string", "enum": ["json", "csv", "table"], "default": "json", "description": "Output format."},
                    "fields": {"type": "array", "items": {"type": "string"}, "description": "Fields to include; all when empty."},
                },
                "required": ["query"],
            },
            "annotations": {"readOnlyHint": True, "openWorldHint": False},
        })
    surface = {"serverInfo": {"name": f"bench-server-{s}", "version": "1.0.0"}, "tools": tools}
    with open(f"{out}/s{s:03d}.json", "w") as f:
        json.dump(surface, f)
PY
args=()
for f in "$work"/s*.json; do args+=(--surface-file "$f"); done
echo "bench-scan: $(ls "$work" | wc -l) servers x 50 tools, $(du -sh "$work" | cut -f1) of surface JSON"
echo "bench-scan: nproc=$(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin" scan --format json "${args[@]}" > "$work/out.json" || true
python3 -c "import json,sys; v=json.load(open(sys.argv[1])); print('bench-scan: servers', v['servers'], 'findings', len(v['findings']), 'failing', v['failing'])" "$work/out.json"
hyperfine --warmup 2 --runs 10 --export-json "$work/hf.json" \
  "$bin scan --format json ${args[*]}"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('bench-scan: median %.1f ms (min %.1f, max %.1f)' % (r['median']*1e3, r['min']*1e3, r['max']*1e3))" "$work/hf.json"
