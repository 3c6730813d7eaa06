"""Reproducible Poisson input spike trains, the same for every engine.

A train is a Bernoulli process on the time grid: input ``i`` spikes in a step with
probability ``p_i = rate_i * dt`` (what Brian2's ``PoissonGroup`` does with one uniform draw
per input per step). It is drawn here by skipping ahead with geometric gaps,
``gap = 1 + floor(log(u) / log(1 - p))`` (the same distribution, but one draw per spike
instead of one per input per step), from a splitmix64 stream seeded by one 64-bit integer.
So a train depends only on ``(p, n_steps, seed)``: not on the engine, the thread that draws
it or the batch it is in. The fast engine draws trains inside its loops; the Brian2 engine
draws the same ones here and feeds them through a ``SpikeGeneratorGroup``.

Trains are returned in compressed form: ``idx[ptr[s]:ptr[s + 1]]`` are the inputs that spike
in step ``s`` (increasing).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["draw_trains", "mix", "poisson_trains", "row_seeds", "spike_times"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2 ** -53


@njit(cache=True, inline="always")
def _finalise(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def mix(seed, k):
    """A new 64-bit seed from ``seed`` and an integer ``k`` (e.g. the attempt number)."""
    return _finalise(np.uint64(seed) + _GOLDEN * (np.uint64(k) + np.uint64(1)))


@njit(cache=True)
def row_seeds(bits, base):
    """One seed per row of ``bits`` (a 2-D uint64 view of float64 stimuli) and ``base``: a
    hash of the row's content, so a stimulus gets the same train wherever it stands."""
    n, m = bits.shape
    out = np.empty(n, dtype=np.uint64)
    for r in range(n):
        h = np.uint64(base)
        for c in range(m):
            h = _finalise(h ^ bits[r, c]) + _GOLDEN
        out[r] = h
    return out


@njit(cache=True)
def poisson_trains(p, n_steps, seed):
    """Bernoulli trains of probabilities ``p`` (per input, per step) over ``n_steps`` steps.

    Returns ``(ptr, idx)``: ``idx[ptr[s]:ptr[s + 1]]`` spike in step ``s``.
    """
    n_in = p.shape[0]
    state = np.uint64(seed)
    cap = 64
    for i in range(n_in):
        if p[i] > 0.0:
            cap += int(min(p[i], 1.0) * n_steps * 1.5) + 4
    steps = np.empty(cap, dtype=np.int64)
    who = np.empty(cap, dtype=np.int64)
    n = 0
    for i in range(n_in):
        pi = p[i]
        if pi <= 0.0:
            continue
        if pi >= 1.0:
            log_q = 0.0
        else:
            log_q = np.log1p(-pi)
        s = -1
        while True:
            if log_q == 0.0:
                s += 1
            else:
                state = state + _GOLDEN
                u = ((_finalise(state) >> _S11) + 0.5) * _INV53
                gap = np.floor(np.log(u) / log_q)
                if s + 1.0 + gap >= n_steps:  # (a float: a tiny p gives a huge gap)
                    break
                s += 1 + int(gap)
            if s >= n_steps:
                break
            if n == cap:
                cap *= 2
                steps2 = np.empty(cap, dtype=np.int64)
                who2 = np.empty(cap, dtype=np.int64)
                steps2[:n] = steps[:n]
                who2[:n] = who[:n]
                steps, who = steps2, who2
            steps[n] = s
            who[n] = i
            n += 1
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    for q in range(n):
        ptr[steps[q] + 1] += 1
    for s in range(n_steps):
        ptr[s + 1] += ptr[s]
    fill = ptr[:-1].copy()
    idx = np.empty(n, dtype=np.int64)
    for q in range(n):  # inputs in increasing order within each step (they were drawn so)
        s = steps[q]
        idx[fill[s]] = who[q]
        fill[s] += 1
    return ptr, idx


@njit(cache=True)
def _draw(p, n_steps, seed, attempt):
    return poisson_trains(p, n_steps, mix(seed, attempt))


def draw_trains(p: np.ndarray, n_steps: int, seed: int, attempt: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """The train of presentation ``attempt`` of a stimulus with seed ``seed`` (what the
    engines draw inside their loops): ``poisson_trains(p, n_steps, mix(seed, attempt))``."""
    return _draw(np.ascontiguousarray(p, dtype=np.float64), int(n_steps), np.uint64(seed),
                 np.uint64(attempt))


def spike_times(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, steps)`` of every spike of a compressed train, in time order."""
    steps = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    return np.asarray(idx), steps
