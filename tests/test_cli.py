"""The neurocode command: runs, resume, refusals, show, list, figures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurocode.cli import main
from neurocode.rules import load_rule
from neurocode.store import read_run

from conftest import needs_mnist

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path, **over):
    raw = {"name": "tiny", "seed": 0, "model": {"rule": "relu-l1-fc", "hidden": 32},
           "train": {"iterations": 6, "eval_every": 3}, "data": {"n_test": 500},
           "sweep": {"model.l1": [0.0, 1e-3]}}
    raw.update(over)
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


@pytest.mark.slow
@needs_mnist
def test_run_stores_one_complete_file_per_point_then_skips(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    files = sorted((out / "tiny").glob("*.h5"))
    assert len(files) == 2
    recs = [read_run(f) for f in files]
    assert {r.config["model"]["l1"] for r in recs} == {0.0, 1e-3}
    assert all(r.status == "complete" for r in recs)
    assert list(recs[0].curves["step"]) == [0, 3, 6]
    # the fitted rule is in the run file and reloads through the registry
    rule = load_rule(files[0])
    assert rule.name == "relu-l1-fc" and rule.get_params()["hidden"] == 32
    codes = rule.encode(np.random.default_rng(0).random((5, 784)))
    assert codes.shape == (5, 32)
    mtimes = [f.stat().st_mtime_ns for f in files]
    capsys.readouterr()
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    assert "0 done, 2 skipped" in capsys.readouterr().out
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    # a changed budget is a different run, and --set reaches nested keys
    assert main(["run", str(cfg), "--out", str(out), "--set", "train.iterations=3",
                 "--set", "model.l1=1e-3", "--seed", "5"]) == 0
    new = set((out / "tiny").glob("*.h5")) - set(files)
    assert len(new) == 1
    rec = read_run(new.pop())
    assert rec.config["train"]["iterations"] == 3 and rec.config["seed"] == 5
    assert main(["show", str(files[0])]) == 0
    shown = capsys.readouterr().out
    assert "accuracy" in shown and "complete" in shown
    figs = tmp_path / "figs"
    assert main(["figures", str(out), "--out", str(figs)]) == 0
    assert (figs / "tiny_curves.png").stat().st_size > 0


@pytest.mark.parametrize("over,set_,key", [
    ({"trian": {"iterations": 5}}, [], "trian"),
    ({}, ["train.iterations=lots"], "train.iterations"),
    ({"model": {"rule": "transformer"}}, [], "model.rule"),
    ({}, ["train.lr=-1"], "train.lr"),
    ({}, ["model.l1=.nan"], "model.l1"),
])
def test_bad_config_is_refused_before_training(tmp_path, capsys, over, set_, key):
    cfg = _config(tmp_path, **over)
    args = ["run", str(cfg), "--out", str(tmp_path / "out")]
    for s in set_:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"'{key}'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_missing_data_is_one_clear_error(tmp_path, capsys, monkeypatch):
    from neurocode.data import mnist

    cfg = _config(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("NEUROCODE_DATA", str(empty))
    monkeypatch.setenv("HOME", str(empty))
    monkeypatch.setattr(mnist, "SYSTEM_ROOT", empty)
    code = main(["run", str(cfg), "--out", str(tmp_path / "out"), "--data-dir", str(empty)])
    assert code == 1
    err = capsys.readouterr().err
    assert str(empty) in err and "NEUROCODE_DATA" in err
    assert "Traceback" not in err


def test_show_refuses_a_corrupted_file(tmp_path, capsys):
    bad = tmp_path / "run.h5"
    bad.write_bytes(b"not hdf5 at all")
    assert main(["show", str(bad)]) == 1
    assert "corrupted" in capsys.readouterr().err


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae"} <= {m["name"] for m in data["rules"]}
    assert {"article_fc", "article_cnn", "article_ae"} <= {e["name"] for e in data["experiments"]}


@pytest.mark.slow
def test_console_script_exit_code_and_no_traceback(tmp_path):
    """The installed `neurocode` command, as a user runs it."""
    cfg = _config(tmp_path, model={"rule": "relu-l1-fc", "hiden": 3})
    exe = Path(sys.executable).with_name("neurocode")
    proc = subprocess.run([str(exe), "run", str(cfg)], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ})
    assert proc.returncode == 2
    assert "model.hiden" in proc.stderr and "did you mean 'model.hidden'" in proc.stderr
    assert "Traceback" not in proc.stderr


@needs_mnist
def test_tensorboard_scalars_under_the_article_names(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg, tb = _config(tmp_path, sweep={"model.l1": [1e-3]}), tmp_path / "tb"
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "--tensorboard", str(tb)]) == 0
    rec = read_run(next((tmp_path / "out" / "tiny").glob("*.h5")))
    acc = EventAccumulator(str(tb / "tiny" / "l1=0.001"))
    acc.Reload()
    assert {"accuracy", "loss", "AverageDensity"} <= set(acc.Tags()["scalars"])
    steps = [e.step for e in acc.Scalars("accuracy")]
    assert steps == list(rec.curves["step"])
    assert [e.value for e in acc.Scalars("AverageDensity")] == pytest.approx(rec.curves["avr_train"])
