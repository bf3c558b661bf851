#!/usr/bin/env python3
"""Trains rendc's long-context beat activation: a small temporal convolutional network (TCN; after Böck & Davies 2019)
over the compressed mel spectrogram, whose target is madmom's beat times on TRAINING excerpts (bench/beats/training.tsv:
Debian music packages that are in neither the corpus nor the validation set, never frozen-bubble or hyperrogue).
Writes the weights as Swift source (Sources/BeatTracking/BeatTCNWeights.swift, float32 little-endian in base64) and a
fixture (Tests/BeatTrackingTests/TCNFixture.swift: the activation of a generated signal) that the Swift test compares
with its own forward pass (Sources/BeatTracking/BeatTCN.swift).

    BEATS_CORPUS=bench/beats/training.tsv scripts/beats-music.sh DIR      # fetch the training excerpts
    python3 -m venv bench/.venv && bench/.venv/bin/pip install numpy torch   # torch: for TRAINING only
    bench/.venv/bin/python bench/beats/train_tcn.py DIR/excerpts          # remake the two files

torch is needed here only: rendc runs the network in plain Swift, and CI never trains. The targets are
bench/beats/training_reference.json (madmom 0.17 RNN + DBN beats, made with bench/beats/madmom_beats.py; madmom's
models are non-commercial and are not shipped: only their beat times teach this model, whose weights are ours).
Options (environment): TCN_CHANNELS (16), TCN_BLOCKS (7: dilations 1 ... 64), TCN_EPOCHS (40), TCN_SEEDS (1; more:
an ensemble of that many networks from seeds TCN_SEED, TCN_SEED + 1 ..., written as one network, see `merge`),
TCN_SEED (0: the first seed), TCN_GROUP (8: mel bands per band group; 4 gives 32 groups, 64 inputs; written into
the weights as `groupSize`, which BeatTCN reads), TCN_ALL=1 (also the sixth round's 251 excerpts of training.tsv: 359
in all), TCN_SET=all8 (every excerpt of training.tsv: also the eighth round's 270, 629 in all; without it they stay out),
TCN_STRETCH (time-stretch factors of the training spectrograms, 0.85,0.92,1,1.08,1.17), TCN_PREDICT=DIR (also write
the activation of every DIR/*.f32 file, 22050 Hz mono float32, to DIR-activations/NAME.f32, for the benchmark),
TCN_HOLDOUT=FILE (leave out the excerpts whose ids FILE lists, whitespace-separated: one fold of a K-fold run).
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")

import base64  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_activation as ta  # noqa: E402  (the same log-mel spectrogram, fixture signal and decoding)

ROOT = ta.ROOT
CHANNELS = int(os.environ.get("TCN_CHANNELS", "16"))
KERNEL = 5
DILATIONS = [2 ** i for i in range(int(os.environ.get("TCN_BLOCKS", "7")))]
EPOCHS = int(os.environ.get("TCN_EPOCHS", "40"))
SEEDS = int(os.environ.get("TCN_SEEDS", "1"))
FIRST_SEED = int(os.environ.get("TCN_SEED", "0"))
STRETCH = [float(s) for s in os.environ.get("TCN_STRETCH", "0.85,0.92,1,1.08,1.17").split(",")]
GROUP = int(os.environ.get("TCN_GROUP", "8"))
GROUPS = ta.MELS // GROUP


def features(mel):
    """frames x 2·GROUPS (32 by default): the rise of GROUPS band groups (of GROUP mel bands) from the frame before,
    and their level centred on the track's mean (BeatTCN.features computes the same, channel-major)."""
    m = mel.astype(np.float64)
    n = m.shape[0]
    level = m.reshape(n, GROUPS, ta.MELS // GROUPS).mean(axis=2)
    flux = np.zeros_like(level)
    flux[1:] = np.maximum(0, level[1:] - level[:-1])
    return np.concatenate([flux, level - level.mean(axis=0)], axis=1).astype(np.float32)


def stretch(mel, factor):
    """The spectrogram played `factor` times slower (linear interpolation between frames): tempo augmentation."""
    n = mel.shape[0]
    pos = np.arange(int(n * factor)) / factor
    i = np.minimum(pos.astype(int), n - 2)
    f = (pos - i)[:, None]
    return mel[i] * (1 - f) + mel[i + 1] * f


def targets(beats, frames, factor=1.0):
    """1 on a beat's frame, 0.5 next to it."""
    y = np.zeros(frames, np.float32)
    for b in beats:
        f = int(round(b * factor * ta.SR / ta.HOP))
        for d, v in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            if 0 <= f + d < frames:
                y[f + d] = max(y[f + d], v)
    return y


class TCN(nn.Module):
    def __init__(self, channels=CHANNELS):
        super().__init__()
        self.inp = nn.Conv1d(2 * GROUPS, channels, 3, padding=1)
        self.convs = nn.ModuleList(
            [nn.Conv1d(channels, channels, KERNEL, dilation=d, padding=d * (KERNEL - 1) // 2) for d in DILATIONS])
        self.out = nn.Conv1d(channels, 1, 1)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        h = F.elu(self.inp(x))
        for conv in self.convs:
            h = h + self.drop(F.elu(conv(h)))
        return self.out(h)[:, 0]


def train(data, mean, sd, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TCN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    crop, batch = int(os.environ.get("TCN_CROP", "1024")), 16  # TCN_CROP: frames a training crop (2048 at TCN_HOP=256)
    for epoch in range(EPOCHS):
        model.train()
        start, total = time.time(), 0.0
        order = rng.permutation(len(data))
        for b in range(0, len(order), batch):
            xs, ys = [], []
            for i in order[b:b + batch]:
                x, y = data[i]
                s = rng.integers(0, max(1, len(y) - crop))
                xs.append((x[s:s + crop] - mean) / sd)
                ys.append(y[s:s + crop])
            m = min(len(v) for v in ys)
            xb = torch.tensor(np.stack([v[:m] for v in xs])).transpose(1, 2)
            yb = torch.tensor(np.stack([v[:m] for v in ys]))
            loss = F.binary_cross_entropy_with_logits(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        schedule.step()
        print(f"seed {seed} epoch {epoch + 1}: loss {total:.3f} ({time.time() - start:.1f} s)", file=sys.stderr)
    model.eval()
    return model


def run(models, mean, sd, mel):
    x = torch.tensor(((features(mel) - mean) / sd).T[None])
    with torch.no_grad():
        logits = torch.stack([m(x)[0] for m in models]).mean(0)
    return torch.sigmoid(logits).numpy().astype(np.float32)


def b64(a):
    return base64.b64encode(np.asarray(a, dtype="<f4").tobytes()).decode()


def dataset(folders):
    """The training sequences (features, targets) of the excerpts TCN_SET and TCN_HOLDOUT select, every stretch of
    each, with the features' mean and deviation and the number of excerpts."""
    reference = json.load(open(os.path.join(ROOT, "bench/beats/training_reference.json")))["tracks"]
    tcn_set = os.environ.get("TCN_SET", "all" if os.environ.get("TCN_ALL") == "1" else "")
    if tcn_set not in ("", "all", "all8"):
        sys.exit(f"TCN_SET={tcn_set}: expected all or all8")
    if tcn_set != "all8":
        # the eighth round's 270 excerpts (19 packages) join only with TCN_SET=all8 (docs/beats.md, eighth round)
        reference = {k: v for k, v in reference.items() if v["package"] not in ta.EIGHTH_ROUND_PACKAGES}
    if tcn_set == "":
        # The committed weights were trained on the fifth round's 108 excerpts; the sixth round's 251 (13 more
        # packages) join only with TCN_ALL=1, so the default run still remakes them (docs/beats.md, sixth round).
        reference = {k: v for k, v in reference.items() if v["package"] not in ta.SIXTH_ROUND_PACKAGES}
    if os.environ.get("TCN_HOLDOUT"):
        # one fold of a K-fold run: these excerpts stay out, for out-of-fold figures (docs/beats.md, seventh round)
        holdout = set(open(os.environ["TCN_HOLDOUT"]).read().split())
        reference = {k: v for k, v in reference.items() if k not in holdout}
    data = []
    for name in sorted(reference):
        path = next((p for p in (os.path.join(f, name + ".wav") for f in folders) if os.path.exists(p)), None)
        if path is None:
            sys.exit(f"{name}.wav is in none of {folders}")
        mel = ta.log_mel(ta.decode(path))
        for factor in STRETCH:
            m = mel if factor == 1 else stretch(mel, factor)
            data.append((features(m), targets(reference[name]["beats"], m.shape[0], factor)))
    every = np.concatenate([d[0] for d in data])
    mean, sd = every.mean(axis=0), every.std(axis=0) + 1e-6
    print(f"{len(reference)} excerpts, {len(data)} sequences with stretching", file=sys.stderr)
    return data, mean, sd, len(reference)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: train_tcn.py EXCERPTS_DIR [MORE_EXCERPT_DIRS...]")
    data, mean, sd, excerpts = dataset(sys.argv[1:])
    models = [train(data, mean, sd, FIRST_SEED + k) for k in range(SEEDS)]
    write(merge(models), mean, sd, excerpts)
    predict = os.environ.get("TCN_PREDICT")
    if predict:
        out = predict.rstrip("/") + "-activations"
        os.makedirs(out, exist_ok=True)
        for p in sorted(glob.glob(os.path.join(predict, "*.f32"))):
            run(models, mean, sd, ta.log_mel(np.fromfile(p, dtype=np.float32))).tofile(os.path.join(out, os.path.basename(p)))


def merge(models):
    """One network computing the mean of the models' logits: their channels side by side (K·C), the residual
    convolutions block-diagonal (a model's channels see only its own), the output weights divided by K. BeatTCN skips
    the zero weights, so an ensemble costs what its models cost one after the other."""
    if len(models) == 1:
        return models[0]
    k, c = len(models), models[0].inp.out_channels
    merged = TCN(k * c)
    with torch.no_grad():
        merged.inp.weight.copy_(torch.cat([m.inp.weight for m in models]))
        merged.inp.bias.copy_(torch.cat([m.inp.bias for m in models]))
        for b, conv in enumerate(merged.convs):
            conv.weight.zero_()
            for j, m in enumerate(models):
                conv.weight[j * c:(j + 1) * c, j * c:(j + 1) * c] = m.convs[b].weight
            conv.bias.copy_(torch.cat([m.convs[b].bias for m in models]))
        merged.out.weight.copy_(torch.cat([m.out.weight for m in models], dim=1) / k)
        merged.out.bias.copy_(sum(m.out.bias for m in models) / k)
    return merged.eval()


def write(model, mean, sd, excerpts):
    """BeatTCNWeights.swift and the test fixture, from a trained model."""
    models = [model]
    channels = model.inp.out_channels
    k = channels // CHANNELS
    ensemble = "" if k == 1 else (
        f"\n// ({k} networks of {CHANNELS} channels, seeds {FIRST_SEED}-{FIRST_SEED + k - 1}, side by side: block-diagonal"
        f"\n// residual convolutions, their logits averaged.)")
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    blocks = np.concatenate([state[f"convs.{i}.weight"].ravel() for i in range(len(DILATIONS))])
    block_bias = np.concatenate([state[f"convs.{i}.bias"] for i in range(len(DILATIONS))])
    with open(os.path.join(ROOT, "Sources/BeatTracking/BeatTCNWeights.swift"), "w") as f:
        f.write(f"""// swift-format-ignore-file
// Generated by bench/beats/train_tcn.py from madmom's beats on the {excerpts} training excerpts of
// bench/beats/training.tsv: do not edit. A TCN of {channels} channels over {GROUPS} band groups of {GROUP} mel bands
// ({2 * GROUPS} inputs): input convolution (3 frames), {len(DILATIONS)} residual
// blocks (kernel {KERNEL}, dilations {", ".join(map(str, DILATIONS))}, ELU), 1x1 output, sigmoid; float32 little-endian in base64.{ensemble}
// These weights are this project's own (trained here); no madmom model file is shipped or used at run time.

extension BeatTCN {{
    static let groupSize = {GROUP}
    static let inputCount = {2 * GROUPS}
    static let channels = {channels}
    static let kernel = {KERNEL}
    static let dilations = {DILATIONS}
    static let inputMeanBase64 = \"{b64(mean)}\"
    static let inputScaleBase64 = \"{b64(1 / sd)}\"
    static let inputWeightsBase64 = \"{b64(state["inp.weight"])}\"
    static let inputBiasBase64 = \"{b64(state["inp.bias"])}\"
    static let blockWeightsBase64 = \"{b64(blocks)}\"
    static let blockBiasBase64 = \"{b64(block_bias)}\"
    static let outputWeightsBase64 = \"{b64(state["out.weight"].ravel())}\"
    static let outputBias: Float = {float(state["out.bias"][0])!r}
}}
""")
    act = run(models, mean, sd, ta.log_mel(ta.fixture_signal()))
    with open(os.path.join(ROOT, "Tests/BeatTrackingTests/TCNFixture.swift"), "w") as f:
        values = ", ".join(f"{v:.6f}" for v in act)
        f.write(f"""// swift-format-ignore-file
// Generated by bench/beats/train_tcn.py: the activation its torch forward pass and the committed weights give for
// `activationFixtureSignal()` (4 s, 22050 Hz). BeatTCN must reproduce it.

let tcnFixtureValues: [Float] = [{values}]
""")
    print(f"wrote the weights ({channels} channels, {len(DILATIONS)} blocks) and the fixture ({len(act)} frames)", file=sys.stderr)


if __name__ == "__main__":
    main()
