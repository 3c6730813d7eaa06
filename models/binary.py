"""Binary k-of-N codes: exactly ``k`` of ``N`` binary neurons active per item.

The k-of-N code is the common frame in which the theory compares local, sparse and dense
codes (e.g. Foldiak 2002, "Sparse coding in the primate cortex", in *The Handbook of Brain
Theory and Neural Networks*; Palm 1980, "On associative memory", Biol. Cybern. 36):

* **local** (grandmother-cell) code, ``k = 1``: N items at most, no interference, no fault
  tolerance;
* **sparse** code, ``k ~ log2 N``: the regime in which binary associative memories store the
  most information (Willshaw et al. 1969; Palm 1980);
* **dense** code, ``k = N / 2``: the most codes, ``C(N, N/2)``, and the most overlap between them.

Two ways to assign codes:

* :func:`random_codes` / :func:`random_code_indices` draw codes for *items* (for theory): each
  row an independent, uniformly random ``k``-subset of the ``N`` units.
* :class:`KofN` assigns codes to *stimuli*: ``mode="projection"`` keeps the ``k`` units with the
  largest drive ``(x - mean) . w_j`` through a fixed random projection ``w_j ~ N(0, I)`` drawn in
  ``fit`` (nothing else is learned; similar stimuli get overlapping codes);
  ``mode="random"`` gives every distinct stimulus its own uniformly random ``k``-of-``N`` code,
  drawn from a generator seeded by a hash of the stimulus's bytes and a seed drawn in ``fit``,
  so the same stimulus always gets the same code and distinct stimuli get independent codes
  (an idealised "random" item code with no similarity structure).

Both modes are a top-``k`` over a priority vector (the drive, or uniform random numbers): a
silenced unit is removed from the competition, so the code has ``k`` active *alive* units
(all alive units when fewer than ``k`` are alive).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from neurocode.params import Param, ParamError

# the random k-of-N codes (the null of every comparison) live in the framework
from neurocode.random_codes import random_code_indices, random_codes
from neurocode.rules import CodingRule

__all__ = ["KofN", "PRESETS", "preset_k", "random_code_indices", "random_codes", "top_k_codes"]

PRESETS = ("local", "sparse", "dense")


def preset_k(preset: str, n_units: int) -> int:
    """Active units of a named preset: ``local`` 1, ``sparse`` ``round(log2 N)``, ``dense``
    ``N // 2`` (each at least 1)."""
    if preset == "local":
        return 1
    if preset == "sparse":
        return max(1, int(round(math.log2(n_units))))
    if preset == "dense":
        return max(1, n_units // 2)
    raise ValueError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")


def top_k_codes(priority: np.ndarray, k: int, alive: np.ndarray | None = None) -> np.ndarray:
    """Binary float codes keeping, per row, the ``k`` alive units of highest ``priority``.

    Dead units (``alive`` False) never win; with fewer than ``k`` alive units all alive units
    are active. Ties are broken by ``np.argpartition``, deterministically.
    """
    n, N = priority.shape
    codes = np.zeros((n, N))
    alive_idx = np.arange(N) if alive is None else np.flatnonzero(alive)
    m = len(alive_idx)
    if m == 0 or n == 0:
        return codes
    kk = min(k, m)
    p = priority[:, alive_idx]
    win = np.argpartition(p, m - kk, axis=1)[:, m - kk:] if kk < m else np.broadcast_to(
        np.arange(m), (n, m))
    np.put_along_axis(codes, alive_idx[win], 1.0, axis=1)
    return codes


class KofN(CodingRule):
    """Binary k-of-N code: exactly ``k`` of ``N`` binary units active per stimulus.

    With ``preset`` set, ``k`` is ``1`` (``"local"``), ``round(log2 N)`` (``"sparse"``) or
    ``N // 2`` (``"dense"``), overriding the ``k`` parameter; the ``k`` in use is ``k_``.

    ``mode="projection"`` (stimulus-driven code)::

        d_j(x) = (x - mu) . w_j,      w_j ~ N(0, I) drawn in fit,  mu = training mean (center)
        c_j(x) = 1  if j is among the k alive units of largest d_j(x), else 0

    ``mode="random"`` (item code with no similarity structure)::

        u(x) ~ Uniform(0, 1)^N  from a generator seeded by hash(seed_, bytes(x))
        c_j(x) = 1  if j is among the k alive units of largest u_j(x), else 0

    so each distinct stimulus gets an independent, uniformly random k-of-N code, and the same
    stimulus (same float64 values) always the same code. ``seed_`` is drawn in ``fit`` from
    ``random_state``. The codes are binary, with the k-of-N scheme of the sparse-coding theory
    (Willshaw, Buneman & Longuet-Higgins 1969, Nature 222, 960-962; Palm 1980, Biol. Cybern. 36,
    19-31). A silenced unit cannot be among the ``k`` winners (the top-``k`` runs over alive
    units only); with fewer than ``k`` alive units all of them fire. With ``silenced="dropped"``
    the winners are chosen over all units and the silenced ones are then set to 0, so a code
    loses each of its ``k`` units independently, as in the theory's binomial survival
    (:func:`neurocode.metrics.fault.kofn_survival_theory`).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 20))
    >>> rule = KofN(n_units=100, preset="sparse", random_state=0).fit(X)
    >>> print(rule.k_, rule.encode(X).sum(axis=1).max())
    7 7.0
    """

    name = "kofn"
    description = "binary k-of-N code: top-k of a random projection, or a random code per stimulus"
    # the top-k re-competes over the alive units, or (silenced="dropped") drops them
    # its codes are the random k-of-N null every learned code is read against: drawn black
    tags = replace(CodingRule.tags, code_kind="binary", silencing="recompetes",
                   silencing_param="silenced", sparsity_param="k", legend_params=("preset", "k"),
                   style=("#000000", "P"), legend_rank=3, random_null=True,
                   cost=(0.1, 5e-8, ("data.n_train", "model.n_units")))
    params: ClassVar[dict[str, Param]] = {
        "n_units": Param(int, 784, low=1, high=1_000_000, doc="number of binary units N"),
        "k": Param(int, 10, low=1,
                   doc="active units per code, <= n_units (ignored when preset is set)"),
        "preset": Param(str, None, choices=PRESETS, nullable=True,
                        doc="local (k=1), sparse (k=round(log2 N)) or dense (k=N//2); overrides k"),
        "mode": Param(str, "projection", choices=("projection", "random"),
                      doc="projection: top-k of a fixed random projection of the stimulus; "
                          "random: a random code per distinct stimulus (seeded by its hash)"),
        "silenced": Param(str, "replaced", choices=("replaced", "dropped"),
                          doc="what a silenced unit does to a code: replaced (the top-k runs "
                              "over alive units, a winner-take-all circuit that re-competes) or "
                              "dropped (the intact code with the silenced units set to 0: the "
                              "k-of-N theory's unit loss, a binomial survival of the k units)"),
        "center": Param(bool, True, doc="projection mode: subtract the training mean before "
                                        "projecting (otherwise the mean stimulus biases which "
                                        "units win for every input)"),
    }
    test_params: ClassVar[dict[str, Any]] = {"n_units": 12, "k": 3, "random_state": 0}

    def _validate_together(self) -> None:
        if self.preset is None and self.k > self.n_units:
            raise ParamError(f"rule '{self.name}' parameter 'k' ({self.k}) must be <= n_units "
                             f"({self.n_units})")

    @property
    def active_k(self) -> int:
        """The number of active units the parameters give (``preset`` wins over ``k``)."""
        return self.k if self.preset is None else preset_k(self.preset, self.n_units)

    def _fit(self, X: np.ndarray, y: np.ndarray | None = None) -> None:
        rng = self._rng()
        self.k_ = self.active_k
        self.seed_ = int(rng.integers(0, 2**63 - 1))
        self.components_ = rng.standard_normal((X.shape[1], self.n_units))
        self.mean_ = X.astype(np.float64).mean(axis=0) if self.center else np.zeros(X.shape[1])

    def _priority(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.mode == "projection":
            return (X - self.mean_) @ self.components_
        X = X + 0.0  # -0.0 -> 0.0, so equal values hash equally
        key = int(self.seed_).to_bytes(8, "little")
        out = np.empty((len(X), self.n_units))
        for i, row in enumerate(X):
            digest = hashlib.blake2b(row.tobytes(), digest_size=16, key=key).digest()
            out[i] = np.random.default_rng(int.from_bytes(digest, "little")).random(self.n_units)
        return out

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.silenced == "dropped":
            return top_k_codes(self._priority(X), int(self.k_)) * mask
        return top_k_codes(self._priority(X), int(self.k_), mask)
