#!/usr/bin/env bash
# Issue 13 benchmark, same-run ratio, median of 10 runs (hyperfine):
#   `mcpseal verify` of a signed 50 MB MCP bundle vs `openssl dgst -sha256` of the same file
#   (target ratio <= 1.2). The bundle is a stored (uncompressed) ZIP of 50 MB of random bytes,
#   signed by `mcpseal sign --cert` with an openssl-made RSA-2048 self-signed certificate.
source "$(dirname "$0")/bench-lib.sh"
machine
cd "$work"
bundle=$work/big.mcpb
if [ ! -f "$bundle" ]; then
  python3 - "$work/big.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("manifest.json", '{"manifest_version":"0.3","name":"big","version":"1.0.0"}')
    z.writestr("server/blob.bin", os.urandom(50 * 1000 * 1000))
PY
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Bench Publisher" \
    -keyout "$work/bench.key" -out "$work/bench.pem" \
    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
  "$MCPSEAL" sign "$work/big.zip" --cert "$work/bench.pem" --key "$work/bench.key" --output "$bundle" >/dev/null
  rm -f "$work/big.zip"
fi
"$MCPSEAL" verify "$bundle" --allow-self-signed >/dev/null
hyperfine -N --warmup 2 --runs 10 --export-json mcpb-verify.json \
  "$MCPSEAL verify $bundle --allow-self-signed" "openssl dgst -sha256 $bundle"
v=$(median_of mcpb-verify.json 0); o=$(median_of mcpb-verify.json 1)
echo "mcpb verify 50 MB: mcpseal ${v}s, openssl dgst ${o}s, ratio $(ratio "$v" "$o") (target <= 1.2)"
