#!/usr/bin/env bash
# The dataset files written by the formats open in the frameworks' own readers: numpy.load for
# npz, and a tfrecord reader written independently of mlpio that checks both CRCs of every record
# and the Example inside. The files come from the round trips of the test_formats unit test.
# The other way round, mlpio's readers take files written by numpy.savez and by an independent
# tfrecord writer.
source "$(dirname "$0")/lib.sh"

TEST_BIN="$(dirname "$MLPIO_BIN")/../tests/test_formats"
[ -x "$TEST_BIN" ] || fail "test_formats not built next to $MLPIO_BIN"

# numpy may live only in the system interpreter when another python3 comes first in PATH.
PY=python3
"$PY" -c 'import numpy' 2>/dev/null || PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || fail "numpy is not installed (apt install python3-numpy)"

mkdir -p "$WORK/files"
MLPIO_FORMATS_KEEP="$WORK/files" "$TEST_BIN" >"$OUT" 2>"$ERR" || fail "test_formats failed"
ls "$WORK/files"/*.npz >/dev/null 2>&1 || fail "no npz file kept"
ls "$WORK/files"/*.tfrecord >/dev/null 2>&1 || fail "no tfrecord file kept"
"$PY" "$E2E_DIR/check_formats.py" "$WORK/files" >"$OUT" 2>"$ERR" || fail "independent readers"

mkdir -p "$WORK/foreign"
"$PY" "$E2E_DIR/check_formats.py" write "$WORK/foreign" >"$OUT" 2>"$ERR" || fail "writing foreign files"
MLPIO_FORMATS_FOREIGN="$WORK/foreign" "$TEST_BIN" >"$OUT" 2>"$ERR" || fail "mlpio cannot read foreign files"
grep -q "OK.*test_foreign" "$OUT" || fail "foreign files not read"

# The readers must notice damage: one flipped byte in a tfrecord's image, one in an npz payload.
f=$(ls "$WORK/files"/tfrecord_three_*.tfrecord)
printf '\xff' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
if "$PY" "$E2E_DIR/check_formats.py" "$WORK/files" >"$OUT" 2>"$ERR"; then
    fail "check_formats.py accepted a damaged tfrecord"
fi
grep -q "data CRC mismatch" "$OUT" || fail "damaged tfrecord not reported as a CRC mismatch"
rm "$f"
f=$(ls "$WORK/files"/npz_three_*.npz)
printf '\xff' | dd of="$f" bs=1 seek=600 conv=notrunc status=none
if "$PY" "$E2E_DIR/check_formats.py" "$WORK/files" >"$OUT" 2>"$ERR"; then
    fail "check_formats.py accepted a damaged npz"
fi
grep -q "x.npy fails its CRC" "$OUT" || fail "damaged npz not reported as a CRC mismatch"
exit 0
