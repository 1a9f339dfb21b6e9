#!/usr/bin/env bash
# Rules editions: a run is judged by the edition it names (default the newest), records it, and
# validate judges each run by its own edition, re-judges with --rules-edition and refuses a
# submission group that mixes editions.
source "$(dirname "$0")/lib.sh"
apart_dir 16 # the results on another file system than the data, as v3.0 wants (3.4.2)
T=(training run --model unet3d -g h100 --what-if -dd "$WORK/data" -rd "$APART/res")
# Without -g a run takes its edition's first CLOSED accelerator that defines the model: b200
# under v3.0 (the default edition), h100 under v2.0. Either way the run can be CLOSED.
expect 0 1 training run --model unet3d --what-if -dd "$WORK/data" -rd "$APART/res" --closed
says "verdict (before the run): CLOSED under the MLPerf Storage v3.0 rules"
says "compute 0.1620 s" # unet3d_b200.json's computation_time
expect 0 1 training run --model retinanet --what-if -dd "$WORK/data" -rd "$APART/res" --closed
says "CLOSED under the MLPerf Storage v3.0 rules"
expect 0 1 training run --model unet3d --what-if -dd "$WORK/data" -rd "$APART/res" --closed \
    --rules-edition v2.0 --params dataset.num_files_train=3500
says "CLOSED under the MLPerf Storage v2.0 rules"
grep -q "accelerator_type" "$OUT" "$ERR" && fail "the v2.0 default accelerator is not a v2.0 one"
says "compute 0.3230 s"

# The data beside the results: not CLOSED under v3.0 (Rules.md 3.4.2), which v2.0 did not ask.
expect 3 1 training run --model unet3d -g b200 --what-if -dd "$WORK/data" -rd "$WORK/res" --closed
says "are on one file system (the same device): Rules.md 3.4.2 wants them apart"
expect 0 1 training run --model unet3d --what-if -dd "$WORK/data" -rd "$WORK/res" --closed \
    --rules-edition v2.0 --params dataset.num_files_train=3500
grep -q "one file system" "$OUT" && fail "v2.0 has no file-system rule"

# Under v3.0 (the default) h100 is for what-if runs only: --closed says so and how to fix it.
expect 3 1 "${T[@]}" --closed
says "verdict (before the run): INVALID under the MLPerf Storage v3.0 rules"
says "under the v3.0 rules accelerator h100 is for what-if runs only, neither CLOSED nor OPEN"
says "CLOSED takes b200, mi355"
says "--rules-edition v2.0"
# Under v2.0 the same accelerator is a CLOSED one: no accelerator issue remains.
expect 3 1 "${T[@]}" --closed --rules-edition v2.0
says "INVALID under the MLPerf Storage v2.0 rules"
grep -q "accelerator_type" "$OUT" "$ERR" && fail "v2.0 judged h100 as it judges v3.0"
# b200 (and mi355 for retinanet) unet3d and retinanet can be CLOSED under v3.0.
expect 0 1 training run --model unet3d -g b200 --what-if -dd "$WORK/data" -rd "$APART/res" --closed
says "verdict (before the run): CLOSED under the MLPerf Storage v3.0 rules"
for g in b200 mi355; do
    expect 0 1 training run --model retinanet -g $g --what-if -dd "$WORK/data" -rd "$APART/res" --closed
    says "CLOSED under the MLPerf Storage v3.0 rules"
done
# A v2.0 model is not a v3.0 one, in either division.
expect 3 1 training run --model resnet50 --what-if -dd "$WORK/data" -rd "$APART/res" --closed
says "model resnet50 is not a training model of the v3.0 rules, in either division"
# An unknown edition lists the known ones.
expect 2 1 "${T[@]}" --rules-edition v9
says "unknown rules edition 'v9' (known: v2.0, v3.0)"
"$MLPIO_BIN" training run --help >"$OUT" 2>&1 || true
says "one of v2.0, v3.0; default v3.0"

# Checkpointing takes the accelerator as an option and judges it by the edition too.
expect 3 1 checkpointing run --model llama3-8b -g h100 --what-if --closed -rd "$APART/res" \
    --params checkpoint.checkpoint_folder="$WORK/ckpt"
says "INVALID checkpoint.accelerator_type: under the v3.0 rules accelerator h100 is for what-if runs only"
expect 0 1 checkpointing run --model llama3-8b -g mi355 --what-if -rd "$APART/res" \
    --params checkpoint.checkpoint_folder="$WORK/ckpt"
grep -q "checkpoint.accelerator_type" "$OUT" && fail "mi355 is a v3.0 CLOSED accelerator"

# A run records its edition; validate shows and uses it.
C=(checkpointing run --model llama3-8b --scale 0.0005 --seed 7 -ncw 1 -ncr 1 --open
   --params checkpoint.checkpoint_folder="$WORK/ckpt")
expect 0 2 "${C[@]}" -rd "$APART/res"
meta=$(ls "$(last_run "$APART/res")"*_metadata.json)
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rules_edition"])' "$meta")" = v3.0 ] ||
    fail "the metadata does not record rules_edition v3.0"
says "under the MLPerf Storage v3.0 rules"
expect 0 1 validate --open "$APART/res"
says "v3.0 rules"
# The default checkpoint accelerator (b200) is a v2.0 stranger: re-judged by v2.0 it is INVALID.
expect 3 1 validate --open --rules-edition v2.0 "$APART/res"
says "v2.0 rules"
says "checkpoint.accelerator_type"
expect 2 1 validate --rules-edition v9 "$APART/res"
says "known: v2.0, v3.0"

# A second run recorded under v2.0 joins the same group: the group refuses the mix.
expect 0 2 "${C[@]}" -rd "$APART/res" --rules-edition v2.0 \
    --params checkpoint.accelerator_type=h100
expect 3 1 validate --open "$APART/res"
says "judged by one rules edition"
# Judged all by one edition, the group is one again.
expect 3 1 validate --open --json --rules-edition v3.0 "$APART/res"
grep -q "judged by one rules edition" "$OUT" && fail "a forced edition still reads as a mix"
echo "ok"
