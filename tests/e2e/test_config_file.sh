#!/usr/bin/env bash
# --config-file takes regular JSON files only: a device, a FIFO, a directory, a missing or an
# oversized file is a config error (exit 2) named at once, before anything is read into memory
# or waited for. `timeout` and the memory limit only keep a regression from hanging the suite
# or exhausting the machine.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/ck"
base=(checkpointing datasize --model llama3-8b)

# AddressSanitizer reserves its shadow memory beyond any address-space limit; its allocator
# refuses huge allocations by itself.
limit=8000000
case "$(ldd "$MLPIO_BIN")" in *libasan*) limit=unlimited ;; esac

# refused WHAT PATH TEXT: the config file PATH is refused with exit 2 and TEXT.
refused() {
    set +e
    (ulimit -v "$limit"; timeout 30 "$MLPIO_BIN" "${base[@]}" --config-file "$2" >"$OUT" 2>"$ERR")
    CODE=$?
    set -e
    [ "$CODE" -eq 2 ] || fail "$1: expected exit 2, got $CODE (124: it hung)"
    says "--config-file: "
    says "$3"
}

refused "a character device" /dev/zero "/dev/zero is a character device, not a regular file"
mkfifo "$WORK/fifo.json"
refused "a FIFO" "$WORK/fifo.json" "fifo.json is a FIFO (named pipe), not a regular file"
refused "a directory" "$WORK" "is a directory, not a regular file"
refused "a missing file" "$WORK/none.json" "$WORK/none.json does not exist"
# The limit is stated with the file's size.
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
refused "a 5 MiB file" "$WORK/big.json" "holds 5242880 bytes, more than the 4194304 bytes (4 MiB)"

# A good file is still merged, under mpirun too.
printf '{"checkpoint": {"num_checkpoints_write": 3}}\n' >"$WORK/ok.json"
expect 0 2 checkpointing configview --model llama3-8b --config-file "$WORK/ok.json"
grep -q '"num_checkpoints_write":[[:space:]]*3' "$OUT" || fail "the config file was not merged"
echo "ok"
