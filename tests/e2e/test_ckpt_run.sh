#!/usr/bin/env bash
# Checkpointing runs at 1, 2 and 4 ranks: layout, file sizes from the formula, JSON fields and
# events are checked by an independent oracle (check_ckpt.py).
source "$(dirname "$0")/lib.sh"

for np in 1 2 4; do
    res="$WORK/results-$np" ck="$WORK/ckpt-$np"
    expect 0 "$np" checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 3 -cf "$ck" -rd "$res" \
        --seed 7 --verify
    says "verdict (run): OPEN"
    dir=$(last_run "$res")
    [ -n "$dir" ] || fail "no run directory under $res"
    python3 "$E2E_DIR/check_ckpt.py" "$dir" "$ck" "$np" 2 3 || fail "oracle rejected $dir"
done

# A second run into the same results dir gets its own directory; the first is untouched.
res="$WORK/results-1"
first=$(last_run "$res")
sum_before=$(cat "$first"/* | md5sum)
expect 0 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/ckpt-again" -rd "$res"
[ "$(ls -d "$res"/checkpointing/llama3-8b/run/*/ | wc -l)" -eq 2 ] || fail "expected 2 run dirs"
[ "$(cat "$first"/* | md5sum)" = "$sum_before" ] || fail "the earlier run directory changed"

# --loops N: N run directories, each a complete run.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 -cf "$WORK/ckpt-loops" \
    -rd "$WORK/results-loops" --loops 2
[ "$(ls -d "$WORK"/results-loops/checkpointing/llama3-8b/run/*/ | wc -l)" -eq 2 ] ||
    fail "--loops 2 did not give 2 run directories"
echo "ok"
