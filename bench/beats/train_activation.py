#!/usr/bin/env python3
"""Trains rendc's learned beat activation: a tiny MLP over a few frames of log-mel and flux features whose target is
madmom's beat times on TRAINING excerpts (bench/beats/training.tsv: Debian music packages that are neither in the
corpus nor in the validation set, never frozen-bubble or hyperrogue). Writes the weights as Swift source
(Sources/BeatTracking/BeatActivationWeights.swift, float32 little-endian in base64) and a small fixture
(Tests/BeatTrackingTests/ActivationFixture.swift: the activation of a generated signal) that the Swift test compares
with its own computation, so the Swift features are proven to match these.

    BEATS_CORPUS=bench/beats/training.tsv scripts/beats-music.sh DIR          # fetch the training excerpts
    bench/.venv/bin/python bench/beats/train_activation.py DIR/excerpts       # remake the two files (deterministic)

The targets are bench/beats/training_reference.json (madmom 0.17 RNN + DBN beats, made once with
bench/beats/madmom_beats.py; madmom's models are non-commercial and are not shipped: only their beat times teach
this model, whose weights are ours). Needs numpy and the ffmpeg CLI (excerpts decoded to 22050 Hz mono float).
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread: the same weights on every run
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import base64  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

SR, NFFT, MELS = 22050, 2048, 128
# The analysis hop (512: 43.07 frames a second, the onset envelope's). TCN_HOP=256 gives 86.13 frames a second for
# the fourteenth round's activation (docs/beats.md): train_tcn.py's features and targets follow it.
HOP = int(os.environ.get("TCN_HOP", "512"))
GROUPS = MELS // 8           # 16 bands of 8 mel bands each
CONTEXT = 4                  # frames each side
POOL_OFFSETS = [o for o in range(-32, 33, 4) if o != 0]   # rhythmic context: pooled flux ±0.09 ... ±0.74 s
HIDDEN = 24
SEEDS = int(os.environ.get("ACTIVATION_SEEDS", "3"))   # an ensemble: MLPs from several seeds, logits averaged
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def mel_filters():
    """Slaney mel filters exactly as Sources/BeatTracking/OnsetEnvelope.swift (MelFilterBank) builds them."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, log_step = min_log_hz / f_sp, np.log(6.4) / 27

    def hz_to_mel(hz):
        return hz / f_sp if hz < min_log_hz else min_log_mel + np.log(hz / min_log_hz) / log_step

    def mel_to_hz(m):
        return m * f_sp if m < min_log_mel else min_log_hz * np.exp(log_step * (m - min_log_mel))

    bins = NFFT // 2 + 1
    max_mel = hz_to_mel(SR / 2)
    hz = [mel_to_hz(max_mel * i / (MELS + 1)) for i in range(MELS + 2)]
    freqs = np.arange(bins) * SR / NFFT
    fb = np.zeros((MELS, bins))
    for i in range(MELS):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        w = np.maximum(0, np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)))
        fb[i] = w * 2 / (hi - lo)
    return fb


FILTERS = mel_filters()


def log_mel(x):
    """log10(1 + 100 * sqrt(mel power)), frames x 128: OnsetDetector's compressed mel spectrogram."""
    x = np.asarray(x, dtype=np.float64)
    frames = 1 + len(x) // HOP
    padded = np.concatenate([np.zeros(NFFT // 2), x, np.zeros(NFFT)])
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(NFFT) / NFFT)
    idx = np.arange(frames)[:, None] * HOP + np.arange(NFFT)[None, :]
    spec = np.fft.rfft(padded[idx] * window, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    return np.log10(1 + 100 * np.sqrt(power @ FILTERS.T)).astype(np.float32)


def features(mel):
    """Inputs per frame (frames x dims), as BeatActivation.swift computes them."""
    m = mel.astype(np.float64)
    n = m.shape[0]
    level = m.reshape(n, GROUPS, MELS // GROUPS).mean(axis=2)
    centred = level - level.mean(axis=0)
    flux = np.zeros_like(level)
    flux[1:] = np.maximum(0, level[1:] - level[:-1])
    total = flux.sum(axis=1)
    cols = []
    for c in range(-CONTEXT, CONTEXT + 1):
        for a in (flux, centred):
            shifted = np.zeros_like(a)
            lo, hi = max(0, -c), min(n, n - c)
            shifted[lo:hi] = a[lo + c:hi + c]
            cols.append(shifted)
    pooled = np.zeros((n, len(POOL_OFFSETS)))
    for k, o in enumerate(POOL_OFFSETS):
        for t in range(n):
            lo, hi = max(0, t + o - 2), min(n, t + o + 2)
            if lo < hi:
                pooled[t, k] = total[lo:hi].max()
    cols.append(pooled)
    return np.concatenate(cols, axis=1)


def activation(x_feat, w1, b1, w2, b2):
    h = np.tanh(x_feat @ w1.T.astype(np.float64) + b1)
    return 1 / (1 + np.exp(-(h @ w2.astype(np.float64) + b2)))


def decode(path):
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


FIFTH_ROUND_PACKAGES = {"colobot-common-sounds", "fillets-ng-data"}
# Added in the sixth round (docs/beats.md); train_tcn.py leaves them out too unless TCN_ALL=1.
SIXTH_ROUND_PACKAGES = {
    "enigma-data", "extremetuxracer-data", "flare-game", "freedroid-data", "freeorion-data", "hedgewars-data",
    "marsshooter-data", "pingus-data", "ri-li-data", "scorched3d-data", "supertux-data", "warmux-data",
    "wesnoth-1.16-music"}
# Added in the eighth round (docs/beats.md): train_tcn.py takes them only with TCN_SET=all8; this script never does
# (ACTIVATION_ALL=1 still means the 359 excerpts it meant before).
EIGHTH_ROUND_PACKAGES = {
    "a7xpg-data", "blockattack", "btanks-data", "gunroar-data", "lugaru-data", "megaglest-data", "mrrescue",
    "noiz2sa-data", "openclonk-data", "parsec47-data", "pathological", "powermanga-data", "rrootage-data",
    "tecnoballz-data", "titanion-data", "torus-trooper-data", "tumiki-fighters-data", "ufoai-music",
    "widelands-data"}
OFFBEAT_WEIGHT = float(os.environ.get("ACTIVATION_OFFBEAT_WEIGHT", "1"))   # loss weight of the frames halfway


def targets(beats, frames):
    """Per frame: the target (1 on a beat's frame, 0.5 next to it) and the loss weight (OFFBEAT_WEIGHT halfway between
    two beats and on the beats, 1 elsewhere: the phase is what the tracker needs to learn)."""
    y = np.zeros(frames)
    w = np.ones(frames)
    marks = [int(round(b * SR / HOP)) for b in beats]
    for f in marks:
        for d, v in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            if 0 <= f + d < frames:
                y[f + d] = max(y[f + d], v)
                w[f + d] = OFFBEAT_WEIGHT
    for a, b in zip(marks, marks[1:]):
        for d in (-1, 0, 1):
            if 0 <= (a + b) // 2 + d < frames:
                w[(a + b) // 2 + d] = OFFBEAT_WEIGHT
    return y, w


def train(xs, ys, ws, seed=0, epochs=40, batch=2048, lr=3e-3, decay=1e-4):
    rng = np.random.default_rng(seed)
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    weight = np.concatenate(ws)
    weight = weight / weight.mean()
    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / sd
    dims = z.shape[1]
    w1 = rng.normal(0, 1 / np.sqrt(dims), (HIDDEN, dims))
    b1 = np.zeros(HIDDEN)
    w2 = rng.normal(0, 1 / np.sqrt(HIDDEN), HIDDEN)
    b2 = np.log(y.mean() / (1 - y.mean()))
    params = [w1, b1, w2, np.array([b2])]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(z))
        loss = 0.0
        for s in range(0, len(z), batch):
            i = order[s:s + batch]
            zb, yb, wb = z[i], y[i], weight[i]
            h = np.tanh(zb @ params[0].T + params[1])
            p = 1 / (1 + np.exp(-(h @ params[2] + params[3][0])))
            loss += -np.sum(wb * (yb * np.log(p + 1e-9) + (1 - yb) * np.log(1 - p + 1e-9)))
            g = wb * (p - yb) / len(i)
            gw2 = h.T @ g
            gb2 = np.array([g.sum()])
            gh = np.outer(g, params[2]) * (1 - h * h)
            gw1 = gh.T @ zb
            gb1 = gh.sum(axis=0)
            grads = [gw1 + decay * params[0], gb1, gw2 + decay * params[2], gb2]
            step += 1
            for k, (pk, gk) in enumerate(zip(params, grads)):
                m1[k] = 0.9 * m1[k] + 0.1 * gk
                m2[k] = 0.999 * m2[k] + 0.001 * gk * gk
                pk -= lr * (m1[k] / (1 - 0.9 ** step)) / (np.sqrt(m2[k] / (1 - 0.999 ** step)) + 1e-8)
        print(f"epoch {epoch + 1}: loss {loss / len(z):.4f}", file=sys.stderr)
    w1, b1, w2, b2 = params
    # Fold the standardisation into the first layer: the Swift side feeds raw features.
    return (w1 / sd).astype(np.float32), (b1 - (w1 / sd) @ mean).astype(np.float32), w2.astype(np.float32), np.float32(b2[0])


def b64(a):
    return base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode()


def fixture_signal():
    """4 s: a 220 Hz tone and a 1 kHz burst every 0.5 s (the same formula as the Swift test)."""
    n = np.arange(4 * SR)
    x = 0.2 * np.sin(2 * np.pi * 220 * n / SR)
    for k in range(8):
        start = int(k * 0.5 * SR)
        d = n[start:] - start
        x[start:] += 0.8 * np.exp(-d / 800) * np.sin(2 * np.pi * 1000 * d / SR)
    return x.astype(np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: train_activation.py EXCERPTS_DIR")
    folder = sys.argv[1]
    reference = json.load(open(os.path.join(ROOT, "bench/beats/training_reference.json")))["tracks"]
    reference = {k: v for k, v in reference.items() if v["package"] not in EIGHTH_ROUND_PACKAGES}
    if os.environ.get("ACTIVATION_ALL") != "1":
        # The committed MLP was trained on the fourth round's 67 excerpts; the packages added for the TCN (fifth
        # round) join only with ACTIVATION_ALL=1, so the default run still remakes the committed weights.
        reference = {k: v for k, v in reference.items()
                     if v["package"] not in FIFTH_ROUND_PACKAGES | SIXTH_ROUND_PACKAGES}
    xs, ys, ws = [], [], []
    for name in sorted(reference):
        mel = log_mel(decode(os.path.join(folder, name + ".wav")))
        xs.append(features(mel))
        y, w = targets(reference[name]["beats"], mel.shape[0])
        ys.append(y)
        ws.append(w)
        print(f"{name}: {mel.shape[0]} frames, {len(reference[name]['beats'])} beats", file=sys.stderr)
    # Averaging the logits of several MLPs is one wider MLP: hidden layers stacked, output weights divided.
    nets = [train(xs, ys, ws, seed=k) for k in range(SEEDS)]
    w1 = np.concatenate([n[0] for n in nets])
    b1 = np.concatenate([n[1] for n in nets])
    w2 = (np.concatenate([n[2] for n in nets]) / SEEDS).astype(np.float32)
    b2 = np.float32(np.mean([n[3] for n in nets]))
    dims = w1.shape[1]
    hidden = w1.shape[0]
    with open(os.path.join(ROOT, "Sources/BeatTracking/BeatActivationWeights.swift"), "w") as f:
        f.write(f"""// swift-format-ignore-file
// Generated by bench/beats/train_activation.py from madmom's beats on the {len(xs)} training excerpts of
// bench/beats/training.tsv: do not edit. A {dims}-{hidden}-1 MLP ({SEEDS} MLPs of {HIDDEN} hidden units, logits
// averaged; tanh, sigmoid), weights as float32 little-endian in base64.
// These weights are this project's own (trained here); no madmom model file is shipped or used at run time.

extension BeatActivation {{
    static let inputCount = {dims}
    static let hiddenCount = {hidden}
    static let weights1 = \"{b64(w1)}\"
    static let bias1 = \"{b64(b1)}\"
    static let weights2 = \"{b64(w2)}\"
    static let bias2: Float = {float(b2)!r}
}}
""")
    x = fixture_signal()
    act = activation(features(log_mel(x)), w1, b1, w2, b2)
    with open(os.path.join(ROOT, "Tests/BeatTrackingTests/ActivationFixture.swift"), "w") as f:
        values = ", ".join(f"{v:.6f}" for v in act)
        f.write(f"""// swift-format-ignore-file
// Generated by bench/beats/train_activation.py: the activation its numpy features and the committed weights give
// for `activationFixtureSignal()` (4 s, 22050 Hz). The Swift features must reproduce it.

let activationFixtureValues: [Float] = [{values}]
""")
    print(f"wrote weights ({dims} inputs, {hidden} hidden) and the fixture ({len(act)} frames)", file=sys.stderr)


if __name__ == "__main__":
    main()
