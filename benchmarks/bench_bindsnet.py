"""Diehl & Cook training side by side: BindsNET's ``DiehlAndCook2015`` against the numba engine.

    python benchmarks/bench_bindsnet.py [--configs 100:1.0 100:0.5 400:0.5] [--samples 10]
        [--numba-samples 300] [--rounds 2] [--model NAME=VALUE ...] [--json out.json]

Runs when ``bindsnet`` imports; otherwise it prints why and exits 0. BindsNET 0.3.4 asks for
``torch>=2.14`` (``pip install --dry-run bindsnet`` would replace this project's torch 2.13),
so it is not installed with the project; put it on ``PYTHONPATH`` to run this.

Both engines train (STDP on) on the same MNIST digits, one sample at a time, each ``--configs``
``N_E:DT`` (excitatory neurons, time step in ms), in one process on one thread (torch and
numba), rounds interleaved (numba block, BindsNET block, ...; the best round of each):

* the same input: Poisson trains of rate ``pixel / 8 * 2`` Hz (the original's intensity 2)
  for 350 ms per sample, drawn by :func:`neurocode.models.diehl_cook.poisson.draw_trains` from
  the same seeds; the numba engine draws them inside its loop (timed), BindsNET gets them as a
  ``(steps, 1, 1, 28, 28)`` tensor made beforehand (not timed);
* the same initial input weights (``0.3 (U(0, 1) + 0.01)``) and initial thresholds;
* 350 ms per sample and nothing else: the numba engine with ``Protocol(t_rest=0,
  max_retries=0)`` (no 150 ms rest, no intensity retries: BindsNET has neither).

What the two compute differs beyond that (so the ratio is between two simulators of the same
architecture, not of the same equations):

* neurons: ours are the original's conductance-based LIF (``ge (E_exc - v)``, ``gi (E_inh -
  v)``, synaptic time constants 1 and 2 ms), float64; BindsNET's ``DiehlAndCookNodes`` and
  ``LIFNodes`` are current-based (a spike adds its weight to ``v``), float32;
* inhibition: the same wiring (excitatory ``k`` -> inhibitory ``k``, inhibitory ``k`` -> every
  other excitatory), BindsNET's strengths 22.5 and 17.5 (currents) against the original's
  10.4 and 17 (conductances);
* plasticity: BindsNET's default pair-based ``PostPre`` STDP (``nu = (1e-4, 1e-2)``) against
  the original's rule with two postsynaptic traces; input weights normalised to 78.4 after
  each sample (BindsNET) against 78 before each presentation (ours);
* state between samples: BindsNET's ``reset_state_variables()`` (the example's protocol)
  against ours carried over (no rest to relax it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from neurocode.data import load_mnist
from neurocode.models.diehl_cook.fast_engine import FastEngine
from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol
from neurocode.models.diehl_cook.poisson import draw_trains

T_PRESENT = 350.0


def model_overrides(pairs: list[str], ap: argparse.ArgumentParser) -> dict:
    """``["NAME=VALUE", ...]`` -> changes for :meth:`DiehlCookModel.replace` (numbers as float)."""
    known = DiehlCookModel.field_names()
    out: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            ap.error(f"--model {pair!r}: give NAME=VALUE with NAME one of the model's fields "
                     f"({', '.join(known)})")
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value
    return out


def parse_config(text: str) -> tuple[int, float]:
    """``"N_E:DT"`` -> (excitatory neurons, time step in ms)."""
    try:
        n, dt = text.split(":")
        n_e, step = int(n), float(dt)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a config is N_E:DT, e.g. 100:0.5 (100 neurons, dt 0.5 ms)") from None
    if n_e < 1 or not 0 < step <= T_PRESENT:
        raise argparse.ArgumentTypeError(f"{text!r}: need N_E >= 1 and 0 < DT <= {T_PRESENT}")
    return n_e, step


def dense_trains(p: np.ndarray, n_steps: int, seeds: np.ndarray):
    """The trains of ``draw_trains`` as one bool tensor per sample, ``(n_steps, 1, 1, 28, 28)``."""
    import torch

    out = []
    for x, seed in zip(p, seeds, strict=True):
        ptr, idx = draw_trains(x, n_steps, int(seed), 0)
        s = np.zeros((n_steps, 784), dtype=bool)
        s[np.repeat(np.arange(n_steps), np.diff(ptr)), idx] = True
        out.append(torch.from_numpy(s).reshape(n_steps, 1, 1, 28, 28))
    return out


def bindsnet_network(n_e: int, dt: float, W0: np.ndarray):
    """BindsNET's DiehlAndCook2015 with the given initial input weights."""
    import torch
    from bindsnet.models import DiehlAndCook2015

    net = DiehlAndCook2015(n_inpt=784, n_neurons=n_e, dt=dt, norm=78.4, theta_plus=0.05,
                           inpt_shape=(1, 28, 28))
    conn = net.connections[("X", "Ae")]
    weight = conn.pipeline[0] if hasattr(conn, "pipeline") else conn
    target = "value" if hasattr(weight, "value") else "w"
    setattr(weight, target, torch.as_tensor(W0, dtype=getattr(weight, target).dtype))
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", type=parse_config,
                    default=[(100, 1.0), (100, 0.5), (400, 0.5)])
    ap.add_argument("--samples", type=int, default=10, help="BindsNET samples per round")
    ap.add_argument("--numba-samples", type=int, default=300, help="numba samples per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", action="append", default=[], metavar="NAME=VALUE",
                    help="change a constant of the model (repeatable), e.g. integrator=euler")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if min(args.samples, args.numba_samples, args.rounds) < 1:
        ap.error("--samples, --numba-samples and --rounds must be >= 1")
    try:
        import bindsnet
    except Exception as exc:  # ImportError, or a dependency that fails to load
        print(f"skipped: bindsnet does not import here ({type(exc).__name__}: {exc}). "
              f"BindsNET 0.3.4 requires torch>=2.14, which would replace this project's torch "
              f"2.13; install it in another environment or put it on PYTHONPATH to run this "
              f"benchmark.")
        return
    import numba
    import torch

    try:
        from importlib.metadata import version

        bn_version = version("bindsnet")
    except Exception:  # imported from a folder without its metadata
        bn_version = getattr(bindsnet, "__version__", "(version unknown)")
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    model = DiehlCookModel().replace(**model_overrides(args.model, ap))
    images, _ = load_mnist("mnist", split="train")
    n_all = max(args.samples, args.numba_samples) * args.rounds + 1
    X = images[:n_all].reshape(-1, 784).astype(np.float64)
    rng = np.random.default_rng(args.seed)
    seeds = rng.integers(0, 2 ** 63 - 1, size=len(X), dtype=np.uint64)
    rows = []
    for n_e, dt in args.configs:
        proto = Protocol(dt=dt, t_present=T_PRESENT, t_rest=0.0, max_retries=0)
        W0 = 0.3 * (np.random.default_rng(args.seed).random((784, n_e)) + 0.01)
        fast = FastEngine(W0, np.full(n_e, model.theta_init), model, proto)
        fast.train(X[:1], seeds[:1])  # compiles (or loads numba's cache)
        net = bindsnet_network(n_e, dt, W0)
        p = X * proto.rate_scale * proto.intensity * dt * 1e-3
        trains = dense_trains(p[:args.samples * args.rounds + 1], proto.n_present,
                              seeds[:args.samples * args.rounds + 1])
        net.run(inputs={"X": trains[0]}, time=T_PRESENT)  # warm-up sample
        net.reset_state_variables()
        t_fast, t_bn, spikes = [], [], []
        for r in range(args.rounds):
            a = 1 + r * args.numba_samples
            t = time.perf_counter()
            counts, _ = fast.train(X[a:a + args.numba_samples], seeds[a:a + args.numba_samples])
            t_fast.append((time.perf_counter() - t) / args.numba_samples)
            spikes.append(float(counts.sum(axis=1).mean()))
            t = time.perf_counter()
            for s in trains[1 + r * args.samples:1 + (r + 1) * args.samples]:
                net.run(inputs={"X": s}, time=T_PRESENT)
                net.reset_state_variables()
            t_bn.append((time.perf_counter() - t) / args.samples)
        row = {"n_e": n_e, "dt": dt, "steps_per_sample": proto.n_present,
               "numba_ms": 1e3 * min(t_fast), "bindsnet_ms": 1e3 * min(t_bn),
               "numba_spikes_per_sample": float(np.mean(spikes))}
        row["ratio"] = row["bindsnet_ms"] / row["numba_ms"]
        rows.append(row)
        print(f"  {n_e} neurons, dt {dt}: numba {row['numba_ms']:.3f} ms, BindsNET "
              f"{row['bindsnet_ms']:.1f} ms per sample", flush=True)

    cpu = platform.processor() or platform.machine()
    print(f"\nDiehl & Cook training, 350 ms per sample, one thread; {cpu}, {os.cpu_count()} CPUs,"
          f" torch {torch.__version__}, BindsNET {bn_version}, "
          f"numba {numba.__version__}, Python {sys.version.split()[0]}; load average at start "
          f"{load:.2f}; best of {args.rounds} interleaved rounds; model changes (numba): "
          f"{', '.join(args.model) or 'none'}")
    print(f"{'neurons':>8}{'dt ms':>7}{'steps':>7}{'numba ms':>10}{'BindsNET ms':>13}"
          f"{'ratio':>8}{'numba spikes/sample':>21}")
    for r in rows:
        print(f"{r['n_e']:>8}{r['dt']:>7.2f}{r['steps_per_sample']:>7}{r['numba_ms']:>10.3f}"
              f"{r['bindsnet_ms']:>13.1f}{r['ratio']:>7.0f}x{r['numba_spikes_per_sample']:>21.1f}")
    print("(what differs between the two beyond speed: see this file's docstring)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "load_average_at_start": load, "bindsnet": bn_version,
                       "model_changes": args.model,
                       "torch": torch.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
