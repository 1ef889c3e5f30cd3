#!/usr/bin/env bash
# Installs, builds (Release) and runs benchmarks/failover.py; arguments are passed on.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/scripts/build.sh" Release >/dev/null
exec /usr/bin/python3 "$repo/benchmarks/failover.py" --proxy "$repo/build/redis-ha-proxy" "$@"
