"""The server's own start-to-first-tools/list time: spawn, initialize, initialized, tools/list.

Usage: python3 first_list.py -- COMMAND ARGS...   (exit 0 when the list arrived)
The baseline for `mcpseal surface`, which does the same and then lists every other kind.
"""
import json
import subprocess
import sys

cmd = sys.argv[sys.argv.index("--") + 1:]
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)


def ask(i, method, params):
    p.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode())
    while True:
        msg = json.loads(p.stdout.readline())
        if msg.get("id") == i:
            return msg


ask(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b", "version": "1"}})
p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
assert "result" in ask(2, "tools/list", {})
p.kill()
