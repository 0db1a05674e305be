#!/usr/bin/env bash
# Independent verifiers accept what `mcpseal sign` writes and refuse tampering:
# npm @sigstore/verify and PyPI securesystemslib (pinned in scripts/peers/).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop" && pwd)
node_verify() { NODE_PATH="$MCPSEAL_NODE_MODULES" node "$here/sigstore-verify.js" "$@"; }
py_verify() { "$MCPSEAL_PYTHON" "$here/securesystemslib-verify.py" "$@"; }

"$MCPSEAL" key generate --name pub --no-password >/dev/null || { echo "not ok - key generate"; exit 1; }
"$MCPSEAL" key generate --name other --no-password >/dev/null
printf 'release bytes\n' > server.tgz
"$MCPSEAL" sign server.tgz --key pub.key --server-name demo --server-version 1.0.0 >/dev/null || { echo "not ok - sign"; exit 1; }
cp server.tgz tampered.tgz; printf 'x' >> tampered.tgz
# A bundle whose payload was altered after signing (one byte of the statement).
python3 - <<'PY'
import base64, json
b = json.load(open("server.tgz.sigstore.json"))
p = bytearray(base64.b64decode(b["dsseEnvelope"]["payload"]))
p[-3] ^= 1
b["dsseEnvelope"]["payload"] = base64.b64encode(bytes(p)).decode()
json.dump(b, open("altered.sigstore.json", "w"))
PY
# The same bundle relabelled with another key's id: only the signature check can refuse it.
other_id=$("$MCPSEAL" key id other.pub)
python3 - "$other_id" <<'PY'
import json, sys
b = json.load(open("server.tgz.sigstore.json"))
b["verificationMaterial"]["publicKey"]["hint"] = sys.argv[1]
b["dsseEnvelope"]["signatures"][0]["keyid"] = sys.argv[1]
json.dump(b, open("relabelled.sigstore.json", "w"))
PY

check() { # name expected(0|1) command...
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1); local got=$?
  [ "$got" -ne 0 ] && got=1
  if [ "$got" -eq "$want" ]; then echo "ok - $name"; else echo "not ok - $name (exit $got): $out"; fi
}
for v in node_verify py_verify; do
  peer=${v%_verify}; [ "$peer" = node ] && peer=@sigstore/verify || peer=securesystemslib
  check "$peer accepts a bundle mcpseal signed" 0 $v server.tgz.sigstore.json pub.pub server.tgz
  check "$peer refuses a tampered artifact" 1 $v server.tgz.sigstore.json pub.pub tampered.tgz
  check "$peer refuses an altered statement" 1 $v altered.sigstore.json pub.pub server.tgz
  check "$peer refuses another key" 1 $v server.tgz.sigstore.json other.pub server.tgz
  check "$peer refuses a bundle relabelled with another key's id" 1 $v relabelled.sigstore.json other.pub server.tgz
done
check "mcpseal agrees: tampered artifact refused" 1 "$MCPSEAL" verify tampered.tgz --bundle server.tgz.sigstore.json --key pub.pub
check "mcpseal agrees: altered statement refused" 1 "$MCPSEAL" verify server.tgz --bundle altered.sigstore.json --key pub.pub
check "mcpseal agrees: relabelled bundle refused" 1 "$MCPSEAL" verify server.tgz --bundle relabelled.sigstore.json --key other.pub
