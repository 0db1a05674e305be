#!/usr/bin/env bash
# Issue 12 benchmark, same-run ratio against skopeo: `mcpseal verify oci://…` of a signed image
# (cosign 3 referrer through the tag schema, and a legacy .sig) on a loopback docker-registry
# 2.8.2, vs `skopeo inspect` of the same image (manifest and config fetch). Target ratio <= 2.
# hyperfine, 5 warmup runs, 30 runs each, interleaved in one hyperfine call.
# MCPSEAL=path overrides the binary (default: the release build bench-lib.sh makes).
if [ -n "${MCPSEAL:-}" ]; then
  set -euo pipefail
  root=$(cd "$(dirname "$0")/.." && pwd); work=$root/target/bench; mkdir -p "$work"
  machine() { echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"; }
  median_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }
  ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.3f}')" "$1" "$2"; }
else
  source "$(dirname "$0")/bench-lib.sh"
fi
machine
d=$(mktemp -d)
trap 'kill "$reg_pid" 2>/dev/null; rm -rf "$d"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$d/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $d/data}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$d/config.yml" >/dev/null 2>&1 & reg_pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
umoci init --layout "$d/layout" >/dev/null
umoci new --image "$d/layout:img" >/dev/null
head -c 1048576 /dev/urandom > "$d/blob"
umoci insert --rootless --image "$d/layout:img" "$d/blob" /blob >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$d/layout:img" "docker://127.0.0.1:$port/bench/img:1"
cd "$d"
"$MCPSEAL" key generate --name k --no-password >/dev/null
"$MCPSEAL" sign "oci://127.0.0.1:$port/bench/img:1" --key k.key --legacy >/dev/null
hyperfine -N --warmup 5 --runs 30 --export-json "$work/oci.json" \
  "$MCPSEAL verify oci://127.0.0.1:$port/bench/img:1 --key k.pub" \
  "skopeo inspect --tls-verify=false docker://127.0.0.1:$port/bench/img:1" >/dev/null
m=$(median_of "$work/oci.json" 0); s=$(median_of "$work/oci.json" 1)
echo "mcpseal verify oci:// median $(python3 -c "print(f'{$m*1000:.1f}')") ms; skopeo inspect median $(python3 -c "print(f'{$s*1000:.1f}')") ms; ratio $(ratio "$m" "$s") (target <= 2)"
