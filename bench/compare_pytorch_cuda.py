#!/usr/bin/env python3
"""Side-by-side GPU throughput: baler's CUDA backend versus PyTorch eager.

Runs BUILD_DIR/bench/cuda_bench_training (Google Benchmark, JSON output; the
benchmarks cuda_train_step/f32/<batch>, cuda_encode/f32/tf32_<off|on>/<rows>
and cuda_decode/...), then bench/pytorch_train_cuda.py with the same batch
sizes, table rows and encode/decode rows on the same GPU, one after the other,
and prints:

  training step (float32): batch, ours samples/s, PyTorch samples/s, ratio
  encode / decode (float32, TF32 off and on): ours rows/s, PyTorch rows/s, ratio

with the targets (>= 5x PyTorch at batch 512, >= 1.5x at 65536, >= 2x on
encode and decode). Without a usable GPU it exits with status 2 and says why;
a program that fails gives status 1. --check also makes a missed target
status 1.

Example (after building with -DBALER_ENABLE_CUDA=ON):
    /usr/bin/python3 bench/compare_pytorch_cuda.py build
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTORCH_SCRIPT = os.path.join(HERE, "pytorch_train_cuda.py")
PROGRAM = os.path.join("bench", "cuda_bench_training")

# Benchmark names, optionally followed by Google Benchmark suffixes such as /manual_time.
TRAIN_RE = re.compile(r"^cuda_train_step/f32/(\d+)(?:/.*)?$")
CODEC_RE = re.compile(r"^cuda_(encode|decode)/f32/tf32_(off|on)/(\d+)(?:/.*)?$")
COMPARED_FILTER = r"^cuda_(train_step|encode|decode)/"

# Minimum ours/PyTorch ratios: training by batch size, encode and decode at every setting.
TRAIN_TARGETS = {512: 5.0, 65536: 1.5}
BATCHES = [512, 4096, 65536]  # the C++ program's training batch sizes
CODEC_TARGET = 2.0


class Failure(Exception):
    """A problem that ends the comparison: message and exit status."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("build_dir", nargs="?", default="build", help="CMake build directory (configured with -DBALER_ENABLE_CUDA=ON)")
    parser.add_argument("--python", default=sys.executable, help="Python interpreter with torch (CUDA build), for pytorch_train_cuda.py")
    parser.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds per configuration, both sides")
    parser.add_argument("--all-benchmarks", action="store_true", help="also run the kernel and latent benchmarks of the C++ program and list them")
    parser.add_argument("--ours-json", metavar="FILE", help="read the C++ results from this Google Benchmark JSON file instead of running the program")
    parser.add_argument("--pytorch-json", metavar="FILE", help="read the PyTorch results (JSON lines or list) from this file instead of running the script")
    parser.add_argument("--pytorch-args", default="", help="extra arguments for pytorch_train_cuda.py, e.g. '--adam fused' or '--loss-item'")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--json", metavar="FILE", help="also write the comparison as JSON to FILE")
    return parser.parse_args(argv)


def require_gpu(python):
    """Fail with status 2 and a clear message when no CUDA GPU can be used."""
    probe = (
        "import sys, torch\n"
        "ok = torch.cuda.is_available()\n"
        "print(torch.cuda.get_device_name(0) if ok else "
        "'torch %s (CUDA %s) sees no GPU' % (torch.__version__, torch.version.cuda))\n"
        "sys.exit(0 if ok else 3)\n"
    )
    try:
        result = subprocess.run([python, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise Failure(f"cannot run {python!r}: {e}")
    message = result.stdout.strip() or (result.stderr.strip().splitlines() or ["?"])[-1]
    if result.returncode == 3:
        raise Failure(f"no CUDA GPU available: {message}; run this on a machine with an NVIDIA GPU", 2)
    if result.returncode != 0:
        raise Failure(f"{python} cannot import torch: {result.stderr.strip()}")
    return message


def load_google_benchmark(path):
    with open(path) as f:
        return json.load(f)


def run_ours(args):
    """Run the C++ program (or read --ours-json); return its parsed JSON report."""
    if args.ours_json:
        return load_google_benchmark(args.ours_json)
    program = os.path.join(args.build_dir, PROGRAM)
    if not os.access(program, os.X_OK):
        raise Failure(
            f"{program} not found: configure with -DBALER_ENABLE_CUDA=ON and build the target "
            f"cuda_bench_training (cmake --build {args.build_dir} --target cuda_bench_training)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.json")
        command = [
            program,
            "--benchmark_format=json",
            f"--benchmark_out={out}",
            "--benchmark_out_format=json",
            f"--benchmark_min_time={args.min_time}",
        ]
        if not args.all_benchmarks:
            command.append(f"--benchmark_filter={COMPARED_FILTER}")
        print("running:", " ".join(command), file=sys.stderr, flush=True)
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if result.stdout.startswith("skipped:"):
            raise Failure(f"no CUDA GPU available to {program}: {result.stdout.strip()}", 2)
        if result.returncode != 0:
            raise Failure(f"{program} exited with status {result.returncode}")
        if os.path.exists(out):
            return load_google_benchmark(out)
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise Failure(f"{program} wrote no readable JSON")


def ours_rates(report):
    """(train {batch: samples/s}, codec {(what, tf32, rows): (rows/s, bytes/s)}, errors, others)."""
    train, codec, errors, others = {}, {}, [], []
    for entry in report.get("benchmarks", []):
        if entry.get("run_type", "iteration") != "iteration":
            continue
        name = entry.get("run_name", entry.get("name", ""))
        if entry.get("error_occurred") or entry.get("skipped"):
            errors.append(f"{name}: {entry.get('error_message', 'skipped')}")
            continue
        match = TRAIN_RE.match(name)
        if match and "items_per_second" in entry:
            train.setdefault(int(match.group(1)), []).append(float(entry["items_per_second"]))
            continue
        match = CODEC_RE.match(name)
        if match and "items_per_second" in entry:
            key = (match.group(1), match.group(2) == "on", int(match.group(3)))
            codec.setdefault(key, []).append(
                (float(entry["items_per_second"]), float(entry.get("bytes_per_second", 0.0)))
            )
            continue
        others.append(entry)
    mean = lambda values: sum(values) / len(values)
    train = {k: mean(v) for k, v in train.items()}
    codec = {k: (mean([r for r, _ in v]), mean([b for _, b in v])) for k, v in codec.items()}
    return train, codec, errors, others


def run_pytorch(args, batches, table_rows, codec_rows, tf32_settings):
    """Run pytorch_train_cuda.py (or read --pytorch-json); return its records."""
    if args.pytorch_json:
        with open(args.pytorch_json) as f:
            text = f.read()
        try:
            data = json.loads(text)
            return data if isinstance(data, list) else [data]
        except ValueError:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    command = [args.python, PYTORCH_SCRIPT, "--min-time", str(args.min_time)]
    command += ["--batch", *map(str, batches)] if batches else ["--batch"]
    if table_rows:
        command += ["--rows", str(table_rows)]
    command += ["--codec-rows", str(codec_rows)]
    if tf32_settings:
        command += ["--tf32", *tf32_settings]
    command += args.pytorch_args.split()
    print("running:", " ".join(command), file=sys.stderr, flush=True)
    # Its readable summary goes to stderr; stdout carries one JSON object per line.
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if result.returncode == 3:  # its status without a usable GPU
        raise Failure("pytorch_train_cuda.py found no CUDA GPU", 2)
    if result.returncode != 0:
        raise Failure(f"pytorch_train_cuda.py exited with status {result.returncode}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def ratio_text(mine, theirs):
    if mine is None or not theirs:
        return None, "n/a"
    ratio = mine / theirs
    return ratio, f"{ratio:.2f}x"


def verdict(ratio, target):
    if target is None:
        return ""
    if ratio is None:
        return f">= {target:g}x: n/a"
    return f">= {target:g}x: {'met' if ratio >= target else 'NOT met'}"


def rate_text(rate):
    return "n/a" if rate is None else f"{rate:,.0f}"


def main(argv=None):
    args = parse_args(argv)
    try:
        if not (args.ours_json and args.pytorch_json):
            gpu = require_gpu(args.python)
            print(f"GPU (PyTorch's view): {gpu}", file=sys.stderr, flush=True)

        report = run_ours(args)
        context = report.get("context", {})
        train, codec, errors, others = ours_rates(report)
        for error in errors:
            print(f"warning: C++ benchmark failed: {error}", file=sys.stderr)

        batches = sorted(set(train) | set(BATCHES))
        table_rows = int(context.get("train_table_rows", 1 << 20))
        codec_rows = int(context.get("codec_rows", 1 << 20))
        records = run_pytorch(args, batches, table_rows, codec_rows, ["off", "on"])
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status

    torch_context = next((r for r in records if r.get("kind") == "context"), {})
    torch_train = {int(r["batch"]): float(r["samples_per_second"]) for r in records if r.get("kind") == "train_step"}
    torch_codec = {
        (r["kind"], bool(r["tf32"]), int(r["rows"])): float(r["rows_per_second"])
        for r in records
        if r.get("kind") in ("encode", "decode")
    }

    ours_device = context.get("cuda_device", "?")
    torch_device = torch_context.get("device", "?")
    print(f"ours:    baler CUDA backend on {ours_device} (CUDA runtime {context.get('cuda_runtime_version', '?')})")
    print(f"PyTorch: {torch_context.get('torch', '?')} eager (CUDA {torch_context.get('torch_cuda', '?')}) "
          f"on {torch_device}, Adam {torch_context.get('adam', '?')}"
          f"{', loss.item() every step' if torch_context.get('loss_item') else ''}")
    if ours_device != torch_device:
        print("warning: the two programs report different devices", file=sys.stderr)

    rows_out, missed = [], []
    print()
    print(f"Training step, float32, batches from a device-resident table of {table_rows} rows")
    print(f"{'batch':>7} {'ours samples/s':>16} {'PyTorch samples/s':>18} {'ratio':>8}  target")
    for batch in sorted(set(train) | set(torch_train) | set(BATCHES)):
        mine, theirs = train.get(batch), torch_train.get(batch)
        ratio, text = ratio_text(mine, theirs)
        target = TRAIN_TARGETS.get(batch)
        if target is not None and (ratio is None or ratio < target):
            missed.append(f"train_step batch {batch}")
        print(f"{batch:>7} {rate_text(mine):>16} {rate_text(theirs):>18} {text:>8}  {verdict(ratio, target)}")
        rows_out.append({"kind": "train_step", "batch": batch, "ours_samples_per_second": mine,
                         "pytorch_samples_per_second": theirs, "ratio": ratio, "target": target})

    print()
    print("Encode / decode, float32, device-resident rows (bytes: float input of encode, float output of decode)")
    print(f"{'what':>7} {'tf32':>5} {'rows':>8} {'ours rows/s':>15} {'PyTorch rows/s':>15} {'ratio':>8} {'ours GB/s':>10}  target")
    expected = {(what, tf32, codec_rows) for what in ("encode", "decode") for tf32 in (False, True)}
    for key in sorted(set(codec) | set(torch_codec) | expected, key=lambda k: (k[0] != "encode", k[1], k[2])):
        what, tf32, rows = key
        mine, mine_bytes = codec.get(key, (None, None))
        theirs = torch_codec.get(key)
        ratio, text = ratio_text(mine, theirs)
        if ratio is None or ratio < CODEC_TARGET:
            missed.append(f"{what} tf32 {'on' if tf32 else 'off'}")
        gbs = "n/a" if mine_bytes is None else f"{mine_bytes / 1e9:.2f}"
        print(f"{what:>7} {'on' if tf32 else 'off':>5} {rows:>8} {rate_text(mine):>15} {rate_text(theirs):>15} "
              f"{text:>8} {gbs:>10}  {verdict(ratio, CODEC_TARGET)}")
        rows_out.append({"kind": what, "tf32": tf32, "rows": rows, "ours_rows_per_second": mine,
                         "ours_bytes_per_second": mine_bytes, "pytorch_rows_per_second": theirs,
                         "ratio": ratio, "target": CODEC_TARGET})

    if others:
        print()
        print("Other C++ benchmarks (no PyTorch counterpart)")
        for entry in others:
            name = entry.get("run_name", entry.get("name", "?"))
            time_text = f"{entry.get('real_time', float('nan')):.2f} {entry.get('time_unit', '')}"
            extra = f"{entry['GB/s']:.1f} GB/s" if "GB/s" in entry else ""
            print(f"  {name:<64} {time_text:>14} {extra:>12}")

    if errors:
        print()
        print(f"{len(errors)} C++ benchmark(s) failed; see the warnings above")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ours_context": context, "pytorch_context": torch_context, "rows": rows_out}, f, indent=2)
            f.write("\n")

    if missed:
        print()
        print("targets not met: " + ", ".join(missed))
        if args.check:
            return 1
    if errors:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
