#!/usr/bin/env bash
# training datasize: the worked example of WORKLOADS.md (unet3d, one 128 GiB host, 8 h100 ->
# 28000 files), subfolder advice, the next commands, and bad input.
source "$(dirname "$0")/lib.sh"

expect 0 1 training datasize --model unet3d -g h100 -ma 8 -nc 1 -cm 128 -dd "$WORK/data"
says "files for 5x memory:        4687"
says "files for 500 steps/epoch:  28000"
says "num_files_train:              28000"
says "num_subfolders_train:         3"
says "mpirun -np 8 mlpio training run --model unet3d -g h100 --data-dir $WORK/data --params dataset.num_files_train=28000 dataset.num_subfolders_train=3"

# resnet50: 1251 samples per file, batch 400: 500 steps x 4 accelerators -> 639 files.
expect 0 1 training datasize --model resnet50 -g a100 -ma 4 -nc 1 -cm 1
says "files for 500 steps/epoch:  639"
says "num_subfolders_train:         0"

# Measured memory is used without -nc/-cm: at least 5x of this host's memory in files.
expect 0 2 training datasize --model cosmoflow
python3 - "$OUT" <<'PY' || fail "measured datasize"
import re, sys
t = open(sys.argv[1]).read()
mem = float(re.search(r"([0-9.]+) GiB of client memory", t).group(1))
files = int(re.search(r"files for 5x memory: +(\d+)", t).group(1))
want = int(5 * mem * 2**30 // 2828486)
assert abs(files - want) <= max(2, want // 1000), (files, want)
PY

expect 2 1 training datasize -g v100
says "--accelerator-type: unknown value 'v100'"
says "a100|b200|h100|mi355"
# unet3d has no reference config on mi355 (MLPerf Storage v3.0 defines none): said as such.
expect 2 1 training datasize --model unet3d -g mi355
says "training has no reference config for unet3d on mi355"
says "unet3d is defined for a100, b200, h100 only"
expect 2 1 training datasize --model bert
says "unknown model"
expect 2 1 training datasize -ma zero
says "--max-accelerators: expected a positive integer"
# The formula of mlpstorage (mlpstorage_py/rules/utils.py, calculate_training_data_size),
# worked out here: files = max(5 x declared memory // file bytes, 500 x accelerators x batch //
# samples per file), floored; declared memory only. unet3d: 146600628-byte samples, 1 per
# file, batch 7. With -cm alone the declared size stands for each host of this job, even
# when the host has more.
for c in "1 128 8" "2 256 64" "4 64 1024"; do
    read -r hosts gib acc <<<"$c"
    expect 0 1 training datasize --model unet3d -g h100 -ma "$acc" -nc "$hosts" -cm "$gib"
    mem=$((5 * hosts * gib * 1024 * 1024 * 1024 / 146600628)) step=$((500 * acc * 7))
    want=$((mem > step ? mem : step))
    says "files for 5x memory:        $mem"
    says "files for 500 steps/epoch:  $step"
    says "num_files_train:              $want"
    says "total bytes on storage:       $((want * 146600628)) "
done
expect 0 1 training datasize --model unet3d -g h100 -ma 8 -cm 1
says "files for 5x memory:        $((5 * 1024 * 1024 * 1024 / 146600628))"
says "1 GiB of client memory in all"
echo "ok"
