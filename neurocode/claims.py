"""The article's twelve claims, each with a verdict computed from stored results.

Every :class:`Claim` names the article's wording, the measurement that tests it, the figures
that show it, and an ``evaluate(runs) -> Verdict`` function. A verdict is one of
``"supported"``, ``"partly"``, ``"not supported"`` and ``"not tested"``; it is *computed* by a
rule stated in words in :attr:`Verdict.rule`, whose thresholds are the module-level
constants below, and the verdict carries the numbers the rule used (:attr:`Verdict.columns`
and :attr:`Verdict.rows`, with the article's numbers beside ours where the article gives
them). ``"not tested"`` is returned only when the results lack the runs a claim needs; then
:attr:`Verdict.needs` says which runs (and which command) would supply them.

The runs are :class:`neurocode.results.RunResult` objects (:func:`neurocode.results.load_results`)::

    >>> from neurocode.results import load_results                 # doctest: +SKIP
    >>> for c, v in evaluate_all(load_results("results")):        # doctest: +SKIP
    ...     print(c.id, v.verdict)

Trend rules (claims 7, 8, 11, 12) share one test, :func:`trend_test`: over every run that
has the measure, the Spearman rank correlation between the activity ratio and the measure
must have the expected sign with ``|rho| >= MIN_ABS_RHO`` over at least ``MIN_TREND_RUNS``
runs, and the mean of the measure over the runs of the least active code type present
(local, else sparse) must lie on the expected side of the mean over the runs of the most
active type present (dense, else sparse). Both hold: supported; one: partly; none: not
supported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from neurocode.metrics.activity import DENSE_MIN_RATIO, LOCAL_MAX_AVR
from neurocode.results import CODE_TYPES, RunResult

__all__ = ["Claim", "Verdict", "CLAIMS", "VERDICTS", "evaluate_all", "trend_test",
           "verdict_counts"]

#: The four verdicts, from best to worst, then untested.
VERDICTS = ("supported", "partly", "not supported", "not tested")

# --- thresholds (every rule below names the ones it uses) -----------------------------------

#: Claim 1: the article's unconstrained net is dense "below about 0.5" activity ratio; we
#: allow this upper bound (0.5 plus a tolerance of 0.05 for "about").
ABOUT_HALF_MAX_RATIO = 0.55
#: Claim 2: an AVR that rounds to one or two active units is "almost" a local code.
NEAR_LOCAL_MAX_AVR = 2.5
#: Claim 2: the article's accuracy of its near-local net (89 %) ...
ARTICLE_NEAR_LOCAL_ACCURACY = 0.89
#: ... less this tolerance is the least accuracy that counts as "89 % accuracy".
ACCURACY_TOLERANCE = 0.05
#: Claims 3 and 4: "without losing accuracy" = at most this drop of test accuracy from the
#: lambda = 0 run (the article: 0.979 -> 0.974, a drop of 0.005).
MAX_ACCURACY_DROP = 0.01
#: Claim 3: a drop up to this still counts as "little" for a partial verdict.
PARTLY_ACCURACY_DROP = 0.03
#: Claim 3: the sparse run must have at least this many times fewer active units than the
#: lambda = 0 run (the article: 156.3 / 5.4 = 29).
MIN_AVR_REDUCTION = 10.0
#: Claim 5: a sub-claim over lambdas holds when at least this fraction of the compared
#: (lambda, or lambda pair) cases go the claimed way.
MAJORITY = 0.5
#: Claim 6: a run "activates every neuron" when at most this fraction of its units is dead.
MAX_DEAD_FRACTION = 0.01
#: Trend rules: the least runs a rank correlation is computed over.
MIN_TREND_RUNS = 4
#: Trend rules: the least absolute Spearman rho that counts as a trend.
MIN_ABS_RHO = 0.5
#: Claim 9: the normalised fault AUC of a local code (one unit per item): accuracy falls
#: linearly from intact to chance as the fraction of silenced units goes from 0 to 1.
LOCAL_THEORY_AUC = 0.5
#: Claim 10: the article's count 2^d of sparse codes "holds" when d is within this relative
#: distance of log2 C(N, d).
COUNT_REL_TOLERANCE = 0.1

# --- the article's numbers ------------------------------------------------------------------
ARTICLE_FC_N = 784
ARTICLE_FC_AVR_DENSE = 156.3
ARTICLE_FC_AVR_NEAR_LOCAL = 1.67
ARTICLE_FC_AVR_SPARSE = 5.4
ARTICLE_FC_ACC_DENSE = 0.979
ARTICLE_FC_ACC_SPARSE = 0.974
ARTICLE_CNN_N = 39_200
ARTICLE_CNN_AVR_DENSE = 10_932.0
ARTICLE_CNN_AVR_SPARSE = 146.2

FC, CNN, AE = "relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae"


@dataclass
class Verdict:
    """A claim's verdict with the rule that produced it and the numbers the rule read.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    rule : str
        The rule, in words, with its thresholds' values.
    columns : list of str
        Headers of the numbers table (the first column labels the row).
    rows : list of list
        The table: one list per row, numbers or strings (NaN: not available).
    findings : list of str
        What the rule found, one sentence per check.
    needs : str
        For ``"not tested"``: which runs would supply the missing data, and how.
    figures : list of str
        Figure stems (``article_fc_tradeoff``) that show the claim.
    """

    verdict: str
    rule: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    needs: str = ""
    figures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass(frozen=True)
class Claim:
    """One of the article's claims: its wording, the test, and the function that runs it."""

    id: int
    title: str
    wording: str
    measurement: str
    figures: tuple[str, ...]
    evaluate_fn: Callable[[Sequence[RunResult]], Verdict]

    def evaluate(self, runs: Sequence[RunResult]) -> Verdict:
        """The verdict on ``runs``, with this claim's figure stems filled in."""
        v = self.evaluate_fn(list(runs))
        if not v.figures:
            v.figures = list(self.figures)
        return v


# --- helpers --------------------------------------------------------------------------------

def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _of_rule(runs: Sequence[RunResult], rule: str) -> list[RunResult]:
    return [r for r in runs if r.rule == rule]


def _l1(r: RunResult) -> float:
    return _f(r.param("model.l1", float("nan")))


def _iters(r: RunResult) -> float:
    v = r.param("train.iterations")
    if v is None:
        v = r.final.get("iterations_done")
    return _f(v)


def _accuracy(r: RunResult) -> float:
    return _f(r.final.get("accuracy", float("nan")))


def _by_seed(runs: Sequence[RunResult]) -> dict[int, list[RunResult]]:
    out: dict[int, list[RunResult]] = {}
    for r in runs:
        out.setdefault(r.seed, []).append(r)
    return out


def _combine(per_seed: list[str]) -> str:
    """All seeds supported: supported; none (and none partly): not supported; else partly."""
    if all(v == "supported" for v in per_seed):
        return "supported"
    if all(v == "not supported" for v in per_seed):
        return "not supported"
    return "partly"


def _not_tested(rule: str, needs: str, columns: list[str] | None = None,
                rows: list[list[Any]] | None = None) -> Verdict:
    return Verdict("not tested", rule, columns or [], rows or [], [], needs)


def _curve_mean(r: RunResult, name: str) -> float:
    """Mean of a learning curve over its steps (area under the curve / steps): higher for
    an accuracy curve that rises sooner; NaN when the run has no such curve."""
    c = r.curves.get(name)
    if c is None:
        return float("nan")
    c = np.asarray(c, dtype=float)
    c = c[np.isfinite(c)]
    return float(c.mean()) if c.size else float("nan")


def _recon(r: RunResult) -> float:
    for k in ("recon_mse", "recon_error", "loss_recon"):
        if _finite(r.final.get(k)):
            return float(r.final[k])
    return float("nan")


FC_NEEDS = ("the FC net's lambda grid: `neurocode run experiments/article_fc.yaml --out "
            "RESULTS`")
BATTERY_NEEDS = ("measured runs of several code types (local, sparse and dense): e.g. the "
                 "random k-of-N presets and the ReLU+L1 FC sweep, run with `neurocode run "
                 "experiments/<name>.yaml --out RESULTS` then `neurocode measure RESULTS`")


# --- claims 1-3: the FC net -----------------------------------------------------------------

def _claim1(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Over the FC runs with lambda = 0, per seed: supported when the activity ratio "
            f"a lies in [DENSE_MIN_RATIO = {DENSE_MIN_RATIO}, ABOUT_HALF_MAX_RATIO = "
            f"{ABOUT_HALF_MAX_RATIO}] (a dense code by neurocode's code types, 'below about "
            f"0.5' as the article says); not supported otherwise. Seeds that disagree give "
            f"'partly'.")
    base = [r for r in _of_rule(runs, FC) if _l1(r) == 0 and _finite(r.activity_ratio)]
    cols = ["run", "seed", "iterations", "AVR", "N", "activity ratio", "code type",
            "article AVR", "article ratio"]
    if not base:
        return _not_tested(rule, f"an FC run with lambda = 0; {FC_NEEDS}")
    rows, per = [], []
    for r in base:
        a = r.activity_ratio
        ok = DENSE_MIN_RATIO <= a <= ABOUT_HALF_MAX_RATIO
        per.append("supported" if ok else "not supported")
        rows.append([r.label, r.seed, _iters(r), r.avr, r.n_units, a, r.code_type,
                     ARTICLE_FC_AVR_DENSE, ARTICLE_FC_AVR_DENSE / ARTICLE_FC_N])
    v = _combine(per)
    finds = [f"{sum(p == 'supported' for p in per)} of {len(per)} lambda = 0 runs have a "
             f"dense activity ratio below about 0.5"]
    return Verdict(v, rule, cols, rows, finds)


def _claim2(runs: Sequence[RunResult]) -> Verdict:
    min_acc = ARTICLE_NEAR_LOCAL_ACCURACY - ACCURACY_TOLERANCE
    rule = (f"Over the FC runs with lambda > 0, per seed: supported when some run has AVR <= "
            f"NEAR_LOCAL_MAX_AVR = {NEAR_LOCAL_MAX_AVR} (one or two active units) with test "
            f"accuracy >= {ARTICLE_NEAR_LOCAL_ACCURACY} - ACCURACY_TOLERANCE = {min_acc:.2f}; "
            f"partly when some run reaches that AVR only at a lower accuracy; not supported "
            f"when no run does. Seeds that disagree give 'partly'.")
    fc = [r for r in _of_rule(runs, FC) if _finite(_l1(r)) and _l1(r) > 0
          and _finite(r.avr)]
    cols = ["run", "seed", "iterations", "AVR", "accuracy", "near-local", "article AVR",
            "article accuracy"]
    if not fc:
        return _not_tested(rule, f"FC runs with a sparsity penalty; {FC_NEEDS}")
    rows, per = [], []
    for seed, group in sorted(_by_seed(fc).items()):
        near = [r for r in group if r.avr <= NEAR_LOCAL_MAX_AVR]
        if any(_accuracy(r) >= min_acc for r in near):
            per.append("supported")
        elif near:
            per.append("partly")
        else:
            per.append("not supported")
        for r in sorted(group, key=lambda r: r.avr):
            rows.append([r.label, seed, _iters(r), r.avr, _accuracy(r),
                         "yes" if r.avr <= NEAR_LOCAL_MAX_AVR else "no",
                         ARTICLE_FC_AVR_NEAR_LOCAL, ARTICLE_NEAR_LOCAL_ACCURACY])
    v = per[0] if len(set(per)) == 1 else "partly"
    sparsest = min(fc, key=lambda r: r.avr)
    finds = [f"sparsest FC run: {sparsest.label}, AVR {sparsest.avr:.3g}, accuracy "
             f"{_accuracy(sparsest):.3g} (article: AVR 1.67 at 0.89)"]
    return Verdict(v, rule, cols, rows, finds)


def _best_sparse_at_accuracy(group: Sequence[RunResult], max_drop: float):
    """The lambda = 0 run of ``group`` and the lambda > 0 run with the lowest activity
    ratio among those whose accuracy is within ``max_drop`` of it (None when none)."""
    base = [r for r in group if _l1(r) == 0 and _finite(_accuracy(r))]
    if not base:
        return None, None
    b = base[0]
    ok = [r for r in group if _l1(r) > 0 and _finite(r.activity_ratio)
          and b.activity_ratio / max(r.activity_ratio, 1e-300) >= 1.0
          and _accuracy(b) - _accuracy(r) <= max_drop]
    return b, (min(ok, key=lambda r: r.activity_ratio) if ok else None)


def _claim3(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Per seed of the FC net: supported when some run with lambda > 0 has at least "
            f"MIN_AVR_REDUCTION = {MIN_AVR_REDUCTION:g} times fewer active units than the "
            f"lambda = 0 run and a test accuracy at most MAX_ACCURACY_DROP = "
            f"{MAX_ACCURACY_DROP} below it; partly when such a run loses at most "
            f"PARTLY_ACCURACY_DROP = {PARTLY_ACCURACY_DROP}; not supported otherwise. Seeds "
            f"that disagree give 'partly'.")
    fc = [r for r in _of_rule(runs, FC) if _finite(_l1(r)) and _finite(r.avr)]
    cols = ["run", "seed", "iterations", "AVR", "AVR reduction", "accuracy", "accuracy drop",
            "article AVR", "article accuracy"]
    groups = {s: g for s, g in _by_seed(fc).items()
              if any(_l1(r) == 0 for r in g) and any(_l1(r) > 0 for r in g)}
    if not groups:
        return _not_tested(rule, f"FC runs with lambda = 0 and lambda > 0 of one seed; "
                                 f"{FC_NEEDS}")
    rows, per, finds = [], [], []
    for seed, g in sorted(groups.items()):
        b = [r for r in g if _l1(r) == 0][0]
        best = None
        for r in sorted(g, key=lambda r: _l1(r)):
            red = b.avr / r.avr if r.avr > 0 else float("inf")
            drop = _accuracy(b) - _accuracy(r)
            art = ((ARTICLE_FC_AVR_DENSE, ARTICLE_FC_ACC_DENSE) if _l1(r) == 0
                   else (float("nan"), float("nan")))
            rows.append([r.label, seed, _iters(r), r.avr, red, _accuracy(r), drop, *art])
            if _l1(r) > 0 and red >= MIN_AVR_REDUCTION and (best is None or drop < best[1]):
                best = (r, drop, red)
        if best is not None and best[1] <= MAX_ACCURACY_DROP:
            per.append("supported")
        elif best is not None and best[1] <= PARTLY_ACCURACY_DROP:
            per.append("partly")
        else:
            per.append("not supported")
        if best is not None:
            finds.append(f"seed {seed}: {best[0].label} has {best[2]:.3g}x fewer active units "
                         f"for an accuracy drop of {best[1]:.4f} (article: 29x for 0.005)")
        else:
            finds.append(f"seed {seed}: no run reduces the AVR {MIN_AVR_REDUCTION:g}-fold")
    rows.append(["article sparse run", "", 20000, ARTICLE_FC_AVR_SPARSE,
                 ARTICLE_FC_AVR_DENSE / ARTICLE_FC_AVR_SPARSE, ARTICLE_FC_ACC_SPARSE,
                 ARTICLE_FC_ACC_DENSE - ARTICLE_FC_ACC_SPARSE, ARTICLE_FC_AVR_SPARSE,
                 ARTICLE_FC_ACC_SPARSE])
    return Verdict(_combine(per), rule, cols, rows, finds)


# --- claim 4: the CNN -----------------------------------------------------------------------

def _claim4(runs: Sequence[RunResult]) -> Verdict:
    art_fc = ARTICLE_FC_AVR_SPARSE / ARTICLE_FC_N
    rule = (f"Take, for the CNN and for the FC net, the lambda > 0 run with the lowest "
            f"activity ratio among those whose test accuracy is at most MAX_ACCURACY_DROP = "
            f"{MAX_ACCURACY_DROP} below the lambda = 0 run of the same net (seed 0 or the "
            f"lowest seed). Supported when the CNN's ratio is below the FC's (our FC runs; the "
            f"article's FC ratio 5.4/784 = {art_fc:.4f} when we have none); partly when the "
            f"CNN keeps its accuracy with a sparse code (ratio < DENSE_MIN_RATIO = "
            f"{DENSE_MIN_RATIO}) but not below the FC's ratio; not supported when no CNN run "
            f"keeps its accuracy with a sparse code.")
    cnn = [r for r in _of_rule(runs, CNN) if _finite(_l1(r)) and _finite(r.activity_ratio)]
    if not (any(_l1(r) == 0 for r in cnn) and any(_l1(r) > 0 for r in cnn)):
        return _not_tested(rule, "CNN runs with lambda = 0 and lambda > 0: `neurocode run "
                                 "experiments/article_cnn.yaml --out RESULTS`")
    cols = ["net", "run", "iterations", "AVR", "N", "activity ratio", "accuracy",
            "accuracy drop", "article AVR", "article ratio"]
    seed = min(r.seed for r in cnn)
    b, best = _best_sparse_at_accuracy([r for r in cnn if r.seed == seed], MAX_ACCURACY_DROP)
    fc = [r for r in _of_rule(runs, FC) if _finite(_l1(r)) and _finite(r.activity_ratio)]
    fb, fbest = (None, None)
    if fc:
        fseed = min(r.seed for r in fc)
        fb, fbest = _best_sparse_at_accuracy([r for r in fc if r.seed == fseed],
                                             MAX_ACCURACY_DROP)
    rows = []
    for r in sorted([r for r in cnn if r.seed == seed], key=_l1):
        art = ((ARTICLE_CNN_AVR_DENSE, ARTICLE_CNN_AVR_DENSE / ARTICLE_CNN_N) if _l1(r) == 0
               else (float("nan"), float("nan")))
        rows.append(["CNN", r.label, _iters(r), r.avr, r.n_units, r.activity_ratio,
                     _accuracy(r), _accuracy(b) - _accuracy(r) if b else float("nan"), *art])
    rows.append(["CNN (article, sparse)", "", 20000, ARTICLE_CNN_AVR_SPARSE, ARTICLE_CNN_N,
                 ARTICLE_CNN_AVR_SPARSE / ARTICLE_CNN_N, float("nan"), float("nan"),
                 ARTICLE_CNN_AVR_SPARSE, ARTICLE_CNN_AVR_SPARSE / ARTICLE_CNN_N])
    if fbest is not None:
        fc_ratio, fc_src = fbest.activity_ratio, f"our FC run {fbest.label}"
        rows.append(["FC (best sparse at accuracy)", fbest.label, _iters(fbest), fbest.avr,
                     fbest.n_units, fbest.activity_ratio, _accuracy(fbest),
                     _accuracy(fb) - _accuracy(fbest), ARTICLE_FC_AVR_SPARSE, art_fc])
    else:
        fc_ratio, fc_src = art_fc, "the article's FC (5.4 of 784)"
        rows.append(["FC (article, sparse)", "", 20000, ARTICLE_FC_AVR_SPARSE, ARTICLE_FC_N,
                     art_fc, ARTICLE_FC_ACC_SPARSE, ARTICLE_FC_ACC_DENSE - ARTICLE_FC_ACC_SPARSE,
                     ARTICLE_FC_AVR_SPARSE, art_fc])
    if best is None or best.activity_ratio >= DENSE_MIN_RATIO:
        v = "not supported"
        finds = ["no CNN run with lambda > 0 keeps its accuracy with a sparse code"]
    else:
        v = "supported" if best.activity_ratio < fc_ratio else "partly"
        finds = [f"CNN {best.label}: activity ratio {best.activity_ratio:.4g} at accuracy "
                 f"{_accuracy(best):.4g} against {fc_ratio:.4g} for {fc_src} "
                 f"(article: 0.0037 against 0.0069)"]
    iters = sorted({_iters(r) for r in cnn})
    finds.append(f"CNN runs trained for {', '.join(f'{i:g}' for i in iters)} iterations "
                 f"(the article: 20,000)")
    return Verdict(v, rule, cols, rows, finds)


# --- claim 5: the autoencoder ---------------------------------------------------------------

def _claim5(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Sub-claims on the autoencoder runs (lowest seed), each over lambdas: (a) sparsity "
            f"speeds up the classifier: the mean test accuracy over the learning curve "
            f"(higher = learns sooner) of a lambda > 0 run exceeds that of the lambda = 0 run "
            f"with the same decoder; (b) sparsity improves the classifier: final accuracy, "
            f"likewise; (c) sparsity worsens reconstruction: final reconstruction error, "
            f"higher than at lambda = 0; (d) the sub-pixel decoder learns faster than the "
            f"transposed convolution: mean accuracy over the curve at equal lambda > 0; (e) "
            f"the sub-pixel decoder reconstructs better: lower final reconstruction error at "
            f"equal lambda. A sub-claim holds when at least MAJORITY = {MAJORITY} of its "
            f"comparisons go the claimed way. All testable sub-claims hold: supported; none: "
            f"not supported; some: partly.")
    ae = [r for r in _of_rule(runs, AE) if _finite(_l1(r))]
    if not ae:
        return _not_tested(rule, "autoencoder runs (both decoders, several lambdas): "
                                 "`neurocode run experiments/article_ae.yaml --out RESULTS`")
    seed = min(r.seed for r in ae)
    ae = [r for r in ae if r.seed == seed]
    dec = lambda r: str(r.param("model.decoder", "?"))  # noqa: E731
    cols = ["run", "decoder", "lambda", "iterations", "activity ratio", "final accuracy",
            "mean accuracy over curve", "final recon error"]
    rows = [[r.label, dec(r), _l1(r), _iters(r), r.activity_ratio, _accuracy(r),
             _curve_mean(r, "accuracy"), _recon(r)] for r in sorted(ae, key=lambda r: (dec(r), _l1(r)))]
    subs: dict[str, list[bool]] = {k: [] for k in "abcde"}
    for d in sorted({dec(r) for r in ae}):
        g = [r for r in ae if dec(r) == d]
        base = [r for r in g if _l1(r) == 0]
        if not base:
            continue
        b = base[0]
        for r in g:
            if _l1(r) <= 0:
                continue
            for key, fn, sign in (("a", lambda x: _curve_mean(x, "accuracy"), 1),
                                  ("b", _accuracy, 1), ("c", _recon, 1)):
                x, y = fn(r), fn(b)
                if _finite(x) and _finite(y):
                    subs[key].append(sign * (x - y) > 0)
    sub = {r.param("model.l1"): r for r in ae if dec(r) == "subpixel"}
    tra = {r.param("model.l1"): r for r in ae if dec(r) == "transposed"}
    for lam in sorted(set(sub) & set(tra), key=_f):
        s, t = sub[lam], tra[lam]
        if _f(lam) > 0:
            x, y = _curve_mean(s, "accuracy"), _curve_mean(t, "accuracy")
            if _finite(x) and _finite(y):
                subs["d"].append(x > y)
        x, y = _recon(s), _recon(t)
        if _finite(x) and _finite(y):
            subs["e"].append(x < y)
    names = {"a": "sparsity speeds up the classifier", "b": "sparsity improves the classifier",
             "c": "sparsity worsens reconstruction",
             "d": "sub-pixel decoder learns faster than transposed",
             "e": "sub-pixel decoder reconstructs better than transposed"}
    held, finds, tested = [], [], 0
    for k, res in subs.items():
        if not res:
            finds.append(f"({k}) {names[k]}: not testable with these runs")
            continue
        tested += 1
        frac = sum(res) / len(res)
        ok = frac >= MAJORITY
        held.append(ok)
        finds.append(f"({k}) {names[k]}: {sum(res)} of {len(res)} comparisons "
                     f"-> {'holds' if ok else 'does not hold'}")
    if not tested:
        return _not_tested(rule, "autoencoder runs with lambda = 0 and lambda > 0 for a "
                                 "decoder, or both decoders at one lambda: `neurocode run "
                                 "experiments/article_ae.yaml --out RESULTS`", cols, rows)
    v = "supported" if all(held) else ("not supported" if not any(held) else "partly")
    return Verdict(v, rule, cols, rows, finds)


# --- claim 6: dead units ---------------------------------------------------------------------

def _dead(r: RunResult) -> float:
    v = r.get("activity.dead_fraction")
    return v if _finite(v) else _f(r.final.get("dead_fraction", float("nan")))


def _claim6(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Over every run with a dead-unit count (the battery's activity.dead_fraction, "
            f"else final.dead_fraction): a run activates every neuron when at most "
            f"MAX_DEAD_FRACTION = {MAX_DEAD_FRACTION} of its units never fire over the measured "
            f"stimuli. All runs do: supported; some: partly; none: not supported.")
    have = [r for r in runs if _finite(_dead(r))]
    if not have:
        return _not_tested(rule, "runs measured by the battery: `neurocode measure RESULTS`")
    cols = ["rule", "run", "code type", "activity ratio", "dead fraction", "units", "all active"]
    rows = [[r.rule, r.label, r.code_type, r.activity_ratio, _dead(r), r.n_units,
             "yes" if _dead(r) <= MAX_DEAD_FRACTION else "no"] for r in have]
    ok = [_dead(r) <= MAX_DEAD_FRACTION for r in have]
    v = "supported" if all(ok) else ("not supported" if not any(ok) else "partly")
    return Verdict(v, rule, cols, rows, [f"{sum(ok)} of {len(ok)} runs activate (almost) "
                                         f"every unit"])


# --- the trend test (claims 7, 8, 11, 12) ----------------------------------------------------

def trend_test(points: Sequence[tuple[RunResult, float]], sign: int,
               need_types: tuple[str, ...] = ()) -> tuple[str, list[str], dict[str, Any]]:
    """Verdict of "the measure rises (``sign=+1``) or falls (``-1``) with activity".

    Over ``points`` (run, measure value), with finite activity ratio and value:

    * check 1: Spearman rho between activity ratio and value has the sign of ``sign`` with
      ``|rho| >= MIN_ABS_RHO``, over at least ``MIN_TREND_RUNS`` runs;
    * check 2: the mean value over the runs of the least active code type present (in the
      order local, sparse, dense) is below (``sign=+1``) or above (``-1``) the mean over the
      runs of the most active type present.

    Both checks hold: ``"supported"`` (``"partly"`` when a code type in ``need_types`` has no
    run); one: ``"partly"``; none: ``"not supported"``; fewer than ``MIN_TREND_RUNS`` runs or
    fewer than two code types: ``"not tested"``.

    Returns
    -------
    (verdict, findings, numbers)
        ``numbers`` holds ``rho``, ``n``, ``means`` (per code type) and ``counts``.
    """
    from scipy.stats import spearmanr

    pts = [(r, float(v)) for r, v in points if _finite(v) and _finite(r.activity_ratio)
           and r.code_type in CODE_TYPES]
    means = {t: float(np.mean([v for r, v in pts if r.code_type == t]))
             for t in CODE_TYPES if any(r.code_type == t for r, _ in pts)}
    counts = {t: sum(r.code_type == t for r, _ in pts) for t in means}
    nums: dict[str, Any] = {"rho": float("nan"), "n": len(pts), "means": means,
                            "counts": counts}
    if len(pts) < MIN_TREND_RUNS or len(means) < 2:
        return "not tested", [f"{len(pts)} runs of {len(means)} code type(s): need at least "
                              f"{MIN_TREND_RUNS} runs of two code types"], nums
    x = np.array([r.activity_ratio for r, _ in pts])
    y = np.array([v for _, v in pts])
    rho = float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else 0.0
    nums["rho"] = rho
    c1 = rho * sign >= MIN_ABS_RHO
    lo, hi = next(iter(means)), list(means)[-1]
    c2 = (means[lo] - means[hi]) * sign < 0
    word = "rises" if sign > 0 else "falls"
    finds = [f"Spearman rho (activity ratio, measure) = {rho:.3f} over {len(pts)} runs: "
             f"{'the measure ' + word + ' with activity' if c1 else 'no trend of the claimed direction'}"
             f" (|rho| >= {MIN_ABS_RHO} needed)",
             f"mean over {lo} runs {means[lo]:.4g} vs {hi} runs {means[hi]:.4g}: "
             f"{'as claimed' if c2 else 'not as claimed'}"]
    missing = [t for t in need_types if t not in means]
    if c1 and c2:
        v = "supported"
        if missing:
            v = "partly"
            finds.append(f"no {', '.join(missing)} run measured: that part of the claim "
                         f"is not tested")
    elif c1 or c2:
        v = "partly"
    else:
        v = "not supported"
    return v, finds, nums


def _trend_rows(points: Sequence[tuple[RunResult, float]], extra: Sequence[Callable] = ()
                ) -> list[list[Any]]:
    return [[r.rule, r.label, r.code_type, r.activity_ratio, v, *(f(r) for f in extra)]
            for r, v in sorted(points, key=lambda p: _f(p[0].activity_ratio))
            if _finite(v)]


def _group_rows(nums: dict[str, Any], ncols: int) -> list[list[Any]]:
    return [[f"mean of {t} runs", f"{nums['counts'][t]} runs", t, float("nan"), m,
             *([float("nan")] * (ncols - 5))] for t, m in nums["means"].items()]


TREND_RULE = (f"Trend rule (see neurocode.claims.trend_test): over every measured run, the "
              f"Spearman rank correlation between activity ratio and the measure has the "
              f"claimed sign with |rho| >= MIN_ABS_RHO = {MIN_ABS_RHO} over at least "
              f"MIN_TREND_RUNS = {MIN_TREND_RUNS} runs, and the mean over the least active code "
              f"type present lies on the claimed side of the mean over the most active type. "
              f"Both: supported; one: partly; neither: not supported.")


# --- claim 7: interference -------------------------------------------------------------------

def _claim7(runs: Sequence[RunResult]) -> Verdict:
    rule = ("Measure: overlap.jaccard_between, the Jaccard overlap of the active sets of two "
            "stimuli of different classes (a code that puts different items on shared units "
            "risks interference when they are combined). Claimed: it rises with activity. "
            + TREND_RULE + " Supported needs local and dense runs; without one of them "
            "at most partly.")
    pts = [(r, r.get("overlap.jaccard_between")) for r in runs]
    cols = ["rule", "run", "code type", "activity ratio", "Jaccard between classes",
            "random-code Jaccard (theory)", "spurious units in superposition (fraction)"]
    extra = (lambda r: r.get("overlap.theory_jaccard_random_between"),
             lambda r: r.get("superposition.mean_spurious_fraction"))
    v, finds, nums = trend_test(pts, +1, need_types=("local", "dense"))
    rows = _trend_rows(pts, extra)
    if v == "not tested":
        return _not_tested(rule, BATTERY_NEEDS, cols, rows)
    return Verdict(v, rule, cols, rows + _group_rows(nums, len(cols)), finds)


# --- claim 8: parallelism ---------------------------------------------------------------------

def _shared_units(r: RunResult) -> float:
    """Expected units two stimuli's codes share (both would write them if updated in
    parallel): from the Jaccard overlap J of sets of k units, ``2kJ / (1 + J)``."""
    j, k = r.get("overlap.jaccard_between"), r.avr
    if not (_finite(j) and _finite(k)):
        return float("nan")
    return 2.0 * k * j / (1.0 + j)


def _claim8(runs: Sequence[RunResult]) -> Verdict:
    rule = ("Code-level conflict, for every measured run: the expected number of units that "
            "the codes of two stimuli of different classes share, 2 k J / (1 + J) (k the AVR, J "
            "overlap.jaccard_between), i.e. units two parallel updates would both write. "
            "Claimed: it rises with activity. " + TREND_RULE + " Where runs measured "
            "synchronous against asynchronous updates (parallel.supported = 1, Hopfield-type "
            "rules), parallel.fraction_different (stimuli whose code depends on the update "
            "order) must also rise with activity by the same rule; without such runs the "
            "verdict is at most partly, since the dynamics were not tested.")
    pts = [(r, _shared_units(r)) for r in runs]
    cols = ["rule", "run", "code type", "activity ratio", "shared units per pair",
            "async != sync (fraction)"]
    extra = (lambda r: r.get("parallel.fraction_different")
             if r.get("parallel.supported") == 1 else float("nan"),)
    v, finds, nums = trend_test(pts, +1)
    rows = _trend_rows(pts, extra)
    if v == "not tested":
        return _not_tested(rule, BATTERY_NEEDS, cols, rows)
    par = [(r, r.get("parallel.fraction_different")) for r in runs
           if r.get("parallel.supported") == 1]
    pv, pf, _ = trend_test(par, +1)
    if pv == "not tested":
        finds.append(f"synchronous vs asynchronous dynamics: {len(par)} run(s) measured; "
                     f"not tested (needs measured Hopfield runs over several loads/codes)")
        if v == "supported":
            v = "partly"
    else:
        finds += ["dynamics: " + f for f in pf]
        v = v if pv == v else "partly"
    return Verdict(v, rule, cols, rows + _group_rows(nums, len(cols)), finds)


# --- claim 9: fault tolerance ----------------------------------------------------------------

def _claim9(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Measure: fault.auc_random, the normalised area under readout accuracy against "
            f"the fraction of units silenced at random (1: no loss, {LOCAL_THEORY_AUC}: the "
            f"straight line of a local code). Group means by code type; the local value is "
            f"the local runs' mean, else LOCAL_THEORY_AUC = {LOCAL_THEORY_AUC} (the closed "
            f"form). Supported when local < dense and the means are ordered local <= sparse <= "
            f"dense (where sparse runs exist); partly when local < dense only; not supported "
            f"when local >= dense.")
    have = [r for r in runs if _finite(r.get("fault.auc_random")) and r.code_type in CODE_TYPES]
    cols = ["rule", "run", "code type", "activity ratio", "fault AUC (random loss)",
            "accuracy intact"]
    rows = [[r.rule, r.label, r.code_type, r.activity_ratio, r.get("fault.auc_random"),
             r.get("fault.accuracy_intact")] for r in sorted(have, key=lambda r: r.activity_ratio)]
    means = {t: float(np.mean([r.get("fault.auc_random") for r in have if r.code_type == t]))
             for t in CODE_TYPES if any(r.code_type == t for r in have)}
    if "dense" not in means:
        return _not_tested(rule, "fault-tolerance measures of dense codes (and of local or "
                                 "sparse ones): " + BATTERY_NEEDS, cols, rows)
    local = means.get("local", LOCAL_THEORY_AUC)
    src = "local runs" if "local" in means else "local theory"
    for t, m in means.items():
        rows.append([f"mean of {t} runs", "", t, float("nan"), m, float("nan")])
    if "local" not in means:
        rows.append(["local code (theory)", "", "local", float("nan"), LOCAL_THEORY_AUC,
                     float("nan")])
    a = local < means["dense"]
    b = a and local <= means.get("sparse", local) <= means["dense"]
    v = "supported" if b else ("partly" if a else "not supported")
    finds = [f"{src}: AUC {local:.3f}; dense runs: {means['dense']:.3f}"
             + (f"; sparse runs: {means['sparse']:.3f}" if "sparse" in means else "")]
    return Verdict(v, rule, cols, rows, finds)


# --- claim 10: memory capacity ---------------------------------------------------------------

def _claim10(runs: Sequence[RunResult]) -> Verdict:
    rule = (f"Two sub-claims over measured runs. (a) The count of sparse codes: for each "
            f"sparse run, log2 C(N, d) (representation.bits) against the article's d bits "
            f"(representation.bits_article); the article's count holds for a run when they "
            f"differ by at most COUNT_REL_TOLERANCE = {COUNT_REL_TOLERANCE:.0%} of "
            f"log2 C(N, d), and the sub-claim when it holds for most (>= MAJORITY = "
            f"{MAJORITY}) sparse runs. (b) Sparse codes store the most associations: the run "
            f"with the highest Willshaw bits per synapse at capacity "
            f"(willshaw.bits_per_synapse_at_capacity) is sparse, and the sparse runs' mean is "
            f"above the means of the other code types present. Both: supported; one: partly; "
            f"none: not supported.")
    cols = ["rule", "run", "code type", "N", "d (AVR)", "log2 C(N,d)", "article: d bits",
            "log2 N (local)", "Willshaw capacity M*", "Willshaw bits/synapse"]
    have = [r for r in runs if _finite(r.get("representation.bits")) and r.code_type in CODE_TYPES]
    rows = [[r.rule, r.label, r.code_type, r.n_units, r.avr, r.get("representation.bits"),
             r.get("representation.bits_article"), r.get("representation.bits_local"),
             r.get("willshaw.capacity"), r.get("willshaw.bits_per_synapse_at_capacity")]
            for r in sorted(have, key=lambda r: r.activity_ratio)]
    sparse = [r for r in have if r.code_type == "sparse"
              and _finite(r.get("representation.bits_article"))]
    wil = [r for r in have if _finite(r.get("willshaw.bits_per_synapse_at_capacity"))]
    types = {r.code_type for r in wil}
    if not sparse and len(types) < 2:
        return _not_tested(rule, "measured sparse runs and runs of a second code type: "
                           + BATTERY_NEEDS, cols, rows)
    finds, held = [], []
    if sparse:
        ok = [abs(r.get("representation.bits") - r.get("representation.bits_article"))
              <= COUNT_REL_TOLERANCE * r.get("representation.bits") for r in sparse]
        ratio = np.median([r.get("representation.bits") / max(r.get("representation.bits_article"), 1e-9)
                           for r in sparse])
        a = sum(ok) / len(ok) >= MAJORITY
        held.append(a)
        finds.append(f"(a) 2^d matches C(N, d) within {COUNT_REL_TOLERANCE:.0%} for {sum(ok)} "
                     f"of {len(ok)} sparse runs (median log2 C(N,d) / d = {ratio:.3g}): "
                     f"{'holds' if a else 'does not hold'}")
    else:
        finds.append("(a) no sparse run measured: not testable")
    if len(types) >= 2 and "sparse" in types:
        key = "willshaw.bits_per_synapse_at_capacity"
        best = max(wil, key=lambda r: r.get(key))
        gm = {t: float(np.mean([r.get(key) for r in wil if r.code_type == t])) for t in types}
        b = best.code_type == "sparse" and all(gm["sparse"] > m for t, m in gm.items()
                                                if t != "sparse")
        held.append(b)
        finds.append(f"(b) best Willshaw bits/synapse {best.get(key):.3g} by {best.rule} "
                     f"{best.label} ({best.code_type}); means "
                     + ", ".join(f"{t} {m:.3g}" for t, m in gm.items())
                     + f": {'holds' if b else 'does not hold'}")
    else:
        finds.append("(b) needs Willshaw measures of sparse runs and of another code type: "
                     "not testable")
    if not held:
        return _not_tested(rule, BATTERY_NEEDS, cols, rows)
    v = "supported" if all(held) else ("not supported" if not any(held) else "partly")
    return Verdict(v, rule, cols, rows, finds)


# --- claims 11 and 12: decoding ---------------------------------------------------------------

def _claim11(runs: Sequence[RunResult]) -> Verdict:
    rule = ("Measure: decoding.m_fraction_90, the fraction of the units a linear readout must "
            "observe (chosen at random) to reach 90 % of its full accuracy (decoding.m90 units). "
            "The article's sum-up ranks decoding complexity local < sparse < dense, so the "
            "fraction observed should rise with activity. " + TREND_RULE)
    pts = [(r, r.get("decoding.m_fraction_90")) for r in runs]
    cols = ["rule", "run", "code type", "activity ratio", "fraction observed for 90 %",
            "units observed for 90 %", "full accuracy"]
    v, finds, nums = trend_test(pts, +1)
    rows = _trend_rows(pts, (lambda r: r.get("decoding.m90"),
                             lambda r: r.get("decoding.accuracy_full")))
    if v == "not tested":
        return _not_tested(rule, BATTERY_NEEDS, cols, rows)
    return Verdict(v, rule, cols, rows + _group_rows(nums, len(cols)), finds)


def _claim12(runs: Sequence[RunResult]) -> Verdict:
    rule = ("Measure: decoding.active_synapses_ratio, the synapses a stimulus drives (active "
            "units x fan-out) as a fraction of the dense count (every unit x fan-out): the "
            "operations, hence energy, per stimulus. Claimed: it rises with activity. "
            + TREND_RULE + " Wall-clock speed-ups of a sparse implementation are not in the "
            "stored results, so the verdict does not use them; they are measured by "
            "benchmarks/bench_sparse.py (the sparse-aware training steps of the article's "
            "networks against the dense ones).")
    pts = [(r, r.get("decoding.active_synapses_ratio")) for r in runs]
    cols = ["rule", "run", "code type", "activity ratio", "active synapses (fraction)",
            "active synapses per stimulus", "dense synapses"]
    v, finds, nums = trend_test(pts, +1)
    rows = _trend_rows(pts, (lambda r: r.get("decoding.active_synapses_mean"),
                             lambda r: r.get("decoding.dense_synapses")))
    if v == "not tested":
        return _not_tested(rule, BATTERY_NEEDS, cols, rows)
    finds.append("wall-clock speed-up of a sparse implementation: not in the results (see "
                 "benchmarks/bench_sparse.py)")
    return Verdict(v, rule, cols, rows + _group_rows(nums, len(cols)), finds)


CLAIMS: tuple[Claim, ...] = (
    Claim(1, "Unconstrained FC net is dense",
          "Without sparsity constraint the network converges to a dense code (activity ratio "
          "below about 0.5; AVR 156.3 of 784).",
          "activity ratio of the FC net at lambda = 0", ("article_fc_curves", "article_fc_tradeoff"),
          _claim1),
    Claim(2, "Strong penalty: almost local",
          "We almost reach local code with an AVR of 1.67, for 89 % accuracy.",
          "AVR and accuracy of the sparsest FC runs", ("article_fc_tradeoff", "article_fc_curves"),
          _claim2),
    Claim(3, "Sparsity costs little accuracy (FC)",
          "Without losing accuracy, an AVR of 5.4 instead of 156.3 (0.974 vs 0.979).",
          "AVR reduction and accuracy drop against lambda = 0", ("article_fc_tradeoff",),
          _claim3),
    Claim(4, "CNN: fewer active units in proportion",
          "The CNN keeps its accuracy with an AVR of 146.2 instead of 10,932 of 39,200 units "
          "(0.37 %), fewer in proportion than the FC net.",
          "lowest activity ratio at kept accuracy, CNN vs FC",
          ("article_cnn_tradeoff", "article_cnn_curves", "article_fc_tradeoff"), _claim4),
    Claim(5, "Autoencoder: sparsity and decoders",
          "In the conv autoencoder, sparsity accelerated and improved the classifier and "
          "worsened reconstruction; the sub-pixel decoder learned faster and reconstructed "
          "better than the transposed convolution.",
          "learning-curve area, final accuracy and reconstruction error by lambda and decoder",
          ("article_ae_curves", "article_ae_tradeoff"), _claim5),
    Claim(6, "Every neuron is used",
          "Do all neurons get activated through the complete dataset?",
          "fraction of dead units (never active over the measured stimuli)",
          ("summary_properties", "summary_table"), _claim6),
    Claim(7, "Interference: local avoids, dense risks",
          "Local codes avoid unwanted interference; in dense codes one neuron reacts to "
          "several features, which may interfere when they appear together.",
          "class overlap (Jaccard) against activity ratio; superposition",
          ("detail_interference", "summary_properties", "theory_codes"), _claim7),
    Claim(8, "Parallelism is tied to interference",
          "Sparse codes can work asynchronously and in parallel; in a dense code parallel "
          "computation risks interference.",
          "units shared by two stimuli's codes; sync vs async dynamics where measured",
          ("detail_interference", "summary_properties"), _claim8),
    Claim(9, "Fault tolerance",
          "Local code is especially sensitive to errors, and dense code can always recover.",
          "fault AUC under random unit loss by code type",
          ("detail_fault", "summary_properties", "theory_codes"), _claim9),
    Claim(10, "Memory capacity",
          "Local codes hold N items, dense codes 2^N, sparse codes 2^d.",
          "log2 C(N, d) vs d; Willshaw capacity by code type",
          ("detail_capacity", "summary_properties", "theory_codes"), _claim10),
    Claim(11, "Decoding complexity",
          "The more neurons one needs to observe to detect what has been encoded, the more "
          "complex decoding is.",
          "fraction of units observed for 90 % of full accuracy vs activity ratio",
          ("detail_decoding", "summary_properties"), _claim11),
    Claim(12, "Computation and energy",
          "Sparse codes reduce computation (and energy) per stimulus.",
          "active synapses per stimulus vs activity ratio",
          ("detail_decoding", "summary_properties"), _claim12),
)


def evaluate_all(runs: Sequence[RunResult]) -> list[tuple[Claim, Verdict]]:
    """Every claim of :data:`CLAIMS` with its verdict on ``runs``."""
    runs = list(runs)
    return [(c, c.evaluate(runs)) for c in CLAIMS]


def verdict_counts(results: Sequence[tuple[Claim, Verdict]]) -> dict[str, int]:
    """How many claims got each verdict, in the order of :data:`VERDICTS`."""
    return {v: sum(r.verdict == v for _, r in results) for v in VERDICTS}
