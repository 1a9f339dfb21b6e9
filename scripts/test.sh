#!/usr/bin/env bash
# Set up, build and run mlpio's whole test suite (unit, multi-rank and end-to-end).
# Usage: bash scripts/test.sh [--sanitize]   (--sanitize: AddressSanitizer + UBSan build)
set -euo pipefail
source "$(dirname "$0")/common.sh"
build="$MLPIO_ROOT/build-test"
# The flags of the Release build that scripts/demo.sh and packages use (-O3), with debug info:
# warnings that only -O3's inlining shows (format truncation) fail here, not in the demo.
args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DMLPIO_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
    build="$MLPIO_ROOT/build-asan"
    args+=(-DMLPIO_SANITIZE=ON)
    # MPI libraries keep allocations until exit; leaks there are not mlpio's.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
mkdir -p "$build"
mlpio_build "$build" "${args[@]}"
cd "$build"
ctest --output-on-failure -j 2 --timeout 300
