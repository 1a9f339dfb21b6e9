#!/usr/bin/env bash
# Parquet end to end for flux and dlrm at a tiny scale: datagen -> hyparquet (an npm reader that
# mlpio did not write) reads every file and finds the schema, the row groups and every value
# where mlpio put them -> training run at 1, 2 and 4 ranks with --verify. Then damage: a flipped
# footer byte, a truncated file, a bad magic, a wrong schema and a file written by another tool
# (hyparquet-writer) are each refused, naming the file, the offset and what is wrong.
source "$(dirname "$0")/lib.sh"

# The npm packages come from scripts/setup.sh (tests/npm, pinned); without them, try to install
# them here, and skip when the npm registry cannot be reached.
NPM_DIR="${MLPIO_NPM_DIR:-$HOME/.cache/mlpio-npm}"
if [ ! -d "$NPM_DIR/node_modules/hyparquet" ]; then
    command -v npm >/dev/null || { echo "skip: npm is not installed (scripts/setup.sh)"; exit 77; }
    NPM_DIR="$WORK/npm-install"
    mkdir -p "$NPM_DIR"
    cp "$E2E_DIR/../npm/package.json" "$E2E_DIR/../npm/package-lock.json" "$NPM_DIR/"
    if ! (cd "$NPM_DIR" && timeout 120 npm ci --no-audit --no-fund --loglevel=error) >"$OUT" 2>"$ERR"; then
        echo "skip: the npm packages of tests/npm are not installed and npm ci failed (no registry?)"
        exit 77
    fi
fi
# Node resolves an ES module's imports next to the module: put the checker beside node_modules.
mkdir -p "$WORK/node"
cp "$E2E_DIR/check_parquet.mjs" "$WORK/node/"
ln -s "$NPM_DIR/node_modules" "$WORK/node/node_modules"
check() { node "$WORK/node/check_parquet.mjs" "$@"; }

FLUX_COLS="t5_encodings:float32:524,clip_encodings:float32:1:list,mean:float32:8,logvar:float32:8,timestamp:float32:1:list"
DLRM_COLS=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['dataset']['parquet']['columns'])" \
    "$E2E_DIR/../../share/training/dlrm_b200.json")
# model accelerator scale files samples row_group batch columns
cases=("flux b200 0.001 8 6 4 2 $FLUX_COLS" "dlrm mi355 1 8 10 4 4 $DLRM_COLS")
for c in "${cases[@]}"; do
    read -r model acc scale files spf rg batch cols <<<"$c"
    data="$WORK/$model" res="$WORK/res-$model"
    common=(--model "$model" -g "$acc" --scale "$scale" -dd "$data" -rd "$res" --seed 5
        --allow-invalid-params --params dataset.num_files_train="$files"
        dataset.num_samples_per_file="$spf" dataset.parquet.row_group_size="$rg"
        reader.batch_size="$batch")
    expect 0 2 training datagen "${common[@]}"
    [ "$(find "$data/train" -name '*.parquet' | wc -l)" -eq "$files" ] || fail "$model: file count"
    check check "$cols" "$spf" "$rg" "$data"/train/*.parquet >"$OUT" 2>"$ERR" ||
        fail "$model: hyparquet disagrees with the files"
    [ "$(grep -c '^ok ' "$OUT")" -eq "$files" ] || fail "$model: not every file checked"
    for np in 1 2 4; do
        expect 0 "$np" training run "${common[@]}" train.computation_time=0.001 --verify
        python3 - "$(last_run "$res")" "$np" "$files" "$spf" "$batch" <<'PY' || fail "$model at $np ranks"
import json, sys
d, ranks, files, spf, batch = sys.argv[1], *map(int, sys.argv[2:])
s = json.load(open(d + "/summary.json"))
assert s["format"] == "parquet" and s["num_accelerators"] == ranks, s
assert s["steps_per_epoch"] == spf * files // batch // ranks, s
assert s["train_io_measured_MB_per_second"] > 0, s
PY
    done
done

# Damage, one file at a time, each restored afterwards. The flux dataset is read at 2 ranks.
data="$WORK/flux"
run_flux() {
    expect 4 2 training run --model flux -g b200 --scale 0.001 -dd "$data" -rd "$WORK/res-bad" \
        --seed 5 --allow-invalid-params --params dataset.num_files_train=8 \
        dataset.num_samples_per_file=6 dataset.parquet.row_group_size=4 reader.batch_size=2 \
        train.computation_time=0 "$@"
}
victim="$data/train/img_3_of_8.parquet"
size=$(stat -c %s "$victim")
cp "$victim" "$WORK/keep.parquet"
flen=$(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(); print(struct.unpack('<I', d[-8:-4])[0])" "$victim")
foot=$((size - 8 - flen))

# A flipped byte in the footer's Thrift (the type nibble of its first field).
printf '\x1d' | dd of="$victim" bs=1 seek="$foot" conv=notrunc status=none
run_flux
says "parquet file $victim, offset $foot: malformed Thrift in the footer"
cp "$WORK/keep.parquet" "$victim"

# Truncated: the end magic and length are gone.
truncate -s $((size - 5)) "$victim"
run_flux
says "parquet file $victim, offset $((size - 9)): the file does not end with the Parquet magic"
cp "$WORK/keep.parquet" "$victim"

# A footer length past the start of the file.
printf '\xff\xff\xff\x7f' | dd of="$victim" bs=1 seek=$((size - 8)) conv=notrunc status=none
run_flux
says "parquet file $victim, offset $((size - 8)): a footer length of 2147483647 bytes"
cp "$WORK/keep.parquet" "$victim"

# Bad magic at the start.
printf 'PAR0' | dd of="$victim" bs=1 seek=0 conv=notrunc status=none
run_flux
says "parquet file $victim, offset 0: the file does not start with the Parquet magic"
cp "$WORK/keep.parquet" "$victim"

# A page header whose size runs past its chunk: the first data page's size field is made large.
# (The first page header starts at offset 4: type, then uncompressed_page_size.)
python3 - "$victim" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
assert d[4] == 0x15 and d[6] == 0x15, d[4:12]  # field 1 i32, field 2 i32
# zigzag varint of the page size: make it 0x7ffffff0 (5 bytes) in place of the old varint
n = 7
while d[n] & 0x80:
    n += 1
old = d[7:n + 1]
v = (0x7ffffff0 << 1)
new = bytearray()
while v >= 0x80:
    new.append(v & 0x7f | 0x80)
    v >>= 7
new.append(v)
assert len(new) >= len(old)
# keep the file's length: only a same-length varint can be replaced, so cap it
new = new[:len(old)]
new[-1] &= 0x7f
for i in range(len(new) - 1):
    new[i] |= 0x80
d[7:n + 1] = new
open(p, "wb").write(d)
PY
run_flux
grep -qE "parquet file $victim, offset 4: (a page of|a compressed page)" "$OUT" "$ERR" ||
    fail "a page running past its chunk not named"
cp "$WORK/keep.parquet" "$victim"

# The schema of another config: the same dataset read as if its columns differed.
run_flux dataset.parquet.columns="t5_encodings:float32:524328,clip_encodings:float32:409,mean:float32:8232,logvar:float32:8232,stamp:float32:7"
says "expected stamp (float32 list of 1)"
says "parquet file $data/train/img_"

# A Parquet file written by another tool, of another schema, in place of one of mlpio's.
check write "$victim" >"$OUT" 2>"$ERR" || fail "hyparquet-writer could not write a file"
node -e "require('fs').statSync('$victim')" || fail "no foreign file"
run_flux
grep -qE "parquet file $victim, offset [0-9]+: (column label|the file has 2 columns)" "$OUT" "$ERR" ||
    fail "the foreign file is not reported as such"
cp "$WORK/keep.parquet" "$victim"

# Restored, the dataset reads and verifies again.
expect 0 2 training run --model flux -g b200 --scale 0.001 -dd "$data" -rd "$WORK/res-bad" \
    --seed 5 --allow-invalid-params --params dataset.num_files_train=8 \
    dataset.num_samples_per_file=6 dataset.parquet.row_group_size=4 reader.batch_size=2 \
    train.computation_time=0 --verify
exit 0
