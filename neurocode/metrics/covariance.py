"""Capacity of a sparse Hopfield memory: the covariance rule, which sees sparse codes.

The Hopfield measure of :func:`neurocode.metrics.capacity.associative_capacity` stores codes
with the +-1 Hebbian rule ``T = (1/N) sum xi xi^T``, ``xi = 2x - 1``. For a code of activity
``a`` every ``xi`` is -1 on most units, so two patterns overlap by ``(1 - 2a)^2`` on average
and each stored pattern adds about ``-(1 - 2a)^3`` to the field of every unit of a recalled
one: once ``M (1 - 2a)^3`` exceeds the signal (1), at ``M`` of about 2 for ``a <= 0.1``,
recall turns the active units off. It holds about two patterns whatever the code, random
codes included, and cannot tell sparse codes apart.

:func:`sparse_hopfield_capacity` stores them instead with the covariance rule of Tsodyks &
Feigel'man (1988, Europhys. Lett. 6, 101-105)::

    J_ij = 1 / (N a (1 - a))  sum_mu (x_i^mu - a)(x_j^mu - a),   J_ii = 0,

``a`` the codes' mean activity (:func:`neurocode.memories.covariance_couplings`), and recalls
by k-winners dynamics (:func:`neurocode.memories.threshold_run`): every synchronous update
keeps active the ``k`` units of largest field ``h = J V``, ``k`` the probed pattern's own
activity. Random k-of-N codes are then held up to about ``alpha(a) N`` patterns, with
``alpha(a)`` from the fixed-point theory of :mod:`neurocode.theory` (0.85 at ``a = 0.05``,
0.45 at ``a = 0.1``, 0.138 at ``a = 1/2``, where the rule is Hopfield's), growing as the
activity falls (as ``1 / (2 a |ln a|)`` in the limit, Tsodyks & Feigel'man), while codes
whose patterns share their active units hold far fewer.

Why k-winners rather than a fixed threshold: the best fixed threshold depends on the load
and on each pattern's activity (the signal of a stored pattern is proportional to it), and
codes from a coding rule vary in activity from stimulus to stimulus; activity control
removes that free parameter (Amari 1989, Neural Networks 2, 451-457: sparse memories have
large basins only with it) and is what :func:`neurocode.theory.covariance_capacity`
describes. A fixed threshold is available (``theta=``), in units of the signal gap (a
random stored pattern gets field ``1 - a`` on its active units and ``-a`` on its silent
ones).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocode.memories import check_binary01, covariance_couplings, threshold_run
from neurocode.metrics._validate import check_codes
from neurocode.metrics.capacity import _check_loads, _geometric_loads, capacity_from_curve
from neurocode.theory import (
    channel_information,
    covariance_capacity,
    one_step_capacity,
    tsodyks_feigelman_capacity,
)

__all__ = ["sparse_hopfield_capacity"]


def _whole(n: Any, what: str, low: int = 1) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {n!r}")
    return int(n)


def _loads(loads: Any, n: int) -> np.ndarray:
    """The Willshaw measure's loads: 30 geometric loads by default, else checked."""
    return _geometric_loads(n, 30) if loads is None else _check_loads(loads, n)


def _partial_cues(X: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """``max(1, round(fraction k))`` of each row's ``k`` active units, drawn at random."""
    if fraction >= 1.0:
        return X.copy()
    out = np.zeros_like(X)
    for r in range(len(X)):
        act = np.flatnonzero(X[r])
        if act.size:
            keep = max(1, int(math.floor(fraction * act.size + 0.5)))
            out[r, rng.choice(act, size=keep, replace=False)] = True
    return out


def _interp(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    ok = np.isfinite(ys)
    if not ok.any() or not np.isfinite(x) or x <= 0:
        return 0.0 if np.isfinite(x) else float("nan")
    return float(np.interp(x, xs[ok], ys[ok]))


def sparse_hopfield_capacity(patterns: Any, loads: Any = None, tolerance: float | None = None,
                             n_probe: int = 200, cue_fraction: float = 1.0,
                             random_state: Any = 0, max_units: int | None = 4096,
                             theta: float | None = None, *, stop_after: int | None = 2,
                             update: str = "sync", max_sweeps: int = 20,
                             dtype: Any = np.float32) -> dict[str, Any]:
    """Recall error against the number of stored codes in a covariance-rule memory; ``M*``.

    The first ``M`` rows of ``patterns`` (binarised codes, 0/1) are stored by the covariance
    rule (module notes; ``a`` = the mean activity of all the rows, fixed for every load), for
    each ``M`` in ``loads`` (ascending; storage is incremental, so the whole curve costs one
    storage pass), and ``n_probe`` of the ``M`` stored rows, drawn without replacement, are
    recalled from a cue: the whole pattern (``cue_fraction=1``) or ``max(1, round(cue_fraction
    k))`` of its ``k`` active units drawn at random. Recall runs
    :func:`~neurocode.memories.threshold_run` for at most ``max_sweeps`` sweeps: k-winners
    (``theta=None``, synchronous, ``k`` = the probed pattern's activity: the network's global
    inhibition is set to the target's activity, never told which units) or fixed-threshold
    dynamics ``V_i <- Theta(h_i - theta)`` (``update`` sync or async). Per recall ``r`` of a
    pattern ``x`` with ``k`` active units::

        spurious = |r \\ x|,   missed = |x \\ r|,   error = (spurious + missed) / N

    as in the Willshaw measure, so the battery's tolerance ``0.1 k / N`` (the default here,
    ``k`` the codes' mean activity) is one wrong unit per ten active units;
    ``error_per_active`` is ``(spurious + missed) / k`` (0 for a silent pattern). The capacity
    ``M*`` is the largest load with mean error ``<= tolerance``, linear between loads
    (:func:`~neurocode.metrics.capacity.capacity_from_curve`); evaluation stops after
    ``stop_after`` consecutive loads above tolerance.

    Information (Palm 1980, Biol. Cybern. 36, 19-31; as in ``associative_capacity``): each
    unit of a recalled pattern is a binary channel with ``p = k/N``, spurious rate
    ``spurious / (N - k)`` and miss rate ``missed / k``
    (:func:`~neurocode.metrics.capacity.channel_information`), and with ``D(M)`` distinct
    patterns among the ``M`` stored::

        bits_per_synapse(M)  = D(M) N I / (N (N - 1) / 2)   (per distinct synapse J_ij = J_ji)
        bits_per_coupling(M) = D(M) N I / N^2               (over all N^2 entries, the
                                                             convention of associative_capacity)

    Theory (:mod:`neurocode.theory`, random patterns at the codes' mean activity ``a = k/N``,
    k-of-N when every code has the same activity, independent units otherwise):
    ``theory_capacity = alpha N`` at the same tolerance (in wrong units per active unit,
    ``tolerance N / k``), ``theory_capacity_critical`` (the load where the retrieval state
    disappears), ``theory_capacity_one_step`` and ``theory_capacity_asymptotic``
    (``N / (2 a |ln a|)``). Codes whose activity varies from pattern to pattern hold fewer
    than ``theory_capacity`` even when their units are random: a pattern's signal grows as
    its activity ``k``, its crosstalk as ``sqrt(k)``, so the least active patterns fail first
    (activities spread uniformly over 0.5-1.5 times the mean: about half).

    Codes wider than ``max_units`` (default 4,096: a float32 ``J`` of 64 MB) are restricted to
    a random subset of ``max_units`` units, the same for all patterns.

    Parameters
    ----------
    patterns : array (n_patterns, N) of 0/1
    loads : sequence of int, optional
        Default: 30 geometric loads from 1 to ``n_patterns``.
    tolerance : float, optional
        Largest mean recall error (fraction of ``N``) counted as recall; default ``0.1 k/N``.
    n_probe : int
    cue_fraction : float in (0, 1]
    random_state : int or Generator
        The unit subset, the probes, partial cues and asynchronous orders.
    max_units : int or None
    theta : float or None
        Fixed threshold; ``None``: k-winners.
    stop_after : int or None
    update : {"sync", "async"}
        Fixed-threshold dynamics only (k-winners are synchronous).
    max_sweeps : int
    dtype : float dtype
        Of ``J`` (float32: half the memory, faster products; the counts behind it are exact).

    Returns
    -------
    dict
        Curves over the evaluated ``loads``: ``error``, ``error_per_active``, ``overlap``
        (``(1/(N a (1-a))) sum_i (x_i - a) r_i``, 1 for a perfect recall of a pattern of
        activity ``a N``), ``spurious``, ``missed``, ``exact``, ``sweeps``, ``n_distinct``,
        ``bits_per_synapse``, ``bits_per_coupling``. Scalars: ``capacity`` (``M*``),
        ``capacity_per_unit``, ``capacity_censored``, ``bits_per_synapse_at_capacity``,
        ``bits_per_coupling_at_capacity``, ``theory_capacity``, ``theory_capacity_critical``,
        ``theory_capacity_one_step``, ``theory_capacity_asymptotic``, ``coding_level``
        (``a``), ``n_units``, ``n_units_given``, ``n_patterns``, ``k_mean``, ``n_probe``,
        ``tolerance``, ``cue_fraction``, ``k_winners`` (1.0, or 0.0 with ``theta``),
        ``trivial_error`` (``k/N``, the error of recalling nothing) and
        ``capacity_informative`` (0.0 when that is within tolerance).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.zeros((600, 400), dtype=np.uint8)
    >>> for row in X:
    ...     row[rng.choice(400, 20, replace=False)] = 1
    >>> out = sparse_hopfield_capacity(X, loads=[100, 200, 300, 400, 500, 600], n_probe=100)
    >>> print(out["capacity_per_unit"] > 0.5, round(out["theory_capacity"] / 400, 2))
    True 0.85
    """
    B = check_binary01(check_codes(patterns, "patterns"), "patterns")
    n, N0 = B.shape
    if update not in ("sync", "async"):
        raise ValueError(f"update must be 'sync' or 'async', got {update!r}")
    n_probe = _whole(n_probe, "n_probe")
    max_sweeps = _whole(max_sweeps, "max_sweeps")
    if stop_after is not None:
        stop_after = _whole(stop_after, "stop_after")
    limit = N0 if max_units is None else _whole(max_units, "max_units")
    cf = float(cue_fraction)
    if not (0.0 < cf <= 1.0):
        raise ValueError(f"cue_fraction must be in (0, 1], got {cue_fraction!r}")
    if theta is not None:
        theta = float(theta)
        if not np.isfinite(theta):
            raise ValueError(f"theta must be a finite number or None, got {theta!r}")
    elif update != "sync":
        raise ValueError("k-winners recall (theta=None) is synchronous: use update='sync' or "
                         "give a threshold")
    L = _loads(loads, n)
    rng = np.random.default_rng(random_state)
    if N0 > limit:
        B = B[:, np.sort(rng.choice(N0, size=limit, replace=False))]
    N = B.shape[1]
    k_all = B.sum(axis=1)
    k_mean = float(k_all.mean())
    if k_mean == 0:
        raise ValueError("patterns are all silent (no active unit in any code): a memory of "
                         "silent codes stores nothing; lower the binarisation threshold")
    a = k_mean / N
    if a >= 1.0:
        raise ValueError("every unit is active in every pattern: the patterns carry no "
                         "information (coding level a = 1)")
    if tolerance is None:
        tol = 0.1 * k_mean / N
    else:
        tol = float(tolerance)
        if not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")

    J = np.zeros((N, N), dtype=dtype)
    names = ("error", "error_per_active", "overlap", "spurious", "missed", "exact", "sweeps",
             "n_distinct", "k_target")
    cols = {name: np.full(len(L), np.nan) for name in names}
    seen: set[bytes] = set()
    stored, above = 0, 0
    norm = N * a * (1.0 - a)
    for li, M in enumerate(L.tolist()):
        covariance_couplings(B[stored:M], a=a, counts=J)
        seen.update(row.tobytes() for row in np.packbits(B[stored:M], axis=1))
        stored = M
        probe = np.sort(rng.choice(M, size=min(n_probe, M), replace=False))
        X = B[probe]
        kt = k_all[probe]
        cue = _partial_cues(X, cf, rng)
        if theta is None:
            R, sweeps = threshold_run(J, cue, k=kt, max_sweeps=max_sweeps)
        else:
            R, sweeps = threshold_run(J, cue, theta=theta, update=update,
                                      max_sweeps=max_sweeps, rng=rng)
        R = R.astype(bool)
        spur = (R & ~X).sum(axis=1)
        miss = (~R & X).sum(axis=1)
        wrong = spur + miss
        cols["error"][li] = float((wrong / N).mean())
        cols["error_per_active"][li] = float(np.where(kt > 0, wrong / np.maximum(kt, 1),
                                                      0.0).mean())
        cols["overlap"][li] = float(((X - a) * R).sum(axis=1).mean() / norm)
        cols["spurious"][li] = float(spur.mean())
        cols["missed"][li] = float(miss.mean())
        cols["exact"][li] = float(np.mean(wrong == 0))
        cols["sweeps"][li] = float(sweeps.mean())
        cols["n_distinct"][li] = float(len(seen))
        cols["k_target"][li] = float(kt.mean())
        above = above + 1 if cols["error"][li] > tol else 0
        if stop_after is not None and above >= stop_after:
            break
    done = np.isfinite(cols["error"])
    out: dict[str, Any] = {"loads": L[done].astype(np.float64)}
    out.update({name: cols[name][done] for name in names if name != "k_target"})
    loads_done, k_t = out["loads"], cols["k_target"][done]

    p = k_t / N
    q10 = np.clip(out["spurious"] / np.maximum(N - k_t, 1e-12), 0.0, 1.0)
    q01 = np.clip(np.where(k_t > 0, out["missed"] / np.maximum(k_t, 1e-12), 0.0), 0.0, 1.0)
    info = np.asarray(channel_information(p, q10, q01), dtype=np.float64)
    carried = out["n_distinct"] * N * info
    out["bits_per_synapse"] = carried / (N * (N - 1) / 2.0) if N > 1 else np.zeros_like(info)
    out["bits_per_coupling"] = carried / float(N * N)
    cap, censored = capacity_from_curve(loads_done, out["error"], tol)
    out["capacity"] = cap
    out["capacity_per_unit"] = cap / N
    out["capacity_censored"] = float(censored)
    out["bits_per_synapse_at_capacity"] = _interp(cap, loads_done, out["bits_per_synapse"])
    out["bits_per_coupling_at_capacity"] = _interp(cap, loads_done, out["bits_per_coupling"])

    kind = "k-of-N" if np.all(k_all == k_all[0]) else "bernoulli"
    th = covariance_capacity(a, tolerance=max(tol / a, 1e-12), patterns=kind)
    out.update({
        "theory_capacity": th["alpha"] * N,
        "theory_capacity_critical": th["alpha_c"] * N,
        "theory_capacity_one_step": one_step_capacity(a, max(tol / a, 1e-12), kind) * N,
        "theory_capacity_asymptotic": tsodyks_feigelman_capacity(a) * N,
        "coding_level": a, "n_units": float(N), "n_units_given": float(N0),
        "n_patterns": float(n), "k_mean": k_mean, "n_probe": float(n_probe), "tolerance": tol,
        "cue_fraction": cf, "k_winners": float(theta is None),
        "trivial_error": k_mean / N,
    })
    out["capacity_informative"] = float(out["trivial_error"] > tol)
    return out
