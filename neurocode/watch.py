"""Watching codes while they learn: a cheap subset of the battery after each pass of training.

The battery (:func:`neurocode.metrics.run_battery`) measures a code once it has been learned.
While a rule learns, :func:`watch_codes` gives the part of it that costs one encoding of a
fixed window of training stimuli (the first ``window``, 500 by default, the same at every
pass, so the numbers move only because the rule does):

* ``activity_ratio`` and ``l0`` (the mean number of active units per stimulus: the ML name
  for the article's AVR), ``treves_rolls`` (population sparseness);
* ``dead_fraction``: units active on no stimulus *of the window* (a unit may fire on stimuli
  outside it); ``dense_fraction``: units active on more than ``dense_threshold`` (0.1) of
  the window's stimuli, SAELens' "dense features" in neurocode's words;
* ``lifetime_sparseness_mean`` and ``lifetime_sparseness`` (per unit, for a histogram).

Every learning rule that trains in passes calls its ``callback(step, row)`` (a fit option,
see :class:`neurocode.rules.Tags`) with these numbers after each pass when one is given, and
never computes them otherwise (so training without a callback is unchanged, bit for bit).
``neurocode run --tensorboard DIR`` logs them (:func:`tensorboard_logger`); the ReLU+L1 rules
log their own evaluation rows (accuracy, loss, ``AverageDensity``) the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["WATCH_WINDOW", "DENSE_THRESHOLD", "watch_codes", "watch_rule", "after_pass",
           "tensorboard_logger"]

#: stimuli encoded at every pass (the first ones of the training set)
WATCH_WINDOW = 500
#: a unit active on more than this fraction of the window's stimuli is "dense"
DENSE_THRESHOLD = 0.1


def watch_codes(codes: Any, *, threshold: float = 0.0,
                dense_threshold: float = DENSE_THRESHOLD) -> dict[str, Any]:
    """The watched numbers of ``codes`` (stimuli x units): see the module notes.

    Examples
    --------
    >>> import numpy as np
    >>> codes = np.zeros((4, 5)); codes[:, 0] = 1; codes[0, 1] = 2
    >>> row = watch_codes(codes)
    >>> row["l0"], row["dead_fraction"], row["dense_fraction"]
    (1.25, 0.6, 0.4)
    """
    # imported here: a rule module imports this one, and the metrics (with scipy's BLAS) must
    # not load inside a run after its thread limits are set (neurocode.executor.run_threads)
    from neurocode.metrics.activity import activity

    a = activity(np.asarray(codes), threshold)
    return {"activity_ratio": a["activity_ratio"], "l0": a["avr"],
            "treves_rolls": a["treves_rolls"], "dead_fraction": a["dead_fraction"],
            "dense_fraction": float((np.asarray(a["unit_activity"]) > dense_threshold).mean()),
            "lifetime_sparseness_mean": a["lifetime_sparseness_mean"],
            "lifetime_sparseness": a["lifetime_sparseness"], "window": a["n_stimuli"]}


def watch_rule(rule: Any, X: Any, *, window: int = WATCH_WINDOW) -> dict[str, Any]:
    """:func:`watch_codes` of ``rule``'s codes of the first ``window`` stimuli of ``X``."""
    return watch_codes(rule.encode(np.asarray(X)[:window]))


def after_pass(rule: Any, X: Any, callback: Callable[[int, dict], None] | None,
               step: int, *, window: int = WATCH_WINDOW) -> None:
    """Call ``callback(step, watch_rule(rule, X))``, or do nothing without a callback: what
    a rule's training loop calls after each pass."""
    if callback is not None:
        callback(step, watch_rule(rule, X, window=window))


#: the ReLU+L1 rules' evaluation rows under the article's TensorBoard names
_ARTICLE_NAMES = {"avr_train": "AverageDensity", "avr": "AverageDensity_test"}


def tensorboard_logger(writer: Any) -> Callable[[int, Mapping[str, Any]], None]:
    """A ``callback(step, row)`` that writes every finite number of a row as a scalar and
    every 1-D array as a histogram (NaNs left out) to a TensorBoard ``SummaryWriter``."""

    def on_row(step: int, row: Mapping[str, Any]) -> None:
        for key, value in row.items():
            name = _ARTICLE_NAMES.get(key, key)
            if isinstance(value, np.ndarray) and value.ndim == 1:
                finite = value[np.isfinite(value)]
                if finite.size:
                    writer.add_histogram(name, finite, step)
            elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                if math.isfinite(float(value)):
                    writer.add_scalar(name, float(value), step)

    return on_row
