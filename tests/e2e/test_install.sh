#!/usr/bin/env bash
# mlpio as a package: cmake --install into a prefix gives bin/mlpio, its definitions in
# share/mlpio (found beside the installed binary), the batch templates and mlpio(1); the
# installed binary runs from another directory with nothing of the source tree; the manual
# renders without warnings and holds every option of --help; cpack makes a .deb of the same
# files with the Debian runtime packages as dependencies.
source "$(dirname "$0")/lib.sh"
[ -d "${MLPIO_BUILD_DIR:-}" ] || fail "MLPIO_BUILD_DIR is not set to the build directory"
P="$WORK/prefix"
cmake --install "$MLPIO_BUILD_DIR" --prefix "$P" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; fail "cmake --install failed"; }
for f in bin/mlpio share/mlpio/checkpointing/llama3-8b.json share/mlpio/rules/v3.0.json \
    share/mlpio/scripts/slurm/training.sbatch share/mlpio/scripts/pbs/kvcache.pbs \
    share/man/man1/mlpio.1; do
    [ -e "$P/$f" ] || fail "the install lacks $f"
done
[ -x "$P/share/mlpio/scripts/slurm/checkpointing.sbatch" ] || fail "templates not executable"

# The installed binary from elsewhere, with no MLPIO_SHARE_DIR: its own definitions.
mkdir -p "$WORK/elsewhere"
apart_dir 64
(
    cd "$WORK/elsewhere"
    unset MLPIO_SHARE_DIR
    MLPIO_BIN="$P/bin/mlpio"
    expect 0 1 checkpointing run --model llama3-8b --scale 0.0005 -ncw 1 -ncr 1 -cf "$APART/ck" \
        -rd results
    says "checkpointing llama3-8b: 1 ranks"
    [ -n "$(ls results/checkpointing/llama3-8b/run/*/summary.json)" ] || fail "no summary"
    expect 0 1 kvcache datasize --model llama3.1-70b-instruct
    says "327680"
    MLPIO_SHARE_DIR="$WORK/nowhere" expect 2 1 checkpointing datasize
) || exit 1

# The manual: made from the tables, rendered without warnings, holding every option.
man1="$P/share/man/man1/mlpio.1"
groff -man -Tutf8 -ww -z "$man1" 2>"$WORK/groff.err" || fail "groff failed"
[ ! -s "$WORK/groff.err" ] || { cat "$WORK/groff.err"; fail "the manual has warnings"; }
MANWIDTH=100 man -l "$man1" >"$WORK/man.txt" 2>"$WORK/man.err" || fail "man -l failed"
[ ! -s "$WORK/man.err" ] || { cat "$WORK/man.err"; fail "man -l warned"; }
for w in checkpointing training kvcache; do
    for c in $("$MLPIO_BIN" "$w" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
        grep -q "mlpio $w $c" "$WORK/man.txt" || fail "the manual has no section for $w $c"
        "$MLPIO_BIN" "$w" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$WORK/opts"
        while read -r o; do
            grep -q -- "$o" "$WORK/man.txt" || fail "the manual lacks $o of $w $c"
        done <"$WORK/opts"
    done
done
grep -q "RUNNING ON A CLUSTER" "$WORK/man.txt" || fail "no launch section"
expect 0 1 help launch
says "--map-by ppr:8:node"
says "srun --mpi=pmix"

# The Debian package: the same files under /usr, and the runtime dependencies.
command -v dpkg-deb >/dev/null || { echo "note: no dpkg-deb; the package is not checked"; exit 77; }
(cd "$WORK" && cpack -G DEB -B "$WORK/pkg" --config "$MLPIO_BUILD_DIR/CPackConfig.cmake" \
    >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack failed"; }
deb=$(ls "$WORK"/pkg/*.deb)
dpkg-deb -c "$deb" >"$WORK/deb.list"
for f in ./usr/bin/mlpio ./usr/share/mlpio/kvcache/llama3.1-8b.json ./usr/share/mlpio/rules/v3.0.json \
    ./usr/share/mlpio/scripts/slurm/kvcache.sbatch ./usr/share/man/man1/mlpio.1; do
    grep -q " $f\$" "$WORK/deb.list" || fail "the .deb lacks $f"
done
dpkg-deb -I "$deb" >"$WORK/deb.info"
for d in libopenmpi3 openmpi-bin libcjson1 libsodium23 libjpeg62-turbo; do
    grep -q "^ Depends:.*\b$d\b" "$WORK/deb.info" || fail "the .deb does not depend on $d"
done
grep -q "^ Package: mlpio" "$WORK/deb.info" || fail "package name"
echo "ok"
