#!/usr/bin/env bash
# What a user reads from a multi-rank run: lines are never broken by another rank's output,
# and a run that fails ends with mlpio's own error (printed once, by rank 0) after its results.
# Open MPI's mpirun adds notes of its own after a non-zero exit unless given -q, so the launch
# here uses -q as the README advises.
source "$(dirname "$0")/lib.sh"

# A failure in the middle of the run: rank 1's checkpoint file is taken by a directory.
for np in 2 4; do
    rm -rf "$WORK/ck" "$WORK/res"
    mkdir -p "$WORK/ck/global_epoch1_step1/zero_pp_rank_1_mp_rank_0_optim_states.pt"
    set +e
    $MLPIO_MPIEXEC -q -np "$np" "$MLPIO_BIN" checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 \
        -cf "$WORK/ck" -rd "$WORK/res" >"$OUT" 2>"$ERR"
    CODE=$?
    set -e
    [ "$CODE" -eq 4 ] || fail "np $np: expected exit 4, got $CODE"
    grep -q '^results: ' "$OUT" || fail "np $np: the run's results were not printed"
    # mpirun forwards stdout and stderr apart, so their order in one file is not the program's:
    # each stream is checked on its own. The error and its hint end stderr, once.
    [ "$(cat "$OUT" "$ERR" | grep -c 'mlpio: error:')" -eq 1 ] ||
        fail "np $np: the error is not printed once"
    tail -n 2 "$ERR" | head -n 1 | grep -q '^mlpio: error: rank 1: .*zero_pp_rank_1_mp_rank_0_optim_states.pt' ||
        fail "np $np: the error is not the last thing printed"
    tail -n 1 "$ERR" | grep -q '^  hint: ' || fail "np $np: the hint does not end the output"
    failed_run "$(last_run "$WORK/res")" 4
done

# Debug output of every rank: each line whole and from one rank.
rm -rf "$WORK/ck" "$WORK/res"
$MLPIO_MPIEXEC -np 4 "$MLPIO_BIN" checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 \
    -cf "$WORK/ck" -rd "$WORK/res" --debug >"$OUT" 2>"$ERR" || fail "debug run failed"
[ "$(grep -c '^\[rank ' "$ERR")" -ge 4 ] || fail "no debug lines from the ranks"
for r in 0 1 2 3; do
    grep -q "^\[rank $r\] " "$ERR" || fail "no debug line from rank $r"
done
! grep -q '.\[rank [0-9]' "$ERR" || fail "a debug line starts inside another line"
! grep -qE '.mlpio: (error|warning)' "$OUT" "$ERR" || fail "a message starts inside another line"
echo "ok"
