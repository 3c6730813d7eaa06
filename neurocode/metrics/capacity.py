"""Memory capacity of codes: how many patterns a code can name, and how many a memory can hold.

* :func:`representational_capacity`: ``log2 C(N, k)`` bits for the measured activity ``k``
  beside the dense (``N`` bits) and local (``log2 N`` bits) counts, and the distinct codes
  actually observed.
* :func:`associative_capacity`: recall error against the number ``M`` of stored binarised codes
  in a Willshaw net or a Hopfield net, the capacity ``M*`` (largest ``M`` with error within a
  tolerance) and the information stored per synapse.
* :func:`willshaw_theory`: the closed forms for random k-of-N patterns (Willshaw, Buneman &
  Longuet-Higgins 1969; Palm 1980), from full or partial cues. It lives in
  :mod:`neurocode.theory.willshaw`, with :func:`channel_information` and
  :func:`log2_binomial`; all three are imported here and keep their names in this module.
* :func:`capacity_vs_k`: measured and theoretical Willshaw capacity of random k-of-N codes over
  ``k`` at fixed ``N``: it peaks at sparse activity, neither at ``k = 1`` nor at ``k = N/2``.
* :func:`willshaw_curve`: the fast path under the Willshaw measures, on patterns given as index
  lists (active units per pattern), for memories of many thousands of units and patterns.

The measures are split along their ideas, and every name keeps its address here:

* :mod:`neurocode.metrics.recall`: index lists, loads, partial cues, and
  :func:`capacity_from_curve` (``M*`` from a recall curve);
* :mod:`neurocode.metrics.willshaw_memory`: the bit-packed Willshaw memory and
  :func:`willshaw_curve` (the information per synapse a recall adds to its cue: see there);
* :mod:`neurocode.metrics.hopfield_memory`: the Hopfield memory's curve and
  :data:`AGS_CAPACITY`;
* this module: what a code can name (:func:`representational_capacity`), the battery's measure
  on codes (:func:`associative_capacity`), and capacity over ``k`` (:func:`capacity_vs_k`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocode.memories import check_binary
from neurocode.metrics._validate import check_codes
from neurocode.metrics.hopfield_memory import AGS_CAPACITY, _hopfield_bits, _hopfield_run
from neurocode.metrics.recall import (
    _check_loads,
    _check_run_args,
    _cue_sizes,
    _curve_summary,
    _geometric_loads,
    _Patterns,
    capacity_from_curve,
)
from neurocode.metrics.willshaw_memory import (
    _willshaw_information,
    _willshaw_result,
    _willshaw_run,
    willshaw_curve,
)
from neurocode.theory._checks import _check_n, _check_tolerance  # noqa: F401 (old address)
from neurocode.theory.willshaw import (  # noqa: F401 (the private names: their old address)
    _OPTIMUM_AUTO,
    _OPTIMUM_HETERO,
    _distinct_synapses,
    channel_information,
    log2_binomial,
    willshaw_theory,
)

__all__ = [
    "AGS_CAPACITY",
    "associative_capacity",
    "capacity_from_curve",
    "capacity_vs_k",
    "channel_information",
    "log2_binomial",
    "representational_capacity",
    "willshaw_curve",
    "willshaw_theory",
]

_DEFAULT_MAX_UNITS = {"willshaw": 16_384, "hopfield": 4096}


# -- validation helpers ---------------------------------------------------------------------
def _check_patterns(patterns: Any) -> np.ndarray:
    X = check_codes(patterns, "patterns")
    return check_binary(X, "patterns", "associative_capacity")


# -- representational capacity ------------------------------------------------------------------
def representational_capacity(codes: Any, threshold: float = 0.0) -> dict[str, float]:
    """How many distinct patterns a code of the measured activity can name, in bits.

    The codes are binarised (a unit is active when its code ``> threshold``). With ``N`` units
    and ``k`` = the mean number of active units per code, rounded half up (``floor(mean + 1/2)``)
    to a whole number, the counts of possible codes are::

        sparse (k of N):  C(N, k) patterns  ->  bits = log2 C(N, k)   (via lgamma, any N)
        dense:            2^N patterns      ->  bits_dense = N
        local (1 of N):   N patterns        ->  bits_local = log2 N

    The article ("Sparse coding: a simple exploration") says a sparse code of density ``d``
    has "2^d" combinations; that counts the patterns of ``d`` binary units, not the ways to
    choose which ``d`` of ``N`` units fire. The number of k-of-N patterns is ``C(N, d)``
    (``bits``); the article's figure is reported as ``bits_article = k`` for comparison
    (``log2 C(N, k) >= k`` for ``1 <= k <= N - 1``, and ``~ k log2(N e / k)`` for ``k << N``).

    The distinct codes observed are counted exactly: each binarised row is packed to bytes and
    hashed into a set (a hash collision between different rows cannot merge them: the set
    compares the bytes). ``log2_distinct`` is the entropy of the empirical code distribution
    if all distinct codes were equally often used, an upper bound on the bits the data use;
    it cannot exceed ``log2 n_samples``.

    Parameters
    ----------
    codes : array (n_samples, n_units)
        Codes of any kind (rate, binary, spike-count); NaN refused.
    threshold : float
        Activity threshold.

    Returns
    -------
    dict
        ``n_units``, ``n_samples``, ``k_mean`` (mean active units), ``k`` (rounded), ``bits``
        (``log2 C(N, k)``), ``bits_dense`` (``N``), ``bits_local`` (``log2 N``),
        ``bits_article`` (``k``), ``n_distinct``, ``log2_distinct``, ``distinct_fraction``
        (``n_distinct / n_samples``).

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.eye(4)[[0, 1, 1, 2]]
    >>> out = representational_capacity(codes)
    >>> print(out["k"], round(out["bits"], 6), out["n_distinct"])
    1.0 2.0 3.0
    """
    X = check_codes(codes)
    thr = float(threshold)
    if not np.isfinite(thr):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    B = X > thr
    n, N = B.shape
    k_mean = float(B.sum(axis=1).mean())
    k = int(min(N, math.floor(k_mean + 0.5)))
    packed = np.packbits(B, axis=1)
    n_distinct = len({row.tobytes() for row in packed})
    return {
        "n_units": float(N),
        "n_samples": float(n),
        "k_mean": k_mean,
        "k": float(k),
        "bits": float(log2_binomial(N, k)),
        "bits_dense": float(N),
        "bits_local": float(math.log2(N)),
        "bits_article": float(k),
        "n_distinct": float(n_distinct),
        "log2_distinct": float(math.log2(n_distinct)),
        "distinct_fraction": n_distinct / n,
    }


# -- the battery measure --------------------------------------------------------------------
def associative_capacity(patterns: Any, loads: Any = None, memory: str = "willshaw",
                         tolerance: float = 0.01, n_probe: int = 200, random_state: Any = 0,
                         *, cue_fraction: float = 1.0, stop_after: int | None = 2,
                         max_units: int | None = None, update: str = "async",
                         max_sweeps: int = 20) -> dict[str, Any]:
    """Recall error against the number of stored codes, capacity ``M*`` and bits per synapse.

    The first ``M`` rows of ``patterns`` (binarised codes, 0/1) are stored in an associative
    memory of ``N`` units, for each ``M`` in ``loads`` (ascending; storage is incremental:
    rows ``M_prev .. M-1`` are added to the same memory), and ``n_probe`` of the ``M`` stored
    rows, drawn without replacement, are recalled from a cue: the whole stored pattern
    (``cue_fraction=1``, the default) or ``max(1, round(cue_fraction k))`` (halves rounded to
    even) of its ``k`` active units drawn at random (the others set to 0).

    ``memory="willshaw"``: autoassociative Willshaw net (Willshaw, Buneman & Longuet-Higgins
    1969), clipped Hebbian binary synapses, threshold recall ``y_j = [sum_i c_i W_ij >= sum_i
    c_i]`` (see :mod:`neurocode.models.memory`; computed bit-packed here, see the module
    notes). Per recall ``r`` of pattern ``x`` (``k`` active)::

        error = (spurious + missed) / N,   spurious = |r \\ x|,   missed = |x \\ r|

    ``memory="hopfield"``: Hopfield net (Hopfield 1982), couplings ``T = (1/N) sum_mu xi^mu
    xi^mu^T`` of ``xi = 2x - 1``, zero diagonal, run from ``s = 2c - 1`` by
    :func:`~neurocode.memories.hopfield_run` (``update``, at most ``max_sweeps`` sweeps);
    ``r = [s > 0]`` and ``error = 1 - m`` with the overlap ``m = (1/N) sum_i (2r_i - 1)(2x_i -
    1)`` (so ``error = 2 (spurious + missed) / N``, twice the fraction of wrong units). Random
    unbiased patterns are retrieved up to ``M ~ 0.138 N`` (Amit, Gutfreund & Sompolinsky
    1985), given as ``theory_capacity``; correlated or biased codes hold far fewer.

    The capacity ``M*`` is the largest ``M`` with mean error ``<= tolerance``, linear between
    loads (:func:`capacity_from_curve`), measured from the same cues as the information below
    (with ``cue_fraction < 1`` it is the capacity for completing patterns from that part of
    them, lower than the full cue's). The battery uses a half cue, ``cue_fraction=0.5``.

    **Willshaw information.** Each unit of a recalled pattern is a binary channel (Palm 1980,
    "On associative memory", Biol. Cybern. 36, 19-31; :func:`channel_information`), and a
    recall is credited only with what its cue does not already hold (partial cues: Palm &
    Sommer 1996, "Associative data storage and retrieval in neural networks"; Schwenker,
    Sommer & Palm 1996, Neural Networks 9). A cue of ``c`` of the pattern's ``k``
    active units leaves ``N - c`` units unspecified, ``k - c`` of them active: prior ``p' = (k
    - c) / (N - c)``, spurious rate ``q10 = spurious / (N - k)``, miss rate ``q01 = missed /
    (k - c)`` (``k``, ``c``, ``spurious``, ``missed``: means over the probes). With ``D(M)``
    the number of distinct patterns among the ``M`` stored (a repeated code adds no
    information; ``D = M`` for codes that never repeat)::

        info_bits(M)        = D(M) (N - c) I(p', q10, q01)
        bits_per_synapse(M) = info_bits(M) / (N (N - 1) / 2)

    over the distinct binary synapses of the symmetric autoassociative ``W`` (its diagonal
    never carries a unit the cue leaves out). A full cue (``cue_fraction=1``) holds the whole
    pattern and is credited with 0 bits. ``bits_per_synapse_at_capacity`` and
    ``info_bits_total`` are the values at ``M*`` (linear between loads); a valid measure keeps
    ``info_bits_total <= synapse_bits_total = N (N - 1) / 2``, i.e. ``bits_per_synapse <=
    bits_bound_per_synapse = 1`` (``S`` binary synapses hold at most ``S`` bits). The asymptotic
    optimum of completion from half cues, ``bits_asymptotic_optimum = ln 2 / 2 ~ 0.35`` per
    distinct synapse (``ln 2 / 4`` per ``N^2``; see :func:`willshaw_theory`), is approached
    slowly: about 0.3 at ``N ~ 10^4`` for ``k ~ 2 log2 N``. It holds for vanishing error, and
    is no bound: noisy recalls still carry information, and at a lax tolerance the measure
    can pass it (0.36 at ``N = 2048``, ``k = 11``, ``c = 6``, tolerance 0.01). For comparison
    the Willshaw result carries the closed forms for random patterns with the codes' mean
    activity ``k`` and mean cue size ``c`` (:func:`willshaw_theory`, autoassociative,
    ``cue_units = c`` by the cue rule over all rows): ``theory_fraction_set``,
    ``theory_spurious``, ``theory_error``, ``theory_bits_per_synapse`` over ``loads``,
    ``theory_capacity``, ``theory_bits_per_synapse_at_capacity`` and ``theory_cue_units``.

    **Hopfield information** is still counted from the whole pattern, ``bits_per_synapse(M) =
    D(M) N I(k/N, q10, q01) / N^2`` with ``q01 = missed / k``, over all ``N^2`` couplings.

    Defaults are chosen for speed (the battery runs this on 10,000 codes): ``loads`` = 30
    geometric loads from 1 to ``n_patterns``; ``n_probe = 200`` probes per load; evaluation
    stops after ``stop_after = 2`` consecutive loads above tolerance (``None``: all loads;
    the curves hold only the evaluated loads); codes wider than ``max_units`` (default 16,384
    for Willshaw, 32 MB of synapse bits; 4,096 for Hopfield, 64 MB of int32 couplings and
    ``O(N^2)`` per sweep) are restricted to a random subset of ``max_units`` units, the same
    for all patterns (``n_units`` reports the width used, ``n_units_given`` the original).

    Parameters
    ----------
    patterns : array (n_patterns, N) of 0/1
        Binarised codes (e.g. ``codes > threshold``), in storage order.
    loads : sequence of int, optional
        Numbers of stored patterns (``1 <= M <= n_patterns``).
    memory : {"willshaw", "hopfield"}
    tolerance : float
        Largest mean recall error counted as recall.
    n_probe : int
        Stored patterns recalled per load.
    random_state : int or Generator
        Probes, partial cues, the unit subset, and the Hopfield update order.
    cue_fraction : float in (0, 1]
    stop_after : int or None
    max_units : int or None
    update : {"async", "sync"}
        Hopfield updates.
    max_sweeps : int
        Hopfield sweeps per recall at most.

    Returns
    -------
    dict
        Curves over ``loads``: ``error``, ``spurious``, ``missed`` (mean units per recall),
        ``exact`` (fraction of probes recalled exactly), ``n_distinct`` (``D(M)``),
        ``bits_per_synapse``; Willshaw: ``info_bits``, ``fraction_set`` and the ``theory_*``
        curves; Hopfield: ``overlap``, ``sweeps``.
        Scalars: ``capacity`` (``M*``), ``capacity_per_unit`` (``M*/N``), ``capacity_censored``
        (1.0 when the error stayed within tolerance at the last load: ``M*`` is a lower
        bound), ``bits_per_synapse_at_capacity``, ``theory_capacity``, ``n_units``,
        ``n_units_given``, ``n_patterns``, ``k_mean``, ``n_probe``, ``tolerance``,
        ``cue_fraction``; Willshaw: ``info_bits_total`` (bits at ``M*``),
        ``synapse_bits_total`` (``N (N - 1) / 2``), ``bits_bound_per_synapse`` (1.0),
        ``bits_asymptotic_optimum`` (``ln 2 / 2``), ``cue_units`` (mean active units of the
        cues), ``theory_bits_per_synapse_at_capacity``, ``theory_cue_units``;
        ``trivial_error``, the error of an output with every unit off
        (``k/N``; Hopfield ``2k/N``), and ``capacity_informative``, 0.0 when that trivial
        output is itself within tolerance (then ``M*`` says nothing about recall: choose a
        tolerance below ``k/N``, as the battery does, or read ``exact``).

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> X = random_codes(3000, 256, 8, random_state=0)
    >>> out = associative_capacity(X, loads=[250, 500, 1000, 2000, 3000], n_probe=100)
    >>> print(500 < out["capacity"] < 3000)
    True
    """
    if memory not in ("willshaw", "hopfield"):
        raise ValueError(f"memory must be 'willshaw' or 'hopfield', got {memory!r}")
    if update not in ("async", "sync"):
        raise ValueError(f"update must be 'async' or 'sync', got {update!r}")
    B = _check_patterns(patterns)
    n, N0 = B.shape
    loads = _geometric_loads(n, 30) if loads is None else _check_loads(loads, n)
    tol, n_probe, cue_fraction, stop_after = _check_run_args(tolerance, n_probe, cue_fraction,
                                                             stop_after)
    limit = _DEFAULT_MAX_UNITS[memory] if max_units is None else _check_n(max_units, "max_units")
    max_sweeps = _check_n(max_sweeps, "max_sweeps")
    rng = np.random.default_rng(random_state)
    if N0 > limit:
        B = B[:, np.sort(rng.choice(N0, size=limit, replace=False))]
    N = B.shape[1]
    common = {"n_units_given": float(N0), "n_patterns": float(n), "n_probe": float(n_probe),
              "tolerance": tol, "cue_fraction": cue_fraction}
    if memory == "willshaw":
        run = _willshaw_run(_Patterns.from_dense(B), None, loads, tol, n_probe, cue_fraction,
                            stop_after, rng)
        out = _willshaw_result(run, tol, n_probe, cue_fraction)
        k_rows = B.sum(axis=1)
        k_all = float(k_rows.mean())
        c_all = float(_cue_sizes(k_rows, cue_fraction).mean())  # the cue rule, every row
        if k_all > 0:
            th = willshaw_theory(N, k_all, out["loads"], tolerance=tol, autoassociative=True,
                                 cue_units=min(c_all, k_all))
            out.update({"theory_fraction_set": th["fraction_set"],
                        "theory_spurious": th["spurious"], "theory_error": th["error"],
                        "theory_bits_per_synapse": th["bits_per_synapse"],
                        "theory_capacity": th["capacity"],
                        "theory_bits_per_synapse_at_capacity": th["bits_per_synapse_at_capacity"],
                        "theory_cue_units": th["cue_units"]})
        else:
            z = np.zeros(len(out["loads"]))
            out.update({"theory_fraction_set": z, "theory_spurious": z, "theory_error": z,
                        "theory_bits_per_synapse": z, "theory_capacity": float("inf"),
                        "theory_bits_per_synapse_at_capacity": 0.0, "theory_cue_units": 0.0})
        out["k_mean"] = k_all
    else:
        run = _hopfield_run(B, loads, tol, n_probe, cue_fraction, stop_after, update,
                            max_sweeps, rng)
        out = {k: run[k] for k in ("loads", "error", "overlap", "spurious", "missed", "exact",
                                   "sweeps", "n_distinct")}
        out.update(_curve_summary(run, tol, _hopfield_bits(run)))
        out.update({"n_units": float(N), "k_mean": float(B.sum(axis=1).mean()),
                    "theory_capacity": AGS_CAPACITY * N})
    out.update(common)
    out["capacity_per_unit"] = out["capacity"] / N
    # the error of a memory that recalls nothing at all (every unit off): when it is within
    # tolerance, M* measures nothing (a very sparse code at a tolerance of a fraction of N)
    trivial = out["k_mean"] / N * (2.0 if memory == "hopfield" else 1.0)
    out["trivial_error"] = trivial
    out["capacity_informative"] = float(trivial > tol)
    return out


# -- capacity over k ------------------------------------------------------------------------
class _RandomFeed:
    """Random k-of-N patterns (and independent partners), drawn lazily in storage order."""

    def __init__(self, N: int, k: int, auto: bool, rng: np.random.Generator) -> None:
        self.n_units, self.k, self.auto, self.rng = N, k, auto, rng

    def _draw(self, m: int) -> _Patterns:
        from neurocode.random_codes import random_code_indices

        idx = random_code_indices(m, self.n_units, self.k, self.rng)
        return _Patterns(np.arange(m + 1, dtype=np.int64) * self.k, idx.ravel(), self.n_units)

    def __call__(self, m0: int, m1: int) -> tuple[_Patterns, _Patterns]:
        x = self._draw(m1 - m0)
        return x, (x if self.auto else self._draw(m1 - m0))


def capacity_vs_k(N: int, k_values: Sequence[int], loads: Any = None, tolerance: float = 0.01,
                  memory: str = "willshaw", random_state: Any = 0, *, n_probe: int = 200,
                  hetero: bool = True, stop_after: int | None = 2,
                  max_sweeps: int = 20) -> dict[str, Any]:
    """Measured and theoretical capacity ``M*`` of random k-of-N codes over ``k`` at fixed ``N``.

    For each ``k``, random k-of-N patterns (:func:`neurocode.models.binary.random_code_indices`,
    drawn lazily as the load grows) are stored and probed as in :func:`willshaw_curve` /
    :func:`associative_capacity`, and ``M*`` is the largest load with mean recall error
    ``<= tolerance``. Beside it, ``theory_capacity`` is :func:`willshaw_theory`'s ``M*`` for the
    same ``N``, ``k``, tolerance and storage (Hopfield: ``0.138 N`` for ``k = N/2``, NaN
    otherwise).

    ``hetero=True`` (default, Willshaw): pairs of independent random k-of-N patterns, cue
    ``x^mu``, target ``y^mu``: the setting of Willshaw et al. (1969) and Palm (1980) in which
    capacity is maximal at sparse activity. (Autoassociative storage of a local code, ``k =
    1``, sets only diagonal synapses and never recalls a spurious unit, however many
    duplicates are stored; it has only ``N`` distinct patterns, which ``M*`` does not see.)
    ``hetero=False`` or ``memory="hopfield"``: autoassociative, cue = the stored pattern (a
    full autoassociative Willshaw cue holds all the pattern: its ``bits_per_synapse`` and
    ``theory_bits_per_synapse`` are 0, see :func:`willshaw_curve`).

    With a fractional error tolerance the optimum ``k`` shifts with the tolerance: at
    ``tolerance ~ 1/N`` (about one wrong unit per recall) ``M*`` is largest for a few
    units active (of order ``log N``) and falls off both towards ``k = 1`` (``M* ~ N``) and
    towards ``k = N/2`` (``M*`` of order ``ln N``); a lax tolerance (``0.01 N`` wrong units per
    recall) favours still smaller ``k``. ``bits_per_synapse`` at ``M*``
    (:func:`associative_capacity`) peaks nearer ``k ~ log2 N``.

    Parameters
    ----------
    N : int
        Units.
    k_values : sequence of int
        Active units, ``1 <= k < N``.
    loads : sequence of int, optional
        Loads tried for every ``k`` (default: 60 geometric loads from 1 to ``min(N^2, 2^20)``;
        evaluation stops ``stop_after`` loads above tolerance, so only the loads up to about
        ``M*`` are stored).
    tolerance : float
    memory : {"willshaw", "hopfield"}
    random_state : int or Generator
    n_probe, hetero, stop_after, max_sweeps
        As in :func:`associative_capacity`.

    Returns
    -------
    dict
        Curves over ``k_values``: ``capacity``, ``capacity_censored``, ``theory_capacity``,
        ``bits_per_synapse`` (at ``M*``), ``theory_bits_per_synapse``, ``fraction_set`` (at the
        last load evaluated, Willshaw); scalars ``n_units``, ``tolerance``, ``k_best``
        (the ``k`` of the largest measured ``M*``).

    Examples
    --------
    >>> out = capacity_vs_k(256, [1, 3, 8, 64], tolerance=1 / 256, n_probe=100)
    >>> print(int(out["k_best"]) in (3, 8))
    True
    """
    N = _check_n(N, "N")
    ks = np.asarray(k_values)
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer):
        raise ValueError(f"k_values must be a non-empty 1-D sequence of integers, got {k_values!r}")
    if ks.min() < 1 or ks.max() >= N:
        raise ValueError(f"k_values must lie in [1, N-1] = [1, {N - 1}], got {ks.tolist()}")
    if memory not in ("willshaw", "hopfield"):
        raise ValueError(f"memory must be 'willshaw' or 'hopfield', got {memory!r}")
    tol, n_probe, _, stop_after = _check_run_args(tolerance, n_probe, 1.0, stop_after)
    L = (_geometric_loads(min(N * N, 1 << 20), 60) if loads is None
         else _check_loads(loads, None))
    rng = np.random.default_rng(random_state)
    auto = (not hetero) or memory == "hopfield"
    res = {name: np.full(len(ks), np.nan) for name in
           ("capacity", "capacity_censored", "theory_capacity", "bits_per_synapse",
            "theory_bits_per_synapse", "fraction_set")}
    for i, k in enumerate(ks.tolist()):
        feed = _RandomFeed(N, k, auto, rng)
        if memory == "willshaw":
            run = _willshaw_run(None, None, L, tol, n_probe, 1.0, stop_after, rng, feed=feed)
            summ = _curve_summary(run, tol, _willshaw_information(run)["bits_per_synapse"])
            th = willshaw_theory(N, k, 1, tolerance=tol, autoassociative=auto)
            res["theory_capacity"][i] = th["capacity"]
            res["theory_bits_per_synapse"][i] = th["bits_per_synapse_at_capacity"]
            res["fraction_set"][i] = run["fraction_set"][-1]
        else:
            run = _hopfield_run(feed, L, tol, n_probe, 1.0, stop_after, "async", max_sweeps, rng)
            summ = _curve_summary(run, tol, _hopfield_bits(run))
            res["theory_capacity"][i] = AGS_CAPACITY * N if k == N // 2 else np.nan
        res["capacity"][i] = summ["capacity"]
        res["capacity_censored"][i] = summ["capacity_censored"]
        res["bits_per_synapse"][i] = summ["bits_per_synapse_at_capacity"]
    out: dict[str, Any] = {"k_values": ks.astype(np.float64), **res}
    out["n_units"] = float(N)
    out["tolerance"] = tol
    out["k_best"] = float(ks[int(np.nanargmax(res["capacity"]))])
    return out
