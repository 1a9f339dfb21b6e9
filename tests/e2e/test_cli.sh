#!/usr/bin/env bash
# Help at every level, version, and the tools' usage errors.
source "$(dirname "$0")/lib.sh"
expect 0 1 --help
says "checkpointing"
says "dedup-check"
says "Exit codes"
expect 0 1 help checkpointing
says "datasize"
expect 0 1 checkpointing --help
says "configview"
expect 0 1 checkpointing run --help
says "--num-checkpoints-write, -ncw"
says "checkpoint.transfer_size"
says "130"
expect 0 1 version
says "mlpio 0."
# The build lists its backends and dataset formats; an unknown --io-api names every one built
# in, and one left out of the build (hdf5) says how to build it.
for b in posix mpiio null; do
    built_in backends "$b" || fail "mlpio version does not list the $b backend"
done
for f in npz tfrecord; do
    built_in "dataset formats" "$f" || fail "mlpio version does not list the $f format"
done
backends=$("$MLPIO_BIN" version | sed -n 's/^  backends: //p')
expect 2 1 checkpointing run --io-api bogus -rd "$WORK/res"
says "--io-api: unknown backend 'bogus'"
for b in ${backends//|/ }; do
    grep -qw -- "$b" "$ERR" || fail "the --io-api error does not name the $b backend"
done
if ! built_in backends hdf5; then
    expect 2 1 checkpointing run --io-api hdf5 -rd "$WORK/res"
    says "--io-api: the hdf5 backend is known but was not built into this mlpio"
    says "rebuild mlpio with -DMLPIO_HDF5=ON and libhdf5-openmpi-dev"
fi
# A backend refuses the options it cannot honour, before anything is created.
expect 2 1 checkpointing run --odirect --io-api mpiio -rd "$WORK/res"
says "--odirect is not available with --io-api mpiio"
says "--io-api posix"
expect 2 1
says "Usage"
expect 2 1 dedup-check
says "at least one file"
expect 4 2 dedup-check "$WORK/missing"
says "$WORK/missing"

# Usage errors exit 2, before anything is created, and say which option was wrong.
cd "$WORK"
expect 2 1 checkpointing run -ncw abc -rd "$WORK/res"
says "-ncw/--num-checkpoints-write: checkpoint.num_checkpoints_write: expected an integer from 0 to 1000, got 'abc'"
expect 2 2 kvcache run -nu 0 -rd "$WORK/res"
says "-nu/--num-users: kvcache.num_users: expected an integer from 1 to 1000000, got '0'"
[ "$(cat "$OUT" "$ERR" | grep -c "expected an integer")" -eq 1 ] || fail "the error is not printed once"
expect 2 1 kvcache run --cpu-mem-gb lots -rd "$WORK/res"
says "--cpu-mem-gb: cache.cpu_mem_gb: expected a number"
expect 2 1 training run --data-dir "" -rd "$WORK/res"
says "--data-dir: dataset.data_folder: expected a non-empty string, got ''"
expect 2 1 checkpointing run -ncw 1 -ncw 3 -rd "$WORK/res"
says "option --num-checkpoints-write is given twice: -ncw 1, then -ncw 3"
expect 2 1 checkpointing run -ncw 1 --params checkpoint.num_checkpoints_write=3 -rd "$WORK/res"
says "checkpoint.num_checkpoints_write is set twice"
expect 2 1 checkpointing datasize --verify
says "option '--verify' is not used by 'mlpio checkpointing datasize'"
expect 2 1 kvcache run -cm 64 -rd "$WORK/res"
says "no kvcache command uses it"
[ ! -e "$WORK/res" ] || fail "a usage error created the results directory"

# Per-command help: defaults, only the options the command uses, examples.
expect 0 1 checkpointing datasize --help
says "default 10"
says "Examples:"
grep -qF -- "--verify" "$OUT" && fail "datasize help lists --verify"
expect 0 1 kvcache run --help
says "default 60 s"
says "<results-dir>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>/"
expect 0 1 dedup-check --help
says "Exit codes"
says "--json"
echo "ok"
