#!/usr/bin/env bash
# The conv architecture in the plain mode trained for many more epochs than field_rd's 300:
# whole-file ratio against the input as stored, PSNR (baler evaluate: value range over RMS
# error) and compress seconds (training included), one line per model. The README compares
# them with SZ3 at equal PSNR ("Fields: dense, patch or conv models").
#   bash bench/conv_epochs.sh BUILD_DIR [EPOCHS (default 3000)] [cfd|vorticity|all (default all)]
# DEVICE=cuda trains on the GPU (BUILD_DIR built with -DBALER_ENABLE_CUDA=ON; default cpu, one
# thread: ~25 s per CFD model and ~1 minute per vorticity model at 3000 epochs). The fields come
# from ../shared/data (the CFD frames also from examples/data); DATA_DIR=... names another folder;
# EXTRA="--schedule cosine" passes more flags to compress.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baler="$(realpath "${1:?usage: bash bench/conv_epochs.sh BUILD_DIR [EPOCHS] [cfd|vorticity|all]}")/baler"
epochs="${2:-3000}"
only="${3:-all}"
device="${DEVICE:-cpu}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
threads=()  # on the CPU one thread, as the README's numbers were measured (one model at a time)
if [ "$device" = cpu ]; then threads=(--threads 1); fi
data="${DATA_DIR:-$repo/../shared/data}"
cfd="$data/cfd/CFD_animation.npz"
[ -f "$cfd" ] || cfd="$repo/examples/data/CFD_animation.npz"
vorticity="$data/fields/sperr_vorticity_512x512.npz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# field name, input, tile, latent, channels
model() {
  local field=$1 input=$2 tile=$3 latent=$4 channels=$5
  [ "$only" = all ] || [ "$only" = "$field" ] || return 0
  if [ ! -f "$input" ]; then echo "$field: skipped, $input is missing"; return 0; fi
  local t0 t1
  t0=$(date +%s.%N)
  "$baler" -f compress "$input" -o "$work/m.baler" --device "$device" --architecture conv --tile "$tile" \
    --latent "$latent" --hidden "$channels" --epochs "$epochs" --lr 3e-3 --seed 0 "${threads[@]}" ${EXTRA:-} > "$work/log" 2>&1 ||
    { echo "$field: compress failed:"; tail -3 "$work/log"; return 1; }
  t1=$(date +%s.%N)
  "$baler" -f decompress "$work/m.baler" -o "$work/m.npz" --device "$device" > /dev/null
  printf '%-10s %-4s tile %-8s latent %-3s channels %-8s epochs %-6s %8s bytes  ratio %8s  PSNR %6s dB  %6.1f s\n' \
    "$field" "$device" "$tile" "$latent" "$channels" "$epochs" "$(stat -c %s "$work/m.baler")" \
    "$(awk '/whole file, against the input as stored/ {print $NF}' "$work/log")" \
    "$("$baler" evaluate "$input" "$work/m.npz" | awk '$1 == "field" {print $(NF - 1)}')" \
    "$(awk "BEGIN {print $t1 - $t0}")"
}

model cfd "$cfd" 1,50,50 8 8,8,8
model cfd "$cfd" 1,50,50 12 8,8,8
model cfd "$cfd" 1,50,50 16 8,8,8
model cfd "$cfd" 1,50,50 16 8,8,16
model vorticity "$vorticity" 32,32 16 8,8,8
model vorticity "$vorticity" 32,32 32 8,8,16
