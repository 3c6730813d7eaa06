"""Survival of k-of-N items when units die: the measured fraction of items that keep at least
``theta`` active units, beside the binomial closed form
(:func:`~neurocode.theory.survival.kofn_survival_theory`); see :mod:`neurocode.metrics.fault`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.metrics._validate import check_int
from neurocode.metrics._validate import check_threshold as _check_threshold
from neurocode.metrics.fault_curves import _DEFAULT_SURVIVAL_FRACTIONS
from neurocode.theory._checks import _check_fractions
from neurocode.theory.survival import kofn_survival_theory, n_silenced


# -- survival of k-of-N items ---------------------------------------------------------------
def kofn_survival(
    codes: Any,
    theta: int,
    fractions: Any = None,
    n_draws: int = 100,
    random_state: Any = 0,
    threshold: float = 0.0,
) -> dict[str, float | np.ndarray]:
    """Measured survival of the items of a code: the fraction keeping ``theta`` active units.

    A direct Monte Carlo of unit deaths on the codes (no rule, no readout): for each draw, a
    random permutation of the ``N`` units, whose first ``m(f) = floor(f N + 1/2)`` are
    silenced at fraction ``f`` (as in :func:`fault_tolerance`); an item *survives* while at
    least ``theta`` of its active units (``|code| > threshold``) are alive::

        S(f) = (1/n) sum_items [ #(active and alive units of the item) >= theta ]

    ``survival`` is the mean of ``S`` over draws, ``survival_std`` its standard deviation over
    draws. When every item has the same number ``k`` of active units (a k-of-N code), the
    theory :func:`kofn_survival_theory` is given beside it: ``theory_survival`` for exactly
    ``m(f)`` silenced units (hypergeometric, what is measured here) and
    ``theory_survival_binomial`` for independent deaths with probability ``f`` (the binomial
    tail, its limit for many units).

    Parameters
    ----------
    codes : array (n_items, n_units)
        One code per item (binary, or continuous with ``threshold``).
    theta : int
        Active units an item needs to survive (``>= 0``).
    fractions : array of floats in [0, 1], optional
        Default 0, 0.05, ..., 1 (21 points).
    n_draws : int, default 100
        Random permutations (each costs ``O(n_items N)``).
    random_state : int or Generator, default 0
    threshold : float, default 0.0

    Returns
    -------
    dict
        ``fractions``, ``survival``, ``survival_std`` (F,); ``theory_survival`` and
        ``theory_survival_binomial`` (F,) for codes of constant activity ``k``; scalars
        ``k`` (mean active units per item), ``theta``, ``n_items``, ``n_units``, ``n_draws``.

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> codes = random_codes(2000, 100, 10, random_state=0)
    >>> res = kofn_survival(codes, 3, fractions=[0.5], n_draws=20)
    >>> print(round(float(res["survival"][0]), 2), round(float(res["theory_survival"][0]), 2))
    0.95 0.95
    """
    from neurocode.metrics.activity import check_codes

    C = check_codes(codes)
    theta = check_int(theta, "theta", 0)
    f = _check_fractions(fractions, _DEFAULT_SURVIVAL_FRACTIONS)
    n_draws = check_int(n_draws, "n_draws", 1)
    t = _check_threshold(threshold)
    n, N = C.shape
    active = np.abs(C) > t
    counts = active.sum(axis=1)
    m = n_silenced(f, N)
    rng = np.random.default_rng(random_state)
    S = np.empty((n_draws, f.size))
    # active units of each item as a padded index list (n, width); padding points at an extra
    # "unit" N whose rank is -1 (always silenced)
    width = max(int(counts.max()), 1)
    rows, cols = np.nonzero(active)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    idx = np.full((n, width), N, dtype=np.int64)
    idx[rows, np.arange(len(cols)) - np.repeat(starts, counts)] = cols
    for d in range(n_draws):
        rank = np.full(N + 1, -1, dtype=np.int64)
        rank[rng.permutation(N)] = np.arange(N)  # unit u is silenced at f iff rank[u] < m(f)
        if theta == 0:
            S[d] = 1.0
            continue
        if theta > width:
            S[d] = 0.0
            continue
        # the theta-th largest rank among an item's active units: the item keeps theta units
        # iff that unit is alive, i.e. its rank >= m(f)
        kth = np.partition(rank[idx], width - theta, axis=1)[:, width - theta]
        S[d] = (kth[:, None] >= m[None, :]).mean(axis=0)
    out: dict[str, float | np.ndarray] = {"fractions": f, "survival": S.mean(axis=0),
                                          "survival_std": S.std(axis=0)}
    if n and (counts == counts[0]).all() and counts[0] >= 1:
        k = int(counts[0])
        out["theory_survival"] = kofn_survival_theory(k, theta, f, n_units=N)
        out["theory_survival_binomial"] = kofn_survival_theory(k, theta, f)
    out.update(k=float(counts.mean()), theta=float(theta), n_items=float(n), n_units=float(N),
               n_draws=float(n_draws))
    return out
