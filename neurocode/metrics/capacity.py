"""Memory capacity of codes: how many patterns a code can name, and how many a memory can hold.

* :func:`representational_capacity`: ``log2 C(N, k)`` bits for the measured activity ``k``
  beside the dense (``N`` bits) and local (``log2 N`` bits) counts, and the distinct codes
  actually observed.
* :func:`associative_capacity`: recall error against the number ``M`` of stored binarised codes
  in a Willshaw net or a Hopfield net, the capacity ``M*`` (largest ``M`` with error within a
  tolerance) and the information stored per synapse.
* :func:`willshaw_theory`: the closed forms for random k-of-N patterns (Willshaw, Buneman &
  Longuet-Higgins 1969; Palm 1980), from full or partial cues. It lives in
  :mod:`neurocode.theory.willshaw`, with :func:`channel_information` and
  :func:`log2_binomial`; all three are imported here and keep their names in this module.
* :func:`capacity_vs_k`: measured and theoretical Willshaw capacity of random k-of-N codes over
  ``k`` at fixed ``N``: it peaks at sparse activity, neither at ``k = 1`` nor at ``k = N/2``.
* :func:`willshaw_curve`: the fast path under the Willshaw measures, on patterns given as index
  lists (active units per pattern), for memories of many thousands of units and patterns.

**Information per synapse (Willshaw).** A recall is credited only with what its cue does not
hold (Palm 1980; Palm & Sommer 1996; Schwenker, Sommer & Palm 1996). From a cue of ``c`` of a
pattern's ``k`` active units, each of the ``N - c`` units the cue leaves out is a binary channel
with prior ``p' = (k - c) / (N - c)``, spurious rate ``q10 = spurious / (N - k)`` and miss rate
``q01 = missed / (k - c)``::

    info_bits(M) = D(M) (N - c) I(p', q10, q01),   bits_per_synapse = info_bits / (N (N-1) / 2)

(``D(M)`` distinct patterns stored, ``I`` :func:`channel_information`), over the distinct
synapses of the symmetric autoassociative matrix; hetero-associative, the cue holds nothing of
the target: ``D(M) n_out I(k / n_out, q10, q01) / (n_in n_out)``. No memory of ``S`` binary
synapses holds more than ``S`` bits (``bits_bound_per_synapse = 1``); the asymptotic optima are
``ln 2`` hetero-associative and ``ln 2 / 2`` per distinct synapse for autoassociative completion
(:func:`willshaw_theory`). A full autoassociative cue is credited with nothing; the battery
recalls from half cues.

**The fast Willshaw path.** The synapses ``W_ij`` are kept as bits (``(n_in, ceil(n_out/64))``
64-bit words, 2 MB for ``N = 4096``), patterns as index lists (CSR: the active units of every
pattern in one array). Storing ORs into row ``i`` of ``W`` the packed targets of the patterns in
which ``i`` is active (64 synapses per word operation, no per-pair scatter), and it is
incremental over the loads (patterns ``M_prev .. M-1`` are added to the same memory), so a
whole capacity curve costs one storage pass. Threshold recall with ``theta`` = the cue's
activity fires unit ``j`` iff ``W_ij = 1`` for every active cue unit ``i`` (``s_j = sum_i c_i
W_ij >= sum_i c_i``), so a recall is the bitwise AND of the cue's rows of ``W``: the same codes
as :func:`neurocode.memories.willshaw_recall` in threshold mode, reading ``N/8`` bytes per
active cue unit. (The :class:`~neurocode.models.memory.Willshaw` rule keeps ``W`` as one byte
per synapse and its patterns dense: 16 MB and 400 MB for 4,096 units and 100,000 patterns.)
The Hopfield measures use :func:`neurocode.memories.hebbian_couplings` (incremental too) and
:func:`~neurocode.memories.hopfield_run`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocode.memories import check_binary, hebbian_couplings, hopfield_run
from neurocode.metrics._validate import check_codes
from neurocode.theory._checks import _check_n, _check_tolerance
from neurocode.theory.willshaw import (
    _OPTIMUM_AUTO,
    _OPTIMUM_HETERO,
    _distinct_synapses,
    channel_information,
    log2_binomial,
    willshaw_theory,
)

__all__ = [
    "AGS_CAPACITY",
    "associative_capacity",
    "capacity_from_curve",
    "capacity_vs_k",
    "channel_information",
    "log2_binomial",
    "representational_capacity",
    "willshaw_curve",
    "willshaw_theory",
]

AGS_CAPACITY = 0.138
"""Critical load ``alpha_c = M / N`` of the Hopfield net for random unbiased patterns (Amit,
Gutfreund & Sompolinsky 1985, Phys. Rev. Lett. 55, 1530-1533)."""

_GATHER_BYTES = 1 << 25      # bytes of W rows gathered per recall chunk
_DEFAULT_MAX_UNITS = {"willshaw": 16_384, "hopfield": 4096}


# -- validation helpers ---------------------------------------------------------------------
def _check_patterns(patterns: Any) -> np.ndarray:
    X = check_codes(patterns, "patterns")
    return check_binary(X, "patterns", "associative_capacity")


def _check_loads(loads: Any, n_max: int | None) -> np.ndarray:
    L = np.asarray(loads)
    if L.ndim != 1 or L.size == 0:
        raise ValueError(f"loads must be a non-empty 1-D sequence of pattern counts, got shape "
                         f"{L.shape}")
    if not np.issubdtype(L.dtype, np.number) or not np.all(np.isfinite(L)):
        raise ValueError("loads must be finite numbers")
    if np.any(L != np.round(L)) or np.any(L < 1):
        raise ValueError(f"loads must be whole numbers >= 1, got {L.tolist()[:8]}")
    L = np.unique(L.astype(np.int64))
    if n_max is not None and L[-1] > n_max:
        raise ValueError(f"loads go up to {int(L[-1])} but only {n_max} patterns are given")
    return L


def _geometric_loads(n_max: int, n_loads: int) -> np.ndarray:
    return np.unique(np.rint(np.geomspace(1, max(1, n_max), n_loads)).astype(np.int64))


# -- representational capacity ------------------------------------------------------------------
def representational_capacity(codes: Any, threshold: float = 0.0) -> dict[str, float]:
    """How many distinct patterns a code of the measured activity can name, in bits.

    The codes are binarised (a unit is active when its code ``> threshold``). With ``N`` units
    and ``k`` = the mean number of active units per code, rounded half up (``floor(mean + 1/2)``)
    to a whole number, the counts of possible codes are::

        sparse (k of N):  C(N, k) patterns  ->  bits = log2 C(N, k)   (via lgamma, any N)
        dense:            2^N patterns      ->  bits_dense = N
        local (1 of N):   N patterns        ->  bits_local = log2 N

    The article ("Sparse coding: a simple exploration") says a sparse code of density ``d``
    has "2^d" combinations; that counts the patterns of ``d`` binary units, not the ways to
    choose which ``d`` of ``N`` units fire. The number of k-of-N patterns is ``C(N, d)``
    (``bits``); the article's figure is reported as ``bits_article = k`` for comparison
    (``log2 C(N, k) >= k`` for ``1 <= k <= N - 1``, and ``~ k log2(N e / k)`` for ``k << N``).

    The distinct codes observed are counted exactly: each binarised row is packed to bytes and
    hashed into a set (a hash collision between different rows cannot merge them: the set
    compares the bytes). ``log2_distinct`` is the entropy of the empirical code distribution
    if all distinct codes were equally often used, an upper bound on the bits the data use;
    it cannot exceed ``log2 n_samples``.

    Parameters
    ----------
    codes : array (n_samples, n_units)
        Codes of any kind (rate, binary, spike-count); NaN refused.
    threshold : float
        Activity threshold.

    Returns
    -------
    dict
        ``n_units``, ``n_samples``, ``k_mean`` (mean active units), ``k`` (rounded), ``bits``
        (``log2 C(N, k)``), ``bits_dense`` (``N``), ``bits_local`` (``log2 N``),
        ``bits_article`` (``k``), ``n_distinct``, ``log2_distinct``, ``distinct_fraction``
        (``n_distinct / n_samples``).

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.eye(4)[[0, 1, 1, 2]]
    >>> out = representational_capacity(codes)
    >>> print(out["k"], round(out["bits"], 6), out["n_distinct"])
    1.0 2.0 3.0
    """
    X = check_codes(codes)
    thr = float(threshold)
    if not np.isfinite(thr):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    B = X > thr
    n, N = B.shape
    k_mean = float(B.sum(axis=1).mean())
    k = int(min(N, math.floor(k_mean + 0.5)))
    packed = np.packbits(B, axis=1)
    n_distinct = len({row.tobytes() for row in packed})
    return {
        "n_units": float(N),
        "n_samples": float(n),
        "k_mean": k_mean,
        "k": float(k),
        "bits": float(log2_binomial(N, k)),
        "bits_dense": float(N),
        "bits_local": float(math.log2(N)),
        "bits_article": float(k),
        "n_distinct": float(n_distinct),
        "log2_distinct": float(math.log2(n_distinct)),
        "distinct_fraction": n_distinct / n,
    }


# -- capacity from a curve ------------------------------------------------------------------
def capacity_from_curve(loads: Any, error: Any, tolerance: float) -> tuple[float, bool]:
    """Capacity ``M*``: the largest load with recall error ``<= tolerance``; ``(M*, censored)``.

    The error is taken as linear in ``M`` between measured loads: with ``i`` the last load
    whose error is within tolerance and ``i + 1`` the next one (error above it),
    ``M* = M_i + (tol - e_i) / (e_{i+1} - e_i) (M_{i+1} - M_i)``. When the last load is within
    tolerance ``M*`` is that load and ``censored`` is True (``M*`` is a lower bound); when even
    the first load is above tolerance, ``M* = 0``. NaN errors (loads not evaluated) are ignored.

    Examples
    --------
    >>> print(capacity_from_curve([10, 20, 40], [0.0, 0.005, 0.015], 0.01))
    (30.0, False)
    """
    L = np.asarray(loads, dtype=np.float64)
    E = np.asarray(error, dtype=np.float64)
    ok = np.isfinite(E)
    L, E = L[ok], E[ok]
    if L.size == 0:
        return float("nan"), True
    within = np.flatnonzero(E <= tolerance)
    if within.size == 0:
        return 0.0, False
    i = int(within[-1])
    if i == len(L) - 1:
        return float(L[i]), True
    e0, e1 = E[i], E[i + 1]
    frac = (tolerance - e0) / (e1 - e0) if e1 > e0 else 0.0
    return float(L[i] + frac * (L[i + 1] - L[i])), False


def _interp(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    ok = np.isfinite(ys)
    if not ok.any() or not np.isfinite(x) or x <= 0:
        return 0.0 if np.isfinite(x) else float("nan")
    return float(np.interp(x, xs[ok], ys[ok]))


# -- index lists (CSR) ----------------------------------------------------------------------
class _Patterns:
    """Active units of binary patterns, CSR: ``idx[ptr[m]:ptr[m + 1]]`` are pattern m's units."""

    __slots__ = ("ptr", "idx", "n_units")

    def __init__(self, ptr: np.ndarray, idx: np.ndarray, n_units: int) -> None:
        self.ptr, self.idx, self.n_units = ptr, idx, n_units

    def __len__(self) -> int:
        return len(self.ptr) - 1

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.ptr)

    @classmethod
    def from_dense(cls, B: np.ndarray) -> _Patterns:
        counts = B.sum(axis=1, dtype=np.int64)
        _, cols = np.nonzero(B)
        return cls(np.concatenate(([0], np.cumsum(counts))), cols.astype(np.int64), B.shape[1])

    @classmethod
    def from_lists(cls, patterns: Any, n_units: int, what: str) -> _Patterns:
        if isinstance(patterns, np.ndarray) and patterns.ndim == 2:
            rows = patterns
            if rows.size and not np.issubdtype(rows.dtype, np.integer):
                raise ValueError(f"{what} must hold integer unit indices, got dtype {rows.dtype}")
            counts = np.full(len(rows), rows.shape[1], dtype=np.int64)
            idx = rows.astype(np.int64).ravel()
        else:
            lists = [np.asarray(p) for p in patterns]
            for p in lists:
                if p.ndim != 1 or (p.size and not np.issubdtype(p.dtype, np.integer)):
                    raise ValueError(f"{what} must be index lists (1-D integer arrays), got an "
                                     f"entry of shape {p.shape} and dtype {p.dtype}")
            counts = np.array([len(p) for p in lists], dtype=np.int64)
            idx = (np.concatenate(lists).astype(np.int64) if lists and counts.sum()
                   else np.zeros(0, dtype=np.int64))
        if len(counts) == 0:
            raise ValueError(f"{what} must hold at least one pattern")
        if idx.size and (idx.min() < 0 or idx.max() >= n_units):
            raise ValueError(f"{what} hold unit indices outside [0, {n_units}): "
                             f"{int(idx.min())} .. {int(idx.max())}")
        ptr = np.concatenate(([0], np.cumsum(counts)))
        if idx.size:  # no unit twice in a pattern
            row = np.repeat(np.arange(len(counts)), counts)
            order = np.lexsort((idx, row))
            s_row, s_idx = row[order], idx[order]
            if np.any((s_row[1:] == s_row[:-1]) & (s_idx[1:] == s_idx[:-1])):
                raise ValueError(f"{what} name a unit twice in one pattern")
            idx = s_idx  # each pattern's units in ascending order
        return cls(ptr, idx, n_units)

    def rows(self, sel: np.ndarray) -> _Patterns:
        counts = self.counts[sel]
        ptr = np.concatenate(([0], np.cumsum(counts)))
        idx = self.idx[_ranges(self.ptr[sel], counts)]
        return _Patterns(ptr, idx, self.n_units)

    def dense(self, dtype: Any = bool) -> np.ndarray:
        out = np.zeros((len(self), self.n_units), dtype=dtype)
        out[np.repeat(np.arange(len(self)), self.counts), self.idx] = 1
        return out


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (start, count)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)


def _cue_sizes(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Units a partial cue keeps of patterns with ``counts`` active units: ``max(1,
    round(fraction * k))`` (``np.rint``, halves to even: k = 9 keeps 4 at one half, k = 11
    keeps 6), 0 for an empty pattern, all ``k`` for ``fraction = 1``."""
    counts = np.asarray(counts, dtype=np.int64)
    if fraction >= 1.0:
        return counts
    return np.where(counts > 0, np.maximum(1, np.rint(fraction * counts)), 0).astype(np.int64)


def _partial(P: _Patterns, fraction: float, rng: np.random.Generator) -> _Patterns:
    """Keep :func:`_cue_sizes` of each pattern's active units, drawn at random."""
    if fraction >= 1.0:
        return P
    counts = P.counts
    keep = _cue_sizes(counts, fraction)
    row = np.repeat(np.arange(len(P)), counts)
    order = np.lexsort((rng.random(len(P.idx)), row))
    rank = np.arange(len(order)) - np.repeat(P.ptr[:-1], counts)
    chosen = order[rank < np.repeat(keep, counts)]
    chosen.sort()
    return _Patterns(np.concatenate(([0], np.cumsum(keep))), P.idx[chosen], P.n_units)


# -- the bit-packed Willshaw memory ---------------------------------------------------------
class _PackedWillshaw:
    """Binary synapses ``W`` (n_in, n_out) as bits: row ``i`` is ``nb`` bytes (``ceil(n_out/64)``
    64-bit words), bit ``j % 8`` of byte ``j // 8`` (little bit order) is ``W_ij``."""

    def __init__(self, n_in: int, n_out: int) -> None:
        self.n_in, self.n_out = n_in, n_out
        self.nb = 8 * ((n_out + 63) // 64)
        self.bits = np.zeros((n_in, self.nb), dtype=np.uint8)

    def store(self, A: _Patterns, B: _Patterns) -> None:
        """``W_ij = 1`` for every active ``i`` of ``a^mu`` and active ``j`` of ``b^mu``.

        Row ``i`` of ``W`` gets the OR of the packed targets ``b^mu`` of the patterns in which
        ``i`` is active: the cue elements ``(mu, i)`` of a chunk are sorted by ``i``, the rows
        ``b^mu`` gathered as 64-bit words and OR-reduced per ``i`` (``np.bitwise_or.reduceat``),
        then OR-ed into ``W``: ``n_out / 64`` word operations per active cue unit.
        """
        W64 = self.bits.view(np.uint64)
        ca = A.counts
        n = len(A)
        # chunk: at most _GATHER_BYTES of gathered rows and of packed targets
        per_el = max(1, _GATHER_BYTES // self.nb)
        per_pat = max(1, _GATHER_BYTES // max(1, self.n_out))
        cum = np.cumsum(ca)
        m = 0
        while m < n:
            base = cum[m - 1] if m else 0
            e = int(np.searchsorted(cum, base + per_el, side="right"))
            e = min(n, max(m + 1, e), m + per_pat)
            sel = np.arange(m, e)
            m = e
            a_c = ca[sel]
            if not a_c.sum():
                continue
            Bp = _pack(B.rows(sel), self.nb).view(np.uint64)
            rows = np.repeat(np.arange(len(sel)), a_c)
            units = A.idx[A.ptr[sel[0]]:A.ptr[sel[-1] + 1]]
            order = np.argsort(units, kind="stable")
            units, rows = units[order], rows[order]
            starts = np.flatnonzero(np.concatenate(([True], units[1:] != units[:-1])))
            red = np.bitwise_or.reduceat(Bp[rows], starts, axis=0)
            W64[units[starts]] |= red

    def recall(self, C: _Patterns) -> np.ndarray:
        """Threshold recall of the cues ``C``: packed ``(n, nb)``, the AND of the cue rows."""
        n = len(C)
        out = np.zeros((n, self.nb), dtype=np.uint8)
        counts = C.counts
        nz = np.flatnonzero(counts)
        if nz.size == 0:
            return out
        W64 = self.bits.view(np.uint64)
        out64 = out.view(np.uint64)
        per = counts * self.nb
        s = 0
        while s < nz.size:
            # cues nz[s] .. nz[e-1], about _GATHER_BYTES of rows gathered (at least one cue)
            csum = np.cumsum(per[nz[s:]])
            e = s + max(1, int(np.searchsorted(csum, _GATHER_BYTES, side="right")))
            sel = nz[s:e]
            G = W64[C.idx[_ranges(C.ptr[sel], counts[sel])]]
            offs = np.concatenate(([0], np.cumsum(counts[sel])[:-1]))
            out64[sel] = np.bitwise_and.reduceat(G, offs, axis=0)
            s = e
        return out

    def fraction_set(self, exclude_diagonal: bool) -> float:
        W64 = self.bits.view(np.uint64)
        step = max(1, _GATHER_BYTES // self.nb)
        total = sum(int(np.bitwise_count(W64[r:r + step]).sum(dtype=np.int64))
                    for r in range(0, self.n_in, step))
        if not exclude_diagonal:
            return total / (self.n_in * self.n_out)
        d = np.arange(min(self.n_in, self.n_out))
        diag = int(((self.bits[d, d >> 3] >> (d & 7).astype(np.uint8)) & 1).sum())
        off = self.n_in * self.n_out - len(d)
        return (total - diag) / off if off else float("nan")  # one unit: no synapse


def _pack(P: _Patterns, nb: int) -> np.ndarray:
    """Patterns as bits, ``(n, nb)`` uint8 (little bit order, zero padded to ``nb`` bytes)."""
    out = np.zeros((len(P), nb), dtype=np.uint8)
    packed = np.packbits(P.dense(bool), axis=1, bitorder="little")
    out[:, :packed.shape[1]] = packed
    return out


def _willshaw_run(X: _Patterns, Y: _Patterns | None, loads: np.ndarray, tolerance: float,
                  n_probe: int, cue_fraction: float, stop_after: int | None,
                  rng: np.random.Generator, feed: Any = None) -> dict[str, Any]:
    """Core of the Willshaw curve: store incrementally, probe at every load.

    ``feed(m0, m1) -> (X_part, Y_part)`` supplies patterns lazily when ``X`` is None.
    """
    auto = Y is None and (feed is None or feed.auto)
    n_in = X.n_units if X is not None else feed.n_units
    n_out = n_in if auto else (Y.n_units if Y is not None else feed.n_units)
    mem = _PackedWillshaw(n_in, n_out)
    nL = len(loads)
    cols = {name: np.full(nL, np.nan) for name in
            ("error", "spurious", "missed", "exact", "fraction_set", "n_distinct", "k_target",
             "cue_units")}
    seen: set[bytes] = set()
    stored = 0
    above = 0
    all_x: _Patterns | None = None  # patterns drawn so far (lazy feed)
    all_y: _Patterns | None = None
    for li, M in enumerate(loads):
        if X is not None:
            xa = X.rows(np.arange(stored, M))
            ya = xa if auto else Y.rows(np.arange(stored, M))
        else:
            xa, ya = feed(stored, int(M))
            all_x = _concat(all_x, xa)
            all_y = all_x if auto else _concat(all_y, ya)
        mem.store(xa, ya)
        seen.update(_keys(xa, None if auto else ya))
        cols["n_distinct"][li] = len(seen)
        stored = int(M)
        probe = np.sort(rng.choice(M, size=min(n_probe, M), replace=False))
        if X is not None:
            xp = X.rows(probe)
            yp = xp if auto else Y.rows(probe)
        else:
            xp = all_x.rows(probe)
            yp = xp if auto else all_y.rows(probe)
        cue = _partial(xp, cue_fraction, rng)
        R = mem.recall(cue)
        T = _pack(yp, mem.nb)
        spur = np.bitwise_count(R & ~T).sum(axis=1, dtype=np.int64)
        miss = np.bitwise_count(T & ~R).sum(axis=1, dtype=np.int64)
        cols["spurious"][li] = spur.mean()
        cols["missed"][li] = miss.mean()
        cols["error"][li] = ((spur + miss) / n_out).mean()
        cols["exact"][li] = np.mean((spur + miss) == 0)
        cols["fraction_set"][li] = mem.fraction_set(exclude_diagonal=auto)
        cols["k_target"][li] = yp.counts.mean()
        cols["cue_units"][li] = cue.counts.mean()
        above = above + 1 if cols["error"][li] > tolerance else 0
        if stop_after is not None and above >= stop_after:
            break
    done = np.isfinite(cols["error"])
    out = {name: v[done] for name, v in cols.items()}
    out["loads"] = loads[done].astype(np.float64)
    out["n_in"], out["n_out"], out["auto"] = n_in, n_out, auto
    return out


def _concat(a: _Patterns | None, b: _Patterns) -> _Patterns:
    if a is None:
        return b
    return _Patterns(np.concatenate((a.ptr, b.ptr[1:] + a.ptr[-1])),
                     np.concatenate((a.idx, b.idx)), a.n_units)


def _keys(A: _Patterns, B: _Patterns | None = None) -> list[bytes]:
    """One hashable key per pattern (per pair when ``B`` is given): its sorted units' bytes."""
    def one(P: _Patterns) -> list[bytes]:
        c = P.counts
        if len(c) and np.all(c == c[0]) and c[0] > 0:
            rows = np.ascontiguousarray(P.idx[P.ptr[0]:P.ptr[-1]].reshape(len(c), c[0]))
            return rows.view(f"V{rows.shape[1] * rows.itemsize}").ravel().tolist()
        return [P.idx[P.ptr[m]:P.ptr[m + 1]].tobytes() for m in range(len(c))]

    ka = one(A)
    if B is None:
        return ka
    return [a + b"|" + b for a, b in zip(ka, one(B), strict=True)]


def _curve_summary(run: dict[str, Any], tolerance: float, bits: np.ndarray) -> dict[str, Any]:
    """Capacity ``M*`` from a run's error curve, and ``bits`` (a curve over the loads) at it."""
    L = run["loads"]
    cap, censored = capacity_from_curve(L, run["error"], tolerance)
    return {"bits_per_synapse": bits, "capacity": cap, "capacity_censored": float(censored),
            "bits_per_synapse_at_capacity": _interp(cap, L, bits)}


def _hopfield_bits(run: dict[str, Any]) -> np.ndarray:
    """Hopfield information per synapse: ``D(M) N I(k/N, q10, q01) / N^2`` (the full pattern
    credited, over all ``N^2`` couplings; see :func:`associative_capacity`)."""
    n_out = run["n_out"]
    k = run["k_target"]
    p = k / n_out
    q10 = run["spurious"] / np.maximum(n_out - k, 1e-12)
    q01 = np.where(k > 0, run["missed"] / np.maximum(k, 1e-12), 0.0)
    info = channel_information(p, np.clip(q10, 0, 1), np.clip(q01, 0, 1))
    return run["n_distinct"] * n_out * info / (run["n_in"] * n_out)


def _willshaw_information(run: dict[str, Any]) -> dict[str, Any]:
    """Information the recalls add to their cues, from a Willshaw run's curves.

    Per load: ``n`` = units not given by the cue (``N - c`` autoassociative, ``n_out``
    hetero), ``a`` = active ones among them (``k - c``; ``k``), the prior ``p' = a / n``, the
    spurious rate ``q10 = spurious / (n_out - k)``, the miss rate ``q01 = missed / a``;
    ``info_bits = D(M) n I(p', q10, q01)`` and ``bits_per_synapse = info_bits / S`` with ``S``
    the distinct synapses (:func:`_distinct_synapses`). ``c`` and ``k`` are the probes' means.
    """
    auto = bool(run["auto"])
    n_out = run["n_out"]
    k = run["k_target"]
    c = run["cue_units"] if auto else np.zeros_like(k)
    free = n_out - c
    active = np.maximum(k - c, 0.0)
    p = np.where(free > 0, active / np.maximum(free, 1e-12), 0.0)
    q10 = run["spurious"] / np.maximum(n_out - k, 1e-12)
    q01 = np.where(active > 0, run["missed"] / np.maximum(active, 1e-12), 0.0)
    per_pattern = free * channel_information(p, np.clip(q10, 0, 1), np.clip(q01, 0, 1))
    info = run["n_distinct"] * per_pattern
    S = _distinct_synapses(run["n_in"], n_out, auto)
    bits = info / S if S > 0 else np.full_like(info, np.nan)  # one unit: no synapse
    return {"info_bits": info, "bits_per_synapse": bits, "synapse_bits_total": S}


def willshaw_curve(patterns: Any, n_units: int, loads: Any = None, targets: Any = None, *,
                   n_targets: int | None = None, tolerance: float = 0.01, n_probe: int = 200,
                   cue_fraction: float = 1.0, stop_after: int | None = 2,
                   random_state: Any = 0) -> dict[str, Any]:
    """Willshaw recall error against the number of stored patterns, on index lists.

    The fast path under :func:`associative_capacity` and :func:`capacity_vs_k`. ``patterns``
    are the active units of each pattern: a 2-D integer array ``(n_patterns, k)`` (k-of-N
    codes, e.g. :func:`neurocode.models.binary.random_code_indices`) or a sequence of 1-D
    integer arrays. Autoassociative (``targets=None``): the patterns ``x^mu`` are stored as
    ``W_ij = 1`` for ``i, j`` both active in some ``x^mu``; hetero-associative: ``targets``
    (index lists into ``n_targets`` units, default ``n_units``) are the partners ``y^mu`` and
    ``W_ij = 1`` for ``i`` active in ``x^mu``, ``j`` in ``y^mu`` (Willshaw et al. 1969).

    For each load ``M`` (ascending), patterns ``M_prev .. M-1`` are added to the memory, and
    ``n_probe`` of the ``M`` stored patterns (drawn without replacement) are recalled from the
    cue ``x^mu`` -- all of it (``cue_fraction=1``) or ``max(1, round(cue_fraction k))`` of its
    active units drawn at random -- by threshold recall (``y_j = [sum_i c_i W_ij >= sum_i c_i]``,
    no output for an empty cue). Per recall of target ``y`` (``k`` active units) as ``r``::

        spurious = |r \\ y|,  missed = |y \\ r|,   error = (spurious + missed) / n_out

    averaged over the probes (full and partial noiseless cues never miss a unit: ``missed`` is 0
    for them). ``stop_after=s``: evaluation stops after ``s`` consecutive loads with error
    ``> tolerance`` (the error of these memories grows with ``M``; ``None``: every load); the
    returned curves hold only the evaluated loads.

    The information the recalls add to their cues (Palm 1980; partial cues: Palm & Sommer
    1996; see :func:`associative_capacity` and :func:`willshaw_theory`), with ``k``, ``c``
    (active units of the target and of the cue), ``spurious`` and ``missed`` the means over
    the probes and ``D(M)`` the distinct patterns (pairs) stored. Autoassociative, the cue
    holds ``c`` of the pattern's units and leaves ``N - c`` unspecified; hetero-associative,
    the cue holds none of the target (no subtraction, ``c`` counts for the prior as 0)::

        auto:   info_bits = D(M) (N - c) I((k - c)/(N - c), spurious/(N - k), missed/(k - c)),
                bits_per_synapse = info_bits / (N (N - 1) / 2)
        hetero: info_bits = D(M) n_out I(k/n_out, spurious/(n_out - k), missed/k),
                bits_per_synapse = info_bits / (n_in n_out)

    over the distinct binary synapses, so ``bits_per_synapse <= 1`` for a valid measure. A full
    autoassociative cue is credited with 0 bits.

    Returns
    -------
    dict
        Curves over ``loads``: ``error``, ``spurious``, ``missed`` (mean units per recall),
        ``exact`` (fraction of probes recalled exactly), ``fraction_set`` (set synapses among
        ``n_in x n_out``, the diagonal excluded when autoassociative), ``n_distinct``
        (distinct patterns stored; pairs when hetero-associative), ``info_bits`` and
        ``bits_per_synapse`` (above); scalars ``capacity`` (:func:`capacity_from_curve`, from
        the same cues), ``capacity_censored``, ``bits_per_synapse_at_capacity``,
        ``info_bits_total`` (``info_bits`` at ``M*``), ``synapse_bits_total`` (distinct
        synapses: ``N (N - 1) / 2`` or ``n_in n_out``), ``bits_bound_per_synapse`` (1.0),
        ``bits_asymptotic_optimum`` (``ln 2 / 2`` autoassociative, ``ln 2`` hetero; see
        :func:`willshaw_theory`), ``cue_units`` (mean active units of the cues), ``n_units``,
        ``k_mean`` (mean active units of the targets), ``n_probe``, ``tolerance``,
        ``cue_fraction``.
        Defaults for ``loads``: 30 geometric loads from 1 to ``n_patterns``.

    Examples
    --------
    >>> from neurocode.random_codes import random_code_indices
    >>> idx = random_code_indices(2000, 256, 8, random_state=0)
    >>> out = willshaw_curve(idx, 256, loads=[100, 500, 2000], stop_after=None)
    >>> print(out["spurious"][0] < out["spurious"][-1])
    True
    """
    N = _check_n(n_units, "n_units")
    X = _Patterns.from_lists(patterns, N, "patterns")
    Y = None
    if targets is not None:
        Y = _Patterns.from_lists(targets, _check_n(n_targets or N, "n_targets"), "targets")
        if len(Y) != len(X):
            raise ValueError(f"targets must pair with patterns: {len(Y)} targets for "
                             f"{len(X)} patterns")
    loads = (_geometric_loads(len(X), 30) if loads is None else _check_loads(loads, len(X)))
    tol, n_probe, cue_fraction, stop_after = _check_run_args(tolerance, n_probe, cue_fraction,
                                                             stop_after)
    rng = np.random.default_rng(random_state)
    run = _willshaw_run(X, Y, loads, tol, n_probe, cue_fraction, stop_after, rng)
    out = _willshaw_result(run, tol, n_probe, cue_fraction)
    out["k_mean"] = float((X if Y is None else Y).counts.mean())
    return out


def _willshaw_result(run: dict[str, Any], tol: float, n_probe: int,
                     cue_fraction: float) -> dict[str, Any]:
    info = _willshaw_information(run)
    summary = _curve_summary(run, tol, info["bits_per_synapse"])
    out = {k: run[k] for k in ("loads", "error", "spurious", "missed", "exact", "fraction_set",
                               "n_distinct")}
    out.update(summary)
    out["info_bits"] = info["info_bits"]
    out.update({
        "info_bits_total": _interp(summary["capacity"], run["loads"], info["info_bits"]),
        "synapse_bits_total": info["synapse_bits_total"],
        "bits_bound_per_synapse": 1.0,
        "bits_asymptotic_optimum": _OPTIMUM_AUTO if run["auto"] else _OPTIMUM_HETERO,
        "cue_units": float(np.mean(run["cue_units"])),
        "n_units": float(run["n_out"]), "k_mean": float(np.mean(run["k_target"])),
        "n_probe": float(n_probe), "tolerance": tol, "cue_fraction": cue_fraction})
    return out


def _check_run_args(tolerance: float, n_probe: int, cue_fraction: float,
                    stop_after: int | None) -> tuple[float, int, float, int | None]:
    tol = _check_tolerance(tolerance)
    n_probe = _check_n(n_probe, "n_probe")
    cf = float(cue_fraction)
    if not (0.0 < cf <= 1.0):
        raise ValueError(f"cue_fraction must be in (0, 1], got {cue_fraction!r}")
    if stop_after is not None:
        stop_after = _check_n(stop_after, "stop_after")
    return tol, n_probe, cf, stop_after


# -- Hopfield curve ---------------------------------------------------------------------------
def _hopfield_run(X: Any, loads: np.ndarray, tolerance: float, n_probe: int,
                  cue_fraction: float, stop_after: int | None, update: str, max_sweeps: int,
                  rng: np.random.Generator) -> dict[str, Any]:
    """Core of the Hopfield curve. ``X``: dense bool patterns, or a feed that draws them."""
    feed = None if isinstance(X, np.ndarray) else X
    N = feed.n_units if feed is not None else X.shape[1]
    counts = np.zeros((N, N), dtype=np.int32)
    nL = len(loads)
    cols = {name: np.full(nL, np.nan) for name in
            ("error", "overlap", "spurious", "missed", "exact", "sweeps", "n_distinct",
             "k_target")}
    seen: set[bytes] = set()
    stored, above = 0, 0
    parts: list[np.ndarray] = []
    for li, M in enumerate(loads):
        M = int(M)
        if feed is not None:
            parts.append(feed(stored, M)[0].dense(bool))
            X = np.concatenate(parts) if len(parts) > 1 else parts[0]
            parts = [X]
        hebbian_couplings(X[stored:M], counts)
        seen.update(row.tobytes() for row in np.packbits(X[stored:M], axis=1))
        cols["n_distinct"][li] = len(seen)
        stored = M
        probe = np.sort(rng.choice(M, size=min(n_probe, M), replace=False))
        target = X[probe]
        cue = _partial(_Patterns.from_dense(target), cue_fraction, rng).dense(bool)
        S0 = cue.astype(np.int8) * 2 - 1
        S, sweeps, _ = hopfield_run(counts, S0, update=update, max_sweeps=max_sweeps, rng=rng)
        r = S > 0
        spur = (r & ~target).sum(axis=1)
        miss = (~r & target).sum(axis=1)
        m = 1.0 - 2.0 * (spur + miss) / N   # the overlap (1/N) sum (2r - 1)(2x - 1)
        cols["overlap"][li] = m.mean()
        cols["error"][li] = 1.0 - m.mean()
        cols["spurious"][li] = spur.mean()
        cols["missed"][li] = miss.mean()
        cols["exact"][li] = np.mean(spur + miss == 0)
        cols["sweeps"][li] = sweeps.mean()
        cols["k_target"][li] = target.sum(axis=1).mean()
        above = above + 1 if cols["error"][li] > tolerance else 0
        if stop_after is not None and above >= stop_after:
            break
    done = np.isfinite(cols["error"])
    out = {name: v[done] for name, v in cols.items()}
    out["loads"] = loads[done].astype(np.float64)
    out["n_in"] = out["n_out"] = N
    return out


# -- the battery measure --------------------------------------------------------------------
def associative_capacity(patterns: Any, loads: Any = None, memory: str = "willshaw",
                         tolerance: float = 0.01, n_probe: int = 200, random_state: Any = 0,
                         *, cue_fraction: float = 1.0, stop_after: int | None = 2,
                         max_units: int | None = None, update: str = "async",
                         max_sweeps: int = 20) -> dict[str, Any]:
    """Recall error against the number of stored codes, capacity ``M*`` and bits per synapse.

    The first ``M`` rows of ``patterns`` (binarised codes, 0/1) are stored in an associative
    memory of ``N`` units, for each ``M`` in ``loads`` (ascending; storage is incremental:
    rows ``M_prev .. M-1`` are added to the same memory), and ``n_probe`` of the ``M`` stored
    rows, drawn without replacement, are recalled from a cue: the whole stored pattern
    (``cue_fraction=1``, the default) or ``max(1, round(cue_fraction k))`` (halves rounded to
    even) of its ``k`` active units drawn at random (the others set to 0).

    ``memory="willshaw"``: autoassociative Willshaw net (Willshaw, Buneman & Longuet-Higgins
    1969), clipped Hebbian binary synapses, threshold recall ``y_j = [sum_i c_i W_ij >= sum_i
    c_i]`` (see :mod:`neurocode.models.memory`; computed bit-packed here, see the module
    notes). Per recall ``r`` of pattern ``x`` (``k`` active)::

        error = (spurious + missed) / N,   spurious = |r \\ x|,   missed = |x \\ r|

    ``memory="hopfield"``: Hopfield net (Hopfield 1982), couplings ``T = (1/N) sum_mu xi^mu
    xi^mu^T`` of ``xi = 2x - 1``, zero diagonal, run from ``s = 2c - 1`` by
    :func:`~neurocode.memories.hopfield_run` (``update``, at most ``max_sweeps`` sweeps);
    ``r = [s > 0]`` and ``error = 1 - m`` with the overlap ``m = (1/N) sum_i (2r_i - 1)(2x_i -
    1)`` (so ``error = 2 (spurious + missed) / N``, twice the fraction of wrong units). Random
    unbiased patterns are retrieved up to ``M ~ 0.138 N`` (Amit, Gutfreund & Sompolinsky
    1985), given as ``theory_capacity``; correlated or biased codes hold far fewer.

    The capacity ``M*`` is the largest ``M`` with mean error ``<= tolerance``, linear between
    loads (:func:`capacity_from_curve`), measured from the same cues as the information below
    (with ``cue_fraction < 1`` it is the capacity for completing patterns from that part of
    them, lower than the full cue's). The battery uses a half cue, ``cue_fraction=0.5``.

    **Willshaw information.** Each unit of a recalled pattern is a binary channel (Palm 1980,
    "On associative memory", Biol. Cybern. 36, 19-31; :func:`channel_information`), and a
    recall is credited only with what its cue does not already hold (partial cues: Palm &
    Sommer 1996, "Associative data storage and retrieval in neural networks"; Schwenker,
    Sommer & Palm 1996, Neural Networks 9). A cue of ``c`` of the pattern's ``k``
    active units leaves ``N - c`` units unspecified, ``k - c`` of them active: prior ``p' = (k
    - c) / (N - c)``, spurious rate ``q10 = spurious / (N - k)``, miss rate ``q01 = missed /
    (k - c)`` (``k``, ``c``, ``spurious``, ``missed``: means over the probes). With ``D(M)``
    the number of distinct patterns among the ``M`` stored (a repeated code adds no
    information; ``D = M`` for codes that never repeat)::

        info_bits(M)        = D(M) (N - c) I(p', q10, q01)
        bits_per_synapse(M) = info_bits(M) / (N (N - 1) / 2)

    over the distinct binary synapses of the symmetric autoassociative ``W`` (its diagonal
    never carries a unit the cue leaves out). A full cue (``cue_fraction=1``) holds the whole
    pattern and is credited with 0 bits. ``bits_per_synapse_at_capacity`` and
    ``info_bits_total`` are the values at ``M*`` (linear between loads); a valid measure keeps
    ``info_bits_total <= synapse_bits_total = N (N - 1) / 2``, i.e. ``bits_per_synapse <=
    bits_bound_per_synapse = 1`` (``S`` binary synapses hold at most ``S`` bits). The asymptotic
    optimum of completion from half cues, ``bits_asymptotic_optimum = ln 2 / 2 ~ 0.35`` per
    distinct synapse (``ln 2 / 4`` per ``N^2``; see :func:`willshaw_theory`), is approached
    slowly: about 0.3 at ``N ~ 10^4`` for ``k ~ 2 log2 N``. It holds for vanishing error, and
    is no bound: noisy recalls still carry information, and at a lax tolerance the measure
    can pass it (0.36 at ``N = 2048``, ``k = 11``, ``c = 6``, tolerance 0.01). For comparison
    the Willshaw result carries the closed forms for random patterns with the codes' mean
    activity ``k`` and mean cue size ``c`` (:func:`willshaw_theory`, autoassociative,
    ``cue_units = c`` by the cue rule over all rows): ``theory_fraction_set``,
    ``theory_spurious``, ``theory_error``, ``theory_bits_per_synapse`` over ``loads``,
    ``theory_capacity``, ``theory_bits_per_synapse_at_capacity`` and ``theory_cue_units``.

    **Hopfield information** is still counted from the whole pattern, ``bits_per_synapse(M) =
    D(M) N I(k/N, q10, q01) / N^2`` with ``q01 = missed / k``, over all ``N^2`` couplings.

    Defaults are chosen for speed (the battery runs this on 10,000 codes): ``loads`` = 30
    geometric loads from 1 to ``n_patterns``; ``n_probe = 200`` probes per load; evaluation
    stops after ``stop_after = 2`` consecutive loads above tolerance (``None``: all loads;
    the curves hold only the evaluated loads); codes wider than ``max_units`` (default 16,384
    for Willshaw, 32 MB of synapse bits; 4,096 for Hopfield, 64 MB of int32 couplings and
    ``O(N^2)`` per sweep) are restricted to a random subset of ``max_units`` units, the same
    for all patterns (``n_units`` reports the width used, ``n_units_given`` the original).

    Parameters
    ----------
    patterns : array (n_patterns, N) of 0/1
        Binarised codes (e.g. ``codes > threshold``), in storage order.
    loads : sequence of int, optional
        Numbers of stored patterns (``1 <= M <= n_patterns``).
    memory : {"willshaw", "hopfield"}
    tolerance : float
        Largest mean recall error counted as recall.
    n_probe : int
        Stored patterns recalled per load.
    random_state : int or Generator
        Probes, partial cues, the unit subset, and the Hopfield update order.
    cue_fraction : float in (0, 1]
    stop_after : int or None
    max_units : int or None
    update : {"async", "sync"}
        Hopfield updates.
    max_sweeps : int
        Hopfield sweeps per recall at most.

    Returns
    -------
    dict
        Curves over ``loads``: ``error``, ``spurious``, ``missed`` (mean units per recall),
        ``exact`` (fraction of probes recalled exactly), ``n_distinct`` (``D(M)``),
        ``bits_per_synapse``; Willshaw: ``info_bits``, ``fraction_set`` and the ``theory_*``
        curves; Hopfield: ``overlap``, ``sweeps``.
        Scalars: ``capacity`` (``M*``), ``capacity_per_unit`` (``M*/N``), ``capacity_censored``
        (1.0 when the error stayed within tolerance at the last load: ``M*`` is a lower
        bound), ``bits_per_synapse_at_capacity``, ``theory_capacity``, ``n_units``,
        ``n_units_given``, ``n_patterns``, ``k_mean``, ``n_probe``, ``tolerance``,
        ``cue_fraction``; Willshaw: ``info_bits_total`` (bits at ``M*``),
        ``synapse_bits_total`` (``N (N - 1) / 2``), ``bits_bound_per_synapse`` (1.0),
        ``bits_asymptotic_optimum`` (``ln 2 / 2``), ``cue_units`` (mean active units of the
        cues), ``theory_bits_per_synapse_at_capacity``, ``theory_cue_units``;
        ``trivial_error``, the error of an output with every unit off
        (``k/N``; Hopfield ``2k/N``), and ``capacity_informative``, 0.0 when that trivial
        output is itself within tolerance (then ``M*`` says nothing about recall: choose a
        tolerance below ``k/N``, as the battery does, or read ``exact``).

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> X = random_codes(3000, 256, 8, random_state=0)
    >>> out = associative_capacity(X, loads=[250, 500, 1000, 2000, 3000], n_probe=100)
    >>> print(500 < out["capacity"] < 3000)
    True
    """
    if memory not in ("willshaw", "hopfield"):
        raise ValueError(f"memory must be 'willshaw' or 'hopfield', got {memory!r}")
    if update not in ("async", "sync"):
        raise ValueError(f"update must be 'async' or 'sync', got {update!r}")
    B = _check_patterns(patterns)
    n, N0 = B.shape
    loads = _geometric_loads(n, 30) if loads is None else _check_loads(loads, n)
    tol, n_probe, cue_fraction, stop_after = _check_run_args(tolerance, n_probe, cue_fraction,
                                                             stop_after)
    limit = _DEFAULT_MAX_UNITS[memory] if max_units is None else _check_n(max_units, "max_units")
    max_sweeps = _check_n(max_sweeps, "max_sweeps")
    rng = np.random.default_rng(random_state)
    if N0 > limit:
        B = B[:, np.sort(rng.choice(N0, size=limit, replace=False))]
    N = B.shape[1]
    common = {"n_units_given": float(N0), "n_patterns": float(n), "n_probe": float(n_probe),
              "tolerance": tol, "cue_fraction": cue_fraction}
    if memory == "willshaw":
        run = _willshaw_run(_Patterns.from_dense(B), None, loads, tol, n_probe, cue_fraction,
                            stop_after, rng)
        out = _willshaw_result(run, tol, n_probe, cue_fraction)
        k_rows = B.sum(axis=1)
        k_all = float(k_rows.mean())
        c_all = float(_cue_sizes(k_rows, cue_fraction).mean())  # the cue rule, every row
        if k_all > 0:
            th = willshaw_theory(N, k_all, out["loads"], tolerance=tol, autoassociative=True,
                                 cue_units=min(c_all, k_all))
            out.update({"theory_fraction_set": th["fraction_set"],
                        "theory_spurious": th["spurious"], "theory_error": th["error"],
                        "theory_bits_per_synapse": th["bits_per_synapse"],
                        "theory_capacity": th["capacity"],
                        "theory_bits_per_synapse_at_capacity": th["bits_per_synapse_at_capacity"],
                        "theory_cue_units": th["cue_units"]})
        else:
            z = np.zeros(len(out["loads"]))
            out.update({"theory_fraction_set": z, "theory_spurious": z, "theory_error": z,
                        "theory_bits_per_synapse": z, "theory_capacity": float("inf"),
                        "theory_bits_per_synapse_at_capacity": 0.0, "theory_cue_units": 0.0})
        out["k_mean"] = k_all
    else:
        run = _hopfield_run(B, loads, tol, n_probe, cue_fraction, stop_after, update,
                            max_sweeps, rng)
        out = {k: run[k] for k in ("loads", "error", "overlap", "spurious", "missed", "exact",
                                   "sweeps", "n_distinct")}
        out.update(_curve_summary(run, tol, _hopfield_bits(run)))
        out.update({"n_units": float(N), "k_mean": float(B.sum(axis=1).mean()),
                    "theory_capacity": AGS_CAPACITY * N})
    out.update(common)
    out["capacity_per_unit"] = out["capacity"] / N
    # the error of a memory that recalls nothing at all (every unit off): when it is within
    # tolerance, M* measures nothing (a very sparse code at a tolerance of a fraction of N)
    trivial = out["k_mean"] / N * (2.0 if memory == "hopfield" else 1.0)
    out["trivial_error"] = trivial
    out["capacity_informative"] = float(trivial > tol)
    return out


# -- capacity over k ------------------------------------------------------------------------
class _RandomFeed:
    """Random k-of-N patterns (and independent partners), drawn lazily in storage order."""

    def __init__(self, N: int, k: int, auto: bool, rng: np.random.Generator) -> None:
        self.n_units, self.k, self.auto, self.rng = N, k, auto, rng

    def _draw(self, m: int) -> _Patterns:
        from neurocode.random_codes import random_code_indices

        idx = random_code_indices(m, self.n_units, self.k, self.rng)
        return _Patterns(np.arange(m + 1, dtype=np.int64) * self.k, idx.ravel(), self.n_units)

    def __call__(self, m0: int, m1: int) -> tuple[_Patterns, _Patterns]:
        x = self._draw(m1 - m0)
        return x, (x if self.auto else self._draw(m1 - m0))


def capacity_vs_k(N: int, k_values: Sequence[int], loads: Any = None, tolerance: float = 0.01,
                  memory: str = "willshaw", random_state: Any = 0, *, n_probe: int = 200,
                  hetero: bool = True, stop_after: int | None = 2,
                  max_sweeps: int = 20) -> dict[str, Any]:
    """Measured and theoretical capacity ``M*`` of random k-of-N codes over ``k`` at fixed ``N``.

    For each ``k``, random k-of-N patterns (:func:`neurocode.models.binary.random_code_indices`,
    drawn lazily as the load grows) are stored and probed as in :func:`willshaw_curve` /
    :func:`associative_capacity`, and ``M*`` is the largest load with mean recall error
    ``<= tolerance``. Beside it, ``theory_capacity`` is :func:`willshaw_theory`'s ``M*`` for the
    same ``N``, ``k``, tolerance and storage (Hopfield: ``0.138 N`` for ``k = N/2``, NaN
    otherwise).

    ``hetero=True`` (default, Willshaw): pairs of independent random k-of-N patterns, cue
    ``x^mu``, target ``y^mu``: the setting of Willshaw et al. (1969) and Palm (1980) in which
    capacity is maximal at sparse activity. (Autoassociative storage of a local code, ``k =
    1``, sets only diagonal synapses and never recalls a spurious unit, however many
    duplicates are stored; it has only ``N`` distinct patterns, which ``M*`` does not see.)
    ``hetero=False`` or ``memory="hopfield"``: autoassociative, cue = the stored pattern (a
    full autoassociative Willshaw cue holds all the pattern: its ``bits_per_synapse`` and
    ``theory_bits_per_synapse`` are 0, see :func:`willshaw_curve`).

    With a fractional error tolerance the optimum ``k`` shifts with the tolerance: at
    ``tolerance ~ 1/N`` (about one wrong unit per recall) ``M*`` is largest for a few
    units active (of order ``log N``) and falls off both towards ``k = 1`` (``M* ~ N``) and
    towards ``k = N/2`` (``M*`` of order ``ln N``); a lax tolerance (``0.01 N`` wrong units per
    recall) favours still smaller ``k``. ``bits_per_synapse`` at ``M*``
    (:func:`associative_capacity`) peaks nearer ``k ~ log2 N``.

    Parameters
    ----------
    N : int
        Units.
    k_values : sequence of int
        Active units, ``1 <= k < N``.
    loads : sequence of int, optional
        Loads tried for every ``k`` (default: 60 geometric loads from 1 to ``min(N^2, 2^20)``;
        evaluation stops ``stop_after`` loads above tolerance, so only the loads up to about
        ``M*`` are stored).
    tolerance : float
    memory : {"willshaw", "hopfield"}
    random_state : int or Generator
    n_probe, hetero, stop_after, max_sweeps
        As in :func:`associative_capacity`.

    Returns
    -------
    dict
        Curves over ``k_values``: ``capacity``, ``capacity_censored``, ``theory_capacity``,
        ``bits_per_synapse`` (at ``M*``), ``theory_bits_per_synapse``, ``fraction_set`` (at the
        last load evaluated, Willshaw); scalars ``n_units``, ``tolerance``, ``k_best``
        (the ``k`` of the largest measured ``M*``).

    Examples
    --------
    >>> out = capacity_vs_k(256, [1, 3, 8, 64], tolerance=1 / 256, n_probe=100)
    >>> print(int(out["k_best"]) in (3, 8))
    True
    """
    N = _check_n(N, "N")
    ks = np.asarray(k_values)
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer):
        raise ValueError(f"k_values must be a non-empty 1-D sequence of integers, got {k_values!r}")
    if ks.min() < 1 or ks.max() >= N:
        raise ValueError(f"k_values must lie in [1, N-1] = [1, {N - 1}], got {ks.tolist()}")
    if memory not in ("willshaw", "hopfield"):
        raise ValueError(f"memory must be 'willshaw' or 'hopfield', got {memory!r}")
    tol, n_probe, _, stop_after = _check_run_args(tolerance, n_probe, 1.0, stop_after)
    L = (_geometric_loads(min(N * N, 1 << 20), 60) if loads is None
         else _check_loads(loads, None))
    rng = np.random.default_rng(random_state)
    auto = (not hetero) or memory == "hopfield"
    res = {name: np.full(len(ks), np.nan) for name in
           ("capacity", "capacity_censored", "theory_capacity", "bits_per_synapse",
            "theory_bits_per_synapse", "fraction_set")}
    for i, k in enumerate(ks.tolist()):
        feed = _RandomFeed(N, k, auto, rng)
        if memory == "willshaw":
            run = _willshaw_run(None, None, L, tol, n_probe, 1.0, stop_after, rng, feed=feed)
            summ = _curve_summary(run, tol, _willshaw_information(run)["bits_per_synapse"])
            th = willshaw_theory(N, k, 1, tolerance=tol, autoassociative=auto)
            res["theory_capacity"][i] = th["capacity"]
            res["theory_bits_per_synapse"][i] = th["bits_per_synapse_at_capacity"]
            res["fraction_set"][i] = run["fraction_set"][-1]
        else:
            run = _hopfield_run(feed, L, tol, n_probe, 1.0, stop_after, "async", max_sweeps, rng)
            summ = _curve_summary(run, tol, _hopfield_bits(run))
            res["theory_capacity"][i] = AGS_CAPACITY * N if k == N // 2 else np.nan
        res["capacity"][i] = summ["capacity"]
        res["capacity_censored"][i] = summ["capacity_censored"]
        res["bits_per_synapse"][i] = summ["bits_per_synapse_at_capacity"]
    out: dict[str, Any] = {"k_values": ks.astype(np.float64), **res}
    out["n_units"] = float(N)
    out["tolerance"] = tol
    out["k_best"] = float(ks[int(np.nanargmax(res["capacity"]))])
    return out
