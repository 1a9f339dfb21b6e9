#!/usr/bin/env bash
# Bad input gets a clear error (what, which parameter, expected vs given, how to fix), the
# documented exit code on every rank, and loses nothing.
source "$(dirname "$0")/lib.sh"
R=(-rd "$WORK/res" -cf "$WORK/ck")

# Command line.
expect 2 1 checkpointin run
says "unknown benchmark or command 'checkpointin'"
says "did you mean 'checkpointing'"
expect 2 2 checkpointing rnu
says "did you mean 'run'"
expect 2 1 checkpointing run --num-checkpoint-write 3
says "did you mean '--num-checkpoints-write'"
expect 2 1 checkpointing run --seed
says "needs a value"
expect 2 1 checkpointing run --scale 2
says "--scale: expected a number > 0 and <= 1, got '2'"
expect 2 1 checkpointing run stray
says "unexpected argument 'stray'"
expect 2 1 checkpointing
says "no command given"

# Configuration.
expect 2 2 checkpointing run --model llama3-9b "${R[@]}"
says "unknown model 'llama3-9b'"
says "llama3-8b, llama3-70b"
expect 2 1 checkpointing run --params checkpoint.fsinc=false "${R[@]}"
says "unknown parameter 'checkpoint.fsinc'"
says "did you mean 'checkpoint.fsync'"
expect 2 1 checkpointing run --params checkpoint.transfer_size=12 "${R[@]}"
says "parameter checkpoint.transfer_size: expected a byte count from 4096"
says "got '12'"
expect 2 1 checkpointing run --params checkpoint.fsync=maybe "${R[@]}"
says "expected true or false, got 'maybe'"
expect 2 1 checkpointing run -ncw -1 "${R[@]}"
says "checkpoint.num_checkpoints_write: expected an integer from 0 to 1000"
printf '{\n  "checkpoint": {\n    "fsync": tru\n  }\n}\n' >"$WORK/bad.json"
expect 2 2 checkpointing run --config-file "$WORK/bad.json" "${R[@]}"
says "line 3"
says "column"
printf '{"checkpoint": {"num_checkpoints_rite": 2}}\n' >"$WORK/unknown.json"
expect 2 1 checkpointing run --config-file "$WORK/unknown.json" "${R[@]}"
says "unknown parameter 'checkpoint.num_checkpoints_rite'"
[ ! -e "$WORK/res" ] && [ ! -e "$WORK/ck" ] || fail "a refused run created files"

# Rules: --closed refuses before any I/O; INVALID needs --allow-invalid-params.
expect 3 2 checkpointing run "${CKPT_SMALL[@]}" --closed "${R[@]}"
says "--closed was given but this run would be OPEN"
says "fix: run with 8 ranks"
expect 3 1 checkpointing run "${CKPT_SMALL[@]}" --params checkpoint.fsync=false "${R[@]}"
says "this run would be INVALID"
says "--allow-invalid-params"
expect 3 1 checkpointing run "${CKPT_SMALL[@]}" -rd "$WORK/same" -cf "$WORK/same"
says "checkpoint.checkpoint_folder"
[ ! -e "$WORK/res" ] && [ ! -e "$WORK/ck" ] && [ ! -e "$WORK/same" ] ||
    fail "a refused run created files"

# Unwritable places: a path below a regular file can be created by nobody, root included.
touch "$WORK/file"
expect 4 2 checkpointing run "${CKPT_SMALL[@]}" -rd "$WORK/file/res" -cf "$WORK/ck"
says "$WORK/file"
says "--results-dir"
expect 4 2 checkpointing run "${CKPT_SMALL[@]}" -rd "$WORK/res" -cf "$WORK/file/ck"
says "$WORK/file"
says "--checkpoint-folder"
failed_run "$(last_run "$WORK/res")" 4

# O_DIRECT on a file system that refuses it (tmpfs before Linux 6.6, ramfs): a clear error.
refuses_odirect() {
    python3 -c 'import os,sys
try: os.close(os.open(sys.argv[1] + "/.probe", os.O_CREAT | os.O_WRONLY | os.O_DIRECT))
except OSError: sys.exit(0)
finally:
    try: os.unlink(sys.argv[1] + "/.probe")
    except OSError: pass
sys.exit(1)' "$1"
}
nodirect=""
if [ -w /dev/shm ] && refuses_odirect /dev/shm; then
    nodirect=$(mktemp -d /dev/shm/mlpio-e2e.XXXXXX)
elif mkdir -p "$WORK/ramfs" && mount -t ramfs ramfs "$WORK/ramfs" 2>/dev/null; then
    trap 'umount "$WORK/ramfs" 2>/dev/null; rm -rf "$WORK"' EXIT
    refuses_odirect "$WORK/ramfs" && nodirect="$WORK/ramfs"
fi
if [ -n "$nodirect" ]; then
    expect 2 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 --odirect -rd "$WORK/res" \
        -cf "$nodirect/ck"
    says "does not support O_DIRECT"
    says "without --odirect"
    [ "$nodirect" = "$WORK/ramfs" ] || rm -rf "$nodirect"
else
    echo "note: no file system here refuses O_DIRECT; that case is covered by unit.test_io"
fi

# Reading checkpoints that are not there names what is missing.
expect 4 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 0 -ncr 1 -rd "$WORK/res" -cf "$WORK/none"
says "global_epoch1_step1"
# no_run DIR: a refusal before the run left no run directory under the results dir DIR.
no_run() {
    [ -z "$(find "$1" -name '*_metadata.json' 2>/dev/null)" ] || fail "a run directory was created in $1"
}

# The shared layout needs collective I/O: refused before the run with posix.
expect 2 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 --params checkpoint.layout=shared \
    -rd "$WORK/res_pre" -cf "$WORK/ck_pre"
says "the shared layout writes one file with collective I/O, which --io-api posix cannot do"
says "--io-api mpiio"
no_run "$WORK/res_pre"
[ ! -e "$WORK/ck_pre" ] || fail "a refused run created its checkpoint folder"
# The README's shared-file example is judged the same before and after the run (OPEN), and
# its cached pages are dropped before the reads.
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 1 --io-api mpiio \
    --params checkpoint.layout=shared -rd "$WORK/res_sh" -cf "$WORK/ck_sh"
says "verdict (before the run): OPEN"
says "verdict (run): OPEN"
python3 - "$(last_run "$WORK/res_sh")" <<'PY' || fail "shared layout: wrong verdict or cache policy"
import glob, json, sys
m = json.load(open(glob.glob(sys.argv[1] + "/*_metadata.json")[0]))
assert m["verdict"]["verdict"] == "OPEN", m["verdict"]
assert m["facts"]["cache_policy"] == "fadvise", m["facts"]["cache_policy"]
PY
# A checkpoint folder inside the results dir is refused before the run, even when INVALID runs
# are allowed.
expect 2 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 --allow-invalid-params \
    -rd "$WORK/res_in" -cf "$WORK/res_in/ck"
says "the checkpoint folder $WORK/res_in/ck is inside the results directory $WORK/res_in"
says "--checkpoint-folder DIR"
no_run "$WORK/res_in"
echo "ok"
