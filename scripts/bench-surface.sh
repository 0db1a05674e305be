#!/usr/bin/env bash
# Issues 3 and 17 benchmarks, same-run ratios, median of 10 runs:
#  1. `mcpseal surface` vs the server's own start-to-first-tools/list time (target: <= 20 ms added)
#     for the fixture server and the real server-everything (node), and `surface` against
#     `surface --settle 0` on the fixture (target: <= 2x)
#  2. `mcpseal check` of 20 pinned fixture servers (one work queue, --jobs 20) vs one (target:
#     wall <= 1.5 x the slowest single server), and of 8 server-everything (--jobs 8) vs one
#  3. digest + diff of a 1,000-tool surface (target <= 10 ms): benches/surface.rs
source "$(dirname "$0")/bench-lib.sh"
machine
source "$root/target/peers/env.sh" 2>/dev/null || bash "$root/scripts/install-peers.sh" >/dev/null
source "$root/target/peers/env.sh"
cd "$work"
ev="node $MCPSEAL_NODE_MODULES/@modelcontextprotocol/server-everything/dist/index.js"
fx="$MCPSEAL fixture-server"
# surface settles by events (docs/capture.md): a server that declared `listChanged` gets one
# `ping` after the lists; a quiet window (--settle, 10 ms) follows only an announcement.
hyperfine -N --warmup 2 --runs 10 --export-json surface.json \
  "python3 $root/scripts/bench/first_list.py -- $fx" "$MCPSEAL surface -- $fx" \
  "python3 $root/scripts/bench/first_list.py -- $ev" "$MCPSEAL surface -- $ev" \
  "$MCPSEAL surface --settle 0 -- $fx"
b1=$(median_of surface.json 0); s1=$(median_of surface.json 1); b2=$(median_of surface.json 2); s2=$(median_of surface.json 3); z1=$(median_of surface.json 4)
python3 -c "import sys; b1,s1,b2,s2,z1=map(float,sys.argv[1:]); print(f'surface, fixture: baseline {b1*1000:.1f} ms, mcpseal {s1*1000:.1f} ms, added {(s1-b1)*1000:.1f} ms; --settle 0 {z1*1000:.1f} ms, ratio {s1/z1:.2f} (target <= 2)'); print(f'surface, server-everything: baseline {b2*1000:.1f} ms, mcpseal {s2*1000:.1f} ms, added {(s2-b2)*1000:.1f} ms (target <= 20 ms)')" "$b1" "$s1" "$b2" "$s2" "$z1"
rm -rf check && mkdir check && cd check
# The work queue (issue 17): 20 fixture servers, each light on CPU, so the figure is the queue's
# and not two cores running twenty servers' start-up; then real node servers, which are
# CPU-bound here (server-everything needs ~0.45 s of CPU to start: 20 of them cannot finish on
# two cores in 1.5x one's time, queue or not).
"$MCPSEAL" pin one --lock fx-one.lock -- $fx >/dev/null
for i in $(seq -w 1 20); do "$MCPSEAL" pin "fx$i" --lock fx-twenty.lock -- $fx >/dev/null; done
"$MCPSEAL" pin one --lock one.lock -- $ev >/dev/null
for i in $(seq -w 1 8); do "$MCPSEAL" pin "ev$i" --lock eight.lock -- $ev >/dev/null; done
hyperfine -N --warmup 1 --runs 5 --export-json ../check.json \
  "$MCPSEAL check --lock fx-one.lock" "$MCPSEAL check --lock fx-twenty.lock --jobs 20" \
  "$MCPSEAL check --lock one.lock" "$MCPSEAL check --lock eight.lock --jobs 8"
f1=$(median_of ../check.json 0); f20=$(median_of ../check.json 1); e1=$(median_of ../check.json 2); e8=$(median_of ../check.json 3)
echo "check: 1 fixture ${f1}s, 20 fixtures (--jobs 20) ${f20}s, ratio $(ratio "$f20" "$f1") (target <= 1.5)"
echo "check: 1 server-everything ${e1}s, 8 of them (--jobs 8) ${e8}s, ratio $(ratio "$e8" "$e1") (CPU-bound on $(nproc) cores)"
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
