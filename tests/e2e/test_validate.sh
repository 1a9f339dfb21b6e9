#!/usr/bin/env bash
# mlpio validate: the verdicts of a results tree and the exit code they give, on the fixture
# trees (tests/fixtures/trees, one case each) and on a tree of real runs; --open, --json and
# --checklist; bad arguments; under mpirun; and the tree left exactly as it was.
source "$(dirname "$0")/lib.sh"
TREES="$MLPIO_FIXTURES/trees"

# snapshot DIR: every entry below DIR with its type, size, mtime and mode, and every file's
# checksum: two equal snapshots mean nothing was created, changed or removed.
snapshot() {
    (cd "$1" && find . -printf '%p %y %s %T@ %m\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0 -r md5sum)
}

# line_of TEXT: the first line number of stdout that holds TEXT (0 when none).
line_of() {
    local n
    n=$(grep -nF -- "$1" "$OUT" | head -n 1 | cut -d: -f1)
    echo "${n:-0}"
}

BEFORE=$(snapshot "$TREES")

# ---- a complete CLOSED tree -------------------------------------------------------------
expect 0 1 validate "$TREES/closed"
says "11 runs (10 CLOSED, 0 OPEN, 0 INVALID, 0 failed, 1 not judged), 6 submission groups, 0 problems"
says "CLOSED  training unet3d h100 (7 runs)"
says "CLOSED  kvcache * options (3 runs)"
says "result: valid (exit 0)"
expect 0 1 validate "$TREES/ckpt-pair"

# ---- verdicts in order: INVALID, then OPEN with what to change, then CLOSED, then the rest --
mkdir "$WORK/mixed"
cp -rp "$TREES/scaled/." "$TREES/ckpt-pair/." "$WORK/mixed/"
expect 3 1 validate "$WORK/mixed"
inv=$(line_of "INVALID runs:")
opn=$(line_of "OPEN runs (change these for CLOSED):")
cls=$(line_of "CLOSED runs:")
unj=$(line_of "Runs not judged")
grp=$(line_of "Submission groups:")
[ "$inv" -gt 0 ] && [ "$inv" -lt "$opn" ] && [ "$opn" -lt "$cls" ] && [ "$cls" -lt "$unj" ] &&
    [ "$unj" -lt "$grp" ] || fail "sections out of order: $inv $opn $cls $unj $grp"
# An OPEN run lists what to change, with the fix.
says "OPEN    scale: scale 0.0005 shrinks each checkpoint"
says "fix: run with --scale 1"
says "training/unet3d/datagen/20261122_011719  (success)"
says "result: not valid (exit 3)"

# ---- --open accepts OPEN, never INVALID -------------------------------------------------
mkdir -p "$WORK/open/checkpointing/llama3-8b/run"
cp -rp "$TREES/scaled/checkpointing/llama3-8b/run/." "$WORK/open/checkpointing/llama3-8b/run/"
expect 3 1 validate "$WORK/open"
says "OPEN    checkpointing llama3-8b submission (1 run)"
expect 0 1 validate --open "$WORK/open"
expect 3 1 validate --open "$TREES/scaled"

# ---- every malformed case: exit 3, the problem, where and how to fix it ----------------------
check_case() {
    local tree=$1
    shift
    expect 3 1 validate "$TREES/$tree"
    for text in "$@"; do says "$text"; done
    grep -q "^Problems:" "$OUT" || fail "$tree: no Problems section"
    grep -q "^    fix: " "$OUT" || fail "$tree: a problem without its fix"
}
check_case file-where-dir "notes.txt: a file where a benchmark directory is expected" \
    "training/resnet50/run: a file where a command directory is expected"
check_case unexpected-dir "checkpointing/llama3-8b/run/old-plots: unexpected directory"
check_case missing-metadata "no metadata file (checkpointing_20260101_000002_metadata.json)"
check_case truncated-metadata "invalid JSON at line 109, column 10"
check_case invalid-summary "summary.json: invalid JSON at line 4, column 2"
check_case unknown-workload "unknown workload \"vectordb\": the run is listed, not judged"
check_case newer-version "written by mlpio 99.1.0, newer than this mlpio"
check_case missing-summary "summary.json is missing"
check_case events-bad-lines "events.jsonl:4: line 4: empty line" \
    "events.jsonl:6: line 6: not valid JSON"
check_case unfinished "unfinished run: no \"finish\" event" \
    "run checkpointing/llama3-8b/run/20260101_000009 is unfinished"
check_case verdict-mismatch "recorded the verdict CLOSED, the rules now judge it OPEN"
check_case unjudgeable "the rules cannot judge the run: run description: field \"world_size\""
check_case moved-run "the metadata says model \"llama3-8b\", the directory says \"llama3-70b\""

# All of them in one tree: every run is listed, every problem reported.
mkdir "$WORK/all"
for t in "$TREES"/*/; do cp -rp "$t." "$WORK/all/"; done
ALL_BEFORE=$(snapshot "$WORK/all")
expect 3 1 validate --json "$WORK/all"
python3 - "$OUT" <<'PY' || fail "merged tree: runs or problems missing"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["counts"]
assert c["runs"] == 32 and c["problems"] == 15, c
assert c["closed"] + c["open"] + c["invalid"] + c["failed"] + c["not_judged"] == c["runs"], c
statuses = sorted(r["status"] for r in d["runs"])
assert statuses.count("unreadable") == 2 and statuses.count("unfinished") == 1, statuses
assert statuses.count("failed") == c["failed"] == 1, statuses
PY
[ "$(snapshot "$WORK/all")" = "$ALL_BEFORE" ] || fail "validate changed the tree it read"

# ---- what is not a results tree ----------------------------------------------------------
mkdir "$WORK/empty"
expect 3 1 validate "$WORK/empty"
says "no run directories in"
expect 2 1 validate "$WORK/nowhere"
says "cannot open results directory $WORK/nowhere"
says "hint: pass the directory the runs wrote to"
touch "$WORK/afile"
expect 2 1 validate "$WORK/afile"
says "is not a directory"
expect 2 1 validate
says "no results directory"
expect 2 1 validate --frobnicate "$TREES/closed"
says "unknown option '--frobnicate'"
expect 2 1 validate "$TREES/closed" "$TREES/scaled"
expect 0 1 validate --help
says "Exit codes:"

# ---- --json and --checklist ---------------------------------------------------------------
expect 0 1 validate --json "$TREES/closed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["counts"]["closed"] == 10' \
    "$OUT" || fail "--json is not the results document"
for b in training checkpointing kvcache; do
    expect 0 1 validate --checklist "$b"
    says "CLOSED requirements of $b:"
    grep -q '^  \[ \] run: ' "$OUT" || fail "--checklist $b: no run requirement"
    grep -q '^  \[ \] submission: ' "$OUT" || fail "--checklist $b: no submission requirement"
done
expect 0 1 validate --checklist training
says "submission: 6 runs (1 warm-up + 5 measured)"
expect 0 1 validate --checklist checkpointing
says "the read run starts within 30 s of the writes' end"
expect 0 1 validate --checklist kvcache
says "a completed run of each of the options 1, 2 and 3"
expect 2 1 validate --checklist vectordb
says "choose one of checkpointing, kvcache, training"

# ---- under mpirun: rank 0 reads and prints once, every rank exits with its code -------------
expect 3 2 validate "$TREES/scaled"
[ "$(grep -c '^result: ' "$OUT")" -eq 1 ] || fail "under mpirun the report is printed more than once"
expect 0 2 validate "$TREES/closed"

# ---- real runs ----------------------------------------------------------------------------
expect 0 1 checkpointing run "${CKPT_SMALL[@]}" -ncw 2 -ncr 2 -cf "$WORK/ckpt" -rd "$WORK/res"
expect 3 1 validate "$WORK/res"
says "1 runs (0 CLOSED, 1 OPEN, 0 INVALID, 0 failed, 0 not judged), 1 submission groups, 0 problems"
expect 0 1 validate --open "$WORK/res"
# The same run, cut before its end: the log loses "finish", the metadata still says running.
RUN=$(last_run "$WORK/res")
grep -v '"name":"finish"' "$RUN/events.jsonl" >"$WORK/ev" && cp "$WORK/ev" "$RUN/events.jsonl"
python3 - "$RUN" <<'PY'
import glob, json, sys
p = glob.glob(sys.argv[1] + "/*_metadata.json")[0]
m = json.load(open(p))
m["status"] = "running"
json.dump(m, open(p, "w"))
PY
expect 3 1 validate --open "$WORK/res"
says "unfinished run"

[ "$(snapshot "$TREES")" = "$BEFORE" ] || fail "validate changed the fixture trees"
echo "ok"
