#!/usr/bin/env python3
"""Runs librosa's beat tracker (defaults: onset_strength + beat_track, Ellis 2007) on audio files and prints one JSON
object a line: file, tempo, beats [s], analysisSeconds and cpuSeconds (load + analysis,
import and warm-up excluded)."""
import json
import sys
import time

import librosa
import numpy as np


def analyse(path):
    start, start_cpu = time.perf_counter(), time.process_time()
    y, sr = librosa.load(path, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return dict(file=path, tempo=float(np.atleast_1d(tempo)[0]), beats=[float(b) for b in beats],
                analysisSeconds=seconds, cpuSeconds=cpu)


def main():
    # Warm-up: numba compiles librosa's tracker on first use; that is not analysis time.
    y = np.random.default_rng(0).standard_normal(22050 * 5).astype(np.float32) * 0.1
    librosa.beat.beat_track(y=y, sr=22050)
    for path in sys.argv[1:]:
        print(json.dumps(analyse(path)), flush=True)


if __name__ == "__main__":
    main()
