"""Fields that are not in ../shared, of the kinds SZ3 and SPERR are measured on, written as .npz
into DIR/fields/ for `rate_distortion --data DIR` (baler beside SZ3, SPERR and the simple
baselines, every value checked against its bound):

    /usr/bin/python3 bench/synthetic_fields.py /tmp/synthetic [--large]
    OPENBLAS_NUM_THREADS=1 build/bench/rate_distortion --data /tmp/synthetic --peers build/peers --csv synthetic.csv

--large also writes DIR/kolmogorov3d_256.npy, a 64 MB float32 field of the same spectrum, for
timing and peak memory by hand (`/usr/bin/time -v build/baler compress ...`; beside, not in,
fields/: the in-process baselines of rate_distortion take minutes on it).

Gaussian random fields of a power-law spectrum have no structure beyond their spectrum: a
linear predictor is the best there is, so they show what is left once nothing is to be learnt.
The panning frames have one thing more, content that moves across the grid from frame to frame.
"""
import os
import sys

import numpy as np


def power_law_field(rng, shape, slope):
    """A Gaussian random field whose power spectrum falls as |k|^slope, unit variance."""
    k = np.meshgrid(*[np.fft.fftfreq(n) * n for n in shape], indexing="ij")
    magnitude = np.sqrt(sum(x**2 for x in k))
    origin = (0,) * len(shape)
    magnitude[origin] = 1
    amplitude = magnitude ** (slope / 2)
    amplitude[origin] = 0
    f = np.fft.ifftn(amplitude * np.fft.fftn(rng.normal(size=shape))).real
    return f / f.std()


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--large"]):
        sys.exit(__doc__)
    out = os.path.join(sys.argv[1], "fields")
    os.makedirs(out, exist_ok=True)
    if sys.argv[2:] == ["--large"]:
        field = power_law_field(np.random.default_rng(5), (256,) * 3, -11 / 3).astype(np.float32)
        np.save(os.path.join(sys.argv[1], "kolmogorov3d_256.npy"), field)
    rng = np.random.default_rng(123)
    # A velocity component of Kolmogorov turbulence: energy spectrum k^-5/3, power k^-11/3 in 3-D.
    np.savez(os.path.join(out, "kolmogorov3d_128.npz"), data=power_law_field(rng, (128,) * 3, -11 / 3).astype(np.float32))
    # A cosmological density (as Nyx writes): log-normal, most cells near the minimum, a few peaks.
    np.savez(os.path.join(out, "lognormal3d_128.npz"),
             data=np.exp(1.5 * power_law_field(rng, (128,) * 3, -3.0)).astype(np.float32))
    # 2-D turbulence: spectrum k^-4, smoother than the 3-D velocity.
    np.savez(os.path.join(out, "grf2d_1024.npz"), data=power_law_field(rng, (1024, 1024), -4.0).astype(np.float32))
    # A global temperature on a 0.25-degree grid, float64: a smooth gradient, a front along a
    # wave, and weather on top.
    lat, lon = np.meshgrid(np.linspace(-90, 90, 721), np.linspace(0, 360, 1440, endpoint=False), indexing="ij")
    front = 5 * np.tanh((lat - 20 * np.sin(np.radians(3 * lon))) / 2)
    temperature = 250 + 40 * np.cos(np.radians(lat)) + front + 0.5 * power_law_field(rng, (721, 1440), -3.5)
    np.savez(os.path.join(out, "climate2d_f64.npz"), data=temperature)
    # Frames of a view panning across a smooth scene (clouds under a satellite, structures a mean
    # flow carries): 60 frames of 128 x 192, the view a row and three columns further each frame,
    # with independent noise of 0.2 % of the scene's spread. (A generator of its own.)
    gen = np.random.default_rng(4)
    scene = power_law_field(gen, (512, 512), -4.0)
    frames = np.stack([scene[100 + t:228 + t, 50 + 3 * t:242 + 3 * t] for t in range(60)])
    frames = (frames + 0.002 * gen.normal(size=frames.shape)).astype(np.float32)
    np.savez(os.path.join(out, "panning3d_60x128x192.npz"), data=frames)
    print(f"wrote 5 fields to {out}")


if __name__ == "__main__":
    main()
