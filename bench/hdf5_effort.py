"""The HDF5 filter at thorough and fast effort through h5py: ratio against the array, CPU time
of writing (fastest of three) and worst error over the bound, on the shared fields.

    PYTHONPATH=build/python HDF5_PLUGIN_PATH=build/hdf5-plugin OPENBLAS_NUM_THREADS=1 \\
        /usr/bin/python3 bench/hdf5_effort.py [--bound range:1e-3] [--data ../shared/data]

A range bound is each chunk's range, so the worst error is shown against the whole array's
range times E (at most 1).
"""
import argparse
import os
import resource
import tempfile

import h5py
import numpy as np

import baler


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bound", default="range:1e-3")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                                                   "data"))
    args = ap.parse_args()
    kind, value = args.bound.split(":")
    vorticity = np.load(os.path.join(args.data, "fields", "sperr_vorticity_512x512.npz"))
    animation = np.load(os.path.join(args.data, "cfd", "CFD_animation.npz"))["data"]
    cases = [("vorticity, 256x256 chunks", vorticity[vorticity.files[0]], (256, 256)),
             ("CFD_animation, 15-frame chunks", animation, (15,) + animation.shape[1:])]
    print("| data | effort | ratio | write s (CPU) | worst error / bound |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.h5")
        for label, x, chunks in cases:
            allowed = float(value) * (x.max() - x.min()) if kind == "range" else float(value)
            for effort in ("thorough", "fast"):
                best = float("inf")
                for _ in range(3):
                    start = cpu_seconds()
                    with h5py.File(path, "w") as f:
                        f.create_dataset("x", data=x, chunks=chunks,
                                         **baler.hdf5_filter(args.bound, layout="field", effort=effort))
                    best = min(best, cpu_seconds() - start)
                with h5py.File(path, "r") as f:
                    stored, back = f["x"].id.get_storage_size(), f["x"][...]
                worst = np.abs(back.astype(np.float64) - x).max() / allowed
                print(f"| {label} | {effort} | {x.nbytes / stored:.2f} | {best:.3f} | {worst:.3f} |", flush=True)


if __name__ == "__main__":
    main()
