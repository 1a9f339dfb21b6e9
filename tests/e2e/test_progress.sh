#!/usr/bin/env bash
# Progress: on a terminal rank 0 redraws one line in place; piped, stdout carries no progress
# line; progress events reach the event log either way.
source "$(dirname "$0")/lib.sh"
# script(1) comes with bsdutils, which scripts/setup.sh installs; without it the test is
# reported as skipped (exit 77), never as passed.
command -v script >/dev/null || { echo "script(1) is missing: install bsdutils (scripts/setup.sh)" >&2; exit 77; }
ckpt=(checkpointing run "${CKPT_SMALL[@]}" -ncw 3 -ncr 3 -cf "$WORK/ck")

# A pseudo-terminal (script -c runs the command with its stdout on a pty).
MLPIO_PROGRESS_INTERVAL=0.001 script -qec "$MLPIO_BIN ${ckpt[*]} -rd $WORK/tty" "$WORK/tty.log" \
    >/dev/null 2>&1 || fail "run on a terminal failed: $(tail -5 "$WORK/tty.log")"
python3 - "$WORK/tty.log" <<'PY' || fail "no progress line on the terminal"
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# redrawn in place: carriage return, the line, erase to end of line
lines = re.findall(r"\r(\[(write|read)\] [^\r\n\x1b]*)\x1b\[K", text)
assert lines, text[-2000:]
phases = {p for _, p in lines}
assert phases == {"write", "read"}, phases
assert any("ETA" in l and "GB/s" in l and "%" in l for l, _ in lines), lines[:5]
assert any("(100 %)" in l for l, _ in lines), [l for l, _ in lines][-3:]
PY

# Under mpirun a rank's stdout is always the launcher's pseudo-terminal: what counts is where
# mpirun itself writes. On a terminal, progress; into a file, none.
script -qec "$MLPIO_MPIEXEC -np 2 $MLPIO_BIN ${ckpt[*]} -rd $WORK/tty2" "$WORK/tty2.log" \
    >/dev/null 2>&1 || fail "mpirun on a terminal failed: $(tail -5 "$WORK/tty2.log")"
grep -q "ETA" "$WORK/tty2.log" || fail "no progress line under mpirun on a terminal"
$MLPIO_MPIEXEC -np 2 "$MLPIO_BIN" "${ckpt[@]}" -rd "$WORK/file2" >"$WORK/file2.log" 2>&1 ||
    fail "mpirun into a file failed"
if grep -q $'\r\|ETA' "$WORK/file2.log"; then fail "progress written to a file under mpirun"; fi

# Piped: no progress text, no control characters.
run 1 "${ckpt[@]}" -rd "$WORK/pipe"
[ "$CODE" -eq 0 ] || fail "piped run failed"
if grep -q $'\r\|\x1b\[K\|ETA' "$OUT"; then fail "progress written to a pipe"; fi

# The event log gets progress events (with a short interval) in both cases.
MLPIO_PROGRESS_INTERVAL=0.001 run 2 "${ckpt[@]}" -rd "$WORK/ev"
python3 - "$(last_run "$WORK/ev")" <<'PY' || fail "no progress events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
p = [e["context"] for e in ev if e["name"] == "progress"]
assert p and {c["phase"] for c in p} == {"write", "read"}, p[:3]
for c in p:
    assert c["unit"] == "bytes" and 0 <= c["done"] <= c["total"] and c["elapsed"] >= 0, c
last = [c for c in p if c["phase"] == "write"][-1]
assert last["done"] == last["total"], last
PY
# Training reports files written and steps per epoch.
train=(--model unet3d --scale 0.0005 -dd "$WORK/data" -rd "$WORK/tr" --allow-invalid-params
    --params dataset.num_files_train=84 reader.computation_time=0.001 train.epochs=2)
MLPIO_PROGRESS_INTERVAL=0.001 run 2 training datagen "${train[@]}"
[ "$CODE" -eq 0 ] || fail "datagen failed"
MLPIO_PROGRESS_INTERVAL=0.001 run 2 training run "${train[@]}"
[ "$CODE" -eq 0 ] || fail "training run failed"
if grep -q $'\r\|ETA' "$OUT"; then fail "progress written to a pipe"; fi
python3 - "$WORK/tr" <<'PY' || fail "no training progress events"
import glob, json, sys
def progress(cmd):
    d = sorted(glob.glob(sys.argv[1] + "/training/unet3d/" + cmd + "/*/"))[-1]
    ev = [json.loads(l) for l in open(d + "events.jsonl")]
    return [e["context"] for e in ev if e["name"] == "progress"]
gen = progress("datagen")
assert gen and gen[-1]["phase"] == "datagen" and gen[-1]["unit"] == "files", gen[-1:]
assert gen[-1]["done"] == gen[-1]["total"] == 84, gen[-1]
run = progress("run")
phases = [c["phase"] for c in run]
assert "epoch 1/2" in phases and "epoch 2/2" in phases, phases
last = [c for c in run if c["phase"] == "epoch 2/2"][-1]
assert last["unit"] == "steps" and last["done"] == last["total"] > 0, last
PY
echo "ok"
