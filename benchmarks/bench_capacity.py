"""Time and peak memory of a Willshaw capacity curve: N = 4,096 units, up to 100,000 patterns.

    python benchmarks/bench_capacity.py [--units 4096] [--patterns 100000] [--k 12]
                                        [--loads 30] [--probes 200] [--compare 20000]
                                        [--json out.json]

Target: the whole curve in under 60 s with peak memory under 1 GB.

Rows (each measured on its own, in this order, in one process):

* ``generate``: the random k-of-N patterns as index lists
  (:func:`neurocode.models.binary.random_code_indices`, ``(M, k)`` int64: 9.6 MB for 100,000
  patterns of 12 units), and the independent partners for the hetero-associative curve.
* ``curve auto`` / ``curve hetero``: :func:`neurocode.metrics.capacity.willshaw_curve` with
  ``--loads`` geometric loads from 1 to ``--patterns``, every load evaluated (no early stop):
  incremental storage into bit-packed synapses (2 MB for N = 4,096), ``--probes`` threshold
  recalls per load, the set-synapse fraction per load.
* ``memory.py route`` (``--compare M``, 0 to skip): the same curve up to ``M`` patterns through
  the byte-matrix functions of :mod:`neurocode.models.memory` (``willshaw_store`` of the new
  dense patterns into a bool ``W`` at every load, ``willshaw_recall`` of the probes), the route
  the ``Willshaw`` rule takes; it needs the patterns dense (``M x N`` bytes), which at 100,000
  patterns alone is 410 MB before ``check_binary``'s boolean copy.

Peak memory: ``tracemalloc`` peak of Python and numpy allocations within the stage (numpy
reports its buffers to tracemalloc), and the process's ``ru_maxrss`` after the stage (the
high-water mark of the whole process so far, interpreter and imports included). Times are
wall-clock seconds of one run, with the BLAS threads the machine gives.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np

from neurocode.metrics.capacity import willshaw_curve, willshaw_theory
from neurocode.models.binary import random_code_indices
from neurocode.models.memory import willshaw_recall, willshaw_store


def maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1e6 if sys.platform == "darwin" else r / 1e3  # bytes on macOS, KiB elsewhere


def measure(name: str, fn, rows: list[dict], **info):
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    peak = (tracemalloc.get_traced_memory()[1] - base) / 1e6
    rows.append({"stage": name, "seconds": seconds, "traced_peak_mb": peak,
                 "maxrss_mb": maxrss_mb(), **info})
    return out


def memory_route(idx: np.ndarray, N: int, loads: np.ndarray, n_probe: int, seed: int) -> dict:
    """The same curve through neurocode.models.memory (dense patterns, byte matrix)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((len(idx), N), dtype=np.uint8)
    np.put_along_axis(X, idx, 1, axis=1)
    W = np.zeros((N, N), dtype=bool)
    spurious, prev = [], 0
    for M in loads:
        willshaw_store(W, X[prev:M])
        prev = int(M)
        probe = np.sort(rng.choice(M, size=min(n_probe, M), replace=False))
        r = willshaw_recall(W, X[probe]).astype(bool)
        spurious.append(float((r & ~X[probe].astype(bool)).sum(axis=1).mean()))
    return {"spurious": np.array(spurious)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=4096)
    ap.add_argument("--patterns", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=None, help="active units (default round(log2 N))")
    ap.add_argument("--loads", type=int, default=30, help="geometric loads from 1 to --patterns")
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--compare", type=int, default=20_000,
                    help="patterns for the memory.py route (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    N, M = args.units, args.patterns
    k = args.k or max(1, round(math.log2(N)))
    loads = np.unique(np.rint(np.geomspace(1, M, args.loads)).astype(np.int64))

    tracemalloc.start()
    rows: list[dict] = []
    x = measure("generate", lambda: random_code_indices(M, N, k, args.seed), rows)
    y = measure("generate partners", lambda: random_code_indices(M, N, k, args.seed + 1), rows)
    auto = measure("curve auto", lambda: willshaw_curve(
        x, N, loads, n_probe=args.probes, stop_after=None, random_state=args.seed), rows)
    hetero = measure("curve hetero", lambda: willshaw_curve(
        x, N, loads, targets=y, n_probe=args.probes, stop_after=None,
        random_state=args.seed), rows)
    if args.compare:
        lc = loads[loads <= args.compare]
        ref = measure(f"memory.py route (to {int(lc[-1])})", lambda: memory_route(
            x[:args.compare], N, lc, args.probes, args.seed), rows)
        mine = willshaw_curve(x[:args.compare], N, lc, n_probe=args.probes, stop_after=None,
                              random_state=args.seed)
        rows[-1]["max_abs_diff_spurious_vs_fast"] = float(
            np.abs(ref["spurious"] - mine["spurious"]).max())
    tracemalloc.stop()

    cpu = platform.processor() or platform.machine()
    print(f"Willshaw capacity curve: N = {N}, k = {k}, loads 1..{M} ({len(loads)} loads), "
          f"{args.probes} probes per load; {cpu}, {os.cpu_count()} CPUs, numpy {np.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"{'stage':<32} {'seconds':>8} {'traced peak MB':>15} {'maxrss MB':>10}")
    for r in rows:
        print(f"{r['stage']:<32} {r['seconds']:8.2f} {r['traced_peak_mb']:15.1f} "
              f"{r['maxrss_mb']:10.1f}")
    for name, res, auto_ in (("auto", auto, True), ("hetero", hetero, False)):
        th = willshaw_theory(N, k, res["loads"][-1], autoassociative=auto_)
        print(f"  {name}: at M = {int(res['loads'][-1])}: "
              f"fraction set {res['fraction_set'][-1]:.4f} "
              f"(theory {th['fraction_set']:.4f}), spurious/recall {res['spurious'][-1]:.3f} "
              f"(theory {th['spurious']:.3f}); M* = {res['capacity']:.0f}"
              f"{' (censored)' if res['capacity_censored'] else ''} at tolerance "
              f"{res['tolerance']}, theory {th['capacity']:.0f}")
    if args.compare:
        print(f"  memory.py route agrees with the fast path: max |spurious difference| = "
              f"{rows[-1]['max_abs_diff_spurious_vs_fast']:.3g}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
