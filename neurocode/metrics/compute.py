"""Computation cost per stimulus: what computing a stimulus's code and its class costs, timed.

The article: sparse codes "reduce computation (and energy)" per stimulus. The count of active
synapses per stimulus (:func:`neurocode.metrics.decoding.active_synapses`) is the activity
ratio times ``N * C`` by definition; :func:`compute_cost` measures instead what the two steps
of classifying a stimulus cost on this machine, which can come out either way (the encoder
may dominate; a sparse-aware product may be slower than dense BLAS at moderate activity).

Definitions (``n_b`` stimuli of ``X`` drawn with ``random_state``, the *batch*; ``H`` their
codes, ``N`` units; ``S`` class scores, ``C`` classes):

* **the readout as an affine map of the code.** ``S ~ H W + b`` is recovered by least squares
  (:func:`numpy.linalg.lstsq` on ``[H, 1]``) from the batch and further stimuli of ``X``
  (encoded as needed) up to ``4 (s + 1)`` rows, where ``s`` is the number of units that are
  nonzero in some fitted row (``s = N`` for a dense code; a unit never active in those rows
  gets a zero row of ``W``, which changes no score of those codes and no dense timing).
  ``readout_linear_residual = ||S - [H, 1] [W; b]||_F / ||S||_F``. A linear probe
  (:class:`~neurocode.metrics.readout.LinearProbe`) is exactly affine in the code (its
  standardisation folds into ``W`` and ``b``); a supervised rule's own classifier is affine
  when it is an output layer on the code (the article's FC net). ``readout_affine`` is 1 when
  the residual is at most ``1e-3``, 0 when it is larger (the readout is not an affine function
  of the code: the readout timings are then NaN). It is NaN, as are the residual and the
  readout timings, when the fit cannot check anything: when the fitted rows are not more than
  the rank of ``[H, 1]`` (fewer stimuli than ``s + 1`` distinct codes: an exact fit by
  construction), or when ``s`` exceeds 2,048 units (the least-squares problem would be too
  large);
* **timings**, each single-threaded (``threadpoolctl.threadpool_limits(1)``, and
  ``torch.set_num_threads(1)`` while torch is loaded, restored afterwards), with
  :func:`time.perf_counter`, the median over ``repeats`` rounds after one warm-up round; the
  rounds are interleaved (each round times every item once, in the order below, so a change
  of machine load hits every item alike), and each is divided by ``n_b`` (seconds per
  stimulus):

  - ``time_encode``: ``rule.encode(batch)``;
  - ``time_readout_dense``: ``H @ W + b``, ``H`` float32 C-contiguous, ``W`` and ``b`` float32;
  - ``time_readout_sparse``: the event-driven readout ``E @ W + b``, ``E`` a
    :class:`scipy.sparse.csr_matrix` (float32) of the entries with ``|h| > threshold``. The
    conversion of ``H`` to ``E`` is *not* timed: an event-driven system produces its events
    (the active units) directly, it never holds the dense code;
  - ``time_reference``: a fixed dense float32 product ``A @ B``, ``A`` ``(n_b, 784)``, ``B``
    ``(784, 784)``, drawn with a fixed seed: the same work on every run and machine, so that
    costs measured at different times, under different load or on different machines compare
    in units of it;

* ``time_total = time_encode + min(time_readout_dense, time_readout_sparse)`` (a system
  would use the faster readout); ``relative_cost = time_total / time_reference``;
  ``relative_cost_dense = (time_encode + time_readout_dense) / time_reference``;
  ``sparse_readout_speedup = time_readout_dense / time_readout_sparse``;
  ``encoder_fraction = time_encode / time_total``;
* **operation counts** (definitions, not measurements): ``readout_ops_dense = N C``
  multiply-adds per stimulus; ``readout_ops_event`` = the batch's mean number of active units
  (``|h| > threshold``) times ``C``, so ``readout_ops_event / readout_ops_dense`` is the
  batch's activity ratio.

Timings are of this machine at this moment: compare them across runs through
``relative_cost``, never as seconds.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neurocode.metrics._validate import check_codes, check_int, check_stimuli
from neurocode.metrics._validate import check_threshold as _check_threshold

__all__ = ["compute_cost", "AFFINE_TOLERANCE", "REFERENCE_WIDTH"]

#: The largest relative residual of the affine fit at which the readout counts as affine.
AFFINE_TOLERANCE = 1e-3

#: Width of the reference product: ``(n_b, 784) @ (784, 784)`` in float32 (one MNIST layer).
REFERENCE_WIDTH = 784

_ROWS_PER_UNIT = 4      # fitted rows per fitted column of [H, 1], when X has them
_MAX_FIT_UNITS = 2048   # above this many fitted units the least-squares fit is not attempted
_CHUNK = 1000           # stimuli encoded / scored at a time
_REFERENCE_SEED = 20240607


def _check_rule(rule: Any) -> int:
    if not callable(getattr(rule, "encode", None)):
        raise ValueError(f"rule must be a fitted CodingRule (with encode and n_units), got "
                         f"{type(rule).__name__}")
    name = getattr(rule, "name", type(rule).__name__)
    if not hasattr(rule, "n_features_in_"):
        raise ValueError(f"rule {name!r} is not fitted: call rule.fit(X) before measuring its "
                         f"computation cost")
    n_units = check_int(rule.n_units, "rule.n_units")
    return n_units


def _affine_fit(H: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Least-squares ``S ~ H W + b`` over the columns of ``H`` that are nonzero somewhere.

    Returns ``W`` (float64, ``(N, C)``, zero rows for the columns never nonzero), ``b``
    (``(C,)``), the relative residual ``||S - H W - b||_F / ||S||_F`` and the rank of the
    fitted design ``[H_used, 1]``.
    """
    H = np.asarray(H, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    used = np.flatnonzero((H != 0).any(axis=0))
    A = np.concatenate([H[:, used], np.ones((H.shape[0], 1))], axis=1)
    sol, _, rank, _ = np.linalg.lstsq(A, S, rcond=None)
    W = np.zeros((H.shape[1], S.shape[1]))
    W[used] = sol[:-1]
    b = sol[-1]
    r = float(np.linalg.norm(S - A @ sol))
    s = float(np.linalg.norm(S))
    residual = r / s if s > 0 else (0.0 if r == 0 else float("inf"))
    return W, b, residual, int(rank)


def _dense_readout(H32: np.ndarray, W32: np.ndarray, b32: np.ndarray) -> np.ndarray:
    return H32 @ W32 + b32


def _event_readout(E: Any, W32: np.ndarray, b32: np.ndarray) -> np.ndarray:
    return E @ W32 + b32


def _events(H: np.ndarray, threshold: float) -> Any:
    """The code's events: a float32 CSR matrix of the entries with ``|h| > threshold``."""
    from scipy.sparse import csr_matrix

    H32 = np.asarray(H, dtype=np.float32)
    E = csr_matrix(np.where(np.abs(H) > threshold, H32, np.float32(0)))
    E.eliminate_zeros()
    return E


def _scores(readout: Any, X: np.ndarray) -> np.ndarray:
    S = np.asarray(readout.scores(X), dtype=np.float64)
    if S.ndim == 1:
        S = S[:, None]
    if S.ndim != 2 or S.shape[0] != X.shape[0]:
        raise ValueError(f"readout.scores returned shape {S.shape} for {X.shape[0]} stimuli; "
                         f"expected (n_stimuli, n_classes)")
    return S


def _time_rounds(items: list[tuple[str, Callable[[], Any]]], repeats: int,
                 max_seconds: float | None = None) -> tuple[dict[str, float], int]:
    """Median seconds of each item over ``repeats`` interleaved rounds, after one warm-up;
    fewer rounds (at least 3, or ``repeats`` if smaller) when the warm-up round says that
    ``repeats`` of them would take more than ``max_seconds``. Returns the medians and the
    rounds timed."""
    saved: dict[str, int] = {}

    def limit_torch(record: bool) -> None:
        # torch's thread count is read before threadpool_limits lowers the OpenMP pool that
        # torch reports; a torch first imported by the warm-up round is not recorded (it would
        # read 1): leaving threadpool_limits restores the OpenMP pool it runs on
        torch = sys.modules.get("torch")
        if torch is not None:
            if record:
                saved["threads"] = torch.get_num_threads()
            torch.set_num_threads(1)

    from threadpoolctl import threadpool_limits

    times: dict[str, list[float]] = {name: [] for name, _ in items}
    gc_was_enabled = gc.isenabled()
    try:
        limit_torch(record=True)
        with threadpool_limits(limits=1):
            t_warm = time.perf_counter()
            for _, f in items:  # warm-up round (may import torch: limit it again after)
                f()
            t_warm = time.perf_counter() - t_warm
            if max_seconds is not None and t_warm * repeats > max_seconds:
                repeats = max(min(3, repeats), int(max_seconds // max(t_warm, 1e-9)))
            limit_torch(record=False)
            gc.disable()
            for _ in range(repeats):
                for name, f in items:
                    t0 = time.perf_counter()
                    f()
                    times[name].append(time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
        if "threads" in saved:  # after threadpool_limits has restored the OpenMP pool
            sys.modules["torch"].set_num_threads(saved["threads"])
    return {name: float(statistics.median(t)) for name, t in times.items()}, repeats


def compute_cost(rule: Any, readout: Any, X: Any, *, codes: Any = None, n_batch: int = 200,
                 repeats: int = 7, max_seconds: float | None = 5.0, threshold: float = 0.0,
                 random_state: Any = 0) -> dict[str, float]:
    """Measured cost of computing a batch of stimuli's codes and classes (see module docstring).

    Parameters
    ----------
    rule : CodingRule
        A fitted rule (``encode``, ``n_units``).
    readout : Readout
        Its readout (:func:`neurocode.metrics.readout.fit_readout`): ``readout.scores(X)``
        gives the class scores, through the rule's own classifier or a linear probe.
    X : array (n_stimuli, n_features)
        Test stimuli; the batch is drawn from them, and the affine fit uses further rows.
    codes : array (n_stimuli, n_units), optional
        The codes of ``X``, when the caller has them (otherwise rows are encoded as needed).
    n_batch : int, default 200
        Batch size: ``min(n_batch, n_stimuli)`` stimuli are timed.
    repeats : int, default 7
        Timed rounds (the median is reported), after one warm-up round.
    max_seconds : float or None, default 5.0
        When the warm-up round says ``repeats`` rounds would take longer (a slow encoder,
        e.g. a spiking network simulated per stimulus), fewer rounds are timed, at least 3
        (the ``repeats`` returned says how many). None: always ``repeats``.
    threshold : float, default 0.0
        A unit is active (emits an event) when ``|h| > threshold``.
    random_state : int or Generator, default 0
        Draws the batch and the extra rows of the affine fit.

    Returns
    -------
    dict of str to float
        ``time_encode``, ``time_readout_dense``, ``time_readout_sparse``, ``time_reference``,
        ``time_total`` (seconds per stimulus), ``relative_cost``, ``relative_cost_dense``,
        ``sparse_readout_speedup``, ``encoder_fraction``, ``readout_ops_dense``,
        ``readout_ops_event``, ``readout_affine``, ``readout_linear_residual``, ``n_batch``,
        ``repeats``, ``n_units``, ``n_classes``. Readout timings and what depends on them are
        NaN when the readout is not (or cannot be checked to be) affine in the code.

    Examples
    --------
    >>> import numpy as np
    >>> from neurocode.metrics.readout import fit_readout
    >>> from neurocode.rules import get_rule
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 300)
    >>> X = np.eye(3)[y] + 0.3 * rng.standard_normal((300, 3))
    >>> rule = get_rule("kofn", n_units=40, k=4, random_state=0).fit(X)
    >>> res = compute_cost(rule, fit_readout(rule, X, y), X, n_batch=100, repeats=3)
    >>> print(res["readout_affine"], res["readout_ops_event"] / res["readout_ops_dense"])
    1.0 0.1
    >>> print(res["n_units"], res["n_classes"], res["relative_cost"] > 0)
    40.0 3.0 True
    """
    n_units = _check_rule(rule)
    X = check_stimuli(X)
    if X.shape[1] != rule.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but the rule was fitted with "
                         f"{rule.n_features_in_}")
    if not callable(getattr(readout, "scores", None)):
        raise ValueError(f"readout must be a Readout (with scores(X)), got "
                         f"{type(readout).__name__}")
    if getattr(readout, "rule", rule) is not rule:
        raise ValueError("readout was fitted for a different rule than the one measured")
    n_batch = check_int(n_batch, "n_batch")
    repeats = check_int(repeats, "repeats")
    threshold = _check_threshold(threshold)
    n = X.shape[0]
    if codes is not None:
        codes = check_codes(codes)
        if codes.shape != (n, n_units):
            raise ValueError(f"codes must have shape ({n}, {n_units}), one code of the rule's "
                             f"{n_units} units per stimulus of X, got {codes.shape}")

    def codes_of(rows: np.ndarray) -> np.ndarray:
        if codes is not None:
            return np.asarray(codes[rows], dtype=np.float64)
        return np.concatenate([np.asarray(rule.encode(X[rows[i:i + _CHUNK]]), dtype=np.float64)
                               for i in range(0, len(rows), _CHUNK)])

    rng = np.random.default_rng(random_state)
    n_b = min(n_batch, n)
    order = rng.permutation(n)
    batch_rows = np.sort(order[:n_b])
    rest = order[n_b:]
    batch = np.ascontiguousarray(X[batch_rows])

    # -- the affine map: the batch's codes, then further rows up to 4 (s + 1) ----------------
    H_fit = codes_of(batch_rows)
    if H_fit.shape != (n_b, n_units):
        raise ValueError(f"rule.encode returned shape {H_fit.shape} for {n_b} stimuli; "
                         f"expected ({n_b}, {n_units})")
    H_batch = H_fit
    fit_rows = batch_rows
    used = (H_fit != 0).any(axis=0)
    taken = 0
    while taken < len(rest) and used.sum() <= _MAX_FIT_UNITS:
        target = _ROWS_PER_UNIT * (int(used.sum()) + 1)
        if len(fit_rows) >= target:
            break
        more = rest[taken:taken + min(target - len(fit_rows), _CHUNK)]
        taken += len(more)
        H_more = codes_of(more)
        H_fit = np.concatenate([H_fit, H_more])
        fit_rows = np.concatenate([fit_rows, more])
        used |= (H_more != 0).any(axis=0)
    S_fit = np.concatenate([_scores(readout, X[fit_rows[i:i + _CHUNK]])
                            for i in range(0, len(fit_rows), _CHUNK)])
    n_classes = S_fit.shape[1]

    residual, affine = float("nan"), float("nan")
    W = b = None
    if used.sum() <= _MAX_FIT_UNITS:
        W, b, res, rank = _affine_fit(H_fit, S_fit)
        if len(fit_rows) > rank:  # the fit could have missed: it checks something
            residual = res
            affine = 1.0 if res <= AFFINE_TOLERANCE else 0.0

    # -- timings -----------------------------------------------------------------------------
    ref_rng = np.random.default_rng(_REFERENCE_SEED)
    A_ref = ref_rng.standard_normal((n_b, REFERENCE_WIDTH)).astype(np.float32)
    B_ref = ref_rng.standard_normal((REFERENCE_WIDTH, REFERENCE_WIDTH)).astype(np.float32)
    items: list[tuple[str, Callable[[], Any]]] = [("encode", lambda: rule.encode(batch))]
    if affine == 1.0:
        H32 = np.ascontiguousarray(H_batch, dtype=np.float32)
        E = _events(H_batch, threshold)
        W32 = np.ascontiguousarray(W, dtype=np.float32)
        b32 = np.asarray(b, dtype=np.float32)
        items += [("dense", lambda: _dense_readout(H32, W32, b32)),
                  ("sparse", lambda: _event_readout(E, W32, b32))]
    items.append(("reference", lambda: A_ref @ B_ref))
    timed, repeats = _time_rounds(items, repeats, max_seconds)
    med = {k: v / n_b for k, v in timed.items()}

    nan = float("nan")
    t_enc, t_ref = med["encode"], med["reference"]
    t_dense, t_sparse = med.get("dense", nan), med.get("sparse", nan)
    t_total = t_enc + min(t_dense, t_sparse) if affine == 1.0 else nan
    n_active = float((np.abs(H_batch) > threshold).sum(axis=1).mean())
    return {
        "time_encode": t_enc,
        "time_readout_dense": t_dense,
        "time_readout_sparse": t_sparse,
        "time_reference": t_ref,
        "time_total": t_total,
        "relative_cost": t_total / t_ref,
        "relative_cost_dense": (t_enc + t_dense) / t_ref,
        "sparse_readout_speedup": t_dense / t_sparse if affine == 1.0 else nan,
        "encoder_fraction": t_enc / t_total if affine == 1.0 else nan,
        "readout_ops_dense": float(n_units * n_classes),
        "readout_ops_event": n_active * n_classes,
        "readout_affine": affine,
        "readout_linear_residual": residual,
        "n_batch": float(n_b),
        "repeats": float(repeats),
        "n_units": float(n_units),
        "n_classes": float(n_classes),
    }
