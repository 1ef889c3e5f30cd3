#!/usr/bin/env python3
"""Two proxy builds side by side in one run, next to the direct baseline.

For judging a change to the data path: machine noise between two separate
runs of throughput.py is larger than most changes. Both builds run against
the same lab at the same time (each with its own port); every round runs
direct, A and B back to back, alternating which build goes first. Prints
requests/s as a ratio to direct and each build's CPU per request (utime +
stime from /proc), with medians.

Usage: benchmarks/compare_builds.py --baseline OLD/redis-ha-proxy
                                    [--proxy build/redis-ha-proxy] [--rounds 5]
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import Lab, benchmark, cpu_seconds, free_port, wait_for_ping  # noqa: E402

SCENARIOS = [  # (label, clients, pipeline, requests per test)
    ("-c 50 -P 1", 50, 1, 200_000),
    ("-c 50 -P 16", 50, 16, 1_000_000),
]


def start_proxy(binary, lab, name):
    port = free_port()
    proxy = subprocess.Popen(
        [binary, "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0",
         "--log-level", "warn", "--config", os.path.join(lab.dir, "proxy.toml")]
        + lab.proxy_args(), stderr=open(os.path.join(lab.dir, f"{name}.log"), "w"))
    wait_for_ping(port)
    return proxy, port


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, help="build A (the one before the change)")
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                        "redis-ha-proxy"), help="build B")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lab = Lab(nodes=2, sentinels=1)
    with open(os.path.join(lab.dir, "proxy.toml"), "w") as f:
        f.write("[routing]\nread_policy = \"master\"\n")
    proxies = {}
    try:
        proxies["A"] = start_proxy(args.baseline, lab, "A")
        proxies["B"] = start_proxy(args.proxy, lab, "B")
        time.sleep(1.0)  # let both confirm the master
        print(f"A = {args.baseline}\nB = {args.proxy}\nredis-benchmark -t set,get; "
              f"{os.cpu_count()} cores; {args.rounds} rounds, order alternating\n")
        print(f"{'scenario':<13}{'round':>6}{'A/direct':>10}{'B/direct':>10}"
              f"{'A us/req':>10}{'B us/req':>10}")
        for label, clients, pipeline, requests in SCENARIOS:
            ratio = {"A": [], "B": []}
            cpu = {"A": [], "B": []}
            for round_no in range(1, args.rounds + 1):
                direct = benchmark(lab.nodes_at[0][1], clients, pipeline, requests)
                direct_rps = direct["SET"][0] + direct["GET"][0]
                for name in ("A", "B") if round_no % 2 else ("B", "A"):
                    proxy, port = proxies[name]
                    before = cpu_seconds(proxy.pid)
                    through = benchmark(port, clients, pipeline, requests)
                    cpu[name].append((cpu_seconds(proxy.pid) - before) * 1e6 / (2 * requests))
                    ratio[name].append((through["SET"][0] + through["GET"][0]) / direct_rps)
                print(f"{label:<13}{round_no:>6}{ratio['A'][-1]:>10.2f}{ratio['B'][-1]:>10.2f}"
                      f"{cpu['A'][-1]:>10.2f}{cpu['B'][-1]:>10.2f}")
            print(f"{label:<13}{'median':>6}{median(ratio['A']):>10.2f}{median(ratio['B']):>10.2f}"
                  f"{median(cpu['A']):>10.2f}{median(cpu['B']):>10.2f}   "
                  f"B/A CPU {median(cpu['B']) / median(cpu['A']):.2f}\n")
    finally:
        for proxy, _ in proxies.values():
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=10)
        lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
