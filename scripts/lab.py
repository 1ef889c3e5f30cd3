#!/usr/bin/env python3
"""The Sentinel lab, written once: the 3-host N+1 deployment (redis-server +
redis-sentinel on each host, node 0 the first master) folded onto one
machine. How each redis.conf and sentinel.conf is written, when the lab
counts as ready, and how it is stopped live here and nowhere else; the
deployment's values (master name, quorum, down-after-milliseconds,
failover-timeout, the proxy's ports) live in docker/lab.env, shared with the
compose lab. Three front ends drive it:

  scripts/lab up|status|down|run   the bash front end installs packages and
                                   builds first (a fresh machine has no python3)
  import lab                       benchmarks/*.py: lab.Lab(...) in-process
  scripts/lab.py serve ...         tests/support/lab.cc: one line when ready,
                                   then one command per stdin line (see serve)

Standard library only: the benchmarks' redis-py is not needed to run a lab.
"""
import argparse
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def read_env(path=os.path.join(REPO, "docker", "lab.env")):
    """KEY=value lines of docker/lab.env (the compose file reads the same)."""
    values = {}
    with open(path) as f:
        for line in f:
            key, sep, value = line.strip().partition("=")
            if sep and not key.startswith("#"):
                values[key] = value
    return values


DEFAULTS = read_env()
# A lab is ready about 5 s after its processes start (the sentinels meet
# through hello messages every 2 s). The bounds are generous because the
# suite runs three labs side by side on 2 cores (ctest -j3), under ASan too.
START_TIMEOUT_S = 10
READY_TIMEOUT_S = 40


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RespError(Exception):
    """An error reply (-ERR ..., -LOADING ...)."""


def _encode(args):
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RespError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2].decode()
    if kind == b"*":
        return None if int(rest) < 0 else [_read_reply(f) for _ in range(int(rest))]
    raise ConnectionError(f"not RESP: {line!r}")


def call(address, *args, password="", timeout=0.5, tls=None):
    """One command on a new connection (logged in first when `password`;
    over TLS with `tls`, an ssl.SSLContext)."""
    with socket.create_connection(address, timeout=timeout) as plain, \
            (tls.wrap_socket(plain, server_hostname=address[0]) if tls else plain) as s, \
            s.makefile("rb") as f:
        if password:
            s.sendall(_encode(["AUTH", password]))
            _read_reply(f)
        s.sendall(_encode(args))
        return _read_reply(f)


def wait_until(condition, timeout, step=0.02):
    """Polls `condition` until it holds; a node that does not answer yet is
    not an error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except (OSError, RespError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


class Lab:
    """`nodes` redis-servers (node 0 the master, the others its replicas)
    and `sentinels` sentinels, node i and sentinel i on host i. Hosts are
    127.0.0.1 on free ports unless the caller names addresses (and network
    namespaces to run them in, see benchmarks/failover.py). Ready when
    constructed; close() stops every process and removes the directory."""

    def __init__(self, nodes=3, sentinels=3, directory=None, node_addresses=None,
                 sentinel_addresses=None, namespaces=None, redis_config=(), redis_password="",
                 sentinel_password="", master_name=None, down_after_ms=None,
                 failover_timeout_ms=None, quorum=None, tls=False):
        self.dir = directory or tempfile.mkdtemp(prefix="rhp-lab-")
        os.makedirs(self.dir, exist_ok=True)
        self.nodes_at = node_addresses or [("127.0.0.1", free_port()) for _ in range(nodes)]
        self.sentinels_at = sentinel_addresses or [("127.0.0.1", free_port())
                                                   for _ in range(sentinels)]
        self.namespaces = namespaces or [None] * max(len(self.nodes_at), len(self.sentinels_at))
        self.redis_password, self.sentinel_password = redis_password, sentinel_password
        self.master_name = master_name or DEFAULTS["LAB_MASTER_NAME"]
        self.quorum = quorum or int(DEFAULTS["LAB_QUORUM"])
        self.down_after_ms = down_after_ms or int(DEFAULTS["LAB_DOWN_AFTER_MS"])
        self.failover_timeout_ms = failover_timeout_ms or int(DEFAULTS["LAB_FAILOVER_TIMEOUT_MS"])
        self.nodes = [None] * len(self.nodes_at)  # subprocess.Popen of each, None while stopped
        self.sentinels = []
        self.tls_dir, self.tls = None, None
        try:
            if tls:
                self._make_certificates()
            for i in range(len(self.nodes_at)):
                self._write_redis_conf(i, redis_config)
                self.start_node(i)
            for i in range(len(self.sentinels_at)):
                self._write_sentinel_conf(i)
                self.sentinels.append(self._spawn(f"sentinel-{i}", ["redis-sentinel"], i))
            for i, process in enumerate(self.sentinels):
                self._wait_for_start(process, self.sentinels_at[i], sentinel_password,
                                     f"sentinel-{i}")
            self._wait_until_ready()
        except BaseException:
            self.close()
            raise

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _make_certificates(self):
        """TLS only, on every link: nodes and sentinels listen on tls-port
        alone (port 0), replicate and talk to each other over TLS, and
        want a client certificate from everyone (tls-auth-clients yes)."""
        self.tls_dir = self._path("tls")
        subprocess.run([os.path.join(REPO, "scripts", "test_certs.sh"), self.tls_dir], check=True)
        self.tls = ssl.create_default_context(cafile=self._tls_file("ca.crt"))
        self.tls.load_cert_chain(self._tls_file("client.crt"), self._tls_file("client.key"))

    def _tls_file(self, name):
        return os.path.join(self.tls_dir, name)

    def _listen_lines(self, port):
        if not self.tls:
            return [f"port {port}"]
        return ["port 0", f"tls-port {port}", "tls-replication yes", "tls-auth-clients yes",
                f"tls-cert-file {self._tls_file('server.crt')}",
                f"tls-key-file {self._tls_file('server.key')}",
                f"tls-ca-cert-file {self._tls_file('ca.crt')}"]

    def _write_redis_conf(self, i, extra_lines):
        host, port = self.nodes_at[i]
        lines = self._listen_lines(port) + [f"bind {host}",
                 # Without a password protected mode refuses clients that are
                 # not on loopback, as those in failover.py's namespaces are.
                 "protected-mode no",
                 'save ""', "appendonly no", f"dir {self.dir}",
                 # Replicas store the master's snapshot during a full sync:
                 # one file each, as they share the directory.
                 f"dbfilename dump-{i}.rdb"]
        if i:
            lines.append("replicaof %s %d" % self.nodes_at[0])
        if self.redis_password:
            lines += [f"requirepass {self.redis_password}", f"masterauth {self.redis_password}"]
        with open(self._path(f"redis-{i}.conf"), "w") as f:
            f.write("\n".join(lines + list(extra_lines)) + "\n")

    def _write_sentinel_conf(self, i):
        host, port = self.sentinels_at[i]
        name = self.master_name
        lines = self._listen_lines(port) + [f"bind {host}", "protected-mode no", f"dir {self.dir}",
                 "sentinel monitor %s %s %d %d" % (name, *self.nodes_at[0], self.quorum),
                 f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
                 f"sentinel failover-timeout {name} {self.failover_timeout_ms}",
                 f"sentinel parallel-syncs {name} 1"]
        if self.redis_password:
            lines.append(f"sentinel auth-pass {name} {self.redis_password}")
        if self.sentinel_password:
            lines += [f"requirepass {self.sentinel_password}",
                      f"sentinel sentinel-pass {self.sentinel_password}"]
        with open(self._path(f"sentinel-{i}.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self, name, program, host):
        """Starts `program` with name.conf, logging to name.log. Its own
        session, so a Ctrl-C meant for the caller does not reach it; the pid
        goes to name.pid for `scripts/lab down` after `scripts/lab up`."""
        namespace = self.namespaces[host]
        prefix = ["ip", "netns", "exec", namespace] if namespace else []
        with open(self._path(f"{name}.log"), "ab") as log:
            process = subprocess.Popen(prefix + program + [self._path(f"{name}.conf")],
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        with open(self._path(f"{name}.pid"), "w") as f:
            f.write(f"{process.pid}\n")
        return process

    def _wait_for_start(self, process, address, password, name):
        """Something else answering on the port (taken after free_port)
        must not pass for the process just started: it has to be alive too."""
        if wait_until(lambda: process.poll() is not None
                      or call(address, "PING", password=password, tls=self.tls) == "PONG",
                      START_TIMEOUT_S) \
                and process.poll() is None:
            return
        with open(self._path(f"{name}.log"), errors="replace") as f:
            log = f.read()
        state = "exited" if process.poll() is not None else \
            f"did not answer PING within {START_TIMEOUT_S} s"
        raise RuntimeError(f"lab: {name} on port {address[1]} {state}; its log says:\n{log}")

    def _wait_until_ready(self):
        """A failover needs every sentinel to know the others (they meet
        through hello messages on the master every 2 s) and the replicas, and
        the replicas to have finished their initial sync: while it runs they
        count as connected, and a failover then would lose what they had not
        loaded yet."""
        waiting_for = []

        def ready():
            replicas = len(self.nodes_at) - 1
            for i in range(len(self.sentinels_at)):
                reply = self.sentinel_call(i, "SENTINEL", "MASTER", self.master_name)
                info = dict(zip(reply[::2], reply[1::2]))
                waiting_for[:] = [f"sentinel {i} knows {info['num-other-sentinels']} other "
                                  f"sentinels and {info['num-slaves']} replicas"]
                if (int(info["num-other-sentinels"]) != len(self.sentinels_at) - 1
                        or int(info["num-slaves"]) != replicas):
                    return False
            online = self.node_call(0, "INFO", "replication").count("state=online")
            waiting_for[:] = [f"the master has {online} of {replicas} replicas online"]
            if online != replicas:
                return False
            for i in range(1, len(self.nodes_at)):
                waiting_for[:] = [f"replica {i}: link up and initial sync done"]
                info = self.node_call(i, "INFO", "replication")
                if "master_link_status:up" not in info or "master_sync_in_progress:0" not in info:
                    return False
            return True

        if not wait_until(ready, READY_TIMEOUT_S, 0.05):
            raise RuntimeError(f"lab not ready within {READY_TIMEOUT_S} s; still waiting for: "
                               f"{waiting_for[0] if waiting_for else 'a first answer'} "
                               f"(logs in {self.dir})")

    def proxy_args(self):
        """What points redis-ha-proxy at this lab."""
        args = ["--master-name", self.master_name]
        for host, port in self.sentinels_at:
            args += ["--sentinel", f"{host}:{port}"]
        return args

    def node_call(self, i, *args):
        return call(self.nodes_at[i], *args, password=self.redis_password, tls=self.tls)

    def sentinel_call(self, i, *args):
        return call(self.sentinels_at[i], *args, password=self.sentinel_password, tls=self.tls)

    def start_node(self, i):
        """Starts node i with its redis.conf (which Sentinel may have
        rewritten since) and waits until it answers PING."""
        self.nodes[i] = self._spawn(f"redis-{i}", ["redis-server"], i)
        self._wait_for_start(self.nodes[i], self.nodes_at[i], self.redis_password, f"redis-{i}")

    def kill_node(self, i):
        """SIGKILL, as a crash; start_node(i) brings it back."""
        self.nodes[i].kill()
        self.nodes[i].wait()
        self.nodes[i] = None
        # Its pid may be reused by then: `down` must not find it.
        os.remove(self._path(f"redis-{i}.pid"))

    def role(self, i):
        """Node i's own answer to ROLE: "master", "slave" or "down"."""
        try:
            return self.node_call(i, "ROLE")[0]
        except (OSError, RespError):
            return "down"

    def sentinel_master(self):
        """The node a majority of the sentinels name as master, or None."""
        votes = [0] * len(self.nodes_at)
        for i in range(len(self.sentinels_at)):
            try:
                host, port = self.sentinel_call(i, "SENTINEL", "get-master-addr-by-name",
                                                self.master_name)
                votes[self.nodes_at.index((host, int(port)))] += 1
            except (OSError, RespError, TypeError, ValueError):
                pass
        best = max(range(len(votes)), key=votes.__getitem__)
        return best if votes[best] * 2 > len(self.sentinels_at) else None

    def close(self):
        """SIGKILL is enough: nothing in the lab is saved (save "", no AOF).
        A SIGSTOPped process is killed as well. SIGTERM and SIGINT wait until
        it is done: `serve` gets SIGTERM when its test binary dies, often
        just as it finds its socket closed and starts closing the lab, and
        a handler run halfway would leave the rest running."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        try:
            for process in self.sentinels + [n for n in self.nodes if n]:
                process.kill()
                process.wait()
            shutil.rmtree(self.dir, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def stop(directory):
    """Stops a lab that `up` left running, by the pids it wrote, and removes
    its directory; waits up to 5 s for the processes to be gone."""
    if not os.path.isdir(directory):
        return
    pids = []
    for name in os.listdir(directory):
        if name.endswith(".pid"):
            with open(os.path.join(directory, name)) as f:
                pids.append(int(f.read()))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def gone():
        for pid in pids:
            try:
                os.kill(pid, 0)
                return False
            except ProcessLookupError:
                pass
        return True

    wait_until(gone, 5, 0.05)
    shutil.rmtree(directory, ignore_errors=True)


def serve(args):
    """For tests/support/lab.cc. Prints "ready dir=... master_name=...
    down_after_ms=... failover_timeout_ms=..." once the lab is ready, or
    "error <first line>" (the whole message, with the log, on stderr).
    Then reads one command a line and answers one line:
      kill I | start I          node I (start waits for PING)
      signal node|sentinel I N  sends signal N
      role I                    master, slave or down
      master                    the node a majority of sentinels name, or none
    At end of input or SIGTERM (the test binary's death signal for it) it
    stops the lab and removes its directory."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ports = lambda text: [("127.0.0.1", int(p)) for p in text.split(",") if p]
    try:
        lab = Lab(node_addresses=ports(args.redis_ports),
                  sentinel_addresses=ports(args.sentinel_ports), redis_config=args.redis_config,
                  redis_password=args.redis_password, sentinel_password=args.sentinel_password,
                  master_name=args.master_name, down_after_ms=args.down_after_ms,
                  failover_timeout_ms=args.failover_timeout_ms, tls=args.tls)
    except Exception as error:  # noqa: BLE001 - reported to the test, which throws
        print(error, file=sys.stderr)
        print("error", str(error).split("\n")[0], flush=True)
        return 1
    try:
        print(f"ready dir={lab.dir} master_name={lab.master_name} "
              f"down_after_ms={lab.down_after_ms} failover_timeout_ms={lab.failover_timeout_ms} "
              f"tls_dir={lab.tls_dir or ''}", flush=True)
        for line in sys.stdin:
            words = line.split()
            try:
                if words[0] == "kill":
                    lab.kill_node(int(words[1]))
                    answer = "ok"
                elif words[0] == "start":
                    lab.start_node(int(words[1]))
                    answer = "ok"
                elif words[0] == "signal":
                    group = lab.nodes if words[1] == "node" else lab.sentinels
                    group[int(words[2])].send_signal(int(words[3]))
                    answer = "ok"
                elif words[0] == "role":
                    answer = lab.role(int(words[1]))
                elif words[0] == "master":
                    master = lab.sentinel_master()
                    answer = "none" if master is None else str(master)
                else:
                    answer = f"error unknown command {line.strip()}"
            except Exception as error:  # noqa: BLE001 - the test throws with it
                print(error, file=sys.stderr)
                answer = "error " + str(error).split("\n")[0]
            print(answer, flush=True)
    finally:
        lab.close()
    return 0


def setting(key):
    """A docker/lab.env value, or the environment's for `scripts/lab`."""
    return os.environ.get(key) or DEFAULTS[key]


def command_line_settings():
    """`scripts/lab`'s lab: docker/lab.env and the environment (see
    scripts/lab)."""
    return {
        "directory": os.environ.get("LAB_DIR") or "/tmp/redis-ha-proxy-lab",
        "node_addresses": [("127.0.0.1", int(p)) for p in
                           (os.environ.get("LAB_REDIS_PORTS") or "7001 7002 7003").split()],
        "sentinel_addresses": [("127.0.0.1", int(p)) for p in
                               (os.environ.get("LAB_SENTINEL_PORTS")
                                or "26381 26382 26383").split()],
        "master_name": setting("LAB_MASTER_NAME"),
        "quorum": int(setting("LAB_QUORUM")),
        "down_after_ms": int(setting("LAB_DOWN_AFTER_MS")),
        "failover_timeout_ms": int(setting("LAB_FAILOVER_TIMEOUT_MS")),
    }


def up(settings):
    directory = settings["directory"]
    if os.path.isdir(directory) and any(n.endswith(".pid") for n in os.listdir(directory)):
        print(f"lab: already running in {directory} (scripts/lab down first)", file=sys.stderr)
        return None
    lab = Lab(**settings)
    print(f"lab: up in {lab.dir}")
    print(f"  redis:     {' '.join(str(p) for _, p in lab.nodes_at)} "
          f"(master {lab.nodes_at[0][1]})")
    print(f"  sentinels: {' '.join(str(p) for _, p in lab.sentinels_at)} "
          f"(master name {lab.master_name}, quorum {lab.quorum})")
    return lab


def status(settings):
    for address in settings["node_addresses"]:
        try:
            role = call(address, "ROLE")[0]
        except (OSError, RespError):
            role = "down"
        print(f"redis {address[1]}: {role}")
    try:
        master = ":".join(call(settings["sentinel_addresses"][0], "SENTINEL",
                               "get-master-addr-by-name", settings["master_name"]))
    except (OSError, RespError, TypeError):
        master = ""
    print(f"sentinels say master is: {master}")


def run(settings, proxy_binary):
    """Lab up, the proxy in the foreground; Ctrl-C (or SIGTERM) stops both."""
    stop(settings["directory"])
    lab = up(settings)
    proxy_port, admin_port = setting("PROXY_PORT"), setting("ADMIN_PORT")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    proxy = None
    try:
        print(f"""
redis-ha-proxy is starting on 127.0.0.1:{proxy_port} in front of the lab.
  connect:          redis-cli -p {proxy_port}
  force a failover: redis-cli -p {lab.sentinels_at[0][1]} sentinel failover {lab.master_name}
  lab state:        scripts/lab status
  metrics:          curl -s http://127.0.0.1:{admin_port}/metrics   (also /healthz, /readyz)
Ctrl-C stops the proxy and the lab.
""", flush=True)
        proxy = subprocess.Popen([proxy_binary, "--listen", f"127.0.0.1:{proxy_port}",
                                  "--admin-listen", f"127.0.0.1:{admin_port}"] + lab.proxy_args())
        return proxy.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if proxy and proxy.poll() is None:
            proxy.terminate()
            proxy.wait()
        lab.close()
        print("lab: down")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up")
    commands.add_parser("status")
    commands.add_parser("down")
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--proxy", default=os.path.join(REPO, "build", "redis-ha-proxy"))
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--redis-ports", required=True, help="comma-separated")
    serve_parser.add_argument("--sentinel-ports", required=True, help="comma-separated")
    serve_parser.add_argument("--redis-config", action="append", default=[],
                              help="a line appended to each redis.conf")
    serve_parser.add_argument("--redis-password", default="")
    serve_parser.add_argument("--sentinel-password", default="")
    serve_parser.add_argument("--master-name")
    serve_parser.add_argument("--down-after-ms", type=int)
    serve_parser.add_argument("--failover-timeout-ms", type=int)
    serve_parser.add_argument("--tls", action="store_true",
                              help="TLS only on every link (scripts/test_certs.sh makes the files)")
    args = parser.parse_args()
    if args.command == "serve":
        return serve(args)
    settings = command_line_settings()
    try:
        if args.command == "up":
            return 0 if up(settings) else 1
        if args.command == "run":
            return run(settings, args.proxy)
    except RuntimeError as error:  # a process that did not start: its log says why
        print(error, file=sys.stderr)
        return 1
    if args.command == "status":
        status(settings)
    else:
        stop(settings["directory"])
        print("lab: down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
