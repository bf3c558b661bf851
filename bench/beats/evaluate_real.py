#!/usr/bin/env python3
"""Accuracy table of the real-music benchmark: every tracker's beats against madmom's reference beats
(bench/beats/reference.json), with F-measure (±70 ms), CMLt and AMLt as mir_eval defines them (continuity with
phase and period tolerance 0.175, AMLt also accepting double/half tempo and the off-beat), and CPU seconds.

No trimming of the first 5 s (mir_eval.beat.evaluate trims them; we count them: cuts happen there too).

    evaluate_real.py REFERENCE.json NAME=RESULTS.jsonl [NAME=RESULTS.jsonl ...]
"""
import json
import os
import sys

import numpy as np
import mir_eval


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                out[os.path.splitext(os.path.basename(row["file"]))[0]] = row
    return out


def scores(estimated, reference):
    e, r = np.array(sorted(estimated)), np.array(sorted(reference))
    f = mir_eval.beat.f_measure(r, e, f_measure_threshold=0.07)
    if len(e) < 2 or len(r) < 2:
        return f, 0.0, 0.0
    _, cmlt, _, amlt = mir_eval.beat.continuity(r, e)
    return f, cmlt, amlt


def main():
    reference = json.load(open(sys.argv[1]))["tracks"]
    runs = []
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        runs.append((name, load(path)))
    ids = sorted(reference)
    head = f"{'excerpt':<26} {'style':<24} {'ref BPM':>7}"
    for name, _ in runs:
        head += f" | {name + ' F':>9} {'CMLt':>5} {'AMLt':>5} {'BPM':>6} {'CPU s':>5}"
    print(head)
    print("-" * len(head))
    totals = {name: [] for name, _ in runs}
    for track in ids:
        ref = reference[track]
        line = f"{track:<26} {ref['style'][:24]:<24} {ref['tempo']:>7.1f}"
        for name, rows in runs:
            row = rows.get(track)
            if row is None:
                line += f" | {'-':>9} {'-':>5} {'-':>5} {'-':>6} {'-':>5}"
                continue
            f, cmlt, amlt = scores(row["beats"], ref["beats"])
            totals[name].append((f, cmlt, amlt, row.get("cpuSeconds", 0.0), track))
            line += f" | {f:>9.3f} {cmlt:>5.2f} {amlt:>5.2f} {row['tempo']:>6.1f} {row.get('cpuSeconds', 0):>5.2f}"
        print(line)
    print("-" * len(head))
    for name, rows in runs:
        if not rows:
            continue
        t = totals[name]
        if not t:
            continue
        fs = [x[0] for x in t]
        worst = min(t, key=lambda x: x[0])
        print(f"{name:<8}: mean F {np.mean(fs):.3f}  CMLt {np.mean([x[1] for x in t]):.3f}  AMLt {np.mean([x[2] for x in t]):.3f}"
              f"  min F {worst[0]:.3f} ({worst[4]})  tracks < 0.80: {sum(1 for f in fs if f < 0.8)}"
              f"  CPU {sum(x[3] for x in t):.2f} s for {len(t)} x 30 s")


if __name__ == "__main__":
    main()
