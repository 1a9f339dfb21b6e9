#!/usr/bin/env bash
# Checkpoint write/read throughput: mlpio beside fio doing the same per-rank files, transfer
# size and fsync, on a local file system and on /dev/shm. Prints medians and the ratio.
#
# Usage: scripts/bench/checkpoint.sh [ranks] [scale] [checkpoints]
#   defaults: 2 ranks, scale 0.04 (about 0.5 GiB per rank of llama3-8b), 5 checkpoints.
#   MLPIO_BENCH_DIRS: space-separated target directories (default: /var/tmp and /dev/shm).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
ranks=${1:-2}
scale=${2:-0.04}
n=${3:-5}
mlpio_bench_setup fio
transfer=$((16 * 1024 * 1024))

median() { python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }

for base in ${MLPIO_BENCH_DIRS:-/var/tmp /dev/shm}; do
    dir=$(mktemp -d "$base/mlpio-bench.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    fs=$(stat -f -c %T "$dir")
    # Warm-up, untimed: on a VM, the first touch of guest memory (tmpfs pages, page cache)
    # costs several times a later one, and whichever tool ran first would pay for it.
    mpirun -np "$ranks" "$mlpio" checkpointing run --model llama3-8b --scale "$scale" \
        --params checkpoint.time_between_checkpoints=0 checkpoint.transfer_size=$transfer \
        -ncw "$n" -ncr 0 -cf "$dir/ck" -rd "$dir/res" --quiet >/dev/null
    rm -rf "$dir/ck" "$dir/res"
    mpirun -np "$ranks" "$mlpio" checkpointing run --model llama3-8b --scale "$scale" \
        --params checkpoint.time_between_checkpoints=0 checkpoint.transfer_size=$transfer \
        -ncw "$n" -ncr "$n" -cf "$dir/ck" -rd "$dir/res" --quiet >/dev/null
    summary=$(ls "$dir"/res/checkpointing/llama3-8b/run/*/summary.json)
    read -r mw mr rank_bytes <<<"$(python3 - "$summary" "$ranks" <<'PY'
import json, statistics, sys
s = json.load(open(sys.argv[1]))
ranks = int(sys.argv[2])
print(statistics.median(s["save_checkpoint_io_GB_per_second"]),
      statistics.median(s["load_checkpoint_io_GB_per_second"]),
      int(s["checkpoint_size_bytes"] // ranks))
PY
)"
    rm -rf "$dir/ck" "$dir/res"

    # fio: one job per rank, two files per job written one after the other (model and
    # optimizer states), the same bytes per rank, 16 MiB calls, fsync of each file on close.
    # Like mlpio, every checkpoint goes to a new directory and all are kept until the reads
    # are done (on a RAM-backed VM, touching fresh memory is part of the cost). Reads drop
    # the cached pages first (invalidate), as mlpio does before each read.
    # --fallocate=none: a checkpoint writes new files, so allocating their blocks (or tmpfs
    # pages) is part of the timed write; fio's default would pre-allocate them untimed.
    # fio's default reuses one buffer for every write; --refill_buffers writes fresh data per
    # call, as mlpio does (unique data), so both are shown.
    fio_run() {
        local rw=$1 step=$2 extra=${3:-} out
        mkdir -p "$dir/fio/$step"
        out=$(fio --name=ckpt --directory="$dir/fio/$step" --numjobs="$ranks" --group_reporting \
            --nrfiles=2 --file_service_type=sequential --size="$rank_bytes" --bs="$transfer" \
            --rw="$rw" --ioengine=psync --fsync_on_close=1 --end_fsync=1 --invalidate=1 --fallocate=none \
            $extra --output-format=json 2>/dev/null)
        python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0][sys.argv[1]]
print(j["io_bytes"] / (j["runtime"] / 1e3) / 2**30)' "$rw" <<<"$out"
    }
    fw=() fr=() fwr=()
    for k in $(seq "$n"); do fw+=("$(fio_run write "$k")"); done
    for k in $(seq "$n"); do fr+=("$(fio_run read "$k")"); done
    rm -rf "$dir/fio"
    for k in $(seq "$n"); do fwr+=("$(fio_run write "$k" --refill_buffers)"); done
    rm -rf "$dir/fio"
    fwm=$(median "${fw[@]}")
    frm=$(median "${fr[@]}")
    fwrm=$(median "${fwr[@]}")
    printf '%-10s %-6s ranks %d, %.0f MiB per rank, %d checkpoints (median GiB/s)\n' \
        "$base" "$fs" "$ranks" "$(echo "$rank_bytes / 1048576" | bc -l)" "$n"
    printf '  write: mlpio %8.3f  fio %8.3f  ratio %.3f   (fio --refill_buffers %.3f, ratio %.3f)\n' \
        "$mw" "$fwm" "$(echo "$mw / $fwm" | bc -l)" "$fwrm" "$(echo "$mw / $fwrm" | bc -l)"
    printf '  read:  mlpio %8.3f  fio %8.3f  ratio %.3f\n' "$mr" "$frm" "$(echo "$mr / $frm" | bc -l)"
    rm -rf "$dir"
    trap - EXIT
done
