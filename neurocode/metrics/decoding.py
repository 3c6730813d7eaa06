"""Decoding cost: how many units a readout must observe, and how many synapses it must touch.

The article: "the more neurons you need to observe to detect what feature has been encoded,
the more complex it will be to decode information." Three measures around that sentence:

* :func:`readout_support`: the article's construct. For each class, the fewest units that a
  sparse (L1-penalised) one-vs-rest detector must observe to reach 90% of the best
  detection (AUC above chance) along its regularisation path;
* :func:`decoding_cost`: redundancy, a different construct. The accuracy of a linear
  readout that observes only ``m`` randomly chosen units, against ``m``, and the ``m`` it
  needs for 90% of the accuracy of all ``N``: it falls when many units carry the same
  information, however few of them a well-chosen readout needs;
* :func:`active_synapses`: the outgoing synapses of the active units per stimulus, the work
  (and, for spiking neurons, the energy) a downstream readout spends on each stimulus.

:func:`m_at_accuracy` is the interpolation behind ``m90``, exposed for figures and tests.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocode.metrics._support_path import (  # noqa: F401
    _INTERCEPT_SCALING,
    _KKT_SLACK,
    _L1_MAX_ITER,
    _PLATEAU_AUC,
    _PLATEAU_POINTS,
    _REFIT_C,
    _auc,
    _auc_se,
    _distinct_columns,
    _l1_logistic,
    _real,
    _SupportPath,
)
from neurocode.metrics._validate import check_codes, check_int, check_labels
from neurocode.metrics.synapses import active_synapses  # noqa: F401

__all__ = ["decoding_cost", "readout_support", "active_synapses", "m_at_accuracy",
           "default_m_values"]

_SPARSE_BELOW = 0.25  # probes read codes with fewer nonzero entries than this as sparse matrices


def _check_split(codes_train: Any, y_train: Any, codes_test: Any, y_test: Any
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test codes of one width, each with one label per stimulus."""
    Xtr = check_codes(codes_train, "codes_train")
    Xte = check_codes(codes_test, "codes_test")
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"codes_train has {Xtr.shape[1]} units but codes_test has {Xte.shape[1]}")
    return (Xtr, check_labels(y_train, Xtr.shape[0], "y_train"), Xte,
            check_labels(y_test, Xte.shape[0], "y_test"))


def default_m_values(n_units: int, n_points: int = 12) -> np.ndarray:
    """The default grid of observed-unit counts: ``n_points`` log-spaced integers from 1 to
    ``n_units`` (duplicates after rounding removed; both ends always included).

    Examples
    --------
    >>> print(default_m_values(784).tolist())
    [1, 2, 3, 6, 11, 21, 38, 69, 127, 233, 428, 784]
    """
    if n_units < 1:
        raise ValueError(f"n_units must be >= 1, got {n_units}")
    grid = np.unique(np.round(np.geomspace(1, n_units, max(2, n_points))).astype(np.int64))
    return grid


def m_at_accuracy(m_values: Any, accuracy: Any, target: float) -> float:
    r"""The smallest ``m`` at which the curve ``accuracy(m)`` reaches ``target``.

    The curve is read as piecewise linear in ``log m``: with ``i`` the first grid point where
    ``accuracy[i] >= target``,

    .. math:: \log m^* = \log m_{i-1} + \frac{\mathrm{target} - acc_{i-1}}{acc_i - acc_{i-1}}
              (\log m_i - \log m_{i-1}),

    ``m_values[0]`` when the first point already reaches the target, NaN when no point does.

    Parameters
    ----------
    m_values : 1-D array
        Increasing positive numbers of observed units.
    accuracy : 1-D array
        Accuracy at each ``m`` (same length).
    target : float
        The accuracy to reach.

    Examples
    --------
    >>> print(round(m_at_accuracy([1, 10, 100], [0.2, 0.5, 1.0], 0.9), 3))
    63.096
    """
    m = np.asarray(m_values, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    if m.ndim != 1 or acc.shape != m.shape or m.size == 0:
        raise ValueError(f"m_values and accuracy must be 1-D arrays of the same nonzero length, "
                         f"got shapes {m.shape} and {acc.shape}")
    if not (np.isfinite(m).all() and np.isfinite(acc).all()):
        raise ValueError("m_values and accuracy must not contain NaN or infinite values")
    if (m <= 0).any() or (np.diff(m) <= 0).any():
        raise ValueError(f"m_values must be positive and strictly increasing, got {m.tolist()}")
    reached = np.flatnonzero(acc >= target)
    if reached.size == 0:
        return float("nan")
    i = int(reached[0])
    if i == 0:
        return float(m[0])
    lo, hi = math.log(m[i - 1]), math.log(m[i])
    frac = (target - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(math.exp(lo + frac * (hi - lo)))


class _Probe:
    """Scaled codes of one train/test split, and logistic-regression probes on column subsets.

    Each column is divided by its spread on the training codes (1 where the spread is 0).
    Dense codes are also centred, as in :class:`~neurocode.metrics.readout.LinearProbe`;
    sparse ones (fewer than 25% nonzero entries) are not, and are handed to scikit-learn as
    sparse matrices so that a probe costs time in proportion to the active entries. Centring
    changes nothing but the optimiser's path: the intercept is free and unpenalised, so the
    optimum is the same function of the codes.
    """

    def __init__(self, Xtr: np.ndarray, Xte: np.ndarray, C: float, max_iter: int,
                 random_state: int) -> None:
        Xtr = np.asarray(Xtr, dtype=np.float64)
        Xte = np.asarray(Xte, dtype=np.float64)
        scale = Xtr.std(axis=0)
        scale[scale == 0] = 1.0
        self.sparse = float(np.count_nonzero(Xtr)) < _SPARSE_BELOW * Xtr.size
        if self.sparse:
            import scipy.sparse as sp

            self.Xtr = sp.csc_matrix(Xtr / scale)
            self.Xte = sp.csc_matrix(Xte / scale)
        else:
            mean = Xtr.mean(axis=0)
            self.Xtr = (Xtr - mean) / scale
            self.Xte = (Xte - mean) / scale
        self.C, self.max_iter, self.random_state = C, max_iter, random_state

    def accuracy(self, cols: np.ndarray, y_tr: np.ndarray, y_te: np.ndarray) -> float:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        Xtr, Xte = self.Xtr[:, cols], self.Xte[:, cols]
        if self.sparse:
            Xtr, Xte = Xtr.tocsr(), Xte.tocsr()
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(Xtr, y_tr)
        return float((clf.predict(Xte) == y_te).mean())


def decoding_cost(
    codes_train: np.ndarray,
    y_train: np.ndarray,
    codes_test: np.ndarray,
    y_test: np.ndarray,
    m_values: Any = None,
    n_draws: int = 3,
    random_state: int = 0,
    *,
    max_train: int = 5000,
    max_iter: int = 100,
    C: float = 1.0,
    fraction: float = 0.9,
) -> dict[str, float | np.ndarray]:
    r"""Readout accuracy against the number ``m`` of units it observes, and the ``m`` for 90%.

    For each ``m`` in ``m_values`` and each of ``n_draws`` draws, ``m`` of the ``N`` units are
    chosen uniformly at random (without replacement, fresh for every draw); a linear probe,
    multinomial logistic regression (scikit-learn ``LogisticRegression``, L2 penalty ``C``,
    lbfgs, ``max_iter`` iterations) on the standardised codes of those ``m`` units only (as
    :class:`~neurocode.metrics.readout.LinearProbe`), is trained on the training codes and
    scored on the test codes:

    .. math:: \mathrm{acc}(m) = \frac{1}{D}\sum_{d=1}^{D}
              \Pr_{test}\left[\hat y_{S_d}(r_{S_d}) = y\right],\qquad |S_d| = m .

    ``accuracy_full`` is the probe on all ``N`` units (one fit: every draw is the same set);
    ``m90`` is the smallest ``m`` with ``acc(m) >= fraction * accuracy_full``, read off the
    curve by :func:`m_at_accuracy` (linear in ``log m`` between grid points; NaN if the curve
    never gets there, possible only when ``m_values`` stops short of ``N``), and
    ``m_fraction_90 = m90 / N``. (The names keep "90" whatever ``fraction`` is.)

    Returned: ``m_values`` (x axis, float array), ``accuracy`` (mean over draws),
    ``accuracy_std`` (spread over draws, 0 at ``m = N``), ``accuracy_full``, ``m90``,
    ``m_fraction_90``, ``chance`` (the test frequency of the most frequent training class: the
    accuracy of a readout that sees nothing), ``n_train`` (training codes used) and ``n_units``.

    Cost: the probes are trained on at most ``max_train`` (default 5,000) training codes drawn
    at random; codes with fewer than 25% nonzero entries are passed as sparse matrices, so a
    probe costs time in proportion to the active entries. The default grid,
    :func:`default_m_values` (12 log-spaced points from 1 to N), makes the probes see about
    ``(1 + 1.2 n_draws) N`` columns in all. Measured on one shared core, MNIST codes of 784
    units, 10 classes, defaults: about 1 s for a 4%-active code, 7 s for a 50%-active one;
    39,200 units and 1,275 codes: 1 s sparse (0.6% active), 9 s dense.

    Parameters
    ----------
    codes_train, codes_test : arrays (n_stimuli, N)
        Codes of the training and test stimuli (same ``N``); finite values.
    y_train, y_test : 1-D arrays
        Their class labels; the training labels need at least two classes.
    m_values : 1-D array of int, optional
        Numbers of observed units, each in ``[1, N]`` (sorted, duplicates dropped). Default
        :func:`default_m_values(N) <default_m_values>`.
    n_draws : int, default 3
        Random unit subsets per ``m`` (``>= 1``).
    random_state : int, default 0
        Seed for the training subsample and the unit subsets.
    max_train : int, default 5000
        At most this many training codes (``>= 2``), drawn at random.
    max_iter : int, default 100
        Iterations of lbfgs per probe.
    C : float, default 1.0
        Inverse L2 penalty of the probe (as in ``LinearProbe``).
    fraction : float, default 0.9
        Fraction of ``accuracy_full`` that ``m90`` must reach, in ``(0, 1]``.

    Raises
    ------
    ValueError
        On codes that are not finite 2-D arrays with units, different ``N`` in train and test,
        labels that do not match the codes, fewer than two training classes, ``m_values``
        outside ``[1, N]``, or ``n_draws``, ``max_train``, ``max_iter``, ``C``, ``fraction``
        out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 800)
    >>> codes = np.eye(4)[y] + 0.1 * rng.random((800, 4))   # a local code: one unit per class
    >>> out = decoding_cost(codes[:400], y[:400], codes[400:], y[400:], m_values=[1, 2, 4])
    >>> # theory for this local code: (m + 1) / 4 for m < 4, so m90 = 2 ** 1.6 = 3.03
    >>> print(out["accuracy"].round(2).tolist(), round(out["m90"], 2))
    [0.52, 0.75, 1.0] 3.03
    """
    Xtr, ytr, Xte, yte = _check_split(codes_train, y_train, codes_test, y_test)
    n_units = Xtr.shape[1]
    if isinstance(n_draws, bool) or int(n_draws) != n_draws or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    if isinstance(max_train, bool) or int(max_train) != max_train or max_train < 2:
        raise ValueError(f"max_train must be an integer >= 2, got {max_train!r}")
    if isinstance(max_iter, bool) or int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not (math.isfinite(float(C)) and C > 0):
        raise ValueError(f"C must be a finite number > 0, got {C!r}")
    if not (0 < float(fraction) <= 1):
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")

    if m_values is None:
        ms = default_m_values(n_units)
    else:
        raw = np.asarray(m_values)
        if raw.ndim != 1 or raw.size == 0:
            raise ValueError(f"m_values must be a non-empty 1-D array, got shape {raw.shape}")
        if not np.issubdtype(raw.dtype, np.number) or not np.isfinite(raw).all() \
                or (raw != np.round(raw)).any():
            raise ValueError(f"m_values must be whole numbers, got {raw.tolist()}")
        ms = np.unique(raw.astype(np.int64))
        if ms[0] < 1 or ms[-1] > n_units:
            raise ValueError(f"m_values must lie in [1, n_units={n_units}], got {ms.tolist()}")

    rng = np.random.default_rng(random_state)
    if Xtr.shape[0] > max_train:
        idx = np.sort(rng.choice(Xtr.shape[0], size=int(max_train), replace=False))
        Xtr, ytr = Xtr[idx], ytr[idx]
    classes, counts = np.unique(ytr, return_counts=True)
    if classes.size < 2:
        raise ValueError(f"y_train needs at least two classes to train a readout, got {classes.tolist()}")

    probe = _Probe(Xtr, Xte, C=float(C), max_iter=int(max_iter), random_state=int(random_state))
    all_units = np.arange(n_units)
    acc_full = probe.accuracy(all_units, ytr, yte)
    acc = np.empty((ms.size, int(n_draws)))
    for j, m in enumerate(ms):
        if m == n_units:
            acc[j] = acc_full
            continue
        for d in range(int(n_draws)):
            cols = np.sort(rng.choice(n_units, size=int(m), replace=False))
            acc[j, d] = probe.accuracy(cols, ytr, yte)

    curve = acc.mean(axis=1)
    m90 = m_at_accuracy(ms, curve, float(fraction) * acc_full)
    return {
        "m_values": ms.astype(np.float64),
        "accuracy": curve,
        "accuracy_std": acc.std(axis=1),
        "accuracy_full": acc_full,
        "m90": m90,
        "m_fraction_90": m90 / n_units,
        "chance": float((yte == classes[counts.argmax()]).mean()),
        "n_train": float(Xtr.shape[0]),
        "n_units": float(n_units),
    }


def readout_support(
    codes_train: np.ndarray,
    y_train: np.ndarray,
    codes_test: np.ndarray,
    y_test: np.ndarray,
    *,
    target: float = 0.9,
    n_C: int = 16,
    C_span: float = 1000.0,
    n_refine: int = 5,
    refit: bool = True,
    random_state: int = 0,
    max_train: int = 2000,
    tol: float = 1e-4,
    z_detect: float = 4.0,
) -> dict[str, float | np.ndarray]:
    r"""The fewest units a sparse linear detector must observe to detect each class.

    The article: "the more neurons you need to observe to detect what feature has been
    encoded, the more complex it will be to decode information". For each class ``c`` (the
    classes of ``y_train``, in sorted order) a one-vs-rest detector is an L1-penalised
    logistic regression (liblinear), trained on the training codes to tell ``c`` from every
    other class, along a path of decreasing penalty

    .. math:: \hat w(C) = \arg\min_{w, b}\ \lVert w\rVert_1 + C \sum_s
              \log\left(1 + e^{-t_s (w \cdot x_s + b)}\right),\qquad t_s = \pm 1,

    with ``C`` on ``n_C`` log-spaced points from :math:`C_{min}` to ``C_span`` :math:`C_{min}`,
    where :math:`C_{min} = 1 / \max_j |\sum_s x_{sj}(t^{01}_s - \bar t^{01})|` is the weakest
    penalty at which every weight is still 0 (``sklearn.svm.l1_min_c`` is not used: it
    counts liblinear's intercept column, which for an unbalanced one-vs-rest problem enters
    first). At each point the units observed are :math:`k(C) = \#\{j: \hat w_j(C) \ne 0\}`
    and the detection performance is the area under the ROC curve on the test codes,

    .. math:: A(C) = \Pr\left[f(x) > f(x')\right] + \tfrac12 \Pr\left[f(x) = f(x')\right],
              \quad x \sim \text{class } c,\ x' \sim \text{the other classes},

    with ``f`` the detector's score: with ``refit`` (default) the score of an L2 logistic
    regression (``C = 1``, as :class:`~neurocode.metrics.readout.LinearProbe`) refitted on
    the ``k(C)`` selected units only (the relaxed lasso of Meinshausen 2007, Comput. Stat.
    Data Anal. 52:374: L1 chooses which units are observed, the refit says how well they
    detect, free of the L1 shrinkage that makes the path's own detector on ``k`` units
    worse than the best one on them: for ``s`` equally informative units it would need
    more than the Bayes-optimal number of them); without ``refit``,
    :math:`f = \hat w(C) \cdot x`. AUC rather than accuracy: a detector is judged by how
    well its output separates its class from the rest whatever threshold is then applied;
    AUC is that (two-alternative forced choice), is 0.5 for a detector that sees nothing
    whatever the class frequencies (one-vs-rest is 1 : 9 for ten classes), and does not
    depend on the intercept, which an L1 fit shrinks. With :math:`A^* = \max_C A(C)` the
    best along the path, the class's support is the fewest units observed at any path
    point that reaches ``target`` of the best performance above chance,

    .. math:: k^*_c = \min\{k(C) : A(C) \ge \tfrac12 + \mathrm{target}\,(A^* - \tfrac12)\},

    on the grid refined by ``n_refine`` bisections of :math:`\log C` between the last grid
    point short of that level and the first that reaches it (no interpolation: ``k*`` is
    the size of a detector that was fitted and scored). Measured above chance, not as
    ``target * A*``: otherwise the detector that observes nothing (A = 0.5) would reach 90%
    of any best below 0.56. ``A*`` is a maximum over path points scored on the same test
    codes, so where the curve is flat test noise lifts it by about a standard error of the
    AUC, which can ask for a unit more; and where the curve rises slowly over many units the
    support moves a lot with ``target`` (``support_median`` is the sturdier summary).

    A class is *detected* when :math:`A^* - \tfrac12 > z\,\sigma_0`, with
    :math:`\sigma_0 = \sqrt{(n_1 + n_0 + 1) / (12 n_1 n_0)}` the spread of the AUC of a
    score independent of the class (Mann-Whitney, :math:`n_1, n_0` test stimuli in and out
    of the class) and ``z = z_detect`` (4: the best is a maximum over the path). For a class
    not detected (a code that carries nothing about it) the support is NaN, not a number
    of units: a code from which nothing can be detected must not look cheap to decode.

    Returned: per class (arrays over the classes): ``support_per_class`` (``k*``, NaN if not
    detected), ``support_auc_per_class`` (``A`` at the support), ``support_best_auc_per_class``
    (``A*``), ``support_detected_per_class`` (1.0 or 0.0); the path: ``support_C_grid`` (the
    grid as multiples of each class's :math:`C_{min}`), ``support_path_units`` and
    ``support_path_auc`` (``(n_classes, n_C)``; NaN after the path stopped),
    ``support_path_auc_l1`` (the AUC of the L1 weights themselves); scalars over the
    detected classes: ``support_mean``, ``support_median``, ``support_fraction``
    (``support_mean / N``, N all the units given), ``support_auc`` (mean ``A`` at the
    support), ``support_best_auc`` (mean ``A*`` over every class scored); and
    ``support_n_detected``, ``support_n_classes``, ``support_target``, ``support_n_train``,
    ``support_n_units_live`` and ``support_n_units_distinct`` (see below). Scalars over no
    detected class are NaN. A class of ``y_train`` with no test stimulus is not scored
    (NaN, not detected).

    What does not change the support, only its cost: units constant on the training codes
    (for a code that rests at 0, the units never active) are dropped, since their L1 weight
    is 0; units whose standardised training codes are identical are merged into one (the L1
    objective is indifferent to how a weight is split among exact copies, so the number of
    copies a solver leaves nonzero would be arbitrary; observing one of them suffices). Near
    copies are not merged: more of them do average out noise. Each point is fitted on a
    working set of units, checked against the optimality condition of all the others. The
    path stops early after 3 grid points in a row that raise its best AUC by no more than
    0.001 or the AUC's standard error (Hanley & McNeil 1982, Radiology 143:29), whichever is
    larger (weaker penalties only add units, and on a code that carries nothing they add
    noise units by the hundred). At most ``max_train`` training codes are used, drawn at
    random; all test codes are scored.

    Codes are divided by each unit's spread on the training codes, so that the penalty
    weighs what a unit says and not its gain (raw codes would make a unit that fires at
    twice the rate look half as costly to read); they are not centred, which keeps sparse
    codes sparse (fewer than 25% nonzero entries go to liblinear as sparse matrices) and
    changes nothing, the intercept being as good as free. They are not binarised: graded
    activity is information a readout can use.

    Cost, measured on one shared core, 10 classes, 2,000 training and 2,000 test codes,
    defaults: 1.2-2 s for 784 units with half of them active, 0.6-0.9 s for 4,096 units
    with k = 40 active, 2.8 s for MNIST pixels; 1,275 codes of 39,200 units: about 7 s
    dense, 3 s with 1% active. Memory: the scaled codes in float64, train and test.

    Parameters
    ----------
    codes_train, codes_test : arrays (n_stimuli, N)
        Codes of the training and test stimuli (same ``N``); finite values.
    y_train, y_test : 1-D arrays
        Their class labels; each needs at least two classes.
    target : float, default 0.9
        The fraction of the best AUC above chance that the support must reach, in (0, 1].
    n_C : int, default 16
        Grid points of the path (>= 2), the first at :math:`C_{min}` (no unit observed).
    C_span : float, default 1000
        The weakest penalty of the grid, as a multiple of :math:`C_{min}` (> 1).
    n_refine : int, default 5
        Bisections of the grid interval in which the support lies (>= 0).
    refit : bool, default True
        Score each point by an L2 refit on its selected units (see above).
    random_state : int, default 0
        Seed for the training subsample and liblinear's order of coordinates.
    max_train : int, default 2000
        At most this many training codes (>= 2).
    tol : float, default 1e-4
        liblinear's stopping tolerance.
    z_detect : float, default 4
        A class is detected when its best AUC exceeds chance by this many null spreads.

    Raises
    ------
    ValueError
        On codes that are not finite 2-D arrays with units, different ``N`` in train and
        test, labels that do not match the codes, fewer than two classes in ``y_train`` or
        in ``y_test``, or parameters out of range.

    Examples
    --------
    A local code: unit ``c`` fires for class ``c`` only; four more units fire at random.

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 800)
    >>> codes = np.hstack([np.eye(4)[y], rng.random((800, 4)) < 0.5])
    >>> out = readout_support(codes[:400], y[:400], codes[400:], y[400:])
    >>> print(out["support_per_class"].tolist(), out["support_mean"])
    [1.0, 1.0, 1.0, 1.0] 1.0
    """
    Xtr, ytr, Xte, yte = _check_split(codes_train, y_train, codes_test, y_test)
    n_units = Xtr.shape[1]
    target = _real(target, "target", "in (0, 1]", lambda v: 0 < v <= 1)
    C_span = _real(C_span, "C_span", "> 1", lambda v: v > 1)
    tol = _real(tol, "tol", "> 0", lambda v: v > 0)
    z_detect = _real(z_detect, "z_detect", ">= 0", lambda v: v >= 0)
    n_C = check_int(n_C, "n_C", low=2)
    n_refine = check_int(n_refine, "n_refine", low=0)
    max_train = check_int(max_train, "max_train", low=2)

    rng = np.random.default_rng(random_state)
    if Xtr.shape[0] > max_train:
        idx = np.sort(rng.choice(Xtr.shape[0], size=max_train, replace=False))
        Xtr, ytr = Xtr[idx], ytr[idx]
    classes = np.unique(ytr)
    if classes.size < 2:
        raise ValueError(f"y_train needs at least two classes to train a detector, "
                         f"got {classes.tolist()}")
    if np.unique(yte).size < 2:
        raise ValueError(f"y_test needs at least two classes to score a detector, "
                         f"got {np.unique(yte).tolist()}")

    # constant units (never active) carry nothing, exact copies are one unit to observe:
    # neither changes a support, dropping them makes wide codes cheap (see the docstring)
    Xtr = np.asarray(Xtr, dtype=np.float64)
    scale = Xtr.std(axis=0)
    live = np.flatnonzero(scale > 0)
    n_live = int(live.size)
    Xtr = Xtr[:, live]
    Xtr /= scale[live]
    first = _distinct_columns(Xtr)
    if first.size < live.size:
        Xtr, live = Xtr[:, first], live[first]
    Xte = np.asarray(Xte, dtype=np.float64)[:, live]
    Xte /= scale[live]
    if np.count_nonzero(Xtr) < _SPARSE_BELOW * Xtr.size:
        import scipy.sparse as sp

        Xtr, Xte = sp.csc_matrix(Xtr), sp.csc_matrix(Xte)

    grid = np.geomspace(1.0, float(C_span), n_C)
    n_cls = classes.size
    path_units = np.full((n_cls, n_C), np.nan)
    path_auc = np.full((n_cls, n_C), np.nan)
    path_auc_l1 = np.full((n_cls, n_C), np.nan)
    support = np.full(n_cls, np.nan)
    auc_at = np.full(n_cls, np.nan)
    best = np.full(n_cls, np.nan)
    detected = np.zeros(n_cls)
    for ci, c in enumerate(classes):
        pos_te = yte == c
        n1, n0 = int(pos_te.sum()), int((~pos_te).sum())
        if n1 == 0:
            continue
        path_units[ci, 0], path_auc[ci, 0], path_auc_l1[ci, 0] = 0.0, 0.5, 0.5
        if live.size == 0:
            best[ci] = 0.5
            continue
        path = _SupportPath(Xtr, Xte, ytr == c, pos_te, float(tol), int(random_state), bool(refit))
        states = [path.start]
        stale = 0
        for j in range(1, n_C):
            k, a, a_l1, st = path.fit(path.C_min * grid[j], states[-1])
            top = float(np.nanmax(path_auc[ci, :j]))
            stale = stale + 1 if a <= top + max(_PLATEAU_AUC, _auc_se(top, n1, n0)) else 0
            path_units[ci, j], path_auc[ci, j], path_auc_l1[ci, j] = k, a, a_l1
            states.append(st)
            if stale >= _PLATEAU_POINTS:
                break
        best[ci] = float(np.nanmax(path_auc[ci]))
        se0 = math.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0))
        if not best[ci] - 0.5 > float(z_detect) * se0:
            continue
        detected[ci] = 1.0
        need = 0.5 + float(target) * (best[ci] - 0.5)
        done = np.isfinite(path_auc[ci])
        points = list(zip(path_units[ci, done], path_auc[ci, done], strict=True))
        i = int(np.flatnonzero(path_auc[ci, done] >= need)[0])   # >= 1: A = 0.5 at C_min
        lo, hi = states[i - 1], states[i]
        for _ in range(n_refine):
            k, a, _, st = path.fit(math.sqrt(lo[0] * hi[0]), lo)
            points.append((float(k), a))
            lo, hi = (lo, st) if a >= need else (st, hi)
        k_best, neg_a = min((k, -a) for k, a in points if a >= need)
        support[ci], auc_at[ci] = k_best, -neg_a

    det = detected.astype(bool)
    mean = float(support[det].mean()) if det.any() else float("nan")
    return {
        "support_per_class": support,
        "support_auc_per_class": auc_at,
        "support_best_auc_per_class": best,
        "support_detected_per_class": detected,
        "support_C_grid": grid,
        "support_path_units": path_units,
        "support_path_auc": path_auc,
        "support_path_auc_l1": path_auc_l1,
        "support_mean": mean,
        "support_median": float(np.median(support[det])) if det.any() else float("nan"),
        "support_fraction": mean / n_units,
        "support_auc": float(auc_at[det].mean()) if det.any() else float("nan"),
        "support_best_auc": float(np.nanmean(best)) if np.isfinite(best).any() else float("nan"),
        "support_n_detected": float(det.sum()),
        "support_n_classes": float(n_cls),
        "support_target": float(target),
        "support_n_train": float(Xtr.shape[0]),
        "support_n_units_live": float(n_live),
        "support_n_units_distinct": float(live.size),
    }
