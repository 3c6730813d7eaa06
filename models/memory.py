"""Associative memories of binary neurons: the Willshaw net and the Hopfield net.

Both store binary patterns (rows of ``X``, entries 0 or 1) and recall a stored pattern from a
cue; as coding rules, ``fit(X)`` stores ``X``, ``partial_fit(X)`` stores more, and
``encode(X)`` is the recall from the cues ``X``. ``n_units`` is the width of the stored
patterns. A silenced unit (``unit_mask`` False) is a deleted neuron: its synapses are gone, so
it gives no input to the others, it takes no part in the dynamics, and its output is 0.

**Willshaw net** (Willshaw, Buneman & Longuet-Higgins 1969, "Non-holographic associative
memory", Nature 222, 960-962). Binary synapses ``W_ij`` in {0, 1} set by clipped Hebbian
learning: after storing the pairs ``(a^mu, b^mu)``, ``mu = 1..M``::

    W_ij = min(1, sum_mu a_i^mu b_j^mu)      (on once units i and j were ever active together)

Autoassociative storage (``fit``) stores ``(x^mu, x^mu)``; :meth:`Willshaw.store_pairs` stores
hetero-associative pairs. Recall from a cue ``c``: dendritic sums ``s_j = sum_i c_i W_ij`` and

    threshold:  y_j = [s_j >= theta],   theta = sum_i c_i (the cue's activity)
    top-k:      y_j = [s_j >= the k-th largest s]   (ties at that value all fire)

For random k-of-N pairs the fraction of set synapses is ``p1 = 1 - (1 - k^2/N^2)^M`` and a
full cue recalls its partner plus about ``(N - k) p1^k`` spurious units (Willshaw et al. 1969;
Palm 1980, "On associative memory", Biol. Cybern. 36, 19-31).

**Hopfield net** (Hopfield 1982, "Neural networks and physical systems with emergent
collective computational abilities", PNAS 79, 2554-2558). Units ``s_i`` in {-1, +1} (a stored
0/1 pattern ``x`` becomes ``xi = 2x - 1``, and a state back ``x = [s > 0]``), Hebbian
outer-product couplings with zero diagonal::

    T_ij = (1/N) sum_mu xi_i^mu xi_j^mu   (i != j),    T_ii = 0
    h_i  = sum_j T_ij s_j,                 s_i <- sign(h_i)   (unchanged when h_i = 0)

updated asynchronously (one unit at a time, in a random order per sweep: the energy
``E = -1/2 s^T T s`` never increases, so the state reaches a fixed point) or synchronously (all
units at once: fixed points or 2-cycles). Random dense patterns are recalled almost perfectly
up to ``M ~ 0.138 N`` and not above (Amit, Gutfreund & Sompolinsky 1985, "Storing infinite
numbers of patterns in a spin-glass model of neural networks", Phys. Rev. Lett. 55, 1530-1533).

The pure functions :func:`willshaw_store`, :func:`willshaw_recall`, :func:`hebbian_couplings`
and :func:`hopfield_run` do the work; the classes carry the state through them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neurocode.params import Param
from neurocode.rules import CodingRule, NotFittedError

__all__ = [
    "Hopfield",
    "Willshaw",
    "check_binary",
    "hebbian_couplings",
    "hopfield_energy",
    "hopfield_run",
    "overlap",
    "willshaw_recall",
    "willshaw_store",
    "willshaw_sums",
]

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


class _Memory(CodingRule):
    """Shared by the two memories: binary patterns in, ``n_units`` from the stored width."""

    code_kind = "binary"

    @property
    def n_units(self) -> int:
        """N, the number of units (the width of the stored patterns)."""
        if not hasattr(self, "weights_"):
            raise NotFittedError(f"rule '{self.name}' has no units before fit: it takes the "
                                 f"width of the stored patterns")
        return int(self.weights_.shape[1])

    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        had = hasattr(self, "n_features_in_")
        old = getattr(self, "n_features_in_", None)
        X = super()._check_X(X, reset)
        try:
            return check_binary(X, "X", f"rule '{self.name}'")
        except ValueError:
            if reset:  # a refused fit leaves the rule as it was
                if had:
                    self.n_features_in_ = old
                else:
                    del self.n_features_in_
            raise

    def _fit(self, X: np.ndarray, y: np.ndarray | None = None) -> None:
        self._reset(X.shape[1])
        self._store(X)

    def partial_fit(self, X: Any, y: Any = None) -> "_Memory":
        """Store the binary patterns ``X`` (rows) in addition to those stored already."""
        self._validate_params()
        fitted = hasattr(self, "weights_")
        X = self._check_X(X, reset=not fitted)
        if not fitted:
            self._reset(X.shape[1])
        self._store(X)
        return self

    def store(self, patterns: Any) -> "_Memory":
        """Store binary patterns (rows), online: the same as :meth:`partial_fit`."""
        return self.partial_fit(patterns)

    def _reset(self, n: int) -> None:
        raise NotImplementedError

    def _store(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._recall(X, mask).astype(np.float64)


class Willshaw(_Memory):
    """Willshaw net: binary synapses by clipped Hebbian learning, threshold recall.

    Storage of the binary patterns ``x^mu`` (autoassociative, ``fit``/``partial_fit``) or of
    pairs ``(a^mu, b^mu)`` (hetero-associative, :meth:`store_pairs`), after Willshaw, Buneman &
    Longuet-Higgins (1969), "Non-holographic associative memory", Nature 222, 960-962::

        W_ij = min(1, sum_mu a_i^mu b_j^mu)              (W boolean, n_in x n_out)

    Recall (``encode``, :meth:`recall`) from a binary cue ``c``, with ``s_j = sum_i c_i W_ij``::

        retrieval="threshold":  y_j = [s_j >= sum_i c_i]
        retrieval="top-k":      y_j = [s_j >= k-th largest of s]   (k=None: k = sum_i c_i)

    A full cue of a stored pattern always recalls it (every synapse it needs is set); the other
    units fire only when all their synapses from the cue are set: about ``(N - k) p1^k`` of
    them for random k-of-N patterns, ``p1 = 1 - (1 - k^2/N^2)^M`` being the fraction of set
    synapses (:attr:`fraction_set`). A deleted unit (``unit_mask`` False) gives no input and
    outputs 0; the threshold counts only the alive active cue units. In a hetero-associative
    memory ``unit_mask`` covers the output units. The cue's activity sets the threshold,
    so a partial cue (a subset of a stored pattern) still recalls the whole pattern.

    Examples
    --------
    >>> from neurocode.models.binary import random_codes
    >>> X = random_codes(200, 256, 8, random_state=0)
    >>> mem = Willshaw().fit(X)
    >>> print(float((mem.encode(X) == X).all(axis=1).mean()))
    1.0
    """

    name = "willshaw"
    description = "Willshaw associative memory: clipped Hebbian binary synapses, threshold recall"
    params: ClassVar[dict[str, Param]] = {
        "retrieval": Param(str, "threshold", choices=("threshold", "top-k"),
                           doc="threshold: units whose sum reaches the cue's activity fire; "
                               "top-k: the k largest sums fire (ties at the k-th all fire)"),
        "k": Param(int, None, low=1, nullable=True,
                   doc="top-k recall: winners per recall (null: the cue's activity)"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        from neurocode.models.binary import random_codes

        y = np.random.default_rng(1).integers(0, 3, n_samples)
        return random_codes(n_samples, 32, 4, random_state=0).astype(np.float64), y

    def _reset(self, n_in: int, n_out: int | None = None) -> None:
        self.weights_ = np.zeros((n_in, n_in if n_out is None else n_out), dtype=bool)
        self.n_stored_ = 0
        self.autoassociative_ = n_out is None

    def _store(self, X: np.ndarray, Y: np.ndarray | None = None) -> None:
        if Y is None and not self.autoassociative_:
            raise ValueError(f"rule '{self.name}' holds hetero-associative pairs: add more with "
                             f"store_pairs(A, B)")
        willshaw_store(self.weights_, X, Y)
        self.n_stored_ += len(X)

    def store_pairs(self, A: Any, B: Any) -> "Willshaw":
        """Store hetero-associative pairs: ``W |= (A^T B > 0)`` for binary ``A`` (M, n_in) and
        ``B`` (M, n_out). On an unfitted memory this makes a hetero-associative one
        (``n_features_in_ = n_in``, ``n_units = n_out``); later calls add pairs."""
        self._validate_params()
        fitted = hasattr(self, "weights_")
        B = check_binary(B, "B", f"rule '{self.name}'")
        if len(B) != len(np.asarray(A)):
            raise ValueError(f"A and B must hold the same number of patterns, "
                             f"got {len(np.asarray(A))} and {len(B)}")
        A = self._check_X(A, reset=not fitted)
        if not fitted:
            self._reset(A.shape[1], B.shape[1])
        elif B.shape[1] != self.n_units:
            raise ValueError(f"B has {B.shape[1]} units, the memory has {self.n_units} outputs")
        willshaw_store(self.weights_, A, B)
        self.n_stored_ += len(A)
        return self

    def recall(self, cues: Any, k: int | None = None, unit_mask: Any = None) -> np.ndarray:
        """Recall from binary cues: uint8 codes ``(n, n_units)``.

        ``k=None``: the rule's ``retrieval`` and ``k`` parameters; an integer ``k``: top-k recall
        with ``k`` winners.
        """
        self._check_fitted()
        self._validate_params()
        C = self._check_X(cues)
        mask = self._check_mask(unit_mask)
        return self._recall(C, mask, k)

    recall_pairs = recall

    def _recall(self, C: np.ndarray, mask: np.ndarray, k: int | None = None) -> np.ndarray:
        C = check_binary(C, "cues")
        mode, kk = (self.retrieval, self.k) if k is None else ("top-k", int(k))
        all_alive = bool(mask.all())
        alive_in = None if all_alive or not self.autoassociative_ else mask
        return willshaw_recall(self.weights_, C, k=kk, mode=mode, alive_in=alive_in,
                               alive_out=None if all_alive else mask)

    @property
    def fraction_set(self) -> float:
        """Fraction of set synapses ``p1`` over all ``n_in x n_out`` entries of ``W``."""
        self._check_fitted()
        return float(self.weights_.mean())


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
            flipped = _async_sweep(Sp, Hp, Tp)
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


def _async_sweep(S: np.ndarray, H: np.ndarray, T: np.ndarray, block: int = 64) -> np.ndarray:
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


class Hopfield(_Memory):
    """Hopfield net: +-1 units, Hebbian outer-product couplings, sync or async recall.

    Storage (Hopfield 1982, "Neural networks and physical systems with emergent collective
    computational abilities", PNAS 79, 2554-2558) of binary patterns ``x^mu`` as
    ``xi^mu = 2 x^mu - 1``::

        T_ij = (1/N) sum_mu xi_i^mu xi_j^mu  (i != j),   T_ii = 0

    (kept as the integer counts ``weights_ = N T``, which give the same dynamics). Recall
    (``encode``, :meth:`recall`) starts from the cue ``s = 2c - 1`` and updates::

        h_i = sum_j T_ij s_j,      s_i <- +1 if h_i > 0,  -1 if h_i < 0,  s_i if h_i = 0

    ``update="async"``: one unit at a time in a random order per sweep, drawn from
    ``random_state`` (the energy ``E = -1/2 s^T T s`` never increases, so the state settles at
    a fixed point); ``update="sync"``: all units at once (may end in a 2-cycle). Each cue stops
    at a fixed point or after ``max_sweeps``. The code is ``y = [s > 0]``. A deleted unit
    (``unit_mask`` False) is removed from the network: it sends no input and outputs 0.
    Random dense patterns are retrieved up to about ``0.138 N`` of them (Amit, Gutfreund &
    Sompolinsky 1985, Phys. Rev. Lett. 55, 1530-1533).

    Examples
    --------
    >>> import numpy as np
    >>> X = (np.random.default_rng(0).random((10, 200)) < 0.5).astype(float)
    >>> net = Hopfield(random_state=0).fit(X)
    >>> print(float(overlap(net.encode(X), X).mean()))
    1.0
    """

    name = "hopfield"
    description = "Hopfield network: +-1 units, Hebbian couplings, sync or async recall"
    params: ClassVar[dict[str, Param]] = {
        "update": Param(str, "async", choices=("async", "sync"),
                        doc="async: one unit at a time in a random order per sweep; "
                            "sync: all units at once"),
        "max_sweeps": Param(int, 100, low=1, high=100_000,
                            doc="most sweeps (updates of every unit) per recall; recall stops "
                                "earlier at a fixed point"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0, "max_sweeps": 20}

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 3, n_samples)
        return (rng.random((n_samples, 32)) < 0.5).astype(np.float64), y

    def _reset(self, n: int) -> None:
        self.weights_ = np.zeros((n, n), dtype=np.int32)
        self.n_stored_ = 0

    def _store(self, X: np.ndarray) -> None:
        hebbian_couplings(X, self.weights_)
        self.n_stored_ += len(X)

    @property
    def couplings(self) -> np.ndarray:
        """``T = weights_ / N``, the Hebbian couplings of Hopfield (1982)."""
        self._check_fitted()
        return self.weights_ / self.n_units

    @property
    def load(self) -> float:
        """``alpha = M / N``: patterns stored per unit (capacity ~0.138 for random patterns)."""
        self._check_fitted()
        return self.n_stored_ / self.n_units

    def recall(self, cues: Any, unit_mask: Any = None, return_sweeps: bool = False):
        """Recall from binary cues: uint8 codes ``(n, n_units)``; with ``return_sweeps`` also
        the sweeps made per cue and whether each reached a fixed point."""
        self._check_fitted()
        self._validate_params()
        C = self._check_X(cues)
        mask = self._check_mask(unit_mask)
        return self._recall(C, mask, return_sweeps)

    def energy(self, codes: Any, unit_mask: Any = None) -> np.ndarray:
        """``E = -1/2 s^T T s`` of binary codes (``s = 2x - 1``; deleted units count as 0)."""
        self._check_fitted()
        X = check_binary(codes, "codes")
        mask = self._check_mask(unit_mask)
        S = (2.0 * X - 1.0) * mask
        return hopfield_energy(self.couplings, S)

    def _recall(self, C: np.ndarray, mask: np.ndarray, return_sweeps: bool = False):
        C = check_binary(C, "cues")
        out = np.zeros(C.shape, dtype=np.uint8)
        alive = np.flatnonzero(mask)
        sweeps = np.zeros(len(C), dtype=np.int64)
        converged = np.ones(len(C), dtype=bool)
        if alive.size:
            T = self.weights_ if alive.size == self.n_units else self.weights_[np.ix_(alive, alive)]
            S0 = C[:, alive].astype(np.int8) * 2 - 1
            S, sweeps, converged = hopfield_run(T, S0, self.update, self.max_sweeps, self._rng())
            out[:, alive] = S > 0
        return (out, sweeps, converged) if return_sweeps else out
