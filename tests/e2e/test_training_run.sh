#!/usr/bin/env bash
# Training end to end for every model: datagen -> independent readers -> run, at 1, 2 and 4
# ranks, with the summary checked against figures computed by hand from the known compute
# time, batch and step counts.
source "$(dirname "$0")/lib.sh"

# model files scale compute
cases=("unet3d 84 0.0005 0.01" "resnet50 8 0.001 0.01" "cosmoflow 24 0.001 0.005")
for np in 1 2 4; do
    for c in "${cases[@]}"; do
        read -r model files scale compute <<<"$c"
        data="$WORK/$model-$np" res="$WORK/res-$model-$np"
        common=(--model "$model" --scale "$scale" -dd "$data" -rd "$res" --seed 9
            --params dataset.num_files_train="$files")
        expect 0 "$np" training datagen "${common[@]}"
        [ -f "$data/mlpio_dataset.json" ] || fail "$model: no dataset manifest"
        [ "$(find "$data/train" -type f | wc -l)" -eq "$files" ] || fail "$model: file count"
        python3 "$E2E_DIR/check_formats.py" "$data/train" >/dev/null || fail "$model: readers"
        expect 0 "$np" training run "${common[@]}" reader.computation_time="$compute" \
            train.epochs=3 --verify --allow-invalid-params
        python3 - "$(last_run "$res")" "$np" "$compute" <<'PY' || fail "$model at $np ranks"
import glob, json, math, sys
d, ranks, compute = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = json.load(open(d + "/summary.json"))
meta = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
cfg = meta["config"]
batch = cfg["reader"]["batch_size"]
spf = cfg["dataset"]["num_samples_per_file"]
files = cfg["dataset"]["num_files_train"]
steps = spf * files // batch // ranks
assert s["steps_per_epoch"] == steps and s["epochs"] == 3, s
assert len(s["train_au_percentage"]) == 3 and len(s["train_throughput_samples_per_second"]) == 3
# Each step sleeps `compute`; DLIO's throughput counts (steps - 2) batches over the time of
# the steps after the first, (steps - 1) sleeps at least: its upper bound by hand.
bound = ranks * batch * (steps - 2) / ((steps - 1) * compute)
# More ranks than cores (and other tests beside this one) stretch the steps: the lower end
# only shows the figure is of the right order.
import os
low = 0.5 if ranks <= os.cpu_count() else 0.2
for tp in s["train_throughput_samples_per_second"]:
    assert low * bound < tp <= bound * 1.001, (tp, bound)
# The epoch's clock includes the loader's start-up and first reads (as DLIO's does), which more
# ranks than cores stretch most on the shortest epochs.
au_low = 50 if ranks <= os.cpu_count() else 20
for au in s["train_au_percentage"]:
    assert au_low < au <= 100, au
assert abs(s["train_au_mean_percentage"] - sum(s["train_au_percentage"]) / 3) < 1e-9
want = "success" if s["train_au_mean_percentage"] >= cfg["metric"]["au"] * 100 else "fail"
assert s["train_au_meet_expectation"] == want
rl = cfg["dataset"]["record_length_bytes"] * meta["options"]["scale"]
assert abs(s["train_io_mean_MB_per_second"] - s["train_throughput_mean_samples_per_second"] * rl / 2**20) < 1e-6
assert s["num_accelerators"] == ranks and s["num_files_train"] == files
names = [json.loads(l)["name"] for l in open(d + "/events.jsonl")]
assert names.count("epoch") == 3 and names[-1] == "finish", names
PY
    done
done

# The hdf5 format (OPEN): h5py opens every file; a run reads and verifies them. A build without
# HDF5 refuses the format before writing anything, saying how to build it in.
h5=(--model unet3d --scale 0.0005 -dd "$WORK/h5" -rd "$WORK/res-h5" --allow-invalid-params
    --params dataset.format=hdf5 dataset.num_files_train=42)
if ! built_in "dataset formats" hdf5; then
    expect 2 2 training datagen "${h5[@]}"
    says "parameter dataset.format: 'hdf5' is known but was not built into this mlpio"
    says "-DMLPIO_HDF5=ON"
    [ ! -e "$WORK/h5" ] || fail "a refused datagen created its data dir"
else
    expect 0 2 training datagen "${h5[@]}"
    python3 - "$WORK/h5/train" <<'PY' || fail "h5py rejected the hdf5 dataset"
import glob, sys
import h5py
files = sorted(glob.glob(sys.argv[1] + "/*.h5"))
assert len(files) == 42, len(files)
for f in files:
    with h5py.File(f, "r") as h:
        r, l = h["records"], h["labels"]
        assert r.dtype == "uint8" and r.ndim == 3 and r.shape[0] == 1, (f, r.shape, r.dtype)
        assert l.shape == (1,), l.shape
PY
    expect 0 2 training run "${h5[@]}" train.computation_time=0 train.epochs=1 --verify
    says "training unet3d: 2 ranks"
fi

# unet3d may read with O_DIRECT (reader.odirect, CLOSED-allowed): the same bytes, verified.
expect 0 2 training run --model unet3d --scale 0.0005 -dd "$WORK/unet3d-2" -rd "$WORK/res-od" \
    --params dataset.num_files_train=84 train.computation_time=0 train.epochs=1 \
    reader.odirect=true --verify --allow-invalid-params
python3 -c 'import glob,json,sys; m=json.load(open(glob.glob(sys.argv[1]+"/*_metadata.json")[0])); assert m["config"]["reader"]["odirect"] is True' \
    "$(last_run "$WORK/res-od")" || fail "odirect not recorded"

# The datagen owner's bytes are what a run with another rank count verifies against.
expect 0 3 training run --model cosmoflow --scale 0.001 -dd "$WORK/cosmoflow-2" -rd "$WORK/r3" \
    --params dataset.num_files_train=24 train.computation_time=0 train.epochs=1 --verify \
    --allow-invalid-params
echo "ok"
