#!/usr/bin/env bash
# checkpointing datasize --ranks N: a 1024-rank job's per-rank and total sizes without mpirun,
# checked against DLIO's formula (base_checkpointing.py) worked out here; and bad input.
source "$(dirname "$0")/lib.sh"

expect 0 1 checkpointing datasize --model llama3-1t --ranks 1024
python3 - "$OUT" <<'PY' || fail "llama3-1t sizes at 1024 ranks"
import re, sys
t = open(sys.argv[1]).read()
# llama3-1t: TP 8 x PP 64 x DP 2, ZeRO-1, fp16 model, fp32 optimizer.
h, L, f, V, heads, kvh, TP, PP, DP = 25872, 128, 98304, 128256, 192, 32, 8, 64, 2
dkv = (h // heads) * kvh
total = 2 * V * h + L * (h + h * (h + 2 * dkv) + h * h + h + 3 * h * f) + h
n = total // (TP * PP * DP)                  # DLIO's integer division
optim = (3 * n + 15 * h) * 4
emb = h * V // TP * 2
layer = (h + h * (h + 2 * dkv) // TP + h * h // TP + h + h * 2 * f // TP + h * f // TP) * 2
assert optim == 13865244924, optim
rows = {int(m[0]): (int(m[4]), int(m[5])) for m in re.findall(
    r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s", t, re.M)}
# 128 layers over 64 stages: 2 each; stage 0 adds the embedding, the last lm_head and norm.
assert rows[0] == (4, emb + 2 * layer + optim), (rows[0], emb + 2 * layer + optim)
assert rows[8] == (3, 2 * layer + optim), rows[8]
assert rows[1023] == (1, optim), rows[1023]           # DP rank 1: optimizer only
stage_last = 2 * layer + emb + h * 2
job = 1024 * optim + 8 * (emb + 64 * 2 * layer) + 8 * (emb + h * 2)
assert job == 16564174094592, job
assert f"one checkpoint: {job} bytes" in t, t
assert "this job: 1024 ranks" in t and "subset" not in t.split("\n")[2], t
PY
says "sized with --ranks"

# Fewer ranks than the job: subset mode, the first R ranks' bytes (llama3-8b: 8 equal ranks).
expect 0 1 checkpointing datasize --model llama3-8b --ranks 3
says "this job: 3 ranks (subset mode"
says "one checkpoint: $((3 * (2007565312 + 12045637632))) bytes"

expect 2 1 checkpointing datasize --model llama3-8b --ranks zero
says "--ranks: expected a positive integer, got 'zero'"
expect 2 1 checkpointing run --model llama3-8b --ranks 8 -cf "$WORK/ck"
echo "ok"
