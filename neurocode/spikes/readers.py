"""Spikes from elsewhere, counted into codes: a Brian2 ``SpikeMonitor``, neo ``SpikeTrain``
objects, an NWB file's units and intervals tables (see :mod:`neurocode.spikes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurocode.spikes.checks import NWB_EXTRA, MissingDependencyError, SpikeDataError
from neurocode.spikes.counting import SpikeCodes, spike_counts

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
