#!/usr/bin/env bash
# Progress: on a terminal rank 0 redraws one line in place; piped, stdout carries no progress
# line; progress events reach the event log either way.
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "note: no script(1) to make a terminal; skipped"; exit 0; }
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
echo "ok"
