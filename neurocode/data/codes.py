"""Codes given as arrays or files: read, checked and split into training and test stimuli.

The loader behind :mod:`neurocode.codes` and the ``codes`` data set (:func:`neurocode.data.prepare.load_data`) of a run file's config
(``data: {dataset: codes, path: FILE, codes_key, labels_key, test_fraction}``), so a stored
run of given codes is measured again from its file like any other run. Formats:

* ``.npz``: arrays ``codes`` and optionally ``labels`` (one split), or ``codes_train``,
  ``codes_test`` and optionally ``labels_train``, ``labels_test``;
* ``.npy``: one array of codes (no labels);
* ``.h5`` / ``.hdf5``: the datasets named by ``codes_key`` (default ``codes``) and
  ``labels_key`` (default ``labels`` if present);
* ``.nwb``: a Neurodata Without Borders file (pynwb: ``pip install neurocode[nwb]``): the
  spikes of its Units table counted in each row of the intervals table named by
  ``codes_key`` (default ``trials``; ``epochs`` or any other), labels from the column of that
  table named by ``labels_key`` (no labels without it); see :func:`neurocode.spikes.from_nwb`.

One split is divided into training stimuli (for the readout) and test stimuli (measured) by
``test_fraction`` (default 0.25), stratified by label when every class can be, with
``random_state``. Codes may be float, integer or boolean, dense or ``scipy.sparse`` (made
dense, as float32). Every problem is a ``ValueError`` that names the file and what is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CodeSet", "load_codes", "split_codes", "CODE_SUFFIXES"]

CODE_SUFFIXES = (".npz", ".npy", ".h5", ".hdf5", ".nwb")


@dataclass
class CodeSet:
    """Codes and labels of training and test stimuli (labels may be None); ``notes``: what
    reading them dropped or assumed (spikes outside every window, overlapping windows)."""

    codes_train: np.ndarray
    labels_train: np.ndarray | None
    codes_test: np.ndarray
    labels_test: np.ndarray | None
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        """The code's width: the number of columns of the training codes."""
        return int(self.codes_train.shape[1])


def _dense(codes: Any, what: str) -> np.ndarray:
    """Codes as a finite float32 2-D array; ValueError naming the problem otherwise."""
    from neurocode.metrics._validate import check_codes

    if hasattr(codes, "toarray") and callable(codes.toarray):   # scipy.sparse
        codes = codes.toarray()
    arr = check_codes(codes, what)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _labels(labels: Any, n: int, what: str) -> np.ndarray | None:
    if labels is None:
        return None
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one label per stimulus), got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{what} has {y.shape[0]} labels for {n} rows of codes: give one "
                         f"label per stimulus, in the same order")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise ValueError(f"{what} contains NaN or infinite values")
        if np.any(y != np.round(y)):
            raise ValueError(f"{what} must be class labels (integers or strings), got "
                             f"non-integer numbers")
        y = y.astype(np.int64)
    if len(np.unique(y)) < 2:
        raise ValueError(f"{what} holds a single class: the readout needs at least two")
    return y


def split_codes(codes: Any, labels: Any = None, *, codes_test: Any = None,
                labels_test: Any = None, test_fraction: float = 0.25,
                random_state: int = 0, source: str = "") -> CodeSet:
    """Checked training and test codes: the given test split, or ``test_fraction`` of one
    split (stratified by label when there are labels)."""
    C = _dense(codes, "codes" if codes_test is None else "codes_train")
    y = _labels(labels, len(C), "labels" if codes_test is None else "labels_train")
    if codes_test is not None:
        Ct = _dense(codes_test, "codes_test")
        if Ct.shape[1] != C.shape[1]:
            raise ValueError(f"codes_test has {Ct.shape[1]} units, codes_train {C.shape[1]}: "
                             f"both splits must come from the same units")
        yt = _labels(labels_test, len(Ct), "labels_test")
        if (y is None) != (yt is None):
            raise ValueError("give labels for both splits or for neither")
        out = CodeSet(C, y, Ct, yt, source)
    else:
        if labels_test is not None:
            raise ValueError("labels_test without codes_test")
        f = float(test_fraction)
        if not 0.0 < f < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
        if len(C) < 4:
            raise ValueError(f"codes has {len(C)} rows: too few to split into training and "
                             f"test stimuli")
        tr, te = split_indices(len(C), y, f, random_state)
        out = CodeSet(C[tr], None if y is None else y[tr], C[te],
                      None if y is None else y[te], source)
    for what, arr in (("training", out.codes_train), ("test", out.codes_test)):
        if not np.any(arr):
            raise ValueError(f"the {what} codes are all zero (an empty code: no unit is ever "
                             f"active); nothing can be measured")
    return out


def split_indices(n: int, y: np.ndarray | None, test_fraction: float,
                  random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted training and test indices of ``n`` stimuli, ``test_fraction`` of them for test,
    stratified by ``y`` when every class can be (else a plain random split)."""
    from sklearn.model_selection import train_test_split

    strat = y if y is not None and _stratifiable(y, test_fraction) else None
    tr, te = train_test_split(np.arange(n), test_size=test_fraction, random_state=random_state,
                              stratify=strat)
    return np.sort(tr), np.sort(te)


def _stratifiable(y: np.ndarray, f: float) -> bool:
    _, counts = np.unique(y, return_counts=True)
    n_test = math.ceil(f * len(y))
    return counts.min() >= 2 and n_test >= len(counts) and len(y) - n_test >= len(counts)


def load_codes(path: str | Path, *, codes_key: str | None = None, labels_key: str | None = None,
               test_fraction: float = 0.25, random_state: int = 0) -> CodeSet:
    """Read codes (and labels) from ``path`` and split them into training and test stimuli.

    Parameters
    ----------
    path : str or Path
        A ``.npz``, ``.npy``, ``.h5`` / ``.hdf5`` or ``.nwb`` file (see the module notes).
    codes_key : str, optional
        The array or HDF5 dataset holding the codes (default ``codes``); for an ``.nwb``
        file, the intervals table whose rows are the stimuli (default ``trials``).
    labels_key : str, optional
        The array or HDF5 dataset holding the labels (default ``labels`` if present); for an
        ``.nwb`` file, the column of the intervals table holding the labels (default: none).
    test_fraction : float, default 0.25
        Share of one split's stimuli kept as test stimuli.
    random_state : int, default 0
        Seed of the split.

    Returns
    -------
    CodeSet
        For an ``.nwb`` file, ``notes`` says how many spikes fell outside every window and
        whether windows overlap.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Anything wrong with the file or its contents, named with the file's path.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such codes file")
    suffix = p.suffix.lower()
    if suffix not in CODE_SUFFIXES:
        raise ValueError(f"{p}: unknown codes file type {p.suffix!r}; use one of "
                         f"{', '.join(CODE_SUFFIXES)}")
    try:
        if suffix == ".nwb":
            from neurocode.spikes import from_nwb

            sc = from_nwb(p, intervals=codes_key or "trials", label_column=labels_key)
            cs = split_codes(sc.codes, sc.labels, test_fraction=test_fraction,
                             random_state=random_state, source=str(p))
            return replace(cs, notes=sc.notes)
        if suffix == ".npy":
            if labels_key or codes_key:
                raise ValueError(f"{p}: a .npy file holds one array (the codes); "
                                 f"--codes-key and --labels-key are for .npz, HDF5 and NWB "
                                 f"files")
            return split_codes(np.load(p, allow_pickle=False), None,
                               test_fraction=test_fraction, random_state=random_state,
                               source=str(p))
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            return _from_mapping(arrays, p, codes_key, labels_key, test_fraction, random_state)
        import h5py

        with h5py.File(p, "r") as f:
            names: list[str] = []
            f.visititems(lambda name, obj: names.append(name)
                         if isinstance(obj, h5py.Dataset) else None)
            ck = codes_key or "codes"
            if ck not in f or not isinstance(f[ck], h5py.Dataset):
                raise ValueError(f"{p}: no dataset {ck!r}; the file holds "
                                 f"{', '.join(names) or 'no datasets'} (choose one with "
                                 f"--codes-key)")
            lk = labels_key or ("labels" if "labels" in f else None)
            if lk is not None and (lk not in f or not isinstance(f[lk], h5py.Dataset)):
                raise ValueError(f"{p}: no dataset {lk!r}; the file holds {', '.join(names)}")
            codes = f[ck][()]
            labels = f[lk][()] if lk is not None else None
        if labels is not None and labels.dtype.kind in "SO":
            labels = labels.astype(str)
        return split_codes(codes, labels, test_fraction=test_fraction,
                           random_state=random_state, source=str(p))
    except (OSError, EOFError) as exc:
        raise ValueError(f"{p}: unreadable or corrupted codes file ({exc})") from exc
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from exc


def _from_mapping(arrays: dict[str, np.ndarray], p: Path, codes_key: str | None,
                  labels_key: str | None, test_fraction: float,
                  random_state: int) -> CodeSet:
    held = ", ".join(sorted(arrays)) or "no arrays"
    if codes_key is None and "codes_train" in arrays:
        if "codes_test" not in arrays:
            raise ValueError(f"{p}: codes_train without codes_test (the file holds {held})")
        return split_codes(arrays["codes_train"], arrays.get("labels_train"),
                           codes_test=arrays["codes_test"], labels_test=arrays.get("labels_test"),
                           source=str(p))
    ck = codes_key or "codes"
    if ck not in arrays:
        raise ValueError(f"{p}: no array {ck!r}; the file holds {held} (name the codes "
                         f"'codes', or 'codes_train' and 'codes_test', or choose with "
                         f"--codes-key)")
    lk = labels_key or ("labels" if "labels" in arrays else None)
    if lk is not None and lk not in arrays:
        raise ValueError(f"{p}: no array {lk!r}; the file holds {held}")
    return split_codes(arrays[ck], arrays[lk] if lk else None, test_fraction=test_fraction,
                       random_state=random_state, source=str(p))
