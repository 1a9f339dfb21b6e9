#!/usr/bin/env bash
# KV-cache storage traffic: mlpio beside fio moving the same object sizes with fsync, CPU cost
# per GiB moved, the tier manager's share of the CPU, and peak memory as users grow.
#
# Usage: scripts/bench/kvcache.sh [ranks] [users] [seconds]
#   defaults: 2 ranks, 64 users per rank, 20 s, llama3.1-8b (16 MiB blocks), DRAM tiers 0.
#   MLPIO_BENCH_DIR: target directory (default /dev/shm).
#   MLPIO_BENCH_OPTION1=1 also runs CLOSED option 1 (200 users/rank, 300 s, 3 trials) at 2 ranks.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
ranks=${1:-2}
users=${2:-64}
secs=${3:-20}
mlpio_bench_setup fio
base=${MLPIO_BENCH_DIR:-/dev/shm}
dir=$(mktemp -d "$base/mlpio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
model=llama3.1-8b
conc=16

kv() { # kv RANKS ARGS...: one kvcache run; prints its run directory
    local np=$1
    shift
    mkdir -p "$dir/cache"
    mpirun -np "$np" "$mlpio" kvcache run --model "$model" --cache-dir "$dir/cache" \
        -rd "$dir/res" --allow-invalid-params --quiet "$@" >/dev/null
    ls -d "$dir"/res/kvcache/*/run/*/ | sort | tail -n 1
}

# Warm-up, untimed (first touch of guest memory is dear on a VM).
kv "$ranks" -nu 8 -d 3 --storage-capacity-gb 2 >/dev/null
rm -rf "$dir/res"

run=$(kv "$ranks" -nu "$users" -d "$secs" --storage-capacity-gb 4 --max-concurrent-allocs $conc \
    --seed 1)
read -r wbytes rbytes wall block cpu_gib mgr rss <<<"$(python3 - "$run" <<'PY'
import glob, json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
t = s["trials"][0]
print(t["storage"]["write_bytes"], t["storage"]["read_bytes"], t["wall_seconds"],
      int(m["facts"]["block_bytes"]), t["cpu"]["seconds_per_GiB_moved"],
      t["cpu"]["manager_seconds"] / max(t["cpu"]["seconds"], 1e-9), t["peak_rss_bytes_worst_rank"])
PY
)"
rm -rf "$dir/res" "$dir/cache"

# fio, the same objects: per rank $conc jobs writing whole objects of $block bytes in 4 MiB
# calls with an fsync per object, then reading them back after dropping their cached pages.
# Its figure for mlpio's mix is the time fio needs to move mlpio's written and read bytes.
objs=$((2 * 1024 * 1024 * 1024 / block / conc))
[ "$objs" -ge 1 ] || objs=1
fio_common=(--directory="$dir/fio" --bs=4M --filesize="$block" --nrfiles="$objs"
    --numjobs=$((conc * ranks)) --group_reporting --output-format=json --fallocate=none
    --file_service_type=sequential --ioengine=psync)
mkdir -p "$dir/fio"
fio --name=w --rw=write --fsync_on_close=1 --refill_buffers "${fio_common[@]}" >"$dir/w.json"
fio --name=r --rw=read --invalidate=1 "${fio_common[@]}" >"$dir/r.json"
rm -rf "$dir/fio"
# The CPU floor: dd copying 1 GiB in and out of this file system in 4 MiB calls, with fsync
# (user + system time from time(1)): what moving bytes through it costs any tool, before
# generating or checking a byte of data.
mkdir -p "$dir/fio"
/usr/bin/time -f "%U %S" -o "$dir/w.cpu" dd if=/dev/zero of="$dir/fio/floor" bs=4M count=256 \
    conv=fsync status=none
/usr/bin/time -f "%U %S" -o "$dir/r.cpu" dd if="$dir/fio/floor" of=/dev/null bs=4M status=none
python3 - "$dir/w.json" "$dir/r.json" "$wbytes" "$rbytes" "$wall" "$cpu_gib" "$mgr" "$rss" \
    "$ranks" "$users" "$dir/w.cpu" "$dir/r.cpu" <<'PY'
import json, sys
def cpu(path):
    u, s = map(float, open(path).read().split()[-2:])
    return u + s  # for 1 GiB
w = json.load(open(sys.argv[1]))["jobs"][0]["write"]["bw_bytes"]
r = json.load(open(sys.argv[2]))["jobs"][0]["read"]["bw_bytes"]
wb, rb, wall = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
mlpio_bw = (wb + rb) / wall
fio_time = wb / w + rb / r
fio_bw = (wb + rb) / fio_time
print(f"ranks {sys.argv[9]}, users/rank {sys.argv[10]}: mlpio moved {wb/2**30:.2f} GiB written + "
      f"{rb/2**30:.2f} GiB read in {wall:.1f} s")
print(f"  storage bandwidth  mlpio {mlpio_bw/1e9:.3f} GB/s   fio (same mix) {fio_bw/1e9:.3f} GB/s"
      f"   ratio {mlpio_bw/fio_bw:.3f}")
print(f"  fio alone: write {w/1e9:.3f} GB/s, read {r/1e9:.3f} GB/s")
cw, cr = cpu(sys.argv[11]), cpu(sys.argv[12])
fio_cpu = (cw * wb + cr * rb) / (wb + rb)
print(f"  CPU floor (dd): write {cw:.3f}, read {cr:.3f}, for mlpio's mix {fio_cpu:.3f} CPU-s per GiB")
print(f"  CPU: {float(sys.argv[6]):.3f} CPU-s per GiB moved; tier manager "
      f"{100*float(sys.argv[7]):.2f} % of the CPU; peak RSS {float(sys.argv[8])/2**20:.0f} MiB")
PY
rm -rf "$dir/fio"

# Memory as users grow (DRAM tiers 0): peak RSS per rank must stay flat.
for u in 10 100 1000; do
    run=$(kv 1 -nu "$u" -d 10 --storage-capacity-gb 2 --model tiny-1b)
    python3 - "$run" "$u" <<'PY'
import json, sys
t = json.load(open(sys.argv[1] + "/summary.json"))["trials"][0]
lag = t["arrival_lag"]
print(f"  {sys.argv[2]:>5} users: peak RSS {t['peak_rss_bytes_worst_rank']/2**20:.0f} MiB, "
      f"{t['requests']['completed']} requests, arrival lag p99 {1e3*lag['p99']:.2f} ms "
      f"max {1e3*lag['max']:.2f} ms, manager {100*t['cpu']['manager_seconds']/max(t['cpu']['seconds'],1e-9):.2f} % CPU")
PY
    rm -rf "$dir/res" "$dir/cache"
done

if [ "${MLPIO_BENCH_OPTION1:-0}" = 1 ]; then
    mkdir -p "$dir/cache"
    start=$(date +%s)
    mpirun -np 2 "$mlpio" kvcache run --option 1 --seed 42 --cache-dir "$dir/cache" \
        -rd "$dir/res" --quiet
    echo "CLOSED option 1 at 2 ranks: finished in $(( $(date +%s) - start )) s"
    cat "$(ls -d "$dir"/res/kvcache/*/run/*/ | tail -n 1)/report.txt"
fi
