#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
#  1. format check (clang-format) and relay/ layering check (part of the build)
#  2. unit tests and fuzz-corpus replays, in a normal build and under ASan + UBSan
#  3. integration tests with real peers: aiortc, GStreamer webrtcbin, headless Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --test
jobs=$(nproc)

tools/check_format.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCR_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"

ctest --test-dir build -L 'unit|fuzz' --output-on-failure -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L 'unit|fuzz' --output-on-failure -j"$jobs"
# integration tests use real browsers and media: one at a time
ctest --test-dir build -L integration --output-on-failure -j1
