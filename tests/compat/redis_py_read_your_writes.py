#!/usr/bin/python3
"""Read-your-writes through redis-ha-proxy with Debian's python3-redis:
10,000 [SET, GET] pairs in pipelines of 100 (transaction=False), then
1,000 request by request. Prints how many GETs did not return the value
just set and exits non-zero if any did.

Usage: redis_py_read_your_writes.py <proxy port>
"""
import sys

import redis


def main():
    port = int(sys.argv[1])
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)
    stale = 0
    total = 0
    for batch in range(100):
        with r.pipeline(transaction=False) as pipe:
            for i in range(100):
                pipe.set("ryw:py", f"{batch}-{i}")
                pipe.get("ryw:py")
            results = pipe.execute()
        for i in range(100):
            total += 1
            if results[2 * i + 1] != f"{batch}-{i}":
                stale += 1
    for i in range(1000):
        r.set("ryw:py", f"s{i}")
        total += 1
        if r.get("ryw:py") != f"s{i}":
            stale += 1
    print(f"stale reads: {stale} of {total}")
    sys.exit(1 if stale else 0)


if __name__ == "__main__":
    main()
