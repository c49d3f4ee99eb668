"""Markdown tables from the CSV of bench/rate_distortion (the README's and bench/README.md's).
Usage: /usr/bin/python3 bench/rd_table.py rd.csv"""
import csv, sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
by = defaultdict(dict)
for r in rows:
    by[(r["dataset"], r["bound"])][r["method"]] = r
others = ["sz3", "sperr", "quant-zstd", "mantissa", "zfp"]

print("| data | bound | baler (predictors) | baler --effort fast | SZ3 | SPERR | quant-zstd | mantissa | ZFP "
      "| baler / best other (fast) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (data, bound), m in by.items():
    def cell(name):
        r = m.get(name)
        if not r:
            return "–"
        mark = "" if float(r["max_err_over_bound"]) <= 1 else " (bound broken)"
        return f"{float(r['ratio']):.2f}{mark}"
    held = [float(m[o]["ratio"]) for o in others if o in m and float(m[o]["max_err_over_bound"]) <= 1]
    b, fast = m["baler"], m.get("baler-fast")
    best = max(held) if held else float("nan")
    versus = f"{float(b['ratio']) / best:.2f}" + (f" ({float(fast['ratio']) / best:.2f})" if fast else "")
    print(f"| {data} | {bound} | **{float(b['ratio']):.2f}** ({b['note']}) | {cell('baler-fast')} | "
          + " | ".join(cell(o) for o in others) + f" | {versus} |")

print()
print("| field | bound | baler compress / decompress MB/s, wall (CPU) | baler --effort fast | SZ3 | SPERR "
      "| baler / SZ3 by CPU time (compress, decompress; fast compress) "
      "| peak RSS MB, compress / decompress: baler, SZ3 |")
print("|---|---|---|---|---|---|---|---|")
for (data, bound), m in by.items():
    if "sz3" not in m or bound.startswith("rel"):
        continue
    b, s = m["baler"], m["sz3"]
    p, fast = m.get("sperr"), m.get("baler-fast")
    v = lambda r, k: float(r[k])
    f = lambda r: (f"{v(r, 'compress_mb_s'):.0f} / {v(r, 'decompress_mb_s'):.0f} "
                   f"({v(r, 'compress_cpu_mb_s'):.0f} / {v(r, 'decompress_cpu_mb_s'):.0f})")
    peak = lambda r: f"{v(r, 'compress_peak_mb'):.0f} / {v(r, 'decompress_peak_mb'):.0f}"
    fast_ratio = f"; {v(fast, 'compress_cpu_mb_s') / v(s, 'compress_cpu_mb_s'):.2f}" if fast else ""
    print(f"| {data} | {bound} | {f(b)} | {f(fast) if fast else '–'} | {f(s)} | {f(p) if p else '–'} | "
          f"{v(b, 'compress_cpu_mb_s') / v(s, 'compress_cpu_mb_s'):.2f}, "
          f"{v(b, 'decompress_cpu_mb_s') / v(s, 'decompress_cpu_mb_s'):.2f}{fast_ratio} | {peak(b)}; {peak(s)} |")

print()
print("| table | bound | baler compress MB/s of CPU time, thorough / fast | fast's file against thorough's |")
print("|---|---|---|---|")
fields = {data for (data, bound), m in by.items() if "sz3" in m}
for (data, bound), m in by.items():
    if data in fields or "baler-fast" not in m:
        continue
    b, fast = m["baler"], m["baler-fast"]
    print(f"| {data} | {bound} | {float(b['compress_cpu_mb_s']):.1f} / {float(fast['compress_cpu_mb_s']):.1f} | "
          f"{int(fast['bytes']) / int(b['bytes']):.3f} |")
