"""Fault tolerance: how a code's readout, or a memory's recall, survives the death of units.

The theory of local, sparse and dense codes predicts how gracefully a code degrades when
neurons die. A *local* code (one unit per item) loses each item with its unit: accuracy falls
linearly with the fraction of units lost. A *distributed* code (many units per item) keeps an
item while enough of its units survive: for a random k-of-N code, an item whose recognition
needs ``theta`` of its ``k`` units survives the loss of a fraction ``f`` of the units with
probability given by a binomial tail (:func:`kofn_survival_theory`).

* :func:`fault_tolerance`: readout accuracy against the fraction of units silenced, at random
  (several draws) and most-active-first, with the area under each curve and the fraction at
  which accuracy has lost half its range.
* :func:`memory_fault_tolerance`: recall quality of an associative memory (Willshaw,
  Hopfield) against the fraction of deleted units.
* :func:`kofn_survival` and :func:`kofn_survival_theory`: the measured and the closed-form
  survival of items of random k-of-N codes (the closed form, and :func:`n_silenced`, live in
  :mod:`neurocode.theory.survival` and are imported here under the same names).
* :func:`normalised_auc` and :func:`half_range_fraction`: the two summaries of a curve.

**How units are silenced.** Silencing goes through the rule's ``unit_mask``
(``rule.encode(X, unit_mask=mask)``; ``False`` = silenced), so a silenced unit is removed
*inside* the rule's dynamics: in recurrent rules (LCA, Földiák, k-WTA, Hopfield, Willshaw) it
neither fires nor inhibits nor excites, and the survivors settle as a damaged circuit would.
At fraction ``f`` of ``N`` units, exactly ``m(f) = floor(f N + 1/2)`` units are silenced.
Random silencing draws one random permutation of the units per draw and silences its first
``m(f)`` units at every ``f``: the damage is progressive (a unit silenced at a smaller
fraction stays silenced at the larger ones), and at each ``f`` the silenced set is a uniformly
random ``m(f)``-subset.

**A rule must honour the mask.** A rule whose ``encode`` ignores ``unit_mask`` would look
perfectly fault tolerant (AUC 1): :func:`mask_ignored` silences half of the units active on
the stimuli and checks that they are 0, and :func:`fault_tolerance` refuses such a rule
(``ValueError`` saying why; the battery records the reason instead of a number).

**The readout is never retrained.** It is trained once on intact codes
(:func:`neurocode.metrics.readout.fit_readout`: the rule's own classifier for supervised
rules, a linear probe for the others) and reads every damaged code as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocode.metrics._validate import check_int, check_labels, check_stimuli
from neurocode.metrics._validate import check_threshold as _check_threshold
from neurocode.rules import CodingRule
from neurocode.theory._checks import _check_fractions
from neurocode.theory.survival import kofn_survival_theory, n_silenced

__all__ = [
    "DEFAULT_FRACTIONS",
    "ORDERS",
    "fault_tolerance",
    "half_range_fraction",
    "kofn_survival",
    "kofn_survival_theory",
    "mask_ignored",
    "memory_fault_tolerance",
    "n_silenced",
    "normalised_auc",
]

#: Default silencing fractions of :func:`fault_tolerance` and :func:`memory_fault_tolerance`:
#: 0, 0.1, ..., 1.0 (11 points).
DEFAULT_FRACTIONS = np.linspace(0.0, 1.0, 11)

#: Silencing orders of :func:`fault_tolerance`.
ORDERS = ("random", "most-active")

_DEFAULT_SURVIVAL_FRACTIONS = np.linspace(0.0, 1.0, 21)


# -- validation -----------------------------------------------------------------------------
def _check_X(X: Any, rule: CodingRule) -> np.ndarray:
    X = check_stimuli(X)
    n_in = getattr(rule, "n_features_in_", None)
    if n_in is None:
        raise ValueError(f"rule '{rule.name}' is not fitted: fit it (and its readout) first")
    if X.shape[1] != n_in:
        raise ValueError(f"X has {X.shape[1]} features, but rule '{rule.name}' was fitted with {n_in}")
    return X


def _check_orders(orders: Any) -> tuple[str, ...]:
    if isinstance(orders, str):
        orders = (orders,)
    try:
        out = tuple(orders)
    except TypeError:
        raise ValueError(f"orders must be a sequence of {ORDERS}, got {orders!r}") from None
    if not out:
        raise ValueError(f"orders is empty: give at least one of {ORDERS}")
    for o in out:
        if o not in ORDERS:
            raise ValueError(f"unknown silencing order {o!r}: expected one of {ORDERS}")
    return tuple(dict.fromkeys(out))


def _check_curve(fractions: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(fractions, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if f.ndim != 1 or f.shape != v.shape or f.size == 0:
        raise ValueError(f"fractions and accuracy must be 1-D arrays of the same nonzero length, "
                         f"got shapes {f.shape} and {v.shape}")
    if not (np.isfinite(f).all() and np.isfinite(v).all()):
        raise ValueError("fractions and accuracy must not contain NaN or infinite values")
    if ((f < 0) | (f > 1)).any():
        raise ValueError(f"a silencing fraction must lie in [0, 1], got {f.tolist()}")
    if f.size > 1 and not (np.diff(f) > 0).all():
        raise ValueError(f"fractions must be strictly increasing, got {f.tolist()}")
    return f, v


def _check_level(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


# -- curve summaries ------------------------------------------------------------------------
def _anchored(f: np.ndarray, v: np.ndarray, intact: float) -> tuple[np.ndarray, np.ndarray]:
    if f[0] > 0:
        return np.concatenate(([0.0], f)), np.concatenate(([intact], v))
    return f, v


def normalised_auc(fractions: Any, accuracy: Any, intact: float, chance: float) -> float:
    """Area under an accuracy-vs-fraction-silenced curve, normalised to the intact range.

    With ``a(f)`` the accuracy with a fraction ``f`` of the units silenced, ``a_0`` the intact
    accuracy and ``c`` the chance accuracy::

        AUC = 1/(f_max - f_0) * integral_{f_0}^{f_max} (a(f) - c) / (a_0 - c) df

    by the trapezoid rule over the measured fractions, with the intact point ``(0, a_0)``
    added when 0 is not among them (``f_0 = 0``). Over the default fractions (0 to 1) this is
    the area over ``[0, 1]``: 1 for a code that keeps its intact accuracy until every unit is
    gone, 0.5 for the straight line of a local code (``a(f) = a_0 - (a_0 - c) f``), about 0
    for a code that drops to chance at the first loss. NaN when ``a_0 <= c`` (no range to
    lose).

    Examples
    --------
    >>> print(normalised_auc([0, 0.5, 1], [0.9, 0.5, 0.1], intact=0.9, chance=0.1))
    0.5
    """
    f, v = _check_curve(fractions, accuracy)
    a0, c = _check_level(intact, "intact"), _check_level(chance, "chance")
    if a0 <= c:
        return float("nan")
    f, v = _anchored(f, v, a0)
    norm = (v - c) / (a0 - c)
    if f.size == 1 or f[-1] == f[0]:
        return float(norm[-1])
    area = float(np.sum((norm[1:] + norm[:-1]) * np.diff(f)) / 2)
    return area / float(f[-1] - f[0])


def half_range_fraction(fractions: Any, accuracy: Any, intact: float, chance: float) -> float:
    """The fraction silenced at which accuracy first falls to half its range.

    The level is ``L = c + (a_0 - c) / 2``, halfway between the intact accuracy ``a_0`` and
    chance ``c``. Walking the curve from the smallest fraction (the intact point ``(0, a_0)``
    is added when 0 is not measured), at the first measured ``f_i`` with ``a(f_i) <= L``::

        f_half = f_{i-1} + (a(f_{i-1}) - L) / (a(f_{i-1}) - a(f_i)) * (f_i - f_{i-1})

    (linear interpolation between the two points around the crossing). NaN when ``a_0 <= c``
    or when the curve stays above ``L`` over the measured fractions.

    Examples
    --------
    >>> f = half_range_fraction([0, 0.2, 0.6, 1], [1.0, 0.8, 0.2, 0.0], intact=1.0, chance=0.0)
    >>> print(round(f, 6))
    0.4
    """
    f, v = _check_curve(fractions, accuracy)
    a0, c = _check_level(intact, "intact"), _check_level(chance, "chance")
    if a0 <= c:
        return float("nan")
    f, v = _anchored(f, v, a0)
    level = c + (a0 - c) / 2
    below = np.flatnonzero(v <= level)
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(f[0])
    drop = v[i - 1] - v[i]
    return float(f[i - 1] + (v[i - 1] - level) / drop * (f[i] - f[i - 1]))


# -- the readout under damage ---------------------------------------------------------------
def _unit_ranking(codes: np.ndarray, threshold: float) -> np.ndarray:
    """Units from most to least active: activity frequency, then mean |code|, then index."""
    mag = np.abs(codes.astype(np.float64, copy=False))
    freq = (mag > threshold).mean(axis=0)
    mean_mag = mag.mean(axis=0)
    idx = np.arange(codes.shape[1])
    return np.lexsort((idx, -mean_mag, -freq))


def mask_ignored(rule: CodingRule, X: Any, random_state: Any = 0,
                 max_stimuli: int = 200) -> str:
    """Why ``rule`` does not honour ``unit_mask`` on the stimuli ``X``, or ``""`` when it does.

    Half of the units active on (up to ``max_stimuli`` of) the stimuli, drawn at random, are
    silenced; the rule honours the mask when ``rule.encode(X, unit_mask=alive)`` has the
    shape of the intact codes and is 0 on every silenced unit. A code with no active unit
    gives nothing to check (``""``).

    Parameters
    ----------
    rule : CodingRule
        A fitted rule.
    X : array (n_samples, n_features)
        Stimuli it encodes.
    random_state : int or Generator, default 0
        Seed of the stimuli and units drawn.
    max_stimuli : int, default 200
        Stimuli encoded at most (twice: intact and silenced).

    Returns
    -------
    str
        The reason (which units stayed active), or ``""``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode import get_rule
    >>> X = np.random.default_rng(0).random((50, 8))
    >>> mask_ignored(get_rule("kofn", n_units=16, k=4, random_state=0).fit(X), X)
    ''
    """
    X = _check_X(X, rule)
    rng = np.random.default_rng(random_state)
    if X.shape[0] > max_stimuli:
        X = X[np.sort(rng.choice(X.shape[0], size=max_stimuli, replace=False))]
    N = int(rule.n_units)
    codes = np.asarray(rule.encode(X))
    active = np.flatnonzero((codes != 0).any(axis=0)) if codes.ndim == 2 else np.arange(0)
    if active.size == 0:
        return ""
    silenced = rng.choice(active, size=max(1, active.size // 2), replace=False)
    alive = np.ones(N, dtype=bool)
    alive[silenced] = False
    masked = np.asarray(rule.encode(X, unit_mask=alive))
    if masked.shape != codes.shape:
        return (f"rule '{rule.name}' encodes with a unit_mask codes of shape {masked.shape}, "
                f"without one {codes.shape}")
    on = np.flatnonzero((masked[:, ~alive] != 0).any(axis=0))
    if on.size == 0:
        return ""
    return (f"rule '{rule.name}' ignores unit_mask: {on.size} of the {silenced.size} units "
            f"it was asked to silence stay active (a rule must silence them inside its "
            f"encode; neurocode.testing.check_rule shows it), so its fault tolerance would "
            f"be meaningless and is not reported")


def fault_tolerance(
    rule: CodingRule,
    readout: Any,
    X: Any,
    y: Any,
    fractions: Any = None,
    n_draws: int = 3,
    orders: Sequence[str] = ORDERS,
    random_state: Any = 0,
    threshold: float = 0.0,
    max_stimuli: int | None = 500,
    check_mask: bool = True,
) -> dict[str, float | np.ndarray]:
    """Readout accuracy against the fraction of units silenced, at random and most-active-first.

    For each fraction ``f`` in ``fractions``, ``m(f) = floor(f N + 1/2)`` of the rule's ``N``
    units are silenced through ``unit_mask`` (inside the rule's dynamics; see the module
    docstring) and the readout -- trained once on intact codes, never retrained -- classifies
    the stimuli::

        a(f) = (1/n) sum_s [readout(encode(x_s, unit_mask = alive(f))) == y_s]

    Silencing orders:

    * ``"random"``: ``n_draws`` random permutations of the units; each draw silences the
      first ``m(f)`` units of its permutation (progressive damage). The curve is the mean
      over draws, with the (population) standard deviation over draws beside it.
    * ``"most-active"``: units ranked by how often they are active on the measured stimuli
      (``|code| > threshold`` on the intact codes), descending; ties broken by the mean
      ``|code|``, descending, then by unit index; the first ``m(f)`` are silenced.

    Summaries (see :func:`normalised_auc` and :func:`half_range_fraction`), with chance
    ``c = 1 / n_classes`` (``n_classes``: distinct labels in ``y``) and ``a_0`` the intact
    accuracy:

    * ``auc_<order>``: normalised area ``int (a(f) - c)/(a_0 - c) df`` over the fractions
      (over [0, 1] with the defaults): 0.5 for a local code, nearer 1 for a graceful one;
    * ``half_fraction_<order>``: the fraction silenced at which ``a(f)`` first reaches
      ``c + (a_0 - c)/2``, interpolated linearly; NaN if it never does.

    ``theory_local`` is the line of a local (one unit per class) code with the same intact
    accuracy, ``a_0 - (a_0 - c) f``: a stimulus is read correctly while its class's unit is
    alive, and at chance once it is silenced.

    Parameters
    ----------
    rule : CodingRule
        A fitted rule.
    readout : Readout
        Its readout, from :func:`neurocode.metrics.readout.fit_readout` (``readout.rule`` must
        be ``rule``); anything with ``accuracy(X, y, unit_mask)`` and ``rule`` works.
    X : array (n_stimuli, n_features)
        Test stimuli.
    y : array (n_stimuli,)
        Their class labels (at least two classes).
    fractions : array of floats in [0, 1], optional
        Fractions of units silenced; sorted and made distinct. Default
        :data:`DEFAULT_FRACTIONS` (0, 0.1, ..., 1).
    n_draws : int, default 3
        Random permutations for ``"random"``.
    orders : sequence of str, default ("random", "most-active")
        Which silencing orders to run.
    random_state : int or Generator, default 0
        Seed of the stimulus subsample and of the random permutations.
    threshold : float, default 0.0
        A unit is active when ``|code| > threshold`` (ranking for ``"most-active"``).
    max_stimuli : int or None, default 500
        At most this many stimuli are measured, drawn uniformly without replacement (the
        accuracy of 500 stimuli has a standard error of at most 0.022 per point; the random
        curve averages ``n_draws`` of them); ``None``: all.
    check_mask : bool, default True
        First check that the rule honours ``unit_mask`` (:func:`mask_ignored`, with its own
        fixed seed, so the draws below do not change); a rule that ignores it is a
        ``ValueError`` saying why.

    Returns
    -------
    dict
        ``fractions`` (F,); ``accuracy_random`` and ``accuracy_random_std`` (F,),
        ``accuracy_most_active`` (F,) for the orders run; ``theory_local`` (F,);
        scalars ``accuracy_intact``, ``chance``, ``auc_<order>``, ``auc_random_std`` (over
        draws), ``half_fraction_<order>`` (``<order>`` is ``random`` / ``most_active``),
        ``n_stimuli``, ``n_units``, ``n_draws``.

    Cost: one encode of the stimuli per distinct mask: ``2 + (F - 2) (n_draws + 1)`` encodes
    of ``max_stimuli`` stimuli with the defaults (the intact and the all-silenced masks are
    shared): 38 encodes of 500 stimuli, about 14 s for a 784-unit LCA and about 1 s for
    a feed-forward 784-unit rule on 2 cores.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode import get_rule
    >>> from neurocode.metrics.readout import fit_readout
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 400)
    >>> X = np.eye(4)[y] + 0.1 * rng.standard_normal((400, 4))
    >>> rule = get_rule("kofn", n_units=40, k=5, random_state=0).fit(X)
    >>> res = fault_tolerance(rule, fit_readout(rule, X, y), X, y)
    >>> print(res["accuracy_intact"], res["auc_random"] > 0.5)
    1.0 True
    """
    if not isinstance(rule, CodingRule):
        raise ValueError(f"rule must be a fitted CodingRule, got {type(rule).__name__}")
    X = _check_X(X, rule)
    y = check_labels(y, X.shape[0])
    if getattr(readout, "rule", rule) is not rule:
        raise ValueError("readout was fitted for a different rule: use fit_readout(rule, ...)")
    f = _check_fractions(fractions, DEFAULT_FRACTIONS)
    n_draws = check_int(n_draws, "n_draws", 1)
    orders = _check_orders(orders)
    t = _check_threshold(threshold)
    if max_stimuli is not None:
        max_stimuli = check_int(max_stimuli, "max_stimuli", 1)
    if check_mask:
        why = mask_ignored(rule, X, random_state=0)
        if why:
            raise ValueError(why)
    n_classes = len(np.unique(y))
    if n_classes < 2:
        raise ValueError(f"y holds a single class ({y[0]!r}): accuracy against chance needs "
                         f"at least two classes")
    N = int(rule.n_units)
    if N < 1:
        raise ValueError(f"rule '{rule.name}' has no units")

    rng = np.random.default_rng(random_state)
    if max_stimuli is not None and X.shape[0] > max_stimuli:
        keep = np.sort(rng.choice(X.shape[0], size=max_stimuli, replace=False))
        X, y = X[keep], y[keep]
    chance = 1.0 / n_classes
    m = n_silenced(f, N)

    cache: dict[bytes, float] = {}

    def acc(silenced: np.ndarray) -> float:
        alive = np.ones(N, dtype=bool)
        alive[silenced] = False
        key = np.packbits(alive).tobytes()
        if key not in cache:
            cache[key] = float(readout.accuracy(X, y, None if alive.all() else alive))
        return cache[key]

    intact = acc(np.empty(0, dtype=np.int64))
    out: dict[str, float | np.ndarray] = {"fractions": f}
    if "random" in orders:
        curves = np.empty((n_draws, f.size))
        for d in range(n_draws):
            perm = rng.permutation(N)
            curves[d] = [acc(perm[:mi]) for mi in m]
        out["accuracy_random"] = curves.mean(axis=0)
        out["accuracy_random_std"] = curves.std(axis=0)
        aucs = [normalised_auc(f, c, intact, chance) for c in curves]
        out["auc_random"] = normalised_auc(f, out["accuracy_random"], intact, chance)
        out["auc_random_std"] = float(np.std(aucs))
        out["half_fraction_random"] = half_range_fraction(f, out["accuracy_random"], intact, chance)
    if "most-active" in orders:
        codes = np.concatenate([np.asarray(rule.encode(X[i:i + 2000]))
                                for i in range(0, X.shape[0], 2000)])
        rank = _unit_ranking(codes, t)
        curve = np.array([acc(rank[:mi]) for mi in m])
        out["accuracy_most_active"] = curve
        out["auc_most_active"] = normalised_auc(f, curve, intact, chance)
        out["half_fraction_most_active"] = half_range_fraction(f, curve, intact, chance)
    out["theory_local"] = intact - (intact - chance) * f
    out.update(accuracy_intact=intact, chance=chance, n_stimuli=float(X.shape[0]),
               n_units=float(N), n_draws=float(n_draws))
    return out


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


# -- survival of k-of-N items ---------------------------------------------------------------
def kofn_survival(
    codes: Any,
    theta: int,
    fractions: Any = None,
    n_draws: int = 100,
    random_state: Any = 0,
    threshold: float = 0.0,
) -> dict[str, float | np.ndarray]:
    """Measured survival of the items of a code: the fraction keeping ``theta`` active units.

    A direct Monte Carlo of unit deaths on the codes (no rule, no readout): for each draw, a
    random permutation of the ``N`` units, whose first ``m(f) = floor(f N + 1/2)`` are
    silenced at fraction ``f`` (as in :func:`fault_tolerance`); an item *survives* while at
    least ``theta`` of its active units (``|code| > threshold``) are alive::

        S(f) = (1/n) sum_items [ #(active and alive units of the item) >= theta ]

    ``survival`` is the mean of ``S`` over draws, ``survival_std`` its standard deviation over
    draws. When every item has the same number ``k`` of active units (a k-of-N code), the
    theory :func:`kofn_survival_theory` is given beside it: ``theory_survival`` for exactly
    ``m(f)`` silenced units (hypergeometric, what is measured here) and
    ``theory_survival_binomial`` for independent deaths with probability ``f`` (the binomial
    tail, its limit for many units).

    Parameters
    ----------
    codes : array (n_items, n_units)
        One code per item (binary, or continuous with ``threshold``).
    theta : int
        Active units an item needs to survive (``>= 0``).
    fractions : array of floats in [0, 1], optional
        Default 0, 0.05, ..., 1 (21 points).
    n_draws : int, default 100
        Random permutations (each costs ``O(n_items N)``).
    random_state : int or Generator, default 0
    threshold : float, default 0.0

    Returns
    -------
    dict
        ``fractions``, ``survival``, ``survival_std`` (F,); ``theory_survival`` and
        ``theory_survival_binomial`` (F,) for codes of constant activity ``k``; scalars
        ``k`` (mean active units per item), ``theta``, ``n_items``, ``n_units``, ``n_draws``.

    Examples
    --------
    >>> from neurocode.random_codes import random_codes
    >>> codes = random_codes(2000, 100, 10, random_state=0)
    >>> res = kofn_survival(codes, 3, fractions=[0.5], n_draws=20)
    >>> print(round(float(res["survival"][0]), 2), round(float(res["theory_survival"][0]), 2))
    0.95 0.95
    """
    from neurocode.metrics.activity import check_codes

    C = check_codes(codes)
    theta = check_int(theta, "theta", 0)
    f = _check_fractions(fractions, _DEFAULT_SURVIVAL_FRACTIONS)
    n_draws = check_int(n_draws, "n_draws", 1)
    t = _check_threshold(threshold)
    n, N = C.shape
    active = np.abs(C) > t
    counts = active.sum(axis=1)
    m = n_silenced(f, N)
    rng = np.random.default_rng(random_state)
    S = np.empty((n_draws, f.size))
    # active units of each item as a padded index list (n, width); padding points at an extra
    # "unit" N whose rank is -1 (always silenced)
    width = max(int(counts.max()), 1)
    rows, cols = np.nonzero(active)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    idx = np.full((n, width), N, dtype=np.int64)
    idx[rows, np.arange(len(cols)) - np.repeat(starts, counts)] = cols
    for d in range(n_draws):
        rank = np.full(N + 1, -1, dtype=np.int64)
        rank[rng.permutation(N)] = np.arange(N)  # unit u is silenced at f iff rank[u] < m(f)
        if theta == 0:
            S[d] = 1.0
            continue
        if theta > width:
            S[d] = 0.0
            continue
        # the theta-th largest rank among an item's active units: the item keeps theta units
        # iff that unit is alive, i.e. its rank >= m(f)
        kth = np.partition(rank[idx], width - theta, axis=1)[:, width - theta]
        S[d] = (kth[:, None] >= m[None, :]).mean(axis=0)
    out: dict[str, float | np.ndarray] = {"fractions": f, "survival": S.mean(axis=0),
                                          "survival_std": S.std(axis=0)}
    if n and (counts == counts[0]).all() and counts[0] >= 1:
        k = int(counts[0])
        out["theory_survival"] = kofn_survival_theory(k, theta, f, n_units=N)
        out["theory_survival_binomial"] = kofn_survival_theory(k, theta, f)
    out.update(k=float(counts.mean()), theta=float(theta), n_items=float(n), n_units=float(N),
               n_draws=float(n_draws))
    return out
