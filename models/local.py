"""A local code in the article's sense: one unit per class, exactly one unit active per stimulus.

"Sparse coding: a simple exploration" defines a local code as one in which "only one neuron
gets activated per feature of the stimulus. No overlap between neurons is possible: one neuron
can't react to different features". A random k-of-N code with ``k = 1``
(:class:`neurocode.models.binary.KofN`, preset ``local``) has one active unit per stimulus but
is not local in that sense: the winner of a random projection is not tied to any feature, and
the stimuli of one class are spread over many units (and one unit answers several classes).

:class:`LocalClass` is the reference local code, with the digit class as the feature: one unit
per class of the training labels, the unit of the stimulus's nearest class centroid fires, all
others are silent (a nearest-centroid classifier written as a one-hot code; Tibshirani et al.
2002, PNAS 99:6567, without shrinkage, the classifier of scikit-learn's ``NearestCentroid``).
It is the "grandmother cell" end of the local/sparse/dense comparison (Földiák 2002, "Sparse
coding in the primate cortex", in *The Handbook of Brain Theory and Neural Networks*): no
overlap between the codes of different classes, as many units as classes, and a stimulus is
lost with its unit.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy as np

from neurocode.params import Param
from neurocode.rules import CodingRule, NotFittedError

__all__ = ["LocalClass"]


class LocalClass(CodingRule):
    """Local code: one binary unit per class; the unit of the nearest class centroid fires.

    Preprocessing (``normalize=True``, the default): each stimulus is centred on the training
    mean ``m`` and scaled to unit length::

        x_hat = (x - m) / ||x - m||        (x_hat = 0 when x = m)

    (``normalize=False``: ``x_hat = x``). Unit length makes the code ignore how much ink a digit
    has (stroke width, contrast) and compare shapes only; centring first removes the mean
    image that every digit shares, so the length measured is that of the part that tells the
    classes apart (on MNIST the nearest-centroid test accuracy is 82.35 % with it, 82.03 % on
    the raw pixels).

    Fit: with ``C`` the classes of ``y`` (integer labels, sorted: ``classes_``) and ``S_c``
    the training stimuli of class ``c``, one unit per class (``n_units = C``, set by the
    labels) and its class centroid::

        mu_c = (1 / |S_c|) sum_{x in S_c} x_hat

    Encode: the drive of unit ``c`` is minus half the squared distance to its centroid, up to
    a term common to all units, i.e. a linear unit with weights ``mu_c`` and bias
    ``-||mu_c||^2 / 2``::

        d_c(x) = mu_c . x_hat - ||mu_c||^2 / 2  =  -(||x_hat - mu_c||^2 - ||x_hat||^2) / 2
        c_j(x) = 1  if j = argmax_c d_c(x)  (ties: the lower index), else 0

    so exactly one unit is active per stimulus: the unit of its nearest centroid (Euclidean,
    in the preprocessed space). The Treves-Rolls population sparseness of every code is
    ``1 / C`` and codes of stimuli given different classes never overlap.

    Silencing (``unit_mask``): a silenced unit cannot fire.

    * ``silenced="dropped"`` (default; the article's local code): the winner is chosen over
      all units and a silenced winner is then set to 0, so the code of a stimulus whose unit
      is silenced is all-zero: the item is lost with its unit. With a fraction ``f`` of the
      units silenced at random, a stimulus survives with probability ``1 - f``.
    * ``silenced="replaced"``: the winner is chosen over the alive units only (a
      winner-take-all circuit that re-competes), so the next-nearest alive class fires; the
      code is all-zero only when every unit is silenced.

    Readout (the rule is supervised, so it has its own, ``decision_function`` and
    ``predict``; column ``j`` of the scores is class ``classes_[j]``)::

        s(x) = c(x)                   if the code is not silent
        s(x) = e_{g(x)} / C           if it is (the guess scores its chance of being right)
        predict(x) = classes_[argmax_j s_j(x)]

    i.e. the class of the active unit, and a guess at chance for a silent code:
    ``g(x) = H(seed_, bytes(x)) mod C`` with ``H`` a keyed BLAKE2b hash of the stimulus's
    float64 values and ``seed_`` drawn in fit from ``random_state``, so the guess is
    deterministic for a given stimulus and seed, uniform over the classes, and independent of
    the stimulus's label. With ``m`` of the ``N = C`` units silenced uniformly at random
    (``dropped``), a stimulus keeps its unit with probability ``1 - m/N``, so the expected
    readout accuracy falls on a straight line::

        E[accuracy] = (1 - m/N) * a_0 + (m/N) * b,   b = fraction of stimuli whose guess is right

    (``a_0`` the intact accuracy; ``b`` averages to ``1/C`` over seeds), the "straight line of
    a local code" of :func:`neurocode.metrics.fault.normalised_auc` (normalised area 0.5).

    The code and the intact readout are deterministic given the data: ``random_state`` only
    keys the guess of silent codes.

    Attributes
    ----------
    classes_ : (C,) the classes of ``y``, sorted; unit ``j`` codes ``classes_[j]``
    centroids_ : (C, n_features) the class centroids ``mu_c`` of the preprocessed stimuli
    mean_ : (n_features,) the training mean ``m`` (zeros when ``normalize=False``)
    class_counts_ : (C,) training stimuli per class
    seed_ : key of the silent-code guess

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 200)
    >>> X = rng.random((200, 10)); X[np.arange(200), y] += 2.0
    >>> rule = LocalClass(random_state=0).fit(X, y)
    >>> codes = rule.encode(X)
    >>> print(rule.n_units, codes.sum(axis=1).max(), float((rule.predict(X) == y).mean()))
    4 1.0 1.0
    """

    name = "local-class"
    description = ("local code: one unit per class, the unit of the nearest class centroid "
                   "fires (a one-hot nearest-centroid code)")
    # silenced="dropped" (default): a silenced winner is set to 0; "replaced": the nearest alive
    # class re-competes and fires
    tags = replace(CodingRule.tags, code_kind="binary", uses_labels=True, own_readout=True,
                   silencing="dropped", silencing_param="silenced",
                   cost=(0.2, 4.3e-5, ("data.n_train",)))
    params = {
        "normalize": Param(bool, True,
                           doc="centre each stimulus on the training mean and scale it to unit "
                               "length before comparing it with the class centroids"),
        "silenced": Param(str, "dropped", choices=("dropped", "replaced"),
                          doc="what silencing a stimulus's unit does: dropped (its code becomes "
                              "all-zero: the item is lost with its unit) or replaced (the "
                              "nearest alive class fires instead)"),
    }
    test_params = {"random_state": 0}

    # -- units ----------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        """N, the number of units: one per class of the training labels (known after fit)."""
        if getattr(self, "classes_", None) is None:
            raise NotFittedError(f"rule '{self.name}' has no units before fit: it has one unit "
                                 f"per class of the labels given to fit(X, y)")
        return int(len(self.classes_))

    def receptive_fields(self) -> np.ndarray | None:
        """The units' weights, the class centroids ``mu_c``, ``(n_units, n_features)``."""
        self._check_fitted()
        return np.asarray(self.centroids_)

    # -- fit --------------------------------------------------------------------------------
    def _preprocess(self, X: np.ndarray) -> np.ndarray:
        Z = np.asarray(X, dtype=np.float64)
        if not self.normalize:
            return Z
        Z = Z - self.mean_
        norms = np.linalg.norm(Z, axis=1, keepdims=True)
        return Z / np.where(norms > 0, norms, 1.0)

    def _fit(self, X: np.ndarray, y: np.ndarray | None = None) -> None:
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0) if self.normalize else np.zeros(X.shape[1])
        Z = self._preprocess(X)
        y = np.asarray(y)
        if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
            # the learned state is saved to HDF5 (save_rule), which takes no Python strings
            raise ValueError(f"rule '{self.name}' needs integer class labels y (one unit per "
                             f"class), got dtype {y.dtype}")
        classes, inv = np.unique(y, return_inverse=True)
        self.classes_ = classes
        self.class_counts_ = np.bincount(inv, minlength=len(classes)).astype(np.int64)
        self.centroids_ = np.stack([Z[inv == c].mean(axis=0) for c in range(len(classes))])
        self.seed_ = int(self._rng().integers(0, 2**63 - 1))

    # -- code -------------------------------------------------------------------------------
    def drive(self, X: Any) -> np.ndarray:
        """``d_c(x) = mu_c . x_hat - ||mu_c||^2 / 2``, ``(n_samples, n_units)``: the larger,
        the nearer the class centroid."""
        self._check_fitted()
        return self._drive(self._check_X(X))

    def _drive(self, X: np.ndarray) -> np.ndarray:
        mu = np.asarray(self.centroids_)
        return self._preprocess(X) @ mu.T - 0.5 * np.einsum("ij,ij->i", mu, mu)

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        d = self._drive(X)
        codes = np.zeros_like(d)
        rows = np.arange(len(d))
        if self.silenced == "dropped":
            codes[rows, d.argmax(axis=1)] = 1.0
            return codes * mask
        alive = np.flatnonzero(mask)
        if alive.size:
            codes[rows, alive[d[:, alive].argmax(axis=1)]] = 1.0
        return codes

    # -- readout ----------------------------------------------------------------------------
    def _guess(self, X: np.ndarray) -> np.ndarray:
        """The class index guessed for a silent code: a keyed hash of the stimulus, mod C."""
        X = np.ascontiguousarray(X, dtype=np.float64) + 0.0  # -0.0 -> 0.0
        key = int(self.seed_).to_bytes(8, "little")
        C = self.n_units
        return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=16,
                                                        key=key).digest(), "little") % C
                         for row in X], dtype=np.int64)

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Class scores ``(n_samples, n_classes)``: the code itself (1 for the class of the
        active unit), or for a silent code ``1/C`` for the guessed class ``g(x)``."""
        self._check_fitted()
        X = self._check_X(X)
        scores = self._encode(X, self._check_mask(unit_mask))
        silent = np.flatnonzero(~scores.any(axis=1))
        if silent.size:
            scores[silent, self._guess(X[silent])] = 1.0 / self.n_units
        return scores

    def predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """The class of the active unit; a guess at chance for a silent code."""
        return np.asarray(self.classes_)[self.decision_function(X, unit_mask).argmax(axis=1)]
