#!/usr/bin/env bash
# HDF5 files written by mlpio, checked by an independent reader (h5py): the hdf5 format's
# "records" has shape (samples, d1, d2) and dtype uint8, "labels" shape (samples,), and every
# sample holds the bytes it was written from; the hdf5 backend's byte file is one uint8 dataset
# "data" holding exactly what was written. The files come from the unit test of the hdf5 code,
# which leaves them, with their expected bytes (<name>.raw), in MLPIO_HDF5_KEEP_DIR.
source "$(dirname "$0")/lib.sh"
if ! built_in backends hdf5; then
    echo "SKIP: this mlpio is built without HDF5 (-DMLPIO_HDF5=OFF)"
    exit 77
fi

TEST_BIN="$(dirname "$MLPIO_BIN")/../tests/test_hdf5"
[ -x "$TEST_BIN" ] || fail "no unit-test binary at $TEST_BIN"

# The first python3 on PATH may be one without h5py (a pyenv build); the system one has it.
PY=
for cand in python3 /usr/bin/python3; do
    if "$cand" -c 'import h5py' 2>/dev/null; then
        PY=$cand
        break
    fi
done
[ -n "$PY" ] || fail "h5py is not installed for any python3 (apt-get install python3-h5py)"

mkdir -p "$WORK/h5"
MLPIO_HDF5_KEEP_DIR="$WORK/h5" "$TEST_BIN" >"$OUT" 2>"$ERR" || fail "test_hdf5 failed"
ls "$WORK"/h5/fmt_*.h5 >/dev/null 2>&1 || fail "test_hdf5 left no dataset files in $WORK/h5"

"$PY" - "$WORK/h5" <<'PY' >"$OUT" 2>"$ERR" || fail "h5py disagrees with mlpio's HDF5 files"
import glob, os, re, sys
import h5py
import numpy as np

folder = sys.argv[1]
names = sorted(glob.glob(os.path.join(folder, "fmt_*.h5")))
assert len(names) >= 4, names
for path in names:
    spf, d1, d2 = map(int, re.match(r"fmt_(\d+)_(\d+)_(\d+)\.h5$", os.path.basename(path)).groups())
    raw = np.fromfile(path + ".raw", dtype=np.uint8)
    with h5py.File(path, "r") as f:
        assert sorted(f.keys()) == ["labels", "records"], (path, list(f.keys()))
        rec, lab = f["records"], f["labels"]
        assert rec.shape == (spf, d1, d2), (path, rec.shape)
        assert rec.dtype == np.uint8, (path, rec.dtype)
        assert lab.shape == (spf,) and lab.dtype == np.int64, (path, lab.shape, lab.dtype)
        sample = d1 * d2
        # One sample by itself, as a data loader takes it, then the whole dataset.
        i = spf // 2
        assert rec[i].tobytes() == raw[i * sample:(i + 1) * sample].tobytes(), (path, i)
        assert np.array_equal(rec[...].reshape(-1), raw), path
        assert not lab[...].any(), path
    print("ok", os.path.basename(path))

path = os.path.join(folder, "bytes.h5")
raw = np.fromfile(path + ".raw", dtype=np.uint8)
with h5py.File(path, "r") as f:
    assert list(f.keys()) == ["data"], list(f.keys())
    d = f["data"]
    assert d.shape == raw.shape and d.dtype == np.uint8, (d.shape, d.dtype)
    assert np.array_equal(d[...], raw)
print("ok bytes.h5")
PY
grep -q "ok bytes.h5" "$OUT" || fail "the byte file was not checked"

# h5dump, HDF5's own tool, sees the same layout.
if command -v h5dump >/dev/null; then
    f=$(ls "$WORK"/h5/fmt_5_17_29.h5)
    h5dump -H "$f" >"$OUT" 2>"$ERR" || fail "h5dump cannot read $f"
    grep -q 'DATASPACE  SIMPLE { ( 5, 17, 29 )' "$OUT" || fail "h5dump: records is not (5, 17, 29)"
    grep -q 'H5T_STD_U8LE' "$OUT" || fail "h5dump: records is not uint8"
fi
echo "e2e hdf5: ok"
