#!/usr/bin/env bash
# Training bad input: a clear error naming what is wrong and what to run, the documented exit
# code, and nothing lost.
source "$(dirname "$0")/lib.sh"
S=(--model cosmoflow --scale 0.001 --seed 4 --allow-invalid-params)
P=(--params dataset.num_files_train=12 train.computation_time=0 train.epochs=1)

# Dataset missing: names the folder and the datagen command.
expect 2 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/none" -rd "$WORK/res"
says "no usable dataset in $WORK/none"
says "mlpio training datagen --model cosmoflow"

expect 0 2 training datagen "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"
# Datagen never overwrites a dataset.
before=$(find "$WORK/data" -type f -exec md5sum {} + | sort | md5sum)
expect 2 2 training datagen "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"
says "already holds a dataset"
[ "$(find "$WORK/data" -type f -exec md5sum {} + | sort | md5sum)" = "$before" ] ||
    fail "datagen changed an existing dataset"

# Dataset smaller than the config says.
expect 2 2 training run "${S[@]}" --params dataset.num_files_train=40 train.computation_time=0 \
    -dd "$WORK/data" -rd "$WORK/res"
says "has 12 files"
says "needs 40"
says "mlpio training datagen"

# Wrong format for the config.
expect 2 1 training run "${S[@]}" "${P[@]}" dataset.format=npz -dd "$WORK/data" -rd "$WORK/res"
says "the dataset in $WORK/data is tfrecord, the config says npz"

# A missing file, a corrupted file, a truncated file: named with what is wrong.
victim=$(find "$WORK/data/train" -name '*.tfrecord' | sort | head -n 3 | tail -n 1)
cp "$victim" "$WORK/saved"
rm "$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"
says "$victim"
cp "$WORK/saved" "$victim"
# Flip every bit of byte 9, inside the length's CRC.
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[9]^=0xff; open(p,"wb").write(b)' "$victim"
cmp -s "$victim" "$WORK/saved" && fail "the corruption changed nothing"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"
says "$victim"
says "offset"
cp "$WORK/saved" "$victim"
truncate -s $(($(stat -c %s "$victim") - 7)) "$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"
says "$victim"
cp "$WORK/saved" "$victim"
expect 0 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/data" -rd "$WORK/res"

# A data dir that cannot be read (below a regular file, which nobody can open, root included).
touch "$WORK/file"
expect 2 1 training run "${S[@]}" "${P[@]}" -dd "$WORK/file/data" -rd "$WORK/res"
says "$WORK/file/data"

# Read threads may not call MPI: backends that do are refused for reading, with the way out.
expect 2 2 training run "${S[@]}" "${P[@]}" --io-api mpiio -dd "$WORK/data" -rd "$WORK/res"
says "--io-api mpiio cannot serve the training reader's threads"
says "--io-api posix"

# Accelerators must equal ranks; unknown accelerator type.
expect 2 2 training run "${S[@]}" "${P[@]}" -na 4 -dd "$WORK/data" -rd "$WORK/res"
says "--num-accelerators is 4 but the job has 2 ranks"
expect 2 1 training run "${S[@]}" "${P[@]}" -g tpu -dd "$WORK/data" -rd "$WORK/res"
says "--accelerator-type: unknown value 'tpu'"

# Overrides the division does not allow: refused before any I/O.
expect 3 1 training run --model cosmoflow -dd "$WORK/data" -rd "$WORK/res2" \
    --params train.epochs=2
says "train.epochs"
says "INVALID"
expect 3 1 training run --model cosmoflow -dd "$WORK/data" -rd "$WORK/res2" --closed \
    --params dataset.format=npz
says "--closed was given"
[ ! -e "$WORK/res2" ] || fail "a refused run created its results directory"
# no_run DIR: a refusal before the run left no run directory under the results dir DIR.
no_run() {
    [ -z "$(find "$1" -name '*_metadata.json' 2>/dev/null)" ] || fail "a run directory was created in $1"
}

# Refused before the run directory is created: a missing dataset, too few steps per epoch, a
# dataset made for another model, a data dir that is, is inside or contains the results dir.
expect 2 2 training run "${S[@]}" "${P[@]}" -dd "$WORK/none" -rd "$WORK/res_pre"
says "no usable dataset in $WORK/none"
no_run "$WORK/res_pre"
expect 2 2 training run "${S[@]}" --params dataset.num_files_train=2 train.computation_time=0 \
    -dd "$WORK/data" -rd "$WORK/res_pre"
says "steps per epoch"
no_run "$WORK/res_pre"
U=(--model unet3d --scale 0.0001 --seed 4 --allow-invalid-params)
expect 0 1 training datagen "${U[@]}" --params dataset.num_files_train=8 -dd "$WORK/unet" \
    -rd "$WORK/res_u"
expect 2 1 training run --model resnet50 --scale 0.001 --seed 4 --allow-invalid-params \
    --params dataset.num_files_train=8 -dd "$WORK/unet" -rd "$WORK/res_pre"
says "the dataset in $WORK/unet was made for unet3d"
says "run with --model unet3d"
no_run "$WORK/res_pre"
for dd in "$WORK/res_dg" "$WORK/res_dg/data"; do
    expect 2 2 training datagen "${S[@]}" "${P[@]}" -dd "$dd" -rd "$WORK/res_dg"
    says "the data folder $dd"
    says "the results directory $WORK/res_dg"
    says "--data-dir DIR"
    [ ! -e "$WORK/res_dg" ] || fail "a refused datagen wrote into $WORK/res_dg"
done
expect 2 2 training datagen "${S[@]}" "${P[@]}" -dd "$WORK/dg" -rd "$WORK/dg/results"
says "the data folder $WORK/dg contains the results directory $WORK/dg/results"
[ ! -e "$WORK/dg" ] || fail "a refused datagen wrote into $WORK/dg"
echo "ok"
