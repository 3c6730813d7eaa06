"""Claims 6-12, read from the battery: dose-response trends within families, beside the random
k-of-N null of the same ``N`` and ``k``.

The machinery (:func:`_dose_response`, :func:`_trend_claim`) first, then one evaluator per
claim; :data:`neurocode.claims.CLAIMS` names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from neurocode import stats
from neurocode.claims.helpers import (
    BATTERY_NEEDS,
    FC_CMD,
    _by_seed,
    _excluded,
    _f,
    _fc_family,
    _nanmean,
    _nanmedian,
    _not_tested,
    _seed_need,
)
from neurocode.claims.verdicts import (
    ARTICLE_CNN_AVR_SPARSE,
    ARTICLE_CNN_N,
    ARTICLE_FC_AVR_SPARSE,
    ARTICLE_FC_N,
    Verdict,
    _Ctx,
)
from neurocode.design import Family, _finite, families
from neurocode.metrics.capacity import log2_binomial
from neurocode.results import RunResult, is_random_null

# --- dose-response machinery (claims 6-11) ----------------------------------------------------

#: Measures derived from the battery's numbers, read like battery keys.
_DERIVED: dict[str, Callable[[RunResult], float]] = {
    "superposition.interference": lambda r: 1.0 - _f(r.get("superposition.top2_accuracy")),
}


def _get(r: RunResult, key: str) -> float:
    return _DERIVED[key](r) if key in _DERIVED else _f(r.get(key))


def _clusters(fam: Family, fn: Callable[[RunResult], float]) -> list[list[tuple[float, float]]]:
    return [[(float(r.activity_ratio), float(fn(r))) for r in lv.runs
             if _finite(fn(r)) and _finite(r.activity_ratio)] for lv in fam.levels]


def _rho(cl: list[list[tuple[float, float]]]) -> float:
    pts = [p for c in cl for p in c]
    if len({x for x, _ in pts}) < 2:
        return float("nan")
    return stats.spearman([x for x, _ in pts], [y for _, y in pts])


def _eligible(runs: Sequence[RunResult], key: str, ctx: _Ctx, exclude_null: bool = False
              ) -> tuple[list[Family], list[str], list[Family]]:
    fams = families([r for r in runs if _finite(_get(r, key))],
                    min_learned=ctx["MIN_LEARNED_FRACTION"])
    ok: list[Family] = []
    why: list[str] = []
    for f in fams:
        if exclude_null and is_random_null(f.rule):
            continue
        lack = f.eligible(int(ctx["MIN_LEVELS"]), int(ctx["MIN_SEEDS"]))
        if lack:
            why.append(lack)
        else:
            ok.append(f)
    return ok, why, fams


def _null_runs(runs: Sequence[RunResult]) -> list[RunResult]:
    """The runs of the random k-of-N null: those of the rules whose tags declare
    ``random_null`` (:func:`neurocode.results.is_random_null`)."""
    null = {rule for rule in {r.rule for r in runs} if is_random_null(rule)}
    return [r for r in runs if r.rule in null]


def _null_value(runs: Sequence[RunResult], n_units: int, activity: float, key: str) -> float:
    """The random k-of-N null's ``key`` at width ``n_units`` and ``activity``: the null
    family's level means, interpolated in log activity (NaN outside its levels or when the
    results hold no null family of that width)."""
    nulls = [f for f in families([r for r in _null_runs(runs) if _finite(_get(r, key))])
             if f.n_units == n_units and len(f.levels) >= 2]
    if not nulls or not (_finite(activity) and activity > 0):
        return float("nan")
    lv = nulls[0].levels
    xs = np.log([v.activity for v in lv])
    ys = np.array([np.mean([_get(r, key) for r in v.runs]) for v in lv])
    x = math.log(activity)
    if x < xs.min() - 1e-9 or x > xs.max() + 1e-9:
        return float("nan")
    return float(np.interp(x, xs, ys))


def _dose_response(runs: Sequence[RunResult], ctx: _Ctx, key: str, sign: int, what: str,
                   cid: int, null_key: str | None = None) -> tuple[str, list, list, list[str],
                                                                    str, list[str], list[str]]:
    """Per eligible family: Spearman rho of ``key`` with the activity ratio, cluster
    bootstrap; returns (verdict, columns, rows, findings, design, needs, excluded)."""
    ok, lack, fams = _eligible(runs, key, ctx)
    cols = ["family", "level", "seeds", "activity ratio", what, "random k-of-N null",
            "measured - null"]
    rows, finds, words = [], [], []
    for f in ok:
        cl = _clusters(f, lambda r: _get(r, key))
        iv = ctx.cluster((cid, f.name, key, tuple(lv.key for lv in f.levels),
                          tuple(len(c) for c in cl)), cl, _rho)
        word = stats.decide(iv, 0.0, sign)
        words.append(word)
        finds.append(f"{f.name}: Spearman rho (activity, {what}) = {iv.format('.2f')} over "
                     f"{len(f.levels)} levels x {f.n_seeds}+ seeds -> "
                     + ("as claimed" if word == "supported" else
                        "the other way" if iv.excludes(0.0) else "no trend shown"))
        for lv in f.levels:
            m = float(np.mean([_get(r, key) for r in lv.runs]))
            nv = (_null_value(runs, f.n_units, lv.activity, null_key or key)
                  if not is_random_null(f.rule) else float("nan"))
            rows.append([f.name, lv.key, len(lv.seeds), lv.activity, m, nv,
                         m - nv if _finite(nv) else float("nan")])
    design = ("; ".join(f.describe() for f in ok) if ok else "no family qualifies") + (
        "" if not lack else ". Not used: " + "; ".join(lack))
    if not words:
        v = "not tested"
    elif all(w == "supported" for w in words):
        v = "supported"
    elif any(w == "supported" for w in words):
        v = "partly"
    else:
        v = "not supported"
    return v, cols, rows, finds, design, lack, _excluded(fams)


def _trend_claim(runs: Sequence[RunResult], ctx: _Ctx, key: str, sign: int, what: str,
                 cid: int, rule: str, null_text: str, extra_finds: Sequence[str] = (),
                 definitions: Sequence[str] = ()) -> Verdict:
    v, cols, rows, finds, design, lack, excl = _dose_response(runs, ctx, key, sign, what, cid)
    eff = "; ".join(f.split(" -> ")[0] for f in finds) or "n/a"
    if v == "not tested":
        return _not_tested(rule, BATTERY_NEEDS + (": " + "; ".join(lack) if lack else ""),
                           columns=cols, rows=rows, design=design, excluded=excl,
                           definitions=list(definitions), null=null_text)
    return Verdict(v, rule, cols, rows, finds + list(extra_finds), design=design,
                   null=null_text, effect=eff, excluded=excl, definitions=list(definitions))


def _trend_rule(what: str, word: str, ctx: _Ctx) -> str:
    return (f"Dose-response within each family (one rule, one N, its sparsity levels, each "
            f"with its seeds): the Spearman rank correlation between the activity ratio and "
            f"{what} over the family's runs, with a {ctx.conf:.0%} two-stage cluster bootstrap "
            f"interval (levels, then seeds). Claimed: it {word} with activity. A family counts "
            f"when it has MIN_LEVELS = {ctx['MIN_LEVELS']:g} levels with MIN_SEEDS = "
            f"{ctx['MIN_SEEDS']:g} seeds each. Every counted family's interval on the claimed "
            f"side of 0: supported; some: partly; none: not supported.")


# --- claim 6: dead units --------------------------------------------------------------------

def _dead(r: RunResult) -> float:
    v = r.get("activity.dead_fraction")
    return v if _finite(v) else _f(r.final.get("dead_fraction", float("nan")))


def _claim6(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    lim = ctx["MAX_DEAD_FRACTION"]
    rule = (f"The article asks this of its FC net: per lambda level, the fraction of units "
            f"that never fire over the measured stimuli, mean over seeds with its "
            f"{ctx.conf:.0%} interval, beside the random k-of-N null of the same N and k over "
            f"the same S stimuli, (1 - k/N)^S. A level uses every neuron when its whole "
            f"interval is <= MAX_DEAD_FRACTION = {lim:g}. Every learned level: supported; "
            f"some: partly; none: not supported.")
    fam = _fc_family([r for r in runs if _finite(_dead(r))], ctx)
    if fam is None:
        return _not_tested(rule, f"FC runs with a dead-unit count: {FC_CMD}, then "
                                 f"`neurocode measure RESULTS`")
    cols = ["level", "seeds", "AVR", "dead fraction", "null (1 - k/N)^S"]
    rows, oks = [], []
    for lv in fam.levels:
        iv = ctx.mean(("c6", fam.name, lv.key), list(_by_seed(lv, _dead).values()))
        s = _nanmean([_f(r.get("activity.n_stimuli")) for r in lv.runs])
        null = (1.0 - lv.avr / fam.n_units) ** s if _finite(s) and fam.n_units else float("nan")
        rows.append([lv.key, len(lv.seeds), lv.avr, iv.format(".3g"), null])
        if len(lv.seeds) >= ctx["MIN_SEEDS"]:
            oks.append(iv.high <= lim)
    design = f"{fam.name}: {len(fam.levels)} level(s) of lambda, {fam.n_seeds}+ seeds each"
    if not oks:
        return _not_tested(rule, _seed_need("FC levels", fam.n_seeds, ctx, FC_CMD), columns=cols,
                           rows=rows, design=design, excluded=_excluded([fam]))
    v = "supported" if all(oks) else ("not supported" if not any(oks) else "partly")
    return Verdict(v, rule, cols, rows, [f"{sum(oks)} of {len(oks)} levels use (almost) every "
                                         f"unit"], design=design,
                   null="a random k-of-N code of the same N and k: (1 - k/N)^S units never fire",
                   effect=f"{sum(oks)} of {len(oks)} levels with dead fraction <= {lim:g}",
                   excluded=_excluded([fam]))


# --- claims 7-9 -------------------------------------------------------------------------------

#: The union load at which claim 7 reports excess false matches (as the sum-up figure does).
UNION_LOAD = 10


def _union_excess(r: RunResult) -> float:
    """False-match rate of held-out codes against a union of ``UNION_LOAD`` stored codes,
    minus that of random codes with the same activity (the battery's unions measure)."""
    loads, fm, rnd = (r.get(f"unions.{k}") for k in ("loads", "false_match", "false_match_random"))
    if not all(isinstance(v, np.ndarray) and v.size for v in (loads, fm, rnd)):
        return float("nan")
    i = int(np.argmin(np.abs(np.asarray(loads, dtype=float) - UNION_LOAD)))
    return float(fm[i] - rnd[i])


def _claim7(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = (_trend_rule("the functional interference of two items held at once (1 - "
                        "superposition.top2_accuracy: the readout trained on single stimuli "
                        "fails to name both classes of two superposed stimuli)", "rises", ctx)
            + " The class overlap is reported as its excess over chance (Jaccard between "
              "classes / the Jaccard of random sets of the same sizes), not raw: raw overlap "
              "rises with activity for any random sets.")
    finds = []
    for f in families(runs, measure="overlap.jaccard_between",
                      min_learned=ctx["MIN_LEARNED_FRACTION"]):
        ex = [r.get("overlap.jaccard_between") / r.get("overlap.theory_jaccard_random_between")
              for lv in f.levels for r in lv.runs
              if _finite(r.get("overlap.theory_jaccard_random_between"))
              and r.get("overlap.theory_jaccard_random_between") > 0]
        if ex:
            finds.append(f"{f.name}: class overlap {np.median(ex):.3g}x chance (median over "
                         f"{len(ex)} runs)")
        fm = [_union_excess(r) for lv in f.levels for r in lv.runs]
        fm = [x for x in fm if _finite(x)]
        if fm:
            finds.append(f"{f.name}: false matches against a union of {UNION_LOAD} stored "
                         f"codes exceed those of random codes of the same activity by "
                         f"{np.median(fm):.3g} (median over {len(fm)} runs)")
    return _trend_claim(
        runs, ctx, "superposition.interference", +1, "interference (1 - top-2 accuracy)", 7,
        rule, "no correlation (rho = 0); per level, the random k-of-N code of the same N and k",
        extra_finds=finds)


def _claim8(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = (_trend_rule("sync_async.fraction_different (the code's own binarised patterns "
                        "stored in a covariance-rule attractor memory at half the capacity for "
                        "random codes of their activity, recalled from half cues once by "
                        "synchronous, parallel, and once by asynchronous threshold dynamics: the "
                        "fraction of recalls that end in different states)", "rises", ctx)
            + " The load relative to capacity, the cue fraction and the threshold (the middle "
              "of the signal gap) are held fixed across levels, so what varies is the code.")
    defs = ["The units two codes share, 2kJ / (1 + J) for sets of k units with Jaccard "
            "overlap J, is a function of claim 7's numbers and the AVR: it is not used as a "
            "test of parallelism."]
    par = [r for r in runs if r.get("parallel.supported") == 1
           and _finite(r.get("parallel.fraction_different"))]
    extra = []
    for f in families(par):
        vals = [r.get("parallel.fraction_different") for lv in f.levels for r in lv.runs]
        extra.append(f"{f.name} (a rule with its own sync and async dynamics): "
                     f"{np.mean(vals):.3g} of stimuli end in a different code (mean over "
                     f"{len(vals)} runs)")
    return _trend_claim(runs, ctx, "sync_async.fraction_different", +1,
                        "sync != async (fraction of recalls)", 8, rule,
                        "no correlation (rho = 0); per level, the random k-of-N code of the "
                        "same N and k in the same memory", extra_finds=extra, definitions=defs)


def _claim9(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = _trend_rule("fault.auc_random (normalised area under readout accuracy against the "
                       "fraction of units silenced at random: 1 no loss, 0.5 the straight line "
                       "of a local code)", "rises", ctx)
    return _trend_claim(runs, ctx, "fault.auc_random", +1, "fault AUC (random loss)", 9, rule,
                        "no correlation (rho = 0); per level, the random k-of-N code of the "
                        "same N and k on the same stimuli (its family in the results)")


# --- claim 10: memory capacity ----------------------------------------------------------------

def _interior_peak(cl: list[list[tuple[float, float]]]) -> float:
    """Mean of the best interior level minus the larger of the two end levels' means."""
    means = [float(np.mean([y for _, y in c])) if c else math.nan for c in cl]
    if len(means) < 3 or not np.all(np.isfinite(means)):
        return float("nan")
    return float(max(means[1:-1]) - max(means[0], means[-1]))


def _claim10(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    key = "willshaw.bits_per_synapse_at_capacity"
    rule = (f"Sparse codes store the most associations: within each family, Willshaw "
            f"information per synapse at capacity ({key}) peaks at an interior level: the "
            f"best interior level's mean minus the larger of the two end levels' means, with a "
            f"{ctx.conf:.0%} bootstrap over each level's seeds (the levels are fixed by the "
            f"design), must be > 0. Families need MIN_LEVELS = {ctx['MIN_LEVELS']:g} levels of "
            f"MIN_SEEDS = {ctx['MIN_SEEDS']:g} seeds. Every counted family: supported; some: "
            f"partly; none: not supported.")
    ok, lack, fams = _eligible(runs, key, ctx)
    cols = ["family", "level", "seeds", "activity ratio", "bits per synapse at capacity",
            "random k-of-N null (theory)"]
    rows, finds, words = [], [], []
    for f in ok:
        cl = _clusters(f, lambda r: r.get(key))
        iv = ctx.cluster(("c10", f.name, tuple(lv.key for lv in f.levels)), cl, _interior_peak,
                         between=False)
        w = stats.decide(iv, 0.0, +1)
        words.append(w)
        peak = max(f.levels, key=lambda lv: np.mean([r.get(key) for r in lv.runs]))
        finds.append(f"{f.name}: interior peak minus ends = {iv.format('.3g')} bits per synapse; "
                     f"peak at {peak.key} (activity {peak.activity:.3g}) -> "
                     + ("as claimed" if w == "supported" else "not shown"))
        for lv in f.levels:
            rows.append([f.name, lv.key, len(lv.seeds), lv.activity,
                         float(np.mean([r.get(key) for r in lv.runs])),
                         _nanmean([_f(r.get("willshaw.theory_bits_per_synapse_at_capacity"))
                                   for r in lv.runs])])
    defs = []
    for N, d in ((ARTICLE_FC_N, ARTICLE_FC_AVR_SPARSE), (ARTICLE_CNN_N, ARTICLE_CNN_AVR_SPARSE)):
        defs.append(f"Correction of the article's count (arithmetic, not a verdict): with d = "
                    f"{d:g} active of N = {N:,}, a sparse code names C(N, d) patterns, "
                    f"log2 C(N, d) = {float(log2_binomial(N, round(d))):.1f} bits, not 2^d "
                    f"(d = {d:g} bits); a local code names N (log2 N = {math.log2(N):.1f} bits), "
                    f"a dense one C(N, N/2) ~ 2^N / sqrt(N).")
    design = ("; ".join(f.describe() for f in ok) if ok else "no family qualifies") + (
        "" if not lack else ". Not used: " + "; ".join(lack))
    if not words:
        return _not_tested(rule, BATTERY_NEEDS + (": " + "; ".join(lack) if lack else ""),
                           columns=cols, rows=rows, design=design, definitions=defs,
                           excluded=_excluded(fams))
    v = ("supported" if all(w == "supported" for w in words) else
         "partly" if any(w == "supported" for w in words) else "not supported")
    return Verdict(v, rule, cols, rows, finds, design=design,
                   null="no interior peak (0); beside each level, Willshaw's closed form for "
                        "random patterns of the same N and k",
                   effect="; ".join(x.split(" -> ")[0] for x in finds), definitions=defs,
                   excluded=_excluded(fams))


# --- claims 11 and 12: decoding -------------------------------------------------------------

def _claim11(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = (_trend_rule("decoding.support_fraction (the article's construct: the units one must "
                        "observe to detect what was encoded, i.e. the smallest support of a "
                        "sparse (L1) detector per class reaching 90 % of its best AUC above "
                        "chance, mean over the detected classes, over N)", "rises", ctx)
            + " The redundancy measure decoding.m_fraction_90 (units drawn at random, probe "
              "retrained, until 90 % of the full accuracy) is a different construct and is "
              "shown, not judged.")
    _, _, _, red, _, _, _ = _dose_response(runs, ctx, "decoding.m_fraction_90", +1,
                                           "redundancy", 11)
    defs = ["Redundancy (decoding.m_fraction_90) must fall as codes grow denser (more units "
            "carry each item): shown, not a verdict. " + " ".join(red)]
    return _trend_claim(runs, ctx, "decoding.support_fraction", +1,
                        "L1 detector support (fraction of N)", 11, rule,
                        "no correlation (rho = 0); per level, the random k-of-N code of the "
                        "same N and k", definitions=defs)


def _claim12(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = (_trend_rule("compute.relative_cost (measured time per stimulus of the encoder plus "
                        "the faster of a dense and an event-driven readout, single-threaded, in "
                        "units of a fixed dense reference product timed in the same process, "
                        "so that runs measured at different times compare)", "rises", ctx)
            + " Runs that did not learn are left out, so the levels compared keep their "
              "accuracy; each level's readout accuracy is in the fault measure's intact "
              "accuracy.")
    have = [r for r in runs if _finite(r.get("decoding.active_synapses_ratio"))
            and _finite(r.activity_ratio)]
    defs = ["The active-synapse count per stimulus (active units x fan-out) divided by the "
            "dense count (units x fan-out) is the activity ratio by definition"
            + (f": over {len(have)} measured runs they differ by at most "
               f"{max(abs(r.get('decoding.active_synapses_ratio') - r.activity_ratio) for r in have):.1e}"
               if have else "") + "; it is not a test of the claim."]
    extra = []
    for f in families([r for r in runs if _finite(r.get("compute.relative_cost"))],
                      min_learned=ctx["MIN_LEARNED_FRACTION"]):
        enc = [_f(r.get("compute.encoder_fraction")) for lv in f.levels for r in lv.runs]
        sparsest = f.levels[0]
        sp = [_f(r.get("compute.sparse_readout_speedup")) for r in sparsest.runs]
        extra.append(f"{f.name}: the encoder takes {_nanmedian(enc):.0%} of the measured time "
                     f"(median over runs); at its sparsest level ({sparsest.key}) the "
                     f"event-driven readout is {_nanmedian(sp):.2g}x as fast as the dense one")
    return _trend_claim(runs, ctx, "compute.relative_cost", +1,
                        "encoder + readout time (reference units)", 12, rule,
                        "no correlation (rho = 0); per level, the random k-of-N code of the "
                        "same N and k", extra_finds=extra, definitions=defs)
