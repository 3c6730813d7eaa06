"""The code-property battery: what a neural code is worth, measured the same way for any rule.

Pure functions over codes (``(n_stimuli, n_units)`` arrays) or over a fitted rule plus data:

* :mod:`~neurocode.metrics.activity`: AVR, activity ratio, Treves-Rolls and Hoyer
  sparseness, lifetime sparseness, dead units, code type (local / sparse / dense).
* :mod:`~neurocode.metrics.capacity`: representational capacity log2 C(N, k); associative
  capacity in the Willshaw and Hopfield memories, with the closed-form Willshaw theory.
* :mod:`~neurocode.metrics.fault`: readout accuracy and memory recall against the fraction
  of units silenced, with the binomial survival tail of k-of-N codes.
* :mod:`~neurocode.metrics.interference`: two items at once, false matches against unions
  (Ahmad and Hawkins 2016), Jaccard overlap between classes.
* :mod:`~neurocode.metrics.decoding`: accuracy against the number of units observed, and
  active synapses per stimulus.
* :mod:`~neurocode.metrics.parallel`: synchronous against asynchronous updates.
* :mod:`~neurocode.metrics.readout`: the readout trained once on intact codes.
* :mod:`~neurocode.metrics.battery`: all of the above on one rule (``neurocode measure``).
"""

from neurocode.metrics.battery import MEASURES, run_battery

__all__ = ["MEASURES", "run_battery"]
