"""Time and peak memory of the whole battery on given codes: 10,000 x 4,096, with labels.

    python benchmarks/bench_given_codes.py [--stimuli 10000] [--units 4096] [--k 80]
        [--classes 10] [--test-stimuli 0] [--json out.json]

Target (issue 16): :func:`neurocode.codes.measure_codes` on a 10,000 x 4,096 array of fixed
codes with labels in under 60 s and 4 GB on 2 cores. The codes are a random sparse code with
class structure, made here: each class has 40 prototype units; a stimulus's code has ``--k``
active units, 3/4 of the prototype (drawn at random) and the rest random k-of-N units
(:func:`neurocode.random_codes.random_code_indices`, ``method="fast"``), with activities
uniform in [0.5, 1.5) (a graded non-negative code, as from a ReLU layer), float32. By
default the battery splits the 10,000 stimuli 75 / 25 (stratified), as ``neurocode measure
--codes FILE`` does; ``--test-stimuli T`` gives it a separate test split of ``T`` more.

Printed: the total seconds (making the codes excluded), its ratio to the 60 s target, the
seconds of each measure (the battery's own ``_meta["seconds_*"]``; ``encode``, ``readout``
and the measures), the ``tracemalloc`` peak of the battery (numpy reports its buffers to it)
and the process's ``ru_maxrss`` after it (the high-water mark of the whole process, the
interpreter, torch and the codes included).
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

from neurocode.codes import measure_codes
from neurocode.random_codes import random_code_indices

TARGET_S = 60.0
TARGET_MB = 4000.0
PROTOTYPE = 40  # units per class prototype


def maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1e6 if sys.platform == "darwin" else r / 1e3


def class_codes(n: int, n_units: int, k: int, n_classes: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` graded sparse codes with labels (see the module docstring)."""
    proto = random_code_indices(n_classes, n_units, PROTOTYPE, rng, method="fast")
    y = rng.integers(0, n_classes, n)
    n_proto = min(k, 3 * PROTOTYPE // 4)
    pick = np.argsort(rng.random((n, PROTOTYPE)), axis=1)[:, :n_proto]
    codes = np.zeros((n, n_units), dtype=np.float32)
    rows = np.arange(n)[:, None]
    codes[rows, random_code_indices(n, n_units, k - n_proto, rng, method="fast")] = 1.0
    codes[rows, proto[y][rows, pick]] = 1.0  # a prototype unit drawn twice is active once
    codes *= rng.uniform(0.5, 1.5, codes.shape).astype(np.float32)
    return codes, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stimuli", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=4096)
    ap.add_argument("--k", type=int, default=80, help="active units per code (about)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--test-stimuli", type=int, default=0,
                    help="a separate test split of this many (0: split --stimuli 75 / 25)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the numbers to this file")
    args = ap.parse_args()
    if args.stimuli < 8 or args.classes < 2 or not PROTOTYPE <= args.units \
            or not 3 * PROTOTYPE // 4 < args.k <= args.units // 2 or args.test_stimuli < 0:
        ap.error(f"need --stimuli >= 8, --classes >= 2, --units >= {PROTOTYPE}, "
                 f"{3 * PROTOTYPE // 4} < --k <= --units / 2 and --test-stimuli >= 0")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    codes, y = class_codes(args.stimuli, args.units, args.k, args.classes, rng)
    extra = {}
    if args.test_stimuli:
        extra["codes_test"], extra["labels_test"] = class_codes(
            args.test_stimuli, args.units, args.k, args.classes, rng)
    make_s = time.perf_counter() - t
    rss_before = maxrss_mb()

    tracemalloc.start()
    t = time.perf_counter()
    res = measure_codes(codes, y, random_state=args.seed,
                        progress=lambda m: print(f"  {m}", flush=True), **extra)
    total = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    meta = res["_meta"]
    per = {k[8:]: v for k, v in meta.items() if k.startswith("seconds_")}
    out = {"stimuli": args.stimuli, "test_stimuli": args.test_stimuli, "units": args.units,
           "k": args.k, "classes": args.classes, "make_codes_s": make_s, "seconds": total,
           "ratio_to_target": total / TARGET_S, "traced_peak_mb": peak,
           "maxrss_before_mb": rss_before, "maxrss_mb": maxrss_mb(), "per_measure": per,
           "n_stimuli_measured": meta["n_stimuli"], "skipped": meta["skipped"],
           "avr": res["activity"]["avr"], "load_average_at_start": load,
           "readout_accuracy": res.get("fault", {}).get("accuracy_intact")}

    cpu = platform.processor() or platform.machine()
    print(f"\nbattery on given codes: {args.stimuli} x {args.units} float32 "
          f"({codes.nbytes / 1e6:.0f} MB), {args.classes} classes, AVR "
          f"{out['avr']:.1f}, measured on {meta['n_stimuli']:.0f} test stimuli; {cpu}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), numpy {np.__version__}; load average at start {load:.2f}")
    print(f"total {total:.1f} s ({total / TARGET_S:.2f} of the {TARGET_S:.0f} s target); "
          f"traced peak {peak:.0f} MB, process max RSS {out['maxrss_mb']:.0f} MB (before the "
          f"battery {rss_before:.0f} MB; target {TARGET_MB:.0f} MB); skipped: "
          f"{meta['skipped'] or 'none'}; readout accuracy {out['readout_accuracy']}")
    print(f"{'measure':<16}{'seconds':>9}{'share':>8}")
    for name, s in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"{name:<16}{s:>9.2f}{s / total:>8.0%}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
