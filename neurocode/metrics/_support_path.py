"""The regularisation path behind :func:`neurocode.metrics.decoding.readout_support`.

One class's L1-penalised one-vs-rest detector fitted along decreasing penalties on a
working set of units (checked against the optimality condition of the others), each point
scored by the AUC of an L2 refit on its selected units; with the AUC, its standard error
(Hanley & McNeil 1982) and the merging of exact copies of a unit.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

# --- readout support: the fewest units a sparse detector of one class must observe -----------

_INTERCEPT_SCALING = 100.0  # liblinear penalises intercept / 100: as good as free
_L1_MAX_ITER = 200
_KKT_SLACK = 0.02           # a unit left out violates optimality when C |g_j| > 1 + this
_PLATEAU_AUC = 1e-3         # the path stops after _PLATEAU_POINTS grid points in a row that
_PLATEAU_POINTS = 3         # raise its best AUC by no more than _PLATEAU_AUC or its standard
                            # error, whichever is larger
_REFIT_C = 1.0              # the refit: L2 logistic regression, as LinearProbe's default


def _real(value: Any, name: str, what: str, ok: Any) -> float:
    """``value`` as a finite float (not a bool) for which ``ok`` holds; ValueError if not."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, (bool, np.bool_)) or not math.isfinite(v) or not ok(v):
        raise ValueError(f"{name} must be a finite number {what}, got {value!r}")
    return v


def _l1_logistic(C: float, tol: float, random_state: int) -> Any:
    """Binary L1-penalised logistic regression by liblinear (coordinate descent, newGLMNET),
    spelled for the scikit-learn at hand (``penalty`` gave way to ``l1_ratio`` in 1.8)."""
    from sklearn.linear_model import LogisticRegression

    kwargs: dict[str, Any] = dict(C=C, solver="liblinear", tol=tol, max_iter=_L1_MAX_ITER,
                                  intercept_scaling=_INTERCEPT_SCALING, random_state=random_state)
    if LogisticRegression().get_params().get("penalty") == "deprecated":
        kwargs["l1_ratio"] = 1.0
    else:  # pragma: no cover - scikit-learn < 1.8
        kwargs["penalty"] = "l1"
    return LogisticRegression(**kwargs)


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN without both kinds."""
    from scipy.stats import rankdata

    n1 = int(positive.sum())
    n0 = positive.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _auc_se(A: float, n1: int, n0: int) -> float:
    """Standard error of an empirical AUC ``A`` from ``n1`` positives and ``n0`` negatives
    (Hanley & McNeil 1982, Radiology 143:29)."""
    q1, q2 = A / (2.0 - A), 2.0 * A * A / (1.0 + A)
    var = (A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0)
    return math.sqrt(max(var, 0.0))


def _distinct_columns(X: np.ndarray) -> np.ndarray:
    """Indices (increasing) of one column of each set of identical columns of ``X``.

    Columns are sorted by a fixed random projection; neighbours whose projections agree to
    rounding are compared entry by entry, and a column equal to its predecessor is dropped.
    """
    if X.shape[1] < 2:
        return np.arange(X.shape[1])
    v = np.random.default_rng(0x5EED).standard_normal(X.shape[0])
    h = v @ X
    order = np.argsort(h, kind="stable")
    hs = h[order]
    close = np.flatnonzero(np.abs(np.diff(hs)) <= 1e-9 * (np.abs(hs[1:]) + 1.0))
    dup = np.zeros(X.shape[1], dtype=bool)
    for i in close:
        if np.array_equal(X[:, order[i]], X[:, order[i + 1]]):
            dup[order[i + 1]] = True
    return np.flatnonzero(~dup)


class _SupportPath:
    """The L1 path of one class's detector on the scaled codes, each point fitted on a
    working set of units.

    A point at penalty ``C`` starts from a reference solution (the previous point): its
    nonzero units plus every unit whose log-likelihood gradient there already violates the
    optimality condition of a zero weight at ``C``, ``C |g_j| <= 1``. After the fit the
    condition is checked on every unit left out and the violators are added and the fit
    repeated, until none is left: the result is the fit on all units (to the solver's
    tolerance), at the cost of fits on few columns.
    """

    def __init__(self, Xtr: Any, Xte: Any, positive_tr: np.ndarray, positive_te: np.ndarray,
                 tol: float, random_state: int, refit: bool) -> None:
        self.Xtr, self.Xte = Xtr, Xte
        self.y = positive_tr.astype(np.float64)
        self.pos_te = positive_te
        self.tol, self.random_state, self.refit = tol, random_state, refit
        grad0 = np.asarray(Xtr.T @ (self.y - self.y.mean())).ravel()
        gmax = float(np.abs(grad0).max())
        # the weakest penalty at which every weight is still 0 (the intercept free): the path
        # starts here, observing no unit
        self.C_min = 1.0 / gmax if gmax > 0 else float("inf")
        self.start = (self.C_min, np.zeros(Xtr.shape[1]), grad0)

    def _grad(self, w: np.ndarray, b: float) -> np.ndarray:
        z = np.asarray(self.Xtr @ w).ravel() + b
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
        return np.asarray(self.Xtr.T @ (self.y - p)).ravel()

    def _test_auc(self, cols: np.ndarray, w: np.ndarray) -> float:
        if cols.size == 0:
            return 0.5                      # a constant score: every pair tied
        return _auc(np.asarray(self.Xte[:, cols] @ w).ravel(), self.pos_te)

    def fit(self, C: float, ref: tuple[float, np.ndarray, np.ndarray]) -> tuple[int, float, float, tuple]:
        """Units observed, test AUC (refitted if asked), test AUC of the L1 weights, state."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        _, w_ref, g_ref = ref
        keep = (w_ref != 0) | (C * np.abs(g_ref) > 1.0)
        for rounds in range(1000):
            if rounds == 20:
                keep[:] = True             # never seen; a fit on every unit ends the loop
            cols = np.flatnonzero(keep)
            w = np.zeros(w_ref.size)
            b = 0.0
            if cols.size:
                clf = _l1_logistic(C, self.tol, self.random_state)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(self.Xtr[:, cols], self.y)
                w[cols] = clf.coef_.ravel()
                b = float(clf.intercept_[0])
            g = self._grad(w, b)
            viol = ~keep & (C * np.abs(g) > 1.0 + _KKT_SLACK)
            if not viol.any():
                break
            keep |= viol
        used = np.flatnonzero(w)
        auc_l1 = self._test_auc(used, w[used])
        auc = auc_l1
        if self.refit and used.size:
            clf = LogisticRegression(C=_REFIT_C, max_iter=1000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(self.Xtr[:, used], self.y)
            auc = self._test_auc(used, clf.coef_.ravel())
        return int(used.size), auc, auc_l1, (C, w, g)
