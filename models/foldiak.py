"""Földiák's network: sparse binary codes by Hebbian, anti-Hebbian and homeostatic learning.

Source: P. Földiák (1990), "Forming sparse representations by local anti-Hebbian learning",
Biological Cybernetics 64:165-170.

The pure settling step is :func:`settle`; :class:`Foldiak` carries the learned weights through
it and applies the paper's three local learning rules, one stimulus at a time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from neurocode.params import Param
from neurocode.rules import CodingRule
from neurocode.watch import after_pass

__all__ = ["Foldiak", "settle"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-z)) without overflow warnings
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def settle(drive: np.ndarray, W: np.ndarray, lambda_s: float, mask: np.ndarray | None = None,
           step: float = 0.1, tol: float = 1e-4, max_iter: int = 1000
           ) -> tuple[np.ndarray, np.ndarray]:
    """Relax the network to its fixed point ``y* = sigma(lambda_s (drive + W y*))``.

    Integrates Földiák's (1990) continuous dynamics ``dy*/dt = f(drive + W y*) - y*`` with
    ``f(u) = 1 / (1 + exp(-lambda_s u))`` by Euler steps of size ``step``, starting from
    ``y* = 0``, for every row of ``drive`` at once. A row stops (and is left as it is) once
    its velocity ``max_i |f(u_i) - y*_i|`` falls below ``tol``; rows still moving after
    ``max_iter`` steps are returned as they are and flagged unconverged.

    Parameters
    ----------
    drive : (n_samples, n_units) array
        Feed-forward input minus threshold, ``Q x - t``, one row per stimulus.
    W : (n_units, n_units) array
        Lateral weights (``W[i, j]``: from unit ``j`` to unit ``i``).
    lambda_s : float
        Steepness of the sigmoid.
    mask : (n_units,) bool array or None
        ``False`` silences a unit: its ``y*`` is held at 0, so it neither fires nor inhibits.
    step, tol, max_iter
        Euler step, convergence tolerance on the velocity, and the step limit.

    Returns
    -------
    y : (n_samples, n_units) array
        The settled continuous outputs ``y*`` in [0, 1].
    converged : (n_samples,) bool array
        Whether each row settled within ``max_iter`` steps.
    """
    drive = np.asarray(drive, dtype=np.float64)
    n, m = drive.shape
    gain = np.ones(m) if mask is None else np.asarray(mask, dtype=np.float64)
    y = np.zeros((n, m))
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    Wt = np.ascontiguousarray(np.asarray(W, dtype=np.float64).T)
    for _ in range(int(max_iter)):
        ya = y[active]
        velocity = _sigmoid(lambda_s * (drive[active] + ya @ Wt)) * gain - ya
        still = np.abs(velocity).max(axis=1) >= tol
        ya += step * velocity
        y[active] = ya
        converged[active[~still]] = True
        active = active[still]
        if active.size == 0:
            break
    return y, converged


class Foldiak(CodingRule):
    """Földiák's (1990) sparse coding network: anti-Hebbian lateral inhibition.

    ``n_units`` binary units receive the stimulus ``x`` through feed-forward weights ``Q``
    and inhibit one another through lateral weights ``W <= 0`` (no self-connections). For
    each stimulus the continuous outputs relax, from ``y* = 0``, to the fixed point of

    .. math::

        \\frac{dy^*_i}{dt} = f\\Big(\\sum_j Q_{ij} x_j + \\sum_j W_{ij} y^*_j - t_i\\Big) - y^*_i,
        \\qquad f(u) = \\frac{1}{1 + e^{-\\lambda u}}

    (Euler steps, see :func:`settle`), and the binary outputs are ``y_i = [y*_i > 0.5]``.
    After each stimulus the three local rules of the paper update the weights with these
    binary outputs::

        lateral, anti-Hebbian:  dW_ij = -alpha (y_i y_j - p^2),  then W_ij = 0 if i = j or W_ij > 0
        feed-forward, Hebbian:  dQ_ij =  beta  y_i (x_j - Q_ij)
        threshold:              dt_i  =  gamma (y_i - p)

    The anti-Hebbian rule makes units that fire together inhibit each other until each
    pair co-fires with probability at most ``p^2`` (decorrelation); the threshold rule holds
    each unit's firing rate at ``p``; the Hebbian rule moves ``Q_i`` toward the mean input
    during which unit ``i`` fires, ``E[x | y_i = 1]``.

    Initial state, following the paper's simulations as we read them: ``Q_ij`` drawn
    uniformly from [0, 1], each row then scaled to unit Euclidean length; ``W = 0``; ``t = 0``
    (the threshold rule moves ``t`` to its working range within a few dozen stimuli, so the
    initial ``t`` matters little). Defaults are the paper's
    (``alpha=0.1, beta=0.02, gamma=0.02, lambda_s=10, p=1/8``; 16 units for the 8x8 bars).

    Learning is online, one stimulus at a time in presentation order (:meth:`partial_fit`);
    :meth:`fit` initialises and presents the training set ``epochs`` times (shuffled each time
    if ``shuffle``). Settling is vectorised over stimuli in :meth:`encode` only.

    ``unit_mask``: a silenced unit's ``y*`` is held at 0 during settling, so it neither fires
    nor inhibits the others; the surviving units settle to a new fixed point without it.

    Attributes
    ----------
    Q_ : (n_units, n_features) feed-forward weights
    W_ : (n_units, n_units) lateral weights (symmetric, <= 0, zero diagonal)
    t_ : (n_units,) thresholds
    n_seen_ : number of stimuli learned from
    n_unsettled_ : of those, how many did not settle within ``settle_max_iter`` steps

    Examples
    --------
    >>> from neurocode.data.bars import make_bars
    >>> X, _ = make_bars(1000, random_state=0)
    >>> rule = Foldiak(random_state=0).fit(X)  # 16 units, p = 1/8
    >>> print(round(float(rule.encode(X).mean()), 2))  # fraction of units active
    0.14
    """

    name = "foldiak"
    description = ("Földiák 1990: binary units, Hebbian feed-forward + anti-Hebbian "
                   "lateral inhibition")
    # a silenced unit's y* is held at 0 while the others settle without its inhibition
    tags = replace(CodingRule.tags, code_kind="binary", silencing="resettles", sparsity_param="p",
                   fit_options=("callback",), style=("#CC79A7", "<"), legend_rank=6,
                   cost=(0.5, 1.2e-3, ("data.n_train", "train.epochs")))
    params = {
        "n_units": Param(int, 16, low=1, high=65536, doc="number of output units"),
        "p": Param(float, 0.125, low=0.0, high=1.0,
                   doc="target firing probability of each unit (sets the sparseness)"),
        "lambda_s": Param(float, 10.0, low=1e-6, doc="steepness lambda of the sigmoid f"),
        "settle_step": Param(float, 0.1, low=1e-6, high=1.0,
                             doc="Euler step of the settling dynamics (time constant 1)"),
        "settle_tol": Param(float, 1e-4, low=1e-12, high=0.5,
                            doc="settling stops when max |dy*/dt| falls below this"),
        "settle_max_iter": Param(int, 1000, low=1, high=1_000_000,
                                 doc="most Euler steps per stimulus"),
        "alpha": Param(float, 0.1, low=0.0, doc="learning rate of the anti-Hebbian lateral weights",
                       section="train"),
        "beta": Param(float, 0.02, low=0.0, high=1.0,
                      doc="learning rate of the Hebbian feed-forward weights", section="train"),
        "gamma": Param(float, 0.02, low=0.0, doc="learning rate of the thresholds",
                       section="train"),
        "epochs": Param(int, 1, low=1, high=100_000, doc="passes over the training set in fit",
                        section="train"),
        "shuffle": Param(bool, True,
                         doc="present the training set in a fresh random order each epoch",
                         section="train"),
    }
    test_params = {"n_units": 6, "settle_max_iter": 200, "random_state": 0}

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields, ``(n_units, n_features)``, for drawing (None: none)."""
        self._check_fitted()
        return np.asarray(self.Q_)

    # -- state ----------------------------------------------------------------------------
    def _init_state(self, n_features: int, rng: np.random.Generator) -> None:
        Q = rng.uniform(0.0, 1.0, (self.n_units, n_features))
        norms = np.linalg.norm(Q, axis=1, keepdims=True)
        self.Q_ = Q / np.where(norms > 0, norms, 1.0)
        self.W_ = np.zeros((self.n_units, self.n_units))
        self.t_ = np.zeros(self.n_units)
        self.n_seen_ = 0
        self.n_unsettled_ = 0

    def _settle(self, X: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return settle(X @ self.Q_.T - self.t_, self.W_, self.lambda_s, mask,
                      self.settle_step, self.settle_tol, self.settle_max_iter)

    # -- learning -------------------------------------------------------------------------
    def _learn(self, X: np.ndarray, order: np.ndarray) -> None:
        Q, W, t = self.Q_, self.W_, self.t_
        alpha, beta, gamma, p2 = self.alpha, self.beta, self.gamma, self.p ** 2
        diag = np.eye(self.n_units, dtype=bool)
        unsettled = 0
        for idx in order:
            x = X[idx]
            y_star, ok = settle((Q @ x - t)[None, :], W, self.lambda_s, None,
                                self.settle_step, self.settle_tol, self.settle_max_iter)
            unsettled += int(not ok[0])
            y = (y_star[0] > 0.5).astype(np.float64)
            # the three rules use the same binary outputs (simultaneous update)
            W -= alpha * (np.outer(y, y) - p2)
            W[diag] = 0.0
            np.minimum(W, 0.0, out=W)
            Q += (beta * y)[:, None] * (x[None, :] - Q)
            t += gamma * (y - self.p)
        self.n_seen_ = int(self.n_seen_) + len(order)
        self.n_unsettled_ = int(self.n_unsettled_) + unsettled

    def _fit(self, X: np.ndarray, y: Any = None, callback: Any = None) -> None:
        rng = self._rng()
        self._init_state(X.shape[1], rng)
        for epoch in range(self.epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            self._learn(X.astype(np.float64, copy=False), order)
            after_pass(self, X, callback, epoch + 1)   # the watched code (neurocode.watch)

    def partial_fit(self, X: Any, y: Any = None) -> Foldiak:
        """Learn from the stimuli ``X`` one at a time, in the given order (one pass).

        The first call initialises the weights as :meth:`fit` does.
        """
        self._validate_params()
        fitted = hasattr(self, "Q_")
        X = self._check_X(X, reset=not fitted)
        if not fitted:
            self._init_state(X.shape[1], self._rng())
        self._learn(X.astype(np.float64, copy=False), np.arange(len(X)))
        return self

    # -- coding ---------------------------------------------------------------------------
    def settle_continuous(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """The settled continuous outputs ``y*`` (before the 0.5 threshold) of stimuli ``X``."""
        self._check_fitted()
        X = self._check_X(X)
        mask = self._check_mask(unit_mask)
        return self._settle(X, mask)[0]

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        y_star, _ = self._settle(X, mask)
        return ((y_star > 0.5) & mask).astype(np.float64)
