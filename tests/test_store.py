"""The HDF5 run store: round trip, atomic write, status, corrupted files."""

import json

import h5py
import numpy as np
import pytest

from neurocode import store


def _write(path, **kw):
    args = dict(config={"name": "e", "model": {"l1": 1e-4}}, experiment="e", run_name="l1=0.0001",
                seed=7, curves={"step": np.arange(3) * 100, "accuracy": [0.1, 0.5, 0.9]},
                final={"accuracy": 0.9, "n_units": 784.0}, wall_time_s=1.5)
    args.update(kw)
    return store.write_run(path, **args)


def test_round_trip(tmp_path):
    p = _write(tmp_path / "e" / "run.h5")
    rec = store.read_run(p)
    assert rec.status == "complete" and store.is_complete(p)
    assert rec.config == {"name": "e", "model": {"l1": 1e-4}}
    assert rec.experiment == "e" and rec.run_name == "l1=0.0001" and rec.attrs["seed"] == 7
    np.testing.assert_array_equal(rec.curves["step"], [0, 100, 200])
    np.testing.assert_allclose(rec.curves["accuracy"], [0.1, 0.5, 0.9])
    assert rec.final == {"accuracy": 0.9, "n_units": 784.0}
    versions = json.loads(rec.attrs["versions"])
    assert {"python", "torch", "numpy", "h5py"} <= set(versions)
    assert rec.attrs["wall_time_s"] == 1.5
    assert not list(tmp_path.rglob("*.partial"))


def test_failed_run_keeps_reason(tmp_path):
    p = _write(tmp_path / "run.h5", status="failed", reason="loss became nan at iteration 3")
    assert store.run_status(p) == "failed"
    assert not store.is_complete(p)
    assert store.read_run(p).attrs["reason"] == "loss became nan at iteration 3"
    assert list(store.iter_runs(tmp_path)) == []
    assert len(list(store.iter_runs(tmp_path, status=None))) == 1


def test_failed_write_leaves_existing_file_untouched(tmp_path):
    p = _write(tmp_path / "run.h5")
    before = p.read_bytes()
    with pytest.raises(ValueError, match="curve 'accuracy'"):
        _write(p, curves={"step": np.arange(3), "accuracy": [0.1, 0.2]})  # wrong length
    assert p.read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))


def test_killed_write_never_looks_complete(tmp_path):
    """A run killed mid-write leaves only NAME.h5.partial, whose status is not 'complete'."""
    p = tmp_path / "run.h5"
    partial = tmp_path / ("run.h5" + store.PARTIAL_SUFFIX)
    with h5py.File(partial, "w") as f:  # what a writer killed before its rename leaves behind
        f.attrs["config"] = "{}"
        f.attrs["status"] = "writing"
    assert store.run_status(p) == "missing"
    assert store.run_status(partial) == "writing"
    assert list(store.iter_runs(tmp_path)) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not_a_run"])
def test_corrupted_files_are_detected(tmp_path, damage):
    p = _write(tmp_path / "run.h5")
    if damage == "truncate":
        p.write_bytes(p.read_bytes()[:500])
    elif damage == "garbage":
        p.write_bytes(b"\x00" * 4096)
    else:
        p.unlink()
        with h5py.File(p, "w") as f:
            f.create_dataset("x", data=[1, 2])
    assert not store.is_complete(p)
    with pytest.raises(store.StoreError, match="run.h5"):
        store.read_run(p)
    assert list(store.iter_runs(tmp_path)) == []


def test_missing_file():
    with pytest.raises(store.StoreError, match="no such run file"):
        store.read_run("/nonexistent/run.h5")


def test_battery_is_added_atomically_and_reads_back(tmp_path):
    p = _write(tmp_path / "run.h5")
    results = {"activity": {"avr": 2.5, "code_type": "sparse", "lifetime": np.arange(4.0)},
               "_meta": {"readout": "linear probe", "n_stimuli": 10.0}}
    store.write_battery(p, results)
    back = store.read_battery(p)
    assert back["activity"]["avr"] == 2.5 and back["activity"]["code_type"] == "sparse"
    np.testing.assert_array_equal(back["activity"]["lifetime"], np.arange(4.0))
    assert back["_meta"]["readout"] == "linear probe"
    assert store.read_run(p).final == {"accuracy": 0.9, "n_units": 784.0}  # the run is intact
    # measuring again replaces the battery; a failing write leaves the file as it was
    store.write_battery(p, {"activity": {"avr": 3.0}})
    assert store.read_battery(p) == {"activity": {"avr": 3.0}}
    before = p.read_bytes()
    with pytest.raises(TypeError):
        store.write_battery(p, {"activity": {"avr": object()}})
    assert p.read_bytes() == before
    assert not list(tmp_path.glob("*.partial"))


def test_battery_refuses_incomplete_runs(tmp_path):
    p = _write(tmp_path / "run.h5", status="failed", reason="x")
    with pytest.raises(store.StoreError, match="not a complete run"):
        store.write_battery(p, {"activity": {"avr": 1.0}})
