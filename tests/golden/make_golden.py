#!/usr/bin/env python3
"""Generate golden reference values for baler's HEP autoencoder ("AE").

The network is Baler's AE from models.py, in float64:

    encoder: Linear 24->200, LeakyReLU, Linear 200->100, LeakyReLU,
             Linear 100->50, LeakyReLU, Linear 50->15 (linear latent)
    decoder: Linear 15->50, LeakyReLU, Linear 50->100, LeakyReLU,
             Linear 100->200, LeakyReLU, Linear 200->24 (linear output)

LeakyReLU uses PyTorch's default negative slope (0.01). Parameters use
PyTorch's default initialisation after torch.manual_seed(1234).

All parameter-shaped arrays are flattened in the C++ library's order: for each
Linear in model order, the weight as PyTorch stores it (out x in, row-major)
followed by its bias (out).

Usage:
    /usr/bin/python3 tests/golden/make_golden.py [--output FILE]
"""

import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

LAYER_SIZES = [24, 200, 100, 50, 15, 50, 100, 200, 24]
LATENT_INDEX = LAYER_SIZES.index(15)  # number of Linear layers in the encoder
TORCH_SEED = 1234
DATA_SEED = 4321
BATCH = 16


class AE(torch.nn.Module):
    """Baler's HEP autoencoder with a parameterised list of layer widths."""

    def __init__(self, sizes, latent_index):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(n_in, n_out, dtype=torch.float64)
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.latent_index = latent_index

    @staticmethod
    def _stack(layers, h):
        # LeakyReLU after every Linear except the last one of the stack.
        for i, layer in enumerate(layers):
            h = layer(h)
            if i + 1 < len(layers):
                h = F.leaky_relu(h)
        return h

    def encode(self, x):
        return self._stack(self.layers[: self.latent_index], x)

    def decode(self, z):
        return self._stack(self.layers[self.latent_index:], z)


def flat_params(model):
    """Parameters in the library's order: per Linear, weight (row-major) then bias."""
    chunks = []
    for layer in model.layers:
        chunks.append(layer.weight.detach().reshape(-1))
        chunks.append(layer.bias.detach().reshape(-1))
    return torch.cat(chunks).numpy().copy()


def flat_grad(model):
    """Gradients in the same order as flat_params."""
    chunks = []
    for layer in model.layers:
        chunks.append(layer.weight.grad.reshape(-1))
        chunks.append(layer.bias.grad.reshape(-1))
    return torch.cat(chunks).numpy().copy()


def make_input():
    """Standard-normal batch with a few entries scaled up to exercise larger values."""
    rng = np.random.default_rng(DATA_SEED)
    x = rng.standard_normal((BATCH, LAYER_SIZES[0]))
    rows = rng.integers(0, BATCH, size=8)
    cols = rng.integers(0, LAYER_SIZES[0], size=8)
    x[rows, cols] *= 25.0
    return x


def fresh_model(state):
    """A model holding a copy of the given initial state."""
    model = AE(LAYER_SIZES, LATENT_INDEX)
    model.load_state_dict(state)
    return model


def compute_grad(model, x):
    """Zero the gradients, run forward/backward on mean MSE, return the loss."""
    model.zero_grad(set_to_none=False)
    y = model.decode(model.encode(x))
    loss = F.mse_loss(y, x, reduction="mean")
    loss.backward()
    return loss


def run_optimizer(state, x, make_optimizer, steps):
    """Flat parameters after each of `steps` optimizer steps, recomputing the gradient."""
    model = fresh_model(state)
    optimizer = make_optimizer(model.parameters())
    results = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=False)
        compute_grad(model, x)
        optimizer.step()
        results.append(flat_params(model))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "baler_ae_golden.npz"),
        help="output .npz file (default: baler_ae_golden.npz next to this script)",
    )
    args = parser.parse_args()

    torch.manual_seed(TORCH_SEED)
    model = AE(LAYER_SIZES, LATENT_INDEX)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    params0 = flat_params(model)

    x = torch.from_numpy(make_input())

    # Forward pass, both loss reductions, and the gradient of the mean loss.
    with torch.no_grad():
        latent = model.encode(x)
        y = model.decode(latent)
        loss_sum = F.mse_loss(y, x, reduction="sum")
    loss = compute_grad(model, x)
    grad = flat_grad(model)

    adam = run_optimizer(
        state, x, lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-8), 2
    )
    adamw = run_optimizer(
        state,
        x,
        lambda p: torch.optim.AdamW(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
        1,
    )
    sgd = run_optimizer(state, x, lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9), 2)

    np.savez(
        args.output,
        x=x.numpy(),
        params0=params0,
        latent=latent.numpy(),
        y=y.numpy(),
        loss=np.array([loss.item()], dtype=np.float64),
        loss_sum=np.array([loss_sum.item()], dtype=np.float64),
        grad=grad,
        params_adam1=adam[0],
        params_adam2=adam[1],
        params_adamw1=adamw[0],
        params_sgd1=sgd[0],
        params_sgd2=sgd[1],
        layer_sizes=np.array(LAYER_SIZES, dtype=np.int64),
    )
    print(f"wrote {args.output} (torch {torch.__version__}, numpy {np.__version__})")


if __name__ == "__main__":
    main()
