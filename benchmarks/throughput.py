#!/usr/bin/env python3
"""Throughput of redis-ha-proxy next to a direct-to-Redis baseline, same run.

Starts a master, a replica and a sentinel on free loopback ports, the proxy in
front of them, then runs redis-benchmark (-t set,get) directly and through the
proxy, interleaved, for several rounds. Prints requests/s, p50/p99, the ratio
proxy/direct per round, the proxy's CPU per request (utime+stime from /proc)
and its peak RSS; then opens idle client connections and prints the RSS.

Usage: benchmarks/throughput.py [--rounds 3] [--workers N] [--idle 10000]
                                [--read-policy master] [--proxy build/redis-ha-proxy]
"""
import argparse
import csv
import io
import os
import resource
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from lab import Lab, call, free_port, wait_until  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")

SCENARIOS = [  # (label, clients, pipeline, requests per test)
    ("-c 50 -P 1", 50, 1, 200_000),
    ("-c 50 -P 16", 50, 16, 1_000_000),
    ("-c 500 -P 1", 500, 1, 200_000),
]


def wait_for_ping(port, timeout=10):
    if not wait_until(lambda: call(("127.0.0.1", port), "PING") == "PONG", timeout, 0.05):
        raise RuntimeError(f"nothing answers PING on {port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def benchmark(port, clients, pipeline, requests, extra=()):
    """`extra`: more redis-benchmark options (--tls --cacert ...)."""
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "set,get", "-c",
         str(clients), "-P", str(pipeline), "-n", str(requests), "-r", "100000", "--csv",
         *extra],
        check=True, capture_output=True, text=True).stdout
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        rows[row["test"]] = (float(row["rps"]), float(row["p50_latency_ms"]),
                             float(row["p99_latency_ms"]))
    return rows


def idle_connections(port, count):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        sockets.append(s)
    # One request on the last one proves the proxy accepted all of them.
    sockets[-1].sendall(b"PING\r\n")
    assert sockets[-1].recv(16).startswith(b"+PONG")
    return sockets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--idle", type=int, default=10_000)
    # "master" compares like with like (both GET and SET on the master);
    # benchmarks/read_mix.py measures replica reads.
    parser.add_argument("--read-policy", default="master")
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                        "redis-ha-proxy"))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    # maxclients as in every earlier run, so results-throughput.txt compares.
    lab = Lab(nodes=2, sentinels=1, redis_config=["maxclients 20000"])
    proxy_port = free_port()
    conf = os.path.join(lab.dir, "proxy.toml")
    with open(conf, "w") as f:
        f.write(f"[routing]\nread_policy = \"{args.read_policy}\"\n")
    proxy = subprocess.Popen(
        [args.proxy, "--config", conf, "--listen", f"127.0.0.1:{proxy_port}", "--admin-listen", "127.0.0.1:0",
         "--workers", str(args.workers), "--log-level", "warn"] + lab.proxy_args(),
        stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(proxy_port)
        time.sleep(1.0)  # let the proxy confirm the master
        print(f"redis-benchmark -t set,get; proxy workers={args.workers or os.cpu_count()}; "
              f"{os.cpu_count()} cores\n")
        print(f"{'scenario':<13}{'round':>6}{'test':>5}{'direct rps':>12}{'proxy rps':>12}"
              f"{'ratio':>7}{'direct p50/p99 ms':>19}{'proxy p50/p99 ms':>18}{'proxy us/req':>13}")
        summary = []
        for label, clients, pipeline, requests in SCENARIOS:
            ratios = {"SET": [], "GET": []}
            cpu_per_request = []
            for round_no in range(1, args.rounds + 1):
                direct = benchmark(lab.nodes_at[0][1], clients, pipeline, requests)
                before = cpu_seconds(proxy.pid)
                through = benchmark(proxy_port, clients, pipeline, requests)
                used = cpu_seconds(proxy.pid) - before
                us_per_request = used * 1e6 / (2 * requests)
                cpu_per_request.append(us_per_request)
                for test in ("SET", "GET"):
                    d, p = direct[test], through[test]
                    ratio = p[0] / d[0]
                    ratios[test].append(ratio)
                    print(f"{label:<13}{round_no:>6}{test:>5}{d[0]:>12.0f}{p[0]:>12.0f}"
                          f"{ratio:>7.2f}{d[1]:>10.3f}/{d[2]:<8.3f}{p[1]:>9.3f}/{p[2]:<8.3f}"
                          f"{us_per_request:>10.2f}")
            summary.append((label, sorted(ratios["SET"])[len(ratios["SET"]) // 2],
                            sorted(ratios["GET"])[len(ratios["GET"]) // 2],
                            sorted(cpu_per_request)[len(cpu_per_request) // 2]))
        print("\nmedian over rounds:")
        for label, set_ratio, get_ratio, cpu in summary:
            print(f"  {label:<13} SET {set_ratio:.2f}x  GET {get_ratio:.2f}x  proxy CPU {cpu:.2f} us/request")
        print(f"  proxy peak RSS during the runs: {status_kib(proxy.pid, 'VmHWM') / 1024:.1f} MiB")

        if args.idle <= 0:
            return 0
        rss_before = status_kib(proxy.pid, "VmRSS")
        sockets = idle_connections(proxy_port, args.idle)
        time.sleep(0.5)
        rss_after = status_kib(proxy.pid, "VmRSS")
        print(f"  {args.idle} idle clients: proxy RSS {rss_after / 1024:.1f} MiB "
              f"({(rss_after - rss_before) / 1024:.1f} MiB more than before them, "
              f"{(rss_after - rss_before) * 1024 / args.idle:.0f} bytes each)")
        for s in sockets:
            s.close()
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=10)
        lab.close()


if __name__ == "__main__":
    sys.exit(main())
