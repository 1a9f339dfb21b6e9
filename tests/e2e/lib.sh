# Shared by the end-to-end tests: a scratch directory, running mlpio under mpirun, and
# assertions on exit codes and output. ctest sets MLPIO_BIN, MLPIO_MPIEXEC and the Open MPI
# environment (root and oversubscription).
set -euo pipefail
# The independent readers (numpy, h5py) are Debian's packages: use Debian's python3 even when
# another python3 (pyenv, conda) comes first on PATH.
export PATH="/usr/bin:$PATH"
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlpio-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/.out"
ERR="$WORK/.err"

fail() {
    echo "FAIL: $*" >&2
    echo "--- stdout" >&2
    cat "$OUT" >&2 2>/dev/null || true
    echo "--- stderr" >&2
    cat "$ERR" >&2 2>/dev/null || true
    exit 1
}

# run NP ARGS...: mlpio under mpirun; output captured in $OUT/$ERR; exit code in $CODE.
# One rank runs the binary directly (MPI singleton), as on a workstation.
run() {
    local np=$1
    shift
    set +e
    if [ "$np" -eq 1 ]; then
        "$MLPIO_BIN" "$@" >"$OUT" 2>"$ERR"
    else
        $MLPIO_MPIEXEC -np "$np" "$MLPIO_BIN" "$@" >"$OUT" 2>"$ERR"
    fi
    CODE=$?
    set -e
}

# expect CODE NP ARGS...
expect() {
    local want=$1
    shift
    run "$@"
    [ "$CODE" -eq "$want" ] || fail "expected exit $want, got $CODE: mlpio ${*:2}"
}

# says TEXT: stdout or stderr contains TEXT (fixed string).
says() {
    grep -qF -- "$1" "$OUT" "$ERR" || fail "expected output to contain: $1"
}

# The newest run directory of a benchmark/model/command under a results dir.
last_run() {
    ls -d "$1"/*/*/*/*/ 2>/dev/null | sort | tail -n 1
}

# Common scaled-down checkpointing options: a few MiB per rank, no waiting.
CKPT_SMALL=(--model llama3-8b --scale 0.0005 --params checkpoint.time_between_checkpoints=0)
