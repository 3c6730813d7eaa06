"""What every memory of :mod:`neurocode.memories` checks and shares: binary patterns as boolean
arrays, their active columns, row chunks, and the overlap of two +-1 patterns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# -- shared by the Willshaw and the +-1 Hopfield nets (moved from neurocode.models.memory) ---
_EXACT_F32 = 1 << 24  # integers up to this are exact in float32


# -- helpers ----------------------------------------------------------------------------------
def check_binary(X: Any, what: str = "X", owner: str = "") -> np.ndarray:
    """``X`` as a 2-D boolean array, or a ``ValueError`` when it holds anything but 0 and 1."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_patterns, n_units), got shape {X.shape}")
    if X.dtype == bool:
        return X
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{what} must be a numeric array of 0s and 1s, got dtype {X.dtype}")
    ones = X == 1
    bad = ~(ones | (X == 0))
    if bad.any():
        who = f"{owner} " if owner else ""
        raise ValueError(f"{who}stores binary patterns: {what} must hold only 0 and 1, got "
                         f"{X[bad].flat[0]!r}; binarise it first (e.g. data.preprocess: binarize)")
    return ones


def _padded_indices(X: np.ndarray, pad: int) -> np.ndarray:
    """Active columns of each row of boolean ``X``, padded with ``pad``: (n, max activity)."""
    counts = X.sum(axis=1)
    width = int(counts.max()) if len(counts) else 0
    out = np.full((len(X), max(width, 1)), pad, dtype=np.int64)
    rows, cols = np.nonzero(X)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out[rows, np.arange(len(cols)) - np.repeat(starts, counts)] = cols
    return out


def _check_method(method: str) -> None:
    if method not in ("auto", "sparse", "dense"):
        raise ValueError(f"method must be 'auto', 'sparse' or 'dense', got {method!r}")


def _chunks(n: int, size: int):
    size = max(1, int(size))
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))


def overlap(a: Any, b: Any) -> np.ndarray:
    """Per-row overlap ``m = (1/N) sum_i (2a_i - 1)(2b_i - 1)`` of binary patterns, in [-1, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return ((2 * a - 1) * (2 * b - 1)).mean(axis=-1)
