#!/usr/bin/env bash
# Installs the Debian packages (scripts/setup.sh) and builds.
#   scripts/build.sh [Release|Debug|Asan]   -> build/ (Release) or build-<type>/
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
type=${1:-Release}
"$repo/scripts/setup.sh"
case "$type" in
  Release) dir="$repo/build"; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  Debug) dir="$repo/build-debug"; flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  Asan) dir="$repo/build-asan"; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRHP_SANITIZE=ON) ;;
  *) echo "build.sh: unknown build type '$type' (Release, Debug or Asan)" >&2; exit 2 ;;
esac
cmake -S "$repo" -B "$dir" -G Ninja -DRHP_WERROR=ON "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
