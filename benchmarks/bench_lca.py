"""Batched LCA against scikit-learn's coordinate-descent Lasso on MNIST.

Both solve, per image ``x`` (MNIST test images scaled to [0, 1]), with a random dictionary of
784 Gaussian unit-norm atoms and ``a >= 0``::

    E(a) = 1/2 ||x - Phi a||^2 + lambda ||a||_1,     lambda = alpha = 0.1

(``sparse_encode(X, Phi.T, algorithm="lasso_cd", alpha=alpha, positive=True)`` minimises
``E(a) / n_features``; see :class:`neurocode.models.lca.LCA`). Measured in one process, on the
same thread count (``--threads``, default 1: torch and the BLAS behind numpy / scikit-learn):

* lasso_cd on the first ``--n-lasso`` images (default 500), extrapolated per image;
* the LCA rule on all ``--n-images`` images (default 10,000), dictionary set-up included, with
  its defaults (float32, dt = 1.5 tau / ||Phi||_2^2, tol 1e-3, at most 1000 Euler steps) and
  two tuned settings: a looser tolerance (tol 1e-2), and that plus a larger step still inside
  the stability bound (dt = 1.9 tau / ||Phi||_2^2 < 2 tau / ||Phi||_2^2). The dynamics are the
  LCA's forward-Euler steps in every row (no momentum / FISTA acceleration).

Printed: ms per image for each, their ratio, and the objective gap on the common images
(``E_LCA / E_lasso - 1``, mean and max).

    python benchmarks/bench_lca.py [--n-images 10000] [--n-lasso 500] [--threads 1] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from sklearn.decomposition import sparse_encode
from threadpoolctl import threadpool_limits

from neurocode.data import load_mnist
from neurocode.models.lca import LCA, lca_objective


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-images", type=int, default=10_000)
    ap.add_argument("--n-lasso", type=int, default=500)
    ap.add_argument("--n-atoms", type=int, default=784)
    ap.add_argument("--alpha", type=float, default=0.1, help="sklearn alpha = LCA lam")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    images, _ = load_mnist("mnist", split="test")
    X = images[:args.n_images].reshape(-1, 784).astype(np.float64) / 255.0
    rng = np.random.default_rng(args.seed)
    phi = rng.standard_normal((784, args.n_atoms))
    phi /= np.linalg.norm(phi, axis=0)
    n_lasso = min(args.n_lasso, len(X))
    lam = args.alpha

    with threadpool_limits(args.threads):
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        t = time.perf_counter()
        ref = sparse_encode(X[:n_lasso], phi.T, algorithm="lasso_cd", alpha=lam, positive=True)
        t_lasso = time.perf_counter() - t

        e_ref = lca_objective(X[:n_lasso], ref, phi, lam)
        rows = [{"method": "sparse_encode lasso_cd", "images": n_lasso, "seconds": t_lasso,
                 "ms_per_image": 1000 * t_lasso / n_lasso,
                 "active": float((ref > 0).sum(1).mean()), "gap_mean": 0.0, "gap_max": 0.0}]
        norm = float(np.linalg.norm(phi, 2) ** 2)
        variants = [("LCA default (tol 1e-3)", {}),
                    ("LCA tol 1e-2", {"tol": 1e-2}),
                    ("LCA tol 1e-2, dt 1.9/|P|^2", {"tol": 1e-2, "dt": 1.9 / norm})]
        for label, extra in variants:
            rule = LCA(n_units=args.n_atoms, lam=lam, non_negative=True, random_state=0, **extra)
            t = time.perf_counter()
            rule.fit(X[:1], dictionary=phi)
            codes = rule.encode(X)
            t_lca = time.perf_counter() - t
            gap = lca_objective(X[:n_lasso], codes[:n_lasso], phi, lam) / e_ref - 1
            rows.append({"method": label, "images": len(X), "seconds": t_lca,
                         "ms_per_image": 1000 * t_lca / len(X),
                         "active": float((codes[:n_lasso] > 0).sum(1).mean()),
                         "gap_mean": float(gap.mean()), "gap_max": float(gap.max())})
    for r in rows:
        r["ratio"] = rows[0]["ms_per_image"] / r["ms_per_image"]

    print(f"machine: {platform.machine()} {platform.processor() or ''} | {os.cpu_count()} CPUs, "
          f"{args.threads} thread(s) used | load average at start {load:.2f} | torch "
          f"{torch.__version__}")
    print(f"problem: {len(X)} MNIST test images in [0,1], {args.n_atoms} random unit-norm atoms, "
          f"lambda = alpha = {lam}, a >= 0; gap = E_LCA / E_lasso - 1 on the first {n_lasso}")
    print(f"{'method':<28}{'images':>7}{'seconds':>9}{'ms/image':>10}{'lasso/this':>11}"
          f"{'active':>8}{'gap mean':>10}{'gap max':>10}{'<=1%':>6}")
    for r in rows:
        print(f"{r['method']:<28}{r['images']:>7}{r['seconds']:>9.2f}{r['ms_per_image']:>10.3f}"
              f"{r['ratio']:>10.2f}x{r['active']:>8.1f}{r['gap_mean']:>10.1e}{r['gap_max']:>10.1e}"
              f"{'yes' if r['gap_max'] <= 0.01 else 'NO':>6}")
    print("lasso/this > 1: LCA faster per image than lasso_cd")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "threads": args.threads, "load_average": load}, f, indent=2)


if __name__ == "__main__":
    main()
