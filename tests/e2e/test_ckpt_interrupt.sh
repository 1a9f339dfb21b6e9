#!/usr/bin/env bash
# SIGINT during a run: mlpio stops at the next transfer or wait, exits 130, and the run
# directory records the interruption (metadata status, exception and finish events).
source "$(dirname "$0")/lib.sh"

"$MLPIO_BIN" checkpointing run --model llama3-8b --scale 0.0005 -ncw 50 -ncr 0 \
    --params checkpoint.time_between_checkpoints=0.2 -cf "$WORK/ck" -rd "$WORK/res" \
    >"$OUT" 2>"$ERR" &
pid=$!
# Wait (bounded) until the first checkpoint is on record, then interrupt.
for _ in $(seq 600); do
    ev=$(ls "$WORK"/res/checkpointing/llama3-8b/run/*/events.jsonl 2>/dev/null || true)
    [ -n "$ev" ] && grep -q '"name":"write"' "$ev" && break
    kill -0 "$pid" 2>/dev/null || fail "mlpio ended before it could be interrupted"
    sleep 0.05
done
[ -n "$ev" ] || fail "no write event appeared"
kill -INT "$pid"
set +e
wait "$pid"
CODE=$?
set -e
[ "$CODE" -eq 130 ] || fail "expected exit 130 after SIGINT, got $CODE"
says "interrupted"
failed_run "$(last_run "$WORK/res")" 130 '
assert m["exit_status"]["category"] == "interrupted", m["exit_status"]
assert 1 <= names.count("write") < 50, names
assert names[-2:] == ["exception", "finish"], names'
echo "ok"
