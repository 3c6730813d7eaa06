"""SAILnet: a sparse code learned by spiking units with synaptically local plasticity.

Source: J. Zylberberg, J. T. Murphy and M. R. DeWeese (2011), "A sparse coding model with
synaptically local plasticity and spiking neurons can account for the diverse shapes of V1
simple cell receptive fields", PLoS Computational Biology 7(10): e1002250.

The network dynamics and the defaults follow the authors' MATLAB code (SAILnet.m, activities.m,
init.m, Joel Zylberberg, 2010, published with the paper). The pure dynamics are
:func:`spike_counts`; :class:`SAILnet` carries the learned weights through them and applies
the three local learning rules once per batch of images.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule
from neurocode.watch import after_pass

__all__ = ["SAILnet", "spike_counts"]

_CHUNK = 4096  # stimuli simulated at once in encode (bounds the memory of the state arrays)


def spike_counts(drive: np.ndarray, W: np.ndarray, theta: np.ndarray, *, n_steps: int = 50,
                 dt: float = 0.1, mask: np.ndarray | None = None) -> np.ndarray:
    """Spike counts of SAILnet's leaky integrate-and-fire units, for a batch of stimuli.

    Each unit ``i`` has a membrane potential ``u_i``, starting at 0, that integrates

    .. math::

        \\tau \\frac{du_i}{dt} = -u_i + \\sum_k Q_{ik} x_k - \\sum_{j \\ne i} W_{ij} s_j(t)

    by Euler steps of ``dt`` (in units of ``tau``)::

        u(t+1) = (1 - dt) u(t) + dt (drive - W s(t))

    where ``drive = Q x`` and ``s(t)`` holds the spikes (0 or 1) of the previous step (zero at
    the first). A unit spikes when ``u_i > theta_i`` and its potential is then reset to 0. The
    code of the stimulus is each unit's number of spikes in ``n_steps`` steps.

    Parameters
    ----------
    drive : (n_samples, n_units) array
        Feed-forward input ``x Q^T`` of each stimulus (one row per stimulus).
    W : (n_units, n_units) array
        Lateral inhibitory weights, ``W[i, j]`` from unit ``j`` to unit ``i`` (>= 0 inhibits).
    theta : (n_units,) array
        Firing thresholds.
    n_steps : int
        Number of Euler steps per stimulus (the authors' code: 50).
    dt : float
        Euler step in units of the membrane time constant (the authors' code: 0.1).
    mask : (n_units,) bool array or None
        ``False`` silences a unit: it never spikes, so it inhibits nobody.

    Returns
    -------
    (n_samples, n_units) float64 array of spike counts (integers).

    Examples
    --------
    One unit, no inhibition, constant drive 1 and threshold 0.5: the potential
    ``1 - 0.9^k`` first exceeds 0.5 after k = 7 steps, so 50 steps hold 7 spikes.

    >>> print(int(spike_counts(np.ones((1, 1)), np.zeros((1, 1)), np.array([0.5]))[0, 0]))
    7
    """
    drive = np.asarray(drive, dtype=np.float64)
    n, m = drive.shape
    theta = np.asarray(theta, dtype=np.float64).reshape(1, m)
    # W s(t) only needs the columns of the units that spiked: dt W^T, rows = presynaptic units
    dWt = dt * np.ascontiguousarray(np.asarray(W, dtype=np.float64).T)
    decay = 1.0 - dt
    dt_drive = dt * drive
    u = np.zeros((n, m))
    counts = np.zeros((n, m))
    alive = None if mask is None or mask.all() else np.asarray(mask, dtype=bool)[None, :]
    fired: np.ndarray | None = None  # units that spiked in the previous step
    prev = np.zeros((n, 0))
    for _ in range(int(n_steps)):
        u *= decay
        u += dt_drive
        if fired is not None and fired.size:
            u -= prev @ dWt[fired]
        spikes = u > theta
        if alive is not None:
            spikes &= alive
        counts += spikes
        np.copyto(u, 0.0, where=spikes)
        fired = np.flatnonzero(spikes.any(axis=0))
        prev = spikes[:, fired].astype(np.float64)
    return counts


class SAILnet(CodingRule):
    """SAILnet (Zylberberg, Murphy & DeWeese 2011): a sparse, decorrelated spike-count code.

    ``n_units`` leaky integrate-and-fire units receive an image patch ``x`` through
    feed-forward weights ``Q`` (one receptive field per row) and inhibit one another through
    lateral weights ``W >= 0`` (zero diagonal). For each image the potentials follow

    .. math::

        \\tau \\frac{du_i}{dt} = -u_i + \\sum_k Q_{ik} x_k - \\sum_{j \\ne i} W_{ij} s_j(t),

    from ``u = 0``, for ``n_steps`` Euler steps of ``dt`` (units of ``tau``); unit ``i`` spikes
    when ``u_i > theta_i`` and resets to 0 (see :func:`spike_counts`). The code ``y_i`` of the
    image is unit ``i``'s spike count. After each batch of ``batch_size`` images the three
    local rules of the paper change the weights, with ``<.>`` the average over the batch::

        lateral, anti-Hebbian (Foldiak): dW_ij    = alpha (<y_i y_j> - p^2),
                                         then W_ii = 0 and W_ij = max(W_ij, 0)
        feed-forward, Hebbian (Oja):     dQ_ik    = beta <y_i (x_k - y_i Q_ik)>
                                                  = beta (<y_i x_k> - <y_i^2> Q_ik)
        threshold, homeostatic:          dtheta_i = gamma (<y_i> - p)

    The threshold rule holds each unit at ``p`` spikes per image (sparseness); the lateral
    rule strengthens inhibition between units that fire together more than independent units
    at rate ``p`` would (``<y_i y_j> > p^2``), which decorrelates them; the Hebbian rule moves
    each field toward the inputs that make its unit fire, with Oja's decay keeping it bounded.
    Every rule uses only what the two cells of a synapse see (synaptically local).

    Defaults are those of the authors' code (``init.m``, ``activities.m``): 16x16 whitened
    patches, each normalised to zero mean and unit variance; ``n_units = 256`` (complete: the
    code's overcompleteness factor ``OC = 1``); ``p = 0.05``; ``alpha = 1``, ``beta = 0.01``,
    ``gamma = 0.1``, constant; batches of 100; ``n_steps = 50`` of ``dt = 0.1``; initial
    ``Q`` Gaussian with unit-length rows, ``W = 0``, ``theta = 2``. The authors trained on
    25,000 batches (2.5 million patches). One difference from their code: there a unit spikes
    when ``u >= theta`` but resets only when ``u > theta``; here both use ``u > theta``
    (identical except on exact ties).

    :meth:`fit` initialises the weights and presents the training set ``epochs`` times in
    batches (a fresh random order each epoch if ``shuffle``); :meth:`partial_fit` learns
    from the given stimuli in order. :meth:`encode` returns the spike counts with the
    weights frozen. ``unit_mask``: a silenced unit never spikes inside the dynamics, so it
    inhibits nobody and the other units respond as in the network without it.

    Attributes
    ----------
    Q_ : (n_units, n_features) feed-forward weights (receptive fields)
    W_ : (n_units, n_units) lateral inhibitory weights (>= 0, zero diagonal)
    theta_ : (n_units,) thresholds
    n_seen_ : number of stimuli learned from
    n_batches_ : number of weight updates
    curves_ : learning curves, one point every ``record_every`` batches (averages over those
        batches): ``step`` (batches), ``spikes_per_unit`` (``<y>`` averaged over units, target
        ``p``), ``cooccurrence`` (mean over pairs ``i != j`` of ``<y_i y_j> / p^2``; 1 at the
        lateral rule's fixed point), ``dQ_rel`` (``||Q - Q_prev|| / ||Q||`` since the last point)

    Examples
    --------
    >>> from neurocode.data.patches import make_patches
    >>> X = make_patches(10_000, 8, random_state=0)  # whitened 8x8 natural-image patches
    >>> rule = SAILnet(n_units=32, epochs=30, random_state=0).fit(X)  # 3000 batches, ~2 s
    >>> print(round(float(rule.encode(X).mean()), 2))  # spikes per unit per patch, p = 0.05
    0.05
    """

    name = "sailnet"
    description = ("Zylberberg et al. 2011 SAILnet: LIF spike counts, Oja-Hebbian fields, "
                   "anti-Hebbian inhibition, threshold homeostasis")
    # a silenced unit never spikes inside the dynamics: it inhibits nobody, the others respond
    # as in the network without it
    tags = replace(CodingRule.tags, code_kind="spike-count", silencing="resettles",
                   sparsity_param="p", fit_options=("callback",), style=("#999933", "p"),
                   legend_rank=10, cost=(0.5, 1.3e-4, ("data.n_train", "train.epochs")))
    params = {
        "n_units": Param(int, 256, low=1, high=65536, doc="number of spiking units"),
        "p": Param(float, 0.05, low=1e-6, high=1000.0,
                   doc="target number of spikes per unit per stimulus (sets the sparseness)"),
        "n_steps": Param(int, 50, low=1, high=100_000,
                         doc="Euler steps of the membrane dynamics per stimulus"),
        "dt": Param(float, 0.1, low=1e-6, high=1.0,
                    doc="Euler step in units of the membrane time constant tau"),
        "alpha": Param(float, 1.0, low=0.0,
                       doc="learning rate of the anti-Hebbian lateral weights W", section="train"),
        "beta": Param(float, 0.01, low=0.0, high=1.0,
                      doc="learning rate of the Hebbian (Oja) feed-forward weights Q",
                      section="train"),
        "gamma": Param(float, 0.1, low=0.0, doc="learning rate of the thresholds theta",
                       section="train"),
        "theta_init": Param(float, 2.0, low=-1e6, high=1e6, doc="initial threshold of every unit",
                            section="train"),
        "batch_size": Param(int, 100, low=1, high=1_000_000,
                            doc="stimuli per weight update (the rules use batch averages)",
                            section="train"),
        "epochs": Param(int, 1, low=1, high=100_000, doc="passes over the training set in fit",
                        section="train"),
        "shuffle": Param(bool, True,
                         doc="present the training set in a fresh random order each epoch",
                         section="train"),
        "record_every": Param(int, 50, low=1, high=1_000_000,
                              doc="batches per point of the learning curves", section="train"),
    }
    test_params = {"n_units": 6, "n_steps": 20, "batch_size": 32, "p": 0.2, "theta_init": 0.5,
                   "random_state": 0}

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields, ``(n_units, n_features)``, for drawing (None: none)."""
        self._check_fitted()
        return np.asarray(self.Q_)

    def _validate_together(self) -> None:
        if self.p >= self.n_steps:
            raise ParamError(f"rule '{self.name}' parameters 'p' and 'n_steps': a unit spikes at "
                             f"most n_steps = {self.n_steps} times per stimulus, so the target "
                             f"p = {self.p} must be below it")

    # -- state ----------------------------------------------------------------------------
    def _init_state(self, n_features: int, rng: np.random.Generator) -> None:
        Q = rng.standard_normal((self.n_units, n_features))
        self.Q_ = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        self.W_ = np.zeros((self.n_units, self.n_units))
        self.theta_ = np.full(self.n_units, float(self.theta_init))
        self.n_seen_ = 0
        self.n_batches_ = 0
        self.curves_ = {"step": np.zeros(0, dtype=np.int64), "spikes_per_unit": np.zeros(0),
                        "cooccurrence": np.zeros(0), "dQ_rel": np.zeros(0)}
        self._block: dict[str, Any] | None = None

    def _counts(self, X: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return spike_counts(X @ self.Q_.T, self.W_, self.theta_, n_steps=self.n_steps,
                            dt=self.dt, mask=mask)

    # -- learning -------------------------------------------------------------------------
    def _learn_batch(self, x: np.ndarray) -> None:
        Q, W, theta = self.Q_, self.W_, self.theta_
        y = self._counts(x, None)
        b = len(x)
        rate = y.mean(axis=0)
        cyy = (y.T @ y) / b
        W += self.alpha * (cyy - self.p ** 2)
        np.fill_diagonal(W, 0.0)
        np.maximum(W, 0.0, out=W)
        Q += self.beta * ((y.T @ x) / b - (y * y).mean(axis=0)[:, None] * Q)
        theta += self.gamma * (rate - self.p)
        self.n_batches_ = int(self.n_batches_) + 1
        self.n_seen_ = int(self.n_seen_) + b
        self._record(rate, cyy)

    def _record(self, rate: np.ndarray, cyy: np.ndarray) -> None:
        m = self.n_units
        off = (cyy.sum() - np.trace(cyy)) / (m * (m - 1)) / self.p ** 2 if m > 1 else np.nan
        block = getattr(self, "_block", None)
        if block is None:
            block = self._block = {"n": 0, "rate": 0.0, "co": 0.0, "Q": self.Q_.copy()}
        block["n"] += 1
        block["rate"] += float(rate.mean())
        block["co"] += float(off)
        if block["n"] < self.record_every:
            return
        c = self.curves_
        norm = np.linalg.norm(self.Q_)
        drift = np.linalg.norm(self.Q_ - block["Q"]) / norm if norm > 0 else np.nan
        c["step"] = np.append(c["step"], np.int64(self.n_batches_))
        c["spikes_per_unit"] = np.append(c["spikes_per_unit"], block["rate"] / block["n"])
        c["cooccurrence"] = np.append(c["cooccurrence"], block["co"] / block["n"])
        c["dQ_rel"] = np.append(c["dQ_rel"], drift)
        self._block = None

    def _learn(self, X: np.ndarray, order: np.ndarray) -> None:
        bs = self.batch_size
        for start in range(0, len(order), bs):
            self._learn_batch(np.asarray(X[order[start:start + bs]], dtype=np.float64))

    def _fit(self, X: np.ndarray, y: Any = None, callback: Any = None) -> None:
        rng = self._rng()
        self._init_state(X.shape[1], rng)
        for epoch in range(self.epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            self._learn(X, order)
            after_pass(self, X, callback, epoch + 1)   # the watched code (neurocode.watch)

    def partial_fit(self, X: Any, y: Any = None) -> SAILnet:
        """Learn from the stimuli ``X`` in the given order, ``batch_size`` at a time (the last
        batch may be smaller), one weight update per batch. The first call initialises the
        weights as :meth:`fit` does.
        """
        self._validate_params()
        fitted = hasattr(self, "Q_")
        X = self._check_X(X, reset=not fitted)
        if not fitted:
            self._init_state(X.shape[1], self._rng())
        self._learn(X, np.arange(len(X)))
        return self

    # -- coding ---------------------------------------------------------------------------
    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.n_units))
        for start in range(0, len(X), _CHUNK):
            x = np.asarray(X[start:start + _CHUNK], dtype=np.float64)
            out[start:start + _CHUNK] = self._counts(x, mask)
        return out
