#!/usr/bin/env bash
# Backends and commands: mpiio (per-rank and shared-file collective), null, O_DIRECT,
# --what-if, datasize and configview.
source "$(dirname "$0")/lib.sh"

# MPI-IO, independent per-rank files: the same files as posix would write.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 2 --io-api mpiio --seed 3 --verify \
    -cf "$WORK/mpiio" -rd "$WORK/res"
python3 "$E2E_DIR/check_ckpt.py" "$(last_run "$WORK/res")" "$WORK/mpiio" 2 2 2 || fail "mpiio run"
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 0 --seed 3 -cf "$WORK/posix" -rd "$WORK/res"
diff -r "$WORK/mpiio" "$WORK/posix" >/dev/null || fail "mpiio and posix wrote different bytes"

# Shared file with collective I/O (OPEN): one file per checkpoint holding every rank's bytes.
for np in 2 4; do
    expect 0 $np checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 --io-api mpiio --verify \
        --params checkpoint.layout=shared -cf "$WORK/shared$np" -rd "$WORK/res"
    says "checkpoint.layout"
    f="$WORK/shared$np/global_epoch1_step1/shared_states.pt"
    want=$(python3 -c "import json,glob; print(int(json.load(open('$(last_run "$WORK/res")/summary.json'))['checkpoint_size_bytes']))")
    [ "$(stat -c %s "$f")" -eq "$want" ] || fail "shared file has $(stat -c %s "$f") bytes, want $want"
    python3 "$E2E_DIR/blocks.py" unique "$WORK/shared$np" || fail "shared file repeats blocks"
done
expect 2 2 checkpointing run "${CKPT_SMALL[@]}" --params checkpoint.layout=shared \
    -cf "$WORK/sp" -rd "$WORK/res"
says "collective"

# null: generates (and verifies) every byte, stores nothing; INVALID as a result.
expect 3 2 checkpointing run "${CKPT_SMALL[@]}" --io-api null -cf "$WORK/null" -rd "$WORK/res"
says "io_api"
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 2 --io-api null --verify \
    --allow-invalid-params -cf "$WORK/null" -rd "$WORK/res"
[ ! -e "$WORK/null" ] || fail "the null backend created files"
python3 - "$(last_run "$WORK/res")" <<'PY' || fail "null run summary"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["verdict"] == "INVALID" and s["io_api"] == "null", s
assert s["save_checkpoint_io_mean_GB_per_second"] > 0 and s["cache_policy"] == "none", s
PY

# O_DIRECT on a file system that takes it.
expect 0 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 --odirect --verify --seed 5 \
    -cf "$WORK/odirect" -rd "$WORK/res"
python3 -c "import json,sys; s=json.load(open(sys.argv[1]+'/summary.json')); assert s['cache_policy']=='odirect', s" \
    "$(last_run "$WORK/res")" || fail "odirect not recorded"

# --what-if prints the plan and touches nothing.
expect 0 4 checkpointing run "${CKPT_SMALL[@]}" --what-if -cf "$WORK/wi" -rd "$WORK/wires"
says "what-if: nothing was written"
says "zero_pp_rank_0_mp_rank_0_optim_states.pt"
[ ! -e "$WORK/wi" ] && [ ! -e "$WORK/wires" ] || fail "--what-if created files"

# --debug: per-rank diagnostics on stderr, one line per rank, prefixed with the rank.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" --what-if --debug -cf "$WORK/wi" -rd "$WORK/wires"
grep -q '^\[rank 0\] plan: tp 0 pp 0 dp 0' "$ERR" || fail "no rank 0 plan on stderr"
grep -q '^\[rank 1\] plan: tp 0 pp 0 dp 1' "$ERR" || fail "no rank 1 plan on stderr"

# datasize: full and per-rank sizes and the memory check; configview: the merged config.
expect 0 1 checkpointing datasize --model llama3-405b
says "full checkpoint (512 ranks): 5292.2"
says "3x memory"
expect 0 1 checkpointing configview --model llama3-70b -ncw 3
python3 - "$OUT" <<'PY' || fail "configview output"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["config"]["checkpoint"]["num_checkpoints_write"] == 3
assert v["config"]["parallelism"]["tensor"] == 8
assert [o["key"] for o in v["overrides"]] == ["checkpoint.num_checkpoints_write"], v["overrides"]
PY
echo "ok"
