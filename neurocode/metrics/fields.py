"""Receptive-field shape: how localised a field is in space.

Pure functions over a weight matrix ``(n_units, n_features)`` whose rows are images of shape
``image_shape`` (row-major), whatever rule learned them.

The spatial spread of a field ``q`` is the second moment of its energy ``e = q^2 / sum q^2``
about the energy centroid ``c = sum_r e(r) r``::

    spread(q) = sum_r e(r) |r - c|^2        (pixels^2; r = (row, column))

A field concentrated on one pixel has spread 0; a field whose energy is spread evenly over an
``h x w`` image has ``(h^2 - 1)/12 + (w^2 - 1)/12`` (42.5 for 16 x 16). The *localisation
index* compares a field with its own pixels shuffled at random (same values, no spatial
arrangement)::

    L(q) = 1 - spread(q) / mean_shuffles spread(shuffle(q))

``L`` is near 0 for a field no more localised than noise, and near 1 for a compact one
(e.g. a small blob: a 2 x 2 block in a 16 x 16 image scores about 0.99); it ignores sign and
orientation. It is NaN where the baseline is 0 (a field with a single non-zero pixel stays a
single pixel when shuffled) and for an all-zero field.
"""

from __future__ import annotations

import numpy as np

__all__ = ["localisation_index", "spatial_spread"]


def _fields(weights, image_shape) -> tuple[np.ndarray, tuple[int, int]]:
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim == 1:
        W = W[None, :]
    if W.ndim != 2:
        raise ValueError(f"weights must be 2-D (n_units, n_features), got shape {W.shape}")
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 2 or shape[0] * shape[1] != W.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match {W.shape[1]} features")
    if not np.isfinite(W).all():
        raise ValueError("weights contain NaN or infinite values")
    return W, shape


def spatial_spread(weights, image_shape) -> np.ndarray:
    """Energy-weighted spatial variance of each field, in pixels^2 (see the module docstring).

    Parameters
    ----------
    weights : (n_units, n_features) array, or one (n_features,) field
    image_shape : (height, width) with ``height * width == n_features``

    Returns
    -------
    (n_units,) array; NaN for an all-zero field.

    Examples
    --------
    >>> q = np.zeros((5, 5)); q[2, 2] = 1.0
    >>> print(round(float(spatial_spread(q.ravel(), (5, 5))[0]), 6),
    ...       round(float(spatial_spread(np.ones(25), (5, 5))[0]), 6))  # 2 (5^2 - 1) / 12
    0.0 4.0
    """
    W, (h, w) = _fields(weights, image_shape)
    e = W ** 2
    total = e.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = e / total
    rows = np.repeat(np.arange(h, dtype=np.float64), w)
    cols = np.tile(np.arange(w, dtype=np.float64), h)
    cr = e @ rows
    cc = e @ cols
    return e @ (rows ** 2) - cr ** 2 + e @ (cols ** 2) - cc ** 2


def localisation_index(weights, image_shape, n_shuffles: int = 20,
                       random_state: int | None = 0) -> np.ndarray:
    """``1 - spread(q) / mean spread(shuffled q)`` for each field ``q`` (module docstring).

    Parameters
    ----------
    weights : (n_units, n_features) array
    image_shape : (height, width)
    n_shuffles : int
        Random pixel permutations per field for the baseline.
    random_state : int or None
        Seed of the permutations.

    Returns
    -------
    (n_units,) array, about 0 for unstructured fields, near 1 for compact ones (NaN where the
    shuffled baseline is 0: single-pixel and all-zero fields).
    """
    W, shape = _fields(weights, image_shape)
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be >= 1, got {n_shuffles}")
    rng = np.random.default_rng(random_state)
    own = spatial_spread(W, shape)
    base = np.zeros(len(W))
    for _ in range(int(n_shuffles)):
        shuffled = rng.permuted(W, axis=1)
        base += spatial_spread(shuffled, shape)
    base /= n_shuffles
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(base > 0, 1.0 - own / np.where(base > 0, base, 1.0), np.nan)
