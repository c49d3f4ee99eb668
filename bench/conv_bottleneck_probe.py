#!/usr/bin/python3
"""Probe: a fully convolutional autoencoder (no dense layer at the bottleneck) on CFD_animation.

    conv_bottleneck_probe.py 2d|3d CHANNELS LATENT_CHANNELS EPOCHS [LEVELS [LR]]

baler's conv model (include/baler/models/conv_ae.hpp) ends its encoder with a dense layer to
the latent, and that layer is most of a wide model's decoder. This asks, in PyTorch on the CPU,
whether dropping it (the latent a small grid of LATENT_CHANNELS channels, the decoder only
transposed convolutions) reaches a higher PSNR for as many stored values. 2d: each frame one
sample (1 x 50 x 50); 3d: the whole field one sample (1 x 60 x 50 x 50). LEVELS strided
convolutions k3 s2 p1 (CHANNELS, dash-separated, between them), LeakyReLU(0.01), Adam with a
cosine schedule on the mean squared error of the field scaled to [0, 1], full batch.
Prints the latent's shape and count, the decoder's parameters and the PSNR (over the range).
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(0)
mode, channels, latent_channels, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
levels = int(sys.argv[5]) if len(sys.argv) > 5 else 3
lr = float(sys.argv[6]) if len(sys.argv) > 6 else 3e-3
data = np.load(__file__.rsplit("/", 2)[0] + "/examples/data/CFD_animation.npz")
x = data[data.files[0]].astype(np.float64)  # 60 x 50 x 50
lo, hi = x.min(), x.max()
field = torch.tensor((x - lo) / (hi - lo), dtype=torch.float32)
X = field[:, None] if mode == "2d" else field[None, None]
conv, transpose = (nn.Conv2d, nn.ConvTranspose2d) if mode == "2d" else (nn.Conv3d, nn.ConvTranspose3d)

sizes = [[n] for n in X.shape[2:]]  # per axis: the grid after each convolution
for s in sizes:
    for _ in range(levels):
        s.append((s[-1] + 1) // 2)
c = [1] + [int(v) for v in channels.split("-")][: levels - 1] + [latent_channels]
assert len(c) == levels + 1, "CHANNELS needs LEVELS - 1 values"
encoder, decoder = [], []
for i in range(levels):
    encoder += [conv(c[i], c[i + 1], 3, 2, 1)] + ([nn.LeakyReLU(0.01)] if i < levels - 1 else [])
for i in reversed(range(levels)):
    # output_padding brings each axis back to the length its convolution read
    pad = tuple(s[i] - (2 * (s[i + 1] - 1) + 1) for s in sizes)
    decoder += [transpose(c[i + 1], c[i], 3, 2, 1, output_padding=pad)] + ([nn.LeakyReLU(0.01)] if i > 0 else [])
E, D = nn.Sequential(*encoder), nn.Sequential(*decoder)
opt = torch.optim.Adam(list(E.parameters()) + list(D.parameters()), lr=lr)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
start = time.time()
for _ in range(epochs):
    opt.zero_grad()
    loss = ((D(E(X)) - X) ** 2).mean()
    loss.backward()
    opt.step()
    schedule.step()
with torch.no_grad():
    z = E(X)
    mse = ((D(z) - X) ** 2).mean().item()
params = sum(p.numel() for p in D.parameters())
print(f"{mode} channels {c[1:-1]} latent {tuple(z.shape)} = {z.numel()} values, decoder {params} parameters, "
      f"{epochs} epochs: {-10 * np.log10(mse):.2f} dB ({time.time() - start:.0f} s)")
