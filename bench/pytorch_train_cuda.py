#!/usr/bin/env python3
"""PyTorch (eager) reference throughput for Baler's HEP autoencoder on a GPU.

Times the network of bench/pytorch_train.py (features-200-100-50-latent-50-
100-200-features, LeakyReLU between hidden layers, linear latent and output),
float32, the way bench/cuda_bench_training.cpp times baler's CUDA backend:

  train_step  one optimisation step: a shuffled mini-batch gathered from a
              table already on the GPU (a slice of one random permutation of
              its rows indexes the table), zero_grad, forward, MSE loss
              (mean), backward, Adam step; reported in samples/s.
  encode      the encoder half on device-resident rows (inference mode),
  decode      the decoder half on device-resident latent rows; reported in
              rows/s and bytes/s (float input bytes for encode, float output
              bytes for decode), with TF32 matmuls off and on.

Times come from torch.cuda.Event pairs around blocks of calls, after warm-up
calls and torch.cuda.synchronize(). Each result is printed on stdout as one
JSON object per line (the first line, "kind": "context", describes the run);
a readable summary goes to stderr. Without a usable GPU it exits with status 3.

Example:
    /usr/bin/python3 bench/pytorch_train_cuda.py --json pytorch_cuda.json
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_train import AE, HIDDEN  # noqa: E402  (the same network as the CPU comparison)

DATA_SEED = 1234
MODEL_SEED = 4321
ORDER_SEED = 7
DTYPE = torch.float32
NO_GPU_STATUS = 3  # exit status without a usable GPU (argparse errors exit with 2)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def emit(record, results):
    """Print one result as a JSON line on stdout and keep it for --json."""
    print(json.dumps(record), flush=True)
    results.append(record)


def set_tf32(enabled):
    """Allow (or forbid) TF32 tensor cores for float32 matmuls; returns the API used.

    PyTorch 2.9 and later have torch.backends.cuda.matmul.fp32_precision and
    deprecate torch.backends.cuda.matmul.allow_tf32 (mixing the two can raise),
    so the newer setting is used where it exists.
    """
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        matmul.fp32_precision = "tf32" if enabled else "ieee"
        return f"torch.backends.cuda.matmul.fp32_precision={matmul.fp32_precision}"
    matmul.allow_tf32 = enabled
    return f"torch.backends.cuda.matmul.allow_tf32={matmul.allow_tf32}"


class Timer:
    """Elapsed time of work queued between start() and stop(): CUDA events on a GPU,
    the wall clock on the CPU (--device cpu, for checking the script without a GPU)."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"
        if self.cuda:
            self.begin = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)

    def start(self):
        if self.cuda:
            self.begin.record()
        else:
            self.t0 = time.perf_counter()

    def stop(self):
        """Seconds since start(), once the device has finished the work."""
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            return self.begin.elapsed_time(self.end) / 1e3
        return time.perf_counter() - self.t0


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn, device, warmup, min_time, block_seconds=0.1):
    """Calls fn() `warmup` times, then in timed blocks until min_time seconds are measured.

    Blocks grow to about block_seconds each, so the host can queue work ahead of the
    device as it would in a training loop. Returns (calls, seconds) of the timed part.
    """
    for _ in range(warmup):
        fn()
    synchronize(device)
    timer = Timer(device)
    calls, seconds, block = 0, 0.0, 1
    while seconds < min_time:
        timer.start()
        for _ in range(block):
            fn()
        elapsed = timer.stop()
        calls += block
        seconds += elapsed
        per_call = max(elapsed / block, 1e-7)
        block = int(min(max(1, block_seconds / per_call), 100000))
    return calls, seconds


def make_model(args, device):
    torch.manual_seed(MODEL_SEED)
    return AE(args.features, args.latent, DTYPE).to(device)


def run_layers(model, x, first, last):
    """Layers first..last-1 of the AE, with its activations."""
    for i in range(first, last):
        x = model.layers[i](x)
        if i not in model.linear_outputs:
            x = F.leaky_relu(x)
    return x


def make_optimizer(model, kind):
    if kind == "foreach":
        return torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    if kind == "fused":
        return torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    return torch.optim.Adam(model.parameters(), lr=1e-3)  # PyTorch's default choice


def bench_train(args, device, data, order, batch):
    model = make_model(args, device)
    optimizer = make_optimizer(model, args.adam)
    rows = data.shape[0]
    offset = 0

    def step():
        nonlocal offset
        if offset + batch > rows:
            offset = 0
        x = data[order[offset : offset + batch]]
        offset += batch
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x), x, reduction="mean")
        loss.backward()
        optimizer.step()
        if args.loss_item:
            loss.item()  # read the loss every step, as a training loop that logs it does

    steps, seconds = time_calls(step, device, args.warmup, args.min_time)
    return steps, seconds


def bench_codec(args, device, what, rows, tf32):
    model = make_model(args, device).eval()
    generator = torch.Generator().manual_seed(DATA_SEED + 1)
    half = len(HIDDEN) + 1  # layers of the encoder
    if what == "encode":
        width_in, width_out, first, last = args.features, args.latent, 0, half
    else:
        width_in, width_out, first, last = args.latent, args.features, half, len(model.layers)
    x = torch.randn(rows, width_in, generator=generator, dtype=DTYPE).to(device)
    setting = set_tf32(tf32) if device.type == "cuda" else "n/a (cpu)"

    def call():
        run_layers(model, x, first, last)

    with torch.inference_mode():
        calls, seconds = time_calls(call, device, args.warmup, args.min_time)
    bytes_per_row = (width_in if what == "encode" else width_out) * torch.finfo(DTYPE).bits // 8
    return calls, seconds, setting, bytes_per_row


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--features", type=int, default=24, help="input/output width")
    parser.add_argument("--latent", type=int, default=15, help="latent (bottleneck) width")
    parser.add_argument("--rows", type=int, default=1 << 20, help="rows of the device-resident training table")
    parser.add_argument("--batch", type=int, nargs="*", default=[512, 4096, 65536], help="training batch sizes (none: no training runs)")
    parser.add_argument("--codec-rows", type=int, default=1 << 20, help="rows per encode / decode call (0: no encode / decode runs)")
    parser.add_argument("--tf32", nargs="+", choices=["off", "on"], default=["off", "on"], help="TF32 settings for encode / decode")
    parser.add_argument("--adam", choices=["default", "foreach", "fused"], default="default", help="torch.optim.Adam implementation")
    parser.add_argument("--loss-item", action="store_true", help="call loss.item() every training step")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before timing each configuration")
    parser.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds per configuration")
    parser.add_argument("--device", default="cuda", help="torch device (cpu only to check the script)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as a JSON list to FILE")
    args = parser.parse_args(argv)
    for batch in args.batch:
        if not 0 < batch <= args.rows:
            parser.error(f"batch {batch} must be in 1..{args.rows} (--rows)")
    if args.codec_rows < 0:
        parser.error("--codec-rows must be >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            print("error: no CUDA GPU available to PyTorch (torch.cuda.is_available() is False; "
                  f"torch {torch.__version__}, built for CUDA {torch.version.cuda})", file=sys.stderr)
            return NO_GPU_STATUS
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = "cpu"

    results = []
    emit(
        {
            "kind": "context",
            "torch": torch.__version__,
            "torch_cuda": torch.version.cuda,
            "device": device_name,
            "dtype": "float32",
            "features": args.features,
            "latent": args.latent,
            "hidden": HIDDEN,
            "train_table_rows": args.rows,
            "codec_rows": args.codec_rows,
            "adam": args.adam,
            "loss_item": args.loss_item,
        },
        results,
    )
    log(f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}) on {device_name}")

    if args.batch:
        if device.type == "cuda":
            set_tf32(False)  # training in full float32, as the C++ benchmark's default context
        generator = torch.Generator().manual_seed(DATA_SEED)
        data = torch.randn(args.rows, args.features, generator=generator, dtype=DTYPE).to(device)
        order = torch.randperm(args.rows, generator=torch.Generator().manual_seed(ORDER_SEED)).to(device)
        for batch in args.batch:
            steps, seconds = bench_train(args, device, data, order, batch)
            rate = steps * batch / seconds
            log(f"train_step batch {batch:>6}: {rate:14.0f} samples/s ({steps} steps, {seconds:.3f} s)")
            emit(
                {
                    "kind": "train_step",
                    "dtype": "float32",
                    "batch": batch,
                    "samples_per_second": rate,
                    "steps": steps,
                    "seconds": seconds,
                },
                results,
            )
        del data, order

    if args.codec_rows > 0:
        for tf32 in args.tf32:
            for what in ("encode", "decode"):
                calls, seconds, setting, bytes_per_row = bench_codec(
                    args, device, what, args.codec_rows, tf32 == "on"
                )
                rows_per_second = calls * args.codec_rows / seconds
                log(f"{what} tf32 {tf32:>3}: {rows_per_second:14.0f} rows/s "
                    f"({rows_per_second * bytes_per_row / 1e9:.2f} GB/s, {calls} calls, {seconds:.3f} s)")
                emit(
                    {
                        "kind": what,
                        "dtype": "float32",
                        "tf32": tf32 == "on",
                        "tf32_setting": setting,
                        "rows": args.codec_rows,
                        "rows_per_second": rows_per_second,
                        "bytes_per_second": rows_per_second * bytes_per_row,
                        "calls": calls,
                        "seconds": seconds,
                    },
                    results,
                )
        if device.type == "cuda":
            set_tf32(False)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
