"""Diehl & Cook training cost per sample at the paper's sizes: numba at 100-6,400, Brian2 at 400.

One process. For each ``--sizes`` (default 100, 400, 1,600 and 6,400 excitatory neurons, 784
inputs) the numba engine trains with STDP on, by the original protocol (350 ms presentation +
150 ms rest at dt 0.5 ms, weights normalised before every presentation, intensity retries,
state carried from sample to sample), on the first ``--n-train`` MNIST training digits (one
count, or one per size), from the state ``DiehlCook(n_e=N, random_state=--seed).fit(X)``
starts from (the same initial weights, thresholds, input seeds and offset below rest: the
benchmark trains what the rule trains, which ``tests/test_bench_spiking_sizes.py`` checks).
A short warm-up (10 neurons, 2 samples) compiles the engine first; its time is printed apart,
and by default numba compiles into a fresh cache directory (``--numba-cache``), so that time is
the cold compile. Reported per size:

* ms per training sample: the median over blocks of ``--block`` samples (each block one call
  into the engine's training loop) and the mean over all samples; the process's CPU time per
  sample beside it (wall time above CPU time: the process waited for a core);
* presentations per sample (1 + intensity retries) and excitatory spikes per sample, mean and
  max over the samples (the spikes of the sample's last presentation, as the engine and the
  rule report them): bounded counts mean no runaway activity;
* the same with 2 numba threads, as a ratio, if the engine's training loop is parallel (it is
  checked, not assumed: ``train_samples`` and ``simulate`` compiled with ``parallel=True``).

Then Brian2 (``--brian2-target``: cython if it compiles, else numpy) at ``--brian2-n-e`` (400)
neurons on the first ``1 + --n-train-brian2`` of the same digits, from the same state, with the
same input trains: the first sample is timed apart (the cython target's cold compile into a
fresh cache directory), the others one by one; printed with the ratio Brian2 / numba at that
size and whether the two engines' spike counts are identical sample by sample.

Then, at ``--breakdown`` sizes (default: the largest), where a training sample's time goes,
from the engine's own functions on the trained network (ms per presentation: weight
normalisation; the neurons alone, an empty input train; plus the input conductances, frozen;
plus STDP), and two prototypes of changes to the per-step neuron loops, each checked here to
give the engine's result: the groups' integration (the engine's ``_exp_steps``) forked over 2
halves of the neurons at every step (``prange``, 1 and 2 threads) against serially, and the
threshold pass counting candidates first (a branch-free loop that vectorises) against the
engine's branching loop. A projection of the per-sample cost with those changes follows (from
the measured parts, not a measured run).

The machine (CPU, cores, load average at start and end, versions, threads) is printed first:
on a loaded machine every time is an upper bound. ``--json F`` writes the numbers.

    python benchmarks/bench_spiking_sizes.py [--sizes 100 400 1600 6400]
        [--n-train 500 500 300 150] [--block 10] [--n-train-brian2 3]
        [--brian2-target auto|cython|numpy] [--brian2-n-e 400] [--breakdown 6400]
        [--numba-cache fresh|default|DIR] [--model NAME=VALUE ...] [--seed 0] [--json F]
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIZES = (100, 400, 1600, 6400)
#: default training samples per size of SIZES (the 6,400-neuron network costs ~50x the smallest)
N_TRAIN = (500, 500, 300, 150)
#: the offset below rest that the rule (and the original) starts training from, mV
V_OFFSET = -40.0
#: fields :func:`measure_training` promises
TRAINING_FIELDS = ("n_e", "threads", "n_samples", "block", "n_blocks", "ms_per_sample_median",
                   "ms_per_sample_mean", "cpu_ms_per_sample_mean", "ms_per_presentation_mean",
                   "presentations_per_sample_mean", "presentations_max",
                   "spikes_per_sample_mean", "spikes_per_sample_max", "spikes", "presentations",
                   "intensity", "block_ms_per_sample", "wall_s", "cpu_s")


class BenchInputError(ValueError):
    """Input the benchmark cannot measure (the message says what is wrong and what to pass)."""


def _bench_spiking():
    """``benchmarks/bench_spiking.py`` (its helpers), imported lazily: it imports the engines,
    and with them numba, which must not load before ``--numba-cache`` is applied."""
    try:  # run as a script: benchmarks/ is on the path
        import bench_spiking
    except ImportError:  # imported from elsewhere (the tests): load the module beside this one
        spec = importlib.util.spec_from_file_location(
            "bench_spiking", Path(__file__).resolve().with_name("bench_spiking.py"))
        assert spec is not None and spec.loader is not None
        bench_spiking = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench_spiking)
    return bench_spiking


@dataclass
class Start:
    """Where training starts: initial weights ``W0`` (n_in, n_e), thresholds ``theta0`` (mV),
    one input seed per training sample, and ``v`` at ``v_rest + v_offset``."""

    W0: np.ndarray
    theta0: np.ndarray
    seeds: np.ndarray
    v_offset: float = V_OFFSET

    @property
    def n_e(self) -> int:
        """Excitatory neurons."""
        return int(self.W0.shape[1])


def rule_start(n_e: int, n_train: int, random_state: int, n_in: int = 784,
               w_init: float = 0.3, theta_init: float = 20.0) -> Start:
    """The start of ``DiehlCook(n_e=n_e, random_state=random_state).fit(X)`` on ``n_train``
    samples: the same draws from the same generator, in the rule's order (the seed of frozen
    presentations, the initial weights ``w_init * (U(0, 1) + 0.01)``, then one input seed per
    sample of the first epoch), no input delays.

    Examples
    --------
    >>> s = rule_start(5, 3, random_state=0, n_in=4)
    >>> print(s.W0.shape, s.theta0.tolist(), len(s.seeds), s.v_offset)
    (4, 5) [20.0, 20.0, 20.0, 20.0, 20.0] 3 -40.0
    """
    if n_e < 1 or n_train < 1 or n_in < 1:
        raise BenchInputError(f"rule_start needs n_e, n_train and n_in >= 1, got {n_e}, "
                              f"{n_train} and {n_in}")
    rng = np.random.default_rng(random_state)
    rng.integers(0, 2 ** 63 - 1)  # the rule's seed_ (frozen presentations): drawn, not used
    W0 = w_init * (rng.random((n_in, n_e)) + 0.01)
    seeds = np.asarray(rng.integers(0, 2 ** 63 - 1, size=n_train, dtype=np.uint64))
    return Start(W0=W0, theta0=np.full(n_e, float(theta_init)), seeds=seeds)


def _check_inputs(start: Start, X255: np.ndarray, n: int) -> np.ndarray:
    X255 = np.asarray(X255, dtype=np.float64)
    if X255.ndim != 2 or X255.shape[1] != start.W0.shape[0]:
        raise BenchInputError(f"X255 must be (samples, {start.W0.shape[0]}) pixel values (the "
                              f"weights' input count), got shape {X255.shape}")
    if n < 1 or n > min(len(X255), len(start.seeds)):
        raise BenchInputError(f"asked for {n} training samples, but X255 has {len(X255)} rows "
                              f"and the start {len(start.seeds)} seeds: ask for 1 to "
                              f"{min(len(X255), len(start.seeds))}")
    if not np.isfinite(X255[:n]).all() or (X255[:n] < 0).any():
        raise BenchInputError("X255 must hold finite pixel values >= 0 (0..255 for MNIST)")
    return np.ascontiguousarray(X255[:n])


def _max_threads() -> int:
    import numba

    # numba.config sets its options at import (setattr), invisible to a type checker
    return int(getattr(numba.config, "NUMBA_NUM_THREADS"))  # noqa: B009


def _set_threads(threads: int) -> int:
    """Set numba's threads (at most its maximum); returns the number before."""
    import numba

    if threads < 1:
        raise BenchInputError(f"threads must be >= 1, got {threads}")
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, _max_threads()))
    return before


def training_is_parallel() -> tuple[bool, str]:
    """Whether the numba engine's training loop can use more than one thread, and why (it
    can if ``train_samples`` or ``simulate`` is compiled with ``parallel=True``)."""
    from neurocode.models.diehl_cook import fast_engine

    par = {name: bool(getattr(fast_engine, name).targetoptions.get("parallel", False))
           for name in ("train_samples", "simulate")}
    if any(par.values()):
        return True, "parallel: " + ", ".join(k for k, v in par.items() if v)
    return False, ("training is serial: train_samples and simulate are compiled without "
                   "parallel=True (prange is only in run_frozen, the frozen runs)")


def measure_training(start: Start, X255: np.ndarray, n: int | None = None, *,
                     model: Any = None, protocol: Any = None, block: int = 10,
                     threads: int = 1) -> dict[str, Any]:
    """Train the numba engine on the first ``n`` rows of ``X255`` from ``start``; time it.

    Parameters
    ----------
    start : Start
        Initial weights, thresholds and input seeds (:func:`rule_start`).
    X255 : (samples, n_in) array
        Pixel values (0..255), one training sample a row, in order.
    n : int, optional
        Samples to train on (default: every row).
    model, protocol : DiehlCookModel, Protocol, optional
        The network and the presentation protocol (default: the original's).
    block : int
        Samples per timed call into the engine's training loop.
    threads : int
        numba threads while training (restored afterwards).

    Returns
    -------
    dict
        The fields of :data:`TRAINING_FIELDS` (``spikes``, ``presentations``, ``intensity``:
        per sample; ``block_ms_per_sample``: per block), and ``counts`` (samples, n_e) and
        ``engine`` (the trained engine), which are not numbers for a JSON file.
    """
    from neurocode.models.diehl_cook.fast_engine import FastEngine
    from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol

    model = DiehlCookModel() if model is None else model
    protocol = Protocol() if protocol is None else protocol
    n = len(X255) if n is None else int(n)
    X255 = _check_inputs(start, X255, n)
    if block < 1:
        raise BenchInputError(f"block must be >= 1 sample, got {block}")
    before = _set_threads(threads)
    try:
        engine = FastEngine(start.W0, start.theta0, model, protocol)
        engine.reset_state(v_offset=start.v_offset)
        counts = np.zeros((n, start.n_e), dtype=np.int64)
        levels = np.zeros(n)
        per_block, wall, cpu = [], 0.0, 0.0
        for a in range(0, n, block):
            b = min(n, a + block)
            t, c = time.perf_counter(), time.process_time()
            counts[a:b], levels[a:b] = engine.train(X255[a:b], start.seeds[a:b])
            dw, dc = time.perf_counter() - t, time.process_time() - c
            wall, cpu = wall + dw, cpu + dc
            per_block.append(1e3 * dw / (b - a))
    finally:
        _set_threads(before)
    spikes = counts.sum(axis=1)
    pres = np.rint(levels - protocol.intensity).astype(np.int64) + 1
    return {"n_e": start.n_e, "threads": int(threads), "n_samples": n, "block": int(block),
            "n_blocks": len(per_block), "ms_per_sample_median": float(np.median(per_block)),
            "ms_per_sample_mean": 1e3 * wall / n, "cpu_ms_per_sample_mean": 1e3 * cpu / n,
            "ms_per_presentation_mean": 1e3 * wall / int(pres.sum()),
            "presentations_per_sample_mean": float(pres.mean()),
            "presentations_max": int(pres.max()),
            "spikes_per_sample_mean": float(spikes.mean()),
            "spikes_per_sample_max": int(spikes.max()), "spikes": spikes.tolist(),
            "presentations": pres.tolist(), "intensity": levels.tolist(),
            "block_ms_per_sample": per_block, "wall_s": wall, "cpu_s": cpu,
            "counts": counts, "engine": engine}


def warm_up(model: Any = None, protocol: Any = None) -> float:
    """Seconds to compile (or load from numba's cache) the engine's training loop: 2 samples
    on 10 neurons (compiled code does not depend on the size)."""
    rng = np.random.default_rng(0)
    X = np.floor(255.0 * rng.random((2, 784)) * (rng.random((2, 784)) < 0.2))
    t = time.perf_counter()
    measure_training(rule_start(10, 2, 0), X, model=model, protocol=protocol, block=2)
    return time.perf_counter() - t


def measure_brian2(start: Start, X255: np.ndarray, n_timed: int, *, model: Any = None,
                   protocol: Any = None, target: str = "auto",
                   cache_dir: str | None = None) -> dict[str, Any]:
    """Train Brian2 from ``start`` on rows ``0 .. n_timed`` of ``X255`` (the inputs of
    :func:`measure_training`: the same trains): row 0 timed apart (build, and the cython
    target's compile), rows ``1 .. n_timed`` one by one.

    ``target``: "cython", "numpy", or "auto" (cython, and numpy if building or running the
    cython target raises: ``fallback`` then holds why). Returns ``target``, ``build_s``,
    ``first_sample_s``, ``ms_per_sample_median``, ``ms_per_sample_mean``,
    ``ms_per_presentation_mean``, ``presentations``, ``spikes`` and ``counts`` (rows
    ``0 .. n_timed``), ``fallback``.
    """
    from neurocode.models.diehl_cook.brian2_engine import Brian2Engine
    from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol

    model = DiehlCookModel() if model is None else model
    protocol = Protocol() if protocol is None else protocol
    if target not in ("auto", "cython", "numpy"):
        raise BenchInputError(f"brian2 target must be auto, cython or numpy, got {target!r}")
    if n_timed < 1:
        raise BenchInputError(f"n_timed must be >= 1 Brian2 sample, got {n_timed}")
    X255 = _check_inputs(start, X255, n_timed + 1)

    def first(tgt: str):
        t = time.perf_counter()
        eng = Brian2Engine(start.W0, start.theta0, model, protocol, learning=True, target=tgt,
                           cache_dir=cache_dir)
        eng.reset_state(v_offset=start.v_offset)
        build = time.perf_counter() - t
        t = time.perf_counter()
        c, lv = eng.train(X255[:1], start.seeds[:1])
        return eng, build, time.perf_counter() - t, c, lv

    fallback = ""
    tgt = "cython" if target == "auto" else target
    try:
        eng, build, t_first, c0, l0 = first(tgt)
    except Exception as exc:  # any failure of the cython build or run falls back to numpy
        if target != "auto":
            raise
        fallback = f"cython failed ({type(exc).__name__}: {str(exc)[:200]}); numpy instead"
        tgt = "numpy"
        eng, build, t_first, c0, l0 = first(tgt)
    counts = [c0[0]]
    levels = [float(l0[0])]
    times = []
    for b in range(1, n_timed + 1):
        t = time.perf_counter()
        c, lv = eng.train(X255[b:b + 1], start.seeds[b:b + 1])
        times.append(time.perf_counter() - t)
        counts.append(c[0])
        levels.append(float(lv[0]))
    pres = np.rint(np.asarray(levels) - protocol.intensity).astype(np.int64) + 1
    cnt = np.asarray(counts)
    return {"target": tgt, "fallback": fallback, "build_s": build, "first_sample_s": t_first,
            "n_timed": n_timed, "ms_per_sample_median": 1e3 * float(np.median(times)),
            "ms_per_sample_mean": 1e3 * float(np.mean(times)),
            "ms_per_presentation_mean": 1e3 * float(np.sum(times)) / int(pres[1:].sum()),
            "presentations": pres.tolist(), "spikes": cnt.sum(axis=1).tolist(),
            "counts": cnt}


# -- where the time goes ----------------------------------------------------------------------
_PROTO: dict[str, Any] = {}


def _prototypes() -> dict[str, Any]:
    """The compiled loops of the breakdown (numba, imported and compiled on first use)."""
    if _PROTO:
        return _PROTO
    from numba import njit, prange

    from neurocode.models.diehl_cook.fast_engine import _exp_steps

    @njit(cache=False)
    def consts(C):
        # simulate()'s loop invariants of the exponential step, in its form
        d_ge = np.exp(-C.dt / C.tau_ge)
        d_gi = np.exp(-C.dt / C.tau_gi)
        e = np.array([(C.c_ge * C.e_exc_e) / C.tau_e, (C.c_gi * C.e_inh_e) / C.tau_e,
                      C.v_rest_e / C.tau_e, (-C.c_ge) / C.tau_e, C.c_gi / C.tau_e,
                      0.0 - 1.0 / C.tau_e])
        i = np.array([(C.c_ge * C.e_exc_i) / C.tau_i, (C.c_gi * C.e_inh_i) / C.tau_i,
                      C.v_rest_i / C.tau_i, (-C.c_ge) / C.tau_i, C.c_gi / C.tau_i,
                      0.0 - 1.0 / C.tau_i])
        return d_ge, d_gi, e, i

    @njit(cache=False)
    def integrate_serial(S, L, C, t0, n_steps):
        """Both groups' exponential steps, as simulate() makes them, ``n_steps`` times."""
        d_ge, d_gi, e, i = consts(C)
        n = S.shape[1]
        ba = np.empty(n)
        ex = np.empty(n)
        for s in range(n_steps):
            t = t0 + s
            _exp_steps(S[0], S[1], S[2], L[0], t, C.n_ref_e, C.hold_e, e[0], e[1], e[2], e[3],
                       e[4], e[5], C.dt, d_ge, d_gi, ba, ex)
            _exp_steps(S[3], S[4], S[5], L[1], t, C.n_ref_i, True, i[0], i[1], i[2], i[3],
                       i[4], i[5], C.dt, d_ge, d_gi, ba, ex)

    @njit(parallel=True, cache=False)
    def integrate_forkjoin(S, L, C, t0, n_steps, n_chunks):
        """The same, the neurons split into ``n_chunks`` forked at every step (prange)."""
        d_ge, d_gi, e, i = consts(C)
        n = S.shape[1]
        ba = np.empty(n)
        ex = np.empty(n)
        for s in range(n_steps):
            t = t0 + s
            for c in prange(n_chunks):
                a = c * n // n_chunks
                b = (c + 1) * n // n_chunks
                _exp_steps(S[0, a:b], S[1, a:b], S[2, a:b], L[0, a:b], t, C.n_ref_e, C.hold_e,
                           e[0], e[1], e[2], e[3], e[4], e[5], C.dt, d_ge, d_gi, ba[a:b],
                           ex[a:b])
                _exp_steps(S[3, a:b], S[4, a:b], S[5, a:b], L[1, a:b], t, C.n_ref_i, True,
                           i[0], i[1], i[2], i[3], i[4], i[5], C.dt, d_ge, d_gi, ba[a:b],
                           ex[a:b])

    @njit(cache=False)
    def thresholds_branching(S, L, theta, alive, C, t0, n_steps, spk_e, spk_i):
        """simulate()'s threshold pass (excitatory, then inhibitory), ``n_steps`` times."""
        thr_e = C.v_thresh_e - C.offset
        ve, vi, last_e, last_i = S[0], S[3], L[0], L[1]
        n = ve.shape[0]
        total = 0
        for s in range(n_steps):
            t = t0 + s
            ne = 0
            for j in range(n):
                since = t - last_e[j]
                if alive[j] and ve[j] > theta[j] + thr_e and since > C.n_block \
                        and since >= C.n_ref_e:
                    spk_e[ne] = j
                    ne += 1
                    last_e[j] = t
            ni = 0
            for k in range(n):
                if vi[k] > C.v_thresh_i and t - last_i[k] >= C.n_ref_i:
                    spk_i[ni] = k
                    ni += 1
                    last_i[k] = t
            total += ne + ni
        return total

    @njit(cache=False)
    def thresholds_count_first(S, L, theta, alive, C, t0, n_steps, spk_e, spk_i):
        """The same spikes: a branch-free count of the neurons above threshold first (it
        vectorises), the branching pass only when there is one."""
        thr_e = C.v_thresh_e - C.offset
        ve, vi, last_e, last_i = S[0], S[3], L[0], L[1]
        n = ve.shape[0]
        total = 0
        for s in range(n_steps):
            t = t0 + s
            above = 0
            for j in range(n):
                above += ve[j] > theta[j] + thr_e
            ne = 0
            if above > 0:
                for j in range(n):
                    since = t - last_e[j]
                    if alive[j] and ve[j] > theta[j] + thr_e and since > C.n_block \
                            and since >= C.n_ref_e:
                        spk_e[ne] = j
                        ne += 1
                        last_e[j] = t
            above = 0
            for k in range(n):
                above += vi[k] > C.v_thresh_i
            ni = 0
            if above > 0:
                for k in range(n):
                    if vi[k] > C.v_thresh_i and t - last_i[k] >= C.n_ref_i:
                        spk_i[ni] = k
                        ni += 1
                        last_i[k] = t
            total += ne + ni
        return total

    _PROTO.update(integrate_serial=integrate_serial, integrate_forkjoin=integrate_forkjoin,
                  thresholds_branching=thresholds_branching,
                  thresholds_count_first=thresholds_count_first)
    return _PROTO


def _median_s(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds (the process's, every thread) of ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return float(np.median(wall)), float(np.median(cpu))


def breakdown(engine: Any, x255: np.ndarray, seed: int, repeats: int = 5) -> dict[str, Any]:
    """Where a training presentation's time goes in the trained ``engine`` (a FastEngine,
    copied, not changed), on the input train of ``x255`` (one sample's pixels) drawn from
    ``seed`` at the protocol's intensity; medians of ``repeats`` runs.

    Returns ms per presentation (wall, and CPU as ``<name>_cpu``) for ``normalise`` (the
    columns scaled to ``w_sum``), ``neurons`` (an empty input train: both groups' steps,
    thresholds, resets, theta), ``input_frozen`` (the sample's train, STDP off) and
    ``learning`` (STDP on); us per step (wall, and CPU) for the prototypes
    (``integrate_serial``, ``integrate_forkjoin_1``, ``..._2`` threads,
    ``thresholds_branching``, ``thresholds_count_first``), and whether each prototype gives
    the engine's result (``forkjoin_identical``; ``count_first_identical``, checked on a
    state where every 7th neuron of each group is above threshold).
    """
    from neurocode.models.diehl_cook.fast_engine import normalise_columns
    from neurocode.models.diehl_cook.poisson import draw_trains

    P = engine.protocol
    n_present, n_total = P.n_present, P.n_present + P.n_rest
    eng = copy.deepcopy(engine)
    p = np.asarray(x255, dtype=np.float64) * P.rate_scale * P.intensity * P.dt * 1e-3
    ptr, idx = draw_trains(p, n_present, seed)
    empty_ptr, empty_idx = np.zeros(n_present + 1, dtype=np.int64), np.zeros(0, np.int64)
    W = eng.W.copy()
    out: dict[str, Any] = {"n_e": int(eng.W.shape[1]), "steps": n_total,
                           "input_spikes": int(len(idx))}

    def put(name: str, scale: float, fn) -> None:
        wall, cpu = _median_s(fn, repeats)
        out[name], out[f"{name}_cpu"] = scale * wall, scale * cpu

    put("normalise", 1e3, lambda: normalise_columns(W, float(P.w_sum)))
    put("neurons", 1e3, lambda: eng.present(empty_ptr, empty_idx, n_present, n_total, True))
    put("input_frozen", 1e3, lambda: eng.present(ptr, idx, n_present, n_total, False))
    put("learning", 1e3, lambda: eng.present(ptr, idx, n_present, n_total, True))

    f = _prototypes()
    S0, L0, C = engine.S.copy(), engine.L.copy(), engine.C
    t0 = int(engine.clock[0])
    n_e = S0.shape[1]
    per_step = 1e6 / n_total
    ref = (S0.copy(), L0.copy())
    f["integrate_serial"](ref[0], ref[1], C, t0, n_total)
    got = (S0.copy(), L0.copy())
    before = _set_threads(2)
    try:
        f["integrate_forkjoin"](got[0], got[1], C, t0, n_total, 2)
        out["forkjoin_identical"] = bool(np.array_equal(ref[0], got[0]))
        S = S0.copy()
        put("integrate_serial", per_step, lambda: f["integrate_serial"](S, L0, C, t0, n_total))
        for th in (1, 2):
            _set_threads(th)
            S = S0.copy()
            put(f"integrate_forkjoin_{th}", per_step,
                lambda S=S: f["integrate_forkjoin"](S, L0, C, t0, n_total, 2))
    finally:
        _set_threads(before)
    theta, alive = engine.theta.copy(), engine.alive
    spk_e, spk_i = np.empty(n_e, np.int64), np.empty(n_e, np.int64)
    hot = S0.copy()  # some neurons above threshold, so that both passes have spikes to find
    hot[0, ::7] = theta[::7] + (C.v_thresh_e - C.offset) + 1.0
    hot[3, ::7] = C.v_thresh_i + 1.0
    found = []
    for name in ("thresholds_branching", "thresholds_count_first"):
        L = L0.copy()
        spikes = f[name](hot, L, theta, alive, C, t0, n_total, spk_e, spk_i)
        found.append((spikes, L))
    out["count_first_identical"] = bool(found[0][0] == found[1][0] > 0
                                        and np.array_equal(found[0][1], found[1][1]))
    for name in ("thresholds_branching", "thresholds_count_first"):
        L = L0.copy()
        put(name, per_step,
            lambda name=name, L=L: f[name](S0, L, theta, alive, C, t0, n_total, spk_e, spk_i))
    return out


# -- the run ------------------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in ("counts", "engine")}


def _write_json(path: str, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file, then renamed)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bench_spiking_sizes.", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                    help="excitatory neuron counts (default: 100 400 1600 6400)")
    ap.add_argument("--n-train", type=int, nargs="+", default=None,
                    help="training samples: one count for every size, or one per size "
                         f"(default: {' '.join(map(str, N_TRAIN))} for the default sizes, "
                         "else 300)")
    ap.add_argument("--block", type=int, default=10,
                    help="samples per timed call (ms per sample: the median over blocks)")
    ap.add_argument("--n-train-brian2", type=int, default=3,
                    help="Brian2 samples timed after its first (0: no Brian2)")
    ap.add_argument("--brian2-target", default="auto", choices=("auto", "cython", "numpy"),
                    help="auto: cython if it compiles, else numpy")
    ap.add_argument("--brian2-n-e", type=int, default=400,
                    help="the size Brian2 runs at (one of --sizes)")
    ap.add_argument("--brian2-cache-dir", default=None,
                    help="Brian2's cython cache (default: a fresh temporary one: cold compile)")
    ap.add_argument("--breakdown", type=int, nargs="*", default=None,
                    help="sizes to break down (default: the largest; none: --breakdown)")
    ap.add_argument("--breakdown-repeats", type=int, default=5)
    ap.add_argument("--numba-cache", default="fresh",
                    help="fresh: compile into a new temporary directory (the compile time is "
                         "the cold one); default: numba's own cache; else a directory")
    ap.add_argument("--model", action="append", default=[], metavar="NAME=VALUE",
                    help="change a constant of the model (repeatable), e.g. integrator=euler")
    ap.add_argument("--seed", type=int, default=0, help="the rule's random_state")
    ap.add_argument("--json", default=None, help="write the numbers to this file")
    args = ap.parse_args(argv)
    if any(n < 1 for n in args.sizes):
        ap.error(f"--sizes must be >= 1 neurons each, got {args.sizes}")
    if args.n_train is None:
        args.n_train = (list(N_TRAIN) if args.sizes == list(SIZES)
                        else [300] * len(args.sizes))
    elif len(args.n_train) == 1:
        args.n_train = args.n_train * len(args.sizes)
    if len(args.n_train) != len(args.sizes) or any(n < 1 for n in args.n_train):
        ap.error(f"--n-train: give one count >= 1, or one per size ({len(args.sizes)}), got "
                 f"{args.n_train}")
    if max(args.n_train) > 60_000:
        ap.error(f"--n-train: MNIST has 60,000 training digits, got {max(args.n_train)}")
    if args.block < 1 or args.breakdown_repeats < 1 or args.n_train_brian2 < 0:
        ap.error("--block and --breakdown-repeats must be >= 1 and --n-train-brian2 >= 0")
    if args.n_train_brian2 > 0:
        if args.brian2_n_e not in args.sizes:
            ap.error(f"--brian2-n-e {args.brian2_n_e} must be one of --sizes {args.sizes} (the "
                     f"ratio needs numba's time at that size), or pass --n-train-brian2 0")
        k = args.n_train[args.sizes.index(args.brian2_n_e)]
        if k < args.n_train_brian2 + 1:
            ap.error(f"--n-train at {args.brian2_n_e} neurons ({k}) must be at least "
                     f"--n-train-brian2 + 1 ({args.n_train_brian2 + 1}): the spike counts of "
                     f"the two engines are compared on the same samples")
    if args.breakdown is None:
        args.breakdown = [max(args.sizes)]
    if any(n not in args.sizes for n in args.breakdown):
        ap.error(f"--breakdown sizes must be among --sizes {args.sizes}, got {args.breakdown}")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        ap.error(f"--json {args.json}: its folder does not exist; create it or pass another")
    return args, ap


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, and write ``--json``; returns the exit status."""
    args, ap = _parse(argv)
    load_start = _load()
    made: list[str] = []
    if args.numba_cache == "fresh":
        made.append(tempfile.mkdtemp(prefix="numba_cache_"))
        os.environ["NUMBA_CACHE_DIR"] = made[-1]
    elif args.numba_cache != "default":
        os.makedirs(args.numba_cache, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = args.numba_cache
    if "numba" in sys.modules and args.numba_cache != "default":
        print("note: numba was imported before --numba-cache was applied", file=sys.stderr)
    try:
        return _run(args, ap, load_start, made)
    except BenchInputError as exc:
        print(f"bench_spiking_sizes: {exc}", file=sys.stderr)
        return 2
    finally:
        for d in made:
            shutil.rmtree(d, ignore_errors=True)


def _run(args: argparse.Namespace, ap: argparse.ArgumentParser, load_start: list[float],
         made: list[str]) -> int:
    bs = _bench_spiking()  # imports numba and the engines (after NUMBA_CACHE_DIR is set)
    import brian2
    import numba

    from neurocode.data import DatasetError, load_mnist
    from neurocode.models.diehl_cook.network import DiehlCookModel, Protocol

    model, proto = DiehlCookModel().replace(**bs.model_overrides(args.model, ap)), Protocol()
    try:
        imgs, _ = load_mnist("mnist", split="train")
    except DatasetError as exc:
        raise BenchInputError(f"{exc} (set NEUROCODE_DATA to the folder holding MNIST)") from exc
    n_max = max(args.n_train)
    X255 = 255.0 * (imgs[:n_max].reshape(n_max, -1).astype(np.float64) / 255.0)  # as the rule
    parallel, why = training_is_parallel()
    out: dict[str, Any] = {
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(),
                    "usable_cpus": len(os.sched_getaffinity(0))
                    if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                    "load_average_at_start": load_start, "python": platform.python_version(),
                    "numba": numba.__version__, "brian2": brian2.__version__,
                    "numpy": np.__version__,
                    "numba_max_threads": _max_threads()},
        "model_changes": args.model, "integrator": model.integrator, "seed": args.seed,
        "numba_cache": args.numba_cache, "training_parallel": parallel,
        "training_parallel_why": why, "sizes": []}
    out["numba_compile_s"], _ = bs._timed(warm_up, model, proto)
    results: dict[int, dict[str, Any]] = {}
    for n_e, n in zip(args.sizes, args.n_train, strict=True):
        start = rule_start(n_e, n, args.seed, theta_init=model.theta_init)
        r = measure_training(start, X255, n, model=model, protocol=proto, block=args.block,
                             threads=1)
        if parallel and _max_threads() >= 2:
            r2 = measure_training(start, X255, n, model=model, protocol=proto,
                                  block=args.block, threads=2)
            r["threads_2"] = _jsonable(r2)
            r["threads_2_speedup"] = r["ms_per_sample_mean"] / r2["ms_per_sample_mean"]
            r["threads_2_same_spikes"] = bool(np.array_equal(r["counts"], r2["counts"]))
        r["start"] = start
        results[n_e] = r
        print(f"  trained {n_e} neurons on {n} samples: {r['ms_per_sample_mean']:.2f} ms a "
              f"sample", file=sys.stderr, flush=True)

    if args.n_train_brian2 > 0:
        r = results[args.brian2_n_e]
        cache = args.brian2_cache_dir
        if cache is None:
            made.append(tempfile.mkdtemp(prefix="brian2_cache_"))
            cache = made[-1]
        b = measure_brian2(r["start"], X255, args.n_train_brian2, model=model, protocol=proto,
                           target=args.brian2_target, cache_dir=cache)
        b["n_e"] = args.brian2_n_e
        m = args.n_train_brian2 + 1
        same = [bool(np.array_equal(b["counts"][i], r["counts"][i])) for i in range(m)]
        b["identical_counts"] = same
        b["cold_compile"] = args.brian2_cache_dir is None and b["target"] == "cython"
        # the same timed samples (1 .. m-1) in the numba run: its first block(s) hold them
        b["numba_ms_per_sample_mean"] = r["ms_per_sample_mean"]
        b["ratio_per_sample"] = b["ms_per_sample_mean"] / r["ms_per_sample_mean"]
        b["ratio_per_presentation"] = (b["ms_per_presentation_mean"]
                                       / r["ms_per_presentation_mean"])
        out["brian2"] = _jsonable(b)

    out["breakdown"] = []
    for n_e in args.breakdown:
        r = results[n_e]
        n = r["n_samples"]
        d = breakdown(r["engine"], X255[n - 1], int(r["start"].seeds[n - 1]),
                      args.breakdown_repeats)
        pres = r["presentations_per_sample_mean"]
        steps = d["steps"] * pres
        d["ms_per_sample"] = r["ms_per_sample_mean"]
        d["cpu_ms_per_sample"] = r["cpu_ms_per_sample_mean"]
        for sfx in ("", "_cpu"):
            d[f"projected_count_first{sfx}"] = d[f"{'cpu_' if sfx else ''}ms_per_sample"] \
                - 1e-3 * steps * (d[f"thresholds_branching{sfx}"]
                                  - d[f"thresholds_count_first{sfx}"])
        # (wall only: the CPU time of 2 threads adds up both, spinning included)
        d["projected_count_first_forkjoin_2"] = d["projected_count_first"] - 1e-3 * steps * (
            d["integrate_serial"] - d["integrate_forkjoin_2"])
        out["breakdown"].append(d)

    out["machine"]["load_average_at_end"] = _load()
    try:
        out["machine"]["numba_threading_layer"] = numba.threading_layer()
    except ValueError:  # no parallel region ran
        out["machine"]["numba_threading_layer"] = None
    for n_e in args.sizes:
        out["sizes"].append({k: v for k, v in _jsonable(results[n_e]).items() if k != "start"})
    report(out)
    if args.json:
        _write_json(args.json, out)
    return 0


def report(out: dict[str, Any]) -> None:
    """Print the machine, the table and the breakdown of a run (the dict :func:`main` makes)."""
    m = out["machine"]
    print("Diehl & Cook training cost per sample, numba engine on one thread (STDP on, 350 ms "
          "+ 150 ms rest at dt 0.5 ms, normalisation, intensity retries, state carried over; "
          f"the first MNIST training digits; integrator {out['integrator']}; model changes: "
          f"{', '.join(out['model_changes']) or 'none'})")
    print(f"machine: {m['cpu']}, {m['cpus']} CPUs ({m['usable_cpus']} usable); numba "
          f"{m['numba']} (threading layer {m['numba_threading_layer']}, at most "
          f"{m['numba_max_threads']} threads), brian2 {m['brian2']}, numpy {m['numpy']}, "
          f"python {m['python']}")
    print(f"load average (1, 5, 15 min) at start {m['load_average_at_start']}, at end "
          f"{m['load_average_at_end']}: THE MACHINE MAY BE LOADED (load near or above "
          f"{m['usable_cpus']} cores), so every time below is an upper bound")
    print(f"numba compile (warm-up, 10 neurons, 2 samples; cache {out['numba_cache']}): "
          f"{out['numba_compile_s']:.1f} s")
    print(f"threads: {out['training_parallel_why']}")
    head = (f"{'n_e':>6} {'samples':>8} {'ms/sample':>10} {'mean':>8} {'cpu ms':>8} "
            f"{'ms/pres.':>9} {'pres./sample':>13} {'spikes/sample':>14} {'max':>6} "
            f"{'2 threads':>10}")
    print(head)
    for r in out["sizes"]:
        two = (f"x{r['threads_2_speedup']:.2f}" if "threads_2_speedup" in r else "n/a")
        print(f"{r['n_e']:>6} {r['n_samples']:>8} {r['ms_per_sample_median']:>10.2f} "
              f"{r['ms_per_sample_mean']:>8.2f} {r['cpu_ms_per_sample_mean']:>8.2f} "
              f"{r['ms_per_presentation_mean']:>9.2f} "
              f"{r['presentations_per_sample_mean']:>8.2f} ({r['presentations_max']:>2}) "
              f"{r['spikes_per_sample_mean']:>14.1f} {r['spikes_per_sample_max']:>6} "
              f"{two:>10}")
    print("(ms/sample: median over blocks of samples; mean: over all samples; cpu ms: the "
          "process's CPU time per sample; pres.: presentations, 1 + intensity retries, max in "
          "brackets; spikes: excitatory, of each sample's last presentation)")
    b = out.get("brian2")
    if b:
        same = b["identical_counts"]
        print(f"\nBrian2 {b['target']} at {b['n_e']} neurons ({b['fallback'] or 'as asked'}): "
              f"build {b['build_s']:.1f} s, first sample {b['first_sample_s']:.1f} s"
              f"{' (cold compile)' if b['cold_compile'] else ''}; then "
              f"{b['ms_per_sample_median']:.1f} ms a sample (median of {b['n_timed']}; mean "
              f"{b['ms_per_sample_mean']:.1f}, {b['ms_per_presentation_mean']:.1f} per "
              f"presentation)")
        print(f"Brian2 / numba: x{b['ratio_per_sample']:.0f} per sample, "
              f"x{b['ratio_per_presentation']:.0f} per presentation; identical spike counts on "
              f"{sum(same)} of {len(same)} samples")
    for d in out["breakdown"]:
        print(f"\nwhere the time goes at {d['n_e']} neurons (one presentation of {d['steps']} "
              f"steps, {d['input_spikes']} input spikes; medians; wall ms, CPU ms):")
        rows = [("weight normalisation", d["normalise"], d["normalise_cpu"]),
                ("neurons (empty input train)", d["neurons"], d["neurons_cpu"]),
                ("+ input conductances (frozen)", d["input_frozen"] - d["neurons"],
                 d["input_frozen_cpu"] - d["neurons_cpu"]),
                ("+ STDP", d["learning"] - d["input_frozen"],
                 d["learning_cpu"] - d["input_frozen_cpu"]),
                ("a training sample, all in", d["ms_per_sample"], d["cpu_ms_per_sample"])]
        for name, wall, cpu in rows:
            print(f"  {name:32s}{wall:9.2f}{cpu:9.2f}")
        print(f"  prototypes, us per step (wall, CPU): integration serial "
              f"{d['integrate_serial']:.1f} ({d['integrate_serial_cpu']:.1f}), forked over 2 "
              f"halves at every step with 1 thread {d['integrate_forkjoin_1']:.1f} "
              f"({d['integrate_forkjoin_1_cpu']:.1f}), with 2 threads "
              f"{d['integrate_forkjoin_2']:.1f} ({d['integrate_forkjoin_2_cpu']:.1f}) "
              f"(identical: {d['forkjoin_identical']}); thresholds branching (the engine's) "
              f"{d['thresholds_branching']:.1f} ({d['thresholds_branching_cpu']:.1f}), count "
              f"first {d['thresholds_count_first']:.1f} ({d['thresholds_count_first_cpu']:.1f}) "
              f"(identical: {d['count_first_identical']})")
        print(f"  projected ms per sample (from the measured parts, not a run): count-first "
              f"thresholds {d['projected_count_first']:.1f} wall, "
              f"{d['projected_count_first_cpu']:.1f} CPU; and the integration forked on 2 "
              f"threads {d['projected_count_first_forkjoin_2']:.1f} wall")


if __name__ == "__main__":
    sys.exit(main())
