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
expect 2 1
says "Usage"
expect 2 1 dedup-check
says "at least one file"
expect 4 2 dedup-check "$WORK/missing"
says "$WORK/missing"
echo "ok"
