"""The Hopfield memory's recall curve (Hopfield 1982), under the Hopfield measures of
:mod:`neurocode.metrics.capacity`.

Codes are stored with the +-1 Hebbian rule ``T = (1/N) sum_mu xi^mu xi^mu^T``, ``xi = 2x -
1``, zero diagonal (:func:`neurocode.memories.hebbian_couplings`, incremental over the loads),
and recalled by :func:`neurocode.memories.hopfield_run` from full or partial cues. Random
unbiased patterns are retrieved up to :data:`AGS_CAPACITY` ``N`` (Amit, Gutfreund &
Sompolinsky 1985). The information per synapse is counted from the whole pattern over all
``N^2`` couplings (:func:`_hopfield_bits`). Sparse codes need the covariance rule instead
(:mod:`neurocode.metrics.covariance`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.memories import hebbian_couplings, hopfield_run
from neurocode.metrics.recall import _partial, _Patterns
from neurocode.theory.willshaw import channel_information

__all__ = ["AGS_CAPACITY"]

AGS_CAPACITY = 0.138
"""Critical load ``alpha_c = M / N`` of the Hopfield net for random unbiased patterns (Amit,
Gutfreund & Sompolinsky 1985, Phys. Rev. Lett. 55, 1530-1533)."""


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
