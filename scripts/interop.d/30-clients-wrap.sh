#!/usr/bin/env bash
# wrap / unwrap read back by independent parsers: Node's JSON.parse (what the Electron clients
# — Claude Desktop, Cursor, Windsurf, Kiro — use) for every strict-JSON config, Python's tomllib
# for Codex. Checks: the wrapped file parses, each wrapped entry launches `mcpseal run`, its
# stored original equals the original entry, no key unknown to Codex is added, and unwrap gives
# back the file byte for byte. Runs in an empty temp dir; $MCPSEAL is the binary.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/testdata/clients
exe=$(realpath "$MCPSEAL")
check() { if "$@" >/dev/null 2>&1; then echo "ok - $desc"; else echo "not ok - $desc"; fi; }

cat > check.js <<'JS'
    const fs = require("fs");
    const [orig, wrapped, exe, client] = process.argv.slice(2);
    const o = JSON.parse(fs.readFileSync(orig, "utf8")), w = JSON.parse(fs.readFileSync(wrapped, "utf8"));
    const maps = (d) => [[d.mcpServers || {}, "/"]].concat(client === "claude-code"
      ? Object.entries(d.projects || {}).map(([p, v]) => [v.mcpServers || {}, p]) : []);
    const om = maps(o), wm = maps(w);
    let wrappedCount = 0;
    om.forEach(([servers], k) => { for (const [name, entry] of Object.entries(servers)) {
      const we = wm[k][0][name];
      if (!("x-mcpseal-original" in we)) { // left alone: must be unchanged
        if (JSON.stringify(we) !== JSON.stringify(entry)) process.exit(3);
        continue;
      }
      wrappedCount++;
      if (we.command !== exe || we.args[0] !== "run" || we.args[2] !== name) process.exit(4);
      if (JSON.stringify(JSON.parse(we["x-mcpseal-original"])) !== JSON.stringify(entry)) process.exit(5);
    }});
    if (wrappedCount === 0) process.exit(6);
JS

i=0
for spec in claude-desktop:claude-desktop/claude_desktop_config.json claude-code:claude-code/.mcp.json \
            claude-code:claude-code/claude.json cursor:cursor/mcp.json windsurf:windsurf/mcp_config.json \
            gemini:gemini/settings.json kiro:kiro/mcp.json; do
  client=${spec%%:*}; rel=${spec#*:}; i=$((i+1))
  mkdir -p "$i"; f=$i/${rel##*/}; cp "$data/$rel" "$f"
  "$MCPSEAL" wrap --allow-unpinned --as "$client" --lock "$PWD/mcpseal.lock" --config "$f" >/dev/null
  desc="$client $rel: wrapped file is strict JSON whose entries run mcpseal and keep the original"
  check node check.js "$data/$rel" "$f" "$exe" "$client"
  "$MCPSEAL" unwrap --as "$client" --config "$f" >/dev/null
  desc="$client $rel: unwrap restores every byte"; check cmp "$f" "$data/$rel"
done

# The check can fail: a wrapped entry whose stored original was edited is caught.
mkdir neg; cp "$data/claude-desktop/claude_desktop_config.json" neg/c.json
"$MCPSEAL" wrap --allow-unpinned --as claude-desktop --config neg/c.json >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["mcpServers"]["filesystem"]; e["x-mcpseal-original"]=e["x-mcpseal-original"].replace("Desktop","Documents"); json.dump(d,open(sys.argv[1],"w"))' neg/c.json
desc="negative: an edited stored original is detected by the check"
check bash -c '! node check.js "$1" "$2" "$3" claude-desktop' _ "$data/claude-desktop/claude_desktop_config.json" neg/c.json "$exe"

mkdir codex; cp "$data/codex/config.toml" codex/config.toml
"$MCPSEAL" wrap --allow-unpinned --as codex --lock "$PWD/mcpseal.lock" --config codex/config.toml >/dev/null
desc="codex: tomllib reads the wrapped config; entries run mcpseal; no key Codex does not know is added"
check python3 - "$data/codex/config.toml" codex/config.toml "$exe" <<'PY'
import sys, tomllib
o = tomllib.load(open(sys.argv[1], "rb"))["mcp_servers"]
w = tomllib.load(open(sys.argv[2], "rb"))["mcp_servers"]
exe = sys.argv[3]
assert o.keys() == w.keys()
for name, entry in o.items():
    we = w[name]
    assert set(we) <= set(entry) | {"command", "args"}, (name, set(we) - set(entry))
    remote_with_headers = "url" in entry and any(k in entry for k in ("http_headers", "env_http_headers", "bearer_token_env_var"))
    if remote_with_headers:
        assert we == entry, name
        continue
    assert we["command"] == exe and we["args"][:3] == ["run", "--name", name], we
    tail = we["args"][we["args"].index("--") + 1:] if "--" in we["args"] else None
    assert tail == [entry["command"], *entry.get("args", [])], (tail, entry)
PY
"$MCPSEAL" unwrap --as codex --config codex/config.toml >/dev/null
desc="codex: unwrap restores every byte"; check cmp codex/config.toml "$data/codex/config.toml"
