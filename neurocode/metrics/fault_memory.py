"""Associative memories under damage: recall of stored patterns against the fraction of units
silenced (see :mod:`neurocode.metrics.fault`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.metrics._validate import check_int
from neurocode.metrics.fault_curves import DEFAULT_FRACTIONS
from neurocode.rules import CodingRule
from neurocode.theory._checks import _check_fractions
from neurocode.theory.survival import n_silenced


# -- associative memories under damage ------------------------------------------------------
def memory_fault_tolerance(
    memory_rule: CodingRule,
    patterns: Any,
    fractions: Any = None,
    n_draws: int = 3,
    random_state: Any = 0,
    max_patterns: int | None = 200,
) -> dict[str, float | np.ndarray]:
    """Recall quality of an associative memory against the fraction of deleted units.

    ``memory_rule`` is a fitted autoassociative memory (``willshaw`` or ``hopfield`` from
    :mod:`neurocode.models.memory`, or any rule whose ``encode`` recalls binary patterns of
    its own width) and ``patterns`` the binary patterns it stores. For each fraction ``f``
    and draw, ``m(f) = floor(f N + 1/2)`` units are deleted at random (progressive damage, as
    in :func:`fault_tolerance`), and each stored pattern ``x`` is used as its own cue:
    ``r = memory_rule.encode(x, unit_mask=alive)``, so a deleted unit gives no input, takes no
    part in the dynamics and outputs 0. With ``S`` the surviving units, the recall quality of
    a pattern is its overlap over the survivors (Hopfield's overlap, Amit, Gutfreund &
    Sompolinsky 1985, restricted to ``S``)::

        q(x) = (1/|S|) sum_{i in S} (2 r_i - 1)(2 x_i - 1)          in [-1, 1]

    1 for a recall that is exact on every surviving unit, about 0 for an unrelated one; 0
    when no unit survives (nothing is left to recall). ``quality`` is the mean of ``q`` over
    the patterns and draws; ``perfect`` the fraction of patterns recalled with no error on
    the surviving units (0 when none survives). Deleted units are left out of the score:
    losing them is the damage itself, the score asks what the survivors still hold. For
    sparse patterns the overlap is dominated by the silent units, so ``perfect`` is the
    sharper of the two.

    Parameters
    ----------
    memory_rule : CodingRule
        A fitted autoassociative memory.
    patterns : array (M, N) of 0/1
        Patterns stored in it (used as their own cues).
    fractions : array of floats in [0, 1], optional
        Fractions of deleted units; default :data:`DEFAULT_FRACTIONS` (0, 0.1, ..., 1).
    n_draws : int, default 3
        Random deletions per fraction.
    random_state : int or Generator, default 0
        Seed of the pattern subsample and of the deletions.
    max_patterns : int or None, default 200
        At most this many patterns are cued, drawn uniformly without replacement (the memory
        still holds all it stored); ``None``: all.

    Returns
    -------
    dict
        ``fractions`` (F,); ``quality``, ``quality_std``, ``perfect``, ``perfect_std`` (F,:
        mean and standard deviation over draws); scalars ``n_patterns``, ``n_units``,
        ``n_draws``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode import get_rule
    >>> X = (np.random.default_rng(0).random((5, 200)) < 0.5).astype(float)
    >>> net = get_rule("hopfield", random_state=0).fit(X)
    >>> res = memory_fault_tolerance(net, X, fractions=[0, 0.5])
    >>> print(res["quality"].tolist())
    [1.0, 1.0]
    """
    from neurocode.memories import check_binary

    if not isinstance(memory_rule, CodingRule):
        raise ValueError(f"memory_rule must be a fitted CodingRule, got {type(memory_rule).__name__}")
    n_in = getattr(memory_rule, "n_features_in_", None)
    if n_in is None:
        raise ValueError(f"rule '{memory_rule.name}' is not fitted: store the patterns first")
    N = int(memory_rule.n_units)
    if n_in != N:
        raise ValueError(f"rule '{memory_rule.name}' maps {n_in} inputs to {N} units: only an "
                         f"autoassociative memory (patterns cue themselves) can be measured")
    P = np.asarray(patterns)
    if P.ndim == 2 and P.shape[0] == 0:
        raise ValueError("patterns is empty: give the stored patterns")
    if np.issubdtype(P.dtype, np.floating) and not np.isfinite(P).all():
        raise ValueError("patterns contain NaN or infinite values")
    P = check_binary(P, "patterns")
    if P.shape[1] != N:
        raise ValueError(f"patterns have {P.shape[1]} units, the memory has {N}")
    f = _check_fractions(fractions, DEFAULT_FRACTIONS)
    n_draws = check_int(n_draws, "n_draws", 1)
    if max_patterns is not None:
        max_patterns = check_int(max_patterns, "max_patterns", 1)

    rng = np.random.default_rng(random_state)
    if max_patterns is not None and P.shape[0] > max_patterns:
        P = P[np.sort(rng.choice(P.shape[0], size=max_patterns, replace=False))]
    cues = P.astype(np.float64)
    xi = P.astype(np.int8) * 2 - 1
    m = n_silenced(f, N)
    quality = np.zeros((n_draws, f.size))
    perfect = np.zeros((n_draws, f.size))
    for d in range(n_draws):
        perm = rng.permutation(N)
        for j, mi in enumerate(m):
            alive = np.ones(N, dtype=bool)
            alive[perm[:mi]] = False
            n_alive = int(alive.sum())
            if n_alive == 0:
                continue
            r = np.asarray(memory_rule.encode(cues, unit_mask=None if mi == 0 else alive))
            s = (r[:, alive] > 0).astype(np.int8) * 2 - 1
            agree = s * xi[:, alive]
            quality[d, j] = float(agree.sum(axis=1).mean() / n_alive)
            perfect[d, j] = float((agree > 0).all(axis=1).mean())
    return {"fractions": f, "quality": quality.mean(axis=0), "quality_std": quality.std(axis=0),
            "perfect": perfect.mean(axis=0), "perfect_std": perfect.std(axis=0),
            "n_patterns": float(P.shape[0]), "n_units": float(N), "n_draws": float(n_draws)}
