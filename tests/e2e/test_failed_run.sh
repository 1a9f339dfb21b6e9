#!/usr/bin/env bash
# A run that fails in the middle measured nothing the rules can judge: what it prints, its
# summary, metadata, report.txt and "finish" event give no verdict (neither OPEN nor CLOSED),
# only the error; validate and reportgen list it apart with its error and chart none of it.
source "$(dirname "$0")/lib.sh"

# Rank 1's checkpoint file is taken by a directory: the write phase fails on rank 1.
mkdir -p "$WORK/ck/global_epoch1_step1/zero_pp_rank_1_mp_rank_0_optim_states.pt"
expect 4 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 1 -ncr 0 -cf "$WORK/ck" -rd "$WORK/res"
says "verdict (run): none, the run failed: rank 1: open of"
grep -E '^verdict \(run\): (OPEN|CLOSED|INVALID)' "$OUT" && fail "the failed run printed a verdict"
RUN=$(last_run "$WORK/res")
failed_run "$RUN" 4 '
s = json.load(open(d + "/summary.json"))
assert s["verdict"] is None and s["exit_code"] == 4, (s["verdict"], s["exit_code"])
assert m["verdict"] is None, m["verdict"]
assert "verdict" not in ev[-1]["context"], ev[-1]
assert "EISDIR" in m["exit_status"]["error"] and m["exit_status"]["hint"], m["exit_status"]
'
grep -q '^verdict: none (the run failed)$' "$RUN/report.txt" || fail "report.txt gives a verdict"
grep -qE 'class="big">(OPEN|CLOSED|INVALID)<' "$RUN/report.html" &&
    fail "report.html gives the failed run a verdict"

# validate: the run is listed apart with its error, and the tree is not valid.
expect 3 1 validate --open "$WORK/res"
says "1 runs (0 CLOSED, 0 OPEN, 0 INVALID, 1 failed, 0 not judged)"
says "Failed runs (no verdict: they measured nothing to judge):"
says "    exit 4: rank 1: open of"
grep -q "^OPEN runs" "$OUT" && fail "validate lists the failed run as OPEN"

# reportgen: counted as failed, listed with its error, in no chart.
expect 0 1 reports reportgen -rd "$WORK/res" -o "$WORK/rep"
says "1 runs (0 CLOSED, 0 OPEN, 0 INVALID, 1 failed, 0 not judged)"
python3 - "$WORK/rep" <<'PY' || fail "reportgen shows the failed run as a measured one"
import json, re, sys
d = json.load(open(sys.argv[1] + "/results.json"))
r = d["runs"][0]
assert r["status"] == "failed" and r["verdict"] is None and r["error"]["code"] == 4, r["error"]
assert d["counts"]["failed"] == 1 and d["counts"]["open"] == 0, d["counts"]
html = open(sys.argv[1] + "/results.html").read()
failed = html[html.index('<section id="failed">'):]
assert "rank 1: open of" in failed[:failed.index("</section>")]
assert "<svg" not in html, "a failed run is charted"
PY
echo "ok"
