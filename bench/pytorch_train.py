#!/usr/bin/env python3
"""PyTorch reference throughput for training Baler's HEP autoencoder.

Times mini-batch training steps (zero_grad, forward, MSE loss with mean
reduction, backward, Adam step) of Baler's "AE" network
(features-200-100-50-latent-50-100-200-features, LeakyReLU between hidden
layers, linear latent and output) on random normal data, and reports the
training throughput in samples per second for each batch size and dtype.

Example:
    /usr/bin/python3 bench/pytorch_train.py --threads 2 --json pytorch.json
"""

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

HIDDEN = [200, 100, 50]  # encoder hidden widths; the decoder mirrors them
DATA_SEED = 1234
MODEL_SEED = 4321
DTYPES = {"float32": torch.float32, "float64": torch.float64}
SHORT_DTYPE = {"float32": "f32", "float64": "f64"}


class AE(torch.nn.Module):
    """Baler's HEP autoencoder for a given number of features and latent size."""

    def __init__(self, features, latent, dtype):
        super().__init__()
        sizes = [features, *HIDDEN, latent, *reversed(HIDDEN), features]
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(n_in, n_out, dtype=dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        # Layers whose output is not activated: the latent and the output layer.
        self.linear_outputs = {len(HIDDEN), len(self.layers) - 1}

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i not in self.linear_outputs:
                x = F.leaky_relu(x)
        return x


def synchronize(device):
    """Wait for queued device work so wall-clock timings are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_training(data, batch, args, device):
    """Run warm-up steps, then timed steps for at least args.min_time seconds.

    Batches are consecutive slices of `data`; when the next slice would run
    past the last row, it starts again from row 0.
    Returns (steps, seconds) of the timed part.
    """
    torch.manual_seed(MODEL_SEED)
    model = AE(args.features, args.latent, data.dtype).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rows = data.shape[0]
    offset = 0

    def step():
        nonlocal offset
        if offset + batch > rows:
            offset = 0
        x = data[offset : offset + batch]
        offset += batch
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), x, reduction="mean")
        loss.backward()
        optimizer.step()

    for _ in range(args.warmup):
        step()
    synchronize(device)

    steps = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < args.min_time:
        step()
        steps += 1
        # Wait for the step to finish on the device before reading the clock.
        synchronize(device)
        elapsed = time.perf_counter() - start
    return steps, elapsed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--features", type=int, default=24, help="input/output width")
    parser.add_argument("--latent", type=int, default=15, help="latent (bottleneck) width")
    parser.add_argument("--rows", type=int, default=65536 * 2, help="rows of random training data")
    parser.add_argument("--batch", type=int, nargs="+", default=[512, 4096, 65536], help="mini-batch sizes")
    parser.add_argument("--dtype", nargs="+", choices=sorted(DTYPES), default=["float32", "float64"], help="floating-point types")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before timing each configuration")
    parser.add_argument("--min-time", type=float, default=2.0, help="minimum timed seconds per configuration")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="device to train on")
    parser.add_argument("--json", metavar="FILE", help="also write the results as a JSON list to FILE")
    args = parser.parse_args(argv)
    for batch in args.batch:
        if not 0 < batch <= args.rows:
            parser.error(f"batch {batch} must be in 1..{args.rows} (--rows)")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda requested but CUDA is not available")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    generator = torch.Generator().manual_seed(DATA_SEED)
    base = torch.randn(args.rows, args.features, dtype=torch.float64, generator=generator)

    print(
        f"PyTorch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"rows {args.rows}, features {args.features}, latent {args.latent}"
    )
    print(f"{'dtype':>7} {'batch':>7} {'steps':>7} {'seconds':>8} {'samples/s':>12}")
    sys.stdout.flush()

    results = []
    for dtype_name in args.dtype:
        data = base.to(device=device, dtype=DTYPES[dtype_name])
        for batch in args.batch:
            steps, seconds = time_training(data, batch, args, device)
            rate = steps * batch / seconds
            print(f"{SHORT_DTYPE[dtype_name]:>7} {batch:>7} {steps:>7} {seconds:>8.3f} {rate:>12.0f}")
            sys.stdout.flush()
            results.append(
                {
                    "batch": batch,
                    "dtype": dtype_name,
                    "samples_per_second": rate,
                    "steps": steps,
                    "seconds": seconds,
                    "threads": args.threads,
                    "device": args.device,
                }
            )

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
