"""What the article reports, in one place: every number the ledger and the figures compare with.

The article is "Sparse coding: a simple exploration" (metaflow-ai blog, 2016; its code is
github.com/metaflow-ai/blog, folder ``sparse-coding``). It states its results in two ways,
kept apart here because they do not always agree:

* a **table** per network (the TensorBoard summary after 20,000 iterations): for the fully
  connected net (N = 784 hidden units) the test accuracy and the AVR (average number of
  active units per stimulus) at each lambda, :data:`FC_POINTS`;
* **remarks** in the text, :data:`TEXT`. "We almost reach local code with an AVR of 1.67, for
  89% accuracy" takes the AVR of the lambda = 1e-3 row (accuracy 0.942) and the accuracy of
  the lambda = 2.7e-3 row (AVR 1.97): no single run has both. "An AVR of 5.4 instead of
  156.3" is the lambda = 1e-5 row against lambda = 0. For the CNN (N = 39,200: 200 feature
  maps of 14 x 14) the text gives two AVRs and no accuracies, :data:`CNN_REFERENCES`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FC_N", "CNN_N", "ITERATIONS", "FC_POINTS", "ArticleReference", "CNN_REFERENCES",
           "TEXT"]

#: Hidden units of the fully connected net and of the CNN's feature maps.
FC_N = 784
CNN_N = 39_200
#: Training iterations of every reported run.
ITERATIONS = 20_000

#: The article's table for the fully connected net (N = 784, 20,000 iterations):
#: lambda -> (test accuracy, AVR).
FC_POINTS: dict[float, tuple[float, float]] = {
    0.0: (0.9792, 156.3),
    1e-5: (0.9743, 5.41),
    5e-5: (0.9696, 3.23),
    1e-4: (0.9666, 2.58),
    5e-4: (0.9509, 2.16),
    1e-3: (0.9419, 1.67),
    2.7e-3: (0.8909, 1.97),
}


@dataclass(frozen=True)
class ArticleReference:
    """A number the article states in its text, without the full (accuracy, AVR) point."""

    label: str
    avr: float
    l1: float | None = None  # None: the article does not say which lambda
    accuracy: float | None = None  # None: not reported (never invented here)


#: The CNN AVRs the article states in its text: only the AVR is reported ("an AVR of 146.2
#: instead of 10932", accuracy "very close to" the FC net's).
CNN_REFERENCES: tuple[ArticleReference, ...] = (
    ArticleReference(label="article λ=0", avr=10932.0, l1=0.0),
    ArticleReference(label="article sparse run (λ not stated)", avr=146.2, l1=None),
)

#: The numbers of the text's remarks, as written there.
TEXT: dict[str, float] = {
    "fc_avr_dense": 156.3,           # "an AVR of 5.4 instead of 156.3"
    "fc_avr_sparse": 5.4,
    "fc_avr_near_local": 1.67,       # "an AVR of 1.67, for 89% accuracy"
    "fc_accuracy_near_local": 0.89,
    "cnn_avr_dense": 10_932.0,       # "an AVR of 146.2 instead of 10932"
    "cnn_avr_sparse": 146.2,
}
