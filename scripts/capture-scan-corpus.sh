#!/usr/bin/env bash
# Re-captures the benign half of testdata/scan-corpus: the live surfaces of real MCP servers
# from npm and PyPI, exactly as `mcpseal surface --json` prints them. The tests never run this;
# they read the committed captures. Run it to refresh the corpus after a version bump:
#
#   scripts/capture-scan-corpus.sh [WORKDIR]     # WORKDIR keeps the installs (default: a temp dir)
#
# Versions are pinned in scripts/scan-corpus/package.json (npm) and servers.tsv / pypi.txt
# (PyPI, one virtualenv per server: their `mcp` pins conflict). Servers that need an API key
# get a placeholder value: they list their tools without calling out. Nothing is sent anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
out="$root/testdata/scan-corpus/benign"
mcpseal="$root/target/debug/mcpseal"
[ -x "$mcpseal" ] || (cd "$root" && cargo build -q)
mkdir -p "$work/node" "$work/py" "$out"

echo "capture-scan-corpus: npm install into $work/node"
cp "$root/scripts/scan-corpus/package.json" "$work/node/package.json"
(cd "$work/node" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error --ignore-scripts)

python=${PYTHON:-python3}
"$python" -m venv "$work/py/uvenv"
"$work/py/uvenv/bin/pip" install -q --disable-pip-version-check uv==0.13.9
while read -r spec; do
  case "$spec" in ''|'#'*) continue ;; esac
  name=${spec%%==*}
  [ -x "$work/py/$name/bin/python" ] && continue
  echo "capture-scan-corpus: uv pip install $spec"
  "$work/py/uvenv/bin/uv" venv -q -p "$python" "$work/py/$name"
  "$work/py/uvenv/bin/uv" pip install -q -p "$work/py/$name/bin/python" "$spec"
done < "$root/scripts/scan-corpus/pypi.txt"

home=$(mktemp -d)
failed=0
while IFS=$'\t' read -r name registry launch; do
  case "$name" in ''|'#'*) continue ;; esac
  read -ra words <<< "$launch"
  envs=() cmd=()
  for w in "${words[@]}"; do
    if [ ${#cmd[@]} -eq 0 ] && [[ "$w" == *=* ]]; then envs+=("$w"); else cmd+=("$w"); fi
  done
  if [ "$registry" = npm ]; then bin="$work/node/node_modules/.bin/${cmd[0]}"; else bin="$work/py/$name/bin/${cmd[0]}"; fi
  if env -i PATH="$(dirname "$bin"):/usr/bin:/bin:/usr/local/bin" HOME="$home" "${envs[@]}" \
      "$mcpseal" surface --json --timeout 90 -- "$bin" "${cmd[@]:1}" > "$out/$name.json.tmp" 2> "$work/$name.err"; then
    mv "$out/$name.json.tmp" "$out/$name.json"
    echo "capture-scan-corpus: $name: $(grep -c '"name"' "$out/$name.json") names"
  else
    rm -f "$out/$name.json.tmp"; failed=$((failed + 1))
    echo "capture-scan-corpus: $name: capture failed (see $work/$name.err)" >&2
  fi
done < "$root/scripts/scan-corpus/servers.tsv"
rm -rf "$home"
echo "capture-scan-corpus: done, $failed failed"
