#!/usr/bin/env bash
# scan: SARIF 2.1.0 output accepted by an independent validator (PyPI sarif-kit, which checks
# the OASIS schema with jsonschema), a broken log refused by it, and the attack / benign
# corpora giving exit 1 / 0. Runs in an empty temp dir; $MCPSEAL is the binary.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/testdata/scan
check() { if "$@" >/dev/null 2>&1; then echo "ok - $desc"; else echo "not ok - $desc"; fi; }

args=()
for f in "$data"/attacks/*.json "$data"/benign/*.json; do
  [ "${f##*/}" = launch-config.json ] && continue
  args+=(--surface-file "$f")
done
"$MCPSEAL" scan --format sarif "${args[@]}" > scan.sarif; code=$?
desc="scan --format sarif over both corpora exits 1 (attacks present)"; check test "$code" -eq 1
desc="sarif-kit validate accepts mcpseal's SARIF"; check sarif-kit validate scan.sarif
python3 - scan.sarif broken.sarif <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
log["runs"][0]["results"][0]["level"] = "severe"
json.dump(log, open(sys.argv[2], "w"))
PY
desc="sarif-kit validate refuses a log with an invalid level"; check test "$(sarif-kit validate broken.sarif >/dev/null 2>&1; echo $?)" -ne 0

benign=()
for f in "$data"/benign/*.json; do benign+=(--surface-file "$f"); done
"$MCPSEAL" scan "${benign[@]}" > benign.txt; code=$?
desc="scan of the five real reference servers' surfaces exits 0 (nothing at high)"; check test "$code" -eq 0
