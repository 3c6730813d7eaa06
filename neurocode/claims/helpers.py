"""Small readers the claims' evaluators share: a run's numbers, its families and levels, and
the sentences a "not tested" verdict uses to say which runs are missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neurocode.claims.verdicts import Verdict, _Ctx
from neurocode.design import Family, Level, _finite, families
from neurocode.results import RunResult, article_network

# --- helpers --------------------------------------------------------------------------------

def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _nanmean(values: Sequence[float]) -> float:
    v = [float(x) for x in values if _finite(x)]
    return float(np.mean(v)) if v else float("nan")


def _nanmedian(values: Sequence[float]) -> float:
    v = [float(x) for x in values if _finite(x)]
    return float(np.median(v)) if v else float("nan")


def _l1(r: RunResult) -> float:
    return _f(r.param("model.l1", float("nan")))


def _acc(r: RunResult) -> float:
    return _f(r.final.get("accuracy", float("nan")))


def _iters(r: RunResult) -> float:
    v = r.param("train.iterations")
    return _f(r.final.get("iterations_done") if v is None else v)


def _not_tested(rule: str, needs: str, **kw: Any) -> Verdict:
    return Verdict("not tested", rule, needs=needs, **kw)


def _excluded(fams: Sequence[Family]) -> list[str]:
    return [f"{f.experiment} {r.label or r.run_name} (seed {r.seed}): {why}"
            for f in fams for r, why in f.excluded]


def _of_network(runs: Sequence[RunResult], network: str) -> list[RunResult]:
    """The runs of the article's ``network`` (``"fc"``, ``"cnn"``, ``"conv-ae"``): those of
    the rules whose tags declare it (:func:`neurocode.results.article_network`)."""
    nets = {rule: article_network(rule) for rule in {r.rule for r in runs}}
    return [r for r in runs if nets[r.rule] == network]


def _network_families(runs: Sequence[RunResult], network: str, ctx: _Ctx) -> list[Family]:
    """The families (one experiment, one rule, one N) of the article's ``network``."""
    return families(_of_network(runs, network), min_learned=ctx["MIN_LEARNED_FRACTION"])


def _by_seed(level: Level, fn: Callable[[RunResult], float]) -> dict[int, float]:
    return {r.seed: float(fn(r)) for r in level.runs if _finite(fn(r))}


def _budget(runs: Sequence[RunResult]) -> str:
    its = sorted({_iters(r) for r in runs if _finite(_iters(r))})
    return (", ".join(f"{i:,.0f}" for i in its) + " iterations") if its else "its config's budget"


def _seed_need(what: str, have: int, ctx: _Ctx, command: str) -> str:
    return (f"{what} with at least MIN_SEEDS = {ctx['MIN_SEEDS']:g} seeds (they have {have}): "
            f"{command}")


FC_CMD = ("`neurocode run experiments/article_fc.yaml --set \"sweep.seed=[0, 1, 2, 3, 4]\" "
          "--out RESULTS`")
BATTERY_NEEDS = ("families of measured runs with several sparsity levels and seeds each at one "
                 "N (the comparison suite makes them: `neurocode run experiments/"
                 "code_types.yaml --out RESULTS`)")


def _fc_family(runs: Sequence[RunResult], ctx: _Ctx) -> Family | None:
    fams = [f for f in _network_families(runs, "fc", ctx) if f.levels]
    return max(fams, key=lambda f: sum(len(lv.runs) for lv in f.levels)) if fams else None


def _base_level(fam: Family) -> Level | None:
    base = [lv for lv in fam.levels if all(_l1(r) == 0 for r in lv.runs)]
    return base[0] if base else None
