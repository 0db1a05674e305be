#!/usr/bin/env python3
"""Capture a real MCP server's surface as raw JSON, for the scan benign corpus.

Used to make testdata/scan/benign/*.json before mcpseal's own capture existed; the scan tests
also capture the same servers live with mcpseal. Speaks newline-delimited JSON-RPC directly
(no SDK: SDK clients parse into typed models and drop fields), follows every nextCursor, and
writes {"serverInfo", "instructions", "tools", "prompts", "resources", "resourceTemplates"}
exactly as received — the format `mcpseal fixture-server --surface` and `mcpseal scan
--surface-file` read.

    python3 capture.py OUT.json -- COMMAND ARGS...
"""
import json
import subprocess
import sys


def main() -> int:
    sep = sys.argv.index("--")
    out, cmd = sys.argv[1], sys.argv[sep + 1 :]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    next_id = 0

    def request(method, params=None):
        nonlocal next_id
        next_id += 1
        msg = {"jsonrpc": "2.0", "id": next_id, "method": method}
        if params is not None:
            msg["params"] = params
        p.stdin.write(json.dumps(msg) + "\n")
        p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if not line:
                raise SystemExit(f"{cmd[0]}: server closed stdout during {method}")
            reply = json.loads(line)
            if reply.get("id") == next_id:
                if "error" in reply:
                    return None
                return reply["result"]

    init = request(
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "mcpseal-testdata", "version": "0"},
        },
    )
    p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    p.stdin.flush()
    caps = init.get("capabilities", {})
    surface = {"serverInfo": init.get("serverInfo", {})}
    if init.get("instructions") is not None:
        surface["instructions"] = init["instructions"]
    lists = [
        ("tools", "tools/list", "tools"),
        ("prompts", "prompts/list", "prompts"),
        ("resources", "resources/list", "resources"),
        ("resources", "resources/templates/list", "resourceTemplates"),
    ]
    for cap, method, field in lists:
        items = []
        if cap in caps:
            cursor = None
            while True:
                result = request(method, {"cursor": cursor} if cursor else {})
                if result is None:
                    break
                items.extend(result.get(field, []))
                cursor = result.get("nextCursor")
                if not cursor:
                    break
        surface[field] = items
    p.stdin.close()
    p.wait(timeout=10)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(surface, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
