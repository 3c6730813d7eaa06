"""Training-step speed of the article's networks against this machine's plain-matmul peak.

Measured side by side in one process: first the float32 matmul peak (a square matmul large
enough to saturate BLAS), then ms per training iteration (forward, loss, backward, Adam step;
batch 100, random data) for each network, converted to achieved GFLOP/s and given as a
fraction of that peak.

The FLOPs are those the step executes, counted by torch itself
(:class:`torch.utils.flop_counter.FlopCounterMode` over one forward + loss + backward at the
same batch): the matmuls and convolutions, forward, weight gradients and input gradients, but
no input gradient for the layer that reads the images (the data needs no gradient, so
autograd skips that pass). :func:`neurocode.models.relu_l1.flops_per_iteration` is the
same count in closed form (``tests/test_bench_flops.py`` checks it against torch's); until
December 2026 it counted three passes for every layer, 1.49x too many for the FC net and
1.19x for the CNN, so the README's "80 % of the matmul peak" was 54 %. Neither counts Adam, the ReLUs or the loss (elementwise work, not matmul work): the fraction of the
peak is that of the matmul work alone.

    python benchmarks/bench_train.py [--iterations 50] [--threads T] [--json out.json]

The article's runs took 85 s (FC), 139 s (CNN) and 317 s (autoencoder) for 20,000 iterations
on its 2016 hardware, i.e. 4.3, 7.0 and 15.9 ms per iteration; they are printed beside ours.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from neurocode.models.relu_l1 import build_model, flops_per_iteration, loss_terms

ARTICLE_MS = {"fc": 85 / 20, "cnn": 139 / 20, "conv-ae": 317 / 20}  # s per 20,000 it -> ms/it
MODELS = (("fc", None), ("cnn", None), ("conv-ae", "subpixel"), ("conv-ae", "transposed"))


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """Best-of GFLOP/s of an n x n float32 matmul."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def _batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


def torch_flops(model: nn.Module, batch: int, l1: float = 1e-4) -> dict[str, int]:
    """FLOPs of one forward + loss + backward as torch executes them, by operator.

    Counted by :class:`torch.utils.flop_counter.FlopCounterMode` (matmuls and convolutions,
    their backward as it runs); ``"total"`` is their sum. The gradients it leaves are cleared.
    """
    x, y = _batch(batch)
    with FlopCounterMode(display=False) as counter:
        loss_terms(model, model(x), x, y, l1)["total"].backward()
    model.zero_grad(set_to_none=True)
    out = {str(op): int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    out["total"] = int(counter.get_total_flops())
    return out


def _three_pass_flops(model: nn.Module, batch: int) -> int:
    """The old count: three passes for every layer, the first layer's input gradient too."""
    return flops_per_iteration(model, batch) + 2 * batch * next(
        m.in_features * m.out_features if isinstance(m, nn.Linear)
        else math.prod(m.weight.shape) * 14 * 14
        for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)))


def time_training(kind: str, decoder: str | None, iterations: int, warmup: int = 5) -> float:
    """Median ms per training iteration (batch 100, lambda 1e-4)."""
    model = build_model(kind, decoder=decoder, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(100, 784)
    y = torch.randint(0, 10, (100,))
    times = []
    for i in range(warmup + iterations):
        t = time.perf_counter()
        out = model(x)
        loss = loss_terms(model, out, x, y, 1e-4)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    times.sort()
    return 1000 * times[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's own, the machine's cores); on a "
                         "shared machine 1 avoids threads spinning against other jobs")
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args()
    if args.iterations < 1 or (args.threads is not None and args.threads < 1):
        ap.error(f"--iterations and --threads must be >= 1, got {args.iterations} and "
                 f"{args.threads}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    peak = matmul_peak()
    rows = []
    for kind, decoder in MODELS:
        ms = time_training(kind, decoder, args.iterations)
        model = build_model(kind, decoder=decoder)
        flops = torch_flops(model, 100)["total"]
        closed = flops_per_iteration(model, 100)
        old = _three_pass_flops(model, 100)
        gflops = flops / (ms / 1000) / 1e9
        rows.append({"model": kind if decoder is None else f"{kind} ({decoder})",
                     "ms_per_iteration": ms, "flops": flops, "flops_closed_form": closed,
                     "flops_per_iteration_models": old, "overcount_models": old / flops,
                     "gflops": gflops, "fraction_of_peak": gflops / peak,
                     "fraction_of_peak_models_count": old / (ms / 1000) / 1e9 / peak,
                     "s_per_20000": ms * 20, "article_ms_per_iteration": ARTICLE_MS[kind]})
    info = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "load_average_at_start": load,
            "matmul_peak_gflops": peak, "rows": rows}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average at start {load:.2f}; plain float32 matmul peak: {peak:.1f} GFLOP/s")
    print(f"{'model':<24}{'ms/it':>8}{'GFLOP':>8}{'GFLOP/s':>9}{'of peak':>9}"
          f"{'(old count)':>12}{'20k it (s)':>12}{'article ms/it':>15}")
    for r in rows:
        print(f"{r['model']:<24}{r['ms_per_iteration']:>8.2f}{r['flops'] / 1e9:>8.3f}"
              f"{r['gflops']:>9.1f}{r['fraction_of_peak']:>9.1%}"
              f"{r['fraction_of_peak_models_count']:>12.1%}{r['s_per_20000']:>12.0f}"
              f"{r['article_ms_per_iteration']:>15.1f}")
    print("GFLOP: per iteration as torch's FlopCounterMode counts it (matmuls and convolutions "
          "that run);\n(old count): the share of the peak with the old three-pass count, which "
          "counted an input-gradient pass for the first layer that never runs:")
    for r in rows:
        agree = "=" if r["flops_closed_form"] == r["flops"] else "!="
        print(f"  {r['model']:<22} old count / executed = {r['overcount_models']:.3f};"
              f" closed form {agree} torch's count")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=2)


if __name__ == "__main__":
    main()
