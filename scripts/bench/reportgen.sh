#!/usr/bin/env bash
# reportgen and validate over a results tree of many runs: copies of three real small runs
# (checkpointing, training, kvcache) under distinct run ids, so that the scan, the rules and the
# report writers work as they would on a large submission. Prints the median time of each.
#
# Usage: scripts/bench/reportgen.sh [runs] [repeats]
#   defaults: 1000 runs, 5 repeats. MLPIO_BENCH_DIR: where the tree goes (default /tmp).
#   MLPIO_BIN: an mlpio binary to use instead of building build-bench.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
runs=${1:-1000}
repeats=${2:-5}
if [ -n "${MLPIO_BIN:-}" ]; then
    mlpio_mpi_env
    export OMPI_MCA_btl=self,vader
    mlpio=$MLPIO_BIN
else
    mlpio_bench_setup
fi
dir=$(mktemp -d "${MLPIO_BENCH_DIR:-/tmp}/mlpio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# Three real runs to copy, as small as they come.
mkdir -p "$dir/cache"
"$mlpio" checkpointing run --model llama3-8b --scale 0.0005 -ncw 2 -ncr 2 --quiet \
    --params checkpoint.time_between_checkpoints=0 -cf "$dir/ckpt" -rd "$dir/seed" >/dev/null
"$mlpio" training datagen --model unet3d --scale 0.0005 -dd "$dir/data" -rd "$dir/seed" --quiet \
    --params dataset.num_files_train=21 --allow-invalid-params >/dev/null
"$mlpio" training run --model unet3d --scale 0.0005 -dd "$dir/data" -rd "$dir/seed" --quiet \
    --params dataset.num_files_train=21 reader.computation_time=0.001 --allow-invalid-params \
    >/dev/null
"$mlpio" kvcache run --model tiny-1b --scale 0.01 -nu 4 -d 1 --cache-dir "$dir/cache" \
    -rd "$dir/seed" --allow-invalid-params --quiet >/dev/null
rm -rf "$dir/ckpt" "$dir/data" "$dir/cache"

# The tree: the templates in turn, each copy one second after the previous one.
python3 - "$dir/seed" "$dir/tree" "$runs" <<'PY'
import glob, json, os, sys, time
seed, tree, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
templates = []
for d in sorted(glob.glob(seed + "/*/*/run/*")):
    files = {f: open(os.path.join(d, f)).read() for f in os.listdir(d)}
    meta = [f for f in files if f.endswith("_metadata.json")][0]
    templates.append((d[len(seed) + 1:].split("/"), files, meta))
t0 = time.mktime((2026, 1, 1, 0, 0, 0, 0, 0, -1))
for i in range(n):
    (bench, model, command, old), files, meta = templates[i % len(templates)]
    new = time.strftime("%Y%m%d_%H%M%S", time.localtime(t0 + i))
    d = os.path.join(tree, bench, model, command, new)
    os.makedirs(d)
    for name, text in files.items():
        out = name.replace(old, new) if name == meta else name
        open(os.path.join(d, out), "w").write(text.replace(old, new))
PY
rm -rf "$dir/seed"
found=$(find "$dir/tree" -mindepth 4 -maxdepth 4 -type d | wc -l)
bytes=$(find "$dir/tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

# median SECONDS...: the middle value.
median() {
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# timed ARGS...: mlpio's wall time in seconds (its output discarded; any exit code is fine,
# validate exits 3 on these OPEN and INVALID runs).
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    "$mlpio" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

gen=() val=()
for _ in $(seq "$repeats"); do
    rm -rf "$dir/out"
    gen+=("$(timed reports reportgen -rd "$dir/tree" -o "$dir/out")")
    val+=("$(timed validate "$dir/tree")")
done
[ -s "$dir/out/results.json" ] || { echo "reportgen wrote no results.json" >&2; exit 1; }
echo "tree:      $found runs, $((bytes / 1024)) KiB of files"
echo "reports:   results.json $(($(stat -c %s "$dir/out/results.json") / 1024)) KiB," \
    "results.csv $(($(stat -c %s "$dir/out/results.csv") / 1024)) KiB," \
    "results.html $(($(stat -c %s "$dir/out/results.html") / 1024)) KiB"
printf 'reportgen: median %.3f s of %d (all: %s)\n' "$(median "${gen[@]}")" "$repeats" "${gen[*]}"
printf 'validate:  median %.3f s of %d (all: %s)\n' "$(median "${val[@]}")" "$repeats" "${val[*]}"
