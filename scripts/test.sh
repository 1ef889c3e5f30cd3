#!/usr/bin/env bash
# Installs what is needed, builds (warnings are errors), and runs every test:
# unit tests and integration tests against real redis-server/redis-sentinel
# processes on loopback. Then runs the same suite built with AddressSanitizer
# and UndefinedBehaviorSanitizer, and every libFuzzer target for 10 s over its
# seed corpus (scripts/fuzz.sh). RHP_SKIP_ASAN=1 skips the second pass,
# RHP_SKIP_FUZZ=1 the third.
#
# Each build runs while the test run before it waits on failovers: the
# Release tests keep about two thirds of one core busy, so the ASan build
# gets the rest (at a lower priority, so the tests' processes come first),
# and the fuzz targets build during the ASan tests. On 2 cores that takes the
# whole run from about 28 minutes, one step after the other, to about 15.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
logs=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$logs"' EXIT

# background NAME COMMAND...: runs a build step at a lower priority, its
# output kept for `finish`.
background() {
  local name=$1
  shift
  nice -n 10 "$@" >"$logs/$name.log" 2>&1 &
  echo $! >"$logs/$name.pid"
}
# finish NAME: waits for a background step; its output is shown if it failed.
finish() {
  if ! wait "$(cat "$logs/$1.pid")"; then
    echo "== $1 FAILED ==" >&2
    cat "$logs/$1.log" >&2
    exit 1
  fi
}

"$repo/scripts/build.sh" Release
if [ "${RHP_SKIP_ASAN:-0}" != 1 ]; then
  background asan-build "$repo/scripts/build.sh" Asan
fi
echo "== tests (Release build) =="
# Three at a time on 2 cores: the integration tests mostly wait on failovers.
ctest --test-dir "$repo/build" --output-on-failure --timeout 300 -j 3

if [ "${RHP_SKIP_FUZZ:-0}" != 1 ]; then
  background fuzz-build env RHP_FUZZ_BUILD_ONLY=1 "$repo/scripts/fuzz.sh"
fi
if [ "${RHP_SKIP_ASAN:-0}" != 1 ]; then
  finish asan-build
  echo "== tests (ASan/UBSan build) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$repo/build-asan" --output-on-failure --timeout 300 -j 3
fi

if [ "${RHP_SKIP_FUZZ:-0}" != 1 ]; then
  finish fuzz-build
  echo "== fuzz targets (10 s each) =="
  "$repo/scripts/fuzz.sh" 10
fi
