"""Batched LCA against scikit-learn's coordinate-descent Lasso and a batched FISTA on MNIST.

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
  LCA's forward-Euler steps in every row (no momentum / FISTA acceleration);
* a batched FISTA (:func:`fista`, written here: accelerated proximal gradient, Beck and
  Teboulle 2009, on the same ``Phi^T Phi`` and ``Phi^T x`` as the LCA, the same float32 torch
  matmuls, the same chunks of 4,096 images, step ``1 / ||Phi||_2^2``), on all the images, with
  the LCA's stopping rule (a row stops once its proximal-gradient step, the analogue of the
  LCA's ``tau du/dt``, is at most ``tol ||Phi^T x||``): plain, and with O'Donoghue and
  Candes' (2015) gradient restart. The LCA's 1.95x over lasso_cd comes from solving 10,000
  images at once; FISTA solves them at once too.

Printed: ms per image for each, their ratio, the mean objective ``E`` on the common images and
the gap ``E / E_lasso - 1`` (mean and max). ``tests/test_bench_lca.py`` checks
:func:`fista` against scikit-learn's ``Lasso`` on a few images.

    python benchmarks/bench_lca.py [--n-images 10000] [--n-lasso 500] [--threads 1]
        [--repeats 1] [--json F]
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
from neurocode.models.lca import ENCODE_CHUNK, LCA, lca_objective


def fista(X: np.ndarray, phi: np.ndarray, lam: float, *, tol: float = 1e-3,
          n_steps: int = 1000, restart: bool = True, dtype: torch.dtype = torch.float32,
          chunk: int = ENCODE_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Batched FISTA for ``min_{a >= 0} 1/2 ||x - Phi a||^2 + lam ||a||_1``, rows of ``X``.

    From ``a = y = 0``, step ``1 / L`` with ``L = ||Phi||_2^2``::

        a+ = max(y - (y Phi^T Phi - x Phi) / L - lam / L, 0)
        t+ = (1 + sqrt(1 + 4 t^2)) / 2,   y = a+ + (t - 1) / t+ (a+ - a)

    per row, with ``t`` reset to 1 (and ``y = a+``) when ``restart`` and the step goes uphill,
    ``(y - a+) . (a+ - a) > 0`` (O'Donoghue and Candes 2015). A row stops once
    ``L ||a+ - y||_2 <= tol ||x Phi||_2`` (``L (y - a+)`` is the gradient mapping, zero exactly
    at the minimiser) or after ``n_steps``; stopped rows leave the batch. Returns the codes
    (float64, ``(n, n_atoms)``) and the steps each row took.
    """
    p = torch.from_numpy(np.asarray(phi, dtype=np.float64)).to(dtype)
    gram = p.T @ p
    L = float(torch.linalg.eigvalsh(gram.double())[-1])
    codes = np.empty((len(X), p.shape[1]))
    steps = np.full(len(X), n_steps, dtype=np.int64)
    for start in range(0, len(X), chunk):
        b = torch.from_numpy(np.asarray(X[start:start + chunk], dtype=np.float64)).to(dtype) @ p
        n = b.shape[0]
        out = torch.zeros_like(b)
        live = torch.arange(n)
        scale = torch.linalg.vector_norm(b, dim=1).clamp_min(torch.finfo(dtype).tiny)
        a = torch.zeros_like(b)
        y = torch.zeros_like(b)
        t = torch.ones(n, dtype=dtype)
        for k in range(n_steps):
            a_new = torch.clamp(y - (y @ gram - b) / L - lam / L, min=0.0)
            step = a_new - y
            done = L * torch.linalg.vector_norm(step, dim=1) <= tol * scale
            t_new = (1 + torch.sqrt(1 + 4 * t * t)) / 2
            move = a_new - a
            y = a_new + ((t - 1) / t_new)[:, None] * move
            t = t_new
            if restart:
                uphill = (step * move).sum(dim=1) < 0  # (y - a+) . (a+ - a) > 0
                if bool(uphill.any()):
                    y[uphill] = a_new[uphill]
                    t[uphill] = 1.0
            a = a_new
            if bool(done.any()):
                out[live[done]] = a[done]
                steps[start + live[done].numpy()] = k + 1
                rest = ~done
                live, a, y, t, b, scale = (live[rest], a[rest], y[rest], t[rest], b[rest],
                                           scale[rest])
                if live.numel() == 0:
                    break
        out[live] = a
        codes[start:start + n] = out.double().numpy()
    return codes, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-images", type=int, default=10_000)
    ap.add_argument("--n-lasso", type=int, default=500)
    ap.add_argument("--n-atoms", type=int, default=784)
    ap.add_argument("--alpha", type=float, default=0.1, help="sklearn alpha = LCA lam")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1,
                    help="rounds of every LCA / FISTA setting, interleaved; the best time each")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if min(args.n_images, args.n_lasso, args.n_atoms, args.threads, args.repeats) < 1 \
            or args.alpha <= 0:
        ap.error("--n-images, --n-lasso, --n-atoms, --threads and --repeats must be >= 1 and "
                 "--alpha > 0")

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
                 "active": float((ref > 0).sum(1).mean()), "objective": float(e_ref.mean()),
                 "gap_mean": 0.0, "gap_max": 0.0}]
        norm = float(np.linalg.norm(phi, 2) ** 2)

        def lca(**extra):
            rule = LCA(n_units=args.n_atoms, lam=lam, non_negative=True, random_state=0,
                       **extra)
            rule.fit(X[:1], dictionary=phi)
            return rule.encode(X), None

        solvers = {"LCA default (tol 1e-3)": lambda: lca(),
                   "LCA tol 1e-2": lambda: lca(tol=1e-2),
                   "LCA tol 1e-2, dt 1.9/|P|^2": lambda: lca(tol=1e-2, dt=1.9 / norm),
                   "FISTA tol 1e-3": lambda: fista(X, phi, lam, restart=False),
                   "FISTA tol 1e-3, restart": lambda: fista(X, phi, lam),
                   "FISTA tol 1e-2, restart": lambda: fista(X, phi, lam, tol=1e-2)}
        best = dict.fromkeys(solvers, float("inf"))
        result = {}
        for _ in range(args.repeats):  # interleaved: every solver once per round
            for label, solve in solvers.items():
                t = time.perf_counter()
                result[label] = solve()  # the LCA's time includes its dictionary set-up
                best[label] = min(best[label], time.perf_counter() - t)
        for label, (codes, steps) in result.items():
            e = lca_objective(X[:n_lasso], codes[:n_lasso], phi, lam)
            gap = e / e_ref - 1
            rows.append({"method": label, "images": len(X), "seconds": best[label],
                         "ms_per_image": 1000 * best[label] / len(X),
                         "active": float((codes[:n_lasso] > 0).sum(1).mean()),
                         "objective": float(e.mean()),
                         "mean_steps": float(steps.mean()) if steps is not None else None,
                         "gap_mean": float(gap.mean()), "gap_max": float(gap.max())})
    for r in rows:
        r["ratio"] = rows[0]["ms_per_image"] / r["ms_per_image"]

    print(f"machine: {platform.machine()} {platform.processor() or ''} | {os.cpu_count()} CPUs, "
          f"{args.threads} thread(s) used | load average at start {load:.2f} | torch "
          f"{torch.__version__}")
    print(f"problem: {len(X)} MNIST test images in [0,1], {args.n_atoms} random unit-norm atoms, "
          f"lambda = alpha = {lam}, a >= 0; E (mean objective) and gap = E / E_lasso - 1 on "
          f"the first {n_lasso}")
    print(f"{'method':<28}{'images':>7}{'seconds':>9}{'ms/image':>10}{'lasso/this':>11}"
          f"{'active':>8}{'E':>10}{'gap mean':>10}{'gap max':>10}{'<=1%':>6}")
    for r in rows:
        print(f"{r['method']:<28}{r['images']:>7}{r['seconds']:>9.2f}{r['ms_per_image']:>10.3f}"
              f"{r['ratio']:>10.2f}x{r['active']:>8.1f}{r['objective']:>10.5f}"
              f"{r['gap_mean']:>10.1e}{r['gap_max']:>10.1e}"
              f"{'yes' if r['gap_max'] <= 0.01 else 'NO':>6}")
    print("lasso/this > 1: faster per image than lasso_cd")
    by = {r["method"]: r for r in rows}
    lca, fis = by["LCA default (tol 1e-3)"], by["FISTA tol 1e-3, restart"]
    print(f"at tol 1e-3: FISTA (restart) {lca['ms_per_image'] / fis['ms_per_image']:.2f}x the "
          f"LCA's speed, mean gap {fis['gap_mean']:.1e} against the LCA's {lca['gap_mean']:.1e}; "
          f"FISTA steps per image: plain {by['FISTA tol 1e-3']['mean_steps']:.0f}, restart "
          f"{fis['mean_steps']:.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "threads": args.threads, "load_average": load}, f, indent=2)


if __name__ == "__main__":
    main()
