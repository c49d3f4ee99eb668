#!/usr/bin/python3
"""Writes a large .npy made from real data, for the scaling benchmark, without holding it in memory.

    make_big_input.py OUT.npy GIGABYTES [field|table]

field: the CFD animation (60 frames of 50 x 50, float64) stacked along time until the file holds
GIGABYTES, copy k shifted by k * 1e-4 of the field's range so that no two copies are identical.
table: the LHCb table (4,322 x 26, float64) stacked the same way, copy k's float columns
shifted by k * 1e-4 of each column's range (integer columns, flags and charges, unchanged).
"""
import sys
import numpy as np

out, gigabytes, kind = sys.argv[1], float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "field"
data_dir = __file__.rsplit("/", 2)[0] + "/examples/data/"
if kind == "field":
    base = np.load(data_dir + "CFD_animation.npz")["data"].astype(np.float64)
    step = np.full(1, 1e-4 * (base.max() - base.min()))
else:
    base = np.load(data_dir + "lhcb_b2kkk.npz")["data"].astype(np.float64)
    integral = np.all(base == np.round(base), axis=0)
    step = np.where(integral, 0.0, 1e-4 * (base.max(axis=0) - base.min(axis=0)))
copies = int(gigabytes * 1e9 // base.nbytes) + 1
big = np.lib.format.open_memmap(out, mode="w+", dtype=np.float64, shape=(copies * base.shape[0],) + base.shape[1:])
for k in range(copies):
    big[k * base.shape[0]:(k + 1) * base.shape[0]] = base + k * step if kind == "table" else base + k * step[0]
big.flush()
print(f"{out}: {copies} copies of {kind} {base.shape}, shape {big.shape}, {big.nbytes / 1e9:.2f} GB")
