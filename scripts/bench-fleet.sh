#!/usr/bin/env bash
# Issue 17: fleet scale in a simulation. A generated lock of N servers x 20 tools (N = 10,000
# by default; FLEET=1000 for a quicker run): every entry the fixture server's pinned entry
# under another name (scripts/bench/fleet_lock.py), so every entry is valid and digested.
# Measured (hyperfine, median of RUNS = 5):
#  - the lock's size;
#  - `pin` of one more server into it (load + validate the whole lock, write it atomically);
#  - `scan --lock` of it (every rule over N x 20 tools);
#  - `check --jobs 8` of CHECKED (200) of its servers, each a real fixture-server process
#    (a lock of that many, same entry): check is one capture per server, so the fleet's
#    figure is this times N / CHECKED;
#  - gate start -> spawn with it (audit timestamps; the lock stamped by a first launch).
# `lock pull` (OCI) needs a registry and is not simulated here.
source "$(dirname "$0")/bench-lib.sh"
machine
cd "$work"
rm -rf fleet && mkdir fleet && cd fleet
n=${FLEET:-10000}
checked=${CHECKED:-200}
runs=${RUNS:-5}
server=("$MCPSEAL" fixture-server --extra-tools 18)
"$MCPSEAL" pin fx -- "${server[@]}" >/dev/null
python3 "$root/scripts/bench/fleet_lock.py" mcpseal.lock "$n" fx > fleet.lock
python3 "$root/scripts/bench/fleet_lock.py" mcpseal.lock "$checked" fx > checked.lock
echo "fleet lock: $n servers x 20 tools, $(wc -c < fleet.lock) bytes"
hyperfine --warmup 1 --runs "$runs" --export-json hf.json \
  -n pin --prepare "cp fleet.lock work.lock" "$MCPSEAL pin --lock work.lock extra -- ${server[*]}" \
  -n scan-lock "$MCPSEAL scan --format json --lock fleet.lock || true" \
  -n "check-$checked" "$MCPSEAL check --lock checked.lock --jobs 8" >/dev/null
python3 - "$n" "$checked" <<'PY'
import json, sys
n, checked = int(sys.argv[1]), int(sys.argv[2])
r = {x["command"]: x for x in json.load(open("hf.json"))["results"]}
for k in ("pin", "scan-lock", f"check-{checked}"):
    x = r[k]
    print(f"{k}: median {x['median'] * 1000:.0f} ms (min {x['min'] * 1000:.0f}, max {x['max'] * 1000:.0f})")
c = r[f"check-{checked}"]["median"]
print(f"check of the whole fleet, extrapolated linearly: {c * n / checked:.0f} s ({c / checked * 1000:.1f} ms per server)")
PY
printf '' | "$MCPSEAL" run --name fx --lock fleet.lock -- "${server[@]}" >/dev/null   # stamps it
rm -f start.jsonl
for run in $(seq 1 20); do
  printf '' | "$MCPSEAL" run --name fx --lock fleet.lock --audit-log start.jsonl -- "${server[@]}" >/dev/null
done
python3 - <<'PY'
import json, statistics
from datetime import datetime
def t(s):
    base, frac = s.rstrip("Z").split(".")
    return datetime.fromisoformat(base).timestamp() + float("0." + frac)
starts, g = {}, []
for e in (json.loads(l) for l in open("start.jsonl")):
    if e["event"] == "gate-start":
        starts[e["pid"]] = t(e["time"])
    elif e["event"] == "server-start":
        g.append((t(e["time"]) - starts[e["pid"]]) * 1000)
print(f"gate start -> spawn with the fleet lock: median {statistics.median(g):.2f} ms over {len(g)} runs")
PY
