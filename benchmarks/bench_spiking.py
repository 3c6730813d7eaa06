"""Diehl & Cook engines side by side: Brian2 (numpy, cython) against the numba engine.

One process, the same network (``--n-e`` excitatory neurons, 784 inputs, the original's
constants and protocol) and the same MNIST digits and input spike trains for every engine:

* **training** (STDP on, 350 ms presentation + 150 ms rest, weight normalisation and
  intensity retries, state carried from sample to sample), from the original's initial state:
  ms per training sample (and per presentation: retries are presentations too) for Brian2
  numpy, Brian2 cython and numba (after compilation, whose time is printed separately);
* **testing** (weights and thresholds frozen, each sample from rest, 350 ms): Brian2 one
  sample at a time against the numba engine batched over ``--n-test`` images (``--threads``
  threads), on weights first trained by the numba engine on ``--n-pretrain`` images;
* the Brian2 cython target's cold compile: the first run with an empty cache directory
  (a fresh temporary one unless ``--cache-dir``), timed apart from the warm runs;
* **fixed cost and cost per step**: each engine (learning on) runs one input train at two
  lengths (``--fit-steps``, default 200 and 1,000 steps of 0.5 ms, input on throughout),
  interleaved, ``--fit-repeats`` times each; the medians fit ``cost = fixed + per_step *
  steps``. Brian2 pays a fixed cost on every ``Network.run`` (about 60 ms idle: code objects
  prepared again, the run's set-up), and the protocol calls it once per presentation (the
  Python between presentations needs it), so the per-sample ratio is mostly that fixed cost;
  the per-step ratio is the one between the two simulators' inner loops.

Printed: a table of ms per sample and the speed-up ratios, then the fits; ``--json F`` writes
the numbers.

    python benchmarks/bench_spiking.py [--n-e 100] [--n-train-brian2 10] [--n-train-fast 2000]
        [--n-test-brian2 20] [--n-test 10000] [--threads 1] [--no-cython]
        [--fit-steps 200 1000] [--fit-repeats 5] [--model NAME=VALUE ...] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from neurocode.data import load_mnist
from neurocode.models.diehl_cook.brian2_engine import Brian2Engine
from neurocode.models.diehl_cook.fast_engine import FastEngine
from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol
from neurocode.models.diehl_cook.poisson import draw_trains, row_seeds


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


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def fit_fixed_per_step(present, trains: dict[int, tuple], repeats: int) -> dict[str, float]:
    """Median seconds of ``present(ptr, idx, steps)`` at each length, and the line through them.

    ``trains`` maps a number of steps to its input train ``(ptr, idx)``; the lengths alternate
    within each repeat. Returns ``fixed_ms``, ``per_step_us`` and the medians ``ms_<steps>``.
    """
    times: dict[int, list[float]] = {n: [] for n in trains}
    for _ in range(repeats):
        for n, (ptr, idx) in trains.items():
            t = time.perf_counter()
            present(ptr, idx, n)
            times[n].append(time.perf_counter() - t)
    (n1, n2) = sorted(trains)
    t1, t2 = (float(np.median(times[n])) for n in (n1, n2))
    per_step = (t2 - t1) / (n2 - n1)
    out = {f"ms_{n}": 1e3 * float(np.median(times[n])) for n in trains}
    out.update(fixed_ms=1e3 * (t1 - per_step * n1), per_step_us=1e6 * per_step)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-e", type=int, default=100)
    ap.add_argument("--n-train-brian2", type=int, default=10,
                    help="training samples timed per Brian2 target")
    ap.add_argument("--n-train-fast", type=int, default=2000)
    ap.add_argument("--n-pretrain", type=int, default=2000,
                    help="numba training before the test timings")
    ap.add_argument("--n-test-brian2", type=int, default=20)
    ap.add_argument("--n-test", type=int, default=10_000, help="test images, numba batched")
    ap.add_argument("--threads", type=int, default=1, help="numba threads (batched testing)")
    ap.add_argument("--no-cython", action="store_true")
    ap.add_argument("--cache-dir", default=None,
                    help="Brian2 cython cache (default: a fresh temporary one: cold compile)")
    ap.add_argument("--fit-steps", type=int, nargs=2, default=[200, 1000],
                    help="the two run lengths (steps) of the fixed + per-step fit")
    ap.add_argument("--fit-repeats", type=int, default=5,
                    help="runs per length and Brian2 target (numba: 20x as many)")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=VALUE",
                    help="change a constant of the model (repeatable), e.g. integrator=euler")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    lo, hi = sorted(args.fit_steps)
    if lo < 1 or lo == hi or args.fit_repeats < 1:
        ap.error(f"--fit-steps needs two different lengths >= 1 and --fit-repeats >= 1, got "
                 f"{args.fit_steps} and {args.fit_repeats}")

    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    model, proto = DiehlCookModel().replace(**model_overrides(args.model, ap)), Protocol()
    train_imgs, _ = load_mnist("mnist", split="train")
    test_imgs, _ = load_mnist("mnist", split="test")
    X = train_imgs.reshape(-1, 784).astype(np.float64)
    Xt = test_imgs[:args.n_test].reshape(-1, 784).astype(np.float64)
    rng = np.random.default_rng(args.seed)
    W0 = 0.3 * (rng.random((784, args.n_e)) + 0.01)
    theta0 = np.full(args.n_e, model.theta_init)
    seeds = rng.integers(0, 2 ** 63 - 1, size=len(X), dtype=np.uint64)
    out: dict = {"n_e": args.n_e, "model_changes": args.model,
                 "machine": platform.processor() or platform.machine(),
                 "cpus": os.cpu_count(), "threads": args.threads}
    rows: list[tuple[str, float, str]] = []

    # -- numba training ---------------------------------------------------------------
    fast = FastEngine(W0, theta0, model, proto)
    fast.reset_state(v_offset=-40.0)
    _, t_compile = _timed(fast.train, X[:2], seeds[:2])  # compiles (or loads the cache)
    fast = FastEngine(W0, theta0, model, proto)
    fast.reset_state(v_offset=-40.0)
    n = args.n_train_fast
    (_, levels), t = _timed(fast.train, X[:n], seeds[:n])
    pres = float((levels - proto.intensity).sum() + n)
    out["numba_train_ms"] = 1e3 * t / n
    out["numba_train_ms_per_presentation"] = 1e3 * t / pres
    out["numba_compile_s"] = t_compile
    rows.append(("numba training", out["numba_train_ms"],
                 f"{n} samples, {pres / n:.2f} presentations each"))
    p_in = X[0] * proto.rate_scale * proto.intensity * proto.dt * 1e-3
    trains = {m_: draw_trains(p_in, m_, int(seeds[0])) for m_ in (lo, hi)}
    fits = {"numba": fit_fixed_per_step(
        lambda ptr, idx, m_: fast.present(ptr, idx, m_, m_, True), trains,
        20 * args.fit_repeats)}

    # -- Brian2 training --------------------------------------------------------------
    targets = ["numpy"] + ([] if args.no_cython else ["cython"])
    cache = args.cache_dir or tempfile.mkdtemp(prefix="brian2_cache_")
    m = args.n_train_brian2
    for target in targets:
        # the lambda runs at once, inside the loop: the loop variable it reads is the current one
        eng, t_build = _timed(lambda: Brian2Engine(W0, theta0, model, proto, learning=True,
                                                   target=target, cache_dir=cache))  # noqa: B023
        eng.reset_state(v_offset=-40.0)
        (_, l1), t_first = _timed(eng.train, X[:1], seeds[:1])  # cython: compiles here
        (_, levels), t = _timed(eng.train, X[1:1 + m], seeds[1:1 + m])
        pres = float((levels - proto.intensity).sum() + m)
        out[f"brian2_{target}_train_ms"] = 1e3 * t / m
        out[f"brian2_{target}_train_ms_per_presentation"] = 1e3 * t / pres
        out[f"brian2_{target}_first_sample_s"] = t_first
        out[f"brian2_{target}_build_s"] = t_build
        fits[f"brian2 {target}"] = fit_fixed_per_step(
            lambda ptr, idx, m_, eng=eng: eng.present(ptr, idx, m_, m_), trains,
            args.fit_repeats)
        rows.append((f"brian2 {target} training", out[f"brian2_{target}_train_ms"],
                     f"{m} samples, {pres / m:.2f} presentations each; build {t_build:.1f} s, "
                     f"first sample {t_first:.1f} s" + (" (cold compile)" if target == "cython"
                                                        and not args.cache_dir else "")))

    # -- testing ------------------------------------------------------------------------
    pre = FastEngine(W0, theta0, model, proto)
    pre.reset_state(v_offset=-40.0)
    pre.train(X[:args.n_pretrain], seeds[:args.n_pretrain])
    W, theta = pre.W.copy(), pre.theta.copy()
    tseeds = row_seeds(np.ascontiguousarray(Xt).view(np.uint64), np.uint64(args.seed + 1))
    frozen = FastEngine(W, theta, model, proto)
    frozen.frozen_counts(Xt[:4], tseeds[:4])  # compile
    (counts_fast, _), t = _timed(frozen.frozen_counts, Xt, tseeds)
    out["numba_test_ms"] = 1e3 * t / len(Xt)
    rows.append(("numba testing, batched", out["numba_test_ms"],
                 f"{len(Xt)} images, {args.threads} thread(s)"))
    k = args.n_test_brian2
    for target in targets:
        eng = Brian2Engine(W, theta, model, proto, learning=False, target=target, cache_dir=cache)
        eng.frozen_counts(Xt[:1], tseeds[:1])  # compile (cython)
        (counts_b2, _), t = _timed(eng.frozen_counts, Xt[:k], tseeds[:k])
        out[f"brian2_{target}_test_ms"] = 1e3 * t / k
        out[f"brian2_{target}_test_counts_equal"] = float(
            np.mean([np.array_equal(a, b)
                     for a, b in zip(counts_b2, counts_fast[:k], strict=True)]))
        rows.append((f"brian2 {target} testing, per sample", out[f"brian2_{target}_test_ms"],
                     f"{k} images; identical counts to numba on "
                     f"{100 * out[f'brian2_{target}_test_counts_equal']:.0f} %"))

    print(f"Diehl & Cook, {args.n_e} excitatory neurons, 784 inputs, dt 0.5 ms "
          f"({out['cpus']} CPUs, numba threads {args.threads}); model changes: "
          f"{', '.join(args.model) or 'none'}")
    print(f"{'engine':34s} {'ms/sample':>10s}")
    for name, ms, note in rows:
        print(f"{name:34s} {ms:10.2f}   {note}")
    print(f"numba compile (first call, or cache load): {out['numba_compile_s']:.1f} s")
    for target in targets:
        out[f"train_ratio_{target}"] = out[f"brian2_{target}_train_ms"] / out["numba_train_ms"]
        out[f"test_ratio_{target}"] = out[f"brian2_{target}_test_ms"] / out["numba_test_ms"]
        print(f"speed-up of numba over brian2 {target}: "
              f"training x{out[f'train_ratio_{target}']:.0f}, "
              f"testing x{out[f'test_ratio_{target}']:.0f}")
    steps_per_sample = proto.n_present + proto.n_rest
    print(f"\nfixed cost per run and cost per step (learning on, input on throughout; runs of "
          f"{lo} and {hi} steps, medians; cost = fixed + per_step * steps):")
    print(f"{'engine':<16}{f'ms/{lo}':>10}{f'ms/{hi}':>10}{'fixed ms':>10}{'us/step':>10}"
          f"{'step ratio':>12}{'fixed share of a sample':>25}")
    for name, f in fits.items():
        share = f["fixed_ms"] / (f["fixed_ms"] + 1e-3 * f["per_step_us"] * steps_per_sample)
        ratio = f["per_step_us"] / fits["numba"]["per_step_us"]
        f.update(step_ratio=ratio, fixed_share_of_a_sample=share)
        print(f"{name:<16}{f[f'ms_{lo}']:>10.3f}{f[f'ms_{hi}']:>10.3f}{f['fixed_ms']:>10.3f}"
              f"{f['per_step_us']:>10.2f}{ratio:>11.1f}x{share:>25.0%}")
    print(f"(a training sample is {steps_per_sample} steps per presentation; the step ratio is "
          f"brian2's cost per step over numba's)")
    out["fits"] = fits
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
