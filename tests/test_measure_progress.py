"""``neurocode measure`` shows a progress bar over the run files, with the running measure
beside it (on a terminal; forced here), and says nothing more in logs."""

from __future__ import annotations

import numpy as np
import pytest

from neurocode import api


@pytest.mark.slow
def test_measuring_stored_runs_draws_a_bar_over_the_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    codes = (rng.random((300, 24)) < 0.1) | (np.arange(24)[None, :] // 8 == y[:, None])
    np.savez(tmp_path / "c.npz", codes=codes.astype(np.float32), labels=y)
    from neurocode.cli import main

    assert main(["measure", "--codes", str(tmp_path / "c.npz"), "--out", str(tmp_path / "r"),
                 "--max-stimuli", "60"]) == 0
    path = next((tmp_path / "r").rglob("*.h5"))
    capsys.readouterr()
    assert api.measure_files([path], force=True, max_stimuli=60, progress=True,
                             steps=False) == 0
    err = capsys.readouterr().err
    assert "measure" in err and "1/1" in err          # the bar, over the one file
    assert api.measure_files([path], force=True, max_stimuli=60, progress=False,
                             steps=False) == 0
    assert "1/1" not in capsys.readouterr().err        # no bar where none is wanted
