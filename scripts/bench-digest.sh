#!/usr/bin/env bash
# Issue 2 benchmarks, same-run ratios, median of 5+ runs (hyperfine):
#  1. `mcpseal digest` of a 1 GiB file vs `openssl dgst -sha256`          (target ratio <= 1.05)
#  2. a tree of 10,000 small files vs `find | xargs sha256sum` and vs `openssl dgst` (target: faster than both)
#  3. sign / verify of the 1 GiB file vs Debian's `minisign -S` / `-V`     (target: verify <= 1.1 x digest)
source "$(dirname "$0")/bench-lib.sh"
machine
big=$work/big.bin
[ -f "$big" ] || head -c 1073741824 /dev/urandom > "$big"
tree=$work/tree
if [ ! -d "$tree" ]; then
  mkdir -p "$tree"
  python3 - "$tree" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, f"d{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
        f.write(os.urandom(1000 + i % 3000))
PY
fi
cd "$work"
hyperfine -N --warmup 1 --runs 5 --export-json digest-big.json \
  "$MCPSEAL digest $big" "openssl dgst -sha256 $big"
hyperfine --warmup 1 --runs 5 --export-json digest-tree.json \
  "$MCPSEAL digest $tree" \
  "find $tree -type f -print0 | xargs -0 sha256sum > /dev/null" \
  "find $tree -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null"
rm -f k.key k.pub m.key m.pub "$big.sigstore.json" "$big.minisig"
"$MCPSEAL" key generate --name k --no-password >/dev/null
minisign -G -W -p m.pub -s m.key -f >/dev/null
"$MCPSEAL" sign "$big" --key k.key >/dev/null
minisign -S -s m.key -m "$big" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json sign.json \
  "$MCPSEAL sign $big --key k.key --output $work/big.bundle" "minisign -S -s m.key -m $big -x $work/big.minisig2"
hyperfine -N --warmup 1 --runs 5 --export-json verify.json \
  "$MCPSEAL verify $big --bundle $big.sigstore.json --key k.pub" "minisign -V -p m.pub -m $big" "$MCPSEAL digest $big"
d=$(median_of digest-big.json 0); o=$(median_of digest-big.json 1)
t=$(median_of digest-tree.json 0); s=$(median_of digest-tree.json 1); so=$(median_of digest-tree.json 2)
sm=$(median_of sign.json 0); sn=$(median_of sign.json 1)
vm=$(median_of verify.json 0); vn=$(median_of verify.json 1); vd=$(median_of verify.json 2)
echo
echo "digest 1 GiB: mcpseal ${d}s, openssl ${o}s, ratio $(ratio "$d" "$o") (target <= 1.05)"
echo "tree 10,000 files: mcpseal ${t}s, sha256sum ${s}s (ratio $(ratio "$t" "$s")), openssl ${so}s (ratio $(ratio "$t" "$so")) (target < 1 for both)"
echo "sign 1 GiB: mcpseal ${sm}s, minisign ${sn}s, ratio $(ratio "$sm" "$sn")"
echo "verify 1 GiB: mcpseal ${vm}s, minisign ${vn}s (ratio $(ratio "$vm" "$vn")); verify / digest $(ratio "$vm" "$vd") (target <= 1.1)"
