#!/usr/bin/env bash
# ctest entry: the host-partition scenarios of benchmarks/failover.py, once
# each, with --check (exit 1 if the proxy broke its failover contract):
#   partition           the master's host is cut off; the proxy is with the majority
#   minority-partition  the proxy is on the master's host and cut off with it
# Needs root for network namespaces; exits 77 (ctest: skipped) without them.
set -euo pipefail
proxy=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -ne 0 ] || ! ip netns add rhp-probe 2>/dev/null; then
  echo "SKIPPED: needs root and network namespaces (ip netns)"
  exit 77
fi
ip netns del rhp-probe
exec /usr/bin/python3 "$repo/benchmarks/failover.py" --runs 1 --clients proxy \
  --scenarios partition,minority-partition --proxy "$proxy" --check
