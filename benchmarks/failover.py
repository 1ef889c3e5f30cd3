#!/usr/bin/python3
"""Failover scenarios: redis-ha-proxy next to redis-py's own Sentinel support.

Each run starts a fresh lab (3 redis-server + 3 redis-sentinel on loopback,
quorum 2, down-after-milliseconds 1000) and a workload of writer threads
(INCR on their own counter + SET of a new unique key, every acknowledged
write recorded, 50 ms pause after an error) and reader threads (GET of a
writer's counter; a value below what that writer already had acknowledged is
a stale read). Then it breaks the master and keeps the workload running until
the old master has rejoined as a replica.

Clients:
  proxy     redis-py as a plain client that knows only the proxy's address
  sentinel  redis-py with Sentinel support, talking to Redis directly

Scenarios: sigkill, sigstop (5 s, then SIGCONT), sentinel-failover (planned),
restart (SIGKILL, then the old master is started again with its config).

For each it prints: longest window without an acknowledged write, errors by
type, acknowledged writes lost (checked on the final master), stale reads.

Usage: benchmarks/failover.py [--runs 3] [--scenarios sigkill,sigstop,...]
                              [--clients proxy,sentinel] [--proxy build/redis-ha-proxy]
"""
import argparse
import collections
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis
import redis.sentinel

MASTER_NAME = "app-cache"
WRITERS = 4
READERS = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return True
        except (redis.RedisError, OSError):
            pass
        time.sleep(step)
    return False


class Lab:
    def __init__(self, workdir):
        self.dir = workdir
        self.node_ports = [free_port() for _ in range(3)]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.nodes = [None] * 3
        self.sentinels = []
        for i in range(3):
            with open(self._conf(i), "w") as f:
                f.write(f"port {self.node_ports[i]}\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
                        f"dir {self.dir}\ndbfilename dump-{i}.rdb\n")
                if i:
                    f.write(f"replicaof 127.0.0.1 {self.node_ports[0]}\n")
            self.start_node(i)
        for i, port in enumerate(self.sentinel_ports):
            conf = os.path.join(self.dir, f"sentinel-{i}.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.node_ports[0]} 2\n"
                        f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                        f"sentinel failover-timeout {MASTER_NAME} 10000\n"
                        f"sentinel parallel-syncs {MASTER_NAME} 1\n")
            self.sentinels.append(subprocess.Popen(
                ["redis-sentinel", conf], stdout=subprocess.DEVNULL))
        if not wait_until(self._ready, 30, 0.1):
            raise RuntimeError("lab did not become ready")

    def _conf(self, i):
        return os.path.join(self.dir, f"redis-{i}.conf")

    def start_node(self, i):
        self.nodes[i] = subprocess.Popen(["redis-server", self._conf(i)], stdout=subprocess.DEVNULL)
        wait_until(lambda: self.node(i).ping(), 10)

    def node(self, i):
        return redis.Redis(port=self.node_ports[i], socket_timeout=1)

    def _ready(self):
        for port in self.sentinel_ports:
            info = redis.Redis(port=port, socket_timeout=1).sentinel_master(MASTER_NAME)
            if info["num-other-sentinels"] != 2 or info["num-slaves"] != 2:
                return False
        replication = self.node(0).info("replication")
        online = sum(1 for k, v in replication.items()
                     if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online")
        return online == 2 and all(
            self.node(i).info("replication").get("master_link_status") == "up" for i in (1, 2))

    def role(self, i):
        try:
            return self.node(i).execute_command("ROLE")[0]
        except (redis.RedisError, OSError):
            return "down"

    def sentinel_master_index(self):
        votes = collections.Counter()
        for port in self.sentinel_ports:
            try:
                host, port_ = redis.Redis(port=port, socket_timeout=1).sentinel_get_master_addr_by_name(
                    MASTER_NAME)
                votes[self.node_ports.index(int(port_))] += 1
            except (redis.RedisError, OSError, TypeError, ValueError):
                pass
        best = votes.most_common(1)
        return best[0][0] if best and best[0][1] >= 2 else None

    def close(self):
        for p in self.sentinels + [n for n in self.nodes if n]:
            try:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
            except OSError:
                pass


class Workload:
    def __init__(self, make_client):
        self.make_client = make_client
        self.running = True
        self.lock = threading.Lock()
        self.ack_times = []
        self.errors = collections.Counter()
        self.counter_acked = [0] * WRITERS
        self.counter_regressions = 0
        self.keys_acked = [[] for _ in range(WRITERS)]
        self.stale_reads = 0
        self.reads = 0
        self.threads = [threading.Thread(target=self._writer, args=(i,)) for i in range(WRITERS)]
        self.threads += [threading.Thread(target=self._reader, args=(i,)) for i in range(READERS)]
        for t in self.threads:
            t.start()

    def _error(self, exc):
        text = str(exc).split("\n")[0]
        kind = type(exc).__name__ + ": " + " ".join(text.split()[:4])
        with self.lock:
            self.errors[kind] += 1
        time.sleep(0.05)

    def _ack(self):
        now = time.monotonic()
        with self.lock:
            self.ack_times.append(now)

    def _writer(self, index):
        client = self.make_client()
        counter = f"bench:counter:{index}"
        sequence = 0
        while self.running:
            try:
                value = client.incr(counter)
                if value <= self.counter_acked[index]:
                    self.counter_regressions += self.counter_acked[index] - value + 1
                self.counter_acked[index] = value
                self._ack()
            except (redis.RedisError, OSError) as exc:
                self._error(exc)
            key = f"bench:key:{index}:{sequence}"
            sequence += 1
            try:
                if client.set(key, "v"):
                    self.keys_acked[index].append(key)
                    self._ack()
            except (redis.RedisError, OSError) as exc:
                self._error(exc)

    def _reader(self, index):
        client = self.make_client(readonly=True)
        writer = index % WRITERS
        while self.running:
            expected = self.counter_acked[writer]
            try:
                value = client.get(f"bench:counter:{writer}")
                self.reads += 1
                if int(value or 0) < expected:
                    self.stale_reads += 1
            except (redis.RedisError, OSError) as exc:
                self._error(exc)
            time.sleep(0.001)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(timeout=30)

    def longest_gap(self, since):
        times = sorted(t for t in self.ack_times if t >= since)
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(gaps) if gaps else float("inf")

    def lost(self, master):
        lost = self.counter_regressions
        for i in range(WRITERS):
            stored = int(master.get(f"bench:counter:{i}") or 0)
            lost += max(0, self.counter_acked[i] - stored)
            keys = self.keys_acked[i]
            for start in range(0, len(keys), 1000):
                pipe = master.pipeline(transaction=False)
                for key in keys[start:start + 1000]:
                    pipe.exists(key)
                lost += sum(1 for found in pipe.execute() if not found)
        return lost


def run_once(scenario, client_kind, proxy_binary):
    workdir = tempfile.mkdtemp(prefix="rhp-failover-")
    lab = Lab(workdir)
    proxy = None
    try:
        if client_kind == "proxy":
            port = free_port()
            args = [proxy_binary, "--listen", f"127.0.0.1:{port}", "--master-name", MASTER_NAME,
                    "--log-level", "warn"]
            for p in lab.sentinel_ports:
                args += ["--sentinel", f"127.0.0.1:{p}"]
            proxy = subprocess.Popen(args, stderr=open(os.path.join(workdir, "proxy.log"), "w"))

            def make_client(readonly=False):
                return redis.Redis(port=port, socket_timeout=10)

            wait_until(lambda: make_client().set("bench:probe", 1), 10)
        else:
            sentinel = redis.sentinel.Sentinel([("127.0.0.1", p) for p in lab.sentinel_ports],
                                               socket_timeout=1)

            def make_client(readonly=False):
                if readonly:
                    return sentinel.slave_for(MASTER_NAME, socket_timeout=1)
                return sentinel.master_for(MASTER_NAME, socket_timeout=1)

        workload = Workload(make_client)
        time.sleep(2)
        broken_at = time.monotonic()
        if scenario == "sigkill":
            lab.nodes[0].kill()
            lab.nodes[0].wait()
        elif scenario == "sigstop":
            lab.nodes[0].send_signal(signal.SIGSTOP)
        elif scenario == "sentinel-failover":
            redis.Redis(port=lab.sentinel_ports[0]).execute_command(
                "SENTINEL", "FAILOVER", MASTER_NAME)
        elif scenario == "restart":
            lab.nodes[0].kill()
            lab.nodes[0].wait()
        wait_until(lambda: lab.sentinel_master_index() not in (None, 0), 30)
        if scenario == "sigstop":
            time.sleep(max(0.0, broken_at + 5 - time.monotonic()))
            lab.nodes[0].send_signal(signal.SIGCONT)
        if scenario == "restart":
            lab.start_node(0)
        if scenario in ("sigstop", "sentinel-failover", "restart"):
            wait_until(lambda: lab.role(0) == "slave", 40, 0.1)
        time.sleep(2)
        workload.stop()
        master = lab.node(lab.sentinel_master_index())
        master.connection_pool.connection_kwargs["socket_timeout"] = 30
        return {
            "gap": workload.longest_gap(broken_at - 1),
            "errors": sum(workload.errors.values()),
            "error_kinds": dict(workload.errors),
            "lost": workload.lost(master),
            "acked": len(workload.ack_times),
            "stale": workload.stale_reads,
            "reads": workload.reads,
        }
    finally:
        if proxy:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=10)
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios", default="sigkill,sigstop,sentinel-failover,restart")
    parser.add_argument("--clients", default="proxy,sentinel")
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "build", "redis-ha-proxy"))
    args = parser.parse_args()
    print(f"{WRITERS} writers (INCR + SET), {READERS} readers; down-after-milliseconds 1000; "
          f"medians of {args.runs} runs\n")
    print(f"{'scenario':<18}{'client':<10}{'no-write window s':>18}{'errors':>8}"
          f"{'acked writes':>13}{'lost':>6}{'stale reads':>12}   error kinds (last run)")
    for scenario in args.scenarios.split(","):
        for client in args.clients.split(","):
            results = [run_once(scenario, client, args.proxy) for _ in range(args.runs)]
            med = lambda key: statistics.median(r[key] for r in results)
            kinds = "; ".join(f"{k} x{v}" for k, v in results[-1]["error_kinds"].items())
            print(f"{scenario:<18}{client:<10}{med('gap'):>18.2f}{med('errors'):>8.0f}"
                  f"{med('acked'):>13.0f}{med('lost'):>6.0f}{med('stale'):>12.0f}   {kinds}",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
