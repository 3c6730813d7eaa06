"""A config's ``data`` section -> training and test arrays for a rule.

Image data sets are flattened and scaled to [0, 1] (except ``patches``: whitened natural-image
patches, each already at zero mean and unit variance, :mod:`neurocode.data.patches`, of side
``patch_size``, 16 by default); then ``preprocess`` applies:
``center`` (subtract the training mean), ``standardize`` (subtract the training mean and
divide by the training standard deviation, per feature, floored at 1e-8) or ``binarize``
(pixel > 0.5). Statistics are fitted on the training split only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Dataset:
    """The training and test stimuli a rule is fitted on and the battery measures.

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Training and test stimuli, ``(n_samples, n_features)``: images flattened and prepared as the
        module docstring says, or given codes.
    y_train, y_test : numpy.ndarray or None
        Their class labels, ``(n_samples,)``; None for data without labels (the battery then skips
        the measures that need a readout).
    image_shape : tuple of int or None
        ``(height, width)`` of a stimulus seen as an image, for drawing receptive fields; None when
        the features are not pixels (the battery then skips superposition, which mixes images).
    """

    X_train: np.ndarray
    y_train: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray | None
    image_shape: tuple[int, int] | None  # for drawing receptive fields

    @property
    def n_features(self) -> int:
        """Features per stimulus: the number of columns of ``X_train``."""
        return self.X_train.shape[1]


def load_data(data: dict[str, Any], seed: int = 0) -> Dataset:
    """Load and prepare the data a resolved config's ``data`` section describes."""
    name = data["dataset"]
    n_train, n_test = data.get("n_train"), data.get("n_test")
    if name == "bars":
        from neurocode.data.bars import make_bars

        Xtr, _ = make_bars(n_train or 2000, random_state=seed)
        Xte, _ = make_bars(n_test or 500, random_state=seed + 10_000)
        ds = Dataset(Xtr.astype(np.float32), None, Xte.astype(np.float32), None, (8, 8))
    elif name == "codes":   # codes given as a file (neurocode measure --codes)
        from neurocode.data.codes import load_codes

        return dataset_from_codes(load_codes(data["path"], codes_key=data.get("codes_key"),
                                     labels_key=data.get("labels_key"),
                                     test_fraction=float(data.get("test_fraction", 0.25)),
                                     random_state=seed))
    elif name == "patches":
        from neurocode.data.patches import load_patches

        size = int(data.get("patch_size") or 16)
        Xtr, Xte = load_patches(n_train or 100_000, n_test or 10_000, size, seed=seed)
        ds = Dataset(Xtr, None, Xte, None, (size, size))
    else:
        from neurocode.data import load_mnist

        parts = []
        for split, n in (("train", n_train), ("test", n_test)):
            images, labels = load_mnist(name, split=split, data_dir=data.get("data_dir"))
            images, labels = images[:n], labels[:n]
            X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
            parts += [X, labels.astype(np.int64)]
        X_train, y_train, X_test, y_test = parts
        ds = Dataset(X_train, y_train, X_test, y_test, image_shape=(28, 28))
    return _preprocess(ds, data.get("preprocess", "none"))


def dataset_from_codes(cs: Any) -> Dataset:
    """Given codes (a :class:`neurocode.data.codes.CodeSet`) as a Dataset whose stimuli are
    the codes (for :class:`neurocode.codes.GivenCodes`); no image shape, so nothing is
    superposed."""
    return Dataset(cs.codes_train, cs.labels_train, cs.codes_test, cs.labels_test,
                   image_shape=None)


def _preprocess(ds: Dataset, how: str) -> Dataset:
    if how == "none":
        return ds
    if how == "binarize":
        ds.X_train = (ds.X_train > 0.5).astype(np.float32)
        ds.X_test = (ds.X_test > 0.5).astype(np.float32)
        return ds
    mean = ds.X_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    ds.X_train = ds.X_train - mean
    ds.X_test = ds.X_test - mean
    if how == "standardize":
        std = np.maximum(ds.X_train.std(axis=0, dtype=np.float64), 1e-8).astype(np.float32)
        ds.X_train /= std
        ds.X_test /= std
    elif how != "center":
        raise ValueError(f"unknown preprocess {how!r}")
    return ds
