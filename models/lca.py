"""Locally Competitive Algorithm: sparse coding by thresholding and lateral inhibition.

Source: C. J. Rozell, D. H. Johnson, R. G. Baraniuk and B. A. Olshausen (2008), "Sparse coding
via thresholding and lateral inhibition in neural circuits", Neural Computation 20(10),
2526-2563. The dictionary learning step is Olshausen and Field's (1996, 1997): a gradient step
on the reconstruction error with the code held fixed, then every atom renormalised.

The pure functions come first (:func:`threshold`, :func:`lca_step`, :func:`lca_solve`), the
rule :class:`LCA` is a thin layer that carries a dictionary through them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule
from neurocode.watch import after_pass

__all__ = ["LCA", "lca_objective", "lca_solve", "lca_step", "threshold"]

#: dt = DT_FACTOR * tau / ||Phi||_2^2 when ``dt`` is None. The linearised dynamics on a fixed
#: active set A contract iff dt / tau < 2 / lambda_max(Phi_A^T Phi_A), and
#: lambda_max(Phi_A^T Phi_A) <= ||Phi||_2^2, so any factor below 2 is stable; 1.5 keeps a
#: margin for an estimated norm while converging about 1.5x faster than the textbook 1.
DT_FACTOR = 1.5
#: rows encoded at once (bounds memory: a few (rows, n_units) buffers)
ENCODE_CHUNK = 4096
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# -- the dynamics, as pure functions ----------------------------------------------------------
def threshold(u: torch.Tensor, lam: float, non_negative: bool) -> torch.Tensor:
    """Rozell et al.'s activation ``a = T_lambda(u)``.

    Soft threshold ``sign(u) max(|u| - lam, 0)`` (the L1 penalty), or, with ``non_negative``,
    the shifted ReLU ``max(u - lam, 0)`` (the L1 penalty with ``a >= 0``).
    """
    if non_negative:
        return torch.clamp(u - lam, min=0.0)
    return torch.sign(u) * torch.clamp(u.abs() - lam, min=0.0)


def lca_step(u: torch.Tensor, a: torch.Tensor, b: torch.Tensor, gram: torch.Tensor, lam: float,
             eta: float, non_negative: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One forward-Euler step of ``tau du/dt = b - u - (Phi^T Phi - I) a``, ``eta = dt / tau``.

    Rows are samples: ``u, a, b`` are (batch, n_units), ``gram`` is ``Phi^T Phi`` (symmetric).
    Returns ``(u_next, a_next, tau du/dt)``.
    """
    velocity = b - u - (a @ gram - a)
    u = u + eta * velocity
    return u, threshold(u, lam, non_negative), velocity


def lca_solve(b: torch.Tensor, gram: torch.Tensor, *, lam: float, eta: float, n_steps: int,
              tol: float, non_negative: bool,
              alive: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the LCA from ``u = 0`` for each row of ``b = x Phi``; return ``(a, steps)``.

    A row stops when ``||tau du/dt||_2 <= tol ||b||_2`` (``tol = 0``: run all ``n_steps``) or
    when it has diverged (its code is then NaN); stopped rows leave the batch, so late steps cost
    only what the slow rows need. ``alive`` (boolean, ``(n_units,)``) clamps the ``u`` of
    silenced units to 0: their ``a`` is 0, they receive no drive and inhibit no one.
    """
    n, m = b.shape
    if alive is not None:
        keep = alive.to(b.dtype)
        b = b * keep
        gram = gram * keep[:, None] * keep[None, :]
    out = torch.zeros_like(b)
    steps = torch.full((n,), n_steps, dtype=torch.long)
    live = torch.arange(n)
    scale = torch.linalg.vector_norm(b, dim=1).clamp_min(torch.finfo(b.dtype).tiny)
    u = torch.zeros_like(b)
    a = torch.zeros_like(b)
    for k in range(n_steps):
        u, a, velocity = lca_step(u, a, b, gram, lam, eta, non_negative)
        if alive is not None:
            u = u * keep
            a = a * keep
        speed = torch.linalg.vector_norm(velocity, dim=1)
        diverged = ~torch.isfinite(speed)
        done = (speed <= tol * scale) | diverged if tol > 0 else diverged
        if bool(done.any()):
            out[live[done]] = torch.where(diverged[done, None], torch.nan, a[done])
            steps[live[done]] = k + 1
            rest = ~done
            live, u, a, b, scale = live[rest], u[rest], a[rest], b[rest], scale[rest]
            if live.numel() == 0:
                break
    out[live] = a
    return out, steps


def lca_objective(X: np.ndarray, codes: np.ndarray, dictionary: np.ndarray,
                  lam: float) -> np.ndarray:
    """Per-sample ``E(a) = 1/2 ||x - Phi a||^2 + lam ||a||_1`` (the energy the LCA descends)."""
    residual = X - codes @ dictionary.T
    return 0.5 * np.einsum("ij,ij->i", residual, residual) + lam * np.abs(codes).sum(axis=1)


def _top_eigen(phi: np.ndarray, vector: bool = False) -> tuple[float, np.ndarray | None]:
    """``||Phi||_2^2`` and, if asked, the top eigenvector of ``Phi^T Phi``.

    Computed on the smaller of ``Phi^T Phi`` and ``Phi Phi^T`` with torch (which follows
    ``torch.set_num_threads``).
    """
    p = torch.from_numpy(np.asarray(phi, dtype=np.float64))
    wide = p.shape[0] < p.shape[1]
    gram = p @ p.T if wide else p.T @ p
    if not vector:
        return float(torch.linalg.eigvalsh(gram)[-1]), None
    values, vectors = torch.linalg.eigh(gram)
    top = p.T @ vectors[:, -1] if wide else vectors[:, -1]
    return float(values[-1]), (top / torch.linalg.vector_norm(top).clamp_min(1e-300)).numpy()


# -- the rule ---------------------------------------------------------------------------------
class LCA(CodingRule):
    r"""Locally Competitive Algorithm (Rozell, Johnson, Baraniuk and Olshausen 2008).

    Each unit ``i`` has a membrane state ``u_i``, an output ``a_i = T_lambda(u_i)``, a feed-forward
    drive ``b_i = phi_i^T x`` and lateral inhibition from the other active units in proportion to
    the overlap of their atoms::

        tau du/dt = b - u - (Phi^T Phi - I) a,      b = Phi^T x,      a = T_lambda(u)

    with ``T_lambda`` the soft threshold ``sign(u) max(|u| - lambda, 0)``, or, with
    ``non_negative=True``, the shifted ReLU ``max(u - lambda, 0)``. Integrated by forward Euler
    from ``u = 0``: ``u <- u + (dt / tau) (b - u - (Phi^T Phi - I) a)``, for at most ``n_steps``
    steps, a sample stopping early once ``||tau du/dt||_2 <= tol ||b||_2``. The fixed points are
    the minimisers of the energy the dynamics descend (Rozell et al. 2008)::

        E(a) = 1/2 ||x - Phi a||_2^2 + lambda ||a||_1          (subject to a >= 0 if non_negative)

    ``Phi`` is ``(n_features, n_units)`` with unit-norm columns, stored as ``dictionary_``.

    The linearised dynamics on an active set ``A`` contract iff ``dt / tau < 2 /
    lambda_max(Phi_A^T Phi_A)``; ``dt=None`` takes ``dt = 1.5 tau / ||Phi||_2^2`` from the
    dictionary (``||Phi||_2^2 >= lambda_max(Phi_A^T Phi_A)``, so it is stable for every active
    set). ``dt = tau`` is only stable for near-orthogonal dictionaries (``||Phi||_2^2 < 2``); a
    diverging run raises ``FloatingPointError``.

    **Relation to scikit-learn.** ``sklearn.decomposition.sparse_encode(X, D,
    algorithm="lasso_cd", alpha=alpha, positive=p)`` with ``D = Phi.T`` fits
    ``Lasso(alpha=alpha / n_features)`` to the ``n_features`` pixels of each sample, i.e.
    minimises ``1/(2 n_features) ||x - D^T a||^2 + (alpha / n_features) ||a||_1``, which is
    ``E(a) / n_features`` with ``lambda = alpha``. So ``lam=alpha`` (no rescaling);
    ``non_negative`` is ``positive``.

    **Dictionary.** ``fit(X)`` learns it (Olshausen and Field 1996): atoms start as Gaussian
    random unit vectors; for each mini-batch of ``batch_size`` samples the codes ``a`` are found
    by the LCA with the current dictionary, then ``Phi <- Phi + lr (X - A Phi^T)^T A / B`` (a
    gradient step on the mean of ``1/2 ||x - Phi a||^2``) and every column is renormalised to
    unit norm; ``epochs`` passes over shuffled data. ``partial_fit(X)`` does one pass over ``X`` in
    the given order. To use a fixed dictionary instead, call ``fit(X, dictionary=Phi)`` with
    ``Phi`` of shape ``(n_features, n_units)`` and unit-norm columns: nothing is learned (``X``
    only fixes ``n_features``) and ``epochs``, ``lr`` are ignored.

    **Silenced units** (``unit_mask`` False): their ``u`` is clamped to 0, so their ``a`` is 0,
    they inhibit no other unit and the survivors settle to the sparse code over the remaining
    atoms, as a damaged circuit would.

    ``decode(codes) = codes @ Phi^T``.

    Attributes
    ----------
    dictionary_ : ndarray of shape (n_features, n_units)
        ``Phi``, unit-norm columns.
    gram_norm_ : float
        ``||Phi||_2^2 = lambda_max(Phi^T Phi)``, which sets the automatic ``dt``.
    objective_curve_ : ndarray of shape (n_epochs_run,)
        Mean ``E(a)`` over the samples of each learning pass (before each batch's update).

    Examples
    --------
    A stimulus equal to ``s`` times one atom is coded by that atom alone with ``a = s - lambda``
    (every other atom overlaps the residual ``lambda phi_k`` by less than ``lambda``):

    >>> import numpy as np
    >>> from neurocode.models.lca import LCA
    >>> rng = np.random.default_rng(0)
    >>> Phi = rng.standard_normal((20, 40))
    >>> Phi /= np.linalg.norm(Phi, axis=0)
    >>> x = 2.0 * Phi[:, 3][None, :]
    >>> lca = LCA(n_units=40, lam=0.1, random_state=0).fit(x, dictionary=Phi)
    >>> print(round(float(lca.encode(x)[0, 3]), 3))
    1.9
    """

    name = "lca"
    description = ("Locally Competitive Algorithm: L1 sparse coding by thresholding and "
                   "lateral inhibition")
    # a silenced unit's u is clamped to 0: it inhibits nobody, the others settle without it
    tags = replace(CodingRule.tags, code_kind="rate", silencing="resettles", sparsity_param="lam",
                   legend_params=("lam",), fit_options=("callback",), style=("#009E73", "v"),
                   legend_rank=5,
                   cost=(0.3, 3.8e-6, ("data.n_train", "train.epochs", "model.n_steps")))
    params = {
        "n_units": Param(int, 128, low=1, high=1_000_000, doc="number of units (dictionary atoms)"),
        "lam": Param(float, 0.1, low=0.0, high=1e6,
                     doc="lambda: threshold of T_lambda and weight of the L1 penalty "
                         "(= scikit-learn's sparse_encode alpha)"),
        "non_negative": Param(bool, False, doc="shifted-ReLU threshold: codes a >= 0"),
        "tau": Param(float, 1.0, low=1e-12, high=1e12, doc="membrane time constant"),
        "dt": Param(float, None, low=1e-12, high=1e12, nullable=True,
                    doc="Euler step; None: 1.5 tau / ||Phi||_2^2 (stable for every active set)"),
        "n_steps": Param(int, 1000, low=1, high=1_000_000, doc="maximum number of Euler steps"),
        "tol": Param(float, 1e-3, low=0.0, high=1.0,
                     doc="a sample stops once ||tau du/dt|| <= tol ||Phi^T x|| (0: never early)"),
        "precision": Param(str, "float32", choices=("float32", "float64"),
                           doc="floating-point type of the dynamics"),
        "lr": Param(float, 0.1, low=0.0, high=1e6, section="train",
                    doc="dictionary learning rate"),
        "epochs": Param(int, 1, low=0, high=1_000_000, section="train",
                        doc="passes over the data when learning the dictionary (0: random atoms)"),
        "batch_size": Param(int, 100, low=1, high=10_000_000, section="train",
                            doc="samples per dictionary update"),
    }
    test_params = {"n_units": 8, "lam": 0.05, "epochs": 2, "batch_size": 32, "random_state": 0}

    def receptive_fields(self) -> np.ndarray | None:
        """The units' receptive fields, ``(n_units, n_features)``, for drawing (None: none)."""
        self._check_fitted()
        return np.asarray(self.dictionary_).T

    # -- helpers ------------------------------------------------------------------------
    @property
    def _dtype(self) -> torch.dtype:
        return _DTYPES[self.precision]

    def _eta(self, gram_norm: float) -> float:
        if self.dt is not None:
            return self.dt / self.tau
        return DT_FACTOR / max(gram_norm, 1e-12)

    def _solve(self, X: torch.Tensor, phi: torch.Tensor, gram: torch.Tensor, gram_norm: float,
               alive: torch.Tensor | None = None) -> torch.Tensor:
        codes, _ = lca_solve(X @ phi, gram, lam=self.lam, eta=self._eta(gram_norm),
                             n_steps=self.n_steps, tol=self.tol,
                             non_negative=self.non_negative, alive=alive)
        if not bool(torch.isfinite(codes).all()):
            raise FloatingPointError(
                f"rule '{self.name}': the LCA dynamics diverged with dt/tau = "
                f"{self._eta(gram_norm):.4g}; they are stable for dt/tau < 2 / ||Phi||_2^2 = "
                f"{2 / gram_norm:.4g} (dt=None picks {DT_FACTOR / gram_norm:.4g})")
        return codes

    def _init_dictionary(self, n_features: int, rng: np.random.Generator) -> None:
        phi = rng.standard_normal((n_features, self.n_units))
        phi /= np.linalg.norm(phi, axis=0, keepdims=True)
        self.dictionary_ = phi
        self.gram_norm_ = _top_eigen(phi)[0]
        self.objective_curve_ = np.zeros(0)

    def _check_dictionary(self, dictionary: Any) -> np.ndarray:
        phi = np.array(dictionary, dtype=np.float64)
        if phi.ndim != 2 or phi.shape[0] != self.n_features_in_:
            raise ValueError(f"dictionary must have shape (n_features={self.n_features_in_}, "
                             f"n_units), got {phi.shape}")
        if phi.shape[1] != self.n_units:
            raise ParamError(f"rule '{self.name}' parameter 'n_units' is {self.n_units}, but the "
                             f"dictionary has {phi.shape[1]} columns")
        if not np.isfinite(phi).all():
            raise ValueError("dictionary contains NaN or infinite values")
        norms = np.linalg.norm(phi, axis=0)
        if not np.allclose(norms, 1.0, rtol=0, atol=1e-6):
            raise ValueError("dictionary columns must have unit norm (max deviation "
                             f"{np.abs(norms - 1).max():.3g}); pass "
                             "Phi / np.linalg.norm(Phi, axis=0)")
        return phi

    def _learn(self, X: np.ndarray, order: np.ndarray) -> float:
        """One pass of Olshausen-Field updates over ``X[order]``; returns the mean E(a)."""
        dtype = self._dtype
        phi = torch.from_numpy(self.dictionary_).to(dtype)
        data = torch.from_numpy(X).to(dtype)
        # ||Phi||_2^2 sets dt: exact now, then tracked by a warm-started power iteration
        gram_norm, top = _top_eigen(self.dictionary_, vector=True)
        vec = torch.from_numpy(top).to(dtype)
        total = 0.0
        for start in range(0, len(order), self.batch_size):
            xb = data[order[start:start + self.batch_size]]
            gram = phi.T @ phi
            codes = self._solve(xb, phi, gram, gram_norm)
            residual = xb - codes @ phi.T
            total += float(0.5 * (residual ** 2).sum() + self.lam * codes.abs().sum())
            phi = phi + (self.lr / len(xb)) * (residual.T @ codes)
            phi = phi / torch.linalg.vector_norm(phi, dim=0, keepdim=True).clamp_min(1e-12)
            for _ in range(2):
                vec = phi.T @ (phi @ vec)
                vec = vec / torch.linalg.vector_norm(vec).clamp_min(1e-30)
            # the Rayleigh quotient under-estimates; a 10 % margin keeps dt on the stable side
            gram_norm = 1.1 * float(torch.linalg.vector_norm(phi @ vec) ** 2)
        self.dictionary_ = phi.to(torch.float64).numpy()
        self.gram_norm_ = _top_eigen(self.dictionary_)[0]
        return total / len(order)

    # -- the contract -------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None, dictionary: Any = None,
             callback: Any = None) -> None:
        if dictionary is not None:
            phi = self._check_dictionary(dictionary)
            self.dictionary_ = phi
            self.gram_norm_ = _top_eigen(phi)[0]
            self.objective_curve_ = np.zeros(0)
            return
        X = np.asarray(X, dtype=np.float64)
        rng = self._rng()
        self._init_dictionary(X.shape[1], rng)
        curve = []
        for epoch in range(self.epochs):
            curve.append(self._learn(X, rng.permutation(len(X))))
            after_pass(self, X, callback, epoch + 1)   # the watched code (neurocode.watch)
        self.objective_curve_ = np.asarray(curve, dtype=np.float64)

    def partial_fit(self, X: Any, y: Any = None) -> LCA:
        """One pass of dictionary updates over ``X`` in its order, ``batch_size`` at a time."""
        self._validate_params()
        fitted = hasattr(self, "dictionary_")
        X = np.asarray(self._check_X(X, reset=not fitted), dtype=np.float64)
        if not fitted:
            self._init_dictionary(X.shape[1], self._rng())
        mean = self._learn(X, np.arange(len(X)))
        self.objective_curve_ = np.append(np.asarray(self.objective_curve_, dtype=np.float64), mean)
        return self

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        dtype = self._dtype
        phi = torch.from_numpy(np.asarray(self.dictionary_, dtype=np.float64)).to(dtype)
        gram = phi.T @ phi
        alive = torch.from_numpy(mask)
        out = np.empty((X.shape[0], self.n_units), dtype=np.float64)
        for start in range(0, X.shape[0], ENCODE_CHUNK):
            xb = torch.from_numpy(np.asarray(X[start:start + ENCODE_CHUNK], dtype=np.float64))
            codes = self._solve(xb.to(dtype), phi, gram, float(self.gram_norm_), alive)
            out[start:start + ENCODE_CHUNK] = codes.to(torch.float64).numpy()
        out[:, ~mask] = 0.0
        return out

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        return codes @ np.asarray(self.dictionary_, dtype=np.float64).T
