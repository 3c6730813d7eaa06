"""Store and recall times of the associative memories at 10,000 patterns in 2,000 units.

    python benchmarks/bench_memory.py [--units 2000] [--patterns 10000] [--k 20] [--json out.json]

* Willshaw: random k-of-N patterns (k = 20), autoassociative; stored by scattering the active
  index pairs (``method="sparse"``, what ``auto`` picks for such patterns) and by chunked
  matrix products (``"dense"``); recalled from every stored pattern by threshold recall, with
  the sums gathered from the rows of W (``sparse``) or multiplied (``dense``). The two methods
  give the same memory and codes (checked here); the ratio column is dense / sparse time.
* Hopfield: random dense +-1 patterns; Hebbian couplings, then recall from every stored
  pattern with asynchronous and with synchronous updates (at most ``--sweeps`` sweeps). 10,000
  patterns in 2,000 units is far beyond the capacity 0.138 N (alpha = 5): the dynamics wander
  to spurious states, and the times are those of that worst case (tens of sweeps of every
  cue). For contrast, a load within capacity: M = 0.1 N patterns stored, recalled from the
  same number of cues (stored patterns with 10% of their units flipped). Ratio: sync / async.

Times are wall-clock seconds of one run each, in this process, with the BLAS threads the
machine gives (set OMP_NUM_THREADS to pin them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from neurocode.models.binary import random_codes
from neurocode.models.memory import (
    hebbian_couplings,
    hopfield_run,
    overlap,
    willshaw_recall,
    willshaw_store,
)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def bench(n_units: int, n_patterns: int, k: int, sweeps: int, seed: int = 0) -> list[dict]:
    rows: list[dict] = []
    X = random_codes(n_patterns, n_units, k, random_state=seed)
    W = {}
    for method in ("sparse", "dense"):
        W[method], t = timed(willshaw_store, np.zeros((n_units, n_units), dtype=bool), X,
                             method=method)
        rows.append({"memory": "willshaw", "stage": "store", "method": method, "seconds": t})
    assert np.array_equal(W["sparse"], W["dense"]), "the two storing methods disagree"
    codes = {}
    for method in ("sparse", "dense"):
        codes[method], t = timed(willshaw_recall, W["sparse"], X, method=method)
        rows.append({"memory": "willshaw", "stage": "recall", "method": method, "seconds": t,
                     "p1": float(W["sparse"].mean()),
                     "exact": float((codes[method] == X).all(axis=1).mean())})
    assert np.array_equal(codes["sparse"], codes["dense"]), "the two recall methods disagree"

    P = (np.random.default_rng(seed + 1).random((n_patterns, n_units)) < 0.5).astype(np.uint8)
    C, t = timed(hebbian_couplings, P)
    rows.append({"memory": "hopfield", "stage": "store", "method": "hebbian", "seconds": t})
    S0 = P.astype(np.int8) * 2 - 1
    for update in ("async", "sync"):
        (S, sw, conv), t = timed(hopfield_run, C, S0, update, sweeps, seed)
        rows.append({"memory": "hopfield", "stage": "recall", "method": update, "seconds": t,
                     "mean_sweeps": float(sw.mean()), "converged": float(conv.mean()),
                     "overlap": float(overlap(S > 0, P).mean())})
    # within capacity (M = 0.1 N stored), the same number of cues: stored patterns with 10%
    # of their units flipped, which the net cleans up in a few sweeps
    m_in = max(1, n_units // 10)
    noisy = P[np.arange(n_patterns) % m_in].copy()
    flip = np.random.default_rng(seed + 2).random(noisy.shape) < 0.1
    noisy[flip] = 1 - noisy[flip]
    C_in, t = timed(hebbian_couplings, P[:m_in])
    rows.append({"memory": "hopfield", "stage": "store", "method": f"hebbian M={m_in}",
                 "seconds": t})
    for update in ("async", "sync"):
        (S, sw, conv), t = timed(hopfield_run, C_in, noisy.astype(np.int8) * 2 - 1, update,
                                 sweeps, seed)
        rows.append({"memory": "hopfield", "stage": f"recall M={m_in}", "method": update,
                     "seconds": t, "mean_sweeps": float(sw.mean()),
                     "converged": float(conv.mean()),
                     "overlap": float(overlap(S > 0, P[np.arange(n_patterns) % m_in]).mean())})
    return rows


def table(rows: list[dict]) -> str:
    def t(mem, stage, method):
        return next(r["seconds"] for r in rows
                    if (r["memory"], r["stage"], r["method"]) == (mem, stage, method))

    recall_in = next(r["stage"] for r in rows if r["stage"].startswith("recall M="))
    lines = [f"{'memory':<9} {'stage':<14} {'method A':>13} {'s':>8}   {'method B':>9} {'s':>8}  "
             f"{'B / A':>6}"]
    for mem, stage, a, b in (("willshaw", "store", "sparse", "dense"),
                             ("willshaw", "recall", "sparse", "dense"),
                             ("hopfield", "recall", "async", "sync"),
                             ("hopfield", recall_in, "async", "sync")):
        ta, tb = t(mem, stage, a), t(mem, stage, b)
        lines.append(f"{mem:<9} {stage:<14} {a:>13} {ta:8.3f}   {b:>9} {tb:8.3f}  {tb / ta:6.2f}")
    for r in rows:
        if r["memory"] == "hopfield" and r["stage"] == "store":
            lines.append(f"{'hopfield':<9} {'store':<14} {r['method']:>13} {r['seconds']:8.3f}")
    for r in rows:
        extra = {k: v for k, v in r.items() if k not in ("memory", "stage", "method", "seconds")}
        if extra:
            lines.append(f"  {r['memory']} {r['stage']} {r['method']}: "
                         + ", ".join(f"{k}={v:.4g}" for k, v in extra.items()))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--patterns", type=int, default=10000)
    ap.add_argument("--k", type=int, default=20, help="active units of the Willshaw patterns")
    ap.add_argument("--sweeps", type=int, default=100, help="most Hopfield sweeps per recall")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    rows = bench(args.units, args.patterns, args.k, args.sweeps)
    cpu = platform.processor() or platform.machine()
    print(f"N = {args.units} units, M = {args.patterns} patterns; {cpu}, {os.cpu_count()} CPUs, numpy {np.__version__}, OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
