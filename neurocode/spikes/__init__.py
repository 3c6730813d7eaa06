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

# one idea a module: the errors and checks (checks), the counting into codes (counting), the
# readers of Brian2, neo and NWB spikes (readers). Every name the module neurocode.spikes had
# is re-exported here.
from neurocode.spikes.checks import (  # noqa: F401
    _MAX_CELLS,
    _UNIT_FACTOR,
    NWB_EXTRA,
    MissingDependencyError,
    SpikeDataError,
    _check_labels,
    _check_time_units,
    _check_times,
    _check_unit_indices,
    _check_windows,
    _seconds,
)
from neurocode.spikes.counting import SpikeCodes, spike_counts  # noqa: F401
from neurocode.spikes.readers import (  # noqa: F401
    _column,
    _from_nwbfile,
    _import_neo,
    _import_pynwb,
    from_brian2,
    from_neo,
    from_nwb,
)

__all__ = ["SpikeCodes", "SpikeDataError", "MissingDependencyError", "spike_counts",
    "from_brian2", "from_neo", "from_nwb", "NWB_EXTRA"]

