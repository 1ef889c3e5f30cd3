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
restart (SIGKILL, then the old master is started again with its config),
partition (each redis+sentinel pair in its own network namespace on a bridge;
the master's host is cut off the network for 5 s, then healed; needs root),
minority-partition (the same, but the proxy runs on the master's host and is
cut off with it; the clients reach it over a link of that host's own, as an
application on the same host would; proxy only).

For each it prints: longest window without an acknowledged write and without
a successful read, errors by type, acknowledged writes lost (checked on the
final master), how many of those were acknowledged after a replica was
promoted (by a stale master), stale reads.

--check exits 1 when the proxy breaks its failover contract in any run (see
CONTRACT below); the integration tests run the partition scenarios that way.

Usage: benchmarks/failover.py [--runs 3] [--scenarios sigkill,sigstop,...]
                              [--clients proxy,sentinel] [--proxy build/redis-ha-proxy]
                              [--check]
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
NETNS_SCENARIOS = ("partition", "minority-partition")
PROXY_ONLY_SCENARIOS = ("minority-partition",)

# What the proxy promises in each scenario, checked with --check. A crash
# may cost each writer the one request it had in flight (an error: outcome
# unknown) and, with asynchronous replication, the write acknowledged just
# before it; nothing acknowledged after a promotion may ever be lost.
CONTRACT = {
    "sigkill": {"max_errors": WRITERS, "max_lost": WRITERS},
    "sigstop": {"max_errors": WRITERS, "max_lost": WRITERS},
    "sentinel-failover": {"max_errors": 0, "max_lost": 0},
    "restart": {"max_errors": WRITERS, "max_lost": WRITERS},
    "partition": {"max_errors": WRITERS, "max_lost": WRITERS},
    # Writes the old master took between the cut and the end of the write
    # lease are lost (only min-replicas-to-write prevents that); none after.
    "minority-partition": {"max_errors": None, "max_lost": None},
}


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
    """Three hosts, each with a redis-server and a redis-sentinel. On
    loopback they differ by port; with network namespaces (netns=True) each
    host is a namespace with its own address on a bridge, so a host can be
    cut off the network and healed. Needs root for namespaces."""

    SUBNET = "10.231.0"  # exists only on the bridge and in the namespaces this lab creates
    APP_SUBNET = "10.232.0"  # the root namespace's private link to host 1 (its "application")

    def __init__(self, workdir, netns=False):
        self.dir = workdir
        self.netns = netns
        self.nodes = [None] * 3
        self.sentinels = []
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        if self.netns:
            self._create_network()
            self.nodes_at = [(f"{self.SUBNET}.{i + 1}", 6379) for i in range(3)]
            self.sentinels_at = [(f"{self.SUBNET}.{i + 1}", 26379) for i in range(3)]
        else:
            self.nodes_at = [("127.0.0.1", free_port()) for _ in range(3)]
            self.sentinels_at = [("127.0.0.1", free_port()) for _ in range(3)]
        master_host, master_port = self.nodes_at[0]
        for i, (host, port) in enumerate(self.nodes_at):
            with open(self._conf(i), "w") as f:
                # protected-mode: these listen on namespace addresses, not loopback.
                f.write(f"port {port}\nbind {host}\nsave \"\"\nappendonly no\nprotected-mode no\n"
                        f"dir {self.dir}\ndbfilename dump-{i}.rdb\n")
                if i:
                    f.write(f"replicaof {master_host} {master_port}\n")
            self.start_node(i)
        for i, (host, port) in enumerate(self.sentinels_at):
            conf = os.path.join(self.dir, f"sentinel-{i}.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind {host}\nprotected-mode no\ndir {self.dir}\n"
                        f"sentinel monitor {MASTER_NAME} {master_host} {master_port} 2\n"
                        f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                        f"sentinel failover-timeout {MASTER_NAME} 10000\n"
                        f"sentinel parallel-syncs {MASTER_NAME} 1\n")
            self.sentinels.append(subprocess.Popen(
                self._on_host(i) + ["redis-sentinel", conf], stdout=subprocess.DEVNULL))
        if not wait_until(self._ready, 30, 0.1):
            raise RuntimeError("lab did not become ready")

    def _create_network(self):
        self._cleanup_network()
        run = lambda *cmd: subprocess.run(cmd, check=True)
        run("ip", "link", "add", "rhp-br0", "type", "bridge")
        run("ip", "addr", "add", f"{self.SUBNET}.254/24", "dev", "rhp-br0")
        run("ip", "link", "set", "rhp-br0", "up")
        for i in range(3):
            ns, outside = f"rhp-h{i + 1}", f"rhp-h{i + 1}-br"
            run("ip", "netns", "add", ns)
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
            run("ip", "link", "set", outside, "master", "rhp-br0")
            run("ip", "link", "set", outside, "up")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.SUBNET}.{i + 1}/24", "dev",
                "eth0")
            run("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        # Host 1's own link to the root namespace, where the benchmark's
        # clients run: it stays up when the host is cut off the bridge.
        run("ip", "link", "add", "rhp-app1", "type", "veth", "peer", "name", "app0", "netns",
            "rhp-h1")
        run("ip", "addr", "add", f"{self.APP_SUBNET}.254/24", "dev", "rhp-app1")
        run("ip", "link", "set", "rhp-app1", "up")
        run("ip", "netns", "exec", "rhp-h1", "ip", "addr", "add", f"{self.APP_SUBNET}.1/24", "dev",
            "app0")
        run("ip", "netns", "exec", "rhp-h1", "ip", "link", "set", "app0", "up")

    @staticmethod
    def _cleanup_network():
        for i in range(3):
            subprocess.run(["ip", "netns", "del", f"rhp-h{i + 1}"], stderr=subprocess.DEVNULL)
            subprocess.run(["ip", "link", "del", f"rhp-h{i + 1}-br"], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", "rhp-app1"], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", "rhp-br0"], stderr=subprocess.DEVNULL)

    def _on_host(self, i):
        return ["ip", "netns", "exec", f"rhp-h{i + 1}"] if self.netns else []

    def cut_off(self, i, cut):
        """Takes host i off the network (or heals it): its link to the bridge goes down."""
        subprocess.run(["ip", "link", "set", f"rhp-h{i + 1}-br", "down" if cut else "up"],
                       check=True)

    def _conf(self, i):
        return os.path.join(self.dir, f"redis-{i}.conf")

    def start_node(self, i):
        self.nodes[i] = subprocess.Popen(self._on_host(i) + ["redis-server", self._conf(i)],
                                         stdout=subprocess.DEVNULL)
        wait_until(lambda: self.node(i).ping(), 10)

    def node(self, i):
        host, port = self.nodes_at[i]
        return redis.Redis(host=host, port=port, socket_timeout=1)

    def sentinel_client(self, i):
        host, port = self.sentinels_at[i]
        return redis.Redis(host=host, port=port, socket_timeout=1)

    def _ready(self):
        for i in range(3):
            info = self.sentinel_client(i).sentinel_master(MASTER_NAME)
            if info["num-other-sentinels"] != 2 or info["num-slaves"] != 2:
                return False
        replication = self.node(0).info("replication")
        online = sum(1 for k, v in replication.items()
                     if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online")
        return online == 2 and all(
            self.node(i).info("replication").get("master_link_status") == "up" for i in (1, 2))

    def role(self, i):
        """"master", "slave" or "down" (redis-py hands back bytes)."""
        try:
            role = self.node(i).execute_command("ROLE")[0]
            return role.decode() if isinstance(role, bytes) else role
        except (redis.RedisError, OSError):
            return "down"

    def sentinel_master_index(self):
        votes = collections.Counter()
        for i in range(3):
            try:
                host, port = self.sentinel_client(i).sentinel_get_master_addr_by_name(MASTER_NAME)
                host = host.decode() if isinstance(host, bytes) else host
                votes[self.nodes_at.index((host, int(port)))] += 1
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
        if self.netns:
            # `ip netns exec` leaves the servers as its children; kill what is left.
            for i in range(3):
                pids = subprocess.run(["ip", "netns", "pids", f"rhp-h{i + 1}"],
                                      capture_output=True, text=True).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
            self._cleanup_network()


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
        self.key_ack_times = [[] for _ in range(WRITERS)]
        self.read_times = []
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
                    self.key_ack_times[index].append(time.monotonic())
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
                self.read_times.append(time.monotonic())
                if int(value or 0) < expected:
                    self.stale_reads += 1
            except (redis.RedisError, OSError) as exc:
                self._error(exc)
            time.sleep(0.001)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(timeout=30)

    @staticmethod
    def _longest_gap(times, since):
        times = sorted(t for t in times if t >= since)
        gaps = [b - a for a, b in zip(times, times[1:])]
        return max(gaps) if gaps else float("inf")

    def longest_gap(self, since):
        return self._longest_gap(self.ack_times, since)

    def longest_read_gap(self, since):
        return self._longest_gap(self.read_times, since)

    def lost(self, master, promoted_at):
        """Acknowledged writes missing on `master`, and how many of the lost
        SETs had been acknowledged after `promoted_at` (by a stale master)."""
        lost = self.counter_regressions
        lost_after_promotion = 0
        for i in range(WRITERS):
            stored = int(master.get(f"bench:counter:{i}") or 0)
            lost += max(0, self.counter_acked[i] - stored)
            keys = self.keys_acked[i]
            for start in range(0, len(keys), 1000):
                pipe = master.pipeline(transaction=False)
                for key in keys[start:start + 1000]:
                    pipe.exists(key)
                for offset, found in enumerate(pipe.execute()):
                    if found:
                        continue
                    lost += 1
                    if promoted_at is not None and self.key_ack_times[i][start + offset] > promoted_at:
                        lost_after_promotion += 1
        return lost, lost_after_promotion


class PromotionWatch:
    """Asks the replicas ROLE every 10 ms and remembers when the first of
    them reported master: the moment writes to the old master stop being
    safe."""

    def __init__(self, lab):
        self.lab = lab
        self.promoted_at = None
        self.running = True
        self.thread = threading.Thread(target=self._watch)
        self.thread.start()

    def _watch(self):
        while self.running and self.promoted_at is None:
            for i in (1, 2):
                if self.lab.role(i) == "master":
                    self.promoted_at = time.monotonic()
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.thread.join(timeout=10)


def run_once(scenario, client_kind, proxy_binary):
    workdir = tempfile.mkdtemp(prefix="rhp-failover-")
    lab = Lab(workdir, netns=scenario in NETNS_SCENARIOS)
    proxy = None
    watch = None
    try:
        if client_kind == "proxy":
            port = free_port()
            host = "127.0.0.1"
            prefix = []
            if scenario == "minority-partition":
                # On the master's host, reached over that host's own link.
                host = f"{Lab.APP_SUBNET}.1"
                prefix = ["ip", "netns", "exec", "rhp-h1"]
            args = prefix + [proxy_binary, "--listen", f"{host}:{port}", "--admin-listen",
                             "127.0.0.1:0", "--master-name", MASTER_NAME, "--log-level", "info"]
            for sentinel_host, sentinel_port in lab.sentinels_at:
                args += ["--sentinel", f"{sentinel_host}:{sentinel_port}"]
            proxy = subprocess.Popen(args, stderr=open(os.path.join(workdir, "proxy.log"), "w"))

            def make_client(readonly=False):
                return redis.Redis(host=host, port=port, socket_timeout=10)

            wait_until(lambda: make_client().set("bench:probe", 1), 10)
        else:
            sentinel = redis.sentinel.Sentinel(lab.sentinels_at, socket_timeout=1)

            def make_client(readonly=False):
                if readonly:
                    return sentinel.slave_for(MASTER_NAME, socket_timeout=1)
                return sentinel.master_for(MASTER_NAME, socket_timeout=1)

        workload = Workload(make_client)
        time.sleep(2)
        watch = PromotionWatch(lab)
        broken_at = time.monotonic()
        if scenario == "sigkill":
            lab.nodes[0].kill()
            lab.nodes[0].wait()
        elif scenario == "sigstop":
            lab.nodes[0].send_signal(signal.SIGSTOP)
        elif scenario == "sentinel-failover":
            lab.sentinel_client(0).execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        elif scenario == "restart":
            lab.nodes[0].kill()
            lab.nodes[0].wait()
        elif scenario in NETNS_SCENARIOS:
            lab.cut_off(0, True)
        wait_until(lambda: lab.sentinel_master_index() not in (None, 0), 30)
        if scenario in NETNS_SCENARIOS:
            time.sleep(max(0.0, broken_at + 5 - time.monotonic()))
            lab.cut_off(0, False)
        if scenario == "sigstop":
            time.sleep(max(0.0, broken_at + 5 - time.monotonic()))
            lab.nodes[0].send_signal(signal.SIGCONT)
        if scenario == "restart":
            lab.start_node(0)
        if scenario in ("sigstop", "sentinel-failover", "restart") + NETNS_SCENARIOS:
            wait_until(lambda: lab.role(0) == "slave", 40, 0.1)
        time.sleep(2)
        workload.stop()
        watch.stop()
        master = lab.node(lab.sentinel_master_index())
        master.connection_pool.connection_kwargs["socket_timeout"] = 30
        lost, lost_after_promotion = workload.lost(master, watch.promoted_at)
        return {
            "gap": workload.longest_gap(broken_at - 1),
            "read_gap": workload.longest_read_gap(broken_at - 1),
            "errors": sum(workload.errors.values()),
            "error_kinds": dict(workload.errors),
            "lost": lost,
            "lost_after_promotion": lost_after_promotion,
            "acked": len(workload.ack_times),
            "stale": workload.stale_reads,
            "reads": workload.reads,
        }
    finally:
        if watch:
            watch.stop()
        if proxy:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=10)
        lab.close()
        shutil.rmtree(workdir, ignore_errors=True)


def contract_breaches(scenario, result):
    contract = CONTRACT[scenario]
    breaches = []
    if result["lost_after_promotion"]:
        breaches.append(f"{result['lost_after_promotion']} writes acknowledged after the "
                        "promotion were lost")
    if contract["max_lost"] is not None and result["lost"] > contract["max_lost"]:
        breaches.append(f"{result['lost']} acknowledged writes lost (at most "
                        f"{contract['max_lost']})")
    if contract["max_errors"] is not None and result["errors"] > contract["max_errors"]:
        breaches.append(f"{result['errors']} client errors (at most {contract['max_errors']}): "
                        f"{result['error_kinds']}")
    return breaches


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios",
                        default="sigkill,sigstop,sentinel-failover,restart,partition,"
                                "minority-partition")
    parser.add_argument("--clients", default="proxy,sentinel")
    parser.add_argument("--proxy", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "build", "redis-ha-proxy"))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the proxy breaks its failover contract in any run")
    args = parser.parse_args()
    print(f"{WRITERS} writers (INCR + SET), {READERS} readers; down-after-milliseconds 1000; "
          f"medians of {args.runs} runs\n")
    print(f"{'scenario':<19}{'client':<9}{'no-write s':>11}{'no-read s':>10}{'errors':>7}"
          f"{'acked':>9}{'lost':>8}{'lost after promotion':>21}{'stale reads':>12}"
          f"   error kinds (last run)")
    breaches = []
    for scenario in args.scenarios.split(","):
        for client in args.clients.split(","):
            if client != "proxy" and scenario in PROXY_ONLY_SCENARIOS:
                continue
            results = [run_once(scenario, client, args.proxy) for _ in range(args.runs)]
            med = lambda key: statistics.median(r[key] for r in results)
            kinds = "; ".join(f"{k} x{v}" for k, v in results[-1]["error_kinds"].items())
            print(f"{scenario:<19}{client:<9}{med('gap'):>11.2f}{med('read_gap'):>10.2f}"
                  f"{med('errors'):>7.0f}{med('acked'):>9.0f}{med('lost'):>8.0f}"
                  f"{med('lost_after_promotion'):>21.0f}{med('stale'):>12.0f}   {kinds}",
                  flush=True)
            if client == "proxy":
                for run, result in enumerate(results, 1):
                    breaches += [f"{scenario} run {run}: {b}"
                                 for b in contract_breaches(scenario, result)]
    if args.check:
        for breach in breaches:
            print(f"CONTRACT BROKEN: {breach}", file=sys.stderr)
        return 1 if breaches else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
