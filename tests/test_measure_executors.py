"""Measuring stored runs on every executor (issue 15, item 3): the batteries are the same
whether this process, a local pool or a Dask LocalCluster measures them; `neurocode measure`
takes `--executor`, `--workers` and `--scheduler` with `neurocode run`'s help and checks;
Ctrl-C stops a measuring pool as it stops a sweep's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pool_tasks import alive, descendants

from neurocode import api, store
from neurocode import config as cfgmod
from neurocode.cli import EXIT_USAGE, build_parser, main
from neurocode.runner import run_path
from neurocode.sweep import run_sweep

from conftest import needs_mnist

EXE = Path(sys.executable).with_name("neurocode")


def _kofn(ks, dataset="mnist", n_units=32, n_train=300, n_test=150):
    return {"name": "kofn", "seed": 0, "model": {"rule": "kofn", "n_units": n_units},
            "data": {"dataset": dataset, "n_train": n_train, "n_test": n_test},
            "sweep": {"model.k": list(ks)}}


def _stored(tmp_path, raw):
    specs = cfgmod.resolve(raw)
    out = tmp_path / "runs"
    assert not run_sweep(specs, out, workers=1, echo=lambda m: None).failed
    return specs, out


#: what the battery times on the wall clock (neurocode.metrics.compute: "timings are of this
#: machine at this moment"), and the rounds that timing decides: never equal from run to run
TIMED = {"_meta": ("seconds_",),
         "compute": ("time_", "relative_cost", "sparse_readout_speedup", "encoder_fraction",
                     "repeats")}


def _without_timings(battery: dict) -> dict:
    return {g: {k: v for k, v in values.items() if not k.startswith(TIMED.get(g, ()))}
            for g, values in battery.items()}


@pytest.mark.slow
@needs_mnist
def test_the_batteries_are_the_same_whichever_executor_measures_them(tmp_path, capsys):
    """Two stored runs, three copies: measured in this process, on a pool of two (through
    `neurocode measure --workers 2`) and on a Dask LocalCluster of two; every battery group
    is equal to the last bit (wall-clock timings aside), and a k-of-N code's activity is k
    of N."""
    specs, out = _stored(tmp_path, _kofn([1, 3]))
    copies = {name: tmp_path / name for name in ("here", "pool", "dask")}
    for folder in copies.values():
        shutil.copytree(out, folder)
    said: dict[str, list[str]] = {"here": [], "dask": []}
    files = {name: [run_path(folder, s) for s in specs] for name, folder in copies.items()}
    assert api.measure_files(files["here"], max_stimuli=100, workers=1,
                             say=said["here"].append) == 0
    capsys.readouterr()
    assert main(["measure", str(copies["pool"]), "--workers", "2", "--max-stimuli", "100"]) == 0
    pool_said = capsys.readouterr().out
    if _has_dask():
        assert api.measure_files(files["dask"], max_stimuli=100, executor="dask", workers=2,
                                 say=said["dask"].append) == 0
    else:
        del copies["dask"]
    # where it ran is said; a worker's lines are said here, one per file
    assert "measuring 2 run(s) on 2 processes" in pool_said
    assert sum(": measured, code " in line for line in pool_said.splitlines()) == 2
    assert any("measuring kofn (32 units)" in line for line in said["here"])
    for i, spec in enumerate(specs):
        batteries = {name: store.read_battery(files[name][i]) for name in copies}
        k = spec.get("model.k")
        here = batteries["here"]
        assert here["activity"]["avr"] == k and here["activity"]["activity_ratio"] == k / 32
        assert here["_meta"]["threads"] == 1.0 and "fault" in here and "decoding" in here
        assert set(here) == {g for b in batteries.values() for g in b}
        assert len(_without_timings(here)["compute"]) > 4  # what is not timed is compared
        for name, battery in batteries.items():
            for group in here:
                np.testing.assert_equal(_without_timings(battery)[group],
                                        _without_timings(here)[group],
                                        err_msg=f"{name}: battery/{group} of k={k}")
    if "dask" in copies:
        assert said["dask"][0] == "measuring 2 run(s) on a Dask LocalCluster of 2 processes"


def _has_dask() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers must be >= 1, got 0"),
    (["--scheduler", "tcp://x:1"], "--scheduler is an address for --executor dask"),
    (["--executor", "slurm"], "invalid choice: 'slurm'"),
])
def test_bad_executor_options_of_measure_exit_2_before_anything(tmp_path, capsys, argv,
                                                                message):
    specs, out = _stored(tmp_path, _kofn([2], dataset="bars", n_train=50, n_test=20))
    try:
        code = main(["measure", str(out), *argv])
    except SystemExit as exc:  # argparse's own refusal (an unknown choice)
        code = exc.code
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert store.read_battery(run_path(out, specs[0])) == {}  # nothing measured


@pytest.mark.parametrize("argv", [["--workers", "2"], ["--executor", "dask"]])
def test_codes_files_refuse_executor_options(tmp_path, capsys, argv):
    if "dask" in argv:
        pytest.importorskip("distributed")
    np.savez(tmp_path / "c.npz", codes=np.eye(8, dtype=np.float32))
    assert main(["measure", "--codes", str(tmp_path / "c.npz"), "--out", str(tmp_path / "o"),
                 *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{argv[0]}: --codes FILE is measured in this process" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").rglob("*.h5"))


def test_run_and_measure_share_the_executor_options():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")

    def options(cmd):
        return {a.option_strings[0]: a for a in sub.choices[cmd]._actions
                if a.option_strings and a.option_strings[0] in
                ("--executor", "--workers", "--scheduler")}

    run, measure = options("run"), options("measure")
    assert set(run) == set(measure) == {"--executor", "--workers", "--scheduler"}
    for flag in ("--executor", "--scheduler"):
        assert run[flag].help == measure[flag].help and run[flag].choices == measure[flag].choices
    # the same sentence, but for what no --workers means: measuring stays in this process
    assert run["--workers"].help.replace("one per core", "D") == \
        measure["--workers"].help.replace("1; configs are run on one per core", "D")
    assert measure["--workers"].default is None and run["--workers"].default is None


@pytest.mark.slow
@needs_mnist
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_stops_a_measuring_pool_and_changes_no_file(tmp_path):
    """`neurocode measure --workers 2` on two long batteries, interrupted once both workers
    are at work: exit 130, the command says the files are unchanged, and they are; no worker
    is left."""
    specs, out = _stored(tmp_path, _kofn([4, 8], n_units=1024, n_train=2000, n_test=10000))
    before = {p: p.read_bytes() for p in out.rglob("*.h5")}
    proc = subprocess.Popen([str(EXE), "measure", str(out), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, start_new_session=True, env={**os.environ})
    try:
        t = time.monotonic()
        while len([p for p in descendants(proc.pid) if alive(p)]) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t < 60, "timed out waiting for the workers"
            time.sleep(0.05)
        time.sleep(8.0)  # the workers import torch, read the run and its data, and measure
        family = descendants(proc.pid)
        assert proc.poll() is None, "the batteries ended before the interrupt"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
        t = time.monotonic()
        while any(alive(p) for p in family) and time.monotonic() - t < 20:
            time.sleep(0.05)
        assert not [p for p in family if alive(p)]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted; the files being measured are unchanged" in stderr
    assert "Traceback" not in stderr
    assert {p: p.read_bytes() for p in out.rglob("*.h5")} == before
    assert not list(out.rglob("*.partial"))
