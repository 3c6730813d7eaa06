"""k-winners-take-all: hard lateral inhibition on a competitively learned feed-forward layer.

Winner selection: the k units with the largest feed-forward drive are active, all others are
silent -- the hard form of lateral inhibition of O'Reilly's kWTA (O'Reilly 1998, "Six
principles for biologically based computational models of cortical cognition", Trends in
Cognitive Sciences 2:455-462) and of the k-sparse autoencoder's support selection (Makhzani &
Frey 2013, "k-Sparse Autoencoders", arXiv:1312.5663).

Learning: competitive learning (Rumelhart & Zipser 1985, "Feature discovery by competitive
learning", Cognitive Science 9:75-112) -- only winners learn, and they move toward the
stimulus under a weight normalisation. Rumelhart & Zipser keep each unit's weights summing to
one; here each weight vector is kept at unit Euclidean length, the dot-product form of the
rule (Kohonen 1982, "Self-organized formation of topologically correct feature maps",
Biological Cybernetics 43:59-69), so that the drive ``w_i . x = ||x|| cos(w_i, x)`` ranks units
by angle alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule
from neurocode.watch import after_pass

__all__ = ["KWTA", "k_winners"]


def k_winners(drive: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Binary codes: 1 for the ``k`` largest entries of each row of ``drive``, else 0.

    Silenced units (``mask`` False) cannot win; the winners are the ``min(k, n_alive)`` alive
    units of largest drive, whatever its sign. Ties are broken by unit index (lower wins).
    """
    drive = np.asarray(drive, dtype=np.float64)
    n, m = drive.shape
    alive = np.arange(m) if mask is None else np.flatnonzero(mask)
    kk = min(int(k), alive.size)
    codes = np.zeros((n, m))
    if kk == 0 or n == 0:
        return codes
    sub = drive[:, alive]
    if kk < alive.size:
        # stable sort on -drive: ties go to the lower unit index
        top = np.argsort(-sub, axis=1, kind="stable")[:, :kk]
    else:
        top = np.broadcast_to(np.arange(alive.size), (n, alive.size))
    codes[np.arange(n)[:, None], alive[top]] = 1.0
    return codes


class KWTA(CodingRule):
    """k-winners-take-all with competitive Hebbian learning on unit-norm weights.

    Coding: for a stimulus ``x`` the drive of unit ``i`` is ``a_i = w_i . x``; the ``k`` units
    of largest drive fire (code 1), all others are silent (code 0), so every code has exactly
    ``k`` active units out of ``n_units``: ``k = 1`` is a local (grandmother-cell) code,
    ``k = n_units / 2`` a dense one.

    Learning (Rumelhart & Zipser 1985, with the Euclidean normalisation of Kohonen's
    dot-product rule): for a mini-batch ``B`` with winner sets ``K(x)``, each unit moves toward
    the normalised stimuli it won, then back onto the unit sphere::

        w_i <- w_i + eta_s * sum_{x in B : i in K(x)} x / ||x||
        w_i <- w_i / ||w_i||

    (``batch_size=1`` is the classic online rule; a batch only delays the renormalisation.)
    A unit whose winning set stays ``S_i`` has the fixed point ``w_i`` parallel to
    ``E[x / ||x|| | x in S_i]``, the mean direction of the stimuli it wins: with ``k = 1``
    this is spherical k-means, and each weight vector settles on the mean direction of one
    cluster of the data. Stimuli with ``x = 0`` take part in the competition but teach
    nothing.

    Learning-rate schedule (``lr_schedule``): ``"constant"``, ``eta_s = lr``; ``"linear"``,
    ``eta_s = lr * (1 - s / S)`` over the ``S`` mini-batch steps of :meth:`fit`, which ends
    at rate 0 so the weights stop at the average of their last moves. :meth:`partial_fit`
    always uses the constant rate ``lr``.

    Initial weights (``init``): ``"kmeans++"`` (default) seeds the weights with normalised
    training stimuli chosen by k-means++ D^2 sampling on the unit sphere (Arthur &
    Vassilvitskii 2007, on at most 4096 stimuli drawn at random), which keeps units from
    starting in the same cluster and dying there; ``"sample"`` takes ``n_units`` random
    normalised stimuli; ``"random"`` takes Gaussian directions.

    ``unit_mask``: silenced units cannot win; the winners are the ``min(k, n_alive)`` alive
    units of largest drive (whatever its sign), so with fewer than ``k`` alive units every
    alive unit fires. The rule has no decoder (its unit-norm weights carry directions, not
    stimuli), so it is not generative.

    Attributes
    ----------
    weights_ : (n_units, n_features) unit-norm weight vectors
    wins_ : (n_units,) how many training stimuli each unit has won
    n_steps_ : number of mini-batch updates made

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((200, 16))
    >>> rule = KWTA(n_units=32, k=4, random_state=0).fit(X)
    >>> print(rule.encode(X).sum(axis=1).max())
    4.0
    """

    name = "kwta"
    description = "k-winners-take-all: competitive Hebbian learning, exactly k active units"
    # the k winners are chosen among the alive units: min(k, n_alive) fire
    tags = replace(CodingRule.tags, code_kind="binary", silencing="recompetes", sparsity_param="k",
                   legend_params=("k",), fit_options=("callback",), style=("#E69F00", "^"),
                   legend_rank=4, cost=(0.3, 3e-4, ("data.n_train", "train.epochs")))
    params = {
        "n_units": Param(int, 64, low=1, high=1_000_000, doc="number of units"),
        "k": Param(int, 4, low=1, high=1_000_000,
                   doc="number of winners (active units) per stimulus"),
        "init": Param(str, "kmeans++", choices=("kmeans++", "sample", "random"),
                      doc="initial weights: k-means++ seeding, random stimuli, "
                          "or random directions"),
        "lr": Param(float, 0.05, low=0.0, doc="learning rate eta", section="train"),
        "lr_schedule": Param(str, "linear", choices=("constant", "linear"),
                             doc="constant lr, or linear decay to 0 over the steps of fit",
                             section="train"),
        "epochs": Param(int, 1, low=1, high=100_000, doc="passes over the training set",
                        section="train"),
        "batch_size": Param(int, 1, low=1, high=1_000_000,
                            doc="stimuli per weight update (1: online)", section="train"),
        "shuffle": Param(bool, True,
                         doc="present the training set in a fresh random order each epoch",
                         section="train"),
    }
    test_params = {"n_units": 8, "k": 2, "epochs": 2, "batch_size": 4, "random_state": 0}

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields, ``(n_units, n_features)``, for drawing (None: none)."""
        self._check_fitted()
        return np.asarray(self.weights_)

    def _validate_together(self) -> None:
        if self.k > self.n_units:
            raise ParamError(f"rule '{self.name}' parameter 'k' must be <= n_units "
                             f"({self.n_units}), got {self.k}")

    # -- state ----------------------------------------------------------------------------
    def _init_weights(self, X: np.ndarray, rng: np.random.Generator) -> None:
        n_features = X.shape[1]
        norms = np.linalg.norm(X, axis=1)
        Xn = X[norms > 0] / norms[norms > 0, None]
        init = self.init if len(Xn) else "random"
        if init == "random":
            W = rng.standard_normal((self.n_units, n_features))
        elif init == "sample":
            W = Xn[rng.choice(len(Xn), self.n_units, replace=len(Xn) < self.n_units)]
        else:
            if len(Xn) > 4096:
                Xn = Xn[rng.choice(len(Xn), 4096, replace=False)]
            W = _kmeanspp_sphere(Xn, self.n_units, rng)
        self.weights_ = _normalise_rows(W.astype(np.float64, copy=True), rng)
        self.wins_ = np.zeros(self.n_units, dtype=np.int64)
        self.n_steps_ = 0

    # -- learning -------------------------------------------------------------------------
    def _learn_batch(self, Xb: np.ndarray, lr: float, rng: np.random.Generator) -> None:
        W = self.weights_
        codes = k_winners(Xb @ W.T, self.k)
        norms = np.linalg.norm(Xb, axis=1, keepdims=True)
        Xn = Xb / np.where(norms > 0, norms, 1.0)
        won = np.flatnonzero(codes.any(axis=0))  # only winners move
        W[won] = _normalise_rows(W[won] + lr * (codes[:, won].T @ Xn), rng)
        self.wins_ += codes.sum(axis=0).astype(np.int64)
        self.n_steps_ = int(self.n_steps_) + 1

    def _fit(self, X: np.ndarray, y: Any = None, callback: Any = None) -> None:
        X = X.astype(np.float64, copy=False)
        rng = self._rng()
        self._init_weights(X, rng)
        bs = self.batch_size
        per_epoch = -(-len(X) // bs)
        total = per_epoch * self.epochs
        step = 0
        for epoch in range(self.epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            for start in range(0, len(X), bs):
                lr = self.lr if self.lr_schedule == "constant" else self.lr * (1.0 - step / total)
                self._learn_batch(X[order[start:start + bs]], lr, rng)
                step += 1
            after_pass(self, X, callback, epoch + 1)   # the watched code (neurocode.watch)

    def partial_fit(self, X: Any, y: Any = None) -> KWTA:
        """One pass over ``X`` in the given order, in mini-batches, at the constant rate ``lr``.

        The first call initialises the weights from ``X`` as :meth:`fit` does.
        """
        self._validate_params()
        fitted = hasattr(self, "weights_")
        X = self._check_X(X, reset=not fitted).astype(np.float64, copy=False)
        rng = self._rng()
        if not fitted:
            self._init_weights(X, rng)
        for start in range(0, len(X), self.batch_size):
            self._learn_batch(X[start:start + self.batch_size], self.lr, rng)
        return self

    # -- coding ---------------------------------------------------------------------------
    def drive(self, X: Any) -> np.ndarray:
        """Feed-forward drive ``X @ weights_.T`` (n_samples, n_units), before the competition."""
        self._check_fitted()
        return self._check_X(X) @ self.weights_.T

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return k_winners(X @ self.weights_.T, self.k, mask)


def _normalise_rows(W: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    norms = np.linalg.norm(W, axis=1)
    dead = ~(norms > 0)
    if dead.any():  # a zero row has no direction: give it a random one
        W[dead] = rng.standard_normal((int(dead.sum()), W.shape[1]))
        norms[dead] = np.linalg.norm(W[dead], axis=1)
    return W / norms[:, None]


def _kmeanspp_sphere(Xn: np.ndarray, n_centres: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding of unit vectors (Arthur & Vassilvitskii 2007; the greedy
    variant with ``2 + ln(n_centres)`` candidates per centre, as in scikit-learn's
    ``kmeans_plusplus``), with the squared chordal distance ``||a - b||^2 = 2 - 2 a.b``.
    Once all distances are 0 the remaining centres are drawn uniformly."""
    n = len(Xn)
    trials = 2 + int(np.log(n_centres))
    centres = np.empty((n_centres, Xn.shape[1]))
    first = rng.integers(n)
    centres[0] = Xn[first]
    d2 = np.maximum(2.0 - 2.0 * Xn @ Xn[first], 0.0)
    for c in range(1, n_centres):
        total = d2.sum()
        if not total > 0:
            i = rng.integers(n)
            centres[c] = Xn[i]
            continue
        cand = rng.choice(n, size=trials, p=d2 / total)
        cand_d2 = np.minimum(d2[None, :], np.maximum(2.0 - 2.0 * Xn[cand] @ Xn.T, 0.0))
        best = int(np.argmin(cand_d2.sum(axis=1)))
        centres[c] = Xn[cand[best]]
        d2 = cand_d2[best]
    return centres
