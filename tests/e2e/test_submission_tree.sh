#!/usr/bin/env bash
# mlpio init and runs into a submission tree of MLPerf Storage v3.0: the marker, the layout of
# run directories per benchmark, systems/<system>.yaml from the hosts, provenance.json, and
# bad input (another org, a directory holding other things, a run that declares no division or
# names no system), and validate over the tree with the checker's rules. The data goes to
# another file system than the results, as Rules.md 3.4.2 / 4.4.2 want (lib.sh apart_dir).
source "$(dirname "$0")/lib.sh"
T="$WORK/tree"
apart_dir 2048
FS="$APART"
CK=(--scale 0.001 --checkpoint-folder "$FS/ckpt" --params checkpoint.time_between_checkpoints=0)

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
python3 - "$leaf/fs_separation.json" "$FS/ckpt" "$T" <<'PY' || fail "fs_separation.json"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["version"] == 1 and p["method"] == "link_exdev", p
assert p["same_filesystem"] is False, p
assert p["data_path"] == sys.argv[2] and p["results_path"] == sys.argv[3], p
assert p["probed_by_rank"] == 0 and p["probed_by_host"], p
PY

# A training datagen has the command level; --system picks another system.
expect 0 1 training datagen --model unet3d --scale 0.0001 --data-dir "$FS/data" --open \
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

# validate reads the tree: runs by division and system, the checker's rules on systems/,
# provenance.json and submission.yaml.
expect 3 1 validate --open "$T"
says "3 runs (0 CLOSED, 2 OPEN, 0 INVALID, 0 failed, 1 not judged)"
says "open/acme/results/sysA/checkpointing/llama3-8b/"
says "open/acme/sysA: checkpointing llama3-8b submission (2 runs)"
says "open/acme/sysB: training unet3d"
says "[2.1.8 system description] results/sysA has no systems/sysA.pdf"
says "[PROV-02 manifest] the submission has no submission.yaml"
touch "$T/open/acme/systems/sysA.pdf" "$T/open/acme/systems/sysB.pdf"
expect 0 1 reports manifest --results-dir "$T"
says "wrote 1 submission.yaml listing 3 runs"
python3 - "$T" <<'PY' || fail "manifest"
import glob, os, sys
root = sys.argv[1]
org = os.path.join(root, "open", "acme")
text = open(os.path.join(org, "submission.yaml")).read()
assert 'schema: "mlps-submission-manifest/1"' in text, text
leaves = sorted(os.path.relpath(os.path.dirname(p), org)
                for p in glob.glob(org + "/results/*/*/*/**/*_metadata.json", recursive=True))
listed = sorted(l.split('"')[1] for l in text.splitlines() if l.startswith("  - leaf: "))
assert leaves == listed and len(leaves) == 3, (leaves, listed)
assert text.count('rules_edition: "3.0"') == 4, text
assert 'pdf: "systems/sysA.pdf"' in text
PY
[ ! -e "$T/closed/acme/submission.yaml" ] || fail "a manifest for a division without runs"
# The datagen alone is no training submission (exit 3), but the tree itself has no problem.
expect 3 1 validate --open --json "$T"
python3 - "$OUT" <<'PY' || fail "the tree's document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["problems"] == [], d["problems"]
scopes = sorted(g.get("scope") for g in d["submissions"])
assert scopes == ["open/acme/sysA", "open/acme/sysB"], scopes
t = [r["tree"] for r in d["runs"]]
assert {x["category"] for x in t} == {"checkpointing", "training"}, t
assert all(x["division"] == "open" and x["org"] == "acme" for x in t), t
PY
# What the checker refuses, one at a time.
ckleaf=${leaf%/}
sed -i 's/rules_edition: "3.0"/rules_edition: "2.0"/' "$T/open/acme/submission.yaml"
expect 3 1 validate --open "$T"
says "[PROV-02 manifest] lists results/sysA/checkpointing/llama3-8b/$(basename "$ckleaf") under rules edition 2.0, the run was judged by 3.0"
expect 0 1 reports manifest --results-dir "$T"
expect 0 1 checkpointing run --model llama3-8b "${CK[@]}" --open --results-dir "$T"
expect 3 1 validate --open "$T"
says "[PROV-02 manifest] does not list the run results/sysA/checkpointing/llama3-8b/"
expect 0 1 reports manifest --results-dir "$T"
mv "$ckleaf/provenance.json" "$WORK/prov.json"
# A run with its checkpoints beside the results: OPEN, and the tree check fails it.
expect 0 1 checkpointing run --model llama3-8b --scale 0.001 --checkpoint-folder "$WORK/ck2" \
    --params checkpoint.time_between_checkpoints=0 --open --results-dir "$T"
says "the checkpoint folder $WORK/ck2 and the results directory $T are on one file system (a hard link between them works): Rules.md 4.4.2 wants them apart"
sameleaf=$(ls -d "$T"/open/acme/results/sysA/checkpointing/llama3-8b/*/ | tail -n 1)
sameleaf=${sameleaf%/}
touch "$T/open/acme/systems/notes.txt"
mkdir "$T/stray" "$T/open/acme/results/sysA/vector_database"
cp -r "$ckleaf" "$T/open/acme/results/sysA/checkpointing/"
sed -i 's/submission_name: "sysA"/submission_name: "other"/; s/quantity: 1/quantity: 2/' \
    "$T/open/acme/systems/sysA.yaml"
expect 3 1 validate --open "$T"
says "[PROV-01 provenance] cannot open $T/$(realpath --relative-to="$T" "$ckleaf")/provenance.json"
says "[2.1.7 systems files] systems/ holds only <system>.yaml, <system>.pdf and *.md files, not notes.txt"
says "stray is not part of a submission tree"
says "vector_database is not a category of an mlpio benchmark"
says "is a run directory where a model directory is expected (the layout is <division>/<org>/results/<system>/checkpointing/<model>/<YYYYMMDD_HHMMSS>/)"
says "[2.1.8 submission_name] open/acme/systems/sysA.yaml names the system \"other\", its directory is results/sysA"
says "[2.1.9 num_hosts] open/acme/systems/sysA.yaml describes 2 client host(s)"
says "[4.4.2 fs separation] the data $WORK/ck2 and the results $T are on one file system (link_exdev)"
rm -r "$sameleaf"
mv "$WORK/prov.json" "$ckleaf/provenance.json"
rm -r "$T/stray" "$T/open/acme/systems/notes.txt" "$T/open/acme/results/sysA/vector_database" \
    "$T/open/acme/results/sysA/checkpointing/$(basename "$ckleaf")"
# A submission.yaml of another tool is the submitter's: never replaced.
printf 'schema: x\ngenerated_by: "mlpstorage 3.0"\n' >"$T/open/acme/submission.yaml"
expect 2 1 reports manifest --results-dir "$T"
says "was not written by mlpio, but by mlpstorage 3.0: it is not replaced"
grep -q mlpstorage "$T/open/acme/submission.yaml" || fail "manifest replaced"
expect 2 1 reports manifest --results-dir "$WORK/plain-none"
says "cannot open"

# Outside a tree the layout is the v2 one, and the run still carries its provenance.
expect 0 1 checkpointing run --model llama3-8b "${CK[@]}" --results-dir "$WORK/plain"
[ -f "$(last_run "$WORK/plain")/provenance.json" ] || fail "no provenance outside a tree"
echo "ok"
