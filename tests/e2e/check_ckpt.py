"""Independent checks of a checkpointing run directory written by mlpio.

Recomputes every file's size from the model formula (WORKLOADS.md section 2) without using
mlpio's code, and checks the run directory layout, metadata, summary and event log.
Usage: check_ckpt.py RUN_DIR CHECKPOINT_FOLDER RANKS NCW NCR
"""
import json
import math
import os
import sys


def plan(cfg, rank, scale):
    """DLIO's files and sizes (dlio_benchmark/checkpointing/base_checkpointing.py)."""
    m, par = cfg["model"], cfg["parallelism"]
    h, L, f, V = m["hidden_size"], m["num_layers"], m["ffn_hidden_size"], m["vocab_size"]
    TP, PP, DP, zero = par["tensor"], par["pipeline"], par["data"], par["zero_stage"]
    dkv = (h // m["num_attention_heads"]) * m["num_kv_heads"]
    sf = DP if zero >= 3 else 1

    def layer(i):  # get_layer_parameters: every term floored on its own
        if i in (0, L + 1):
            return h * V // TP // sf
        if i == L + 2:
            return h // sf
        return (h // sf + h * (h + 2 * dkv) // TP // sf + h * h // TP // sf + h // sf +
                h * 2 * f // TP // sf + h * f // TP // sf)

    total = 2 * V * h + L * (h + h * (h + 2 * dkv) + h * h + h + 3 * h * f) + h
    pp, dp, mp = (rank // TP) % PP, rank // (TP * PP), rank % (TP * PP)
    base, rem = divmod(L, PP)
    start = pp * base + min(pp, rem) + 1
    end = start + base + (1 if pp < rem else 0) - 1
    if pp == PP - 1:
        end = L + 2
    if pp == 0:
        start = 0
    sc = lambda b: b if scale == 1 else max(1, int(math.floor(b * scale + 0.5)))
    files = {}
    if zero == 0 and rank >= TP * PP:
        return files
    layered = 0 < zero < 3
    if layered and dp == 0 and PP > 1:
        for i in range(start, end + 1):
            files[f"layer_{i}-model_{mp}_model_states.pt"] = sc(layer(i) * 2)
    elif layered and dp == 0:
        files[f"model_{mp}_model_states.pt"] = sc(sum(layer(i) for i in range(start, end + 1)) * 2)
    elif not layered:
        files[f"zero_pp_rank_{dp}_mp_rank_{mp}_model_states.pt"] = sc(
            sum(layer(i) for i in range(start, end + 1)) * 2)
    n = total // (TP * PP * DP if zero > 0 else TP * PP)
    files[f"zero_pp_rank_{dp}_mp_rank_{mp}_optim_states.pt"] = sc((3 * n + 15 * h) * 4)
    return files


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    run_dir, folder, ranks, ncw, ncr = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    names = sorted(os.listdir(run_dir))
    meta_name = [n for n in names if n.endswith("_metadata.json")]
    if len(meta_name) != 1 or not meta_name[0].startswith("checkpointing_"):
        fail(f"expected one checkpointing_<id>_metadata.json in {run_dir}, found {names}")
    for need in ("summary.json", "events.jsonl", "report.txt"):
        if need not in names:
            fail(f"{need} missing from {run_dir}")
    if any(".tmp" in n for n in names):
        fail(f"temporary files left behind: {names}")
    meta = json.load(open(os.path.join(run_dir, meta_name[0])))
    run_id = os.path.basename(os.path.normpath(run_dir))
    if meta_name[0] != f"checkpointing_{run_id}_metadata.json" or meta["run_id"] != run_id:
        fail("metadata name/run_id do not match the directory")
    for key in ("argv", "config", "overrides", "cluster", "world_size", "salt", "seed",
                "mlpio_version", "build", "start_time", "end_time", "verdict", "exit_status"):
        if key not in meta:
            fail(f"metadata lacks {key}")
    built = meta["build"]["io_backends"].split("|")
    if "posix" not in built or meta["options"]["io_api"] not in built:
        fail(f"metadata build.io_backends {built} lacks the backend the run used")
    if "npz" not in meta["build"]["formats"].split("|"):
        fail(f"metadata build.formats lacks npz: {meta['build']['formats']}")
    if meta["world_size"] != ranks or meta["status"] != "complete" or meta["exit_status"]["code"]:
        fail(f"metadata world_size/status/exit wrong: {meta['world_size']} {meta['status']}")
    if len(meta["salt"]) != 64:
        fail("salt is not 32 bytes of hex")
    cl = meta["cluster"]
    if cl["world_size"] != ranks or sum(h["ranks"] for h in cl["hosts"]) != ranks:
        fail("cluster info does not account for every rank")
    cfg = meta["config"]
    scale = meta["options"]["scale"]

    want = {}
    for r in range(ranks):
        want.update(plan(cfg, r, scale))
    if len(want) != sum(len(plan(cfg, r, scale)) for r in range(ranks)):
        fail("two ranks would write the same file name")
    expected_total = sum(want.values())
    for step in range(1, ncw + 1):
        d = os.path.join(folder, f"global_epoch1_step{step}")
        have = {n: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)}
        if have != want:
            fail(f"files in {d} differ from the formula: have {have}, want {want}")
    if ncw and len(os.listdir(folder)) != ncw:
        fail(f"expected {ncw} step directories in {folder}")

    s = json.load(open(os.path.join(run_dir, "summary.json")))
    for prefix, n in (("save", ncw), ("load", ncr)):
        if len(s[f"{prefix}_checkpoint_io_GB_per_second"]) != n:
            fail(f"{prefix}: expected {n} throughput figures")
        for key in ("io_mean_GB_per_second", "io_stdev_GB_per_second",
                    "duration_mean_seconds", "duration_stdev_seconds"):
            v = s[f"{prefix}_checkpoint_{key}"]
            if n and not (v >= 0 and math.isfinite(v)):
                fail(f"{prefix}_checkpoint_{key} = {v}")
        if n and s[f"{prefix}_checkpoint_io_mean_GB_per_second"] <= 0:
            fail(f"{prefix} mean throughput not positive")
        if n:
            durs = s[f"{prefix}_checkpoint_duration_seconds"]
            gbps = s[f"{prefix}_checkpoint_io_GB_per_second"]
            for d_, g in zip(durs, gbps):
                if abs(expected_total / 2**30 / d_ - g) > 1e-6 * g:
                    fail(f"{prefix}: throughput {g} != bytes/duration")
            pr = s[f"{prefix}_checkpoint_per_rank"]
            if not (0 < pr["min_GB_per_second"] <= pr["max_GB_per_second"]) or not (
                    0 <= pr["min_rank"] < ranks and 0 <= pr["max_rank"] < ranks):
                fail(f"{prefix}: per-rank extremes wrong: {pr}")
            if s[f"{prefix}_op_latency_seconds"]["count"] < ranks:
                fail(f"{prefix}: latency histogram lacks calls")
    if abs(s["checkpoint_size_GB"] * 2**30 - expected_total) > 1:
        fail(f"checkpoint_size_GB {s['checkpoint_size_GB']} != {expected_total / 2**30}")
    if s["num_accelerators"] != ranks:
        fail("num_accelerators wrong")

    events = [json.loads(line) for line in open(os.path.join(run_dir, "events.jsonl"))]
    names = [e["name"] for e in events]
    if names[0] != "start" or names[-1] != "finish" or names[1:3] != ["config", "cluster"]:
        fail(f"event order wrong: {names}")
    if names.count("write") != ncw or names.count("read") != ncr:
        fail(f"expected {ncw} write and {ncr} read events: {names}")
    ts = [e["timestamp"] for e in events]
    if ts != sorted(ts):
        fail("event timestamps go backwards")
    if events[-1]["context"]["exit_code"] != 0:
        fail("finish event does not carry exit code 0")
    print("ok", run_dir)


main()
