"""Drawing random k-of-N patterns: the keys draw (O(M N)) against the fast one (O(M k log k)).

    python benchmarks/bench_random_codes.py [--units 16384] [--patterns 100000] [--k 14]
        [--repeats 1] [--sweep-patterns 2000] [--no-curve] [--json out.json]

Side by side in one process, interleaved (keys, fast, keys, fast, ...; the best of
``--repeats`` of each), :func:`neurocode.random_codes.random_code_indices` with
``method="keys"`` (the top ``k`` of ``N`` uniform keys per pattern, the draw of every stored
result) and ``method="fast"`` (``k`` uniform indices per pattern, duplicates drawn again):

* ``--patterns`` patterns of ``--k`` active units (default ``round(log2 N)``) out of
  ``--units``, the set a Willshaw capacity curve stores;
* the Willshaw capacity curve those patterns feed (auto-associative, 30 geometric loads, 200
  probes per load, every load evaluated: :func:`neurocode.metrics.capacity.willshaw_curve`),
  once per draw, so that the draw's cost is seen beside the curve's, and the two draws' curves
  beside the closed form (the fraction of set synapses at the last load against
  :func:`neurocode.metrics.capacity.willshaw_theory`): the same law, other random numbers;
* a sweep over ``k`` at ``--sweep-patterns`` patterns: where the fast draw redraws duplicates
  (``k <= N / 8``, or ``N - k <= N / 8`` through the complement) and where it hands over to
  the keys (in between).

Also printed: the mean unit usage of each draw against ``k / N``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numpy as np

from neurocode.metrics.capacity import willshaw_curve, willshaw_theory
from neurocode.random_codes import SPARSE_SHARE, random_code_indices

METHODS = ("keys", "fast")


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def interleaved(n: int, N: int, k: int, repeats: int, seed: int) -> dict[str, dict]:
    """Best-of seconds of each draw, the draws alternating; the last patterns of each."""
    res = {m: {"seconds": float("inf"), "idx": None} for m in METHODS}
    for r in range(repeats):
        for m in METHODS:
            t = time.perf_counter()
            idx = random_code_indices(n, N, k, seed + r, method=m)
            res[m]["seconds"] = min(res[m]["seconds"], time.perf_counter() - t)
            res[m]["idx"] = idx
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=16_384)
    ap.add_argument("--patterns", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=None, help="active units (default round(log2 N))")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--sweep-patterns", type=int, default=2000, help="0: no sweep over k")
    ap.add_argument("--no-curve", action="store_true", help="skip the capacity curves")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the numbers to this file")
    args = ap.parse_args()
    N, M = args.units, args.patterns
    k = args.k or max(1, round(math.log2(N)))
    if N < 2 or M < 1 or not 1 <= k <= N or args.repeats < 1 or args.sweep_patterns < 0:
        ap.error(f"need --units >= 2, --patterns >= 1, 1 <= --k <= --units, --repeats >= 1 and "
                 f"--sweep-patterns >= 0; got {N}, {M}, {k}, {args.repeats}, "
                 f"{args.sweep_patterns}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out: dict = {"units": N, "patterns": M, "k": k, "repeats": args.repeats,
                 "load_average_at_start": load}

    main_draw = interleaved(M, N, k, args.repeats, args.seed)
    for m in METHODS:
        out[f"{m}_seconds"] = main_draw[m]["seconds"]
        usage = np.bincount(main_draw[m]["idx"].ravel(), minlength=N) / M
        sd = math.sqrt(k / N * (1 - k / N) / M)
        out[f"{m}_usage_max_z"] = float(np.abs(usage - k / N).max() / sd)
    out["speedup"] = out["keys_seconds"] / out["fast_seconds"]

    if not args.no_curve:
        loads = np.unique(np.rint(np.geomspace(1, M, 30)).astype(np.int64))
        th = willshaw_theory(N, k, int(loads[-1]), autoassociative=True)
        out["theory_fraction_set"] = th["fraction_set"]
        for m in METHODS:
            s, cur = best_of(lambda m=m: willshaw_curve(main_draw[m]["idx"], N, loads,
                                                        n_probe=200, stop_after=None,
                                                        random_state=args.seed),
                             args.repeats)
            out[f"curve_{m}_seconds"] = s
            out[f"curve_{m}_fraction_set"] = float(cur["fraction_set"][-1])
            out[f"draw_over_curve_{m}"] = out[f"{m}_seconds"] / s

    sweep = []
    if args.sweep_patterns:
        ks = sorted({1, k, N // 64, N // 16, N // SPARSE_SHARE, N // SPARSE_SHARE + 1, N // 4,
                     N // 2, N - N // SPARSE_SHARE, N - 1} & set(range(1, N + 1)))
        for kk in ks:
            d = interleaved(args.sweep_patterns, N, kk, args.repeats, args.seed)
            route = ("redraw" if SPARSE_SHARE * kk <= N else
                     "complement" if SPARSE_SHARE * (N - kk) <= N and kk < N else "keys")
            sweep.append({"k": kk, "route": route, "keys_ms": 1e3 * d["keys"]["seconds"],
                          "fast_ms": 1e3 * d["fast"]["seconds"],
                          "speedup": d["keys"]["seconds"] / d["fast"]["seconds"]})
    out["sweep"] = sweep

    cpu = platform.processor() or platform.machine()
    print(f"random k-of-N patterns: N = {N}, k = {k}, M = {M}; {cpu}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}; load average at start {load:.2f}; best of {args.repeats}, "
          f"interleaved")
    print(f"{'draw':<8}{'seconds':>10}{'max |usage - k/N| / sd':>25}")
    for m in METHODS:
        print(f"{m:<8}{out[f'{m}_seconds']:>10.3f}{out[f'{m}_usage_max_z']:>25.2f}")
    print(f"  (usage: the fraction of patterns a unit is active in; sd = sqrt(p (1 - p) / M) "
          f"with p = k/N; for {N} independent units the largest |z| is about "
          f"{math.sqrt(2 * math.log(N)):.1f})")
    print(f"fast over keys: {out['speedup']:.0f}x")
    if not args.no_curve:
        print(f"the capacity curve they feed (30 loads to {M}, 200 probes, auto-associative):")
        for m in METHODS:
            print(f"  {m} patterns: curve {out[f'curve_{m}_seconds']:.2f} s, draw / curve "
                  f"{out[f'draw_over_curve_{m}']:.2f}; fraction of set synapses at M = {M}: "
                  f"{out[f'curve_{m}_fraction_set']:.4f} (closed form "
                  f"{out['theory_fraction_set']:.4f})")
    if sweep:
        print(f"over k, {args.sweep_patterns} patterns of N = {N} (fast: redraw for k <= N/"
              f"{SPARSE_SHARE}, complement for N - k <= N/{SPARSE_SHARE}, keys in between):")
        print(f"{'k':>7} {'route':<11}{'keys ms':>9}{'fast ms':>9}{'speed-up':>10}")
        for r in sweep:
            print(f"{r['k']:>7} {r['route']:<11}{r['keys_ms']:>9.1f}{r['fast_ms']:>9.1f}"
                  f"{r['speedup']:>9.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
