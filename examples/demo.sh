#!/usr/bin/env bash
# The main job on the bundled example data, from a fresh checkout on Debian 12:
# installs what is missing (apt-get, as root), builds the command line, then compresses the
# LHCb table, shows what the file holds, restores it and prints the per-column errors.
#   bash examples/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBALER_BUILD_TESTS=OFF -DBALER_BUILD_BENCHMARKS=OFF
cmake --build build -j2 --target baler_cli
mkdir -p examples/output
export OPENBLAS_NUM_THREADS=2
build/baler compress examples/data/lhcb_b2kkk.npz -o examples/output/lhcb.baler --epochs 300 --force
build/baler info examples/output/lhcb.baler
build/baler decompress examples/output/lhcb.baler -o examples/output/lhcb.npz --force
build/baler evaluate examples/data/lhcb_b2kkk.npz examples/output/lhcb.npz
