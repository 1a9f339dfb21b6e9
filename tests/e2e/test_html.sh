#!/usr/bin/env bash
# HTML reports in a real browser: small runs of every workload, their report.html and the
# page of their results tree, each opened in headless Chromium. A copy of each page gets a
# small checking script (the reports themselves have none) that records errors, policy
# violations and the rendered size of every chart into the DOM that Chromium dumps. One
# screenshot is kept for people to look at; its path is printed.
source "$MLPIO_TEST_LIB"

BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
    echo "SKIP: chromium is not installed (scripts/setup.sh installs Debian's chromium)"
    exit 77
fi
# The report writer is reached through the program that writes reports of given runs.
RENDER=${MLPIO_HTML_RENDER:-}
[ -x "$RENDER" ] || fail "missing html_render (MLPIO_HTML_RENDER='$RENDER'; build the test suite)"

RES="$WORK/res"
mkdir -p "$WORK/cache"
export MLPIO_PROGRESS_INTERVAL=0.2
expect 0 2 checkpointing run "${CKPT_SMALL[@]}" -ncw 3 -ncr 3 -cf "$WORK/ck" -rd "$RES"
CKPT=$(ls -d "$RES"/checkpointing/*/run/*/ | tail -n 1)
expect 0 2 training datagen --model unet3d --scale 0.0005 -dd "$WORK/data" -rd "$RES" \
    --params dataset.num_files_train=84
expect 0 2 training run --model unet3d --scale 0.0005 -dd "$WORK/data" -rd "$RES" \
    --params dataset.num_files_train=84 reader.computation_time=0.001 train.epochs=3 \
    --allow-invalid-params
TRAIN=$(ls -d "$RES"/training/unet3d/run/*/ | tail -n 1)
expect 0 2 kvcache run --model tiny-1b --scale 0.01 -nu 4 -d 2 --cpu-mem-gb 0.001 \
    --cache-dir "$WORK/cache" -rd "$RES" --allow-invalid-params
KV=$(ls -d "$RES"/kvcache/*/run/*/ | tail -n 1)

# A damaged copy of the checkpointing run: no summary, a line that is not an event, and a
# model name that is markup (it must show as text and never run).
BROKEN="$RES/checkpointing/llama3-8b/run/20000101_000000"
cp -r "$CKPT" "$BROKEN"
rm "$BROKEN/summary.json" "$BROKEN"/report.* 2>/dev/null || true
echo '{"timestamp": 1, "name": ' >>"$BROKEN/events.jsonl"
python3 - "$BROKEN" <<'PY'
import glob, json, sys
p = glob.glob(sys.argv[1] + "/*_metadata.json")[0]
m = json.load(open(p))
m["model"] = "<script>document.title='pwned'</script>&<b>x</b>"
json.dump(m, open(p, "w"))
PY

DATAGEN=$(ls -d "$RES"/training/unet3d/datagen/*/ | tail -n 1)
"$RENDER" run "$CKPT" "$TRAIN" "$KV" "$BROKEN" "$DATAGEN" >"$OUT" 2>"$ERR" ||
    fail "writing the run reports failed"

# The results document, as the results-tree scanner makes it.
python3 - "$RES" "$WORK/results.json" <<'PY' || fail "cannot build the results document"
import glob, json, os, sys
res, out = sys.argv[1], sys.argv[2]
runs = []
for d in sorted(glob.glob(res + "/*/*/*/*/")):
    d = d.rstrip("/")
    m = json.load(open(glob.glob(d + "/*_metadata.json")[0]))
    s = json.load(open(d + "/summary.json")) if os.path.exists(d + "/summary.json") else None
    v = m.get("verdict") or {}
    figures = {k: x for k, x in (s or {}).items()
               if isinstance(x, (int, float)) and not isinstance(x, bool)}
    runs.append({"path": os.path.relpath(d, res), "benchmark": m["benchmark"],
                 "model": m["model"], "command": m["command"], "run_id": m["run_id"],
                 "status": m["status"], "verdict": v.get("verdict"),
                 "recorded_verdict": v.get("verdict"), "issues": v.get("issues", []),
                 "problems": [] if s else [{"where": "summary.json", "what": "missing",
                                            "fix": "run it again"}],
                 "metadata": m, "summary": s, "events": None,
                 "figures": dict(list(figures.items())[:6])})
counts = {"runs": len(runs), "submissions": 0, "problems": 1,
          "closed": sum(r["verdict"] == "CLOSED" for r in runs),
          "open": sum(r["verdict"] == "OPEN" for r in runs),
          "invalid": sum(r["verdict"] == "INVALID" for r in runs)}
json.dump({"mlpio_version": "0.1.0", "generated": "2026-01-01T00:00:00Z", "results_dir": res,
           "counts": counts, "runs": runs, "submissions": [], "problems": []}, open(out, "w"))
PY
"$RENDER" tree "$WORK/results.json" "$WORK/tree.html" >"$OUT" 2>"$ERR" ||
    fail "writing the tree report failed"

chrome() {
    timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$WORK/chrome" --no-first-run --enable-logging=stderr --v=0 "$@"
}

# check PAGE MIN_CHARTS PYTHON: render a copy of PAGE with the checking script, then assert on
# r (what the script recorded) and dom (the page as Chromium parsed it).
check() {
    local page=$1 min=$2 extra=${3:-}
    local copy="$WORK/check-$(basename "$(dirname "$page")")-$(basename "$page")"
    python3 - "$page" "$copy" <<'PY' || fail "cannot instrument $page"
import sys
src, dst = sys.argv[1], sys.argv[2]
html = open(src, encoding="utf-8").read()
probe = """<script>
var mlpioErrors = [];
addEventListener('error', function (e) { mlpioErrors.push('error: ' + e.message); });
document.addEventListener('securitypolicyviolation', function (e) {
  mlpioErrors.push('policy: ' + e.violatedDirective + ' ' + e.blockedURI); });
['error', 'warn'].forEach(function (k) { var f = console[k];
  console[k] = function () { mlpioErrors.push(k + ': ' + [].join.call(arguments, ' '));
  f.apply(console, arguments); }; });
addEventListener('load', function () {
  var charts = [].map.call(document.querySelectorAll('svg'), function (s) {
    var b = s.getBoundingClientRect();
    return {w: b.width, h: b.height, title: (s.querySelector('title') || {}).textContent || '',
            marks: s.querySelectorAll('rect,polyline,circle,path').length}; });
  var p = document.createElement('pre'); p.id = 'mlpio-check';
  p.textContent = JSON.stringify({errors: mlpioErrors, charts: charts, title: document.title});
  document.body.appendChild(p); });
</script>
"""
head = '<meta charset="utf-8">\n'
assert html.startswith("<!DOCTYPE html>") and head in html, "not an HTML5 page with a charset"
open(dst, "w", encoding="utf-8").write(html.replace(head, head + probe, 1))
PY
    chrome --dump-dom "file://$copy" >"$copy.dom" 2>"$copy.log" || fail "chromium failed on $page"
    if grep -E "CONSOLE|Uncaught" "$copy.log" >&2; then
        fail "console messages while rendering $page"
    fi
    python3 - "$copy.dom" "$min" "$extra" <<'PY' || fail "$page did not render as expected"
import html as H, json, re, sys
dom, want = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2])
m = re.search(r'<pre id="mlpio-check">(.*?)</pre>', dom, re.S)
assert m, "the checking script did not run"
r = json.loads(H.unescape(m.group(1)))
assert r["errors"] == [], r["errors"]
charts = r["charts"]
assert len(charts) >= want, "%d charts, expected at least %d" % (len(charts), want)
for c in charts:
    assert c["w"] > 100 and c["h"] > 60, c
    assert c["title"] and c["marks"] > 3, c
exec(sys.argv[3])
PY
}

order='i = [dom.index(x) for x in ('"'"'id="verdict"'"'"', '"'"'id="figures"'"'"')]; assert i == sorted(i), i'
check "$CKPT/report.html" 4 "$order
assert 'Throughput over time, by phase' in dom and 'Spread between ranks' in dom"
check "$TRAIN/report.html" 3 "$order
assert 'Accelerator utilisation (AU) per epoch' in dom and 'What makes it INVALID' in dom"
check "$KV/report.html" 5 "$order
assert 'KV cache hit rate per tier' in dom and 'Storage reads' in dom"
check "$BROKEN/report.html" 1 "$order
assert 'id=\"no-summary\"' in dom and '1 of' in dom and 'lines were skipped' in dom
assert r['title'] != 'pwned' and '&lt;script&gt;document.title' in dom, r['title']"
check "$WORK/tree.html" 3 "
i = [dom.index(x) for x in ('id=\"figures\"', 'id=\"INVALID\"', 'id=\"OPEN\"', 'id=\"CLOSED\"', 'id=\"cards\"')]
assert i == sorted(i), i
assert dom.count('class=\"card\"') == 5 and 'summary.json' in dom"

# One screenshot to look at, kept after the scratch directory goes.
SHOT="${TMPDIR:-/tmp}/mlpio-e2e-html-report.png"
chrome --screenshot="$SHOT" --window-size=1280,2400 "file://$CKPT/report.html" \
    >"$OUT" 2>"$ERR" || fail "chromium could not take a screenshot"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' ')" = "89504e470d0a1a0a" ] || fail "no PNG at $SHOT"
echo "screenshot: $SHOT"
echo "ok"
