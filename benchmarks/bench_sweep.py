"""Sweep overhead: 100 trivial runs in-process, through the local process pool, and through Dask.

    python benchmarks/bench_sweep.py [--runs 100] [--workers 2] [--json out.json]

Target (issue 6): a sweep of 100 trivial runs through the local executor and through Dask
takes under 30 s beyond the runs themselves.

Each run is a k-of-N code of the 8x8 bars images (200 training, 100 test images): a few
milliseconds of work, so what is measured is the sweep's own cost (process start-up and
imports in the workers, the data set per run, the locks, the atomic HDF5 writes, the
bookkeeping). "runs themselves" is the sum of the runs' own wall times (the ``wall_time_s``
each run file stores) divided by the number of workers; the overhead is the sweep's wall
time less that. All three sweeps run in one process, one after the other, each into a fresh
folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from neurocode import config as cfgmod
from neurocode import store
from neurocode.runner import run_path
from neurocode.sweep import run_sweep


def sweep_specs(n: int):
    raw = {"name": "bench_sweep", "seed": 0, "model": {"rule": "kofn", "n_units": 64},
           "data": {"dataset": "bars", "n_train": 200, "n_test": 100},
           "sweep": {"seed": list(range(n))}}
    return cfgmod.resolve(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    specs = sweep_specs(args.runs)
    rows = []
    for name, kw in (("in-process (1 worker)", {"executor": "local", "workers": 1}),
                     (f"local pool ({args.workers} workers)", {"executor": "local",
                                                               "workers": args.workers}),
                     (f"Dask LocalCluster ({args.workers} workers)", {"executor": "dask",
                                                                      "workers": args.workers})):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            summary = run_sweep(specs, out, echo=lambda m: None, progress=False, **kw)
            wall = time.perf_counter() - t
            assert len(summary.done) == args.runs, summary.lines()
            run_s = sum(store.read_run(run_path(out, s)).attrs["wall_time_s"] for s in specs)
        workers = kw["workers"]
        rows.append({"executor": name, "runs": args.runs, "wall_s": wall,
                     "sum_run_s": run_s, "overhead_s": wall - run_s / workers,
                     "ms_per_run": 1000 * wall / args.runs})
        print(f"{name}: {wall:.1f} s", flush=True)
    print(f"\n{args.runs} trivial runs; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; overhead = wall - sum(run wall times) / workers; target < 30 s")
    print(f"{'executor':<30} {'wall s':>7} {'runs s':>7} {'overhead s':>11} {'ms/run':>7}")
    for r in rows:
        print(f"{r['executor']:<30} {r['wall_s']:7.1f} {r['sum_run_s']:7.1f} "
              f"{r['overhead_s']:11.1f} {r['ms_per_run']:7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
