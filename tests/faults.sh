#!/usr/bin/env bash
# Fault tests of the `baler` command line (ctest test_faults):
# - SIGKILL at several moments of compress, decompress and train leaves no output and no
#   temporary file, an existing output (with --force) intact, and the input byte-identical (a
#   replacement killed between its temporary name and its rename leaves that file, as
#   atomic_file.hpp says: removed and reported);
# - a write error (a file-size limit, ulimit -f) is a clear error and leaves no partial file;
# - an output folder that cannot be written, a missing model file, a model trained on another
#   schema: clear errors, exit status 1, nothing written.
#   tests/faults.sh BALER_BINARY TABLE.npz FIELD.npz
set -uo pipefail

baler="$(realpath "$1")"
table="$(realpath "$2")"
field="$(realpath "$3")"
work="$(mktemp -d "${TMPDIR:-/tmp}/baler_faults.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cp "$table" in.npz
cp "$field" other.npz
in_sum="$(sha256sum in.npz | cut -d' ' -f1)"
# Outputs the faults below may not disturb.
"$baler" train in.npz -o model.balermodel --epochs 2 --quiet >/dev/null || fail "training the reference model"
"$baler" compress in.npz -o ref.baler --model model.balermodel --quiet >/dev/null || fail "compressing the reference file"
ref_sum="$(sha256sum ref.baler | cut -d' ' -f1)"
model_sum="$(sha256sum model.balermodel | cut -d' ' -f1)"
listing="$(ls -A)"

# The folder holds exactly what it held before, unchanged.
check_untouched() {
  local what="$1"
  [ "$(ls -A)" = "$listing" ] || fail "$what: the folder changed: $(ls -A | tr '\n' ' ')"
  [ "$(sha256sum in.npz | cut -d' ' -f1)" = "$in_sum" ] || fail "$what: the input changed"
  [ "$(sha256sum ref.baler | cut -d' ' -f1)" = "$ref_sum" ] || fail "$what: ref.baler changed"
  [ "$(sha256sum model.balermodel | cut -d' ' -f1)" = "$model_sum" ] || fail "$what: the model changed"
}

# The argument after -o.
output_of() {
  while [ $# -gt 1 ] && [ "$1" != "-o" ]; do shift; done
  echo "$2"
}

# Starts `baler ARGS...`, kills it with SIGKILL after DELAY seconds (if still running) and
# checks the folder: its output is either absent (or, with --force, the old file) or complete,
# identical to the output of an uninterrupted run (expected.out), which a kill just after the
# write may leave. Killing at many delays covers the moment of the write itself.
kill_at() {
  local delay="$1"
  shift
  "$baler" "$@" --quiet >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local status=$?
  local out stale
  out="$(output_of "$@")"
  # A new output is named at once; a replacement (--force) takes a temporary name before its
  # rename, which a kill in between leaves beside it (atomic_file.hpp), with the old file intact.
  stale="$(ls -A | grep -E "^\.$out\.tmp-$pid-" || true)"
  if [ -n "$stale" ]; then
    case " $* " in
      *" --force "*) echo "killed between naming and renaming: $stale left, as documented"; rm -f -- "$stale" ;;
      *) fail "kill after ${delay}s of '$*' (status $status): left $stale" ;;
    esac
  fi
  if [ -e "$out" ] && [ "$out" != ref.baler ] || ! cmp -s ref.baler ref.baler.bak; then
    cmp -s "$out" expected.out || fail "kill after ${delay}s of '$*' (status $status): $out is partial"
    if [ "$out" = ref.baler ]; then cp ref.baler.bak ref.baler; else rm -f "$out"; fi
  fi
  check_untouched "kill after ${delay}s of '$*' (status $status)"
  echo "killed after ${delay}s: $* (exit status $status)"
}

cp ref.baler ref.baler.bak
listing="$(ls -A)"
# Sets `total` to the seconds a run takes (the faster of two: the machine may be busy), to kill
# it while it writes its output as well as before; its output is kept as expected.out.
duration() {
  local t0 t1 t2 out
  out="$(output_of "$@")"
  t0=$(date +%s.%N)
  "$baler" "$@" --quiet --force >/dev/null 2>&1
  t1=$(date +%s.%N)
  mv "$out" expected.out
  "$baler" "$@" --quiet --force >/dev/null 2>&1
  t2=$(date +%s.%N)
  cmp -s "$out" expected.out || fail "'$*' is not reproducible"
  if [ "$out" = ref.baler ]; then cp ref.baler.bak ref.baler; else rm -f "$out"; fi
  total=$(awk "BEGIN { a = $t1 - $t0; b = $t2 - $t1; print (a < b ? a : b) }")
}
for run in "compress in.npz -o new.baler --epochs 3" "train in.npz -o new.balermodel --epochs 3" \
           "compress in.npz -o ref.baler --epochs 3 --force" "decompress ref.baler -o new.npz"; do
  # shellcheck disable=SC2086  # a run is a list of words
  duration $run
  listing="$(ls -A)"
  for fraction in 0.05 0.3 0.6 0.8 0.9 0.95 0.98 1.0 1.05; do
    # shellcheck disable=SC2086
    kill_at "$(awk "BEGIN { print $total * $fraction }")" $run
  done
  rm -f expected.out
  listing="$(ls -A)"
done

# A write error: more than 64 KiB is past the limit (the output is about 1 MB).
(ulimit -f 64; "$baler" decompress ref.baler -o new.npz --quiet) >out.txt 2>err.txt
status=$?
[ "$status" -eq 1 ] || fail "ulimit -f: exit status $status, expected 1 ($(cat err.txt))"
grep -q "cannot write '.*new.npz': File too large" err.txt || fail "ulimit -f: unclear error: $(cat err.txt)"
rm -f out.txt err.txt
check_untouched "ulimit -f"

# Expects `baler ARGS...` to fail with status 1 and a message matching PATTERN.
expect_error() {
  local pattern="$1"
  shift
  "$baler" "$@" --quiet >out.txt 2>err.txt
  local status=$?
  [ "$status" -eq 1 ] || fail "'$*': exit status $status, expected 1 ($(cat err.txt))"
  grep -q "$pattern" err.txt || fail "'$*': expected an error matching '$pattern', got: $(cat err.txt)"
  rm -f out.txt err.txt
  check_untouched "'$*'"
}

# A folder that cannot be written. chmod does not stop root, so root gets /sys, where even
# root may not create files.
if [ "$(id -u)" -eq 0 ]; then
  locked=/sys
else
  mkdir locked && chmod 0500 locked && listing="$(ls -A)"
  locked=locked
fi
expect_error "cannot create a temporary file in '$locked'" decompress ref.baler -o "$locked/new.npz"
expect_error "cannot create a temporary file in '$locked'\|cannot write\|not writable" \
  compress in.npz -o "$locked/new.baler" --epochs 1
expect_error "cannot create the folder 'in.npz' for new.baler: Not a directory" \
  compress in.npz -o in.npz/new.baler --epochs 1
expect_error "no such file" compress in.npz -o new.baler --model missing.balermodel
expect_error "no such file" decompress missing.baler -o new.npz
# A model trained on another schema (the field has other columns than the table).
expect_error "schema\|columns" compress other.npz -o new.baler --model model.balermodel

[ "$failures" -eq 0 ] && echo "all fault checks passed"
exit $(( failures > 0 ))
