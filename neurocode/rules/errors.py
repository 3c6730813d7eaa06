"""The errors of the rule contract: not fitted yet, training failed, no such rule."""

from __future__ import annotations

__all__ = ["NotFittedError", "TrainingFailed", "UnknownRuleError"]


class NotFittedError(ValueError, AttributeError):
    """``encode``/``decode`` called before ``fit``."""


class TrainingFailed(RuntimeError):
    """Fitting stopped on its own terms (e.g. the loss became NaN); the message says why.

    The rule keeps what it recorded before failing (e.g. ``curves_``), so the run can be
    stored as failed with its reason and partial curves.
    """


class UnknownRuleError(ValueError):
    """No rule of that name is registered (the message suggests the closest names)."""
