#!/usr/bin/env bash
# KV cache end to end at 1, 2 and 4 ranks: summary figures consistent with each other and with
# the files left in the cache, no 4 KiB block repeated across ranks, same seed -> same bytes,
# and the verdicts of the rules.
source "$(dirname "$0")/lib.sh"

base=(--model tiny-1b --scale 0.01 --storage-capacity-gb 1 --allow-invalid-params)
small=("${base[@]}" -nu 4 -d 1.5)
for np in 1 2 4; do
    cache="$WORK/cache-$np" res="$WORK/res-$np"
    mkdir -p "$cache"
    expect 0 "$np" kvcache run "${small[@]}" --cache-dir "$cache" -rd "$res" --seed 7 \
        --keep-cache --verify --cpu-mem-gb 0.001
    python3 - "$(last_run "$res")" "$np" "$cache" <<'PY' || fail "kvcache summary at $np ranks"
import glob, json, os, sys
d, ranks, cache = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = json.load(open(d + "/summary.json"))
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
assert s["ranks"] == ranks and s["users_per_rank"] == 4, s
# 1.5 s trials are INVALID (< 30 s); the run went ahead with --allow-invalid-params
assert m["verdict"]["verdict"] == "INVALID", m["verdict"]
assert "kvcache.duration" in [i["parameter"] for i in m["verdict"]["issues"]]
t = s["trials"]
assert len(t) == 1 and s["aggregate"]["trials"] == 1
t = t[0]
assert t["requests"]["completed"] > 0, t["requests"]
assert t["latency"]["count"] == t["requests"]["completed"]
# the classes count unfinished requests too (at their age at the drain deadline)
assert sum(q["requests"] for q in t["qos"].values()) == (
    t["requests"]["completed"] + t["requests"]["unfinished"])
# tokens/s is tokens over wall time, not over summed latency
tps = (t["prefill_tokens"] + t["decode_tokens"]) / t["wall_seconds"]
assert abs(t["tokens_per_second_wall"] - tps) < 1e-6 * tps, (t["tokens_per_second_wall"], tps)
assert t["wall_seconds"] >= 1.5
st = t["tiers"]["storage"]
assert t["storage"]["write_bytes"] == st["bytes_written"] > 0
assert abs(t["storage"]["write_bandwidth_GBps"] - st["bytes_written"] / t["wall_seconds"] / 1e9) < 1e-9
# the CPU tier (1 MiB per rank) takes new blocks first and demotes to storage
cpu = t["tiers"]["cpu"]
assert cpu["capacity_bytes"] > 0 and cpu["bytes_written"] > 0, cpu
assert st["demotions"] > 0, st
assert t["tiers"]["gpu"]["capacity_bytes"] == 0
assert 0 <= t["cache_hit_rate"] <= 1
assert t["blocks"]["reused"] <= t["blocks"]["needed"]
# the files left in the cache (--keep-cache) are the storage tier's blocks
files = [f for f in glob.glob(cache + "/mlpio_*/rank_*/trial_0/**/*.kv", recursive=True)]
assert len(files) == st["blocks"], (len(files), st["blocks"])
assert sum(os.path.getsize(f) for f in files) == st["used_bytes"]
assert len(glob.glob(cache + "/mlpio_*/rank_*")) == ranks
for q in ("interactive", "responsive", "batch"):
    assert len(t["qos"][q]["targets"]) == 4
# the latency profile judges the storage and each class that had requests
assert [c["name"] for c in s["aggregate"]["checks"]] == [
    "requests_completed", "storage_write_p95_seconds", "storage_read_p95_seconds", "cache_hit_rate"] + [
    "latency_targets_" + q for q in ("interactive", "responsive", "batch") if t["qos"][q]["requests"]]
names = [json.loads(l)["name"] for l in open(d + "/events.jsonl")]
assert names.count("trial_begin") == 1 and names.count("trial_end") == 1 and names[-1] == "finish", names
assert s["cache_policy"] in ("fadvise", "odirect"), s["cache_policy"]
PY
    expect 0 2 dedup-check --json "$cache"
    python3 - "$OUT" <<'PY' || fail "blocks repeated in the cache of $np ranks"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["blocks"] > 100 and r["duplicate_blocks"] == 0 and r["zero_blocks"] == 0, r
PY
done

# Same seed, same bytes: blocks both runs stored are identical; another seed changes them.
for s in a b; do
    mkdir -p "$WORK/seed-$s"
done
expect 0 2 kvcache run "${small[@]}" --cache-dir "$WORK/seed-a" -rd "$WORK/res-s" --seed 11 --keep-cache
expect 0 2 kvcache run "${small[@]}" --cache-dir "$WORK/seed-b" -rd "$WORK/res-s" --seed 11 --keep-cache
mkdir -p "$WORK/seed-c"
expect 0 2 kvcache run "${small[@]}" --cache-dir "$WORK/seed-c" -rd "$WORK/res-s" --seed 12 --keep-cache
python3 - "$WORK" <<'PY' || fail "same seed did not write the same bytes"
import glob, os, sys
w = sys.argv[1]
def blocks(d):
    out = {}
    for f in glob.glob(d + "/mlpio_*/rank_*/trial_0/**/*.kv", recursive=True):
        rank = f.split("/rank_")[1].split("/")[0]
        out[(rank, os.path.basename(f))] = open(f, "rb").read()
    return out
a, b, c = blocks(w + "/seed-a"), blocks(w + "/seed-b"), blocks(w + "/seed-c")
common = set(a) & set(b)
assert len(common) > 10, len(common)
assert all(a[k] == b[k] for k in common)
other = set(a) & set(c)
assert len(other) > 10 and all(a[k] != c[k] for k in other)
PY

# Without --keep-cache the run removes what it created, and only that.
mkdir -p "$WORK/clean" && touch "$WORK/clean/mine"
expect 0 2 kvcache run "${small[@]}" --cache-dir "$WORK/clean" -rd "$WORK/res-c"
[ "$(ls -A "$WORK/clean")" = "mine" ] || fail "cache dir not cleaned: $(ls -A "$WORK/clean")"

# The segment layout and the prefix-aware eviction run end to end (OPEN) and verify.
mkdir -p "$WORK/seg"
expect 0 2 kvcache run "${small[@]}" --cache-dir "$WORK/seg" -rd "$WORK/res-seg" --verify \
    --keep-cache --params cache.layout=segments cache.eviction=prefix
ls "$WORK"/seg/mlpio_*/rank_00001/trial_0/*.kvlog >/dev/null 2>&1 || fail "no segment files"

# Preconditioning is untimed: its blocks are in the storage tier but not in the trial's writes.
mkdir -p "$WORK/pre"
expect 0 1 kvcache run "${base[@]}" -nu 1 -d 0.5 --precondition --cache-dir "$WORK/pre" \
    -rd "$WORK/res-pre" --params cache.precondition_size=1M
python3 - "$(last_run "$WORK/res-pre")" <<'PY' || fail "precondition counted in the figures"
import glob, json, math, sys
d = sys.argv[1]
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
st = json.load(open(d + "/summary.json"))["trials"][0]["tiers"]["storage"]
block = m["facts"]["block_bytes"]
pre = math.ceil(2**20 / block) * block
assert st["evictions"] == 0 and st["used_bytes"] - st["bytes_written"] == pre, (st, pre)
PY

# Several trials and generation sleeps.
mkdir -p "$WORK/tr"
MLPIO_PROGRESS_INTERVAL=0.2 expect 0 1 kvcache run "${base[@]}" -nu 4 -d 1 --trials 2 --generation-mode fast \
    --cache-dir "$WORK/tr" -rd "$WORK/res-tr"
python3 - "$(last_run "$WORK/res-tr")" <<'PY' || fail "trials"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
t = s["trials"]
assert len(t) == 2 and s["aggregate"]["trials"] == 2
mean = sum(x["tokens_per_second_wall"] for x in t) / 2
assert abs(s["aggregate"]["tokens_per_second_wall"] - mean) < 1e-6 * mean
p95 = max(x["storage"]["read_p95_worst_rank"] for x in t)
assert s["aggregate"]["storage_read_p95"] == p95
# progress events count the trial's seconds and, beside them, the requests completed
ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
p = [e["context"] for e in ev if e["name"] == "progress"]
assert {c["phase"] for c in p} == {"trial 1/2", "trial 2/2"}, p
last = [c for c in p if c["phase"] == "trial 2/2"][-1]
assert last["count"]["name"] == "requests" and last["count"]["value"] == t[1]["requests"]["completed"], (last, t[1]["requests"])
PY
# The reference's I/O and load model at 1, 2 and 4 ranks: one object per completed request
# on each rank, of 128 + tokens x bytes per token (scaled), and the throughputs counted as the
# reference counts them, summed over ranks.
for np in 1 2 4; do
    cache="$WORK/ref-$np"
    mkdir -p "$cache"
    expect 0 "$np" kvcache run "${base[@]}" -nu 3 -d 1.5 --io-model reference --seed 42 \
        --keep-cache --verify -p kvcache.drain_timeout=60 --cache-dir "$cache" -rd "$WORK/res-ref"
    says "as the reference counts:"
    python3 - "$(last_run "$WORK/res-ref")" "$np" "$cache" <<'PY' || fail "reference model at $np ranks"
import glob, json, os, sys
d, ranks, cache = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = json.load(open(d + "/summary.json"))
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
assert s["io_model"] == "reference" and m["config"]["kvcache"]["io_model"] == "reference"
t = s["trials"][0]
assert t["io_model"] == "reference"
r, req = t["reference"], t["requests"]
assert req["completed"] > 0 and req["unfinished"] == 0, req
assert abs(r["avg_throughput_tokens_per_sec"] - t["decode_tokens"] / 1.5) < 1e-6 * r["avg_throughput_tokens_per_sec"]
assert r["storage_throughput_tokens_per_sec"] > 0 and r["total_storage_io_seconds"] > 0
assert r["storage_io_latency"]["count"] == req["completed"]
a = s["aggregate"]
assert abs(a["avg_throughput_tokens_per_sec"] - r["avg_throughput_tokens_per_sec"]) < 1e-9
# Every completed request wrote one object: its files, one tree per rank.
files = [os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs]
ranks_seen = {p.split("/rank_")[1].split("/")[0] for p in files}
assert len(ranks_seen) == ranks, ranks_seen
assert len(files) == req["completed"], (len(files), req)
assert t["storage"]["write_bytes"] == sum(os.path.getsize(p) for p in files)
bpt = 12 * 4 * 128 * 2 * 2  # tiny-1b: layers x kv heads x head dim x (K, V) x fp16
for p in files:  # ceil((128 + tokens x bpt) x 0.01) for some whole number of tokens
    size = os.path.getsize(p)
    tokens = round((size / 0.01 - 128) / bpt)
    assert abs(-(-(128 + tokens * bpt) * 0.01 // 1) - size) <= 1, (p, size)
PY
done
echo "ok"
