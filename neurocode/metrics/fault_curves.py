"""A damage curve and its summaries: the default silencing fractions and orders, the checks of
a curve, its normalised area (:func:`normalised_auc`) and the fraction at which it falls half
way to chance (:func:`half_range_fraction`); see :mod:`neurocode.metrics.fault`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurocode.metrics._validate import check_stimuli
from neurocode.rules import CodingRule

#: Default silencing fractions of :func:`fault_tolerance` and :func:`memory_fault_tolerance`:
#: 0, 0.1, ..., 1.0 (11 points).
DEFAULT_FRACTIONS = np.linspace(0.0, 1.0, 11)

#: Silencing orders of :func:`fault_tolerance`.
ORDERS = ("random", "most-active")

_DEFAULT_SURVIVAL_FRACTIONS = np.linspace(0.0, 1.0, 21)


# -- validation -----------------------------------------------------------------------------
def _check_X(X: Any, rule: CodingRule) -> np.ndarray:
    X = check_stimuli(X)
    n_in = getattr(rule, "n_features_in_", None)
    if n_in is None:
        raise ValueError(f"rule '{rule.name}' is not fitted: fit it (and its readout) first")
    if X.shape[1] != n_in:
        raise ValueError(f"X has {X.shape[1]} features, but rule '{rule.name}' was fitted with {n_in}")
    return X


def _check_orders(orders: Any) -> tuple[str, ...]:
    if isinstance(orders, str):
        orders = (orders,)
    try:
        out = tuple(orders)
    except TypeError:
        raise ValueError(f"orders must be a sequence of {ORDERS}, got {orders!r}") from None
    if not out:
        raise ValueError(f"orders is empty: give at least one of {ORDERS}")
    for o in out:
        if o not in ORDERS:
            raise ValueError(f"unknown silencing order {o!r}: expected one of {ORDERS}")
    return tuple(dict.fromkeys(out))


def _check_curve(fractions: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(fractions, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if f.ndim != 1 or f.shape != v.shape or f.size == 0:
        raise ValueError(f"fractions and accuracy must be 1-D arrays of the same nonzero length, "
                         f"got shapes {f.shape} and {v.shape}")
    if not (np.isfinite(f).all() and np.isfinite(v).all()):
        raise ValueError("fractions and accuracy must not contain NaN or infinite values")
    if ((f < 0) | (f > 1)).any():
        raise ValueError(f"a silencing fraction must lie in [0, 1], got {f.tolist()}")
    if f.size > 1 and not (np.diff(f) > 0).all():
        raise ValueError(f"fractions must be strictly increasing, got {f.tolist()}")
    return f, v


def _check_level(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


# -- curve summaries ------------------------------------------------------------------------
def _anchored(f: np.ndarray, v: np.ndarray, intact: float) -> tuple[np.ndarray, np.ndarray]:
    if f[0] > 0:
        return np.concatenate(([0.0], f)), np.concatenate(([intact], v))
    return f, v


def normalised_auc(fractions: Any, accuracy: Any, intact: float, chance: float) -> float:
    """Area under an accuracy-vs-fraction-silenced curve, normalised to the intact range.

    With ``a(f)`` the accuracy with a fraction ``f`` of the units silenced, ``a_0`` the intact
    accuracy and ``c`` the chance accuracy::

        AUC = 1/(f_max - f_0) * integral_{f_0}^{f_max} (a(f) - c) / (a_0 - c) df

    by the trapezoid rule over the measured fractions, with the intact point ``(0, a_0)``
    added when 0 is not among them (``f_0 = 0``). Over the default fractions (0 to 1) this is
    the area over ``[0, 1]``: 1 for a code that keeps its intact accuracy until every unit is
    gone, 0.5 for the straight line of a local code (``a(f) = a_0 - (a_0 - c) f``), about 0
    for a code that drops to chance at the first loss. NaN when ``a_0 <= c`` (no range to
    lose).

    Examples
    --------
    >>> print(normalised_auc([0, 0.5, 1], [0.9, 0.5, 0.1], intact=0.9, chance=0.1))
    0.5
    """
    f, v = _check_curve(fractions, accuracy)
    a0, c = _check_level(intact, "intact"), _check_level(chance, "chance")
    if a0 <= c:
        return float("nan")
    f, v = _anchored(f, v, a0)
    norm = (v - c) / (a0 - c)
    if f.size == 1 or f[-1] == f[0]:
        return float(norm[-1])
    area = float(np.sum((norm[1:] + norm[:-1]) * np.diff(f)) / 2)
    return area / float(f[-1] - f[0])


def half_range_fraction(fractions: Any, accuracy: Any, intact: float, chance: float) -> float:
    """The fraction silenced at which accuracy first falls to half its range.

    The level is ``L = c + (a_0 - c) / 2``, halfway between the intact accuracy ``a_0`` and
    chance ``c``. Walking the curve from the smallest fraction (the intact point ``(0, a_0)``
    is added when 0 is not measured), at the first measured ``f_i`` with ``a(f_i) <= L``::

        f_half = f_{i-1} + (a(f_{i-1}) - L) / (a(f_{i-1}) - a(f_i)) * (f_i - f_{i-1})

    (linear interpolation between the two points around the crossing). NaN when ``a_0 <= c``
    or when the curve stays above ``L`` over the measured fractions.

    Examples
    --------
    >>> f = half_range_fraction([0, 0.2, 0.6, 1], [1.0, 0.8, 0.2, 0.0], intact=1.0, chance=0.0)
    >>> print(round(f, 6))
    0.4
    """
    f, v = _check_curve(fractions, accuracy)
    a0, c = _check_level(intact, "intact"), _check_level(chance, "chance")
    if a0 <= c:
        return float("nan")
    f, v = _anchored(f, v, a0)
    level = c + (a0 - c) / 2
    below = np.flatnonzero(v <= level)
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(f[0])
    drop = v[i - 1] - v[i]
    return float(f[i - 1] + (v[i - 1] - level) / drop * (f[i] - f[i - 1]))
