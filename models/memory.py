"""Associative memories of binary neurons: the Willshaw net and the Hopfield net.

Both store binary patterns (rows of ``X``, entries 0 or 1) and recall a stored pattern from a
cue; as coding rules, ``fit(X)`` stores ``X``, ``partial_fit(X)`` stores more, and
``encode(X)`` is the recall from the cues ``X``. ``n_units`` is the width of the stored
patterns. A silenced unit (``unit_mask`` False) is a deleted neuron: its synapses are gone, so
it gives no input to the others, it takes no part in the dynamics, and its output is 0.

**Willshaw net** (Willshaw, Buneman & Longuet-Higgins 1969, "Non-holographic associative
memory", Nature 222, 960-962). Binary synapses ``W_ij`` in {0, 1} set by clipped Hebbian
learning: after storing the pairs ``(a^mu, b^mu)``, ``mu = 1..M``::

    W_ij = min(1, sum_mu a_i^mu b_j^mu)      (on once units i and j were ever active together)

Autoassociative storage (``fit``) stores ``(x^mu, x^mu)``; :meth:`Willshaw.store_pairs` stores
hetero-associative pairs. Recall from a cue ``c``: dendritic sums ``s_j = sum_i c_i W_ij`` and

    threshold:  y_j = [s_j >= theta],   theta = sum_i c_i (the cue's activity)
    top-k:      y_j = [s_j >= the k-th largest s]   (ties at that value all fire)

For random k-of-N pairs the fraction of set synapses is ``p1 = 1 - (1 - k^2/N^2)^M`` and a
full cue recalls its partner plus about ``(N - k) p1^k`` spurious units (Willshaw et al. 1969;
Palm 1980, "On associative memory", Biol. Cybern. 36, 19-31).

**Hopfield net** (Hopfield 1982, "Neural networks and physical systems with emergent
collective computational abilities", PNAS 79, 2554-2558). Units ``s_i`` in {-1, +1} (a stored
0/1 pattern ``x`` becomes ``xi = 2x - 1``, and a state back ``x = [s > 0]``), Hebbian
outer-product couplings with zero diagonal::

    T_ij = (1/N) sum_mu xi_i^mu xi_j^mu   (i != j),    T_ii = 0
    h_i  = sum_j T_ij s_j,                 s_i <- sign(h_i)   (unchanged when h_i = 0)

updated asynchronously (one unit at a time, in a random order per sweep: the energy
``E = -1/2 s^T T s`` never increases, so the state reaches a fixed point) or synchronously (all
units at once: fixed points or 2-cycles). Random dense patterns are recalled almost perfectly
up to ``M ~ 0.138 N`` and not above (Amit, Gutfreund & Sompolinsky 1985, "Storing infinite
numbers of patterns in a spin-glass model of neural networks", Phys. Rev. Lett. 55, 1530-1533).

The pure functions :func:`willshaw_store`, :func:`willshaw_recall`, :func:`hebbian_couplings`
and :func:`hopfield_run` do the work; the classes carry the state through them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

# the pure functions live in the framework (neurocode.memories), below every rule and measure;
# they are re-exported here, where the rules that carry state through them are
from neurocode.memories import (
    check_binary,
    hebbian_couplings,
    hopfield_energy,
    hopfield_run,
    overlap,
    willshaw_recall,
    willshaw_store,
    willshaw_sums,
)
from neurocode.params import Param
from neurocode.rules import CodingRule, NotFittedError

__all__ = [
    "Hopfield",
    "Willshaw",
    "check_binary",
    "hebbian_couplings",
    "hopfield_energy",
    "hopfield_run",
    "overlap",
    "willshaw_recall",
    "willshaw_store",
    "willshaw_sums",
]

class _Memory(CodingRule):
    """Shared by the two memories: binary patterns in, ``n_units`` from the stored width."""

    # binary patterns only (check_binary); a deleted unit leaves the network: it gives no input
    # and the others recall without it
    tags = replace(CodingRule.tags, code_kind="binary", input_domain="binary",
                   silencing="resettles")

    @property
    def n_units(self) -> int:
        """N, the number of units (the width of the stored patterns)."""
        if not hasattr(self, "weights_"):
            raise NotFittedError(f"rule '{self.name}' has no units before fit: it takes the "
                                 f"width of the stored patterns")
        return int(self.weights_.shape[1])

    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        had = hasattr(self, "n_features_in_")
        old = getattr(self, "n_features_in_", None)
        X = super()._check_X(X, reset)
        try:
            return check_binary(X, "X", f"rule '{self.name}'")
        except ValueError:
            if reset:  # a refused fit leaves the rule as it was
                if had:
                    self.n_features_in_ = old
                else:
                    del self.n_features_in_
            raise

    def _fit(self, X: np.ndarray, y: np.ndarray | None = None) -> None:
        self._reset(X.shape[1])
        self._store(X)

    def partial_fit(self, X: Any, y: Any = None) -> _Memory:
        """Store the binary patterns ``X`` (rows) in addition to those stored already."""
        self._validate_params()
        fitted = hasattr(self, "weights_")
        X = self._check_X(X, reset=not fitted)
        if not fitted:
            self._reset(X.shape[1])
        self._store(X)
        return self

    def store(self, patterns: Any) -> _Memory:
        """Store binary patterns (rows), online: the same as :meth:`partial_fit`."""
        return self.partial_fit(patterns)

    def _reset(self, n: int) -> None:
        raise NotImplementedError

    def _store(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._recall(X, mask).astype(np.float64)


class Willshaw(_Memory):
    """Willshaw net: binary synapses by clipped Hebbian learning, threshold recall.

    Storage of the binary patterns ``x^mu`` (autoassociative, ``fit``/``partial_fit``) or of
    pairs ``(a^mu, b^mu)`` (hetero-associative, :meth:`store_pairs`), after Willshaw, Buneman &
    Longuet-Higgins (1969), "Non-holographic associative memory", Nature 222, 960-962::

        W_ij = min(1, sum_mu a_i^mu b_j^mu)              (W boolean, n_in x n_out)

    Recall (``encode``, :meth:`recall`) from a binary cue ``c``, with ``s_j = sum_i c_i W_ij``::

        retrieval="threshold":  y_j = [s_j >= sum_i c_i]
        retrieval="top-k":      y_j = [s_j >= k-th largest of s]   (k=None: k = sum_i c_i)

    A full cue of a stored pattern always recalls it (every synapse it needs is set); the other
    units fire only when all their synapses from the cue are set: about ``(N - k) p1^k`` of
    them for random k-of-N patterns, ``p1 = 1 - (1 - k^2/N^2)^M`` being the fraction of set
    synapses (:attr:`fraction_set`). A deleted unit (``unit_mask`` False) gives no input and
    outputs 0; the threshold counts only the alive active cue units. In a hetero-associative
    memory ``unit_mask`` covers the output units. The cue's activity sets the threshold,
    so a partial cue (a subset of a stored pattern) still recalls the whole pattern.

    Examples
    --------
    >>> from neurocode.models.binary import random_codes
    >>> X = random_codes(200, 256, 8, random_state=0)
    >>> mem = Willshaw().fit(X)
    >>> print(float((mem.encode(X) == X).all(axis=1).mean()))
    1.0
    """

    name = "willshaw"
    description = "Willshaw associative memory: clipped Hebbian binary synapses, threshold recall"
    tags = replace(_Memory.tags, style=("#CC6677", "8"), legend_rank=12,
                   cost=(0.03, 1.5e-5, ("data.n_train",)))
    params: ClassVar[dict[str, Param]] = {
        "retrieval": Param(str, "threshold", choices=("threshold", "top-k"),
                           doc="threshold: units whose sum reaches the cue's activity fire; "
                               "top-k: the k largest sums fire (ties at the k-th all fire)"),
        "k": Param(int, None, low=1, nullable=True,
                   doc="top-k recall: winners per recall (null: the cue's activity)"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """The conformance suite's data (:func:`neurocode.testing.conformance_data`): ``n_samples``
        random 4-of-32 binary codes, the patterns a memory stores, with labels of 3 classes."""
        from neurocode.models.binary import random_codes

        y = np.random.default_rng(1).integers(0, 3, n_samples)
        return random_codes(n_samples, 32, 4, random_state=0).astype(np.float64), y

    def _reset(self, n_in: int, n_out: int | None = None) -> None:
        self.weights_ = np.zeros((n_in, n_in if n_out is None else n_out), dtype=bool)
        self.n_stored_ = 0
        self.autoassociative_ = n_out is None

    def _store(self, X: np.ndarray, Y: np.ndarray | None = None) -> None:
        if Y is None and not self.autoassociative_:
            raise ValueError(f"rule '{self.name}' holds hetero-associative pairs: add more with "
                             f"store_pairs(A, B)")
        willshaw_store(self.weights_, X, Y)
        self.n_stored_ += len(X)

    def store_pairs(self, A: Any, B: Any) -> Willshaw:
        """Store hetero-associative pairs: ``W |= (A^T B > 0)`` for binary ``A`` (M, n_in) and
        ``B`` (M, n_out). On an unfitted memory this makes a hetero-associative one
        (``n_features_in_ = n_in``, ``n_units = n_out``); later calls add pairs."""
        self._validate_params()
        fitted = hasattr(self, "weights_")
        B = check_binary(B, "B", f"rule '{self.name}'")
        if len(B) != len(np.asarray(A)):
            raise ValueError(f"A and B must hold the same number of patterns, "
                             f"got {len(np.asarray(A))} and {len(B)}")
        A = self._check_X(A, reset=not fitted)
        if not fitted:
            self._reset(A.shape[1], B.shape[1])
        elif B.shape[1] != self.n_units:
            raise ValueError(f"B has {B.shape[1]} units, the memory has {self.n_units} outputs")
        willshaw_store(self.weights_, A, B)
        self.n_stored_ += len(A)
        return self

    def recall(self, cues: Any, k: int | None = None, unit_mask: Any = None) -> np.ndarray:
        """Recall from binary cues: uint8 codes ``(n, n_units)``.

        ``k=None``: the rule's ``retrieval`` and ``k`` parameters; an integer ``k``: top-k recall
        with ``k`` winners.
        """
        self._check_fitted()
        self._validate_params()
        C = self._check_X(cues)
        mask = self._check_mask(unit_mask)
        return self._recall(C, mask, k)

    recall_pairs = recall

    def _recall(self, C: np.ndarray, mask: np.ndarray, k: int | None = None) -> np.ndarray:
        C = check_binary(C, "cues")
        mode, kk = (self.retrieval, self.k) if k is None else ("top-k", int(k))
        all_alive = bool(mask.all())
        alive_in = None if all_alive or not self.autoassociative_ else mask
        return willshaw_recall(self.weights_, C, k=kk, mode=mode, alive_in=alive_in,
                               alive_out=None if all_alive else mask)

    @property
    def fraction_set(self) -> float:
        """Fraction of set synapses ``p1`` over all ``n_in x n_out`` entries of ``W``."""
        self._check_fitted()
        return float(self.weights_.mean())


class Hopfield(_Memory):
    """Hopfield net: +-1 units, Hebbian outer-product couplings, sync or async recall.

    Storage (Hopfield 1982, "Neural networks and physical systems with emergent collective
    computational abilities", PNAS 79, 2554-2558) of binary patterns ``x^mu`` as
    ``xi^mu = 2 x^mu - 1``::

        T_ij = (1/N) sum_mu xi_i^mu xi_j^mu  (i != j),   T_ii = 0

    (kept as the integer counts ``weights_ = N T``, which give the same dynamics). Recall
    (``encode``, :meth:`recall`) starts from the cue ``s = 2c - 1`` and updates::

        h_i = sum_j T_ij s_j,      s_i <- +1 if h_i > 0,  -1 if h_i < 0,  s_i if h_i = 0

    ``update="async"``: one unit at a time in a random order per sweep, drawn from
    ``random_state`` (the energy ``E = -1/2 s^T T s`` never increases, so the state settles at
    a fixed point); ``update="sync"``: all units at once (may end in a 2-cycle). Each cue stops
    at a fixed point or after ``max_sweeps``. The code is ``y = [s > 0]``. A deleted unit
    (``unit_mask`` False) is removed from the network: it sends no input and outputs 0.
    Random dense patterns are retrieved up to about ``0.138 N`` of them (Amit, Gutfreund &
    Sompolinsky 1985, Phys. Rev. Lett. 55, 1530-1533).

    Examples
    --------
    >>> import numpy as np
    >>> X = (np.random.default_rng(0).random((10, 200)) < 0.5).astype(float)
    >>> net = Hopfield(random_state=0).fit(X)
    >>> print(float(overlap(net.encode(X), X).mean()))
    1.0
    """

    name = "hopfield"
    description = "Hopfield network: +-1 units, Hebbian couplings, sync or async recall"
    params: ClassVar[dict[str, Param]] = {
        "update": Param(str, "async", choices=("async", "sync"),
                        doc="async: one unit at a time in a random order per sweep; "
                            "sync: all units at once"),
        "max_sweeps": Param(int, 100, low=1, high=100_000,
                            doc="most sweeps (updates of every unit) per recall; recall stops "
                                "earlier at a fixed point"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0, "max_sweeps": 20}
    tags = replace(_Memory.tags, update_modes=("sync", "async"), style=("#AA4499", "d"),
                   legend_rank=11, cost=(0.1, 5e-4, ("data.n_train",)))

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """The conformance suite's data (:func:`neurocode.testing.conformance_data`): ``n_samples``
        random binary patterns of 32 units, each unit on with probability 1/2, with labels of 3
        classes."""
        rng = np.random.default_rng(0)
        y = rng.integers(0, 3, n_samples)
        return (rng.random((n_samples, 32)) < 0.5).astype(np.float64), y

    def _reset(self, n: int) -> None:
        self.weights_ = np.zeros((n, n), dtype=np.int32)
        self.n_stored_ = 0

    def _store(self, X: np.ndarray) -> None:
        hebbian_couplings(X, self.weights_)
        self.n_stored_ += len(X)

    @property
    def couplings(self) -> np.ndarray:
        """``T = weights_ / N``, the Hebbian couplings of Hopfield (1982)."""
        self._check_fitted()
        return self.weights_ / self.n_units

    @property
    def load(self) -> float:
        """``alpha = M / N``: patterns stored per unit (capacity ~0.138 for random patterns)."""
        self._check_fitted()
        return self.n_stored_ / self.n_units

    def recall(self, cues: Any, unit_mask: Any = None, return_sweeps: bool = False):
        """Recall from binary cues: uint8 codes ``(n, n_units)``; with ``return_sweeps`` also
        the sweeps made per cue and whether each reached a fixed point."""
        self._check_fitted()
        self._validate_params()
        C = self._check_X(cues)
        mask = self._check_mask(unit_mask)
        return self._recall(C, mask, return_sweeps)

    def energy(self, codes: Any, unit_mask: Any = None) -> np.ndarray:
        """``E = -1/2 s^T T s`` of binary codes (``s = 2x - 1``; deleted units count as 0)."""
        self._check_fitted()
        X = check_binary(codes, "codes")
        mask = self._check_mask(unit_mask)
        S = (2.0 * X - 1.0) * mask
        return hopfield_energy(self.couplings, S)

    def _recall(self, C: np.ndarray, mask: np.ndarray, return_sweeps: bool = False):
        C = check_binary(C, "cues")
        out = np.zeros(C.shape, dtype=np.uint8)
        alive = np.flatnonzero(mask)
        sweeps = np.zeros(len(C), dtype=np.int64)
        converged = np.ones(len(C), dtype=bool)
        if alive.size:
            T = self.weights_ if alive.size == self.n_units else self.weights_[np.ix_(alive, alive)]
            S0 = C[:, alive].astype(np.int8) * 2 - 1
            S, sweeps, converged = hopfield_run(T, S0, self.update, self.max_sweeps, self._rng())
            out[:, alive] = S > 0
        return (out, sweeps, converged) if return_sweeps else out
