"""Round-trip timing of tools/call against a stdio MCP server command (the gate or the server).

Usage: python3 gate_rtt.py CALLS -- COMMAND ARGS...
Prints JSON: per-call median and p99 in microseconds, calls per second, and the peak RSS
(VmHWM, KiB) of the spawned process, read just before the session ends, and the whole
session's wall time (spawn to exit, after the client closed stdin) in milliseconds.
"""
import json
import os
import statistics
import subprocess
import sys
import time

calls = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
session_start = time.perf_counter()
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
out = p.stdout


def send(obj):
    p.stdin.write((json.dumps(obj) + "\n").encode())


def recv(want_id):
    while True:
        line = out.readline()
        if not line:
            raise SystemExit("server closed the session")
        msg = json.loads(line)
        if msg.get("id") == want_id:
            return msg


send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
recv(0)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
recv(1)
times = []
start = time.perf_counter()
for i in range(calls):
    t0 = time.perf_counter_ns()
    send({"jsonrpc": "2.0", "id": i + 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}}})
    r = recv(i + 2)
    times.append(time.perf_counter_ns() - t0)
    if "result" not in r:
        raise SystemExit(f"call failed: {r}")
elapsed = time.perf_counter() - start
hwm = 0
try:
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
except OSError:
    pass
p.stdin.close()
p.wait()
session_ms = (time.perf_counter() - session_start) * 1000
times.sort()
print(json.dumps({
    "calls": calls,
    "median_us": statistics.median(times) / 1000,
    "p99_us": times[int(len(times) * 0.99) - 1] / 1000,
    "calls_per_s": calls / elapsed,
    "peak_rss_kib": hwm,
    "session_ms": session_ms,
}))
