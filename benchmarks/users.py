#!/usr/bin/env python3
"""What ACL users cost through the proxy, next to Redis directly, in one run.

One lab (a master, a replica, a sentinel) where every node has the user
`app` (ACL SETUSER). Three proxies in front of it, read_policy "master":
proxy.users defining `app` (the proxy checks it: "local"), proxy.auth =
"passthrough" (the nodes check it; the proxy logs in as `app`), and
passthrough with proxy.auth_cache_ms = 0 (every AUTH asks a node).
redis-benchmark -t set,get logs in as `app` (--user app -a ...) on every
target. Scenarios: 50 clients unpipelined and pipelined by 16, and 50
clients with -k 0, where every request is a new connection that logs in
first (what a login costs: a passthrough AUTH a node checks is a connection
of the proxy's to it). Prints the medians over the rounds of requests/s and
CPU per request (utime+stime from /proc) of the process that serves the
row: the master for the direct row, the proxy for the others.

Usage: benchmarks/users.py [--rounds 3] [--proxy build/redis-ha-proxy]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import Lab, call  # noqa: E402
from tls import compare, start_proxy  # noqa: E402

SCENARIOS = [  # (label, clients, pipeline, requests per test, more redis-benchmark options)
    ("-c 50 -P 1", 50, 1, 100_000, []),
    ("-c 50 -P 16", 50, 16, 500_000, []),
    ("-c 50 -k 0 (a login per request)", 50, 1, 10_000, ["-k", "0"]),
]
LOGIN = ["--user", "app", "-a", "apw"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                        "redis-ha-proxy"))
    args = parser.parse_args()
    lab = Lab(nodes=2, sentinels=1)
    proxies = []
    try:
        for address in lab.nodes_at:
            call(address, "ACL", "SETUSER", "app", "on", ">apw", "~*", "&*", "+@all")
        proxies.append(start_proxy(args.proxy, lab,
                                   '[proxy]\nusers = ["user app on >apw ~* &* +@all"]\n'))
        proxies.append(start_proxy(args.proxy, lab, '[proxy]\nauth = "passthrough"\n'))
        proxies.append(start_proxy(args.proxy, lab,
                                   '[proxy]\nauth = "passthrough"\nauth_cache_ms = 0\n'))
        targets = [
            ("direct", lab.nodes_at[0][1], lab.nodes[0].pid),
            ("proxy, local users", proxies[0][1], proxies[0][0].pid),
            ("proxy, passthrough", proxies[1][1], proxies[1][0].pid),
            ("proxy, passthrough, no cache", proxies[2][1], proxies[2][0].pid),
        ]
        print(f"redis-benchmark -t set,get as user app; {os.cpu_count()} cores; {args.rounds} rounds; "
              "CPU of the master (direct) or of the proxy\n")
        for label, clients, pipeline, requests, extra in SCENARIOS:
            compare([(name, port, LOGIN + extra, pid) for name, port, pid in targets], label,
                    clients, pipeline, requests, args.rounds, width=30)
    finally:
        for proxy, _ in proxies:
            proxy.terminate()
            proxy.wait()
        lab.close()


if __name__ == "__main__":
    main()
