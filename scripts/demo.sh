#!/usr/bin/env bash
# Set up, build and run a small checkpointing benchmark (OPEN, scaled down) on this machine,
# then show where its report is. Usage: bash scripts/demo.sh [ranks]
set -euo pipefail
source "$(dirname "$0")/common.sh"
ranks=${1:-2}
build="$MLPIO_ROOT/build"
mkdir -p "$build"
mlpio_build "$build" -DCMAKE_BUILD_TYPE=Release
mlpio_mpi_env

results=${MLPIO_DEMO_RESULTS:-$MLPIO_ROOT/mlpio_results}
data=${MLPIO_DEMO_DATA:-$MLPIO_ROOT/mlpio_data}
echo "demo: llama3-8b checkpoints at scale 0.001 (about 13 MiB per rank), $ranks ranks"
mpirun -np "$ranks" "$build/app/mlpio" checkpointing run --model llama3-8b --open \
    --scale 0.001 --params checkpoint.time_between_checkpoints=0 \
    --checkpoint-folder "$data/checkpoints" --results-dir "$results" --verify
run=$(ls -d "$results"/checkpointing/llama3-8b/run/*/ | sort | tail -n 1)
echo
echo "demo: report:   ${run}report.txt"
echo "demo: summary:  ${run}summary.json"
echo "demo: metadata: $(ls "$run"*_metadata.json)"
