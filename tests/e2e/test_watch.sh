#!/usr/bin/env bash
# mlpio watch: printing a log in each time style, following a log as it grows (synchronised
# through a FIFO: the test waits for each line before writing more), and the ends of a watch:
# finish, --wait-event, --timeout, --waitcreate, a shortened, overwritten, replaced or removed
# log, bad lines, and a 10,000-event log read once.
source "$(dirname "$0")/lib.sh"
FIX="$MLPIO_FIXTURES/events"
export TZ=UTC
WPID=
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; rm -rf "$WORK"' EXIT

# ev NAME [CONTEXT]: one event line, as mlpio writes it.
ev() {
    printf '{"timestamp":1714566896.5,"name":"%s","context":%s}\n' "$1" "${2:-{\}}"
}

# start_watch ARGS...: mlpio watch in the background, stdout and stderr into one FIFO that the
# test reads on fd 3. Every follow also has a --timeout, so no failure can hang the test.
start_watch() {
    rm -f "$WORK/fifo"
    mkfifo "$WORK/fifo"
    "$MLPIO_BIN" watch "$@" >"$WORK/fifo" 2>&1 &
    WPID=$!
    exec 3<"$WORK/fifo"
}

# next REGEX: the next line watch prints matches REGEX (waits for it up to 20 s).
next() {
    local line
    IFS= read -r -t 20 line <&3 || fail "watch printed nothing more; expected /$1/"
    [[ "$line" =~ $1 ]] || fail "watch printed '$line'; expected /$1/"
}

# end_watch CODE: watch exits with CODE; what it printed after the last `next` is in $REST.
end_watch() {
    local code=0
    REST=$(timeout 20 cat <&3) || true
    exec 3<&-
    wait "$WPID" || code=$?
    WPID=
    [ "$code" -eq "$1" ] || fail "watch exited $code, expected $1; its last output: $REST"
}

# ---- printing ---------------------------------------------------------------------------
for style in raw iso offset human; do
    expect 0 1 watch --time "$style" "$FIX/good.jsonl"
    cmp -s "$OUT" "$FIX/good.$style.txt" || fail "--time $style differs from good.$style.txt"
    [ ! -s "$ERR" ] || fail "--time $style: unexpected stderr"
done
expect 0 1 watch "$FIX/good.jsonl"
cmp -s "$OUT" "$FIX/good.iso.txt" || fail "the default time style is not iso"
expect 0 1 watch --json "$FIX/good.jsonl"
cmp -s "$OUT" "$FIX/good.jsonl" || fail "--json does not pass lines through unchanged"
TZ=IST-5:30 expect 0 1 watch --time human "$FIX/good.jsonl"
grep -q '^18:04:56.123 start ' "$OUT" || fail "--time human ignores TZ"

# A run directory means its events.jsonl; under mpirun only rank 0 prints.
mkdir -p "$WORK/run"
cp "$FIX/good.jsonl" "$WORK/run/events.jsonl"
expect 0 1 watch --time raw "$WORK/run"
cmp -s "$OUT" "$FIX/good.raw.txt" || fail "a run directory is not read as its events.jsonl"
expect 0 2 watch --time raw "$WORK/run/"
cmp -s "$OUT" "$FIX/good.raw.txt" || fail "under mpirun -np 2 the log is not printed once"

# A log without "finish": printed, with a warning, exit 0.
expect 0 1 watch "$FIX/nofinish.jsonl"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "nofinish.jsonl: 3 events expected"
grep -q 'warning: .*nofinish.jsonl has no "finish" event after 3 events: finish never received' \
    "$ERR" || fail "no warning about the missing finish"
# A missing log.
expect 4 1 watch "$WORK/none"
says "cannot open event log $WORK/none"
says "--waitcreate"

# A FIFO (or a device) is no event log: refused at once, even with --follow and a timeout,
# rather than waiting in open() for a writer that never comes. `timeout` only bounds a hang.
mkfifo "$WORK/pipe"
set +e
timeout 20 "$MLPIO_BIN" watch --follow --timeout 2 "$WORK/pipe" >"$OUT" 2>"$ERR"
CODE=$?
set -e
[ "$CODE" -eq 4 ] || fail "watch of a FIFO: expected exit 4, got $CODE (124: it hung)"
says "$WORK/pipe is not a regular file"
expect 4 1 watch /dev/null
says "/dev/null is not a regular file"

# Bad lines: exit 4, FILE:LINE (byte offset) and the reason, events before them printed.
check_bad() { # FIXTURE LINE BYTE REASON EVENTS_BEFORE
    expect 4 1 watch "$FIX/$1"
    says "$FIX/$1:$2 (byte $3): invalid event log line: $4"
    [ "$(wc -l <"$OUT")" -eq "$5" ] || fail "$1: $5 events expected before the bad line"
}
check_bad bad-empty-line.jsonl 3 286 "empty line" 2
check_bad bad-two-objects.jsonl 2 145 "unexpected data after the event" 1
check_bad bad-context-array.jsonl 2 145 '"context" is not an object' 1
check_bad bad-negative-timestamp.jsonl 4 378 '"timestamp" is not a number >= 0' 3
check_bad bad-not-json.jsonl 1 0 "not valid JSON" 0

# Help.
expect 0 1 watch --help
says "--wait-event NAME"
says "--match-context K=V"
says "human   local time of day"
says "finish never received"
says "124  --timeout expired first"
expect 0 1 help watch
says "Time styles:"
expect 0 1 --help
says "watch"
expect 2 1 watch --time utc "$FIX/good.jsonl"
says "unknown time style 'utc'"

# ---- following --------------------------------------------------------------------------
# Appends while following: each line shows before the next is written; inotify and polling.
for mode in inotify --poll; do
    d="$WORK/follow-$mode"
    mkdir -p "$d"
    : >"$d/events.jsonl"
    opts=(--follow --time raw --timeout 30)
    [ "$mode" = --poll ] && opts+=(--poll)
    start_watch "${opts[@]}" "$d"
    ev start '{"run_id":"r1","np":2}' >>"$d/events.jsonl"
    next '^1714566896\.500000 start run_id=r1 np=2$'
    ev progress '{"phase":"write","done":1}' >>"$d/events.jsonl"
    next '^1714566896\.500000 progress phase=write done=1$'
    { ev progress '{"done":2}'; ev progress '{"done":3}'; } >>"$d/events.jsonl"
    next 'progress done=2$'
    next 'progress done=3$'
    ev finish '{"exit_code":0}' >>"$d/events.jsonl"
    next 'finish exit_code=0$'
    end_watch 0
    [ -z "$REST" ] || fail "($mode) output after finish: $REST"
done

# A partial line: nothing is printed until its newline arrives (--verbose reports each read,
# after the events it completed, so the line after a read report shows what was printed).
f="$WORK/partial.jsonl"
: >"$f"
start_watch --follow --verbose --time raw --timeout 30 "$f"
printf '%s' '{"timestamp":1714566896.5,"name":"half",' >>"$f"
next '^mlpio watch: read 40 bytes, offset 40, 40 bytes of an unfinished line$'
printf '%s' '"context":{"k":' >>"$f"
next '^mlpio watch: read 15 bytes, offset 55, 55 bytes of an unfinished line$'
printf '%s\n' '"v"}}' >>"$f"
next '^1714566896\.500000 half k=v$'
next '^mlpio watch: read 6 bytes, offset 61, 0 bytes of an unfinished line$'
ev finish >>"$f"
next 'finish$'
end_watch 0

# A shortened log is an error.
f="$WORK/short.jsonl"
{ ev start; ev progress '{"i":1}'; } >"$f"
start_watch --follow --time raw --timeout 30 "$f"
next ' start$'
next ' progress i=1$'
truncate -s 10 "$f"
next "error: event log $f was shortened: 10 bytes now, 118 already read"
end_watch 4

# Bytes already read that change (same size) are an error. The log is given an old mtime first,
# so that the rewrite changes it whatever the file system's clock resolution.
f="$WORK/rewrite.jsonl"
{ ev start; ev progress '{"i":1}'; } >"$f"
touch -d '2001-01-01 00:00:00' "$f"
start_watch --follow --time raw --timeout 30 "$f"
next ' start$'
next ' progress i=1$'
printf '2' | dd of="$f" bs=1 seek=114 conv=notrunc status=none
next "error: event log $f was overwritten: bytes before offset 118 changed"
end_watch 4

# A log replaced by another file (rename over it) is overwritten too.
f="$WORK/replaced.jsonl"
ev start >"$f"
start_watch --follow --time raw --timeout 30 "$f"
next ' start$'
{ ev start; ev finish; } >"$f.new"
mv "$f.new" "$f"
next "error: event log $f was overwritten: the path now names another file"
end_watch 4

# A removed log ends the watch with a message.
f="$WORK/removed.jsonl"
ev start >"$f"
start_watch --follow --time raw --timeout 30 "$f"
next ' start$'
rm "$f"
next "error: event log $f was removed after 1 events; \"finish\" never received"
end_watch 125

# --wait-event with --match-context: stops after the first event that matches them all.
f="$WORK/wait.jsonl"
: >"$f"
start_watch --wait-event phase_end --match-context phase=read --match-context ok=true \
    --time raw --timeout 30 "$f"
ev phase_end '{"phase":"write","ok":true}' >>"$f"
next 'phase_end phase=write ok=true$'
ev phase_end '{"phase":"read","ok":false}' >>"$f"
next 'phase_end phase=read ok=false$'
ev phase_end '{"phase":"read","ok":true,"n":3}' >>"$f"
next 'phase_end phase=read ok=true n=3$'
end_watch 0
[ -z "$REST" ] || fail "--wait-event printed more after the event: $REST"
# In a complete log: stops at the event.
expect 0 1 watch --wait-event phase_begin --match-context phase=write "$FIX/good.jsonl"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "--wait-event phase_begin: 3 events expected"
# "finish" without the awaited event ends the watch with 125.
expect 125 1 watch --wait-event finish --match-context exit_code=1 "$FIX/good.jsonl"
says "without event 'finish' with exit_code=1"

# --timeout: exit 124 with a message, after the events there are.
t0=$(date +%s%N)
expect 124 1 watch --follow --timeout 0.5 --time raw "$FIX/nofinish.jsonl"
t1=$(date +%s%N)
[ $((t1 - t0)) -ge 500000000 ] || fail "--timeout 0.5 returned after $(((t1 - t0) / 1000000)) ms"
[ "$(wc -l <"$OUT")" -eq 3 ] || fail "--timeout: the 3 events should be printed"
says "watch timed out after 0.5 s: \"finish\" never received in $FIX/nofinish.jsonl"

# --waitcreate: a run directory, then its events.jsonl, created after the watch starts.
d="$WORK/later/run"
start_watch --waitcreate --follow --verbose --time raw --timeout 30 "$d"
next "^mlpio watch: waiting for $d to be created$"
mkdir -p "$d"
next "^mlpio watch: waiting for $d/events.jsonl to be created$"
{ ev start; ev finish '{"exit_code":0}'; } >"$d/events.jsonl.tmp"
mv "$d/events.jsonl.tmp" "$d/events.jsonl"
next ' start$'
next ' finish exit_code=0$'
next "^mlpio watch: read 124 bytes"
end_watch 0
expect 124 1 watch --waitcreate --timeout 0.3 "$WORK/never"
says "timed out after 0.3 s waiting for $WORK/never to be created"

# Ctrl-C ends a follow with 130.
f="$WORK/interrupt.jsonl"
ev start >"$f"
start_watch --follow --time raw --timeout 30 "$f"
next ' start$'
kill -INT "$WPID"
next "error: watch of $f interrupted"
end_watch 130

# ---- 10,000 events appended while watch follows: each byte read once ---------------------
f="$WORK/big.jsonl"
ev start >"$f"
start_watch --follow --stats --time raw --timeout 60 "$f"
next ' start$'
python3 - "$f" <<'PY'
import json, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for i in range(10000):
    ctx = {"phase": "write", "i": i, "bytes": 7026602, "GB_per_second": 0.58 + i * 1e-6}
    line = json.dumps({"timestamp": 1714566897 + i * 0.001, "name": "progress", "context": ctx},
                      separators=(",", ":")) + "\n"
    os.write(fd, line.encode())  # one write per event, as mlpio's writer does
os.write(fd, b'{"timestamp":1714566907.5,"name":"finish","context":{"exit_code":0}}\n')
PY
end_watch 0
size=$(stat -c %s "$f")
[ "$(grep -c ' progress phase=write i=' <<<"$REST")" -eq 10000 ] || fail "not 10,000 events"
grep -q ' finish exit_code=0$' <<<"$REST" || fail "no finish"
stats=$(grep 'mlpio watch: stats:' <<<"$REST") || fail "no --stats line"
[[ "$stats" =~ bytes_read=([0-9]+)\ file_size=([0-9]+)\ reads=([0-9]+) ]] || fail "stats: $stats"
[ "${BASH_REMATCH[1]}" -eq "$size" ] || fail "read ${BASH_REMATCH[1]} bytes of a $size-byte log"
[ "${BASH_REMATCH[2]}" -eq "$size" ] || fail "stats file_size ${BASH_REMATCH[2]} != $size"
[ "${BASH_REMATCH[3]}" -ge 2 ] || fail "the log was not followed (one read)"
# A write updates the file's mtime before its size, so a poll between the two sees a new mtime
# at the old size and re-reads the last window (at most MLPIO_WATCH_WINDOW = 128 bytes) to rule
# out an overwrite. That is allowed; reading the log itself again is not.
[[ "$stats" =~ rechecks=([0-9]+)\ bytes_rechecked=([0-9]+) ]] || fail "stats: $stats"
[ "${BASH_REMATCH[2]}" -le $((BASH_REMATCH[1] * 128)) ] ||
    fail "a recheck read more than the 128-byte window: $stats"
[ "${BASH_REMATCH[2]}" -lt $((size / 100)) ] || fail "an append-only log was read again: $stats"
echo "10,000 events: $stats"

echo "ok"
