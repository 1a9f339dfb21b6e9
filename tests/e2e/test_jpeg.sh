#!/usr/bin/env bash
# retinanet's jpeg dataset: datagen writes baseline grayscale JPEGs that libjpeg's own djpeg
# decodes at the expected dimensions, runs at 1, 2 and 4 ranks read and verify them, and a
# damaged or foreign file is reported with its path, and the offset or the shapes.
source "$(dirname "$0")/lib.sh"

command -v djpeg >/dev/null || fail "djpeg is not installed (apt install libjpeg-turbo-progs)"
command -v cjpeg >/dev/null || fail "cjpeg is not installed (apt install libjpeg-turbo-progs)"

# --scale 0.05 of 322957 bytes: 127 x 127 pixels. 96 files in batches of 4: 6 steps on 4 ranks.
D="$WORK/data"
S=(--model retinanet -g b200 --scale 0.05 --seed 5 --allow-invalid-params)
P=(--params dataset.num_files_train=96 reader.batch_size=4 train.computation_time=0
    train.epochs=1)
expect 0 2 training datagen "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
[ "$(find "$D/train" -name 'img_*_of_96.jpeg' | wc -l)" -eq 96 ] || fail "not 96 .jpeg files"

# Every file decodes with djpeg to a 127 x 127 grayscale (P5) image; datagen counted their bytes.
total=0
for f in "$D"/train/*.jpeg; do
    djpeg -pnm "$f" >"$WORK/img.pgm" 2>"$ERR" || fail "djpeg cannot decode $f"
    [ "$(head -c 2 "$WORK/img.pgm")" = P5 ] || fail "$f is not grayscale"
    [ "$(sed -n 2p "$WORK/img.pgm")" = "127 127" ] || fail "$f: $(sed -n 2p "$WORK/img.pgm")"
    total=$((total + $(stat -c %s "$f")))
done
run_dir=$(last_run "$WORK/res")
python3 - "$run_dir/summary.json" "$total" "$D/mlpio_dataset.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s = s.get("summary", s)
assert s["datagen_bytes"] == int(sys.argv[2]), (s["datagen_bytes"], sys.argv[2])
m = json.load(open(sys.argv[3]))
assert m["format"] == "jpeg" and m["model"] == "retinanet", m
PY
[ $? -eq 0 ] || fail "datagen summary"

# Different images: no two files are the same.
[ "$(md5sum "$D"/train/*.jpeg | cut -d' ' -f1 | sort -u | wc -l)" -eq 96 ] || fail "equal files"

for np in 1 2 4; do
    expect 0 "$np" training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res" --verify
done

# One flipped byte in the entropy-coded data: --verify names the file and the offset.
victim=$(find "$D/train" -name '*.jpeg' | sort | sed -n 3p)
cp "$victim" "$WORK/saved"
off=$(($(stat -c %s "$victim") / 2))
python3 -c 'import sys; p=sys.argv[1]; o=int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=0x01 if b[o] not in (0xfe, 0xff) else 0x10; open(p,"wb").write(b)' "$victim" "$off"
cmp -s "$victim" "$WORK/saved" && fail "the corruption changed nothing"
run 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res" --verify
[ "$CODE" -ne 0 ] || fail "--verify accepted a flipped byte"
says "$victim differs from what datagen wrote, first at file offset $off"

# Truncated: no EOI, said with the offset where the file ends.
cp "$WORK/saved" "$victim"
size=$(stat -c %s "$victim")
truncate -s $((size - 100)) "$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
says "jpeg file $victim, offset $((size - 100)): truncated"
says "without EOI"

# Not a JPEG at all.
head -c 1000 /dev/urandom | tr '\377' '\0' >"$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
says "jpeg file $victim, offset 0: not a JPEG"

# A valid grayscale JPEG from cjpeg, of other dimensions: expected vs actual shape.
{ printf 'P5\n40 30\n255\n'; head -c 1200 /dev/urandom; } >"$WORK/other.pgm"
cjpeg -quality 75 "$WORK/other.pgm" >"$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
says "$victim holds an image of 30 x 40 pixels (height x width), expected 127 x 127"

# A colour JPEG and a progressive one are named as such.
{ printf 'P6\n127 127\n255\n'; head -c $((127 * 127 * 3)) /dev/urandom; } >"$WORK/colour.ppm"
cjpeg "$WORK/colour.ppm" >"$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
says "jpeg file $victim, offset"
says "3 components (colour) of 127 x 127 pixels"
cjpeg -grayscale -progressive "$WORK/colour.ppm" >"$victim"
expect 4 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res"
says "a progressive JPEG (SOF2)"

# Restored, the dataset verifies again.
cp "$WORK/saved" "$victim"
expect 0 2 training run "${S[@]}" "${P[@]}" -dd "$D" -rd "$WORK/res" --verify
exit 0
