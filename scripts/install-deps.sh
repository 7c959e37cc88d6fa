#!/usr/bin/env bash
# Installs every Debian 12 package snapctl needs to build, test and benchmark.
# Idempotent: only calls apt-get when something is missing.
set -euo pipefail

# libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes clang links
# with -fsanitize=fuzzer,address,undefined (scripts/fuzz.sh); clang only
# recommends it. util-linux gives prlimit (tests/fault_disk_test.cc).
# libgoogle-perftools-dev: tcmalloc_minimal, which snapctl links (CMakeLists.txt).
PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev util-linux
  librocksdb-dev libzstd-dev libxxhash-dev libssl-dev
  libboost-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
  rsync attr acl diffutils curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
