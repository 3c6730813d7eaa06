"""Associative memories for sparse 0/1 codes: the covariance rule and threshold dynamics.

Pure numpy functions (no coding-rule classes, nothing from :mod:`neurocode.models`), for the
measures of :mod:`neurocode.metrics` that must not depend on the built-in rules.

**Storage: the covariance rule** of Tsodyks & Feigel'man (1988, "The enhanced storage
capacity in neural networks with low activity level", Europhys. Lett. 6, 101-105; Buhmann,
Divko & Schulten 1989, Phys. Rev. A 39, 2689-2692, study a variant with adaptive threshold
and global inhibition). Patterns ``x^mu`` in {0, 1}^N, ``mu = 1..M``, of mean activity ``a``
(the fraction of active units)::

    J_ij = 1 / (N a (1 - a))  sum_mu (x_i^mu - a)(x_j^mu - a)    (i != j),    J_ii = 0

The normalisation ``1 / (N a (1 - a))`` is chosen here (the rule is often quoted with it;
a constant factor changes no fixed point of k-winners recall and only rescales a fixed
threshold): it makes the field of a random stored pattern on itself ``x_i^mu - a`` (``1 - a``
on its active units, ``-a`` on its silent ones, a gap of 1 whatever ``a``), so thresholds
read in units of that gap. At ``a = 1/2`` it is the Hopfield (1982) rule
``T = (1/N) sum xi xi^T``, ``xi = 2x - 1``, exactly. The sum is kept through the exact
co-activation counts: with ``C_ij = sum_mu x_i^mu x_j^mu``, ``s_i = sum_mu x_i^mu``::

    sum_mu (x_i - a)(x_j - a) = C_ij - a (s_i + s_j) + M a^2

so storing is incremental (:func:`covariance_couplings` with ``counts=`` adds new patterns to
the same matrix) and sparse patterns cost ``k^2`` scattered additions each plus one
``O(N^2)`` pass per call, instead of a dense ``O(N^2)`` product per pattern.

**Recall: threshold dynamics** (:func:`threshold_run`) of 0/1 units::

    h_i = sum_j J_ij V_j,         V_i <- 1 if h_i > theta_i,  0 if h_i < theta_i,  V_i if equal

asynchronously (one unit at a time, in a random order per sweep: with symmetric ``J`` and
zero diagonal the energy ``E = -1/2 V^T J V + sum_i theta_i V_i`` never increases, so each
state settles at a fixed point) or synchronously (all units at once: fixed points or
2-cycles, Goles, Fogelman-Soulie & Pellegrin 1985). With ``k=`` the threshold is instead set
at every update so that exactly ``k`` units fire, the ``k`` of largest field
(activity-controlled, or k-winners-take-all, dynamics; Amari 1989, "Characteristics of
sparsely encoded associative memory", Neural Networks 2, 451-457, shows that sparse
memories have large basins only with such activity control). Synchronous k-winners
dynamics also end in a fixed point or a 2-cycle: the new state maximises ``V' . J V`` over
all states with ``k`` active units, so ``L(t) = V(t+1)^T J V(t)`` never decreases
(``L(t+1) = max_V V . J V(t+1) >= V(t)^T J V(t+1) = L(t)``), and it can stay constant only
when ``V(t+2) = V(t)`` (up to ties).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.zeros((40, 400), dtype=np.uint8)
>>> for row in X:
...     row[rng.choice(400, 20, replace=False)] = 1
>>> J = covariance_couplings(X)
>>> V, sweeps = threshold_run(J, X, k=X.sum(axis=1))
>>> print(bool((V == X).all()), int(sweeps.max()))
True 1
"""

from __future__ import annotations

# one idea a module: shared checks (checks), the covariance rule (covariance), threshold
# dynamics (threshold), the Willshaw net (willshaw), the +-1 Hopfield net (hopfield). Every
# name the module neurocode.memories had is re-exported here.
from neurocode.memories.checks import _EXACT_F32, check_binary, overlap  # noqa: F401
from neurocode.memories.covariance import (  # noqa: F401
    _CHUNK_ROWS,
    _ROW_BLOCK,
    check_binary01,
    covariance_couplings,
    covariance_overlap,
)
from neurocode.memories.hopfield import hebbian_couplings, hopfield_energy, hopfield_run
from neurocode.memories.threshold import threshold_run
from neurocode.memories.willshaw import willshaw_recall, willshaw_store, willshaw_sums

__all__ = ["check_binary", "check_binary01", "covariance_couplings", "covariance_overlap",
           "hebbian_couplings", "hopfield_energy", "hopfield_run", "overlap", "threshold_run",
           "willshaw_recall", "willshaw_store", "willshaw_sums"]


