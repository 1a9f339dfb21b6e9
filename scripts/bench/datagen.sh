#!/usr/bin/env bash
# Single-core throughput of mlpio's data generator next to memcpy (see bench_datagen.c).
#
# usage: scripts/bench/datagen.sh [MiB [runs]]
#   MiB   size of the large buffer (default 64)
#   runs  timed repetitions; each figure is their median (default 9)
# Environment: MLPIO_BENCH_BUILD  build directory (default <repo>/build-bench)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${MLPIO_BENCH_BUILD:-$repo/build-bench}"

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build" -DMLPIO_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target bench_datagen -j"$(nproc)" >/dev/null

# One core: the figure is per core, and other work on the machine should not share it.
exec taskset -c "$(( $(nproc) - 1 ))" "$build/scripts/bench/bench_datagen" "${1:-64}" "${2:-9}"
