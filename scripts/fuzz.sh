#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one over
# its seed corpus for a bounded time; exits non-zero on any crash, leak,
# sanitizer report or broken invariant (the targets trap on those).
#   scripts/fuzz.sh [seconds per target]      (default 10: about a minute in all)
#   RHP_FUZZ_RUNS=N: each target stops after N executions instead (the
#   seconds still bound it); RHP_FUZZ_TARGETS="a b": only those targets.
# New inputs found go to a scratch corpus, not into the repository; a
# crashing input is kept in build-fuzz/crashes/ and named in the output.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-10}
"$repo/scripts/setup.sh"
dir="$repo/build-fuzz"
CC=clang CXX=clang++ cmake -S "$repo" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRHP_FUZZ=ON -DRHP_TESTS=OFF -DRHP_WERROR=ON -DCMAKE_UNITY_BUILD=ON >/dev/null
read -r -a targets <<<"${RHP_FUZZ_TARGETS:-request_parser reply_framer config_loader http_request info_fields}"
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"
limit=()
[[ -n ${RHP_FUZZ_RUNS:-} ]] && limit=(-runs="$RHP_FUZZ_RUNS")
mkdir -p "$dir/crashes"
status=0
for target in "${targets[@]}"; do
  scratch=$(mktemp -d)
  log="$dir/$target.log"
  if ASAN_OPTIONS=detect_leaks=1 "$dir/fuzz/${target}_fuzz" "$scratch" \
      "$repo/fuzz/corpus/$target" "${limit[@]}" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/$target-" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $target ok, $runs executions (at most ${seconds}s${RHP_FUZZ_RUNS:+ or $RHP_FUZZ_RUNS runs})"
  else
    echo "fuzz: $target FAILED; last lines of $log:" >&2
    tail -30 "$log" >&2
    status=1
  fi
  rm -rf "$scratch"
done
# The differential check, longer than in CI (scripts/test.sh runs this
# script for 10 s a target and the ctest run has its own 1,000 streams):
# request streams to Redis and through the proxy must get the same replies.
if (( seconds >= 60 )) && [[ -x "$repo/build/tests/integration_tests" ]]; then
  if RHP_DIFFERENTIAL_STREAMS=${RHP_DIFFERENTIAL_STREAMS:-100000} \
      "$repo/build/tests/integration_tests" --gtest_filter='Differential.*' >"$dir/differential.log" 2>&1; then
    echo "differential: ${RHP_DIFFERENTIAL_STREAMS:-100000} streams, same replies"
  else
    echo "differential: FAILED; see $dir/differential.log" >&2
    tail -30 "$dir/differential.log" >&2
    status=1
  fi
fi
exit $status
