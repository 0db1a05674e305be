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
