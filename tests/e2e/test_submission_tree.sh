#!/usr/bin/env bash
# mlpio init and runs into a submission tree of MLPerf Storage v3.0: the marker, the layout of
# run directories per benchmark, systems/<system>.yaml from the hosts, provenance.json, and
# bad input (another org, a directory holding other things, a run that declares no division or
# names no system).
source "$(dirname "$0")/lib.sh"
T="$WORK/tree"
CK=(--scale 0.001 --checkpoint-folder "$WORK/ckpt" --params checkpoint.time_between_checkpoints=0)

expect 0 1 init --org acme --system sysA --results-dir "$T"
says "made the submission tree of org acme in $T"
grep -qx "orgname: acme" "$T/mlperf-results.yaml" || fail "marker lacks the org"
grep -qx "mlperf_results_version: 3" "$T/mlperf-results.yaml" || fail "marker lacks the version"
for d in closed open; do
    for s in results systems; do [ -d "$T/$d/acme/$s" ] || fail "no $d/acme/$s"; done
done
# Again with the same org: nothing lost, the default system may change.
expect 0 1 init --org acme --system sysA --results-dir "$T"
says "already a submission tree of org acme"
expect 2 1 init --org other --results-dir "$T"
says "already the results tree of org acme, not other"
mkdir -p "$WORK/busy" && touch "$WORK/busy/notes.txt"
expect 2 1 init --org acme --results-dir "$WORK/busy"
says "is not empty (it holds notes.txt)"
[ ! -e "$WORK/busy/mlperf-results.yaml" ] || fail "init wrote into a busy directory"
expect 2 1 init --org "a/b" --results-dir "$WORK/new"
says "is not an org name the submission checker accepts"

# A checkpointing run: no command level; the system described once, from this job's hosts.
expect 0 2 checkpointing run --model llama3-8b "${CK[@]}" --open --results-dir "$T"
leaf=$(ls -d "$T"/open/acme/results/sysA/checkpointing/llama3-8b/*/ | tail -n 1)
[ -n "$leaf" ] || fail "no checkpointing leaf in the tree"
says "described system sysA"
python3 - "$leaf" "$T/open/acme/systems/sysA.yaml" <<'PY' || fail "leaf files"
import glob, json, re, sys
leaf, sysyaml = sys.argv[1], sys.argv[2]
m = json.load(open(glob.glob(leaf + "/checkpointing_*_metadata.json")[0]))
assert m["provenance_file"] == "provenance.json", m.get("provenance_file")
assert m["submission_tree"] == {"org": "acme", "division": "open", "system": "sysA"}
p = json.load(open(leaf + "/provenance.json"))
assert p["schema"] == "mlps-run-provenance/1"
assert p["rules_edition"] == m["rules_edition"].lstrip("v")
assert p["layout_version"] == 3 and p["tool"]["name"] == "mlpio"
assert re.fullmatch(r"[0-9a-f]{16}", p["core_config"]["hash"]), p["core_config"]
assert "checkpoint.checkpoint_folder" in p["core_config"]["keys"]
assert None not in [v for v in p.values()], "a null in provenance"
t = open(sysyaml).read()
assert 'submission_name: "sysA"' in t
hosts = m["cluster"]["hosts"]
assert sum(int(q) for q in re.findall(r"quantity: (\d+)", t)) == len(hosts), t
PY
# The description is the submitter's once written: a second run leaves it alone.
echo "# edited" >>"$T/open/acme/systems/sysA.yaml"
expect 0 1 checkpointing run --model llama3-8b "${CK[@]}" --open --results-dir "$T"
tail -n 1 "$T/open/acme/systems/sysA.yaml" | grep -qx "# edited" || fail "systems yaml rewritten"
[ "$(ls -d "$T"/open/acme/results/sysA/checkpointing/llama3-8b/*/ | wc -l)" -eq 2 ] ||
    fail "the second run did not get its own leaf"

# A training datagen has the command level; --system picks another system.
expect 0 1 training datagen --model unet3d --scale 0.0001 --data-dir "$WORK/data" --open \
    --system sysB --results-dir "$T" --params dataset.num_files_train=2
ls -d "$T"/open/acme/results/sysB/training/unet3d/datagen/*/ >/dev/null || fail "no datagen leaf"
[ -f "$T/open/acme/systems/sysB.yaml" ] || fail "sysB not described"

# Bad input: no division declared; no system anywhere.
expect 2 1 checkpointing run --model llama3-8b "${CK[@]}" --results-dir "$T"
says "a run in it goes to closed/acme/ or open/acme/, and none was declared"
says "add --closed or --open"
expect 0 1 init --org acme --results-dir "$WORK/nosys"
expect 2 1 checkpointing run --model llama3-8b "${CK[@]}" --open --results-dir "$WORK/nosys"
says "with no default system, and the run names none"
expect 2 1 checkpointing run --model llama3-8b "${CK[@]}" --open --system "x y" --results-dir "$T"
says "is not a system name the submission checker accepts"

# Outside a tree the layout is the v2 one, and the run still carries its provenance.
expect 0 1 checkpointing run --model llama3-8b "${CK[@]}" --results-dir "$WORK/plain"
[ -f "$(last_run "$WORK/plain")/provenance.json" ] || fail "no provenance outside a tree"
echo "ok"
