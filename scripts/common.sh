# Shared by scripts/demo.sh and scripts/test.sh: install what is missing, configure, build.
# Usage: source scripts/common.sh; mlpio_build <build-dir> [cmake args...]
MLPIO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

mlpio_build() {
    local dir=$1
    shift
    bash "$MLPIO_ROOT/scripts/setup.sh"
    echo "build: configuring $dir"
    cmake -S "$MLPIO_ROOT" -B "$dir" "$@" >"$dir.configure.log" 2>&1 || {
        cat "$dir.configure.log" >&2
        return 1
    }
    echo "build: compiling (log: $dir.build.log)"
    cmake --build "$dir" -j "$(nproc)" >"$dir.build.log" 2>&1 || {
        tail -n 40 "$dir.build.log" >&2
        return 1
    }
}

# Open MPI refuses to start as root unless told that this is intended; containers and CI
# often run as root. Oversubscription lets small machines run more ranks than cores.
mlpio_mpi_env() {
    if [ "$(id -u)" -eq 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
    export OMPI_MCA_rmaps_base_oversubscribe=1
}

# For scripts/bench: a Release build without tests in build-bench, the MPI environment for one
# host, and $mlpio set to the binary. With "fio" as argument, fio must be installed too.
mlpio_bench_setup() {
    local build="$MLPIO_ROOT/build-bench"
    mkdir -p "$build"
    mlpio_build "$build" -DCMAKE_BUILD_TYPE=Release -DMLPIO_TESTS=OFF >/dev/null
    mlpio_mpi_env
    export OMPI_MCA_btl=self,vader
    mlpio="$build/app/mlpio"
    if [ "${1:-}" = fio ] && ! command -v fio >/dev/null; then
        echo "fio is missing: run scripts/setup.sh" >&2
        return 1
    fi
}
