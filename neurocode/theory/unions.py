"""Closed forms for unions of random sparse codes (Ahmad & Hawkins 2016).

* :func:`ahmad_hawkins_false_match`: the probability that a random ``w``-of-``n`` code has at
  least ``theta`` active units among ``s`` ON units (hypergeometric tail, exact in logs).
* :func:`union_on_fraction`: the expected fraction of ON units in the union of ``M`` random
  ``w``-of-``n`` codes.

The measures (:mod:`neurocode.metrics.interference`) import these, and ``_log_comb``, from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln

__all__ = ["ahmad_hawkins_false_match", "union_on_fraction"]


def _log_comb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return gammaln(a + 1.0) - gammaln(b + 1.0) - gammaln(a - b + 1.0)


def _ah_integer(n: np.ndarray, w: np.ndarray, s: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The hypergeometric tail for integer arrays of one shape (flat)."""
    out = np.zeros(n.shape)
    lo = np.maximum(theta, np.maximum(0, w - (n - s)))  # b >= theta and w - b <= n - s
    hi = np.minimum(s, w)
    out[theta <= 0] = 1.0
    todo = np.flatnonzero((theta > 0) & (lo <= hi))
    if todo.size == 0:
        return out
    span = int((hi[todo] - lo[todo]).max()) + 1
    step = max(1, (1 << 22) // span)
    for c0 in range(0, todo.size, step):
        t = todo[c0:c0 + step]
        b = lo[t, None] + np.arange(span)[None, :]
        ok = b <= hi[t, None]
        bb = np.where(ok, b, lo[t, None]).astype(np.float64)
        nn, ww, ss = (v[t, None].astype(np.float64) for v in (n, w, s))
        logs = _log_comb(ss, bb) + _log_comb(nn - ss, ww - bb) - _log_comb(nn, ww)
        logs = np.where(ok, logs, -np.inf)
        m = logs.max(axis=1, keepdims=True)
        out[t] = np.exp(m[:, 0]) * np.exp(logs - m).sum(axis=1)
    return np.clip(out, 0.0, 1.0)


def ahmad_hawkins_false_match(n: Any, w: Any, s: Any, theta: Any = None) -> Any:
    """Probability that a random ``w``-of-``n`` code has at least ``theta`` active units in a
    fixed set of ``s`` ON units (Ahmad & Hawkins 2016).

    The probe's ``w`` active units are a uniformly random ``w``-subset of the ``n`` units; the
    number ``b`` of them inside the stored side's ``s`` ON units is hypergeometric, so (Ahmad &
    Hawkins 2016, "How do neurons operate on sparse distributed representations? A
    mathematical theory of sparsity, neurons and active dendrites", arXiv:1601.00720, eq. for
    the false-match probability with subsampling threshold theta)::

        P(n, w, s, theta) = sum_{b = theta}^{min(s, w)}  C(s, b) C(n - s, w - b) / C(n, w)

    computed exactly with log-binomials (``scipy.special.gammaln``) and a log-sum-exp, so it
    holds for large ``n`` and probabilities far below float64's smallest normal ``C(n, w)^-1``
    is not an issue until about 1e-300. ``theta <= 0`` gives 1; ``theta > min(s, w)`` gives 0.

    A non-integer ``s`` (e.g. the expected ON count of a union, ``n * union_on_fraction``)
    is interpolated linearly between ``floor(s)`` and ``ceil(s)``; at integers it is exact.

    Parameters
    ----------
    n : int or array
        Number of units, ``>= 1``.
    w : int or array
        Active units of the probe, ``0 <= w <= n``.
    s : float or array
        ON units of the stored side (a single code's ``w``, or a union's ON count),
        ``0 <= s <= n``.
    theta : int or array or None
        Match threshold (``None``: ``theta = w``, a full match).

    Returns
    -------
    float or ndarray
        A float when every argument is a scalar, else an array of the broadcast shape.

    Examples
    --------
    >>> print(f"{ahmad_hawkins_false_match(1024, 20, 20, 10):.3g}")  # two single codes
    9.33e-14
    >>> print(round(float(ahmad_hawkins_false_match(8, 2, 4, 2)), 6))  # C(4,2)/C(8,2)
    0.214286
    """
    scalar = all(np.ndim(v) == 0 for v in (n, w, s, theta))
    n_a = np.asarray(n)
    w_a = np.asarray(w)
    s_a = np.asarray(s, dtype=np.float64)
    th_a = w_a if theta is None else np.asarray(theta)
    for name, v in (("n", n_a), ("w", w_a), ("theta", th_a)):
        if v.dtype.kind not in "iu" and not (v.dtype.kind == "f" and np.all(v == np.round(v))):
            raise ValueError(f"{name} must hold integers, got {v!r}")
    if np.any(n_a < 1):
        raise ValueError(f"n must be >= 1, got {n!r}")
    n_a, w_a, s_a, th_a = np.broadcast_arrays(n_a.astype(np.int64), w_a.astype(np.int64),
                                              s_a, th_a.astype(np.int64))
    if np.any((w_a < 0) | (w_a > n_a)):
        raise ValueError(f"w must be in [0, n], got w={w!r}, n={n!r}")
    if not np.all(np.isfinite(s_a)) or np.any((s_a < 0) | (s_a > n_a)):
        raise ValueError(f"s must be in [0, n], got s={s!r}, n={n!r}")
    shape = n_a.shape
    nf, wf, sf, tf = (v.ravel() for v in (n_a, w_a, s_a, th_a))
    s_lo = np.floor(sf).astype(np.int64)
    frac = sf - s_lo
    out = _ah_integer(nf, wf, s_lo, tf)
    part = np.flatnonzero(frac > 0)
    if part.size:
        hi = _ah_integer(nf[part], wf[part], s_lo[part] + 1, tf[part])
        out[part] = (1 - frac[part]) * out[part] + frac[part] * hi
    out = out.reshape(shape)
    return float(out) if scalar else out


def union_on_fraction(n: Any, w: Any, M: Any) -> Any:
    """Expected fraction of ON units in the union of ``M`` random ``w``-of-``n`` codes.

    Each unit is off in one random code with probability ``1 - w/n``, independently across
    the ``M`` codes, so (Ahmad & Hawkins 2016, arXiv:1601.00720, section on unions)::

        E[|union|] / n = 1 - (1 - w/n)^M

    ``w`` may be a mean activity (not an integer): for independent codes of random sizes with
    mean ``w`` the formula still holds, since ``E[prod (1 - w_mu/n)] = (1 - E[w]/n)^M``.

    Examples
    --------
    >>> print(round(union_on_fraction(1024, 20, 50), 4))
    0.627
    """
    n_a = np.asarray(n, dtype=np.float64)
    w_a = np.asarray(w, dtype=np.float64)
    M_a = np.asarray(M, dtype=np.float64)
    if np.any(n_a <= 0) or np.any((w_a < 0) | (w_a > n_a)) or np.any(M_a < 0):
        raise ValueError(f"need n > 0, 0 <= w <= n and M >= 0, got n={n!r}, w={w!r}, M={M!r}")
    out = 1.0 - (1.0 - w_a / n_a) ** M_a
    return float(out) if out.ndim == 0 else out
