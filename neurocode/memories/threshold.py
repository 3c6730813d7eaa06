"""Recall by threshold dynamics of 0/1 units: fixed thresholds or k-winners, synchronous or
asynchronous (see :mod:`neurocode.memories` for the dynamics and their fixed points).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.memories.covariance import check_binary01


# -- dynamics ---------------------------------------------------------------------------------
def _fields(V: np.ndarray, J: np.ndarray) -> np.ndarray:
    """``V J`` for 0/1 (or -1/0/+1) rows ``V``: sparse rows through CSR, dense through BLAS."""
    n, N = V.shape
    out_dtype = J.dtype
    if n == 0:
        return np.zeros((0, N), dtype=out_dtype)
    nnz = int(np.count_nonzero(V))
    if nnz * 16 < n * N:
        from scipy import sparse

        return np.asarray(sparse.csr_matrix(V, dtype=out_dtype) @ J)
    return V.astype(out_dtype) @ J


def _check_run_args(J: Any, states: Any, max_sweeps: Any) -> tuple[np.ndarray, np.ndarray, int]:
    J = np.asarray(J)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"J must be a square (N, N) coupling matrix, got shape {J.shape}")
    if not np.issubdtype(J.dtype, np.floating):
        J = J.astype(np.float64)
    V = check_binary01(states, "states")
    if V.shape[1] != J.shape[0]:
        raise ValueError(f"states must be (n, {J.shape[0]}) for a ({J.shape[0]}, "
                         f"{J.shape[0]}) J, got shape {V.shape}")
    if isinstance(max_sweeps, (bool, np.bool_)) or not isinstance(max_sweeps, (int, np.integer)) \
            or max_sweeps < 1:
        raise ValueError(f"max_sweeps must be a whole number >= 1, got {max_sweeps!r}")
    return J, V, int(max_sweeps)


def threshold_run(J: Any, states: Any, theta: Any = None, update: str = "sync",
                  max_sweeps: int = 20, rng: Any = None, *,
                  k: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Run 0/1 threshold dynamics ``V_i <- Theta(sum_j J_ij V_j - theta_i)`` from ``states``.

    Each row of ``states`` (n, N) is an independent network state. A unit whose field equals
    its threshold keeps its state. ``update="sync"``: all units at once per sweep; a row
    stops at the first sweep that changes nothing (a fixed point), or when it is found in a
    2-cycle (then it is given the state it would have after ``max_sweeps`` sweeps), or after
    ``max_sweeps``. ``update="async"``: one unit at a time, in an order drawn from ``rng``
    per sweep (the same order for every row, so a row's trajectory does not depend on the
    others); with symmetric ``J`` and zero diagonal the energy ``-1/2 V^T J V + theta . V``
    never increases, and a row stops at a fixed point.

    ``k`` (activity control, k-winners): instead of a fixed threshold, every synchronous
    update makes exactly ``k`` units of the row active, those of largest field (ties broken
    by :func:`numpy.argpartition`, deterministically); ``k`` is an int or one per row.

    Fields are computed once and then updated with the changes (``h += (V' - V) J``, a
    product with a sparse difference), so a sweep near a fixed point costs little.

    Parameters
    ----------
    J : array (N, N)
        Symmetric couplings with zero diagonal (not checked).
    states : array (n, N) of 0/1
        Initial states (cues).
    theta : float or array (N,), optional
        Thresholds (default 0); not with ``k``.
    update : {"sync", "async"}
        ``"async"`` only with thresholds.
    max_sweeps : int
    rng : int or Generator, optional
        The asynchronous update orders.
    k : int or array (n,) of int, optional
        Active units per row after every update.

    Returns
    -------
    states : uint8 array (n, N)
        Final states.
    sweeps : int array (n,)
        Sweeps made per row (the last, unchanged one included).

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode.memories import covariance_couplings
    >>> J = covariance_couplings(np.array([[1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0]]), a=1/3)
    >>> V, sweeps = threshold_run(J, [[1, 0, 0, 0, 0, 0]], theta=0.0)
    >>> print(V, sweeps)
    [[1 1 0 0 0 0]] [2]
    """
    if update not in ("sync", "async"):
        raise ValueError(f"update must be 'sync' or 'async', got {update!r}")
    J, V0, max_sweeps = _check_run_args(J, states, max_sweeps)
    n, N = V0.shape
    if k is not None:
        if theta is not None:
            raise ValueError("give either theta (fixed thresholds) or k (k-winners), not both")
        if update != "sync":
            raise ValueError("k-winners dynamics are synchronous: use update='sync'")
        kk = np.asarray(k)
        if kk.ndim == 0:
            kk = np.full(n, kk)
        if kk.shape != (n,) or not np.issubdtype(kk.dtype, np.integer) or np.any(kk < 0):
            raise ValueError(f"k must be a whole number >= 0 or one per row (shape ({n},)), "
                             f"got {k!r}")
        return _run_kwta(J, V0, np.minimum(kk.astype(np.int64), N), max_sweeps)
    th = np.zeros(N) if theta is None else np.asarray(theta, dtype=np.float64)
    if th.ndim == 0:
        th = np.full(N, float(th))
    if th.shape != (N,) or not np.all(np.isfinite(th)):
        raise ValueError(f"theta must be a finite number or one per unit (shape ({N},)), got "
                         f"shape {th.shape}")
    th = th.astype(J.dtype)
    if update == "sync":
        return _run_sync(J, V0, th, max_sweeps)
    return _run_async(J, V0, th, max_sweeps, np.random.default_rng(rng))


def _sync_loop(J: np.ndarray, V0: np.ndarray, max_sweeps: int, step) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Shared synchronous loop: ``step(H, V, rows) -> V_new`` for the active rows."""
    n, N = V0.shape
    V = V0.astype(np.int8)
    sweeps = np.zeros(n, dtype=np.int64)
    if n == 0:
        return V.astype(np.uint8), sweeps
    active = np.arange(n)
    H = _fields(V, J)
    before = V.copy()
    for t in range(1, max_sweeps + 1):
        Va, Ha = V[active], H[active]
        new = step(Ha, Va, active)
        D = new - Va
        changed = D.any(axis=1)
        cycle = changed & (new == before[active]).all(axis=1) & (t > 1)
        odd_left = (max_sweeps - t) % 2 == 1
        keep_old = cycle & odd_left
        before[active] = Va
        V[active] = np.where(keep_old[:, None], Va, new)
        sweeps[active] = t
        go = changed & ~cycle
        if not go.any():
            break
        rows = active[go]
        H[rows] += _fields(D[go], J)
        active = rows
    return V.astype(np.uint8), sweeps


def _run_sync(J: np.ndarray, V0: np.ndarray, th: np.ndarray, max_sweeps: int):
    def step(H: np.ndarray, V: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.where(H > th, 1, np.where(H < th, 0, V)).astype(np.int8)
    return _sync_loop(J, V0, max_sweeps, step)


def _run_kwta(J: np.ndarray, V0: np.ndarray, k: np.ndarray, max_sweeps: int):
    N = V0.shape[1]

    def step(H: np.ndarray, V: np.ndarray, rows: np.ndarray) -> np.ndarray:
        new = np.zeros_like(V)
        kr = k[rows]
        for kv in np.unique(kr):
            g = np.flatnonzero(kr == kv)
            if kv == 0:
                continue
            if kv >= N:
                new[g] = 1
                continue
            idx = np.argpartition(H[g], N - kv, axis=1)[:, N - kv:]
            sub = new[g]
            np.put_along_axis(sub, idx, 1, axis=1)
            new[g] = sub
        return new
    return _sync_loop(J, V0, max_sweeps, step)


def _run_async(J: np.ndarray, V0: np.ndarray, th: np.ndarray, max_sweeps: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n, N = V0.shape
    out = V0.astype(np.uint8)
    sweeps = np.zeros(n, dtype=np.int64)
    if n == 0:
        return out, sweeps
    V = V0.astype(J.dtype)
    H = _fields(V, J)
    idx = np.arange(n)
    for _ in range(max_sweeps):
        order = rng.permutation(N)
        Vp, Hp = V[:, order], H[:, order]
        Jp = J[np.ix_(order, order)]
        flipped = _async_sweep(Vp, Hp, Jp, th[order])
        sweeps[idx] += 1
        V[:, order] = Vp
        H[:, order] = Hp
        done = ~flipped
        out[idx[done]] = V[done].astype(np.uint8)
        V, H, idx = V[flipped], H[flipped], idx[flipped]
        if not idx.size:
            break
    if idx.size:
        out[idx] = V.astype(np.uint8)
    return out, sweeps


def _async_sweep(V: np.ndarray, H: np.ndarray, J: np.ndarray, th: np.ndarray,
                 block: int = 64) -> np.ndarray:
    """One asynchronous sweep over the units in column order, in place; rows that changed.

    Units are taken in blocks of ``block`` columns; inside a block they are updated one at a
    time with the block's fields kept exact by rank-one updates, and after the block the
    fields of the rows that changed are brought up to date by one product: exactly the
    one-unit-at-a-time dynamics.
    """
    n, N = V.shape
    flipped = np.zeros(n, dtype=bool)
    for b0 in range(0, N, block):
        b1 = min(N, b0 + block)
        Vb = V[:, b0:b1].T.copy()     # (b, n)
        V0 = Vb.copy()
        Hb = H[:, b0:b1].T.copy()
        Jb = J[b0:b1, b0:b1]
        for q in range(b1 - b0):
            v, h, t = Vb[q], Hb[q], th[b0 + q]
            new = np.where(h > t, 1, np.where(h < t, 0, v)).astype(v.dtype)
            f = np.flatnonzero(new != v)
            if f.size:
                d = new[f] - v[f]
                v[f] = new[f]
                Hb[:, f] += Jb[:, q:q + 1] * d
        D = Vb - V0
        rf = np.flatnonzero(D.any(axis=0))
        if rf.size:
            V[:, b0:b1] = Vb.T
            H[rf] += D[:, rf].T @ J[b0:b1]
            flipped[rf] = True
    return flipped
