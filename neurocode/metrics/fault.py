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

from collections.abc import Sequence
from typing import Any

import numpy as np

from neurocode.metrics._validate import check_int, check_labels
from neurocode.metrics._validate import check_threshold as _check_threshold
from neurocode.metrics.fault_curves import (  # noqa: F401
    _DEFAULT_SURVIVAL_FRACTIONS,
    DEFAULT_FRACTIONS,
    ORDERS,
    _anchored,
    _check_curve,
    _check_level,
    _check_orders,
    _check_X,
    half_range_fraction,
    normalised_auc,
)
from neurocode.metrics.fault_memory import memory_fault_tolerance  # noqa: F401
from neurocode.metrics.fault_survival import kofn_survival  # noqa: F401
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


