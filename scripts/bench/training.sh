#!/usr/bin/env bash
# Training benchmarks: datagen write throughput and run read throughput (compute time 0)
# beside fio on the same files, bytes and threads, and the AU that mlpio leaves to the storage
# with unet3d's real compute time on /dev/shm (the benchmark itself must not lower AU).
#
# Usage: scripts/bench/training.sh [ranks] [files] [scale] [repeats]
#   defaults: 2 ranks, 224 files, scale 0.05 (unet3d files of 7 MB, 1.6 GB in all: an epoch on
#   tmpfs lasts about 150 ms, long enough for the timers), 7 repeats.
#   MLPIO_BENCH_DIRS: target directories (default: /var/tmp and /dev/shm).
#   MLPIO_BENCH_VERBOSE=1: also print every repeat's figures.
#
# What makes the two comparable:
# - mpirun --bind-to none, as MLPerf Storage launches its training ranks: a rank's read
#   threads may use every core, as fio's jobs do (bound to one core, four read threads would
#   share it).
# - datagen: fio writes as many files per job as mlpio per rank, of the same size, in mlpio's
#   1 MiB pieces, each fsynced on close, new files without pre-allocation.
# - reads: fio reads mlpio's own dataset files whole, with ranks x read-threads jobs, in the
#   reader's transfer size, buffered. Before every mlpio epoch and every fio run the dataset's
#   cached pages are dropped (fadvise DONTNEED per file, the state datagen leaves them in; fio's
#   --invalidate=1 does it again on open), so neither reads from the page cache of a local file
#   system. On tmpfs those pages are the storage and stay. mlpio runs one epoch per launch so
#   that every epoch starts from that state.
# - files: a multiple of batch (7) x ranks, so that an epoch reads every file once, as fio does.
# - every figure is the median of the repeats; the order of mlpio and fio alternates.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
ranks=${1:-2}
files=${2:-224}
scale=${3:-0.05}
repeats=${4:-7}
mlpio_bench_setup fio
threads=4
batch=7
transfer=262144
if ((files % (batch * ranks) != 0)); then
    echo "files ($files) must be a multiple of batch x ranks ($((batch * ranks))) for an epoch to" \
        "read every file" >&2
    exit 2
fi

run() { mpirun --bind-to none -np "$ranks" "$mlpio" "$@" >/dev/null; }
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.3f}")' "$@"; }
fio_mbps() {
    python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0][sys.argv[1]]
print(j["io_bytes"] / (j["runtime"] / 1e3) / 2**20)' "$1"
}
# Evict the files' cached pages, as datagen leaves them (it fsyncs first, so none is dirty).
drop() { for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done; }

# The measurements, appended to mw fw fwr mr fr. On a VM the cost of a write depends on whether
# the guest memory it gets was just freed or was handed back to the host a while ago, so every
# timed write follows the removal of as many bytes (the previous dataset, or fio's files).
mlpio_gen() {
    run training datagen "${common[@]}" -dd "$dir/data$1" -rd "$dir/res$1"
    mw+=("$(json "$(ls "$dir/res$1"/training/unet3d/datagen/*/summary.json)" datagen_MB_per_second)")
    rm -rf "$dir/data$(($1 - 1))" "$dir/res$(($1 - 1))"
}
# fio reuses one buffer for every write by default; with --refill_buffers it writes fresh random
# data per call, as mlpio writes generated data (the second figure, into fwr).
fio_gen() {
    local per_job=$((files / ranks)) mbps
    mkdir -p "$dir/fio"
    mbps=$(fio --name=gen --directory="$dir/fio" --numjobs="$ranks" --group_reporting \
        --nrfiles="$per_job" --filesize="$fbytes" --size=$((per_job * fbytes)) \
        --file_service_type=sequential --bs=1M --rw=write --ioengine=psync \
        --fsync_on_close=1 --fallocate=none "$@" --output-format=json 2>/dev/null | fio_mbps write)
    if [ $# -gt 0 ]; then fwr+=("$mbps"); else fw+=("$mbps"); fi
    rm -rf "$dir/fio"
}
mlpio_read() {
    drop "$data"/train/*
    run training run "${common[@]}" -dd "$data" -rd "$dir/read$1" \
        --params train.computation_time=0 train.epochs=1
    mr+=("$(json "$(ls "$dir/read$1"/training/unet3d/run/*/summary.json)" \
        train_io_measured_MB_per_second)")
}
# ranks x threads jobs, each reading its share of the dataset's files whole.
fio_read_job() {
    local jobs=$((ranks * threads)) j=0 f
    local -a list=()
    for f in "$data"/train/*; do
        list[j % jobs]+="${list[j % jobs]:+:}$f"
        j=$((j + 1))
    done
    printf '[global]\nioengine=psync\nrw=read\nbs=%d\ndirect=0\ninvalidate=1\n' "$transfer"
    printf 'file_service_type=sequential\ngroup_reporting\n'
    for j in "${!list[@]}"; do printf '[r%d]\nfilename=%s\n' "$j" "${list[j]}"; done
}
fio_read() {
    drop "$data"/train/*
    fr+=("$(fio --output-format=json "$dir/read.fio" 2>/dev/null | fio_mbps read)")
}

for base in ${MLPIO_BENCH_DIRS:-/var/tmp /dev/shm}; do
    dir=$(mktemp -d "$base/mlpio-bench.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    # unet3d files of one size (stdev 0, OPEN) so that fio can write the same sizes.
    common=(--model unet3d --scale "$scale" --allow-invalid-params -q
        --params dataset.num_files_train="$files" dataset.record_length_bytes_stdev=0)
    # Warm-up, untimed: the first touch of fresh guest memory costs more on a VM.
    run training datagen "${common[@]}" -dd "$dir/data0" -rd "$dir/res0"
    fbytes=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print(int(s["datagen_bytes"] // s["datagen_files"]))' "$(ls "$dir"/res0/training/unet3d/datagen/*/summary.json)")
    mw=() fw=() fwr=() mr=() fr=()
    fio_gen
    fw=()
    # Writes, then reads of the last dataset; the order of the tools alternates.
    for i in $(seq "$repeats"); do
        if ((i % 2)); then
            mlpio_gen "$i"
            fio_gen
            fio_gen --refill_buffers
        else
            fio_gen --refill_buffers
            fio_gen
            mlpio_gen "$i"
        fi
    done
    data="$dir/data$repeats"
    fio_read_job >"$dir/read.fio"
    # Warm-up, untimed: the first read of freshly written files costs more than later ones.
    fio_read
    fr=()
    for i in $(seq "$repeats"); do
        if ((i % 2)); then
            mlpio_read "$i"
            fio_read
        else
            fio_read
            mlpio_read "$i"
        fi
    done
    mwm=$(median "${mw[@]}") fwm=$(median "${fw[@]}") fwrm=$(median "${fwr[@]}")
    mrm=$(median "${mr[@]}") frm=$(median "${fr[@]}")
    printf '%-10s %s, %d ranks, %d files of %d bytes, median of %d (MB/s = 2^20 B/s)\n' "$base" \
        "$(stat -f -c %T "$dir")" "$ranks" "$files" "$fbytes" "$repeats"
    printf '  datagen: mlpio %9.1f  fio %9.1f  ratio %s  (fio --refill_buffers %.1f, ratio %s)\n' \
        "$mwm" "$fwm" "$(ratio "$mwm" "$fwm")" "$fwrm" "$(ratio "$mwm" "$fwrm")"
    printf '  read:    mlpio %9.1f  fio %9.1f  ratio %s  (%d threads per rank)\n' "$mrm" "$frm" \
        "$(ratio "$mrm" "$frm")" "$threads"
    if [ -n "${MLPIO_BENCH_VERBOSE:-}" ]; then
        printf '    %-12s %s\n' "mlpio write" "${mw[*]}" "fio write" "${fw[*]}" "fio refill" \
            "${fwr[*]}" "mlpio read" "${mr[*]}" "fio read" "${fr[*]}"
    fi
    rm -rf "$dir"
    trap - EXIT
done

# AU on /dev/shm: unet3d h100, its real compute time (0.323 s per step), data scaled down.
dir=$(mktemp -d /dev/shm/mlpio-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
au=(--model unet3d -g h100 --scale 0.01 --allow-invalid-params -q
    --params dataset.num_files_train=$((7 * 12 * ranks)) train.epochs=2)
run training datagen "${au[@]}" -dd "$dir/data" -rd "$dir/res"
run training run "${au[@]}" -dd "$dir/data" -rd "$dir/res"
s=$(ls -d "$dir"/res/training/unet3d/run/*/ | tail -n 1)summary.json
printf 'AU, unet3d h100 on /dev/shm, %d ranks, 12 steps x 2 epochs, compute 0.323 s: %s %% (per epoch: %s)\n' \
    "$ranks" "$(json "$s" train_au_mean_percentage)" "$(json "$s" train_au_percentage)"
