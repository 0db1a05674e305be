#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target (fuzz/) with nightly and run each for a few
# seconds from its committed seeds (fuzz/seeds/<target>), under a minute in all. Any crash,
# oracle failure, timeout or out-of-memory fails the run, loudly, with the input that did it.
# Longer campaigns: docs/fuzzing.md.
#
#   bash scripts/fuzz-smoke.sh              # every target
#   FUZZ_SECONDS=60 bash scripts/fuzz-smoke.sh   # total budget in seconds (default 56)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "fuzz-smoke: FAILED: $*" >&2
    exit 1
}

# Nightly (cargo-fuzz needs -Zsanitizer and friends).
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal || fail "no nightly toolchain, and rustup could not install one"
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || fail "cargo install cargo-fuzz --locked"
fi

# fuzz/Cargo.lock must pin the same versions as the root Cargo.lock, or the targets fuzz other
# code than the one that ships.
versions() { # "name v1,v2,…" per package name
    awk '/^name = /{n=$3} /^version = /{print n, $3}' "$1" | sort -u |
        awk '{if ($1 in v) v[$1] = v[$1] "," $2; else v[$1] = $2} END {for (n in v) print n, v[n]}' | sort
}
drift=$(join -j1 <(versions Cargo.lock) <(versions fuzz/Cargo.lock) | awk '$2 != $3' || true)
if [ -n "$drift" ]; then
    echo "$drift" >&2
    fail "fuzz/Cargo.lock pins other versions than Cargo.lock (above: name, root, fuzz). Fix: cp Cargo.lock fuzz/Cargo.lock && (cd fuzz && cargo +nightly fuzz build), then commit fuzz/Cargo.lock"
fi

cd fuzz
mapfile -t targets < <(cargo +nightly fuzz list)
[ "${#targets[@]}" -gt 0 ] || fail "cargo fuzz list found no targets"

echo "fuzz-smoke: building ${targets[*]}" >&2
nice -n 10 cargo +nightly fuzz build || fail "cargo fuzz build"

budget=${FUZZ_SECONDS:-56}
per=$((budget / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1
for t in "${targets[@]}"; do
    [ -d "seeds/$t" ] && [ -n "$(ls -A "seeds/$t")" ] || fail "$t has no seed corpus in fuzz/seeds/$t"
    mkdir -p "corpus/$t"
    echo "fuzz-smoke: $t for ${per}s" >&2
    if ! nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>"corpus/$t.log"; then
        tail -n 60 "corpus/$t.log" >&2
        fail "target $t crashed; the input is in fuzz/artifacts/$t/ (reproduce: cd fuzz && cargo +nightly fuzz run $t <file>)"
    fi
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "corpus/$t.log" >&2 || true
done
echo "fuzz-smoke: ${#targets[@]} targets, ${per}s each, no crash" >&2
