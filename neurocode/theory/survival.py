"""Closed forms for the survival of the items of random k-of-N codes when units die.

* :func:`kofn_survival_theory`: the probability that an item keeps at least ``theta`` of its
  ``k`` units, the binomial tail for independent deaths and the hypergeometric one for exactly
  ``m(f)`` dead units (Willshaw, Buneman & Longuet-Higgins 1969; Földiák 2002).
* :func:`n_silenced`: ``m(f) = floor(f N + 1/2)``, the units silenced at fraction ``f``.

The measures (:mod:`neurocode.metrics.fault`) import these from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.theory._checks import _check_fractions, _check_int

__all__ = ["kofn_survival_theory", "n_silenced"]


def n_silenced(fraction: Any, n_units: int) -> np.ndarray:
    """Units silenced at each fraction: ``m(f) = floor(f N + 1/2)`` (round half up), in [0, N].

    Examples
    --------
    >>> print(n_silenced([0.0, 0.25, 0.5, 1.0], 10).tolist())
    [0, 3, 5, 10]
    """
    f = np.asarray(fraction, dtype=np.float64)
    return np.clip(np.floor(f * n_units + 0.5), 0, n_units).astype(np.int64)


def kofn_survival_theory(k: int, theta: int, fractions: Any, n_units: int | None = None) -> np.ndarray:
    """Probability that an item of a k-of-N code keeps at least ``theta`` of its ``k`` units.

    Each unit dies independently with probability ``f`` (``n_units=None``; the limit of many
    units): the number of an item's units that survive is ``Binomial(k, 1 - f)`` and::

        P(f) = sum_{j = theta}^{k} C(k, j) (1 - f)^j f^(k - j)

    the binomial tail (``scipy.stats.binom.sf(theta - 1, k, 1 - f)``). With ``n_units = N``,
    exactly ``m = floor(f N + 1/2)`` units die (as
    :func:`~neurocode.metrics.fault.fault_tolerance` and
    :func:`~neurocode.metrics.fault.kofn_survival` silence them) and the survivors among an
    item's ``k`` units follow the hypergeometric law: ``P(f) = hypergeom.sf(theta - 1, N,
    N - m, k)``. This is the graceful degradation of distributed codes (Willshaw, Buneman &
    Longuet-Higgins 1969; Földiák 2002, "Sparse coding in the primate cortex"): a local code
    (``k = theta = 1``) survives with probability ``1 - f``; ``k`` units read at ``theta < k``
    survive far longer.

    Examples
    --------
    >>> print(kofn_survival_theory(1, 1, [0.0, 0.25, 1.0]).tolist())
    [1.0, 0.75, 0.0]
    >>> print(round(float(kofn_survival_theory(10, 3, [0.5])[0]), 4))
    0.9453
    """
    from scipy.stats import binom, hypergeom

    k = _check_int(k, "k", 1)
    theta = _check_int(theta, "theta", 0)
    f = _check_fractions_ordered(fractions)
    if n_units is None:
        return np.asarray(binom.sf(theta - 1, k, 1.0 - f), dtype=np.float64)
    N = _check_int(n_units, "n_units", 1)
    if k > N:
        raise ValueError(f"k ({k}) must be <= n_units ({N})")
    alive = N - n_silenced(f, N)
    return np.asarray(hypergeom.sf(theta - 1, N, alive, k), dtype=np.float64)


def _check_fractions_ordered(fractions: Any) -> np.ndarray:
    """Fractions in [0, 1] as given (order kept): for closed forms evaluated point by point."""
    f = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"fractions must be a non-empty 1-D sequence, got shape {f.shape}")
    _check_fractions(f, f)  # f is given: the default is never used
    return f
