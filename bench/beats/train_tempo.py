#!/usr/bin/env python3
"""Ninth round (docs/beats.md): a learned tempo head, to choose the octave the beat decoder returns.

After Böck, Davies & Knees 2019 ("Multi-task learning of tempo and beat-tracking of musical audio"): the TCN's
residual branches (one per dilation) are averaged over time, concatenated and mapped by one dense layer to a softmax
over tempo bins; the target is madmom's tempo of the excerpt (training_reference.json's "tempo": the reference beats'
median interval), smoothed over the neighbouring bins, and every time-stretched copy of an excerpt has its own tempo.

Two ways to get the features the head reads:
  joint   a new TCN (train_tcn's recipe: 16 channels, 7 blocks, the five stretches) trained on the beats and the tempo
          together (loss = beats' BCE + TEMPO_WEIGHT x tempo cross-entropy); only its tempo head would be used;
  frozen  the adopted beat network (the merged seeds train_tcn wrote, BeatTCNWeights.swift) unchanged: only the
          dense layer is fitted, on its pooled branches over the training excerpts (seconds of CPU).

    bench/.venv/bin/python bench/beats/train_tempo.py joint  OUT.pt  MEL_OR_WAV_DIRS...
    bench/.venv/bin/python bench/beats/train_tempo.py frozen OUT.pt  MEL_OR_WAV_DIRS...
    bench/.venv/bin/python bench/beats/train_tempo.py predict MODEL.pt PCM_DIR... > tempo.jsonl   (one line per *.f32)

A directory holds either NAME.npy (train_activation.log_mel, cached) or NAME.wav per excerpt of training.tsv.
Environment: TEMPO_WEIGHT (0.5), TEMPO_HOLDOUT=FILE (ids left out), TCN_SEED (0), the TCN_* options of train_tcn,
TEMPO_INIT=SEED.pt (joint: start from a trained beat network, {"state": state_dict, ...} as the eighth round saved
its seeds, and fine-tune both tasks at TEMPO_LR, 5e-4, for TCN_EPOCHS; the ninth round's machine could not afford
40 epochs from scratch).
The training set is every excerpt of training_reference.json (train_tcn's TCN_SET=all8): none of the corpus, validation
or independent excerpts.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")

import glob  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_activation as ta  # noqa: E402
import train_tcn as tt  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
LO, HI = 40, 250  # tempo bins: one per BPM, LO ... HI
BINS = HI - LO + 1
WEIGHT = float(os.environ.get("TEMPO_WEIGHT", "0.5"))
SMOOTH = {0: 1.0, 1: 0.5, 2: 0.25}  # the target over the neighbouring bins (the paper's smoothing)


class TempoTCN(tt.TCN):
    """train_tcn.TCN plus the tempo head over the time-averaged residual branches of every block."""

    def __init__(self, channels=tt.CHANNELS):
        super().__init__(channels)
        self.tempo = nn.Linear(channels * len(tt.DILATIONS), BINS)

    def both(self, x):
        h = F.elu(self.inp(x))
        pooled = []
        for conv in self.convs:
            branch = F.elu(conv(h))
            pooled.append(branch.mean(dim=2))
            h = h + self.drop(branch)
        return self.out(h)[:, 0], self.tempo(self.drop(torch.cat(pooled, dim=1)))


def pooled_branches(model, x):
    """[batch, blocks x channels]: each block's residual branch averaged over time (eval mode)."""
    with torch.no_grad():
        h = F.elu(model.inp(x))
        pooled = []
        for conv in model.convs:
            branch = F.elu(conv(h))
            pooled.append(branch.mean(dim=2))
            h = h + branch
        return torch.cat(pooled, dim=1)


def tempo_target(bpm):
    y = np.zeros(BINS, np.float32)
    c = int(round(bpm)) - LO
    for d, v in SMOOTH.items():
        for s in {d, -d}:
            if 0 <= c + s < BINS:
                y[c + s] = v
    return y / y.sum() if y.sum() > 0 else y


def load(dirs):
    reference = json.load(open(os.path.join(ta.ROOT, "bench/beats/training_reference.json")))["tracks"]
    if os.environ.get("TEMPO_HOLDOUT"):
        hold = set(open(os.environ["TEMPO_HOLDOUT"]).read().split())
        reference = {k: v for k, v in reference.items() if k not in hold}
    data = []
    for name in sorted(reference):
        mel = None
        for d in dirs:
            if os.path.exists(f"{d}/{name}.npy"):
                mel = np.load(f"{d}/{name}.npy")
                break
            if os.path.exists(f"{d}/{name}.wav"):
                mel = ta.log_mel(ta.decode(f"{d}/{name}.wav"))
                break
        if mel is None:
            sys.exit(f"{name}: in none of {dirs}")
        r = reference[name]
        for f in tt.STRETCH:
            m = mel if f == 1 else tt.stretch(mel, f)
            data.append((tt.features(m), tt.targets(r["beats"], m.shape[0], f), r["tempo"] / f, name))
    every = np.concatenate([d[0] for d in data])
    return data, every.mean(axis=0), every.std(axis=0) + 1e-6, len(reference)


def train_joint(data, mean, sd, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TempoTCN()
    lr = 2e-3
    if os.environ.get("TEMPO_INIT"):
        # fine-tune: the beat network of one seed train_tcn trained (its saved state), the tempo head new
        model.load_state_dict(torch.load(os.environ["TEMPO_INIT"], weights_only=False)["state"], strict=False)
        lr = float(os.environ.get("TEMPO_LR", "5e-4"))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, tt.EPOCHS)
    crop, batch = 1024, 16
    for epoch in range(tt.EPOCHS):
        model.train()
        start, total, total_t = time.time(), 0.0, 0.0
        order = rng.permutation(len(data))
        for b in range(0, len(order), batch):
            xs, ys, ts = [], [], []
            for i in order[b:b + batch]:
                x, y, bpm, _ = data[i]
                s = rng.integers(0, max(1, len(y) - crop))
                xs.append((x[s:s + crop] - mean) / sd)
                ys.append(y[s:s + crop])
                ts.append(tempo_target(bpm))
            m = min(len(v) for v in ys)
            xb = torch.tensor(np.stack([v[:m] for v in xs])).transpose(1, 2)
            yb = torch.tensor(np.stack([v[:m] for v in ys]))
            beat, tempo = model.both(xb)
            lt = -(torch.tensor(np.stack(ts)) * F.log_softmax(tempo, dim=1)).sum(1).mean()
            loss = F.binary_cross_entropy_with_logits(beat, yb) + WEIGHT * lt
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            total_t += lt.item()
        schedule.step()
        print(f"seed {seed} epoch {epoch + 1}: loss {total:.3f} tempo {total_t:.3f} ({time.time() - start:.1f} s)",
              file=sys.stderr, flush=True)
    model.eval()
    return model


def frozen_network():
    """The adopted beat network as a torch TCN, from the Swift weights train_tcn wrote."""
    import base64
    import re
    src = open(os.path.join(ta.ROOT, "Sources/BeatTracking/BeatTCNWeights.swift")).read()

    def arr(key):
        return np.frombuffer(base64.b64decode(re.search(key + r'Base64 = "([^"]*)"', src).group(1)), "<f4").copy()
    channels = int(re.search(r"channels = (\d+)", src).group(1))
    model = tt.TCN(channels)
    k, blocks = tt.KERNEL, len(tt.DILATIONS)
    with torch.no_grad():
        model.inp.weight.copy_(torch.tensor(arr("inputWeights").reshape(channels, 2 * tt.GROUPS, 3)))
        model.inp.bias.copy_(torch.tensor(arr("inputBias")))
        w, bias = arr("blockWeights").reshape(blocks, channels, channels, k), arr("blockBias").reshape(blocks, channels)
        for i, conv in enumerate(model.convs):
            conv.weight.copy_(torch.tensor(w[i]))
            conv.bias.copy_(torch.tensor(bias[i]))
        model.out.weight.copy_(torch.tensor(arr("outputWeights").reshape(1, channels, 1)))
        model.out.bias.fill_(float(re.search(r"outputBias: Float = ([-0-9.e]+)", src).group(1)))
    mean, scale = arr("inputMean"), arr("inputScale")
    return model.eval(), mean, 1 / scale


def fit_head(xs, targets, epochs=300, decay=1e-3):
    """A softmax layer on fixed features (full-batch Adam, standardised inputs)."""
    torch.manual_seed(0)
    x = torch.tensor(xs)
    mu, sdv = x.mean(0), x.std(0) + 1e-6
    x = (x - mu) / sdv
    y = torch.tensor(targets)
    head = nn.Linear(x.shape[1], BINS)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=decay)
    for _ in range(epochs):
        loss = -(y * F.log_softmax(head(x), dim=1)).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"head loss {loss.item():.3f}", file=sys.stderr)
    return head, mu, sdv


def main():
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "joint":
        data, mean, sd, n = load(sys.argv[3:])
        seed = int(os.environ.get("TCN_SEED", "0"))
        print(f"joint: {n} excerpts, {len(data)} sequences, seed {seed}, tempo weight {WEIGHT}", file=sys.stderr,
              flush=True)
        model = train_joint(data, mean, sd, seed)
        torch.save({"kind": "joint", "state": model.state_dict(), "mu": mean, "sd": sd, "n": n}, out)
    elif mode == "frozen":
        data, _, _, n = load(sys.argv[3:])
        net, mean, sd = frozen_network()
        xs = np.stack([pooled_branches(net, torch.tensor(((x - mean) / sd).T[None]))[0].numpy() for x, _, _, _ in data])
        head, mu, sdv = fit_head(xs, np.stack([tempo_target(t) for _, _, t, _ in data]))
        torch.save({"kind": "frozen", "head": head.state_dict(), "mu": mu, "sd": sdv, "n": n}, out)
    elif mode == "predict":
        d = torch.load(out, weights_only=False)
        if d["kind"] == "joint":
            net = TempoTCN()
            net.load_state_dict(d["state"])
            net.eval()
            mean, sd = d["mu"], d["sd"]
        else:
            net, mean, sd = frozen_network()
            head = nn.Linear(d["mu"].shape[0], BINS)
            head.load_state_dict(d["head"])
        for p in [p for a in sys.argv[3:] for p in sorted(glob.glob(os.path.join(a, "*.f32")))]:
            x = torch.tensor(((tt.features(ta.log_mel(np.fromfile(p, dtype=np.float32))) - mean) / sd).T[None])
            with torch.no_grad():
                if d["kind"] == "joint":
                    _, logits = net.both(x)
                else:
                    logits = head((pooled_branches(net, x) - d["mu"]) / d["sd"])
            prob = torch.softmax(logits[0], 0).numpy()
            print(json.dumps({"file": p, "lo": LO, "p": [round(float(v), 5) for v in prob]}), flush=True)
    else:
        sys.exit("usage: train_tempo.py joint|frozen|predict OUT.pt DIRS...")


if __name__ == "__main__":
    main()
