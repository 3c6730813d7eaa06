"""glibc allocator tuning: CNN training steps with and without :func:`neurocode._malloc.tune_allocator`.

Each round runs two fresh processes one after the other, one tuned and one with
``NEUROCODE_MALLOC=default`` (glibc's defaults), in alternating order, each timing the same
``--steps`` CNN training steps (batch 100, forward + loss + backward + Adam, the project's
:class:`~neurocode.models.relu_l1.training.ModuleSteps`) after a few warm-up steps, on
``--threads`` torch threads. The ratio is that of the medians over the rounds. On a shared
machine the absolute times move with the load (printed at the start and the end); the ratio,
taken from interleaved rounds, is what to read, and even it carries the noise of the other
jobs.

    python benchmarks/bench_malloc.py [--steps 100] [--rounds 3] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def child(steps: int, warmup: int, threads: int, kind: str) -> None:
    """Time ``steps`` training steps in this process; print one JSON line."""
    from neurocode._malloc import tune_allocator

    done = tune_allocator()
    import torch

    from neurocode.models.relu_l1 import build_model
    from neurocode.models.relu_l1.training import ModuleSteps

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(1000, 784, generator=g), torch.randint(0, 10, (1000,), generator=g)
    st = ModuleSteps(build_model(kind, seed=0), 1e-4, 1e-3)

    def step(i: int) -> None:
        j = (i % 10) * 100
        _, terms = st.forward(x[j:j + 100], y[j:j + 100])
        st.step(terms["total"])

    for i in range(warmup):
        step(i)
    t = time.perf_counter()
    for i in range(steps):
        step(warmup + i)
    wall = time.perf_counter() - t
    print(json.dumps({"tuned": bool(done), "settings": done, "seconds": wall}))


def _run(tuned: bool, args: argparse.Namespace) -> float:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    if tuned:
        env.pop("NEUROCODE_MALLOC", None)
    else:
        env["NEUROCODE_MALLOC"] = "default"
    cmd = [sys.executable, __file__, "--child", "--steps", str(args.steps), "--warmup",
           str(args.warmup), "--threads", str(args.threads), "--kind", args.kind]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"the {'tuned' if tuned else 'default'} child failed:\n{res.stderr}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["tuned"] != tuned:
        raise SystemExit(f"expected tuned={tuned}, the child says {out}")
    return float(out["seconds"])


def main() -> None:
    """Run the interleaved rounds and print the times and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--kind", default="cnn", choices=("fc", "cnn", "conv-ae"))
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if min(args.steps, args.rounds, args.threads) < 1 or args.warmup < 0:
        ap.error("--steps, --rounds and --threads must be >= 1 and --warmup >= 0")
    if args.child:
        child(args.steps, args.warmup, args.threads, args.kind)
        return
    print(f"load average at start {os.getloadavg()} on {os.cpu_count()} CPUs (a shared machine: "
          f"the ratio of interleaved rounds is what to read)")
    times: dict[str, list[float]] = {"tuned": [], "default": []}
    for r in range(args.rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        for tuned in order:
            times["tuned" if tuned else "default"].append(_run(tuned, args))
        print(f"round {r + 1}: tuned {times['tuned'][-1]:.2f} s, default "
              f"{times['default'][-1]:.2f} s for {args.steps} {args.kind} steps")
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["default"] / med["tuned"]
    print(f"median: tuned {med['tuned']:.2f} s, default {med['default']:.2f} s; default / tuned "
          f"= {ratio:.2f}x ({1000 * med['tuned'] / args.steps:.1f} vs "
          f"{1000 * med['default'] / args.steps:.1f} ms/step, {args.threads} thread(s))")
    print(f"load average at end {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"kind": args.kind, "steps": args.steps, "threads": args.threads,
                       "times": times, "median": med, "ratio": ratio}, fh, indent=2)


if __name__ == "__main__":
    main()
