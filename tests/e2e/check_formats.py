"""Independent readers of the dataset files mlpio writes.

Every *.npz must open with numpy.load (through Python's zipfile, which checks each member's
CRC-32) as stored members x (uint8, 3 dimensions) and y (int64, one label per sample). Every
*.tfrecord is parsed here with struct and a CRC-32C written in Python: both masked CRCs of every
record must match, and each record must be a tf.train.Example whose "image" bytes are as long
as its "size" value says. Names of the form <anything>_<d1>x<d2>x<spf>.<ext> are also checked
against that shape.

Usage: check_formats.py DIR   (exit 0 when every file passes; at least one file is required)
       check_formats.py write DIR
The second form writes files the way the frameworks do (numpy.savez, and tfrecords whose
Examples order and encode their features differently from mlpio), for mlpio's readers to read:
sample byte k of a file (counting through all samples) is k % 251.
"""
import os
import re
import struct
import sys
import zipfile

import numpy as np


def crc32c_table():
    table = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos, end):
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("malformed varint at %d" % pos)
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf, pos, end):
    """(field number, wire type, value) of a protobuf message; value is bytes or an int."""
    while pos < end:
        tag, pos = varint(buf, pos, end)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            value, pos = varint(buf, pos, end)
        elif wt == 2:
            n, pos = varint(buf, pos, end)
            if pos + n > end:
                raise ValueError("field %d runs past its message" % num)
            value, pos = buf[pos:pos + n], pos + n
        elif wt in (1, 5):
            n = 8 if wt == 1 else 4
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, value


def example_features(data):
    feats = {}
    for num, wt, features in fields(data, 0, len(data)):
        if num != 1 or wt != 2:
            continue
        for num2, wt2, entry in fields(features, 0, len(features)):
            if num2 != 1 or wt2 != 2:
                continue
            key, value = None, None
            for num3, _, v in fields(entry, 0, len(entry)):
                if num3 == 1:
                    key = bytes(v).decode()
                elif num3 == 2:
                    value = v
            kind = {}
            for num4, _, lst in fields(value, 0, len(value)):
                if num4 == 1:
                    kind["bytes"] = [bytes(v) for n, _, v in fields(lst, 0, len(lst)) if n == 1]
                elif num4 == 3:
                    ints = []
                    for n, w, v in fields(lst, 0, len(lst)):
                        if n == 1 and w == 2:
                            p = 0
                            while p < len(v):
                                x, p = varint(v, p, len(v))
                                ints.append(x)
                        elif n == 1 and w == 0:
                            ints.append(v)
                    kind["int64"] = ints
            feats[key] = kind
    return feats


def check_tfrecord(path):
    data = open(path, "rb").read()
    pos, records, sizes = 0, 0, set()
    while pos < len(data):
        if len(data) - pos < 12:
            raise ValueError("record %d: truncated header" % records)
        length, lcrc = struct.unpack_from("<QI", data, pos)
        if masked(crc32c(data[pos:pos + 8])) != lcrc:
            raise ValueError("record %d: length CRC mismatch" % records)
        body = data[pos + 12:pos + 12 + length]
        if len(body) != length or pos + 16 + length > len(data):
            raise ValueError("record %d: truncated" % records)
        (dcrc,) = struct.unpack_from("<I", data, pos + 12 + length)
        if masked(crc32c(body)) != dcrc:
            raise ValueError("record %d: data CRC mismatch" % records)
        feats = example_features(memoryview(body))
        image = feats.get("image", {}).get("bytes")
        size = feats.get("size", {}).get("int64")
        if not image or len(image) != 1 or not size or len(size) != 1:
            raise ValueError("record %d: no single image / size feature" % records)
        if len(image[0]) != size[0]:
            raise ValueError("record %d: image has %d bytes, size says %d"
                             % (records, len(image[0]), size[0]))
        sizes.add(size[0])
        records += 1
        pos += 16 + length
    return records, sizes


def check_npz(path):
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError("%s is compressed" % info.filename)
        bad = z.testzip()
        if bad is not None:
            raise ValueError("member %s fails its CRC" % bad)
    with np.load(path) as f:
        if sorted(f.files) != ["x", "y"]:
            raise ValueError("members %s" % f.files)
        x, y = f["x"], f["y"]
    if x.dtype != np.uint8 or x.ndim != 3:
        raise ValueError("x is %s with shape %s" % (x.dtype, x.shape))
    if y.dtype != np.int64 or y.shape != (x.shape[2],):
        raise ValueError("y is %s with shape %s for x %s" % (y.dtype, y.shape, x.shape))
    return x.shape


def pattern(n, start=0):
    return bytes((start + k) % 251 for k in range(n))


def field_bytes(num, payload):
    out = bytearray([num << 3 | 2])
    n = len(payload)
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + payload


def field_varint(num, value):
    out = bytearray([num << 3])
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def write_tfrecord(path, sample, records):
    with open(path, "wb") as out:
        for i in range(records):
            # Keys out of sorted order, an unpacked int64, an extra feature and an unknown field.
            size = field_bytes(3, field_varint(1, sample))
            label = field_bytes(3, field_bytes(1, field_varint(1, 7) + field_varint(1, 300)))
            image = field_bytes(1, field_bytes(1, pattern(sample, i * sample)))
            features = (field_bytes(1, field_bytes(1, b"size") + field_bytes(2, size))
                        + field_bytes(1, field_bytes(1, b"label") + field_bytes(2, label))
                        + field_bytes(1, field_bytes(1, b"image") + field_bytes(2, image)))
            data = field_bytes(1, features) + field_varint(9, 12345)
            head = struct.pack("<Q", len(data))
            out.write(head + struct.pack("<I", masked(crc32c(head))))
            out.write(data + struct.pack("<I", masked(crc32c(data))))


def write_files(folder):
    for d1, d2, spf in ((1, 1, 1), (17, 33, 3), (300, 301, 2)):
        x = np.frombuffer(pattern(d1 * d2 * spf), dtype=np.uint8).reshape(d1, d2, spf)
        np.savez(os.path.join(folder, "numpy_%dx%dx%d.npz" % (d1, d2, spf)),
                 y=np.arange(spf, dtype=np.int64), x=x)
        write_tfrecord(os.path.join(folder, "python_%dx%dx%d.tfrecord" % (d1, d2, spf)),
                       d1 * d2, spf)
    print("wrote files in %s" % folder)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write_files(sys.argv[2])
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    names = sorted(os.listdir(sys.argv[1]))
    checked = 0
    for name in names:
        path = os.path.join(sys.argv[1], name)
        m = re.search(r"_(\d+)x(\d+)x(\d+)\.(npz|tfrecord)$", name)
        want = tuple(int(v) for v in m.groups()[:3]) if m else None
        try:
            if name.endswith(".npz"):
                shape = check_npz(path)
                if want and shape != want:
                    raise ValueError("x.shape %s, name says %s" % (shape, want))
                print("ok %s: x %s" % (name, shape))
            elif name.endswith(".tfrecord"):
                records, sizes = check_tfrecord(path)
                if want and (records != want[2] or sizes != {want[0] * want[1]}):
                    raise ValueError("%d records of sizes %s, name says %s"
                                     % (records, sorted(sizes), want))
                print("ok %s: %d records of %s bytes" % (name, records, sorted(sizes)))
            else:
                continue
        except Exception as e:  # noqa: BLE001 - every failure is reported with its file
            print("FAIL %s: %s" % (name, e))
            sys.exit(1)
        checked += 1
    if checked == 0:
        print("FAIL: no .npz or .tfrecord file in %s" % sys.argv[1])
        sys.exit(1)
    print("%d files passed" % checked)


if __name__ == "__main__":
    main()
