#!/usr/bin/env bash
# RESP2 vs RESP3 (redis-benchmark -3), through the proxy and direct to the
# master, in the same run: requests per second and the proxy's CPU per
# request (utime+stime from /proc). Uses the lab (scripts/lab) on 7001-7003.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/lab up >/dev/null 2>&1
build/redis-ha-proxy --listen 127.0.0.1:6380 --admin-listen 127.0.0.1:0 --master-name app-cache --sentinel 127.0.0.1:26381 --log-level warn > /tmp/bench-proxy.log 2>&1 &
pid=$!
sleep 2
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
tick=$(getconf CLK_TCK)
for round in 1 2 3; do
for proto in "" "-3"; do
  for target in 7001 6380; do
    before=$(cpu)
    line=$(redis-benchmark -p $target $proto -n 300000 -c 50 -P 16 -t set,get -q 2>/dev/null | tr '\r' '\n' | grep -E "requests per second" | sed -E "s/ requests per second.*//" | tr '\n' ' ')
    after=$(cpu)
    if [ "$target" = 6380 ]; then
      us=$(python3 -c "print(f'{($after-$before)/$tick*1e6/600000:.2f}')")
      echo "round $round ${proto:-resp2} proxy: $line proxy_cpu_us_per_request=$us"
    else
      echo "round $round ${proto:-resp2} direct: $line"
    fi
  done
done
done
# What switching one shared connection per request would add: a HELLO per request.
echo "HELLO 3 alone, direct: $(redis-benchmark -p 7001 -n 300000 -c 50 -P 16 -q HELLO 3 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1)"
echo "GET alone, direct: $(redis-benchmark -p 7001 -n 300000 -c 50 -P 16 -q GET k 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1)"
kill $pid
wait $pid 2>/dev/null
scripts/lab down >/dev/null 2>&1
