"""Argument checks shared by the measures: one wording for each kind of bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# one copy, below the measures; re-exported (decoding and interference import it from here)
from neurocode.theory._checks import _check_int as check_int  # noqa: F401


def check_codes(codes: Any, name: str = "codes", columns: str = "units") -> np.ndarray:
    """``codes`` as a 2-D real array ``(n_stimuli, n_<columns>)``; ValueError when it cannot be.

    Rejects arrays that are not 2-D, have no rows or no columns, are not real numbers, or hold
    NaN or infinite values. Booleans become uint8; a numeric array is returned without a copy.
    """
    arr = np.asarray(codes)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating)):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_stimuli, n_{columns}), got an array of shape "
                         f"{arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no stimuli (shape {arr.shape})")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no {columns} (shape {arr.shape}): the {columns[:-1]} set is empty")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_stimuli(X: Any, name: str = "X") -> np.ndarray:
    """Stimuli ``(n_stimuli, n_features)``, checked as :func:`check_codes` checks codes."""
    return check_codes(X, name, columns="features")


def check_threshold(threshold: Any) -> float:
    """The activity threshold: a finite number >= 0 (a unit is active when ``|code| > it``)."""
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number, got {threshold!r}") from None
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"threshold must be a finite number >= 0 (a unit is active when "
                         f"|code| > threshold), got {threshold!r}")
    return t


def check_labels(y: Any, n: int, name: str = "y") -> np.ndarray:
    """Class labels: 1-D, one per stimulus, no NaN."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be 1-D with one label per stimulus ({n}), got shape "
                         f"{arr.shape}")
    if arr.dtype == object:
        raise ValueError(f"{name} must be an array of class labels (numbers or strings), "
                         f"got dtype object")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr
