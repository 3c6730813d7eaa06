"""Closed forms for the capacity of the covariance-rule memory at coding level ``a``.

The memory (:mod:`neurocode.memories`): ``M = alpha N`` random 0/1 patterns of activity
``a`` stored by the covariance rule of Tsodyks & Feigel'man (1988, "The enhanced storage
capacity in neural networks with low activity level", Europhys. Lett. 6, 101-105)::

    J_ij = 1 / (N a (1 - a))  sum_mu (x_i^mu - a)(x_j^mu - a),      J_ii = 0

and recalled by k-winners dynamics (every update keeps the ``k = a N`` units of largest
field ``h_i = sum_j J_ij V_j``). Three estimates of the capacity ``alpha = M / N``:

* :func:`tsodyks_feigelman_capacity`: the a -> 0 asymptote ``alpha_c ~ 1 / (2 a |ln a|)``
  (Tsodyks & Feigel'man 1988; Buhmann, Divko & Schulten 1989, Phys. Rev. A 39, 2689-2692,
  report growth as ``(a |ln a|)^-1`` for their variant with adaptive threshold and global
  inhibition; the derivation below recovers the constant 1/2). It is only the leading term:
  at ``a = 0.05`` it is 3.5 times the largest load at which the fixed-point theory below
  still has a retrieval state.
* :func:`one_step_capacity`: signal-to-noise of one update from the stored pattern itself.
* :func:`covariance_capacity` / :func:`covariance_error`: the fixed-point (retrieval-state)
  theory, from the self-consistent signal-to-noise analysis below; the one to compare
  measurements against.

**Derivation.** Let the network sit at (or near) pattern 1, with state ``V`` of activity
``a``. The field on unit ``i`` splits into signal and crosstalk::

    h_i = (x_i^1 - a) m + n_i,      m = 1/(N a (1-a)) sum_j (x_j^1 - a) V_j   (the overlap),
    n_i = 1/(N a (1-a)) sum_{mu > 1} (x_i^mu - a) sum_{j != i} (x_j^mu - a) V_j

*One step.* For ``V = x^1`` (``m = 1``), ``n_i`` is a sum of ``M - 1`` independent zero-mean
terms, Gaussian for large ``N`` with variance ``sigma_0^2 = alpha q``: ``q = a (1 - a)`` for
k-of-N patterns (every pattern has ``sum_j (x_j^mu - a) = 0``, so only the state's deviation
``V_j - a`` counts: ``(1/N) sum_j (V_j - a)^2 = a (1 - a)``) and ``q = a`` for patterns of
independent units (``(1/N) sum_j V_j^2 = a``). Active units get ``1 - a + sigma_0 z``, silent
ones ``-a + sigma_0 z``.

*Fixed point.* At a fixed point ``V`` depends on the crosstalk itself. The self-consistent
signal-to-noise analysis (Shiino & Fukai 1992, J. Phys. A 25, L375-L381), which at zero
temperature gives the replica-symmetric equations of Amit, Gutfreund & Sompolinsky (1985,
Phys. Rev. Lett. 55, 1530; 1987, Ann. Phys. 173, 30), splits ``n_i`` into a Gaussian part of
variance ``sigma^2 = alpha q / (1 - U)^2`` and a term ``Gamma V_i`` (the Onsager reaction),
``U = (1/N) sum_i dV_i/dh_i`` being the susceptibility: for threshold units, the density of
the fields at the threshold. For 0/1 units ``Gamma V_i`` only moves the threshold of the
units that fire (``V_i^2 = V_i``), and k-winners dynamics set the threshold ``theta`` by the
activity constraint, which absorbs it. With the margins of the active and the silent units
in units of the noise,

    u = ((1 - a) m - theta) / sigma,        v = (theta + a m) / sigma,

(``Q`` the standard normal tail, ``phi`` its density) a fraction ``Q(u)`` of the pattern's
units is missed and a fraction ``Q(v)`` of the others fires, and::

    activity a:          (1 - a) Q(v) = a Q(u)            (as many spurious as missed units)
    overlap:             m = 1 - Q(u) - Q(v) = 1 - Q(u) / (1 - a)
    signal / noise:      m = sigma (u + v)
    susceptibility:      U = (a phi(u) + (1 - a) phi(v)) / sigma
    noise:               sigma (1 - U) = sqrt(alpha q)

so the load at which the retrieval state has margin ``u`` is explicit::

    alpha(u) = [ m / (u + v) - a phi(u) - (1 - a) phi(v) ]^2 / q,   v = Q^-1(a Q(u) / (1 - a))

and each recall gets ``2 Q(u)`` wrong units per active unit (``2 a Q(u) N`` in all). The
retrieval state exists up to ``alpha_c = max_u alpha(u)`` (at ``u_c``; the branch ``u > u_c``
is the stable one, ``alpha`` falling as ``u`` grows); with a tolerance of ``tau`` wrong units
per active unit the capacity is ``alpha(max(u_c, Q^-1(tau/2)))``. Checks:

* ``a = 1/2`` (``u = v``, ``q = 1/4``): ``sqrt(alpha) = m/u - 2 phi(u)``, ``m = 1 - 2 Q(u)``:
  the AGS zero-temperature equation of the Hopfield net (``y = u / sqrt(2)``:
  ``sqrt(alpha) = erf(y) / (sqrt(2) y) - sqrt(2/pi) exp(-y^2)``), ``alpha_c = 0.138``.
* ``a -> 0``: ``v ~ sqrt(2 ln(1/a))`` dominates and the ``phi`` terms vanish, so
  ``alpha_c ~ 1 / (a v^2) ~ 1 / (2 a |ln a|)``, Tsodyks & Feigel'man's asymptote; the
  corrections fall like ``u / v``, i.e. like ``1 / sqrt(|ln a|)``, so slowly that the
  asymptote is of no use at ``a`` of a few percent.
* Without the reaction term (``U = 0``) and with ``m = 1``: ``alpha = 1 / (q (u + v)^2)``, the
  one-step estimate (:func:`one_step_capacity`), always above the fixed-point one.

Finite ``N``: the crosstalk is a sum of ``M`` terms of which a fraction ``a`` is large, not
quite Gaussian for ``k = a N`` of a few tens; the self-coupling ``j = i`` is excluded from the
signal of active units (``(1 - a)(1 - 1/k)`` instead of ``1 - a``); the collapse of the
retrieval state at ``alpha_c`` is smoothed over a range of loads of relative width of order
``1/sqrt(N)``. At ``N = 1000 - 2000`` and ``a = 0.05 - 0.1`` measured capacities fall within
about 10% of :func:`covariance_capacity` (see ``tests/test_sparse_hopfield.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ndtr, ndtri

__all__ = ["covariance_capacity", "covariance_error", "covariance_load", "one_step_capacity",
           "tsodyks_feigelman_capacity"]

_U_MAX = 40.0


def _check_a(a: Any) -> float:
    v = float(a)
    if not (np.isfinite(v) and 0.0 < v < 1.0):
        raise ValueError(f"a (the coding level) must lie strictly between 0 and 1, got {a!r}")
    return v


def _check_tau(tolerance: Any) -> float:
    t = float(tolerance)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"tolerance (wrong units per active unit) must be a number > 0, got "
                         f"{tolerance!r}")
    return t


def _q(a: float, patterns: str) -> float:
    if patterns == "k-of-N":
        return a * (1.0 - a)
    if patterns == "bernoulli":
        return a
    raise ValueError(f"patterns must be 'k-of-N' or 'bernoulli', got {patterns!r}")


def _Q(x: Any) -> np.ndarray:
    return ndtr(-np.asarray(x, dtype=np.float64))


def _phi(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _v_of_u(u: np.ndarray, a: float) -> np.ndarray:
    """Margin of the silent units: ``(1 - a) Q(v) = a Q(u)``."""
    return -ndtri(a * _Q(u) / (1.0 - a))


def tsodyks_feigelman_capacity(a: Any) -> np.ndarray | float:
    """``alpha_c ~ 1 / (2 a |ln a|)``: the a -> 0 asymptote of Tsodyks & Feigel'man (1988).

    Patterns per unit; the leading term only (see the module notes: at ``a = 0.05`` it is
    3.34 where the fixed-point theory gives 0.94).

    Examples
    --------
    >>> print(round(tsodyks_feigelman_capacity(0.05), 3))
    3.338
    """
    arr = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr >= 1):
        raise ValueError(f"a must lie strictly between 0 and 1, got {a!r}")
    out = 1.0 / (2.0 * arr * np.abs(np.log(arr)))
    return float(out) if out.ndim == 0 else out


def covariance_load(u: Any, a: float, patterns: str = "k-of-N") -> np.ndarray | float:
    """The load ``alpha(u)`` at which the retrieval state has margin ``u`` (module notes).

    ``alpha(u) = [m/(u + v) - a phi(u) - (1 - a) phi(v)]^2 / q`` with ``m = 1 - Q(u)/(1 - a)``
    and ``v = Q^-1(a Q(u)/(1 - a))``; ``nan`` where the bracket is negative (no such state).

    Examples
    --------
    >>> print(round(float(covariance_load(3.0, 0.5)), 4))
    0.1047
    """
    a = _check_a(a)
    q = _q(a, patterns)
    u = np.asarray(u, dtype=np.float64)
    v = _v_of_u(u, a)
    m = 1.0 - _Q(u) / (1.0 - a)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = m / (u + v) - a * _phi(u) - (1.0 - a) * _phi(v)
    out = np.where((g > 0) & (u + v > 0), g * g / q, np.nan)
    return float(out) if out.ndim == 0 else out


def _critical(a: float, patterns: str) -> tuple[float, float]:
    """``(u_c, alpha_c)``: the largest load with a retrieval state, and its margin."""
    grid = np.linspace(0.02, 12.0, 1200)
    vals = np.nan_to_num(np.asarray(covariance_load(grid, a, patterns)), nan=-1.0)
    i = int(np.argmax(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(lambda x: -np.nan_to_num(covariance_load(x, a, patterns), nan=-1.0),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    uc = float(res.x) if -res.fun >= vals[i] else float(grid[i])
    return uc, float(covariance_load(uc, a, patterns))


def covariance_capacity(a: Any, tolerance: float = 0.1,
                        patterns: str = "k-of-N") -> dict[str, float]:
    """Fixed-point capacity of the covariance rule with k-winners recall, at coding level ``a``.

    The load ``alpha = M / N`` up to which a stored pattern's retrieval state has at most
    ``tolerance`` wrong units per active unit (missed plus spurious over ``k = a N``), from the
    self-consistent signal-to-noise equations in the module notes:
    ``alpha = alpha(max(u_c, Q^-1(tolerance / 2)))``, capped at ``alpha_c = alpha(u_c)`` where
    the retrieval state disappears.

    Parameters
    ----------
    a : float in (0, 1)
        Coding level (fraction of active units).
    tolerance : float > 0
        Wrong units per active unit (the battery's one in ten is 0.1).
    patterns : {"k-of-N", "bernoulli"}
        Exactly ``a N`` active units per pattern, or each unit active independently with
        probability ``a`` (crosstalk variance ``alpha a`` instead of ``alpha a (1 - a)``).

    Returns
    -------
    dict
        ``alpha`` (capacity at the tolerance), ``alpha_c`` (largest load with a retrieval
        state), ``error_at_alpha_c`` (its wrong units per active unit, ``2 Q(u_c)``),
        ``error_at_alpha`` (at ``alpha``), ``margin`` (``u`` at ``alpha``),
        ``alpha_one_step`` (:func:`one_step_capacity`), ``alpha_asymptotic``
        (:func:`tsodyks_feigelman_capacity`).

    Examples
    --------
    >>> print(round(covariance_capacity(0.5)["alpha_c"], 3))
    0.138
    >>> out = covariance_capacity(0.05, tolerance=0.1)
    >>> print(round(out["alpha"], 2), round(out["alpha_c"], 2), round(out["alpha_asymptotic"], 2))
    0.85 0.94 3.34
    """
    a = _check_a(a)
    tau = _check_tau(tolerance)
    uc, ac = _critical(a, patterns)
    ut = -float(ndtri(min(tau / 2.0, 0.5)))
    u = max(uc, ut)
    return {"alpha": float(covariance_load(u, a, patterns)), "alpha_c": ac,
            "error_at_alpha_c": float(2.0 * _Q(uc)), "error_at_alpha": float(2.0 * _Q(u)),
            "margin": float(u), "alpha_one_step": one_step_capacity(a, tau, patterns),
            "alpha_asymptotic": float(tsodyks_feigelman_capacity(a))}


def covariance_error(alpha: Any, a: Any, patterns: str = "k-of-N") -> np.ndarray | float:
    """Wrong units per active unit of the retrieval state at load ``alpha`` (``2 Q(u)``).

    ``u`` solves ``alpha(u) = alpha`` on the stable branch ``u > u_c``; ``nan`` above
    ``alpha_c`` (no retrieval state), 0 at ``alpha = 0``.

    Examples
    --------
    >>> print(np.round(covariance_error([0.5, 0.9, 2.0], 0.05), 3))
    [0.005 0.151   nan]
    """
    a = _check_a(a)
    al = np.asarray(alpha, dtype=np.float64)
    if not np.all(np.isfinite(al)) or np.any(al < 0):
        raise ValueError("alpha must be finite loads >= 0")
    uc, ac = _critical(a, patterns)
    flat = al.ravel()
    out = np.empty(flat.shape)
    for i, x in enumerate(flat):
        if x == 0:
            out[i] = 0.0
        elif x > ac:
            out[i] = np.nan
        else:
            f = lambda t: float(np.nan_to_num(covariance_load(t, a, patterns), nan=0.0)) - x  # noqa: B023 (called inside the loop)
            hi = uc
            while f(hi) > 0 and hi < _U_MAX:
                hi = hi * 1.5 + 1.0
            out[i] = 2.0 * _Q(brentq(f, uc, hi, xtol=1e-12)) if f(hi) <= 0 else 0.0
    shaped = out.reshape(al.shape)
    return float(shaped) if shaped.ndim == 0 else shaped


def one_step_capacity(a: Any, tolerance: float = 0.1, patterns: str = "k-of-N") -> float:
    """Load at which one k-winners update from a stored pattern makes ``tolerance`` errors.

    Signal-to-noise of a single update from ``V = x^1`` (``m = 1``, no reaction term):
    ``alpha = 1 / (q (u + v)^2)`` with ``u = Q^-1(tolerance / 2)`` and ``(1 - a) Q(v) = a Q(u)``
    (module notes). An upper estimate: the fixed point the dynamics go on to has more errors.

    Examples
    --------
    >>> print(round(one_step_capacity(0.05), 3))
    1.07
    """
    a = _check_a(a)
    tau = _check_tau(tolerance)
    q = _q(a, patterns)
    u = -float(ndtri(min(tau / 2.0, 0.5)))
    v = float(_v_of_u(np.asarray(u), a))
    return 1.0 / (q * (u + v) ** 2)
