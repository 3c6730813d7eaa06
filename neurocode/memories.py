"""Associative memories for sparse 0/1 codes: the covariance rule and threshold dynamics.

Pure numpy functions (no coding-rule classes, nothing from :mod:`neurocode.models`), for the
measures of :mod:`neurocode.metrics` that must not depend on the built-in rules.

**Storage: the covariance rule** of Tsodyks & Feigel'man (1988, "The enhanced storage
capacity in neural networks with low activity level", Europhys. Lett. 6, 101-105; Buhmann,
Divko & Schulten 1989, Phys. Rev. A 39, 2689-2692, study a variant with adaptive threshold
and global inhibition). Patterns ``x^mu`` in {0, 1}^N, ``mu = 1..M``, of mean activity ``a``
(the fraction of active units)::

    J_ij = 1 / (N a (1 - a))  sum_mu (x_i^mu - a)(x_j^mu - a)    (i != j),    J_ii = 0

The normalisation ``1 / (N a (1 - a))`` is chosen here (the rule is often quoted with it;
a constant factor changes no fixed point of k-winners recall and only rescales a fixed
threshold): it makes the field of a random stored pattern on itself ``x_i^mu - a`` (``1 - a``
on its active units, ``-a`` on its silent ones, a gap of 1 whatever ``a``), so thresholds
read in units of that gap. At ``a = 1/2`` it is the Hopfield (1982) rule
``T = (1/N) sum xi xi^T``, ``xi = 2x - 1``, exactly. The sum is kept through the exact
co-activation counts: with ``C_ij = sum_mu x_i^mu x_j^mu``, ``s_i = sum_mu x_i^mu``::

    sum_mu (x_i - a)(x_j - a) = C_ij - a (s_i + s_j) + M a^2

so storing is incremental (:func:`covariance_couplings` with ``counts=`` adds new patterns to
the same matrix) and sparse patterns cost ``k^2`` scattered additions each plus one
``O(N^2)`` pass per call, instead of a dense ``O(N^2)`` product per pattern.

**Recall: threshold dynamics** (:func:`threshold_run`) of 0/1 units::

    h_i = sum_j J_ij V_j,         V_i <- 1 if h_i > theta_i,  0 if h_i < theta_i,  V_i if equal

asynchronously (one unit at a time, in a random order per sweep: with symmetric ``J`` and
zero diagonal the energy ``E = -1/2 V^T J V + sum_i theta_i V_i`` never increases, so each
state settles at a fixed point) or synchronously (all units at once: fixed points or
2-cycles, Goles, Fogelman-Soulie & Pellegrin 1985). With ``k=`` the threshold is instead set
at every update so that exactly ``k`` units fire, the ``k`` of largest field
(activity-controlled, or k-winners-take-all, dynamics; Amari 1989, "Characteristics of
sparsely encoded associative memory", Neural Networks 2, 451-457, shows that sparse
memories have large basins only with such activity control). Synchronous k-winners
dynamics also end in a fixed point or a 2-cycle: the new state maximises ``V' . J V`` over
all states with ``k`` active units, so ``L(t) = V(t+1)^T J V(t)`` never decreases
(``L(t+1) = max_V V . J V(t+1) >= V(t)^T J V(t+1) = L(t)``), and it can stay constant only
when ``V(t+2) = V(t)`` (up to ties).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.zeros((40, 400), dtype=np.uint8)
>>> for row in X:
...     row[rng.choice(400, 20, replace=False)] = 1
>>> J = covariance_couplings(X)
>>> V, sweeps = threshold_run(J, X, k=X.sum(axis=1))
>>> print(bool((V == X).all()), int(sweeps.max()))
True 1
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_binary", "check_binary01", "covariance_couplings", "covariance_overlap",
           "hebbian_couplings", "hopfield_energy", "hopfield_run", "overlap", "threshold_run",
           "willshaw_recall", "willshaw_store", "willshaw_sums"]

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


# -- Willshaw and the +-1 Hopfield net (moved from neurocode.models.memory) ------------------
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


# -- Willshaw ---------------------------------------------------------------------------------
def willshaw_store(W: np.ndarray, A: Any, B: Any = None, method: str = "auto") -> np.ndarray:
    """Clipped Hebbian storage, in place: ``W |= (A^T B > 0)``; returns ``W``.

    ``W``: boolean ``(n_in, n_out)``; ``A``: binary ``(M, n_in)``; ``B``: binary ``(M, n_out)``
    (``None``: ``A``, autoassociative). ``method="sparse"`` scatters the active index pairs,
    ``"dense"`` adds chunked matrix products; both give the same ``W``, and ``"auto"`` picks
    the cheaper for the patterns' activity.
    """
    _check_method(method)
    A = check_binary(A, "A")
    B = A if B is None else check_binary(B, "B")
    n_in, n_out = W.shape
    if A.shape[1] != n_in or B.shape[1] != n_out or len(A) != len(B):
        raise ValueError(f"patterns of shapes {A.shape} and {B.shape} do not fit a "
                         f"({n_in}, {n_out}) memory")
    if len(A) == 0:
        return W
    amax, bmax = int(A.sum(axis=1).max()), int(B.sum(axis=1).max())
    if method == "sparse" or (method == "auto" and 16 * amax * bmax < n_in * n_out):
        # scatter the active index pairs into a padded matrix (pad row/column dropped)
        ai = _padded_indices(A, n_in)
        bi = ai if B is A else _padded_indices(B, n_out)
        flat = np.zeros((n_in + 1) * (n_out + 1), dtype=bool)
        for sl in _chunks(len(A), (1 << 23) // max(1, ai.shape[1] * bi.shape[1])):
            flat[(ai[sl, :, None] * (n_out + 1) + bi[sl, None, :]).ravel()] = True
        W |= flat.reshape(n_in + 1, n_out + 1)[:n_in, :n_out]
    else:  # dense: chunked products, exact in float32 (counts < 2^24)
        for sl in _chunks(len(A), 4096):
            a = A[sl].astype(np.float32)
            b = a if B is A else B[sl].astype(np.float32)
            W |= (a.T @ b) > 0
    return W


def willshaw_sums(W: np.ndarray, cues: Any, alive_in: np.ndarray | None = None,
                  method: str = "auto") -> np.ndarray:
    """Dendritic sums ``s = c W`` (int32, ``(n, n_out)``) of binary cues; dead inputs give nothing.

    ``method="sparse"`` adds the rows of ``W`` the cue selects, ``"dense"`` multiplies; the
    same sums, and ``"auto"`` picks the cheaper for the cues' activity.
    """
    _check_method(method)
    C = check_binary(cues, "cues")
    n_in, n_out = W.shape
    if C.shape[1] != n_in:
        raise ValueError(f"cues have {C.shape[1]} units, the memory has {n_in} inputs")
    if alive_in is not None:
        C = C & alive_in
    out = np.empty((len(C), n_out), dtype=np.int32)
    if len(C) == 0:
        return out
    amax = int(C.sum(axis=1).max())
    if method == "sparse" or (method == "auto" and 8 * amax <= n_in):  # add up the rows of W
        idx = _padded_indices(C, n_in)
        Wp = np.vstack([W, np.zeros((1, n_out), dtype=bool)])
        for sl in _chunks(len(C), (1 << 24) // max(1, idx.shape[1] * n_out)):
            out[sl] = Wp[idx[sl]].sum(axis=1, dtype=np.int32)
    else:
        Wf = W.astype(np.float32)
        for sl in _chunks(len(C), 4096):
            out[sl] = C[sl].astype(np.float32) @ Wf
    return out


def willshaw_recall(W: np.ndarray, cues: Any, k: int | None = None, mode: str = "threshold",
                    alive_in: np.ndarray | None = None,
                    alive_out: np.ndarray | None = None, method: str = "auto") -> np.ndarray:
    """Recall from binary cues: uint8 codes ``(n, n_out)``.

    ``mode="threshold"``: ``y_j = [s_j >= theta]`` with ``theta`` the number of active (alive)
    cue units. ``mode="top-k"``: ``y_j = [s_j >= the k-th largest s over alive outputs]``
    (``k=None``: the cue's activity), ties at that value all firing, units with ``s_j = 0``
    never. A cue with no active alive unit recalls nothing. Dead inputs (``alive_in`` False)
    give no input; dead outputs (``alive_out`` False) are 0. ``method``: as in
    :func:`willshaw_sums`.
    """
    if mode not in ("threshold", "top-k"):
        raise ValueError(f"mode must be 'threshold' or 'top-k', got {mode!r}")
    C = check_binary(cues, "cues")
    if alive_in is not None:
        C = C & alive_in
    sums = willshaw_sums(W, C, method=method)
    activity = C.sum(axis=1)
    if alive_out is not None:
        sums[:, ~alive_out] = -1
    if mode == "threshold":
        theta = activity
    else:
        n_out = sums.shape[1]
        m = n_out if alive_out is None else int(alive_out.sum())
        want = np.minimum(activity if k is None else np.full(len(C), k), m)
        theta = np.zeros(len(C), dtype=np.int64)
        ok = want > 0
        if ok.any():
            if np.all(want[ok] == want[ok][0]):
                kk = int(want[ok][0])
                theta[ok] = np.partition(sums[ok], n_out - kk, axis=1)[:, n_out - kk]
            else:
                srt = np.sort(sums[ok], axis=1)
                theta[ok] = srt[np.arange(ok.sum()), n_out - want[ok]]
        theta = np.maximum(theta, 1)
    out = (sums >= theta[:, None]) & (activity > 0)[:, None]
    if alive_out is not None:
        out[:, ~alive_out] = False
    return out.astype(np.uint8)


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


def _field_dtype(T: np.ndarray) -> type:
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
