#!/usr/bin/env bash
# Issue 4 benchmarks, same-run ratios against the direct pipe, median of 5 runs:
#  1. tools/call round trip through the gate vs direct, 10,000 calls to the fixture server
#     (target: added median <= 50 us, added p99 <= 500 us); calls per second both ways
#  2. gate start -> child spawn with a lock of 100 servers x 20 tools (target <= 5 ms), from the
#     audit log's own timestamps (gate-start -> server-start)
#  3. the gate's peak RSS (VmHWM; target <= 15 MiB)
#  4. issue 14: the same round trip through a gate whose policy has 50 Cedar policies ([authz])
#     against the same gate without [authz], interleaved in the same runs (target: added median
#     per tools/call <= 100 us)
# With BASELINE=/path/to/an/older/mcpseal, that build's gate is measured in the same runs too
# (interleaved), so a change to the gate is a same-run ratio, not a comparison across days.
source "$(dirname "$0")/bench-lib.sh"
machine
cd "$work"
rm -rf gate && mkdir gate && cd gate
server=("$MCPSEAL" fixture-server --extra-tools 18)   # 20 tools
"$MCPSEAL" pin fx -- "${server[@]}" >/dev/null
calls=${CALLS:-10000}
# AUTHZ_ONLY=1 runs section 4 alone.
if [ -z "${AUTHZ_ONLY:-}" ]; then
for run in 1 2 3 4 5; do
  d=$(python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "${server[@]}")
  g=$(python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$MCPSEAL" run --name fx -- "${server[@]}")
  b=null
  [ -n "${BASELINE:-}" ] && b=$(python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$BASELINE" run --name fx -- "${server[@]}")
  echo "{\"run\": $run, \"direct\": $d, \"gate\": $g, \"baseline\": $b}"
done > rtt.jsonl
python3 - <<'PY'
import json, statistics
rows = [json.loads(l) for l in open("rtt.jsonl")]
med = lambda k, side: statistics.median(r[side][k] for r in rows)
print(f"round trip median: direct {med('median_us','direct'):.1f} us, gate {med('median_us','gate'):.1f} us, added {med('median_us','gate') - med('median_us','direct'):.1f} us (target <= 50)")
print(f"round trip p99:    direct {med('p99_us','direct'):.1f} us, gate {med('p99_us','gate'):.1f} us, added {med('p99_us','gate') - med('p99_us','direct'):.1f} us (target <= 500)")
print(f"calls per second:  direct {med('calls_per_s','direct'):.0f}, gate {med('calls_per_s','gate'):.0f}, ratio {med('calls_per_s','gate') / med('calls_per_s','direct'):.3f}")
print(f"gate peak RSS:     {med('peak_rss_kib','gate') / 1024:.1f} MiB (target <= 15)")
if rows[0]["baseline"]:
    print(f"baseline gate:     median {med('median_us','baseline'):.1f} us, p99 {med('p99_us','baseline'):.1f} us, calls/s {med('calls_per_s','baseline'):.0f}; this gate / baseline calls/s = {med('calls_per_s','gate') / med('calls_per_s','baseline'):.3f}")
PY
fi
# [authz] with 50 Cedar policies: 47 permits for other roles with argument conditions, the
# bench principal's permit on echo, a forbid on destructive tools and one on a canary argument.
python3 - > authz50.cedar <<'PY'
for i in range(47):
    print(f'@id("other-{i}")\npermit (principal in Mcp::Role::"role{i}", action == Mcp::Action::"call_tool", resource == Mcp::Tool::"tool_{i % 18}")\nwhen {{ context.arguments has x && context.arguments.x == "v{i}" }};')
print('@id("bench-echo")\npermit (principal in Mcp::Role::"bench", action == Mcp::Action::"call_tool", resource == Mcp::Tool::"echo")\nwhen { context.arguments has text && context.server == "fx" };')
print('@id("no-destructive")\nforbid (principal, action == Mcp::Action::"call_tool", resource)\nwhen { resource has destructiveHint && resource.destructiveHint };')
print('@id("no-secret")\nforbid (principal, action == Mcp::Action::"call_tool", resource)\nwhen { context.arguments has text && context.arguments.text like "*SECRET*" };')
PY
{ printf '[authz]\ncedar = "authz50.cedar"\n[authz.roles]\nbench = ["bench"]\n'; for i in $(seq 0 46); do printf 'role%s = ["u%s"]\n' "$i" "$i"; done; } > authz50.toml
test "$(grep -c '^@id' authz50.cedar)" = 50
for run in 1 2 3 4 5; do
  n=$(python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$MCPSEAL" run --name fx -- "${server[@]}")
  a=$(python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$MCPSEAL" run --name fx --policy authz50.toml --principal bench -- "${server[@]}")
  echo "{\"run\": $run, \"plain\": $n, \"authz\": $a}"
done > authz.jsonl
python3 - <<'PY'
import json, statistics
rows = [json.loads(l) for l in open("authz.jsonl")]
med = lambda k, side: statistics.median(r[side][k] for r in rows)
p, a = med('median_us', 'plain'), med('median_us', 'authz')
print(f"[authz] 50 Cedar policies: median per tools/call {a:.1f} us vs {p:.1f} us without [authz], added {a - p:.1f} us (target <= 100); ratio {a / p:.3f}")
print(f"[authz] p99: {med('p99_us', 'authz'):.1f} us vs {med('p99_us', 'plain'):.1f} us; peak RSS {med('peak_rss_kib', 'authz') / 1024:.1f} MiB vs {med('peak_rss_kib', 'plain') / 1024:.1f} MiB")
PY
[ -n "${AUTHZ_ONLY:-}" ] && exit 0
# Gate start -> spawn, with a lock of 100 servers x 20 tools.
for i in $(seq -w 1 99); do "$MCPSEAL" pin "s$i" -- "${server[@]}" >/dev/null; done
ls -la mcpseal.lock | awk '{print "lock size: " $5 " bytes"}'
rm -f audit.jsonl
rm -f baseline.jsonl
for run in $(seq 1 20); do
  printf '' | "$MCPSEAL" run --name fx --audit-log audit.jsonl -- "${server[@]}" >/dev/null
  [ -n "${BASELINE:-}" ] && printf '' | "$BASELINE" run --name fx --audit-log baseline.jsonl -- "${server[@]}" >/dev/null
done
python3 - <<'PY'
import json, statistics
from datetime import datetime
import os
def t(s):  # RFC 3339 with nanoseconds
    base, frac = s.rstrip("Z").split(".")
    return datetime.fromisoformat(base).timestamp() + float("0." + frac)
def gaps(path):
    starts, out = {}, []
    for e in (json.loads(l) for l in open(path)):
        if e["event"] == "gate-start":
            starts[e["pid"]] = t(e["time"])
        elif e["event"] == "server-start" and e["pid"] in starts:
            out.append((t(e["time"]) - starts[e["pid"]]) * 1000)
    return out
g = gaps("audit.jsonl")
print(f"gate start -> child spawn, lock of 100 servers x 20 tools: median {statistics.median(g):.2f} ms over {len(g)} runs (target <= 5)")
if os.path.exists("baseline.jsonl"):
    b = gaps("baseline.jsonl")
    print(f"baseline gate start -> spawn: median {statistics.median(b):.2f} ms; this / baseline = {statistics.median(g) / statistics.median(b):.2f}")
PY
