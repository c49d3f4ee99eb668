#!/usr/bin/env bash
# Throughput and memory of chunked compression on a large input built from real data:
# 1 and 2 threads (`baler --threads`), 1 and 2 MPI ranks (`mpirun baler-mpi`), compress and
# decompress, MB/s of input (.npy bytes) per second of wall time and peak resident memory.
#   bash bench/scaling.sh BUILD_DIR [GIGABYTES=2.1] [field|table] [CHUNK_ROWS=400]
# The input is made by bench/make_big_input.py (the CFD animation stacked along time, each
# copy shifted) in $TMPDIR and deleted at the end, with every output.
set -euo pipefail
build="$(cd "$1" && pwd)"; gb="${2:-2.1}"; kind="${3:-field}"; chunk="${4:-400}"
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work="$(mktemp -d "${TMPDIR:-/tmp}/baler_scaling.XXXXXX")"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$bench/make_big_input.py" "$work/in.npy" "$gb" "$kind"
bytes=$(stat -c %s "$work/in.npy")
bound=(--error-bound range:1e-3)
mpi=(mpirun --oversubscribe --mca btl self,vader)

# run LABEL CMD...: wall time and the peak RSS, summed over processes (each line of %M is one).
run() {
  local label="$1"; shift
  rm -f "$work/rss"
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  local rss; rss=$(awk '{s += $1} END {print s / 1024}' "$work/rss")
  awk -v l="$label" -v b="$bytes" -v t0="$t0" -v t1="$t1" -v r="$rss" \
    'BEGIN { printf "| %s | %.1f | %.1f | %.0f |\n", l, t1 - t0, b / 1e6 / (t1 - t0), r }'
}
timed=(/usr/bin/time -a -o "$work/rss" -f %M)

echo "input: $(du -h "$work/in.npy" | cut -f1) ($bytes bytes), chunks of $chunk rows, ${bound[*]}"
echo "| run | seconds | MB/s | peak RSS, MB (all processes) |"
echo "|---|---|---|---|"
run "compress, 1 thread" "${timed[@]}" "$build/baler" compress "$work/in.npy" -o "$work/t1.baler" --chunk-rows "$chunk" "${bound[@]}" --threads 1
run "compress, 2 threads" "${timed[@]}" "$build/baler" compress "$work/in.npy" -o "$work/t2.baler" --chunk-rows "$chunk" "${bound[@]}" --threads 2
cmp "$work/t1.baler" "$work/t2.baler"
run "decompress, 1 thread" "${timed[@]}" "$build/baler" --threads 1 decompress "$work/t1.baler" -o "$work/d1.npy"
run "decompress, 2 threads" "${timed[@]}" "$build/baler" --threads 2 decompress "$work/t1.baler" -o "$work/d2.npy"
cmp "$work/d1.npy" "$work/d2.npy"
rm -f "$work/d2.npy"
run "compress, 1 MPI rank" "${mpi[@]}" -np 1 "${timed[@]}" "$build/baler-mpi" compress "$work/in.npy" -o "$work/m1.baler" --chunk-rows "$chunk" "${bound[@]}" -q
run "compress, 2 MPI ranks" "${mpi[@]}" -np 2 "${timed[@]}" "$build/baler-mpi" compress "$work/in.npy" -o "$work/m2.baler" --chunk-rows "$chunk" "${bound[@]}" -q
cmp "$work/t1.baler" "$work/m2.baler"
run "decompress, 1 MPI rank" "${mpi[@]}" -np 1 "${timed[@]}" "$build/baler-mpi" decompress "$work/t1.baler" -o "$work/r1.npy"
rm -f "$work/r1.npy"
run "decompress, 2 MPI ranks" "${mpi[@]}" -np 2 "${timed[@]}" "$build/baler-mpi" decompress "$work/t1.baler" -o "$work/r2.npy"
cmp "$work/d1.npy" "$work/r2.npy"
echo "compressed: $(stat -c %s "$work/t1.baler") bytes, ratio $(awk -v a="$bytes" -v b="$(stat -c %s "$work/t1.baler")" 'BEGIN{printf "%.2f", a/b}'); outputs identical for 1 and 2 threads and ranks"
