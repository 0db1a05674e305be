#!/usr/bin/env bash
# Issue 3 benchmarks, same-run ratios, median of 10 runs:
#  1. `mcpseal surface` vs the server's own start-to-first-tools/list time (target: <= 20 ms added)
#     for the fixture server and the real server-everything (node)
#  2. `mcpseal check` of 50 pinned servers vs one (target: wall <= 1.5 x the slowest single server)
#  3. digest + diff of a 1,000-tool surface (target <= 10 ms): benches/surface.rs
source "$(dirname "$0")/bench-lib.sh"
machine
source "$root/target/peers/env.sh" 2>/dev/null || bash "$root/scripts/install-peers.sh" >/dev/null
source "$root/target/peers/env.sh"
cd "$work"
ev="node $MCPSEAL_NODE_MODULES/@modelcontextprotocol/server-everything/dist/index.js"
fx="$MCPSEAL fixture-server"
# mcpseal surface waits a 200 ms quiet period for list_changed before it trusts the lists
# (docs/capture.md); --settle is not a flag, so the added time includes that wait by design.
hyperfine -N --warmup 2 --runs 10 --export-json surface.json \
  "python3 $root/scripts/bench/first_list.py -- $fx" "$MCPSEAL surface -- $fx" \
  "python3 $root/scripts/bench/first_list.py -- $ev" "$MCPSEAL surface -- $ev"
b1=$(median_of surface.json 0); s1=$(median_of surface.json 1); b2=$(median_of surface.json 2); s2=$(median_of surface.json 3)
python3 -c "import sys; b1,s1,b2,s2=map(float,sys.argv[1:]); print(f'surface, fixture: baseline {b1*1000:.1f} ms, mcpseal {s1*1000:.1f} ms, added {(s1-b1)*1000:.1f} ms'); print(f'surface, server-everything: baseline {b2*1000:.1f} ms, mcpseal {s2*1000:.1f} ms, added {(s2-b2)*1000:.1f} ms (target <= 20 ms)')" "$b1" "$s1" "$b2" "$s2"
rm -rf check && mkdir check && cd check
"$MCPSEAL" pin one --lock one.lock -- $ev >/dev/null
for i in $(seq -w 1 50); do "$MCPSEAL" pin "ev$i" --lock fifty.lock -- $ev >/dev/null; done
hyperfine -N --warmup 1 --runs 5 --export-json ../check.json \
  "$MCPSEAL check --lock one.lock" "$MCPSEAL check --lock fifty.lock --jobs 50"
one=$(median_of ../check.json 0); fifty=$(median_of ../check.json 1)
echo "check: 1 server-everything ${one}s, 50 of them ${fifty}s, ratio $(ratio "$fifty" "$one") (target <= 1.5)"
cd "$root" && cargo bench --bench surface 2>/dev/null | grep -E '^(digest|diff)'
# Side by side with snyk-agent-scan (PyPI, formerly mcp-scan) `inspect`, which also starts the
# server and lists its surface, offline. Installed here, not in CI: it is a benchmark peer only.
[ -x "$root/target/peers/scan-venv/bin/snyk-agent-scan" ] || {
  python3 -m venv "$root/target/peers/scan-venv"
  "$root/target/peers/scan-venv/bin/pip" install -q snyk-agent-scan==0.6.9
}
cd "$work"
printf '{"mcpServers":{"ev":{"command":"node","args":["%s"]}}}\n' "$MCPSEAL_NODE_MODULES/@modelcontextprotocol/server-everything/dist/index.js" > snyk-cfg.json
hyperfine -N --warmup 1 --runs 5 --export-json snyk.json \
  "$MCPSEAL surface -- $ev" \
  "$root/target/peers/scan-venv/bin/snyk-agent-scan inspect --dangerously-run-mcp-servers --suppress-mcpserver-io true snyk-cfg.json"
m=$(median_of snyk.json 0); k=$(median_of snyk.json 1)
echo "server-everything surface: mcpseal ${m}s, snyk-agent-scan inspect ${k}s, ratio $(ratio "$m" "$k")"
