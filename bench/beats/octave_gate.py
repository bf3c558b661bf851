#!/usr/bin/env python3
"""Fits the confidence gate of the octave by the DBN's score (docs/beats.md, tenth round) on the development and the
synthetic sets only. Inputs: two driver runs of each set, the default (OCT unset) and the octave always by the score
(OCT=1.01: the ninth round's D'). The gate takes the second run's beats for a track whose confidence is under T (the
confidence does not depend on the octave decision, so this is what the driver gives at OCT=T; confirm with it).

    octave_gate.py DEV_BASE DEV_ALWAYS SYNTH_BASE SYNTH_ALWAYS [SYNTH_BEATS_DIR]   # default /tmp/beats-synth

Rule (written down before it was run): T on the grid 0.30 ... 1.01; feasible when every synthetic track keeps F >= 0.99
against its MIDI beats; the feasible T with the highest development mean F (madmom the reference); several T with the
same maximum (a plateau): the middle one (rounded down to the grid).
"""
import json
import os
import sys

import numpy as np
import mir_eval

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate_dev import load, references, scores  # noqa: E402


def main():
    dev_base, dev_always, syn_base, syn_always = (load(p) for p in sys.argv[1:5])
    beats_dir = sys.argv[5] if len(sys.argv) > 5 else "/tmp/beats-synth"
    ref = references()
    dev = {}
    for k in sorted(dev_base):
        b, a = dev_base[k], dev_always[k]
        assert abs(b["confidence"] - a["confidence"]) < 1e-9, k
        dev[k] = (b["confidence"], scores(b["beats"], ref[k]["beats"])[0], scores(a["beats"], ref[k]["beats"])[0])
    syn = {}
    for k in sorted(syn_base):
        path = os.path.join(beats_dir, k + ".beats")
        if not os.path.exists(path):
            continue
        r = np.array([float(x) for x in open(path).read().split()])
        b, a = syn_base[k], syn_always[k]
        f = lambda row: mir_eval.beat.f_measure(r, np.array(row["beats"]), 0.07)  # noqa: E731
        syn[k] = (b["confidence"], f(b), f(a))
    changed = [(k, c, fb, fa) for k, (c, fb, fa) in {**dev, **syn}.items() if abs(fb - fa) > 1e-9]
    print(f"development {len(dev)}, synthetic {len(syn)}; tracks the score moves (confidence, F default -> always):")
    for k, c, fb, fa in sorted(changed, key=lambda x: x[1]):
        print(f"  {'synth ' if k in syn else 'dev   '}{k:<40} conf {c:.3f}  F {fb:.3f} -> {fa:.3f}")
    grid = [round(0.30 + 0.01 * i, 2) for i in range(72)]
    rows = []
    for t in grid:
        dev_f = np.mean([fa if c < t else fb for c, fb, fa in dev.values()])
        dev_under = sum((fa if c < t else fb) < 0.8 for c, fb, fa in dev.values())
        syn_fs = [fa if c < t else fb for c, fb, fa in syn.values()]
        rows.append((t, dev_f, dev_under, np.mean(syn_fs), min(syn_fs)))
    print("   T    dev F (under 0.80)   synthetic mean / min")
    for t, df, du, sm, smin in rows:
        print(f"  {t:.2f}  {df:.4f} ({du:3d})      {sm:.3f} / {smin:.3f}{'' if smin >= 0.99 else '  infeasible'}")
    feasible = [r for r in rows if r[4] >= 0.99]
    best = max(r[1] for r in feasible)
    plateau = [r[0] for r in feasible if r[1] >= best - 1e-12]
    chosen = plateau[(len(plateau) - 1) // 2]
    print(f"best development F {best:.4f} for T in {plateau[0]:.2f}..{plateau[-1]:.2f}; chosen T = {chosen:.2f}")


if __name__ == "__main__":
    main()
