"""What spikes and windows must be before they are counted: the errors (bad data, a missing
optional package) and the checks of times, windows, unit indices, time units and labels
(see :mod:`neurocode.spikes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
