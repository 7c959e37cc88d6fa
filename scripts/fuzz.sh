#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/<x>_fuzz.cc -> fuzz_<x>) with clang into
# build-fuzz/ and runs each for FUZZ_SECONDS (default 20) on a temporary copy
# of fuzz/corpus/<x>/, so what the fuzzer finds does not grow the repository.
# Prints, per target, exec/s and coverage from libFuzzer's last status line;
# exits non-zero if any target crashed, timed out or ran out of memory.
#
#   scripts/fuzz.sh                       every target, 20 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh tree one target for 10 minutes
#
# Failing inputs are kept in build-fuzz/artifacts/<x>/ with the log.
# FUZZ_BUILD_DIR and FUZZ_JOBS change the build directory and ninja's -j.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSNAPCTL_FUZZ=ON \
  -DSNAPCTL_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [[ $# -gt 0 ]]; then
  targets=("${@/#/fuzz_}")
else
  mapfile -t targets < <(ninja -C "$BUILD_DIR" -t targets all |
    sed -n 's/^\(fuzz_[a-z0-9_]*\): .*/\1/p' | sort)
fi
# Only the fuzz targets: the tests need not be built with the fuzzer flags.
ninja -C "$BUILD_DIR" -j"${FUZZ_JOBS:-2}" "${targets[@]}"

# UBSan recovers by default; a finding must stop the run like a crash.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Field `key` (e.g. "cov:") of libFuzzer's last status line in log $1.
status_field() {
  grep -aE '^#[0-9]+' "$1" | tail -n 1 | sed -n "s|.* $2 \([0-9]*\).*|\1|p"
}

outcome() {  # what went wrong, from the log $1 of a failed run
  if grep -aq 'ERROR: libFuzzer: timeout' "$1"; then echo timeout
  elif grep -aq 'out-of-memory' "$1"; then echo out-of-memory
  elif grep -aq 'ERROR: LeakSanitizer' "$1"; then echo leak
  else echo crash
  fi
}

results=()
failed=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  corpus="$work/$name"
  artifacts="$BUILD_DIR/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  if [[ -d fuzz/corpus/$name ]]; then cp -r "fuzz/corpus/$name/." "$corpus/"; fi
  log="$artifacts/last.log"
  echo "== $t: ${FUZZ_SECONDS}s"
  rc=0
  "$BUILD_DIR/$t" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="$(outcome "$log") (see $artifacts/)"
    failed=1
    grep -aE '^(==[0-9]+== ?ERROR|SUMMARY|ERROR: libFuzzer|.*_fuzz: )' "$log" | head -n 5 || true
  fi
  results+=("$(printf '%-22s %10s %8s  %s' "$t" "$(status_field "$log" 'exec/s:')" \
    "$(status_field "$log" 'cov:')" "$result")")
done

echo
printf '%-22s %10s %8s  %s\n' target exec/s cov result
printf '%s\n' "${results[@]}"
exit $failed
