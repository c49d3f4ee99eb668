#!/usr/bin/env bash
# The examples on real data: each one trains, compresses, decompresses and prints the whole-file
# ratio and the per-column error table. Run from the repository root after building:
#   bash examples/run_examples.sh [lhcb|atlas|cms|cfd ...]      (default: all four)
# Outputs go to examples/output/. LHCb and CFD use the bundled data in examples/data/; ATLAS
# and CMS read ../shared/data (set BALER_DATA to use another folder).
set -euo pipefail
cd "$(dirname "$0")/.."
baler=${BALER:-build/baler}
data=${BALER_DATA:-../shared/data}
out=examples/output
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}

run() {  # name input [compress flags...]
  local name=$1 input=$2
  shift 2
  echo "=== $name: $input"
  "$baler" compress "$input" -o "$out/$name.baler" --force --quiet "$@" | grep -E "whole file|latent only"
  "$baler" decompress "$out/$name.baler" -o "$out/$name.npz" --force
  "$baler" evaluate "$input" "$out/$name.npz" --csv "$out/$name.errors.csv" --force
}

examples=("$@")
[ ${#examples[@]} -eq 0 ] && examples=(lhcb atlas cms cfd)
for e in "${examples[@]}"; do
  case $e in
    # 26 columns: momenta, PID probabilities, IP chi2 (modelled); charges and muon flags (exact).
    lhcb) run lhcb examples/data/lhcb_b2kkk.npz --latent 16 --epochs 1000 ;;
    # ATLAS jets 4 -> 3: train on the training set, compress the test set with that model.
    atlas)
      echo "=== atlas: train on atlas_jets4d_train, compress atlas_jets4d_test"
      "$baler" train "$data/hep/atlas_jets4d_train.npz" -o "$out/atlas.balermodel" --latent 3 \
        --epochs 60 --batch-size 512 --force --quiet
      run atlas "$data/hep/atlas_jets4d_test.npz" --model "$out/atlas.balermodel" ;;
    # CMS Z -> mumu: 19 columns, run and event numbers and charges among them.
    cms) run cms "$data/hep/cms_zmumu_2011a.npz" --epochs 300 ;;
    # 60 frames of 50 x 50: 60 rows of 2,500 values; small hidden layers keep the decoder small.
    cfd) run cfd examples/data/CFD_animation.npz --architecture dense --latent 8 --hidden 64,32,16 --epochs 1000 ;;
    *) echo "unknown example '$e' (lhcb, atlas, cms, cfd)" >&2; exit 2 ;;
  esac
done
