"""Codes from elsewhere, measured by the same battery as the built-in rules.

* :class:`~neurocode.adapters.torch_layer.TorchLayerCode`: any layer of a live torch model
  (``nn.Module``, by its dotted name) as a code; silencing a unit zeroes it *inside* the
  network, so every later layer loses it; a classifier is read by its own output.
  :func:`~neurocode.adapters.torch_layer.measure_layer` runs the battery on one.
* :class:`~neurocode.adapters.sae.DictionaryCode`: a sparse autoencoder or a dictionary
  (anything with ``encode``/``decode``, SAELens' convention, or scikit-learn's
  ``DictionaryLearning``, ``MiniBatchDictionaryLearning`` and ``SparseCoder``) as a code;
  :func:`~neurocode.adapters.sae.reconstruction_measures` gives what an SAE user expects
  (MSE, explained variance, L0, dead and dense features) beside neurocode's activity
  measures, and :func:`~neurocode.adapters.sae.measure_dictionary` the battery with them.

Fixed arrays of codes are :mod:`neurocode.codes`' (``measure_codes``).

The names load on first use, so ``import neurocode.adapters`` does not import torch; the
rules here wrap a live object, so they are built in Python and not registered by name.
Bad input raises :class:`AdapterError` (a ``ValueError``) saying what is wrong and how to
fix it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["AdapterError", "NonFiniteOutputError", "TorchLayerCode", "measure_layer",
           "DictionaryCode", "reconstruction_measures", "measure_dictionary"]


class AdapterError(ValueError):
    """An adapted model or dictionary cannot be measured as given; the message says why and
    what to change (a ``ValueError``: the command line reports it as a usage error)."""


class NonFiniteOutputError(AdapterError):
    """The wrapped model or dictionary gave NaN or infinite values."""


_LAZY = {"TorchLayerCode": "torch_layer", "measure_layer": "torch_layer",
         "DictionaryCode": "sae", "reconstruction_measures": "sae",
         "measure_dictionary": "sae"}


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (torch only for the torch adapter)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neurocode.adapters' has no attribute {name!r}")
    value = getattr(import_module(f"neurocode.adapters.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _dataset(X_train: Any, y_train: Any, X_test: Any, y_test: Any, *, test_fraction: float,
             random_state: int, image_shape: Any) -> Any:
    """The :class:`~neurocode.data.prepare.Dataset` the measure functions give the battery:
    the given test split, or ``test_fraction`` of the one split (stratified by label when
    every class can be), stimuli as float32; an :class:`AdapterError` naming what is wrong."""
    import numpy as np

    from neurocode.data.prepare import Dataset

    def stimuli(X: Any, what: str) -> np.ndarray:
        arr = np.asarray(X)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise AdapterError(f"{what} must be a numeric array, got dtype {arr.dtype}")
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise AdapterError(f"{what} must be 2-D (n_stimuli, n_features) with at least one "
                               f"stimulus, got shape {arr.shape}: flatten each stimulus")
        if not np.isfinite(arr).all():
            raise AdapterError(f"{what} contains NaN or infinite values")
        return arr.astype(np.float32, copy=False)

    def labels(y: Any, n: int, what: str) -> np.ndarray | None:
        if y is None:
            return None
        arr = np.asarray(y)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise AdapterError(f"{what} must be 1-D with one label per stimulus ({n}), got "
                               f"shape {arr.shape}")
        if arr.dtype.kind == "f":
            if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
                raise AdapterError(f"{what} must be class labels (integers), got non-integer "
                                   f"or non-finite numbers")
            arr = arr.astype(np.int64)
        return arr

    X = stimuli(X_train, "X_train")
    y = labels(y_train, len(X), "y_train")
    if X_test is None:
        if y_test is not None:
            raise AdapterError("y_test without X_test: give both, or neither to split X_train")
        f = float(test_fraction)
        if not 0.0 < f < 1.0:
            raise AdapterError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
        if len(X) < 4:
            raise AdapterError(f"X_train has {len(X)} stimuli: too few to split into training "
                               f"and test stimuli (give X_test)")
        from neurocode.data.codes import split_indices  # the split measure --codes makes

        tr, te = split_indices(len(X), y, f, random_state)
        Xtr, Xte = X[tr], X[te]
        ytr, yte = (None, None) if y is None else (y[tr], y[te])
    else:
        Xtr, ytr = X, y
        Xte = stimuli(X_test, "X_test")
        if Xte.shape[1] != Xtr.shape[1]:
            raise AdapterError(f"X_test has {Xte.shape[1]} features, X_train {Xtr.shape[1]}: "
                               f"both must be stimuli of the same kind")
        yte = labels(y_test, len(Xte), "y_test")
        if (ytr is None) != (yte is None):
            raise AdapterError("give labels for both splits (y_train and y_test) or for neither")
    if image_shape is not None:
        shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
        if (shape is None or len(shape) != 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                           for s in shape)):
            raise AdapterError(f"image_shape must be (height, width), two positive integers, "
                               f"got {image_shape!r}")
        image_shape = shape
    return Dataset(Xtr, ytr, Xte, yte, image_shape=image_shape)
