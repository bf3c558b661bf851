#!/usr/bin/env python3
"""Can the tracker's decisions be fitted on the development set? (docs/beats.md, "Seventh round".)

Reads the driver's FEAT=1 output (bench/beats/driver/features.swift) for the development set (the 251 training
excerpts the committed weights never saw), fits on it only, and judges on the corpus and the validation set:

1. the ceiling: the default tracker, the whole range's DBN path, the DBN path at 1/2, 1 and 2 times the tracker's
   tempo, and the best of those per excerpt (an oracle octave choice);
2. the octave by the tracker's tempo: where madmom hears half or double the tempo, per tempo band;
3. a rule "halve above X BPM when alternate beats differ", X and the alternation threshold fitted on dev;
4. a logistic regression on the candidate paths' features (tempo, DBN score per frame, TCN/bass/onset contrast
   on-beat against halfway, alternation), 5-fold cross-validated on dev, then trained on all of dev;
5. rejection: the same features for the excerpts the tracker rejects and for the negatives (noise, speech, clicks)
   when their FEAT output is given: a logistic "accept" classifier, cross-validated on dev plus negatives.

    fit_decisions.py DEV.jsonl CORPUS.jsonl VALIDATION.jsonl [NEGATIVES.jsonl]
"""
import json
import os
import sys
import warnings

import numpy as np
import mir_eval
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
REF = {}
for name in ("reference.json", "validation.json", "training_reference.json"):
    REF.update(json.load(open(os.path.join(HERE, name)))["tracks"])
EPS = 1e-3
OCTAVES = ["h", "t", "d"]


def load(path):
    rows = []
    for line in open(path):
        if line.startswith("{"):
            row = json.loads(line)
            row["id"] = os.path.splitext(os.path.basename(row["file"]))[0]
            rows.append(row)
    return rows


def fmeasure(track, beats):
    return mir_eval.beat.f_measure(np.array(REF[track]["beats"]), np.array(sorted(beats)), 0.07)


def contrast(s):
    return np.log((s["on"] + EPS) / (s["mid"] + EPS))


def alternation(s):
    return np.log((min(s["even"], s["odd"]) + EPS) / (max(s["even"], s["odd"]) + EPS))


def candidate_features(row, key):
    c = row["candidates"].get(key)
    if c is None or c["tempo"] <= 0:
        return None
    x = np.log2(c["tempo"] / 100)
    whole = row["whole"]["tempo"]
    agrees = 1.0 if whole > 0 and abs(np.log2(whole / c["tempo"])) < 0.06 else 0.0
    return [x, x * x, c["lps"], contrast(c["tcn"]), alternation(c["tcn"]), contrast(c["low"]), alternation(c["low"]),
            contrast(c["onset"]), agrees, row["confidence"], key == "h", key == "d"]


def octave_table(rows):
    """Features X (n, 3, k), F of each choice (n, 3; 't' is the default tracker's beats when it has any), mask."""
    k = len(candidate_features(rows[0], "t"))
    X, F, M = np.zeros((len(rows), 3, k)), np.zeros((len(rows), 3)), np.zeros((len(rows), 3), bool)
    for i, row in enumerate(rows):
        for j, key in enumerate(OCTAVES):
            f = candidate_features(row, key)
            if f is None:
                continue
            X[i, j], M[i, j] = f, True
            beats = row["beats"] if key == "t" and row["beats"] else row["candidates"][key]["beats"]
            F[i, j] = fmeasure(row["id"], beats)
    return X, F, M


def summary(name, f):
    return f"{name} {np.mean(f):.3f} ({int(np.sum(f < 0.8))} under 0.80)"


def choose(model, X, M, margin):
    p = np.full(M.shape, -1.0)
    for j in range(3):
        if M[:, j].any():
            p[M[:, j], j] = model.predict_proba(X[M[:, j], j])[:, 1]
    other = np.where(M[:, [0, 2]], p[:, [0, 2]], -1).argmax(1) * 2
    return np.where(p[np.arange(len(X)), other] > p[:, 1] + margin, other, 1)


def main():
    sets = {name: load(path) for name, path in zip(("dev", "corpus", "validation"), sys.argv[1:4])}
    tables = {name: octave_table(rows) for name, rows in sets.items()}

    print("1. ceiling (mean F, excerpts under 0.80)")
    for name, rows in sets.items():
        X, F, M = tables[name]
        default = np.array([fmeasure(r["id"], r["beats"]) for r in rows])
        whole = np.array([fmeasure(r["id"], r["whole"]["beats"]) for r in rows])
        print(f"   {name:<10} n={len(rows):3d}  " + ", ".join([
            summary("default", default), summary("whole range", whole),
            summary("x1/2", F[:, 0]), summary("x1 (default when accepted)", F[:, 1]), summary("x2", F[:, 2]),
            summary("oracle of the three", F.max(1))]))

    print("2. where madmom's octave is, by the tracker's tempo (t: F >= 0.8 at x1; h/d: x1/2 or x2 better by 0.2)")
    for name, rows in sets.items():
        X, F, M = tables[name]
        tempo = np.array([r["candidates"]["t"]["tempo"] if "t" in r["candidates"] else 0 for r in rows])
        cells = []
        for lo, hi in ((0, 85), (85, 115), (115, 145), (145, 160), (160, 400)):
            s = (tempo >= lo) & (tempo < hi)
            if s.any():
                b = F[s]
                cells.append(f"{lo}-{hi}: n {s.sum()} t {(b[:, 1] >= 0.8).sum()} h {((b[:, 0] - b[:, 1]) > 0.2).sum()} "
                             f"d {((b[:, 2] - b[:, 1]) > 0.2).sum()}")
        print(f"   {name:<10} " + " | ".join(cells))

    print("3. halve above X BPM when alternate beats' TCN differs (alternation <= A): fitted on dev")
    best = None
    for x in (140, 150, 160, 170, 180):
        for a in (0.0, -0.1, -0.2, -0.3, -0.5):
            out = []
            for name in sets:
                X, F, M = tables[name]
                tempo = np.exp2(X[:, 1, 0]) * 100
                ch = np.where((tempo > x) & (X[:, 1, 4] <= a) & M[:, 0], 0, 1)
                out.append(F[np.arange(len(F)), ch])
            if best is None or out[0].mean() > best[0]:
                best = (out[0].mean(), x, a, out)
    _, x, a, out = best
    print(f"   best on dev: X {x}, A {a}: " + ", ".join(summary(n, f) for n, f in zip(sets, out)))

    print("4. logistic regression on the candidates (is this path right: F >= 0.8), choose another octave when its")
    print("   probability beats x1's by a margin; 5-fold CV on dev, then trained on dev, judged on the other two")
    X, F, M = tables["dev"]
    flat = lambda X, F, M: (X.reshape(-1, X.shape[2])[M.reshape(-1)], F.reshape(-1)[M.reshape(-1)])
    for margin in (0.0, 0.1, 0.2, 0.3):
        cv = np.zeros(len(X))
        idx = np.random.RandomState(0).permutation(len(X))
        for fold in np.array_split(idx, 5):
            train = np.setdiff1d(idx, fold)
            model = LogisticRegression(C=1.0, max_iter=5000).fit(*[v if i == 0 else v >= 0.8 for i, v in
                                                                   enumerate(flat(X[train], F[train], M[train]))])
            cv[fold] = F[fold][np.arange(len(fold)), choose(model, X[fold], M[fold], margin)]
        xs, fs = flat(X, F, M)
        model = LogisticRegression(C=1.0, max_iter=5000).fit(xs, fs >= 0.8)
        judged = []
        for name in ("corpus", "validation"):
            Xn, Fn, Mn = tables[name]
            judged.append(summary(name, Fn[np.arange(len(Fn)), choose(model, Xn, Mn, margin)]))
        print(f"   margin {margin}: " + ", ".join([summary("dev CV", cv), summary("dev x1", F[:, 1])] + judged))

    print("5. rejected excerpts against the negatives (x1 path of the estimator's or whole range's tempo)")
    negatives = load(sys.argv[4]) if len(sys.argv) > 4 else []
    def reject_features(r):
        c = r["candidates"]["t"]
        return [r["estimator"]["confidence"], c["lps"], r["whole"]["lps"], contrast(c["tcn"]), contrast(c["low"]),
                contrast(c["onset"]), c["tcn"]["on"], r["tcnMean"], r["estimator"]["periodicity"],
                r["estimator"]["agreement"], np.log2(max(c["tempo"], 1) / 100)]
    rejected = [r for r in sets["dev"] if not r["beats"] and "t" in r["candidates"]]
    good = [fmeasure(r["id"], r["candidates"]["t"]["beats"]) for r in rejected]
    print(f"   dev: {len(rejected)} rejected; accepted at x1 they would score mean F {np.mean(good):.3f} "
          f"({sum(g >= 0.8 for g in good)} at 0.80 or more): dev mean F +{np.sum(good) / len(sets['dev']):.3f} at most")
    if negatives:
        neg = [r for r in negatives if "t" in r["candidates"]]
        accepted = [r for r in sets["dev"] if r["beats"] and "t" in r["candidates"]]
        good_rejected = [r for r, g in zip(rejected, good) if g >= 0.8]
        for name, pos in (("the 7 that would score 0.80", good_rejected), ("all rejected", rejected),
                          ("all development excerpts", rejected + accepted)):
            Xr = np.array([reject_features(r) for r in pos + neg])
            yr = np.array([1] * len(pos) + [0] * len(neg))
            Xr = (Xr - Xr.mean(0)) / (Xr.std(0) + 1e-9)
            proba = np.zeros(len(yr))
            idx = np.random.RandomState(0).permutation(len(yr))
            for fold in np.array_split(idx, 5):
                train = np.setdiff1d(idx, fold)
                model = LogisticRegression(C=1.0, max_iter=5000).fit(Xr[train], yr[train])
                proba[fold] = model.predict_proba(Xr[fold])[:, 1]
            top = max(proba[yr == 0])
            worst = neg[int(np.argmax(proba[len(pos):]))]["id"]
            above = [r for r, p in zip(pos, proba[:len(pos)]) if p > top and not r["beats"]]
            gain = [fmeasure(r["id"], r["candidates"]["t"]["beats"]) for r in above]
            print(f"   positives = {name} ({len(pos)}) against {len(neg)} negatives, 5-fold CV: the most likely negative "
                  f"{worst} at p {top:.2f}; rejected excerpts above it: {len(above)} (mean F at x1 "
                  f"{np.mean(gain) if gain else 0:.2f}); at p >= 0.7: {int(((proba >= 0.7) & (yr == 1)).sum())} "
                  f"positives, {int(((proba >= 0.7) & (yr == 0)).sum())} negatives")

if __name__ == "__main__":
    main()
