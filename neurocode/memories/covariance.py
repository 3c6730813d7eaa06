"""Storage by the covariance rule (Tsodyks & Feigel'man 1988) of sparse 0/1 patterns.

The rule, its normalisation and the incremental co-activation counts are described in
:mod:`neurocode.memories`; :func:`covariance_overlap` reads a recalled state against them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CHUNK_ROWS = 4096            # patterns per dense product
_ROW_BLOCK = 1 << 22          # entries of J touched per elementwise pass


def check_binary01(X: Any, what: str = "patterns") -> np.ndarray:
    """``X`` as a 2-D boolean array; ``ValueError`` unless it is a non-empty 2-D array of 0/1.

    Examples
    --------
    >>> check_binary01([[0, 1], [1, 1]]).dtype
    dtype('bool')
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_patterns, n_units), got shape {X.shape}")
    if X.shape[1] == 0:
        raise ValueError(f"{what} have no units (shape {X.shape})")
    if X.dtype == bool:
        return X
    if X.dtype == object or not np.issubdtype(X.dtype, np.number) \
            or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{what} must be a real numeric array of 0s and 1s, got dtype {X.dtype}")
    ones = X == 1
    bad = ~(ones | (X == 0))
    if bad.any():
        raise ValueError(f"{what} must hold only 0 and 1 (binarise the codes first, e.g. "
                         f"codes > threshold), got {X[bad].flat[0]!r}")
    return ones


def _check_a(a: Any, N: int) -> np.ndarray | float:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        if not (np.isfinite(v) and 0.0 < v < 1.0):
            raise ValueError(f"a (the patterns' activity) must lie strictly between 0 and 1, "
                             f"got {a!r}: a silent (or all-active) pattern set stores nothing")
        return v
    if arr.shape != (N,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"a must be a number in (0, 1) or one activity in [0, 1] per unit "
                         f"(shape ({N},)), got an array of shape {arr.shape}")
    if not np.any((arr > 0) & (arr < 1)):
        raise ValueError("a per unit is 0 or 1 everywhere: the patterns carry no variance")
    return arr


def _normaliser(a: np.ndarray | float, N: int) -> float:
    """``N a (1 - a)``; for an activity per unit, ``N`` times its mean ``a_i (1 - a_i)``."""
    return float(N * np.mean(np.asarray(a) * (1.0 - np.asarray(a))))


def covariance_couplings(patterns: Any, a: Any = None, counts: np.ndarray | None = None,
                         dtype: Any = np.float64) -> np.ndarray:
    """Covariance-rule couplings ``J`` (N, N) of binary patterns, zero diagonal.

    Tsodyks & Feigel'man (1988), Europhys. Lett. 6, 101-105, normalised as in the module
    notes::

        J_ij = 1 / (N a (1 - a))  sum_mu (x_i^mu - a)(x_j^mu - a),   J_ii = 0

    computed as ``(C_ij - a (s_i + s_j) + M a^2) / (N a (1 - a))`` from the exact
    co-activation counts ``C = X^T X`` and unit counts ``s`` (sparse patterns: ``k^2``
    scattered additions per pattern; dense ones: a float32 product, exact for counts below
    ``2^24``). An activity per unit (``a`` of shape ``(N,)``, e.g. each unit's mean) gives the
    covariance rule with unit means, ``(x_i - a_i)(x_j - a_j)``, normalised by ``N`` times the
    mean of ``a_i (1 - a_i)``.

    Parameters
    ----------
    patterns : array (M, N) of 0/1
        Patterns to store (``M = 0`` adds nothing).
    a : float in (0, 1), array (N,), or None
        Coding level. ``None``: the mean activity of ``patterns`` (only without ``counts``:
        every part of an incremental store must use the same ``a``).
    counts : float array (N, N), optional
        Couplings to add to, in place (incremental storage): the result of an earlier call
        with the same ``a``.
    dtype : float dtype
        Of a new ``J`` (``counts`` keeps its own).

    Returns
    -------
    ndarray (N, N)
        ``J`` (``counts`` itself when given).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 1, 0, 0], [0, 1, 1, 0]])
    >>> print(covariance_couplings(X, a=0.5) * 4)
    [[ 0.  0. -2.  0.]
     [ 0.  0.  0. -2.]
     [-2.  0.  0.  0.]
     [ 0. -2.  0.  0.]]
    >>> J = covariance_couplings(X[:1], a=0.5)
    >>> bool(np.allclose(covariance_couplings(X[1:], a=0.5, counts=J),
    ...                  covariance_couplings(X, a=0.5)))
    True
    """
    X = check_binary01(patterns, "patterns")
    M, N = X.shape
    if a is None:
        if counts is not None:
            raise ValueError("incremental storage (counts given) needs the coding level a: "
                             "every part must be stored with the same a")
        if M == 0:
            raise ValueError("no patterns to estimate the coding level a from")
        a = float(X.mean())
    a = _check_a(a, N)
    if counts is None:
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise ValueError(f"dtype must be a float type, got {dtype!r}")
        J = np.zeros((N, N), dtype=dtype)
    else:
        J = counts
        if not isinstance(J, np.ndarray) or J.shape != (N, N) \
                or not np.issubdtype(J.dtype, np.floating):
            raise ValueError(f"counts must be a float array of shape ({N}, {N}) (the couplings "
                             f"to add to), got {getattr(J, 'shape', None)} "
                             f"{getattr(J, 'dtype', type(J))}")
    if M == 0:
        return J
    norm = _normaliser(a, N)
    _add_coactivation(J, X, 1.0 / norm)
    # the centring terms: J_ij += (M a_i a_j - a_j s_i - a_i s_j) / norm
    s = X.sum(axis=0, dtype=np.float64)
    step = max(1, _ROW_BLOCK // N)
    if np.ndim(a) == 0:               # J += c_i + c_j,  c_i = (M a^2 / 2 - a s_i) / norm
        c = ((M * a * a / 2.0 - a * s) / norm).astype(J.dtype)
        for r0 in range(0, N, step):
            blk = J[r0:r0 + step]
            blk += c[r0:r0 + step, None]
            blk += c[None, :]
        np.fill_diagonal(J, 0.0)
        return J
    av = np.asarray(a, dtype=np.float64)
    u = av / norm                     # J += M u_i a_j - u_j s_i - u_i s_j
    for r0 in range(0, N, step):
        r1 = min(N, r0 + step)
        blk = (M * u[r0:r1, None]) * av[None, :]
        blk -= s[r0:r1, None] * u[None, :]
        blk -= u[r0:r1, None] * s[None, :]
        J[r0:r1] += blk.astype(J.dtype, copy=False)
    np.fill_diagonal(J, 0.0)
    return J


def _add_coactivation(J: np.ndarray, X: np.ndarray, scale: float) -> None:
    """``J += scale * X^T X`` for boolean ``X`` (exact integer counts, then scaled)."""
    M, N = X.shape
    pairs = float(np.square(X.sum(axis=1, dtype=np.float64)).sum())
    # a scattered pair costs about as much as 500 multiply-adds of a float32 product
    if pairs * 512 < float(M) * N * N:   # sparse: scatter the co-active pairs
        from scipy import sparse

        for s0 in range(0, M, 1 << 16):
            Xs = sparse.csr_matrix(X[s0:s0 + (1 << 16)], dtype=np.float32)
            C = (Xs.T @ Xs).tocoo()   # counts < 2^16: exact in float32
            J[C.row, C.col] += (C.data.astype(np.float64) * scale).astype(J.dtype)
        return
    for s0 in range(0, M, _CHUNK_ROWS):
        xb = X[s0:s0 + _CHUNK_ROWS].astype(np.float32)
        C = xb.T @ xb                 # exact: counts below 2^24
        if J.dtype == np.float32:
            C *= np.float32(scale)
            J += C
        else:
            J += C.astype(J.dtype) * scale


def covariance_overlap(states: Any, patterns: Any, a: float) -> np.ndarray:
    """Per-row overlap ``m = (1/(N a (1 - a))) sum_i (x_i - a) V_i`` of states with patterns.

    The order parameter of Tsodyks & Feigel'man (1988): 1 for a state equal to a pattern of
    activity ``a N``, about 0 for an unrelated state of the same activity.

    Examples
    --------
    >>> print(covariance_overlap([[1, 1, 0, 0]], [[1, 1, 0, 0]], 0.5))
    [1.]
    """
    V = np.asarray(states, dtype=np.float64)
    X = np.asarray(patterns, dtype=np.float64)
    a = float(a)
    N = X.shape[-1]
    return ((X - a) * V).sum(axis=-1) / (N * a * (1 - a))
