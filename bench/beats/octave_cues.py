#!/usr/bin/env python3
"""The octave by the pair's alternation (docs/beats.md, "Twelfth round (octave)"): fits and simulates
`OctaveChoice.Rule` from driver runs, without re-running the tracker per parameter.

Inputs, in OUT, for each set S (dev, synth, corpus, validation, independent):
  dump-S.err                   OCTDUMP=1 driver run's stderr: the cues of every candidate per octave decision
  force0.5-S.jsonl force1-S.jsonl force2-S.jsonl    OCTFORCE=0.5 / 1 / 2 driver runs (each option's final beats)
  base-S.jsonl                 the default driver run (for tracks that never reach the octave step)

    octave_cues.py OUT fit       # 5-fold cross-validation (development, grouped by game) and the fit on all of
                                 # development + synthetic: threshold plateau, confidence gate 1.0 or none
    octave_cues.py OUT table THRESHOLD [BELOW]   # v11c, the rule and the oracle of the three candidates on every set

Rule: of the half and the level path, the half when its contrast (1 - TCN activation halfway between its beats / at
its beats) is above THRESHOLD; else of the level path and the double, the double when the level path's contrast is
not above it; only below confidence BELOW (1.0; "none": every track); above it, v11c's choice. Feasible: every
synthetic track F >= 0.99 (MIDI beats) and development 2:3 + 3:2 errors no more than v11c's 3.
"""
import json
import os
import sys

import numpy as np
import mir_eval

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate_dev import kind, load, references, scores  # noqa: E402

SYNTH_BEATS = os.environ.get("SYNTH_BEATS", "/tmp/beats-synth")
SETS = ("dev", "synth", "corpus", "validation", "independent")


def table(out, name, ref):
    runs = {f: load(f"{out}/force{f}-{name}.jsonl") for f in ("0.5", "1", "2")}
    base_path = f"{out}/base-{name}.jsonl"
    base = load(base_path) if os.path.exists(base_path) else runs["1"]
    dumps = {}
    for line in open(f"{out}/dump-{name}.err"):
        if line.startswith("OCTDUMP "):
            _, path, js = line.rstrip("\n").split(" ", 2)
            dumps[os.path.splitext(os.path.basename(path))[0]] = json.loads(js)
    rows = {}
    for t in sorted(runs["1"]):
        def ev(row):
            if name == "synth":
                p = f"{SYNTH_BEATS}/{t}.beats"
                if not os.path.exists(p):
                    return None
                r = np.array([float(x) for x in open(p).read().split()])
                return mir_eval.beat.f_measure(r, np.array(row["beats"]), 0.07), "synth"
            r = ref[t]
            f, c, a = scores(row["beats"], r["beats"])
            return f, kind(r["tempo"], row["tempo"], f, c, a, len(row["beats"]))
        forced = {float(k): ev(runs[k][t]) for k in runs}
        if forced[1.0] is None:
            continue
        rows[t] = dict(forced=forced, base=ev(base[t]), dump=dumps.get(t))
    return rows


def contrast(c):
    return 1 - c["mid"] / c["on"] if c["on"] > 0 else 0


def choose(dump, threshold, below):
    """The factor the rule takes (OctaveChoice.Rule.factor), or v11c's above the gate."""
    if below is not None and dump["confidence"] >= below:
        return dump["v11c"]
    c = {x["factor"]: x for x in dump["candidates"]}
    if 0.5 in c and contrast(c[0.5]) > threshold:
        return 0.5
    if 2.0 in c and contrast(c[1.0]) <= threshold:
        return 2.0
    return 1.0


def evaluate(rows, pick):
    fs, kinds = [], {}
    for r in rows.values():
        f, k = r["base"] if r["dump"] is None else r["forced"][pick(r["dump"])]
        fs.append(f)
        kinds[k] = kinds.get(k, 0) + 1
    return np.array(fs), kinds


def fit(dev, synth, below):
    grid = [round(x, 2) for x in np.arange(0.05, 0.80, 0.01)]
    results = []
    for th in grid:
        sf, _ = evaluate(synth, lambda d: choose(d, th, below))
        fs, k = evaluate(dev, lambda d: choose(d, th, below))
        if sf.min() >= 0.99 and k.get("2:3", 0) + k.get("3:2", 0) <= 3:
            results.append((round(fs.mean(), 6), th))
    if not results:
        return None, []
    best = max(m for m, _ in results)
    plateau = [th for m, th in results if m == best]
    return plateau[len(plateau) // 2], plateau


def main():
    out, command = sys.argv[1], sys.argv[2]
    ref = references()
    if command == "fit":
        dev, synth = table(out, "dev", ref), table(out, "synth", ref)
        games = sorted({t.split("-")[0] for t in dev})
        folds = [set(games[i::5]) for i in range(5)]
        base, _ = evaluate(dev, lambda d: d["v11c"])
        print(f"development v11c {base.mean():.4f} ({(base < 0.8).sum()} under 0.80)")
        for below in (None, 1.0):
            held = {}
            for fold in folds:
                train = {t: r for t, r in dev.items() if t.split("-")[0] not in fold}
                test = {t: r for t, r in dev.items() if t.split("-")[0] in fold}
                th, _ = fit(train, synth, below)
                if th is None:
                    break
                held.update(zip(test, evaluate(test, lambda d: choose(d, th, below))[0]))
            th, plateau = fit(dev, synth, below)
            if th is None or len(held) < len(dev):
                print(f"gate {below}: no feasible threshold (synthetic)")
                continue
            h = np.array([held[t] for t in dev])
            fs, k = evaluate(dev, lambda d: choose(d, th, below))
            print(f"gate {below}: held out {h.mean():.4f} ({(h < 0.8).sum()}) | all development {fs.mean():.4f} "
                  f"({(fs < 0.8).sum()}), threshold {th} (plateau {plateau[0]}-{plateau[-1]}), kinds {k}")
    elif command == "table":
        th = float(sys.argv[3])
        below = None if len(sys.argv) > 4 and sys.argv[4] == "none" else float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
        rows = {s: table(out, s, ref) for s in SETS}
        for name, pick in (("v11c", lambda d: d["v11c"]), (f"rule {th} below {below}", lambda d: choose(d, th, below)),
                           ("oracle", None)):
            cells, joint = [], []
            for s in SETS:
                if pick is None:
                    fs = np.array([r["base"][0] if r["dump"] is None else max(f for f, _ in r["forced"].values())
                                   for r in rows[s].values()])
                    k = {}
                else:
                    fs, k = evaluate(rows[s], pick)
                if s in ("validation", "independent"):
                    joint += list(fs)
                extra = f"min {fs.min():.3f}" if s == "synth" else f"2:3 {k.get('2:3', 0) + k.get('3:2', 0)}" if k else "2:3 -"
                cells.append(f"{s} {fs.mean():.3f} ({(fs < 0.8).sum()}) {extra}")
            joint = np.array(joint)
            print(f"{name:24} " + " | ".join(cells) + f" | val+ind {joint.mean():.3f} ({(joint < 0.8).sum()})")


if __name__ == "__main__":
    main()
