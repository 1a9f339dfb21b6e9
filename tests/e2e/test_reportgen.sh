#!/usr/bin/env bash
# mlpio reports reportgen: results.json, results.csv and results.html of a results tree, checked
# field by field (the results.json schema the HTML report and tools read, one CSV row per run
# and per submission group); the output directory's rules (never inside the results tree, a
# new ./mlpio_reports/<timestamp> by default); malformed trees; bad arguments; under mpirun;
# and the tree left exactly as it was.
source "$(dirname "$0")/lib.sh"
TREES="$MLPIO_FIXTURES/trees"

snapshot() {
    (cd "$1" && find . -printf '%p %y %s %T@ %m\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0 -r md5sum)
}

BEFORE=$(snapshot "$TREES")

# check_reports DIR TREE: the three files in DIR describe TREE as its scan does.
check_reports() {
    python3 - "$1" "$2" <<'PY' || fail "reports in $1 do not describe $2"
import csv, json, os, sys
out, tree = sys.argv[1], os.path.realpath(sys.argv[2])
d = json.load(open(os.path.join(out, "results.json")))
assert set(d) == {"mlpio_version", "generated", "results_dir", "counts", "runs", "submissions",
                  "problems"}, sorted(d)
assert d["results_dir"] == tree, d["results_dir"]
assert d["generated"].endswith("Z") and d["generated"][10] == "T"
assert set(d["counts"]) == {"runs", "closed", "open", "invalid", "failed", "not_judged",
                            "problems", "submissions"}
assert d["counts"]["runs"] == len(d["runs"])
c = d["counts"]
assert c["closed"] + c["open"] + c["invalid"] + c["failed"] + c["not_judged"] == c["runs"], c
assert d["counts"]["submissions"] == len(d["submissions"])
keys = {"path", "benchmark", "model", "command", "run_id", "status", "verdict",
        "recorded_verdict", "rules_edition", "issues", "problems", "metadata", "summary",
        "events", "figures", "error"}
verdicts = {"CLOSED", "OPEN", "INVALID", None}
n_problems = len(d["problems"])
for r in d["runs"]:
    assert set(r) == keys, sorted(r)
    assert not r["path"].startswith("/") and os.path.isdir(os.path.join(tree, r["path"]))
    assert r["status"] in {"success", "failed", "running", "unfinished", "unreadable"}
    assert r["verdict"] in verdicts and r["recorded_verdict"] in verdicts
    # The fixtures were recorded before rules editions: they are judged by v2.0.
    assert r["rules_edition"] == ("v2.0" if r["verdict"] else None), r["path"]
    # A failed run is not judged, and says why it failed.
    assert (r["error"] is not None) == (r["status"] == "failed"), r["path"]
    assert r["status"] != "failed" or (r["verdict"] is None and r["error"]["error"]), r["path"]
    for i in r["issues"]:
        assert set(i) == {"level", "parameter", "expected", "actual", "message", "hint"}
    for p in r["problems"]:
        assert set(p) == {"where", "what", "fix"} and p["fix"]
    assert all(isinstance(v, (int, float)) for v in r["figures"].values())
    n_problems += len(r["problems"])
assert d["counts"]["problems"] == n_problems
for s in d["submissions"]:
    assert set(s) == {"benchmark", "model", "group", "verdict", "rules_edition", "runs",
                      "issues", "figures"}
    assert s["rules_edition"] == "v2.0", s
    assert s["verdict"] in {"CLOSED", "OPEN", "INVALID"}
    assert all(p in {r["path"] for r in d["runs"]} for p in s["runs"])
rows = list(csv.reader(open(os.path.join(out, "results.csv"), newline="")))
head = rows[0]
assert head[:9] == ["kind", "path", "benchmark", "model", "command", "run_id", "status",
                    "verdict", "issues"], head
figures = sorted({k for x in d["runs"] + d["submissions"] for k in x["figures"]})
assert head[9:] == figures, head
assert len(rows) == 1 + len(d["runs"]) + len(d["submissions"])
assert all(len(r) == len(head) for r in rows)
for row, r in zip(rows[1:], d["runs"]):
    assert row[0] == "run" and row[1] == r["path"] and row[7] == (r["verdict"] or "")
    assert int(row[8]) == len(r["issues"])
    for name, value in zip(head[9:], row[9:]):
        assert (value == "") == (name not in r["figures"])
        if value:
            assert abs(float(value) - r["figures"][name]) <= 1e-12 * max(1, abs(r["figures"][name]))
for row, s in zip(rows[1 + len(d["runs"]):], d["submissions"]):
    assert row[0] == "submission" and row[1] == "/".join((s["benchmark"], s["model"], s["group"]))
    assert row[7] == s["verdict"]
html = open(os.path.join(out, "results.html")).read()
assert html.lstrip().lower().startswith("<!doctype html")
assert not [f for f in os.listdir(out) if ".tmp." in f], os.listdir(out)
PY
}

# ---- a complete tree --------------------------------------------------------------------
expect 0 1 reports reportgen --results-dir "$TREES/closed" --output-dir "$WORK/out"
says "11 runs (10 CLOSED, 0 OPEN, 0 INVALID, 0 failed, 1 not judged), 6 submission groups, 0 problems"
says "wrote $WORK/out/results.json, results.csv and results.html"
check_reports "$WORK/out" "$TREES/closed"
python3 - "$WORK/out/results.json" <<'PY' || fail "closed tree: verdicts or figures wrong"
import json, sys
d = json.load(open(sys.argv[1]))
g = {(s["benchmark"], s["model"], s["group"]): s for s in d["submissions"]}
assert all(s["verdict"] == "CLOSED" for s in g.values()), [s["verdict"] for s in g.values()]
t = g[("training", "unet3d", "h100")]["figures"]
assert t["runs"] == 6 and 99 < t["train_au_mean_percentage"] <= 100, t
k = g[("kvcache", "llama3.1-8b", "option 1")]["figures"]
assert k["trials"] == 3 and k["tokens_per_second"] > 0, k
dg = [r for r in d["runs"] if r["command"] == "datagen"][0]
assert dg["verdict"] is None and dg["figures"]["datagen_files"] == 21, dg["figures"]
PY
# Again into the same directory: refused, the earlier reports kept as they were.
OUT_BEFORE=$(snapshot "$WORK/out")
expect 2 1 reports reportgen -rd "$TREES/scaled" -o "$WORK/out"
says "already holds results.html: reportgen does not replace earlier reports"
says "choose a new directory with --output-dir"
[ "$(snapshot "$WORK/out")" = "$OUT_BEFORE" ] || fail "a refused reportgen changed earlier reports"
check_reports "$WORK/out" "$TREES/closed"
# Any one of the three files left from earlier is enough to refuse.
mkdir "$WORK/out-csv" && touch "$WORK/out-csv/results.csv"
expect 2 1 reports reportgen -rd "$TREES/scaled" -o "$WORK/out-csv"
says "already holds results.csv"
expect 0 1 reports reportgen -rd "$TREES/scaled" -o "$WORK/out-scaled"
check_reports "$WORK/out-scaled" "$TREES/scaled"

# ---- every fixture tree merged: malformed runs are reported, not fatal ----------------------
mkdir "$WORK/all"
for t in "$TREES"/*/; do cp -rp "$t." "$WORK/all/"; done
ALL_BEFORE=$(snapshot "$WORK/all")
expect 0 1 reports reportgen -rd "$WORK/all" -o "$WORK/out-all"
check_reports "$WORK/out-all" "$WORK/all"
python3 - "$WORK/out-all/results.json" <<'PY' || fail "merged tree: a case is missing"
import json, sys
d = json.load(open(sys.argv[1]))
runs = {r["path"]: r for r in d["runs"]}
r = runs["checkpointing/llama3-8b/run/20260101_000003"]          # truncated metadata
assert r["status"] == "unreadable" and r["metadata"] is None and r["events"], r["status"]
assert "line 109, column 10" in r["problems"][0]["what"]
r = runs["checkpointing/llama3-8b/run/20260101_000008"]          # bad event lines
assert [p["where"].rsplit(":", 1)[1] for p in r["problems"]] == ["4", "6"]
assert r["events"][-1]["name"] == "finish"
r = runs["checkpointing/llama3-8b/run/20260101_000009"]          # unfinished
assert r["status"] == "unfinished" and r["summary"] is None
r = runs["vectordb/bert-base/run/20260101_000005"]               # unknown workload
assert r["verdict"] is None and r["metadata"]["benchmark"] == "vectordb"
assert not [s for s in d["submissions"] if s["benchmark"] == "vectordb"]
assert any(p["where"] == "notes.txt" for p in d["problems"])
PY
[ "$(snapshot "$WORK/all")" = "$ALL_BEFORE" ] || fail "reportgen changed the tree it read"

# ---- where the reports go -----------------------------------------------------------------
# Never into the results tree, nor the tree itself; nothing is created there.
expect 2 1 reports reportgen -rd "$WORK/all" -o "$WORK/all/reports"
says "is inside the results directory"
expect 2 1 reports reportgen -rd "$WORK/all" -o "$WORK/all/checkpointing/../."
says "is the results directory"
ln -s "$WORK/all/training" "$WORK/link"
expect 2 1 reports reportgen -rd "$WORK/all" -o "$WORK/link/new"
[ "$(snapshot "$WORK/all")" = "$ALL_BEFORE" ] || fail "a refused reportgen changed the tree"
# By default a new ./mlpio_reports/<YYYYMMDD_HHMMSS>.
mkdir "$WORK/cwd"
(cd "$WORK/cwd" && "$MLPIO_BIN" reports reportgen -rd "$TREES/ckpt-pair" >"$OUT" 2>"$ERR") ||
    fail "reportgen with the default output directory failed"
made=$(ls -d "$WORK"/cwd/mlpio_reports/*)
[[ "$(basename "$made")" =~ ^[0-9]{8}_[0-9]{6}$ ]] || fail "default output directory: $made"
check_reports "$made" "$TREES/ckpt-pair"
# ... but not when the current directory is inside the results tree.
(cd "$WORK/all/training" && "$MLPIO_BIN" reports reportgen -rd "$WORK/all" >"$OUT" 2>"$ERR") &&
    fail "reportgen wrote its default directory inside the results tree"
says "is inside the results directory"
[ "$(snapshot "$WORK/all")" = "$ALL_BEFORE" ] || fail "a refused default changed the tree"
# A results directory that cannot be read leaves no empty report directory behind.
mkdir "$WORK/cwd2"
(cd "$WORK/cwd2" && "$MLPIO_BIN" reports reportgen -rd "$WORK/nowhere" >"$OUT" 2>"$ERR") &&
    fail "reportgen of a missing results directory succeeded"
[ ! -e "$WORK/cwd2/mlpio_reports" ] || fail "a failed reportgen made its default directory"
# An output directory that cannot be made.
touch "$WORK/afile"
expect 4 1 reports reportgen -rd "$TREES/closed" -o "$WORK/afile/out"

# ---- bad arguments --------------------------------------------------------------------------
expect 2 1 reports
expect 2 1 reports frobnicate
says "unknown command 'frobnicate'"
expect 2 1 reports reportgen
says "--results-dir is required"
expect 2 1 reports reportgen -rd
expect 2 1 reports reportgen -rd "$TREES/closed" --pdf
says "unknown argument '--pdf'"
expect 2 1 reports reportgen -rd "$WORK/nowhere" -o "$WORK/out2"
says "cannot open results directory"
[ ! -e "$WORK/out2" ] || fail "a failed reportgen created its output directory"
expect 0 1 reports reportgen --help
says "results.csv"
expect 0 1 help reports

# ---- under mpirun: rank 0 writes once -----------------------------------------------------
expect 0 2 reports reportgen -rd "$TREES/closed" -o "$WORK/out-np2"
check_reports "$WORK/out-np2" "$TREES/closed"
[ "$(grep -c '^wrote ' "$OUT")" -eq 1 ] || fail "under mpirun reportgen reports more than once"

[ "$(snapshot "$TREES")" = "$BEFORE" ] || fail "reportgen changed the fixture trees"
echo "ok"
