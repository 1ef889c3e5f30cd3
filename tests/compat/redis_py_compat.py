#!/usr/bin/python3
"""Drives redis-ha-proxy with Debian's python3-redis through its normal API:
plain commands, pipelines (transactional and not), WATCH-based optimistic
locking, pub/sub, scan_iter, Lua scripts, blocking pops. Exits non-zero on
the first mismatch.

Usage: redis_py_compat.py <proxy port> [<ca file> <cert file> <key file>]
With the three files, every connection is TLS (redis-py's ssl options), as
to the proxy's TLS port.
"""
import sys
import threading
import time

import redis


def main():
    port = int(sys.argv[1])
    if len(sys.argv) == 5:
        tls = {"ssl": True, "ssl_ca_certs": sys.argv[2], "ssl_certfile": sys.argv[3],
               "ssl_keyfile": sys.argv[4]}
    else:
        tls = {}
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True, **tls)

    assert r.ping() is True
    assert r.set("compat:k", "v") is True
    r.delete("compat:list", "compat:counter", "compat:hash")

    # Pipeline without a transaction: many commands, one round trip.
    with r.pipeline(transaction=False) as pipe:
        for i in range(100):
            pipe.incr("compat:counter")
        results = pipe.execute()
    assert results == list(range(1, 101)), results

    # Transactional pipeline: MULTI/EXEC underneath.
    with r.pipeline() as pipe:
        pipe.hset("compat:hash", mapping={"a": "1", "b": "2"})
        pipe.hincrby("compat:hash", "a", 10)
        pipe.hgetall("compat:hash")
        results = pipe.execute()
    assert results == [2, 11, {"a": "11", "b": "2"}], results

    # Optimistic locking with WATCH, retried on conflict as the docs show.
    def double_counter(pipe):
        value = int(pipe.get("compat:counter"))
        pipe.multi()
        pipe.set("compat:counter", value * 2)

    r.transaction(double_counter, "compat:counter")
    # Reads may come from a replica: wait for it to have the write.
    r.execute_command("WAIT", 2, 2000)
    assert r.get("compat:counter") == "200", r.get("compat:counter")

    # A WATCH conflict raises WatchError, as with Redis.
    other = redis.Redis(host="127.0.0.1", port=port, decode_responses=True, **tls)
    with r.pipeline() as pipe:
        pipe.watch("compat:counter")
        other.set("compat:counter", "0")
        pipe.multi()
        pipe.set("compat:counter", "999")
        try:
            pipe.execute()
            raise AssertionError("WATCH conflict not detected")
        except redis.WatchError:
            pass

    # scan_iter over many keys.
    with r.pipeline(transaction=False) as pipe:
        for i in range(2000):
            pipe.set(f"compat:scan:{i}", i)
        pipe.execute()
    r.execute_command("WAIT", 2, 2000)
    keys = set(r.scan_iter(match="compat:scan:*", count=200))
    assert len(keys) == 2000, len(keys)

    # Lua scripts: register_script uses EVALSHA and falls back to EVAL.
    script = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    r.delete("compat:lua")
    assert script(keys=["compat:lua"], args=[5]) == 5
    assert script(keys=["compat:lua"], args=[5]) == 10
    sha = r.script_load("return redis.call('GET', KEYS[1])")
    r.execute_command("WAIT", 2, 2000)
    assert r.evalsha_ro(sha, 1, "compat:k") == "v"

    # Pub/sub on its own connection, with a listener thread.
    pubsub = r.pubsub()
    pubsub.subscribe("compat:news")
    pubsub.psubscribe("compat:log.*")
    confirmations = [pubsub.get_message(timeout=5) for _ in range(2)]
    assert [m["type"] for m in confirmations] == ["subscribe", "psubscribe"], confirmations
    assert r.publish("compat:news", "hello") == 1
    assert r.publish("compat:log.error", "boom") == 1
    got = []
    deadline = time.time() + 5
    while len(got) < 2 and time.time() < deadline:
        message = pubsub.get_message(timeout=1)
        if message:
            got.append((message["type"], message["channel"], message["data"]))
    assert got == [("message", "compat:news", "hello"),
                   ("pmessage", "compat:log.error", "boom")], got
    pubsub.unsubscribe()
    pubsub.punsubscribe()
    pubsub.close()

    # A blocking pop served while another client pushes.
    def push_later():
        time.sleep(0.2)
        redis.Redis(host="127.0.0.1", port=port, **tls).rpush("compat:list", "job")

    threading.Thread(target=push_later).start()
    assert r.blpop(["compat:list"], timeout=5) == ("compat:list", "job")
    assert r.blpop(["compat:list"], timeout=0.1) is None

    # Connection state: SELECT and CLIENT SETNAME are kept per client.
    db2 = redis.Redis(host="127.0.0.1", port=port, db=2, client_name="compat-client", **tls,
                      decode_responses=True)
    db2.set("compat:db", "two")
    assert db2.client_getname() == "compat-client"
    assert r.exists("compat:db") == 0
    print("redis-py", redis.__version__, "compatibility: all checks passed")


if __name__ == "__main__":
    main()
