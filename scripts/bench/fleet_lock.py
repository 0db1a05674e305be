"""A generated lock for the fleet benchmarks (issue 17): the entry NAME of LOCK copied under
N names (NAME itself among them, so it sorts into the middle), written as the canonical text
a Store writes (sorted keys, two-space indent, trailing newline). Every copy is a valid,
fully digested entry. Usage: python3 fleet_lock.py LOCK N NAME > OUT
"""
import json
import sys

src, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = json.load(open(src))
entry = lock["servers"][name]
servers = {f"fleet-{i:05d}": entry for i in range(n - 1)}
servers[name] = entry
lock["servers"] = servers
sys.stdout.write(json.dumps(lock, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
