#!/usr/bin/env bash
# KV cache: every bad input of the issue gets a clear error, and nothing is lost.
source "$(dirname "$0")/lib.sh"
apart_dir 16 # results apart from the cache dir, as CLOSED wants (Rules.md 6.4.1)

base=(--model tiny-1b --scale 0.01 --allow-invalid-params -rd "$WORK/res")
small=("${base[@]}" -nu 2 -d 1)
# The same without a results dir, for cases that name their own.
own_rd=(--model tiny-1b --scale 0.01 --allow-invalid-params -nu 2 -d 1)
mkdir -p "$WORK/cache"

expect 2 1 kvcache run --model llama9 --cache-dir "$WORK/cache"
says "llama3.1-8b"
expect 2 1 kvcache run "${base[@]}" -d 1 -nu 0 --cache-dir "$WORK/cache"
says "kvcache.num_users"
expect 2 1 kvcache run "${base[@]}" -nu 2 -d -5 --cache-dir "$WORK/cache"
says "kvcache.duration"
expect 2 1 kvcache run "${base[@]}" -nu 2 -d 0 --cache-dir "$WORK/cache"
says "kvcache.duration"

# A cache dir that is not there is named, with the command that creates it.
expect 2 2 kvcache run "${small[@]}" --cache-dir "$WORK/nowhere"
says "cache dir $WORK/nowhere does not exist"
says "mkdir -p"
[ ! -e "$WORK/nowhere" ] || fail "the missing cache dir was created"

# DRAM budgets larger than the host are refused with the figures.
expect 2 2 kvcache run "${small[@]}" --cache-dir "$WORK/cache" --cpu-mem-gb 100000
says "GiB available"
says "--cpu-mem-gb"

# A CLOSED option with a flag it fixes is refused; the same value is fine (what-if).
expect 2 1 kvcache run --option 1 -nu 5 --cache-dir "$WORK/cache"
says "--option 1 sets kvcache.num_users=200"
expect 2 1 kvcache run --option 3 --model llama3.1-8b --cache-dir "$WORK/cache"
says "runs model llama3.1-70b-instruct"
expect 0 1 kvcache run --option 2 -nu 100 --seed 42 --what-if --cache-dir "$WORK/cache" -rd "$APART/res"
says "CLOSED"
# --option all: the three options in turn, the edition's 90 s between them; each CLOSED, and
# each run the reference's I/O model.
expect 0 1 kvcache run --option all --seed 42 --what-if --cache-dir "$WORK/cache" -rd "$APART/res"
says "--option all: run 1 of 3 (--option 1)"
says "what-if: would wait 90 s before --option 2"
says "what-if: would wait 90 s before --option 3"
[ "$(grep -c "verdict (before the run): CLOSED" "$OUT")" -eq 3 ] || fail "not three CLOSED options"
[ "$(grep -c "reference model" "$OUT")" -eq 3 ] || fail "an option without the reference model"
expect 2 1 kvcache run --option all --model llama3.1-8b --what-if --cache-dir "$WORK/cache"
says "--option all runs each option with its own model"
# The block model is OPEN: its figures are not the reference's.
expect 2 1 kvcache run --option 1 --seed 42 --what-if --io-model blocks --closed \
    --cache-dir "$WORK/cache" -rd "$APART/res"
says "--option 1 sets kvcache.io_model=reference, but the command line sets it to blocks"
expect 3 1 kvcache run --model llama3.1-8b -nu 200 -d 300 --gpu-mem-gb 0 --cpu-mem-gb 0 \
    -p kvcache.max_concurrent_allocs=16 -p kvcache.trials=3 --seed 42 --io-model blocks \
    --what-if --closed --cache-dir "$WORK/cache" -rd "$APART/res"
says "OPEN    kvcache.io_model: the blocks model moves 128-token blocks"
says "run with --io-model reference"

# Rules: a 10 s run is INVALID and refused without --allow-invalid-params.
expect 3 1 kvcache run --model tiny-1b -d 10 --cache-dir "$WORK/cache" -rd "$WORK/res"
says "kvcache.duration"

# A full cache dir: ENOSPC names the object, the run stops cleanly, partial figures recorded.
# Mounts made here are undone on every exit, also when a check fails half-way.
trap 'umount "$WORK/full" "$WORK/ro" 2>/dev/null || true; e2e_cleanup' EXIT
if mkdir -p "$WORK/full" && mount -t tmpfs -o size=2m tmpfs "$WORK/full" 2>/dev/null; then
    expect 4 2 kvcache run --model tiny-1b --scale 0.05 -nu 8 -d 5 --allow-invalid-params \
        --cache-dir "$WORK/full" -rd "$WORK/res-full" --storage-capacity-gb 1
    says "No space left on device"
    says ".kv"
    d=$(last_run "$WORK/res-full")
    failed_run "$d" 4 '
s = json.load(open(d + "/summary.json"))
t = s["trials"][0]
assert t["stopped_early"] is True, t
assert t["tiers"]["storage"]["bytes_written"] > 0, t["tiers"]["storage"]
'
    [ -z "$(ls -A "$WORK/full")" ] || fail "objects left after the failed run: $(ls -A "$WORK/full")"
    umount "$WORK/full"
else
    echo "note: cannot mount a small tmpfs here; ENOSPC is covered by unit.test_kv_tier"
fi

# An unwritable cache dir (a read-only mount: root ignores permission bits).
if mkdir -p "$WORK/ro" && mount -t tmpfs -o ro,size=1m tmpfs "$WORK/ro" 2>/dev/null; then
    expect 4 1 kvcache run "${small[@]}" --cache-dir "$WORK/ro"
    says "not writable"
    umount "$WORK/ro"
elif [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$WORK/ro2" && chmod 555 "$WORK/ro2"
    expect 4 1 kvcache run "${small[@]}" --cache-dir "$WORK/ro2"
    says "not writable"
fi
# no_run DIR: a refusal before the run left no run directory under the results dir DIR.
no_run() {
    [ -z "$(find "$1" -name '*_metadata.json' 2>/dev/null)" ] || fail "a run directory was created in $1"
}

# Refused before the run: nothing in the results tree.
expect 2 2 kvcache run "${own_rd[@]}" --cache-dir "$WORK/nowhere" -rd "$WORK/res_pre"
says "cache dir $WORK/nowhere does not exist"
no_run "$WORK/res_pre"
# A regular file as cache dir is not a directory (and not a permission problem).
touch "$WORK/plain"
expect 2 1 kvcache run "${own_rd[@]}" --cache-dir "$WORK/plain" -rd "$WORK/res_pre"
says "cache dir $WORK/plain is not a directory"
says "found a regular file"
grep -qF "EACCES" "$OUT" "$ERR" && fail "a regular file reported as a permission problem"
no_run "$WORK/res_pre"
# A cache dir inside the results dir, even with --allow-invalid-params.
mkdir -p "$WORK/res_in/kv"
expect 2 1 kvcache run "${own_rd[@]}" --cache-dir "$WORK/res_in/kv" -rd "$WORK/res_in"
says "the cache dir $WORK/res_in/kv is inside the results directory $WORK/res_in"
no_run "$WORK/res_in"
echo "ok"
