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
#  - `lock push` and `lock pull` of it through a real docker-registry on loopback (the one the
#    OCI tests use, tests/common/registry.rs): pull is fetch, verify the signature over the
#    lock's digest, check its binding and serial, install atomically. Also at 1,000 servers,
#    so the growth is measured, not assumed.
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

# lock push / pull through a real registry on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf reg && mkdir reg
cat > reg/config.yml <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $PWD/reg/data}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve reg/config.yml >/dev/null 2>&1 & reg_pid=$!
trap 'kill "$reg_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
"$MCPSEAL" key generate --name fleet --no-password --force >/dev/null
python3 "$root/scripts/bench/fleet_lock.py" mcpseal.lock 1000 fx > thousand.lock
for size in thousand fleet; do
  rm -rf "pub-$size" "host-$size" && mkdir "pub-$size" "host-$size"
  cp "$size.lock" "pub-$size/mcpseal.lock"
  url="oci://127.0.0.1:$port/fleet/$size:prod"
  hyperfine --warmup 1 --runs "$runs" --export-json "hf-$size.json" \
    -n push "$MCPSEAL lock push $url --key fleet.key --lock pub-$size/mcpseal.lock --no-policy" \
    -n pull --prepare "rm -f host-$size/*" \
    "$MCPSEAL lock pull $url --lock-key fleet.pub --lock host-$size/mcpseal.lock --state-file host-$size/state.json" >/dev/null
  cmp "$size.lock" "host-$size/mcpseal.lock"
  python3 - "$size" "$(wc -c < "$size.lock")" <<'PY'
import json, sys
size, nbytes = sys.argv[1], int(sys.argv[2])
for x in json.load(open(f"hf-{size}.json"))["results"]:
    print(f"lock {x['command']} of the {size} lock ({nbytes / 1e6:.1f} MB): median {x['median'] * 1000:.0f} ms "
          f"(min {x['min'] * 1000:.0f}, max {x['max'] * 1000:.0f}), {nbytes / 1e6 / x['median']:.0f} MB/s")
PY
done
