"""Sparse-aware training steps against the dense ones, at the activity ratios the article's lambdas reach.

    python benchmarks/bench_sparse.py [--iterations 100] [--models fc cnn conv-ae] [--json F]
    python benchmarks/bench_sparse.py --runs results-full/article_cnn/*.h5   # trained codes

The article argues that sparse codes save computation. Here the saving is made real in the
training step (forward + loss + backward + Adam, batch 100):

* FC net: :class:`neurocode.models.relu_l1.SparseReluLinear` computes the hidden layer's
  weight gradient only for the units active somewhere in the batch (the others' is exactly
  zero);
* CNN and autoencoder: :class:`neurocode.models.relu_l1.SparseConvCode` runs the readout and
  the backward over the active (image, unit) pairs only; the convolution forward (and the
  autoencoder's decoder) stay dense.

For each network, a dense and a sparse-aware copy start from the same weights; the hidden
biases of both are shifted by the amount (found by bisection) that gives each target activity
ratio on the benchmark's batches. The targets span what trained networks reach: about 0.2 at
lambda = 0 down to 0.0005 (the CNN at lambda = 5e-4). The two copies are timed in alternating
blocks on the same batches, in one process, and the ratio of their medians is reported. The
learning rate is 1e-5 so that the activity ratio stays where it was set over the timed steps
(Adam's cost does not depend on it); the ratio measured after the steps is printed too.
Random images (uniform in [0, 1]) stand in for MNIST: the cost depends on how many units are
active, which the bias shift sets.

With ``--runs``, the networks are instead the trained ones of stored runs (their own lambda
and code), stepping on MNIST training batches (``NEUROCODE_DATA`` or the loader's search
path): the speed-up at the codes the article's lambdas really reach.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from neurocode.models.relu_l1 import build_model, loss_terms

TARGETS = (0.2, 0.05, 0.02, 0.01, 0.004, 0.0015, 0.0005)


def _bias(net) -> torch.Tensor:
    return net.fc1.bias if net.kind == "fc" else net.encoder.conv.bias


@torch.no_grad()
def ratio(net, x: torch.Tensor) -> float:
    return float((net(x).hidden > 0).float().mean())


@torch.no_grad()
def calibrate(net, x: torch.Tensor, target: float, steps: int = 40) -> float:
    """The bias shift (bisection) that gives activity ratio ``target`` on ``x``."""
    base = _bias(net).clone()
    lo, hi = -20.0, 5.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        _bias(net).copy_(base + mid)
        if ratio(net, x) > target:
            hi = mid
        else:
            lo = mid
    _bias(net).copy_(base)
    return (lo + hi) / 2


def make_step(net, xs, ys, l1: float = 1e-4):
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)

    def step(i: int) -> None:
        out = net(xs[i])
        loss = loss_terms(net, out, xs[i], ys[i], l1)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_pair(nets, xs, ys, iterations: int, l1: float = 1e-4, blocks: int = 5):
    """Median ms per training step of a dense and a sparse-aware net, timed in alternating
    blocks on the same batches."""
    steps = [make_step(n, xs, ys, l1) for n in nets]
    for s in steps:  # warm-up
        for i in range(3):
            s(i)
    per = max(1, iterations // blocks)
    times: list[list[float]] = [[], []]
    i0 = 3
    for _ in range(blocks):  # alternate dense / sparse blocks on the same batches
        for k, s in enumerate(steps):
            t = time.perf_counter()
            for i in range(per):
                s(i0 + i)
            times[k].append(1000 * (time.perf_counter() - t) / per)
        i0 += per
    return tuple(statistics.median(t) for t in times)


def compare(kind: str, decoder: str | None, target: float, xs, ys, iterations: int) -> dict:
    nets = []
    for sparse in (False, True):
        net = build_model(kind, decoder=decoder, seed=0)
        net.sparse_backward = sparse
        nets.append(net)
    shift = calibrate(nets[0], xs[0], target)
    for net in nets:
        with torch.no_grad():
            _bias(net).add_(shift)
    with torch.no_grad():
        on = nets[0](xs[0]).hidden > 0
    before, in_batch = float(on.float().mean()), float(on.any(0).float().mean())
    dense, sparse = time_pair(nets, xs, ys, iterations)
    return {"model": kind if decoder is None else f"{kind}-{decoder}", "target": target,
            "bias_shift": shift, "activity_ratio": before, "activity_ratio_after": ratio(nets[0], xs[0]),
            "units_active_in_batch": in_batch, "dense_ms": dense, "sparse_ms": sparse,
            "speedup": dense / sparse}


def compare_runs(paths: list[str], iterations: int) -> list[dict]:
    """Dense against sparse-aware steps from the trained networks of stored runs."""
    import copy

    import numpy as np

    from neurocode.data.mnist import load_mnist
    from neurocode.rules import load_rule

    images, labels = load_mnist("mnist", "train")
    n = iterations + 3
    xs = torch.from_numpy(images[:n * 100].reshape(n, 100, 784).astype(np.float32) / 255.0)
    ys = torch.from_numpy(labels[:n * 100].astype(np.int64).reshape(n, 100))
    rows = []
    for path in paths:
        rule = load_rule(path)
        base = rule._net()
        base.train()
        nets = []
        for sparse in (False, True):
            net = copy.deepcopy(base)
            net.sparse_backward = sparse
            nets.append(net)
        l1 = float(rule.l1)
        dense, sparse = time_pair(nets, xs, ys, iterations, l1)
        name = rule.kind + (f"-{rule.decoder}" if rule.kind == "conv-ae" else "")
        rows.append({"model": name, "run": os.path.basename(path), "l1": l1,
                     "activity_ratio": ratio(nets[0], xs[0]),
                     "sparse_route": bool(getattr(nets[1], "sparse_route", True)),
                     "dense_ms": dense, "sparse_ms": sparse, "speedup": dense / sparse})
        r = rows[-1]
        print(f"{r['model']:>20} {l1:>8g} {r['activity_ratio']:14.5f} {str(r['sparse_route']):>6} "
              f"{dense:9.2f} {sparse:10.2f} {dense / sparse:9.2f}", flush=True)
    return rows


MODELS = {"fc": ("fc", None), "cnn": ("cnn", None), "conv-ae": ("conv-ae", "subpixel"),
          "conv-ae-transposed": ("conv-ae", "transposed")}


def compare_random(models: list[str], iterations: int) -> list[dict]:
    """Dense against sparse-aware steps on random images, at each target activity ratio."""
    gen = torch.Generator().manual_seed(0)
    n = iterations + 3
    xs = torch.rand(n, 100, 784, generator=gen)
    ys = torch.randint(0, 10, (n, 100), generator=gen)
    rows = []
    for m in models:
        for target in TARGETS:
            r = compare(*MODELS[m], target, xs, ys, iterations)
            rows.append(r)
            print(f"{r['model']:>20} {r['activity_ratio']:14.4f} {r['activity_ratio_after']:8.4f} "
                  f"{r['units_active_in_batch']:16.3f} {r['dense_ms']:9.2f} {r['sparse_ms']:10.2f} "
                  f"{r['speedup']:9.2f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--models", nargs="+", default=["fc", "cnn", "conv-ae"],
                    choices=list(MODELS))
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--runs", nargs="+", metavar="RUN.h5",
                    help="time the trained networks of these stored runs on MNIST batches")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
               f"{torch.__version__} ({torch.get_num_threads()} threads)")
    if args.runs:
        print(f"training step from trained runs, batch 100 of MNIST; {machine}")
        print(f"{'model':>20} {'lambda':>8} {'activity ratio':>14} {'sparse':>6} "
              f"{'dense ms':>9} {'sparse ms':>10} {'speed-up':>9}", flush=True)
        rows = compare_runs(args.runs, args.iterations)
    else:
        print(f"training step, batch 100; {machine}")
        print(f"{'model':>20} {'activity ratio':>14} {'(after)':>8} {'active in batch':>16} "
              f"{'dense ms':>9} {'sparse ms':>10} {'speed-up':>9}", flush=True)
        rows = compare_random(args.models, args.iterations)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
