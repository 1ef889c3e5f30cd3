#!/usr/bin/env bash
# Installs what is needed, builds (warnings are errors), and runs every test:
# unit tests and integration tests against real redis-server/redis-sentinel
# processes on loopback. Then runs the same suite built with AddressSanitizer
# and UndefinedBehaviorSanitizer, and every libFuzzer target for 10 s over its
# seed corpus (scripts/fuzz.sh). RHP_SKIP_ASAN=1 skips the second pass,
# RHP_SKIP_FUZZ=1 the third.
#
# One step after the other: building the ASan tree while the Release tests
# ran (at nice 10) took the failover tests' timing with it: a paused master
# kept 110 acknowledged writes where at most 4 may go.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$repo/scripts/build.sh" Release
echo "== tests (Release build) =="
# Three at a time on 2 cores: the integration tests mostly wait on failovers.
ctest --test-dir "$repo/build" --output-on-failure --timeout 300 -j 3

if [ "${RHP_SKIP_ASAN:-0}" != 1 ]; then
  "$repo/scripts/build.sh" Asan
  echo "== tests (ASan/UBSan build) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$repo/build-asan" --output-on-failure --timeout 300 -j 3
fi

if [ "${RHP_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz targets (10 s each) =="
  "$repo/scripts/fuzz.sh" 10
fi
