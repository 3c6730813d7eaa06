"""Random k-of-N codes: the null every measured code is compared with.

A random k-of-N code gives each item an independent, uniformly random set of ``k`` active
units out of ``N`` (each of the ``C(N, k)`` sets equally likely), so a unit is active in an
item with probability ``k / N``, independently of every other item. Every closed form of the
battery for "a random code of the same N and k" (Willshaw's fraction of set synapses, the
Ahmad-Hawkins union false matches, the chance Jaccard overlap, the binomial survival under
unit loss) is about these codes; the measures draw them from here, below every coding rule
(:class:`neurocode.models.binary.KofN` makes stimulus-driven k-of-N codes with the same
functions).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["random_code_indices", "random_codes"]


def _check_sizes(n_items: int, n_units: int, k: int) -> None:
    if n_units < 1 or n_items < 0:
        raise ValueError(f"need n_units >= 1 and n_items >= 0, got {n_units} and {n_items}")
    if not 1 <= k <= n_units:
        raise ValueError(f"k must be in [1, n_units={n_units}], got {k}")


def random_code_indices(n_items: int, n_units: int, k: int, random_state: Any = None) -> np.ndarray:
    """Active units of ``n_items`` random k-of-N codes: int array ``(n_items, k)``, rows sorted.

    Every row is an independent, uniformly random ``k``-subset of ``range(n_units)`` (the top
    ``k`` of ``n_units`` i.i.d. uniform numbers). ``random_state``: seed or Generator.
    """
    _check_sizes(n_items, n_units, k)
    rng = np.random.default_rng(random_state)
    out = np.empty((n_items, k), dtype=np.int64)
    step = max(1, (1 << 22) // n_units)  # ~32 MB of uniforms per chunk
    for s in range(0, n_items, step):
        u = rng.random((min(step, n_items - s), n_units))
        if k < n_units:
            out[s:s + len(u)] = np.argpartition(u, n_units - k, axis=1)[:, n_units - k:]
        else:
            out[s:s + len(u)] = np.arange(n_units)
    out.sort(axis=1)
    return out


def random_codes(n_items: int, n_units: int, k: int, random_state: Any = None,
                 dtype: Any = np.uint8) -> np.ndarray:
    """``n_items`` random k-of-N codes: binary array ``(n_items, n_units)``, ``k`` ones per row.

    The rows are independent and uniform over the ``C(n_units, k)`` codes, so each unit is
    active in a row with probability ``k / n_units``.

    Examples
    --------
    >>> codes = random_codes(1000, 64, 6, random_state=0)
    >>> print(codes.sum(axis=1).max(), round(codes.mean() * 64, 2))
    6 6.0
    """
    idx = random_code_indices(n_items, n_units, k, random_state)
    codes = np.zeros((n_items, n_units), dtype=dtype)
    np.put_along_axis(codes, idx, 1, axis=1)
    return codes
