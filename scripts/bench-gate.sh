#!/usr/bin/env bash
# Issues 4 and 17: the gate against its floor, in one interleaved run, median of ROUNDS (5):
#  1. tools/call round trip (CALLS = 10,000 to the fixture server) four ways, interleaved per
#     round: direct (no process in between), a do-nothing C relay built here
#     (scripts/bench/relay.c: read/write both ways, no parsing), socat, and the gate. Once
#     pinned to one core (taskset -c 0: every process shares it, so it is CPU cost) and once
#     unpinned (cross-core wake-ups). Reported: added median and p99 over the relay, calls/s
#     against the relay, and a whole session (spawn to exit after 10,000 calls) against the
#     relay's. Targets: added median <= +3 us over the relay, session <= 1.3x the relay's.
#  2. gate start -> child spawn (from the audit log's own timestamps) with locks of 1, 100,
#     1,000 and 10,000 servers x 20 tools (target: <= 2 ms at 1,000, <= 1.2x the 1-server
#     time). The locks are generated (the pinned entry copied under other names, so every
#     entry is valid), and each gets one launch first, which checks the whole file and stamps
#     it (docs/lockfile.md); the figures are the launches after that.
#  3. the gate's peak RSS (VmHWM; target <= 15 MiB).
#  4. issue 14: the same round trip through a gate whose policy has 50 Cedar policies ([authz])
#     against the same gate without [authz], interleaved (target: added median per tools/call
#     <= 100 us). AUTHZ_ONLY=1 runs this section alone.
# With BASELINE=/path/to/an/older/mcpseal, that build's gate joins every run (interleaved).
source "$(dirname "$0")/bench-lib.sh"
machine
cd "$work"
rm -rf gate && mkdir gate && cd gate
cc -O2 -o relay "$root/scripts/bench/relay.c" -lpthread
command -v socat >/dev/null || { apt-get update -qq && apt-get install -y -qq socat >/dev/null; }
server=("$MCPSEAL" fixture-server --extra-tools 18)   # 20 tools
"$MCPSEAL" pin fx -- "${server[@]}" >/dev/null
calls=${CALLS:-10000}
# AUTHZ_ONLY=1 runs section 4 alone.
if [ -z "${AUTHZ_ONLY:-}" ]; then
rounds=${ROUNDS:-5}
rtt() { python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$@"; }
for pin in one-core unpinned; do
  pre=(); [ "$pin" = one-core ] && pre=(taskset -c 0)
  for run in $(seq 1 "$rounds"); do
    d=$("${pre[@]}" python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "${server[@]}")
    r=$("${pre[@]}" python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- ./relay "${server[@]}")
    s=$("${pre[@]}" python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- socat STDIO EXEC:"${server[*]}")
    g=$("${pre[@]}" python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$MCPSEAL" run --name fx -- "${server[@]}")
    b=null
    [ -n "${BASELINE:-}" ] && b=$("${pre[@]}" python3 "$root/scripts/bench/gate_rtt.py" "$calls" -- "$BASELINE" run --name fx -- "${server[@]}")
    echo "{\"pin\": \"$pin\", \"run\": $run, \"direct\": $d, \"relay\": $r, \"socat\": $s, \"gate\": $g, \"baseline\": $b}"
  done
done > rtt.jsonl
python3 - <<'PY'
import json, statistics
rows = [json.loads(l) for l in open("rtt.jsonl")]
for pin in ("one-core", "unpinned"):
    rs = [r for r in rows if r["pin"] == pin]
    med = lambda side, k: statistics.median(r[side][k] for r in rs)
    spread = lambda side, k: (min(r[side][k] for r in rs), max(r[side][k] for r in rs))
    print(f"[{pin}] round trip median (us): direct {med('direct','median_us'):.1f}, relay {med('relay','median_us'):.1f}, socat {med('socat','median_us'):.1f}, gate {med('gate','median_us'):.1f}")
    print(f"[{pin}]   gate - relay: median {med('gate','median_us') - med('relay','median_us'):+.1f} us (target <= +3), p99 {med('gate','p99_us') - med('relay','p99_us'):+.1f} us; gate - direct {med('gate','median_us') - med('direct','median_us'):+.1f} us")
    print(f"[{pin}]   calls/s gate / relay {med('gate','calls_per_s') / med('relay','calls_per_s'):.3f}; gate / socat {med('gate','calls_per_s') / med('socat','calls_per_s'):.3f}")
    print(f"[{pin}]   whole session (ms): relay {med('relay','session_ms'):.0f}, gate {med('gate','session_ms'):.0f}, ratio {med('gate','session_ms') / med('relay','session_ms'):.3f} (target <= 1.3)")
    lo, hi = spread('gate', 'median_us'); rlo, rhi = spread('relay', 'median_us')
    print(f"[{pin}]   noise: gate median {lo:.1f}-{hi:.1f} us, relay {rlo:.1f}-{rhi:.1f} us over {len(rs)} rounds")
    print(f"[{pin}]   gate peak RSS {med('gate','peak_rss_kib') / 1024:.1f} MiB (target <= 15)")
    if rs[0]["baseline"]:
        print(f"[{pin}]   baseline gate median {med('baseline','median_us'):.1f} us; this / baseline calls/s {med('gate','calls_per_s') / med('baseline','calls_per_s'):.3f}")
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
# Gate start -> spawn against the size of the lock.
for n in 1 100 1000 10000; do
  mkdir -p "lock$n"
  python3 "$root/scripts/bench/fleet_lock.py" mcpseal.lock "$n" fx > "lock$n/mcpseal.lock"
  printf '' | "$MCPSEAL" run --name fx --lock "lock$n/mcpseal.lock" -- "${server[@]}" >/dev/null  # stamps it
  ls -la "lock$n/mcpseal.lock" | awk -v n="$n" '{print "lock of " n " servers: " $5 " bytes"}'
done
rm -f start-*.jsonl
for run in $(seq 1 20); do
  for n in 1 100 1000 10000; do
    printf '' | "$MCPSEAL" run --name fx --lock "lock$n/mcpseal.lock" --audit-log "start-$n.jsonl" -- "${server[@]}" >/dev/null
  done
  [ -n "${BASELINE:-}" ] && printf '' | "$BASELINE" run --name fx --lock lock1000/mcpseal.lock --audit-log baseline.jsonl -- "${server[@]}" >/dev/null
done
python3 - <<'PY'
import json, statistics, os
from datetime import datetime
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
one = statistics.median(gaps("start-1.jsonl"))
for n in (1, 100, 1000, 10000):
    g = gaps(f"start-{n}.jsonl")
    print(f"gate start -> spawn, {n} servers x 20 tools: median {statistics.median(g):.2f} ms (min {min(g):.2f}, max {max(g):.2f}) over {len(g)} runs, {statistics.median(g) / one:.2f}x the 1-server time")
if os.path.exists("baseline.jsonl"):
    print(f"baseline gate start -> spawn at 1,000 servers: median {statistics.median(gaps('baseline.jsonl')):.2f} ms")
PY
