"""The design behind a verdict: families of runs, their sparsity levels, seeds, and exclusions.

A verdict compares like with like. The unit of analysis is a **family**: the runs of one
experiment and one rule with one code width ``N`` (so one readout and one silencing
semantics), whose configurations differ in the parameter(s) that set their sparsity
(lambda of the FC net, k of a k-of-N or k-WTA code) and in the seed. Each distinct
configuration (the config without its seed) is a **level**; its runs are the level's seeds.
Levels are ordered by their mean activity ratio, which is the dose of a dose-response test.
The local/sparse/dense label of a run is descriptive only: nothing here groups by it.

A run is **excluded** from every verdict (and flagged wherever it is shown) when it did not
learn, with the reason (:func:`exclusion`):

* its code is silent (no unit active on any measured stimulus): a silent code measures
  nothing;
* it was trained with labels (it stores its own test accuracy, ``final.accuracy``) and that
  accuracy lies below ``chance + MIN_LEARNED_FRACTION (1 - chance)`` (for MNIST's ten
  classes and the default 0.5: 0.55), i.e. it did not get half way from chance to perfect.

Examples
--------
>>> from pathlib import Path
>>> from neurocode.results import RunResult
>>> r = RunResult(Path("a.h5"), "fc", "a", {"model": {"rule": "fc"}}, {"accuracy": 0.21,
...               "avr": 3.0, "n_units": 784.0}, {})
>>> print(exclusion(r))
did not learn: test accuracy 0.21 < 0.55 (half way from chance 0.1 to 1)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurocode.results import RunResult, _flat

__all__ = ["Family", "Level", "families", "exclusion", "MIN_LEARNED_FRACTION",
           "DEFAULT_CHANCE"]

#: A run trained with labels has learned when its test accuracy gets at least this
#: fraction of the way from chance to 1.
MIN_LEARNED_FRACTION = 0.5
#: Chance accuracy when a run does not say how many classes it had (MNIST's ten).
DEFAULT_CHANCE = 0.1


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _chance(r: RunResult) -> float:
    for key in ("decoding.chance", "fault.chance", "final.chance"):
        v = r.get(key)
        if _finite(v) and 0 < float(v) < 1:
            return float(v)
    return DEFAULT_CHANCE


def exclusion(r: RunResult, min_learned: float = MIN_LEARNED_FRACTION) -> str:
    """Why ``r`` is kept out of verdicts (``""`` when it is not); see the module notes."""
    avr = r.avr
    if avr is not None and _finite(avr) and float(avr) <= 0:
        return "silent code: no unit active on any measured stimulus"
    acc = r.final.get("accuracy")
    if acc is not None and _finite(acc):
        chance = _chance(r)
        need = chance + min_learned * (1.0 - chance)
        if float(acc) < need:
            return (f"did not learn: test accuracy {float(acc):.3g} < {need:.3g} "
                    f"({'half way' if min_learned == 0.5 else f'{min_learned:g} of the way'}"
                    f" from chance {chance:.3g} to 1)")
    return ""


@dataclass
class Level:
    """One configuration of a family: its runs are its seeds."""

    key: str                         # the varied config entries, e.g. "l1=0.0001"
    runs: list[RunResult]

    @property
    def activity(self) -> float:
        """Mean activity ratio over the level's runs (NaN when none has one)."""
        v = [float(r.activity_ratio) for r in self.runs if _finite(r.activity_ratio)]
        return float(np.mean(v)) if v else float("nan")

    @property
    def avr(self) -> float:
        """Mean number of active units per stimulus over the level's runs (NaN if none has one)."""
        v = [float(r.avr) for r in self.runs if _finite(r.avr)]
        return float(np.mean(v)) if v else float("nan")

    @property
    def seeds(self) -> list[int]:
        """The distinct seeds of the level's runs, ascending."""
        return sorted({r.seed for r in self.runs})


@dataclass
class Family:
    """Runs of one experiment and rule at one code width, by level (ascending activity)."""

    experiment: str
    rule: str
    n_units: int
    varied: tuple[str, ...]           # config entries that differ between levels
    levels: list[Level] = field(default_factory=list)
    excluded: list[tuple[RunResult, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The family in words: ``<experiment> (<rule>, N = <n_units>)``."""
        return f"{self.experiment} ({self.rule}, N = {self.n_units})"

    @property
    def n_seeds(self) -> int:
        """The fewest seeds any level has (0 without levels)."""
        return min((len(lv.seeds) for lv in self.levels), default=0)

    def describe(self) -> str:
        """The design in words: what varies, what is held fixed, levels x seeds."""
        var = ", ".join(v.split(".")[-1] for v in self.varied) or "nothing (one configuration)"
        seeds = sorted({s for lv in self.levels for s in lv.seeds})
        lo, hi = self.n_seeds, max((len(lv.seeds) for lv in self.levels), default=0)
        return (f"{self.name}: {len(self.levels)} level(s) of {var}, "
                f"{lo if lo == hi else f'{lo}-{hi}'} seed(s) each (seeds "
                f"{', '.join(map(str, seeds))}); held fixed: the rule, "
                f"N, the data and the budget of the experiment's config"
                + (f"; {len(self.excluded)} run(s) excluded" if self.excluded else ""))

    def eligible(self, min_levels: int, min_seeds: int) -> str:
        """``""`` when the family has the levels and seeds a dose-response needs, else what
        it lacks."""
        if len(self.levels) < min_levels or self.n_seeds < min_seeds:
            return (f"{self.name} has {len(self.levels)} level(s) x {self.n_seeds} seed(s); "
                    f"the design needs at least {min_levels} levels x {min_seeds} seeds")
        return ""


def _config_key(r: RunResult) -> dict[str, str]:
    flat = _flat(r.config or {})
    return {k: json.dumps(v, sort_keys=True, default=str) for k, v in flat.items()
            if k != "seed" and not k.startswith("sweep.")}


def families(runs: Sequence[RunResult], *, min_learned: float = MIN_LEARNED_FRACTION,
             measure: str | None = None) -> list[Family]:
    """The runs as families (see the module notes), each with its excluded runs.

    ``measure``: keep only runs with a finite value of this dotted key (a battery measure);
    ``None`` keeps every run.
    """
    groups: dict[tuple[str, str, int], list[RunResult]] = {}
    for r in runs:
        if measure is not None and not _finite(r.get(measure)):
            continue
        n = int(round(float(r.n_units))) if _finite(r.n_units) else 0
        groups.setdefault((r.experiment, r.rule, n), []).append(r)
    out = []
    for (exp, rule, n), group in sorted(groups.items()):
        keys = [_config_key(r) for r in group]
        names = sorted({k for d in keys for k in d})
        varied = tuple(k for k in names if len({d.get(k) for d in keys}) > 1)
        fam = Family(exp, rule, n, varied)
        by_level: dict[str, list[RunResult]] = {}
        for r, d in zip(group, keys, strict=True):
            why = exclusion(r, min_learned)
            if why:
                fam.excluded.append((r, why))
                continue
            label = ",".join(f"{k.split('.')[-1]}={json.loads(d[k]) if k in d else None}"
                             for k in varied) or "run"
            by_level.setdefault(label, []).append(r)
        fam.levels = sorted((Level(k, v) for k, v in by_level.items()),
                            key=lambda lv: (lv.activity if _finite(lv.activity) else math.inf,
                                            lv.key))
        out.append(fam)
    return out
