"""The article's twelve claims, each a statistical verdict computed from stored results.

Every :class:`Claim` quotes the article, names the construct that tests it (and why that
one), and has an ``evaluate(runs) -> Verdict``. A :class:`Verdict` states

* the **design** (which families of runs, what varies, what is held fixed, levels x seeds;
  :mod:`neurocode.design`): no verdict pools codes of different width ``N`` or of different
  rules; the local/sparse/dense label is descriptive, never the unit of analysis;
* the **null** the effect is measured against (lambda = 0 of the same net and seeds; the
  random k-of-N code of the same ``N`` and ``k``; zero correlation);
* the **effect** with its 95 % interval (:mod:`neurocode.stats`: a bootstrap over seeds for
  paired comparisons, a two-stage cluster bootstrap over levels and their seeds for
  dose-response trends);
* the **verdict**: ``"supported"`` only when the interval excludes the null effect on the
  claimed side; ``"not supported"`` when it does not (the findings say whether the interval
  straddles the null or lies on the other side); ``"partly"`` only for claims of several
  parts (or several families) of which some hold; ``"not tested"`` when the results lack the
  runs the design needs (:attr:`Verdict.needs` says which, and the command that makes them);
* its **sensitivity**: the verdict recomputed with each threshold moved over a stated range
  (:attr:`Verdict.sensitivity`), so a reader sees whether it is stable.

Runs that did not learn (a silent code; a supervised run below half way from chance to
perfect accuracy) are kept out of every verdict and listed with the reason
(:func:`neurocode.design.exclusion`). Relations that hold by definition (the active-synapse
count is the activity ratio times a constant; the units two codes share follow from their
Jaccard overlap) and corrections of the article's arithmetic are shown as such
(:attr:`Verdict.definitions`), never as verdicts.

    >>> from neurocode.results import load_results                 # doctest: +SKIP
    >>> for c, v in evaluate_all(load_results("results")):        # doctest: +SKIP
    ...     print(c.id, v.verdict, v.effect)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# the package holds one idea a module: what a claim and a verdict are (verdicts), the readers
# the evaluators share (helpers), claims 1-5 (article_claims), claims 6-12 (battery_claims);
# the ledger (CLAIMS) is here. Every name the module neurocode.claims had is re-exported.
from neurocode.claims.article_claims import (  # noqa: F401
    RECON_KEY,
    RECON_MEANING,
    _claim1,
    _claim2,
    _claim3,
    _claim4,
    _claim5,
)
from neurocode.claims.battery_claims import (  # noqa: F401
    UNION_LOAD,
    _claim6,
    _claim7,
    _claim8,
    _claim9,
    _claim10,
    _claim11,
    _claim12,
    _dead,
)
from neurocode.claims.helpers import BATTERY_NEEDS, FC_CMD  # noqa: F401
from neurocode.claims.verdicts import (  # noqa: F401
    ARTICLE_CNN_AVR_DENSE,
    ARTICLE_CNN_AVR_SPARSE,
    ARTICLE_CNN_N,
    ARTICLE_FC_ACC_DENSE,
    ARTICLE_FC_ACC_SPARSE,
    ARTICLE_FC_AVR_DENSE,
    ARTICLE_FC_AVR_NEAR_LOCAL,
    ARTICLE_FC_AVR_SPARSE,
    ARTICLE_FC_N,
    ARTICLE_NEAR_LOCAL_ACCURACY,
    THRESHOLDS,
    VERDICTS,
    Claim,
    Threshold,
    Verdict,
    _Ctx,
    _defaults,
    article_rule,
    null_rule,
)
from neurocode.results import RunResult
from neurocode.stats import Interval

__all__ = ["Claim", "Verdict", "Threshold", "THRESHOLDS", "CLAIMS", "VERDICTS",
           "evaluate_all", "verdict_counts"]

_DOSE = ("CONFIDENCE", "MIN_LEVELS", "MIN_SEEDS", "MIN_LEARNED_FRACTION")

CLAIMS: tuple[Claim, ...] = (
    Claim(1, "Unconstrained FC net is dense",
          "Without sparsity constraint the network converges to a dense code (activity ratio "
          "below about 0.5; AVR 156.3 of 784).",
          "activity ratio of the FC net at lambda = 0, over seeds",
          ("article_fc_curves", "article_fc_tradeoff"), _claim1,
          ("CONFIDENCE", "MIN_SEEDS", "ABOUT_HALF_MAX_RATIO", "DENSE_MIN_RATIO")),
    Claim(2, "Strong penalty: almost local",
          "We almost reach local code with an AVR of 1.67, for 89 % accuracy.",
          "AVR and accuracy of the sparsest FC level that learned, over seeds",
          ("article_fc_tradeoff", "article_fc_curves"), _claim2,
          ("CONFIDENCE", "MIN_SEEDS", "MIN_LEARNED_FRACTION", "NEAR_LOCAL_MAX_AVR",
           "ACCURACY_TOLERANCE")),
    Claim(3, "Sparsity costs little accuracy (FC)",
          "Without losing accuracy, an AVR of 5.4 instead of 156.3 (0.974 vs 0.979).",
          "AVR reduction and accuracy drop against lambda = 0, paired by seed",
          ("article_fc_tradeoff",), _claim3,
          ("CONFIDENCE", "MIN_SEEDS", "MAX_ACCURACY_DROP", "MIN_AVR_REDUCTION")),
    Claim(4, "CNN: fewer active units in proportion",
          "The CNN keeps its accuracy with an AVR of 146.2 instead of 10,932 of 39,200 units "
          "(0.37 %), fewer in proportion than the FC net.",
          "activity ratio of the sparsest level at kept accuracy, CNN over FC",
          ("article_cnn_tradeoff", "article_cnn_curves", "article_fc_tradeoff"), _claim4,
          ("CONFIDENCE", "MIN_SEEDS", "MAX_ACCURACY_DROP")),
    Claim(5, "Autoencoder: sparsity and decoders",
          "In the conv autoencoder, sparsity accelerated and improved the classifier and "
          "worsened reconstruction; the sub-pixel decoder learned faster and reconstructed "
          "better than the transposed convolution.",
          "paired differences in learning-curve area, accuracy and reconstruction error",
          ("article_ae_curves", "article_ae_tradeoff"), _claim5,
          ("CONFIDENCE", "MIN_LEARNED_FRACTION")),
    Claim(6, "Every neuron is used",
          "Do all neurons get activated through the complete dataset?",
          "fraction of units never active, per FC level, beside the random k-of-N null",
          ("dose_dead", "summary_properties", "summary_table"), _claim6,
          ("CONFIDENCE", "MIN_SEEDS", "MAX_DEAD_FRACTION")),
    Claim(7, "Interference: local avoids, dense risks",
          "Local codes avoid unwanted interference; in dense codes one neuron reacts to "
          "several features, which may interfere when they appear together.",
          "two items held at once: readout failures against activity, within families",
          ("dose_interference", "detail_interference", "summary_properties", "theory_codes"),
          _claim7, _DOSE),
    Claim(8, "Parallelism is tied to interference",
          "Sparse codes can work asynchronously and in parallel; in a dense code parallel "
          "computation risks interference.",
          "synchronous against asynchronous recall of the code, against activity, within "
          "families",
          ("dose_sync_async", "detail_interference", "summary_properties"), _claim8, _DOSE),
    Claim(9, "Fault tolerance",
          "Local code is especially sensitive to errors, and dense code can always recover.",
          "fault AUC under random unit loss against activity, within families",
          ("dose_fault", "detail_fault", "summary_properties", "theory_codes"), _claim9, _DOSE),
    Claim(10, "Memory capacity",
          "Local codes hold N items, dense codes 2^N, sparse codes 2^d.",
          "Willshaw information per synapse (partial cues) across levels, within families",
          ("dose_willshaw", "dose_hopfield", "detail_capacity", "summary_properties",
           "theory_codes"), _claim10, _DOSE),
    Claim(11, "Decoding complexity",
          "The more neurons one needs to observe to detect what has been encoded, the more "
          "complex decoding is.",
          "support of a sparse (L1) class detector against activity, within families",
          ("dose_support", "dose_redundancy", "detail_decoding", "summary_properties"), _claim11,
          _DOSE),
    Claim(12, "Computation and energy",
          "Sparse codes reduce computation (and energy) per stimulus.",
          "measured time of encoder plus readout against activity, within families",
          ("dose_compute", "detail_decoding", "summary_properties"), _claim12, _DOSE),
)


def __getattr__(name: str) -> Any:
    """``FC``, ``CNN``, ``AE`` and ``NULL_RULE``, as the module had them: the rules the claims
    read for the article's networks and the null, from the installed rules' tags
    (:func:`~neurocode.claims.verdicts.article_rule`,
    :func:`~neurocode.claims.verdicts.null_rule`)."""
    from neurocode.claims import verdicts

    if name in verdicts._ROLE_NAMES:
        return getattr(verdicts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def evaluate_all(runs: Sequence[RunResult], thresholds: dict[str, float] | None = None,
                 *, sensitivity: bool = True) -> list[tuple[Claim, Verdict]]:
    """Every claim of :data:`CLAIMS` with its verdict on ``runs``."""
    runs = list(runs)
    cache: dict[Any, Interval] = {}
    return [(c, c.evaluate(runs, thresholds, sensitivity=sensitivity, cache=cache))
            for c in CLAIMS]


def verdict_counts(results: Sequence[tuple[Claim, Verdict]]) -> dict[str, int]:
    """How many claims got each verdict, in the order of :data:`VERDICTS`."""
    return {v: sum(r.verdict == v for _, r in results) for v in VERDICTS}
