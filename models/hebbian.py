"""Hebbian learning with Oja's normalisation: Oja's rule and Sanger's generalised Hebbian algorithm.

Linear neurons ``y = W x`` (``W``: ``n_units x n_features``, one row per unit) learn, from a
stream of stimuli, the principal components of the stimulus distribution by a Hebbian term
``y x^T`` kept bounded by a decay term that is local to each synapse:

* Oja (1982), "Simplified neuron model as a principal component analyzer", J. Math. Biol. 15,
  267-273, one unit::

      y = w^T x,      dw = eta * y * (x - y w)

  ``w`` converges to the unit-norm eigenvector of ``C = E[x x^T]`` with the largest eigenvalue
  (up to sign).
* Oja (1989), "Neural networks, principal components, and subspaces", Int. J. Neural Syst. 1,
  61-68, the symmetric subspace rule for ``k`` units (what :class:`Oja` does for ``n_units > 1``;
  for ``k = 1`` it is the 1982 rule)::

      y = W x,        dW = eta * (y x^T - y y^T W)

  The rows of ``W`` converge to an orthonormal basis of the span of the top-``k`` eigenvectors,
  but not to the eigenvectors themselves (any rotation within the subspace is a fixed point).
* Sanger (1989), "Optimal unsupervised learning in a single-layer linear feedforward neural
  network", Neural Networks 2, 459-473, the generalised Hebbian algorithm (:class:`Sanger`)::

      y = W x,        dW = eta * (y x^T - LT[y y^T] W)

  with ``LT`` the lower triangle including the diagonal. Row by row,
  ``dw_j = eta * y_j * (x - sum_{i <= j} y_i w_i)``: unit ``j`` runs Oja's rule on the stimulus
  with the parts explained by units ``1..j-1`` removed (deflation), so row ``j`` converges to the
  ``j``-th eigenvector, in order of decreasing eigenvalue.

Both rules here share the same training loop (:class:`_Hebbian`):

* **centring.** The rules find eigenvectors of the second moment ``E[x x^T]``, which are the
  principal components only for zero-mean stimuli. With ``center=True`` (the default) the rule
  centres internally: ``fit`` stores the training mean in ``mean_``, ``partial_fit`` keeps a
  running mean over everything it has seen, and ``encode``/``decode`` subtract/add ``mean_``.
  With ``center=False`` the input is taken as it is (``mean_`` is 0): pass centred data.
* **mini-batches.** An update averages the per-sample updates over a mini-batch of
  ``batch_size`` stimuli: ``dW = eta_t * mean_b(y_b x_b^T - [LT](y_b y_b^T) W)``, all with the
  ``W`` of the start of the batch (``batch_size=1`` is the sample-by-sample rule of the papers).
  ``lr`` is therefore a step size on the expected update: stability needs roughly
  ``lr * lambda_max < 1`` with ``lambda_max`` the largest eigenvalue of the covariance.
  Weights that grow past 1e6 stop training with :class:`~neurocode.rules.TrainingFailed`.
  The arithmetic runs in the input's precision (float32 data stays float32, uncopied; other
  input becomes float64); codes are float64.
* **learning-rate schedule.** ``eta_t = lr / (1 + t / lr_decay)``, ``t`` the number of updates
  made so far (``n_steps_``, which ``partial_fit`` carries on); ``lr_decay=None`` keeps
  ``eta_t = lr``. A ``1/t`` decay is what the convergence proofs of Oja and Sanger assume
  (``sum eta_t = inf``, ``sum eta_t^2 < inf``).
* **online.** ``partial_fit(X)`` makes one pass over ``X`` in the order given; ``fit(X)`` starts
  afresh and makes ``epochs`` passes, each in a new order drawn from ``random_state``.
  Initial weights: Gaussian rows scaled to unit norm, drawn from ``random_state``.

The code ``y = W (x - mean_)`` is a rate code that is **signed and dense** (every unit responds to
almost every stimulus, with either sign): the linear, distributed contrast case to sparse codes.
A silenced unit (``unit_mask`` False) outputs 0. In Sanger's rule a silenced unit also drops out
of the deflation of the later units (it neither fires nor inhibits); in ``encode`` the network
is feed-forward, so that only means ``y_j = 0``. The update functions :func:`oja_update` and
:func:`sanger_update` take the same mask for training a damaged network. ``decode(codes)`` is
``codes @ W + mean_``, the reconstruction through the learned basis.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule, TrainingFailed
from neurocode.watch import after_pass

__all__ = ["Oja", "Sanger", "oja_update", "sanger_update", "learning_rate"]


def _hebbian_terms(W: np.ndarray, X: np.ndarray, alive: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if alive is not None:
        W = W * alive[:, None]  # a silenced unit has no output: it neither fires nor inhibits
    Y = X @ W.T                       # (B, k): y_b = W x_b
    hebb = Y.T @ X / len(X)           # mean_b y_b x_b^T
    yy = Y.T @ Y / len(X)             # mean_b y_b y_b^T
    return W, hebb, yy


def oja_update(W: np.ndarray, X: np.ndarray, alive: np.ndarray | None = None) -> np.ndarray:
    """Oja's (subspace) update direction for a mini-batch, before the learning rate.

    ``mean_b (y_b x_b^T - y_b y_b^T W)`` with ``y_b = W x_b``; for one unit this is Oja's 1982
    rule ``y (x - y w)``, for ``k`` units Oja's 1989 subspace rule. ``W``: ``(k, n_features)``,
    ``X``: ``(B, n_features)`` (centred), ``alive``: optional boolean ``(k,)``; a dead unit
    has output 0 and its row does not change.
    """
    Wa, hebb, yy = _hebbian_terms(W, X, alive)
    return hebb - yy @ Wa


def sanger_update(W: np.ndarray, X: np.ndarray, alive: np.ndarray | None = None) -> np.ndarray:
    """Sanger's generalised Hebbian update direction for a mini-batch, before the learning rate.

    ``mean_b (y_b x_b^T - LT[y_b y_b^T] W)`` with ``y_b = W x_b`` and ``LT`` the lower
    triangle including the diagonal. ``alive`` as in :func:`oja_update`: a dead unit neither
    learns nor takes part in the deflation of the units after it.
    """
    Wa, hebb, yy = _hebbian_terms(W, X, alive)
    return hebb - np.tril(yy) @ Wa


def learning_rate(lr: float, lr_decay: float | None, step: int) -> float:
    """The schedule ``eta_t = lr / (1 + t / lr_decay)`` (``lr_decay=None``: constant ``lr``)."""
    return lr if lr_decay is None else lr / (1.0 + step / lr_decay)


def _as_float(X: np.ndarray) -> np.ndarray:
    """Float input as it is (float32 stays float32: no copy of a large data set), else float64."""
    return X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)


class _Hebbian(CodingRule):
    """The shared training loop of :class:`Oja` and :class:`Sanger` (see the module docstring)."""

    # feed-forward: a silenced unit's output is 0 and nothing else changes
    tags = replace(CodingRule.tags, code_kind="rate", silencing="dropped", fit_options=("callback",))
    params: ClassVar[dict[str, Param]] = {
        "n_units": Param(int, 1, low=1, high=100_000, doc="number of linear units (at most n_features)"),
        "center": Param(bool, True, doc="centre internally: subtract the (running) training mean, "
                                        "stored in mean_; False: the input must be centred already"),
        "lr": Param(float, 0.05, low=0.0, doc="initial learning rate eta_0 (> 0) of the mini-batch "
                                              "averaged update", section="train"),
        "lr_decay": Param(float, 1000.0, low=0.0, nullable=True,
                          doc="eta_t = lr / (1 + t / lr_decay), t = updates made so far; "
                              "null: constant rate", section="train"),
        "batch_size": Param(int, 32, low=1, doc="stimuli averaged in one update", section="train"),
        "epochs": Param(int, 5, low=1, doc="passes over the data in fit (each in a new order)",
                        section="train"),
    }

    _update: ClassVar[Any] = staticmethod(oja_update)

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields, ``(n_units, n_features)``, for drawing (None: none)."""
        self._check_fitted()
        return np.asarray(self.components_)

    def _validate_together(self) -> None:
        if self.lr == 0.0:
            raise ParamError(f"rule '{self.name}' parameter 'lr' must be > 0, got 0.0")
        if self.lr_decay is not None and self.lr_decay == 0.0:
            raise ParamError(f"rule '{self.name}' parameter 'lr_decay' must be > 0 or null, got 0.0")

    # -- training -----------------------------------------------------------------------
    def _start(self, X: np.ndarray, rng: np.random.Generator) -> None:
        if self.n_units > X.shape[1]:
            raise ParamError(f"rule '{self.name}' parameter 'n_units' ({self.n_units}) must be at "
                             f"most the number of features ({X.shape[1]})")
        W = rng.standard_normal((self.n_units, X.shape[1]))
        self.components_ = (W / np.linalg.norm(W, axis=1, keepdims=True)).astype(X.dtype)
        self.mean_ = np.zeros(X.shape[1])
        self.n_samples_seen_ = 0
        self.n_steps_ = 0

    def _pass(self, X: np.ndarray, order: np.ndarray | None = None) -> None:
        """One pass of mini-batch updates over ``X`` (in ``order`` if given), centred by ``mean_``."""
        W, step, bs = self.components_, self.n_steps_, self.batch_size
        mean = self.mean_.astype(W.dtype)
        for start in range(0, len(X), bs):
            idx = slice(start, start + bs) if order is None else order[start:start + bs]
            W = W + learning_rate(self.lr, self.lr_decay, step) * type(self)._update(W, X[idx] - mean)
            step += 1
            if not np.abs(W).max() < 1e6:  # also catches NaN
                raise TrainingFailed(
                    f"rule '{self.name}' diverged after {step} updates (weights grew past 1e6): "
                    f"lower 'lr' (now {self.lr:g}); lr * the largest eigenvalue of the input "
                    f"covariance should stay below ~1")
        self.n_steps_ = step
        self.components_ = W

    def _fit(self, X: np.ndarray, y: np.ndarray | None = None, callback: Any = None) -> None:
        X = _as_float(X)
        rng = self._rng()
        self._start(X, rng)
        if self.center:
            self.mean_ = X.mean(axis=0, dtype=np.float64)
        self.n_samples_seen_ = len(X)
        for epoch in range(self.epochs):
            self._pass(X, rng.permutation(len(X)))
            after_pass(self, X, callback, epoch + 1)   # the watched code (neurocode.watch)

    def partial_fit(self, X: Any, y: Any = None) -> _Hebbian:
        """One pass over ``X`` in the order given, continuing the learning-rate schedule.

        The first call initialises the weights from ``random_state``. With ``center=True``
        the running mean ``mean_`` is updated with ``X`` before the pass.
        """
        self._validate_params()
        fitted = hasattr(self, "components_")
        X = _as_float(self._check_X(X, reset=not fitted))
        if not fitted:
            self._start(X, self._rng())
        if self.center:
            n, m = self.n_samples_seen_, len(X)
            self.mean_ = self.mean_ + (X.sum(axis=0, dtype=np.float64) - m * self.mean_) / (n + m)
        self.n_samples_seen_ += len(X)
        self._pass(X)
        return self

    # -- the code -----------------------------------------------------------------------
    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        W = self.components_
        codes = ((_as_float(X) - self.mean_.astype(W.dtype)) @ W.T).astype(np.float64, copy=False)
        codes[:, ~mask] = 0.0
        return codes

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        return codes @ self.components_ + self.mean_


class Oja(_Hebbian):
    """Oja's Hebbian rule: linear units that learn the top principal component(s).

    One unit (``n_units=1``, the default), Oja (1982), "Simplified neuron model as a principal
    component analyzer", J. Math. Biol. 15::

        y = w^T x,    dw = eta_t * y (x - y w)

    converges to the unit-norm first principal component (up to sign). For ``n_units = k > 1``
    this class runs Oja's symmetric subspace rule (Oja 1989, "Neural networks, principal
    components, and subspaces", Int. J. Neural Syst. 1), which reduces to the 1982 rule for
    ``k = 1``::

        y = W x,      dW = eta_t * (y x^T - y y^T W)

    The rows of ``W`` converge to an orthonormal basis of the top-``k`` principal subspace, in
    no particular rotation (use :class:`Sanger` for the ordered eigenvectors). This is chosen
    over ``k`` independent copies of the 1982 rule, which would all converge to +-PC1 and carry
    one number ``k`` times.

    Updates are averaged over mini-batches of ``batch_size``; ``eta_t = lr / (1 + t / lr_decay)``
    with ``t`` the number of updates so far. With ``center=True`` the rule subtracts the training
    mean (``mean_``) itself. The code ``y = W (x - mean_)`` is signed and dense; a silenced
    unit outputs 0. ``decode(y) = y W + mean_``. See :mod:`neurocode.models.hebbian`.

    Attributes
    ----------
    components_ : ndarray (n_units, n_features)
        the weight rows ``w_j``.
    mean_ : ndarray (n_features,)
        the mean subtracted before the rule (0 when ``center=False``).
    n_samples_seen_, n_steps_ : int
        samples that went into ``mean_``; updates made (the schedule's ``t``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 3)) * [3.0, 1.0, 0.5]
    >>> rule = Oja(random_state=0).fit(X)
    >>> print(round(abs(rule.components_[0, 0]), 2))
    1.0
    """

    name = "oja"
    description = "Oja's Hebbian rule (1982; subspace rule of 1989 for k>1): linear units learn the top PCs"
    tags = replace(_Hebbian.tags, style=("#D55E00", ">"), legend_rank=7,
                   cost=(0.1, 1e-5, ("data.n_train", "train.epochs")))
    test_params = {"n_units": 2, "epochs": 2, "batch_size": 16, "random_state": 0}

    _update = staticmethod(oja_update)


class Sanger(_Hebbian):
    """Sanger's generalised Hebbian algorithm: linear units that learn the top-k PCs in order.

    Sanger (1989), "Optimal unsupervised learning in a single-layer linear feedforward neural
    network", Neural Networks 2::

        y = W x,    dW = eta_t * (y x^T - LT[y y^T] W)

    with ``LT`` the lower triangle including the diagonal; for unit ``j``,
    ``dw_j = eta_t * y_j (x - sum_{i<=j} y_i w_i)``. Row ``j`` of ``W`` converges to the
    ``j``-th principal component (unit norm, up to sign), in order of decreasing variance.

    Updates are averaged over mini-batches of ``batch_size``; ``eta_t = lr / (1 + t / lr_decay)``
    with ``t`` the number of updates so far. With ``center=True`` the rule subtracts the training
    mean (``mean_``) itself. The code ``y = W (x - mean_)`` is signed and dense; a silenced
    unit outputs 0 (in training, see :func:`sanger_update`, it would also stop deflating the
    later units). ``decode(y) = y W + mean_``. See :mod:`neurocode.models.hebbian`.

    Attributes
    ----------
    components_ : ndarray (n_units, n_features)
        the weight rows ``w_j``, converging to the principal components in order.
    mean_ : ndarray (n_features,)
        the mean subtracted before the rule (0 when ``center=False``).
    n_samples_seen_, n_steps_ : int
        samples that went into ``mean_``; updates made (the schedule's ``t``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 3)) * [3.0, 1.0, 0.5]
    >>> rule = Sanger(n_units=2, random_state=0).fit(X)
    >>> print(round(abs(rule.components_[1, 1]), 2))
    1.0
    """

    name = "sanger"
    description = "Sanger's generalised Hebbian algorithm: linear units learn the top-k PCs in order"
    tags = replace(_Hebbian.tags, style=("#882255", "h"), legend_rank=8,
                   cost=(0.05, 1.7e-6, ("data.n_train", "train.epochs")))
    params = {"n_units": Param(int, 16, low=1, high=100_000,
                               doc="number of linear units (at most n_features)")}
    test_params = {"n_units": 3, "epochs": 2, "batch_size": 16, "random_state": 0}

    _update = staticmethod(sanger_update)
