#!/usr/bin/env bash
# Installs every Debian package mlpio needs to build, test and benchmark.
# Idempotent and non-interactive: packages already present are skipped.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libopenmpi-dev openmpi-bin
    libhdf5-openmpi-dev hdf5-tools
    libcjson-dev libsodium-dev libcmocka-dev
    fio python3-numpy python3-h5py
    bsdutils # script(1): tests/e2e/test_progress.sh runs mlpio on a pseudo-terminal
    chromium # tests/e2e/test_html.sh renders the HTML reports in it
    libjpeg62-turbo-dev libjpeg-turbo-progs # io/jpeg.c encodes with libjpeg; tests/e2e/test_jpeg.sh runs djpeg/cjpeg
    man-db groff-base # tests/e2e/test_install.sh renders mlpio(1) with man -l and groff -ww
    util-linux # unshare/nsenter: the emulated hosts of tests/e2e/test_multihost_*.sh
    slurm-wlm munge # tests/e2e/test_slurm.sh starts a Slurm of emulated hosts
)

# The npm packages of tests/npm (pinned in its package-lock.json), installed outside the source
# tree, where tests/e2e/test_parquet.sh looks for them.
npm_packages() {
    local dir="${MLPIO_NPM_DIR:-$HOME/.cache/mlpio-npm}" src
    src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/npm" && pwd)"
    mkdir -p "$dir"
    if cmp -s "$src/package-lock.json" "$dir/package-lock.json" && [ -d "$dir/node_modules" ]; then
        echo "setup: npm packages already installed in $dir"
        return 0
    fi
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "setup: npm packages installed in $dir"
}

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# tests/e2e/test_parquet.sh reads the parquet files with an npm reader: node and npm from Debian
# unless some other install already provides them (Debian's npm conflicts with other nodejs).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages already installed"
    npm_packages
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi

echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
npm_packages
