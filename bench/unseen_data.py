"""Defaults on data that is not in ../shared: synthetic tables and fields of the kinds users
bring, each through `baler compress --error-bound B` with no other option, `decompress` and
`evaluate --error-bound B` (every value checked), beside the strongest simple baseline
(../shared/peers/simple_baselines.py) on the same data and bound. Prints a markdown table.

    /usr/bin/python3 bench/unseen_data.py build/baler [--bound range:1e-3] [--work DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_inputs(work):
    """The inputs, written into `work`; returns [(label, path, baseline .npz or None)]."""
    rng = np.random.default_rng(7)
    out = []

    def save_npy(name, array, label):
        path = os.path.join(work, name + ".npy")
        np.save(path, array)
        base = os.path.join(work, name + "_baseline.npz")
        np.savez(base, data=array)
        out.append((label, path, base))

    # A feature table of 120 correlated columns (low rank plus noise), as ML inputs are.
    z, w = rng.normal(size=(50000, 8)), rng.normal(size=(8, 120))
    wide = (z @ w + 0.1 * rng.normal(size=(50000, 120))).astype(np.float32)
    path = os.path.join(work, "wide.npz")
    np.savez(path, data=wide, names=np.array([f"f{i}" for i in range(120)]))
    out.append(("50,000 x 120 float32 feature table (rank 8 + noise)", path, path))

    # Jets, four per event: kinematics and the columns derived from them, a b-tag with -999
    # where missing, an isolation with 5 % NaN.
    n = 200000
    pt = rng.exponential(50, n) + 20
    eta, phi = rng.uniform(-2.5, 2.5, n), rng.uniform(-np.pi, np.pi, n)
    m = pt * rng.uniform(0.05, 0.2, n)
    btag = rng.uniform(0, 1, n)
    btag[rng.random(n) < 0.3] = -999.0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    iso = rng.exponential(1, n)
    iso[rng.random(n) < 0.05] = np.nan
    event = np.repeat(np.arange(n // 4), 4) + 1000000
    names = ["event", "pt", "eta", "phi", "m", "px", "py", "pz", "E", "btag", "iso"]
    path = os.path.join(work, "jets.npz")
    np.savez(path, data=np.stack([event, pt, eta, phi, m, px, py, pz, energy, btag, iso], 1), names=np.array(names))
    out.append(("200,000 jets x 11 (-999 and 5 % NaN in two columns)", path, None))

    # Events of two jets (px, py, pz, E, pt, eta, phi, m each, float32), the second missing in
    # 30 % of them: as NaN, and as -999. (A generator of their own: the inputs after them stay
    # as they were before these.)
    n2, gen = 100000, np.random.default_rng(8)
    cols, miss = {}, gen.random(n2) < 0.3
    for j in ("j1", "j2"):
        jpt, jeta = gen.exponential(40, n2) + 20, gen.normal(0, 1.5, n2)
        jphi, jm = gen.uniform(-np.pi, np.pi, n2), gen.exponential(8, n2) + 1
        jpx, jpy, jpz = jpt * np.cos(jphi), jpt * np.sin(jphi), jpt * np.sinh(jeta)
        jet = dict(px=jpx, py=jpy, pz=jpz, E=np.sqrt(jpx**2 + jpy**2 + jpz**2 + jm**2), pt=jpt, eta=jeta, phi=jphi, m=jm)
        cols.update({f"{j}_{k}": v for k, v in jet.items()})
    for marker, name in ((np.nan, "NaN"), (-999.0, "-999")):
        table = np.stack([np.where(miss & k.startswith("j2"), marker, v) for k, v in cols.items()], 1).astype(np.float32)
        path = os.path.join(work, f"two_jets_{'nan' if name == 'NaN' else 'sentinel'}.npz")
        np.savez(path, data=table, names=np.array(list(cols)))
        out.append((f"100,000 events x 16 float32 (two jets, the second missing in 30 %, as {name})", path,
                    path if name == "-999" else None))

    # The same jets as records of their own dtypes, as uproot and numpy users hold them.
    rec = np.zeros(n, dtype=[("event", "<i8"), ("pt", "<f4"), ("eta", "<f4"), ("phi", "<f4"),
                             ("charge", "<i1"), ("nhits", "<i2")])
    rec["event"], rec["pt"], rec["eta"], rec["phi"] = event, pt, eta, phi
    rec["charge"], rec["nhits"] = rng.choice([-1, 1], n), rng.poisson(12, n)
    path = os.path.join(work, "records.npy")
    np.save(path, rec)
    out.append(("200,000 records (int64, 3 x float32, int8, int16)", path, None))

    x = np.linspace(0, 4 * np.pi, 128)
    gx, gy, gz = np.meshgrid(x, x, x, indexing="ij")
    field = np.sin(gx) * np.cos(1.3 * gy) + 0.5 * np.sin(0.7 * gz + gx) + 0.02 * rng.normal(size=gx.shape)
    save_npy("field3d", field.astype(np.float32), "128^3 float32 smooth field + 2 % noise")
    t = np.arange(1_000_000) / 1000.0
    series = np.sin(6 * np.pi * t) + 0.3 * np.sin(34.2 * np.pi * t) + np.cumsum(rng.normal(size=t.size)) / 3000
    save_npy("series", series, "1,000,000-sample float64 series (drifting)")
    yy, xx = np.mgrid[0:1024, 0:1024]
    image = 30000 + 20000 * np.sin(xx / 80.0) * np.cos(yy / 60.0) + rng.poisson(50, (1024, 1024))
    save_npy("image", image.astype(np.uint16), "1024^2 uint16 image (Poisson noise)")
    save_npy("half", (np.sin(xx / 50.0) * np.cos(yy / 70.0)).astype(np.float16), "1024^2 float16 field")

    # A global 0.25-degree sea-surface temperature, land marked 1e20 as climate models write.
    # No baseline: its range bound would be of a range of 1e20, which leaves nothing.
    lat, lon = np.meshgrid(np.linspace(-90, 90, 720), np.linspace(0, 2 * np.pi, 1440, endpoint=False), indexing="ij")
    sst = 15 + 12 * np.cos(np.radians(lat)) + np.sin(3 * lon) * np.cos(np.radians(2 * lat)) + 0.05 * rng.normal(size=lat.shape)
    sst[np.sin(2 * lon) * np.cos(np.radians(3 * lat)) > 0.4] = 1e20
    path = os.path.join(work, "sst.npy")
    np.save(path, sst.astype(np.float32))
    out.append(("720 x 1440 float32 field, 1e20 on its land (23 %)", path, None))

    # Stars in cgs units, as astrophysics writes them: masses of 1e33 g, luminosities of 1e33
    # erg/s, distances of 1e20 cm; past 2^53 every float64 is a whole number. (A generator of
    # its own, as above.)
    gen = np.random.default_rng(9)
    n3 = 50000
    mass = np.exp(gen.normal(0, 0.7, n3)) * 1.989e33
    lum = 3.828e33 * (mass / 1.989e33) ** 3.5 * np.exp(gen.normal(0, 0.1, n3))
    radius = 6.957e10 * (mass / 1.989e33) ** 0.8 * np.exp(gen.normal(0, 0.05, n3))
    teff = 5772 * (lum / 3.828e33) ** 0.25 * (radius / 6.957e10) ** -0.5
    dist = 3.086e18 * gen.uniform(10, 1000, n3)
    flux = lum / (4 * np.pi * dist**2)
    path = os.path.join(work, "stars.npz")
    np.savez(path, data=np.stack([mass, lum, radius, teff, dist, flux], 1),
             names=np.array(["mass_g", "lum_erg_s", "radius_cm", "teff_K", "dist_cm", "flux_cgs"]))
    out.append(("50,000 stars x 6 in cgs units (masses 1e33 g, distances 1e20 cm)", path, path))

    # Detector hits as records: int64 nanosecond times (1.6e18: past 2^53, where float64 skips
    # integers), a float32 amplitude and an int16 channel. (A generator of its own.)
    gen = np.random.default_rng(11)
    m = 200_000
    hits = np.zeros(m, dtype=[("t_ns", "<i8"), ("adc", "<f4"), ("channel", "<i2")])
    hits["t_ns"] = 1_600_000_000_000_000_001 + np.cumsum(gen.integers(900_000, 1_100_000, m))  # ~1 ms apart
    hits["adc"] = gen.gamma(3.0, 40.0, m)
    hits["channel"] = gen.integers(0, 256, m)
    path = os.path.join(work, "hits.npy")
    np.save(path, hits)
    out.append(("200,000 hits (int64 ns times of 1.6e18, float32, int16)", path, None))

    # Dimuon events as a CSV with two columns of text, as CERN's open-data exports are: a muon
    # pair's type (GG, GT, TT) and the trigger that fired (40 names). The baseline gets the same
    # table with the text as its labels' indices. (A generator of its own.)
    gen = np.random.default_rng(12)
    n4 = 100_000
    kind = gen.choice(3, n4, p=[0.8, 0.12, 0.08])
    trigger = np.minimum(gen.geometric(0.15, n4) - 1, 39)
    mpt, meta, mphi = gen.exponential(25, n4) + 5, gen.uniform(-2.4, 2.4, n4), gen.uniform(-np.pi, np.pi, n4)
    run_number = 160000 + np.cumsum(gen.random(n4) < 0.001)
    path = os.path.join(work, "dimuons.csv")
    with open(path, "w") as f:
        f.write("Type,Run,pt,eta,phi,trigger\n")
        for k, r, p_, e, ph, t in zip(kind, run_number, mpt, meta, mphi, trigger):
            f.write(f"{('GG', 'GT', 'TT')[k]},{r},{p_:.5g},{e:.5g},{ph:.5g},HLT_Mu{t}_v3\n")
    base = os.path.join(work, "dimuons_baseline.npz")
    names = [f"HLT_Mu{t}_v3" for t in range(40)]
    codes = np.searchsorted(np.unique(names), names)[trigger]  # the labels sorted, as baler sorts them
    values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(2, 3, 4))  # pt, eta, phi as written
    np.savez(base, data=np.column_stack([kind, run_number, values, codes]))
    out.append(("100,000 dimuons as CSV, 2 of 6 columns text (3 and 40 labels)", path, base))

    # A weather station's log as a CSV: ISO 8601 times a minute apart, 0.3 % of the minutes
    # missing, temperature, pressure and humidity as the logger rounds them. The baseline gets
    # the times as seconds since the first, under the same bound as the rest (baler keeps them
    # exact). (A generator of its own.)
    gen = np.random.default_rng(13)
    n5 = 100_000
    minutes = np.cumsum(1 + (gen.random(n5) < 0.003))
    day = 2 * np.pi * minutes / 1440
    temp = 12 + 6 * np.sin(day) + np.cumsum(gen.normal(0, 0.02, n5))
    pressure = 1013 + np.cumsum(gen.normal(0, 0.01, n5))
    humidity = np.clip(70 - 20 * np.sin(day) + gen.normal(0, 1, n5), 0, 100)
    start = np.datetime64("2024-02-20T00:00:00")
    stamps = np.datetime_as_string(start + minutes.astype("timedelta64[m]"), unit="s")
    path = os.path.join(work, "weather.csv")
    with open(path, "w") as f:
        f.write("time,temperature,pressure,humidity\n")
        for t, a, b, c in zip(stamps, temp, pressure, humidity):
            f.write(f"{t.replace('T', ' ')},{a:.2f},{b:.1f},{c:.0f}\n")
    base = os.path.join(work, "weather_baseline.npz")
    values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2, 3))
    np.savez(base, data=np.column_stack([60.0 * (minutes - minutes[0]), values]))
    out.append(("100,000 weather readings as CSV, ISO 8601 times a minute apart (0.3 % missing)", path, base))
    return out


def run(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, seconds, peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name] + cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        seconds, kb = t.read().split()[-2:]
    return p.stdout, float(seconds), float(kb) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baler")
    ap.add_argument("--bound", default="range:1e-3")
    ap.add_argument("--work", default=None, help="folder for the inputs and outputs (default: a temporary one)")
    args = ap.parse_args()
    baseline_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers",
                                   "simple_baselines.py")
    eb = float(args.bound.split(":")[1]) if args.bound.startswith("range:") else None
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        print(f"| data ({args.bound}) | baler | best simple baseline | compress s / MB | decompress s / MB | worst err / bound |")
        print("|---|---|---|---|---|---|")
        for label, path, base in make_inputs(work):
            stem, ext = os.path.splitext(path)
            out, c_s, c_mb = run([args.baler, "compress", path, "-o", stem + ".baler", "--error-bound", args.bound, "--force"])
            ratio = float(re.search(r"whole file, against the input as stored\s+([0-9.]+)", out).group(1))
            _, d_s, d_mb = run([args.baler, "decompress", stem + ".baler", "-o", stem + "_back" + ext, "--force"])
            out, _, _ = run([args.baler, "evaluate", path, stem + "_back" + ext, "--error-bound", args.bound])
            worst = max(float(line.split()[-2]) for line in out.split("\n\n")[-1].splitlines()[1:] if line.strip())
            best = "–"
            if base and eb and os.path.exists(baseline_script):
                r = json.loads(subprocess.run(["/usr/bin/python3", baseline_script, base, str(eb)], capture_output=True,
                                              text=True, check=True).stdout)
                method = max((k for k in r if k != "best"), key=lambda k: r[k])
                best = f"{r['best']:.2f} ({method})"
            print(f"| {label} | {ratio:.2f} | {best} | {c_s:.2f} / {c_mb:.0f} | {d_s:.2f} / {d_mb:.0f} | {worst:.4f} |",
                  flush=True)


if __name__ == "__main__":
    main()
