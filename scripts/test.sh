#!/usr/bin/env bash
# Installs what is needed, builds (warnings are errors), and runs every test:
# unit tests and integration tests against real redis-server/redis-sentinel
# processes on loopback. Then runs the same suite built with AddressSanitizer
# and UndefinedBehaviorSanitizer. Set RHP_SKIP_ASAN=1 to skip that second pass.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$repo/scripts/build.sh" Release
echo "== tests (Release build) =="
ctest --test-dir "$repo/build" --output-on-failure --timeout 300 -j 2

if [ "${RHP_SKIP_ASAN:-0}" != 1 ]; then
  "$repo/scripts/build.sh" Asan
  echo "== tests (ASan/UBSan build) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$repo/build-asan" --output-on-failure --timeout 300 -j 2
fi
