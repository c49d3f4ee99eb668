#!/usr/bin/env python3
"""Generate golden reference values for baler's convolutional layers.

Small float64 models, one forward and one backward on mean MSE each:

    conv2d (input 1 x 8 x 8):
      Conv2d(1->4, k3, s2, p1), LeakyReLU, AvgPool2d(2), Flatten,
      Linear(16->3) (latent), Linear(3->16), LeakyReLU, Unflatten(4 x 2 x 2),
      ConvTranspose2d(4->4, k2, s2), LeakyReLU, ConvTranspose2d(4->1, k3, s2, p1, output_padding 1)
    conv3d (input 1 x 4 x 6 x 6):
      Conv3d(1->2, k3, s2, p1), LeakyReLU, ConvTranspose3d(2->1, k3, s2, p1, output_padding 1)
    maxpool2d (input 1 x 8 x 8; overlapping, padded windows, so that an input can win in two):
      Conv2d(1->3, k3, s1, p1), LeakyReLU, MaxPool2d(k3, s2, p1), Flatten, Linear(48->64),
      Unflatten(1 x 8 x 8)
    maxpool3d (input 1 x 4 x 4 x 4):
      Conv3d(1->2, k3, s1, p1), LeakyReLU, MaxPool3d(2), Flatten, Linear(16->64),
      Unflatten(1 x 4 x 4 x 4)

LeakyReLU has PyTorch's default slope (0.01); parameters PyTorch's default initialisation
after torch.manual_seed(1234). Parameter-shaped arrays are flattened in the C++ library's
order: per layer with parameters, in model order, the weight as PyTorch stores it (row-major)
then its bias.

Usage:
    /usr/bin/python3 tests/golden/make_conv_golden.py [--output FILE]
"""

import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TORCH_SEED = 1234
DATA_SEED = 4321
BATCH = 4


def conv2d_model():
    d = torch.float64
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, dtype=d), nn.LeakyReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16, 3, dtype=d), nn.Linear(3, 16, dtype=d), nn.LeakyReLU(),
        nn.Unflatten(1, (4, 2, 2)), nn.ConvTranspose2d(4, 4, 2, stride=2, dtype=d),
        nn.LeakyReLU(),
        nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1, dtype=d))


def conv3d_model():
    d = torch.float64
    return nn.Sequential(
        nn.Conv3d(1, 2, 3, stride=2, padding=1, dtype=d), nn.LeakyReLU(),
        nn.ConvTranspose3d(2, 1, 3, stride=2, padding=1, output_padding=1, dtype=d))


def maxpool2d_model():
    d = torch.float64
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, dtype=d), nn.LeakyReLU(), nn.MaxPool2d(3, stride=2, padding=1),
        nn.Flatten(), nn.Linear(48, 64, dtype=d), nn.Unflatten(1, (1, 8, 8)))


def maxpool3d_model():
    d = torch.float64
    return nn.Sequential(
        nn.Conv3d(1, 2, 3, padding=1, dtype=d), nn.LeakyReLU(), nn.MaxPool3d(2), nn.Flatten(),
        nn.Linear(16, 64, dtype=d), nn.Unflatten(1, (1, 4, 4, 4)))


def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors]).numpy().copy()


def run(model, shape, rng):
    x = torch.from_numpy(rng.standard_normal((BATCH,) + shape))
    params0 = flat(model.parameters())
    y = model(x)
    loss = F.mse_loss(y, x, reduction="mean")
    loss.backward()
    return {
        "x": x.numpy().reshape(BATCH, -1),
        "params0": params0,
        "y": y.detach().numpy().reshape(BATCH, -1),
        "loss": np.array([loss.item()]),
        "grad": flat(p.grad for p in model.parameters()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_ae_golden.npz"),
        help="output .npz file (default: conv_ae_golden.npz next to this script)",
    )
    args = parser.parse_args()
    torch.manual_seed(TORCH_SEED)
    rng = np.random.default_rng(DATA_SEED)
    arrays = {}
    for name, model, shape in (("conv2d", conv2d_model(), (1, 8, 8)),
                               ("conv3d", conv3d_model(), (1, 4, 6, 6)),
                               ("maxpool2d", maxpool2d_model(), (1, 8, 8)),
                               ("maxpool3d", maxpool3d_model(), (1, 4, 4, 4))):
        for key, value in run(model, shape, rng).items():
            arrays[f"{name}_{key}"] = value
    np.savez(args.output, **arrays)
    print(f"wrote {args.output} (torch {torch.__version__}, numpy {np.__version__})")


if __name__ == "__main__":
    main()
