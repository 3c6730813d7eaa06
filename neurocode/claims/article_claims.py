"""Claims 1-5, the article's own experiments: the FC net (1-3), the CNN (4), the autoencoder (5).

Each evaluator takes the runs and the evaluation's thresholds and returns a
:class:`~neurocode.claims.Verdict`; :data:`neurocode.claims.CLAIMS` names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from neurocode import stats
from neurocode.claims.helpers import (
    FC_CMD,
    _acc,
    _base_level,
    _budget,
    _by_seed,
    _excluded,
    _fc_family,
    _iters,
    _l1,
    _network_families,
    _not_tested,
    _of_network,
    _seed_need,
)
from neurocode.claims.verdicts import (
    ARTICLE_CNN_AVR_SPARSE,
    ARTICLE_CNN_N,
    ARTICLE_FC_ACC_DENSE,
    ARTICLE_FC_ACC_SPARSE,
    ARTICLE_FC_AVR_DENSE,
    ARTICLE_FC_AVR_NEAR_LOCAL,
    ARTICLE_FC_AVR_SPARSE,
    ARTICLE_FC_N,
    ARTICLE_NEAR_LOCAL_ACCURACY,
    Verdict,
    _Ctx,
)
from neurocode.design import Family, Level, _finite, families
from neurocode.results import RunResult
from neurocode.stats import Interval

# --- claims 1-3: the FC net -----------------------------------------------------------------

def _claim1(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    lo_b, hi_b = ctx["DENSE_MIN_RATIO"], ctx["ABOUT_HALF_MAX_RATIO"]
    rule = (f"The activity ratio of the FC net at lambda = 0, mean over seeds with its "
            f"{ctx.conf:.0%} bootstrap interval: supported when the whole interval lies in "
            f"[DENSE_MIN_RATIO = {lo_b:g}, ABOUT_HALF_MAX_RATIO = {hi_b:g}] (dense, 'below "
            f"about 0.5'); not supported otherwise.")
    fam = _fc_family(runs, ctx)
    base = _base_level(fam) if fam is not None else None
    if fam is None or base is None:
        return _not_tested(rule, f"FC runs with lambda = 0: {FC_CMD}")
    ratios = _by_seed(base, lambda r: r.activity_ratio)
    cols = ["seed", "iterations", "AVR", "N", "activity ratio"]
    rows: list[list[Any]] = [[r.seed, _iters(r), r.avr, r.n_units, r.activity_ratio] for r in base.runs]
    rows.append(["article", 20000, ARTICLE_FC_AVR_DENSE, ARTICLE_FC_N,
                 ARTICLE_FC_AVR_DENSE / ARTICLE_FC_N])
    design = (f"{fam.name}, the lambda = 0 level, {len(ratios)} seed(s), trained for "
              f"{_budget(base.runs)}")
    if len(ratios) < ctx["MIN_SEEDS"]:
        return _not_tested(rule, _seed_need("FC runs with lambda = 0", len(ratios), ctx, FC_CMD),
                           columns=cols, rows=rows, design=design, excluded=_excluded([fam]))
    iv = ctx.mean(("c1", fam.name), list(ratios.values()))
    ok = iv.low >= lo_b and iv.high <= hi_b
    where = ("inside" if ok else "above" if iv.low > hi_b else "below" if iv.high < lo_b
             else "across an end of")
    return Verdict("supported" if ok else "not supported", rule, cols, rows,
                   [f"activity ratio {iv.format('.3f')} lies {where} [{lo_b:g}, {hi_b:g}] "
                    f"(article: {ARTICLE_FC_AVR_DENSE / ARTICLE_FC_N:.3f})"],
                   design=design, null="the band the article's words give (no random null: "
                   "a descriptive claim)", effect=f"activity ratio {iv.format('.3f')}",
                   excluded=_excluded([fam]))


def _level_row(lv: Level, ctx: _Ctx, key: str) -> tuple[Interval, Interval, list[Any]]:
    avr = ctx.mean((key, lv.key, "avr"), list(_by_seed(lv, lambda r: r.avr).values()))
    acc = ctx.mean((key, lv.key, "acc"), list(_by_seed(lv, _acc).values()))
    return avr, acc, [lv.key, len(lv.seeds), avr.format(), acc.format(".4f")]


def _claim2(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    need_acc = ARTICLE_NEAR_LOCAL_ACCURACY - ctx["ACCURACY_TOLERANCE"]
    rule = (f"The sparsest lambda > 0 level of the FC net whose runs learned (lowest mean AVR; "
            f"runs that did not learn are excluded and listed): supported when its AVR "
            f"interval lies at or below NEAR_LOCAL_MAX_AVR = {ctx['NEAR_LOCAL_MAX_AVR']:g} and "
            f"its accuracy interval at or above {ARTICLE_NEAR_LOCAL_ACCURACY} - "
            f"ACCURACY_TOLERANCE = {need_acc:.2f}; not supported otherwise.")
    fam = _fc_family(runs, ctx)
    if fam is None:
        return _not_tested(rule, f"FC runs with a sparsity penalty: {FC_CMD}")
    pen = [lv for lv in fam.levels if all(_l1(r) > 0 for r in lv.runs)]
    cols = ["level", "seeds", "AVR", "accuracy"]
    enough = [lv for lv in pen if len(lv.seeds) >= ctx["MIN_SEEDS"]]
    rows = [_level_row(lv, ctx, "c2")[2] for lv in pen]
    rows.append(["article", "", f"{ARTICLE_FC_AVR_NEAR_LOCAL}", f"{ARTICLE_NEAR_LOCAL_ACCURACY}"])
    design = (f"{fam.name}: {len(pen)} lambda > 0 level(s), trained for {_budget(fam.levels[0].runs)}")
    if not enough:
        return _not_tested(rule, _seed_need("FC runs with lambda > 0", fam.n_seeds, ctx, FC_CMD),
                           columns=cols, rows=rows, design=design, excluded=_excluded([fam]))
    sparsest = min(enough, key=lambda lv: lv.avr)
    avr, acc, _ = _level_row(sparsest, ctx, "c2")
    ok = avr.high <= ctx["NEAR_LOCAL_MAX_AVR"] and acc.low >= need_acc
    finds = [f"sparsest learned level {sparsest.key}: AVR {avr.format()}, accuracy "
             f"{acc.format('.4f')} (article: AVR {ARTICLE_FC_AVR_NEAR_LOCAL:g} at "
             f"{ARTICLE_NEAR_LOCAL_ACCURACY:g})"]
    if fam.excluded:
        finds.append(f"{len(fam.excluded)} run(s) excluded as not learned (listed below); the "
                     f"verdict does not use them")
    return Verdict("supported" if ok else "not supported", rule, cols, rows, finds,
                   design=design, null="the article's numbers (AVR <= 2.5 at about 89 %)",
                   effect=f"AVR {avr.format()} at accuracy {acc.format('.4f')} ({sparsest.key})",
                   excluded=_excluded([fam]))


def _paired(base: Level, lv: Level, fn: Callable[[RunResult], float]) -> tuple[list, list]:
    a, b = _by_seed(base, fn), _by_seed(lv, fn)
    seeds = sorted(set(a) & set(b))
    return [a[s] for s in seeds], [b[s] for s in seeds]


def _drop_and_reduction(fam: Family, base: Level, lv: Level, ctx: _Ctx, key: str
                        ) -> tuple[Interval, Interval, int]:
    a0, a1 = _paired(base, lv, _acc)
    drop = ctx.mean((key, fam.name, lv.key, "drop"), [x - y for x, y in zip(a0, a1, strict=True)])
    v0, v1 = _paired(base, lv, lambda r: r.avr)
    logs = [math.log(x / y) for x, y in zip(v0, v1, strict=True) if x > 0 and y > 0]
    red = ctx.mean((key, fam.name, lv.key, "red"), logs)
    red = replace(red, estimate=math.exp(red.estimate) if _finite(red.estimate) else red.estimate,
                  low=math.exp(red.low) if _finite(red.low) else red.low,
                  high=math.exp(red.high) if _finite(red.high) else red.high)
    return drop, red, len(a0)


def _claim3(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    margin, need = ctx["MAX_ACCURACY_DROP"], ctx["MIN_AVR_REDUCTION"]
    rule = (f"Each lambda > 0 level of the FC net against lambda = 0, paired by seed: the "
            f"accuracy drop (mean of per-seed differences) and the factor of fewer active "
            f"units (geometric mean of per-seed AVR ratios), each with its {ctx.conf:.0%} "
            f"bootstrap interval. Supported when some level's whole reduction interval is >= "
            f"MIN_AVR_REDUCTION = {need:g} while its whole drop interval is <= "
            f"MAX_ACCURACY_DROP = {margin:g} (non-inferiority); not supported otherwise.")
    fam = _fc_family(runs, ctx)
    base = _base_level(fam) if fam is not None else None
    if fam is None or base is None:
        return _not_tested(rule, f"FC runs with lambda = 0 and lambda > 0: {FC_CMD}")
    cols = ["level", "paired seeds", "AVR reduction (x)", "accuracy drop"]
    rows, best = [], None
    for lv in fam.levels:
        if lv is base or not all(_l1(r) > 0 for r in lv.runs):
            continue
        drop, red, n = _drop_and_reduction(fam, base, lv, ctx, "c3")
        rows.append([lv.key, n, red.format(), drop.format(".4f")])
        if n >= ctx["MIN_SEEDS"] and red.defined and drop.defined:
            ok = red.low >= need and drop.high <= margin
            score = (ok, red.estimate if ok else -drop.high)
            if best is None or score > best[0]:
                best = (score, lv, drop, red, ok)
    rows.append(["article", "", f"{ARTICLE_FC_AVR_DENSE / ARTICLE_FC_AVR_SPARSE:.1f}",
                 f"{ARTICLE_FC_ACC_DENSE - ARTICLE_FC_ACC_SPARSE:.3f}"])
    design = (f"{fam.name}: each lambda > 0 level paired with lambda = 0 on the same seeds, "
              f"trained for {_budget(base.runs)}")
    if best is None:
        return _not_tested(rule, _seed_need("FC runs with lambda = 0 and lambda > 0",
                                            fam.n_seeds, ctx, FC_CMD),
                           columns=cols, rows=rows, design=design, excluded=_excluded([fam]))
    _, lv, drop, red, ok = best
    finds = [f"{lv.key}: {red.format()} times fewer active units for an accuracy drop of "
             f"{drop.format('.4f')} (article: 29x for 0.005)",
             f"the best of {len(rows) - 1} levels is reported; choosing among levels is not "
             f"corrected for (each level's interval is its own)"]
    return Verdict("supported" if ok else "not supported", rule, cols, rows, finds,
                   design=design, null="lambda = 0 on the same seeds (no reduction, no drop)",
                   effect=f"{red.format()}x fewer active units, accuracy drop "
                          f"{drop.format('.4f')} ({lv.key})", excluded=_excluded([fam]))


# --- claim 4: the CNN -----------------------------------------------------------------------

def _sparsest_kept(fam: Family, ctx: _Ctx, key: str) -> tuple[Level | None, Interval | None]:
    base = _base_level(fam)
    if base is None:
        return None, None
    best = None
    for lv in fam.levels:
        if lv is base or not all(_l1(r) > 0 for r in lv.runs):
            continue
        drop, _, n = _drop_and_reduction(fam, base, lv, ctx, key)
        if n >= ctx["MIN_SEEDS"] and drop.defined and drop.high <= ctx["MAX_ACCURACY_DROP"]:
            if best is None or lv.activity < best.activity:
                best = lv
    if best is None:
        return None, None
    logs = [math.log(r.activity_ratio) for r in best.runs if _finite(r.activity_ratio)
            and r.activity_ratio > 0]
    return best, ctx.mean((key, fam.name, best.key, "logratio"), logs)


def _claim4(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = (f"For the CNN and for the FC net, the sparsest lambda > 0 level that keeps its "
            f"accuracy (drop interval <= MAX_ACCURACY_DROP = {ctx['MAX_ACCURACY_DROP']:g} "
            f"against lambda = 0, paired by seed); effect: log of the CNN's activity ratio over "
            f"the FC's (independent bootstraps of each net's seeds). Supported when the whole "
            f"{ctx.conf:.0%} interval is below 0 (the CNN uses fewer units in proportion); not "
            f"supported otherwise.")
    cnn = [f for f in _network_families(runs, "cnn", ctx) if f.levels]
    fc = _fc_family(runs, ctx)
    cmd = ("`neurocode run experiments/article_cnn.yaml --set \"sweep.seed=[0, 1, 2]\" --out "
           "RESULTS` and the FC runs")
    if not cnn or fc is None:
        return _not_tested(rule, f"CNN and FC runs with lambda = 0 and lambda > 0: {cmd}")
    c = max(cnn, key=lambda f: sum(len(lv.runs) for lv in f.levels))
    design = (f"{c.name} ({len(c.levels)} levels x {c.n_seeds} seeds, {_budget(c.levels[0].runs)})"
              f" against {fc.name} ({len(fc.levels)} levels x {fc.n_seeds} seeds)")
    cols = ["net", "level", "seeds", "activity ratio (geometric mean)"]
    if c.n_seeds < ctx["MIN_SEEDS"] or fc.n_seeds < ctx["MIN_SEEDS"]:
        return _not_tested(rule, _seed_need("CNN and FC levels", min(c.n_seeds, fc.n_seeds),
                                            ctx, cmd), design=design,
                           excluded=_excluded([c, fc]))
    lc, ic = _sparsest_kept(c, ctx, "c4")
    lf, if_ = _sparsest_kept(fc, ctx, "c4")
    rows = []
    for name, lv, iv in (("CNN", lc, ic), ("FC", lf, if_)):
        if lv is not None and iv is not None:
            g = replace(iv, estimate=math.exp(iv.estimate), low=math.exp(iv.low),
                        high=math.exp(iv.high)) if iv.defined else iv
            rows.append([name, lv.key, len(lv.seeds), g.format(".4f")])
    rows.append(["article CNN", "", "", f"{ARTICLE_CNN_AVR_SPARSE / ARTICLE_CNN_N:.4f}"])
    rows.append(["article FC", "", "", f"{ARTICLE_FC_AVR_SPARSE / ARTICLE_FC_N:.4f}"])
    if ic is None or if_ is None:
        which, fam = ("the CNN", c) if ic is None else ("the FC net", fc)
        drops = []
        base = _base_level(fam)
        for lv in fam.levels:
            if base is not None and lv is not base and all(_l1(r) > 0 for r in lv.runs):
                drop, _, _ = _drop_and_reduction(fam, base, lv, ctx, "c4")
                if drop.defined:
                    drops.append((drop.estimate, lv.key, drop))
        if not drops:  # no lambda > 0 level to judge: missing data, not evidence against
            return _not_tested(rule, f"{which}: lambda > 0 levels whose seeds pair with its "
                                     f"lambda = 0 runs (at least MIN_SEEDS = "
                                     f"{ctx['MIN_SEEDS']:g}): {cmd}",
                               design=design, excluded=_excluded([c, fc]))
        least = min(drops, key=lambda d: d[0])
        eff = (f"no lambda > 0 level of {which} keeps its accuracy; its smallest accuracy drop "
               f"is {least[2].format('.4f')} ({least[1]}), against a margin of "
               f"{ctx['MAX_ACCURACY_DROP']:g}")
        return Verdict("not supported", rule, cols, rows, [eff],
                       design=design, null="equal activity ratios (log ratio 0)",
                       effect=eff, excluded=_excluded([c, fc]))
    samples = ic.samples - np.random.default_rng(1).choice(if_.samples, size=ic.samples.size)
    diff = Interval(ic.estimate - if_.estimate, float("nan"), float("nan"), ctx.conf,
                    min(ic.n, if_.n), "difference of independent bootstraps",
                    samples=samples).at(ctx.conf)
    v = stats.decide(diff, 0.0, -1)
    return Verdict(v, rule, cols, rows,
                   [f"log(CNN ratio / FC ratio) = {diff.format('.3f')}: the CNN's ratio is "
                    f"{math.exp(diff.estimate):.3g}x the FC's (article: 0.0037 / 0.0069 = 0.54)"],
                   design=design, null="equal activity ratios (log ratio 0)",
                   effect=f"CNN / FC activity ratio {math.exp(diff.estimate):.3g} "
                          f"[{math.exp(diff.low):.3g}, {math.exp(diff.high):.3g}]",
                   excluded=_excluded([c, fc]))


# --- claim 5: the autoencoder ---------------------------------------------------------------

def _curve_mean(r: RunResult, name: str) -> float:
    """Mean of a learning curve over its steps (higher for a curve that rises sooner)."""
    c = r.curves.get(name)
    if c is None:
        return float("nan")
    c = np.asarray(c, dtype=float)
    c = c[np.isfinite(c)]
    return float(c.mean()) if c.size else float("nan")


#: The autoencoder's reconstruction error the ledger reads, and what it is: the README's and
#: the figures' quantity (one meaning everywhere).
RECON_KEY = "recon_error"
RECON_MEANING = ("recon_error: mean squared error per pixel on the 0-255 scale, after "
                 "clipping the reconstruction to [0, 1] and quantising both images")


def _one_rule(runs: Sequence[RunResult]) -> list[RunResult]:
    """The runs of one rule: the one with most runs among ``runs`` (ties by name), so paired
    comparisons never pair the runs of two rules that reproduce the same network."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.rule] = counts.get(r.rule, 0) + 1
    if not counts:
        return []
    rule = min(counts, key=lambda name: (-counts[name], name))
    return [r for r in runs if r.rule == rule]


def _recon(r: RunResult) -> float:
    v = r.final.get(RECON_KEY)
    return float(v) if v is not None and _finite(v) else float("nan")


def _mean_of_clusters(cl: list[list[float]]) -> float:
    v = [x for c in cl for x in c]
    return float(np.mean(v)) if v else float("nan")


def _claim5(runs: Sequence[RunResult], ctx: _Ctx) -> Verdict:
    rule = ("Sub-claims on the autoencoder, each an effect over paired comparisons (same seed, "
            "same decoder; or same seed and lambda for the decoders), with a two-stage cluster "
            "bootstrap over lambdas and their seeds: (a) sparsity speeds up the classifier "
            "(mean accuracy over the learning curve, lambda > 0 minus lambda = 0, > 0); (b) "
            "improves it (final accuracy, > 0); (c) worsens reconstruction (final "
            f"reconstruction error, {RECON_MEANING}, > 0); (d) the sub-pixel decoder learns "
            "faster than the transposed one (curve mean, sub-pixel minus transposed, > 0); (e) "
            "reconstructs better (error, sub-pixel minus transposed, < 0). A sub-claim holds "
            "when its whole "
            f"{ctx.conf:.0%} interval is on the claimed side of 0 and it has at least three "
            "comparisons. All testable hold: supported; none: not supported; some: partly.")
    ae = _one_rule([r for r in _of_network(runs, "conv-ae") if _finite(_l1(r))])
    fams = families(ae, min_learned=ctx["MIN_LEARNED_FRACTION"])
    kept = [r for f in fams for lv in f.levels for r in lv.runs]
    if not kept:
        return _not_tested(rule, "autoencoder runs (both decoders, several lambdas): "
                                 "`neurocode run experiments/article_ae.yaml --out RESULTS`")
    dec = lambda r: str(r.param("model.decoder", "?"))  # noqa: E731
    by = {(dec(r), _l1(r), r.seed): r for r in kept}
    comps: dict[str, dict[float, list[float]]] = {k: {} for k in "abcde"}
    for (d, lam, s), r in by.items():
        b = by.get((d, 0.0, s))
        if lam > 0 and b is not None:
            for k, fn in (("a", lambda x: _curve_mean(x, "accuracy")), ("b", _acc), ("c", _recon)):
                x, y = fn(r), fn(b)
                if _finite(x) and _finite(y):
                    comps[k].setdefault(lam, []).append(x - y)
        if d == "subpixel" and (t := by.get(("transposed", lam, s))) is not None:
            for k, fn, need_pen in (("d", lambda x: _curve_mean(x, "accuracy"), True),
                                    ("e", _recon, False)):
                x, y = fn(r), fn(t)
                if (lam > 0 or not need_pen) and _finite(x) and _finite(y):
                    comps[k].setdefault(lam, []).append(x - y)
    names = {"a": ("sparsity speeds up the classifier", +1),
             "b": ("sparsity improves the classifier", +1),
             "c": ("sparsity worsens reconstruction", +1),
             "d": ("sub-pixel decoder learns faster than transposed", +1),
             "e": ("sub-pixel decoder reconstructs better than transposed", -1)}
    cols = ["sub-claim", "comparisons", "effect [interval]", "holds"]
    rows, finds, held = [], [], []
    for k, (name, sign) in names.items():
        cl = [v for _, v in sorted(comps[k].items())]
        n = sum(len(c) for c in cl)
        if n < 3:
            rows.append([f"({k}) {name}", n, "n/a", "not testable"])
            continue
        iv = ctx.cluster(("c5", k, tuple(map(tuple, cl))), cl, _mean_of_clusters)
        ok = stats.decide(iv, 0.0, sign) == "supported"
        held.append(ok)
        rows.append([f"({k}) {name}", n, iv.format(".4g"), "yes" if ok else "no"])
        finds.append(f"({k}) {name}: {iv.format('.4g')} over {n} comparisons -> "
                     + ("holds" if ok else "the other way" if iv.excludes(0.0) else
                        "not shown (the interval includes 0)"))
    decs = sorted({dec(r) for r in kept})
    design = (f"{len(kept)} autoencoder runs: decoders {', '.join(decs)} (the transposed "
              f"decoder is the version the article's table was made with, fixed; the "
              f"sub-pixel one the article's later edit), lambdas "
              f"{', '.join(f'{x:g}' for x in sorted({_l1(r) for r in kept}))}, seeds "
              f"{', '.join(map(str, sorted({r.seed for r in kept})))}, trained for "
              f"{_budget(kept)}")
    if not held:
        return _not_tested(rule, "autoencoder runs with lambda = 0 and lambda > 0 on the same "
                                 "seeds (three comparisons per sub-claim): `neurocode run "
                                 "experiments/article_ae.yaml --out RESULTS`",
                           columns=cols, rows=rows, design=design, excluded=_excluded(fams))
    v = "supported" if all(held) else ("not supported" if not any(held) else "partly")
    return Verdict(v, rule, cols, rows, finds, design=design,
                   null="no difference (0) between the paired runs",
                   effect=f"{sum(held)} of {len(held)} testable sub-claims hold",
                   excluded=_excluded(fams))
