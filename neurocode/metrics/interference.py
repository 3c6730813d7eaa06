"""Interference: what happens when a code has to hold more than one item at once.

The article ("Sparse coding: a simple exploration", section *Interference*) argues that in a
dense code "one neuron might react to multiple feature[s]; if it happens that the 2 features
appear at the same time in the stimuli, ... the emergence of a new signal from a neuron
reacting to both" could mislead, while a local code cannot interfere. Three measures test it:

* :func:`superposition` -- two stimuli at once (pixel-wise maximum of two images of different
  classes): can the readout trained on single stimuli name both classes, and how does the
  code of the pair differ from the union of the two single codes (spurious and lost units)?
* :func:`union_false_match` -- the union (OR) of ``M`` stored binary codes, as a dendritic
  segment or a Bloom-filter-like memory holds them: how often does the code of another item
  falsely match it? Beside it, the closed form of Ahmad & Hawkins (2016) for random sparse
  codes (:func:`ahmad_hawkins_false_match`, :func:`union_on_fraction`: they live in
  :mod:`neurocode.theory.unions` and are imported here under the same names).
* :func:`class_overlap` -- the Jaccard overlap of the active sets of stimuli of different
  classes (and of the same class), with the chance level of random active sets of the same
  sizes (:func:`random_jaccard`).

Conventions (shared with :mod:`neurocode.metrics.activity`): ``codes`` is an array
``(n_stimuli, n_units)``; a unit is *active* for a stimulus when ``|code| > threshold``
(default 0.0; for the non-negative codes of the built-in rules this is ``code > threshold``).
Every function is pure: randomness only through ``random_state``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.metrics._validate import (
    check_codes,
    check_int,
    check_labels,
    check_stimuli,
    check_threshold,
)
from neurocode.theory.unions import _log_comb, ahmad_hawkins_false_match, union_on_fraction

__all__ = [
    "ahmad_hawkins_false_match",
    "class_overlap",
    "random_jaccard",
    "superposition",
    "union_false_match",
    "union_on_fraction",
]

_CHUNK = 1000  # stimuli encoded per call to rule.encode


# -- validation helpers -------------------------------------------------------------------------
def _active(codes: np.ndarray, threshold: float) -> np.ndarray:
    return np.abs(codes) > threshold


def _pairs_other_class(y: np.ndarray, n_pairs: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` pairs (i, j), i uniform over all items, j uniform over items of another class."""
    order = np.argsort(y, kind="stable")
    classes, start, size = np.unique(y[order], return_index=True, return_counts=True)
    n = len(y)
    ci = np.searchsorted(classes, y)  # class index of every item
    i = rng.integers(0, n, n_pairs)
    c = ci[i]
    r = rng.integers(0, n - size[c])  # a position among the n - size_c items of other classes
    r = np.where(r < start[c], r, r + size[c])
    return i, order[r]


def _pairs_same_class(y: np.ndarray, n_pairs: int, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` pairs (i, j != i) of the same class: i uniform over items whose class has at
    least two members, j uniform over the other members of i's class. Empty when none has."""
    order = np.argsort(y, kind="stable")
    classes, start, size = np.unique(y[order], return_index=True, return_counts=True)
    pos = np.empty(len(y), dtype=np.int64)
    pos[order] = np.arange(len(y))
    ci = np.searchsorted(classes, y)
    eligible = np.flatnonzero(size[ci] >= 2)
    if eligible.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    i = eligible[rng.integers(0, eligible.size, n_pairs)]
    c = ci[i]
    within = pos[i] - start[c]
    j = start[c] + (within + 1 + rng.integers(0, size[c] - 1)) % size[c]
    return i, order[j]


def _encode(rule: Any, X: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(rule.encode(X[s:s + _CHUNK]))
                           for s in range(0, len(X), _CHUNK)])


# -- superposition ------------------------------------------------------------------------------
def superposition(rule: Any, readout: Any, X: Any, y: Any, n_pairs: int = 1000,
                  random_state: int = 0, threshold: float = 0.0) -> dict[str, float | np.ndarray]:
    """Two stimuli at once: can both be read out, and how far is the pair's code from the union?

    ``n_pairs`` pairs ``(i, j)`` are drawn with replacement: ``i`` uniformly from the
    stimuli, ``j`` uniformly from the stimuli of another class (``y_j != y_i``). The pair
    stimulus is their pixel-wise maximum ``x_ij = max(x_i, x_j)`` (two images drawn on one
    sheet). With active sets ``A_i = {u : |c_u(x_i)| > threshold}`` (likewise ``A_j``,
    ``A_ij`` for the pair's code) and the union ``U = A_i | A_j``:

    * ``spurious_units``: ``|A_ij \\ U|``, units active for the pair but for neither item (the
      article's "new signal ... from a neuron reacting to both");
    * ``lost_units``: ``|U \\ A_ij|``, units of a single code silent for the pair;
    * ``spurious_fraction``, ``lost_fraction``: the counts divided by ``|U|`` (NaN for a
      pair whose union is empty; left out of the means);
    * ``top2_accuracy``: the fraction of pairs whose two true classes both score strictly
      higher than every other class under ``readout.scores`` (the readout fitted on intact
      single stimuli, :func:`neurocode.metrics.readout.fit_readout`, never retrained);
      ``chance_top2 = 2 / (C (C - 1))`` for ``C`` classes (with two classes both are
      always the top two: 1 by definition);
    * ``top1_in_pair``: the fraction of pairs whose highest-scoring class is one of the two;
    * ``single_accuracy``: the readout's accuracy on the single stimuli of the pairs;
    * ``pair_union_jaccard``: the mean Jaccard index ``|A_ij & U| / |A_ij | U|`` (1: the
      pair's code is exactly the union).

    Parameters
    ----------
    rule : fitted CodingRule
        The code; ``rule.encode`` gives the codes of the single and pair stimuli.
    readout : Readout
        The readout of the intact code: ``readout.scores(X)`` gives class scores
        ``(n, n_classes)``; with a linear probe (``readout.probe``) the scores are taken from
        the codes already computed (``readout.scores_from_codes``), the same numbers.
    X, y : arrays ``(n_stimuli, n_features)`` and ``(n_stimuli,)``
        Test stimuli (non-negative intensities, so that the maximum superposes them) and their
        classes; at least two classes.
    n_pairs : int, default 1000
        Pairs drawn. The default keeps the cost at about 3000 encodings whatever the test set.
    random_state : int
        Seed of the pair draw.
    threshold : float, default 0.0
        Activity threshold.

    Returns
    -------
    dict
        Scalars ``top2_accuracy``, ``top1_in_pair``, ``chance_top2``, ``single_accuracy``,
        ``mean_spurious_units``, ``mean_lost_units``, ``mean_spurious_fraction``,
        ``mean_lost_fraction``, ``mean_union_size``, ``pair_union_jaccard``, ``n_pairs``;
        per-pair 1-D arrays ``spurious_units``, ``lost_units``, ``spurious_fraction``,
        ``lost_fraction``, ``union_size``, ``top2_correct``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode import get_rule
    >>> from neurocode.metrics.readout import fit_readout
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 400)
    >>> X = np.zeros((400, 40))
    >>> for c in range(4):  # class c lights pixels 10c..10c+9, each with probability 0.5
    ...     X[y == c, 10 * c:10 * c + 10] = rng.random(((y == c).sum(), 10)) < 0.5
    >>> rule = get_rule("kofn", n_units=200, k=20, random_state=0).fit(X)
    >>> out = superposition(rule, fit_readout(rule, X, y), X, y, n_pairs=200)
    >>> print(out["top2_accuracy"], round(out["mean_lost_fraction"], 2))  # k-of-N keeps 20 of ~39
    0.97 0.61
    """
    X = check_stimuli(X)
    y = check_labels(y, len(X))
    n_pairs = check_int(n_pairs, "n_pairs")
    threshold = check_threshold(threshold)
    if len(np.unique(y)) < 2:
        raise ValueError("superposition needs stimuli of at least two classes (pairs are of "
                         "different classes)")
    rng = np.random.default_rng(random_state)
    i, j = _pairs_other_class(y, n_pairs, rng)

    used, inv = np.unique(np.concatenate([i, j]), return_inverse=True)
    single = _encode(rule, X[used])
    X_pair = np.maximum(X[i], X[j])
    pair = _encode(rule, X_pair)
    if not (np.isfinite(single).all() and np.isfinite(pair).all()):
        raise ValueError("the rule's codes contain NaN or infinite values")

    probe = getattr(readout, "probe", None)
    if probe is not None:
        s_single = np.asarray(readout.scores_from_codes(single))
        s_pair = np.asarray(readout.scores_from_codes(pair))
        classes = np.asarray(probe.classes_)
    else:
        s_single = np.asarray(readout.scores(X[used]))
        s_pair = np.asarray(readout.scores(X_pair))
        classes = np.arange(s_pair.shape[1])
    n_classes = s_pair.shape[1]
    sorter = np.argsort(classes)
    col = sorter[np.clip(np.searchsorted(classes, y, sorter=sorter), 0, len(classes) - 1)]
    if not np.array_equal(classes[col], y):
        missing = np.setdiff1d(np.unique(y), classes)
        raise ValueError(f"labels {missing[:5].tolist()} are not classes of the readout "
                         f"(classes: {classes[:10].tolist()})")

    # readout: both true classes strictly above every other class
    a, b = col[i], col[j]
    rows = np.arange(n_pairs)
    sa, sb = s_pair[rows, a], s_pair[rows, b]
    others = s_pair.copy()
    others[rows, a] = -np.inf
    others[rows, b] = -np.inf
    top2 = np.minimum(sa, sb) > others.max(axis=1) if n_classes > 2 else np.ones(n_pairs, bool)
    best = s_pair.argmax(axis=1)
    top1 = (best == a) | (best == b)
    single_acc = float((s_single.argmax(axis=1) == col[used]).mean())

    # the codes: pair against the union of the two singles
    A = _active(single, threshold)
    Ai, Aj = A[inv[:n_pairs]], A[inv[n_pairs:]]
    P = _active(pair, threshold)
    U = Ai | Aj
    union_size = U.sum(axis=1).astype(np.float64)
    spurious = (P & ~U).sum(axis=1).astype(np.float64)
    lost = (U & ~P).sum(axis=1).astype(np.float64)
    both = (P & U).sum(axis=1)
    either = (P | U).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        spurious_frac = np.where(union_size > 0, spurious / union_size, np.nan)
        lost_frac = np.where(union_size > 0, lost / union_size, np.nan)
        jacc = np.where(either > 0, both / np.maximum(either, 1), np.nan)

    return {
        "top2_accuracy": float(top2.mean()),
        "top1_in_pair": float(top1.mean()),
        "chance_top2": 2.0 / (n_classes * (n_classes - 1)) if n_classes > 1 else float("nan"),
        "single_accuracy": single_acc,
        "mean_spurious_units": float(spurious.mean()),
        "mean_lost_units": float(lost.mean()),
        "mean_spurious_fraction": _nanmean(spurious_frac),
        "mean_lost_fraction": _nanmean(lost_frac),
        "mean_union_size": float(union_size.mean()),
        "pair_union_jaccard": _nanmean(jacc),
        "n_pairs": float(n_pairs),
        "spurious_units": spurious,
        "lost_units": lost,
        "spurious_fraction": spurious_frac,
        "lost_fraction": lost_frac,
        "union_size": union_size,
        "top2_correct": top2.astype(np.float64),
    }


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    return float(x[ok].mean()) if ok.any() else float("nan")


# -- false matches against unions ---------------------------------------------------------------
def _default_loads(n_items: int, n_units: int, w: np.ndarray, need: np.ndarray,
                   n_points: int = 16) -> np.ndarray:
    """Geometric loads from 1 to where the chance-level false match reaches 0.999 (or to
    ``n_items // 2``, whichever comes first)."""
    m_cap = max(1, n_items // 2)
    if w.size == 0:
        return np.unique(np.round(np.geomspace(1, m_cap, n_points)).astype(np.int64))
    grid = np.unique(np.round(np.geomspace(1, m_cap, 64)).astype(np.int64))
    on = np.asarray(union_on_fraction(n_units, float(w.mean()), grid), dtype=np.float64)
    p = _mean_ah(n_units, w, need, on * n_units)
    reached = np.flatnonzero(p >= 0.999)
    m_max = int(grid[reached[0]]) if reached.size else m_cap
    return np.unique(np.round(np.geomspace(1, m_max, n_points)).astype(np.int64))


def _random_subsets(sizes: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean rows, row r a uniformly random ``sizes[r]``-subset of ``n`` units."""
    order = np.argsort(rng.random((len(sizes), n)), axis=1)
    out = np.zeros((len(sizes), n), dtype=bool)
    take = np.arange(n)[None, :] < sizes[:, None]
    out[np.nonzero(take)[0], order[take]] = True
    return out


def _mean_ah(n: int, w: np.ndarray, need: np.ndarray, s: np.ndarray) -> np.ndarray:
    """For each ``s``: mean over the probes (w, need) of the false-match probability."""
    key = np.stack([w, need], axis=1)
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    p = ahmad_hawkins_false_match(n, uniq[None, :, 0], np.asarray(s, dtype=np.float64)[:, None],
                                  uniq[None, :, 1])
    return (p * counts).sum(axis=1) / counts.sum()


def union_false_match(codes: Any, loads: Any = None, theta: int | None = None,
                      n_probes: int = 500, n_unions: int = 20, random_state: int = 0,
                      threshold: float = 0.0) -> dict[str, float | np.ndarray]:
    """False matches of a code against the union of ``M`` stored codes, against ``M``.

    The binarised codes ``A_mu = {u : |c_u| > threshold}`` are stored by OR-ing them into a
    union ``U_M = A_1 | ... | A_M`` (a dendritic segment, or a Bloom-filter-like memory, that
    holds ``M`` items at once). A probe code ``B`` with ``w = |B|`` active units *falsely
    matches* when ``|B & U_M| >= theta``, although ``B`` is not one of the stored items.
    ``theta = None`` is a full match, ``theta = w`` for each probe (every active unit of the
    probe is in the union); an integer ``theta`` is the same number of units for every probe
    (a probe with fewer than ``theta`` active units never matches).

    Procedure: ``n_unions`` times, a random permutation of the items gives the stored codes
    (its first ``max(loads)`` items, nested: ``U_M`` takes the first ``M``) and the probes (its
    last ``n_probes`` items, never stored; probes with no active unit are left out). Two kinds
    of probe are measured:

    * ``false_match``: the codes of other stimuli (held-out items of ``codes``): the code's
      own similarity structure counts;
    * ``false_match_random``: random codes with the same activity as those probes (each a
      uniformly random ``w``-subset, ``w`` the activity of a held-out probe): chance level.

    Theory beside them, from Ahmad & Hawkins (2016, "How do neurons operate on sparse
    distributed representations? A mathematical theory of sparsity, neurons and active
    dendrites", arXiv:1601.00720), :func:`ahmad_hawkins_false_match` averaged over the
    probes' activities:

    * ``theory_false_match``: ``s = n (1 - (1 - w_bar/n)^M)`` (:func:`union_on_fraction`,
      ``w_bar`` the mean activity of all codes): the chance level for random codes. It puts
      the *expected* union size in the formula, an approximation: the union's size varies
      from union to union, and the tail is convex in ``s``, so for random codes the exact
      mean lies slightly above it;
    * ``theory_false_match_measured_on``: the same formula with ``s`` the measured ON count of
      each union (averaged over unions): exact for random probes against these unions.

    Parameters
    ----------
    codes : array ``(n_items, n_units)``
        Codes (continuous codes are binarised with ``threshold``).
    loads : 1-D ints or None
        Numbers ``M`` of stored codes, each in ``[1, n_items - 1]``. ``None``: 16 values
        spaced geometrically from 1 to the load at which ``theory_false_match`` (the chance
        level) reaches 0.999, at most ``n_items // 2``.
    theta : int or None
        Match threshold (``None``: full match).
    n_probes : int, default 500
        Probes per union (fewer when ``n_items - max(loads)`` is smaller).
    n_unions : int, default 20
        Independent unions (permutations) per load. The defaults cost about
        ``n_unions * (max(loads) + n_probes * len(loads)) * n_units`` operations: well under a
        second for 784 units and 10,000 items.
    random_state : int
        Seed of the permutations and of the random probes.
    threshold : float, default 0.0
        Activity threshold.

    Returns
    -------
    dict
        Curves over ``loads``: ``false_match``, ``false_match_random``, ``union_on_fraction``
        (measured), ``theory_false_match``, ``theory_false_match_measured_on``,
        ``theory_union_on_fraction``; scalars ``n_units``, ``mean_active`` (``w_bar``),
        ``theta`` (NaN for a full match), ``n_probes``, ``n_unions``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode.random_codes import random_codes
    >>> codes = random_codes(2000, 1024, 20, random_state=0)
    >>> out = union_false_match(codes, loads=[100, 150])  # full match of all 20 units
    >>> print(np.round(out["theory_false_match"], 3))
    [0.048 0.341]
    """
    codes = check_codes(codes)
    threshold = check_threshold(threshold)
    n_probes = check_int(n_probes, "n_probes")
    n_unions = check_int(n_unions, "n_unions")
    if theta is not None:
        theta = check_int(theta, "theta")
    A = _active(codes, threshold)
    n_items, n = A.shape
    if n_items < 2:
        raise ValueError(f"union_false_match needs at least 2 codes (stored and probe), "
                         f"got {n_items}")
    w_all = A.sum(axis=1)
    w_bar = float(w_all.mean())
    # the codes that can be probes (at least one active unit), and their match thresholds
    w_pos = w_all[w_all > 0]
    need_all = w_pos if theta is None else np.full_like(w_pos, theta)
    if loads is None:
        loads_a = _default_loads(n_items, n, w_pos, need_all)
    else:
        loads_a = np.asarray(loads)
        if loads_a.ndim != 1 or loads_a.size == 0:
            raise ValueError(f"loads must be a non-empty 1-D list of integers, got {loads!r}")
        if loads_a.dtype.kind not in "iu" and not (
                loads_a.dtype.kind == "f" and np.all(loads_a == np.round(loads_a))):
            raise ValueError(f"loads must be integers, got {loads!r}")
        loads_a = np.unique(loads_a.astype(np.int64))
        if loads_a[0] < 1 or loads_a[-1] > n_items - 1:
            raise ValueError(f"loads must lie in [1, n_items - 1 = {n_items - 1}] (one code at "
                             f"least must stay out of the union as a probe), got {loads!r}")
    n_pr = min(n_probes, n_items - int(loads_a[-1]))
    rng = np.random.default_rng(random_state)

    L = len(loads_a)
    fm = np.full((n_unions, L), np.nan)
    fm_rand = np.full((n_unions, L), np.nan)
    on = np.zeros((n_unions, L))
    th_meas = np.full((n_unions, L), np.nan)
    for r in range(n_unions):
        perm = rng.permutation(n_items)
        probes = perm[n_items - n_pr:]
        probes = probes[w_all[probes] > 0]
        B = A[probes].astype(np.float32)
        wp = w_all[probes]
        need = wp if theta is None else np.full_like(wp, theta)
        R = _random_subsets(wp, n, rng).astype(np.float32)
        union = np.zeros(n, dtype=bool)
        prev = 0
        for li, M in enumerate(loads_a):
            union |= A[perm[prev:M]].any(axis=0)
            prev = int(M)
            s = int(union.sum())
            on[r, li] = s / n
            if probes.size:
                uf = union.astype(np.float32)
                fm[r, li] = float(((B @ uf) >= need).mean())
                fm_rand[r, li] = float(((R @ uf) >= need).mean())
        if probes.size:
            th_meas[r] = _mean_ah(n, wp, need, on[r] * n)

    # chance level with the expected union size: averaged over the activities of all codes
    # that can be probes (at least one active unit)
    theory_on = np.asarray(union_on_fraction(n, w_bar, loads_a), dtype=np.float64)
    if w_pos.size:
        theory_fm = _mean_ah(n, w_pos, need_all, theory_on * n)
    else:
        theory_fm = np.full(L, np.nan)
    return {
        "loads": loads_a.astype(np.float64),
        "false_match": _nanmean_cols(fm),
        "false_match_random": _nanmean_cols(fm_rand),
        "union_on_fraction": on.mean(axis=0),
        "theory_false_match": theory_fm,
        "theory_false_match_measured_on": _nanmean_cols(th_meas),
        "theory_union_on_fraction": theory_on,
        "n_units": float(n),
        "mean_active": w_bar,
        "theta": float("nan") if theta is None else float(theta),
        "n_probes": float(n_pr),
        "n_unions": float(n_unions),
    }


def _nanmean_cols(x: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(x)
    cnt = ok.sum(axis=0)
    tot = np.where(ok, x, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


# -- overlap between classes --------------------------------------------------------------------
def random_jaccard(n: Any, k1: Any, k2: Any) -> Any:
    """Expected Jaccard index of two independent uniformly random subsets of sizes ``k1``,
    ``k2`` of ``n`` units (the chance level of :func:`class_overlap`).

    The overlap ``x = |A & B|`` is hypergeometric, ``P(x) = C(k1, x) C(n - k1, k2 - x) /
    C(n, k2)``, and ``|A | B| = k1 + k2 - x``, so::

        E[J] = sum_x P(x) x / (k1 + k2 - x)

    NaN when ``k1 = k2 = 0`` (an empty union has no Jaccard index). Float for scalar
    arguments, else an array of the broadcast shape.

    Examples
    --------
    >>> print(round(random_jaccard(100, 10, 10), 4))
    0.0551
    """
    scalar = all(np.ndim(v) == 0 for v in (n, k1, k2))
    n_a, k1_a, k2_a = np.broadcast_arrays(*(np.asarray(v) for v in (n, k1, k2)))
    for name, v in (("n", n_a), ("k1", k1_a), ("k2", k2_a)):
        if v.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integers, got dtype {v.dtype}")
    if np.any(n_a < 1) or np.any((k1_a < 0) | (k1_a > n_a) | (k2_a < 0) | (k2_a > n_a)):
        raise ValueError("need n >= 1 and 0 <= k1, k2 <= n")
    key = np.stack([n_a.ravel(), k1_a.ravel(), k2_a.ravel()], axis=1).astype(np.int64)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    res = np.full(len(uniq), np.nan)
    nn, a, b = uniq[:, 0], uniq[:, 1], uniq[:, 2]
    lo = np.maximum(0, a + b - nn)
    hi = np.minimum(a, b)
    ok = (a + b) > 0
    res[ok & (hi == 0)] = 0.0
    todo = np.flatnonzero(ok & (hi > 0))
    if todo.size:
        span = int((hi[todo] - lo[todo]).max()) + 1
        step = max(1, (1 << 22) // span)
        for c0 in range(0, todo.size, step):
            t = todo[c0:c0 + step]
            x = lo[t, None] + np.arange(span)[None, :]
            valid = x <= hi[t, None]
            xf = np.where(valid, x, lo[t, None]).astype(np.float64)
            af, bf, nf = (v[t, None].astype(np.float64) for v in (a, b, nn))
            logp = _log_comb(af, xf) + _log_comb(nf - af, bf - xf) - _log_comb(nf, bf)
            p = np.where(valid, np.exp(logp), 0.0)
            res[t] = (p * xf / (af + bf - xf)).sum(axis=1)
    out = res[inv.ravel()].reshape(n_a.shape)
    return float(out) if scalar else out


def class_overlap(codes: Any, y: Any, threshold: float = 0.0, max_pairs: int = 20000,
                  random_state: int = 0) -> dict[str, float | np.ndarray]:
    """Mean Jaccard overlap of the active sets of stimuli of different classes (and the same).

    For a pair of stimuli with active sets ``A = {u : |c_u| > threshold}`` and ``B``, the
    Jaccard index is ``J = |A & B| / |A | B|`` (1: the same units, 0: disjoint). Pairs are
    drawn with replacement (``max_pairs`` of each kind): *between* classes, ``i`` uniform over
    the stimuli and ``j`` uniform over the stimuli of another class; *within* a class, ``i``
    uniform over the stimuli whose class has at least two members and ``j != i`` uniform over
    its class. Pairs whose union is empty (two silent codes) have no Jaccard index and are left
    out (``fraction_empty_between`` says how many). A local code gives ``jaccard_between = 0``;
    a dense code, overlap near its activity ratio.

    Beside each mean, the chance level ``theory_jaccard_random_*``: the mean over the same pairs
    of :func:`random_jaccard` ``(n_units, |A|, |B|)``, the expected Jaccard if the two codes
    were random active sets of the same sizes.

    Parameters
    ----------
    codes : array ``(n_stimuli, n_units)``
    y : array ``(n_stimuli,)``
        Classes; at least two.
    threshold : float, default 0.0
        Activity threshold.
    max_pairs : int, default 20000
        Pairs of each kind (the standard error of a mean Jaccard is then below 0.005).
    random_state : int
        Seed of the pair draw.

    Returns
    -------
    dict
        Scalars ``jaccard_between``, ``jaccard_within`` (NaN if no class has two stimuli),
        ``jaccard_between_std``, ``jaccard_within_std``, ``theory_jaccard_random_between``,
        ``theory_jaccard_random_within``, ``fraction_empty_between``, ``n_pairs_between``,
        ``n_pairs_within``.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.eye(10)[np.repeat(np.arange(10), 5)]  # a local code: one unit per class
    >>> out = class_overlap(codes, np.repeat(np.arange(10), 5))
    >>> print(out["jaccard_between"], out["jaccard_within"])
    0.0 1.0
    """
    codes = check_codes(codes)
    y = check_labels(y, len(codes))
    threshold = check_threshold(threshold)
    max_pairs = check_int(max_pairs, "max_pairs")
    if len(np.unique(y)) < 2:
        raise ValueError("class_overlap needs stimuli of at least two classes")
    A = _active(codes, threshold)
    n = A.shape[1]
    w = A.sum(axis=1)
    rng = np.random.default_rng(random_state)

    def jaccard(i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inter = np.empty(len(i), dtype=np.int64)
        step = max(1, (1 << 22) // n)
        for s in range(0, len(i), step):
            inter[s:s + step] = (A[i[s:s + step]] & A[j[s:s + step]]).sum(axis=1)
        union = w[i] + w[j] - inter
        keep = union > 0
        return inter[keep] / union[keep], keep, np.stack([w[i][keep], w[j][keep]])

    bi, bj = _pairs_other_class(y, max_pairs, rng)
    jb, keep_b, wb = jaccard(bi, bj)
    wi, wj = _pairs_same_class(y, max_pairs, rng)
    jw, _, ww = jaccard(wi, wj)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if x.size else float("nan")

    def std(x: np.ndarray) -> float:
        return float(x.std()) if x.size else float("nan")

    def chance(ws: np.ndarray) -> float:
        return mean(np.asarray(random_jaccard(n, ws[0], ws[1]))) if ws.shape[1] else float("nan")

    return {
        "jaccard_between": mean(jb),
        "jaccard_within": mean(jw),
        "jaccard_between_std": std(jb),
        "jaccard_within_std": std(jw),
        "theory_jaccard_random_between": chance(wb),
        "theory_jaccard_random_within": chance(ww),
        "fraction_empty_between": float(1.0 - keep_b.mean()),
        "n_pairs_between": float(len(bi)),
        "n_pairs_within": float(len(wi)),
    }
