#!/usr/bin/env bash
# Training, the KV cache, dedup-check and the reports across emulated hosts (lib.sh hosts_up):
# datasize from the measured hosts (memory summed over unique hosts), a dataset generated on
# one layout of hosts and read on another, a KV-cache run over two hosts, dedup-check over files
# that ranks on different hosts read, and validate/reportgen over what they wrote.
source "$(dirname "$0")/lib.sh"
apart_dir 512 # data on another file system than the results (Rules.md 3.4.2)
hosts_up node1 node2 node3

# datasize from the measured hosts: two hosts hold twice the memory of one.
expect 0 1 training datasize --model cosmoflow
cp "$OUT" "$WORK/one-host"
expect_hosts 0 node1:2,node2:2 4 training datasize --model cosmoflow
python3 - "$WORK/one-host" "$OUT" <<'PY' || fail "datasize from the measured hosts"
import re, sys
def figures(path):
    t = open(path).read()
    mem = float(re.search(r"([0-9.]+) GiB of client memory", t).group(1))
    files = int(re.search(r"files for 5x memory: +(\d+)", t).group(1))
    return mem, files
(m1, f1), (m2, f2) = figures(sys.argv[1]), figures(sys.argv[2])
assert abs(m2 - 2 * m1) < 0.01 * m1, (m1, m2)
assert abs(f2 - 2 * f1) <= 2, (f1, f2)
PY

# A dataset made by 2 hosts x 2 ranks, read by 3 hosts with 1 + 2 + 1 ranks.
common=(--model unet3d --scale 0.0005 -dd "$APART/u3d" -rd "$WORK/res" --seed 9
    --params dataset.num_files_train=84)
expect_hosts 0 node1:2,node2:2 4 training datagen "${common[@]}"
[ "$(find "$APART/u3d/train" -type f | wc -l)" -eq 84 ] || fail "datagen: file count"
expect_hosts 0 node1:1,node2:2,node3:1 4 training run "${common[@]}" reader.computation_time=0.01 \
    train.epochs=2 --verify --allow-invalid-params
python3 - "$(last_run "$WORK/res")" <<'PY' || fail "training run over 3 hosts"
import glob, json, sys
d = sys.argv[1]
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
c = m["cluster"]
assert [(h["hostname"], h["ranks"]) for h in c["hosts"]] == [("node1", 1), ("node2", 2), ("node3", 1)], c
assert m["facts"]["accelerators"] == 4, m["facts"]
s = json.load(open(d + "/summary.json"))
assert s["num_hosts"] == 3 and s["num_accelerators"] == 4, s
assert s["epochs"] == 2, s.get("epochs")
PY

# dedup-check over the dataset, from ranks on two hosts: every block distinct.
expect_hosts 0 node1:1,node2:1 2 dedup-check --json "$APART/u3d/train"
python3 - "$OUT" <<'PY' || fail "dedup-check across hosts"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["duplicate_blocks"] == 0 and r["blocks"] > 0, r
PY

# The KV cache over 2 hosts x 2 ranks: each rank its own folder, the figures summed.
mkdir -p "$APART/kv"
expect_hosts 0 node1:2,node2:2 4 kvcache run --model tiny-1b --scale 0.01 --storage-capacity-gb 1 \
    --allow-invalid-params -nu 3 -d 1.5 --cache-dir "$APART/kv" -rd "$WORK/res" --keep-cache
python3 - "$(ls -d "$WORK"/res/kvcache/*/run/*/ | tail -n 1)" "$APART/kv" <<'PY' || fail "kvcache over 2 hosts"
import glob, json, sys
d, kv = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
assert s["ranks"] == 4 and m["cluster"]["num_hosts"] == 2, (s["ranks"], m["cluster"])
assert len(glob.glob(kv + "/mlpio_*/rank_*")) == 4
assert s["trials"][0]["requests"]["completed"] > 0
PY

# validate and reportgen over the runs of the three layouts.
expect 3 1 validate "$WORK/res"
expect 0 1 reports reportgen -rd "$WORK/res" -o "$WORK/report"
python3 - "$WORK/report/results.json" <<'PY' || fail "reportgen over the multi-host runs"
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted((r["benchmark"], r["command"], r["figures"].get("num_hosts")) for r in d["runs"])
assert got == [("kvcache", "run", 2), ("training", "datagen", 2), ("training", "run", 3)], got
PY
# Every host must run the same definitions: node2 sees one file changed (a bind mount of its
# own), and every rank refuses before anything is written, naming node2.
cp -rL "$MLPIO_SHARE_DIR" "$WORK/share"
cp -rL "$MLPIO_SHARE_DIR" "$WORK/share2"
sed -i 's/"num_users": [0-9]*/"num_users": 11/' "$WORK/share2/kvcache/tiny-1b.json"
! cmp -s "$WORK/share/kvcache/tiny-1b.json" "$WORK/share2/kvcache/tiny-1b.json" ||
    fail "the copy was not changed"
on_host node2 mount --bind "$WORK/share2" "$WORK/share"
MLPIO_SHARE_DIR="$WORK/share" expect_hosts 2 node1:1,node2:1 2 kvcache run --model tiny-1b \
    --scale 0.01 --allow-invalid-params -nu 3 -d 1.5 --cache-dir "$APART/kv" -rd "$WORK/res-other"
says "host node2 has other workload definitions or rules ($WORK/share) than rank 0 on host node1"
[ ! -e "$WORK/res-other" ] || fail "a refused run wrote its results directory"
on_host node2 umount "$WORK/share"

# ... and the same mlpio: node2 reports another version (the test seam of app/sameness.h).
hosts_env node2 MLPIO_TEST_AS_VERSION=0.0.9
expect_hosts 2 node1:1,node2:1 2 checkpointing datasize
says "host node2 runs mlpio 0.0.9"
says "every host must run the same mlpio"
hosts_env node2

# A host the launcher cannot reach: mpirun says so and returns; nothing hangs.
run_hosts node1:1,nowhere:1 2 checkpointing datasize
[ "$CODE" -ne 0 ] || fail "a run on an unreachable host succeeded"
echo "ok"
