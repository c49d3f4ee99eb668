"""SZ3's and SPERR's best whole-file ratio at a PSNR of at least X, for comparing a model that
lands at a PSNR of its own (the conv models' table in the README).

Each peer runs at PSNR targets from 25 to 65 dB in steps of 0.5 (`sz3 -M PSNR T`, `sperr --psnr
T`); for each X the answer is the largest ratio (input as stored / compressed bytes) among the
runs whose PSNR (value range over RMS error, as `baler evaluate`) is at least X. A peer's PSNR
mode lands near its target, not on it, and not in order (CFD_animation: -M PSNR 29 gives 264x
at 33.7 dB, -M PSNR 30 218x at 33.3 dB), so interpolating between a few of its runs misjudges
it either way; the envelope is what a user who tried every target would get.

    /usr/bin/python3 bench/peer_envelope.py PEERS_DIR FIELD.npz PSNR [PSNR ...]

PEERS_DIR: the folder of ../shared/peers/build.sh (sz3, sperr2d, sperr3d).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(peers, tool, a, target, work):
    raw, z, out = (os.path.join(work, n) for n in ("in.raw", "out.bin", "out.raw"))
    a.tofile(raw)
    dims = [str(n) for n in reversed(a.shape)]  # fastest first
    f32 = a.dtype == np.float32
    if tool == "sz3":
        cmds = [[os.path.join(peers, "sz3"), "-f" if f32 else "-d", "-i", raw, "-z", z, "-o", out,
                 f"-{a.ndim}", *dims, "-M", "PSNR", str(target)]]
        out_type = a.dtype
    else:
        sperr = os.path.join(peers, f"sperr{a.ndim}d")
        cmds = [[sperr, "-c", "--ftype", "32" if f32 else "64", "--dims", *dims, "--psnr", str(target),
                 "--bitstream", z, raw],
                [sperr, "-d", "--decomp_d", out, z]]
        out_type = np.float64
    for cmd in cmds:
        subprocess.run(cmd, check=True, capture_output=True)
    y = np.fromfile(out, dtype=out_type).astype(np.float64)
    x = a.astype(np.float64).ravel()
    rmse = np.sqrt(np.mean((x - y) ** 2))
    psnr = np.inf if rmse == 0 else 20 * np.log10((x.max() - x.min()) / rmse)
    return psnr, a.nbytes / os.path.getsize(z)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    peers, path, wanted = sys.argv[1], sys.argv[2], [float(v) for v in sys.argv[3:]]
    a = np.ascontiguousarray(np.load(path)["data"])
    if a.ndim not in (2, 3):
        sys.exit("peer_envelope.py: a 2-D or 3-D field, please")
    targets = np.arange(25.0, 65.01, 0.5)
    print(f"{os.path.basename(path)}: best ratio at PSNR >= X over targets 25-65 dB, step 0.5")
    print("| peer | X dB | best ratio | from target | its PSNR dB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for tool in ("sz3", "sperr"):
            runs = [(t, *run(peers, tool, a, t, work)) for t in targets]
            for x in wanted:
                reached = [(ratio, t, db) for t, db, ratio in runs if db >= x]
                if not reached:
                    print(f"| {tool} | {x:g} | none reached | | |")
                    continue
                ratio, t, db = max(reached)
                print(f"| {tool} | {x:g} | {ratio:.1f} | {t:g} | {db:.2f} |")


if __name__ == "__main__":
    main()
