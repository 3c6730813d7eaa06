"""Issue 18, defect 8: each bad input gets one clear message and a documented exit code
(2: a malformed config or command line, nothing run; 1: something could not be read or
written), never a traceback, and nothing is accepted silently."""

from __future__ import annotations

import socket

import pytest
import yaml

from neurocode import config as cfgmod
from neurocode.cli import EXIT_FAILED, EXIT_USAGE, main

from conftest import needs_mnist


def _bars(**over):
    raw = {"name": "bars", "seed": 0, "model": {"rule": "kofn", "n_units": 16, "k": 2},
           "data": {"dataset": "bars", "n_train": 50, "n_test": 20}}
    raw.update(over)
    return raw


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(_bars()))
    return p


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_theory_units_below_four_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "results").mkdir()
    assert main(["figures", str(tmp_path / "results"), "--theory-units", "0"]) == EXIT_USAGE
    assert "--theory-units must be >= 4" in _err(capsys)


@pytest.mark.parametrize("command", ["run", "figures", "report", "measure-codes"])
def test_out_pointing_at_a_file(tmp_path, cfg, capsys, command):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    (tmp_path / "results").mkdir()
    argv = {"run": ["run", str(cfg), "--out", str(target), "--workers", "1"],
            "figures": ["figures", str(tmp_path / "results"), "--out", str(target)],
            "report": ["report", str(tmp_path / "results"), "--out", str(target)],
            "measure-codes": ["measure", "--codes", str(tmp_path / "x.npz"), "--out",
                              str(target)]}[command]
    assert main(argv) == EXIT_FAILED
    err = _err(capsys)
    assert str(target) in err and ("not a folder" in err or "is a file" in err), err
    assert target.read_text() == "not a folder"


def test_an_unreachable_dask_scheduler(cfg, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from neurocode import sweep

    monkeypatch.setattr(sweep, "SCHEDULER_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["run", str(cfg), "--out", str(tmp_path / "o"), "--executor", "dask",
                 "--scheduler", f"tcp://127.0.0.1:{port}"]) == EXIT_USAGE
    err = _err(capsys)
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach the Dask scheduler" in err
    assert not list((tmp_path / "o").rglob("*.h5"))


def test_a_config_that_is_not_utf8(tmp_path, capsys):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\u00e9\nmodel: {rule: kofn}\n".encode("latin-1"))
    assert main(["run", str(p), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    err = _err(capsys)
    assert "is not UTF-8 text: byte 0xe9 at line 1" in err


@pytest.mark.parametrize("argv", [["run", "CFG", "--seed", str(2**64)],
                                  ["run", "CFG", "--set", f"seed={2**32}"],
                                  ["measure", "RESULTS", "--seed", str(2**64)]])
def test_a_seed_beyond_32_bits(tmp_path, cfg, capsys, argv):
    (tmp_path / "results").mkdir()
    argv = [str(cfg) if a == "CFG" else str(tmp_path / "results") if a == "RESULTS" else a
            for a in argv] + (["--out", str(tmp_path / "o")] if argv[0] == "run" else [])
    assert main(argv) == EXIT_USAGE
    assert "out of range: a seed is an int from 0 to 2**32 - 1" in _err(capsys)
    assert cfgmod.resolve(_bars(seed=2**32 - 1))[0].config["seed"] == 2**32 - 1


def test_duplicate_yaml_keys_name_the_key_and_lines(tmp_path, capsys):
    p = tmp_path / "dup.yaml"
    p.write_text("name: dup\nmodel:\n  rule: kofn\n  k: 2\n  k: 5\nseed: 0\n")
    assert main(["run", str(p), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "key 'k' appears twice in one mapping: line 4 and line 5" in _err(capsys)
    with pytest.raises(cfgmod.ConfigError, match="key 'a' appears twice"):
        cfgmod.parse_set(["model={a: 1, a: 2}"])
    merged = tmp_path / "merge.yaml"  # a merge key is not a duplicate
    merged.write_text("base: &b {rule: kofn, k: 2}\nmodel:\n  <<: *b\n  k: 3\n")
    assert cfgmod.load_yaml(merged)["model"] == {"rule": "kofn", "k": 3}


@needs_mnist
def test_n_test_larger_than_the_data_set(tmp_path, capsys):
    p = tmp_path / "big.yaml"
    p.write_text(yaml.safe_dump({"name": "big", "model": {"rule": "kofn", "n_units": 16},
                                 "data": {"dataset": "mnist", "n_test": 20000}}))
    assert main(["run", str(p), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "'data.n_test': 20000 is more than the 10000 test images of mnist" in _err(capsys)


@pytest.mark.parametrize("option", [["--out", "somewhere"], ["--set", "seed=1"]])
def test_measure_options_for_configs_are_refused_on_folders(tmp_path, capsys, option):
    from neurocode.runner import run_path
    from neurocode.sweep import run_sweep

    specs = cfgmod.resolve(_bars())
    run_sweep(specs, tmp_path / "results", workers=1, echo=lambda m: None)
    assert main(["measure", str(tmp_path / "results"), *option]) == EXIT_USAGE
    err = _err(capsys)
    assert f"{option[0]} applies to configs that are run first" in err
    from neurocode.store import read_battery

    assert read_battery(run_path(tmp_path / "results", specs[0])) == {}  # nothing measured


def test_measure_on_an_empty_folder_fails(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["measure", str(tmp_path / "empty")]) == EXIT_USAGE
    assert "holds no run file (*.h5) to measure" in _err(capsys)


def test_set_sweep_replaces_the_whole_sweep(tmp_path, capsys):
    raw = _bars(sweep={"model.k": [1, 2, 3]})
    assert len(cfgmod.resolve(raw)) == 3
    assert len(cfgmod.resolve(raw, cfgmod.parse_set(["sweep={}"]))) == 1
    two = cfgmod.resolve(raw, cfgmod.parse_set(["sweep={seed: [4, 5]}"]))
    assert [(s.config["seed"], s.get("model.k")) for s in two] == [(4, 2), (5, 2)]
    with pytest.raises(cfgmod.ConfigError, match="--set sweep: expected a mapping"):
        cfgmod.resolve(raw, cfgmod.parse_set(["sweep=5"]))
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw))
    assert main(["run", str(p), "--out", str(tmp_path / "o"), "--set", "sweep={}",
                 "--workers", "1"]) == 0
    assert "1 run(s) of bars" in capsys.readouterr().out
