"""Time and peak memory of the whole battery on a torch CNN layer of 39,200 units.

    python benchmarks/bench_torch_layer.py [--train 2000] [--test 1000] [--steps 100]
        [--json out.json]

The network is the article's CNN written as a plain ``torch.nn.Sequential`` (SAME padding
for a 3x3 stride-2 convolution, 200 maps, ReLU: 14 x 14 x 200 = 39,200 units, then a linear
readout to 10 classes), trained ``--steps`` Adam steps of batch 100 on MNIST so that its
readout is above chance. The battery measures the ReLU layer through
:func:`neurocode.adapters.measure_layer` (silencing by forward hook inside the network, the
model's own classifier as readout), on ``--train`` training and ``--test`` test images.

Printed: the total seconds, the seconds of each measure (the battery's ``_meta``), the
``tracemalloc`` peak (numpy's buffers; torch's own allocations are not traced) and the
process's ``ru_maxrss`` after it (the high-water mark of the whole process). The issue's
target for 10,000 x 4,096 *fixed* codes (60 s, 4 GB) is the reference a reader compares with;
this layer has ten times the units and is encoded by the network at every silencing draw.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
import tracemalloc

import numpy as np
import torch
from torch import nn

from neurocode.adapters import measure_layer
from neurocode.data import load_mnist


def article_cnn() -> nn.Sequential:
    """Conv 3x3 stride 2 SAME (pad 0 left/top, 1 right/bottom on 28 x 28), 200 maps, ReLU."""
    return nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 200, 3, stride=2),
                         nn.ReLU(), nn.Flatten(), nn.Linear(39_200, 10))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    X, y = load_mnist("mnist", split="train")
    Xt, yt = load_mnist("mnist", split="test")
    X = X.reshape(len(X), 1, 28, 28).astype(np.float32) / 255
    Xt = Xt.reshape(len(Xt), 1, 28, 28).astype(np.float32) / 255
    model = article_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        idx = rng.integers(0, len(X), 100)
        loss = nn.functional.cross_entropy(model(torch.from_numpy(X[idx])),
                                           torch.from_numpy(y[idx].astype(np.int64)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    flat = X[:args.train].reshape(args.train, 784)   # the stimuli as rows; input_shape
    flat_t = Xt[:args.test].reshape(args.test, 784)  # gives the network its images back
    battery = measure_layer(model, "2", flat, y[:args.train], flat_t, yt[:args.test],
                            input_shape=(1, 28, 28), classifier=True)
    total = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    meta = battery["_meta"]
    seconds = {k[len("seconds_"):]: float(v) for k, v in meta.items() if k.startswith("seconds_")}
    info = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average_at_start": os.getloadavg()[0], "units": 39_200,
            "train_stimuli": args.train, "test_stimuli": args.test,
            "measured_stimuli": float(meta.get("n_stimuli", float("nan"))),
            "training_s": train_s, "battery_s": total, "seconds": seconds,
            "tracemalloc_peak_mb": peak / 1e6, "maxrss_mb": rss,
            "accuracy_intact": float(battery.get("fault", {}).get("accuracy_intact", np.nan)),
            "activity_ratio": float(battery["activity"]["activity_ratio"])}
    print(f"battery on a 39,200-unit CNN layer: {total:.1f} s ({info['measured_stimuli']:.0f} "
          f"stimuli measured), tracemalloc peak {peak / 1e6:.0f} MB, max RSS {rss:.0f} MB; "
          f"intact accuracy {info['accuracy_intact']:.3f}, activity ratio "
          f"{info['activity_ratio']:.3f} (after {args.steps} training steps, {train_s:.1f} s)")
    for k, v in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<14}{v:8.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=2)


if __name__ == "__main__":
    main()
