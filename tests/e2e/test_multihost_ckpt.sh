#!/usr/bin/env bash
# Checkpointing across emulated hosts (lib.sh hosts_up: UTS namespaces, Open MPI's rsh agent,
# TCP on loopback): the cluster record groups ranks by their real host, per-host rules judge
# that grouping, every rank writes and reads its own files, and a disk that fills up on one host
# alone fails every rank on every host with the I/O exit code, recorded in the run directory,
# without a hang.
source "$(dirname "$0")/lib.sh"
apart_dir 1024 # the checkpoints on another file system than the results (Rules.md 4.4.2)
# node2 has a folder of its own at $APART/local (a local disk), node3 a 64 KiB disk where the
# first checkpoint's shards go.
hosts_up node1 node2:"$APART/local" node3:"$APART/full/global_epoch1_step1"
CK=(checkpointing run --model llama3-8b --scale 0.001 --params checkpoint.time_between_checkpoints=0)

# 2 hosts x 2 ranks.
expect_hosts 0 node1:2,node2:2 4 "${CK[@]}" -cf "$APART/ck22" -rd "$WORK/res"
run22=$(last_run "$WORK/res")
python3 - "$run22" "$APART/ck22" <<'PY' || fail "2 x 2: cluster record or files"
import glob, json, os, sys
d, ck = sys.argv[1], sys.argv[2]
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
c = m["cluster"]
assert c["num_hosts"] == 2 and c["world_size"] == 4, c
hosts = {h["hostname"]: h for h in c["hosts"]}
assert set(hosts) == {"node1", "node2"}, hosts
assert hosts["node1"]["ranks"] == 2 and hosts["node1"]["first_rank"] == 0, hosts
assert hosts["node2"]["ranks"] == 2 and hosts["node2"]["first_rank"] == 2, hosts
# memory over unique hosts: each emulated host reports this machine's memory once
assert c["total_memory_bytes"] == sum(h["memory_bytes"] for h in c["hosts"]), c
# per-host rule: fewer than 5 ranks on each of the 2 hosts
iss = {i["parameter"]: i for i in m["verdict"]["issues"]}
assert "2 of 2 hosts run fewer than 5 ranks: node1 (2), node2 (2)" in iss["ranks_per_host"]["message"], iss["ranks_per_host"]
# every rank, on either host, wrote its shards of every checkpoint and read them back
s = json.load(open(d + "/summary.json"))
assert s["num_hosts"] == 2 and len(s["host_memory_GB"]) == 2, s
for step in range(1, 11):
    for rank in range(4):
        shards = glob.glob("%s/global_epoch1_step%d/zero_pp_rank_%d_*" % (ck, step, rank))
        assert len(shards) == 2 and all(os.path.getsize(f) > 0 for f in shards), (step, rank, shards)
for phase in ("save", "load"):
    assert len(s[phase + "_checkpoint_io_GB_per_second"]) == 10, s
    per = s[phase + "_checkpoint_per_rank"]
    assert per["min_rank"] in range(4) and per["max_rank"] in range(4), per
    assert 0 < per["min_GB_per_second"] <= per["max_GB_per_second"], per
PY
rm -rf "$APART/ck22"

# Clocks that differ by host: node2's clock reads 30 s ahead (the test seam of app/clock.h).
# The metadata records that offset, and no phase takes those 30 s: each is timed by every rank's
# own clock from a common barrier.
hosts_env node2 MLPIO_TEST_CLOCK_SKEW_S=30
expect_hosts 0 node1:2,node2:2 4 "${CK[@]}" -cf "$APART/ckskew" -rd "$WORK/skew"
python3 - "$(last_run "$WORK/skew")" <<'PY' || fail "skewed clocks"
import glob, json, sys
d = sys.argv[1]
m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
c = {h["hostname"]: h for h in m["clock"]["hosts"]}
assert c["node1"]["rank"] == 0 and c["node1"]["offset_seconds"] == 0, c
assert c["node2"]["rank"] == 2, c
assert abs(c["node2"]["offset_seconds"] - 30) < 0.5, c
assert 0 < c["node2"]["round_trip_seconds"] < 0.5, c
s = json.load(open(d + "/summary.json"))
for phase in ("save", "load"):
    longest = max(s[phase + "_checkpoint_duration_seconds"])
    assert longest < 10, (phase, s[phase + "_checkpoint_duration_seconds"])
PY
hosts_env node2
rm -rf "$APART/ckskew"

# Uneven: 3 hosts with 1 + 2 + 1 ranks; the first rank of each host follows the placement.
expect_hosts 0 node1:1,node2:2,node3:1 4 "${CK[@]}" -cf "$APART/ck121" -rd "$WORK/res"
python3 - "$(last_run "$WORK/res")" <<'PY' || fail "1 + 2 + 1: cluster record"
import glob, json, sys
m = json.load(open(glob.glob(sys.argv[1] + "/*_metadata.json")[0]))
c = m["cluster"]
got = [(h["hostname"], h["ranks"], h["first_rank"]) for h in c["hosts"]]
assert got == [("node1", 1, 0), ("node2", 2, 1), ("node3", 1, 3)], got
assert c["num_hosts"] == 3 and c["world_size"] == 4
iss = {i["parameter"]: i for i in m["verdict"]["issues"]}
assert "node1 (1), node2 (2), node3 (1)" in iss["ranks_per_host"]["message"], iss["ranks_per_host"]
PY
rm -rf "$APART/ck121"

# validate and reportgen see the hosts of each run.
expect 3 1 validate "$WORK/res"
says "checkpointing llama3-8b"
expect 0 1 reports reportgen -rd "$WORK/res" -o "$WORK/report"
python3 - "$WORK/report/results.json" <<'PY' || fail "reportgen over the multi-host runs"
import json, sys
d = json.load(open(sys.argv[1]))
hosts = sorted(r["figures"]["num_hosts"] for r in d["runs"])
assert hosts == [2, 3], hosts
PY

# A disk that fills up on node3 only: node3's rank fails with ENOSPC; every rank of every host
# exits 4, and rank 0 (on node1) records the failure.
expect_hosts 4 node1:1,node2:2,node3:1 4 "${CK[@]}" -cf "$APART/full" -rd "$WORK/fail"
says "rank 3: "
says "No space left on device"
failed_run "$(last_run "$WORK/fail")" 4

# A folder that is a local disk on one host is found at the start, on every rank, naming the
# host: the checkpoint folder, then the results directory.
expect_hosts 2 node1:1,node2:1 2 "${CK[@]}" -cf "$APART/local/ck" -rd "$WORK/local"
says "the data folder (checkpoint.checkpoint_folder) $APART/local/ck is not shared: on host node2"
says "every host mounts at the same path (--checkpoint-folder DIR)"
failed_run "$(last_run "$WORK/local")" 2
expect_hosts 2 node1:1,node2:1 2 "${CK[@]}" -cf "$APART/ck" -rd "$APART/local/res"
says "the results directory $APART/local/res/checkpointing/llama3-8b/run/"
says "is not shared: on host node2"
says "(--results-dir DIR)"
echo "ok"
