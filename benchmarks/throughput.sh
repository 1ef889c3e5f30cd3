#!/usr/bin/env bash
# Installs, builds (Release) and runs benchmarks/throughput.py; arguments are passed on.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$repo/scripts/build.sh" Release >/dev/null
exec python3 "$repo/benchmarks/throughput.py" --proxy "$repo/build/redis-ha-proxy" "$@"
