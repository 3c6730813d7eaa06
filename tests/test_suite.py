"""Suites: several experiments in one config, run and measured by one command."""

from pathlib import Path

import pytest
import yaml

from neurocode.cli import main
from neurocode.config import ConfigError, load_yaml
from neurocode.store import read_battery, read_run
from neurocode.suite import is_suite, resolve_suite

from conftest import needs_mnist

REPO = Path(__file__).resolve().parents[1]


def _part_file(tmp_path: Path) -> Path:
    p = tmp_path / "kofn_tiny.yaml"
    p.write_text(yaml.safe_dump({
        "name": "kofn_tiny", "seed": 0,
        "model": {"rule": "kofn", "n_units": 64, "preset": "sparse"},
        "data": {"dataset": "mnist", "n_train": 300, "n_test": 200}}))
    return p


def _suite(tmp_path: Path, **over) -> Path:
    _part_file(tmp_path)
    raw = {
        "name": "tiny_suite",
        "budgets": ["default", "full"],
        "measure": {"max_stimuli": 150},
        "parts": [
            {"config": "kofn_tiny.yaml",
             "set": {"sweep.model.preset": ["local", "dense"]},
             "budgets": {"full": {"data.n_train": 600}}},
            {"experiment": {"name": "bars_tiny", "seed": 1,
                            "model": {"rule": "foldiak", "n_units": 8},
                            "data": {"dataset": "bars", "n_train": 200, "n_test": 100}},
             "measure": False},
        ],
    }
    raw.update(over)
    p = tmp_path / "suite.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_the_bundled_comparison_resolves_for_every_budget():
    path = REPO / "experiments" / "code_types.yaml"
    raw = load_yaml(path)
    assert is_suite(raw)
    for budget in raw["budgets"]:
        suite = resolve_suite(raw, path, {"budget": budget})
        rules = {s.config["model"]["rule"] for p in suite.parts for s in p.specs}
        # every family the comparison promises
        assert {"kofn", "relu-l1-fc", "relu-l1-cnn", "relu-l1-conv-ae", "kwta", "lca", "foldiak",
                "oja", "sanger", "diehl-cook", "sailnet"} <= rules
    default = resolve_suite(raw, path, {})
    full = resolve_suite(raw, path, {"budget": "full"})
    fc = {p.name: p for p in default.parts}["article_fc"]
    assert {s.config["train"]["iterations"] for s in fc.specs} == {1000}
    assert {s.config["train"]["iterations"]
            for s in {p.name: p for p in full.parts}["article_fc"].specs} == {20000}


def test_parts_budgets_and_overrides(tmp_path):
    path = _suite(tmp_path)
    raw = load_yaml(path)
    suite = resolve_suite(raw, path)
    assert suite.budget == "default" and [p.name for p in suite.parts] == ["kofn_tiny", "bars_tiny"]
    kofn, bars = suite.parts
    assert [s.config["model"]["preset"] for s in kofn.specs] == ["local", "dense"]
    assert {s.config["data"]["n_train"] for s in kofn.specs} == {300}
    assert kofn.measure == {"max_stimuli": 150, "threshold": 0.0} and bars.measure is None
    full = resolve_suite(raw, path, {"budget": "full", "kofn_tiny.model.n_units": 32,
                                     "parts": ["kofn_tiny"], "seed": 4})
    assert [p.name for p in full.parts] == ["kofn_tiny"]
    assert {(s.config["data"]["n_train"], s.config["model"]["n_units"], s.config["seed"])
            for s in full.parts[0].specs} == {(600, 32, 4)}


@pytest.mark.parametrize("over,edit,message", [
    ({"budget": "huge"}, None, "not one of this suite's budgets"),
    ({"kofn_tiny.model.nope": 1}, None, "unknown config key 'model.nope'"),
    ({"train.iterations": 5}, None, "a suite takes budget="),
    ({"parts": ["missing"]}, None, "no part named 'missing'"),
    ({}, {"parts": []}, "non-empty list"),
    ({}, {"partz": []}, "did you mean 'parts'"),
    ({}, {"parts": [{"config": "nowhere.yaml"}]}, "does not exist"),
    ({}, {"parts": [{"config": "kofn_tiny.yaml", "budgets": {"quick": {}}}]}, "not one of the"),
    ({}, {"parts": [{"config": "kofn_tiny.yaml"}, {"config": "kofn_tiny.yaml"}]}, "two parts"),
    ({}, {"parts": [{"config": "kofn_tiny.yaml", "measure": {"stimuli": 3}}]}, "not a battery option"),
    ({}, {"parts": [{"config": "kofn_tiny.yaml", "experiment": {}}]}, "exactly one of"),
])
def test_malformed_suites_are_refused_naming_the_key(tmp_path, over, edit, message):
    path = _suite(tmp_path)
    raw = load_yaml(path)
    raw.update(edit or {})
    with pytest.raises(ConfigError, match=message):
        resolve_suite(raw, path, over)


@pytest.mark.slow
@needs_mnist
def test_one_command_runs_and_measures_every_part_then_resumes(tmp_path, capsys):
    path, out = _suite(tmp_path), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--workers", "1"]) == 0
    kofn = sorted((out / "kofn_tiny").glob("*.h5"))
    bars = sorted((out / "bars_tiny").glob("*.h5"))
    assert len(kofn) == 2 and len(bars) == 1
    for f in kofn:  # measured by the battery, with the suite's options
        battery = read_battery(f)
        assert battery["_meta"]["n_stimuli"] == 150
        k = read_run(f).config["model"]["preset"]
        assert battery["activity"]["avr"] == (1.0 if k == "local" else 32.0)
    assert read_battery(bars[0]) == {}  # measure: false
    capsys.readouterr()
    mtimes = [f.stat().st_mtime_ns for f in kofn + bars]
    assert main(["run", str(path), "--out", str(out), "--workers", "1"]) == 0
    said = capsys.readouterr().out
    assert "0 done, 2 skipped" in said and "measuring" not in said
    assert [f.stat().st_mtime_ns for f in kofn + bars] == mtimes


@pytest.mark.slow
@needs_mnist
def test_suite_measures_on_a_pool_of_processes(tmp_path, capsys):
    path, out = _suite(tmp_path), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--workers", "2",
                 "--set", "parts=[kofn_tiny]"]) == 0
    said = capsys.readouterr().out
    # in the suite's one pool (neurocode.schedule); parts in turn measure on a pool of their
    # own ("measuring 2 run(s) on 2 processes": tests/test_suite_pool.py)
    assert "kofn_tiny: measuring 2 run(s) in the suite's pool" in said
    assert all(read_battery(f) for f in (out / "kofn_tiny").glob("*.h5"))
    assert not (out / "bars_tiny").exists() or not list((out / "bars_tiny").glob("*.h5"))


def test_bad_suite_on_the_command_line_exits_2(tmp_path, capsys):
    path = _suite(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--set", "budget=huge"]) == 2
    assert "budget 'huge'" in capsys.readouterr().err


@pytest.mark.slow
@needs_mnist
def test_interrupted_suite_keeps_finished_work_and_resumes(tmp_path, monkeypatch, capsys):
    import neurocode.metrics.battery as battery_mod

    path, out = _suite(tmp_path), tmp_path / "out"
    real = battery_mod.run_battery
    calls = {"n": 0}

    def interrupt_second(*args, **kwargs):  # Ctrl-C while measuring the second run
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(battery_mod, "run_battery", interrupt_second)
    args = ["run", str(path), "--out", str(out), "--workers", "1", "--set", "parts=[kofn_tiny]"]
    assert main(args) == 130
    assert "Run the same command again to resume" in capsys.readouterr().err
    files = sorted((out / "kofn_tiny").glob("*.h5"))
    assert len(files) == 2  # both runs were trained and kept
    assert sum(bool(read_battery(f)) for f in files) == 1  # the first battery is kept
    monkeypatch.setattr(battery_mod, "run_battery", real)
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "0 done, 2 skipped" in said and said.count(": measuring ") == 1
    assert all(read_battery(f) for f in files)


def test_battery_options_per_budget(tmp_path):
    from neurocode.config import ConfigError
    from neurocode.suite import resolve_suite

    path = _suite(tmp_path, measure={"max_stimuli": 2000,
                                     "budgets": {"default": {"max_stimuli": 300}}})
    raw = load_yaml(path)
    small = resolve_suite(raw, path)
    full = resolve_suite(raw, path, {"budget": "full"})
    measured = [p for p in small.parts if p.measure is not None]
    assert measured and all(p.measure["max_stimuli"] == 300 for p in measured)
    assert all(p.measure["max_stimuli"] == 2000 for p in full.parts if p.measure is not None)
    raw["measure"] = {"max_stimuli": 2000, "budgets": {"huge": {"max_stimuli": 5}}}
    with pytest.raises(ConfigError, match="measure.budgets.huge"):
        resolve_suite(raw, path)
