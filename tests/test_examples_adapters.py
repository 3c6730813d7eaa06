"""The adapter examples (examples/measure_*.py) run at their small size and show what their
docstrings say: the MLP's hidden layer is read by the network's own output, the CNN layer's
fault curve inside the network differs from the stored array's and equals the stored array
read by the rest of the network, and the SAE's reconstruction measures sit beside the
battery's activity (L0 is the AVR)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import needs_mnist

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

pytestmark = [needs_mnist, pytest.mark.slow, pytest.mark.usefixtures("one_blas_thread")]


@pytest.fixture(autouse=True)
def small_and_one_thread(monkeypatch):
    """The examples' small size, and one torch thread (on a shared 2-core machine threads
    spinning against each other make small products ~10x slower; the numbers are the same)."""
    monkeypatch.setenv("NEUROCODE_EXAMPLE_SMALL", "1")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _main(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"]


def test_measure_torch_mlp_reads_the_hidden_layer_by_the_network(capsys):
    _main("measure_torch_mlp.py")([])
    out = capsys.readouterr().out
    assert "readout: own classifier" in out
    values = dict(line.split(None, 1) for line in out.splitlines()
                  if line and not line.startswith(" ") and " " in line)
    assert int(values["n_units"]) == 128
    assert float(values["readout_accuracy"]) > 0.6          # a briefly trained MLP
    assert 0 < float(values["activity_ratio"]) <= 1


def test_measure_cnn_layer_curves_differ_from_the_stored_array(capsys):
    curves = _main("measure_cnn_layer.py")(["--small"])
    with capsys.disabled():
        print("\n" + capsys.readouterr().out)
    # silencing inside the network = the stored codes read by the rest of the network
    np.testing.assert_allclose(curves["inside"], curves["rest"], atol=1e-12)
    # and differs from the stored codes read by a linear probe
    gap = np.abs(curves["inside"] - curves["stored"]).max()
    assert gap > 0.1, gap
    assert curves["inside"][0] > 0.7                         # a briefly trained CNN


def test_measure_sae_puts_reconstruction_beside_the_battery(capsys):
    battery = _main("measure_sae.py")([])
    rec = battery["reconstruction"]
    assert 0.2 < rec["explained_variance"] < 1
    assert rec["l0"] == pytest.approx(battery["activity"]["avr"], rel=1e-6)
    assert {"activity", "willshaw", "fault", "overlap"} <= set(battery)
    assert "explained_variance" in capsys.readouterr().out
