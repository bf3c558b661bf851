#!/usr/bin/env python3
"""Scores driver or `rendc beats --json` output against madmom's beats on any of the three excerpt sets (corpus:
reference.json, validation: validation.json, development: training_reference.json, the independent check:
independent.json) and names each failure's kind:
F-measure (±70 ms), CMLt, AMLt (mir_eval, no trimming) and, for an excerpt under F 0.80, its tempo against madmom's
(±4 %): double, half, 3:2, 2:3, 4:3, 3:4, triple, third, other, "rejected" (no beats), "offbeat" (madmom's tempo,
AMLt ≥ 0.5 and CMLt < 0.3: the beats on the off-beat) or "continuity" (madmom's tempo, phase lost in places).

    evaluate_dev.py RESULTS.jsonl [-v]            # -v: one line per excerpt
    evaluate_dev.py --dev-ids                     # the development set: the sixth round's 251 training excerpts, which
                                                  # the 108-excerpt TCN and the MLP were not trained on (docs/beats.md,
                                                  # seventh round); the eighth round's default TCN was trained on them
"""
import json
import os
import sys
import warnings

import numpy as np
import mir_eval

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.filterwarnings("ignore", message="Estimated beats are empty")
sys.path.insert(0, HERE)


def references():
    ref = {}
    for name in ("reference.json", "validation.json", "training_reference.json", "independent.json"):
        ref.update(json.load(open(os.path.join(HERE, name)))["tracks"])
    return ref


def dev_ids():
    from train_activation import SIXTH_ROUND_PACKAGES
    tracks = json.load(open(os.path.join(HERE, "training_reference.json")))["tracks"]
    return sorted(k for k, v in tracks.items() if v["package"] in SIXTH_ROUND_PACKAGES)


def load(path):
    out = {}
    for line in open(path):
        if line.startswith("{"):
            row = json.loads(line)
            out[os.path.splitext(os.path.basename(row["file"]))[0]] = row
    return out


RATIOS = (("double", 2), ("half", 0.5), ("3:2", 1.5), ("2:3", 2 / 3), ("4:3", 4 / 3), ("3:4", 0.75),
          ("triple", 3), ("third", 1 / 3))


def kind(reference_tempo, tempo, f, cmlt, amlt, count):
    if count == 0:
        return "rejected"
    if f >= 0.8:
        return "ok"
    if abs(tempo / reference_tempo - 1) < 0.04:
        return "offbeat" if amlt >= 0.5 and cmlt < 0.3 else "continuity"
    for name, ratio in RATIOS:
        if abs(tempo / reference_tempo / ratio - 1) < 0.04:
            return name
    return "other"


def scores(estimated, reference):
    e, r = np.array(sorted(estimated)), np.array(sorted(reference))
    f = mir_eval.beat.f_measure(r, e, f_measure_threshold=0.07)
    if len(e) < 2:
        return f, 0.0, 0.0
    _, cmlt, _, amlt = mir_eval.beat.continuity(r, e)
    return f, cmlt, amlt


def main():
    if sys.argv[1:] == ["--dev-ids"]:
        print("\n".join(dev_ids()))
        return
    ref = references()
    rows = load(sys.argv[1])
    verbose = "-v" in sys.argv[2:]
    fs, cs, as_, cpu, kinds = [], [], [], 0.0, {}
    for track in sorted(rows):
        row, r = rows[track], ref[track]
        f, c, a = scores(row["beats"], r["beats"])
        k = kind(r["tempo"], row["tempo"], f, c, a, len(row["beats"]))
        kinds[k] = kinds.get(k, 0) + 1
        fs.append(f), cs.append(c), as_.append(a)
        cpu += row.get("cpuSeconds", 0.0)
        if verbose:
            print(f"  {track:<40} {r['tempo']:6.1f} | F {f:.3f} CMLt {c:.2f} AMLt {a:.2f} | {row['tempo']:6.1f} BPM "
                  f"conf {row['confidence']:.2f} {k}")
    print(f"{os.path.basename(sys.argv[1])}: n={len(fs)} F {np.mean(fs):.3f} CMLt {np.mean(cs):.3f} "
          f"AMLt {np.mean(as_):.3f} under 0.80: {sum(f < 0.8 for f in fs)} CPU {cpu:.1f} s  "
          + " ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
