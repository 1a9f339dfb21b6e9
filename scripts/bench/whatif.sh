#!/usr/bin/env bash
# Time of `mpirun -np 4 mlpio checkpointing run --what-if`: launch, config, cluster
# collection, rules and the plan, without I/O. Target: under 1 s. Prints the median of 7.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
mlpio_bench_setup
ranks=${1:-4}
times=()
for _ in $(seq 7); do
    start=$(date +%s.%N)
    mpirun -np "$ranks" "$mlpio" checkpointing run --model llama3-8b --what-if \
        -cf /tmp/mlpio-whatif-ck -rd /tmp/mlpio-whatif-res >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
done
[ ! -e /tmp/mlpio-whatif-ck ] && [ ! -e /tmp/mlpio-whatif-res ] || echo "warning: --what-if wrote files" >&2
python3 -c 'import statistics,sys; v=sorted(map(float,sys.argv[2:])); print(f"what-if, {sys.argv[1]} ranks: median {statistics.median(v):.3f} s (min {v[0]:.3f}, max {v[-1]:.3f}) over {len(v)} runs")' "$ranks" "${times[@]}"
