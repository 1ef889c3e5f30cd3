#!/usr/bin/env python3
"""What counting costs: throughput through the proxy while Prometheus-style
scrapes hit /metrics every 100 ms, next to the same proxy not scraped and to
Redis directly, interleaved in the same run.

Starts a master and a sentinel (scripts/lab.py), one proxy,
then for each round runs redis-benchmark -t set,get directly, through the
proxy, and through the proxy with a scraper thread fetching /metrics every
100 ms. Prints requests/s per run and the medians of scraped/unscraped and
proxy/direct.

Usage: benchmarks/metrics_overhead.py [--rounds 3] [--proxy build/redis-ha-proxy]
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import Lab, benchmark, free_port, wait_for_ping  # noqa: E402

SCENARIOS = [("-c 50 -P 1", 50, 1, 200_000), ("-c 50 -P 16", 50, 16, 1_000_000)]


class Scraper:
    """GET /metrics every `interval` seconds until stopped; counts answers."""

    def __init__(self, port, interval=0.1):
        self.port, self.interval = port, interval
        self.scrapes = 0
        self.bytes = 0
        self.running = True
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        while self.running:
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := s.recv(65536):
                    answer += chunk
            if answer.startswith(b"HTTP/1.1 200"):
                self.scrapes += 1
                self.bytes = len(answer)
            time.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self):
        self.running = False
        self.thread.join()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "build", "redis-ha-proxy"))
    args = parser.parse_args()
    lab = Lab(nodes=1, sentinels=1)
    port, admin = free_port(), free_port()
    conf = os.path.join(lab.dir, "proxy.toml")
    with open(conf, "w") as f:
        f.write("[routing]\nread_policy = \"master\"\n")
    proxy = subprocess.Popen(
        [args.proxy, "--config", conf, "--listen", f"127.0.0.1:{port}", "--admin-listen",
         f"127.0.0.1:{admin}", "--log-level", "warn"] + lab.proxy_args(),
        stderr=subprocess.DEVNULL)
    try:
        wait_for_ping(port)
        time.sleep(1.0)
        results = {}  # (scenario, test, target) -> [rps]
        for round_ in range(1, args.rounds + 1):
            for label, clients, pipeline, requests in SCENARIOS:
                runs = [("direct", lab.nodes_at[0][1], False), ("proxy", port, False),
                        ("proxy+scrape", port, True)]
                for target, target_port, scrape in runs:
                    scraper = Scraper(admin) if scrape else None
                    rows = benchmark(target_port, clients, pipeline, requests)
                    if scraper:
                        scraper.stop()
                    for test, (rps, _, _) in rows.items():
                        results.setdefault((label, test, target), []).append(rps)
                        extra = (f"  ({scraper.scrapes} scrapes of {scraper.bytes} bytes)"
                                 if scraper else "")
                        print(f"round {round_} {label:<12} {test:<4} {target:<13} "
                              f"{rps:>10.0f} rps{extra}", flush=True)
        print("\nmedians over rounds:")
        print(f"{'scenario':<12} {'test':<4} {'direct':>10} {'proxy':>10} {'scraped':>10} "
              f"{'proxy/direct':>13} {'scraped/proxy':>14}")
        for label, _, _, _ in SCENARIOS:
            for test in ("SET", "GET"):
                med = {t: statistics.median(results[(label, test, t)])
                       for t in ("direct", "proxy", "proxy+scrape")}
                print(f"{label:<12} {test:<4} {med['direct']:>10.0f} {med['proxy']:>10.0f} "
                      f"{med['proxy+scrape']:>10.0f} {med['proxy'] / med['direct']:>12.2f}x "
                      f"{med['proxy+scrape'] / med['proxy']:>13.2f}x")
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=15)
        lab.close()


if __name__ == "__main__":
    sys.exit(main())
