#!/usr/bin/env bash
# A workload is one folder: nullbench (tests/nullbench/), which no file of mlpio names, is
# listed, run, judged by its own rules, validated, scanned into results.json/csv and drawn in
# the HTML reports by the mlpio program it is registered into, like a built-in workload.
source "$(dirname "$0")/lib.sh"

[ -x "${MLPIO_NULLBENCH_BIN:-}" ] || fail "MLPIO_NULLBENCH_BIN is not set to the test program"

# Its definitions beside the built-in ones: one share directory holding both.
SHARE="$WORK/share"
mkdir -p "$SHARE"
for d in "$MLPIO_SHARE_DIR"/*; do ln -s "$d" "$SHARE/"; done
ln -s "$MLPIO_NULLBENCH_SHARE/nullbench" "$SHARE/nullbench"
export MLPIO_SHARE_DIR="$SHARE"

# mlpio itself does not know it.
expect 2 1 nullbench run
says "nullbench"
MLPIO_BIN="$MLPIO_NULLBENCH_BIN"

# Listed and helped like the others, with its parameters from its own table.
expect 0 1 --help
says "nullbench"
expect 0 1 nullbench run --help
says "--folder"
says "nullbench.file_size"

# Run on 2 ranks: the files it wrote are there, of the size its definition gives; CLOSED.
res="$WORK/results"
expect 0 2 nullbench run --folder "$WORK/data" -rd "$res" --seed 3
says "verdict (run): CLOSED"
for i in 0 1; do
    [ "$(stat -c %s "$WORK/data/file_$i.bin")" -eq 65536 ] || fail "file_$i.bin: wrong size"
done
closed=$(last_run "$res")
[ -f "$closed/report.html" ] || fail "no report.html in $closed"
[ -f "$closed/summary.json" ] || fail "no summary.json in $closed"

# Unique per rank: the two files differ.
cmp -s "$WORK/data/file_0.bin" "$WORK/data/file_1.bin" && fail "the ranks wrote the same bytes"

# Its own rules: one file makes a run OPEN, with its hint; --closed refuses it before any I/O.
expect 3 1 nullbench run --folder "$WORK/data1" -rd "$res" --params nullbench.files=1 --closed
says "one file tells nothing of a file system"
[ ! -e "$WORK/data1" ] || fail "a refused run wrote its folder"
expect 0 1 nullbench run --folder "$WORK/data1" -rd "$res" --params nullbench.files=1
says "verdict (run): OPEN"

# Its folder may not lie in the results.
expect 2 1 nullbench run --folder "$res/inside" -rd "$res"
says "nullbench folder"

# Validate judges both runs by its rules; reportgen scans its figures into the tables.
expect 3 1 validate "$res"
says "CLOSED"
says "OPEN"
expect 0 1 reports reportgen -rd "$res" -o "$WORK/out"
python3 - "$WORK/out" <<'PY' || fail "reportgen: nullbench runs or figures wrong"
import csv, json, os, sys
out = sys.argv[1]
d = json.load(open(os.path.join(out, "results.json")))
runs = [r for r in d["runs"] if r["benchmark"] == "nullbench"]
assert len(runs) == 2, d["runs"]
verdicts = sorted(r["verdict"] for r in runs)
assert verdicts == ["CLOSED", "OPEN"], verdicts
closed = [r for r in runs if r["verdict"] == "CLOSED"][0]
assert closed["figures"]["nullbench_bytes"] == 2 * 65536, closed["figures"]
assert closed["figures"]["num_accelerators"] == 2, closed["figures"]
rows = list(csv.reader(open(os.path.join(out, "results.csv"))))
assert any("nullbench" in row for row in rows[1:]), rows
html = open(os.path.join(out, "results.html")).read()
assert "nullbench" in html
PY

# A preset option given "all" runs each preset in turn in one job: a run directory each, the
# delay between them, and the sequence recorded in each run (app/sequence.h).
seq="$WORK/seq"
expect 0 2 nullbench run --size all --option-delay 2 --folder "$WORK/dseq" -rd "$seq" --seed 5
says "--size all: run 1 of 2 (--size small)"
says "waiting 2 s before --size large"
says "--size all: run 2 of 2 (--size large)"
python3 - "$seq" <<'PY' || fail "the sequence's runs"
import glob, json, sys
metas = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/nullbench/*/run/*/*_metadata.json")]
metas.sort(key=lambda m: m["options"]["option_sequence"]["position"])
assert len(metas) == 2, len(metas)
seqs = [m["options"]["option_sequence"] for m in metas]
assert [s["position"] for s in seqs] == [1, 2] and all(s["count"] == 2 for s in seqs), seqs
assert seqs[0]["id"] == seqs[1]["id"] and all(s["delay_s"] == 2 for s in seqs), seqs
assert [s["waited_s"] for s in seqs] == [0, 2], seqs
assert [m["options"]["preset"]["value"] for m in metas] == ["small", "large"]
assert [m["config"]["nullbench"]["files"] for m in metas] == [2, 3]
gap = metas[1]["start_time"]["epoch"] - metas[0]["end_time"]["epoch"]
assert gap >= 2, gap
assert all(m["status"] == "complete" for m in metas)
PY
expect 0 1 nullbench run --size all --option-delay 30 --what-if --folder "$WORK/dseq" -rd "$seq"
says "what-if: would wait 30 s before --size large"
expect 2 1 nullbench run --size all --option-delay soon --folder "$WORK/dseq" -rd "$seq"
says "--option-delay: expected seconds from 0 to 86400, got 'soon'"
expect 2 1 nullbench run --size all --model tiny --folder "$WORK/dseq" -rd "$seq"
says "--size all runs each option with its own model, but --model says tiny"
expect 2 1 nullbench configview --size all
says "--size all runs the options in turn"
echo "ok"
