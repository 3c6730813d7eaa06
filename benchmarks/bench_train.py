"""Training-step speed of the article's networks against this machine's plain-matmul peak.

Measured side by side in one process: first the float32 matmul peak (a square matmul large
enough to saturate BLAS), then ms per training iteration (forward, loss, backward, Adam step;
batch 100, random data) for each network, converted to achieved GFLOP/s with
:func:`neurocode.models.relu_l1.flops_per_iteration` and given as a fraction of that peak.

    python benchmarks/bench_train.py [--iterations 50] [--json out.json]

The article's runs took 85 s (FC), 139 s (CNN) and 317 s (autoencoder) for 20,000 iterations
on its 2016 hardware, i.e. 4.3, 7.0 and 15.9 ms per iteration; they are printed beside ours.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from neurocode.models.relu_l1 import build_model, flops_per_iteration, loss_terms

ARTICLE_MS = {"fc": 85 / 20, "cnn": 139 / 20, "conv-ae": 317 / 20}  # s per 20,000 it -> ms/it


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
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args()
    peak = matmul_peak()
    rows = []
    for kind, decoder in (("fc", None), ("cnn", None), ("conv-ae", "subpixel"),
                          ("conv-ae", "transposed")):
        ms = time_training(kind, decoder, args.iterations)
        flops = flops_per_iteration(build_model(kind, decoder=decoder), 100)
        gflops = flops / (ms / 1000) / 1e9
        rows.append({"model": kind if decoder is None else f"{kind} ({decoder})",
                     "ms_per_iteration": ms, "gflops": gflops, "fraction_of_peak": gflops / peak,
                     "s_per_20000": ms * 20, "article_ms_per_iteration": ARTICLE_MS[kind]})
    info = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "matmul_peak_gflops": peak, "rows": rows}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"plain float32 matmul peak: {peak:.1f} GFLOP/s")
    print(f"{'model':<24}{'ms/it':>8}{'GFLOP/s':>9}{'of peak':>9}{'20k it (s)':>12}{'article ms/it':>15}")
    for r in rows:
        print(f"{r['model']:<24}{r['ms_per_iteration']:>8.2f}{r['gflops']:>9.1f}"
              f"{r['fraction_of_peak']:>9.1%}{r['s_per_20000']:>12.0f}{r['article_ms_per_iteration']:>15.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f, indent=2)


if __name__ == "__main__":
    main()
