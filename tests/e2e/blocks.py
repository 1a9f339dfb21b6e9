"""Block-level checks on files, independent of mlpio.

blocks.py unique DIR...       every 4 KiB block of every file under DIRs is distinct
blocks.py entropy DIR...      byte entropy of all data is above 7.99 bits/byte
"""
import hashlib
import math
import os
import sys


def files(dirs):
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in sorted(names):
                yield os.path.join(root, n)


def main():
    mode, dirs = sys.argv[1], sys.argv[2:]
    if mode == "unique":
        seen = {}
        count = 0
        for path in files(dirs):
            with open(path, "rb") as f:
                off = 0
                while True:
                    b = f.read(4096)
                    if not b:
                        break
                    h = hashlib.blake2b(b, digest_size=16).digest()
                    if h in seen:
                        print(f"FAIL: block at {path}:{off} repeats {seen[h]}")
                        sys.exit(1)
                    seen[h] = f"{path}:{off}"
                    off += len(b)
                    count += 1
        if count == 0:
            print("FAIL: no blocks read")
            sys.exit(1)
        print(f"ok {count} distinct blocks")
    elif mode == "entropy":
        counts = [0] * 256
        total = 0
        for path in files(dirs):
            data = open(path, "rb").read()
            for i in range(256):
                counts[i] += data.count(bytes([i]))
            total += len(data)
        h = -sum(c / total * math.log2(c / total) for c in counts if c)
        if h < 7.99:
            print(f"FAIL: entropy {h:.4f} bits/byte")
            sys.exit(1)
        print(f"ok entropy {h:.4f}")


main()
