"""Issue 18, defect 4: results that were silently wrong. A rule that ignores ``unit_mask``
(fault AUC 1.000 in figures and verdicts), NaN codes stored as a complete run, and a damaged
run file read without warning by show, figures and report."""

from __future__ import annotations

import json
from dataclasses import replace

import h5py
import numpy as np
import pytest

from neurocode import config as cfgmod
from neurocode import store
from neurocode.cli import main
from neurocode.data.prepare import Dataset
from neurocode.metrics.battery import not_reported, run_battery
from neurocode.metrics.fault import fault_tolerance, mask_ignored
from neurocode.metrics.readout import fit_readout
from neurocode.params import Param
from neurocode.results import load_results
from neurocode.rules import CodingRule
from neurocode.runner import run_path
from neurocode.sweep import run_sweep

from conftest import registered_fixture


class DeafToMask(CodingRule):
    """A plugin's bug: the code of a fixed random projection, thresholded, whatever the mask."""

    name = "test-deaf-to-mask"
    description = "ignores unit_mask (a bug)"
    tags = replace(CodingRule.tags, code_kind="binary")
    params = {"n_units": Param(int, 32, low=1, doc="units")}

    def _fit(self, X, y=None):
        self.w_ = np.random.default_rng(self.random_state).standard_normal(
            (X.shape[1], self.n_units))
        return self

    def _encode(self, X, mask):
        return (X @ self.w_ > 0.5).astype(float)  # the mask is never applied


class NaNCodes(CodingRule):
    """Codes that turn NaN (a diverging rule that says nothing), for ``k`` = 2."""

    name = "test-nan-codes"
    description = "NaN codes"
    params = {"n_units": Param(int, 8, low=1, doc="units"),
              "k": Param(int, 1, low=1, doc="which run breaks (2)")}

    def _fit(self, X, y=None):
        return self

    def _encode(self, X, mask):
        codes = np.tile(np.arange(self.n_units, dtype=float), (len(X), 1)) * mask
        if self.k == 2:
            codes[0, 0] = np.nan
        if self.k == 3:
            codes[-1, -1] = np.inf
        return codes


registered = registered_fixture(DeafToMask, NaNCodes, autouse=True)


def _labelled(n=300, d=20, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    protos = rng.standard_normal((4, d))

    def draw(m):
        y = rng.integers(0, 4, m)
        return (protos[y] + 0.3 * rng.standard_normal((m, d))).astype(np.float32), y

    (Xtr, ytr), (Xte, yte) = draw(n), draw(n)
    return Dataset(Xtr, ytr, Xte, yte, image_shape=None)


# -- a rule that ignores unit_mask -----------------------------------------------------------
def test_a_rule_that_ignores_the_mask_gets_no_fault_tolerance_and_says_why():
    data = _labelled()
    rule = DeafToMask(n_units=32, random_state=0).fit(data.X_train)
    why = mask_ignored(rule, data.X_test)
    assert "ignores unit_mask" in why and "test-deaf-to-mask" in why
    with pytest.raises(ValueError, match="ignores unit_mask"):
        fault_tolerance(rule, fit_readout(rule, data.X_train, data.y_train), data.X_test,
                        data.y_test)
    res = run_battery(rule, data, max_stimuli=200, measures=["activity", "fault"])
    assert "fault" not in res  # no AUC of 1.000 to draw or judge
    assert "fault" in res["_meta"]["skipped"].split(",")
    assert not_reported(res) == {"fault": why}


def test_a_rule_that_honours_the_mask_still_gets_its_fault_tolerance():
    from neurocode import get_rule

    data = _labelled()
    rule = get_rule("kofn", n_units=32, k=4, random_state=0).fit(data.X_train)
    assert mask_ignored(rule, data.X_test) == ""
    res = run_battery(rule, data, max_stimuli=200, measures=["activity", "fault"])
    assert 0 < res["fault"]["auc_random"] < 1 and not not_reported(res)


def test_the_report_lists_the_measure_not_reported_with_its_reason(tmp_path):
    from neurocode.report import write_report

    data = _labelled()
    rule = DeafToMask(n_units=32, random_state=0).fit(data.X_train)
    path = tmp_path / "results" / "deaf" / "run-0.h5"
    store.write_run(path, config={"seed": 0, "model": {"rule": DeafToMask.name}},
                    experiment="deaf", run_name="run", seed=0, curves={},
                    final={"avr": 1.0}, rule=rule)
    store.write_battery(path, run_battery(rule, data, max_stimuli=200,
                                          measures=["activity", "fault"]))
    runs = load_results(tmp_path / "results")
    assert np.isnan(runs[0].get("fault.auc_random"))  # missing, not 1.000
    (tmp_path / "figs").mkdir()
    html_path, _ = write_report(tmp_path / "results", tmp_path / "report",
                                figures_dir=tmp_path / "figs")
    page = html_path.read_text()
    assert "Measures not reported" in page and "deaf/run-0.h5" in page
    assert "test-deaf-to-mask&#x27; ignores unit_mask" in page


# -- NaN codes -------------------------------------------------------------------------------
def test_nan_and_infinite_codes_fail_their_run_with_a_clear_message(tmp_path):
    raw = {"name": "nan", "seed": 0, "model": {"rule": NaNCodes.name},
           "data": {"dataset": "bars", "n_train": 50, "n_test": 20},
           "sweep": {"model.k": [1, 2, 3]}}
    specs = cfgmod.resolve(raw)
    summary = run_sweep(specs, tmp_path, workers=1, echo=lambda m: None)
    assert len(summary.done) == 1 and len(summary.failed) == 2
    for spec in specs[1:]:
        rec = store.read_run(run_path(tmp_path, spec))
        assert rec.status == "failed"
        assert "NaN or infinite" in rec.attrs["reason"] and NaNCodes.name in rec.attrs["reason"]
    assert store.run_status(run_path(tmp_path, specs[0])) == "complete"


def test_the_battery_refuses_nan_codes():
    data = _labelled(d=8)
    rule = NaNCodes(n_units=8, k=2).fit(data.X_train)
    with pytest.raises(ValueError, match="NaN or infinite"):
        run_battery(rule, data, max_stimuli=100, measures=["activity"])


# -- a damaged run file ----------------------------------------------------------------------
@pytest.fixture
def run_file(tmp_path):
    specs = cfgmod.resolve({"name": "dmg", "seed": 0,
                            "model": {"rule": "kwta", "n_units": 64, "k": 4},
                            "train": {"epochs": 1},
                            "data": {"dataset": "bars", "n_train": 200, "n_test": 100}})
    run_sweep(specs, tmp_path / "results", workers=1, echo=lambda m: None)
    return run_path(tmp_path / "results", specs[0])


def _flip(path, offset, n=8):
    raw = bytearray(path.read_bytes())
    raw[offset:offset + n] = bytes(255 - b for b in raw[offset:offset + n])
    path.write_bytes(bytes(raw))


def _offset(path, name) -> int:
    with h5py.File(path, "r") as f:
        ds = f[name]
        return (ds.id.get_chunk_info(0).byte_offset if ds.chunks else ds.id.get_offset())


@pytest.mark.parametrize("where", ["rule/state/weights_", "final/avr", "battery/activity/avr"])
def test_every_reader_refuses_a_damaged_file(run_file, where, capsys):
    if where.startswith("battery"):
        assert main(["measure", str(run_file)]) == 0
    capsys.readouterr()
    _flip(run_file, _offset(run_file, where) + (0 if where == "final/avr" else 16))
    with h5py.File(run_file, "r") as f:  # it still says complete
        assert f.attrs["status"] == "complete"
    with pytest.raises(store.StoreError, match="corrupt"):
        store.read_run(run_file)
    with pytest.raises(store.StoreError, match="corrupt"):
        store.read_battery(run_file)
    assert store.run_status(run_file) == "corrupt"
    assert main(["show", str(run_file)]) == 1  # show
    assert "corrupt" in capsys.readouterr().err
    assert load_results(run_file.parents[1]) == []  # figures and report read through it
    assert "skipping" in capsys.readouterr().err  # with a warning


def test_the_checksum_covers_attributes_and_survives_a_battery(run_file):
    with h5py.File(run_file, "r") as f:
        first = f.attrs["checksum"]
        assert first == store.content_checksum(f)
    assert main(["measure", str(run_file)]) == 0
    with h5py.File(run_file, "r") as f:
        assert f.attrs["checksum"] != first and f.attrs["checksum"] == store.content_checksum(f)
    with h5py.File(run_file, "a") as f:  # an attribute changed behind the store's back
        cfg = json.loads(f.attrs["config"])
        cfg["seed"] = 1
        f.attrs["config"] = json.dumps(cfg, sort_keys=True)
    with pytest.raises(store.StoreError, match="does not match its checksum"):
        store.read_run(run_file)
