#!/usr/bin/env bash
# MPI checks on loopback (ctest runs this when MPI is found):
#   mpi_check.sh MPIEXEC BALER_MPI BALER DATA_DIR
# 1. one file, chunks split over 2 ranks (and over 3 ranks for 2 chunks, one rank with none):
#    the file equals the one a single process writes, and decompresses in one process within
#    the bound; decoded over 2 ranks, the same .npy; an existing output is refused and kept,
#    with no partial or part files left behind;
#    a table of records decoded over 2 ranks: the structured .npy one process writes;
# 2. a folder of files split over 2 ranks: each output decompresses within the bound;
# 3. data-parallel training on 2 ranks follows the loss curve of 1 rank on the same global
#    batches: every epoch's training and validation loss within 1e-3 relative.
set -euo pipefail
mpiexec="$1" baler_mpi="$2" baler="$3" data="$4"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
run_on() { local n="$1"; shift; "$mpiexec" -np "$n" --oversubscribe --mca btl self,vader "$@"; }
run2() { run_on 2 "$@"; }

echo "== one file over 2 ranks"
run2 "$baler_mpi" compress "$data/CFD_animation.npz" -o two.baler --chunk-rows 7 --error-bound range:1e-3 -q
"$baler" compress "$data/CFD_animation.npz" -o one.baler --chunk-rows 7 --error-bound range:1e-3 --threads 1 -q >/dev/null
cmp one.baler two.baler
"$baler" decompress two.baler -o two.npy >/dev/null
"$baler" evaluate "$data/CFD_animation.npz" two.npy --error-bound range:1e-3 | tail -3
run2 "$baler_mpi" decompress two.baler -o ranks.npy
cmp two.npy ranks.npy
if run2 "$baler_mpi" compress "$data/CFD_animation.npz" -o two.baler --chunk-rows 5 -q 2>refused.txt; then
  echo "an existing output was overwritten without --force"; exit 1
fi
grep -q "refusing to overwrite" refused.txt
cmp one.baler two.baler
if compgen -G "two.baler.*" >/dev/null; then echo "left behind: $(ls two.baler.*)"; exit 1; fi
run_on 3 "$baler_mpi" compress "$data/CFD_animation.npz" -o three.baler --chunk-rows 30 --error-bound range:1e-3 -q
"$baler" compress "$data/CFD_animation.npz" -o one30.baler --chunk-rows 30 --error-bound range:1e-3 --threads 1 -q >/dev/null
cmp one30.baler three.baler
echo "3 ranks, 2 chunks: the same file"

echo "== a table of records over 2 ranks: back as records, each field in its dtype"
records="$(dirname "$0")/data/records_mixed.npy"
"$baler" compress "$records" -o rec.baler --chunk-rows 1 --error-bound range:1e-3 -q >/dev/null
"$baler" decompress rec.baler -o rec_one.npy >/dev/null
run2 "$baler_mpi" decompress rec.baler -o rec_ranks.npy
cmp rec_one.npy rec_ranks.npy
"$baler" evaluate "$records" rec_ranks.npy --error-bound range:1e-3 >/dev/null
echo "the same structured .npy, within the bound"

echo "== a folder over 2 ranks"
mkdir in
cp "$data/CFD_animation.npz" "$data/lhcb_b2kkk.npz" in/
run2 "$baler_mpi" compress in -o out --chunk-rows 1000 --error-bound range:1e-3 -q
for name in CFD_animation lhcb_b2kkk; do
  "$baler" decompress "out/$name.baler" -o "$name.npz" >/dev/null
  "$baler" evaluate "in/$name.npz" "$name.npz" --error-bound range:1e-3 >/dev/null
  echo "$name: bound holds"
done

echo "== data-parallel training, 1 and 2 ranks"
flags=(--epochs 6 --batch-size 64 -q)
"$mpiexec" -np 1 "$baler_mpi" train "$data/lhcb_b2kkk.npz" -o m1.balermodel --history h1.csv "${flags[@]}"
run2 "$baler_mpi" train "$data/lhcb_b2kkk.npz" -o m2.balermodel --history h2.csv "${flags[@]}"
paste -d, h1.csv h2.csv | awk -F, 'NR > 1 {
  for (k = 2; k <= 3; ++k) { a = $k; b = $(k + 5); d = (a > b ? a - b : b - a) / a;
    if (d > 1e-3) { print "epoch " $1 ": losses differ: " a " vs " b; bad = 1 } }
  printf "epoch %d: 1 rank %s, 2 ranks %s\n", $1, $2, $7 }
  END { exit bad }'
echo "mpi checks passed"
