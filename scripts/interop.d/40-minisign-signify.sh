#!/usr/bin/env bash
# Signatures freshly made by Debian's minisign and signify-openbsd verify with mcpseal, and
# tampered artifacts, an edited trusted comment and another key do not.
set -u
check() { # name expected(0|1) command...
  local name=$1 want=$2; shift 2
  local out; out=$("$@" 2>&1); local got=$?
  [ "$got" -ne 0 ] && got=1
  if [ "$got" -eq "$want" ]; then echo "ok - $name"; else echo "not ok - $name (exit $got): $out"; fi
}
command -v minisign >/dev/null || { echo "not ok - minisign is not installed"; exit 1; }
command -v signify-openbsd >/dev/null || { echo "not ok - signify-openbsd is not installed"; exit 1; }
printf 'release bytes\n' > f.tgz
minisign -G -W -p m.pub -s m.key >/dev/null 2>&1
minisign -G -W -p o.pub -s o.key >/dev/null 2>&1
minisign -S -s m.key -m f.tgz -t "release 1.0.0" >/dev/null 2>&1
minisign -S -l -s m.key -m f.tgz -x f.tgz.legacy.minisig >/dev/null 2>&1
check "minisign prehashed signature verifies" 0 "$MCPSEAL" verify f.tgz --minisign-key m.pub
check "minisign legacy signature verifies" 0 "$MCPSEAL" verify f.tgz --minisign-key m.pub --signature f.tgz.legacy.minisig
out=$("$MCPSEAL" verify f.tgz --minisign-key m.pub 2>&1)
if grep -q "release 1.0.0" <<<"$out"; then echo "ok - the trusted comment is shown"; else echo "not ok - trusted comment missing: $out"; fi
check "minisign: another key is refused" 1 "$MCPSEAL" verify f.tgz --minisign-key o.pub
sed 's/^trusted comment: .*/trusted comment: release 9.9.9/' f.tgz.minisig > edited.minisig
check "minisign: an edited trusted comment is refused" 1 "$MCPSEAL" verify f.tgz --minisign-key m.pub --signature edited.minisig
cp f.tgz.minisig t.tgz.minisig; printf 'tampered\n' > t.tgz
check "minisign: a tampered artifact is refused" 1 "$MCPSEAL" verify t.tgz --minisign-key m.pub
check "minisign itself agrees the tampered artifact is bad" 1 minisign -V -p m.pub -m t.tgz
signify-openbsd -G -n -p s.pub -s s.sec
signify-openbsd -G -n -p so.pub -s so.sec
signify-openbsd -S -s s.sec -m f.tgz -x f.tgz.sig
check "signify signature verifies" 0 "$MCPSEAL" verify f.tgz --signify-key s.pub
check "signify: another key is refused" 1 "$MCPSEAL" verify f.tgz --signify-key so.pub
cp f.tgz.sig t.tgz.sig
check "signify: a tampered artifact is refused" 1 "$MCPSEAL" verify t.tgz --signify-key s.pub
