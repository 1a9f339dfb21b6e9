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
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages already installed"
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
