#!/usr/bin/env bash
# Interruption under mpirun, where the launcher turns Ctrl-C into SIGTERM to every rank and
# SIGKILL a grace period later (Open MPI: odls_base_sigkill_timeout, 1 s by default):
#  1. SIGINT to mpirun: the ranks stop at their next transfer and rank 0 writes the whole
#     record (metadata "failed" with 130, exception, one last "finish", summary, report).
#  2. A rank that cannot stop (SIGSTOP) while rank 0 gets SIGTERM: rank 0's guard writes the
#     record on its own; once the rank runs again the orderly ending completes the record and
#     the log still ends with one "finish".
#  3. SIGTERM to a singleton: exit 130.
source "$(dirname "$0")/lib.sh"
MPIPID=
trap 'if [ -n "$MPIPID" ]; then kill -KILL "$MPIPID" 2>/dev/null || true; fi; pkill -KILL -f "$WORK/" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The run keeps writing small checkpoints until it is interrupted.
args=(checkpointing run --model llama3-8b --scale 0.0005 -ncw 200 -ncr 0 -cf "$WORK/ck"
    -rd "$WORK/res" --params checkpoint.time_between_checkpoints=0.1)

# wait_for WHAT COMMAND...: COMMAND succeeds within 30 s (checked every 50 ms) while the
# job runs.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 600); do
        "$@" && return 0
        kill -0 "${MPIPID:-$pid}" 2>/dev/null || fail "mlpio ended while waiting for $what"
        sleep 0.05
    done
    fail "timed out waiting for $what"
}
has_write() { ls "$WORK"/res/*/*/*/*/events.jsonl >/dev/null 2>&1 && grep -q '"name":"write"' "$WORK"/res/*/*/*/*/events.jsonl; }
# rank_pid N: the pid of MPI rank N among mpirun's children.
rank_pid() {
    local p
    for p in $(pgrep -P "$MPIPID"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && {
            echo "$p"
            return 0
        }
    done
    return 1
}
# reap PID: wait for PID; its exit code in $CODE.
reap() {
    set +e
    wait "$1"
    CODE=$?
    set -e
}
one_finish_last() { # RUN_DIR
    python3 - "$1" <<'PY' || fail "the event log of $1 does not end with one finish"
import json, sys
names = [json.loads(l)["name"] for l in open(sys.argv[1] + "/events.jsonl")]
assert names.count("finish") == 1 and names[-1] == "finish", names[-5:]
PY
}

# ---- 1. SIGINT to mpirun -----------------------------------------------------------------
$MLPIO_MPIEXEC -np 2 "$MLPIO_BIN" "${args[@]}" >"$OUT" 2>"$ERR" &
MPIPID=$!
wait_for "the first checkpoint" has_write
kill -INT "$MPIPID"
reap "$MPIPID"
MPIPID=
# Open MPI's mpirun exits 1 after SIGINT or SIGTERM whatever its ranks return; the record
# holds mlpio's own code.
[ "$CODE" -ne 0 ] || fail "mpirun exited 0 after SIGINT"
run1=$(last_run "$WORK/res")
failed_run "$run1" 130 '
assert m["exit_status"]["category"] == "interrupted", m["exit_status"]
assert "record" not in m["exit_status"], "the ranks stopped in time: the record is their own"'
one_finish_last "$run1"
[ -s "$run1/summary.json" ] && [ -s "$run1/report.html" ] || fail "no summary or report after SIGINT"
rm -rf "$WORK/res" "$WORK/ck"

# ---- 2. a rank that cannot stop ----------------------------------------------------------
$MLPIO_MPIEXEC -np 2 "$MLPIO_BIN" "${args[@]}" >"$OUT" 2>"$ERR" &
MPIPID=$!
wait_for "the first checkpoint" has_write
r0=$(rank_pid 0) && r1=$(rank_pid 1) || fail "ranks of mpirun $MPIPID not found"
kill -STOP "$r1"
kill -TERM "$r0"
run2=$(last_run "$WORK/res")
guarded() { ! grep -q '"status":[[:space:]]*"running"' "$run2"/*_metadata.json; }
# Rank 0 waits for rank 1 in the run's next agreement, so only the guard can write this.
wait_for "the guard's record" guarded
failed_run "$run2" 130 '
assert m["exit_status"]["record"] == "written on interruption", m["exit_status"]
assert "SIGTERM" in m["exit_status"]["error"], m["exit_status"]
s = json.load(open(d + "/summary.json"))
assert s["exit_code"] == 130 and s["status"] == "interrupted", s'
one_finish_last "$run2"
kill -CONT "$r1"
reap "$MPIPID"
MPIPID=
[ "$CODE" -eq 130 ] || fail "expected exit 130 once the stopped rank ran again, got $CODE"
# The orderly ending came after all: its complete record replaced the guard's, and the log
# kept the guard's single "finish".
failed_run "$run2" 130 '
assert "record" not in m["exit_status"], m["exit_status"]
s = json.load(open(d + "/summary.json"))
assert "checkpoint_size_GB" in s or len(s) > 6, sorted(s)'
one_finish_last "$run2"
rm -rf "$WORK/res" "$WORK/ck"

# ---- 3. SIGTERM to a singleton ----------------------------------------------------------
"$MLPIO_BIN" "${args[@]}" >"$OUT" 2>"$ERR" &
pid=$!
wait_for "the first checkpoint" has_write
kill -TERM "$pid"
reap "$pid"
[ "$CODE" -eq 130 ] || fail "expected exit 130 after SIGTERM, got $CODE"
failed_run "$(last_run "$WORK/res")" 130
echo "ok"
