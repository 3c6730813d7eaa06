"""The Willshaw net: clipped binary synapses, stored by OR of outer products, recalled by
the dendritic sums against a threshold or as the ``k`` largest (moved from
:mod:`neurocode.models.memory`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurocode.memories.checks import _check_method, _chunks, _padded_indices, check_binary


# -- Willshaw ---------------------------------------------------------------------------------
def willshaw_store(W: np.ndarray, A: Any, B: Any = None, method: str = "auto") -> np.ndarray:
    """Clipped Hebbian storage, in place: ``W |= (A^T B > 0)``; returns ``W``.

    ``W``: boolean ``(n_in, n_out)``; ``A``: binary ``(M, n_in)``; ``B``: binary ``(M, n_out)``
    (``None``: ``A``, autoassociative). ``method="sparse"`` scatters the active index pairs,
    ``"dense"`` adds chunked matrix products; both give the same ``W``, and ``"auto"`` picks
    the cheaper for the patterns' activity.
    """
    _check_method(method)
    A = check_binary(A, "A")
    B = A if B is None else check_binary(B, "B")
    n_in, n_out = W.shape
    if A.shape[1] != n_in or B.shape[1] != n_out or len(A) != len(B):
        raise ValueError(f"patterns of shapes {A.shape} and {B.shape} do not fit a "
                         f"({n_in}, {n_out}) memory")
    if len(A) == 0:
        return W
    amax, bmax = int(A.sum(axis=1).max()), int(B.sum(axis=1).max())
    if method == "sparse" or (method == "auto" and 16 * amax * bmax < n_in * n_out):
        # scatter the active index pairs into a padded matrix (pad row/column dropped)
        ai = _padded_indices(A, n_in)
        bi = ai if B is A else _padded_indices(B, n_out)
        flat = np.zeros((n_in + 1) * (n_out + 1), dtype=bool)
        for sl in _chunks(len(A), (1 << 23) // max(1, ai.shape[1] * bi.shape[1])):
            flat[(ai[sl, :, None] * (n_out + 1) + bi[sl, None, :]).ravel()] = True
        W |= flat.reshape(n_in + 1, n_out + 1)[:n_in, :n_out]
    else:  # dense: chunked products, exact in float32 (counts < 2^24)
        for sl in _chunks(len(A), 4096):
            a = A[sl].astype(np.float32)
            b = a if B is A else B[sl].astype(np.float32)
            W |= (a.T @ b) > 0
    return W


def willshaw_sums(W: np.ndarray, cues: Any, alive_in: np.ndarray | None = None,
                  method: str = "auto") -> np.ndarray:
    """Dendritic sums ``s = c W`` (int32, ``(n, n_out)``) of binary cues; dead inputs give nothing.

    ``method="sparse"`` adds the rows of ``W`` the cue selects, ``"dense"`` multiplies; the
    same sums, and ``"auto"`` picks the cheaper for the cues' activity.
    """
    _check_method(method)
    C = check_binary(cues, "cues")
    n_in, n_out = W.shape
    if C.shape[1] != n_in:
        raise ValueError(f"cues have {C.shape[1]} units, the memory has {n_in} inputs")
    if alive_in is not None:
        C = C & alive_in
    out = np.empty((len(C), n_out), dtype=np.int32)
    if len(C) == 0:
        return out
    amax = int(C.sum(axis=1).max())
    if method == "sparse" or (method == "auto" and 8 * amax <= n_in):  # add up the rows of W
        idx = _padded_indices(C, n_in)
        Wp = np.vstack([W, np.zeros((1, n_out), dtype=bool)])
        for sl in _chunks(len(C), (1 << 24) // max(1, idx.shape[1] * n_out)):
            out[sl] = Wp[idx[sl]].sum(axis=1, dtype=np.int32)
    else:
        Wf = W.astype(np.float32)
        for sl in _chunks(len(C), 4096):
            out[sl] = C[sl].astype(np.float32) @ Wf
    return out


def willshaw_recall(W: np.ndarray, cues: Any, k: int | None = None, mode: str = "threshold",
                    alive_in: np.ndarray | None = None,
                    alive_out: np.ndarray | None = None, method: str = "auto") -> np.ndarray:
    """Recall from binary cues: uint8 codes ``(n, n_out)``.

    ``mode="threshold"``: ``y_j = [s_j >= theta]`` with ``theta`` the number of active (alive)
    cue units. ``mode="top-k"``: ``y_j = [s_j >= the k-th largest s over alive outputs]``
    (``k=None``: the cue's activity), ties at that value all firing, units with ``s_j = 0``
    never. A cue with no active alive unit recalls nothing. Dead inputs (``alive_in`` False)
    give no input; dead outputs (``alive_out`` False) are 0. ``method``: as in
    :func:`willshaw_sums`.
    """
    if mode not in ("threshold", "top-k"):
        raise ValueError(f"mode must be 'threshold' or 'top-k', got {mode!r}")
    C = check_binary(cues, "cues")
    if alive_in is not None:
        C = C & alive_in
    sums = willshaw_sums(W, C, method=method)
    activity = C.sum(axis=1)
    if alive_out is not None:
        sums[:, ~alive_out] = -1
    if mode == "threshold":
        theta = activity
    else:
        n_out = sums.shape[1]
        m = n_out if alive_out is None else int(alive_out.sum())
        want = np.minimum(activity if k is None else np.full(len(C), k), m)
        theta = np.zeros(len(C), dtype=np.int64)
        ok = want > 0
        if ok.any():
            if np.all(want[ok] == want[ok][0]):
                kk = int(want[ok][0])
                theta[ok] = np.partition(sums[ok], n_out - kk, axis=1)[:, n_out - kk]
            else:
                srt = np.sort(sums[ok], axis=1)
                theta[ok] = srt[np.arange(ok.sum()), n_out - want[ok]]
        theta = np.maximum(theta, 1)
    out = (sums >= theta[:, None]) & (activity > 0)[:, None]
    if alive_out is not None:
        out[:, ~alive_out] = False
    return out.astype(np.uint8)
