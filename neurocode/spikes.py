"""Spike trains as codes: spikes counted per unit in stimulus windows, ``(stimuli x units)``.

A recording or a simulation gives spikes (a unit index and a time each) and the stimuli's
time windows (``[onset, offset)`` in seconds); the code of stimulus ``i`` is the number of
spikes each unit fires in window ``i`` (:func:`spike_counts`), or with ``bins=B`` its counts in
``B`` equal parts of the window, flattened unit-major (column ``j * B + b`` is unit ``j``, bin
``b``; the code is then ``n_units * B`` wide). The sources:

* :func:`from_brian2`: a Brian2 ``SpikeMonitor`` (``.i``, ``.t`` with units);
* :func:`from_neo`: a list of ``neo.SpikeTrain`` (one per unit) or a ``neo.Segment``, with
  windows as an array, a ``quantities`` array or a ``neo.Epoch`` (its labels as labels);
* :func:`from_nwb`: an NWB file's Units table, windows from its trials table or any other
  intervals table (epochs, ...), labels from one of its columns.

Each returns a :class:`SpikeCodes` (codes, labels, and what was dropped), which unpacks as
``codes, labels`` for :func:`neurocode.codes.measure_codes` (``measure_codes(*sc)``); an NWB
file is also read by ``neurocode measure --codes rec.nwb`` (:func:`neurocode.data.codes.load_codes`).

Checks: times are in seconds, finite and >= 0; windows are ``(n_stimuli, 2)`` with
``offset > onset``. Spike times that look like milliseconds against windows in seconds (or
the other way round) are refused with the likely mistake named (``check_units=False`` when
the times are right). Spikes outside every window are not counted: all of them outside is an
error, some outside are counted in :attr:`SpikeCodes.n_dropped`. Windows may overlap (a spike
then counts in each window that holds it): :attr:`SpikeCodes.overlapping` says so. Every
problem is a :class:`SpikeDataError` (a ``ValueError``); wrong object types are ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SpikeCodes", "SpikeDataError", "MissingDependencyError", "spike_counts",
           "from_brian2", "from_neo", "from_nwb", "NWB_EXTRA"]

#: what to install for :func:`from_nwb` and :func:`from_neo`
NWB_EXTRA = "pip install neurocode[nwb]"

#: the factor beyond which spike times and windows are taken for different time units
_UNIT_FACTOR = 100.0

#: the most cells (stimuli x columns) a code may have
_MAX_CELLS = 2**31


class SpikeDataError(ValueError):
    """Spikes or windows that cannot be counted (what is wrong and how to fix it)."""


class MissingDependencyError(ImportError, ValueError):
    """An optional package (pynwb, neo) is not installed; the message says what to install.

    A ``ValueError`` as well, so the command line reports it as bad input (exit 2).
    """


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


# --- checks ----------------------------------------------------------------------------------

def _seconds(x: Any, what: str) -> np.ndarray:
    """``x`` as float64 seconds: a ``quantities``/neo array is rescaled, a Brian2 Quantity
    divided by ``second``, plain numbers are taken as seconds."""
    if hasattr(x, "rescale") and hasattr(x, "dimensionality"):        # quantities (neo)
        try:
            x = x.rescale("s")
        except ValueError:
            raise SpikeDataError(f"{what} has units of {x.dimensionality}, not of time: "
                                 f"give times (s, ms, ...)") from None
        return np.asarray(x.magnitude, dtype=np.float64)
    if hasattr(x, "dim") and type(x).__module__.startswith("brian2"):  # Brian2 Quantity
        from brian2 import second
        from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

        dim = get_dimensions(x)
        if dim is second.dim:
            return np.asarray(x / second, dtype=np.float64)
        if dim is not DIMENSIONLESS:
            raise SpikeDataError(f"{what} has units of {dim}, not of time: give times "
                                 f"(second, ms, ...)")
    if isinstance(x, (list, tuple)) and x and any(
            hasattr(e, "rescale") or hasattr(e, "dim") or isinstance(e, (list, tuple))
            for e in x):                                    # a list of quantities
        return np.asarray([_seconds(e, what) for e in x], dtype=np.float64)
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpikeDataError(f"{what} must be numbers (times in seconds), got "
                             f"{type(x).__name__}") from None


def _check_times(t: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(t)
    if bad.any():
        raise SpikeDataError(f"{what} contain {int(bad.sum())} NaN or infinite values (first "
                             f"at position {int(np.flatnonzero(bad)[0])}): give finite times "
                             f"in seconds")
    if t.size and t.min() < 0:
        raise SpikeDataError(f"{what} contain negative times (the smallest is {t.min():.6g} "
                             f"s): times are seconds from the recording's start, >= 0; shift "
                             f"the spikes and the windows by the same amount")


def _check_windows(windows: Any) -> np.ndarray:
    w = _seconds(windows, "windows")
    if w.ndim != 2 or w.shape[1] != 2:
        raise SpikeDataError(f"windows must be an (n_stimuli, 2) array of [onset, offset) "
                             f"times in seconds, got shape {w.shape}")
    if w.shape[0] == 0:
        raise SpikeDataError("windows is empty: give at least one [onset, offset) window")
    _check_times(w, "windows")
    bad = np.flatnonzero(w[:, 1] <= w[:, 0])
    if bad.size:
        i = int(bad[0])
        raise SpikeDataError(f"window {i} ends before it starts or is empty ([{w[i, 0]:.6g}, "
                             f"{w[i, 1]:.6g}) s; {bad.size} such windows): each row is "
                             f"[onset, offset) with offset > onset")
    return w


def _check_unit_indices(unit_indices: Any, n: int, n_units: int | None) -> tuple[np.ndarray,
                                                                                  int]:
    u = np.asarray(unit_indices)
    if u.ndim != 1:
        raise SpikeDataError(f"unit_indices must be 1-D (one unit per spike), got shape "
                             f"{u.shape}")
    if u.shape[0] != n:
        raise SpikeDataError(f"unit_indices has {u.shape[0]} entries for {n} spike times: give "
                             f"one unit index per spike, in the same order")
    if u.dtype.kind == "f":
        if not np.isfinite(u).all() or np.any(u != np.round(u)):
            raise SpikeDataError("unit_indices must be whole numbers (unit 0, 1, ...)")
        u = u.astype(np.int64)
    elif u.dtype.kind not in "iu" and u.size:
        raise SpikeDataError(f"unit_indices must be integers (unit 0, 1, ...), got dtype "
                             f"{u.dtype}")
    u = u.astype(np.int64, copy=False)
    if u.size and u.min() < 0:
        raise SpikeDataError(f"unit_indices must be >= 0, found {int(u.min())}")
    top = int(u.max()) + 1 if u.size else 0
    if n_units is None:
        n_units = top
    else:
        if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) \
                or n_units < 1:
            raise SpikeDataError(f"n_units must be a whole number >= 1, got {n_units!r}")
        n_units = int(n_units)
        if top > n_units:
            raise SpikeDataError(f"unit index {top - 1} is out of range for n_units="
                                 f"{n_units}: indices run from 0 to n_units - 1")
    return u, n_units


def _check_time_units(t: np.ndarray, w: np.ndarray) -> None:
    """Refuse spike times and windows that look like different units (ms against s)."""
    s_hi, w_hi = float(t.max()), float(w[:, 1].max())
    after = float(np.mean(t >= w_hi))
    if s_hi > _UNIT_FACTOR * w_hi and after > 0.95:
        raise SpikeDataError(
            f"the spike times run to {s_hi:.6g} but the windows end at {w_hi:.6g} "
            f"({s_hi / w_hi:.0f}x earlier), and {after:.1%} of the spikes come after the last "
            f"window: the spike times look like milliseconds (or another unit) while the "
            f"windows are in seconds. Give both in seconds (milliseconds / 1000); if the "
            f"times are right, pass check_units=False")
    late = float(np.mean(w[:, 0] > s_hi))
    if s_hi > 0 and w_hi > _UNIT_FACTOR * s_hi and late > 0.5:
        raise SpikeDataError(
            f"the windows run to {w_hi:.6g} but the last spike is at {s_hi:.6g} "
            f"({w_hi / s_hi:.0f}x earlier), and {late:.0%} of the windows start after it: the "
            f"windows look like milliseconds (or another unit) while the spike times are in "
            f"seconds. Give both in seconds (milliseconds / 1000); if the times are right, "
            f"pass check_units=False")


def _check_labels(labels: Any, n: int) -> np.ndarray | None:
    if labels is None:
        return None
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise SpikeDataError(f"labels must be 1-D with one label per window ({n}), got shape "
                             f"{y.shape}")
    if y.dtype.kind == "S":
        y = y.astype(str)
    return y


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


# --- Brian2 ----------------------------------------------------------------------------------

def from_brian2(spike_monitor: Any, windows: Any, *, labels: Any = None,
                bins: int | None = None, n_units: int | None = None,
                check_units: bool = True) -> SpikeCodes:
    """Codes from a Brian2 ``SpikeMonitor`` (or any ``EventMonitor``) after a run.

    Parameters
    ----------
    spike_monitor : brian2.SpikeMonitor
        Its ``.i`` (unit indices) and ``.t`` (times, a Quantity) are read; unit indices are
        those of the monitored group (a subgroup's own, from 0).
    windows : array or brian2 Quantity, shape (n_stimuli, 2)
        ``[onset, offset)`` of each stimulus (``[[0, 100], [150, 250]] * ms``, or plain
        numbers in seconds).
    labels : array, optional
        One label per window.
    bins : int, optional
        Bins per window (see :func:`spike_counts`).
    n_units : int, optional
        Units of the code (default: the monitored group's size, so silent units keep their
        column).
    check_units : bool, default True
        See :func:`spike_counts`.

    Returns
    -------
    SpikeCodes
        See :func:`spike_counts`.

    Examples
    --------
    >>> from brian2 import SpikeGeneratorGroup, SpikeMonitor, run, ms  # doctest: +SKIP
    >>> g = SpikeGeneratorGroup(3, [0, 2, 2], [5, 12, 130] * ms)       # doctest: +SKIP
    >>> mon = SpikeMonitor(g); run(200 * ms)                           # doctest: +SKIP
    >>> from_brian2(mon, [[0, 100], [100, 200]] * ms).codes             # doctest: +SKIP
    array([[1, 0, 1],
           [0, 0, 1]])
    """
    try:
        from brian2 import second
        from brian2.monitors.spikemonitor import EventMonitor
    except ImportError as exc:      # pragma: no cover - brian2 is a dependency
        raise MissingDependencyError(f"from_brian2 needs brian2 ({exc}): pip install "
                                     f"brian2") from exc
    if not isinstance(spike_monitor, EventMonitor):
        raise TypeError(f"from_brian2 takes a brian2 SpikeMonitor, got "
                        f"{type(spike_monitor).__name__}")
    i = np.asarray(spike_monitor.i[:], dtype=np.int64)
    t = np.asarray(spike_monitor.t[:] / second, dtype=np.float64)
    if n_units is None:
        n_units = int(spike_monitor.source.N)
    return spike_counts(i, t, windows, n_units, bins=bins, labels=labels,
                        check_units=check_units,
                        source=f"brian2 {type(spike_monitor).__name__} "
                               f"{spike_monitor.name!r} of {spike_monitor.source.name!r}")


# --- neo -------------------------------------------------------------------------------------

def _import_neo() -> Any:
    try:
        import neo
    except ImportError as exc:
        raise MissingDependencyError(f"reading neo spike trains needs the neo package "
                                     f"({exc}): {NWB_EXTRA}") from exc
    return neo


def from_neo(spiketrains: Any, windows: Any, *, labels: Any = None, bins: int | None = None,
             check_units: bool = True) -> SpikeCodes:
    """Codes from neo spike trains, one ``neo.SpikeTrain`` per unit.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain, or neo.Segment
        Unit ``j`` is the ``j``-th train (a Segment's ``.spiketrains``); times are rescaled to
        seconds (``rescale('s')``), whatever their units.
    windows : array, quantities array or neo.Epoch
        ``[onset, offset)`` of each stimulus, ``(n_stimuli, 2)``: plain numbers are seconds;
        a ``quantities`` array (``[[0, 200]] * pq.ms``) is rescaled; a ``neo.Epoch`` gives
        ``[time, time + duration)`` and its ``labels`` (unless ``labels`` is given).
    labels : array, optional
        One label per window.
    bins : int, optional
        Bins per window (see :func:`spike_counts`).
    check_units : bool, default True
        See :func:`spike_counts`.

    Returns
    -------
    SpikeCodes
        See :func:`spike_counts`; ``unit_ids`` are the trains' names, where every train has one.

    Examples
    --------
    >>> import neo, quantities as pq                              # doctest: +SKIP
    >>> trains = [neo.SpikeTrain([5, 120, 130] * pq.ms, t_stop=1 * pq.s),
    ...           neo.SpikeTrain([0.01] * pq.s, t_stop=1 * pq.s)]  # doctest: +SKIP
    >>> from_neo(trains, [[0, 100], [100, 200]] * pq.ms).codes     # doctest: +SKIP
    array([[1, 1],
           [2, 0]])
    """
    neo = _import_neo()
    if isinstance(spiketrains, neo.Segment):
        trains = list(spiketrains.spiketrains)
        where = f"neo Segment {spiketrains.name!r}" if spiketrains.name else "neo Segment"
    elif isinstance(spiketrains, neo.SpikeTrain):
        raise TypeError("from_neo takes a list of neo.SpikeTrain (one per unit) or a "
                        "neo.Segment, got a single SpikeTrain: wrap it in a list")
    else:
        try:
            trains = list(spiketrains)
        except TypeError:
            raise TypeError(f"from_neo takes a list of neo.SpikeTrain or a neo.Segment, got "
                            f"{type(spiketrains).__name__}") from None
        where = "neo spike trains"
    if not trains:
        raise SpikeDataError("no spike trains were given (one neo.SpikeTrain per unit)")
    for j, st in enumerate(trains):
        if not isinstance(st, neo.SpikeTrain):
            raise TypeError(f"spike train {j} is a {type(st).__name__}, not a neo.SpikeTrain: "
                            f"for plain arrays in seconds use spike_counts")
    times = [np.asarray(st.rescale("s").magnitude, dtype=np.float64).ravel() for st in trains]
    units = np.repeat(np.arange(len(trains)), [len(x) for x in times])
    if isinstance(windows, neo.Epoch):
        start = np.asarray(windows.times.rescale("s").magnitude, dtype=np.float64)
        dur = np.asarray(windows.durations.rescale("s").magnitude, dtype=np.float64)
        if labels is None and windows.labels is not None and len(windows.labels) == len(start):
            labels = np.asarray(windows.labels)
        windows = np.stack([start, start + dur], axis=1) if start.size else np.zeros((0, 2))
    names = [st.name for st in trains]
    ids = np.asarray(names) if all(n is not None for n in names) else None
    return spike_counts(units, np.concatenate(times), windows, len(trains), bins=bins,
                        labels=labels, check_units=check_units, unit_ids=ids, source=where)


# --- NWB -------------------------------------------------------------------------------------

def _import_pynwb() -> Any:
    try:
        import pynwb
    except ImportError as exc:
        raise MissingDependencyError(f"reading NWB files needs pynwb ({exc}): "
                                     f"{NWB_EXTRA}") from exc
    return pynwb


def from_nwb(path_or_nwbfile: str | Path | Any, *, intervals: str = "trials",
             label_column: str | None = None, start: str | float = "start_time",
             stop: str | float = "stop_time", bins: int | None = None,
             check_units: bool = True) -> SpikeCodes:
    """Codes from an NWB file: its Units table's spikes counted in an intervals table's rows.

    Parameters
    ----------
    path_or_nwbfile : path or pynwb.NWBFile
        An ``.nwb`` file (read with ``pynwb.NWBHDF5IO``) or an NWBFile in memory.
    intervals : str, default "trials"
        The intervals table whose rows are the stimuli: ``trials``, ``epochs`` or any table
        added with ``add_time_intervals`` (``nwbfile.intervals``).
    label_column : str, optional
        The column of that table holding each stimulus' label (none: no labels).
    start, stop : str or float, default "start_time", "stop_time"
        Each window's onset and offset: a column of the table (seconds), or a number, an
        offset in seconds from the row's ``start_time`` (``start=0.05, stop=0.25`` counts
        from 50 to 250 ms after each onset).
    bins : int, optional
        Bins per window (see :func:`spike_counts`).
    check_units : bool, default True
        See :func:`spike_counts`.

    Returns
    -------
    SpikeCodes
        See :func:`spike_counts`; one column per row of the Units table (``unit_ids``: its
        ids), one row per interval.

    Raises
    ------
    SpikeDataError
        A file that is not NWB, no Units table (the tables found elsewhere are named), no
        such intervals table or column (those it has are listed), and the checks of
        :func:`spike_counts`.
    MissingDependencyError
        pynwb is not installed.

    Examples
    --------
    >>> sc = from_nwb("session.nwb", label_column="stimulus")   # doctest: +SKIP
    >>> battery = measure_codes(*sc)                             # doctest: +SKIP
    """
    pynwb = _import_pynwb()
    if isinstance(path_or_nwbfile, pynwb.NWBFile):
        return _from_nwbfile(path_or_nwbfile, "NWBFile in memory", intervals, label_column,
                             start, stop, bins, check_units)
    if not isinstance(path_or_nwbfile, (str, Path)):
        raise TypeError(f"from_nwb takes a path to an .nwb file or a pynwb.NWBFile, got "
                        f"{type(path_or_nwbfile).__name__}")
    p = Path(path_or_nwbfile)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such NWB file")
    try:
        io = pynwb.NWBHDF5IO(str(p), "r")
    except Exception as exc:    # h5py, hdmf and pynwb raise many kinds for a non-NWB file
        raise SpikeDataError(f"{p}: not a readable NWB file ({type(exc).__name__}: "
                             f"{exc})") from exc
    with io:
        try:
            nwb = io.read()
        except Exception as exc:
            raise SpikeDataError(f"{p}: not a readable NWB file ({type(exc).__name__}: "
                                 f"{exc})") from exc
        return _from_nwbfile(nwb, str(p), intervals, label_column, start, stop, bins,
                             check_units)


def _column(table: Any, name: str, where: str) -> np.ndarray:
    if name not in table.colnames:
        raise SpikeDataError(f"{where}: the {table.name!r} table has no column {name!r}; its "
                             f"columns are {', '.join(table.colnames) or 'none'}")
    if f"{name}_index" in table.colnames or type(table[name]).__name__ == "VectorIndex":
        raise SpikeDataError(f"{where}: column {name!r} of the {table.name!r} table is ragged "
                             f"(several values per row): choose a column with one value per "
                             f"row")
    return np.asarray(table[name].data[:])


def _from_nwbfile(nwb: Any, where: str, intervals: str, label_column: str | None,
                  start: str | float, stop: str | float, bins: int | None,
                  check_units: bool) -> SpikeCodes:
    units = nwb.units
    if units is None:
        others = [f"{o.name} (in {getattr(o.parent, 'name', '?')})"
                  for o in nwb.objects.values() if type(o).__name__ == "Units"]
        elsewhere = f"; Units tables elsewhere: {', '.join(others)}" if others else ""
        raise SpikeDataError(f"{where}: no Units table (nwbfile.units): the file holds no "
                             f"sorted spikes to count{elsewhere}")
    if len(units) == 0:
        raise SpikeDataError(f"{where}: the Units table has no units (no rows)")
    if "spike_times" not in units.colnames:
        raise SpikeDataError(f"{where}: the Units table has no spike_times column (its "
                             f"columns: {', '.join(units.colnames) or 'none'})")
    held = sorted(nwb.intervals) if nwb.intervals else []
    table = nwb.intervals.get(intervals) if nwb.intervals else None
    if table is None:
        raise SpikeDataError(f"{where}: no intervals table {intervals!r}; the file has "
                             f"{', '.join(held) or 'no intervals tables'} (choose one with "
                             f"intervals=, or --codes-key on the command line)")
    if len(table) == 0:
        raise SpikeDataError(f"{where}: the intervals table {intervals!r} has no rows")
    onset = _column(table, "start_time", where).astype(np.float64)

    def edge(spec: str | float, name: str) -> np.ndarray:
        if isinstance(spec, str):
            return _column(table, spec, where).astype(np.float64)
        if isinstance(spec, bool) or not isinstance(spec, (int, float, np.floating,
                                                            np.integer)):
            raise TypeError(f"{name} must be a column name or a number of seconds after "
                            f"start_time, got {spec!r}")
        return onset + float(spec)

    windows = np.stack([edge(start, "start"), edge(stop, "stop")], axis=1)
    labels = None
    if label_column is not None:
        labels = _column(table, label_column, where)
        if labels.dtype.kind == "O":
            labels = np.asarray([x.decode() if isinstance(x, bytes) else x for x in labels])
    flat = np.asarray(units["spike_times"].target.data[:], dtype=np.float64)
    ends = np.asarray(units["spike_times"].data[:], dtype=np.int64)
    unit_idx = np.repeat(np.arange(len(ends)), np.diff(ends, prepend=0))
    ids = np.asarray(units.id.data[:])
    try:
        return spike_counts(unit_idx, flat, windows, len(ends), bins=bins, labels=labels,
                            check_units=check_units, unit_ids=ids,
                            source=f"{where}: Units x {intervals}")
    except SpikeDataError as exc:
        raise SpikeDataError(f"{where}: {exc}") from None
