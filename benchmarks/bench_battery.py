"""Time and peak memory of the whole battery on 784-unit rules over the 10,000 MNIST test images.

    python benchmarks/bench_battery.py [--rules relu-l1-fc lca kwta] [--max-stimuli 10000]
                                       [--json out.json]

Target (issue 4): the battery on one 784-unit rule over the 10,000 test images in under 60 s
on 2 cores, training excluded. Each rule is trained first on a short budget (the fit is not
timed: the battery's cost depends on the code's width and the rule's encode, not on how long
it trained), then :func:`neurocode.metrics.run_battery` runs once with the defaults
``neurocode measure`` uses, and the table gives the seconds of each measure, the total, its
ratio to the 60 s target, and the peak memory (tracemalloc peak of the battery; the process's
``ru_maxrss`` after it).

Rules measured by default: ``relu-l1-fc`` (the article's FC net, a feed-forward code),
``lca`` (recurrent: every encode, including every damaged one, integrates the lateral
inhibition to convergence) and ``kwta`` (hard lateral inhibition).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
import torch

from neurocode import get_rule
from neurocode.data.prepare import load_data
from neurocode.metrics import run_battery

TARGET_S = 60.0

#: Short-budget fits of 784-unit rules (what is measured is the battery, not the training).
FITS = {
    "relu-l1-fc": ({"hidden": 784, "l1": 1e-4, "iterations": 1000}, "none", 60_000),
    "lca": ({"n_units": 784, "lam": 0.5, "non_negative": True, "epochs": 1}, "center", 5_000),
    "kwta": ({"n_units": 784, "k": 20, "epochs": 1}, "none", 20_000),
}


def maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1e6 if sys.platform == "darwin" else r / 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", nargs="+", default=list(FITS), choices=list(FITS))
    ap.add_argument("--max-stimuli", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()

    rows = []
    for name in args.rules:
        params, preprocess, n_train = FITS[name]
        data = load_data({"dataset": "mnist", "preprocess": preprocess, "n_train": n_train,
                          "n_test": 10_000}, seed=args.seed)
        t = time.perf_counter()
        rule = get_rule(name, random_state=args.seed, **params).fit(data.X_train, data.y_train)
        fit_s = time.perf_counter() - t
        print(f"{name}: fitted on {n_train} images in {fit_s:.0f} s (not timed below)", flush=True)
        tracemalloc.start()
        t = time.perf_counter()
        res = run_battery(rule, data, max_stimuli=args.max_stimuli, random_state=args.seed,
                          progress=lambda m: print(f"  {m}", flush=True))
        total = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        meta = res["_meta"]
        rows.append({"rule": name, "n_units": int(meta["n_units"]),
                     "n_stimuli": int(meta["n_stimuli"]), "seconds": total,
                     "ratio_to_target": total / TARGET_S, "traced_peak_mb": peak,
                     "maxrss_mb": maxrss_mb(),
                     "per_measure": {k[8:]: v for k, v in meta.items() if k.startswith("seconds_")},
                     "avr": res["activity"]["avr"], "code_type": res["activity"]["code_type"]})

    cpu = platform.processor() or platform.machine()
    print(f"\nbattery over {args.max_stimuli} MNIST test images; {cpu}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}")
    print(f"{'rule':<12} {'units':>5} {'AVR':>7} {'seconds':>8} {'/ 60 s':>7} "
          f"{'traced peak MB':>15} {'maxrss MB':>10}")
    for r in rows:
        print(f"{r['rule']:<12} {r['n_units']:5d} {r['avr']:7.1f} {r['seconds']:8.1f} "
              f"{r['ratio_to_target']:7.2f} {r['traced_peak_mb']:15.0f} {r['maxrss_mb']:10.0f}")
    measures = list(rows[0]["per_measure"]) if rows else []
    print("\nseconds per measure")
    print(f"{'measure':<15}" + "".join(f"{r['rule']:>12}" for r in rows))
    for m in measures:
        print(f"{m:<15}" + "".join(f"{r['per_measure'].get(m, float('nan')):12.2f}" for r in rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
