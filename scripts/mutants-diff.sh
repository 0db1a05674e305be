#!/usr/bin/env bash
# Mutation test of a change (docs/testing.md, "In CI"): the cargo-mutants mutants of the lines
# the change touched in the security-critical modules (src/gate, src/lock, src/bundle,
# src/policy, src/json.rs), against the library's unit tests. A missed mutant fails the run:
# a changed line of a security check that no unit test holds.
#
#   bash scripts/mutants-diff.sh            # the change since .ci/mutants-base
#   bash scripts/mutants-diff.sh BASE       # the change since commit BASE
#   MUTANTS_BUDGET=80 bash scripts/mutants-diff.sh
#
# It mutates the files of the tree it runs in (--in-place, each restored after its mutant):
# run it in CI's clone or in a disposable worktree, never in a tree you are editing.
# MUTANTS_BUDGET (default 40, about ten minutes here at ~15 s a mutant) caps the mutants run;
# a change with more runs an evenly spread sample of them (round-robin shard 1 of n) and says
# so, and the rest are for a run by hand with the command docs/testing.md gives.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${MUTANTS_BUDGET:-40}
version=27.1.0

fail() {
    echo "mutants-diff: FAILED: $*" >&2
    exit 1
}

base=${1:-}
if [ -z "$base" ]; then
    [ -f .ci/mutants-base ] || fail ".ci/mutants-base is missing: name the base commit as the first argument"
    base=$(grep -v '^#' .ci/mutants-base | tr -d '[:space:]')
fi
# A shallow clone may lack the base: fetch the history once before giving up.
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null \
    && [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    git fetch --quiet --unshallow || true
fi
git rev-parse --verify --quiet "$base^{commit}" >/dev/null \
    || fail "base $base is not a commit of this clone (.ci/mutants-base names the commit the change starts from)"
git merge-base --is-ancestor "$base" HEAD \
    || fail "base $base is not an ancestor of HEAD: set .ci/mutants-base to the commit the change starts from"

if ! cargo mutants --version 2>/dev/null | grep -qx "cargo-mutants $version"; then
    echo "mutants-diff: installing cargo-mutants $version" >&2
    cargo install --locked --quiet cargo-mutants --version "$version"
fi

out=target/mutants/diff
rm -rf "$out"
mkdir -p "$out"
diff_file="$out/change.diff"
git diff "$base" HEAD -- src >"$diff_file"
# `**` matches no folder too: src/gate/**/*.rs takes src/gate/proxy.rs and src/gate/proxy/*.rs.
files=(-f 'src/gate/**/*.rs' -f 'src/lock/*.rs' -f 'src/bundle/*.rs' -f 'src/policy/*.rs'
    -f src/json.rs)
common=(--in-diff "$diff_file" "${files[@]}")

n=$(cargo mutants --list "${common[@]}" | wc -l)
echo "mutants-diff: $n mutants in the change since $(git rev-parse --short "$base") (budget $budget)"
if [ "$n" -eq 0 ]; then
    exit 0
fi
shard=()
if [ "$n" -gt "$budget" ]; then
    k=$(((n + budget - 1) / budget))
    echo "mutants-diff: over budget: running 1 in $k (round-robin); run the rest by hand (docs/testing.md)" >&2
    shard=(--shard "0/$k" --sharding round-robin)
fi

set +e
nice -n 10 cargo mutants --in-place "${common[@]}" "${shard[@]}" --test-tool nextest -C --lib \
    --cargo-test-arg=--fail-fast --minimum-test-timeout 60 -o "$out"
rc=$?
set -e
for k in caught missed timeout unviable; do
    echo "mutants-diff: $k $(wc -l <"$out/mutants.out/$k.txt" 2>/dev/null || echo 0)"
done
# cargo-mutants: 0 all caught, 2 some missed, 3 some timed out (a mutant that makes a loop
# endless: the tests did notice it), 4 the unmutated tree failed its tests, 5/6 a bad diff.
# Exit 3 takes precedence over 2, so the verdict on missed mutants is read from missed.txt.
missed="$out/mutants.out/missed.txt"
if [ -s "$missed" ]; then
    fail "missed mutants (a changed line no unit test holds): $missed
$(cat "$missed")"
fi
case $rc in
0) ;;
3) echo "mutants-diff: timeouts count as caught: each made the tests run past their limit" ;;
*) fail "cargo mutants exited $rc (4: the tests fail without any mutant; 5, 6: the diff); see $out/mutants.out/debug.log" ;;
esac
