"""Closed forms for the Willshaw net and the information of binary codes.

* :func:`willshaw_theory`: a Willshaw net storing ``M`` random k-of-N patterns (or pairs),
  recalled from full or partial cues (Willshaw, Buneman & Longuet-Higgins 1969; Palm 1980):
  fraction of set synapses, spurious units, error, capacity ``M*`` and information per synapse.
* :func:`channel_information`: the transinformation of one unit as a binary channel (Palm 1980).
* :func:`log2_binomial`: ``log2 C(n, k)``, the bits of a k-of-N pattern.

The measures (:mod:`neurocode.metrics.capacity`) import these from here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import gammaln

from neurocode.theory._checks import _check_n, _check_tolerance

__all__ = ["channel_information", "log2_binomial", "willshaw_theory"]

_OPTIMUM_HETERO = math.log(2)       # bits per synapse, Palm 1980 (hetero-association)
_OPTIMUM_AUTO = math.log(2) / 2     # per distinct synapse: ln 2 / 4 per N^2 (completion)


def log2_binomial(n: Any, k: Any) -> np.ndarray | float:
    """``log2 C(n, k)``, through ``lgamma`` (exact enough for any ``n``; ``-inf`` outside
    ``0 <= k <= n``).

    Examples
    --------
    >>> print(round(log2_binomial(784, 20), 3))
    130.864
    """
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)) / math.log(2)
    out = np.where((k < 0) | (k > n), -np.inf, out)
    out = np.where((k == 0) | (k == n), 0.0, out)  # exact zeros
    return float(out) if out.ndim == 0 else out


# -- information ----------------------------------------------------------------------------
def _h2(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.where((p <= 0) | (p >= 1), 0.0, h)


def channel_information(p: Any, spurious_rate: Any, miss_rate: Any = 0.0) -> np.ndarray | float:
    """Mutual information (bits) between a stored unit and its recalled value.

    Each unit of a pattern is a binary channel (Palm 1980, "On associative memory", Biol.
    Cybern. 36, 19-31: the information a memory stores is the transinformation between the
    stored and the recalled patterns, summed over units): the unit is active with
    probability ``p``, an active unit is recalled silent with probability ``q01``
    (``miss_rate``), a silent one active with probability ``q10`` (``spurious_rate``)::

        I = h(p (1 - q01) + (1 - p) q10) - p h(q01) - (1 - p) h(q10),
        h(x) = -x log2 x - (1 - x) log2 (1 - x)

    Examples
    --------
    >>> print(round(channel_information(0.5, 0.0), 3), round(channel_information(0.5, 0.5), 3))
    1.0 0.311
    """
    p = np.asarray(p, dtype=np.float64)
    q10 = np.asarray(spurious_rate, dtype=np.float64)
    q01 = np.asarray(miss_rate, dtype=np.float64)
    out = _h2(p * (1 - q01) + (1 - p) * q10) - p * _h2(q01) - (1 - p) * _h2(q10)
    out = np.maximum(out, 0.0)
    return float(out) if out.ndim == 0 else out


def _distinct_synapses(n_in: int, n_out: int, auto: bool) -> float:
    """Distinct binary synapses: ``N (N - 1) / 2`` for the symmetric autoassociative ``W`` (its
    diagonal never carries a unit the cue leaves out), ``n_in n_out`` hetero-associative."""
    return n_out * (n_out - 1) / 2.0 if auto else float(n_in) * n_out


# -- theory -----------------------------------------------------------------------------------
def willshaw_theory(N: int, k: float, M: Any, tolerance: float = 0.01,
                    autoassociative: bool = False, cue_units: float | None = None
                    ) -> dict[str, Any]:
    """Closed forms for a Willshaw net storing ``M`` random k-of-N patterns (or pairs), recalled
    from cues of ``c`` active units.

    Each stored pair ``(a, b)`` of independent random k-of-N patterns sets ``W_ij`` with
    probability ``q = k^2 / N^2`` (autoassociative, off the diagonal: ``q = k (k-1) /
    (N (N-1))``, both units in one pattern). After ``M`` patterns the fraction of set synapses
    is (Willshaw, Buneman & Longuet-Higgins 1969, Nature 222, 960-962; Palm 1980, "On
    associative memory", Biol. Cybern. 36, 19-31)::

        p1(M) = 1 - (1 - q)^M

    The cue holds ``c`` of the stored cue pattern's ``k`` active units (``cue_units``; ``c = k``,
    the default, is the full cue). Threshold recall fires the ``k`` target units (the
    ``c`` given ones included, autoassociative) and each of the ``N - k`` silent units whose
    ``c`` synapses from the cue units were all set by the other ``M - 1`` patterns; treating
    those synapses as independent::

        spurious(M) ~ (N - k) p1(M - 1)^c,        error(M) = spurious(M) / N

    (for large ``M``, ``(N - k) p1^c`` as usually written; the independence approximation runs
    a little low, the synapses of one unit being correlated through the patterns it is in).
    The implied capacity is the largest (real) ``M`` with ``error <= tolerance``, i.e.
    ``spurious <= tolerance N``::

        p1* = (tolerance N / (N - k))^(1/c),   M* = 1 + ln(1 - p1*) / ln(1 - q)

    (``inf`` when ``p1* >= 1`` or ``q = 0``), and ``capacity_one_spurious`` the same with at
    most one spurious unit per recall (``p1* = (1 / (N - k))^(1/c)``), the classic criterion
    under which the capacity peaks near ``k ~ log2 N``.

    **Information.** Each unit of a recalled pattern is a binary channel
    (:func:`channel_information`; Palm 1980), and a recall is credited only with what its cue
    does not already hold (partial cues: Palm & Sommer 1996, "Associative data storage and
    retrieval in neural networks"; Schwenker, Sommer & Palm 1996, "Iterative retrieval of
    sparsely coded associative memory patterns", Neural Networks 9). Autoassociative: the cue
    leaves ``N - c`` units unspecified, ``k - c`` of them active, recalled with the spurious
    rate above and no misses::

        info_bits(M)        = M (N - c) I((k - c) / (N - c), p1(M - 1)^c, 0)
        bits_per_synapse(M) = info_bits(M) / (N (N - 1) / 2)

    over the distinct synapses of the symmetric ``W`` (its diagonal is never read for a unit
    the cue leaves out). A full cue (``c = k``) adds nothing: 0 bits. Hetero-associative, the
    target ``b`` is a separate pattern and the cue holds none of it::

        info_bits(M)        = M N I(k / N, p1(M - 1)^c, 0),   bits_per_synapse = info_bits / N^2

    (``M`` stands for the distinct patterns: random patterns almost never repeat). The bound a
    valid measure respects is ``bits_bound_per_synapse = 1``: ``S`` binary synapses hold at
    most ``S`` bits (``synapse_bits_total = S``). The known asymptotic optima (``N -> inf``,
    vanishing error, ``k ~ log N``), given as ``bits_asymptotic_optimum``: ``ln 2 ~ 0.69``
    bits per synapse hetero-associative (Palm 1980); autoassociative one-step pattern
    completion ``ln 2 / 4 ~ 0.17`` per ``N^2`` synapses (Palm 1988, as quoted by Schwenker,
    Sommer & Palm 1996; Knoblauch & Palm 2020, Neural Computation 32, 205), i.e. ``ln 2 / 2 ~
    0.35`` per distinct synapse, the value used here. With ``k = log2 N`` (hetero) and ``c = k/2
    = log2 N`` (auto) these forms approach them from below (``N = 2^20``, at the best ``M``:
    0.66 hetero, ``k = 20``; 0.34 auto, ``k = 40``). The optima hold for vanishing error and
    bound nothing at finite ``N``: recalls with many spurious units still carry information.
    Where the spurious rate dwarfs the prior, the forms give about ``ln(1 / (1 - p1)) log2(1 /
    p1)`` (at most ``ln 2``, at ``p1 = 1/2``) per synapse hetero-associative, and ``2 c (k -
    c) / (k (k - 1))`` times that per distinct synapse autoassociative (0.42 for ``k = 6``,
    ``c = 3``). Only ``bits_bound_per_synapse`` is a bound.

    Parameters
    ----------
    N : int
        Units (``n_in = n_out = N``).
    k : float
        Active units per pattern (``0 < k <= N``; a mean activity may be fractional).
    M : int or array of int
        Stored patterns.
    tolerance : float
        Error tolerance of the capacity (fraction of wrong units per recall).
    autoassociative : bool
        ``q = k (k-1) / (N (N-1))`` (autoassociative) instead of ``k^2 / N^2`` (pairs), and the
        autoassociative information accounting.
    cue_units : float, optional
        Active units of the cue, ``0 < c <= k`` (a mean may be fractional); ``None``: ``c = k``.

    Returns
    -------
    dict
        ``loads`` (``M``), ``fraction_set``, ``spurious``, ``error``, ``info_bits``,
        ``bits_per_synapse`` (floats for a scalar ``M``, arrays otherwise); ``capacity``,
        ``capacity_one_spurious``, ``bits_per_synapse_at_capacity``, ``info_bits_total`` (at
        ``M*``), ``synapse_bits_total``, ``bits_bound_per_synapse`` (1.0),
        ``bits_asymptotic_optimum``, ``cue_units`` (``c``).

    Examples
    --------
    >>> out = willshaw_theory(1024, 10, 5000)
    >>> print(round(out["fraction_set"], 4), round(out["spurious"], 3))
    0.3793 0.062
    >>> half = willshaw_theory(1024, 10, 2000, autoassociative=True, cue_units=5)
    >>> print(round(half["spurious"], 3), round(half["bits_per_synapse"], 4))
    0.099 0.1712
    """
    N = _check_n(N, "N")
    kf = float(k)
    if not (np.isfinite(kf) and 0 < kf <= N):
        raise ValueError(f"k must be in (0, N={N}], got {k!r}")
    cf = kf if cue_units is None else float(cue_units)
    if not (np.isfinite(cf) and 0 < cf <= kf):
        raise ValueError(f"cue_units must be in (0, k={kf:g}], got {cue_units!r}")
    tol = _check_tolerance(tolerance)
    Ms = np.asarray(M, dtype=np.float64)
    if not np.all(np.isfinite(Ms)) or np.any(Ms < 0):
        raise ValueError("M must be finite numbers of stored patterns >= 0")
    if autoassociative:
        q = kf * (kf - 1) / (N * (N - 1)) if N > 1 else 0.0
    else:
        q = kf * kf / (N * N)
    q = min(max(q, 0.0), 1.0)
    S = _distinct_synapses(N, N, autoassociative)

    def p1(m: np.ndarray) -> np.ndarray:
        return 1.0 - (1.0 - q) ** np.maximum(m, 0.0)

    def spurious(m: np.ndarray) -> np.ndarray:
        return (N - kf) * p1(m - 1) ** cf

    def info(m: np.ndarray) -> np.ndarray:
        rate = np.clip(p1(m - 1) ** cf, 0.0, 1.0)
        if autoassociative:
            free = N - cf
            prior = (kf - cf) / free if free > 0 else 0.0
            return m * free * channel_information(prior, rate)
        return m * N * channel_information(kf / N, rate)

    def bits(m: np.ndarray) -> np.ndarray:
        return info(m) / S if S > 0 else np.full_like(np.asarray(m, dtype=float), np.nan)

    def cap(limit: float) -> float:
        if N - kf <= 0 or q <= 0:
            return float("inf")
        pstar = (limit / (N - kf)) ** (1.0 / cf)
        if pstar >= 1.0:
            return float("inf")
        return float(1.0 + math.log1p(-pstar) / math.log1p(-q)) if q < 1 else 1.0

    c = cap(tol * N)
    out: dict[str, Any] = {
        "loads": Ms, "fraction_set": p1(Ms), "spurious": spurious(Ms),
        "error": spurious(Ms) / N, "info_bits": info(Ms), "bits_per_synapse": bits(Ms),
    }
    if Ms.ndim == 0:
        out = {name: float(v) for name, v in out.items()}
    at_c = np.isfinite(c)
    out["capacity"] = c
    out["capacity_one_spurious"] = cap(1.0)
    out["bits_per_synapse_at_capacity"] = float(bits(np.asarray(c))) if at_c else float("nan")
    out["info_bits_total"] = float(info(np.asarray(c))) if at_c else float("nan")
    out["synapse_bits_total"] = S
    out["bits_bound_per_synapse"] = 1.0
    out["bits_asymptotic_optimum"] = _OPTIMUM_AUTO if autoassociative else _OPTIMUM_HETERO
    out["cue_units"] = cf
    return out
