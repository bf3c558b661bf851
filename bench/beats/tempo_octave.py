#!/usr/bin/env python3
"""Ninth round (docs/beats.md): can a learned tempo distribution choose the octave the tracker returns?

Reads the default driver's FEAT=1 output (bench/beats/driver/features.swift: the returned beats and the DBN's paths
within ±15 % of 1/2, 1 and 2 times the returned tempo, with their log score per frame and TCN statistics) and, per
excerpt, a tempo distribution (`train_tempo.py predict` output, or an .npz of name -> probabilities over 1-BPM bins
from train_tempo.LO), and scores these octave decisions against madmom's beats (F at ±70 ms, CMLt, AMLt; mir_eval):

  default   the returned beats (nothing changes)
  head      the x1/2 or x2 path when the distribution's mass within ±4 % of its tempo is larger than at the returned
            tempo (MARGIN times; 1 by default)
  prior     the distribution as a prior on the DBN: the path of x1/2, x1, x2 with the largest log score per frame
            + ALPHA · log(mass)
  dbn       the same with ALPHA 0: the DBN's own score chooses the octave (not learned)
  dbnrange  dbn, with the x1/2 and x2 paths only where their tempo is inside the DBN's range (55-215 BPM)
  logistic  a logistic regression on (log mass ratio, log2 tempo, score-per-frame difference, TCN contrast difference,
            direction), fitted on the FIT set only (a path replaces the returned beats when p > 0.5)

    tempo_octave.py PROBS FIT_FEAT.jsonl SET_FEAT.jsonl... [-v]
    EMIT=RULE tempo_octave.py PROBS FIT_FEAT.jsonl SET_FEAT.jsonl   # the chosen beats as driver output (for sets
                                                                     # without madmom's beats: the synthetic tracks)

Rejected excerpts (no beats) stay rejected: the decision applies to tracks the tracker accepts.
"""
import json
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate_dev import load, references  # noqa: E402
from evaluate_dev import scores as score_beats  # noqa: E402

REF = references()
LO = 40
EPS = 1e-3
MARGIN = float(os.environ.get("MARGIN", "1"))
ALPHA = float(os.environ.get("ALPHA", "0.01"))


def scores(track, beats):
    """F, CMLt and AMLt of `beats` against madmom's beats of `track` (evaluate_dev's measure)."""
    return score_beats(beats, REF[track]["beats"])


def load_probs(path):
    if path.endswith(".npz"):
        z = np.load(path)
        return {k: z[k] for k in z.files}
    out = {}
    for line in open(path):
        row = json.loads(line)
        out[os.path.splitext(os.path.basename(row["file"]))[0]] = np.array(row["p"])
    return out


def load_feat(path):
    """The driver's rows (FEAT=1), each with its excerpt id."""
    return [dict(row, id=track) for track, row in load(path).items()]


def mass(p, tempo, tol=0.04):
    if tempo <= 0:
        return 0.0
    bpm = np.arange(len(p)) + LO
    return float(p[(bpm >= tempo / (1 + tol)) & (bpm <= tempo * (1 + tol))].sum())


def alternatives(row):
    c = row["candidates"]
    return [a for a in ("h", "d") if a in c and c[a]["tempo"] > 0]


def contrast(c):
    return np.log((c["tcn"]["on"] + EPS) / (c["tcn"]["mid"] + EPS))


def pair_features(row, a, p):
    c, t = row["candidates"][a], row["candidates"]["t"]
    return [np.log((mass(p, c["tempo"]) + EPS) / (mass(p, row["tempo"]) + EPS)), np.log2(row["tempo"] / 120),
            c["lps"] - t["lps"], contrast(c) - contrast(t), 1.0 if a == "h" else -1.0]


def decide(row, p, rule, model=None):
    """The key of the path returned ("t": the default's beats)."""
    if not row["beats"] or "t" not in row["candidates"] or p is None:
        return "t"
    c = row["candidates"]
    if rule == "head":
        best, top = "t", MARGIN * mass(p, row["tempo"])
        for a in alternatives(row):
            m = mass(p, c[a]["tempo"])
            if m > top:
                best, top = a, m
        return best
    if rule in ("prior", "dbn", "dbnrange"):
        alpha = ALPHA if rule == "prior" else 0.0
        alts = [a for a in alternatives(row) if rule != "dbnrange" or 55 <= c[a]["tempo"] <= 215]
        return max(["t"] + alts, key=lambda a: c[a]["lps"] + alpha * np.log(mass(p, c[a]["tempo"]) + 1e-4))
    if rule == "logistic":
        best, top = "t", 0.5
        for a in alternatives(row):
            q = model.predict_proba([pair_features(row, a, p)])[0, 1]
            if q > top:
                best, top = a, q
        return best
    return "t"


def fit_logistic(rows, probs):
    from sklearn.linear_model import LogisticRegression
    xs, ys = [], []
    for row in rows:
        p = probs.get(row["id"])
        if not row["beats"] or "t" not in row["candidates"] or p is None:
            continue
        f0 = scores(row["id"], row["beats"])[0]
        for a in alternatives(row):
            xs.append(pair_features(row, a, p))
            ys.append(scores(row["id"], row["candidates"][a]["beats"])[0] > f0 + 0.1)
    return LogisticRegression(C=1.0).fit(np.array(xs), np.array(ys))


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    probs = load_probs(args[0])
    model = fit_logistic(load_feat(args[1]), probs)
    rules = ("default", "head", "prior", "dbn", "dbnrange", "logistic")
    if os.environ.get("EMIT"):
        for path in args[2:]:
            for row in load_feat(path):
                key = decide(row, probs.get(row["id"]), os.environ["EMIT"], model)
                c = row if key == "t" else row["candidates"][key]
                print(json.dumps({"file": row["file"], "tempo": c["tempo"], "beats": c["beats"]}))
        return
    for path in args[2:]:
        rows = load_feat(path)
        print(f"== {os.path.basename(path)} ({len(rows)} excerpts)")
        for rule in rules:
            s, switched = [], []
            for row in rows:
                key = decide(row, probs.get(row["id"]), rule, model)
                beats = row["beats"] if key == "t" else row["candidates"][key]["beats"]
                s.append(scores(row["id"], beats))
                if key != "t":
                    switched.append(f"{row['id']} x{'1/2' if key == 'h' else '2'} "
                                    f"{scores(row['id'], row['beats'])[0]:.2f}->{s[-1][0]:.2f}")
            a = np.array(s)
            print(f"{rule:9s} F {a[:, 0].mean():.3f}  CMLt {a[:, 1].mean():.3f}  AMLt {a[:, 2].mean():.3f}  "
                  f"under 0.80: {(a[:, 0] < 0.8).sum():3d}  switched {len(switched)}")
            if verbose and switched:
                print("          " + ", ".join(switched))


if __name__ == "__main__":
    main()
