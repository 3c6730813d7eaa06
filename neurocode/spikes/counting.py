"""Spike counts per stimulus window and unit: :class:`SpikeCodes` and :func:`spike_counts`,
which every reader of :mod:`neurocode.spikes` ends in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurocode.spikes.checks import (
    _MAX_CELLS,
    SpikeDataError,
    _check_labels,
    _check_time_units,
    _check_times,
    _check_unit_indices,
    _check_windows,
    _seconds,
)


@dataclass(frozen=True)
class SpikeCodes:
    """Spike counts as codes, with what the counting dropped.

    Attributes
    ----------
    codes : ndarray of int64, shape (n_stimuli, n_units * bins)
        Spike counts per stimulus window (column ``j * bins + b``: unit ``j``, bin ``b``; one
        column per unit without bins).
    labels : ndarray or None
        One label per stimulus, where the source gives them.
    windows : ndarray of float, shape (n_stimuli, 2)
        The ``[onset, offset)`` windows, in seconds.
    n_units : int
        Units counted (the code has ``n_units * bins`` columns).
    bins : int or None
        Bins per window (None: one count per unit and window).
    n_spikes : int
        Spikes given.
    n_dropped : int
        Spikes outside every window (not counted).
    overlapping : bool
        Whether some windows overlap (a spike then counts in each window that holds it).
    unit_ids : ndarray or None
        The source's identifier of each unit (NWB ids, neo names), where it has them.
    source : str
        Where the spikes came from.
    """

    codes: np.ndarray
    labels: np.ndarray | None
    windows: np.ndarray
    n_units: int
    bins: int | None = None
    n_spikes: int = 0
    n_dropped: int = 0
    overlapping: bool = False
    unit_ids: np.ndarray | None = None
    source: str = ""

    def __iter__(self) -> Iterator[np.ndarray | None]:
        """``codes, labels = sc`` (and ``measure_codes(*sc)``)."""
        return iter((self.codes, self.labels))

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader of the measured code should know: dropped spikes, overlapping
        windows, the bins' layout (empty when there is nothing to say)."""
        out = []
        if self.n_dropped:
            out.append(f"{self.n_dropped} of {self.n_spikes} spikes "
                       f"({self.n_dropped / self.n_spikes:.1%}) fall outside every window "
                       f"and are not counted")
        if self.overlapping:
            out.append("some windows overlap: a spike in two windows counts in both")
        if self.bins:
            out.append(f"{self.bins} bins per window: column j*{self.bins}+b is unit j, bin b "
                       f"({self.n_units} units x {self.bins} bins)")
        return tuple(out)


# --- counting --------------------------------------------------------------------------------

def spike_counts(unit_indices: Any, spike_times: Any, windows: Any, n_units: int | None = None,
                 *, bins: int | None = None, labels: Any = None, check_units: bool = True,
                 unit_ids: Any = None, source: str = "") -> SpikeCodes:
    """Count each unit's spikes in each stimulus window: a ``(stimuli x units)`` code.

    Parameters
    ----------
    unit_indices : array of int, shape (n_spikes,)
        The unit of each spike (0 .. n_units - 1).
    spike_times : array of float, shape (n_spikes,)
        The time of each spike, in seconds (a ``quantities`` or Brian2 array is converted),
        in any order.
    windows : array, shape (n_stimuli, 2)
        ``[onset, offset)`` of each stimulus, in seconds (same conversions); windows may
        overlap and need not be sorted.
    n_units : int, optional
        Units of the code (default: the largest index + 1; give it so that units that never
        fire still have their column).
    bins : int, optional
        Count in ``bins`` equal parts of each window instead: the code is ``n_units * bins``
        wide, unit-major (column ``j * bins + b`` is unit ``j``, bin ``b``).
    labels : array, optional
        One label per window, carried into the result.
    check_units : bool, default True
        Refuse spike times and windows whose ranges differ by a factor of 100 or more in the
        way a milliseconds / seconds mix-up does (see the module notes).
    unit_ids : array, optional
        The source's identifier of each unit, carried into the result.
    source : str, optional
        Where the spikes came from, carried into the result.

    Returns
    -------
    SpikeCodes
        ``.codes`` (int64 counts), ``.labels``, ``.n_dropped`` (spikes outside every window),
        ``.overlapping``; unpacks as ``codes, labels``.

    Raises
    ------
    SpikeDataError
        Shapes that do not match, NaN or negative times, empty or reversed windows, unit
        indices out of range, no spikes, every spike outside every window, or a likely
        milliseconds / seconds mix-up.

    Examples
    --------
    >>> sc = spike_counts([0, 1, 1, 0, 2], [0.05, 0.12, 0.15, 1.02, 3.0],
    ...                   [[0.0, 0.2], [1.0, 1.2]], n_units=3)
    >>> sc.codes
    array([[1, 2, 0],
           [1, 0, 0]])
    >>> sc.n_dropped, sc.overlapping
    (1, False)
    >>> spike_counts([0, 0, 0], [0.01, 0.02, 0.15], [[0.0, 0.2]], bins=2).codes
    array([[2, 1]])
    """
    t = _seconds(spike_times, "spike_times")
    if t.ndim != 1:
        raise SpikeDataError(f"spike_times must be 1-D (one time per spike), got shape "
                             f"{t.shape}")
    _check_times(t, "spike_times")
    w = _check_windows(windows)
    u, n_units = _check_unit_indices(unit_indices, t.shape[0], n_units)
    if bins is None:
        nb = 1
    elif isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise SpikeDataError(f"bins must be a whole number >= 1 (or None), got {bins!r}")
    else:
        nb = int(bins)
    y = _check_labels(labels, w.shape[0])
    if t.size == 0:
        raise SpikeDataError("no spikes were given: every code would be zero (did the "
                             "simulation or the recording run?)")
    width = n_units * nb
    if w.shape[0] * width >= _MAX_CELLS:
        raise SpikeDataError(f"{w.shape[0]} windows x {width} columns is too large a code "
                             f"(over {_MAX_CELLS} cells): use fewer windows, units or bins")
    if check_units:
        _check_time_units(t, w)

    if t.size > 1 and np.any(t[1:] < t[:-1]):             # a monitor's spikes come sorted
        order = np.argsort(t)
        ts, us = t[order], u[order]
    else:
        ts, us = t, u
    on, off = w[:, 0], w[:, 1]
    lo = np.searchsorted(ts, on, side="left")
    hi = np.searchsorted(ts, off, side="left")           # [onset, offset)
    n_in = hi - lo
    total = int(n_in.sum())
    if total == 0:
        raise SpikeDataError(
            f"none of the {t.size} spikes falls inside a window: the spikes span "
            f"[{ts[0]:.6g}, {ts[-1]:.6g}] s and the windows [{on.min():.6g}, {off.max():.6g}) s; "
            f"give the windows on the spikes' clock, in seconds")
    win = np.repeat(np.arange(w.shape[0]), n_in)          # each (window, spike) pair ...
    pos = np.arange(total) + np.repeat(lo - (np.cumsum(n_in) - n_in), n_in)  # ... its spike
    cell = win * width + us[pos] * nb
    if nb > 1:
        frac = (ts[pos] - on[win]) / (off[win] - on[win])
        cell += np.clip(np.floor(frac * nb).astype(np.int64), 0, nb - 1)
    codes = np.bincount(cell, minlength=w.shape[0] * width).reshape(w.shape[0], width)
    inside = np.zeros(t.size, dtype=bool)
    inside[pos] = True
    srt = np.argsort(on, kind="stable")
    overlapping = bool(w.shape[0] > 1 and np.any(
        on[srt][1:] < np.maximum.accumulate(off[srt])[:-1]))
    ids = None if unit_ids is None else np.asarray(unit_ids)
    return SpikeCodes(codes=codes.astype(np.int64, copy=False), labels=y, windows=w,
                      n_units=n_units, bins=None if bins is None else nb, n_spikes=int(t.size),
                      n_dropped=int(t.size - np.count_nonzero(inside)),
                      overlapping=overlapping, unit_ids=ids, source=source)
