#!/usr/bin/env bash
# Training benchmarks: datagen write throughput and run read throughput (compute time 0)
# beside fio on the same file sizes and threads, and the AU that mlpio leaves to the storage
# with unet3d's real compute time on /dev/shm (the benchmark itself must not lower AU).
#
# Usage: scripts/bench/training.sh [ranks] [files] [scale]   (defaults: 2, 64, 0.05)
#   MLPIO_BENCH_DIRS: target directories (default: /var/tmp and /dev/shm).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
ranks=${1:-2}
files=${2:-64}
scale=${3:-0.05}
mlpio_bench_setup fio
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' "$@"; }
threads=4

for base in ${MLPIO_BENCH_DIRS:-/var/tmp /dev/shm}; do
    dir=$(mktemp -d "$base/mlpio-bench.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    # unet3d files of one size (stdev 0, OPEN) so that fio can write the same sizes.
    common=(--model unet3d --scale "$scale" --allow-invalid-params -q
        --params dataset.num_files_train="$files" dataset.record_length_bytes_stdev=0)
    # Warm-up, untimed: the first touch of fresh guest memory costs more on a VM.
    mpirun -np "$ranks" "$mlpio" training datagen "${common[@]}" -dd "$dir/warm" -rd "$dir/res" >/dev/null
    rm -rf "$dir/warm" "$dir/res"

    mpirun -np "$ranks" "$mlpio" training datagen "${common[@]}" -dd "$dir/data" -rd "$dir/res" >/dev/null
    s=$(ls "$dir"/res/training/unet3d/datagen/*/summary.json)
    mw=$(json "$s" datagen_MB_per_second)
    fbytes=$(python3 -c "import json; s=json.load(open('$s')); print(int(s['datagen_bytes'] // s['datagen_files']))")
    per_job=$((files / ranks))
    # fio: the same number of files per rank, of the same size, 4 MiB calls (mlpio's write
    # piece), fsync of each file on close, new files without pre-allocation.
    out=$(fio --name=gen --directory="$dir" --numjobs="$ranks" --group_reporting \
        --nrfiles="$per_job" --filesize="$fbytes" --size=$((per_job * fbytes)) \
        --file_service_type=sequential --bs=4M --rw=write --ioengine=psync \
        --fsync_on_close=1 --fallocate=none --output-format=json 2>/dev/null)
    fw=$(python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["write"]
print(j["io_bytes"] / (j["runtime"] / 1e3) / 2**20)' <<<"$out")

    # Reading, compute time 0, three epochs (one is mostly start-up); fio reads the files it wrote with the same number
    # of threads per rank and the reader's transfer size, page cache dropped on open.
    mpirun -np "$ranks" "$mlpio" training run "${common[@]}" -dd "$dir/data" -rd "$dir/res" \
        --params train.computation_time=0 train.epochs=3 dataset.num_files_train="$files" >/dev/null
    s=$(ls -d "$dir"/res/training/unet3d/run/*/ | tail -n 1)summary.json
    mr=$(json "$s" train_io_measured_MB_per_second)
    out=$(fio --name=gen --directory="$dir" --numjobs="$((ranks * threads))" --group_reporting \
        --nrfiles="$((per_job / threads > 0 ? per_job / threads : 1))" --filesize="$fbytes" \
        --size=$(((per_job / threads > 0 ? per_job / threads : 1) * fbytes)) \
        --file_service_type=sequential --bs=256k --rw=read --ioengine=psync --invalidate=1 \
        --output-format=json 2>/dev/null)
    fr=$(python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["read"]
print(j["io_bytes"] / (j["runtime"] / 1e3) / 2**20)' <<<"$out")
    printf '%-10s %s, %d ranks, %d files of %d bytes (MB/s = 2^20 B/s)\n' "$base" \
        "$(stat -f -c %T "$dir")" "$ranks" "$files" "$fbytes"
    printf '  datagen: mlpio %9.1f  fio %9.1f  ratio %s\n' "$mw" "$fw" "$(ratio "$mw" "$fw")"
    printf '  read:    mlpio %9.1f  fio %9.1f  ratio %s  (%d threads per rank)\n' "$mr" "$fr" \
        "$(ratio "$mr" "$fr")" "$threads"
    rm -rf "$dir"
    trap - EXIT
done

# AU on /dev/shm: unet3d h100, its real compute time (0.323 s per step), data scaled down.
dir=$(mktemp -d /dev/shm/mlpio-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
au=(--model unet3d -g h100 --scale 0.01 --allow-invalid-params -q
    --params dataset.num_files_train=$((7 * 12 * ranks)) train.epochs=2)
mpirun -np "$ranks" "$mlpio" training datagen "${au[@]}" -dd "$dir/data" -rd "$dir/res" >/dev/null
mpirun -np "$ranks" "$mlpio" training run "${au[@]}" -dd "$dir/data" -rd "$dir/res" >/dev/null
s=$(ls -d "$dir"/res/training/unet3d/run/*/ | tail -n 1)summary.json
printf 'AU, unet3d h100 on /dev/shm, %d ranks, 12 steps x 2 epochs, compute 0.323 s: %s %% (per epoch: %s)\n' \
    "$ranks" "$(json "$s" train_au_mean_percentage)" "$(json "$s" train_au_percentage)"
