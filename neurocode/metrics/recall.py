"""Recall curves of associative memories: patterns as index lists, the loads a curve is
measured at, and the capacity ``M*`` read from a curve.

The shared ground of the Willshaw (:mod:`neurocode.metrics.willshaw_memory`), Hopfield
(:mod:`neurocode.metrics.hopfield_memory`) and covariance (:mod:`neurocode.metrics.covariance`)
measures, gathered by :mod:`neurocode.metrics.capacity`:

* :func:`capacity_from_curve`: the largest load whose recall error is within a tolerance,
  linear between the measured loads;
* patterns as index lists (CSR: the active units of every pattern in one array), with the
  partial cues a recall starts from (:func:`_cue_sizes`: ``max(1, round(fraction k))`` units
  of a pattern's ``k``, drawn at random);
* the checks of loads and run arguments every curve shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.theory._checks import _check_n, _check_tolerance

__all__ = ["capacity_from_curve"]


# -- loads and run arguments ------------------------------------------------------------------
def _check_loads(loads: Any, n_max: int | None) -> np.ndarray:
    L = np.asarray(loads)
    if L.ndim != 1 or L.size == 0:
        raise ValueError(f"loads must be a non-empty 1-D sequence of pattern counts, got shape "
                         f"{L.shape}")
    if not np.issubdtype(L.dtype, np.number) or not np.all(np.isfinite(L)):
        raise ValueError("loads must be finite numbers")
    if np.any(L != np.round(L)) or np.any(L < 1):
        raise ValueError(f"loads must be whole numbers >= 1, got {L.tolist()[:8]}")
    L = np.unique(L.astype(np.int64))
    if n_max is not None and L[-1] > n_max:
        raise ValueError(f"loads go up to {int(L[-1])} but only {n_max} patterns are given")
    return L


def _geometric_loads(n_max: int, n_loads: int) -> np.ndarray:
    return np.unique(np.rint(np.geomspace(1, max(1, n_max), n_loads)).astype(np.int64))


def _check_run_args(tolerance: float, n_probe: int, cue_fraction: float,
                    stop_after: int | None) -> tuple[float, int, float, int | None]:
    tol = _check_tolerance(tolerance)
    n_probe = _check_n(n_probe, "n_probe")
    cf = float(cue_fraction)
    if not (0.0 < cf <= 1.0):
        raise ValueError(f"cue_fraction must be in (0, 1], got {cue_fraction!r}")
    if stop_after is not None:
        stop_after = _check_n(stop_after, "stop_after")
    return tol, n_probe, cf, stop_after


# -- capacity from a curve ------------------------------------------------------------------
def capacity_from_curve(loads: Any, error: Any, tolerance: float) -> tuple[float, bool]:
    """Capacity ``M*``: the largest load with recall error ``<= tolerance``; ``(M*, censored)``.

    The error is taken as linear in ``M`` between measured loads: with ``i`` the last load
    whose error is within tolerance and ``i + 1`` the next one (error above it),
    ``M* = M_i + (tol - e_i) / (e_{i+1} - e_i) (M_{i+1} - M_i)``. When the last load is within
    tolerance ``M*`` is that load and ``censored`` is True (``M*`` is a lower bound); when even
    the first load is above tolerance, ``M* = 0``. NaN errors (loads not evaluated) are ignored.

    Examples
    --------
    >>> print(capacity_from_curve([10, 20, 40], [0.0, 0.005, 0.015], 0.01))
    (30.0, False)
    """
    L = np.asarray(loads, dtype=np.float64)
    E = np.asarray(error, dtype=np.float64)
    ok = np.isfinite(E)
    L, E = L[ok], E[ok]
    if L.size == 0:
        return float("nan"), True
    within = np.flatnonzero(E <= tolerance)
    if within.size == 0:
        return 0.0, False
    i = int(within[-1])
    if i == len(L) - 1:
        return float(L[i]), True
    e0, e1 = E[i], E[i + 1]
    frac = (tolerance - e0) / (e1 - e0) if e1 > e0 else 0.0
    return float(L[i] + frac * (L[i + 1] - L[i])), False


def _interp(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    ok = np.isfinite(ys)
    if not ok.any() or not np.isfinite(x) or x <= 0:
        return 0.0 if np.isfinite(x) else float("nan")
    return float(np.interp(x, xs[ok], ys[ok]))


def _curve_summary(run: dict[str, Any], tolerance: float, bits: np.ndarray) -> dict[str, Any]:
    """Capacity ``M*`` from a run's error curve, and ``bits`` (a curve over the loads) at it."""
    L = run["loads"]
    cap, censored = capacity_from_curve(L, run["error"], tolerance)
    return {"bits_per_synapse": bits, "capacity": cap, "capacity_censored": float(censored),
            "bits_per_synapse_at_capacity": _interp(cap, L, bits)}


# -- index lists (CSR) ----------------------------------------------------------------------
class _Patterns:
    """Active units of binary patterns, CSR: ``idx[ptr[m]:ptr[m + 1]]`` are pattern m's units."""

    __slots__ = ("ptr", "idx", "n_units")

    def __init__(self, ptr: np.ndarray, idx: np.ndarray, n_units: int) -> None:
        self.ptr, self.idx, self.n_units = ptr, idx, n_units

    def __len__(self) -> int:
        return len(self.ptr) - 1

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.ptr)

    @classmethod
    def from_dense(cls, B: np.ndarray) -> _Patterns:
        counts = B.sum(axis=1, dtype=np.int64)
        _, cols = np.nonzero(B)
        return cls(np.concatenate(([0], np.cumsum(counts))), cols.astype(np.int64), B.shape[1])

    @classmethod
    def from_lists(cls, patterns: Any, n_units: int, what: str) -> _Patterns:
        if isinstance(patterns, np.ndarray) and patterns.ndim == 2:
            rows = patterns
            if rows.size and not np.issubdtype(rows.dtype, np.integer):
                raise ValueError(f"{what} must hold integer unit indices, got dtype {rows.dtype}")
            counts = np.full(len(rows), rows.shape[1], dtype=np.int64)
            idx = rows.astype(np.int64).ravel()
        else:
            lists = [np.asarray(p) for p in patterns]
            for p in lists:
                if p.ndim != 1 or (p.size and not np.issubdtype(p.dtype, np.integer)):
                    raise ValueError(f"{what} must be index lists (1-D integer arrays), got an "
                                     f"entry of shape {p.shape} and dtype {p.dtype}")
            counts = np.array([len(p) for p in lists], dtype=np.int64)
            idx = (np.concatenate(lists).astype(np.int64) if lists and counts.sum()
                   else np.zeros(0, dtype=np.int64))
        if len(counts) == 0:
            raise ValueError(f"{what} must hold at least one pattern")
        if idx.size and (idx.min() < 0 or idx.max() >= n_units):
            raise ValueError(f"{what} hold unit indices outside [0, {n_units}): "
                             f"{int(idx.min())} .. {int(idx.max())}")
        ptr = np.concatenate(([0], np.cumsum(counts)))
        if idx.size:  # no unit twice in a pattern
            row = np.repeat(np.arange(len(counts)), counts)
            order = np.lexsort((idx, row))
            s_row, s_idx = row[order], idx[order]
            if np.any((s_row[1:] == s_row[:-1]) & (s_idx[1:] == s_idx[:-1])):
                raise ValueError(f"{what} name a unit twice in one pattern")
            idx = s_idx  # each pattern's units in ascending order
        return cls(ptr, idx, n_units)

    def rows(self, sel: np.ndarray) -> _Patterns:
        counts = self.counts[sel]
        ptr = np.concatenate(([0], np.cumsum(counts)))
        idx = self.idx[_ranges(self.ptr[sel], counts)]
        return _Patterns(ptr, idx, self.n_units)

    def dense(self, dtype: Any = bool) -> np.ndarray:
        out = np.zeros((len(self), self.n_units), dtype=dtype)
        out[np.repeat(np.arange(len(self)), self.counts), self.idx] = 1
        return out


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (start, count)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)


def _cue_sizes(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Units a partial cue keeps of patterns with ``counts`` active units: ``max(1,
    round(fraction * k))`` (``np.rint``, halves to even: k = 9 keeps 4 at one half, k = 11
    keeps 6), 0 for an empty pattern, all ``k`` for ``fraction = 1``."""
    counts = np.asarray(counts, dtype=np.int64)
    if fraction >= 1.0:
        return counts
    return np.where(counts > 0, np.maximum(1, np.rint(fraction * counts)), 0).astype(np.int64)


def _partial(P: _Patterns, fraction: float, rng: np.random.Generator) -> _Patterns:
    """Keep :func:`_cue_sizes` of each pattern's active units, drawn at random."""
    if fraction >= 1.0:
        return P
    counts = P.counts
    keep = _cue_sizes(counts, fraction)
    row = np.repeat(np.arange(len(P)), counts)
    order = np.lexsort((rng.random(len(P.idx)), row))
    rank = np.arange(len(order)) - np.repeat(P.ptr[:-1], counts)
    chosen = order[rank < np.repeat(keep, counts)]
    chosen.sort()
    return _Patterns(np.concatenate(([0], np.cumsum(keep))), P.idx[chosen], P.n_units)


def _concat(a: _Patterns | None, b: _Patterns) -> _Patterns:
    if a is None:
        return b
    return _Patterns(np.concatenate((a.ptr, b.ptr[1:] + a.ptr[-1])),
                     np.concatenate((a.idx, b.idx)), a.n_units)


def _keys(A: _Patterns, B: _Patterns | None = None) -> list[bytes]:
    """One hashable key per pattern (per pair when ``B`` is given): its sorted units' bytes."""
    def one(P: _Patterns) -> list[bytes]:
        c = P.counts
        if len(c) and np.all(c == c[0]) and c[0] > 0:
            rows = np.ascontiguousarray(P.idx[P.ptr[0]:P.ptr[-1]].reshape(len(c), c[0]))
            return rows.view(f"V{rows.shape[1] * rows.itemsize}").ravel().tolist()
        return [P.idx[P.ptr[m]:P.ptr[m + 1]].tobytes() for m in range(len(c))]

    ka = one(A)
    if B is None:
        return ka
    return [a + b"|" + b for a, b in zip(ka, one(B), strict=True)]
