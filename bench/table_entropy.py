"""How close baler's error-bounded file of a table comes to what its rows hold on their own.

For each column: the order-0 entropy of its codes (the value range cut in steps of twice the
bound, as the simple baselines quantise it), that is the best any coder can do that treats the
column's rows as independent draws from one histogram (known to it for free), beside the bytes
baler's chosen predictor wrote for the column (from `compress`'s report). A column below its
entropy gains from row order, formulas or partner columns; one at it is a histogram of
independent rows, and the only room left is in what other columns say about it.

Usage: table_entropy.py BALER TABLE.npz [E]   (E: the range bound, default 1e-3)
"""
import os, re, subprocess, sys, tempfile
import numpy as np

baler, path = sys.argv[1], sys.argv[2]
e = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
z = np.load(path)
x = z["data"].astype(np.float64)
names = [str(n) for n in z["names"]] if "names" in z.files else [f"col{i}" for i in range(x.shape[1])]

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "t.baler")
    run = subprocess.run([baler, "compress", "-o", out, path, "--error-bound", f"range:{e}"],
                         capture_output=True, text=True, check=True)
    whole = os.path.getsize(out)
coded = {m.group(1): int(m.group(2))
         for m in re.finditer(r"^  (\S+): [^,\[]+, (\d+) bytes", run.stdout + run.stderr, re.M)}

def entropy_bytes(codes):
    _, counts = np.unique(codes, return_counts=True)
    p = counts / counts.sum()
    return -(counts * np.log2(p)).sum() / 8

print(f"{'column':<20} {'entropy B':>10} {'baler B':>10} {'baler/entropy':>14}")
total_h = total_b = 0.0
for j, name in enumerate(names):
    c = x[:, j][np.isfinite(x[:, j])]  # NaN and Inf are exceptions in baler, not codes
    span = c.max() - c.min() if c.size else 0.0
    h = entropy_bytes(np.round((c - c.min()) / (2 * e * span))) if span > 0 else 0.0
    b = coded.get(name)  # None: a column baler stores otherwise (constant, exact)
    if b is not None:
        total_h += h
        total_b += b
    print(f"{name:<20} {h:>10.0f} {b if b is not None else '-':>10} {b / h if b and h else float('nan'):>14.3f}")
print(f"{'coded columns':<20} {total_h:>10.0f} {total_b:>10.0f} {total_b / total_h:>14.3f}")
print(f"whole file {whole} bytes (columns and header), input as stored {z['data'].nbytes}")
