"""Every stored result as one table: ``load_results(...).to_dataframe()``, one row per run.

A code measured from a file (``neurocode measure --codes``) is a row beside the built-in
rules' runs, and the row's numbers are the stored battery's, read here straight from the run
file (not through the table's code).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from neurocode.cli import main
from neurocode.results import Results, load_results, to_dataframe
from neurocode.store import read_battery, read_run


def _codes(n: int, width: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-of-N codes whose class (of 3) sets one of the k units in its own third of the units,
    so a readout can learn them and the fault curve has an intact accuracy above chance."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    third = width // 3
    codes = np.zeros((n, width), dtype=np.float32)
    for i, c in enumerate(labels):
        codes[i, c * third + rng.integers(third)] = 1.0
        while codes[i].sum() < k:
            codes[i, rng.integers(width)] = 1.0
    return codes, labels


@pytest.mark.slow
def test_measured_codes_are_rows_whose_numbers_are_the_stored_batteries(tmp_path):
    out = tmp_path / "out"
    for name, (width, k) in {"narrow": (64, 2), "wide": (96, 12)}.items():
        codes, labels = _codes(400, width, k, seed=width)
        np.savez(tmp_path / f"{name}.npz", codes=codes, labels=labels)
        assert main(["measure", "--codes", str(tmp_path / f"{name}.npz"), "--out", str(out),
                     "--max-stimuli", "100"]) == 0
    runs = load_results(out)
    assert isinstance(runs, Results) and len(runs) == 2
    df = runs.to_dataframe()
    assert isinstance(df, pd.DataFrame) and df.shape[0] == 2
    assert set(df["rule"]) == {"given-codes"}
    assert set(df["experiment"]) == {"narrow", "wide"}
    for _, row in df.iterrows():
        b = read_battery(row["path"])
        rec = read_run(row["path"])
        assert row["config.model.rule"] == rec.config["model"]["rule"]
        assert row["n_units"] == b["activity"]["n_units"]
        assert row["activity.activity_ratio"] == pytest.approx(b["activity"]["activity_ratio"])
        assert row["fault.auc_random"] == pytest.approx(float(b["fault"]["auc_random"]))
    # the two codes differ, so the table can tell them apart (k/N = 2/64 against 12/96)
    ratio = dict(zip(df["experiment"], df["activity_ratio"], strict=True))
    assert ratio["narrow"] == pytest.approx(2 / 64) and ratio["wide"] == pytest.approx(12 / 96)
    # a column one run lacks is NaN for it, not an error
    extra = to_dataframe([*runs[:1]])
    assert extra.shape[0] == 1


def test_rows_flatten_the_config_and_leave_curves_out(tmp_path):
    from neurocode.results import RunResult

    r = RunResult(path=tmp_path / "x.h5", experiment="e", run_name="r",
                  config={"model": {"rule": "kofn", "k": 4}, "seed": 3},
                  final={"accuracy": 0.5}, curves={"loss": np.ones(5)},
                  battery={"fault": {"auc_random": np.float64(0.25), "curve": np.zeros(9)},
                           "activity": {"avr": 4.0, "n_units": 16.0, "activity_ratio": 0.25}})
    row = r.to_record()
    assert row["config.model.k"] == 4 and row["config.seed"] == 3 and row["seed"] == 3
    assert row["final.accuracy"] == 0.5 and row["fault.auc_random"] == 0.25
    assert "fault.curve" not in row and not any(k.startswith("curves.") for k in row)
    df = to_dataframe([r, RunResult(path=tmp_path / "y.h5", experiment="e", run_name="s",
                                    config={"model": {"rule": "kofn"}}, final={},
                                    curves={})])
    assert df.shape[0] == 2 and math.isnan(df.loc[1, "final.accuracy"])
