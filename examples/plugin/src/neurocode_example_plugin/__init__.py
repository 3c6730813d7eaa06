"""An example third-party neurocode rule, shipped as its own package.

``MedianSplit`` draws a fixed random projection W (n_features x n_units) and learns, for each
unit, the median of its drive w_i . x over the training data; a unit is active (1) when its
drive exceeds that median. Each unit is therefore active for half the stimuli: a dense binary
code (the random-hyperplane code of Charikar 2002, "Similarity estimation techniques from
rounding algorithms", STOC), the contrast case to sparse codes.

What the rule offers is declared once, in its ``tags`` (:class:`neurocode.rules.Tags`): a
binary code, learned without labels, on any real input, read by the battery's linear probe
(no ``own_readout``), and a silenced unit is simply dropped from the code (each unit is
thresholded on its own, so silencing one changes no other). ``neurocode.testing`` holds the
rule to these declarations (see ``tests/test_median_split.py``).
"""

from dataclasses import replace

import numpy as np

from neurocode.params import Param
from neurocode.rules import CodingRule

__all__ = ["MedianSplit"]


class MedianSplit(CodingRule):
    """Dense binary code: unit i fires when w_i . x exceeds its median over the training data.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((200, 10))
    >>> rule = MedianSplit(n_units=8, random_state=0).fit(X)
    >>> print(rule.encode(X).mean())
    0.5
    """

    name = "median-split"
    description = "dense binary code: random projections thresholded at their training medians"
    tags = replace(CodingRule.tags, code_kind="binary", silencing="dropped")
    params = {"n_units": Param(int, 64, low=1, high=100_000, doc="number of units")}
    test_params = {"n_units": 8, "random_state": 0}

    def _fit(self, X, y=None):
        self.projection_ = self._rng().standard_normal((X.shape[1], self.n_units))
        self.threshold_ = np.median(X @ self.projection_, axis=0)

    def _encode(self, X, mask):
        codes = (X @ self.projection_ > self.threshold_).astype(np.float64)
        codes[:, ~mask] = 0.0  # a silenced unit does not fire
        return codes
