"""Vectorised lambda sweeps against separate runs: ms per iteration of all lambdas, side by side.

    python benchmarks/bench_vector.py [--kind fc] [--lambdas 7] [--iterations 100] [--json F]

One process, one after the other on the same random batches: ``L`` separate models trained
one at a time (an iteration of the sweep = one iteration of each model), and the same ``L``
models stacked and trained as one vmapped model (``fit_many``'s step). Reported: ms per
sweep iteration for both, the speed-up, and the time the article's full sweep (20,000
iterations) would take at that rate, without the evaluations; peak traced memory of each.
Target (issue 7): the full FC sweep, 7 lambdas x 20,000 iterations with evaluation every
100, in under 15 minutes, peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from neurocode.models.relu_l1 import build_model, loss_terms

LAMBDAS = [0.0, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 2.7e-3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="fc", choices=("fc", "cnn", "conv-ae"))
    ap.add_argument("--lambdas", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--json")
    args = ap.parse_args()
    lams = (LAMBDAS * 2)[: args.lambdas]
    L, B = len(lams), 100
    gen = torch.Generator().manual_seed(0)
    xs = torch.rand(args.iterations + 5, B, 784, generator=gen)
    ys = torch.randint(0, 10, (args.iterations + 5, B), generator=gen)

    models = [build_model(args.kind, seed=0) for _ in lams]
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]

    def separate(i):
        for m, o, lam in zip(models, opts, lams, strict=True):
            out = m(xs[i])
            loss = loss_terms(m, out, xs[i], ys[i], lam)["total"]
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()

    params, buffers = stack_module_state([build_model(args.kind, seed=0) for _ in lams])
    skeleton = copy.deepcopy(models[0]).to("meta")
    recon = args.kind == "conv-ae"

    def one(p, b, x):
        out = functional_call(skeleton, (p, b), (x,))
        return (out.logits, out.hidden, out.recon) if recon else (out.logits, out.hidden)

    fwd = vmap(one, in_dims=(0, 0, None))
    lam_t = torch.tensor(lams)
    opt = torch.optim.Adam(list(params.values()), lr=1e-3)

    def batched(i):
        x, y = xs[i], ys[i]
        out = fwd(params, buffers, x)
        ce = F.cross_entropy(out[0].reshape(L * B, -1), y.repeat(L), reduction="none").view(L, B).mean(1)
        total = ce + lam_t * out[1].sum(dim=(1, 2))
        if recon:
            total = total + (out[2] - x).pow(2).sum(2).mean(1)
        opt.zero_grad(set_to_none=True)
        total.sum().backward()
        opt.step()

    rows = {}
    for name, step in (("separate", separate), ("vectorised", batched)):
        for i in range(3):
            step(i)
        t = time.perf_counter()
        for i in range(args.iterations):
            step(i + 3)
        ms = 1000 * (time.perf_counter() - t) / args.iterations
        rows[name] = {"ms_per_sweep_iteration": ms, "full_sweep_s": ms * 20_000 / 1000,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}
    print(f"{args.kind}, {L} lambdas, batch {B}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    for name, r in rows.items():
        print(f"{name:<11} {r['ms_per_sweep_iteration']:8.2f} ms per sweep iteration "
              f"({r['full_sweep_s'] / 60:.1f} min for 20,000 iterations, no evaluations); "
              f"max RSS {r['maxrss_mb']:.0f} MB")
    print(f"speed-up {rows['separate']['ms_per_sweep_iteration'] / rows['vectorised']['ms_per_sweep_iteration']:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
