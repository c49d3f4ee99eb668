#!/usr/bin/env python3
"""Side-by-side training throughput: baler (C++) versus PyTorch.

Runs the C++ Google Benchmark program (benchmarks named
train_step/<f32|f64>/<batch>, each reporting the counter items_per_second in
samples/s), then bench/pytorch_train.py with the same batch sizes, dtypes and
thread count, and prints one table row per configuration:
batch, dtype, ours samples/s, PyTorch samples/s, ours/PyTorch ratio.

Both programs get the same treatment: ours runs with OPENBLAS_NUM_THREADS from
1 to --threads and its best rate is used; PyTorch is run
under every split of the same cores between its own threads
(torch.set_num_threads, OMP_NUM_THREADS) and OpenBLAS's threads, and its best
rate per configuration is used: on 2 cores, 2 x 2 threads oversubscribe and
run 3x slower than 1 x 1, which would flatter us. The winning split is
printed. A missing program or benchmark is shown as "n/a".

Example:
    /usr/bin/python3 bench/compare_pytorch.py --ours build/bench/bench_training
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTORCH_SCRIPT = os.path.join(HERE, "pytorch_train.py")
SHORT_DTYPE = {"float32": "f32", "float64": "f64"}
LONG_DTYPE = {v: k for k, v in SHORT_DTYPE.items()}
# train_step/<dtype>/<batch>, optionally followed by Google Benchmark suffixes
# such as /real_time or /min_time:2.000.
NAME_RE = re.compile(r"^train_step/(f32|f64)/(\d+)(?:/.*)?$")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--ours", default="build/bench/bench_training", help="C++ Google Benchmark program")
    parser.add_argument(
        "--ours-json",
        metavar="FILE",
        help="read the C++ results from this Google Benchmark JSON file instead of running --ours",
    )
    parser.add_argument("--python", default=sys.executable, help="Python interpreter with torch, for pytorch_train.py")
    parser.add_argument("--batch", type=int, nargs="+", default=[512, 4096, 65536], help="mini-batch sizes")
    parser.add_argument("--dtype", nargs="+", choices=sorted(SHORT_DTYPE), default=["float32", "float64"], help="floating-point types")
    parser.add_argument("--threads", type=int, default=2, help="threads for both programs")
    parser.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds per configuration")
    parser.add_argument("--rows", type=int, default=65536 * 2, help="rows of random data for pytorch_train.py")
    parser.add_argument("--json", metavar="FILE", help="also write the combined table as a JSON list to FILE")
    return parser.parse_args(argv)


def benchmark_filter(batches, dtypes):
    """Regular expression selecting exactly the requested train_step benchmarks."""
    short = "|".join(SHORT_DTYPE[d] for d in dtypes)
    sizes = "|".join(str(b) for b in batches)
    return f"^train_step/({short})/({sizes})(/|$)"


def parse_google_benchmark(path):
    """Map (dtype, batch) -> items_per_second from a Google Benchmark JSON file.

    Iteration runs are averaged when the benchmark was repeated; aggregate rows
    (mean, median, stddev, ...) are skipped.
    """
    with open(path) as f:
        report = json.load(f)
    rates = {}
    for entry in report.get("benchmarks", []):
        if entry.get("run_type", "iteration") != "iteration" or entry.get("error_occurred"):
            continue
        match = NAME_RE.match(entry.get("run_name", entry.get("name", "")))
        if not match or "items_per_second" not in entry:
            continue
        key = (LONG_DTYPE[match.group(1)], int(match.group(2)))
        rates.setdefault(key, []).append(float(entry["items_per_second"]))
    return {key: sum(values) / len(values) for key, values in rates.items()}


def run_ours(args, env):
    """Run the C++ benchmark program; return its rates, or {} when it cannot run."""
    if args.ours_json:
        return parse_google_benchmark(args.ours_json)
    if not os.access(args.ours, os.X_OK):
        print(f"warning: C++ benchmark {args.ours!r} not found or not executable", file=sys.stderr)
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ours.json")
        command = [
            args.ours,
            "--benchmark_format=json",
            f"--benchmark_out={out}",
            f"--benchmark_filter={benchmark_filter(args.batch, args.dtype)}",
            f"--benchmark_min_time={args.min_time}",
        ]
        print("running:", " ".join(command), file=sys.stderr)
        # The console copy of the JSON is not needed: results are read from --benchmark_out.
        result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL)
        if result.returncode != 0 or not os.path.exists(out):
            print(f"warning: C++ benchmark exited with status {result.returncode}", file=sys.stderr)
            return {}
        return parse_google_benchmark(out)


def run_pytorch(args, env):
    """Run pytorch_train.py with the same configuration; return its rates, or {} on failure.

    env carries the thread counts of this run (OMP_NUM_THREADS for torch, OPENBLAS_NUM_THREADS).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pytorch.json")
        command = [
            args.python,
            PYTORCH_SCRIPT,
            "--batch", *map(str, args.batch),
            "--dtype", *args.dtype,
            "--threads", env["OMP_NUM_THREADS"],
            "--min-time", str(args.min_time),
            "--rows", str(args.rows),
            "--json", out,
        ]
        print("running:", " ".join(command), file=sys.stderr)
        # Its own table goes to stderr so that stdout carries only the comparison.
        result = subprocess.run(command, env=env, stdout=sys.stderr)
        if result.returncode != 0 or not os.path.exists(out):
            print(f"warning: pytorch_train.py exited with status {result.returncode}", file=sys.stderr)
            return {}
        with open(out) as f:
            return {(r["dtype"], int(r["batch"])): float(r["samples_per_second"]) for r in json.load(f)}


def format_rate(rate):
    return "n/a" if rate is None else f"{rate:.0f}"


def main(argv=None):
    args = parse_args(argv)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))

    ours, ours_threads = {}, {}
    for blas_threads in range(1, args.threads + 1):
        for key, rate in run_ours(args, dict(env, OPENBLAS_NUM_THREADS=str(blas_threads))).items():
            if rate > ours.get(key, 0.0):
                ours[key], ours_threads[key] = rate, blas_threads
    pytorch, split = {}, {}
    for torch_threads in range(1, args.threads + 1):
        for blas_threads in range(1, args.threads + 1):
            split_env = dict(env, OMP_NUM_THREADS=str(torch_threads), OPENBLAS_NUM_THREADS=str(blas_threads))
            for key, rate in run_pytorch(args, split_env).items():
                if rate > pytorch.get(key, 0.0):
                    pytorch[key], split[key] = rate, f"{torch_threads}x{blas_threads}"

    rows = []
    print(f"{'batch':>7} {'dtype':>7} {'ours samples/s':>15} {'PyTorch samples/s':>18} {'ratio':>7}  threads: ours, PyTorch x BLAS")
    for dtype in args.dtype:
        for batch in args.batch:
            mine = ours.get((dtype, batch))
            theirs = pytorch.get((dtype, batch))
            ratio = mine / theirs if mine is not None and theirs else None
            ratio_text = "n/a" if ratio is None else f"{ratio:.2f}"
            print(f"{batch:>7} {SHORT_DTYPE[dtype]:>7} {format_rate(mine):>15} {format_rate(theirs):>18} {ratio_text:>7}  "
                  f"{ours_threads.get((dtype, batch), 'n/a')}, {split.get((dtype, batch), 'n/a')}")
            rows.append(
                {
                    "batch": batch,
                    "dtype": dtype,
                    "ours_samples_per_second": mine,
                    "pytorch_samples_per_second": theirs,
                    "ratio": ratio,
                    "ours_blas_threads": ours_threads.get((dtype, batch)),
                    "pytorch_threads_x_blas_threads": split.get((dtype, batch)),
                }
            )

    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
