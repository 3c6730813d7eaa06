"""What a claim is and what its verdict says: the four verdicts, the article's numbers, the
thresholds a verdict reads (with their sensitivity ranges), :class:`Verdict` and
:class:`Claim` (see :mod:`neurocode.claims`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neurocode import article, stats
from neurocode.design import MIN_LEARNED_FRACTION
from neurocode.metrics.activity import DENSE_MIN_RATIO
from neurocode.results import RunResult, article_rules, random_null_rules
from neurocode.stats import Interval

#: The four verdicts, from best to worst, then untested.
VERDICTS = ("supported", "partly", "not supported", "not tested")

# --- the article's numbers ------------------------------------------------------------------
# (from neurocode.article, where each is sourced; the text's remarks, and the table's
# accuracies of the two rows the remark "5.4 instead of 156.3" compares)
ARTICLE_FC_N = article.FC_N
ARTICLE_FC_AVR_DENSE = article.TEXT["fc_avr_dense"]
ARTICLE_FC_AVR_NEAR_LOCAL = article.TEXT["fc_avr_near_local"]
ARTICLE_FC_AVR_SPARSE = article.TEXT["fc_avr_sparse"]
ARTICLE_FC_ACC_DENSE = article.FC_POINTS[0.0][0]
ARTICLE_FC_ACC_SPARSE = article.FC_POINTS[1e-5][0]
ARTICLE_NEAR_LOCAL_ACCURACY = article.TEXT["fc_accuracy_near_local"]
ARTICLE_CNN_N = article.CNN_N
ARTICLE_CNN_AVR_DENSE = article.TEXT["cnn_avr_dense"]
ARTICLE_CNN_AVR_SPARSE = article.TEXT["cnn_avr_sparse"]

# --- the rules the claims read: named by their tags, never here ------------------------------
# A claim on the article's FC net, CNN or autoencoder reads the runs of the rules whose tags
# declare that ``article_network``; the null is the runs of the rules whose tags declare
# ``random_null`` (:mod:`neurocode.results`). FC, CNN, AE and NULL_RULE, the names this module
# had for them, are read from the tags when asked (:func:`__getattr__`).


def article_rule(network: str) -> str | None:
    """The installed rule that reproduces the article's ``network`` (``"fc"``, ``"cnn"``,
    ``"conv-ae"``; :data:`~neurocode.rules.tags.ARTICLE_NETWORKS`): the one whose tags declare
    it, a built-in rule before a plugin; None when no installed rule does.

    Examples
    --------
    >>> article_rule("cnn")
    'relu-l1-cnn'
    """
    found = article_rules(network)
    return found[0] if found else None


def null_rule() -> str | None:
    """The installed rule whose runs are the random k-of-N null (its tags declare
    ``random_null``), a built-in rule before a plugin; None when none is installed.

    Examples
    --------
    >>> null_rule()
    'kofn'
    """
    found = random_null_rules()
    return found[0] if found else None


#: the names this module had for the claims' rules, each read from the tags when asked
_ROLE_NAMES = {"FC": lambda: article_rule("fc"), "CNN": lambda: article_rule("cnn"),
               "AE": lambda: article_rule("conv-ae"), "NULL_RULE": null_rule}


def __getattr__(name: str) -> Any:
    """``FC``, ``CNN``, ``AE`` (the rules of the article's networks) and ``NULL_RULE`` (the
    random k-of-N null's), read from the installed rules' tags when asked."""
    if name in _ROLE_NAMES:
        return _ROLE_NAMES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- thresholds: every one a verdict reads, with the range its sensitivity is shown over ----

@dataclass(frozen=True)
class Threshold:
    """A number a verdict rule reads, its default, and the values its sensitivity tries."""

    name: str
    default: float
    values: tuple[float, ...]
    meaning: str


THRESHOLDS: dict[str, Threshold] = {t.name: t for t in (
    Threshold("CONFIDENCE", stats.CONFIDENCE, (0.90, 0.95, 0.99),
              "confidence level of every interval"),
    Threshold("MIN_SEEDS", 3, (2, 3, 5),
              "seeds a level (a configuration) needs for its interval to count"),
    Threshold("MIN_LEVELS", 5, (4, 5, 6),
              "sparsity levels a family needs for a dose-response trend"),
    Threshold("MIN_LEARNED_FRACTION", MIN_LEARNED_FRACTION, (0.3, 0.5, 0.7),
              "a supervised run is excluded below this fraction of the way from chance to "
              "perfect test accuracy"),
    Threshold("ABOUT_HALF_MAX_RATIO", 0.55, (0.45, 0.5, 0.55, 0.65),
              "claim 1: largest activity ratio that is 'below about 0.5'"),
    Threshold("DENSE_MIN_RATIO", DENSE_MIN_RATIO, (0.05, DENSE_MIN_RATIO, 0.2),
              "claim 1: least activity ratio of a dense code"),
    Threshold("NEAR_LOCAL_MAX_AVR", 2.5, (1.5, 2.5, 5.0),
              "claim 2: largest AVR that is 'almost local' (one or two active units)"),
    Threshold("ACCURACY_TOLERANCE", 0.05, (0.02, 0.05, 0.1),
              "claim 2: accuracy below the article's 0.89 still counted as 0.89"),
    Threshold("MAX_ACCURACY_DROP", 0.01, (0.005, 0.01, 0.02, 0.03),
              "claims 3, 4: non-inferiority margin of 'without losing accuracy'"),
    Threshold("MIN_AVR_REDUCTION", 10.0, (5.0, 10.0, 29.0),
              "claim 3: least factor of fewer active units (the article: 29)"),
    Threshold("MAX_DEAD_FRACTION", 0.01, (0.0, 0.01, 0.05),
              "claim 6: most units that may never fire for 'every neuron is used'"),
)}


def _defaults() -> dict[str, float]:
    return {name: t.default for name, t in THRESHOLDS.items()}


# --- verdicts and claims --------------------------------------------------------------------

@dataclass
class Verdict:
    """A claim's verdict with its design, null, effect, numbers and sensitivity.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    rule : str
        The rule, in words, with its thresholds' values.
    design : str
        The runs behind the verdict: families, what varies, what is held fixed, levels x
        seeds.
    null : str
        What the effect is compared with.
    effect : str
        The effect with its interval, in words and numbers.
    columns, rows : list
        The numbers table (the first column labels the row; NaN: not available).
    findings : list of str
        What the rule found, one sentence per check.
    needs : str
        For ``"not tested"``: which runs would supply the missing data, and how.
    definitions : list of str
        Relations that hold by definition and corrections of the article, shown as such.
    excluded : list of str
        Runs kept out of the verdict, each with the reason.
    sensitivity : list of list
        Rows ``[threshold, values tried, verdict at each, word]``: ``"stable"`` (one verdict
        throughout), ``"moves"`` (two verdicts among the tested ones) or ``"stable where
        tested"`` (one verdict, and "not tested" where the threshold asks for more runs).
    figures : list of str
        Figure stems that show the claim.
    """

    verdict: str
    rule: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    needs: str = ""
    figures: list[str] = field(default_factory=list)
    design: str = ""
    null: str = ""
    effect: str = ""
    definitions: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    sensitivity: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


class _Ctx:
    """Thresholds of one evaluation, and a bootstrap cache shared by its re-evaluations."""

    def __init__(self, th: dict[str, float], cache: dict[Any, Interval]):
        self.th = th
        self.cache = cache

    def __getitem__(self, name: str) -> float:
        return self.th[name]

    @property
    def conf(self) -> float:
        return float(self.th["CONFIDENCE"])

    def mean(self, key: Any, values: Sequence[float]) -> Interval:
        k = ("mean", key, tuple(float(v) for v in values))
        if k not in self.cache:
            self.cache[k] = stats.mean_interval(values, random_state=0)
        return self.cache[k].at(self.conf)

    def cluster(self, key: Any, clusters: Sequence[Sequence[Any]],
                statistic: Callable[[list[list[Any]]], float], between: bool = True) -> Interval:
        k = ("cluster", key, between)
        if k not in self.cache:
            self.cache[k] = stats.cluster_bootstrap(clusters, statistic, random_state=0,
                                                    between=between, n_resamples=1000)
        return self.cache[k].at(self.conf)


@dataclass(frozen=True)
class Claim:
    """One of the article's claims: its wording, the construct, and the rule that tests it."""

    id: int
    title: str
    wording: str
    measurement: str
    figures: tuple[str, ...]
    evaluate_fn: Callable[[Sequence[RunResult], _Ctx], Verdict]
    thresholds: tuple[str, ...] = ()

    def evaluate(self, runs: Sequence[RunResult], thresholds: dict[str, float] | None = None,
                 *, sensitivity: bool = True, cache: dict | None = None) -> Verdict:
        """The verdict on ``runs`` (thresholds at their defaults unless given), with the
        sensitivity table over :attr:`thresholds` (each moved alone over its range)."""
        runs = list(runs)
        cache = {} if cache is None else cache
        th = {**_defaults(), **(thresholds or {})}
        v = self.evaluate_fn(runs, _Ctx(th, cache))
        if not v.figures:
            v.figures = list(self.figures)
        if sensitivity:
            for name in self.thresholds:
                t = THRESHOLDS[name]
                words = [self.evaluate_fn(runs, _Ctx({**th, name: x}, cache)).verdict
                         for x in t.values]
                tested = {w for w in words if w != "not tested"}
                v.sensitivity.append([name, ", ".join(f"{x:g}" for x in t.values),
                                      " / ".join(words),
                                      "moves" if len(tested) > 1 else "stable"
                                      if len(set(words)) == 1 else "stable where tested"])
        return v
