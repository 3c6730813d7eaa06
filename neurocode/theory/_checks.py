"""Argument checks of the closed forms, shared with the measures that import them from here.

The theory imports nothing from :mod:`neurocode.metrics`, so the checks its functions need live
here, and the measures import them back (:mod:`neurocode.metrics.capacity` takes ``_check_n``
and ``_check_tolerance``, :mod:`neurocode.metrics.fault` takes ``_check_fractions``,
:mod:`neurocode.metrics._validate` takes ``_check_int`` as its ``check_int``): one copy of
each.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _check_n(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {n!r}")
    return int(n)


def _check_tolerance(tolerance: float) -> float:
    tol = float(tolerance)
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    return tol


def _check_int(value: Any, name: str, low: int = 1) -> int:
    """An integer (not a bool) >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_fractions(fractions: Any, default: np.ndarray) -> np.ndarray:
    """Fractions as a sorted float array of distinct values in [0, 1]; ValueError otherwise."""
    if fractions is None:
        return default.copy()
    try:
        f = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"fractions must be numbers in [0, 1], got {fractions!r}") from None
    f = np.atleast_1d(f)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"fractions must be a non-empty 1-D sequence of numbers in [0, 1], "
                         f"got shape {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError(f"fractions contain NaN or infinite values: {f.tolist()}")
    bad = f[(f < 0) | (f > 1)]
    if bad.size:
        raise ValueError(f"a silencing fraction must lie in [0, 1] (0 = intact, 1 = every unit "
                         f"silenced), got {bad[0]!r}")
    return np.unique(f)
