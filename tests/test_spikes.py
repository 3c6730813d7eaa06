"""Spike trains as codes: counts per unit and stimulus window, from arrays, Brian2, neo and NWB.

Checked against a direct Python-loop count (a second implementation), against Poisson's
closed form (mean count = rate x duration, variance = mean), against spikes planned by hand
and run through Brian2, and against NWB files written with pynwb itself and read back.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
import pytest

from neurocode.spikes import (
    MissingDependencyError,
    SpikeCodes,
    SpikeDataError,
    from_brian2,
    from_neo,
    from_nwb,
    spike_counts,
)

# --- arrays ----------------------------------------------------------------------------------


def _loop_counts(units, times, windows, n_units, bins=None):
    """The obvious count, one spike and one window at a time (bins: edges by linspace)."""
    nb = bins or 1
    out = [[0] * (n_units * nb) for _ in windows]
    for w, (on, off) in enumerate(windows):
        edges = np.linspace(on, off, nb + 1)
        for u, t in zip(units, times, strict=True):
            if on <= t < off:
                b = 0
                while b < nb - 1 and t >= edges[b + 1]:
                    b += 1
                out[w][u * nb + b] += 1
    return np.array(out)


def test_counts_match_a_python_loop_on_random_spikes_with_overlaps_and_bins():
    rng = np.random.default_rng(0)
    n_units, n_spikes = 7, 600
    units = rng.integers(0, n_units - 1, n_spikes)          # the last unit never fires
    times = rng.uniform(0, 10, n_spikes)                    # unsorted
    on = np.sort(rng.uniform(0, 9, 25))
    windows = np.stack([on, on + rng.uniform(0.05, 1.5, 25)], axis=1)   # some overlap
    sc = spike_counts(units, times, windows, n_units)
    np.testing.assert_array_equal(sc.codes, _loop_counts(units, times, windows, n_units))
    assert sc.codes.shape == (25, n_units) and not sc.codes[:, -1].any()
    inside = [any(a <= t < b for a, b in windows) for t in times]
    assert sc.n_dropped == n_spikes - sum(inside) > 0
    assert sc.overlapping == any(a[1] > b[0] for a, b in pairwise(windows[np.argsort(on)]))
    assert sc.overlapping
    for bins in (1, 3, 8):
        binned = spike_counts(units, times, windows, n_units, bins=bins)
        np.testing.assert_array_equal(binned.codes,
                                      _loop_counts(units, times, windows, n_units, bins))
        # the bins of a unit add up to its count in the window
        np.testing.assert_array_equal(binned.codes.reshape(25, n_units, bins).sum(-1), sc.codes)
        assert binned.bins == bins and any("bins per window" in n for n in binned.notes)
    codes, labels = sc                                       # unpacks for measure_codes(*sc)
    assert codes is sc.codes and labels is None


def test_spikes_on_window_edges_count_in_half_open_windows():
    sc = spike_counts([0, 0, 0, 1], [1.0, 2.0, 2.0, 3.0], [[1.0, 2.0], [2.0, 3.0]], 2)
    np.testing.assert_array_equal(sc.codes, [[1, 0], [2, 0]])  # onset in, offset out
    assert sc.n_dropped == 1 and not sc.overlapping            # touching is not overlapping
    assert "1 of 4 spikes" in sc.notes[0]


def test_poisson_counts_meet_rate_times_duration():
    """Homogeneous Poisson trains: the count of a unit of rate r in a window of length d has
    mean r d and variance r d; the mean over n windows is within a few sqrt(r d / n)."""
    rng = np.random.default_rng(1)
    rates = np.array([2.0, 10.0, 40.0, 120.0])             # Hz, one per unit
    T = 400.0
    units, times = [], []
    for j, r in enumerate(rates):
        n = rng.poisson(r * T)
        times.append(rng.uniform(0, T, n))
        units.append(np.full(n, j))
    units, times = np.concatenate(units), np.concatenate(times)
    for d in (0.05, 0.25):
        on = np.arange(0.0, T - 1, 1.0)                     # 399 disjoint windows
        sc = spike_counts(units, times, np.stack([on, on + d], axis=1), len(rates))
        n = len(on)
        mean, var = sc.codes.mean(axis=0), sc.codes.var(axis=0, ddof=1)
        se = np.sqrt(rates * d / n)
        assert np.all(np.abs(mean - rates * d) < 4 * se), (d, mean, rates * d)
        # the variance of a Poisson count is its mean (sd of a sample variance ~ sqrt(2/n))
        np.testing.assert_allclose(var / (rates * d), 1.0, atol=5 * math.sqrt(2 / n) + 0.05)


def test_quantities_are_converted_to_seconds():
    pq = pytest.importorskip("quantities")
    from brian2 import ms

    plain = spike_counts([0, 1], [0.005, 0.150], [[0.0, 0.1], [0.1, 0.2]], 2).codes
    for t, w in (([5.0, 150.0] * pq.ms, [[0, 100], [100, 200]] * pq.ms),
                 ([5.0, 150.0] * ms, [[0, 100], [100, 200]] * ms),
                 ([0.005, 0.150], [[0, 0.1], [0.1, 0.2]] * pq.s),
                 ([5 * pq.ms, 0.15 * pq.s], [[0 * pq.ms, 100 * pq.ms], [0.1 * pq.s, 200 * pq.ms]]),
                 ([5 * ms, 150 * ms], [[0 * ms, 100 * ms], [100 * ms, 200 * ms]])):
        np.testing.assert_array_equal(spike_counts([0, 1], t, w, 2).codes, plain)
    with pytest.raises(SpikeDataError, match="not of time"):
        spike_counts([0], [1.0] * pq.V, [[0, 2]])


@pytest.mark.parametrize("times, windows, kw, message", [
    ([0.1, np.nan], [[0, 1]], {}, "NaN or infinite"),
    ([0.1, -0.2], [[0, 1]], {}, "negative times"),
    ([0.1], [[0, np.inf]], {}, "NaN or infinite"),
    ([0.1], [[1.0, 0.5]], {}, "ends before it starts"),
    ([0.1], [[0, 1, 2]], {}, r"\(n_stimuli, 2\)"),
    ([0.1], np.zeros((0, 2)), {}, "windows is empty"),
    ([], [[0, 1]], {}, "no spikes"),
    ([5.0, 6.0], [[0, 1], [1, 2]], {}, "none of the 2 spikes falls inside a window"),
    ([0.1, 0.2], [[0, 1]], {"bins": 0}, "bins must be"),
    ([0.1, 0.2], [[0, 1]], {"labels": ["a", "b"]}, "one label per window"),
])
def test_bad_spikes_and_windows_are_refused_with_the_reason(times, windows, kw, message):
    units = np.zeros(len(times), dtype=int)
    with pytest.raises(SpikeDataError, match=message):
        spike_counts(units, times, windows, **kw)


def test_bad_unit_indices_are_refused():
    with pytest.raises(SpikeDataError, match="out of range for n_units=2"):
        spike_counts([0, 2], [0.1, 0.2], [[0, 1]], n_units=2)
    with pytest.raises(SpikeDataError, match="one unit index per spike"):
        spike_counts([0], [0.1, 0.2], [[0, 1]])
    with pytest.raises(SpikeDataError, match=">= 0"):
        spike_counts([-1, 0], [0.1, 0.2], [[0, 1]])
    with pytest.raises(SpikeDataError, match="whole numbers"):
        spike_counts([0.5, 0], [0.1, 0.2], [[0, 1]])


def test_milliseconds_against_seconds_are_named_as_the_likely_mistake():
    rng = np.random.default_rng(2)
    t_s = np.sort(rng.uniform(0, 20, 2000))                 # a 20 s recording
    u = rng.integers(0, 5, 2000)
    on = np.arange(0, 19, 0.5)
    w_s = np.stack([on, on + 0.3], axis=1)
    good = spike_counts(u, t_s, w_s, 5)
    with pytest.raises(SpikeDataError, match="spike times look like milliseconds") as e:
        spike_counts(u, t_s * 1000, w_s, 5)                 # spikes in ms, windows in s
    assert "check_units=False" in str(e.value)
    with pytest.raises(SpikeDataError, match="windows look like milliseconds"):
        spike_counts(u, t_s, w_s * 1000, 5)                 # windows in ms, spikes in s
    # the same numbers, both in ms, are simply a recording 1000x longer: counted as given
    np.testing.assert_array_equal(spike_counts(u, t_s * 1000, w_s * 1000, 5).codes, good.codes)
    # a long recording with trials only at its start looks the same: when the times are
    # right, the check is turned off
    t_long = rng.uniform(0, 1000, 5000)
    u_long = rng.integers(0, 5, 5000)
    early = w_s[:10]                                        # the first 5 s
    with pytest.raises(SpikeDataError, match="look like milliseconds"):
        spike_counts(u_long, t_long, early, 5)
    sc = spike_counts(u_long, t_long, early, 5, check_units=False)
    np.testing.assert_array_equal(sc.codes, _loop_counts(u_long, t_long, early, 5))
    assert sc.n_dropped == 5000 - sc.codes.sum() > 4900


def test_measured_activity_ratio_is_the_fraction_of_nonzero_counts():
    from neurocode.codes import measure_codes

    rng = np.random.default_rng(3)
    n_units, n_trials = 40, 120
    rates = rng.uniform(0.5, 15, n_units)
    units, times = [], []
    for j, r in enumerate(rates):
        n = rng.poisson(r * n_trials)
        times.append(rng.uniform(0, n_trials, n))
        units.append(np.full(n, j))
    on = np.arange(n_trials, dtype=float)
    sc = spike_counts(np.concatenate(units), np.concatenate(times),
                      np.stack([on, on + 0.1], axis=1), n_units)
    tr, te = sc.codes[:90], sc.codes[90:]
    out = measure_codes(tr, codes_test=te, max_stimuli=100)
    a = out["activity"]
    assert a["n_stimuli"] == 30
    assert a["activity_ratio"] == pytest.approx(np.mean(te > 0), rel=1e-6)
    assert a["avr"] == pytest.approx(np.mean((te > 0).sum(axis=1)), rel=1e-6)


# --- Brian2 ----------------------------------------------------------------------------------


@pytest.fixture
def numpy_target():
    """Brian2's numpy code-generation target for the test (fast to start), then restored."""
    from brian2 import prefs

    saved = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        yield
    finally:
        prefs.codegen.target = saved


@pytest.mark.brian2
def test_brian2_spike_monitor_gives_the_planned_counts(numpy_target):
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, ms

    rng = np.random.default_rng(4)
    n_units, n_stim, period, width = 6, 5, 50, 30            # windows [50 i, 50 i + 30) ms
    planned = rng.integers(0, 4, (n_stim, n_units))
    planned[:, 5] = 0                                        # a silent unit keeps its column
    idx, t_ms = [], []
    for i in range(n_stim):
        for j in range(n_units):
            # distinct 1 ms steps inside the window, away from its edges
            steps = rng.choice(np.arange(2, width - 2), planned[i, j], replace=False)
            idx += [j] * len(steps)
            t_ms += list(period * i + steps)
            idx.append(j)                                    # one spike between windows
            t_ms.append(period * i + width + 10)
    g = SpikeGeneratorGroup(n_units, idx, np.array(t_ms, dtype=float) * ms)
    mon = SpikeMonitor(g)
    Network(g, mon).run(n_stim * period * ms)
    on = np.arange(n_stim) * period
    windows_ms = np.stack([on, on + width], axis=1)
    sc = from_brian2(mon, windows_ms * ms, labels=np.arange(n_stim) % 2)
    np.testing.assert_array_equal(sc.codes, planned)
    assert sc.n_spikes == len(t_ms) and sc.n_dropped == n_stim * n_units
    np.testing.assert_array_equal(sc.labels, np.arange(n_stim) % 2)
    # plain numbers are seconds
    np.testing.assert_array_equal(from_brian2(mon, windows_ms / 1000).codes, planned)
    binned = from_brian2(mon, windows_ms * ms, bins=2)
    assert binned.codes.shape == (n_stim, 2 * n_units)
    np.testing.assert_array_equal(binned.codes.reshape(n_stim, n_units, 2).sum(-1), planned)
    with pytest.raises(TypeError, match="SpikeMonitor"):
        from_brian2(g, windows_ms * ms)


@pytest.mark.brian2
def test_brian2_poisson_group_counts_meet_rate_times_duration(numpy_target):
    from brian2 import Hz, Network, PoissonGroup, SpikeMonitor, ms, second

    unit_rates = np.array([10.0, 40.0, 80.0, 160.0])
    g = PoissonGroup(len(unit_rates), unit_rates * Hz)
    mon = SpikeMonitor(g)
    Network(g, mon).run(4 * second)
    on = np.arange(0, 4000, 50)                              # 80 windows of 40 ms
    sc = from_brian2(mon, np.stack([on, on + 40], axis=1) * ms)
    mean = sc.codes.mean(axis=0)
    expected = unit_rates * 0.040
    assert np.all(np.abs(mean - expected) < 4 * np.sqrt(expected / len(on))), mean


# --- neo -------------------------------------------------------------------------------------


def test_neo_spike_trains_in_ms_are_rescaled_to_seconds():
    neo = pytest.importorskip("neo")
    import quantities as pq

    ms_trains = [neo.SpikeTrain([5, 120, 130, 420] * pq.ms, t_stop=1 * pq.s, name="a"),
                 neo.SpikeTrain([] * pq.ms, t_stop=1 * pq.s, name="b"),
                 neo.SpikeTrain([0.01, 0.11, 0.19] * pq.s, t_stop=1 * pq.s, name="c")]
    windows = [[0.0, 0.1], [0.1, 0.2]]
    sc = from_neo(ms_trains, windows)
    np.testing.assert_array_equal(sc.codes, [[1, 0, 1], [2, 0, 2]])
    assert sc.n_dropped == 1 and list(sc.unit_ids) == ["a", "b", "c"]
    seg = neo.Segment(name="s1")
    seg.spiketrains.extend(ms_trains)
    epoch = neo.Epoch(times=[0, 100] * pq.ms, durations=[100, 100] * pq.ms,
                      labels=np.array(["grating", "dots"]))
    by_epoch = from_neo(seg, epoch)
    np.testing.assert_array_equal(by_epoch.codes, sc.codes)
    assert list(by_epoch.labels) == ["grating", "dots"]
    with pytest.raises(TypeError, match="wrap it in a list"):
        from_neo(ms_trains[0], windows)
    with pytest.raises(TypeError, match="not a neo.SpikeTrain"):
        from_neo([np.array([0.1])], windows)


# --- NWB -------------------------------------------------------------------------------------


def _nwbfile():
    pytest.importorskip("pynwb")
    from pynwb import NWBFile

    return NWBFile(session_description="neurocode test", identifier="test-session",
                   session_start_time=datetime(2024, 1, 1, tzinfo=UTC))


def _write(nwb, path):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.fixture
def planned_nwb(tmp_path):
    """A real NWB file: 4 units (the last silent), 8 trials of 0.5 s every second, a
    'stimulus' column; the planned counts, and 1 spike of each unit between trials."""
    rng = np.random.default_rng(5)
    n_units, n_trials = 4, 8
    planned = rng.integers(0, 5, (n_trials, n_units))
    planned[:, 3] = 0
    nwb = _nwbfile()
    nwb.add_trial_column(name="stimulus", description="the stimulus shown")
    stim = np.array(["grating", "dots"])[np.arange(n_trials) % 2]
    for i in range(n_trials):
        nwb.add_trial(start_time=float(i), stop_time=i + 0.5, stimulus=str(stim[i]))
    for j in range(n_units):
        t = [i + rng.uniform(0.01, 0.49) for i in range(n_trials) for _ in range(planned[i, j])]
        t += [2.75] if j < 3 else []                        # between trials 2 and 3
        nwb.add_unit(spike_times=rng.permutation(np.array(t, dtype=float)))
    nwb.add_epoch(start_time=0.0, stop_time=4.0)
    nwb.add_epoch(start_time=4.0, stop_time=8.0)
    return _write(nwb, tmp_path / "rec.nwb"), planned, stim


def test_nwb_file_written_with_pynwb_gives_the_planned_counts_and_labels(planned_nwb):
    path, planned, stim = planned_nwb
    sc = from_nwb(path, label_column="stimulus")
    assert isinstance(sc, SpikeCodes)
    np.testing.assert_array_equal(sc.codes, planned)
    np.testing.assert_array_equal(sc.labels, stim)
    assert sc.n_dropped == 3 and list(sc.unit_ids) == [0, 1, 2, 3]
    np.testing.assert_allclose(sc.windows[:, 1] - sc.windows[:, 0], 0.5)
    # another intervals table: the epochs (the spike at 2.75 s now counts)
    ep = from_nwb(path, intervals="epochs")
    np.testing.assert_array_equal(ep.codes, [planned[:4].sum(0) + [1, 1, 1, 0],
                                             planned[4:].sum(0)])
    assert ep.labels is None and ep.n_dropped == 0
    # windows relative to each trial's onset: [start_time, start_time + 1) holds the
    # trial and the gap after it (so the stray spike joins trial 2)
    rel = from_nwb(path, start=0.0, stop=1.0)
    expected = planned.copy()
    expected[2, :3] += 1
    np.testing.assert_array_equal(rel.codes, expected)
    # an NWBFile in memory is read the same way
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        np.testing.assert_array_equal(from_nwb(io.read()).codes, planned)


def test_nwb_without_units_or_with_unknown_tables_and_columns_is_refused(planned_nwb, tmp_path):
    path, _, _ = planned_nwb
    with pytest.raises(SpikeDataError, match="no intervals table 'blocks'; the file has "
                                             "epochs, trials"):
        from_nwb(path, intervals="blocks")
    with pytest.raises(SpikeDataError, match="no column 'contrast'; its columns are "
                                             "start_time, stop_time, stimulus"):
        from_nwb(path, label_column="contrast")
    with pytest.raises(SpikeDataError, match="no column 'onset'"):
        from_nwb(path, start="onset")
    nwb = _nwbfile()
    nwb.add_trial(start_time=0.0, stop_time=1.0)
    bare = _write(nwb, tmp_path / "nounits.nwb")
    with pytest.raises(SpikeDataError, match="nounits.nwb: no Units table"):
        from_nwb(bare)
    junk = tmp_path / "junk.nwb"
    junk.write_bytes(b"not an HDF5 file")
    with pytest.raises(SpikeDataError, match="junk.nwb: not a readable NWB file"):
        from_nwb(junk)
    with pytest.raises(FileNotFoundError, match="no such NWB file"):
        from_nwb(tmp_path / "absent.nwb")


def test_nwb_spike_times_in_ms_are_caught(tmp_path):
    rng = np.random.default_rng(6)
    nwb = _nwbfile()
    for i in range(20):
        nwb.add_trial(start_time=float(i), stop_time=i + 0.5)
    for _ in range(3):
        nwb.add_unit(spike_times=np.sort(rng.uniform(0, 20, 200)) * 1000)   # ms, not s
    path = _write(nwb, tmp_path / "ms.nwb")
    with pytest.raises(SpikeDataError, match="ms.nwb: the spike times run to .* look like "
                                             "milliseconds"):
        from_nwb(path)


def test_a_missing_pynwb_or_neo_is_reported_as_bad_input_naming_the_extra(monkeypatch,
                                                                         tmp_path):
    path = tmp_path / "rec.nwb"                              # never opened: pynwb comes first
    monkeypatch.setitem(sys.modules, "pynwb", None)         # import pynwb now fails
    monkeypatch.setitem(sys.modules, "neo", None)
    with pytest.raises(MissingDependencyError, match=r"pip install neurocode\[nwb\]") as e:
        from_nwb(path)
    assert isinstance(e.value, ValueError)                  # the CLI's exit 2
    with pytest.raises(MissingDependencyError, match=r"neo .*pip install neurocode\[nwb\]"):
        from_neo([], [[0, 1]])
