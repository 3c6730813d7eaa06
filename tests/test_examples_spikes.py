"""The spike examples at their small size: they run, and what they print is what they measured.

Each example's ``main`` returns its counts and battery; the battery's activity ratio must be
the fraction of nonzero counts among the test stimuli of the same split (recomputed here
from the counts), and the readout must beat chance on codes built to carry the class.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocode.data.codes import load_codes, split_codes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


@pytest.fixture
def brian2_prefs_restored():
    from brian2 import defaultclock, prefs

    target, dt = prefs.codegen.target, defaultclock.dt
    try:
        yield
    finally:
        prefs.codegen.target = target
        defaultclock.dt = dt


@pytest.mark.slow
@pytest.mark.brian2
def test_brian2_example_small_measures_its_spike_counts(monkeypatch, capsys,
                                                        brian2_prefs_restored):
    monkeypatch.setenv("NEUROCODE_EXAMPLE_SMALL", "1")     # the switch by environment
    out = _example("measure_brian2_spikes").main(["--stimuli", "classes"])
    sc, battery, monitor = out["counts"], out["battery"], out["monitor"]
    assert sc.codes.shape == (80, 40)
    # every spike the monitor saw is counted once or reported as dropped (windows disjoint)
    assert not sc.overlapping and sc.codes.sum() + sc.n_dropped == len(monitor.t)
    cs = split_codes(sc.codes, sc.labels)                   # measure_codes' own split
    a = battery["activity"]
    assert a["activity_ratio"] == pytest.approx(np.mean(cs.codes_test > 0), rel=1e-6)
    # four bar classes, units with bar-shaped templates: far above chance (0.25)
    assert battery["fault"]["accuracy_intact"] > 0.6
    printed = capsys.readouterr().out
    assert f"activity ratio {a['activity_ratio']:.3f}" in printed


@pytest.mark.slow
def test_nwb_example_small_measures_the_session_it_wrote(tmp_path, capsys):
    pytest.importorskip("pynwb")
    out = _example("measure_nwb").main(["--small", "--out", str(tmp_path)])
    card, nwb = out["card"], out["nwb"]
    assert out["run_file"].is_file() and nwb.parent == tmp_path
    cs = load_codes(nwb, labels_key="stimulus")             # what the CLI read
    assert card["n_units"] == 24 and card["n_stimuli"] == len(cs.codes_test) == 25
    assert card["activity_ratio"] == pytest.approx(np.mean(cs.codes_test > 0), rel=1e-6)
    assert card["avr"] == pytest.approx(np.mean((cs.codes_test > 0).sum(axis=1)), rel=1e-6)
    # orientation-tuned units: the four gratings are told apart well above chance (0.25)
    assert card["readout_accuracy"] > 0.8
    assert "activity_ratio" in capsys.readouterr().out
