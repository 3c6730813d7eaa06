"""The Willshaw memory's measures on index lists: :func:`willshaw_curve`, the fast path under
the Willshaw measures of :mod:`neurocode.metrics.capacity` (:func:`associative_capacity
<neurocode.metrics.capacity.associative_capacity>`, :func:`capacity_vs_k
<neurocode.metrics.capacity.capacity_vs_k>`), for memories of many thousands of units and
patterns.

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
(:func:`neurocode.theory.willshaw_theory`). A full autoassociative cue is credited with
nothing; the battery recalls from half cues.

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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.metrics.recall import (
    _check_loads,
    _check_run_args,
    _concat,
    _curve_summary,
    _geometric_loads,
    _interp,
    _keys,
    _partial,
    _Patterns,
    _ranges,
)
from neurocode.theory._checks import _check_n
from neurocode.theory.willshaw import (
    _OPTIMUM_AUTO,
    _OPTIMUM_HETERO,
    _distinct_synapses,
    channel_information,
)

__all__ = ["willshaw_curve"]

_GATHER_BYTES = 1 << 25      # bytes of W rows gathered per recall chunk


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


def _willshaw_run(X: _Patterns | None, Y: _Patterns | None, loads: np.ndarray,
                  tolerance: float, n_probe: int, cue_fraction: float, stop_after: int | None,
                  rng: np.random.Generator, feed: Any = None) -> dict[str, Any]:
    """Core of the Willshaw curve: store incrementally, probe at every load.

    The patterns ``X`` (and targets ``Y``, None: autoassociative) are given up front, or
    ``X`` is None and ``feed(m0, m1) -> (X_part, Y_part)`` supplies them lazily (``feed.auto``:
    autoassociative; ``Y`` is then not used).
    """
    if (X is None) == (feed is None):
        raise ValueError("_willshaw_run takes either the patterns X or a feed that draws them, "
                         f"not {'both' if X is not None else 'neither'}")
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
        # every pattern stored so far is a row of pool_x, its target one of pool_y (None: auto)
        if X is not None:
            pool_x, pool_y = X, Y  # no feed: auto is Y is None
            xa = X.rows(np.arange(stored, M))
            ya = xa if Y is None else Y.rows(np.arange(stored, M))
        else:
            xa, ya = feed(stored, int(M))
            all_x = pool_x = _concat(all_x, xa)
            all_y = all_x if auto else _concat(all_y, ya)
            pool_y = None if auto else all_y
        mem.store(xa, ya)
        seen.update(_keys(xa, None if auto else ya))
        cols["n_distinct"][li] = len(seen)
        stored = int(M)
        probe = np.sort(rng.choice(M, size=min(n_probe, M), replace=False))
        xp = pool_x.rows(probe)
        yp = xp if pool_y is None else pool_y.rows(probe)
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
