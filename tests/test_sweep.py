"""Sweeps at scale: grid and zip, executors (process pool, Dask), and failures injected for real."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from neurocode import config as cfgmod
from neurocode import store
from neurocode.runner import run_path
from neurocode.sweep import RunLock, run_point, run_sweep

from conftest import needs_mnist

EXE = Path(sys.executable).with_name("neurocode")


def _write(tmp_path, raw, name="sweep.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw))
    return p


def _bars(n_points=3, **over):
    """Quick runs: k-of-N codes of the bars images (no data files needed)."""
    raw = {"name": "bars", "seed": 0, "model": {"rule": "kofn", "n_units": 32, "k": 4},
           "data": {"dataset": "bars", "n_train": 200, "n_test": 100},
           "sweep": {"model.k": list(range(1, n_points + 1))}}
    raw.update(over)
    return raw


def _fc(iterations, **over):
    raw = {"name": "fc", "seed": 0, "model": {"rule": "relu-l1-fc", "hidden": 16},
           "train": {"iterations": iterations, "eval_every": iterations},
           "data": {"n_train": 5000, "n_test": 500}}
    raw.update(over)
    return raw


def _cli(args, cwd, **kw):
    return subprocess.Popen([str(EXE), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ}, **kw)


def _wait_for(pred, timeout=120.0, what="condition"):
    t = time.monotonic()
    while not pred():
        if time.monotonic() - t > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# -- configs ----------------------------------------------------------------------------------
def test_grid_and_zip_expand_with_seeds():
    raw = _bars(sweep={"seed": [0, 1]}, zip={"model.k": [1, 2, 3], "model.n_units": [8, 16, 32]})
    specs = cfgmod.resolve(raw)
    assert len(specs) == 6
    got = {(s.config["seed"], s.get("model.k"), s.get("model.n_units")) for s in specs}
    assert got == {(seed, k, n) for seed in (0, 1) for k, n in ((1, 8), (2, 16), (3, 32))}
    assert specs[0].label == "seed=0,k=1,n_units=8"
    assert len({s.filename for s in specs}) == 6
    # --set reaches zip lists, and pins a zipped key
    assert len(cfgmod.resolve(raw, {"zip.model.k": [4, 4, 4]})) == 6
    assert {s.get("model.k") for s in cfgmod.resolve(raw, {"model.k": 2})} == {2}


@pytest.mark.parametrize("zipped, match", [
    ({"model.k": [1, 2], "model.n_units": [8, 16, 32]}, "same length"),
    ({"seed": [1, 2, 3]}, "also under 'sweep'"),
    ({"model.kk": [1]}, "zip.model.kk"),
    ({"model.k": 3}, "non-empty list"),
])
def test_bad_zip_is_refused(zipped, match):
    with pytest.raises(cfgmod.ConfigError, match=match):
        cfgmod.resolve(_bars(sweep={"seed": [0, 1]}, zip=zipped))


def test_same_config_and_seed_give_bit_identical_runs(tmp_path):
    specs = cfgmod.resolve(_bars(2, model={"rule": "kwta", "n_units": 16, "k": 2},
                                 train={"epochs": 1}))
    for out in ("a", "b"):
        assert not run_sweep(specs, tmp_path / out, workers=1, echo=lambda m: None).failed
    for s in specs:
        a, b = store.read_run(run_path(tmp_path / "a", s)), store.read_run(run_path(tmp_path / "b", s))
        assert a.final.keys() == b.final.keys()
        for k in a.final:
            if k not in ("fit_seconds", "encode_ms_per_sample"):
                assert a.final[k] == b.final[k], k
        with h5py.File(a.path) as fa, h5py.File(b.path) as fb:
            for k in fa["rule/state"]:
                np.testing.assert_array_equal(fa["rule/state"][k][()], fb["rule/state"][k][()])


# -- executors --------------------------------------------------------------------------------
@pytest.mark.slow
def test_local_process_pool_runs_every_point(tmp_path):
    specs = cfgmod.resolve(_bars(4))
    lines = []
    summary = run_sweep(specs, tmp_path, workers=2, echo=lines.append)
    assert len(summary.done) == 4 and not summary.failed
    assert all(store.is_complete(run_path(tmp_path, s)) for s in specs)
    assert len(lines) == 4 and all("AVR=" in line for line in lines)
    assert not list(tmp_path.rglob("*.lock")) and not list(tmp_path.rglob("*.partial"))
    again = run_sweep(specs, tmp_path, workers=2, echo=lambda m: None)
    assert len(again.skipped) == 4 and not again.done


@pytest.mark.slow
def test_dask_local_cluster_with_two_worker_processes(tmp_path):
    pytest.importorskip("distributed")
    specs = cfgmod.resolve(_bars(3))
    summary = run_sweep(specs, tmp_path, executor="dask", workers=2, echo=lambda m: None)
    assert len(summary.done) == 3 and not summary.failed
    for s in specs:
        rec = store.read_run(run_path(tmp_path, s))
        assert rec.status == "complete" and rec.final["avr"] == s.get("model.k")


def test_cli_executor_options(tmp_path, capsys):
    from neurocode.cli import main

    cfg = _write(tmp_path, _bars(2))
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]) == 2
    assert "--executor dask" in capsys.readouterr().err


# -- failures injected for real ---------------------------------------------------------------
@pytest.mark.slow
@needs_mnist
def test_killed_worker_leaves_nothing_that_claims_complete_and_a_rerun_completes(tmp_path):
    raw = _fc(8000, zip={"train.iterations": [6, 8000], "train.eval_every": [6, 8000]})
    cfg = _write(tmp_path, raw)
    quick, slow = (run_path(tmp_path / "out", s) for s in cfgmod.resolve(cfgmod.load_yaml(cfg)))
    proc = _cli(["run", str(cfg), "--out", "out", "--workers", "2"], tmp_path)
    lock = Path(str(slow) + ".lock")
    _wait_for(lambda: lock.exists() and lock.read_text().strip(), what="the slow run's lock")
    pid = int(lock.read_text().split()[0])
    assert pid != proc.pid  # the run is in a worker process
    _wait_for(lambda: store.is_complete(quick), what="the quick run")
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    assert "worker process died" in out and "Traceback" not in err
    assert store.is_complete(quick) and not store.is_complete(slow)
    assert not Path(str(slow) + ".partial").exists() or not store.is_complete(
        Path(str(slow) + ".partial"))
    before = quick.stat().st_mtime_ns
    proc = _cli(["run", str(cfg), "--out", "out", "--workers", "1"], tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)
    assert "1 done, 1 skipped" in out
    assert store.is_complete(slow) and quick.stat().st_mtime_ns == before


@pytest.mark.slow
@needs_mnist
@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_finished_runs_and_says_how_to_resume(tmp_path, workers):
    raw = _fc(200000, zip={"train.iterations": [6, 200000], "train.eval_every": [6, 200000]})
    cfg = _write(tmp_path, raw)
    quick, slow = (run_path(tmp_path / "out", s) for s in cfgmod.resolve(cfgmod.load_yaml(cfg)))
    proc = _cli(["run", str(cfg), "--out", "out", "--workers", workers], tmp_path)
    lock = Path(str(slow) + ".lock")
    _wait_for(lambda: store.is_complete(quick) and lock.exists() and lock.read_text().strip(),
              what="the quick run and the slow run's start")
    worker = int(lock.read_text().split()[0])
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Run the same command again to resume" in err and "Traceback" not in err
    assert store.is_complete(quick) and not slow.exists()
    _wait_for(lambda: not Path(f"/proc/{worker}").exists() or
              "zombie" in Path(f"/proc/{worker}/status").read_text().lower(),
              timeout=20, what="the worker to stop")


def test_diverging_and_raising_runs_fail_alone(tmp_path, monkeypatch):
    """A rule that raises inside fit (as a broken plugin would) and a run whose training
    reports a NaN loss are stored as failed with their reasons; the others complete."""
    from neurocode.models.binary import KofN
    from neurocode.rules import TrainingFailed

    real = KofN._fit

    def flaky(self, X, y=None):
        if self.k == 2:
            raise RuntimeError("plugin bug")
        if self.k == 3:
            raise TrainingFailed("loss became nan at iteration 7")
        return real(self, X, y)

    monkeypatch.setattr(KofN, "_fit", flaky)
    specs = cfgmod.resolve(_bars(4))
    summary = run_sweep(specs, tmp_path, workers=1, echo=lambda m: None)
    assert len(summary.done) == 2 and len(summary.failed) == 2
    reasons = {store.read_run(p).attrs["reason"] for p, _ in summary.failed}
    assert any("RuntimeError" in r and "plugin bug" in r for r in reasons)
    assert any("loss became nan" in r for r in reasons)
    assert {store.run_status(p) for p, _ in summary.failed} == {"failed"}


def test_disk_full_stops_the_sweep_and_keeps_finished_files(tmp_path, monkeypatch):
    specs = cfgmod.resolve(_bars(3))
    run_sweep(specs[:1], tmp_path, workers=1, echo=lambda m: None)
    first = run_path(tmp_path, specs[0])
    data = first.read_bytes()
    real = os.write

    def full(fd, data):  # the disk fills up while the run file is written
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".partial"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full)
    lines = []
    summary = run_sweep(specs, tmp_path, workers=1, echo=lines.append)
    assert len(summary.skipped) == 1 and len(summary.failed) == 1 and not summary.done
    assert "no space left on device" in summary.failed[0][1]
    assert str(run_path(tmp_path, specs[1])) in summary.failed[0][1]  # the path, the cause
    assert first.read_bytes() == data
    assert not list(tmp_path.rglob("*.partial")) and not list(tmp_path.rglob("*.lock"))


def test_unwritable_output_folder_is_refused_before_training(tmp_path, capsys):
    from neurocode.cli import main

    cfg = _write(tmp_path, _bars(2))
    target = Path("/sys/neurocode-test") if os.geteuid() == 0 else tmp_path / "ro"
    if os.geteuid() != 0:
        target.mkdir()
        target.chmod(0o555)
    assert main(["run", str(cfg), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "cannot write run files" in err and "--out" in err


def test_truncated_and_damaged_files_are_detected_and_rerun(tmp_path):
    specs = cfgmod.resolve(_bars(3, model={"rule": "kwta", "n_units": 64, "k": 4},
                                 train={"epochs": 1}))
    run_sweep(specs, tmp_path, workers=1, echo=lambda m: None)
    paths = [run_path(tmp_path, s) for s in specs]
    # truncated: the second half of the file is gone
    data = paths[0].read_bytes()
    paths[0].write_bytes(data[: len(data) // 2])
    # damaged: bytes flipped inside the learned weights (the attributes still say complete)
    with h5py.File(paths[1], "r") as f:
        ds = f["rule/state/weights_"]
        offset = ds.id.get_chunk_info(0).byte_offset
    raw = bytearray(paths[1].read_bytes())
    raw[offset + 100: offset + 108] = bytes(255 - b for b in raw[offset + 100: offset + 108])
    paths[1].write_bytes(bytes(raw))
    with h5py.File(paths[1], "r") as f:
        assert f.attrs["status"] == "complete"
    assert [store.run_status(p) for p in paths] == ["corrupt", "corrupt", "complete"]
    lines = []
    summary = run_sweep(specs, tmp_path, workers=1, echo=lines.append)
    assert len(summary.done) == 2 and len(summary.skipped) == 1
    assert sum("corrupt or truncated file is replaced" in line for line in lines) == 2
    assert [store.run_status(p) for p in paths] == ["complete"] * 3


def test_a_point_locked_by_another_sweep_is_not_run_twice(tmp_path):
    specs = cfgmod.resolve(_bars(2))
    held = RunLock(run_path(tmp_path, specs[0]))
    assert held.acquire()
    try:
        r = run_point(specs[0], tmp_path)
        assert r.status == "busy" and not run_path(tmp_path, specs[0]).exists()
        summary = run_sweep(specs, tmp_path, workers=1, echo=lambda m: None)
        assert len(summary.busy) == 1 and len(summary.done) == 1
        assert "left to another sweep" in summary.lines()[0]
    finally:
        held.release()
    assert run_point(specs[0], tmp_path).status == "done"


@pytest.mark.slow
def test_two_sweeps_on_one_folder_run_each_point_once(tmp_path):
    cfg = _write(tmp_path, _bars(6, model={"rule": "kwta", "n_units": 64, "k": 4},
                                 train={"epochs": 2}))
    procs = [_cli(["run", str(cfg), "--out", "out", "--workers", "1"], tmp_path) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    # 0, or 3 for a sweep that left points to the other one (not finished by it)
    assert all(p.returncode in (0, 3) for p in procs), outs
    heads = [next(line for line in o.splitlines() if " done, " in line) for o, _ in outs]
    for p, head in zip(procs, heads, strict=True):
        assert (p.returncode == 3) == ("left to another sweep" in head), heads
    done = sum(int(h.split()[0]) for h in heads)
    assert done == 6  # every point run by exactly one of the two sweeps
    assert len(list((tmp_path / "out" / "bars").glob("*.h5"))) == 6


@pytest.mark.slow
def test_progress_is_quiet_when_not_a_terminal(tmp_path):
    cfg = _write(tmp_path, _bars(2))
    proc = _cli(["run", str(cfg), "--out", "out", "--workers", "1"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert out.count("[1/2]") == 1 and out.count("[2/2]") == 1  # a line per finished run
    assert "\r" not in err and "run/s" not in err  # no progress bars in logs


# -- vectorised lambda sweeps -----------------------------------------------------------------
@pytest.mark.parametrize("name, extra", [("relu-l1-fc", {"hidden": 48}),
                                         ("relu-l1-cnn", {"feature_maps": 3}),
                                         ("relu-l1-conv-ae", {"feature_maps": 3,
                                                              "decoder": "transposed"})])
@pytest.mark.slow
def test_vectorised_lambdas_equal_separate_runs(name, extra):
    """Same seed, same batches: the batched model follows each separate run to float32
    rounding (weights within 1e-5 after 40 Adam steps; curves within 1e-4 relative)."""
    from neurocode import get_rule

    cls = type(get_rule(name))
    X, y = cls.conformance_data(600)
    kw = dict(iterations=40, eval_every=20, batch_size=50, random_state=3, **extra)
    lams = [0.0, 1e-3, 1e-2]
    val = (X[:200], y[:200])
    sep = [get_rule(name, l1=lam, **kw).fit(X, y, validation_data=val) for lam in lams]
    many = [get_rule(name, l1=lam, **kw) for lam in lams]
    assert cls.fit_many(many, X, y, validation_data=val) == [None] * 3
    for a, b in zip(sep, many, strict=True):
        for k in a.weights_:
            np.testing.assert_allclose(b.weights_[k], a.weights_[k], rtol=0, atol=1e-5)
        for k in a.curves_:
            np.testing.assert_allclose(b.curves_[k], a.curves_[k], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b.encode(X[:50]), a.encode(X[:50]), atol=1e-4)
    assert sep[2].curves_["avr"][-1] < sep[0].curves_["avr"][-1]  # the lambdas did differ


def test_vectorised_lambdas_refuse_mixed_rules_and_report_divergence():
    from neurocode.models.relu_l1 import ReluL1FC
    from neurocode.rules import TrainingFailed

    X, y = ReluL1FC.conformance_data(300)
    kw = dict(hidden=16, iterations=20, eval_every=10, batch_size=50, random_state=0)
    with pytest.raises(ValueError, match="differ only in 'l1'"):
        ReluL1FC.fit_many([ReluL1FC(l1=0.0, **kw), ReluL1FC(l1=1e-3, lr=5e-3, **kw)], X, y)
    rules = [ReluL1FC(l1=0.0, **kw), ReluL1FC(l1=1e-3, **kw)]
    out = ReluL1FC.fit_many(rules, X * np.float32(1e38), y)  # the loss overflows at step 1
    assert all(isinstance(o, TrainingFailed) and "at iteration 1" in str(o) for o in out)
    assert all(len(r.curves_["step"]) == 1 for r in rules)  # the curves before it are kept


@needs_mnist
def test_sweep_trains_lambdas_as_one_model_on_request(tmp_path):
    raw = _fc(30, sweep={"model.l1": [0.0, 1e-3, 1e-2]})
    specs = cfgmod.resolve(raw)
    lines = []
    summary = run_sweep(specs, tmp_path / "v", workers=2, vectorize=True, echo=lines.append)
    assert len(summary.done) == 3
    assert all("3 lambdas as one vectorised model" in line for line in lines)
    run_sweep(specs, tmp_path / "s", workers=1, echo=lambda m: None)
    for s in specs:
        v = store.read_run(run_path(tmp_path / "v", s))
        one = store.read_run(run_path(tmp_path / "s", s))
        assert v.final["vectorised_over"] == 3 and "vectorised_over" not in one.final
        for k in ("accuracy", "avr", "loss"):
            assert v.final[k] == pytest.approx(one.final[k], rel=1e-3, abs=1e-3), k
