"""What the article's evaluation costs: the 10,000 test images every 100 iterations.

Measured side by side in one process, for each network: the median time of one training
iteration (batch 100) and of one evaluation of the test set (accuracy, AVR, losses and, for
the autoencoder, the reconstruction error) by :func:`neurocode.models.relu_l1.evaluate` in
chunks of 100 to 1,000 images. The share of a run spent evaluating is
``eval / (eval + 100 * step)``. Every chunk size must give the same metrics (checked).

    python benchmarks/bench_eval.py [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from neurocode.models.relu_l1 import build_model, evaluate

import bench_train

CHUNKS = (100, 250, 1000)


def time_eval(kind: str, decoder: str | None, chunk: int, x: torch.Tensor, y: torch.Tensor,
              repeats: int) -> tuple[float, dict]:
    model = build_model(kind, decoder=decoder, seed=0)
    evaluate(model, x[:chunk], y[:chunk], 1e-4, 100, chunk=chunk)  # warm-up
    times, m = [], {}
    for _ in range(repeats):
        t = time.perf_counter()
        m = evaluate(model, x, y, 1e-4, 100, chunk=chunk)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=30, help="timed training iterations")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(10_000, 784, generator=g)
    y = torch.randint(0, 10, (10_000,), generator=g)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    rows = []
    for kind, decoder in (("fc", None), ("cnn", None), ("conv-ae", "subpixel"), ("conv-ae", "transposed")):
        step_ms = bench_train.time_training(kind, decoder, args.iterations)
        name = kind + (f" {decoder}" if decoder else "")
        ref = None
        for chunk in CHUNKS:
            sec, m = time_eval(kind, decoder, chunk, x, y, args.repeats)
            if ref is None:
                ref = m
            for key, v in m.items():  # same metrics whatever the chunk (float sums in order)
                assert abs(v - ref[key]) <= 1e-4 * max(1.0, abs(ref[key])), (name, chunk, key)
            share = sec / (sec + 0.1 * step_ms)
            rows.append({"model": name, "chunk": chunk, "step_ms": step_ms, "eval_s": sec,
                         "eval_share": share})
            print(f"{name:<20} chunk {chunk:>5}: eval {sec:6.2f} s, 100 steps {0.1 * step_ms:6.2f} s, "
                  f"evaluation {100 * share:4.1f} % of a run", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
