# Shared by the end-to-end tests: a scratch directory, running mlpio under mpirun, and
# assertions on exit codes and output. ctest sets MLPIO_BIN, MLPIO_MPIEXEC and the Open MPI
# environment (root and oversubscription).
set -euo pipefail
# The independent readers (numpy, h5py) are Debian's packages: use Debian's python3 even when
# another python3 (pyenv, conda) comes first on PATH.
export PATH="/usr/bin:$PATH"
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlpio-e2e.XXXXXX")
APART=""
APART_MOUNTED=0
HOSTS_DIR=""
SLURM_DIR=""
e2e_cleanup() {
    if [ -n "$SLURM_DIR" ]; then slurm_down; fi
    if [ -n "$HOSTS_DIR" ]; then hosts_down; fi
    if [ "$APART_MOUNTED" = 1 ]; then umount "$APART" 2>/dev/null || true; fi
    rm -rf "$WORK"
    if [ -n "$APART" ]; then rm -rf "$APART"; fi
}
trap e2e_cleanup EXIT
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

# built_in WHAT NAME: this mlpio was built with the backend (WHAT "backends") or dataset format
# (WHAT "dataset formats") NAME, as 'mlpio version' lists them; hdf5 is optional at build time.
built_in() {
    "$MLPIO_BIN" version | sed -n "s/^  $1: //p" | tr '|' '\n' | grep -qx -- "$2"
}

# The newest run directory of a benchmark/model/command under a results dir.
last_run() {
    ls -d "$1"/*/*/*/*/ 2>/dev/null | sort | tail -n 1
}

# failed_run DIR CODE [CHECKS]: the run directory DIR records a run that failed with exit code
# CODE: status "failed" and CODE in its metadata, an "exception" event, and a last "finish"
# event with CODE. CHECKS, Python, may assert more about m (the metadata), ev (the events) and
# names (their names).
failed_run() {
    python3 - "$1" "$2" "${3:-}" <<'PY' || fail "failed run not recorded in ${1:-(no run directory)}"
import glob, json, sys
d, code = sys.argv[1], int(sys.argv[2])
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
assert m["status"] == "failed" and m["exit_status"]["code"] == code, m["exit_status"]
ev = [json.loads(l) for l in open(d + "/events.jsonl")]
names = [e["name"] for e in ev]
assert names[0] == "start" and "exception" in names and names[-1] == "finish", names
assert ev[-1]["context"]["exit_code"] == code, ev[-1]
exec(sys.argv[3])
PY
}

# Common scaled-down checkpointing options: a few MiB per rank, no waiting.
CKPT_SMALL=(--model llama3-8b --scale 0.0005 --params checkpoint.time_between_checkpoints=0)

# apart_dir MIB: $APART, an empty directory on another file system than $WORK with MIB MiB
# free, as the rules want data and results (Rules.md 3.4.2): a tmpfs mounted there as root, or
# else one under /dev/shm. Exits 77 (the test is skipped) where there is neither.
apart_dir() {
    APART="$WORK/.apart"
    mkdir -p "$APART"
    if mount -t tmpfs -o size="$1"m tmpfs "$APART" 2>/dev/null; then
        APART_MOUNTED=1
        return
    fi
    rmdir "$APART"
    APART=""
    if [ -w /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$WORK")" ] &&
        [ "$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')" -ge "$1" ]; then
        APART=$(mktemp -d /dev/shm/mlpio-e2e.XXXXXX)
        return
    fi
    echo "note: no file system apart from $WORK (cannot mount a tmpfs, no /dev/shm); skipped"
    exit 77
}

# ---- emulated hosts ------------------------------------------------------------------------
# hosts_up NAME[:SMALL_DIR]...: one emulated host per NAME on this machine, for mpirun. Each
# is a UTS namespace with its own host name (and a mount namespace), kept in $HOSTS_DIR; Open
# MPI reaches it through $HOSTS_DIR/agent, a stand-in for ssh (AGENT HOST CMD... runs CMD in
# that host's namespaces), with TCP over loopback only. NAME:DIR mounts a 64 KiB tmpfs on DIR
# in that host alone (a disk that fills up on one host). Needs root; exits 77 (skipped) where
# namespaces cannot be made.
hosts_up() {
    HOSTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mlpio-hosts.XXXXXX")
    local spec name small
    for spec in "$@"; do
        name=${spec%%:*}
        small=""
        [ "$name" != "$spec" ] && small=${spec#*:}
        : >"$HOSTS_DIR/$name.uts"
        : >"$HOSTS_DIR/$name.mnt"
        if [ -n "$small" ]; then mkdir -p "$small"; fi
        if ! unshare --uts="$HOSTS_DIR/$name.uts" --mount="$HOSTS_DIR/$name.mnt" sh -c \
            "hostname $name && { [ -z '$small' ] || mount -t tmpfs -o size=64k tmpfs '$small'; }" \
            2>"$HOSTS_DIR/error"; then
            echo "note: cannot make an emulated host (UTS and mount namespaces, as root):" \
                "$(cat "$HOSTS_DIR/error"); skipped"
            exit 77
        fi
        HOSTS_NAMES="${HOSTS_NAMES:-} $name"
    done
    cat >"$HOSTS_DIR/agent" <<AGENT
#!/bin/sh
# rsh agent of the emulated hosts: HOST CMD... runs CMD in HOST's namespaces.
host=\$1
shift
env=\$(cat "$HOSTS_DIR/\$host.env" 2>/dev/null || true)
exec nsenter --uts="$HOSTS_DIR/\$host.uts" --mount="$HOSTS_DIR/\$host.mnt" -- \\
    env \$env /bin/sh -c "\$*"
AGENT
    chmod +x "$HOSTS_DIR/agent"
}

# on_host NAME CMD...: CMD in host NAME's namespaces (its mounts: mount --bind to give it
# other files at a path).
on_host() {
    local name=$1
    shift
    nsenter --uts="$HOSTS_DIR/$name.uts" --mount="$HOSTS_DIR/$name.mnt" -- "$@"
}

# hosts_env NAME VAR=VALUE...: the environment of what runs on host NAME (its daemon and ranks).
hosts_env() {
    local name=$1
    shift
    echo "$@" >"$HOSTS_DIR/$name.env"
}

hosts_down() {
    local name
    for name in ${HOSTS_NAMES:-}; do
        umount "$HOSTS_DIR/$name.uts" "$HOSTS_DIR/$name.mnt" 2>/dev/null || true
    done
    rm -rf "$HOSTS_DIR"
    HOSTS_DIR=""
    HOSTS_NAMES=""
}

# run_hosts HOSTS NP ARGS...: mlpio on the emulated hosts (HOSTS as mpirun --host takes it:
# node1:2,node2:2), ranks across hosts over TCP on loopback; as run, under a time limit so that
# a hang fails the test instead of stalling it.
run_hosts() {
    local hosts=$1 np=$2
    shift 2
    local pass=(-x MLPIO_SHARE_DIR -x PATH) v
    for v in LSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS MLPIO_PROGRESS_INTERVAL; do
        if [ -n "${!v:-}" ]; then pass+=(-x "$v"); fi
    done
    set +e
    timeout -k 10 "${HOSTS_TIMEOUT:-120}" $MLPIO_MPIEXEC --host "$hosts" -np "$np" \
        --mca plm_rsh_agent "$HOSTS_DIR/agent" --mca oob_tcp_if_include lo \
        --mca btl_tcp_if_include lo --mca btl self,vader,tcp "${pass[@]}" \
        "$MLPIO_BIN" "$@" >"$OUT" 2>"$ERR"
    CODE=$?
    set -e
    [ "$CODE" -ne 124 ] && [ "$CODE" -ne 137 ] || fail "timed out (a hang): mlpio $*"
}

# expect_hosts CODE HOSTS NP ARGS...
expect_hosts() {
    local want=$1
    shift
    run_hosts "$@"
    [ "$CODE" -eq "$want" ] || fail "expected exit $want, got $CODE: mlpio ${*:3} on $1"
}

# ---- a Slurm of emulated hosts -------------------------------------------------------------
# slurm_up NAME...: munged, slurmctld and one slurmd per emulated host NAME (hosts_up), all on
# loopback ports of their own, state under $SLURM_DIR; exports SLURM_CONF for sbatch, srun and
# squeue, and waits until every node is idle. Each host gets its own PMIx client folder (a bind
# mount in its namespace), since the emulated hosts share /tmp. Exits 77 (skipped) without
# Slurm or munge (scripts/setup.sh installs them) or where the daemons cannot start.
slurm_up() {
    local d
    for d in slurmctld slurmd munged srun sbatch; do
        command -v "$d" >/dev/null || { echo "note: no $d (slurm-wlm, munge); skipped"; exit 77; }
    done
    hosts_up "$@"
    SLURM_DIR="$HOSTS_DIR/slurm"
    mkdir -p "$SLURM_DIR"/{state,log,munge,pmix}
    local base=$((20000 + ($$ % 1000) * 20)) i=0 nodes=""
    head -c 1024 /dev/urandom >"$SLURM_DIR/munge/key"
    chmod 400 "$SLURM_DIR/munge/key"
    munged -f --key-file="$SLURM_DIR/munge/key" --socket="$SLURM_DIR/munge/sock" \
        --pid-file="$SLURM_DIR/munge/pid" --log-file="$SLURM_DIR/munge/log" \
        --seed-file="$SLURM_DIR/munge/seed" || { echo "note: munged does not start; skipped"; exit 77; }
    cat >"$SLURM_DIR/slurm.conf" <<CONF
ClusterName=mlpiotest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$SLURM_DIR/munge/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.%n.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
CONF
    echo "PMIxCliTmpDirBase=$SLURM_DIR/pmix" >"$SLURM_DIR/mpi.conf"
    for d in ${HOSTS_NAMES}; do
        i=$((i + 1))
        echo "NodeName=$d NodeAddr=127.0.0.$((i + 1)) Port=$((base + 1 + i)) CPUs=2 RealMemory=1000 State=UNKNOWN" \
            >>"$SLURM_DIR/slurm.conf"
        nodes="${nodes:+$nodes,}$d"
    done
    echo "PartitionName=test Nodes=$nodes Default=YES MaxTime=INFINITE State=UP" >>"$SLURM_DIR/slurm.conf"
    export SLURM_CONF="$SLURM_DIR/slurm.conf"
    slurmctld -f "$SLURM_CONF" || { echo "note: slurmctld does not start; skipped"; exit 77; }
    for d in ${HOSTS_NAMES}; do
        mkdir -p "$SLURM_DIR/spool/$d" "$SLURM_DIR/pmix-$d"
        on_host "$d" mount --bind "$SLURM_DIR/pmix-$d" "$SLURM_DIR/pmix"
        on_host "$d" env SLURM_CONF="$SLURM_CONF" slurmd -f "$SLURM_CONF" -N "$d" ||
            { echo "note: slurmd does not start on $d; skipped"; exit 77; }
    done
    # Polled until every node answers (at most 60 s): the daemons register on their own time.
    local idle=0
    for i in $(seq 600); do
        idle=$(sinfo -h -o "%T %D" 2>/dev/null | awk '$1 == "idle" { n += $2 } END { print n + 0 }')
        [ "$idle" -eq "$(echo $HOSTS_NAMES | wc -w)" ] && return 0
        sleep 0.1
    done
    echo "note: the nodes never became idle ($idle): $(tail -n 3 "$SLURM_DIR"/log/*.log); skipped"
    exit 77
}

slurm_down() {
    local f pids="" p
    scancel --quiet --full -u root 2>/dev/null || true
    for f in "$SLURM_DIR"/slurmd.*.pid "$SLURM_DIR/slurmctld.pid" "$SLURM_DIR/munge/pid"; do
        [ -f "$f" ] && pids="$pids $(cat "$f")"
    done
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    # Gone when no pid answers any more (at most 10 s), then whatever is left is killed.
    for f in $(seq 100); do
        local alive=0
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    local d
    for d in ${HOSTS_NAMES:-}; do
        on_host "$d" umount "$SLURM_DIR/pmix" 2>/dev/null || true
    done
    SLURM_DIR=""
}
