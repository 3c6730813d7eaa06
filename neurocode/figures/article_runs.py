"""The article's runs as the figures read them: one :class:`_Run` per stored run of the
article's networks (FC, CNN, conv autoencoder: the runs of the rules whose tags declare an
``article_network``, and old run files that stored a ``model.kind``), its sort key, and the
grouping by experiment (see :mod:`neurocode.figures.article`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.results import RunResult, article_network
from neurocode.rules import available_rules

# --------------------------------------------------------------------------------------------
# Reading runs
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    experiment: str
    kind: str
    decoder: str | None
    l1: float
    seed: int
    n_units: int | None
    iterations: int | None
    run_name: str
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    wall_time_s: float = 0.0

    def final_value(self, name: str) -> float | None:
        if name in self.final:
            return float(self.final[name])
        c = self.curves.get(name)
        if c is not None and len(c):
            return float(c[-1])
        return None


def _guess_kind(experiment: str) -> str:
    name = experiment.lower()
    for kind in ("conv-ae", "cnn", "fc"):
        if kind in name or kind.replace("-", "_") in name:
            return kind
    return ""


def _to_run(rec: RunResult) -> _Run:
    cfg = rec.config or {}
    model = cfg.get("model") or {}
    train = cfg.get("train") or {}
    experiment = rec.experiment or str(cfg.get("name", "")) or rec.path.stem
    kind = str(model.get("kind") or article_network(model.get("rule", ""))
               or _guess_kind(experiment))
    decoder = model.get("decoder")
    decoder = str(decoder) if decoder else None
    l1 = float(model.get("l1", model.get("lambda", 0.0)) or 0.0)
    seed = rec.seed
    final = dict(rec.final)
    n_units: Any = final.get("n_units")
    if n_units is None and kind == "fc":
        n_units = model.get("hidden")
    if n_units is None and final.get("avr") and final.get("activity_ratio"):
        n_units = round(final["avr"] / final["activity_ratio"])
    iterations = train.get("iterations")
    if iterations is None and len(rec.curves.get("step", [])):
        iterations = int(rec.curves["step"][-1])
    return _Run(
        experiment=experiment,
        kind=kind,
        decoder=decoder,
        l1=l1,
        seed=int(seed) if seed is not None else 0,
        n_units=int(n_units) if n_units is not None else None,
        iterations=int(iterations) if iterations is not None else None,
        run_name=rec.run_name,
        wall_time_s=float(rec.attrs.get("wall_time_s", 0.0) or 0.0),
        curves={k: np.asarray(v, dtype=float) for k, v in rec.curves.items()},
        final=final,
        path=rec.path,
    )


def _sort_key(r: _Run) -> tuple:
    return (r.experiment, r.decoder or "", r.l1, r.seed, r.run_name)


class _ArticleRules(Mapping[str, str]):
    """Rule name -> the article's network its runs are, for every installed rule whose tags
    declare an ``article_network``: read from the registry when asked, never a table."""

    def _live(self) -> dict[str, str]:
        return {name: net for name in available_rules()
                if (net := article_network(name)) is not None}

    def __getitem__(self, rule: str) -> str:
        net = article_network(rule)
        if net is None:
            raise KeyError(rule)
        return net

    def __iter__(self) -> Iterator[str]:
        return iter(self._live())

    def __len__(self) -> int:
        return len(self._live())

    def __repr__(self) -> str:
        return f"ARTICLE_RULES({self._live()!r})"


#: the article's networks, by rule name, as the rules' tags declare them (runs of other rules
#: have no article panels)
ARTICLE_RULES: Mapping[str, str] = _ArticleRules()


def _is_article_run(rec: RunResult) -> bool:
    model = (rec.config or {}).get("model") or {}
    return article_network(model.get("rule", "")) is not None or "kind" in model


def _group(runs: Iterable[_Run]) -> dict[str, list[_Run]]:
    out: dict[str, list[_Run]] = {}
    for r in runs:
        out.setdefault(r.experiment, []).append(r)
    return out


def _experiment_kind(runs: Sequence[_Run]) -> str:
    kinds = {r.kind for r in runs if r.kind}
    return kinds.pop() if len(kinds) == 1 else ("/".join(sorted(kinds)) if kinds else "")


def _experiment_units(runs: Sequence[_Run]) -> int | None:
    units = [r.n_units for r in runs if r.n_units]
    return max(units) if units else None
