"""Decoding cost: how many units a readout must observe, and how many synapses it must touch.

The article: "the more neurons you need to observe to detect what feature has been encoded,
the more complex it will be to decode information." Two measures of that cost:

* :func:`decoding_cost`: the accuracy of a linear readout that observes only ``m`` randomly
  chosen units, against ``m``, and the ``m`` it needs for 90% of the accuracy of all ``N``;
* :func:`active_synapses`: the outgoing synapses of the active units per stimulus, the work
  (and, for spiking neurons, the energy) a downstream readout spends on each stimulus.

:func:`m_at_accuracy` is the interpolation behind ``m90``, exposed for figures and tests.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from neurocode.metrics._validate import check_codes, check_labels, check_threshold as _check_threshold

__all__ = ["decoding_cost", "active_synapses", "m_at_accuracy", "default_m_values"]

_SPARSE_BELOW = 0.25  # probes read codes with fewer nonzero entries than this as sparse matrices


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
    Xtr = check_codes(codes_train, "codes_train")
    Xte = check_codes(codes_test, "codes_test")
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"codes_train has {Xtr.shape[1]} units but codes_test has {Xte.shape[1]}")
    n_units = Xtr.shape[1]
    ytr = check_labels(y_train, Xtr.shape[0], "y_train")
    yte = check_labels(y_test, Xte.shape[0], "y_test")
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


def active_synapses(codes: np.ndarray, fan_out: Any, threshold: float = 0.0) -> dict[str, float]:
    r"""Active synapses per stimulus: the outgoing weights of the active units.

    A unit that is silent costs a downstream readout nothing: it sends no spikes, and its
    outgoing weights multiply zero and can be skipped. An active unit ``i`` makes its
    ``f_i`` outgoing synapses do work. So the number of active synapses per stimulus,

    .. math:: A_s = \sum_i 1[|r_{si}| > \mathrm{threshold}]\, f_i ,

    is a proxy for the computation and energy that reading one stimulus costs (Levy & Baxter
    1996, Neural Comput. 8:531; Attwell & Laughlin 2001, J. Cereb. Blood Flow Metab. 21:1133:
    signalling cost grows with the number of active neurons and their synapses). With a
    linear readout to ``C`` classes every unit has ``f_i = C`` (one weight per class), the
    value the battery uses. A dense code of the same units touches all
    ``D = \sum_i f_i`` (``N C`` for the linear readout) on every stimulus.

    Returned: ``active_synapses_mean`` (mean of ``A_s`` over stimuli), ``active_synapses_std``,
    ``dense_synapses`` (``D``) and ``active_synapses_ratio`` (``mean / D``; the activity ratio
    when ``f`` is the same for every unit). For a binary k-of-N code with one fan-out ``f``:
    ``A_s = k f`` on every stimulus.

    Parameters
    ----------
    codes : array (n_stimuli, N)
        Finite codes, one row per stimulus.
    fan_out : number or 1-D array (N,)
        Outgoing synapses per unit, the same for all (a number ``> 0``) or one per unit
        (non-negative, with a positive sum).
    threshold : float, default 0.0
        A unit is active when ``|code| > threshold`` (finite, ``>= 0``).

    Examples
    --------
    >>> from neurocode.models.binary import random_codes
    >>> out = active_synapses(random_codes(100, 784, 5, random_state=0), fan_out=10)
    >>> print(out["active_synapses_mean"], out["dense_synapses"])
    50.0 7840.0
    """
    arr = check_codes(codes)
    t = _check_threshold(threshold)
    n_units = arr.shape[1]
    f = np.asarray(fan_out, dtype=np.float64) if not isinstance(fan_out, bool) else None
    if f is None or not np.isfinite(f).all() or (f < 0).any():
        raise ValueError(f"fan_out must be a finite number > 0 or an array of non-negative "
                         f"numbers, got {fan_out!r}")
    if f.ndim == 0:
        if f <= 0:
            raise ValueError(f"fan_out must be > 0, got {fan_out!r}")
        f = np.full(n_units, float(f))
    elif f.shape != (n_units,):
        raise ValueError(f"fan_out must be a number or an array of shape ({n_units},), "
                         f"got shape {f.shape}")
    dense = float(f.sum())
    if dense <= 0:
        raise ValueError("fan_out sums to 0: the readout has no synapses")
    per_stim = np.empty(arr.shape[0])
    step = max(1, (1 << 22) // n_units)
    for s in range(0, arr.shape[0], step):
        act = np.abs(arr[s:s + step]) > t
        per_stim[s:s + step] = act @ f
    mean = float(per_stim.mean())
    return {
        "active_synapses_mean": mean,
        "active_synapses_std": float(per_stim.std()),
        "dense_synapses": dense,
        "active_synapses_ratio": mean / dense,
    }
