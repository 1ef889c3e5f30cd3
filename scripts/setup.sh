#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the lab and the
# benchmarks need, and the Node.js client libraries the compatibility tests
# run (versions pinned in tests/compat/node/package-lock.json). Idempotent:
# when everything is present it returns at once without touching apt or npm.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# node-redis 6 and ioredis 6 need Node.js 20 or later, which the machine
# provides (Debian 12's nodejs is 18); `npm ci` installs exactly the lockfile.
install_node_clients() {
  local dir="$repo/tests/compat/node"
  # The lockfile `npm ci` last installed is kept next to what it installed.
  if cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm (with Node.js 20 or later) is needed for tests/compat/node" >&2
    exit 1
  fi
  echo "setup: installing the Node.js client libraries (npm ci)" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
}

packages=(
  build-essential cmake ninja-build pkg-config g++
  libuv1-dev libhiredis-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev googletest libssl-dev openssl
  redis-server redis-sentinel redis-tools
  procps iproute2 python3 python3-redis python3-yaml
  prometheus
  clang libclang-rt-14-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  install_node_clients
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian starts redis-server, redis-sentinel and prometheus as services on
# install; the lab and the tests run their own instances (prometheus is here
# for promtool and the scrape test), so the packaged ones only take ports
# 6379/26379/9090 and memory.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${sudo_cmd[@]}" systemctl disable --now redis-server redis-sentinel prometheus \
    prometheus-node-exporter >/dev/null 2>&1 || true
else
  "${sudo_cmd[@]}" service redis-server stop >/dev/null 2>&1 || true
  "${sudo_cmd[@]}" service redis-sentinel stop >/dev/null 2>&1 || true
  "${sudo_cmd[@]}" service prometheus stop >/dev/null 2>&1 || true
  "${sudo_cmd[@]}" service prometheus-node-exporter stop >/dev/null 2>&1 || true
fi

install_node_clients
