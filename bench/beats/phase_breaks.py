#!/usr/bin/env python3
"""Twelfth round (docs/beats.md, "continuity, 4:3, rejection"): simulates "the phase carries across a break" on the
driver's BEATROWS=1 output and scores it against madmom (evaluate_dev's references and F). Not in the tracker: it was
measured and not adopted.

A break is a run of returned beats whose TCN activation is under FRAC of the track's median at its beats. Where the
path leaves a break (at most MAXBREAK beats) half a beat (±PHTOL) off the grid it held before (the last K gaps before
and the first K after within ±PTOL of one another), the beats up to the next break move halfway to their next beat;
a later break that comes back half a beat flips it again (fof-escape: the path and the onsets move to the off-beat after
each of its breaks, madmom does not).

    BEATROWS=1 driver corpus/*.f32 > rows.jsonl
    phase_breaks.py [frac=0.3 k=6 maxbreak=4 ptol=0.04 phtol=0.15] rows.jsonl ...
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_dev as ev  # noqa: E402


def carried(rows, frac=0.3, k=6, maxbreak=4, ptol=0.04, phtol=0.15):
    """The beats with the phase carried across breaks, and how many moved; None when none moves."""
    if len(rows) < 12:
        return None
    t = np.array([r[0] for r in rows])
    a = np.array([r[1] for r in rows])
    weak = a < frac * np.median(a)
    n = len(t)
    segments, i = [], 0
    while i < n:
        if weak[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and not weak[j + 1]:
            j += 1
        segments.append((i, j))
        i = j + 1
    flipped, moved = False, np.zeros(n, bool)
    for (a0, a1), (b0, b1) in zip(segments, segments[1:]):
        if a1 - a0 < k or b1 - b0 < k or b0 - a1 - 1 > maxbreak:
            continue
        pa, pb = np.mean(np.diff(t[a1 - k:a1 + 1])), np.mean(np.diff(t[b0:b0 + k + 1]))
        if abs(pa / pb - 1) > ptol:
            continue
        phase = ((t[b0] - t[a1]) / ((pa + pb) / 2)) % 1
        if abs(phase - 0.5) <= phtol:
            flipped = not flipped
        elif min(phase, 1 - phase) > phtol:
            continue
        if flipped:
            moved[b0:b1 + 1] = True
    if not moved.any():
        return None
    out = [(t[i] + (t[i + 1] if i + 1 < n else 2 * t[i] - t[i - 1])) / 2 if moved[i] else t[i] for i in range(n)]
    return np.array(sorted(out)), int(moved.sum())


def main():
    args, kw = sys.argv[1:], {}
    while args and "=" in args[0]:
        key, value = args.pop(0).split("=")
        kw[key] = float(value) if "." in value else int(value)
    ref = ev.references()
    for path in args:
        before, after, changed = [], [], []
        for line in open(path):
            row = json.loads(line)
            name = os.path.splitext(os.path.basename(row["file"]))[0]
            if name not in ref:
                continue
            beats = [r[0] for r in row["rows"]]
            result = carried(row["rows"], **kw)
            f0 = ev.scores(beats, ref[name]["beats"])[0]
            f1 = ev.scores(result[0], ref[name]["beats"])[0] if result else f0
            before.append(f0), after.append(f1)
            if result:
                changed.append(f"  {name:<40} F {f0:.3f} -> {f1:.3f} ({result[1]} beats moved)")
        print(f"{os.path.basename(path)}: n={len(before)} F {np.mean(before):.4f} -> {np.mean(after):.4f}, under 0.80 "
              f"{sum(f < 0.8 for f in before)} -> {sum(f < 0.8 for f in after)}")
        print("\n".join(changed))


if __name__ == "__main__":
    main()
