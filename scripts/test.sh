#!/usr/bin/env bash
# Builds snapctl and runs every test: the unit and end-to-end tests of the
# release build, then the unit tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then every fuzz target for FUZZ_SECONDS
# (default 10) on its corpus: a crash, timeout or leak fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build bash scripts/build.sh
(cd build && ctest --output-on-failure -j2 --timeout 900)

BUILD_DIR=build-asan BUILD_TYPE=Debug bash scripts/build.sh -DSNAPCTL_SANITIZE=ON -DSNAPCTL_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2 -L unit --timeout 900)

FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/fuzz.sh
echo "all tests passed"
