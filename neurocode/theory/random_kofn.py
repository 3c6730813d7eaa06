"""The closed forms of the sum-up: the battery's properties of random k-of-N codes.

Each composes the closed forms of the other modules for random k-of-N binary codes of
``N = REFERENCE_N`` units (``k = a N``), as :mod:`neurocode.figures.summary` draws them in grey
beside the measured runs (its module notes give the equations):

* :func:`theory_capacity_bits`: Willshaw bits per synapse at capacity
  (:func:`~neurocode.theory.willshaw.willshaw_theory`, autoassociative, half cues, tolerance
  ``0.1 k / N``);
* :func:`theory_fault_auc`: area under the binomial survival curve
  (:func:`~neurocode.theory.survival.kofn_survival_theory`), ``(k - theta + 1) / (k + 1)``;
* :func:`theory_union_false_match`: Ahmad & Hawkins' full-match false positive against a union
  of ``M = UNION_M`` codes (:func:`~neurocode.theory.unions.ahmad_hawkins_false_match`);
* :func:`theory_m_fraction_90`: the smallest fraction of units to watch to see one of an item's
  ``k`` active units with probability 0.9 (hypergeometric).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurocode.theory.survival import kofn_survival_theory
from neurocode.theory.unions import ahmad_hawkins_false_match
from neurocode.theory.willshaw import willshaw_theory

__all__ = ["REFERENCE_N", "UNION_M", "theory_capacity_bits", "theory_fault_auc",
           "theory_m_fraction_90", "theory_union_false_match"]

#: Units of the random k-of-N codes whose closed forms are drawn (the article's FC layer).
REFERENCE_N = 784
#: Codes in the union at which the interference panel reads the false-match curves.
UNION_M = 10


def theory_capacity_bits(k: Sequence[float] | np.ndarray, N: int = REFERENCE_N) -> np.ndarray:
    """Willshaw bits per synapse at capacity (autoassociative, half cues of ``max(1,
    round(k/2))`` units, tolerance ``0.1 k / N``, as the battery measures) for each ``k``; NaN
    where undefined (``k < 2``: no synapse is set)."""
    out = []
    for kk in np.atleast_1d(np.asarray(k, dtype=float)):
        if kk < 2 or kk >= N:
            out.append(np.nan)
            continue
        out.append(willshaw_theory(N, kk, 1, tolerance=min(0.1 * kk / N, 1.0),
                                   autoassociative=True,
                                   cue_units=max(1.0, float(np.rint(0.5 * kk))))
                   ["bits_per_synapse_at_capacity"])
    return np.asarray(out, dtype=float)


def theory_fault_auc(k: Sequence[int] | np.ndarray, theta: Sequence[int] | int = 1,
                     n_grid: int = 2001) -> np.ndarray:
    """Area under the binomial survival curve over the silenced fraction 0..1 (trapezoid on
    ``n_grid`` points of :func:`~neurocode.theory.survival.kofn_survival_theory`)."""
    f = np.linspace(0.0, 1.0, n_grid)
    ks = np.atleast_1d(np.asarray(k, dtype=int))
    thetas = np.broadcast_to(np.atleast_1d(np.asarray(theta, dtype=int)), ks.shape)
    out = []
    for kk, th in zip(ks, thetas, strict=True):
        p = kofn_survival_theory(int(kk), int(th), f)
        out.append(float(np.sum((p[1:] + p[:-1]) * np.diff(f)) / 2))
    return np.asarray(out)


def theory_union_false_match(k: Sequence[float] | np.ndarray, M: int = UNION_M,
                             N: int = REFERENCE_N) -> np.ndarray:
    """Ahmad & Hawkins' full-match false positive of a random k-of-N probe against the union
    of ``M`` random codes (expected union size ``s = N (1 - (1 - k/N)^M)``)."""
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    out = []
    for kk in ks:
        w = int(round(kk))
        s = N * (1.0 - (1.0 - kk / N) ** M)
        out.append(float(ahmad_hawkins_false_match(N, w, min(s, N))))
    return np.asarray(out)


def theory_m_fraction_90(k: Sequence[float] | np.ndarray, N: int = REFERENCE_N,
                         level: float = 0.9) -> np.ndarray:
    """Smallest ``m / N`` with ``P(at least one of k active units among m observed) >= level``
    (hypergeometric: ``1 - C(N-k, m) / C(N, m)``)."""
    from scipy.stats import hypergeom

    m = np.arange(1, N + 1)
    out = []
    for kk in np.atleast_1d(np.asarray(k, dtype=float)):
        p = hypergeom.sf(0, N, int(round(kk)), m)
        hit = np.nonzero(p >= level - 1e-12)[0]
        out.append(m[hit[0]] / N if hit.size else np.nan)
    return np.asarray(out)
