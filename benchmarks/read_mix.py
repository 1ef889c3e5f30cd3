#!/usr/bin/env python3
"""Read-heavy mix (90% GET / 10% SET, 50 clients) on a master with two
replicas: direct to the master, through the proxy with read_policy=master,
and through the proxy with read_policy=prefer-replica (read-your-writes on,
the default, and off), interleaved in the same run. For each run it also
reports the share of GETs the replicas served (INFO commandstats): the GET
clients only read, so with read-your-writes they should stay on replicas.

redis-benchmark runs one command per process, so the mix is two concurrent
runs: GET with 45 clients and SET with 5 clients, each for the same time;
the figure is their combined requests/s (90/10 by client count).

Usage: benchmarks/read_mix.py [--rounds 3] [--seconds 8] [--workers N]
                              [--proxy build/redis-ha-proxy]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import Lab, free_port, wait_for_ping  # noqa: E402


def start_proxy(binary, lab, workers, read_policy, read_your_writes=True):
    port = free_port()
    conf = os.path.join(lab.dir, f"proxy-{read_policy}-{read_your_writes}.toml")
    with open(conf, "w") as f:
        f.write(f"[routing]\nread_policy = \"{read_policy}\"\n"
                f"read_your_writes = {str(read_your_writes).lower()}\n")
    proc = subprocess.Popen(
        [binary, "--config", conf, "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0",
         "--workers", str(workers), "--log-level", "warn"] + lab.proxy_args(),
        stderr=subprocess.DEVNULL)
    wait_for_ping(port)
    return proc, port


def run_mix(port, seconds):
    """Combined rps of concurrent GET -c 45 and SET -c 5 runs of `seconds`."""
    def start(test, clients):
        # -n large and killed by the timeout: both run for the same wall time.
        return subprocess.Popen(
            ["timeout", "-s", "INT", str(seconds), "redis-benchmark", "-h", "127.0.0.1", "-p",
             str(port), "-t", test, "-c", str(clients), "-n", "100000000", "-r", "100000",
             "-d", "64"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    gets, sets = start("get", 45), start("set", 5)
    out_get, _ = gets.communicate()
    out_set, _ = sets.communicate()

    def rps(text):
        # The last progress line: "GET: rps=123456.0 (overall: 120000.0) avg_msec=..."
        overall = re.findall(r"rps=[0-9.]+ \(overall: ([0-9.]+)\)", text.replace("\r", "\n"))
        return float(overall[-1]) if overall else 0.0

    return rps(out_get), rps(out_set)


def get_calls(lab, node):
    stats = lab.node_call(node, "INFO", "commandstats")
    stats = stats.decode() if isinstance(stats, bytes) else stats
    found = re.search(r"cmdstat_get:calls=(\d+)", stats)
    return int(found.group(1)) if found else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                        "redis-ha-proxy"))
    args = parser.parse_args()
    lab = Lab(nodes=3, sentinels=1)
    master = lab.nodes_at[0][1]
    proxies = []
    try:
        targets = [("direct to master", master)]
        for label, policy, ryw in (("proxy master", "master", True),
                                   ("proxy prefer-replica", "prefer-replica", True),
                                   ("proxy prefer-replica, ryw off", "prefer-replica", False)):
            proc, port = start_proxy(args.proxy, lab, args.workers, policy, ryw)
            proxies.append(proc)
            targets.append((label, port))
        time.sleep(2.0)  # the proxies confirm the master and judge the replicas
        # Fill the keyspace so GETs hit.
        subprocess.run(["redis-benchmark", "-p", str(master), "-t", "set", "-n", "200000",
                        "-r", "100000", "-d", "64", "-q"], check=True, capture_output=True)
        print(f"90% GET / 10% SET, 50 clients, {args.seconds} s per run; "
              f"{os.cpu_count()} cores, master + 2 replicas on this machine\n")
        print(f"{'round':>5}  {'target':<36}{'GET rps':>10}{'SET rps':>10}{'total rps':>11}"
              f"{'vs direct':>10}{'GETs on replicas':>18}")
        totals = {label: [] for label, _ in targets}
        for round_no in range(1, args.rounds + 1):
            direct_total = None
            for label, port in targets:
                for node in range(len(lab.nodes_at)):
                    lab.node_call(node, "CONFIG", "RESETSTAT")
                get_rps, set_rps = run_mix(port, args.seconds)
                gets = [get_calls(lab, node) for node in range(len(lab.nodes_at))]
                share = sum(gets[1:]) / max(1, sum(gets))
                total = get_rps + set_rps
                direct_total = direct_total or total
                totals[label].append(total / direct_total)
                print(f"{round_no:>5}  {label:<36}{get_rps:>10.0f}{set_rps:>10.0f}{total:>11.0f}"
                      f"{total / direct_total:>9.2f}x{share * 100:>17.1f}%")
        print("\nmedian ratio to direct over rounds:")
        for label, ratios in totals.items():
            print(f"  {label:<36}{sorted(ratios)[len(ratios) // 2]:.2f}x")
    finally:
        for proc in proxies:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        lab.close()


if __name__ == "__main__":
    sys.exit(main())
