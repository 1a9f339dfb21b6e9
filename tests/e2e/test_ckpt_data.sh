#!/usr/bin/env bash
# Unique, reproducible, verifiable data: no 4 KiB block repeats across ranks, files or
# checkpoints; the same seed writes the same bytes; different runs write different bytes;
# --verify catches a corrupted byte and names the file and offset.
source "$(dirname "$0")/lib.sh"

# Four ranks, two checkpoints: every block distinct (independent hash check and dedup-check).
expect 0 4 checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 0 -cf "$WORK/a" -rd "$WORK/res"
python3 "$E2E_DIR/blocks.py" unique "$WORK/a" || fail "duplicate blocks across ranks/files"
python3 "$E2E_DIR/blocks.py" entropy "$WORK/a/global_epoch1_step1" || fail "data compressible"
expect 0 2 dedup-check --json "$WORK/a"
python3 - "$OUT" <<'PY' || fail "dedup-check disagrees"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["duplicate_blocks"] == 0 and r["blocks"] > 0 and r["dedup_ratio"] == 1.0, r
PY

# Same seed, twice: byte-identical files. No seed: different salts and different bytes.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/s1" -rd "$WORK/res" --seed 42
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/s2" -rd "$WORK/res" --seed 42
diff -r "$WORK/s1" "$WORK/s2" >/dev/null || fail "the same seed gave different bytes"
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/u1" -rd "$WORK/res"
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/u2" -rd "$WORK/res"
python3 "$E2E_DIR/blocks.py" unique "$WORK/u1" "$WORK/u2" "$WORK/s1" ||
    fail "unseeded runs share blocks"

# Verification: read back what a seeded run wrote (no writes), then corrupt one byte.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 0 -ncr 1 -cf "$WORK/s1" -rd "$WORK/res" \
    --seed 42 --verify --allow-invalid-params
victim="$WORK/s1/global_epoch1_step1/zero_pp_rank_1_mp_rank_0_optim_states.pt"
printf '\xff' | dd of="$victim" bs=1 seek=5000 conv=notrunc status=none
cmp -s "$victim" "$WORK/s2/global_epoch1_step1/zero_pp_rank_1_mp_rank_0_optim_states.pt" &&
    fail "corruption did not change the file"
expect 5 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 0 -ncr 1 -cf "$WORK/s1" -rd "$WORK/res" \
    --seed 42 --verify --allow-invalid-params
says "rank 1"
says "$victim"
says "offset 5000"
failed_run "$(last_run "$WORK/res")" 5 'assert "offset 5000" in m["exit_status"]["error"], m["exit_status"]'
echo "ok"
