#!/usr/bin/env python3
"""Prints the beat lists and mir_eval 0.8.2's continuity figures (CMLc, CMLt, AMLc, AMLt) pasted into
Tests/BeatTrackingTests/BeatTrackingTests.swift (continuityMatchesMirEval). Every list is rounded to 3 decimals
before it is scored, so the printed literals are exactly what mir_eval saw.

    bench/.venv/bin/python bench/beats/continuity_cases.py
"""
import warnings

import mir_eval
import numpy as np

warnings.simplefilter("ignore")  # mir_eval warns on a single beat
rng = np.random.default_rng(14)
ref = np.round(0.3 + 0.5 * np.arange(16) + rng.normal(0, 0.01, 16), 3)
cases = {}
cases["close"] = np.round(ref + rng.normal(0, 0.02, 16), 3)
cases["offbeat"] = np.round((ref[:-1] + ref[1:]) / 2 + rng.normal(0, 0.01, 15), 3)
d = np.interp(np.arange(0, 15.5, 0.5), np.arange(16), ref)
cases["double"] = np.round(d + rng.normal(0, 0.01, d.size), 3)
cases["half"] = np.round(ref[1::2] + rng.normal(0, 0.01, 8), 3)
cases["threeTwo"] = np.round(ref[0] + np.arange(23) * (ref[-1] - ref[0]) / 15 * 2 / 3, 3)  # 2/3 of the period
g = ref + rng.normal(0, 0.01, 16)
g[6:9] += 0.2  # three beats out of phase in the middle
cases["gap"] = np.round(g, 3)
cases["longer"] = np.round(np.concatenate([ref[4:] + 0.02, ref[-1] + 0.5 * np.arange(1, 7)]), 3)
m = np.concatenate([ref[:8] + rng.normal(0, 0.01, 8), (ref[8:-1] + ref[9:]) / 2])
cases["mixed"] = np.round(m, 3)  # on the beat, then on the off-beat
cases["drift"] = np.round(0.29 + 0.54 * np.arange(14), 3)
cases["two"] = np.round(ref[3:5] + 0.01, 3)
cases["one"] = np.round(ref[3:4], 3)
cases["none"] = np.array([])


def fmt(a):
    return "[" + ", ".join(f"{x:.3f}" for x in a) + "]"


print("reference", fmt(ref))
for name, e in cases.items():
    print(name, fmt(e), [float(x) for x in mir_eval.beat.continuity(ref, e)])
