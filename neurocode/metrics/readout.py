"""Readouts: how the battery decodes a rule's code into a class.

A readout is trained once on intact codes and never retrained (fault tolerance, interference
and superposition all read damaged or mixed codes with the readout of the intact ones):

* a rule that declares its own classifier (``tags.own_readout``, like the article's networks;
  :meth:`~neurocode.rules.CodingRule.has_own_readout` for the fitted instance) is read by it,
  ``decision_function(X, unit_mask=...)``, which sees the code through the same ``unit_mask``;
* any other rule by a linear probe: multinomial logistic regression (scikit-learn's
  ``LogisticRegression``) on its codes, standardised with the training codes' mean and spread.
  L-BFGS runs to convergence (up to 1,000 iterations: the codes of a 784-unit k-WTA rule on
  MNIST need about 310).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.rules import CodingRule, tags_of

__all__ = ["Readout", "fit_readout", "has_own_readout", "LinearProbe"]


def has_own_readout(rule: Any) -> bool:
    """Whether ``rule`` is read by its own classifier: a :class:`CodingRule` whose tags declare
    ``own_readout`` and whose fitted instance has it (an object that is no CodingRule: no)."""
    tags = tags_of(rule)
    return bool(tags is not None and tags.own_readout and rule.has_own_readout())


class LinearProbe:
    """Logistic regression on (standardised) codes: ``scores = standardise(codes) @ W + b``."""

    def __init__(self, C: float = 1.0, max_iter: int = 1000, random_state: int = 0) -> None:
        self.C, self.max_iter, self.random_state = C, max_iter, random_state

    def fit(self, codes: np.ndarray, y: np.ndarray) -> LinearProbe:
        """Fit the logistic regression on the codes, standardised by each unit's mean and standard
        deviation over ``codes`` (a unit that never varies is only centred), and the labels ``y``;
        returns the probe."""
        from sklearn.linear_model import LogisticRegression

        codes = np.asarray(codes, dtype=np.float64)
        self.mean_ = codes.mean(axis=0)
        self.scale_ = codes.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        self.clf_ = LogisticRegression(C=self.C, max_iter=self.max_iter,
                                       random_state=self.random_state)
        self.clf_.fit((codes - self.mean_) / self.scale_, y)
        self.classes_ = self.clf_.classes_
        return self

    def decision_function(self, codes: np.ndarray) -> np.ndarray:
        """Class scores ``(n_codes, n_classes)`` of codes standardised as in :meth:`fit`; with two
        classes the one score ``s`` becomes the columns ``[-s, s]``, so there is always one column
        per class."""
        scores = self.clf_.decision_function((np.asarray(codes, dtype=np.float64) - self.mean_) / self.scale_)
        return scores if scores.ndim == 2 else np.stack([-scores, scores], axis=1)


class Readout:
    """Class scores for stimuli ``X`` seen through a rule (optionally with units silenced)."""

    def __init__(self, rule: CodingRule, probe: LinearProbe | None) -> None:
        self.rule, self.probe = rule, probe

    @property
    def kind(self) -> str:
        """How the battery reads the rule, ``"own classifier"`` or ``"linear probe"`` (recorded in
        the battery's ``_meta``)."""
        return "own classifier" if self.probe is None else "linear probe"

    def scores(self, X: Any, unit_mask: Any = None, chunk: int = 2000) -> np.ndarray:
        """Class scores ``(n_samples, n_classes)`` of stimuli ``X``, ``chunk`` stimuli at a time:
        the rule's own ``decision_function``, or the probe on the rule's codes, with the units
        ``unit_mask`` marks False silenced (None: every unit alive)."""
        out = []
        for i in range(0, len(X), chunk):
            xb = X[i:i + chunk]
            if self.probe is None:
                out.append(self.rule.decision_function(xb, unit_mask=unit_mask))
            else:
                out.append(self.probe.decision_function(self.rule.encode(xb, unit_mask=unit_mask)))
        return np.concatenate(out)

    def scores_from_codes(self, codes: np.ndarray) -> np.ndarray:
        """Scores of given codes (linear probe only: a supervised rule reads stimuli)."""
        if self.probe is None:
            raise TypeError("a rule's own classifier reads stimuli, not codes: use scores(X)")
        return self.probe.decision_function(codes)

    def predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """The class of the largest score for each stimulus: one of the probe's class labels,
        or, for a rule's own classifier, the rule's ``classes_[column]`` (column ``j`` of its
        scores is class ``classes_[j]``; the column index itself when it has no
        ``classes_``, as for the article's nets trained on the labels 0..C-1)."""
        s = self.scores(X, unit_mask)
        if self.probe is not None:
            classes = self.probe.classes_
        else:
            own = getattr(self.rule, "classes_", None)
            classes = (np.asarray(own) if own is not None and len(own) == s.shape[1]
                       else np.arange(s.shape[1]))
        return classes[s.argmax(axis=1)]

    def accuracy(self, X: Any, y: Any, unit_mask: Any = None) -> float:
        """Fraction of the stimuli ``X`` whose predicted class (with ``unit_mask`` applied) is their
        label in ``y``."""
        return float((self.predict(X, unit_mask) == np.asarray(y)).mean())


def fit_readout(rule: CodingRule, X_train: Any, y_train: Any, random_state: int = 0,
                codes: Any = None) -> Readout:
    """The rule's own classifier if it declares one (``tags.own_readout``) and the fitted
    instance has it (``has_own_readout()``), else a linear probe fitted on intact codes
    (``codes``: the codes of ``X_train`` when the caller has them already)."""
    if has_own_readout(rule):
        return Readout(rule, None)
    if codes is None:
        codes = np.concatenate([rule.encode(X_train[i:i + 2000])
                                for i in range(0, len(X_train), 2000)])
    elif len(codes) != len(X_train):
        raise ValueError(f"codes has {len(codes)} rows for {len(X_train)} training stimuli")
    return Readout(rule, LinearProbe(random_state=random_state).fit(codes, np.asarray(y_train)))
