"""Closed forms for random codes: every theoretical curve the measures and figures draw.

One submodule per idea; everything public is re-exported here, so
``from neurocode.theory import willshaw_theory`` works as well as
``from neurocode.theory.willshaw import willshaw_theory``:

* :mod:`neurocode.theory.covariance`: the capacity of the covariance-rule (sparse Hopfield)
  memory at coding level ``a``, with k-winners recall (Tsodyks & Feigel'man 1988; the
  fixed-point signal-to-noise theory of Shiino & Fukai 1992): :func:`covariance_capacity`,
  :func:`covariance_error`, :func:`covariance_load`, :func:`one_step_capacity`,
  :func:`tsodyks_feigelman_capacity`.
* :mod:`neurocode.theory.willshaw`: the Willshaw net storing random k-of-N patterns (Willshaw,
  Buneman & Longuet-Higgins 1969; Palm 1980) and the information of a binary channel:
  :func:`willshaw_theory`, :func:`channel_information`, :func:`log2_binomial`.
* :mod:`neurocode.theory.survival`: the survival of the items of random k-of-N codes when units
  die: :func:`kofn_survival_theory`, :func:`n_silenced` (the units dead at fraction ``f``).
* :mod:`neurocode.theory.unions`: false matches against unions of random sparse codes (Ahmad &
  Hawkins 2016): :func:`ahmad_hawkins_false_match`, :func:`union_on_fraction`.
* :mod:`neurocode.theory.random_kofn`: the sum-up's grey curves, compositions of the above for
  random k-of-N codes of ``REFERENCE_N`` units: :func:`theory_capacity_bits`,
  :func:`theory_fault_auc`, :func:`theory_union_false_match`, :func:`theory_m_fraction_90`.
* :mod:`neurocode.theory._checks`: the argument checks these need (the measures import the
  shared ones back from here).

The theory sits below the measures and the figures: it imports numpy and scipy only, and
nothing from :mod:`neurocode.metrics`, :mod:`neurocode.figures`, :mod:`neurocode.models`,
:mod:`neurocode.claims` or :mod:`neurocode.report` (``tests/test_theory_layer.py`` reads every
import statement of the package, deferred ones included). The measures and figures import
the closed forms from here, and keep them importable under their old names
(``neurocode.metrics.capacity.willshaw_theory`` is ``neurocode.theory.willshaw_theory``).
"""

from __future__ import annotations

from neurocode.theory.covariance import (
    covariance_capacity,
    covariance_error,
    covariance_load,
    one_step_capacity,
    tsodyks_feigelman_capacity,
)
from neurocode.theory.random_kofn import (
    REFERENCE_N,
    UNION_M,
    theory_capacity_bits,
    theory_fault_auc,
    theory_m_fraction_90,
    theory_union_false_match,
)
from neurocode.theory.survival import kofn_survival_theory, n_silenced
from neurocode.theory.unions import ahmad_hawkins_false_match, union_on_fraction
from neurocode.theory.willshaw import channel_information, log2_binomial, willshaw_theory

__all__ = [
    # covariance rule (sparse Hopfield memory)
    "covariance_capacity", "covariance_error", "covariance_load", "one_step_capacity",
    "tsodyks_feigelman_capacity",
    # Willshaw net, information
    "channel_information", "log2_binomial", "willshaw_theory",
    # survival under unit loss
    "kofn_survival_theory", "n_silenced",
    # unions (Ahmad & Hawkins)
    "ahmad_hawkins_false_match", "union_on_fraction",
    # the sum-up's compositions for random k-of-N codes
    "REFERENCE_N", "UNION_M", "theory_capacity_bits", "theory_fault_auc",
    "theory_m_fraction_90", "theory_union_false_match",
]
