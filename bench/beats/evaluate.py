#!/usr/bin/env python3
"""Prints the accuracy table: per track F-measure (±70 ms, no trimming of the first seconds), tempo error and
analysis time for rendc and librosa, then means and the speed ratio.

    evaluate.py TRACKDIR RENDC.jsonl LIBROSA.jsonl
"""
import json
import os
import sys


def f_measure(estimated, reference, tolerance=0.07):
    e, r = sorted(estimated), sorted(reference)
    if not e and not r:
        return 1.0
    if not e or not r:
        return 0.0
    i = j = matched = 0
    while i < len(e) and j < len(r):
        d = e[i] - r[j]
        if abs(d) <= tolerance + 1e-9:
            matched += 1
            i += 1
            j += 1
        elif d < 0:
            i += 1
        else:
            j += 1
    p, rc = matched / len(e), matched / len(r)
    return 0.0 if p + rc == 0 else 2 * p * rc / (p + rc)


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                out[os.path.splitext(os.path.basename(row["file"]))[0]] = row
    return out


def main():
    trackdir, rendc_path, librosa_path = sys.argv[1:4]
    rendc, librosa = load(rendc_path), load(librosa_path)
    names = sorted(n[:-5] for n in os.listdir(trackdir) if n.endswith(".json"))
    header = f"{'track':<14} {'kind':<7} {'dur s':>6} | {'rendc F':>7} {'tempo':>7} {'err%':>6} {'time s':>7} | {'librosa F':>9} {'tempo':>7} {'err%':>6} {'time s':>7}"
    print(header)
    print("-" * len(header))
    sums = {}

    def add(key, value):
        sums.setdefault(key, []).append(value)

    for name in names:
        meta = json.load(open(os.path.join(trackdir, name + ".json")))
        reference = [float(x) for x in open(os.path.join(trackdir, name + ".beats")).read().split()]
        duration = reference[-1] + 60 / meta["tempos"][-1] if reference else 0
        cells = []
        for tool, rows in (("rendc", rendc), ("librosa", librosa)):
            row = rows.get(name)
            if row is None:
                cells.append(f"{'n/a':>7} {'':>7} {'':>6} {'':>7}")
                continue
            f = f_measure(row["beats"], reference)
            if meta["tempo"]:
                err = abs(row["tempo"] - meta["tempo"]) / meta["tempo"] * 100
                err_cell = f"{err:6.1f}"
            else:
                err = None
                err_cell = f"{'-':>6}"
            cells.append(f"{f:7.3f} {row['tempo']:7.1f} {err_cell} {row['analysisSeconds']:7.3f}")
            group = "speed" if meta["kind"] == "speed" else meta["kind"]
            add((tool, group, "f"), f)
            add((tool, "all", "f"), f)
            if err is not None:
                add((tool, group, "err"), err)
            add((tool, "time"), row["analysisSeconds"])
            add((tool, "cpu"), row.get("cpuSeconds", float("nan")))
            if meta["kind"] == "speed":
                add((tool, "long " + name), (row["analysisSeconds"], row.get("cpuSeconds", float("nan"))))
        print(f"{name:<14} {meta['kind']:<7} {duration:6.1f} | {cells[0]} | {cells[1]:>9}")
    print("-" * len(header))

    def mean(key):
        values = sums.get(key, [])
        return sum(values) / len(values) if values else float("nan")

    for group in ("steady", "intro", "change", "speed", "all"):
        if not sums.get(("rendc", group, "f")) and not sums.get(("librosa", group, "f")):
            continue
        print(f"mean F {group:<8}: rendc {mean(('rendc', group, 'f')):.3f}   librosa {mean(('librosa', group, 'f')):.3f}"
              + (f"   (tempo error %: rendc {mean(('rendc', group, 'err')):.1f}, librosa {mean(('librosa', group, 'err')):.1f})"
                 if sums.get(("rendc", group, "err")) else ""))
    steady = sums.get(("rendc", "steady", "f"), [])
    if steady:
        print(f"min F steady  : rendc {min(steady):.3f}   librosa {min(sums.get(('librosa', 'steady', 'f'), [float('nan')])):.3f}")
    rt, lt = sum(sums.get(("rendc", "time"), [])), sum(sums.get(("librosa", "time"), []))
    rc, lc = sum(sums.get(("rendc", "cpu"), [])), sum(sums.get(("librosa", "cpu"), []))
    if rt > 0 and lt > 0:
        print(f"total wall    : rendc {rt:.2f} s   librosa {lt:.2f} s   librosa/rendc = {lt / rt:.1f}x")
        print(f"total CPU     : rendc {rc:.2f} s   librosa {lc:.2f} s   librosa/rendc = {lc / rc:.1f}x")
    for key in sorted(k for k in sums if k[0] == "rendc" and k[1].startswith("long ")):
        name = key[1][5:]
        (rw, rcpu), = sums[key]
        other = sums.get(("librosa", key[1]))
        lw, lcpu = other[0] if other else (float("nan"), float("nan"))
        print(f"3-min {name:<13}: rendc {rw:.3f} s wall, {rcpu:.3f} s CPU   librosa {lw:.3f} s wall, {lcpu:.3f} s CPU"
              f"   librosa/rendc = {lw / rw:.1f}x wall, {lcpu / rcpu:.1f}x CPU")


if __name__ == "__main__":
    main()
