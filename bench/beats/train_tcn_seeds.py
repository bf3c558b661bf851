#!/usr/bin/env python3
"""`train_tcn.py` split into steps, so that each seed of an ensemble can train in its own one-thread process (the
machine has two cores, shared with builds; docs/beats.md, eighth and thirteenth rounds). The same functions in the
same order as one `TCN_SEEDS=K train_tcn.py` run (up to floating-point reduction order); the same TCN_* options,
which must be the same for every step of one model (TCN_GROUP, TCN_CHANNELS, TCN_BLOCKS, TCN_EPOCHS, TCN_SET ...).

    train_tcn_seeds.py data CACHE EXCERPTS_DIR...      # the training sequences, once (a pickle; ~2 GB with TCN_GROUP=4)
    train_tcn_seeds.py seed CACHE SEED MODEL.pt        # one seed (run several side by side)
    train_tcn_seeds.py write CACHE ROOT MODEL.pt...    # merge them; write ROOT/Sources/BeatTracking/BeatTCNWeights.swift
                                                       # and ROOT/Tests/BeatTrackingTests/TCNFixture.swift
Set TCN_SEED to the first seed for `write` (it names the seeds in the weights' header).
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pickle  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_tcn as tt  # noqa: E402


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("data", "seed", "write"):
        sys.exit(__doc__)
    step, cache = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    if step == "data":
        with open(cache, "wb") as f:
            pickle.dump(tt.dataset(sys.argv[3:]), f, protocol=pickle.HIGHEST_PROTOCOL)
        return
    with open(cache, "rb") as f:
        data, mean, sd, excerpts = pickle.load(f)
    if data[0][0].shape[1] != 2 * tt.GROUPS:
        sys.exit(f"{cache} has {data[0][0].shape[1]} inputs, TCN_GROUP={tt.GROUP} needs {2 * tt.GROUPS}")
    if step == "seed":
        model = tt.train(data, mean, sd, int(sys.argv[3]))
        torch.save(model.state_dict(), sys.argv[4])
        return
    models = []
    for path in sys.argv[4:]:
        model = tt.TCN()
        model.load_state_dict(torch.load(path))
        models.append(model.eval())
    tt.ROOT = sys.argv[3]
    for folder in ("Sources/BeatTracking", "Tests/BeatTrackingTests"):
        os.makedirs(os.path.join(tt.ROOT, folder), exist_ok=True)
    tt.write(tt.merge(models), mean, sd, excerpts)


if __name__ == "__main__":
    main()
