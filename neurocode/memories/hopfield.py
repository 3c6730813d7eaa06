"""The +-1 Hopfield net: integer Hebbian couplings, its energy, and synchronous or
asynchronous sign dynamics (moved from :mod:`neurocode.models.memory`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.memories.checks import _EXACT_F32, _chunks, check_binary


# -- Hopfield ---------------------------------------------------------------------------------
def hebbian_couplings(patterns: Any, counts: np.ndarray | None = None) -> np.ndarray:
    """Integer Hebbian couplings ``C = sum_mu xi^mu xi^mu^T`` with zero diagonal (int32).

    ``patterns``: binary 0/1 ``(M, N)``, mapped to ``xi = 2x - 1``; added to ``counts`` in place
    when given. The Hopfield couplings are ``T = C / N``.
    """
    X = check_binary(patterns, "patterns")
    N = X.shape[1]
    if counts is None:
        counts = np.zeros((N, N), dtype=np.int32)
    for sl in _chunks(len(X), 4096):  # float32 products of +-1 are exact for < 2^24 rows
        xi = X[sl].astype(np.float32) * 2 - 1
        counts += np.rint(xi.T @ xi).astype(np.int32)
    np.fill_diagonal(counts, 0)
    return counts


def hopfield_energy(T: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Energy ``E = -1/2 s^T T s`` of each row of ``states`` (+-1, or 0 for deleted units)."""
    S = np.asarray(states, dtype=np.float64)
    return -0.5 * ((S @ np.asarray(T, dtype=np.float64)) * S).sum(axis=1)


def _field_dtype(T: np.ndarray) -> type[np.float32] | type[np.float64]:
    """float32 when every field is an integer below 2^24 (exact), else float64."""
    if np.issubdtype(T.dtype, np.integer) and len(T) and np.abs(T).sum(axis=1).max() < _EXACT_F32:
        return np.float32
    return np.float64


def hopfield_run(T: np.ndarray, states: np.ndarray, update: str = "async", max_sweeps: int = 100,
                 rng: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run Hopfield dynamics ``s_i <- sign(sum_j T_ij s_j)`` (unchanged when the field is 0).

    ``T``: symmetric couplings ``(N, N)`` with zero diagonal (integer counts are kept exact);
    ``states``: ``(n, N)`` in {-1, +1}. ``update="sync"``: all units at once per sweep;
    ``"async"``: one unit at a time, in an order drawn from ``rng`` for each sweep (sweep ``t``
    uses the same order for every row, so a row's trajectory does not depend on the others).
    A row stops at the first sweep that changes nothing (a fixed point), or after
    ``max_sweeps``. Returns ``(states, sweeps, converged)``: the final +-1 states, the sweeps
    made per row (the last, unchanged one included) and whether the final state is a fixed
    point (no unit whose field opposes it).
    """
    if update not in ("sync", "async"):
        raise ValueError(f"update must be 'sync' or 'async', got {update!r}")
    dt = _field_dtype(T)
    Tf = np.ascontiguousarray(T, dtype=dt)
    S = np.array(states, dtype=dt)
    n, N = S.shape
    sweeps = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    if n == 0 or N == 0:
        return S, sweeps, np.ones(n, dtype=bool)
    if update == "sync":
        # With symmetric T, synchronous dynamics end in a fixed point or a 2-cycle (Goles,
        # Fogelman-Soulie & Pellegrin 1985): a row found in a 2-cycle stops early and is given
        # the state it would have after max_sweeps.
        active = np.arange(n)
        before = S.copy()  # each active row's state one sweep before its current one
        for t in range(1, max_sweeps + 1):
            Sa = S[active]
            H = Sa @ Tf
            new = np.where(H > 0, 1, np.where(H < 0, -1, Sa)).astype(dt)
            changed = (new != Sa).any(axis=1)
            cycle = changed & (new == before[active]).all(axis=1) & (t > 1)
            odd_left = (max_sweeps - t) % 2 == 1
            S[active] = np.where((cycle & odd_left)[:, None], Sa, new)
            before[active] = Sa
            sweeps[active] = t
            converged[active[~changed]] = True
            active = active[changed & ~cycle]
            if not active.size:
                break
        if active.size:  # out of sweeps: the last change may still have landed on a fixed point
            converged[active] = ~np.any(S[active] * (S[active] @ Tf) < 0, axis=1)
        return S, sweeps, converged

    rng = np.random.default_rng(rng)
    orders: list[np.ndarray] = []
    for rows in _chunks(n, max(256, (1 << 23) // N)):
        idx = np.arange(rows.start, rows.stop)
        cur = np.arange(N)  # the columns of Sp, Hp, Tp are the units cur[0], cur[1], ...
        Sp, Tp = S[rows], Tf
        Hp = Sp @ Tp
        for t in range(max_sweeps):
            if len(orders) <= t:
                orders.append(rng.permutation(N))
            pos = np.empty(N, dtype=np.int64)
            pos[cur] = np.arange(N)
            pos = pos[orders[t]]  # reorder the columns so the sweep runs left to right
            Sp, Hp, Tp, cur = Sp[:, pos], Hp[:, pos], Tp[np.ix_(pos, pos)], orders[t]
            flipped = _hopfield_async_sweep(Sp, Hp, Tp)
            sweeps[idx] += 1
            done = ~flipped
            S[idx[done][:, None], cur] = Sp[done]
            converged[idx[done]] = True
            Sp, Hp, idx = Sp[flipped], Hp[flipped], idx[flipped]
            if not idx.size:
                break
        if idx.size:  # out of sweeps: the last sweep may still have landed on a fixed point
            S[idx[:, None], cur] = Sp
            converged[idx] = ~np.any(Sp * Hp < 0, axis=1)
    return S, sweeps, converged


def _hopfield_async_sweep(S: np.ndarray, H: np.ndarray, T: np.ndarray, block: int = 64) -> np.ndarray:
    """One asynchronous sweep over the units in column order, in place; rows that flipped.

    ``S`` (n, N) states, ``H = S T`` their fields, ``T`` symmetric. Units are taken in blocks
    of ``block`` columns: within a block, units are updated one at a time with the block's
    fields kept exact by rank-one updates of the block; after the block, the fields of the
    rows that changed are brought up to date by one matrix product. The result is exactly
    the one-unit-at-a-time dynamics.
    """
    n, N = S.shape
    flipped = np.zeros(n, dtype=bool)
    for b0 in range(0, N, block):
        b1 = min(N, b0 + block)
        Sb = S[:, b0:b1].T.copy()  # (b, n): a unit's states are contiguous; a copy
        S0 = Sb.copy()
        Hb = H[:, b0:b1].T.copy()
        Tb = T[b0:b1, b0:b1]
        for q in range(b1 - b0):
            s = Sb[q]
            f = np.flatnonzero(s * Hb[q] < 0)
            if f.size:
                s[f] = -s[f]
                Hb[:, f] += Tb[:, q:q + 1] * (2 * s[f])
        D = Sb - S0
        rf = np.flatnonzero(D.any(axis=0))
        if rf.size:
            S[:, b0:b1] = Sb.T
            if rf.size == n:
                H += D.T @ T[b0:b1]
            else:
                H[rf] += D[:, rf].T @ T[b0:b1]
            flipped[rf] = True
    return flipped
