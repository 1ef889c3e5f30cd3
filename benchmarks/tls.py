#!/usr/bin/env python3
"""What TLS costs, next to plain TCP, in one run: towards the nodes, and on
every hop.

Two labs of a master, a replica and a sentinel: one plain, one TLS only
(scripts/lab.py's TLS lab: tls-port, client certificates required). A proxy
in front of each, read_policy "master" so that GET and SET both go to the
master. Every round runs redis-benchmark -t set,get against the plain master
directly, the TLS master directly (redis-benchmark --tls), the proxy with
plain backends and the proxy with TLS backends, in an order that rotates.
Clients reach both proxies in plain RESP (TLS towards clients is not built
yet). Prints requests/s and CPU per request (utime+stime from /proc) of the
process that serves the row: the master for the direct rows, the proxy for
the proxy rows; medians over the rounds.

Usage: benchmarks/tls.py [--rounds 3] [--proxy build/redis-ha-proxy]
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import Lab, benchmark, cpu_seconds, free_port, wait_for_ping  # noqa: E402

SCENARIOS = [  # (label, clients, pipeline, requests per test)
    ("-c 50 -P 1", 50, 1, 100_000),
    ("-c 50 -P 16", 50, 16, 500_000),
]


def median(values):
    return sorted(values)[len(values) // 2]


def start_proxy(binary, lab, toml):
    port = free_port()
    conf = os.path.join(lab.dir, "proxy.toml")
    with open(conf, "w") as f:
        f.write("[routing]\nread_policy = \"master\"\n" + toml)
    proxy = subprocess.Popen(
        [binary, "--listen", f"127.0.0.1:{port}", "--admin-listen", "127.0.0.1:0",
         "--log-level", "warn", "--config", conf] + lab.proxy_args(),
        stderr=open(os.path.join(lab.dir, "proxy.log"), "w"))
    wait_for_ping(port)
    return proxy, port


def compare(targets, label, clients, pipeline, requests, rounds, width=24):
    """Runs redis-benchmark against each (name, port, options, pid) target,
    `rounds` times in an order that rotates, and prints the medians of
    requests/s and of the CPU per request of process `pid`."""
    results = {target[0]: ([], []) for target in targets}
    for round_index in range(rounds):
        shift = round_index % len(targets)
        for name, port, options, pid in targets[shift:] + targets[:shift]:
            before = cpu_seconds(pid)
            rows = benchmark(port, clients, pipeline, requests, options)
            used = cpu_seconds(pid) - before
            results[name][0].append(sum(row[0] for row in rows.values()) / len(rows))
            results[name][1].append(used * 1e6 / (2 * requests))
    print(f"{label}: median requests/s, CPU us/request")
    for name, (rps, cpu) in results.items():
        print(f"  {name:{width}} {median(rps):>10,.0f}  {median(cpu):6.2f}")
    print()


def tls_toml(lab):
    files = "\n".join([f'tls_ca_cert_file = "{lab.tls_dir}/ca.crt"',
                       f'tls_cert_file = "{lab.tls_dir}/client.crt"',
                       f'tls_key_file = "{lab.tls_dir}/client.key"'])
    return f"[backend]\ntls = true\n{files}\n[sentinel]\ntls = true\n{files}\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                        "redis-ha-proxy"))
    args = parser.parse_args()
    plain = Lab(nodes=2, sentinels=1)
    tls = Lab(nodes=2, sentinels=1, tls=True)
    proxies = []
    try:
        proxies.append(start_proxy(args.proxy, plain, ""))
        tls_port = free_port()
        proxies.append(start_proxy(
            args.proxy, tls,
            tls_toml(tls) + f'[proxy]\ntls_listen = "127.0.0.1:{tls_port}"\n'
            f'tls_cert_file = "{tls.tls_dir}/server.crt"\ntls_key_file = "{tls.tls_dir}/server.key"\n'
            f'tls_ca_cert_file = "{tls.tls_dir}/ca.crt"\n'))
        tls_options = ["--tls", "--cacert", f"{tls.tls_dir}/ca.crt",
                       "--cert", f"{tls.tls_dir}/client.crt", "--key", f"{tls.tls_dir}/client.key"]
        # (label, port, redis-benchmark options, pid whose CPU is counted)
        targets = [
            ("direct plain", plain.nodes_at[0][1], [], plain.nodes[0].pid),
            ("direct TLS", tls.nodes_at[0][1], tls_options, tls.nodes[0].pid),
            ("proxy, plain backends", proxies[0][1], [], proxies[0][0].pid),
            ("proxy, TLS backends", proxies[1][1], [], proxies[1][0].pid),
            ("proxy, TLS every hop", tls_port, tls_options, proxies[1][0].pid),
        ]
        print(f"redis-benchmark -t set,get; {os.cpu_count()} cores; {args.rounds} rounds; "
              "CPU of the master (direct) or of the proxy\n")
        for label, clients, pipeline, requests in SCENARIOS:
            compare(targets, label, clients, pipeline, requests, args.rounds)
    finally:
        for proxy, _ in proxies:
            proxy.terminate()
            proxy.wait()
        plain.close()
        tls.close()


if __name__ == "__main__":
    main()
