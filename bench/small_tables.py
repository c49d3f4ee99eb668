"""What a small table pays for its header: the first N rows of each HEP table in ../shared/data/hep
through `baler compress --error-bound range:E` (no other option), beside the strongest simple
baseline (../shared/peers/simple_baselines.py, whose files carry no header) on the same rows and
bound. Prints a markdown table: the file's bytes, its header's ("metadata" in `baler info`),
and the ratios.

    /usr/bin/python3 bench/small_tables.py build/baler [--rows 100,300,1000,3000] [--eb 1e-3]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import tempfile

import numpy as np

from unseen_data import run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baler")
    ap.add_argument("--rows", default="100,300,1000,3000")
    ap.add_argument("--eb", default="1e-3", help="the bound, a fraction of each column's range")
    args = ap.parse_args()
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
    baseline_script = os.path.join(shared, "peers", "simple_baselines.py")
    print(f"| table (range:{args.eb}) | rows | file bytes | header bytes | baler | best simple baseline | baler / baseline |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for source in sorted(glob.glob(os.path.join(shared, "data", "hep", "*.npz"))):
            full = np.load(source)
            for rows in (int(r) for r in args.rows.split(",")):
                if rows > full["data"].shape[0]:
                    continue
                path = os.path.join(work, "table.npz")
                named = {"names": full["names"]} if "names" in full.files else {}  # unnamed: made up by baler
                np.savez(path, data=full["data"][:rows], **named)
                out, _, _ = run([args.baler, "compress", path, "-o", path + ".baler", "--force",
                                 "--error-bound", f"range:{args.eb}"])
                ratio = float(re.search(r"whole file, against the input as stored\s+([0-9.]+)", out).group(1))
                header = int(re.search(r"metadata \(header, tables\)\s+([0-9]+)", out).group(1))
                base = json.loads(subprocess.run(["/usr/bin/python3", baseline_script, path, args.eb],
                                                 capture_output=True, text=True, check=True).stdout)["best"]
                print(f"| {os.path.basename(source)} | {rows} | {os.path.getsize(path + '.baler')} | {header} | "
                      f"{ratio:.2f} | {base:.2f} | {ratio / base:.3f} |", flush=True)


if __name__ == "__main__":
    main()
