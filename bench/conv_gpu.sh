#!/usr/bin/env bash
# The conv architecture in the plain mode, trained on the GPU for many more epochs than the CPU
# affords (field_rd trains 300): whole-file ratio against the input as stored, PSNR (baler
# evaluate: value range over RMS error) and compress seconds (training included), one line per
# model. Compare with SZ3 at equal PSNR in the README ("Fields: dense, patch or conv models").
#   bash bench/conv_gpu.sh BUILD_DIR [EPOCHS (default 3000)] [cfd|vorticity|all (default all)]
# BUILD_DIR holds baler and baler-cuda built with -DBALER_ENABLE_CUDA=ON; the fields come from
# ../shared/data (the CFD frames also from examples/data). DATA_DIR=... names another folder.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
baler="$(realpath "${1:?usage: bash bench/conv_gpu.sh BUILD_DIR [EPOCHS] [cfd|vorticity|all]}")/baler"
epochs="${2:-3000}"
only="${3:-all}"
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
  "$baler" -f compress "$input" -o "$work/m.baler" --device cuda --architecture conv --tile "$tile" \
    --latent "$latent" --hidden "$channels" --epochs "$epochs" --lr 3e-3 --seed 0 > "$work/log" 2>&1 ||
    { echo "$field: compress failed:"; tail -3 "$work/log"; return 1; }
  t1=$(date +%s.%N)
  "$baler" -f decompress "$work/m.baler" -o "$work/m.npz" --device cuda > /dev/null
  printf '%-10s tile %-8s latent %-3s channels %-8s epochs %-6s %8s bytes  ratio %8s  PSNR %6s dB  %6.1f s\n' \
    "$field" "$tile" "$latent" "$channels" "$epochs" "$(stat -c %s "$work/m.baler")" \
    "$(awk '/whole file, against the input as stored/ {print $NF}' "$work/log")" \
    "$("$baler" evaluate "$input" "$work/m.npz" | awk '$1 == "field" {print $(NF - 1)}')" \
    "$(awk "BEGIN {print $t1 - $t0}")"
}

model cfd "$cfd" 1,50,50 8 8,8,8
model cfd "$cfd" 1,50,50 16 8,8,16
model vorticity "$vorticity" 32,32 16 8,8,8
model vorticity "$vorticity" 32,32 32 8,8,16
