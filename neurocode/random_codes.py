"""Random k-of-N codes: the null every measured code is compared with.

A random k-of-N code gives each item an independent, uniformly random set of ``k`` active
units out of ``N`` (each of the ``C(N, k)`` sets equally likely), so a unit is active in an
item with probability ``k / N``, independently of every other item. Every closed form of the
battery for "a random code of the same N and k" (Willshaw's fraction of set synapses, the
Ahmad-Hawkins union false matches, the chance Jaccard overlap, the binomial survival under
unit loss) is about these codes; the measures draw them from here, below every coding rule
(:class:`neurocode.models.binary.KofN` makes stimulus-driven k-of-N codes with the same
functions).

Two draws give the same distribution from different random numbers (``method``):

* ``"keys"`` (the default): the top ``k`` of ``N`` i.i.d. uniform keys per item, ``O(M N)``
  time for ``M`` items. Every stored result and every seeded example was drawn this way, so it
  stays the default: a seed gives the same codes as before.
* ``"fast"``: for ``k <= N / 8``, ``k`` i.i.d. uniform unit indices per item, the duplicates
  drawn again until the item has ``k`` distinct units: ``O(M k log k)`` time (the rows are
  sorted), hundreds of times faster than the keys at ``N = 16,384`` and ``k = 14``
  (``benchmarks/bench_random_codes.py``); for ``N - k <= N / 8`` the ``N - k`` silent units
  are drawn that way and the code is their complement; in between, where ``O(M N)`` is
  within 8x of ``O(M k)`` and the keys' partition beats sorting rows of ``k``, the keys (so
  there, and only there, the same seed gives the same codes as ``"keys"``).

Why redrawing duplicates is uniform: it takes i.i.d. uniform indices in order and keeps the
distinct ones until there are ``k`` (a round redraws exactly the missing number, so the
``k``-th distinct unit can only arrive with the round's last draw); a permutation of the units
maps the i.i.d. sequence to another one of the same law and the kept set to its image, so the
kept set is invariant in law under every permutation: uniform over the ``k``-subsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["METHODS", "SPARSE_SHARE", "random_code_indices", "random_codes"]

#: the draws ``random_code_indices`` offers (see the module docstring)
METHODS = ("keys", "fast")
#: the ``"fast"`` draw redraws duplicates while ``k`` (or ``N - k``) is at most ``N`` / this;
#: in between, sorting rows of ``k`` indices costs more than the keys' ``O(N)`` partition
#: (measured at ``N = 16,384``: ``benchmarks/bench_random_codes.py``)
SPARSE_SHARE = 8


def _check_sizes(n_items: int, n_units: int, k: int) -> None:
    if n_units < 1 or n_items < 0:
        raise ValueError(f"need n_units >= 1 and n_items >= 0, got {n_units} and {n_items}")
    if not 1 <= k <= n_units:
        raise ValueError(f"k must be in [1, n_units={n_units}], got {k}")


def _keys_indices(rng: np.random.Generator, n_items: int, n_units: int, k: int) -> np.ndarray:
    """The top ``k`` of ``n_units`` uniform keys per row (the stored results' draw)."""
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


def _duplicates(rows: np.ndarray) -> np.ndarray:
    """Mask of the entries of row-sorted ``rows`` equal to their left neighbour."""
    dup = np.zeros(rows.shape, dtype=bool)
    np.equal(rows[:, 1:], rows[:, :-1], out=dup[:, 1:])
    return dup


def _sampled_indices(rng: np.random.Generator, n_items: int, n_units: int,
                     k: int) -> np.ndarray:
    """``k`` distinct uniform indices per row by redrawing duplicates; rows sorted."""
    out = rng.integers(0, n_units, size=(n_items, k), dtype=np.int64)
    out.sort(axis=1)
    dup = _duplicates(out)
    todo = np.flatnonzero(dup.any(axis=1))
    dup = dup[todo]  # aligned with todo from here on
    while todo.size:
        sub = out[todo]
        sub[dup] = rng.integers(0, n_units, size=int(dup.sum()), dtype=np.int64)
        sub.sort(axis=1)
        out[todo] = sub
        dup = _duplicates(sub)
        keep = dup.any(axis=1)
        todo, dup = todo[keep], dup[keep]
    return out


def _fast_indices(rng: np.random.Generator, n_items: int, n_units: int, k: int) -> np.ndarray:
    """The ``"fast"`` draw: redrawn duplicates, their complement, or the keys in between."""
    silent = n_units - k
    if k == n_units:
        return np.broadcast_to(np.arange(n_units, dtype=np.int64), (n_items, k)).copy()
    if SPARSE_SHARE * k <= n_units:
        return _sampled_indices(rng, n_items, n_units, k)
    if SPARSE_SHARE * silent > n_units:
        return _keys_indices(rng, n_items, n_units, k)
    out = np.empty((n_items, k), dtype=np.int64)
    step = max(1, (1 << 24) // n_units)  # ~16 MB of mask per chunk
    for s in range(0, n_items, step):
        m = min(step, n_items - s)
        mask = np.ones((m, n_units), dtype=bool)
        np.put_along_axis(mask, _sampled_indices(rng, m, n_units, silent), False, axis=1)
        out[s:s + m] = np.nonzero(mask)[1].reshape(m, k)  # row by row, ascending
    return out


def random_code_indices(n_items: int, n_units: int, k: int, random_state: Any = None, *,
                        method: str = "keys") -> np.ndarray:
    """Active units of ``n_items`` random k-of-N codes: int array ``(n_items, k)``, rows sorted.

    Every row is an independent, uniformly random ``k``-subset of ``range(n_units)``.

    Parameters
    ----------
    n_items, n_units, k : int
        Rows, units and active units per row (``1 <= k <= n_units``).
    random_state : int, Generator or None
        Seed or Generator.
    method : {"keys", "fast"}
        ``"keys"`` (default): the top ``k`` of ``n_units`` i.i.d. uniform keys, ``O(n_items
        n_units)``, the draw of every stored result. ``"fast"``: for a sparse (or nearly full)
        code i.i.d. indices with the duplicates drawn again, ``O(n_items k log k)``; the same
        distribution, other codes for the same seed (see the module docstring).

    Returns
    -------
    numpy.ndarray
        ``int64`` array ``(n_items, k)``, each row ascending.

    Examples
    --------
    >>> idx = random_code_indices(5, 16_384, 14, random_state=0, method="fast")
    >>> idx.shape, bool((np.diff(idx, axis=1) > 0).all()), bool(idx.max() < 16_384)
    ((5, 14), True, True)
    """
    _check_sizes(n_items, n_units, k)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    rng = np.random.default_rng(random_state)
    if method == "keys":
        return _keys_indices(rng, n_items, n_units, k)
    return _fast_indices(rng, n_items, n_units, k)


def random_codes(n_items: int, n_units: int, k: int, random_state: Any = None,
                 dtype: Any = np.uint8, *, method: str = "keys") -> np.ndarray:
    """``n_items`` random k-of-N codes: binary array ``(n_items, n_units)``, ``k`` ones per row.

    The rows are independent and uniform over the ``C(n_units, k)`` codes, so each unit is
    active in a row with probability ``k / n_units``.

    Parameters
    ----------
    n_items, n_units, k : int
        Rows, units and active units per row (``1 <= k <= n_units``).
    random_state : int, Generator or None
        Seed or Generator.
    dtype : numpy dtype
        Of the returned array.
    method : {"keys", "fast"}
        The draw of :func:`random_code_indices` (default ``"keys"``, the stored results' one).

    Returns
    -------
    numpy.ndarray
        ``(n_items, n_units)`` array of 0 and 1.

    Examples
    --------
    >>> codes = random_codes(1000, 64, 6, random_state=0)
    >>> print(codes.sum(axis=1).max(), round(codes.mean() * 64, 2))
    6 6.0
    """
    idx = random_code_indices(n_items, n_units, k, random_state, method=method)
    codes = np.zeros((n_items, n_units), dtype=dtype)
    np.put_along_axis(codes, idx, 1, axis=1)
    return codes
